/*
 * htsgen.c - synthetic and replayed packet captures for benchmarks and tests.
 *
 *   htsgen synth -o OUT.pcap [--truth FILE.json] [options]
 *   htsgen replay IN.pcap N -o OUT.pcap [--gap S] [--addr-stride X]
 *
 * synth writes a classic pcap (microsecond timestamps, Ethernet) of a
 * realistic traffic mix, in time order:
 *
 *   - many hosts: clients in 10.0.0.0/8 (activity Zipf-distributed or
 *     round-robin), servers in 198.18.0.0/15 chosen by Zipf popularity, each
 *     with one service port (443, 80, 22, 25, 8080, ...), DNS resolvers in
 *     172.16.53.0/24, NTP servers in 172.16.123.0/24;
 *   - flows arrive as a Poisson process; TCP flows (default 80%) do a
 *     three-way handshake (SYN with options, SYN|ACK, ACK), send a request,
 *     then a Zipf-distributed number of full-size data segments (downloads,
 *     some uploads) acknowledged every second segment, and close with
 *     FIN|ACK, FIN|ACK, ACK (some end with a RST; some are refused with
 *     RST|ACK); DNS flows (15%) are a real DNS query and response (A or AAAA,
 *     Zipf-popular names, some NXDOMAIN); other UDP (QUIC-like 443, NTP) and
 *     ICMP echo make up the rest;
 *   - attacks injected at known rates, from reserved addresses that the
 *     background never uses:
 *       SYN flood:  SYNs from random spoofed sources in 100.64.0.0/10 to the
 *                   victim 203.0.113.10:80, which answers each with SYN|ACK
 *                   (the victim also keeps serving legitimate clients);
 *       port scan:  203.0.113.66 probes the TCP ports of 203.0.113.20 in a
 *                   random order (open ports answer SYN|ACK, then the scanner
 *                   resets; closed ports answer RST|ACK);
 *       SSH brute force: attackers in 192.0.2.0/24 (then 198.51.100.0/24)
 *                   repeatedly connect to 203.0.113.22:22, exchange banners
 *                   and keys and try passwords with same-sized packets.
 *
 * With --truth, htsgen also writes a ground truth (JSON): what was injected
 * (addresses, rates, counts) and the rows that the library queries
 * syn_flood, port_scan and ssh_brute must produce on this capture for the
 * given thresholds and window, computed by its own accounting of every
 * packet it wrote (independent of htsc), each row labelled with the role of
 * its host ("syn_flood_victim", "scanner", ... or "background"), and for
 * each query the largest value any background host reached, so that a
 * threshold above it finds the attacks and nothing else.
 *
 * replay writes N copies of a capture (pcap or pcapng, any link type libpcap
 * reads; addresses are shifted for Ethernet, VLAN-tagged Ethernet, raw IP and
 * Linux SLL): copy k is shifted in time by k * (span + gap) and every outer
 * IPv4 address by k * stride (IPv6: k added to bytes 8..11); the IPv4 header
 * checksum and the TCP/UDP checksums are patched incrementally (RFC 1624).
 *
 * This is a benchmark and test tool, built by `make bench` into build/bench/.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000ULL
#define US 1000ULL
#define MS 1000000ULL

/* ---------------------------------------------------------------- util */

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "htsgen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static void *xrealloc(void *p, size_t sz)
{
    p = realloc(p, sz ? sz : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t hash64(uint64_t x)
{
    return splitmix(&x);
}

/* xoshiro256** */
static uint64_t rs[4];

static void rnd_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rs[i] = splitmix(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(void)
{
    uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
    rs[2] ^= rs[0];
    rs[3] ^= rs[1];
    rs[1] ^= rs[2];
    rs[0] ^= rs[3];
    rs[2] ^= t;
    rs[3] = rotl(rs[3], 45);
    return r;
}

static double unif(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

/* uniform in [lo, hi] */
static uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }

static uint64_t expo_ns(double mean_ns)
{
    double u = unif();
    return (uint64_t)(-log(1.0 - u) * mean_ns) + 1;
}

/* A discrete distribution P(k) ~ (k+1)^-s over k in [0, n), sampled by
 * binary search on its cumulative table. */
struct zipf {
    size_t n;
    double *cdf;
    double mean; /* of k + 1 */
};

static void zipf_init(struct zipf *z, size_t n, double s)
{
    z->n = n;
    z->cdf = xcalloc(n, sizeof *z->cdf);
    double sum = 0, m = 0;
    for (size_t k = 0; k < n; k++) {
        double p = s > 0 ? pow((double)(k + 1), -s) : 1.0;
        sum += p;
        m += p * (double)(k + 1);
        z->cdf[k] = sum;
    }
    for (size_t k = 0; k < n; k++)
        z->cdf[k] /= sum;
    z->cdf[n - 1] = 1.0;
    z->mean = m / sum;
}

static size_t zipf_draw(const struct zipf *z)
{
    double u = unif();
    size_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void ip_str(uint32_t ip, char *buf)
{
    sprintf(buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

/* ---------------------------------------------------------- pcap output */

static FILE *out_f;
static uint8_t *obuf;
static size_t obuf_n;
#define OBUF_CAP (4u << 20)
static uint64_t out_packets, out_bytes;

static void out_open(const char *path, uint32_t linktype, uint32_t snaplen)
{
    out_f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (!out_f)
        die("cannot write", path);
    obuf = xcalloc(OBUF_CAP, 1);
    uint32_t h[6] = {0xa1b2c3d4u, 2u | (4u << 16), 0, 0, snaplen, linktype};
    memcpy(obuf, h, sizeof h); /* host order: readers detect the byte order */
    obuf_n = sizeof h;
}

static void out_flush(void)
{
    if (obuf_n && fwrite(obuf, 1, obuf_n, out_f) != obuf_n)
        die("write failed", strerror(errno));
    obuf_n = 0;
}

static void out_close(void)
{
    out_flush();
    if (out_f != stdout && fclose(out_f) != 0)
        die("write failed", strerror(errno));
    free(obuf);
}

static void out_packet(uint64_t ts_ns, const uint8_t *frame, uint32_t caplen, uint32_t wirelen)
{
    if (obuf_n + 16 + caplen > OBUF_CAP)
        out_flush();
    uint32_t h[4] = {(uint32_t)(ts_ns / NS), (uint32_t)(ts_ns % NS / US), caplen, wirelen};
    memcpy(obuf + obuf_n, h, 16);
    memcpy(obuf + obuf_n + 16, frame, caplen);
    obuf_n += 16 + caplen;
    out_packets++;
    out_bytes += wirelen;
}

/* ------------------------------------------------------------ options */

struct attack {
    double rate; /* flood pps, scan probes/s, brute: number of attackers */
    double start, dur; /* seconds from the trace start; dur 0: disabled */
    bool set;
};

static struct {
    uint64_t seed;
    uint64_t packets; /* stop after this many (0: no limit) */
    double duration; /* seconds (0: packets / rate) */
    double rate; /* mean background packets per second */
    uint32_t clients, servers;
    double client_zipf, server_zipf, flow_zipf;
    uint32_t max_segs;
    bool client_seq;
    double mix_tcp, mix_dns, mix_udp, mix_icmp;
    uint64_t start_ns;
    uint32_t snaplen;
    uint64_t window_ns;
    bool attacks;
    struct attack flood, scan, brute;
    double victim_conns; /* legitimate connections per second to the flood victim */
    int thr_syn, thr_scan, thr_ssh;
    const char *out, *truth;
} opt = {
    .seed = 1,
    .packets = 0,
    .duration = 0,
    .rate = 50000,
    .clients = 20000,
    .servers = 2000,
    .client_zipf = 0.8,
    .server_zipf = 1.0,
    .flow_zipf = 1.7,
    .max_segs = 10000,
    .mix_tcp = 0.80,
    .mix_dns = 0.15,
    .mix_udp = 0.04,
    .mix_icmp = 0.01,
    .start_ns = 1704067200ULL * NS, /* 2024-01-01 00:00:00 UTC, a multiple of 3 s */
    .snaplen = 65535,
    .window_ns = 3 * NS,
    .attacks = true,
    .victim_conns = 20,
    .thr_syn = 3,
    .thr_scan = 40,
    .thr_ssh = 40,
};

/* reserved addresses of the attacks; the background never uses them */
static const uint32_t FLOOD_VICTIM = 0xCB00710A;  /* 203.0.113.10 */
static const uint32_t SCAN_TARGET = 0xCB007114;   /* 203.0.113.20 */
static const uint32_t SSH_SERVER = 0xCB007116;    /* 203.0.113.22 */
static const uint32_t SCANNER = 0xCB007142;       /* 203.0.113.66 */
#define SPOOF_NET 0x64400000u /* 100.64.0.0/10 */
#define SPOOF_MASK 0x003FFFFFu

static uint32_t brute_attacker(uint32_t i)
{
    return i < 254 ? ip4(192, 0, 2, i + 1) : ip4(198, 51, 100, i - 254 + 1);
}

static uint32_t client_ip(uint32_t i) { return 0x0A000000u + i + 1; }
static uint32_t server_ip(uint32_t j) { return 0xC6120000u + j + 1; }
static uint32_t resolver_ip(uint32_t k) { return ip4(172, 16, 53, k + 1); }
static uint32_t ntp_ip(uint32_t k) { return ip4(172, 16, 123, k + 1); }
#define NRESOLVERS 8
#define NNTP 4

static uint16_t server_port(uint32_t j)
{
    if (j < 20)
        return j % 4 == 3 ? 80 : 443;
    uint64_t h = hash64(j * 0x51ULL + 7) % 1000;
    if (h < 550) return 443;
    if (h < 780) return 80;
    if (h < 810) return 22;
    if (h < 830) return 25;
    if (h < 880) return 8080;
    if (h < 900) return 3306;
    if (h < 930) return 993;
    return 5222;
}

static uint8_t host_ttl(uint32_t ip)
{
    uint64_t h = hash64(ip);
    uint8_t base = (h & 3) == 0 ? 128 : (h & 3) == 1 ? 255 : 64;
    return (uint8_t)(base - (h >> 8) % 24);
}

/* ------------------------------------------------- ground-truth oracle */

/* Open addressing, keys of two 64-bit words (never both zero: a key always
 * holds a non-zero address), values of three 32-bit counters. */
struct tab {
    size_t cap, n;
    uint64_t *ka, *kb;
    int32_t *v; /* 3 per slot */
};

static void tab_init(struct tab *t, size_t cap)
{
    t->cap = cap;
    t->n = 0;
    t->ka = xcalloc(cap, 8);
    t->kb = xcalloc(cap, 8);
    t->v = xcalloc(cap * 3, 4);
}

static int32_t *tab_get(struct tab *t, uint64_t a, uint64_t b, bool *fresh);

static void tab_grow(struct tab *t)
{
    struct tab o = *t;
    tab_init(t, o.cap * 2);
    for (size_t i = 0; i < o.cap; i++)
        if (o.ka[i] | o.kb[i]) {
            bool f;
            int32_t *v = tab_get(t, o.ka[i], o.kb[i], &f);
            memcpy(v, &o.v[i * 3], 12);
        }
    free(o.ka);
    free(o.kb);
    free(o.v);
}

static int32_t *tab_get(struct tab *t, uint64_t a, uint64_t b, bool *fresh)
{
    if (2 * (t->n + 1) > t->cap)
        tab_grow(t);
    size_t m = t->cap - 1, i = hash64(a * 0x9E3779B97F4A7C15ULL ^ b) & m;
    for (;;) {
        if (t->ka[i] == a && t->kb[i] == b) {
            *fresh = false;
            return &t->v[i * 3];
        }
        if (!(t->ka[i] | t->kb[i])) {
            t->ka[i] = a;
            t->kb[i] = b;
            t->n++;
            *fresh = true;
            return &t->v[i * 3];
        }
        i = (i + 1) & m;
    }
}

static void tab_clear(struct tab *t)
{
    memset(t->ka, 0, t->cap * 8);
    memset(t->kb, 0, t->cap * 8);
    memset(t->v, 0, t->cap * 12);
    t->n = 0;
}

struct trow {
    int64_t ws;
    uint32_t host;
    int64_t value;
};

struct rows {
    struct trow *r;
    size_t n, cap;
};

static void rows_add(struct rows *rs_, int64_t ws, uint32_t host, int64_t value)
{
    if (rs_->n == rs_->cap) {
        rs_->cap = rs_->cap ? rs_->cap * 2 : 64;
        rs_->r = xrealloc(rs_->r, rs_->cap * sizeof *rs_->r);
    }
    rs_->r[rs_->n++] = (struct trow){ws, host, value};
}

static struct {
    bool on;
    int64_t win; /* current window index, -1 before the first packet */
    struct tab syn;     /* host -> syns in, synacks out, acks in; presence bits */
    struct tab scan_pairs; /* (src, dport) */
    struct tab scan_src;   /* src -> distinct ports */
    struct tab ssh_tri;    /* (dst, src, len) */
    struct tab ssh_dl;     /* (dst, len) -> distinct srcs */
    struct rows syn_rows, scan_rows, ssh_rows;
    int64_t bg_syn, bg_scan, bg_ssh; /* largest background value */
    uint32_t bg_syn_host, bg_scan_host, bg_ssh_host;
    int64_t bg_syn_ws, bg_scan_ws, bg_ssh_ws;
} tr = {.win = -1, .bg_syn = INT64_MIN};

static bool is_spoofed(uint32_t ip) { return (ip & ~SPOOF_MASK) == SPOOF_NET; }

static bool is_attack_host(uint32_t ip)
{
    return ip == FLOOD_VICTIM || ip == SCAN_TARGET || ip == SSH_SERVER || ip == SCANNER ||
           is_spoofed(ip) || (ip >> 8) == 0xC00002 || (ip >> 8) == 0xC63364;
}

static const char *role(uint32_t ip)
{
    if (ip == FLOOD_VICTIM) return "syn_flood_victim";
    if (ip == SCAN_TARGET) return "scan_target";
    if (ip == SSH_SERVER) return "ssh_brute_server";
    if (ip == SCANNER) return "scanner";
    if (is_spoofed(ip)) return "syn_flood_spoofed_source";
    if ((ip >> 8) == 0xC00002 || (ip >> 8) == 0xC63364) return "ssh_brute_attacker";
    return "background";
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void note_bg(int64_t v, uint32_t host, int64_t ws, int64_t *best, uint32_t *bh, int64_t *bws)
{
    if (!is_attack_host(host) && v > *best) {
        *best = v;
        *bh = host;
        *bws = ws;
    }
}

/* The window closes: its rows, in the order htsc prints them (sorted). */
static void truth_close_window(void)
{
    if (tr.win < 0)
        return;
    int64_t ws = tr.win * (int64_t)opt.window_ns;
    uint32_t *hosts = NULL;
    size_t nh = 0, cap = 0;
#define PUSH(h)                                                                  \
    do {                                                                         \
        if (nh == cap) {                                                         \
            cap = cap ? 2 * cap : 256;                                           \
            hosts = xrealloc(hosts, cap * sizeof *hosts);                        \
        }                                                                        \
        hosts[nh++] = (h);                                                       \
    } while (0)
    /* syn_flood: inner join of the three counts: a host is in each count
     * iff that count is non-zero */
    for (size_t i = 0; i < tr.syn.cap; i++) {
        if (!tr.syn.ka[i])
            continue;
        int32_t *v = &tr.syn.v[i * 3];
        uint32_t host = (uint32_t)tr.syn.ka[i];
        if (!v[0] || !v[1] || !v[2])
            continue;
        int64_t half = (int64_t)v[0] + v[1] - v[2];
        note_bg(half, host, ws, &tr.bg_syn, &tr.bg_syn_host, &tr.bg_syn_ws);
        if (half >= opt.thr_syn)
            PUSH(host);
    }
    qsort(hosts, nh, sizeof *hosts, cmp_u32);
    for (size_t k = 0; k < nh; k++) {
        bool f;
        int32_t *v = tab_get(&tr.syn, hosts[k], 1, &f);
        rows_add(&tr.syn_rows, ws, hosts[k], (int64_t)v[0] + v[1] - v[2]);
    }
    nh = 0;
    /* port_scan */
    for (size_t i = 0; i < tr.scan_src.cap; i++) {
        if (!tr.scan_src.ka[i])
            continue;
        uint32_t src = (uint32_t)tr.scan_src.ka[i];
        int64_t ports = tr.scan_src.v[i * 3];
        note_bg(ports, src, ws, &tr.bg_scan, &tr.bg_scan_host, &tr.bg_scan_ws);
        if (ports >= opt.thr_scan)
            PUSH(src);
    }
    qsort(hosts, nh, sizeof *hosts, cmp_u32);
    for (size_t k = 0; k < nh; k++) {
        bool f;
        rows_add(&tr.scan_rows, ws, hosts[k], *tab_get(&tr.scan_src, hosts[k], 1, &f));
    }
    nh = 0;
    /* ssh_brute: per (dst, len) distinct senders; a row per dst that has a
     * length at or above the threshold; value: the largest such count */
    struct tab best;
    tab_init(&best, 64);
    for (size_t i = 0; i < tr.ssh_dl.cap; i++) {
        if (!(tr.ssh_dl.ka[i] | tr.ssh_dl.kb[i]))
            continue;
        uint32_t dst = (uint32_t)tr.ssh_dl.ka[i];
        int32_t n = tr.ssh_dl.v[i * 3];
        note_bg(n, dst, ws, &tr.bg_ssh, &tr.bg_ssh_host, &tr.bg_ssh_ws);
        if (n >= opt.thr_ssh) {
            bool f;
            int32_t *b = tab_get(&best, dst, 1, &f);
            if (f)
                PUSH(dst);
            if (n > b[0])
                b[0] = n;
        }
    }
    qsort(hosts, nh, sizeof *hosts, cmp_u32);
    for (size_t k = 0; k < nh; k++) {
        bool f;
        rows_add(&tr.ssh_rows, ws, hosts[k], *tab_get(&best, hosts[k], 1, &f));
    }
#undef PUSH
    free(best.ka);
    free(best.kb);
    free(best.v);
    free(hosts);
    tab_clear(&tr.syn);
    tab_clear(&tr.scan_pairs);
    tab_clear(&tr.scan_src);
    tab_clear(&tr.ssh_tri);
    tab_clear(&tr.ssh_dl);
}

/* A TCP packet as written (ts already at microsecond precision). */
static void truth_tcp(uint64_t ts, uint32_t src, uint32_t dst, uint16_t dport,
                      uint8_t flags, uint16_t iplen)
{
    int64_t w = (int64_t)(ts / opt.window_ns);
    if (w != tr.win) {
        truth_close_window();
        tr.win = w;
    }
    bool f;
    /* syn_flood: SYNs in, SYN|ACKs out, pure ACKs in, per host */
    if (flags == 0x02)
        tab_get(&tr.syn, dst, 1, &f)[0]++;
    else if (flags == 0x12)
        tab_get(&tr.syn, src, 1, &f)[1]++;
    else if (flags == 0x10)
        tab_get(&tr.syn, dst, 1, &f)[2]++;
    /* port_scan */
    if (tab_get(&tr.scan_pairs, src, (uint64_t)dport + 1, &f), f)
        tab_get(&tr.scan_src, src, 1, &f)[0]++;
    /* ssh_brute */
    if (dport == 22 &&
        (tab_get(&tr.ssh_tri, (uint64_t)dst << 32 | src, (uint64_t)iplen + 1, &f), f))
        tab_get(&tr.ssh_dl, dst, (uint64_t)iplen + 1, &f)[0]++;
}

/* ------------------------------------------------------------ packets */

static uint8_t frame[2048];
static uint64_t n_flows[8];
static uint32_t max_snap;

static uint16_t csum_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint16_t ipid_next(uint32_t ip)
{
    static uint16_t ctr;
    return (uint16_t)(ctr++ ^ (uint16_t)hash64(ip));
}

/* Ethernet + IPv4 header; returns the offset of the L4 header. */
static size_t put_eth_ip(uint32_t src, uint32_t dst, uint8_t proto, size_t l4len)
{
    uint8_t *e = frame;
    e[0] = 0x02; e[1] = 0x00; put32(e + 2, dst);
    e[6] = 0x02; e[7] = 0x01; put32(e + 8, src);
    put16(e + 12, 0x0800);
    uint8_t *ip = frame + 14;
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, (uint16_t)(20 + l4len));
    put16(ip + 4, ipid_next(src));
    put16(ip + 6, proto == 6 ? 0x4000 : 0); /* DF on TCP */
    ip[8] = host_ttl(src);
    ip[9] = proto;
    put16(ip + 10, 0);
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    return 34;
}

static void emit(uint64_t ts, size_t len)
{
    uint32_t cap = (uint32_t)(len < opt.snaplen ? len : opt.snaplen);
    if (cap > max_snap)
        max_snap = cap;
    out_packet(ts, frame, cap, (uint32_t)len);
}

static uint32_t l4_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    uint32_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    return s + proto + (uint32_t)len;
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* payload: NULL means zero bytes (a zero sum: no need to touch them) */
static void tcp_pkt(uint64_t ts, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                    uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *payload,
                    size_t plen)
{
    bool syn = flags & F_SYN;
    size_t hl = syn ? 32 : 20;
    size_t off = put_eth_ip(src, dst, 6, hl + plen);
    uint8_t *t = frame + off;
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, (flags & F_ACK) ? ack : 0);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = flags;
    put16(t + 14, syn ? 64240 : (uint16_t)(502 + (hash64(src ^ dport) & 511)));
    put16(t + 16, 0);
    put16(t + 18, 0);
    if (syn) { /* MSS 1460, NOP, WS 7, NOP, NOP, SACK permitted */
        static const uint8_t o[12] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2};
        memcpy(t + 20, o, 12);
    }
    if (payload)
        memcpy(t + hl, payload, plen);
    else
        memset(t + hl, 0, plen);
    uint32_t s = l4_csum_pseudo(src, dst, 6, hl + plen);
    s = csum_add(s, t, hl + (payload ? plen : 0));
    put16(t + 16, csum_fold(s));
    emit(ts, off + hl + plen);
    if (tr.on)
        truth_tcp(ts, src, dst, dport, flags, (uint16_t)(20 + hl + plen));
}

static void udp_pkt(uint64_t ts, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                    const uint8_t *payload, size_t plen)
{
    size_t off = put_eth_ip(src, dst, 17, 8 + plen);
    uint8_t *u = frame + off;
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + plen));
    put16(u + 6, 0);
    if (payload)
        memcpy(u + 8, payload, plen);
    else
        memset(u + 8, 0, plen);
    uint32_t s = l4_csum_pseudo(src, dst, 17, 8 + plen);
    s = csum_add(s, u, 8 + (payload ? plen : 0));
    uint16_t c = csum_fold(s);
    put16(u + 6, c ? c : 0xffff);
    emit(ts, off + 8 + plen);
}

static void icmp_pkt(uint64_t ts, uint32_t src, uint32_t dst, uint8_t type, uint16_t id,
                     uint16_t seq)
{
    size_t off = put_eth_ip(src, dst, 1, 8 + 56);
    uint8_t *c = frame + off;
    c[0] = type;
    c[1] = 0;
    put16(c + 2, 0);
    put16(c + 4, id);
    put16(c + 6, seq);
    for (int i = 0; i < 56; i++)
        c[8 + i] = (uint8_t)(0x10 + i);
    put16(c + 2, csum_fold(csum_add(0, c, 64)));
    emit(ts, off + 64);
}

/* ---------------------------------------------------------------- DNS */

static const char *const top_names[] = {
    "google.com", "www.google.com", "youtube.com", "facebook.com", "www.facebook.com",
    "instagram.com", "twitter.com", "wikipedia.org", "en.wikipedia.org", "amazon.com",
    "www.amazon.com", "apple.com", "microsoft.com", "login.microsoftonline.com",
    "netflix.com", "linkedin.com", "github.com", "api.github.com", "reddit.com",
    "www.reddit.com", "cloudflare.com", "cdn.jsdelivr.net", "fonts.googleapis.com",
    "ajax.googleapis.com", "s3.amazonaws.com", "outlook.office365.com", "zoom.us",
    "slack.com", "dropbox.com", "stackoverflow.com", "bing.com", "yahoo.com",
    "ocsp.digicert.com", "time.windows.com", "update.microsoft.com", "ntp.ubuntu.com",
};
#define NTOP (sizeof top_names / sizeof top_names[0])
#define NNAMES 20000

static size_t dns_name(uint32_t idx, char *buf)
{
    if (idx < NTOP)
        return (size_t)sprintf(buf, "%s", top_names[idx]);
    static const char *const tld[] = {"com", "net", "org", "io", "de", "co.uk"};
    return (size_t)sprintf(buf, "host%u.site%u.%s", idx % 97, idx, tld[idx % 6]);
}

static uint32_t dns_ttl(uint32_t idx)
{
    static const uint32_t ttls[] = {60, 300, 300, 3600, 86400, 20};
    return ttls[hash64(idx + 99) % 6];
}

static size_t dns_encode(uint8_t *p, uint16_t id, bool resp, uint32_t idx, uint16_t qtype,
                         bool nx)
{
    char name[128];
    dns_name(idx, name);
    put16(p, id);
    put16(p + 2, resp ? (nx ? 0x8183 : 0x8180) : 0x0100);
    put16(p + 4, 1);
    put16(p + 6, resp && !nx ? 1 : 0);
    put16(p + 8, 0);
    put16(p + 10, 0);
    size_t n = 12;
    for (char *lab = name; *lab;) {
        char *dot = strchr(lab, '.');
        size_t l = dot ? (size_t)(dot - lab) : strlen(lab);
        p[n++] = (uint8_t)l;
        memcpy(p + n, lab, l);
        n += l;
        lab += l + (dot ? 1 : 0);
    }
    p[n++] = 0;
    put16(p + n, qtype);
    put16(p + n + 2, 1);
    n += 4;
    if (resp && !nx) {
        put16(p + n, 0xC00C);
        put16(p + n + 2, qtype);
        put16(p + n + 4, 1);
        put32(p + n + 6, dns_ttl(idx));
        uint64_t h = hash64(idx);
        if (qtype == 1) {
            put16(p + n + 10, 4);
            put32(p + n + 12, 0xC6120000u | (uint32_t)(h & 0x1ffff));
            n += 16;
        } else {
            put16(p + n + 10, 16);
            uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8};
            memcpy(a6 + 8, &h, 8);
            memcpy(p + n + 12, a6, 16);
            n += 28;
        }
    }
    return n;
}

/* --------------------------------------------------------------- flows */

enum kind { K_TCP, K_DNS, K_UDP, K_ICMP, K_FLOOD, K_FLOOD_REPLY, K_SCAN, K_SCAN_REPLY,
            K_BRUTE, K_VICTIM };

struct flow {
    uint64_t t;
    uint32_t c, s;
    uint16_t cp, sp;
    uint8_t kind, st, up, rst_end;
    uint32_t cseq, sseq;
    uint32_t left, since_ack, aux, aux2;
    uint32_t gap, rtt; /* ns */
    uint32_t last_len;
};

static struct flow **heap;
static size_t heap_n, heap_cap;
static struct flow *freelist_;

static struct flow *flow_new(void)
{
    struct flow *f = freelist_;
    if (f)
        freelist_ = *(struct flow **)f;
    else
        f = xcalloc(1, sizeof *f);
    memset(f, 0, sizeof *f);
    return f;
}

static void flow_free(struct flow *f)
{
    *(struct flow **)f = freelist_;
    freelist_ = f;
}

static void heap_push(struct flow *f)
{
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 1024;
        heap = xrealloc(heap, heap_cap * sizeof *heap);
    }
    size_t i = heap_n++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (heap[p]->t <= f->t)
            break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = f;
}

