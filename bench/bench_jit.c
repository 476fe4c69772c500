/*
 * bench_jit.c - packets per second per core: the JIT, the interpreter and
 * hand-written C, measured in the same run. A benchmark, not a test.
 *
 *   bench_jit [--runs N] [--pace MPPS] [--set [Q.]NAME=VALUE]...
 *             [--only jit|interp|hand] CAPTURE REPEAT QUERY.htq...
 *
 * The capture is loaded once (hts_trace_load) and turned into REPEAT
 * replays of per-packet records (struct jit_pkt: data pointer, lengths,
 * time) held in memory, each replay shifted in time by the capture's span
 * plus a second, so windows keep closing as in a long capture. With
 * --pace, times are instead re-spaced evenly at MPPS million packets per
 * second (order kept): a window then holds as many packets as it would on
 * a link at that rate, where the capture's own times put a few dozen in a
 * 3 s window and so measure window closing more than packets. For each
 * query (its own program, as htsd would load it) and each engine, one run
 * feeds every record in bursts of 32 (htsd's RT_BURST) to a fresh executor
 * and engine and finishes; rows are counted and checksummed, not printed.
 * Each engine runs --runs times (default 5) on one core (this thread);
 * the table shows the medians in million packets per second:
 *
 *   jit     jit_engine.h's JIT engine: the compiled burst function, window
 *           hand-over into the executor, per-packet rows;
 *   interp  the interpreter engine: hts_decode() + exec_packet();
 *   hand    for the queries below, a hand-written C function with the
 *           compiled function's signature and layout, plugged into the same
 *           run-time (jit_run_set_fn): the same work written by a person
 *           and compiled by the C compiler at -O2. Only the per-packet
 *           function is replaced: what the run-time does at window close
 *           (for microbursts and flowlet_sizes, the compiled function that
 *           finishes a window's rows, then the sort) is the same for both.
 *
 * and the ratios jit/interp and hand/jit (the targets: jit >= 10 Mpps,
 * jit/interp >= 4, hand/jit <= 1.25). The rows of every engine must agree
 * (count and checksum); a difference is printed and the exit status is 1.
 * Also printed: the compile time of each query, the first compile in the
 * process and the median of five more.
 *
 * --only runs one engine (for profiling: perf record bench_jit --only jit
 * ...); the other columns then print 0.
 *
 * The hand-written functions mirror core/decode.c for the layers their
 * fields need, on Ethernet captures (other link types: no hand column).
 */
#include "driver.h"
#include "exec.h"
#include "jit.h"
#include "jit_engine.h"
#include "pcapin.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BURST 32

/* ---- hand-written baselines ---------------------------------------------- */

static inline uint32_t rd16(const uint8_t *b)
{
    return (uint32_t)b[0] << 8 | b[1];
}

static inline uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The fields the hand-written queries read, and which are present. */
enum { HF_IP4 = 1, HF_TCP = 2, HF_UDP = 4 };
struct hf {
    unsigned have;
    uint32_t src, dst, len, proto, ttl;
    uint32_t sport, dport, flags, seq, ack, usport, udport;
    uint64_t plen;      /* tcp.payload_len */
    const uint8_t *pay; /* payload (TCP, UDP): captured bytes up to the IP
                         * end (UDP: or the UDP length's, when shorter) */
    uint64_t paylen;
};

/* core/decode.c's rules for Ethernet, VLAN tags, MPLS, IPv4, IPv6 with its
 * extension headers and 6in4, TCP and UDP; l4 = 0 stops after IPv4. */
static inline void hand_decode(const struct jit_pkt *p, struct hf *f, int l4)
{
    const uint8_t *d = p->data;
    uint64_t cap = d ? p->caplen : 0, wire = p->wirelen > cap ? p->wirelen : cap;
    uint64_t off = 14, lim, end, hl;
    uint32_t type, proto;
    f->have = 0;
    if (cap < 14)
        return;
    type = rd16(d + 12);
    if (type < 0x600)
        return;
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (off + 4 > cap)
            return;
        type = rd16(d + off + 2);
        off += 4;
    }
    if (type == 0x8847 || type == 0x8848) {
        for (;;) {
            if (off + 4 > cap)
                return;
            uint32_t e = rd32(d + off);
            off += 4;
            if (e & 0x100)
                break;
        }
        if (off + 1 > cap)
            return;
        type = d[off] >> 4 == 4 ? 0x800 : d[off] >> 4 == 6 ? 0x86dd : 0;
    }
    lim = wire;
    if (type == 0x86dd) {
        if (!l4)
            return;
        goto ip6;
    }
    if (type != 0x800)
        return;
    /* IPv4 */
    if (off + 1 > cap || d[off] >> 4 != 4 || off + 20 > cap)
        return;
    hl = (uint64_t)(d[off] & 15) * 4;
    uint32_t tot = rd16(d + off + 2);
    if (hl < 20 || tot < hl || off + hl > cap)
        return;
    f->have = HF_IP4;
    f->len = tot;
    f->ttl = d[off + 8];
    f->proto = proto = d[off + 9];
    f->src = rd32(d + off + 12);
    f->dst = rd32(d + off + 16);
    if (!l4 || (rd16(d + off + 6) & 0x1fff))
        return;
    end = off + tot < lim ? off + tot : lim;
    off += hl;
    if (proto == 41) {
        lim = end;
        goto ip6;
    }
    goto l4;
