/*
 * fuzz_jit.c - libFuzzer target: random packets, the JIT and the reference
 * executor must give the same rows.
 *
 * Input: byte 0 picks the link type (fuzz_decode.c's table), byte 1 the
 * burst size; then packets, each [dt][flags][len, 2 bytes LE][len bytes].
 * dt moves time forward by dt * 20 us (windows here are 1-6 ms, so packets
 * cross them often); flags bit 0 moves it back 3 ms instead (late and
 * out-of-order packets), bits 1-2 pick the wire length (equal, longer,
 * shorter than captured, 64 KB), bits 4-6 the port, bit 7 makes event time
 * advance (an idle worker's exec_advance / eng_advance) before the packet.
 *
 * The program below reads every field the JIT decodes and uses every
 * operator it compiles: per-packet rows (plain and in hopping windows),
 * three-valued filters, maps, sample, groupby with every aggregate,
 * distinct, histogram, hopping windows, a join after two groupbys, and the
 * fields read through the interpreter's decoder (DNS, payload and tunnel
 * fields, string tests, 'has' on dns.an.types), and folds (emitting, in
 * hopping windows, with if/else and absent state; and one per key), and
 * string keys (dns.qname) in distinct and fold. It is
 * compiled once per link type with tables of 3 entries, so the tables fill
 * and are flushed to the executor constantly. Each frame sits at the end
 * of its own mapping, followed by an inaccessible page: compiled code
 * reading one byte past the captured length faults (ASan does not see
 * inside JIT'd code). A difference in rows aborts with both versions.
 *
 *   tests/fuzz/run.sh builds it: clang -fsanitize=fuzzer,address,undefined
 *   with the compiler, executor, decoder and runtime/jit*.c, -lLLVM-14.
 */
