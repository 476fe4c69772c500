/*
 * test_lexer.c - the tokens of the .htq language (compiler/lexer.l).
 *
 * Drives the reentrant flex scanner directly (yylex with a struct parse_ctx as
 * its extra data) and checks each token's kind, typed value and line:column:
 * integers and hex, durations and sizes (scaled to ns and bytes), IPv4/IPv6
 * addresses and prefixes, MACs, strings with escapes, `not in`, and the
 * '|' that is a pipe before an operator keyword but bitwise or elsewhere.
 * Bad input - out-of-range integers, malformed addresses, prefixes with host
 * bits, unterminated strings, stray bytes including NUL and 0xff - must give
 * one precise diagnostic and let lexing go on. A few checks go through
 * ast_parse to see the same diagnostics from a whole query.
 *
 * Regression tests of bugs these tests found (since fixed) come last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ast.h"
#include "parser.h"
#include "lexer.h"
#include "parse.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define MAXTOK 64

struct tok {
    int kind;
    hts_value v;
    const char *s;
    int line, col;
};

struct lexed {
    struct arena arena;
    struct diag d;
    struct src_file *src;
    struct tok t[MAXTOK];
    int n;
};

/* Lexes text[0..len) to the end; the tokens and diagnostics stay in *x. */
static void lex_n(struct lexed *x, const char *text, size_t len)
{
    memset(x, 0, sizeof *x);
    diag_init(&x->d);
    x->src = src_from_string("t.htq", text, len);
    struct parse_ctx c = {.arena = &x->arena, .diag = &x->d, .src = x->src,
                          .line = 1, .col = 1};
    void *scanner = NULL;
    assert_int_equal(yylex_init_extra(&c, &scanner), 0);
    YY_BUFFER_STATE buf = yy_scan_bytes(x->src->text, (int)len, scanner);
    for (;;) {
        YYSTYPE val;
        struct loc loc = {0};
        memset(&val, 0, sizeof val);
        int k = yylex(&val, &loc, scanner);
        if (k == 0)
            break;
        assert_true(x->n < MAXTOK);
        struct tok *t = &x->t[x->n++];
        t->kind = k;
        t->line = loc.line;
        t->col = loc.col;
        if (k == NAME)
            t->s = val.s;
        else if (k == LITERAL || k == STRING)
            t->v = val.v;
    }
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
}

static void lex(struct lexed *x, const char *text)
{
    lex_n(x, text, strlen(text));
}

static void done(struct lexed *x)
{
    diag_free(&x->d);
    src_free(x->src);
    arena_free(&x->arena);
}

/* the i-th token is an INT literal with value v */
static void expect_int(const struct lexed *x, int i, int64_t v)
{
    assert_true(i < x->n);
    assert_int_equal(x->t[i].kind, LITERAL);
    assert_int_equal(x->t[i].v.type, TY_INT);
    assert_int_equal(x->t[i].v.present, 1);
    assert_true(x->t[i].v.u.i == v);
}

/* exactly one diagnostic, an error containing `text`, at line:col */
static void expect_one_error(const struct lexed *x, const char *text, int line,
                             int col)
{
    assert_int_equal(x->d.errors, 1);
    assert_int_equal(x->d.n, 1);
    assert_int_equal(x->d.msgs[0].level, DIAG_ERROR);
    if (!strstr(x->d.msgs[0].text, text))
        fail_msg("message '%s' lacks '%s'", x->d.msgs[0].text, text);
    assert_int_equal(x->d.msgs[0].loc.line, line);
    assert_int_equal(x->d.msgs[0].loc.col, col);
}

/* ---- literals ---- */

static void test_integers(void **state)
{
    struct lexed x;
    lex(&x, "0 42 007 9223372036854775807");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 4);
    expect_int(&x, 0, 0);
    expect_int(&x, 1, 42);
    expect_int(&x, 2, 7);
    expect_int(&x, 3, INT64_MAX);
    done(&x);
}

static void test_hex(void **state)
{
    struct lexed x;
    lex(&x, "0x10 0XfF 0xdeadBEEF 0x7fffffffffffffff 0x1B");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 5);
    expect_int(&x, 0, 16);
    expect_int(&x, 1, 255);
    expect_int(&x, 2, 0xdeadbeefLL);
    expect_int(&x, 3, INT64_MAX);
    expect_int(&x, 4, 0x1b); /* B is a hex digit here, not bytes */
    done(&x);
}