ip6: {
    uint64_t limc = lim < cap ? lim : cap;
    if (off + 1 > limc || d[off] >> 4 != 6 || off + 40 > limc)
        return;
    uint32_t plen = rd16(d + off + 4), nh = d[off + 6];
    end = plen == 0 && nh == 0 ? lim : (off + 40 + plen < lim ? off + 40 + plen : lim);
    uint64_t endc = end < cap ? end : cap, pos = off + 40;
    for (;;) {
        if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
            if (pos + 2 > endc)
                return;
            hl = nh == 51 ? ((uint64_t)d[pos + 1] + 2) * 4 : ((uint64_t)d[pos + 1] + 1) * 8;
            if (pos + hl > endc)
                return;
        } else if (nh == 44) {
            if (pos + 8 > endc || rd16(d + pos + 2) >> 3)
                return;
            hl = 8;
        } else {
            break;
        }
        nh = d[pos];
        pos += hl;
    }
    proto = nh;
    off = pos;
}
l4: {
    uint64_t endc = end < cap ? end : cap;
    if (proto == 6) {
        uint64_t declared = end - off;
        if (off + 20 > endc)
            return;
        hl = (uint64_t)(d[off + 12] >> 4) * 4;
        if (hl < 20 || hl > declared || off + hl > endc)
            return;
        f->have |= HF_TCP;
        f->sport = rd16(d + off);
        f->dport = rd16(d + off + 2);
        f->seq = rd32(d + off + 4);
        f->ack = rd32(d + off + 8);
        f->flags = d[off + 13];
        f->plen = declared - hl;
        f->pay = d + off + hl;
        f->paylen = endc - off - hl;
    } else if (proto == 17) {
        if (off + 8 > endc)
            return;
        uint64_t ulen = rd16(d + off + 4);
        if (ulen >= 8 && off + ulen < endc)
            endc = off + ulen;
        f->have |= HF_UDP;
        f->usport = rd16(d + off);
        f->udport = rd16(d + off + 2);
        f->pay = d + off + 8;
        f->paylen = endc - off - 8;
    }
}
}

/* DNS over UDP (core/decode.c's decode_dns), for the fields a query
 * needs, all of them: reading stops as soon as they are all read or one of
 * them is known to be absent (a malformed or cut message leaves a field
 * absent exactly where decode.c's would). */
enum { HD_ANCOUNT = 1, HD_QNAME = 2, HD_TTL = 4, HD_A = 8, HD_RRSIG = 16 };
struct hdns {
    unsigned have;
    uint32_t ancount, ttl, a, qlen;       /* HD_RRSIG: dns.an.types has 46 */
    uint8_t qname[HTS_QNAME_MAX];
};

/* A name at *pos in m[0..n): moves *pos past its in-place part; -1 if it is
 * malformed or cut. follow (the first question's name): compression
 * pointers followed (at most 127) and, with out, the text written there
 * (dotted, ASCII lower-cased, "." for the root) and its length returned;
 * otherwise (later names) the name ends at its first pointer. 255 bytes on
 * the wire at most, pointers' targets included. */
static inline int hdns_name(const uint8_t *m, uint32_t n, uint32_t *pos, int follow, uint8_t *out)
{
    uint32_t at = *pos, wire = 0, o = 0, hops = 0, moved = 0;
    while (at < n) {
        uint32_t c = m[at];
        if (c >= 0xc0) {
            if (at + 2 > n)
                return -1;
            if (!moved)
                *pos = at + 2;
            moved = 1;
            if (!follow)
                return 0;
            at = rd16(m + at) & 0x3fff;
            if (++hops > 127 || at >= n)
                return -1;
        } else if (c >= 0x40 || (wire += c + 1) > 255) {
            return -1;
        } else if (c == 0) {
            if (!moved)
                *pos = at + 1;
            if (out && !o)
                out[o++] = '.';
            return (int)o;
        } else if (out && at + 1 + c > n) {
            return -1;
        } else {
            for (uint32_t i = 1; out && i <= c; i++) {
                uint8_t ch = m[at + i];
                if (i == 1 && o)
                    out[o++] = '.';
                out[o++] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
            }
            at += c + 1;
        }
    }
    return -1;
}

/* The DNS message of a UDP datagram from port 53 (f: decoded with L4):
 * none to port 4789, which is VXLAN. want: HD_* fields, all needed. */
