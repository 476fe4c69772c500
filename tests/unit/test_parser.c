/*
 * test_parser.c - the grammar (compiler/parser.y) and the AST it builds.
 *
 * Each pipeline operator is parsed and its AST node checked field by field:
 * filter, map, distinct, groupby/aggregate, fold with if/else/emit, export,
 * sample, histogram, join and left join chains, let bindings, parameters,
 * window/every and refine. Expressions are printed as s-expressions so that
 * operator precedence (or/and/not, comparisons against arithmetic, unary
 * minus, '|' and '&', ranges, `not in`) is compared as exact text. Syntax
 * errors must carry a line:column and the parse must recover to report an
 * error in a later query and keep the good ones. Hostile inputs (empty file,
 * binary garbage, a 1 MB identifier, 10,000 nested parentheses, 100,000
 * `not`s, an unterminated string, an overflowing integer) must give
 * diagnostics and never crash.
 *
 * Regression tests of bugs these tests found (since fixed) come last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ast.h"
#include "ir.h"
#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parsed {
    struct arena arena;
    struct diag d;
    struct src_file *src;
    struct ast_file *f;
    int rc;
};

static void parse_n(struct parsed *p, const char *text, size_t len)
{
    memset(p, 0, sizeof *p);
    diag_init(&p->d);
    p->src = src_from_string("p.htq", text, len);
    p->rc = ast_parse(&p->arena, &p->d, p->src, &p->f);
    assert_non_null(p->f);
}

static void parse(struct parsed *p, const char *text)
{
    parse_n(p, text, strlen(text));
}

static void done(struct parsed *p)
{
    diag_free(&p->d);
    src_free(p->src);
    arena_free(&p->arena);
}

/* parses text that must be free of errors and have n queries */
static void parse_ok(struct parsed *p, const char *text, int n)
{
    parse(p, text);
    if (p->d.errors)
        fail_msg("unexpected error %d:%d: %s", p->d.msgs[0].loc.line,
                 p->d.msgs[0].loc.col, p->d.msgs[0].text);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->f->queries.n, n);
}

static struct ast_query *query(struct parsed *p, int i)
{
    assert_true(i < p->f->queries.n);
    return p->f->queries.v[i];
}

static struct ast_opnode *op(struct ast_query *q, int i)
{
    assert_non_null(q->result);
    assert_true(i < q->result->ops.n);
    return q->result->ops.v[i];
}

static struct ast_item *item(struct ast_list *l, int i)
{
    assert_true(i < l->n);
    return l->v[i];
}

static void expect_error(const struct parsed *p, int i, const char *text,
                         int line, int col)
{
    assert_true(i < p->d.n);
    assert_int_equal(p->d.msgs[i].level, DIAG_ERROR);
    if (!strstr(p->d.msgs[i].text, text))
        fail_msg("message %d '%s' lacks '%s'", i, p->d.msgs[i].text, text);
    assert_int_equal(p->d.msgs[i].loc.line, line);
    assert_int_equal(p->d.msgs[i].loc.col, col);
}

/* ---- s-expressions of expressions ---- */

struct sbuf {
    char b[1024];
    size_t n;
};

static void put(struct sbuf *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(struct sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->b + s->n, sizeof s->b - s->n, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < sizeof s->b - s->n);
    s->n += (size_t)k;
}

