/*
 * test_sema.c - semantic analysis (compiler/sema.c): diagnostics and the IR.
 *
 * One test per class of diagnostic, each checking the message text and its
 * line:column and that no follow-on errors pile up: unknown fields (with a
 * "did you mean"), columns and parameters; type mismatches; aggregates out of
 * place or of the wrong arity; join keys that are missing or differ in type;
 * stateful operators without a window; --set overrides that name no
 * parameter or give the wrong type; duplicate queries, sub-queries,
 * parameters and columns; export not last; sample after map; sub-query
 * cycles and unknown sub-queries; ambiguous columns after a join; refine on
 * a non-address; bad windows and hops; and several errors from one run.
 * The positive half checks what sema builds: node kinds, column names and
 * types (groupby, join with "sub.col" names, prefix masks keeping ipv4),
 * parameters substituted and overridden, windows, flags, refine levels.
 *
 * Regression tests of bugs these tests found (since fixed) come last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fields.h"
#include "ir.h"
#include "netstate.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct compiled {
    struct arena arena;
    struct diag d;
    struct src_file *src[2];
    struct ir_program *p;
};

/* Parses (which must succeed) and checks one or two sources. */
static void compile2(struct compiled *c, const char *text, const char *text2,
                     struct ir_override *ovr, int novr)
{
    memset(c, 0, sizeof *c);
    diag_init(&c->d);
    struct ast_file *files[2];
    const char *texts[2] = {text, text2};
    int nf = text2 ? 2 : 1;
    for (int i = 0; i < nf; i++) {
        c->src[i] = src_from_string(i ? "b.htq" : "a.htq", texts[i], strlen(texts[i]));
        if (ast_parse(&c->arena, &c->d, c->src[i], &files[i]) != 0)
            fail_msg("parse error %d:%d: %s", c->d.msgs[0].loc.line,
                     c->d.msgs[0].loc.col, c->d.msgs[0].text);
    }
    c->p = sema_build(&c->arena, &c->d, files, nf, ovr, novr);
}

static void compile(struct compiled *c, const char *text)
{
    compile2(c, text, NULL, NULL, 0);
}

static void done(struct compiled *c)
{
    diag_free(&c->d);
    src_free(c->src[0]);
    src_free(c->src[1]);
    arena_free(&c->arena);
}

/* compiles text that must check cleanly */
static void compile_ok(struct compiled *c, const char *text)
{
    compile(c, text);
    for (int i = 0; i < c->d.n; i++)
        if (c->d.msgs[i].level == DIAG_ERROR)
            fail_msg("unexpected error %d:%d: %s", c->d.msgs[i].loc.line,
                     c->d.msgs[i].loc.col, c->d.msgs[i].text);
    assert_int_equal(c->d.errors, 0);
    assert_non_null(c->p);
}

/* The i-th message is `level` at line:col and its text is exactly `text`. */
static void expect_msg(const struct compiled *c, int i, enum diag_level level,
                       const char *text, int line, int col)
{
    if (i >= c->d.n)
        fail_msg("no message %d (of %d); wanted '%s'", i, c->d.n, text);
    const struct diag_msg *m = &c->d.msgs[i];
    if (strcmp(m->text, text) != 0)
        fail_msg("message %d is '%s', wanted '%s'", i, m->text, text);
    assert_int_equal(m->level, level);
    assert_int_equal(m->loc.line, line);
    assert_int_equal(m->loc.col, col);
}

/* Exactly one error (no cascade), the given one; no program. */
static void expect_only_error(const char *src, const char *text, int line,
                              int col)
{
    struct compiled c;
    compile(&c, src);
    if (c.d.errors != 1) {
        for (int i = 0; i < c.d.n; i++)
            print_message("  %d:%d: %s\n", c.d.msgs[i].loc.line,
                          c.d.msgs[i].loc.col, c.d.msgs[i].text);
        fail_msg("%d errors for: %s", c.d.errors, src);
    }
    assert_null(c.p);
    int at = -1;
    for (int i = 0; i < c.d.n; i++)
        if (c.d.msgs[i].level == DIAG_ERROR)
            at = i;
    expect_msg(&c, at, DIAG_ERROR, text, line, col);
    done(&c);
}

static const struct ir_col *col(const struct ir_node *n, int i)
{
    assert_true(i < n->ncols);
    return &n->cols[i];
}

static void expect_col(const struct ir_node *n, int i, const char *name,
                       enum hts_type t, int field)
{
    assert_string_equal(col(n, i)->name, name);
    assert_int_equal(col(n, i)->type, t);
    assert_int_equal(col(n, i)->field, field);
}

/* ---- names ---- */

static void test_unknown_field_suggestion(void **state)
{
    expect_only_error("query q {\n  packets | filter ipv4.dstt == 1.2.3.4\n}",
                      "unknown field 'ipv4.dstt'; did you mean 'ipv4.dst'?", 2, 20);
    expect_only_error("query q { packets | map tcp.dprot }",
                      "unknown field 'tcp.dprot'; did you mean 'tcp.dport'?", 1, 25);
    expect_only_error("query q { packets | filter zzzzzzzzzzzz == 1 }",
                      "unknown field or parameter 'zzzzzzzzzzzz'", 1, 28);
}

static void test_unknown_column(void **state)
{
    expect_only_error("query q { packets | map ipv4.src | filter tcp.dport == 1 }",
                      "'tcp.dport' is a packet field, but this operator's input "
                      "is tuples of (ipv4.src)", 1, 43);
    expect_only_error("query q { packets | map a = 1, b = 2 | filter c == 1 }",
                      "unknown column 'c'; the input has (a, b)", 1, 47);
}

static void test_unknown_parameter(void **state)
{
    /* a parameter's default sees earlier parameters only */
    expect_only_error("query q(a = b, b = 1) { packets }",
                      "unknown parameter 'b'", 1, 13);
    expect_only_error("query q window w { packets }", "unknown parameter 'w'", 1, 16);
    expect_only_error("query q(a = 1) { packets | map x = a + nope }",
                      "unknown field or parameter 'nope'", 1, 40);
}

