/*
 * driver.h - the htsc subcommands, callable from main and from tests.
 *
 * Loading is shared: read each file, parse, apply --set overrides, check and
 * build the IR, print diagnostics gcc-shaped on stderr.
 */
#ifndef HTS_DRIVER_H
#define HTS_DRIVER_H

#include "ir.h"

#include <stdio.h>

#define HTSC_MAX_FILES 256
#define HTSC_MAX_SETS 64

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
};

/* Fills *o from argv; prints what is wrong and returns -EINVAL. */
int htsc_parse_args(int argc, char **argv, struct htsc_opts *o);

/* Parses and checks o->files; prints diagnostics to `err`. Returns the
 * program (in *arena) or NULL. *srcs is filled with the sources to free. */
struct ir_program *htsc_load(const struct htsc_opts *o, struct arena *arena,
                             struct src_file **srcs, FILE *err);

int htsc_cmd_fields(FILE *out);
int htsc_cmd_check(const struct htsc_opts *o);
int htsc_cmd_explain(const struct htsc_opts *o);
int htsc_cmd_run(const struct htsc_opts *o);

#endif