static void sexp_r(struct sbuf *s, const struct ast_expr *e)
{
    char v[128];
    switch (e->kind) {
    case E_LIT:
        if (e->lit.type == TY_STR)
            hts_value_json(&e->lit, v, sizeof v);
        else
            hts_value_text(&e->lit, v, sizeof v);
        put(s, "%s", v);
        return;
    case E_NAME:
        put(s, "%s", e->name);
        return;
    case E_UNARY:
        put(s, "(%s ", e->op == OP_NEG ? "neg" : ast_op_text[e->op]);
        sexp_r(s, e->a);
        put(s, ")");
        return;
    case E_BINARY:
        put(s, "(%s ", ast_op_text[e->op]);
        sexp_r(s, e->a);
        put(s, " ");
        sexp_r(s, e->b);
        put(s, ")");
        return;
    case E_CALL:
    case E_SET:
        if (e->kind == E_CALL)
            put(s, "(call %s", e->name);
        else
            put(s, "(set");
        for (int i = 0; i < e->nargs; i++) {
            put(s, " ");
            sexp_r(s, e->args[i]);
        }
        put(s, ")");
        return;
    case E_RANGE:
        put(s, "(.. ");
        sexp_r(s, e->a);
        put(s, " ");
        sexp_r(s, e->b);
        put(s, ")");
        return;
    }
    fail_msg("bad expression kind %d", (int)e->kind);
}

static void expect_sexp(const struct ast_expr *e, const char *want)
{
    struct sbuf s = {.n = 0};
    s.b[0] = 0;
    assert_non_null(e);
    sexp_r(&s, e);
    if (strcmp(s.b, want) != 0)
        fail_msg("got %s, want %s", s.b, want);
}

/* the predicate of "query q { packets | filter EXPR }" */
static void expect_filter(const char *expr, const char *want)
{
    char text[512];
    struct parsed p;
    snprintf(text, sizeof text, "query q { packets | filter %s }", expr);
    parse_ok(&p, text, 1);
    struct ast_opnode *o = op(query(&p, 0), 0);
    assert_int_equal(o->kind, K_FILTER);
    expect_sexp(o->expr, want);
    done(&p);
}

/* ---- operators ---- */

static void test_filter(void **state)
{
    struct parsed p;
    parse_ok(&p, "query syn_flood {\n  packets | filter tcp.dport == 22\n}", 1);
    struct ast_query *q = query(&p, 0);
    assert_string_equal(q->name, "syn_flood");
    assert_int_equal(q->loc.line, 1);
    assert_int_equal(q->loc.col, 7);
    assert_ptr_equal(q->loc.file, p.src);
    assert_int_equal(q->params.n, 0);
    assert_null(q->window);
    assert_null(q->every);
    assert_null(q->refine);
    assert_int_equal(q->bindings.n, 0);
    assert_int_equal(q->result->src->kind, SRC_PACKETS);
    assert_int_equal(q->result->src->loc.line, 2);
    assert_int_equal(q->result->src->loc.col, 3);
    assert_int_equal(q->result->ops.n, 1);
    struct ast_opnode *o = op(q, 0);
    assert_int_equal(o->kind, K_FILTER);
    assert_int_equal(o->loc.line, 2);
    assert_int_equal(o->loc.col, 13);
    expect_sexp(o->expr, "(== tcp.dport 22)");
    assert_int_equal(o->expr->loc.col, 30); /* a binary node sits at its operator */
    assert_int_equal(o->expr->a->loc.col, 20);
    assert_int_equal(o->expr->b->loc.col, 33);
    assert_ptr_equal(p.f->src, p.src);
    done(&p);
}

static void test_map_and_distinct(void **state)
{
    struct parsed p;
    parse_ok(&p, "query q { packets | map a = tcp.dport + 1, ipv4.src, b = \"x\" "
                 "| distinct a, ipv4.src }", 1);
    struct ast_query *q = query(&p, 0);
    assert_int_equal(q->result->ops.n, 2);
    struct ast_opnode *m = op(q, 0);
    assert_int_equal(m->kind, K_MAP);
    assert_int_equal(m->items.n, 3);
    assert_string_equal(item(&m->items, 0)->name, "a");
    assert_int_equal(item(&m->items, 0)->loc.col, 25);
    expect_sexp(item(&m->items, 0)->expr, "(+ tcp.dport 1)");
    assert_null(item(&m->items, 1)->name);
    expect_sexp(item(&m->items, 1)->expr, "ipv4.src");
    assert_string_equal(item(&m->items, 2)->name, "b");
    expect_sexp(item(&m->items, 2)->expr, "\"x\"");
    struct ast_opnode *d = op(q, 1);
    assert_int_equal(d->kind, K_DISTINCT);
    assert_int_equal(d->items.n, 2);
    expect_sexp(item(&d->items, 0)->expr, "a");
    expect_sexp(item(&d->items, 1)->expr, "ipv4.src");
    done(&p);
}