static struct flow *heap_pop(void)
{
    struct flow *top = heap[0], *last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t mt = last->t;
        if (l < heap_n && heap[l]->t < mt) { m = l; mt = heap[l]->t; }
        if (r < heap_n && heap[r]->t < mt) m = r;
        if (m == i)
            break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_n)
        heap[i] = last;
    return top;
}

static struct zipf z_server, z_client, z_segs, z_names;
static uint64_t t_end; /* ns; no new flows at or after */
static uint32_t client_rr;
static uint64_t cnt_flood_syn, cnt_flood_synack, cnt_scan_probes, cnt_scan_open, cnt_brute_conns,
    cnt_brute_attempts, cnt_victim_conns;

static uint16_t ephemeral(void) { return (uint16_t)between(32768, 60999); }

static uint32_t pick_client(void)
{
    if (opt.client_seq)
        return client_ip(client_rr++ % opt.clients);
    return client_ip((uint32_t)zipf_draw(&z_client));
}

static uint32_t rtt_ns(void)
{
    /* log-uniform 200 us .. 120 ms */
    return (uint32_t)(200e3 * exp(unif() * log(600.0)));
}

static void tcp_setup(struct flow *f, uint64_t t)
{
    f->t = t;
    f->kind = K_TCP;
    f->cp = ephemeral();
    f->cseq = (uint32_t)rnd();
    f->sseq = (uint32_t)rnd();
    f->rtt = rtt_ns();
    f->gap = (uint32_t)between(12000, 120000);
    f->left = (uint32_t)zipf_draw(&z_segs) + 1;
    f->last_len = (uint32_t)between(1, 1460);
    f->up = below(100) < 15;
    f->rst_end = below(100) < 3;
    f->aux = below(1000) < 15 ? 1 : 0; /* refused */
}