#include "exec.h"
#include "ir.h"
#include "jit.h"
#include "jit_engine.h"
#include "parse.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char program[] =
    "query f_fields {\n"
    "  packets\n"
    "  | export meta.ts, meta.wire_len, meta.cap_len, meta.port, eth.src, eth.dst, eth.type,\n"
    "           vlan.id, vlan.pcp, vlan.inner_id, vlan.depth, mpls.label, mpls.depth,\n"
    "           ipv4.ihl, ipv4.tos, ipv4.len, ipv4.id, ipv4.flags, ipv4.frag_off, ipv4.ttl,\n"
    "           ipv4.proto, ipv4.src, ipv4.dst, ipv6.tc, ipv6.flow, ipv6.plen, ipv6.next,\n"
    "           ipv6.hlim, ipv6.src, ipv6.dst, ipv6.frag, ip.proto, tcp.sport, tcp.dport,\n"
    "           tcp.seq, tcp.ack, tcp.hdr_len, tcp.flags, tcp.window, tcp.payload_len,\n"
    "           udp.sport, udp.dport, udp.len, icmp.type, icmp.code, icmpv6.type, icmpv6.code\n"
    "}\n"
    "query f_expr window 2ms every 1ms {\n"
    "  packets\n"
    "  | filter not (tcp.dport == 22) or ipv4.src in {10.0.0.0/8, 192.168.1.1, 1.2.3.4/32}\n"
    "           or ipv6.dst in 2001:db8::/32 or udp.sport in 50..60 or icmp.type in {0, 8}\n"
    "  | map a = tcp.seq / (tcp.ack % 7), b = hash(ipv4.src), c = coalesce(udp.len, -1),\n"
    "        d = present(icmp.type), e = ipv4.dst / 24, f = ipv6.src / 48,\n"
    "        g = min(tcp.window, 1000) - abs(0 - ipv4.ttl), h = tcp.flags has SYN|ACK,\n"
    "        m = eth.src, k = hash(ipv6.dst), l = hash(eth.dst), n = ipv6.src < ipv6.dst,\n"
    "        o = eth.src == eth.dst, p = ipv4.src >= ipv4.dst, q = hash(meta.ts > 5),\n"
    "        r = max(vlan.id, mpls.label) * -3 + ipv4.id, s = tcp.sport - udp.dport,\n"
    "        t = (ip.proto == 6 and tcp.flags != 0) or not present(ipv4.ttl)\n"
    "  | filter c != 7 or a > 0 or not (n or o)\n"
    "}\n"
    "query f_group window 5ms {\n"
    "  packets\n"
    "  | filter ip.proto == TCP or ip.proto == UDP or ip.proto == ICMP\n"
    "  | groupby ipv4.src, sp = coalesce(tcp.sport, udp.sport)\n"
    "    aggregate n = count(), s = sum(ipv4.len), lo = min(ipv4.dst), hi = max(tcp.seq),\n"
    "              av = avg(tcp.payload_len), w = max(ipv4.ttl)\n"
    "  | filter n >= 1\n"
    "}\n"
    "query f_group6 window 4ms every 1ms {\n"
    "  packets\n"
    "  | map k = ipv6.src / 64, fl = ipv6.flow, pl = ipv6.plen, f = ipv6.frag\n"
    "  | filter pl >= 0\n"
    "  | groupby k, f aggregate n = count(), s = sum(pl), m = min(fl)\n"
    "}\n"
    "query f_distinct window 6ms every 2ms {\n"
    "  packets\n"
    "  | sample 1 in 3\n"
    "  | distinct eth.src, d = coalesce(vlan.depth, 0), m = mpls.depth\n"
    "  | groupby eth.src aggregate n = count()\n"
    "}\n"
    "query f_hist window 3ms {\n"
    "  packets | histogram coalesce(ipv4.len, ipv6.plen) buckets 0, 60, 100, 1000\n"
    "}\n"
    "query f_join window 5ms {\n"
    "  let a = packets | filter tcp.flags has SYN | groupby host = ipv4.dst aggregate n = count()\n"
    "  let b = packets | filter udp.dport > 0\n"
    "    | groupby host = ipv4.src aggregate n = count(), t = min(meta.ts)\n"
    "  a left join b on host\n"
    "  | map host, d = coalesce(b.n, 0) - a.n, t = b.t\n"
    "}\n"
    "query f_slow window 5ms {\n"
    "  packets\n"
    "  | filter (udp.sport == 53 and dns.an.types has DNS_A) or payload contains \"GET\"\n"
    "           or (udp.dport == 4789 and inner.ipv4.src in 10.0.0.0/8)\n"
    "           or dns.qname endswith \".com\" or gre.proto == 0x800 or payload.len > 100\n"
    "           or dns.qname == \"a.b\" or not (payload startswith \"HTTP\")\n"
    "  | groupby ipv4.src, a = coalesce(dns.an.a, inner.ipv4.dst), v = coalesce(vxlan.vni, -1)\n"
    "    aggregate n = count(), m = max(dns.an.ttl), s = sum(payload.len)\n"
    "}\n"
    "query f_slow_and window 2ms {\n"
    "  packets\n"
    "  | filter dns.ancount >= 1 and udp.sport == 53 and (dns.an.ttl > 100 or tcp.flags has SYN)\n"
    "           and not (dns.qname endswith \".com\") and meta.cap_len > 40\n"
    "  | groupby ipv4.dst aggregate n = count()\n"
    "}\n"
    "query f_slow_rows {\n"
    "  packets\n"
    "  | filter present(dns.id) or present(inner.eth.src) or gre.proto in {0x800, 0x6558}\n"
    "           or dns.qname in {\"a.b\", \"x\"}\n"
    "  | export dns.id, dns.qr, dns.opcode, dns.rcode, dns.qdcount, dns.ancount, dns.nscount,\n"
    "           dns.arcount, dns.qtype, dns.an.type, dns.an.ttl, dns.an.a, vxlan.vni, gre.proto,\n"
    "           inner.eth.src, inner.eth.dst, inner.ipv4.src, inner.ipv4.dst, inner.ipv4.proto,\n"
    "           inner.ipv4.len, inner.tcp.sport, inner.tcp.dport, inner.tcp.flags,\n"
    "           inner.udp.sport, inner.udp.dport, payload.len, ipv4.src\n"
    "}\n"
    "query f_fold window 4ms every 2ms {\n"
    "  packets\n"
    "  | filter present(ipv4.src)\n"
    "  | fold by ipv4.src, p = coalesce(tcp.dport, udp.dport) state n = 0, last = 0, big = false, a = 0.0.0.0, m = -1 {\n"
    "      if n == 0 or meta.ts - last > 100us {\n"
    "        emit\n"
    "      } else {\n"
    "        a = ipv4.dst\n"
    "      }\n"
    "      n = n + 1\n"
    "      last = meta.ts\n"
    "      if ipv4.len > 500 {\n"
    "        big = true\n"
    "        m = max(m, ipv4.len)\n"
    "      }\n"
    "      if tcp.flags has FIN {\n"
    "        emit\n"
    "      }\n"
    "    }\n"
    "}\n"
    "query f_fold2 window 5ms {\n"
    "  packets\n"
    "  | fold by ipv4.dst state cnt = 0, sum = 0, x = 0 {\n"
    "      cnt = cnt + 1\n"
    "      sum = sum + coalesce(tcp.payload_len, 0)\n"
    "      x = tcp.seq / (cnt - 1)\n"
    "    }\n"
    "  | filter cnt >= 1\n"
    "  | map ipv4.dst, cnt, sum, x\n"
    "}\n"
    "query f_strkeys window 4ms every 2ms {\n"
    "  packets\n"
    "  | filter udp.sport == 53 or udp.dport == 53 or tcp.dport == 53\n"
    "  | distinct dns.qname, ipv4.src, a = dns.an.a\n"
    "  | groupby dns.qname aggregate n = count()\n"
    "}\n"
    "query f_strfold window 5ms {\n"
    "  packets\n"
    "  | fold by dns.qname, s = coalesce(udp.sport, tcp.sport) state n = 0, t = 0 {\n"
    "      n = n + 1\n"
    "      if n == 2 {\n"
    "        emit\n"
    "      }\n"
    "      t = meta.ts\n"
    "    }\n"
    "}\n"
    "query f_chain window 3ms {\n"
    "  packets\n"
    "  | fold by ipv4.src state n = 0, b = 0 {\n"
    "      n = n + 1\n"
    "      b = b + meta.wire_len\n"
    "      emit\n"
    "      if tcp.flags has FIN {\n"
    "        n = n + 10\n"
    "        emit\n"
    "      }\n"
    "    }\n"
    "  | filter n > 1\n"
    "  | map ipv4.src, k = n % 4, b\n"
    "  | groupby ipv4.src, k aggregate c = count(), hi = max(b), s = sum(b), av = avg(b)\n"
    "  | map ipv4.src, k, c, r = hi - av, s\n"
    "}\n"
    "query f_chain2 window 4ms every 2ms {\n"
    "  packets\n"
    "  | fold by ipv6.src, p = coalesce(tcp.sport, udp.sport) state t = 0, last = 0 {\n"
    "      if meta.ts - last > 50us {\n"
    "        t = meta.ts\n"
    "      }\n"
    "      last = meta.ts\n"
    "      emit\n"
    "    }\n"
    "  | distinct ipv6.src, t\n"
    "}\n"
    "query f_direct window 2ms {\n"
    "  packets\n"
    "  | groupby k = ipv6.src / 64, e = eth.dst aggregate n = count(), lo = min(ipv4.ttl), a = avg(tcp.window)\n"
    "  | filter n > 0\n"
    "  | map k, e, n, lo, z = lo * 2, a\n"
    "}\n"
    "query f_direct_d window 3ms {\n"
    "  packets\n"
    "  | distinct ipv4.dst, m = eth.src, ok = present(tcp.flags)\n"
    "}\n"
    "query f_close window 3ms every 1ms {\n"
    "  packets\n"
    "  | fold by ipv4.dst state n = 0, hi = 0 {\n"
    "      n = n + 1\n"
    "      hi = max(hi, coalesce(ipv4.len, 0))\n"
    "      if tcp.flags has RST {\n"
    "        emit\n"
    "      }\n"
    "    } close {\n"
    "      if n > 2 {\n"
    "        emit\n"
    "      }\n"
    "      n = 0\n"
    "    }\n"
    "}\n"
    "query f_close2 window 4ms {\n"
    "  packets\n"
    "  | fold by eth.src state n = 0 { n = n + 1 } close { n = n * 2 }\n"
    "  | filter n > 2\n"
    "}\n";