/* ---- types ---- */

static void test_type_mismatch(void **state)
{
    expect_only_error("query q { packets | filter ipv4.src == 22 }",
                      "type mismatch: '==' between ipv4 and int", 1, 37);
    expect_only_error("query q { packets | filter tcp.dport < \"a\" }",
                      "type mismatch: '<' between int and string", 1, 38);
    expect_only_error("query q { packets | filter eth.src > eth.dst }",
                      "type mismatch: '>' between mac and mac", 1, 36);
    expect_only_error("query q { packets | map x = ipv4.src + 1 }",
                      "type mismatch: '+' between ipv4 and int", 1, 38);
    expect_only_error("query q { packets | filter tcp.dport and true }",
                      "type mismatch: 'and' between int and bool", 1, 38);
    expect_only_error("query q { packets | filter payload contains 1 }",
                      "type mismatch: 'contains' between string and int", 1, 36);
    expect_only_error("query q { packets | filter ipv4.src == 10.0.0.0/8 }",
                      "comparing an address with a prefix; use 'in' to test "
                      "membership", 1, 37);
    expect_only_error("query q { packets | filter tcp.dport }",
                      "a filter condition must be bool, not int", 1, 28);
    expect_only_error("query q { packets | filter not tcp.dport }",
                      "the operand of 'not' must be bool, not int", 1, 32);
    expect_only_error("query q { packets | map x = -ipv4.src }",
                      "the operand of '-' must be int, not ipv4", 1, 30);
    /* an error type silences complaints about the expressions around it */
    expect_only_error("query q { packets | filter (nope + 1) * 2 == ipv4.src and true }",
                      "unknown field or parameter 'nope'", 1, 29);
}

static void test_in_and_sets(void **state)
{
    expect_only_error("query q { packets | filter tcp.dport in 10.0.0.0/8 }",
                      "'in' needs a set {...}, a range a..b or a prefix matching "
                      "int, not ipv4 prefix", 1, 38);
    expect_only_error("query q { packets | filter tcp.dport in {80, 1.2.3.4} }",
                      "set element is ipv4 but 'in' is int", 1, 46);
    expect_only_error("query q { packets | filter tcp.dport in {tcp.sport} }",
                      "set elements must be constants", 1, 42);
    expect_only_error("query q { packets | filter ipv4.src in 1..5 }",
                      "type mismatch: 'in' between ipv4 and int", 1, 37);
    expect_only_error("query q { packets | filter {1} == 1 }",
                      "a set {...} is only allowed after 'in'", 1, 28);
    expect_only_error("query q { packets | map x = 1..2 }",
                      "a range a..b is only allowed after 'in'", 1, 30);
    expect_only_error("query q { packets | filter ipv4.dst / tcp.dport == 1.2.3.4 }",
                      "a prefix mask needs a constant length from 0 to 32", 1, 39);
    expect_only_error("query q { packets | filter ipv4.dst / 33 == 1.2.3.4 }",
                      "a prefix mask needs a constant length from 0 to 32", 1, 39);
    expect_only_error("query q { packets | filter ipv6.dst / 129 == ::1 }",
                      "a prefix mask needs a constant length from 0 to 128", 1, 39);
}

static void test_columns(void **state)
{
    expect_only_error("query q { packets | map tcp.dport + 1 }",
                      "give this column a name: NAME = expression", 1, 25);
    expect_only_error("query q { packets | map p = 10.0.0.0/8 }",
                      "a column cannot hold a ipv4 prefix", 1, 25);
    expect_only_error("query q { packets | map a = 1, b = 2, a = 3 }",
                      "duplicate column 'a' in map", 1, 21);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate "
                      "ipv4.dst = count() }",
                      "duplicate column 'ipv4.dst' in groupby", 1, 31);
    expect_only_error("query q { packets | map n = unknownfn(1) }",
                      "unknown function 'unknownfn'", 1, 29);
    expect_only_error("query q { packets | map n = abs(1, 2) }",
                      "abs takes 1 argument", 1, 29);
    expect_only_error("query q { packets | map n = max(1) }",
                      "aggregate 'max' is only allowed in a groupby's aggregate list",
                      1, 29);
}

/* ---- aggregates ---- */

static void test_aggregate_misuse(void **state)
{
    expect_only_error("query q { packets | filter count() > 1 }",
                      "aggregate 'count' is only allowed in a groupby's aggregate list",
                      1, 28);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = tcp.dport }",
                      "'n' is not an aggregate: use count(), sum(x), min(x), "
                      "max(x) or avg(x)", 1, 62);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = count() + 1 }",
                      "aggregate 'count' is only allowed in a groupby's aggregate list",
                      1, 62);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = count(1) }",
                      "count takes no argument", 1, 62);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = sum() }",
                      "sum takes one argument", 1, 62);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = avg(1, 2) }",
                      "avg takes one argument", 1, 62);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = sum(ipv4.src) }",
                      "the argument of an aggregate must be int, not ipv4", 1, 66);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = sum(count()) }",
                      "aggregate 'count' is only allowed in a groupby's aggregate list",
                      1, 66);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate count() }",
                      "name this aggregate: NAME = count()", 1, 58);
    expect_only_error("query q window 1s { packets | groupby ipv4.dst aggregate n = max(1, 2) }",
                      "'n' is not an aggregate: use count(), sum(x), min(x), "
                      "max(x) or avg(x)", 1, 62);
}

/* ---- windows ---- */