static void test_durations(void **state)
{
    struct lexed x;
    lex(&x, "5ns 500us 7ms 3s 1m 2h 0s");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 7);
    expect_int(&x, 0, 5);
    expect_int(&x, 1, 500000);
    expect_int(&x, 2, 7000000);
    expect_int(&x, 3, 3000000000LL);
    expect_int(&x, 4, 60000000000LL);
    expect_int(&x, 5, 7200000000000LL);
    expect_int(&x, 6, 0);
    done(&x);
}

static void test_sizes(void **state)
{
    struct lexed x;
    lex(&x, "1500B 64KB 1KiB 3MB 2MiB 1GB 1GiB 0x10KB");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 8);
    expect_int(&x, 0, 1500);
    expect_int(&x, 1, 64000);
    expect_int(&x, 2, 1024);
    expect_int(&x, 3, 3000000);
    expect_int(&x, 4, 2097152);
    expect_int(&x, 5, 1000000000LL);
    expect_int(&x, 6, 1073741824LL);
    expect_int(&x, 7, 16000);
    done(&x);
}

static void test_integer_overflow(void **state)
{
    const char *bad[] = {
        "9223372036854775808",   /* INT64_MAX + 1 */
        "18446744073709551616",  /* UINT64_MAX + 1: wraps while reading */
        "99999999999999999999999",
        "0x8000000000000000",
        "0x1ffffffffffffffff",
        "9223372036854775807s",  /* the unit's multiplication overflows */
        "10000000000000h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct lexed x;
        char src[64];
        snprintf(src, sizeof src, "  %s", bad[i]);
        lex(&x, src);
        expect_one_error(&x, "is out of range (max 9223372036854775807)", 1, 3);
        char quoted[48];
        snprintf(quoted, sizeof quoted, "integer literal '%s'", bad[i]);
        if (!strstr(x.d.msgs[0].text, quoted))
            fail_msg("'%s' lacks %s", x.d.msgs[0].text, quoted);
        /* replaced by a harmless 0 so that parsing can go on */
        assert_int_equal(x.n, 1);
        expect_int(&x, 0, 0);
        done(&x);
    }
    /* the largest duration that fits is fine */
    struct lexed x;
    lex(&x, "9223372036ns 2562047h");
    assert_int_equal(x.d.errors, 0);
    expect_int(&x, 0, 9223372036LL);
    expect_int(&x, 1, 2562047LL * 3600000000000LL);
    done(&x);
}

static void test_ipv4(void **state)
{
    struct lexed x;
    lex(&x, "10.1.2.3 0.0.0.0 255.255.255.255");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 3);
    const uint32_t want[3] = {0x0a010203u, 0, 0xffffffffu};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(x.t[i].kind, LITERAL);
        assert_int_equal(x.t[i].v.type, TY_IPV4);
        assert_int_equal(x.t[i].v.present, 1);
        assert_int_equal(x.t[i].v.plen, 32);
        assert_int_equal(x.t[i].v.u.ip4, want[i]);
    }
    done(&x);
}

static void test_ipv4_prefix(void **state)
{
    struct lexed x;
    lex(&x, "10.0.0.0/8 192.168.4.0/22 0.0.0.0/0 1.2.3.4/32");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 4);
    const uint32_t addr[4] = {0x0a000000u, 0xc0a80400u, 0, 0x01020304u};
    const int plen[4] = {8, 22, 0, 32};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(x.t[i].v.type, TY_PREFIX4);
        assert_int_equal(x.t[i].v.u.ip4, addr[i]);
        assert_int_equal(x.t[i].v.plen, plen[i]);
    }
    done(&x);
}

static void test_ipv4_malformed(void **state)
{
    struct lexed x;
    lex(&x, "x == 300.1.1.1");
    expect_one_error(&x, "malformed IPv4 address '300.1.1.1'", 1, 6);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.t[2].kind, LITERAL);
    done(&x);

    lex(&x, "1.2.3.256");
    expect_one_error(&x, "malformed IPv4 address '1.2.3.256'", 1, 1);
    done(&x);

    lex(&x, "10.0.0.0/33");
    expect_one_error(&x, "malformed IPv4 address '10.0.0.0/33'", 1, 1);
    done(&x);

    /* absurdly long octets do not overflow anything */
    lex(&x, "99999999999999999999.1.1.1");
    expect_one_error(&x, "malformed IPv4 address", 1, 1);
    done(&x);
}

