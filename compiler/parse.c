/*
 * parse.c - ast_parse(): runs the reentrant flex lexer and the bison
 * grammar over one source (the grammar's actions call ast.c's builders),
 * and ast_parse_literal() for --set values.
 */
#include "parse.h"

#include "parser.h"
#include "lexer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ast_parse(struct arena *arena, struct diag *d, const struct src_file *src,
              struct ast_file **out)
{
    struct parse_ctx c = {.arena = arena, .diag = d, .src = src, .line = 1,
                          .col = 1};
    int before = d->errors;
    c.file = arena_alloc(arena, sizeof *c.file);
    c.file->src = src;
    if (yylex_init_extra(&c, &c.scanner)) {
        diag_error(d, (struct loc){0}, "cannot start the lexer");
        return -ENOMEM;
    }
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text, (int)src->len, c.scanner);
    yyparse(&c);
    yy_delete_buffer(buf, c.scanner);
    yylex_destroy(c.scanner);
    if (c.file->queries.n == 0 && d->errors == before)
        diag_error(d, (struct loc){src, 1, 1}, "no query in file");
    *out = c.file;
    return d->errors > before ? -EINVAL : 0;
}

int ast_parse_literal(const char *text, hts_value *out, struct arena *arena,
                      char *err, size_t errlen)
{
    /* Lex the text as a one-parameter query; the grammar's constant
     * expressions (a negative number, a duration) are then folded by sema. */
    struct diag d;
    diag_init(&d);
    size_t n = strlen(text);
    char *q = arena_alloc(arena, n + 64);
    snprintf(q, n + 64, "query q(v = %s) { packets }", text);
    struct src_file *src = src_from_string("--set", q, strlen(q));
    struct ast_file *f = NULL;
    int rc = ast_parse(arena, &d, src, &f);
    if (rc == 0 && f->queries.n == 1) {
        struct ast_query *aq = f->queries.v[0];
        struct ast_item *it = aq->params.n == 1 ? aq->params.v[0] : NULL;
        struct ast_expr *e = it ? it->expr : NULL;
        bool neg = e && e->kind == E_UNARY && e->op == OP_NEG &&
                   e->a->kind == E_LIT && e->a->lit.type == TY_INT;
        if (e && (e->kind == E_LIT || neg)) {
            /* a string's bytes live in the arena, as the caller expects */
            *out = neg ? hts_int(-e->a->lit.u.i) : e->lit;
            diag_free(&d);
            src_free(src);
            return 0;
        }
    }
    snprintf(err, errlen, "'%s' is not a literal", text);
    diag_free(&d);
    src_free(src);
    return -EINVAL;
}