static void test_groupby(void **state)
{
    struct parsed p;
    parse_ok(&p, "query q window 1s { packets | groupby ipv4.dst, port = tcp.dport "
                 "aggregate n = count(), s = sum(ipv4.len), m = min(a, b) }", 1);
    struct ast_opnode *g = op(query(&p, 0), 0);
    assert_int_equal(g->kind, K_GROUPBY);
    assert_int_equal(g->items.n, 2);
    assert_null(item(&g->items, 0)->name);
    expect_sexp(item(&g->items, 0)->expr, "ipv4.dst");
    assert_string_equal(item(&g->items, 1)->name, "port");
    assert_int_equal(g->aggs.n, 3);
    assert_string_equal(item(&g->aggs, 0)->name, "n");
    struct ast_expr *c = item(&g->aggs, 0)->expr;
    assert_int_equal(c->kind, E_CALL);
    assert_string_equal(c->name, "count");
    assert_int_equal(c->nargs, 0);
    assert_int_equal(c->agg, AGG_NONE); /* sema decides what a call is */
    expect_sexp(item(&g->aggs, 1)->expr, "(call sum ipv4.len)");
    expect_sexp(item(&g->aggs, 2)->expr, "(call min a b)");
    done(&p);
}

static void test_fold(void **state)
{
    struct parsed p;
    parse_ok(&p,
             "query q window 5s { packets | fold by ipv4.src state n = 0, last = -1 {\n"
             "    n = n + 1\n"
             "    if n >= 3 and last != 0 { emit n = 0 } else { last = tcp.dport }\n"
             "    if n == 7 { }\n"
             "  } }",
             1);
    struct ast_opnode *f = op(query(&p, 0), 0);
    assert_int_equal(f->kind, K_FOLD);
    assert_int_equal(f->items.n, 1);
    expect_sexp(item(&f->items, 0)->expr, "ipv4.src");
    assert_int_equal(f->aggs.n, 2);
    assert_string_equal(item(&f->aggs, 0)->name, "n");
    expect_sexp(item(&f->aggs, 0)->expr, "0");
    assert_string_equal(item(&f->aggs, 1)->name, "last");
    expect_sexp(item(&f->aggs, 1)->expr, "(neg 1)");
    assert_int_equal(f->body.n, 3);
    struct ast_stmt *s0 = f->body.v[0], *s1 = f->body.v[1], *s2 = f->body.v[2];
    assert_int_equal(s0->kind, S_ASSIGN);
    assert_string_equal(s0->name, "n");
    assert_int_equal(s0->loc.line, 2);
    assert_int_equal(s0->loc.col, 5);
    expect_sexp(s0->expr, "(+ n 1)");
    assert_int_equal(s1->kind, S_IF);
    assert_int_equal(s1->loc.line, 3);
    expect_sexp(s1->expr, "(and (>= n 3) (!= last 0))");
    assert_int_equal(s1->then_.n, 2);
    assert_int_equal(((struct ast_stmt *)s1->then_.v[0])->kind, S_EMIT);
    assert_int_equal(((struct ast_stmt *)s1->then_.v[0])->loc.col, 31);
    assert_int_equal(((struct ast_stmt *)s1->then_.v[1])->kind, S_ASSIGN);
    assert_int_equal(s1->else_.n, 1);
    struct ast_stmt *e0 = s1->else_.v[0];
    assert_string_equal(e0->name, "last");
    expect_sexp(e0->expr, "tcp.dport");
    assert_int_equal(s2->kind, S_IF);
    assert_int_equal(s2->then_.n, 0);
    assert_int_equal(s2->else_.n, 0);
    assert_int_equal(f->close.n, 0);
    done(&p);

    /* a close block: statements run per key when the window closes */
    parse_ok(&p, "query q window 5s { packets | fold by ipv4.src state n = 0 "
                 "{ n = n + 1 } close { if n > 2 { emit } n = 0 } }", 1);
    f = op(query(&p, 0), 0);
    assert_int_equal(f->body.n, 1);
    assert_int_equal(f->close.n, 2);
    s1 = f->close.v[0];
    assert_int_equal(s1->kind, S_IF);
    expect_sexp(s1->expr, "(> n 2)");
    assert_int_equal(((struct ast_stmt *)s1->then_.v[0])->kind, S_EMIT);
    s2 = f->close.v[1];
    assert_int_equal(s2->kind, S_ASSIGN);
    assert_int_equal(s2->loc.col, 100);
    done(&p);

    /* close needs its block */
    parse(&p, "query q window 5s { packets | fold by k state n = 0 { } close }");
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "syntax error, unexpected '}', expecting '{'", 1, 63);
    done(&p);
}