static void new_background_flow(uint64_t t)
{
    struct flow *f = flow_new();
    double u = unif() * (opt.mix_tcp + opt.mix_dns + opt.mix_udp + opt.mix_icmp);
    f->c = pick_client();
    if (u < opt.mix_tcp) {
        uint32_t j = (uint32_t)zipf_draw(&z_server);
        f->s = server_ip(j);
        tcp_setup(f, t);
        f->sp = server_port(j);
        n_flows[K_TCP]++;
    } else if (u < opt.mix_tcp + opt.mix_dns) {
        f->kind = K_DNS;
        f->t = t;
        f->s = resolver_ip((uint32_t)below(NRESOLVERS));
        f->cp = ephemeral();
        f->sp = 53;
        f->rtt = (uint32_t)between(300000, 30000000);
        f->aux = (uint32_t)zipf_draw(&z_names);
        f->aux2 = (uint32_t)rnd();
        n_flows[K_DNS]++;
    } else if (u < opt.mix_tcp + opt.mix_dns + opt.mix_udp) {
        f->kind = K_UDP;
        f->t = t;
        bool ntp = below(4) == 0;
        f->s = ntp ? ntp_ip((uint32_t)below(NNTP)) : server_ip((uint32_t)zipf_draw(&z_server));
        f->cp = ephemeral();
        f->sp = ntp ? 123 : 443;
        f->left = ntp ? 2 : (uint32_t)between(4, 40);
        f->rtt = rtt_ns();
        f->gap = (uint32_t)between(50000, 2000000);
        n_flows[K_UDP]++;
    } else {
        f->kind = K_ICMP;
        f->t = t;
        f->s = server_ip((uint32_t)zipf_draw(&z_server));
        f->cp = (uint16_t)rnd();
        f->left = (uint32_t)between(1, 4) * 2;
        f->rtt = rtt_ns();
        n_flows[K_ICMP]++;
    }
    heap_push(f);
}