static inline void hand_dns(const struct hf *f, unsigned want, struct hdns *r)
{
    const uint8_t *m = f->pay;
    uint32_t n = (uint32_t)f->paylen, pos = 12, types[HTS_MAX_AN_TYPES], nt = 0, all = 1;
    r->have = 0;
    if (f->udport == 4789 || n < 8)
        return;
    r->have = HD_ANCOUNT;
    r->ancount = rd16(m + 6);
    uint32_t qd = rd16(m + 4), an = r->ancount;
    if (n < 12 || want == HD_ANCOUNT || ((want & HD_QNAME) && !qd) ||
        ((want & (HD_TTL | HD_A | HD_RRSIG)) && !an))
        return;
    for (uint32_t i = 0; i < qd; i++) {
        int len = hdns_name(m, n, &pos, i == 0, i == 0 && (want & HD_QNAME) ? r->qname : NULL);
        if (len < 0)
            return;
        if (i == 0 && (want & HD_QNAME)) {
            r->have |= HD_QNAME;
            r->qlen = (uint32_t)len;
        }
        if (pos + 4 > n)
            return;
        pos += 4;
    }
    for (uint32_t i = 0; i < an && r->have != (want | HD_ANCOUNT); i++) {
        if (hdns_name(m, n, &pos, 0, NULL) < 0 || pos + 10 > n)
            return;
        uint32_t type = rd16(m + pos), rdlen = rd16(m + pos + 8);
        if (i == 0) {
            r->have |= want & HD_TTL;
            r->ttl = rd32(m + pos + 4);
        }
        pos += 10;
        if (pos + rdlen > n)
            return;
        if (type == 1 && rdlen == 4 && (want & HD_A) && !(r->have & HD_A)) {
            r->have |= HD_A;
            r->a = rd32(m + pos);
        }
        pos += rdlen;
        uint32_t k = 0;
        while (k < nt && types[k] != type)
            k++;
        if (k == nt && nt < HTS_MAX_AN_TYPES)
            types[nt++] = type;
        else if (k == nt)
            all = 0;
    }
    if ((want & HD_RRSIG) && all)
        for (uint32_t k = 0; k < nt; k++)
            if (types[k] == 46)
                r->have |= HD_RRSIG;
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

static inline uint64_t fin(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

/* A table as the compiled code uses it, held in locals for the call. */
struct htab {
    uint64_t *index, *ent, mask, gen, limit;
    uint32_t n;
    struct jit_table *self; /* for string keys' bytes */
};

static inline struct htab tab_open(struct jit_table *t)
{
    struct htab h = {t->index, t->ent, t->mask, t->gen, t->limit, t->n, t};
    return h;
}

/* FNV-1a of bytes: the run-time's string key hash (jit.c: rt_str_hash). */
static inline uint64_t fnv1a(const uint8_t *p, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* The entry of key k[0..nk) (created zeroed if new); sets *full at the
 * limit. With s (sk >= 0), key word k[sk] is a string's fnv1a and s[0..sn)
 * its bytes, compared when the entry's hash agrees and, in a new entry,
 * copied into the table's byte area (the word: offset << 32 | length; less
 * than JIT_STR_RESERVE bytes left sets *full, as the compiled code does). */
static inline uint64_t *tab_get_s(struct htab *t, const uint64_t *k, int nk, int stride,
                                  uint32_t *full, int sk, const uint8_t *s, uint32_t sn)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < nk; i++)
        h = mix(h, k[i]);
    h = fin(h);
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t slot = t->index[i];
        if (slot >> 32 != t->gen) {
            uint64_t *e = t->ent + (uint64_t)t->n * (uint64_t)stride;
            t->index[i] = t->gen << 32 | t->n;
            e[0] = h;
            for (int j = 0; j < nk; j++)
                e[1 + j] = k[j];
            for (int j = 1 + nk; j < stride; j++)
                e[j] = 0;
            if (++t->n >= t->limit)
                *full = 1;
            if (sk >= 0) {
                struct jit_table *b = t->self;
                memcpy(b->bytes + b->nbytes, s, sn);
                e[1 + sk] = (uint64_t)b->nbytes << 32 | sn;
                b->nbytes += sn;
                if (b->capbytes - b->nbytes < JIT_STR_RESERVE)
                    *full = 1;
            }
            return e;
        }
        uint64_t *e = t->ent + (uint32_t)slot * (uint64_t)stride;
        if (e[0] != h)
            continue;
        int j = 0;
        while (j < nk && (j == sk ? (uint32_t)e[1 + j] == sn &&
                                        !memcmp(t->self->bytes + (e[1 + j] >> 32), s, sn)
                                  : e[1 + j] == k[j]))
            j++;
        if (j == nk)
            return e;
    }
}

static inline uint64_t *tab_get(struct htab *t, const uint64_t *k, int nk, int stride,
                                uint32_t *full)
{
    return tab_get_s(t, k, nk, stride, full, -1, NULL, 0);
}

/* As the compiled code does: the frame 4 packets ahead into the cache. */
static inline void prefetch_ahead(const struct jit_pkt *pkts, uint32_t i, uint32_t n)
{
    if (i + 4 < n && pkts[i + 4].data) {
        __builtin_prefetch(pkts[i + 4].data, 0, 3);
        __builtin_prefetch(pkts[i + 4].data + 64, 0, 3);
    }
}

/* The loop every hand-written windowed query shares: tables 0..NT-1 in
 * locals (t[]), per-packet rows at ctx->out[o] with ROOM words of room
 * per packet (0: the query writes none), stop at a window end, a full
 * table or a full row buffer, event time, the tumbling window's late check;
 * then the packet decoded (L4: as far as TCP/UDP) into f, and only packets
 * with all of the fields NEED (HF_*) go on to the query's code. */
#define HAND_LOOP(W, NT, ROOM, L4, NEED, ...)                                  \
    struct htab t[NT];                                                         \
    for (int j = 0; j < (NT); j++)                                             \
        t[j] = tab_open(&ctx->tables[j]);                                      \
    int64_t wm = ctx->wm;                                                      \
    uint32_t full = ctx->full, o = ctx->out_n, i;                              \
    uint64_t late = 0;                                                         \
    for (i = 0; i < n; i++) {                                                  \
        const struct jit_pkt *p = &pkts[i];                                    \
        int64_t ts = (int64_t)p->ts;                                           \
        prefetch_ahead(pkts, i, n);                                            \
        if (ts >= ctx->next_close || full || ((ROOM) && o + (ROOM) > ctx->out_cap)) \
            break;                                                             \
        if (ts > wm)                                                           \
            wm = ts;                                                           \
        if (ts < 0)                                                            \
            continue;                                                          \
        if (ts - ts % (W) + (W) <= wm) {                                       \
            late++;                                                            \
            continue;                                                          \
        }                                                                      \
        struct hf f;                                                           \
        hand_decode(p, &f, (L4));                                              \
        if ((f.have & (NEED)) != (NEED))                                       \
            continue;                                                          \
        __VA_ARGS__                                                            \
    }                                                                          \
    ctx->wm = wm;                                                              \
    ctx->full = full;                                                          \
    ctx->out_n = o;                                                            \
    ctx->late[0] += late;                                                      \
    for (int j = 0; j < (NT); j++)                                             \
        ctx->tables[j].n = t[j].n;                                             \
    return i;

