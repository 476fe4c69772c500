/*
 * train.c - releases the training statistics (train.h).
 */
#include "train.h"

#include <stdlib.h>
#include <string.h>

void dpm_train_free(struct dpm_train *t)
{
    for (int i = 0; i < t->nqueries; i++) {
        for (int k = 0; t->q && k < t->nnodes[i]; k++) {
            free(t->q[i][k].win);
            for (int l = 0; l < t->q[i][k].nref; l++)
                free(t->q[i][k].ref[l].win);
            free(t->q[i][k].ref);
        }
        if (t->q)
            free(t->q[i]);
        if (t->dp)
            free(t->dp[i]);
    }
    free(t->q);
    free(t->dp);
    free(t->nnodes);
    memset(t, 0, sizeof *t);
}