static const uint8_t http_req[] =
    "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; "
    "Linux x86_64)\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n";

/* One step of a TCP connection (background flows, the victim's clients).
 * Returns false when the flow is over. */
static bool step_tcp(struct flow *f)
{
    uint64_t t = f->t;
    switch (f->st) {
    case 0: /* SYN */
        tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, 0, F_SYN, NULL, 0);
        f->cseq++;
        f->t += f->rtt;
        f->st = f->aux ? 9 : 1;
        return true;
    case 1: /* SYN|ACK */
        tcp_pkt(t, f->s, f->c, f->sp, f->cp, f->sseq, f->cseq, F_SYN | F_ACK, NULL, 0);
        f->sseq++;
        f->t += between(15000, 90000);
        f->st = 2;
        return true;
    case 2: /* ACK */
        tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, f->sseq, F_ACK, NULL, 0);
        f->t += between(10000, 300000);
        f->st = 3;
        return true;
    case 3: { /* request */
        size_t n = f->sp == 80 ? sizeof http_req - 1 : (size_t)between(80, 600);
        tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, f->sseq, F_PSH | F_ACK,
                f->sp == 80 ? http_req : NULL, n);
        f->cseq += (uint32_t)n;
        f->t += f->rtt;
        f->st = 4;
        return true;
    }
    case 4: { /* a data segment */
        uint32_t n = f->left > 1 ? 1460 : f->last_len;
        uint8_t fl = f->left > 1 ? F_ACK : F_PSH | F_ACK;
        if (f->up) {
            tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, f->sseq, fl, NULL, n);
            f->cseq += n;
        } else {
            tcp_pkt(t, f->s, f->c, f->sp, f->cp, f->sseq, f->cseq, fl, NULL, n);
            f->sseq += n;
        }
        f->left--;
        if (++f->since_ack == 2 || f->left == 0) {
            f->st = 5;
            f->t += between(5000, 40000);
        } else {
            f->t += f->gap;
        }
        return true;
    }
    case 5: /* the receiver's pure ACK */
        if (f->up)
            tcp_pkt(t, f->s, f->c, f->sp, f->cp, f->sseq, f->cseq, F_ACK, NULL, 0);
        else
            tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, f->sseq, F_ACK, NULL, 0);
        f->since_ack = 0;
        if (f->left) {
            f->st = 4;
            f->t += f->gap;
        } else {
            f->st = 6;
            f->t += between(1 * MS, 40 * MS);
        }
        return true;
    case 6: /* client closes */
        if (f->rst_end) {
            tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, f->sseq, F_RST | F_ACK, NULL, 0);
            return false;
        }
        tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, f->sseq, F_FIN | F_ACK, NULL, 0);
        f->cseq++;
        f->t += f->rtt;
        f->st = 7;
        return true;
    case 7:
        tcp_pkt(t, f->s, f->c, f->sp, f->cp, f->sseq, f->cseq, F_FIN | F_ACK, NULL, 0);
        f->sseq++;
        f->t += between(10000, 60000);
        f->st = 8;
        return true;
    case 8:
        tcp_pkt(t, f->c, f->s, f->cp, f->sp, f->cseq, f->sseq, F_ACK, NULL, 0);
        return false;
    case 9: /* refused */
        tcp_pkt(t, f->s, f->c, f->sp, f->cp, 0, f->cseq, F_RST | F_ACK, NULL, 0);
        return false;
    }
    return false;
}