#define W3S 3000000000LL

/* new_tcp_conns: filter tcp.flags == SYN | groupby ipv4.dst aggregate count() */
static uint32_t hand_new_tcp_conns(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 1, HF_IP4 | HF_TCP, {
        if (f.flags != 0x02)
            continue;
        uint64_t k = f.dst;
        tab_get(t, &k, 1, 3, &full)[2]++;
    })
}

/* port_scan: distinct ipv4.src, tcp.dport */
static uint32_t hand_port_scan(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 1, HF_IP4 | HF_TCP, {
        uint64_t k[2] = {f.src, f.dport};
        tab_get(t, k, 2, 3, &full);
    })
}

/* heavy_hitter: groupby ipv4.src, ipv4.dst aggregate sum(ipv4.len), count() */
static uint32_t hand_heavy_hitter(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 0, HF_IP4, {
        uint64_t k[2] = {f.src, f.dst};
        uint64_t *e = tab_get(t, k, 2, 6, &full);
        e[3] += f.len; /* sum, inputs seen, count */
        e[4]++;
        e[5]++;
    })
}

/* export_headers with net = 0.0.0.0/0, n = 1: every IPv4 packet's row
 * (query, ts, presence bits, 14 columns). */
static uint32_t hand_export_headers(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    uint64_t *out = ctx->out;
    uint32_t o = ctx->out_n, cap = ctx->out_cap, i;
    for (i = 0; i < n && o + 17 <= cap; i++) {
        const struct jit_pkt *p = &pkts[i];
        struct hf f;
        prefetch_ahead(pkts, i, n);
        hand_decode(p, &f, 1);
        if (!(f.have & HF_IP4))
            continue;
        uint64_t *r = out + o, tcp = f.have & HF_TCP ? 0xf80 : 0, udp = f.have & HF_UDP ? 0x3000 : 0;
        r[0] = 0;
        r[1] = p->ts;
        r[2] = 0x7f | tcp | udp;
        r[3] = p->ts;
        r[4] = p->wirelen;
        r[5] = f.src;
        r[6] = f.dst;
        r[7] = f.proto;
        r[8] = f.len;
        r[9] = f.ttl;
        r[10] = f.sport;
        r[11] = f.dport;
        r[12] = f.flags;
        r[13] = f.seq;
        r[14] = f.ack;
        r[15] = f.usport;
        r[16] = f.udport;
        o += 17;
    }
    ctx->out_n = o;
    return i;
}

/* microbursts with the defaults (win = 1ms): groupby ipv4.dst aggregate
 * bytes = sum(meta.wire_len), pkts = count(); the filter after it runs at
 * window close, in the same compiled function as for the JIT. */
static uint32_t hand_microbursts(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(1000000LL, 1, 0, 0, HF_IP4, {
        uint64_t k = f.dst;
        uint64_t *e = tab_get(t, &k, 1, 5, &full);
        e[2] += p->wirelen; /* sum, inputs seen, count */
        e[3]++;
        e[4]++;
    })
}

/* flowlet_sizes with the defaults (gap = 500us, win = 3s): the fold per
 * TCP 4-tuple (table 0: hash, 4 keys, start, last, pkts, bytes, presence
 * bits) and, at each emit, the groupby after it (table 1: hash, 4 keys and
 * start, max(pkts) and max(bytes) with their inputs seen). */
static uint32_t hand_flowlet_sizes(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 2, 0, 1, HF_IP4 | HF_TCP, {
        uint64_t k[5] = {f.src, f.dst, f.sport, f.dport, 0};
        uint32_t before = t[0].n;
        uint64_t *e = tab_get(t, k, 4, 10, &full);
        if (t[0].n != before)
            e[9] = 0xf; /* the four state variables, present */
        int64_t start = (int64_t)e[5], last = (int64_t)e[6], np = (int64_t)e[7],
                bytes = (int64_t)e[8];
        if (np == 0 || ts - last > 500000) {
            start = ts;
            np = 0;
            bytes = 0;
        }
        np++;
        bytes += p->wirelen;
        last = ts;
        /* emit: into the groupby */
        k[4] = (uint64_t)start;
        uint64_t *r = tab_get(t + 1, k, 5, 10, &full);
        if (!r[7] || np > (int64_t)r[6])
            r[6] = (uint64_t)np;
        r[7]++;
        if (!r[9] || bytes > (int64_t)r[8])
            r[8] = (uint64_t)bytes;
        r[9]++;
        e[5] = (uint64_t)start;
        e[6] = (uint64_t)last;
        e[7] = (uint64_t)np;
        e[8] = (uint64_t)bytes;
    })
}

/* The entry of a one-word key in table t, the count after it incremented
 * (groupby KEY aggregate count(): hash, key, count). */
static inline void count_key(struct htab *t, uint64_t k, uint32_t *full)
{
    tab_get(t, &k, 1, 3, full)[2]++;
}