static void test_stateful_without_window(void **state)
{
    expect_only_error("query q {\n  packets | groupby ipv4.dst aggregate n = count()\n}",
                      "groupby keeps state and needs a window: add 'window 3s' (or "
                      "another length) after the query's parameters", 2, 13);
    expect_only_error("query q { packets | map a = 1 | distinct a }",
                      "distinct keeps state and needs a window: add 'window 3s' (or "
                      "another length) after the query's parameters", 1, 33);
    expect_only_error("query q { packets | histogram ipv4.len buckets 1 }",
                      "histogram keeps state and needs a window: add 'window 3s' (or "
                      "another length) after the query's parameters", 1, 21);
    expect_only_error("query q { packets | fold by ipv4.src state n = 0 { n = n + 1 } }",
                      "fold keeps state and needs a window: add 'window 3s' (or "
                      "another length) after the query's parameters", 1, 21);
}

static void test_bad_window(void **state)
{
    expect_only_error("query q window 3s every 2s { packets }",
                      "the hop of a hopping window must divide its length", 1, 25);
    expect_only_error("query q window 3s every 6s { packets }",
                      "the hop of a hopping window must divide its length", 1, 25);
    expect_only_error("query q window 3s every 0s { packets }",
                      "a window hop must be at least 1", 1, 25);
    expect_only_error("query q window 0s { packets }",
                      "a window length must be at least 1", 1, 16);
    expect_only_error("query q window 1.2.3.4 { packets }",
                      "a window length must be a constant integer", 1, 16);
    expect_only_error("query q(w = \"x\") window w { packets }",
                      "a window length must be a constant integer", 1, 25);
}

/* ---- --set ---- */

static void test_set_unknown_parameter(void **state)
{
    struct ir_override ov[2] = {
        {.name = "nope", .value = hts_int(1)},
        {.query = "q", .name = "u", .value = hts_int(2)},
    };
    struct compiled c;
    compile2(&c, "query q(t = 1) { packets }\nquery r(u = 1) { packets }", NULL, ov, 2);
    assert_null(c.p);
    assert_int_equal(c.d.errors, 2);
    assert_false(ov[0].used);
    assert_false(ov[1].used);
    expect_msg(&c, 0, DIAG_ERROR, "--set nope: no query has a parameter 'nope'", 0, 0);
    expect_msg(&c, 1, DIAG_ERROR, "--set q.u: no query has a parameter 'u'", 0, 0);
    assert_null(c.d.msgs[0].loc.file);
    done(&c);
}

static void test_set_type_mismatch(void **state)
{
    hts_value ip = {.type = TY_IPV4, .present = 1};
    ip.u.ip4 = 0x01020304;
    struct ir_override ov = {.name = "t", .value = ip};
    struct compiled c;
    compile2(&c, "query q(\n  t = 40) { packets }", NULL, &ov, 1);
    assert_null(c.p);
    assert_int_equal(c.d.errors, 1);
    assert_true(ov.used);
    expect_msg(&c, 0, DIAG_ERROR, "--set t: parameter 't' of query 'q' is int, "
               "the value given is ipv4", 2, 3);
    done(&c);
}

/* ---- duplicates ---- */

static void test_duplicates(void **state)
{
    struct compiled c;
    compile(&c, "query q { packets }\n\nquery q { packets }");
    assert_null(c.p);
    assert_int_equal(c.d.errors, 1);
    expect_msg(&c, 0, DIAG_ERROR, "duplicate query 'q'", 3, 7);
    expect_msg(&c, 1, DIAG_NOTE, "'q' was first defined here", 1, 7);
    done(&c);

    /* across files: the note points into the first file */
    compile2(&c, "query a { packets }", "query b { packets }\nquery a { packets }",
             NULL, 0);
    assert_int_equal(c.d.errors, 1);
    expect_msg(&c, 0, DIAG_ERROR, "duplicate query 'a'", 2, 7);
    assert_string_equal(c.d.msgs[0].loc.file->name, "b.htq");
    assert_string_equal(c.d.msgs[1].loc.file->name, "a.htq");
    done(&c);

    expect_only_error("query q window 1s {\n  let a = packets | distinct ipv4.src\n"
                      "  let a = packets | distinct ipv4.dst\n  a\n}",
                      "duplicate sub-query 'a'", 3, 7);
    expect_only_error("query q(t = 1, u = 2, t = 3) { packets }",
                      "duplicate parameter 't'", 1, 23);
}

/* ---- operator placement ---- */

static void test_export_not_last(void **state)
{
    expect_only_error("query q { packets | export a = ipv4.src | filter a == 1.2.3.4 }",
                      "export must be the last operator of a query's result", 1, 21);
    expect_only_error("query q { let s = packets | export ipv4.src\n  s }",
                      "export must be the last operator of a query's result", 1, 29);
    expect_only_error("query q window 1s { packets | distinct ipv4.src | export ipv4.src }",
                      "export is per packet: it cannot follow a stateful operator", 1, 51);
}

static void test_sample(void **state)
{
    expect_only_error("query q { packets | map a = ipv4.src | sample 1 in 10 }",
                      "sample works on packets: put it before map, groupby and the like",
                      1, 40);
    expect_only_error("query q { packets | sample 2 in 10 }",
                      "write sampling as 'sample 1 in N'", 1, 28);
    expect_only_error("query q { packets | sample 1 in 0 }",
                      "the sampling rate N must be at least 1", 1, 33);
    expect_only_error("query q { packets | sample 1 in tcp.dport }",
                      "'tcp.dport' is a packet field, but a constant is needed here", 1, 33);
}

/* ---- sub-queries and joins ---- */

static void test_subquery_cycle(void **state)
{
    expect_only_error("query q window 1s {\n"
                      "  let a = b | filter x > 1\n"
                      "  let b = a | filter x > 2\n"
                      "  a\n}",
                      "sub-query 'a' depends on itself", 3, 11);
    expect_only_error("query q window 1s {\n  let a = a | filter true\n  a\n}",
                      "sub-query 'a' depends on itself", 2, 11);
}