static bool step_dns(struct flow *f)
{
    uint8_t p[512];
    uint16_t qtype = (f->aux2 & 7) < 2 ? 28 : 1;
    bool nx = (f->aux2 >> 8) % 100 < 4;
    if (f->st == 0) {
        size_t n = dns_encode(p, (uint16_t)(f->aux2 >> 16), false, f->aux, qtype, false);
        udp_pkt(f->t, f->c, f->s, f->cp, 53, p, n);
        f->t += f->rtt;
        f->st = 1;
        return true;
    }
    size_t n = dns_encode(p, (uint16_t)(f->aux2 >> 16), true, f->aux, qtype, nx);
    udp_pkt(f->t, f->s, f->c, 53, f->cp, p, n);
    return false;
}

static bool step_udp(struct flow *f)
{
    bool out = f->st++ % 2 == 0;
    size_t n = f->sp == 123 ? 48 : (out ? between(40, 1250) : between(40, 1350));
    if (out)
        udp_pkt(f->t, f->c, f->s, f->cp, f->sp, NULL, n);
    else
        udp_pkt(f->t, f->s, f->c, f->sp, f->cp, NULL, n);
    f->t += out ? f->rtt : f->gap;
    return --f->left > 0;
}

static bool step_icmp(struct flow *f)
{
    bool req = f->st % 2 == 0;
    uint16_t seq = (uint16_t)(f->st / 2 + 1);
    if (req)
        icmp_pkt(f->t, f->c, f->s, 8, f->cp, seq);
    else
        icmp_pkt(f->t, f->s, f->c, 0, f->cp, seq);
    f->st++;
    f->t += req ? f->rtt : 1 * NS - f->rtt;
    return --f->left > 0;
}

/* the flood: one SYN per step; the victim's SYN|ACK is a child flow */
static bool step_flood(struct flow *f)
{
    uint32_t src = SPOOF_NET | ((uint32_t)rnd() & SPOOF_MASK);
    if (!(src & 0xff))
        src |= 1;
    uint16_t sport = (uint16_t)between(1024, 65535);
    uint32_t seq = (uint32_t)rnd();
    tcp_pkt(f->t, src, FLOOD_VICTIM, sport, 80, seq, 0, F_SYN, NULL, 0);
    cnt_flood_syn++;
    struct flow *r = flow_new();
    r->kind = K_FLOOD_REPLY;
    r->t = f->t + between(20000, 200000);
    r->c = src;
    r->cp = sport;
    r->cseq = seq + 1;
    heap_push(r);
    f->t += expo_ns(1e9 / opt.flood.rate);
    return f->t < (uint64_t)f->aux2 * MS + opt.start_ns;
}

static bool step_flood_reply(struct flow *f)
{
    tcp_pkt(f->t, FLOOD_VICTIM, f->c, 80, f->cp, (uint32_t)rnd(), f->cseq, F_SYN | F_ACK, NULL, 0);
    cnt_flood_synack++;
    return false;
}

/* the scan: ports in a random order (a multiplicative permutation of 1..65535) */
#define SCAN_SPORT 47251
static bool scan_port_open(uint16_t p) { return p == 22 || p == 80 || p == 443; }

static bool step_scan(struct flow *f)
{
    uint32_t i = f->aux++;
    uint16_t port = (uint16_t)(((uint64_t)(i % 65535) * 40503u + f->aux2) % 65535 + 1);
    tcp_pkt(f->t, SCANNER, SCAN_TARGET, SCAN_SPORT, port, f->cseq, 0, F_SYN, NULL, 0);
    cnt_scan_probes++;
    struct flow *r = flow_new();
    r->kind = K_SCAN_REPLY;
    r->t = f->t + between(100000, 400000);
    r->sp = port;
    r->cseq = f->cseq + 1;
    r->rtt = 150000;
    heap_push(r);
    f->t += (uint64_t)(1e9 / opt.scan.rate);
    return f->t < f->left * MS + opt.start_ns;
}

static bool step_scan_reply(struct flow *f)
{
    if (!scan_port_open(f->sp)) {
        tcp_pkt(f->t, SCAN_TARGET, SCANNER, f->sp, SCAN_SPORT, 0, f->cseq, F_RST | F_ACK, NULL, 0);
        return false;
    }
    if (f->st == 0) {
        tcp_pkt(f->t, SCAN_TARGET, SCANNER, f->sp, SCAN_SPORT, 0x1000 + f->sp, f->cseq,
                F_SYN | F_ACK, NULL, 0);
        cnt_scan_open++;
        f->st = 1;
        f->t += f->rtt;
        return true;
    }
    tcp_pkt(f->t, SCANNER, SCAN_TARGET, SCAN_SPORT, f->sp, f->cseq, 0, F_RST, NULL, 0);
    return false;
}

/* SSH brute force: one flow per attacker, reconnecting after each session.
 * Client and server packet sizes are those of one tool (same for everyone). */
#define SSH_AUTH_LEN 84     /* TCP payload of a password attempt */
#define SSH_TRIES 3
static bool step_brute(struct flow *f)
{
    static const uint8_t sbanner[] = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n";
    static const uint8_t cbanner[] = "SSH-2.0-libssh2_1.10.0\r\n";
    uint64_t t = f->t;
    uint64_t small = between(20000, 60000);
    switch (f->st) {
    case 0:
        f->cp = ephemeral();
        f->cseq = (uint32_t)rnd();
        f->sseq = (uint32_t)rnd();
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq++, 0, F_SYN, NULL, 0);
        cnt_brute_conns++;
        f->aux = 0;
        f->t += f->rtt;
        break;
    case 1:
        tcp_pkt(t, SSH_SERVER, f->c, 22, f->cp, f->sseq++, f->cseq, F_SYN | F_ACK, NULL, 0);
        f->t += small;
        break;
    case 2:
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq, f->sseq, F_ACK, NULL, 0);
        f->t += f->rtt;
        break;
    case 3:
        tcp_pkt(t, SSH_SERVER, f->c, 22, f->cp, f->sseq, f->cseq, F_PSH | F_ACK, sbanner,
                sizeof sbanner - 1);
        f->sseq += sizeof sbanner - 1;
        f->t += small;
        break;
    case 4:
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq, f->sseq, F_PSH | F_ACK, cbanner,
                sizeof cbanner - 1);
        f->cseq += sizeof cbanner - 1;
        f->t += small;
        break;
    case 5: /* KEXINIT */
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq, f->sseq, F_PSH | F_ACK, NULL, 1392);
        f->cseq += 1392;
        f->t += f->rtt;
        break;
    case 6:
        tcp_pkt(t, SSH_SERVER, f->c, 22, f->cp, f->sseq, f->cseq, F_PSH | F_ACK, NULL, 1080);
        f->sseq += 1080;
        f->t += small;
        break;
    case 7: /* ECDH init */
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq, f->sseq, F_PSH | F_ACK, NULL, 48);
        f->cseq += 48;
        f->t += f->rtt;
        break;
    case 8: /* ECDH reply, NEWKEYS */
        tcp_pkt(t, SSH_SERVER, f->c, 22, f->cp, f->sseq, f->cseq, F_PSH | F_ACK, NULL, 564);
        f->sseq += 564;
        f->t += small;
        break;
    case 9: /* NEWKEYS, service request */
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq, f->sseq, F_PSH | F_ACK, NULL, 60);
        f->cseq += 60;
        f->t += f->rtt;
        break;
    case 10: /* a password attempt */
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq, f->sseq, F_PSH | F_ACK, NULL,
                SSH_AUTH_LEN);
        f->cseq += SSH_AUTH_LEN;
        cnt_brute_attempts++;
        f->t += f->rtt + between(1 * MS, 3 * MS); /* the server's delay on failure */
        break;
    case 11: /* failure */
        tcp_pkt(t, SSH_SERVER, f->c, 22, f->cp, f->sseq, f->cseq, F_PSH | F_ACK, NULL, 52);
        f->sseq += 52;
        f->t += small;
        if (++f->aux < SSH_TRIES) {
            f->st = 10;
            return true;
        }
        break;
    case 12:
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq++, f->sseq, F_FIN | F_ACK, NULL, 0);
        f->t += f->rtt;
        break;
    case 13:
        tcp_pkt(t, SSH_SERVER, f->c, 22, f->cp, f->sseq++, f->cseq, F_FIN | F_ACK, NULL, 0);
        f->t += small;
        break;
    case 14:
        tcp_pkt(t, f->c, SSH_SERVER, f->cp, 22, f->cseq, f->sseq, F_ACK, NULL, 0);
        f->st = 0;
        f->t += between(200 * MS, 1200 * MS); /* the next session */
        return f->t < (uint64_t)f->aux2 * MS + opt.start_ns;
    }
    f->st++;
    return true;
}

