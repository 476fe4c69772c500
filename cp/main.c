/*
 * htscp - the control plane that runs next to a switch loaded with a
 * program of `htsc compile --target v1model`.
 *
 *   htscp --plan DIR/NAME.plan.json --entries DIR/NAME.entries
 *         --switch HOST:PORT --cpu-iface IFACE [--poll MS]
 *
 * It puts NAME.entries into the switch (tables, the mirror session), then
 * closes windows for as long as it runs. The data plane keeps each window's
 * state in one of two register banks, chosen by the window's parity, and
 * records the latest packet time it has seen (hts_maxts) and, per bank, the
 * window it holds (qQ_owner). Each poll, htscp reads the time; a bank whose
 * window has ended is read, handed to the data-plane model's window end
 * (exec/model.h, dpm_cp_*: the very records `htsc emulate` sends: rows past
 * the threshold, partial records, spill dumps), cleared and freed; then, when
 * time has crossed a window boundary, a watermark record follows. The frames
 * go into the switch's CPU port (CPU_PORT in the P4) through IFACE and leave
 * on the report port behind every clone sent before them, numbered in the
 * same sequence: the host sees one ordered stream. While htscp reads window
 * W, packets of W+1 fill the other bank; a packet that finds its bank still
 * held (htscp more than a window behind) is counted in qQ_overrun, and
 * htscp reports that count. On SIGINT or SIGTERM it closes every window still
 * held and exits. docs/targets.md, "Windows on a switch that never pauses".
 *
 * The switch is reached through cp/switch.h; BMv2's Thrift API (cp/bmv2.c)
 * is the one back end today.
 */
#include "model.h"
#include "plan.h"
#include "switch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN 512

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct cp {
    const struct plan *p;
    const struct sw_ops *ops;
    struct sw *sw;
    struct dpm *m;
    int fd;             /* raw socket on the CPU interface */
    int ifindex;
    bool *banked;       /* per query: windows in the data plane, with state */
    int64_t *hops;      /* hop lengths of windowed queries */
    int nhops;
    int64_t wm_sent;    /* the last watermark sent, -1 none */
    int64_t last_ts;    /* the switch's time when the banks were last looked at */
    uint64_t windows, frames, send_errors, bad_slots;
    char err[ERRLEN];
};

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "htscp: %s: %s\n", what, msg);
    exit(1);
}

/* ---- frames to the switch's CPU port ---- */

static void send_frame(void *ctx, const uint8_t *frame, size_t len, uint64_t ts)
{
    struct cp *c = ctx;
    (void)ts;
    for (;;) {
        ssize_t n = send(c->fd, frame, len, 0);
        if (n == (ssize_t)len) {
            c->frames++;
            return;
        }
        if (n < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
            struct timespec d = {0, 100000};
            nanosleep(&d, NULL);
            continue;
        }
        c->send_errors++;
        fprintf(stderr, "htscp: sending a report frame of %zu bytes: %s\n", len,
                n < 0 ? strerror(errno) : "short write");
        return;
    }
}

static int open_iface(struct cp *c, const char *iface)
{
    c->ifindex = (int)if_nametoindex(iface);
    if (!c->ifindex) {
        snprintf(c->err, sizeof c->err, "no interface '%s'", iface);
        return -1;
    }
    c->fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (c->fd < 0) {
        snprintf(c->err, sizeof c->err, "raw socket: %s (htscp needs CAP_NET_RAW)",
                 strerror(errno));
        return -1;
    }
    struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                            .sll_ifindex = c->ifindex};
    if (bind(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        snprintf(c->err, sizeof c->err, "bind to %s: %s", iface, strerror(errno));
        return -1;
    }
    int zero = 0; /* send only: take nothing in */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof zero);
    return 0;
}

/* ---- NAME.entries (simple_switch_CLI's syntax, what p4gen writes) ---- */

