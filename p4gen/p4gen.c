/*
 * p4gen.c - the dispatch to each architecture's backend (emit.c writes).
 */
#include "p4gen.h"

#include "p4common.h"

#include <errno.h>
#include <string.h>

extern const struct p4g_backend p4g_v1model, p4g_tna, p4g_xsa;

static const struct p4g_backend *const backends[] = {&p4g_v1model, &p4g_tna,
                                                     &p4g_xsa};

/* Threshold filters the data plane tests (a data-plane threshold, a refined
 * groupby's gate) have their constants in P4 tables, at most P4G_MAX_THRESH
 * of them: more is refused by name, not generated short. */
static int check_thresholds(const struct plan *p, char *err, size_t errlen)
{
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        for (int k = 0; k < pq->q->nnodes; k++) {
            const struct plan_node *pn = &pq->nodes[k];
            int t = pn->dp && pn->zone == PLAN_THRESH ? k : pn->dp && pn->refine ? pn->gate : -1;
            struct p4g_thresh th[P4G_MAX_THRESH];
            int n = t >= 0 ? p4g_thresholds(pq->q->nodes[t]->expr, th, P4G_MAX_THRESH) : 0;
            if (n > P4G_MAX_THRESH) {
                snprintf(err, errlen, "query '%s' node %d: a threshold of %d conjuncts; the P4 "
                         "generator writes at most %d", pq->q->name, t, n, P4G_MAX_THRESH);
                return -EINVAL;
            }
        }
    }
    return 0;
}

static const struct p4g_backend *backend(const struct p4g_target *t)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (t->arch && strcmp(backends[i]->arch, t->arch) == 0)
            return backends[i];
    return NULL;
}

int p4g_generate(const struct plan *p, const struct p4g_target *t, FILE *f,
                 char *err, size_t errlen)
{
    const struct p4g_backend *b = backend(t);
    if (!b) {
        snprintf(err, errlen, "target %s has no P4 architecture", t->name);
        return -EINVAL;
    }
    if (check_thresholds(p, err, errlen) < 0)
        return -EINVAL;
    struct p4g_out o = {.f = f};
    int rc = b->program(p, t, &o, err, errlen);
    return rc < 0 ? rc : o.err;
}

int p4g_entries(const struct plan *p, const struct p4g_target *t, FILE *f,
                char *err, size_t errlen)
{
    const struct p4g_backend *b = backend(t);
    if (!b) {
        snprintf(err, errlen, "target %s has no P4 architecture", t->name);
        return -EINVAL;
    }
    if (check_thresholds(p, err, errlen) < 0)
        return -EINVAL;
    struct p4g_out o = {.f = f};
    int rc = b->entries(p, t, &o, err, errlen);
    return rc < 0 ? rc : o.err;
}