/* legitimate clients of the flood victim: small HTTP fetches, all through */
static bool step_victim(struct flow *f)
{
    struct flow *c = flow_new();
    c->c = pick_client();
    c->s = FLOOD_VICTIM;
    tcp_setup(c, f->t);
    c->sp = 80;
    c->left = (uint32_t)between(1, 6);
    c->aux = 0;
    c->rst_end = 0;
    c->up = 0;
    heap_push(c);
    cnt_victim_conns++;
    f->t += expo_ns(1e9 / opt.victim_conns);
    return f->t < t_end;
}

static bool step(struct flow *f)
{
    switch (f->kind) {
    case K_TCP: return step_tcp(f);
    case K_DNS: return step_dns(f);
    case K_UDP: return step_udp(f);
    case K_ICMP: return step_icmp(f);
    case K_FLOOD: return step_flood(f);
    case K_FLOOD_REPLY: return step_flood_reply(f);
    case K_SCAN: return step_scan(f);
    case K_SCAN_REPLY: return step_scan_reply(f);
    case K_BRUTE: return step_brute(f);
    case K_VICTIM: return step_victim(f);
    }
    return false;
}

/* ---------------------------------------------------------- truth JSON */

static void json_rows(FILE *j, const char *name, const struct rows *r, const char *col,
                      const char *valname, int thr, int64_t bg, uint32_t bgh, int64_t bgws,
                      bool last)
{
    char ip[16];
    fprintf(j, "    \"%s\": {\"threshold\": %d, \"rows\": [", name, thr);
    for (size_t i = 0; i < r->n; i++) {
        ip_str(r->r[i].host, ip);
        fprintf(j, "%s\n      {\"window_start\": %" PRId64 ", \"window_end\": %" PRId64
                   ", \"%s\": \"%s\", \"%s\": %" PRId64 ", \"role\": \"%s\"}",
                i ? "," : "", r->r[i].ws, r->r[i].ws + (int64_t)opt.window_ns, col, ip,
                valname, r->r[i].value, role(r->r[i].host));
    }
    ip_str(bgh, ip);
    if (bg == INT64_MIN || bg < 0 || bgh == 0)
        fprintf(j, "%s],\n      \"background_max\": %" PRId64 "}%s\n", r->n ? "\n    " : "",
                bg == INT64_MIN ? 0 : bg, last ? "" : ",");
    else
        fprintf(j, "%s],\n      \"background_max\": %" PRId64
                   ", \"background_max_host\": \"%s\", \"background_max_window_start\": %" PRId64
                   "}%s\n",
                r->n ? "\n    " : "", bg, ip, bgws, last ? "" : ",");
}

static void write_truth(uint64_t first, uint64_t last)
{
    FILE *j = strcmp(opt.truth, "-") == 0 ? stdout : fopen(opt.truth, "w");
    if (!j)
        die("cannot write", opt.truth);
    char a[16], b[16], c[16];
    fprintf(j, "{\n  \"generator\": \"htsgen synth\",\n  \"seed\": %" PRIu64
               ",\n  \"packets\": %" PRIu64 ",\n  \"wire_bytes\": %" PRIu64
               ",\n  \"first_ts_ns\": %" PRIu64 ",\n  \"last_ts_ns\": %" PRIu64
               ",\n  \"window_ns\": %" PRIu64 ",\n",
            opt.seed, out_packets, out_bytes, first, last, opt.window_ns);
    fprintf(j, "  \"flows\": {\"tcp\": %" PRIu64 ", \"dns\": %" PRIu64 ", \"udp\": %" PRIu64
               ", \"icmp\": %" PRIu64 "},\n",
            n_flows[K_TCP], n_flows[K_DNS], n_flows[K_UDP], n_flows[K_ICMP]);
    fprintf(j, "  \"attacks\": {\n");
    ip_str(FLOOD_VICTIM, a);
    fprintf(j, "    \"syn_flood\": {\"victim\": \"%s\", \"port\": 80, \"spoofed_from\": "
               "\"100.64.0.0/10\", \"rate_pps\": %g, \"start_ns\": %" PRIu64 ", \"end_ns\": %" PRIu64
               ", \"syns\": %" PRIu64 ", \"synacks\": %" PRIu64
               ", \"legit_conns_to_victim\": %" PRIu64 "},\n",
            a, opt.flood.dur > 0 ? opt.flood.rate : 0,
            opt.start_ns + (uint64_t)(opt.flood.start * 1e9),
            opt.start_ns + (uint64_t)((opt.flood.start + opt.flood.dur) * 1e9), cnt_flood_syn,
            cnt_flood_synack, cnt_victim_conns);
    ip_str(SCANNER, a);
    ip_str(SCAN_TARGET, b);
    fprintf(j, "    \"port_scan\": {\"scanner\": \"%s\", \"target\": \"%s\", \"rate_pps\": %g, "
               "\"start_ns\": %" PRIu64 ", \"end_ns\": %" PRIu64 ", \"probes\": %" PRIu64
               ", \"open_answers\": %" PRIu64 "},\n",
            a, b, opt.scan.dur > 0 ? opt.scan.rate : 0,
            opt.start_ns + (uint64_t)(opt.scan.start * 1e9),
            opt.start_ns + (uint64_t)((opt.scan.start + opt.scan.dur) * 1e9), cnt_scan_probes,
            cnt_scan_open);
    ip_str(SSH_SERVER, a);
    int na = opt.brute.dur > 0 ? (int)opt.brute.rate : 0;
    ip_str(brute_attacker(0), b);
    ip_str(na ? brute_attacker((uint32_t)na - 1) : brute_attacker(0), c);
    fprintf(j, "    \"ssh_brute\": {\"server\": \"%s\", \"attackers\": %d, \"first_attacker\": "
               "\"%s\", \"last_attacker\": \"%s\", \"auth_ipv4_len\": %d, \"start_ns\": %" PRIu64
               ", \"end_ns\": %" PRIu64 ", \"connections\": %" PRIu64 ", \"attempts\": %" PRIu64 "}\n",
            a, na, b, c, 40 + SSH_AUTH_LEN, opt.start_ns + (uint64_t)(opt.brute.start * 1e9),
            opt.start_ns + (uint64_t)((opt.brute.start + opt.brute.dur) * 1e9), cnt_brute_conns,
            cnt_brute_attempts);
    fprintf(j, "  }");
    if (tr.on) {
        fprintf(j, ",\n  \"expected\": {\n");
        json_rows(j, "syn_flood", &tr.syn_rows, "host", "half_open", opt.thr_syn, tr.bg_syn,
                  tr.bg_syn_host, tr.bg_syn_ws, false);
        json_rows(j, "port_scan", &tr.scan_rows, "ipv4.src", "ports", opt.thr_scan, tr.bg_scan,
                  tr.bg_scan_host, tr.bg_scan_ws, false);
        json_rows(j, "ssh_brute", &tr.ssh_rows, "ipv4.dst", "max_srcs_per_len", opt.thr_ssh,
                  tr.bg_ssh, tr.bg_ssh_host, tr.bg_ssh_ws, true);
        fprintf(j, "  }");
    }
    fprintf(j, "\n}\n");
    if (j != stdout)
        fclose(j);
}

/* ---------------------------------------------------------------- synth */

static void parse_attack(const char *s, struct attack *a)
{
    double r, st, d;
    if (strcmp(s, "off") == 0) {
        a->set = true;
        a->dur = 0;
        return;
    }
    if (sscanf(s, "%lf,%lf,%lf", &r, &st, &d) != 3 || r <= 0 || st < 0 || d < 0)
        die("an attack is RATE,START,DURATION (seconds) or off", s);
    a->rate = r;
    a->start = st;
    a->dur = d;
    a->set = true;
}