/* A number (decimal or 0x hex) into big-endian bytes. */
static bool parse_bytes(const char *s, struct sw_bytes *out)
{
    memset(out, 0, sizeof *out);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        size_t n = strlen(s + 2);
        if (!n || n > 32)
            return false;
        for (size_t i = 0; i < n; i++) {
            char ch = s[2 + n - 1 - i];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
            if (d < 0)
                return false;
            out->b[15 - i / 2] |= (uint8_t)(d << (4 * (i % 2)));
        }
        return true;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno)
        return false;
    for (int i = 0; i < 8; i++)
        out->b[15 - i] = (uint8_t)(v >> (8 * i));
    return true;
}

static int load_entries(struct cp *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(c->err, sizeof c->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *tok[64];
        int nt = 0;
        for (char *t = strtok(line, " \t\r\n"); t && nt < 64; t = strtok(NULL, " \t\r\n"))
            tok[nt++] = t;
        if (!nt || tok[0][0] == '#')
            continue;
        char e[ERRLEN / 2] = "";
        int rc = -1;
        if (!strcmp(tok[0], "mirroring_add") && nt == 3) {
            rc = c->ops->mirror_add(c->sw, atoi(tok[1]), atoi(tok[2]), e, sizeof e);
        } else if (!strcmp(tok[0], "table_set_default") && nt >= 3) {
            struct sw_bytes par[SW_MAX_PARAMS];
            int np = 0;
            rc = 0;
            for (int i = 3; i < nt; i++)
                if (np == SW_MAX_PARAMS || !parse_bytes(tok[i], &par[np++])) {
                    snprintf(e, sizeof e, "bad action parameter '%s'", tok[i]);
                    rc = -1;
                }
            if (!rc)
                rc = c->ops->set_default(c->sw, tok[1], tok[2], par, np, e, sizeof e);
        } else if (!strcmp(tok[0], "table_add") && nt >= 5) {
            /* table_add TABLE ACTION K&&&M ... [=> P ...] PRIORITY: the priority
             * is the last word after "=>" (p4gen's actions take no data) */
            struct sw_ternary keys[SW_MAX_KEYS];
            struct sw_bytes par[SW_MAX_PARAMS];
            int nk = 0, np = 0, arrow = -1;
            for (int i = 3; i < nt; i++)
                if (!strcmp(tok[i], "=>"))
                    arrow = i;
            rc = arrow > 3 && arrow < nt - 1 ? 0 : -1;
            if (rc)
                snprintf(e, sizeof e, "expected KEY&&&MASK ... => PRIORITY");
            for (int i = 3; !rc && i < arrow; i++) {
                char *amp = strstr(tok[i], "&&&");
                if (!amp || nk == SW_MAX_KEYS) {
                    snprintf(e, sizeof e, "expected a ternary KEY&&&MASK, not '%s'", tok[i]);
                    rc = -1;
                    break;
                }
                *amp = 0;
                if (!parse_bytes(tok[i], &keys[nk].value) ||
                    !parse_bytes(amp + 3, &keys[nk].mask)) {
                    snprintf(e, sizeof e, "bad ternary value '%s'", tok[i]);
                    rc = -1;
                }
                nk++;
            }
            for (int i = arrow + 1; !rc && i < nt - 1; i++)
                if (np == SW_MAX_PARAMS || !parse_bytes(tok[i], &par[np++])) {
                    snprintf(e, sizeof e, "bad action parameter '%s'", tok[i]);
                    rc = -1;
                }
            if (!rc)
                rc = c->ops->add_ternary(c->sw, tok[1], keys, nk, tok[2], par, np,
                                         atoi(tok[nt - 1]), e, sizeof e);
        } else {
            snprintf(e, sizeof e, "unknown command '%s'", tok[0]);
        }
        if (rc) {
            snprintf(c->err, sizeof c->err, "%s:%d: %s", path, lineno, e);
            fclose(f);
            return -1;
        }
        n++;
    }
    fclose(f);
    fprintf(stderr, "htscp: %s: %d entries loaded\n", path, n);
    return 0;
}