static void test_unknown_subquery(void **state)
{
    expect_only_error("query q window 1s {\n  nope | filter true\n}",
                      "unknown sub-query 'nope'", 2, 3);
    expect_only_error("query q window 1s {\n"
                      "  let a = packets | groupby k = ipv4.dst aggregate n = count()\n"
                      "  a join zz on k\n}",
                      "unknown sub-query 'zz'", 3, 10);
}

#define SYNS_ACKS                                                              \
    "  let syns = packets | filter tcp.flags has SYN\n"                        \
    "      | groupby host = ipv4.dst aggregate n = count()\n"                  \
    "  let acks = packets | filter tcp.flags has ACK\n"                        \
    "      | groupby host = ipv4.src aggregate n = count()\n"

static void test_join_errors(void **state)
{
    expect_only_error("query q window 1s {\n"
                      "  let a = packets | groupby host = ipv4.dst aggregate n = count()\n"
                      "  let b = packets | groupby host = tcp.dport aggregate m = count()\n"
                      "  a join b on host\n}",
                      "join key 'host' is ipv4 on the left but int in 'b'", 4, 15);
    expect_only_error("query q window 1s {\n" SYNS_ACKS "  syns join acks on nope\n}",
                      "join key 'nope' is not a column of the left side", 6, 21);
    expect_only_error("query q window 1s {\n"
                      "  let a = packets | groupby host = ipv4.dst aggregate n = count()\n"
                      "  let b = packets | groupby dst = ipv4.dst aggregate m = count()\n"
                      "  a join b on host\n}",
                      "join key 'host' is not a column of b", 4, 15);
    expect_only_error("query q window 1s {\n"
                      "  let a = packets | filter true\n"
                      "  let b = packets | groupby host = ipv4.dst aggregate m = count()\n"
                      "  a join b on host\n}",
                      "join inputs must be sub-queries that produce tuples "
                      "(groupby, distinct, map...), not packets", 4, 5);
}

static void test_ambiguous_column(void **state)
{
    expect_only_error("query q window 1s {\n" SYNS_ACKS
                      "  syns join acks on host | filter n > 3\n}",
                      "column name 'n' is ambiguous here; qualify it with its "
                      "sub-query's name", 6, 35);
}

/* ---- refine ---- */

static void test_refine(void **state)
{
    expect_only_error("query q refine tcp.dport by /8 { packets }",
                      "refine needs an address field (ipv4.src, ipv6.dst...), not "
                      "'tcp.dport'", 1, 16);
    expect_only_error("query q refine host by /8 { packets }",
                      "refine needs an address field (ipv4.src, ipv6.dst...), not "
                      "'host'", 1, 16);
    expect_only_error("query q refine ipv4.dst by /16, /8 { packets }",
                      "refinement levels must increase and stay within /32", 1, 34);
    expect_only_error("query q refine ipv4.dst by /8, /40 { packets }",
                      "refinement levels must increase and stay within /32", 1, 33);
    expect_only_error("query q refine ipv4.dst by /0 { packets }",
                      "a refinement level must be at least 1", 1, 29);
}

/* ---- fold and histogram ---- */

static void test_fold_errors(void **state)
{
    expect_only_error("query q window 1s { packets | fold by ipv4.src state n = 0 "
                      "{ m = 1 } }",
                      "'m' is not a state variable of this fold", 1, 62);
    expect_only_error("query q window 1s { packets | fold by ipv4.src state n = 0 "
                      "{ n = ipv4.dst } }",
                      "assigning ipv4 to state variable 'n' of type int", 1, 66);
    expect_only_error("query q window 1s { packets | fold by ipv4.src state n = tcp.dport "
                      "{ n = 1 } }",
                      "'tcp.dport' is a packet field, but a constant is needed here", 1, 58);
    expect_only_error("query q window 1s { packets | fold by ipv4.src state 0 { } }",
                      "a state variable needs a name: NAME = initial value", 1, 54);
    expect_only_error("query q window 1s { packets | fold by ipv4.src state n = 0 "
                      "{ if n { emit } } }",
                      "an if condition must be bool, not int", 1, 65);
}

static void test_histogram_errors(void **state)
{
    expect_only_error("query q window 1s { packets | histogram ipv4.len buckets 10, 5 }",
                      "bucket edges must increase", 1, 62);
    expect_only_error("query q window 1s { packets | histogram ipv4.src buckets 10 }",
                      "a histogram's value must be int, not ipv4", 1, 41);
    expect_only_error("query q window 1s { packets | histogram ipv4.len buckets tcp.dport }",
                      "'tcp.dport' is a packet field, but a constant is needed here", 1, 58);
}

static void test_fold_close_block(void **state)
{
    struct compiled c;
    compile_ok(&c, "query f window 1s { packets | fold by ipv4.src state n = 0, "
                   "big = false { n = n + 1 } close { if n > 2 and TCP == 6 { "
                   "big = true emit } } }");
    const struct ir_node *f = c.p->queries[0]->root;
    assert_int_equal(f->nbody, 1);
    assert_int_equal(f->nclose, 1);
    assert_true(f->emits); /* an emit in the close block counts */
    assert_int_equal(f->close[0]->expr->a->a->ref_kind, REF_STATE);
    done(&c);

    /* at window close there is no packet: fields are not in scope */
    expect_only_error("query f window 1s { packets | fold by ipv4.src state n = 0 "
                      "{ } close { n = tcp.dport } }",
                      "'tcp.dport' is a packet field, but a fold's close block runs with no packet: use state variables", 1, 76);
    expect_only_error("query f window 1s { packets | fold by ipv4.src state n = 0 "
                      "{ } close { m = 1 } }",
                      "'m' is not a state variable of this fold", 1, 72);
}