static void parse_mix(const char *s)
{
    opt.mix_tcp = opt.mix_dns = opt.mix_udp = opt.mix_icmp = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            die("--mix is tcp=W,dns=W,udp=W,icmp=W", s);
        *eq = 0;
        double w = atof(eq + 1);
        if (!strcmp(tok, "tcp")) opt.mix_tcp = w;
        else if (!strcmp(tok, "dns")) opt.mix_dns = w;
        else if (!strcmp(tok, "udp")) opt.mix_udp = w;
        else if (!strcmp(tok, "icmp")) opt.mix_icmp = w;
        else die("--mix: unknown kind", tok);
    }
    if (opt.mix_tcp + opt.mix_dns + opt.mix_udp + opt.mix_icmp <= 0)
        die("--mix: all weights are zero", s);
}

static double mean_flow_packets(void)
{
    double segs = z_segs.mean, tcp = 8 + segs * 1.5;
    double w = opt.mix_tcp + opt.mix_dns + opt.mix_udp + opt.mix_icmp;
    return (opt.mix_tcp * tcp + opt.mix_dns * 2 + opt.mix_udp * (0.25 * 2 + 0.75 * 22) +
            opt.mix_icmp * 5) /
           w;
}

static void usage(void)
{
    fputs(
        "usage: htsgen synth -o OUT.pcap [--truth FILE.json|-] [options]\n"
        "       htsgen replay IN.pcap N -o OUT.pcap [--gap SECONDS] [--addr-stride HEX]\n"
        "synth options:\n"
        "  --seed N            random seed (1)\n"
        "  --packets N         stop after N packets\n"
        "  --duration S        seconds of traffic (default: packets / rate, or 10)\n"
        "  --rate PPS          mean background packets per second of trace time (50000)\n"
        "  --clients N         client hosts in 10.0.0.0/8 (20000)\n"
        "  --servers N         servers in 198.18.0.0/15 (2000)\n"
        "  --client-zipf S     client activity skew, 0 = uniform (0.8)\n"
        "  --client-seq        clients in turn (every client once before any twice)\n"
        "  --server-zipf S     server popularity skew (1.0)\n"
        "  --flow-zipf S       flow size in segments ~ k^-S on 1..max (1.7)\n"
        "  --max-segs N        largest flow in data segments (10000)\n"
        "  --mix tcp=W,dns=W,udp=W,icmp=W   flow mix (tcp=.80,dns=.15,udp=.04,icmp=.01)\n"
        "  --start EPOCH_S     time of the first packet (1704067200)\n"
        "  --snaplen N         captured bytes per frame (65535; >= 96)\n"
        "  --syn-flood PPS,START,DUR   SYN flood (default 2000 pps at 20%..40% of the trace)\n"
        "  --scan PPS,START,DUR        port scan (default 500 probes/s at 50%..70%)\n"
        "  --ssh-brute N,START,DUR     SSH brute force by N attackers (default 60 at 60%..90%)\n"
        "  --victim-conns R    legitimate connections/s to the flood victim (20)\n"
        "  --no-attacks        background only\n"
        "  --window S          window of the ground truth (3)\n"
        "  --thresholds SYN,SCAN,SSH   thresholds of the ground truth (3,40,40: the queries')\n",
        stderr);
    exit(2);
}

static int synth(int argc, char **argv)
{
    bool have_dur = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG() (v ? (i++, v) : (die("missing value for", a), ""))
        if (!strcmp(a, "-o")) opt.out = ARG();
        else if (!strcmp(a, "--truth")) opt.truth = ARG();
        else if (!strcmp(a, "--seed")) opt.seed = strtoull(ARG(), NULL, 0);
        else if (!strcmp(a, "--packets")) opt.packets = strtoull(ARG(), NULL, 0);
        else if (!strcmp(a, "--duration")) { opt.duration = atof(ARG()); have_dur = true; }
        else if (!strcmp(a, "--rate")) opt.rate = atof(ARG());
        else if (!strcmp(a, "--clients")) opt.clients = (uint32_t)strtoul(ARG(), NULL, 0);
        else if (!strcmp(a, "--servers")) opt.servers = (uint32_t)strtoul(ARG(), NULL, 0);
        else if (!strcmp(a, "--client-zipf")) opt.client_zipf = atof(ARG());
        else if (!strcmp(a, "--client-seq")) opt.client_seq = true;
        else if (!strcmp(a, "--server-zipf")) opt.server_zipf = atof(ARG());
        else if (!strcmp(a, "--flow-zipf")) opt.flow_zipf = atof(ARG());
        else if (!strcmp(a, "--max-segs")) opt.max_segs = (uint32_t)strtoul(ARG(), NULL, 0);
        else if (!strcmp(a, "--mix")) parse_mix(ARG());
        else if (!strcmp(a, "--start")) opt.start_ns = strtoull(ARG(), NULL, 0) * NS;
        else if (!strcmp(a, "--snaplen")) opt.snaplen = (uint32_t)strtoul(ARG(), NULL, 0);
        else if (!strcmp(a, "--syn-flood")) parse_attack(ARG(), &opt.flood);
        else if (!strcmp(a, "--scan")) parse_attack(ARG(), &opt.scan);
        else if (!strcmp(a, "--ssh-brute")) parse_attack(ARG(), &opt.brute);
        else if (!strcmp(a, "--victim-conns")) opt.victim_conns = atof(ARG());
        else if (!strcmp(a, "--no-attacks")) opt.attacks = false;
        else if (!strcmp(a, "--window")) opt.window_ns = (uint64_t)(atof(ARG()) * 1e9);
        else if (!strcmp(a, "--thresholds")) {
            if (sscanf(ARG(), "%d,%d,%d", &opt.thr_syn, &opt.thr_scan, &opt.thr_ssh) != 3)
                die("--thresholds is SYN,SCAN,SSH", v);
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage();
        else die("unknown option", a);
#undef ARG
    }
    if (!opt.out)
        usage();
    if (opt.clients == 0 || opt.clients > 16000000)
        die("--clients must be 1..16000000", NULL);
    if (opt.servers == 0 || opt.servers > 130000)
        die("--servers must be 1..130000", NULL);
    if (opt.snaplen < 96)
        die("--snaplen must be at least 96 (the headers must stay whole)", NULL);
    if (opt.rate <= 0 || opt.window_ns == 0 || opt.max_segs == 0)
        die("--rate, --window and --max-segs must be positive", NULL);
    if (opt.brute.set && opt.brute.rate > 508)
        die("--ssh-brute: at most 508 attackers", NULL);
    if (!have_dur)
        opt.duration = opt.packets ? (double)opt.packets / opt.rate : 10.0;
    double D = opt.duration;
    if (!opt.attacks) {
        opt.flood.dur = opt.scan.dur = opt.brute.dur = 0;
        opt.victim_conns = 0;
    } else {
        if (!opt.flood.set) opt.flood = (struct attack){2000, 0.2 * D, 0.2 * D, true};
        if (!opt.scan.set) opt.scan = (struct attack){500, 0.5 * D, 0.2 * D, true};
        if (!opt.brute.set) opt.brute = (struct attack){60, 0.6 * D, 0.3 * D, true};
    }

    rnd_seed(opt.seed);
    zipf_init(&z_server, opt.servers, opt.server_zipf);
    zipf_init(&z_client, opt.client_seq ? 1 : opt.clients, opt.client_zipf);
    zipf_init(&z_segs, opt.max_segs, opt.flow_zipf);
    zipf_init(&z_names, NNAMES, 0.9);
    /* clients in a scrambled order of activity, so that the busiest are not 10.0.0.1.. */
    double flows_per_s = opt.rate / mean_flow_packets();

    tr.on = opt.truth != NULL;
    if (tr.on) {
        tab_init(&tr.syn, 1024);
        tab_init(&tr.scan_pairs, 1024);
        tab_init(&tr.scan_src, 1024);
        tab_init(&tr.ssh_tri, 1024);
        tab_init(&tr.ssh_dl, 1024);
        tr.bg_syn = tr.bg_scan = tr.bg_ssh = INT64_MIN;
    }
    out_open(opt.out, 1, opt.snaplen);

    uint64_t t0 = opt.start_ns;
    /* --packets without --duration: flows keep arriving until the count is reached */
    t_end = opt.packets && !have_dur ? UINT64_MAX : t0 + (uint64_t)(D * 1e9);
    uint64_t next_arrival = t0;
    if (opt.flood.dur > 0) {
        struct flow *f = flow_new();
        f->kind = K_FLOOD;
        f->t = t0 + (uint64_t)(opt.flood.start * 1e9);
        f->aux2 = (uint32_t)((opt.flood.start + opt.flood.dur) * 1e3); /* end, ms */
        heap_push(f);
    }
    if (opt.victim_conns > 0) {
        struct flow *f = flow_new();
        f->kind = K_VICTIM;
        f->t = t0 + expo_ns(1e9 / opt.victim_conns);
        heap_push(f);
    }
    if (opt.scan.dur > 0) {
        struct flow *f = flow_new();
        f->kind = K_SCAN;
        f->t = t0 + (uint64_t)(opt.scan.start * 1e9);
        f->left = (uint32_t)((opt.scan.start + opt.scan.dur) * 1e3);
        f->cseq = (uint32_t)rnd();
        f->aux2 = (uint32_t)below(65535);
        heap_push(f);
    }
    if (opt.brute.dur > 0) {
        for (uint32_t k = 0; k < (uint32_t)opt.brute.rate; k++) {
            struct flow *f = flow_new();
            f->kind = K_BRUTE;
            f->c = brute_attacker(k);
            f->t = t0 + (uint64_t)(opt.brute.start * 1e9) + below(500 * MS);
            f->rtt = (uint32_t)between(20 * MS, 150 * MS);
            f->aux2 = (uint32_t)((opt.brute.start + opt.brute.dur) * 1e3);
            heap_push(f);
        }
    }

    uint64_t first = 0, last = 0;
    for (;;) {
        if (opt.packets && out_packets >= opt.packets)
            break;
        bool arrivals = next_arrival < t_end;
        if (!arrivals && heap_n == 0)
            break;
        if (arrivals && (heap_n == 0 || next_arrival <= heap[0]->t)) {
            new_background_flow(next_arrival);
            next_arrival += expo_ns(1e9 / flows_per_s);
            continue;
        }
        struct flow *f = heap_pop();
        f->t -= f->t % US; /* what the file keeps */
        if (!first)
            first = f->t;
        last = f->t;
        if (step(f))
            heap_push(f);
        else
            flow_free(f);
    }
    out_close();
    if (tr.on) {
        truth_close_window();
        write_truth(first, last);
    }
    fprintf(stderr,
            "htsgen: %" PRIu64 " packets, %.1f MB on the wire, %.2f s of traffic (%.0f pkt/s); "
            "flows: %" PRIu64 " tcp, %" PRIu64 " dns, %" PRIu64 " udp, %" PRIu64 " icmp; "
            "flood %" PRIu64 " SYNs, scan %" PRIu64 " probes, brute %" PRIu64 " attempts\n",
            out_packets, (double)out_bytes / 1e6, (double)(last - first) / 1e9,
            last > first ? (double)out_packets / ((double)(last - first) / 1e9) : 0.0,
            n_flows[K_TCP], n_flows[K_DNS], n_flows[K_UDP], n_flows[K_ICMP], cnt_flood_syn,
            cnt_scan_probes, cnt_brute_attempts);
    return 0;
}

