/*
 * targets.h - what each data-plane target can hold: the planner's resource
 * model and p4gen's architecture choice.
 *
 * One file per target under planner/targets/ (none.def, v1model.def,
 * tofino.def, smartnic.def) holds its numbers as a designated initializer,
 * each with a comment saying where it comes from; docs/targets.md explains
 * them. Adding a target is adding a file and a line in targets.c.
 *
 * A limit of 0 means "no limit" (BMv2 has none: its numbers are defaults
 * that keep plans realistic, not hardware facts).
 */
#ifndef HTS_TARGETS_H
#define HTS_TARGETS_H

#include <stdbool.h>
#include <stdint.h>

struct p4g_target {
    const char *name;     /* --target NAME */
    const char *arch;     /* P4 architecture: "v1model", "tna", "xsa"; NULL: none */
    const char *doc;      /* one line for explain */
    bool extract;         /* has a parser: can extract fields (else mirror only) */
    bool stateful;        /* registers for distinct, groupby, histogram */
    bool hash;            /* a CRC-32 hash extern (sampling) */
    bool frame_len;       /* knows a frame's length (meta.wire_len, cap_len) */
    int stages;           /* match-action stages in the pipeline */
    int tables_per_stage; /* logical match tables per stage */
    int salus_per_stage;  /* stateful ALUs (register arrays accessed) per stage */
    int hash_per_stage;   /* hash units per stage */
    uint64_t reg_bits_per_stage; /* register memory per stage (bits) */
    uint64_t reg_bits_total;     /* register memory in all (bits) */
    int reg_width;        /* bits one register cell holds (one read-modify-write) */
    int phv_bits;         /* metadata bits queries may use (PHV) */
    int table_entries;    /* entries for filters and thresholds, in all */
    uint32_t max_slots;   /* slots of one register array */
    uint32_t default_slots; /* slots the planner starts from */
    uint32_t max_frame;   /* largest report frame (bytes) */
    int mirror_bytes;     /* largest mirror header, ingress to egress (bytes, as
                           * p4c-barefoot counts it); 0: no limit */
    int packet_records;   /* most records of one packet that carry the frame (TNA:
                           * egress lists their targets one after another); 0: no
                           * limit */
    int ts_bits;          /* bits of its packet timestamp */
    const char *ts_note;  /* how meta.ts is obtained */
};

/* The target named `name`, or NULL. */
const struct p4g_target *p4g_target_find(const char *name);

/* All targets, NULL-terminated, for listing. */
extern const struct p4g_target *const p4g_targets[];

#endif