/* ---- windows ---- */

static int reg(struct cp *c, const char *name, uint32_t idx, int64_t *v)
{
    return c->ops->reg_read(c->sw, name, idx, v, c->err, sizeof c->err);
}

/* Cells [lo, lo + n) of register `name`: one read of the whole array, or one
 * read per wanted cell when few are (want, nwant). */
static int cells(struct cp *c, const char *name, uint32_t lo, uint32_t n, const uint32_t *want,
                 uint32_t nwant, int64_t *out)
{
    if (nwant <= 64) {
        for (uint32_t i = 0; i < nwant; i++)
            if (reg(c, name, lo + want[i], &out[want[i]]))
                return -1;
        return 0;
    }
    int64_t *all;
    size_t nall;
    if (c->ops->reg_read_all(c->sw, name, &all, &nall, c->err, sizeof c->err))
        return -1;
    if (nall < (size_t)lo + n) {
        free(all);
        snprintf(c->err, sizeof c->err, "%s: %zu cells, expected %u or more", name, nall, lo + n);
        return -1;
    }
    memcpy(out, all + lo, (size_t)n * sizeof *out);
    free(all);
    return 0;
}

static int fill(struct cp *c, const char *name, uint32_t lo, uint32_t n)
{
    return c->ops->reg_fill(c->sw, name, lo, lo + n, 0, c->err, sizeof c->err);
}

