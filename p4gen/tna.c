/*
 * tna.c - the Tofino (TNA) backend: refuses, naming what it cannot place.
 *
 * A TNA program needs what v1model hides: each register array behind a
 * RegisterAction (one read-modify-write per packet, keys claimed word by
 * word in successive stages, docs/targets.md), and reports sent as
 * ingress mirrors with a mirror header, bridged metadata parsed again in
 * egress and truncation by the mirror session. p4gen does not generate
 * those yet. Rather than emit a program nobody has compiled, the backend
 * refuses and says which data-plane operators of the plan it would have
 * to place; the plan file is written anyway (compile writes it first), so
 * `htsc emulate`/`htsc host` and the planner's resource accounting for
 * Tofino work, and `--target v1model` gives P4 for the same queries.
 */
#include "p4common.h"

#include <errno.h>
#include <string.h>

static int tna_refuse(const struct plan *p, const struct p4g_target *t, struct p4g_out *o,
                      char *err, size_t errlen)
{
    size_t len = 0;
    int n = 0;
    len += (size_t)snprintf(err, errlen, "tofino: the TNA generator is not written yet; it "
                            "would have to place");
    for (int i = 0; i < p->nqueries && len < errlen; i++) {
        const struct plan_query *pq = &p->queries[i];
        for (int k = 1; k < pq->q->nnodes && len < errlen; k++) {
            if (!pq->nodes[k].dp)
                continue;
            const struct ir_node *nd = pq->q->nodes[k];
            len += (size_t)snprintf(err + len, errlen - len, "%s query '%s' node %d (%s%s)",
                                    n ? "," : "", pq->q->name, k, ir_kind_text[nd->kind],
                                    ir_kind_stateful(nd->kind) ? ": RegisterAction" : "");
            n++;
        }
    }
    if (len < errlen)
        snprintf(err + len, errlen - len, "%s and mirror-session reports; the plan file is "
                 "written: emulate it, or use --target v1model for P4", n ? "," : " nothing but");
    return -EINVAL;
}

const struct p4g_backend p4g_tna = {"tna", tna_refuse, tna_refuse};