static void test_export_sample_histogram(void **state)
{
    struct parsed p;
    parse_ok(&p, "query e { packets | sample 1 in 100 | export ipv4.src, n = ipv4.len }\n"
                 "query h window 1s { packets | histogram ipv4.len buckets 64, 512, 1500 }",
             2);
    struct ast_query *e = query(&p, 0);
    assert_int_equal(e->result->ops.n, 2);
    struct ast_opnode *s = op(e, 0);
    assert_int_equal(s->kind, K_SAMPLE);
    expect_sexp(s->expr, "1");
    expect_sexp(s->n, "100");
    assert_int_equal(s->n->loc.col, 33);
    struct ast_opnode *x = op(e, 1);
    assert_int_equal(x->kind, K_EXPORT);
    assert_int_equal(x->items.n, 2);
    expect_sexp(item(&x->items, 0)->expr, "ipv4.src");
    assert_string_equal(item(&x->items, 1)->name, "n");
    struct ast_opnode *h = op(query(&p, 1), 0);
    assert_int_equal(h->kind, K_HISTOGRAM);
    expect_sexp(h->expr, "ipv4.len");
    assert_int_equal(h->buckets.n, 3);
    expect_sexp(h->buckets.v[0], "64");
    expect_sexp(h->buckets.v[1], "512");
    expect_sexp(h->buckets.v[2], "1500");
    done(&p);
}

static void test_join_chain(void **state)
{
    struct parsed p;
    parse_ok(&p, "query q window 1s {\n"
                 "  let a = packets | groupby k = ipv4.dst aggregate n = count()\n"
                 "  let b = packets | groupby k = ipv4.src aggregate m = count()\n"
                 "  let c = packets | groupby k = ipv4.src, j = tcp.dport aggregate o = count()\n"
                 "  a join b on k left join c on k, j | filter n > m\n"
                 "}",
             1);
    struct ast_query *q = query(&p, 0);
    assert_int_equal(q->bindings.n, 3);
    const char *names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        struct ast_binding *b = q->bindings.v[i];
        assert_string_equal(b->name, names[i]);
        assert_int_equal(b->loc.line, 2 + i);
        assert_int_equal(b->loc.col, 7);
        assert_int_equal(b->pipe->src->kind, SRC_PACKETS);
        assert_int_equal(b->pipe->ops.n, 1);
    }
    struct ast_source *top = q->result->src;
    assert_int_equal(top->kind, SRC_JOIN);
    assert_true(top->left_join);
    assert_int_equal(top->loc.line, 5);
    assert_int_equal(top->loc.col, 17); /* a left join sits at 'left' */
    assert_int_equal(top->right->kind, SRC_NAME);
    assert_string_equal(top->right->name, "c");
    assert_int_equal(top->keys.n, 2);
    expect_sexp(top->keys.v[0], "k");
    expect_sexp(top->keys.v[1], "j");
    struct ast_source *in = top->left;
    assert_int_equal(in->kind, SRC_JOIN);
    assert_false(in->left_join);
    assert_int_equal(in->left->kind, SRC_NAME);
    assert_string_equal(in->left->name, "a");
    assert_string_equal(in->right->name, "b");
    assert_int_equal(in->keys.n, 1);
    assert_int_equal(q->result->ops.n, 1);
    done(&p);
}