/* min(v) at e: the value, then the inputs seen. */
static inline void agg_min(uint64_t *e, int64_t v)
{
    if (!e[1] || v < (int64_t)e[0])
        e[0] = (uint64_t)v;
    e[1]++;
}

/* distinct ipv4.dst, ipv4.src, ipv4.len (ssh_brute's and zorro's
 * senders of one length to a server) */
static inline void brute_tuple(struct htab *t, const struct hf *f, uint32_t *full)
{
    uint64_t k[3] = {f->dst, f->src, f->len};
    tab_get(t, k, 3, 4, full);
}

/* ssh_brute (port = 22): filter tcp.dport == 22
 * | distinct ipv4.dst, ipv4.src, ipv4.len (the rest in the executor) */
static uint32_t hand_ssh_brute(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 1, HF_IP4 | HF_TCP, {
        if (f.dport != 22)
            continue;
        brute_tuple(t, &f, &full);
    })
}

/* distinct ipv4.src, ipv4.dst (superspreader) or ipv4.dst, ipv4.src (ddos) */
static inline uint32_t hand_ip_pairs(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n,
                                     int dst_first)
{
    HAND_LOOP(W3S, 1, 0, 0, HF_IP4, {
        uint64_t k[2] = {dst_first ? f.dst : f.src, dst_first ? f.src : f.dst};
        tab_get(t, k, 2, 3, &full);
    })
}

static uint32_t hand_superspreader(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    return hand_ip_pairs(ctx, pkts, n, 0);
}

static uint32_t hand_ddos(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    return hand_ip_pairs(ctx, pkts, n, 1);
}

/* packet_size_histogram: histogram ipv4.len buckets 64, 128, 256, 512,
 * 1024, 1500 (table 0: a counter per bucket; n counts the packets) */
static uint32_t hand_packet_size_histogram(struct jit_ctx *ctx, const struct jit_pkt *pkts,
                                           uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 0, HF_IP4, {
        uint32_t v = f.len;
        t[0].ent[(v >= 64) + (v >= 128) + (v >= 256) + (v >= 512) + (v >= 1024) + (v >= 1500)]++;
        t[0].n++;
    })
}

/* syn_flood: three groupbys (count) on SYN to ipv4.dst, SYN|ACK from
 * ipv4.src, ACK to ipv4.dst (the join in the executor) */
static uint32_t hand_syn_flood(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 3, 0, 1, HF_IP4 | HF_TCP, {
        if (f.flags == 0x02)
            count_key(t, f.dst, &full);
        if (f.flags == 0x12)
            count_key(t + 1, f.src, &full);
        if (f.flags == 0x10)
            count_key(t + 2, f.dst, &full);
    })
}

/* completed_flow: groupbys (count) on SYN to ipv4.dst and on segments with
 * FIN from ipv4.src (the join in the executor) */
static uint32_t hand_completed_flow(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 2, 0, 1, HF_IP4 | HF_TCP, {
        if (f.flags == 0x02)
            count_key(t, f.dst, &full);
        if (f.flags & 0x01)
            count_key(t + 1, f.src, &full);
    })
}

/* slowloris: of IPv4 TCP packets, distinct ipv4.dst, ipv4.src, tcp.sport
 * and groupby ipv4.dst aggregate sum(ipv4.len) (the join in the executor) */
static uint32_t hand_slowloris(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 2, 0, 1, HF_IP4, {
        if (f.proto != 6)
            continue;
        if (f.have & HF_TCP) {
            uint64_t k[3] = {f.dst, f.src, f.sport};
            tab_get(t, k, 3, 4, &full);
        }
        uint64_t k = f.dst;
        uint64_t *e = tab_get(t + 1, &k, 1, 4, &full);
        e[2] += f.len; /* sum, inputs seen */
        e[3]++;
    })
}

/* zorro (port = 23, word = "zorro"): of TCP packets to port 23, distinct
 * ipv4.dst, ipv4.src, ipv4.len, and of those whose payload contains the
 * word, groupby ipv4.dst aggregate count() (the rest in the executor) */
static uint32_t hand_zorro(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 2, 0, 1, HF_IP4 | HF_TCP, {
        if (f.dport != 23)
            continue;
        brute_tuple(t, &f, &full);
        if (memmem(f.pay, f.paylen, "zorro", 5))
            count_key(t + 1, f.dst, &full);
    })
}

/* tcp_handshake_rtt (win = 3s): groupbys aggregate min(meta.ts) of SYNs
 * per (src, dst, sport, dport), SYN|ACKs per (dst, src, dport, sport) and
 * ACKs without SYN per (src, dst, sport, dport) (the joins in the executor) */
static uint32_t hand_tcp_handshake_rtt(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 3, 0, 1, HF_IP4 | HF_TCP, {
        uint64_t k[4] = {f.src, f.dst, f.sport, f.dport}, r[4] = {f.dst, f.src, f.dport, f.sport};
        if (f.flags == 0x02)
            agg_min(tab_get(t, k, 4, 7, &full) + 5, ts);
        if (f.flags == 0x12)
            agg_min(tab_get(t + 1, r, 4, 7, &full) + 5, ts);
        if ((f.flags & 0x10) && !(f.flags & 0x02))
            agg_min(tab_get(t + 2, k, 4, 7, &full) + 5, ts);
    })
}

/* The fold's entry of the packet's TCP 4-tuple (hash, 4 keys, NS state
 * variables, their presence bits): a new one has them all present. */