static void test_coalesce_present(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q { packets | map p = coalesce(tcp.dport, udp.dport), "
                   "a = coalesce(ipv4.src, 0.0.0.0), t = present(tcp.dport) }");
    const struct ir_node *m = c.p->queries[0]->root;
    expect_col(m, 0, "p", TY_INT, -1);
    expect_col(m, 1, "a", TY_IPV4, -1);
    expect_col(m, 2, "t", TY_BOOL, -1);
    done(&c);
    expect_only_error("query q { packets | map p = coalesce(tcp.dport, ipv4.src) }",
                      "coalesce needs two values of one type, not int and ipv4", 1, 29);
    expect_only_error("query q { packets | map p = present(tcp.dport, 1) }",
                      "present takes 1 argument", 1, 29);
    expect_only_error("query q { packets | filter present(nope) }",
                      "unknown field or parameter 'nope'", 1, 36);
}

static void test_too_many_keys_and_aggregates(void **state)
{
    char src[2048];
    int n = snprintf(src, sizeof src, "query q window 1s { packets | groupby ");
    for (int i = 0; i < 17; i++)
        n += snprintf(src + n, sizeof src - (size_t)n, "%sk%d = tcp.dport", i ? ", " : "", i);
    snprintf(src + n, sizeof src - (size_t)n, " aggregate c = count() }");
    expect_only_error(src, "groupby has 17 keys; at most 16 are allowed", 1, 31);

    n = snprintf(src, sizeof src, "query q window 1s { packets | groupby k = tcp.dport aggregate ");
    for (int i = 0; i < 33; i++)
        n += snprintf(src + n, sizeof src - (size_t)n, "%sa%d = count()", i ? ", " : "", i);
    snprintf(src + n, sizeof src - (size_t)n, " }");
    expect_only_error(src, "groupby has 33 aggregates; at most 32 are allowed", 1, 31);

    /* 16 keys and 32 aggregates are fine */
    n = snprintf(src, sizeof src, "query q window 1s { packets | groupby ");
    for (int i = 0; i < 16; i++)
        n += snprintf(src + n, sizeof src - (size_t)n, "%sk%d = tcp.dport", i ? ", " : "", i);
    n += snprintf(src + n, sizeof src - (size_t)n, " aggregate ");
    for (int i = 0; i < 32; i++)
        n += snprintf(src + n, sizeof src - (size_t)n, "%sa%d = count()", i ? ", " : "", i);
    snprintf(src + n, sizeof src - (size_t)n, " }");
    struct compiled c;
    compile_ok(&c, src);
    assert_int_equal(c.p->queries[0]->root->ncols, 48);
    done(&c);
}

/* ---- several errors at once ---- */

static void test_several_errors(void **state)
{
    struct compiled c;
    compile(&c, "query a {\n"
                "  packets | filter ipv4.dstt == 1.2.3.4 and tcp.dport == \"x\"\n"
                "    | groupby ipv4.src aggregate n = count()\n"
                "}\n"
                "query b(t = 1) window 3s every 2s {\n"
                "  packets | map x = ipv4.src + t\n"
                "}\n");
    assert_null(c.p);
    assert_int_equal(c.d.errors, 5);
    expect_msg(&c, 0, DIAG_ERROR, "unknown field 'ipv4.dstt'; did you mean 'ipv4.dst'?", 2, 20);
    expect_msg(&c, 1, DIAG_ERROR, "type mismatch: '==' between int and string", 2, 55);
    expect_msg(&c, 2, DIAG_ERROR, "groupby keeps state and needs a window: add "
               "'window 3s' (or another length) after the query's parameters", 3, 7);
    expect_msg(&c, 3, DIAG_ERROR, "the hop of a hopping window must divide its length", 5, 32);
    expect_msg(&c, 4, DIAG_ERROR, "type mismatch: '+' between ipv4 and int", 6, 30);
    done(&c);
}

static void test_unused_subquery_warning(void **state)
{
    struct compiled c;
    compile(&c, "query q window 1s {\n  let a = packets | distinct ipv4.src\n"
                "  packets | map ipv4.dst\n}");
    assert_non_null(c.p);
    assert_int_equal(c.d.errors, 0);
    assert_int_equal(c.d.n, 1);
    expect_msg(&c, 0, DIAG_WARNING, "sub-query 'a' is never used", 2, 7);
    done(&c);

    /* an unused sub-query is still checked */
    compile(&c, "query q window 1s {\n  let a = packets | distinct nope\n"
                "  packets | map ipv4.dst\n}");
    assert_null(c.p);
    assert_int_equal(c.d.errors, 1);
    expect_msg(&c, 1, DIAG_ERROR, "unknown field or parameter 'nope'", 2, 30);
    done(&c);
}

/* ---- what sema builds ---- */

static const struct ir_node *root(const struct compiled *c, int q)
{
    assert_true(q < c->p->nqueries);
    assert_non_null(c->p->queries[q]->root);
    return c->p->queries[q]->root;
}

static void test_groupby_schema(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q window 10s {\n"
                   "  packets | groupby ipv4.dst, port = tcp.dport\n"
                   "    aggregate n = count(), s = sum(ipv4.len), lo = min(ipv4.src),\n"
                   "              hi = max(tcp.sport), a = avg(ipv4.len)\n}");
    struct ir_query *q = c.p->queries[0];
    assert_string_equal(q->name, "q");
    assert_true(q->window_ns == 10000000000LL);
    assert_true(q->hop_ns == 10000000000LL);
    assert_true(q->stateful);
    assert_false(q->per_packet);
    assert_int_equal(q->nnodes, 2);
    const struct ir_node *g = root(&c, 0);
    assert_int_equal(g->kind, IR_GROUPBY);
    assert_int_equal(g->id, 1);
    assert_false(g->packet);
    assert_int_equal(g->nkeys, 2);
    assert_int_equal(g->nexprs, 2);
    assert_int_equal(g->naggs, 5);
    assert_int_equal(g->ncols, 7);
    expect_col(g, 0, "ipv4.dst", TY_IPV4, FLD_IPV4_DST);
    expect_col(g, 1, "port", TY_INT, FLD_TCP_DPORT);
    expect_col(g, 2, "n", TY_INT, -1);
    expect_col(g, 3, "s", TY_INT, -1);
    expect_col(g, 4, "lo", TY_IPV4, -1);
    expect_col(g, 5, "hi", TY_INT, -1);
    expect_col(g, 6, "a", TY_INT, -1);
    const enum ast_agg aggs[5] = {AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG};
    for (int i = 0; i < 5; i++)
        assert_int_equal(g->aggs[i]->agg, aggs[i]);
    assert_int_equal(g->exprs[1]->ref_kind, REF_FIELD);
    assert_int_equal(g->exprs[1]->ref, FLD_TCP_DPORT);
    assert_int_equal(g->in[0]->kind, IR_SOURCE);
    assert_true(g->in[0]->packet);
    assert_int_equal(g->loc.line, 2);
    assert_int_equal(g->loc.col, 13);
    done(&c);
}