static void test_query_header(void **state)
{
    struct parsed p;
    parse_ok(&p, "query q(t = 40, net = 10.0.0.0/8, w = 3s) window w every 1s "
                 "refine ipv4.dst by /8, /16, /24 { packets }\n"
                 "query r() window 500ms { packets }",
             2);
    struct ast_query *q = query(&p, 0);
    assert_int_equal(q->params.n, 3);
    assert_string_equal(item(&q->params, 0)->name, "t");
    assert_int_equal(item(&q->params, 0)->loc.col, 9);
    expect_sexp(item(&q->params, 0)->expr, "40");
    assert_string_equal(item(&q->params, 1)->name, "net");
    expect_sexp(item(&q->params, 1)->expr, "10.0.0.0/8");
    expect_sexp(item(&q->params, 2)->expr, "3000000000");
    expect_sexp(q->window, "w");
    expect_sexp(q->every, "1000000000");
    expect_sexp(q->refine, "ipv4.dst");
    assert_int_equal(q->levels.n, 3);
    expect_sexp(q->levels.v[0], "8");
    expect_sexp(q->levels.v[1], "16");
    expect_sexp(q->levels.v[2], "24");
    assert_int_equal(q->result->ops.n, 0);
    struct ast_query *r = query(&p, 1);
    assert_int_equal(r->params.n, 0);
    expect_sexp(r->window, "500000000");
    assert_null(r->every);
    assert_null(r->refine);
    done(&p);
}

static void test_several_queries(void **state)
{
    struct parsed p;
    parse_ok(&p, "# three queries\nquery a { packets }\n\nquery b { packets | map x = 1 }"
                 " query c { packets | filter true }\n",
             3);
    const char *names[3] = {"a", "b", "c"};
    const int lines[3] = {2, 4, 4};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(query(&p, i)->name, names[i]);
        assert_int_equal(query(&p, i)->loc.line, lines[i]);
    }
    assert_int_equal(query(&p, 2)->loc.col, 39);
    done(&p);
}

/* ---- precedence ---- */