/* Reads stateful node k's bank into the model, then clears the bank. */
static int read_node(struct cp *c, int qi, int k, int bank)
{
    const struct plan_query *pq = &c->p->queries[qi];
    const struct ir_node *n = pq->q->nodes[k];
    const struct plan_node *pn = &pq->nodes[k];
    char nm[96];
    if (n->kind == IR_HISTOGRAM) {
        uint32_t nb = (uint32_t)n->nedges + 1, lo = (uint32_t)bank * nb;
        int64_t v[64];
        uint32_t want[64] = {0};
        for (uint32_t b = 0; b < nb && b < 64; b++)
            want[b] = b;
        snprintf(nm, sizeof nm, "q%d_n%d_hist", qi, k);
        if (nb > 64 || cells(c, nm, lo, nb, want, nb, v))
            return -1;
        for (uint32_t b = 0; b < nb; b++)
            if (v[b] && dpm_cp_bucket(c->m, qi, k, (int)b, v[b]))
                c->bad_slots++;
        return fill(c, nm, lo, nb);
    }
    uint32_t S = pn->slots, lo = (uint32_t)bank * S;
    int nw = dpm_key_words(n), na = n->kind == IR_GROUPBY ? n->naggs : 0;
    int64_t *state = calloc(S, sizeof *state);
    uint32_t *held = calloc(S, sizeof *held);
    int64_t *kw = calloc((size_t)S * (size_t)nw, sizeof *kw);
    int64_t *ag = calloc((size_t)S * (size_t)(na ? na : 1), sizeof *ag);
    int64_t *sn = calloc((size_t)S * (size_t)(na ? na : 1), sizeof *sn);
    int rc = -1;
    if (!state || !held || !kw || !ag || !sn) {
        snprintf(c->err, sizeof c->err, "out of memory");
        goto out;
    }
    snprintf(nm, sizeof nm, "q%d_n%d_state", qi, k);
    if (cells(c, nm, lo, S, NULL, S + 65, state))
        goto out;
    uint32_t nheld = 0;
    for (uint32_t i = 0; i < S; i++)
        if (state[i] & 3)
            held[nheld++] = i;
    int64_t *col = calloc(S, sizeof *col);
    if (!col)
        goto out;
    for (int w = 0; w < nw; w++) {
        snprintf(nm, sizeof nm, "q%d_n%d_key%d", qi, k, w);
        if (nheld && cells(c, nm, lo, S, held, nheld, col)) {
            free(col);
            goto out;
        }
        for (uint32_t h = 0; h < nheld; h++)
            kw[(size_t)held[h] * (size_t)nw + (size_t)w] = col[held[h]];
    }
    for (int a = 0; a < na; a++) {
        for (int pass = 0; pass < 2; pass++) {
            if (pass && n->aggs[a]->agg == AGG_COUNT)
                break;
            snprintf(nm, sizeof nm, "q%d_n%d_%s%d", qi, k, pass ? "seen" : "agg", a);
            if (nheld && cells(c, nm, lo, S, held, nheld, col)) {
                free(col);
                goto out;
            }
            for (uint32_t h = 0; h < nheld; h++)
                (pass ? sn : ag)[(size_t)held[h] * (size_t)na + (size_t)a] = col[held[h]];
        }
    }
    free(col);
    for (uint32_t h = 0; h < nheld; h++) {
        uint32_t i = held[h];
        uint32_t words[16 * 4];
        for (int w = 0; w < nw; w++)
            words[w] = (uint32_t)kw[(size_t)i * (size_t)nw + (size_t)w];
        if (dpm_cp_slot(c->m, qi, k, i, (unsigned)state[i], words, ag + (size_t)i * (size_t)na,
                        sn + (size_t)i * (size_t)na)) {
            c->bad_slots++; /* counted and reported: never a silent loss */
            fprintf(stderr, "htscp: query %s node %d: slot %u holds a key that does not hash "
                    "there: not read\n", pq->q->name, k, i);
        }
    }
    /* clear the bank: a claimed slot starts from zero aggregates */
    snprintf(nm, sizeof nm, "q%d_n%d_state", qi, k);
    if (fill(c, nm, lo, S))
        goto out;
    for (int a = 0; a < na; a++) {
        snprintf(nm, sizeof nm, "q%d_n%d_agg%d", qi, k, a);
        if (fill(c, nm, lo, S))
            goto out;
        if (n->aggs[a]->agg == AGG_COUNT)
            continue;
        snprintf(nm, sizeof nm, "q%d_n%d_seen%d", qi, k, a);
        if (fill(c, nm, lo, S))
            goto out;
    }
    if (pn->refine) { /* the coarse level: cleared, never reported */
        uint32_t CS = pn->coarse_slots, clo = (uint32_t)bank * CS;
        snprintf(nm, sizeof nm, "q%d_n%d_coarse_state", qi, k);
        if (fill(c, nm, clo, CS))
            goto out;
        for (int a = 0; a < na; a++) {
            for (int pass = 0; pass < 2; pass++) {
                snprintf(nm, sizeof nm, "q%d_n%d_coarse_%s%d", qi, k, pass ? "seen" : "agg", a);
                int64_t probe;
                if (reg(c, nm, 0, &probe)) /* the gate reads only some aggregates */
                    continue;
                if (fill(c, nm, clo, CS))
                    goto out;
            }
        }
        c->err[0] = 0;
    }
    rc = 0;
out:
    free(state);
    free(held);
    free(kw);
    free(ag);
    free(sn);
    return rc;
}

static int close_window(struct cp *c, int qi, int64_t win, int bank)
{
    const struct plan_query *pq = &c->p->queries[qi];
    for (int k = 1; k < pq->q->nnodes; k++)
        if (pq->nodes[k].dp && ir_kind_stateful(pq->q->nodes[k]->kind) &&
            read_node(c, qi, k, bank))
            return -1;
    dpm_cp_close(c->m, qi, win * pq->q->window_ns);
    char nm[48];
    snprintf(nm, sizeof nm, "q%d_owner", qi);
    c->windows++;
    return c->ops->reg_write(c->sw, nm, (uint32_t)bank, 0, c->err, sizeof c->err);
}

/* One pass: every bank whose window has ended (all, at the end) is closed,
 * oldest first; then the watermark. */