static void test_ipv4_prefix_host_bits(void **state)
{
    struct lexed x;
    lex(&x, "\n  10.0.0.1/8");
    expect_one_error(&x, "prefix '10.0.0.1/8' has host bits set", 2, 3);
    done(&x);

    lex(&x, "192.168.1.0/23");
    expect_one_error(&x, "prefix '192.168.1.0/23' has host bits set", 1, 1);
    done(&x);

    lex(&x, "192.168.2.0/23 1.0.0.0/0");
    assert_int_equal(x.d.errors, 1); /* only /0 with bits set is wrong */
    assert_non_null(strstr(x.d.msgs[0].text, "'1.0.0.0/0' has host bits set"));
    done(&x);
}

static void test_ipv6(void **state)
{
    struct lexed x;
    lex(&x, "2001:db8::1 :: ::ffff:1.2.3.4 fe80::aBcD:1");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 4);
    const char *text[4] = {"2001:db8::1", "::", "::ffff:1.2.3.4", "fe80::abcd:1"};
    for (int i = 0; i < 4; i++) {
        uint8_t want[16];
        assert_int_equal(inet_pton(AF_INET6, text[i], want), 1);
        assert_int_equal(x.t[i].kind, LITERAL);
        assert_int_equal(x.t[i].v.type, TY_IPV6);
        assert_int_equal(x.t[i].v.plen, 128);
        assert_memory_equal(x.t[i].v.u.ip6, want, 16);
    }
    done(&x);
}

static void test_ipv6_prefix(void **state)
{
    struct lexed x;
    lex(&x, "2001:db8::/32 ::/0 fe80::/10");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 3);
    const int plen[3] = {32, 0, 10};
    const char *addr[3] = {"2001:db8::", "::", "fe80::"};
    for (int i = 0; i < 3; i++) {
        uint8_t want[16];
        assert_int_equal(inet_pton(AF_INET6, addr[i], want), 1);
        assert_int_equal(x.t[i].v.type, TY_PREFIX6);
        assert_int_equal(x.t[i].v.plen, plen[i]);
        assert_memory_equal(x.t[i].v.u.ip6, want, 16);
    }
    done(&x);

    lex(&x, "2001:db8::/129");
    expect_one_error(&x, "malformed address '2001:db8::/129'", 1, 1);
    done(&x);

    lex(&x, "1:2:3:4:5:6:7:8:9");
    expect_one_error(&x, "malformed IPv6 address or MAC '1:2:3:4:5:6:7:8:9'", 1, 1);
    done(&x);

    lex(&x, "a  gggg:1");
    /* 'gggg' is a name; ':1' is not an address */
    expect_one_error(&x, "malformed IPv6 address or MAC ':1'", 1, 8);
    done(&x);
}

static void test_mac(void **state)
{
    struct lexed x;
    lex(&x, "aa:BB:cc:00:11:22 00:00:00:00:00:00");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 2);
    const uint8_t want[6] = {0xaa, 0xbb, 0xcc, 0x00, 0x11, 0x22};
    assert_int_equal(x.t[0].v.type, TY_MAC);
    assert_memory_equal(x.t[0].v.u.mac, want, 6);
    const uint8_t zero[6] = {0};
    assert_int_equal(x.t[1].v.type, TY_MAC);
    assert_memory_equal(x.t[1].v.u.mac, zero, 6);
    done(&x);
}

static void test_string_escapes(void **state)
{
    struct lexed x;
    lex(&x, "\"plain\" \"a\\tb\\n\\r\\\"q\\\"\\\\\\x41\\x7e\\0z\" \"\"");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.t[0].kind, STRING);
    assert_int_equal(x.t[0].v.type, TY_STR);
    assert_int_equal(x.t[0].v.u.s.n, 5);
    assert_memory_equal(x.t[0].v.u.s.p, "plain", 5);
    const char want[] = "a\tb\n\r\"q\"\\A~\0z";
    assert_int_equal(x.t[1].v.u.s.n, sizeof want - 1);
    assert_memory_equal(x.t[1].v.u.s.p, want, sizeof want - 1);
    assert_int_equal(x.t[2].kind, STRING);
    assert_int_equal(x.t[2].v.u.s.n, 0);
    assert_int_equal(x.t[2].col, 38);
    done(&x);

    /* raw bytes inside a string are kept as they are */
    const char raw[] = "\"a\0b\xff\"";
    lex_n(&x, raw, sizeof raw - 1);
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.t[0].v.u.s.n, 4);
    assert_memory_equal(x.t[0].v.u.s.p, "a\0b\xff", 4);
    done(&x);
}

