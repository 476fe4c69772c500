/*
 * planner.h - chooses which prefix of each query runs in the data plane.
 *
 * For all queries at once: minimise the records the data plane sends to the
 * host (estimated from a training capture run through the data-plane model,
 * or from documented defaults), within the target's resources (stages,
 * tables, stateful ALUs, hash units and register memory per stage; PHV bits
 * and table entries in all). Each query's options are every valid cut (a
 * set of nodes closed under inputs, docs/partitioning.md) times a few
 * register sizes per stateful operator times where in the pipeline it
 * starts; an integer program over those choices, solved by GLPK's branch and
 * cut, finds the optimum and proves it (the plan's "optimality" line says
 * so, or says it could not within the time limit).
 */
#ifndef HTS_PLANNER_H
#define HTS_PLANNER_H

#include "train.h"
#include "plan.h"
#include "targets.h"

#include <stdio.h>

struct planner_opts {
    const struct p4g_target *target;
    const struct dpm_train *train; /* NULL: default selectivities */
    uint32_t registers;  /* > 0: every data-plane distinct/groupby gets exactly
                          * this many slots (tests force collisions with it) */
    bool force_dp;       /* objective: as many data-plane operators as fit
                          * (tests of the data-plane paths), not records */
    bool force_refine;   /* every groupby that can be refined is, with its
                          * threshold on the host (tests of the gate) */
};

/* The optimal plan for prog, finished (plan_finish) and ready to write.
 * NULL with the reason in err. */
struct plan *planner_run(const struct ir_program *prog,
                         const struct planner_opts *o, char *err,
                         size_t errlen);

/* `htsc explain --target`: the cut, resources per stage, estimates. */
void planner_explain(const struct plan *p, const struct p4g_target *t,
                     FILE *out);

/* The same as Graphviz DOT: data-plane and host operators coloured. */
void planner_dot(const struct plan *p, FILE *out);

#endif
