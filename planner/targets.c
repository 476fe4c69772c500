/*
 * targets.c - the table of target models (see targets.h).
 *
 * Each target's numbers live in its own file under targets/, included here
 * as one initializer: data, not code, so a reviewer checks them against the
 * sources named in each file and in docs/targets.md.
 */
#include "targets.h"

#include <string.h>

static const struct p4g_target t_none =
#include "targets/none.def"
    ;
static const struct p4g_target t_v1model =
#include "targets/v1model.def"
    ;
static const struct p4g_target t_tofino =
#include "targets/tofino.def"
    ;
static const struct p4g_target t_smartnic =
#include "targets/smartnic.def"
    ;

const struct p4g_target *const p4g_targets[] = {&t_none, &t_v1model, &t_tofino,
                                                &t_smartnic, NULL};

const struct p4g_target *p4g_target_find(const char *name)
{
    for (int i = 0; p4g_targets[i]; i++)
        if (strcmp(p4g_targets[i]->name, name) == 0)
            return p4g_targets[i];
    return NULL;
}
