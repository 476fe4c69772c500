/*
 * driver.h - the htsc subcommands, callable from main and from tests.
 *
 * Loading is the compiler's (compiler/load.c): read each file, parse, apply
 * --set overrides, check and build the IR, print diagnostics gcc-shaped on
 * stderr.
 */
#ifndef HTS_DRIVER_H
#define HTS_DRIVER_H

#include "load.h"

#include <stdio.h>

#define HTSC_MAX_FILES HTS_MAX_FILES
#define HTSC_MAX_SETS HTS_MAX_SETS

struct htsc_opts {
    const char *files[HTSC_MAX_FILES];
    int nfiles;
    const char *sets[HTSC_MAX_SETS];
    int nsets;
    const char *pcap;
    const char *format; /* "json" (default) or "table" */
    const char *only;   /* --query NAME */
    int dot;
    int progress; /* -1 auto (a terminal), 0 off, 1 on */
    int stats;    /* print packet, row and decode counters on stderr */
    int64_t max_delay;  /* --max-delay: run streaming, windows closing this
                         * long after the latest time seen; -1: sort first */
    uint64_t sort_mem;  /* --sort-memory: bytes for sorting (and --max-delay's
                         * buffer); 0: the default, 512 MiB */
    /* partitioning (htsc/partition.c) */
    const char *target;  /* --target none|v1model|tofino|smartnic */
    const char *train;   /* --train CAPTURE: selectivities for the planner */
    const char *out;     /* -o DIR (compile) or FILE (emulate) */
    const char *reports; /* --reports FILE (host) */
    uint32_t registers;  /* --registers N: slots of every data-plane register */
    int force_dp;        /* --force-dp: as many data-plane operators as fit */
    int force_refine;    /* --force-refine: refine every groupby that can be */
    int plan_only;       /* --plan-only: compile writes the plan file only */
    int emit_llvm;       /* --emit-llvm: compile writes DIR/NAME.ll (the JIT's
                          * IR, by bin/htsc-llvm: htsc/emit_llvm.c);
                          * alone, without --target, only that */
};

/* Fills *o from argv; prints what is wrong and returns -EINVAL. */
int htsc_parse_args(int argc, char **argv, struct htsc_opts *o);

/* Parses and checks o->files with o->sets (hts_load); prints diagnostics
 * to `err`. Returns the program (in *arena) or NULL. *srcs is filled with
 * the sources to free. */
static inline struct ir_program *htsc_load(const struct htsc_opts *o,
                                           struct arena *arena,
                                           struct src_file **srcs, FILE *err)
{
    return hts_load(o->files, o->nfiles, o->sets, o->nsets, arena, srcs, err);
}

int htsc_cmd_fields(FILE *out);
int htsc_cmd_check(const struct htsc_opts *o);
int htsc_cmd_explain(const struct htsc_opts *o); /* without --target */
/* htsc/decode.c: HTX1 batches (files, or stdin) to JSON Lines */
int htsc_cmd_decode(int argc, char **argv);
/* htsc/run.c */
int htsc_cmd_run(const struct htsc_opts *o);
/* htsc/partition.c */
int htsc_cmd_explain_target(const struct htsc_opts *o);
int htsc_cmd_compile(const struct htsc_opts *o);
int htsc_cmd_emulate(const struct htsc_opts *o);
int htsc_cmd_host(const struct htsc_opts *o);
/* htsc/emit_llvm.c: in htsc-llvm only (it links LLVM) */
int htsc_cmd_emit_llvm(const struct htsc_opts *o);

#endif