static inline uint64_t *fold_get(struct htab *t, const struct hf *f, int ns, uint32_t *full)
{
    uint64_t k[4] = {f->src, f->dst, f->sport, f->dport};
    uint32_t before = t->n;
    uint64_t *e = tab_get(t, k, 4, 6 + ns, full);
    if (t->n != before)
        e[5 + ns] = (1u << ns) - 1;
    return e;
}

/* tcp_out_of_order: filter tcp.payload_len > 0 | fold by the 4-tuple
 * state expected, seen, ooo, segs (the close in the executor) */
static uint32_t hand_tcp_out_of_order(struct jit_ctx *ctx, const struct jit_pkt *pkts,
                                      uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 1, HF_IP4 | HF_TCP, {
        if (f.plen == 0)
            continue;
        uint64_t *e = fold_get(t, &f, 4, &full); /* expected, seen, ooo, segs */
        if (e[6] && f.seq != e[5])
            e[7]++;
        e[5] = (f.seq + f.plen) & 0xffffffff;
        e[6] = 1;
        e[8]++;
    })
}

/* latency_ewma (weight = 8): fold by the 4-tuple state last, ewma, pkts */
static uint32_t hand_latency_ewma(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 1, HF_IP4 | HF_TCP, {
        uint64_t *e = fold_get(t, &f, 3, &full); /* last, ewma, pkts */
        int64_t last = (int64_t)e[5], ewma = (int64_t)e[6], np = (int64_t)e[7];
        if (np == 1)
            ewma = ts - last;
        if (np > 1)
            ewma = ewma + (ts - last - ewma) / 8;
        e[5] = (uint64_t)ts;
        e[6] = (uint64_t)ewma;
        e[7] = (uint64_t)np + 1;
    })
}

/* tcp_retransmissions: filter tcp.payload_len > 0 | fold by the 4-tuple
 * state next, seen, retx, seq, ts; an emit is a row in ctx->out (tag,
 * window start, presence bits, 4 keys, 5 state values), which the
 * run-time finishes at window close as for the JIT */
static uint32_t hand_tcp_retransmissions(struct jit_ctx *ctx, const struct jit_pkt *pkts,
                                         uint32_t n)
{
    HAND_LOOP(W3S, 1, 12, 1, HF_IP4 | HF_TCP, {
        if (f.plen == 0)
            continue;
        uint64_t *e = fold_get(t, &f, 5, &full); /* next, seen, retx, seq, ts */
        uint64_t end = (f.seq + f.plen) & 0xffffffff;
        if (e[6] && ((e[5] - end) & 0xffffffff) < 0x80000000) {
            e[7]++;
            e[8] = f.seq;
            e[9] = (uint64_t)ts;
            uint64_t *r = ctx->out + o;
            r[0] = 1ull << 32; /* sink 0 + 1, query 0 */
            r[1] = (uint64_t)(ts - ts % W3S);
            r[2] = 0x1ff;
            memcpy(r + 3, e + 1, 9 * sizeof *r);
            o += 12;
        } else {
            e[5] = end;
            e[6] = 1;
        }
    })
}

/* The DNS response of a UDP datagram from port 53 with the fields want
 * (HD_*), into d; 0 if it has not all of them. */
static inline int dns_response(const struct hf *f, unsigned want, struct hdns *d)
{
    if (f->usport != 53)
        return 0;
    hand_dns(f, want, d);
    return (d->have & want) == want;
}

/* distinct dns.qname, V (a one-word field, HD_* bit vbit in d) of DNS
 * responses: the name's bytes a string key (dns_ttl_tracking,
 * malicious_domain) */
static inline uint32_t hand_dns_names(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n,
                                      unsigned vbit)
{
    HAND_LOOP(W3S, 1, 0, 1, HF_UDP, {
        struct hdns d;
        if (!dns_response(&f, HD_ANCOUNT | HD_QNAME | vbit, &d) ||
            (vbit == HD_TTL && d.ancount < 1))
            continue;
        uint64_t k[2] = {fnv1a(d.qname, d.qlen), vbit == HD_TTL ? d.ttl : d.a};
        tab_get_s(t, k, 2, 3, &full, 0, d.qname, d.qlen);
    })
}

/* dns_ttl_tracking: filter udp.sport == 53 and dns.ancount >= 1
 * | distinct dns.qname, dns.an.ttl (the rest in the executor) */
static uint32_t hand_dns_ttl_tracking(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    return hand_dns_names(ctx, pkts, n, HD_TTL);
}

/* malicious_domain: filter udp.sport == 53 | distinct dns.qname, dns.an.a */
static uint32_t hand_malicious_domain(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    return hand_dns_names(ctx, pkts, n, HD_A);
}

/* dns_reflection: of IPv4 packets, filter udp.sport == 53 and dns.an.types
 * has DNS_RRSIG | distinct ipv4.dst, ipv4.src (the rest in the executor) */
static uint32_t hand_dns_reflection(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 1, 0, 1, HF_IP4 | HF_UDP, {
        struct hdns d;
        if (!dns_response(&f, HD_RRSIG, &d))
            continue;
        uint64_t k[2] = {f.dst, f.src};
        tab_get(t, k, 2, 3, &full);
    })
}

/* dns_tunneling: groupbys (count) of DNS responses with answers on
 * dns.an.a and of TCP packets to port 80 on ipv4.dst (the join in the
 * executor) */