static void test_string_bad_escape(void **state)
{
    struct lexed x;
    lex(&x, "x \"ab\\qc\"");
    expect_one_error(&x, "unknown escape '\\q' in string", 1, 3);
    assert_int_equal(x.t[1].kind, STRING);
    assert_int_equal(x.t[1].v.u.s.n, 3);
    assert_memory_equal(x.t[1].v.u.s.p, "abc", 3);
    done(&x);

    lex(&x, "\"\\x4\"");
    expect_one_error(&x, "unknown escape '\\x' in string", 1, 1);
    done(&x);
}

static void test_unterminated_string(void **state)
{
    struct lexed x;
    lex(&x, "a \"never closed\nfilter");
    expect_one_error(&x, "unterminated string literal", 1, 3);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.t[1].kind, STRING);
    assert_int_equal(x.t[1].v.u.s.n, 0);
    /* lexing goes on at the next line */
    assert_int_equal(x.t[2].kind, FILTER);
    assert_int_equal(x.t[2].line, 2);
    assert_int_equal(x.t[2].col, 1);
    done(&x);

    lex(&x, "\"open at the end\\\"");
    expect_one_error(&x, "unterminated string literal", 1, 1);
    done(&x);
}

static void test_stray_bytes(void **state)
{
    struct lexed x;
    lex(&x, "a @ b");
    expect_one_error(&x, "stray '@' in query", 1, 3);
    assert_int_equal(x.n, 2); /* the stray byte is no token */
    assert_string_equal(x.t[1].s, "b");
    assert_int_equal(x.t[1].col, 5);
    done(&x);

    const char nul[] = "a\0b";
    lex_n(&x, nul, 3);
    expect_one_error(&x, "stray byte 0x00 in query", 1, 2);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.t[0].s, "a");
    assert_string_equal(x.t[1].s, "b");
    assert_int_equal(x.t[1].col, 3);
    done(&x);

    lex(&x, "\n\xff\x01q");
    assert_int_equal(x.d.errors, 2);
    assert_string_equal(x.d.msgs[0].text, "stray byte 0xff in query");
    assert_int_equal(x.d.msgs[0].loc.line, 2);
    assert_int_equal(x.d.msgs[0].loc.col, 1);
    assert_string_equal(x.d.msgs[1].text, "stray byte 0x01 in query");
    assert_int_equal(x.d.msgs[1].loc.col, 2);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.t[0].col, 3);
    done(&x);

    lex(&x, "!x");
    expect_one_error(&x, "stray '!' in query", 1, 1);
    done(&x);
}

/* ---- keywords, operators, pipes ---- */

static void test_keywords(void **state)
{
    struct lexed x;
    lex(&x, "query let window every refine by packets filter map distinct "
            "groupby aggregate fold state if else emit close export sample in "
            "histogram buckets join left on and or not has contains "
            "startswith endswith");
    const int want[] = {QUERY, LET, WINDOW, EVERY, REFINE, BY, PACKETS,
                        FILTER, MAP, DISTINCT, GROUPBY, AGGREGATE, FOLD, STATE,
                        IF, ELSE, EMIT, CLOSE, EXPORT, SAMPLE, IN, HISTOGRAM, BUCKETS,
                        JOIN, LEFT, ON, AND, OR, NOT, HAS, CONTAINS,
                        STARTSWITH, ENDSWITH};
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < x.n; i++)
        assert_int_equal(x.t[i].kind, want[i]);
    done(&x);

    /* a keyword inside a longer name is a name */
    lex(&x, "filters nothing map.x in_ tcp.flags true false");
    assert_int_equal(x.n, 7);
    assert_string_equal(x.t[0].s, "filters");
    assert_string_equal(x.t[1].s, "nothing");
    assert_string_equal(x.t[2].s, "map.x");
    assert_string_equal(x.t[3].s, "in_");
    assert_string_equal(x.t[4].s, "tcp.flags");
    assert_int_equal(x.t[5].kind, LITERAL);
    assert_int_equal(x.t[5].v.type, TY_BOOL);
    assert_int_equal(x.t[5].v.u.i, 1);
    assert_int_equal(x.t[6].v.type, TY_BOOL);
    assert_int_equal(x.t[6].v.u.i, 0);
    done(&x);
}