static void test_precedence(void **state)
{
    static const struct { const char *in, *want; } cases[] = {
        {"a or b and c", "(or a (and b c))"},
        {"a and b or c", "(or (and a b) c)"},
        {"a or b or c", "(or (or a b) c)"},
        {"not a and b", "(and (not a) b)"},
        {"not a or not b", "(or (not a) (not b))"},
        {"not not a", "(not (not a))"},
        {"not a == 1", "(not (== a 1))"},
        {"a == 1 and b != 2", "(and (== a 1) (!= b 2))"},
        {"a + 1 < b * 2", "(< (+ a 1) (* b 2))"},
        {"a + b * c - d", "(- (+ a (* b c)) d)"},
        {"a - b - c", "(- (- a b) c)"},
        {"a / b % c", "(% (/ a b) c)"},
        {"-a * b", "(* (neg a) b)"},
        {"a - -b", "(- a (neg b))"},
        {"- - a", "(neg (neg a))"},
        {"-(a + b)", "(neg (+ a b))"},
        {"(a or b) and c", "(and (or a b) c)"},
        {"a | b & c", "(| a (& b c))"},
        {"a & b | c", "(| (& a b) c)"},
        {"a | b + c", "(| a (+ b c))"},
        {"tcp.flags & SYN == SYN", "(== (& tcp.flags SYN) SYN)"},
        {"tcp.flags == SYN|ACK", "(== tcp.flags (| SYN ACK))"},
        {"x in 1..5 + 1", "(in x (.. 1 (+ 5 1)))"},
        {"x in {1, 2, a+1}", "(in x (set 1 2 (+ a 1)))"},
        {"x not in {1} and y", "(and (not (in x (set 1))) y)"},
        {"ipv4.dst in 10.0.0.0/8 or b", "(or (in ipv4.dst 10.0.0.0/8) b)"},
        {"ipv4.dst / 16 == ipv4.src / 16", "(== (/ ipv4.dst 16) (/ ipv4.src 16))"},
        {"s contains \"ab\" and s startswith \"a\"",
         "(and (contains s \"ab\") (startswith s \"a\"))"},
        {"t has DNS_A or s endswith \"z\"", "(or (has t DNS_A) (endswith s \"z\"))"},
        {"abs(-a) >= max(b, 1 + 2)", "(>= (call abs (neg a)) (call max b (+ 1 2)))"},
        {"f()", "(call f)"},
        {"true and false", "(and true false)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_filter(cases[i].in, cases[i].want);
}

static void test_not_in_location(void **state)
{
    struct parsed p;
    parse_ok(&p, "query q { packets | filter x not in {1} }", 1);
    struct ast_expr *e = op(query(&p, 0), 0)->expr;
    assert_int_equal(e->kind, E_UNARY);
    assert_int_equal(e->op, OP_NOT);
    assert_int_equal(e->loc.col, 30);
    assert_int_equal(e->a->kind, E_BINARY);
    assert_int_equal(e->a->op, OP_IN);
    assert_int_equal(e->a->loc.col, 30);
    done(&p);
}

/* ---- syntax errors ---- */

static void test_syntax_error_location(void **state)
{
    struct parsed p;
    parse(&p, "query q {\n  packets | filter a < b < c\n}");
    assert_int_equal(p.rc, -EINVAL);
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "syntax error, unexpected '<'", 2, 26);
    done(&p);

    parse(&p, "query q { packets | filter }");
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "syntax error, unexpected '}'", 1, 28);
    done(&p);

    parse(&p, "query { packets }");
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "syntax error, unexpected '{', expecting name", 1, 7);
    done(&p);

    /* '|' before a word that is no operator is bitwise or, hence this */
    parse(&p, "query q { packets | bogus }");
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "syntax error, unexpected '|', expecting '|' (pipe) or '}'",
                 1, 19);
    done(&p);

    parse(&p, "query q { packets");
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "unexpected end of file", 1, 11);
    done(&p);
}

static void test_error_recovery(void **state)
{
    struct parsed p;
    parse(&p, "query a { packets | filter }\n"
              "query b { packets | map == 3 }\n"
              "query c { packets | map x = 1 }\n"
              "query d { packets | map y = (1 }\n"
              "query e { packets }\n");
    assert_int_equal(p.rc, -EINVAL);
    assert_true(p.d.errors >= 3);
    expect_error(&p, 0, "syntax error", 1, 28);
    expect_error(&p, 1, "syntax error", 2, 25);
    expect_error(&p, 2, "syntax error, unexpected '}'", 4, 32);
    assert_int_equal(p.d.errors, 3);
    /* the good queries are kept */
    assert_int_equal(p.f->queries.n, 2);
    assert_string_equal(query(&p, 0)->name, "c");
    assert_string_equal(query(&p, 1)->name, "e");
    assert_int_equal(op(query(&p, 0), 0)->kind, K_MAP);
    done(&p);
}

/* ---- hostile inputs ---- */

static void test_empty_file(void **state)
{
    const char *srcs[] = {"", "   \n\t\n", "# only a comment\n"};
    for (size_t i = 0; i < 3; i++) {
        struct parsed p;
        parse(&p, srcs[i]);
        assert_int_equal(p.rc, -EINVAL);
        assert_int_equal(p.d.errors, 1);
        expect_error(&p, 0, "no query in file", 1, 1);
        assert_int_equal(p.f->queries.n, 0);
        done(&p);
    }
}