static uint32_t hand_dns_tunneling(struct jit_ctx *ctx, const struct jit_pkt *pkts, uint32_t n)
{
    HAND_LOOP(W3S, 2, 0, 1, 0, {
        struct hdns d;
        if ((f.have & HF_UDP) && dns_response(&f, HD_ANCOUNT | HD_A, &d) && d.ancount >= 1)
            count_key(t, d.a, &full);
        if ((f.have & (HF_IP4 | HF_TCP)) == (HF_IP4 | HF_TCP) && f.dport == 80)
            count_key(t + 1, f.dst, &full);
    })
}

/* (The functions assume the defaults of the parameters that change the
 * per-packet work: ports, windows, export_headers' net and n, flowlet's gap,
 * zorro's word, latency_ewma's weight. With other --set values for those
 * their rows differ and the run says so; thresholds applied after the
 * table, at window close, may be set freely.) */
static const struct {
    const char *query;
    jit_fn fn;
} hands[] = {
    {"new_tcp_conns", hand_new_tcp_conns},
    {"port_scan", hand_port_scan},
    {"heavy_hitter", hand_heavy_hitter},
    {"export_headers", hand_export_headers},
    {"microbursts", hand_microbursts},
    {"flowlet_sizes", hand_flowlet_sizes},
    {"ssh_brute", hand_ssh_brute},
    {"superspreader", hand_superspreader},
    {"ddos", hand_ddos},
    {"packet_size_histogram", hand_packet_size_histogram},
    {"syn_flood", hand_syn_flood},
    {"completed_flow", hand_completed_flow},
    {"slowloris", hand_slowloris},
    {"zorro", hand_zorro},
    {"tcp_handshake_rtt", hand_tcp_handshake_rtt},
    {"tcp_out_of_order", hand_tcp_out_of_order},
    {"latency_ewma", hand_latency_ewma},
    {"tcp_retransmissions", hand_tcp_retransmissions},
    {"dns_reflection", hand_dns_reflection},
    {"dns_ttl_tracking", hand_dns_ttl_tracking},
    {"malicious_domain", hand_malicious_domain},
    {"dns_tunneling", hand_dns_tunneling},
};

/* ---- the benchmark ---------------------------------------------------------- */

struct count {
    uint64_t rows, sum;
};