static void test_operators(void **state)
{
    struct lexed x;
    lex(&x, "== != <= >= .. < > = + - * / % & ( ) { } , ;");
    const int want[] = {EQ, NE, LE, GE, DOTDOT, '<', '>', '=', '+', '-', '*',
                        '/', '%', '&', '(', ')', '{', '}', ',', ';'};
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < x.n; i++)
        assert_int_equal(x.t[i].kind, want[i]);
    done(&x);

    lex(&x, "1..5");
    assert_int_equal(x.n, 3);
    expect_int(&x, 0, 1);
    assert_int_equal(x.t[1].kind, DOTDOT);
    expect_int(&x, 2, 5);
    done(&x);
}

static void test_not_in(void **state)
{
    struct lexed x;
    lex(&x, "p not in {1} not\n\t in(2) not inx not x");
    assert_int_equal(x.d.errors, 0);
    const int want[] = {NAME, NOTIN, '{', LITERAL, '}', NOTIN, '(', LITERAL,
                        ')', NOT, NAME, NOT, NAME};
    assert_int_equal(x.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < x.n; i++)
        assert_int_equal(x.t[i].kind, want[i]);
    assert_int_equal(x.t[1].col, 3);
    assert_int_equal(x.t[5].line, 1);
    assert_int_equal(x.t[5].col, 14);
    /* the token spans the newline: the next one is on line 2 */
    assert_int_equal(x.t[6].line, 2);
    assert_int_equal(x.t[6].col, 5);
    assert_string_equal(x.t[10].s, "inx");
    done(&x);
}

static void test_pipe_vs_bitwise_or(void **state)
{
    struct lexed x;
    lex(&x, "filter tcp.flags == SYN|ACK | groupby ipv4.dst");
    const int want[] = {FILTER, NAME, EQ, NAME, '|', NAME, PIPE, GROUPBY, NAME};
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < x.n; i++)
        assert_int_equal(x.t[i].kind, want[i]);
    assert_int_equal(x.t[4].col, 24);
    assert_int_equal(x.t[6].col, 29);
    assert_int_equal(x.t[7].col, 31);
    done(&x);

    /* every operator keyword makes a pipe, with or without spaces */
    lex(&x, "a|filter a|map a |distinct a|\n groupby a |fold a| export a|"
            "sample a|histogram(");
    int pipes = 0;
    for (int i = 0; i < x.n; i++)
        pipes += x.t[i].kind == PIPE;
    assert_int_equal(pipes, 8);
    assert_int_equal(x.t[x.n - 1].kind, '(');
    done(&x);

    /* not a keyword after it: bitwise or */
    lex(&x, "a | mapx a | filter.x a | 3 a|b");
    int ors = 0;
    for (int i = 0; i < x.n; i++) {
        assert_true(x.t[i].kind != PIPE);
        ors += x.t[i].kind == '|';
    }
    assert_int_equal(ors, 4);
    done(&x);
}

static void test_comments(void **state)
{
    struct lexed x;
    lex(&x, "# query | filter \"x\n  foo # bar | map\n#\nbaz#");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.t[0].s, "foo");
    assert_int_equal(x.t[0].line, 2);
    assert_int_equal(x.t[0].col, 3);
    assert_string_equal(x.t[1].s, "baz");
    assert_int_equal(x.t[1].line, 4);
    assert_int_equal(x.t[1].col, 1);
    done(&x);
}

static void test_locations(void **state)
{
    struct lexed x;
    lex(&x, "query q {\n\tpackets\r\n   | filter x==1\n}");
    assert_int_equal(x.d.errors, 0);
    struct { int kind, line, col; } want[] = {
        {QUERY, 1, 1}, {NAME, 1, 7}, {'{', 1, 9}, {PACKETS, 2, 2},
        {PIPE, 3, 4}, {FILTER, 3, 6}, {NAME, 3, 13}, {EQ, 3, 14},
        {LITERAL, 3, 16}, {'}', 4, 1},
    };
    assert_int_equal(x.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < x.n; i++) {
        assert_int_equal(x.t[i].kind, want[i].kind);
        assert_int_equal(x.t[i].line, want[i].line);
        assert_int_equal(x.t[i].col, want[i].col);
    }
    done(&x);
}

