/*
 * switch.h - the one small interface htscp drives a switch through.
 *
 * What a window-end control plane needs of a switch, and no more: put
 * table entries and a mirror session, read, write and clear register cells.
 * BMv2's Thrift runtime API implements it (bmv2.c); P4Runtime (gRPC) or
 * Tofino's BF Runtime would be further implementations of the same struct
 * sw_ops, and nothing above this file would change.
 *
 * Names are the P4 program's own (a table "q0_n1_filter", a register
 * "q0_n2_key0"); a back end finds the control that holds them. Values are
 * big-endian byte strings of up to 16 bytes; a back end fits them to the
 * field's or parameter's width and refuses what does not fit.
 */
#ifndef HTS_SWITCH_H
#define HTS_SWITCH_H

#include <stddef.h>
#include <stdint.h>

#define SW_MAX_KEYS 16
#define SW_MAX_PARAMS 8

struct sw_bytes {
    uint8_t b[16]; /* big-endian, right-aligned: b[15] is the least significant byte */
};

struct sw_ternary {
    struct sw_bytes value, mask;
};

struct sw;

struct sw_ops {
    const char *name;
    /* Connects to addr ("HOST:PORT"); NULL with a message in err. */
    struct sw *(*open)(const char *addr, char *err, size_t errlen);
    void (*close)(struct sw *s);
    /* 0, or -1 with a message in err, for each operation below. */
    int (*set_default)(struct sw *s, const char *table, const char *action,
                       const struct sw_bytes *params, int nparams, char *err, size_t errlen);
    int (*add_ternary)(struct sw *s, const char *table, const struct sw_ternary *keys,
                       int nkeys, const char *action, const struct sw_bytes *params,
                       int nparams, int priority, char *err, size_t errlen);
    /* Deletes every entry of `table` (its default action stays). */
    int (*table_clear)(struct sw *s, const char *table, char *err, size_t errlen);
    int (*mirror_add)(struct sw *s, int session, int port, char *err, size_t errlen);
    /* Cell idx of register array `reg` (cells wider than 63 bits read back
     * saturated on BMv2: the P4 keeps what a control plane reads narrower). */
    int (*reg_read)(struct sw *s, const char *reg, uint32_t idx, int64_t *v, char *err,
                    size_t errlen);
    /* Every cell: *vals (malloc'd, the caller frees) and *n. */
    int (*reg_read_all)(struct sw *s, const char *reg, int64_t **vals, size_t *n, char *err,
                        size_t errlen);
    int (*reg_write)(struct sw *s, const char *reg, uint32_t idx, int64_t v, char *err,
                     size_t errlen);
    /* Cells [lo, hi) to v. */
    int (*reg_fill)(struct sw *s, const char *reg, uint32_t lo, uint32_t hi, int64_t v,
                    char *err, size_t errlen);
};

extern const struct sw_ops sw_bmv2;

#endif