static const int linktypes[] = {
    HTS_DLT_EN10MB, HTS_DLT_RAW, 12, 228, 229, HTS_DLT_LINUX_SLL,
    HTS_DLT_LINUX_SLL2, 147 /* not supported */,
};
#define NLT (sizeof linktypes / sizeof linktypes[0])

static struct ir_program *prog;
static struct jit_prog *jits[NLT];

struct rows {
    char **v;
    int n, cap;
};

static struct rows *got, *want; /* per query */

static void add_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                    const hts_value *cols, int ncols)
{
    struct rows *r = &((struct rows *)ctx)[q->index];
    char buf[16384];
    int len = snprintf(buf, sizeof buf, "%s %lld %lld", q->name, (long long)ws, (long long)we);
    for (int i = 0; i < ncols && len < (int)sizeof buf - 1; i++) {
        buf[len++] = ' ';
        len += hts_value_json(&cols[i], buf + len, sizeof buf - (size_t)len);
        if (len > (int)sizeof buf - 1)
            len = (int)sizeof buf - 1;
    }
    buf[len] = 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, (size_t)r->cap * sizeof *r->v);
        if (!r->v)
            abort();
    }
    r->v[r->n++] = strdup(buf);
}

static void clear(struct rows *r)
{
    for (int q = 0; q < prog->nqueries; q++) {
        for (int i = 0; i < r[q].n; i++)
            free(r[q].v[i]);
        r[q].n = 0;
    }
}

static void setup(void)
{
    static struct arena arena;
    struct diag d;
    diag_init(&d);
    struct src_file *src = src_from_string("fuzz_jit.htq", program, sizeof program - 1);
    struct ast_file *f = NULL;
    if (ast_parse(&arena, &d, src, &f) == 0)
        prog = sema_build(&arena, &d, &f, 1, NULL, 0);
    if (!prog) {
        diag_print(&d, stderr);
        abort();
    }
    diag_free(&d);
    got = calloc((size_t)prog->nqueries, sizeof *got);
    want = calloc((size_t)prog->nqueries, sizeof *want);
    /* src stays: the IR points into it */
}