/* ---- the same diagnostics through the parser ---- */

static int parse(const char *text, struct diag *d, struct arena *ar,
                 struct src_file **src)
{
    struct ast_file *f = NULL;
    diag_init(d);
    *src = src_from_string("p.htq", text, strlen(text));
    return ast_parse(ar, d, *src, &f);
}

static void test_parse_reports_lexer_errors(void **state)
{
    struct arena ar = {0};
    struct diag d;
    struct src_file *src;
    int rc = parse("query q {\n  packets | filter tcp.dport == 99999999999999999999\n"
                   "    and ipv4.dst in 10.0.0.1/8 and dns.qname == \"x\\y\" }",
                   &d, &ar, &src);
    assert_int_equal(rc, -EINVAL);
    assert_int_equal(d.errors, 3);
    assert_non_null(strstr(d.msgs[0].text, "integer literal '99999999999999999999' is out of range"));
    assert_int_equal(d.msgs[0].loc.line, 2);
    assert_int_equal(d.msgs[0].loc.col, 33);
    assert_string_equal(d.msgs[1].text, "prefix '10.0.0.1/8' has host bits set");
    assert_int_equal(d.msgs[1].loc.line, 3);
    assert_int_equal(d.msgs[1].loc.col, 21);
    assert_string_equal(d.msgs[2].text, "unknown escape '\\y' in string");
    assert_int_equal(d.msgs[2].loc.line, 3);
    assert_int_equal(d.msgs[2].loc.col, 49);
    assert_string_equal(d.msgs[0].loc.file->name, "p.htq");
    diag_free(&d);
    src_free(src);
    arena_free(&ar);
}

static void test_parse_literal(void **state)
{
    struct arena ar = {0};
    hts_value v;
    char err[128];
    assert_int_equal(ast_parse_literal("3s", &v, &ar, err, sizeof err), 0);
    assert_int_equal(v.type, TY_INT);
    assert_true(v.u.i == 3000000000LL);
    assert_int_equal(ast_parse_literal("-42", &v, &ar, err, sizeof err), 0);
    assert_true(v.u.i == -42);
    assert_int_equal(ast_parse_literal("10.0.0.0/8", &v, &ar, err, sizeof err), 0);
    assert_int_equal(v.type, TY_PREFIX4);
    assert_int_equal(v.plen, 8);
    assert_int_equal(ast_parse_literal("\"a\\tb\"", &v, &ar, err, sizeof err), 0);
    assert_int_equal(v.type, TY_STR);
    assert_int_equal(v.u.s.n, 3);
    assert_memory_equal(v.u.s.p, "a\tb", 3);
    assert_int_equal(ast_parse_literal("1 + 2", &v, &ar, err, sizeof err), -EINVAL);
    assert_string_equal(err, "'1 + 2' is not a literal");
    assert_int_equal(ast_parse_literal("300.1.1.1", &v, &ar, err, sizeof err), -EINVAL);
    assert_int_equal(ast_parse_literal(") { packets } query z(v = 1", &v, &ar, err, sizeof err), -EINVAL);
    arena_free(&ar);
}

/* ---- regressions: bugs found by these tests, now fixed ---- */

static void test_pipe_before_comment(void **state)
{
    /* "|" is a pipe only when an operator keyword follows after blanks; a
     * comment in between makes it bitwise or, and the parser then says
     * "unexpected '|', expecting '|' (pipe)" */
    struct lexed x;
    lex(&x, "packets | # keep web\n  filter x");
    assert_int_equal(x.d.errors, 0);
    assert_int_equal(x.n, 4);
    assert_int_equal(x.t[1].kind, PIPE);
    assert_int_equal(x.t[2].kind, FILTER);
    done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_integer_overflow),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv4_prefix),
        cmocka_unit_test(test_ipv4_malformed),
        cmocka_unit_test(test_ipv4_prefix_host_bits),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_ipv6_prefix),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_string_bad_escape),
        cmocka_unit_test(test_unterminated_string),
        cmocka_unit_test(test_stray_bytes),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_not_in),
        cmocka_unit_test(test_pipe_vs_bitwise_or),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_parse_reports_lexer_errors),
        cmocka_unit_test(test_parse_literal),
        cmocka_unit_test(test_pipe_before_comment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