static void test_join_schema(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q window 1s {\n" SYNS_ACKS
                   "  syns left join acks on host | map host, d = syns.n - acks.n\n}");
    const struct ir_node *m = root(&c, 0);
    assert_int_equal(m->kind, IR_MAP);
    expect_col(m, 0, "host", TY_IPV4, FLD_IPV4_DST);
    expect_col(m, 1, "d", TY_INT, -1);
    const struct ir_node *j = m->in[0];
    assert_int_equal(j->kind, IR_JOIN);
    assert_true(j->left_join);
    assert_int_equal(j->nin, 2);
    assert_int_equal(j->njk, 1);
    assert_int_equal(j->ncols, 3);
    expect_col(j, 0, "host", TY_IPV4, FLD_IPV4_DST);
    expect_col(j, 1, "syns.n", TY_INT, -1);
    expect_col(j, 2, "acks.n", TY_INT, -1);
    assert_int_equal(j->lkeys[0], 0);
    assert_int_equal(j->rkeys[0], 0);
    assert_int_equal(j->jside[1], 0);
    assert_int_equal(j->jcol[1], 1);
    assert_int_equal(j->jside[2], 1);
    assert_int_equal(j->jcol[2], 1);
    assert_string_equal(j->in[0]->label, "syns");
    assert_string_equal(j->in[1]->label, "acks");
    /* the map's expression reads the join's columns by index */
    const struct ast_expr *d = m->exprs[1];
    assert_int_equal(d->a->ref_kind, REF_COL);
    assert_int_equal(d->a->ref, 1);
    assert_int_equal(d->b->ref, 2);
    done(&c);

    /* a unique suffix is enough, and a chain of joins keeps the names */
    compile_ok(&c, "query q window 1s {\n"
                   "  let a = packets | groupby k = ipv4.dst aggregate x = count()\n"
                   "  let b = packets | groupby k = ipv4.src aggregate y = count()\n"
                   "  let e = packets | groupby k = ipv4.src aggregate z = max(tcp.dport)\n"
                   "  a join b on k join e on k | filter x > y and z > 0\n}");
    const struct ir_node *f = root(&c, 0);
    const struct ir_node *j2 = f->in[0];
    assert_int_equal(j2->ncols, 4);
    expect_col(j2, 0, "k", TY_IPV4, FLD_IPV4_DST);
    expect_col(j2, 1, "a.x", TY_INT, -1);
    expect_col(j2, 2, "b.y", TY_INT, -1);
    expect_col(j2, 3, "e.z", TY_INT, -1);
    assert_int_equal(f->expr->a->a->ref, 1);
    assert_int_equal(f->expr->b->a->ref, 3);
    done(&c);
}

static void test_prefix_mask_type(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q { packets | map net = ipv4.dst / 16, n6 = ipv6.src / 48,"
                   " ok = ipv4.src in {10.0.0.0/8, 1.2.3.4}, r = tcp.dport in 1..1023 }");
    const struct ir_node *m = root(&c, 0);
    expect_col(m, 0, "net", TY_IPV4, -1);
    expect_col(m, 1, "n6", TY_IPV6, -1);
    expect_col(m, 2, "ok", TY_BOOL, -1);
    expect_col(m, 3, "r", TY_BOOL, -1);
    assert_int_equal(m->exprs[0]->type, TY_IPV4);
    assert_true(c.p->queries[0]->per_packet);
    assert_false(c.p->queries[0]->stateful);
    assert_true(c.p->queries[0]->window_ns == 0);
    done(&c);
}

static void test_params_substituted(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q(t = 40, u = t * 2 + 1, net = 10.0.0.0/8, w = 2s) window w {\n"
                   "  packets | filter ipv4.dst in net | groupby ipv4.dst aggregate n = count()\n"
                   "    | filter n >= u | map ipv4.dst, t }");
    struct ir_query *q = c.p->queries[0];
    assert_int_equal(q->nparams, 4);
    assert_string_equal(q->params[0].name, "t");
    assert_true(q->params[0].value.u.i == 40);
    assert_true(q->params[1].value.u.i == 81);
    assert_int_equal(q->params[2].value.type, TY_PREFIX4);
    assert_int_equal(q->params[2].value.plen, 8);
    assert_false(q->params[0].set);
    assert_true(q->window_ns == 2000000000LL);
    const struct ir_node *m = root(&c, 0);
    expect_col(m, 1, "t", TY_INT, -1);
    assert_int_equal(m->exprs[1]->kind, E_LIT);
    assert_int_equal(m->exprs[1]->ref_kind, REF_PARAM);
    assert_true(m->exprs[1]->lit.u.i == 40);
    const struct ir_node *f = m->in[0];
    assert_int_equal(f->kind, IR_FILTER);
    assert_int_equal(f->expr->b->kind, E_LIT);
    assert_true(f->expr->b->lit.u.i == 81);
    /* named constants become literals too */
    done(&c);

    compile_ok(&c, "query q { packets | filter tcp.flags & (SYN|ACK) == SYN and "
                   "ip.proto == TCP }");
    const struct ast_expr *e = root(&c, 0)->expr;
    assert_int_equal(e->a->a->b->kind, E_BINARY);
    assert_true(e->a->a->b->a->lit.u.i == 2);
    assert_true(e->a->a->b->b->lit.u.i == 16);
    assert_true(e->b->b->lit.u.i == 6);
    done(&c);
}