static void test_binary_garbage(void **state)
{
    size_t n = 1 << 16;
    char *buf = malloc(n);
    assert_non_null(buf);
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (char)(x >> 56);
        }
        struct parsed p;
        parse_n(&p, buf, n);
        assert_int_equal(p.rc, -EINVAL);
        assert_true(p.d.errors > 0);
        assert_true(p.d.n <= p.d.max_errors);
        done(&p);
    }
    /* every byte value once, NUL included */
    for (int i = 0; i < 256; i++)
        buf[i] = (char)i;
    struct parsed p;
    parse_n(&p, buf, 256);
    assert_int_equal(p.rc, -EINVAL);
    assert_true(p.d.errors > 0);
    done(&p);
    free(buf);
}

static void test_huge_identifier(void **state)
{
    size_t n = 1 << 20;
    char *buf = malloc(n + 64);
    assert_non_null(buf);
    /* a 1 MB name where a query belongs: a syntax error, printed short */
    memset(buf, 'a', n);
    buf[n] = 0;
    struct parsed p;
    parse(&p, buf);
    assert_int_equal(p.rc, -EINVAL);
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "syntax error, unexpected name", 1, 1);
    char *out = NULL;
    size_t outlen = 0;
    FILE *m = open_memstream(&out, &outlen);
    assert_non_null(m);
    diag_print(&p.d, m);
    fclose(m);
    assert_true(outlen < 400); /* the source line is clipped */
    free(out);
    done(&p);

    /* a 1 MB query name is legal and kept whole */
    memcpy(buf, "query ", 6);
    strcpy(buf + n, " { packets }");
    parse(&p, buf);
    assert_int_equal(p.d.errors, 0);
    assert_int_equal(p.f->queries.n, 1);
    assert_int_equal(strlen(query(&p, 0)->name), n - 6);
    done(&p);

    /* and as a field name after a long line, the column is exact */
    memcpy(buf, "query q { packets | filter ", 27);
    strcpy(buf + n, " == 1 == 2 }");
    parse(&p, buf);
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "syntax error, unexpected ==", 1, (int)n + 7);
    done(&p);
    free(buf);
}

static char *repeat(const char *head, const char *unit, int times,
                    const char *mid, const char *unit2, int times2,
                    const char *tail)
{
    size_t n = strlen(head) + strlen(unit) * (size_t)times + strlen(mid) +
               strlen(unit2) * (size_t)times2 + strlen(tail) + 1;
    char *s = malloc(n), *p = s;
    assert_non_null(s);
    p = stpcpy(p, head);
    for (int i = 0; i < times; i++)
        p = stpcpy(p, unit);
    p = stpcpy(p, mid);
    for (int i = 0; i < times2; i++)
        p = stpcpy(p, unit2);
    strcpy(p, tail);
    return s;
}

static void test_deep_nesting(void **state)
{
    char *s = repeat("query q { packets | filter ", "(", 10000, "1", ")", 10000,
                     " == 1 }");
    struct parsed p;
    parse(&p, s);
    assert_int_equal(p.rc, -EINVAL);
    assert_true(p.d.errors > 0);
    bool deep = false;
    for (int i = 0; i < p.d.n; i++)
        deep |= strstr(p.d.msgs[i].text, "nested too deeply") != NULL;
    assert_true(deep);
    done(&p);
    free(s);

    /* nesting that fits is fine */
    s = repeat("query q { packets | filter ", "(", 200, "true", ")", 200, " }");
    parse(&p, s);
    assert_int_equal(p.d.errors, 0);
    assert_int_equal(op(query(&p, 0), 0)->expr->kind, E_LIT);
    done(&p);
    free(s);
}