static int cycle(struct cp *c, bool all)
{
    int64_t maxts;
    if (reg(c, "hts_maxts", 0, &maxts))
        return -1;
    /* the banks change hands only when time crosses a window boundary:
     * until then, one read per poll (the switch's Thrift server is shared
     * with its packet path) */
    bool moved = all;
    for (int qi = 0; qi < c->p->nqueries && !moved; qi++)
        moved = c->banked[qi] && (c->last_ts < 0 ||
                                  maxts / c->p->queries[qi].q->window_ns !=
                                      c->last_ts / c->p->queries[qi].q->window_ns);
    if (!moved)
        return 0;
    c->last_ts = maxts;
    for (int qi = 0; qi < c->p->nqueries; qi++) {
        if (!c->banked[qi])
            continue;
        int64_t W = c->p->queries[qi].q->window_ns, cur = maxts / W;
        int64_t own[2];
        char nm[48];
        snprintf(nm, sizeof nm, "q%d_owner", qi);
        if (reg(c, nm, 0, &own[0]) || reg(c, nm, 1, &own[1]))
            return -1;
        int order[2] = {0, 1};
        if (own[0] && own[1] && own[1] < own[0])
            order[0] = 1, order[1] = 0;
        for (int i = 0; i < 2; i++) {
            int b = order[i];
            if (own[b] && (all || own[b] - 1 < cur) && close_window(c, qi, own[b] - 1, b))
                return -1;
        }
    }
    bool crossed = false;
    for (int i = 0; i < c->nhops; i++)
        crossed |= c->wm_sent < 0 ? maxts > 0 : maxts / c->hops[i] != c->wm_sent / c->hops[i];
    if (crossed && !all) {
        dpm_cp_watermark(c->m, maxts);
        c->wm_sent = maxts;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: htscp --plan DIR/NAME.plan.json --entries DIR/NAME.entries\n"
            "             --switch HOST:PORT --cpu-iface IFACE [--poll MS]\n"
            "\n"
            "The control plane of a switch running `htsc compile --target v1model`'s\n"
            "program: loads the entries, then at each window end reads and clears the\n"
            "window's registers and sends their records and the watermark into the\n"
            "switch's CPU port (port 255), which forwards them to the report port.\n"
            "Runs until SIGINT or SIGTERM, then closes the windows still open.\n"
            "  --switch HOST:PORT   BMv2's Thrift server (simple_switch --thrift-port)\n"
            "  --cpu-iface IFACE    the interface wired to the switch's CPU port\n"
            "  --poll MS            how often to read the switch's time (default 5)\n");
}