static void test_overrides_applied(void **state)
{
    struct ir_override ov[3] = {
        {.name = "t", .value = hts_int(7)},
        {.query = "r", .name = "u", .value = hts_int(-3)},
        {.name = "w", .value = hts_int(5000000000LL)},
    };
    struct compiled c;
    compile2(&c, "query q(t = 40, w = 1s) window w { packets | filter tcp.dport == t }\n"
                 "query r(t = 1, u = 2) { packets | filter tcp.dport == u }\n"
                 "query s(u = 9) { packets | filter tcp.dport == u }",
             NULL, ov, 3);
    assert_int_equal(c.d.errors, 0);
    assert_non_null(c.p);
    for (int i = 0; i < 3; i++)
        assert_true(ov[i].used);
    struct ir_query *q = c.p->queries[0], *r = c.p->queries[1], *s = c.p->queries[2];
    assert_true(q->params[0].value.u.i == 7);
    assert_true(q->params[0].set);
    assert_true(q->window_ns == 5000000000LL);
    assert_true(root(&c, 0)->expr->b->lit.u.i == 7);
    assert_true(r->params[0].value.u.i == 7);
    assert_true(r->params[1].value.u.i == -3);
    assert_true(root(&c, 1)->expr->b->lit.u.i == -3);
    /* Q.NAME applies to query Q only */
    assert_true(s->params[0].value.u.i == 9);
    assert_false(s->params[0].set);
    assert_true(root(&c, 2)->expr->b->lit.u.i == 9);
    done(&c);
}