static void test_many_nots(void **state)
{
    char *s = repeat("query q { packets | filter ", "not ", 100000, "true", "", 0,
                     " }");
    struct parsed p;
    parse(&p, s);
    assert_int_equal(p.rc, -EINVAL);
    assert_true(p.d.errors > 0);
    bool deep = false;
    for (int i = 0; i < p.d.n; i++)
        deep |= strstr(p.d.msgs[i].text, "nested too deeply") != NULL;
    assert_true(deep);
    done(&p);
    free(s);

    s = repeat("query q { packets | filter ", "-", 100000, "1 == 1", "", 0, " }");
    parse(&p, s);
    assert_int_equal(p.rc, -EINVAL);
    assert_true(p.d.errors > 0);
    done(&p);
    free(s);
}

static void test_bad_tokens_in_query(void **state)
{
    struct parsed p;
    parse(&p, "query q { packets | filter dns.qname == \"abc }\n");
    assert_int_equal(p.rc, -EINVAL);
    assert_true(p.d.errors >= 1);
    expect_error(&p, 0, "unterminated string literal", 1, 41);
    done(&p);

    parse(&p, "query q { packets | filter tcp.dport == 123456789012345678901234567890 }");
    assert_int_equal(p.rc, -EINVAL);
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "is out of range", 1, 41);
    /* the query itself parsed: the bad literal became a harmless 0 */
    assert_int_equal(p.f->queries.n, 1);
    expect_sexp(op(query(&p, 0), 0)->expr, "(== tcp.dport 0)");
    done(&p);

    const char nul[] = "query q {\0 packets }";
    parse_n(&p, nul, sizeof nul - 1);
    assert_int_equal(p.d.errors, 1);
    expect_error(&p, 0, "stray byte 0x00 in query", 1, 10);
    assert_int_equal(p.f->queries.n, 1);
    done(&p);
}

static void test_too_many_errors(void **state)
{
    char *s = repeat("", "@", 500, "", "", 0, "query q { packets }");
    struct parsed p;
    parse(&p, s);
    assert_int_equal(p.d.errors, 500);
    assert_int_equal(p.d.n, p.d.max_errors);
    char *out = NULL;
    size_t outlen = 0;
    FILE *m = open_memstream(&out, &outlen);
    assert_non_null(m);
    diag_print(&p.d, m);
    fclose(m);
    assert_non_null(strstr(out, "htsc: 450 more errors not shown\n"));
    free(out);
    done(&p);
    free(s);
}

/* ---- regressions: bugs found by these tests, now fixed ---- */

static void test_long_operator_chain(void **state)
{
    /* "0+1+1+...+1": left-associative, so bison's stack stays shallow and
     * the parse succeeds, but the tree is 100,000 deep and the recursive
     * walks after it (sema's check, ir_expr_print, the executor's eval)
     * overflow the C stack: `htsc check` dies with SIGSEGV. A depth limit
     * in the AST builders would report it like deep parentheses. */
    char *s = repeat("query q { packets | filter tcp.dport == 0", "+1", 100000,
                     "", "", 0, " }");
    struct parsed p;
    parse(&p, s);
    int errors = p.d.errors;
    if (p.rc == 0) {
        struct ast_file *files[1] = {p.f};
        sema_build(&p.arena, &p.d, files, 1, NULL, 0);
        errors = p.d.errors;
    }
    assert_true(errors > 0);
    done(&p);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_map_and_distinct),
        cmocka_unit_test(test_groupby),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_export_sample_histogram),
        cmocka_unit_test(test_join_chain),
        cmocka_unit_test(test_query_header),
        cmocka_unit_test(test_several_queries),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_not_in_location),
        cmocka_unit_test(test_syntax_error_location),
        cmocka_unit_test(test_error_recovery),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_binary_garbage),
        cmocka_unit_test(test_huge_identifier),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_many_nots),
        cmocka_unit_test(test_bad_tokens_in_query),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_long_operator_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
