/*
 * test_ir.c - the IR's printed forms and graph shape (compiler/ir.c, ir.h).
 *
 * ir_dump's text is golden-tested elsewhere, so here one small program that
 * uses every operator kind (join, left join, sub-query labels, parameters,
 * hopping windows, refine, sample, export, histogram, fold with if/else/emit)
 * is compared against its exact expected dump. ir_dump_dot must produce a
 * digraph with one node statement per IR node and one edge per input plus
 * the output edge. The node arrays must be in topological order (inputs have
 * smaller ids, ids equal positions), and a sub-query used twice must appear
 * once, shared. ir_expr_print is checked on the forms it special-cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ir.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct compiled {
    struct arena arena;
    struct diag d;
    struct src_file *src;
    struct ir_program *p;
};

static void compile_ok(struct compiled *c, const char *text)
{
    memset(c, 0, sizeof *c);
    diag_init(&c->d);
    c->src = src_from_string("ir.htq", text, strlen(text));
    struct ast_file *f = NULL;
    if (ast_parse(&c->arena, &c->d, c->src, &f) == 0)
        c->p = sema_build(&c->arena, &c->d, &f, 1, NULL, 0);
    if (c->d.errors)
        fail_msg("error %d:%d: %s", c->d.msgs[0].loc.line, c->d.msgs[0].loc.col,
                 c->d.msgs[0].text);
    assert_non_null(c->p);
}

static void done(struct compiled *c)
{
    diag_free(&c->d);
    src_free(c->src);
    arena_free(&c->arena);
}

/* what fn writes, as a malloc'ed string */
static char *capture(void (*fn)(const struct ir_program *, FILE *),
                     const struct ir_program *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    fn(p, m);
    fclose(m);
    assert_int_equal(strlen(buf), len);
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static const char program[] =
    "query scan(t = 40) window 10s every 5s {\n"
    "  let syns = packets | filter tcp.flags has SYN and not (tcp.flags has ACK)\n"
    "      | groupby host = ipv4.dst aggregate n = count()\n"
    "  let acks = packets | filter tcp.flags has ACK | groupby host = ipv4.src aggregate n = count()\n"
    "  syns left join acks on host | filter syns.n >= t | map host, d = syns.n - acks.n\n"
    "}\n"
    "query flows {\n"
    "  packets | filter ipv4.dst in {10.0.0.0/8, 1.2.3.4} and tcp.dport not in 1..1023\n"
    "    | sample 1 in 8 | export src = ipv4.src, net = ipv4.dst / 24, q = dns.qname\n"
    "}\n"
    "query h window 1m refine ipv4.dst by /8, /16 {\n"
    "  packets | histogram ipv4.len buckets 64, 512\n"
    "}\n"
    "query f window 500ms {\n"
    "  packets | fold by ipv4.src state n = 0, s = \"a\\\"\" {\n"
    "    n = n + 1 if n > 2 { emit n = 0 } else { s = \"b\" } } close { n = n * 2 }\n"
    "}\n";

static const char program_dump[] =
    "query scan window 10s every 5s windowed params t=40\n"
    "  %0 = packets  :: packet @2:14\n"
    "  %1 = filter(%0) ((tcp.flags has SYN) and not (tcp.flags has ACK)) :: packet @2:24\n"
    "  %2 = groupby(%1) by host = ipv4.dst aggregate n = count() :: (host ipv4, n int) @3:9 [syns]\n"
    "  %3 = filter(%0) (tcp.flags has ACK) :: packet @4:24\n"
    "  %4 = groupby(%3) by host = ipv4.src aggregate n = count() :: (host ipv4, n int) @4:51 [acks]\n"
    "  %5 = join(%2, %4) left on host :: (host ipv4, syns.n int, acks.n int) @5:8\n"
    "  %6 = filter(%5) (syns.n >= 40) :: (host ipv4, syns.n int, acks.n int) @5:33\n"
    "  %7 = map(%6) host, d = (syns.n - acks.n) :: (host ipv4, d int) @5:54\n"
    "  output %7\n"
    "\n"
    "query flows per-packet\n"
    "  %0 = packets  :: packet @8:3\n"
    "  %1 = filter(%0) ((ipv4.dst in {10.0.0.0/8, 1.2.3.4}) and (tcp.dport not in 1..1023)) :: packet @8:13\n"
    "  %2 = sample(%1) 1 in 8 :: packet @9:7\n"
    "  %3 = export(%2) src = ipv4.src, net = (ipv4.dst / 24), q = dns.qname :: (src ipv4, net ipv4, q string) @9:23\n"
    "  output %3\n"
    "\n"
    "query h window 1m windowed refine ipv4.dst /8,/16\n"
    "  %0 = packets  :: packet @12:3\n"
    "  %1 = histogram(%0) ipv4.len buckets 64, 512 :: (lo int, hi int, count int) @12:13\n"
    "  output %1\n"
    "\n"
    "query f window 500ms windowed\n"
    "  %0 = packets  :: packet @15:3\n"
    "  %1 = fold(%0) by ipv4.src state n = 0, s = \"a\\\"\" { n = (n + 1); if (n > 2) "
    "{ emit; n = 0 } else { s = \"b\" } } close { n = (n * 2) } :: (ipv4.src ipv4, n int, s string) @15:13\n"
    "  output %1\n";

static void test_dump_exact(void **state)
{
    struct compiled c;
    compile_ok(&c, program);
    char *out = capture(ir_dump, c.p);
    if (strcmp(out, program_dump) != 0)
        fail_msg("ir_dump gave:\n%s", out);
    free(out);
    done(&c);
}

static void test_dump_is_stable(void **state)
{
    /* printing twice gives the same text: printing changes nothing */
    struct compiled c;
    compile_ok(&c, program);
    char *a = capture(ir_dump, c.p);
    char *dot = capture(ir_dump_dot, c.p);
    char *b = capture(ir_dump, c.p);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(dot);
    done(&c);
}

static void test_dot(void **state)
{
    struct compiled c;
    compile_ok(&c, program);
    char *out = capture(ir_dump_dot, c.p);
    assert_memory_equal(out, "digraph htsq {\n", 15);
    assert_int_equal(out[strlen(out) - 2], '}');
    int nodes = 0, edges = 0;
    for (int qi = 0; qi < c.p->nqueries; qi++) {
        const struct ir_query *q = c.p->queries[qi];
        nodes += q->nnodes;
        for (int i = 0; i < q->nnodes; i++)
            edges += q->nodes[i]->nin;
        edges += 1; /* the root to its rows */
        char buf[64];
        snprintf(buf, sizeof buf, "subgraph cluster_%d {", qi);
        assert_int_equal(count_of(out, buf), 1);
        /* each node of the query is declared exactly once */
        for (int i = 0; i < q->nnodes; i++) {
            snprintf(buf, sizeof buf, "    q%d_n%d [label=\"", qi, i);
            assert_int_equal(count_of(out, buf), 1);
        }
        snprintf(buf, sizeof buf, "q%d_n%d [", qi, q->nnodes);
        assert_int_equal(count_of(out, buf), 0);
    }
    assert_int_equal(nodes, 8 + 4 + 2 + 2);
    assert_int_equal(edges, 13 + 4); /* 13 inputs + 4 outputs */
    assert_int_equal(count_of(out, "->"), edges);
    assert_int_equal(count_of(out, "[label=\""), nodes + c.p->nqueries);
    /* the join's two inputs, the output edge, and one stateful colour each */
    assert_int_equal(count_of(out, "    q0_n2 -> q0_n5;\n"), 1);
    assert_int_equal(count_of(out, "    q0_n4 -> q0_n5;\n"), 1);
    assert_int_equal(count_of(out, "    q0_n7 -> q0_out;\n"), 1);
    assert_int_equal(count_of(out, "    q1_n0 -> q1_n1;\n"), 1);
    assert_int_equal(count_of(out, "#fde9c9"), 5); /* 2 groupby, join, histogram, fold */
    /* labels are escaped: the string "a\"" arrives as a\\\" inside the label */
    assert_non_null(strstr(out, "state n = 0, s = \\\"a\\\\\\\"\\\""));
    assert_non_null(strstr(out, "groupby [syns]\\nby host = ipv4.dst"));
    free(out);
    done(&c);
}

static void test_topological_order(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q window 1s {\n"
                   "  let c = b join a on k | map k, z = a.n + b.m\n"
                   "  let b = packets | groupby k = ipv4.src aggregate m = count()\n"
                   "  let a = packets | groupby k = ipv4.dst aggregate n = count()\n"
                   "  c join a on k | filter z > 1\n"
                   "}");
    int checked = 0;
    for (int qi = 0; qi < c.p->nqueries; qi++) {
        const struct ir_query *q = c.p->queries[qi];
        for (int i = 0; i < q->nnodes; i++) {
            const struct ir_node *n = q->nodes[i];
            assert_int_equal(n->id, i);
            assert_int_equal(n->nin, n->in[1] ? 2 : n->in[0] ? 1 : 0);
            for (int k = 0; k < n->nin; k++) {
                assert_true(n->in[k]->id < n->id);
                assert_ptr_equal(q->nodes[n->in[k]->id], n->in[k]);
                checked++;
            }
        }
        assert_int_equal(q->root->id, q->nnodes - 1);
    }
    /* source, b, a, join, map, join, filter: a (used twice) is built once */
    assert_int_equal(c.p->queries[0]->nnodes, 7);
    assert_int_equal(checked, 2 + 2 + 1 + 2 + 1);
    done(&c);
}

static void test_shared_subquery(void **state)
{
    struct compiled c;
    compile_ok(&c, "query q window 1s {\n"
                   "  let s = packets | groupby host = ipv4.dst aggregate n = count()\n"
                   "  let big = s | filter n > 10\n"
                   "  let small = s | filter n < 2\n"
                   "  big join small on host\n"
                   "}");
    const struct ir_query *q = c.p->queries[0];
    int count[IR__COUNT] = {0};
    for (int i = 0; i < q->nnodes; i++)
        count[q->nodes[i]->kind]++;
    assert_int_equal(q->nnodes, 5);
    assert_int_equal(count[IR_SOURCE], 1);
    assert_int_equal(count[IR_GROUPBY], 1);
    assert_int_equal(count[IR_FILTER], 2);
    assert_int_equal(count[IR_JOIN], 1);
    const struct ir_node *j = q->root;
    assert_int_equal(j->kind, IR_JOIN);
    assert_ptr_equal(j->in[0]->in[0], j->in[1]->in[0]);
    assert_string_equal(j->in[0]->in[0]->label, "s");
    assert_string_equal(j->in[0]->label, "big");
    assert_string_equal(j->in[1]->label, "small");
    char *out = capture(ir_dump, c.p);
    assert_int_equal(count_of(out, "= groupby("), 1);
    assert_int_equal(count_of(out, "[s]"), 1);
    assert_non_null(strstr(out, "join(%2, %3) on host :: (host ipv4, big.n int, small.n int)"));
    free(out);
    out = capture(ir_dump_dot, c.p);
    assert_int_equal(count_of(out, "q0_n1 -> "), 2); /* the groupby feeds both */
    free(out);
    done(&c);
}

/* ir_expr_print on the root filter's predicate of "packets | filter EXPR" */
static void expect_printed(const char *expr, const char *want)
{
    char text[512];
    snprintf(text, sizeof text, "query q(p = 7) { packets | filter %s }", expr);
    struct compiled c;
    compile_ok(&c, text);
    const struct ir_node *f = c.p->queries[0]->root;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    ir_expr_print(f->expr, f->in[0], m);
    fclose(m);
    if (strcmp(buf, want) != 0)
        fail_msg("printed %s, want %s", buf, want);
    free(buf);
    done(&c);
}

static void test_expr_print(void **state)
{
    expect_printed("tcp.dport not in {22, p}", "(tcp.dport not in {22, 7})");
    expect_printed("not (tcp.dport == -p)", "not (tcp.dport == -7)");
    expect_printed("abs(tcp.dport - 1) > max(2, 3)", "(abs((tcp.dport - 1)) > max(2, 3))");
    expect_printed("dns.qname == \"a\\\"b\\n\"", "(dns.qname == \"a\\\"b\\u000a\")");
    expect_printed("tcp.flags & (SYN|ACK) == ACK", "((tcp.flags & (SYN | ACK)) == ACK)");
    expect_printed("eth.src == aa:bb:cc:dd:ee:ff or ipv6.src in 2001:db8::/32",
                   "((eth.src == aa:bb:cc:dd:ee:ff) or (ipv6.src in 2001:db8::/32))");
    expect_printed("true", "true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_exact),
        cmocka_unit_test(test_dump_is_stable),
        cmocka_unit_test(test_dot),
        cmocka_unit_test(test_topological_order),
        cmocka_unit_test(test_shared_subquery),
        cmocka_unit_test(test_expr_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