static struct jit_prog *jit_for(unsigned sel)
{
    if (!jits[sel]) {
        char err[512];
        struct jit_opts o = {.linktype = linktypes[sel], .table_limit = 3};
        jits[sel] = jit_compile(prog, &o, err, sizeof err);
        if (!jits[sel]) {
            fprintf(stderr, "fuzz_jit: %s\n", err);
            abort();
        }
        for (int q = 0; q < prog->nqueries; q++)
            if (!jit_covers(jits[sel], q, NULL)) {
                fprintf(stderr, "fuzz_jit: query %s is not compiled\n", prog->queries[q]->name);
                abort();
            }
    }
    return jits[sel];
}

/* A copy of the frame that ends where an inaccessible page begins. */
struct guarded {
    uint8_t *map;
    size_t len;
};

static const uint8_t *guard(struct guarded *g, const uint8_t *b, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), body = (n + page - 1) / page * page;
    g->len = body + page;
    g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->map == MAP_FAILED)
        abort();
    if (mprotect(g->map + body, page, PROT_NONE) != 0)
        abort();
    uint8_t *p = g->map + body - n;
    if (n)
        memcpy(p, b, n);
    return p;
}

#define MAXPK 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!prog)
        setup();
    if (size < 2)
        return 0;
    unsigned sel = data[0] % NLT;
    uint32_t burst = 1u + data[1] % 32u;
    struct jit_prog *jp = jit_for(sel);
    struct jit_pkt pk[MAXPK];
    struct guarded gm[MAXPK];
    bool adv[MAXPK];
    int n = 0;
    uint64_t ts = 1600000000000000000ULL;
    size_t o = 2;
    while (o + 4 <= size && n < MAXPK) {
        uint8_t dt = data[o], fl = data[o + 1];
        size_t len = (size_t)data[o + 2] | (size_t)data[o + 3] << 8;
        o += 4;
        if (len > size - o)
            len = size - o;
        if (fl & 1)
            ts -= 3000000;
        else
            ts += (uint64_t)dt * 20000;
        uint32_t wire = (uint32_t)len;
        switch ((fl >> 1) & 3) {
        case 1: wire += 100; break;
        case 2: wire = wire > 10 ? wire - 10 : 0; break;
        case 3: wire = 65535; break;
        default: break;
        }
        pk[n] = (struct jit_pkt){.data = guard(&gm[n], data + o, len), .caplen = (uint32_t)len,
                                 .wirelen = wire, .ts = ts, .port = (uint16_t)((fl >> 4) & 7)};
        adv[n] = fl & 0x80;
        n++;
        o += len;
    }

    /* the reference */
    struct exec *x = exec_new(prog, add_row, want);
    struct hts_pkt pkt;
    for (int i = 0; i < n; i++) {
        if (adv[i] && i % burst == 0)
            exec_advance(x, (int64_t)pk[i].ts - 1);
        hts_decode(&pkt, pk[i].data, pk[i].caplen, pk[i].wirelen, pk[i].ts, pk[i].port,
                   linktypes[sel], NULL);
        exec_packet(x, &pkt);
    }
    exec_finish(x);
    exec_free(x);

    /* the JIT, in bursts */
    x = exec_new(prog, add_row, got);
    struct eng *e = eng_new_jit(jp, x, add_row, got, NULL);
    if (!x || !e)
        abort();
    for (int i = 0; i < n; i += (int)burst) {
        if (adv[i])
            eng_advance(e, (int64_t)pk[i].ts - 1);
        eng_burst(e, pk + i, (uint32_t)(n - i < (int)burst ? n - i : (int)burst));
    }
    eng_finish(e);
    eng_free(e);
    exec_free(x);

    for (int q = 0; q < prog->nqueries; q++) {
        int m = want[q].n < got[q].n ? want[q].n : got[q].n;
        for (int i = 0; i <= m; i++) {
            const char *a = i < want[q].n ? want[q].v[i] : "(none)";
            const char *b = i < got[q].n ? got[q].v[i] : "(none)";
            if (i == m && want[q].n == got[q].n)
                break;
            if (i < m && !strcmp(a, b))
                continue;
            fprintf(stderr, "fuzz_jit: %s (link type %d, burst %u): row %d differs\n"
                    "  executor: %s\n  jit:      %s\n",
                    prog->queries[q]->name, linktypes[sel], burst, i, a, b);
            abort();
        }
    }
    clear(want);
    clear(got);
    for (int i = 0; i < n; i++)
        munmap(gm[i].map, gm[i].len);
    return 0;
}
