/*
 * load.c - query files to a checked IR program: read each file, parse it,
 * apply the --set overrides, check and build the IR; diagnostics printed
 * gcc-shaped. What htsc's commands and htsd share.
 */
#include "load.h"

#include "parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* --set [QUERY.]NAME=VALUE */
static int parse_override(const char *s, struct ir_override *ov,
                          struct arena *arena, FILE *err)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s) {
        fprintf(err, "htsc: --set %s: expected NAME=VALUE\n", s);
        return -EINVAL;
    }
    char *name = arena_strndup(arena, s, (size_t)(eq - s));
    char *dot = strrchr(name, '.');
    memset(ov, 0, sizeof *ov);
    if (dot) {
        *dot = 0;
        ov->query = name;
        ov->name = dot + 1;
    } else {
        ov->name = name;
    }
    char msg[256];
    if (ast_parse_literal(eq + 1, &ov->value, arena, msg, sizeof msg) < 0) {
        fprintf(err, "htsc: --set %s: %s\n", s, msg);
        return -EINVAL;
    }
    return 0;
}

struct ir_program *hts_load(const char *const *paths, int npaths,
                            const char *const *sets, int nsets,
                            struct arena *arena, struct src_file **srcs,
                            FILE *err)
{
    struct diag d;
    diag_init(&d);
    struct ast_file *files[HTS_MAX_FILES];
    int nf = 0;
    for (int i = 0; i < npaths; i++) {
        srcs[i] = src_read(&d, paths[i]);
        if (!srcs[i])
            continue;
        struct ast_file *f = NULL;
        if (ast_parse(arena, &d, srcs[i], &f) == 0)
            files[nf++] = f;
    }
    struct ir_program *p = NULL;
    struct ir_override ovr[HTS_MAX_SETS];
    int bad = 0;
    for (int i = 0; i < nsets; i++)
        bad |= parse_override(sets[i], &ovr[i], arena, err) < 0;
    if (d.errors == 0 && !bad)
        p = sema_build(arena, &d, files, nf, ovr, nsets);
    diag_print(&d, err);
    if (d.errors)
        p = NULL;
    diag_free(&d);
    return bad ? NULL : p;
}