int main(int argc, char **argv)
{
    const char *plan_path = NULL, *entries = NULL, *addr = NULL, *iface = NULL;
    long poll_ms = 5;
    static const struct option opts[] = {
        {"plan", required_argument, NULL, 'p'},    {"entries", required_argument, NULL, 'e'},
        {"switch", required_argument, NULL, 's'},  {"cpu-iface", required_argument, NULL, 'i'},
        {"poll", required_argument, NULL, 'P'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'p': plan_path = optarg; break;
        case 'e': entries = optarg; break;
        case 's': addr = optarg; break;
        case 'i': iface = optarg; break;
        case 'P': {
            char *end;
            poll_ms = strtol(optarg, &end, 10);
            if (*end || poll_ms < 1 || poll_ms > 10000)
                die("--poll", "expected milliseconds, 1 to 10000");
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!plan_path || !entries || !addr || !iface || optind != argc) {
        usage(stderr);
        return 2;
    }
    static struct cp c;
    c.ops = &sw_bmv2;
    c.wm_sent = -1;
    c.last_ts = -1;
    c.fd = -1;
    struct plan *p = plan_load(plan_path, c.err, sizeof c.err);
    if (!p)
        die(plan_path, c.err);
    c.p = p;
    if (strcmp(p->target, "v1model"))
        die(plan_path, "htscp drives v1model programs (BMv2); this plan is for another target");
    c.banked = calloc((size_t)p->nqueries, sizeof *c.banked);
    c.hops = calloc((size_t)p->nqueries, sizeof *c.hops);
    if (!c.banked || !c.hops)
        die("htscp", "out of memory");
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        bool state = false;
        for (int k = 1; k < q->nnodes; k++)
            state |= pq->nodes[k].dp && ir_kind_stateful(q->nodes[k]->kind);
        bool tumbling = !q->per_packet && q->window_ns > 0 &&
                        (q->hop_ns == 0 || q->hop_ns == q->window_ns);
        if (state && !tumbling) {
            fprintf(stderr, "htscp: query '%s' keeps state in the data plane without a "
                    "tumbling window: the generated P4 has no window banks for it\n", q->name);
            return 1;
        }
        c.banked[i] = state;
        if (!q->per_packet && q->hop_ns > 0) {
            bool seen = false;
            for (int h = 0; h < c.nhops; h++)
                seen |= c.hops[h] == q->hop_ns;
            if (!seen)
                c.hops[c.nhops++] = q->hop_ns;
        }
    }
    if (open_iface(&c, iface))
        die(iface, c.err);
    c.sw = c.ops->open(addr, c.err, sizeof c.err);
    if (!c.sw)
        die(addr, c.err);
    if (load_entries(&c, entries))
        die("entries", c.err);
    c.m = dpm_new(p, send_frame, &c);
    if (!c.m)
        die("htscp", "out of memory");
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "htscp: closing windows of %d quer%s on %s (%s), frames into %s\n",
            p->nqueries, p->nqueries == 1 ? "y" : "ies", addr, c.ops->name, iface);
    fflush(stderr);
    int rc = 0;
    while (!stop) {
        if (cycle(&c, false)) {
            fprintf(stderr, "htscp: %s\n", c.err);
            rc = 1;
            break;
        }
        struct timespec d = {poll_ms / 1000, (poll_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
    if (!rc && cycle(&c, true)) { /* the end: every window still held */
        fprintf(stderr, "htscp: %s\n", c.err);
        rc = 1;
    }
    uint64_t overrun = 0, late = 0;
    int64_t held = 0;
    if (reg(&c, "hts_held", 0, &held))
        held = 0;
    for (int i = 0; i < p->nqueries; i++) {
        char nm[48];
        int64_t v = 0;
        const struct ir_query *q = p->queries[i].q;
        if (!q->per_packet && q->window_ns > 0 && (q->hop_ns == 0 || q->hop_ns == q->window_ns)) {
            snprintf(nm, sizeof nm, "q%d_late", i);
            if (!reg(&c, nm, 0, &v))
                late += (uint64_t)v;
        }
        if (c.banked[i]) {
            snprintf(nm, sizeof nm, "q%d_overrun", i);
            if (!reg(&c, nm, 0, &v))
                overrun += (uint64_t)v;
        }
    }
    const struct dpm_stats *st = dpm_stats(c.m);
    printf("htscp: %" PRIu64 " windows closed, %" PRIu64 " frames sent (%" PRIu64 " rows, %"
           PRIu64 " partial records, %" PRIu64 " watermarks), %" PRIu64 " spilled keys; switch: %"
           PRIu64 " late packets, %" PRIu64 " overruns, %" PRId64 " passes waiting for a bank; %"
           PRIu64 " unreadable slots, %" PRIu64 " send errors\n",
           c.windows, c.frames, st->records[REP_ROW], st->records[REP_PARTIAL],
           st->records[REP_WATERMARK], st->spills, late, overrun, held, c.bad_slots, c.send_errors);
    if (overrun || c.bad_slots || c.send_errors)
        rc = rc ? rc : 3; /* records were lost: say so in the exit status */
    dpm_free(c.m);
    c.ops->close(c.sw);
    close(c.fd);
    free(c.banked);
    free(c.hops);
    plan_free(p);
    return rc;
}
