/*
 * train.h - what a training capture says about each query, the planner's
 * selectivities: per node, the tuples that pass and the keys each window
 * holds, measured by the data-plane model (exec/model.h: dpm_train) with
 * the deepest cut and unbounded registers. The planner reads them; the model
 * fills them.
 */
#ifndef HTS_TRAIN_H
#define HTS_TRAIN_H

#include <stdbool.h>

struct dpm_window { /* one window of one stateful node */
    double in;   /* tuples that entered with a present key */
    double keys; /* distinct keys */
};

struct dpm_refine_window { /* one window of a groupby refined at a level */
    double gated; /* tuples whose coarse key had not passed the threshold */
    double post;  /* tuples that reached the fine slots */
    double keys;  /* distinct fine keys among them */
};

struct dpm_refine { /* a groupby refined at one level, with unbounded slots */
    int level;
    struct dpm_refine_window *win;
    int nwin, capwin;
};

struct dpm_node_train {
    double out;  /* tuples/packets/rows the node output over the capture */
    double in;   /* stateful: tuples that entered */
    struct dpm_window *win;
    int nwin, capwin;
    struct dpm_refine *ref; /* a refinable groupby: per level of the hint */
    int nref;
};

struct dpm_train {
    double packets;
    double windows;            /* per query: windows seen (max over nodes) */
    int nqueries;
    int *nnodes;
    struct dpm_node_train **q; /* [query][node] */
    bool **dp;                 /* [query][node]: part of the deepest cut */
};

/* Frees what dpm_train allocated in *t and zeroes it. */
void dpm_train_free(struct dpm_train *t);

#endif