/* --------------------------------------------------------------- replay */

/* RFC 1624: the checksum at p after a 16-bit word changes from o to n */
static void csum_patch(uint8_t *p, uint16_t o, uint16_t n)
{
    uint32_t c = (uint16_t) ~((uint32_t)p[0] << 8 | p[1]);
    c += (uint16_t)~o;
    c += n;
    while (c >> 16)
        c = (c & 0xffff) + (c >> 16);
    put16(p, (uint16_t)~c);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void shift_ip4(uint8_t *ip, size_t len, uint32_t add)
{
    if (len < 20 || (ip[0] >> 4) != 4)
        return;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (ihl < 20 || len < ihl)
        return;
    uint8_t proto = ip[9];
    bool first_frag = (get16(ip + 6) & 0x1fff) == 0;
    uint8_t *l4 = ip + ihl;
    size_t l4len = len - ihl;
    uint8_t *l4sum = NULL;
    if (first_frag && proto == 6 && l4len >= 18)
        l4sum = l4 + 16;
    else if (first_frag && proto == 17 && l4len >= 8 && get16(l4 + 6) != 0)
        l4sum = l4 + 6;
    for (int a = 12; a <= 16; a += 4) {
        uint32_t o = get32(ip + a), n = o + add;
        put32(ip + a, n);
        csum_patch(ip + 10, (uint16_t)(o >> 16), (uint16_t)(n >> 16));
        csum_patch(ip + 10, (uint16_t)o, (uint16_t)n);
        if (l4sum) {
            csum_patch(l4sum, (uint16_t)(o >> 16), (uint16_t)(n >> 16));
            csum_patch(l4sum, (uint16_t)o, (uint16_t)n);
        }
    }
    if (l4sum && proto == 17 && get16(l4sum) == 0)
        put16(l4sum, 0xffff);
}

static void shift_ip6(uint8_t *ip, size_t len, uint32_t add)
{
    if (len < 40 || (ip[0] >> 4) != 6)
        return;
    uint8_t nh = ip[6];
    uint8_t *l4sum = NULL;
    if (nh == 6 && len >= 40 + 18)
        l4sum = ip + 40 + 16;
    else if (nh == 17 && len >= 48)
        l4sum = ip + 40 + 6;
    for (int a = 8; a <= 24; a += 16) {
        uint32_t o = get32(ip + a + 8), n = o + add;
        put32(ip + a + 8, n);
        if (l4sum) {
            csum_patch(l4sum, (uint16_t)(o >> 16), (uint16_t)(n >> 16));
            csum_patch(l4sum, (uint16_t)o, (uint16_t)n);
        }
    }
}

static void shift_frame(uint8_t *p, size_t len, int dlt, uint32_t add)
{
    size_t off;
    uint16_t et;
    switch (dlt) {
    case DLT_EN10MB:
        if (len < 14)
            return;
        off = 14;
        et = get16(p + 12);
        while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && len >= off + 4) {
            et = get16(p + off + 2);
            off += 4;
        }
        break;
    case DLT_LINUX_SLL:
        if (len < 16)
            return;
        off = 16;
        et = get16(p + 14);
        break;
    case DLT_RAW:
    case 101:
        off = 0;
        et = len && (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
        break;
    default:
        return;
    }
    if (et == 0x0800)
        shift_ip4(p + off, len - off, add);
    else if (et == 0x86dd)
        shift_ip6(p + off, len - off, add);
}

static int replay(int argc, char **argv)
{
    if (argc < 4)
        usage();
    const char *in = argv[2];
    long copies = strtol(argv[3], NULL, 0);
    const char *out = NULL;
    double gap = 1.0;
    uint32_t stride = 0x00010000;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--gap") && i + 1 < argc) gap = atof(argv[++i]);
        else if (!strcmp(argv[i], "--addr-stride") && i + 1 < argc)
            stride = (uint32_t)strtoul(argv[++i], NULL, 0);
        else die("unknown option", argv[i]);
    }
    if (!out || copies < 1)
        usage();
    char err[PCAP_ERRBUF_SIZE];
    /* first pass: span and link type */
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc)
        die(err, NULL);
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t first = 0, lastt = 0, n = 0;
    int r;
    while ((r = pcap_next_ex(pc, &h, &d)) == 1) {
        uint64_t t = (uint64_t)h->ts.tv_sec * NS + (uint64_t)h->ts.tv_usec;
        if (!n || t < first)
            first = t;
        if (t > lastt)
            lastt = t;
        n++;
    }
    pcap_close(pc);
    if (n == 0)
        die("no packets in", in);
    uint64_t step_ns = lastt - first + (uint64_t)(gap * 1e9);
    step_ns -= step_ns % US;
    if (step_ns == 0)
        step_ns = US;
    out_open(out, (uint32_t)dlt, 262144);
    uint8_t *buf = xcalloc(262144, 1);
    for (long k = 0; k < copies; k++) {
        pc = pcap_open_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, err);
        if (!pc)
            die(err, NULL);
        while ((r = pcap_next_ex(pc, &h, &d)) == 1) {
            uint64_t t = (uint64_t)h->ts.tv_sec * NS + (uint64_t)h->ts.tv_usec;
            uint32_t cl = h->caplen > 262144 ? 262144 : h->caplen;
            memcpy(buf, d, cl);
            if (k)
                shift_frame(buf, cl, dlt, (uint32_t)k * stride);
            out_packet(t + (uint64_t)k * step_ns, buf, cl, h->len);
        }
        pcap_close(pc);
    }
    out_close();
    free(buf);
    fprintf(stderr, "htsgen: %" PRIu64 " packets (%ld copies of %" PRIu64 "), %.3f s apart\n",
            out_packets, copies, n, (double)step_ns / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (!strcmp(argv[1], "synth"))
        return synth(argc, argv);
    if (!strcmp(argv[1], "replay"))
        return replay(argc, argv);
    usage();
    return 2;
}