static void test_windows_and_flags(void **state)
{
    struct compiled c;
    compile_ok(&c, "query a window 4s every 1s { packets | map x = 1 }\n"
                   "query b window 500ms { packets | distinct ipv4.src }\n"
                   "query c { packets | export ipv4.src }\n"
                   "query d refine ipv4.dst by /8, /16, /32 { packets }");
    struct ir_query **q = c.p->queries;
    assert_int_equal(c.p->nqueries, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(q[i]->index, i);
    assert_true(q[0]->window_ns == 4000000000LL);
    assert_true(q[0]->hop_ns == 1000000000LL);
    assert_true(q[0]->per_packet);
    assert_true(q[1]->window_ns == 500000000LL);
    assert_true(q[1]->hop_ns == 500000000LL);
    assert_false(q[1]->per_packet);
    assert_true(q[2]->per_packet);
    assert_true(q[2]->window_ns == 0);
    assert_string_equal(q[3]->refine_key, "ipv4.dst");
    assert_int_equal(q[3]->nlevels, 3);
    assert_int_equal(q[3]->levels[0], 8);
    assert_int_equal(q[3]->levels[1], 16);
    assert_int_equal(q[3]->levels[2], 32);
    /* packets alone: the root is the source, packet-shaped */
    assert_int_equal(root(&c, 3)->kind, IR_SOURCE);
    assert_true(root(&c, 3)->packet);
    assert_int_equal(root(&c, 3)->ncols, 0);
    const struct ir_node *e = root(&c, 2);
    assert_int_equal(e->kind, IR_EXPORT);
    expect_col(e, 0, "ipv4.src", TY_IPV4, FLD_IPV4_SRC);
    done(&c);
}

static void test_fold_and_histogram_schema(void **state)
{
    struct compiled c;
    compile_ok(&c, "query f window 1s { packets | fold by ipv4.src state n = 0, "
                   "last = 0.0.0.0, s = \"\" { n = n + 1  last = ipv4.dst  "
                   "if n > 2 { emit } } }\n"
                   "query h window 1s { packets | filter true | histogram ipv4.len "
                   "buckets 64, 512 }");
    const struct ir_node *f = root(&c, 0);
    assert_int_equal(f->kind, IR_FOLD);
    assert_true(f->emits);
    assert_int_equal(f->nkeys, 1);
    assert_int_equal(f->naggs, 3);
    assert_int_equal(f->nbody, 3);
    expect_col(f, 0, "ipv4.src", TY_IPV4, FLD_IPV4_SRC);
    expect_col(f, 1, "n", TY_INT, -1);
    expect_col(f, 2, "last", TY_IPV4, -1);
    expect_col(f, 3, "s", TY_STR, -1);
    assert_int_equal(f->body[0]->ref, 0);
    assert_int_equal(f->body[1]->ref, 1);
    assert_int_equal(f->body[0]->expr->a->ref_kind, REF_STATE);
    const struct ir_node *h = root(&c, 1);
    assert_int_equal(h->kind, IR_HISTOGRAM);
    assert_int_equal(h->nedges, 2);
    assert_true(h->edges[0] == 64 && h->edges[1] == 512);
    expect_col(h, 0, "lo", TY_INT, -1);
    expect_col(h, 1, "hi", TY_INT, -1);
    expect_col(h, 2, "count", TY_INT, -1);
    assert_int_equal(h->in[0]->kind, IR_FILTER);
    assert_true(h->in[0]->packet);
    done(&c);

    compile_ok(&c, "query f window 1s { packets | fold by ipv4.src state n = 0 { n = n + 1 } }");
    assert_false(root(&c, 0)->emits);
    done(&c);
}

static void test_sample_node(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q(r = 64) { packets | sample 1 in r | map ipv4.src }");
    const struct ir_node *m = root(&c, 0);
    const struct ir_node *s = m->in[0];
    assert_int_equal(s->kind, IR_SAMPLE);
    assert_true(s->sample_n == 64);
    assert_true(s->packet);
    done(&c);
}

/* ---- regressions: bugs found by these tests, now fixed ---- */

static void known_bug(void)
{
}

static void test_suggestion_transposed_letters(void **state)
{
    /* core/fields.c's edit distance has no transposition: "dts" is 2 from
     * both "dst" and "tos", and ipv4.tos comes first in the catalogue */
    known_bug();
    expect_only_error("query q { packets | filter ipv4.dts == 1.2.3.4 }",
                      "unknown field 'ipv4.dts'; did you mean 'ipv4.dst'?", 1, 28);
    expect_only_error("query q { packets | filter tcp.dprot == 1 }",
                      "unknown field 'tcp.dprot'; did you mean 'tcp.dport'?", 1, 28);
}

static void test_unused_subquery_using_unused_subquery(void **state)
{
    /* build_query marks an unused sub-query "being built" (state 1) and
     * leaves it so; a later unused sub-query that reads it is then told it
     * "depends on itself" */
    known_bug();
    struct compiled c;
    compile(&c, "query q window 1s {\n"
                "  let a = packets | distinct ipv4.src\n"
                "  let b = a | filter ipv4.src == 1.2.3.4\n"
                "  packets | map ipv4.dst\n}");
    assert_int_equal(c.d.errors, 0);
    assert_non_null(c.p);
    assert_int_equal(c.d.n, 2);
    expect_msg(&c, 0, DIAG_WARNING, "sub-query 'a' is never used", 2, 7);
    expect_msg(&c, 1, DIAG_WARNING, "sub-query 'b' is never used", 3, 7);
    done(&c);
}

/* ---- network-wide queries ---- */

static void test_network_wide_refusals(void **state)
{
    (void)state;
    expect_only_error("query a window 3s network-wide { packets | filter tcp.flags == SYN }",
                      "a network-wide query must keep window state to merge (a groupby, "
                      "distinct, histogram or join); 'a' is per packet: each site's rows "
                      "are already its answer", 1, 19);
    expect_only_error("query a window 3s network-wide { packets | fold by ipv4.src "
                      "state n = 0 { n = n + 1 } }",
                      "a network-wide query cannot fold: a fold's state depends on the "
                      "order its packets arrived in, which merging several sites cannot "
                      "know", 1, 19);
}

/* Which keys a network-wide query's state is partitioned on: those of its
 * first stateful operator that every later one keeps. */
static void expect_route(const char *text, int node, int ncols, int col0)
{
    struct compiled c;
    compile_ok(&c, text);
    const struct ir_query *q = c.p->queries[0];
    assert_true(q->network_wide);
    struct ns_route r;
    ns_route(q, &r);
    assert_int_equal(r.node, node);
    assert_int_equal(r.ncols, ncols);
    if (ncols)
        assert_int_equal(r.cols[0], col0);
    /* the same key values always go to the same partition */
    hts_value row[IR_MAX_KEYS + 2 * IR_MAX_AGGS];
    memset(row, 0, sizeof row);
    for (int i = 0; i < IR_MAX_KEYS; i++)
        row[i] = hts_int(i);
    int32_t p = ns_partition(q, &r, row, 12);
    assert_true(p >= 0 && p < 12);
    assert_int_equal(ns_partition(q, &r, row, 12), p);
    done(&c);
}

static void test_network_wide_routes(void **state)
{
    (void)state;
    /* one groupby: its key */
    expect_route("query a window 3s network-wide { packets | filter tcp.flags == SYN "
                 "| groupby ipv4.dst aggregate n = count() | filter n >= 4 }", 2, 1, 0);
    /* distinct (src, port), then a count per src: src only */
    expect_route("query a window 3s network-wide { packets | distinct ipv4.src, tcp.dport "
                 "| groupby ipv4.src aggregate n = count() }", 1, 1, 0);
    /* ... per port: the port, the distinct's second key */
    expect_route("query a window 3s network-wide { packets | distinct ipv4.src, tcp.dport "
                 "| groupby tcp.dport aggregate n = count() }", 1, 1, 1);
    /* regrouped on a computed value: nothing kept for sure, one partition */
    expect_route("query a window 3s network-wide { packets | distinct ipv4.src, tcp.dport "
                 "| map h = hash(src) | groupby h aggregate n = count() }", 1, 0, 0);
    /* a map that renames a key keeps it */
    expect_route("query a window 3s network-wide { packets | distinct ipv4.src, tcp.dport "
                 "| map s = src | groupby s aggregate n = count() }", 1, 1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_field_suggestion),
        cmocka_unit_test(test_unknown_column),
        cmocka_unit_test(test_unknown_parameter),
        cmocka_unit_test(test_type_mismatch),
        cmocka_unit_test(test_in_and_sets),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_aggregate_misuse),
        cmocka_unit_test(test_stateful_without_window),
        cmocka_unit_test(test_bad_window),
        cmocka_unit_test(test_set_unknown_parameter),
        cmocka_unit_test(test_set_type_mismatch),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_export_not_last),
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_subquery_cycle),
        cmocka_unit_test(test_unknown_subquery),
        cmocka_unit_test(test_join_errors),
        cmocka_unit_test(test_ambiguous_column),
        cmocka_unit_test(test_refine),
        cmocka_unit_test(test_fold_errors),
        cmocka_unit_test(test_histogram_errors),
        cmocka_unit_test(test_fold_close_block),
        cmocka_unit_test(test_coalesce_present),
        cmocka_unit_test(test_too_many_keys_and_aggregates),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_unused_subquery_warning),
        cmocka_unit_test(test_groupby_schema),
        cmocka_unit_test(test_join_schema),
        cmocka_unit_test(test_prefix_mask_type),
        cmocka_unit_test(test_params_substituted),
        cmocka_unit_test(test_overrides_applied),
        cmocka_unit_test(test_windows_and_flags),
        cmocka_unit_test(test_fold_and_histogram_schema),
        cmocka_unit_test(test_sample_node),
        cmocka_unit_test(test_suggestion_transposed_letters),
        cmocka_unit_test(test_unused_subquery_using_unused_subquery),
        cmocka_unit_test(test_network_wide_refusals),
        cmocka_unit_test(test_network_wide_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
