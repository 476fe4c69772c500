/*
 * driver.c - the htsc subcommands about the language: argument parsing,
 * fields, check, explain (the IR).
 *
 * `run` (run.c) and the commands of a plan (partition.c) have files of their
 * own; all share htsc_load().
 */
#include "driver.h"

#include "fields.h"
#include "units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int htsc_parse_args(int argc, char **argv, struct htsc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = "json";
    o->progress = -1;
    o->max_delay = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE                                                             \
    do {                                                                       \
        if (!val) {                                                            \
            fprintf(stderr, "htsc: %s needs a value\n", a);                    \
            return -EINVAL;                                                    \
        }                                                                      \
        i++;                                                                   \
    } while (0)
        if (!strcmp(a, "--dot")) {
            o->dot = 1;
        } else if (!strcmp(a, "--set")) {
            NEED_VALUE;
            if (o->nsets == HTSC_MAX_SETS) {
                fprintf(stderr, "htsc: too many --set options\n");
                return -EINVAL;
            }
            o->sets[o->nsets++] = val;
        } else if (!strncmp(a, "--set=", 6)) {
            if (o->nsets == HTSC_MAX_SETS)
                return -EINVAL;
            o->sets[o->nsets++] = a + 6;
        } else if (!strcmp(a, "--pcap")) {
            NEED_VALUE;
            o->pcap = val;
        } else if (!strcmp(a, "--format")) {
            NEED_VALUE;
            if (strcmp(val, "json") && strcmp(val, "table")) {
                fprintf(stderr, "htsc: --format must be json or table\n");
                return -EINVAL;
            }
            o->format = val;
        } else if (!strcmp(a, "--query")) {
            NEED_VALUE;
            o->only = val;
        } else if (!strcmp(a, "--target")) {
            NEED_VALUE;
            o->target = val;
        } else if (!strcmp(a, "--train")) {
            NEED_VALUE;
            o->train = val;
        } else if (!strcmp(a, "-o")) {
            NEED_VALUE;
            o->out = val;
        } else if (!strcmp(a, "--reports")) {
            NEED_VALUE;
            o->reports = val;
        } else if (!strcmp(a, "--registers")) {
            NEED_VALUE;
            char *end;
            unsigned long n = strtoul(val, &end, 10);
            if (*end || n < 1 || n > (1ul << 24)) {
                fprintf(stderr, "htsc: --registers must be 1 to 16777216\n");
                return -EINVAL;
            }
            o->registers = (uint32_t)n;
        } else if (!strcmp(a, "--force-dp")) {
            o->force_dp = 1;
        } else if (!strcmp(a, "--force-refine")) {
            o->force_refine = 1;
        } else if (!strcmp(a, "--plan-only")) {
            o->plan_only = 1;
        } else if (!strcmp(a, "--emit-llvm")) {
            o->emit_llvm = 1;
        } else if (!strcmp(a, "--max-delay")) {
            NEED_VALUE;
            if (hts_parse_duration(val, &o->max_delay) < 0) {
                fprintf(stderr, "htsc: --max-delay: '%s' is not a duration (such as 500ms, 2s)\n", val);
                return -EINVAL;
            }
        } else if (!strcmp(a, "--sort-memory")) {
            NEED_VALUE;
            if (hts_parse_size(val, &o->sort_mem) < 0 || o->sort_mem < 4096) {
                fprintf(stderr, "htsc: --sort-memory: '%s' is not a size of 4KiB or more (such as 256MiB)\n", val);
                return -EINVAL;
            }
        } else if (!strcmp(a, "--stats")) {
            o->stats = 1;
        } else if (!strcmp(a, "--progress")) {
            o->progress = 1;
        } else if (!strcmp(a, "--no-progress")) {
            o->progress = 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "htsc: unknown option '%s'\n", a);
            return -EINVAL;
        } else {
            if (o->nfiles == HTSC_MAX_FILES) {
                fprintf(stderr, "htsc: too many files\n");
                return -EINVAL;
            }
            o->files[o->nfiles++] = a;
        }
#undef NEED_VALUE
    }
    if (o->nfiles == 0) {
        fprintf(stderr, "htsc: no query file given\n");
        return -EINVAL;
    }
    return 0;
}

static void free_srcs(struct src_file **srcs, int n)
{
    for (int i = 0; i < n; i++)
        src_free(srcs[i]);
}

int htsc_cmd_fields(FILE *out)
{
    fprintf(out, "%-18s %-8s %5s  %-5s %s\n", "field", "type", "bits", "where",
            "meaning");
    for (int i = 0; i < FLD__COUNT; i++)
        fprintf(out, "%-18s %-8s %5u  %-5s %s\n", hts_fields[i].name,
                hts_type_name(hts_fields[i].type), hts_fields[i].width,
                hts_fields[i].where == WHERE_DP ? "dp" : "host",
                hts_fields[i].doc);
    return 0;
}

int htsc_cmd_check(const struct htsc_opts *o)
{
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    struct ir_program *p = htsc_load(o, &arena, srcs, stderr);
    int rc = p ? 0 : 1;
    if (p)
        fprintf(stderr, "htsc: %d quer%s in %d file%s: ok\n", p->nqueries,
                p->nqueries == 1 ? "y" : "ies", o->nfiles,
                o->nfiles == 1 ? "" : "s");
    free_srcs(srcs, o->nfiles);
    arena_free(&arena);
    return rc;
}

int htsc_cmd_explain(const struct htsc_opts *o)
{
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    struct ir_program *p = htsc_load(o, &arena, srcs, stderr);
    int rc = p ? 0 : 1;
    if (p) {
        if (o->dot)
            ir_dump_dot(p, stdout);
        else
            ir_dump(p, stdout);
    }
    free_srcs(srcs, o->nfiles);
    arena_free(&arena);
    return rc;
}
