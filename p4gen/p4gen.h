/*
 * p4gen.h - P4_16 generation from a plan, one backend per architecture.
 *
 * Each target architecture (v1model, tna, xsa) implements struct
 * p4g_backend: the program text and the control-plane entries. Generated P4
 * follows the p4lang tutorials' order (includes, constants, typedefs,
 * headers, structs, parser, ingress, egress, checksums, deparser, main) and
 * goes through one printf-checked emitter (struct p4g_out); golden tests
 * compare it byte for byte (tests/golden/p4/).
 */
#ifndef HTS_P4GEN_H
#define HTS_P4GEN_H

#include "emit.h"
#include "plan.h"
#include "targets.h"

#include <stdio.h>

struct p4g_backend {
    const char *arch;
    /* The P4 program of plan p; 0, or -EINVAL with what it cannot place. */
    int (*program)(const struct plan *p, const struct p4g_target *t,
                   struct p4g_out *o, char *err, size_t errlen);
    /* Control-plane entries (filters, thresholds, mirror sessions). */
    int (*entries)(const struct plan *p, const struct p4g_target *t,
                   struct p4g_out *o, char *err, size_t errlen);
};

/* Writes the P4 program / the entries of plan p for target t to f. */
int p4g_generate(const struct plan *p, const struct p4g_target *t, FILE *f,
                 char *err, size_t errlen);
int p4g_entries(const struct plan *p, const struct p4g_target *t, FILE *f,
                char *err, size_t errlen);

#endif