static void count_row(void *ctx, const struct ir_query *q, int64_t ws, int64_t we,
                      const hts_value *cols, int ncols)
{
    /* cheap, so that the engines are measured rather than this: the value
     * bytes are deterministic (every constructor zeroes the rest) */
    struct count *c = ctx;
    uint64_t h = (uint64_t)ws * 31 + (uint64_t)we;
    for (int i = 0; i < ncols; i++) {
        uint64_t w[2];
        memcpy(w, &cols[i].u, sizeof w);
        if (cols[i].type == TY_STR && cols[i].present) {
            /* the bytes, not where they are: engines copy strings to
             * different places */
            w[0] = fnv1a(cols[i].u.s.p, cols[i].u.s.n);
            w[1] = cols[i].u.s.n;
        }
        h = (h ^ (w[0] + cols[i].present * 7919u)) * 0x9e3779b97f4a7c15ULL + w[1];
    }
    c->rows++;
    c->sum += h; /* order-free: engines may interleave queries differently */
    (void)q;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { E_JIT, E_INTERP, E_HAND, E__N };

/* One run: seconds; rows into *c. */
static double run(int kind, const struct ir_program *p, const struct jit_prog *jp, jit_fn hand,
                  int linktype, const struct jit_pkt *pk, size_t n, struct count *c)
{
    memset(c, 0, sizeof *c);
    struct exec *x = exec_new(p, count_row, c);
    struct hts_decode_stats ds = {0};
    struct eng *e = kind == E_INTERP ? eng_new_interp(x, linktype, &ds)
                                     : eng_new_jit(jp, x, count_row, c, &ds);
    if (!x || !e) {
        fprintf(stderr, "bench_jit: out of memory\n");
        exit(2);
    }
    if (kind == E_HAND)
        jit_run_set_fn(e->self, hand);
    double t0 = now_s();
    for (size_t i = 0; i < n; i += BURST)
        eng_burst(e, pk + i, (uint32_t)(n - i < BURST ? n - i : BURST));
    eng_finish(e);
    double t = now_s() - t0;
    eng_free(e);
    exec_free(x);
    return t;
}

int main(int argc, char **argv)
{
    int runs = 5, argi = 1, only = -1;
    double pace = 0;
    struct htsc_opts base = {.format = "json"};
    while (argi < argc && argv[argi][0] == '-') {
        if (!strcmp(argv[argi], "--runs") && argi + 1 < argc) {
            runs = atoi(argv[argi + 1]);
            argi += 2;
        } else if (!strcmp(argv[argi], "--pace") && argi + 1 < argc) {
            pace = atof(argv[argi + 1]);
            argi += 2;
        } else if (!strcmp(argv[argi], "--only") && argi + 1 < argc) {
            const char *e = argv[argi + 1];
            only = !strcmp(e, "jit") ? E_JIT : !strcmp(e, "interp") ? E_INTERP
                 : !strcmp(e, "hand") ? E_HAND : -2;
            argi += 2;
        } else if (!strcmp(argv[argi], "--set") && argi + 1 < argc) {
            base.sets[base.nsets++] = argv[argi + 1];
            argi += 2;
        } else {
            break;
        }
    }
    if (argc - argi < 3 || runs < 1 || only == -2) {
        fprintf(stderr, "usage: bench_jit [--runs N] [--pace MPPS] [--set S]... "
                        "[--only jit|interp|hand] CAPTURE REPEAT QUERY.htq...\n");
        return 2;
    }
    struct hts_trace t;
    char err[512];
    if (hts_trace_load(argv[argi], &t, err, sizeof err) < 0) {
        fprintf(stderr, "bench_jit: %s\n", err);
        return 2;
    }
    int repeat = atoi(argv[argi + 1]);
    uint64_t span = t.n ? t.ts_ns[t.n - 1] - t.ts_ns[0] + 1000000000ULL : 1;
    size_t n = t.n * (size_t)(repeat > 0 ? repeat : 1);
    struct jit_pkt *pk = calloc(n + 1, sizeof *pk);
    if (!pk)
        return 2;
    for (size_t r = 0, k = 0; r < (size_t)repeat; r++)
        for (size_t i = 0; i < t.n; i++, k++)
            pk[k] = (struct jit_pkt){.data = hts_trace_frame(&t, i), .caplen = t.cap_len[i],
                                     .wirelen = t.wire_len[i],
                                     .ts = t.ts_ns[i] + (uint64_t)r * span};
    if (pace > 0)
        for (size_t k = 0; k < n; k++)
            pk[k].ts = (t.n ? t.ts_ns[0] : 0) + (uint64_t)((double)k * 1e3 / pace);
    if (n && pk[n - 1].ts > (uint64_t)INT64_MAX)
        fprintf(stderr, "bench_jit: times pass 2^63 ns: use fewer replays\n");
    printf("capture %s: %zu packets x %d = %zu records", argv[argi], t.n, repeat, n);
    if (pace > 0)
        printf(", paced at %.1f Mpps", pace);
    printf("; %d runs per engine, medians\n", runs);
    printf("%-22s %8s %8s %8s %8s %8s %8s %8s  %s\n", "query", "jit", "interp", "hand",
           "jit/int", "hand/jit", "cc-cold", "cc-warm", "engine (Mpps; ms)");
    int rc = 0;
    for (int a = argi + 2; a < argc; a++) {
        struct htsc_opts o = base;
        o.nfiles = 1;
        o.files[0] = argv[a];
        struct arena arena = {0};
        struct src_file *srcs[1] = {0};
        struct ir_program *p = htsc_load(&o, &arena, srcs, stderr);
        if (!p)
            return 2;
        struct jit_opts jo = {.linktype = t.linktype};
        double cold = 0, warm[5];
        struct jit_prog *jp = NULL;
        for (int c = 0; c < 6; c++) {
            struct jit_prog *j = jit_compile(p, &jo, err, sizeof err);
            if (!j) {
                fprintf(stderr, "bench_jit: %s\n", err);
                return 2;
            }
            if (c == 0)
                cold = jit_times(j)->total;
            else
                warm[c - 1] = jit_times(j)->total;
            if (jp)
                jit_free(jp);
            jp = j;
        }
        qsort(warm, 5, sizeof warm[0], cmp_d);
        jit_fn hand = NULL;
        for (size_t h = 0; h < sizeof hands / sizeof hands[0]; h++)
            if (!strcmp(hands[h].query, p->queries[0]->name) && t.linktype == HTS_DLT_EN10MB &&
                jit_covers(jp, 0, NULL))
                hand = hands[h].fn;
        /* the engines take turns, run after run, so that whatever else the
         * machine does slows them alike; medians per engine */
        double mpps[E__N] = {0}, secs[E__N][64];
        struct count ref = {0}, c;
        int nr = runs < 64 ? runs : 64;
        for (int r = 0; r < nr; r++) {
            for (int kind = 0; kind < E__N; kind++) {
                if ((kind == E_HAND && !hand) || (only >= 0 && kind != only)) {
                    secs[kind][r] = 1e30;
                    continue;
                }
                secs[kind][r] = run(kind, p, jp, hand, t.linktype, pk, n, &c);
                if (kind == E_JIT || only >= 0) {
                    ref = c;
                } else if (c.rows != ref.rows || c.sum != ref.sum) {
                    fprintf(stderr, "bench_jit: %s: %s rows differ from the JIT's (%llu vs %llu)\n",
                            p->queries[0]->name, kind == E_HAND ? "hand" : "interp",
                            (unsigned long long)c.rows, (unsigned long long)ref.rows);
                    rc = 1;
                }
            }
        }
        for (int kind = 0; kind < E__N; kind++) {
            if (kind == E_HAND && !hand)
                continue;
            qsort(secs[kind], (size_t)nr, sizeof secs[kind][0], cmp_d);
            mpps[kind] = (double)n / secs[kind][nr / 2] / 1e6;
        }
        const char *why;
        bool cov = jit_covers(jp, 0, &why);
        char hb[16] = "-", hr[16] = "-";
        if (hand) {
            snprintf(hb, sizeof hb, "%.2f", mpps[E_HAND]);
            snprintf(hr, sizeof hr, "%.2f", mpps[E_HAND] / mpps[E_JIT]);
        }
        printf("%-22s %8.2f %8.2f %8s %8.2f %8s %8.1f %8.1f  %s (%llu rows)\n",
               p->queries[0]->name, mpps[E_JIT], mpps[E_INTERP], hb,
               mpps[E_JIT] / mpps[E_INTERP], hr, cold, warm[2],
               cov ? "jit" : "interpreter", (unsigned long long)ref.rows);
        fflush(stdout);
        jit_free(jp);
        src_free(srcs[0]);
        arena_free(&arena);
    }
    free(pk);
    hts_trace_free(&t);
    return rc;
}
