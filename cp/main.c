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
#include "p4gen.h"
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
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN 512

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* A change waiting for its window (docs/targets.md, "Live changes"). Taken
 * when the switch's time is in window cur of the query's length W, it
 * applies from window n = cur + 2. Both banks are kept once their windows
 * (cur, cur + 1) are read: a packet of window n or later then finds its bank
 * held and waits, resubmitted. When the switch's time reaches n's start,
 * every packet of the older windows has gone through, none of n's: the new
 * entries go in, the model takes the new operators, and the banks are
 * freed. The host was told when the change was taken (send_param). */
struct change {
    bool pending;
    int qi;
    int64_t n;          /* the first window with the new value */
    int64_t win[2];     /* per bank: the window whose close keeps it */
    bool kept[2];       /* that window was read and the bank kept */
    const char *set;    /* QUERY.NAME=VALUE */
    struct plan *np;    /* the plan with every change so far and this one */
};

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
    /* live changes (`htscp set`): the control socket, the entries the
     * switch holds now (p4gen's text of the plan in force), every change so
     * far (QUERY.NAME=VALUE) and the plans loaded with them */
    const char *plan_path;
    int ctl;
    char *entries_now;
    struct plan_changes changes;
    struct change chg;
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

/* One line of NAME.entries into the switch: 0, or -1 with the reason in e.
 * line is cut into words in place. */
static int apply_line(struct cp *c, char *line, char *e, size_t elen)
{
    char *tok[64];
    int nt = 0;
    for (char *t = strtok(line, " \t\r\n"); t && nt < 64; t = strtok(NULL, " \t\r\n"))
        tok[nt++] = t;
    if (!nt || tok[0][0] == '#')
        return 0;
    e[0] = 0;
    int rc = -1;
    if (!strcmp(tok[0], "mirroring_add") && nt == 3) {
        rc = c->ops->mirror_add(c->sw, atoi(tok[1]), atoi(tok[2]), e, elen);
    } else if (!strcmp(tok[0], "table_set_default") && nt >= 3) {
        struct sw_bytes par[SW_MAX_PARAMS];
        int np = 0;
        rc = 0;
        for (int i = 3; i < nt; i++)
            if (np == SW_MAX_PARAMS || !parse_bytes(tok[i], &par[np++])) {
                snprintf(e, elen, "bad action parameter '%s'", tok[i]);
                rc = -1;
            }
        if (!rc)
            rc = c->ops->set_default(c->sw, tok[1], tok[2], par, np, e, elen);
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
            snprintf(e, elen, "expected KEY&&&MASK ... => PRIORITY");
        for (int i = 3; !rc && i < arrow; i++) {
            char *amp = strstr(tok[i], "&&&");
            if (!amp || nk == SW_MAX_KEYS) {
                snprintf(e, elen, "expected a ternary KEY&&&MASK, not '%s'", tok[i]);
                rc = -1;
                break;
            }
            *amp = 0;
            if (!parse_bytes(tok[i], &keys[nk].value) || !parse_bytes(amp + 3, &keys[nk].mask)) {
                snprintf(e, elen, "bad ternary value '%s'", tok[i]);
                rc = -1;
            }
            nk++;
        }
        for (int i = arrow + 1; !rc && i < nt - 1; i++)
            if (np == SW_MAX_PARAMS || !parse_bytes(tok[i], &par[np++])) {
                snprintf(e, elen, "bad action parameter '%s'", tok[i]);
                rc = -1;
            }
        if (!rc)
            rc = c->ops->add_ternary(c->sw, tok[1], keys, nk, tok[2], par, np,
                                     atoi(tok[nt - 1]), e, elen);
    } else {
        snprintf(e, elen, "unknown command '%s'", tok[0]);
    }
    return rc;
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
        char e[ERRLEN / 2] = "";
        const char *w = line + strspn(line, " \t");
        bool blank = !*w || *w == '\n' || *w == '#';
        if (apply_line(c, line, e, sizeof e)) {
            snprintf(c->err, sizeof c->err, "%s:%d: %s", path, lineno, e);
            fclose(f);
            return -1;
        }
        n += !blank;
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

static int close_window(struct cp *c, int qi, int64_t win, int bank, bool keep)
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
    if (keep) /* held for a live change: packets of later windows wait */
        return 0;
    return c->ops->reg_write(c->sw, nm, (uint32_t)bank, 0, c->err, sizeof c->err);
}

/* ---- live changes ---- */

/* p4gen's entries of plan p (malloc'd), or NULL with the reason in c->err. */
static char *entries_of(struct cp *c, const struct plan *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    const struct p4g_target *t = p4g_target_find(p->target);
    if (!f || !t || p4g_entries(p, t, f, c->err, sizeof c->err) < 0) {
        if (f)
            fclose(f);
        free(text);
        if (!t)
            snprintf(c->err, sizeof c->err, "no target '%s'", p->target);
        return NULL;
    }
    fclose(f);
    return text;
}

/* The lines of text that start with `head` (a command and a table name and
 * a space), concatenated: what the switch holds for that table. */
static char *table_lines(const char *text, const char *head)
{
    size_t hl = strlen(head), cap = 1, n = 0;
    char *out = calloc(1, cap);
    for (const char *l = text; out && *l;) {
        const char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) + 1 : strlen(l);
        if (ll >= hl && !strncmp(l, head, hl)) {
            char *o = realloc(out, cap + ll);
            if (!o) {
                free(out);
                return NULL;
            }
            out = o;
            memcpy(out + n, l, ll);
            n += ll;
            cap += ll;
            out[n] = 0;
        }
        l += ll;
    }
    return out;
}

/* The next line of entries text l that sets a table (table_set_default or
 * table_add), from l on: copies it into line (4096 bytes), its command into
 * cmd (32), its table into table (256) and "COMMAND TABLE " into head
 * (300). Returns where to go on, or NULL at the end. */
static const char *table_line(const char *l, char *line, char *cmd, char *table, char *head)
{
    while (*l) {
        const char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) + 1 : strlen(l);
        snprintf(line, 4096, "%.*s", (int)ll, l);
        l += ll;
        if (sscanf(line, "%31s %255s", cmd, table) == 2 &&
            (!strcmp(cmd, "table_set_default") || !strcmp(cmd, "table_add"))) {
            snprintf(head, 300, "%s %s ", cmd, table);
            return l;
        }
    }
    return NULL;
}

/* Puts into the switch what differs between the entries `now` and `next`:
 * a changed default action is set again; a table whose entries differ is
 * cleared and filled again. Returns the number of tables changed, or -1. */
static int apply_entries(struct cp *c, const char *now, const char *next)
{
    int changed = 0;
    char line[4096], head[300], cmd[32], table[256];
    for (const char *l = next; (l = table_line(l, line, cmd, table, head));) {
        char *a = table_lines(now, head), *b = table_lines(next, head);
        int rc = 0;
        bool first = b && !strncmp(b, line, strlen(line)); /* once per table */
        if (!a || !b) {
            snprintf(c->err, sizeof c->err, "out of memory");
            rc = -1;
        } else if (first && strcmp(a, b)) {
            char e[ERRLEN / 2] = "";
            if (!strcmp(cmd, "table_add") &&
                c->ops->table_clear(c->sw, table, e, sizeof e))
                rc = -1;
            for (char *x = b; !rc && *x;) {
                char *xe = strchr(x, '\n');
                if (xe)
                    *xe = 0;
                rc = apply_line(c, x, e, sizeof e);
                x = xe ? xe + 1 : x + strlen(x);
            }
            if (rc)
                snprintf(c->err, sizeof c->err, "table %.200s: %.250s", table, e);
            changed++;
        }
        free(a);
        free(b);
        if (rc)
            return -1;
    }
    /* a table with entries now and none in the new text: emptied */
    for (const char *l = now; (l = table_line(l, line, cmd, table, head));) {
        if (strcmp(cmd, "table_add"))
            continue;
        char *a = table_lines(now, head), *b = table_lines(next, head);
        bool gone = a && b && !*b && !strncmp(a, line, strlen(line)); /* once per table */
        free(a);
        free(b);
        char e[ERRLEN / 2] = "";
        if (gone && c->ops->table_clear(c->sw, table, e, sizeof e)) {
            snprintf(c->err, sizeof c->err, "table %.200s: %.250s", table, e);
            return -1;
        }
        changed += gone;
    }
    return changed;
}

/* The change's param record into the switch's CPU port, and the wait until
 * the switch has taken it in (hts_cpu_frames). Sent when the change is taken,
 * two windows before it applies: the host routes records by their time, so
 * it only has to come before every record of window n. It cannot wait until
 * then: while a packet of window n is held, resubmitted, BMv2 takes no new
 * frame in (resubmitted packets go first), so a frame sent then would pass
 * after the held packet. 0, or -1 with the reason in c->err. */
static int send_param(struct cp *c, const struct change *g)
{
    int64_t from = g->n * c->p->queries[g->qi].q->window_ns, before, seen;
    const char *text = strchr(g->set, '.') + 1;
    if (reg(c, "hts_cpu_frames", 0, &before))
        return -1;
    if (dpm_cp_param(c->m, g->qi, from, text)) {
        snprintf(c->err, sizeof c->err, "%s: not a parameter a report can carry", g->set);
        return -1;
    }
    for (int waited = 0;; waited++) {
        if (reg(c, "hts_cpu_frames", 0, &seen))
            return -1;
        if (seen > before)
            return 0;
        if (waited == 2000) {
            snprintf(c->err, sizeof c->err, "the switch did not take the param record in "
                     "within 2 s: the host may take the change late");
            return -1;
        }
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
    }
}

/* Takes `set QUERY.NAME=VALUE`: writes the reply into out. */
static void take_change(struct cp *c, const char *set, char *out, size_t outlen)
{
    if (c->chg.pending) {
        snprintf(out, outlen, "error: %s is waiting for window %" PRId64 "; one change at a "
                 "time", c->chg.set, c->chg.n);
        return;
    }
    const char *eq = strchr(set, '='), *dot = eq ? memchr(set, '.', (size_t)(eq - set)) : NULL;
    if (!dot) {
        snprintf(out, outlen, "error: expected set QUERY.NAME=VALUE");
        return;
    }
    char qn[256];
    snprintf(qn, sizeof qn, "%.*s", (int)(dot - set), set);
    int qi = plan_query_id(c->p, qn);
    if (qi < 0) {
        snprintf(out, outlen, "error: the plan has no query '%s'", qn);
        return;
    }
    if (!c->banked[qi]) {
        snprintf(out, outlen, "error: query '%s' keeps no window in the data plane: there is "
                 "no bank to hold its next window, so no exact boundary for a live change "
                 "(compile it again with the new value)", qn);
        return;
    }
    int64_t maxts, own[2];
    char nm[48], err[ERRLEN];
    snprintf(nm, sizeof nm, "q%d_owner", qi);
    if (reg(c, "hts_maxts", 0, &maxts) || reg(c, nm, 0, &own[0]) || reg(c, nm, 1, &own[1])) {
        snprintf(out, outlen, "error: reading the switch: %s", c->err);
        return;
    }
    int64_t W = c->p->queries[qi].q->window_ns, cur = maxts / W;
    int64_t win[2];
    for (int i = 0; i < 2; i++)
        win[(cur + i) & 1] = cur + i;
    for (int b = 0; b < 2; b++)
        if (own[b] && own[b] != win[b] + 1) {
            snprintf(out, outlen, "error: the switch's banks are behind (windows %" PRId64
                     " and %" PRId64 " still held): try again", own[0] - 1, own[1] - 1);
            return;
        }
    struct plan *np = plan_changes_add(&c->changes, c->plan_path, set, err, sizeof err);
    if (!np) {
        snprintf(out, outlen, "error: %s", err);
        return;
    }
    for (int b = 0; b < 2; b++) /* a bank not claimed yet is claimed for its window */
        if (!own[b] && c->ops->reg_write(c->sw, nm, (uint32_t)b, win[b] + 1, c->err,
                                         sizeof c->err)) {
            plan_changes_pop(&c->changes);
            snprintf(out, outlen, "error: writing the switch: %s", c->err);
            return;
        }
    struct change *g = &c->chg;
    *g = (struct change){.pending = true, .qi = qi, .n = cur + 2,
                         .set = c->changes.sets[c->changes.n - 1], .np = np};
    memcpy(g->win, win, sizeof win);
    if (send_param(c, g)) {
        /* the switch and htscp still apply it at window n; the host has (or
         * will have) the record: say that it may come late */
        snprintf(out, outlen, "error: %s (it applies from window %" PRId64 " on the switch)",
                 c->err, g->n);
        fprintf(stderr, "htscp: %s: %s\n", set, c->err);
        return;
    }
    snprintf(out, outlen, "ok: %s from window %" PRId64 " (starting at %" PRId64
             " ns; the switch is at %" PRId64 ")", set, g->n, g->n * W, maxts);
    fprintf(stderr, "htscp: %s taken: from window %" PRId64 " on\n", set, g->n);
}

/* The change's windows are read and the switch's time has reached window
 * n: puts the new entries in, then the param record, then frees the banks. */
static int apply_change(struct cp *c)
{
    struct change *g = &c->chg;
    int qi = g->qi;
    char *next = entries_of(c, g->np);
    if (!next)
        return -1;
    int tables = apply_entries(c, c->entries_now, next);
    if (tables < 0) {
        free(next);
        return -1;
    }
    free(c->entries_now);
    c->entries_now = next;
    dpm_cp_set_query(c->m, qi, &g->np->queries[qi]);
    char nm[48];
    snprintf(nm, sizeof nm, "q%d_owner", qi);
    for (int b = 0; b < 2; b++)
        if (c->ops->reg_write(c->sw, nm, (uint32_t)b, 0, c->err, sizeof c->err))
            return -1;
    fprintf(stderr, "htscp: %s applied from window %" PRId64 " (%d table%s changed)\n", g->set,
            g->n, tables, tables == 1 ? "" : "s");
    g->pending = false;
    return 0;
}

/* Commands on the control socket: one datagram each, answered to its
 * sender. Never waits: what is not there yet is read on a later poll. */
static void control(struct cp *c)
{
    for (int i = 0; i < 8; i++) {
        char buf[600], out[ERRLEN + 800];
        struct sockaddr_un from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(c->ctl, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&from,
                             &fl);
        if (n < 0)
            return;
        buf[n] = 0;
        buf[strcspn(buf, "\r\n")] = 0;
        if (!strncmp(buf, "set ", 4))
            take_change(c, buf + 4, out, sizeof out);
        else
            snprintf(out, sizeof out, "error: unknown command (htscp takes: set QUERY.NAME=VALUE)");
        if (fl > sizeof(sa_family_t))
            sendto(c->ctl, out, strlen(out), MSG_DONTWAIT, (struct sockaddr *)&from, fl);
    }
}

static int control_open(struct cp *c, const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(c->err, sizeof c->err, "socket path too long");
        return -1;
    }
    strcpy(a.sun_path, path);
    struct stat st;
    if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
        unlink(path); /* a previous run's */
    c->ctl = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (c->ctl < 0 || bind(c->ctl, (struct sockaddr *)&a, sizeof a) < 0) {
        snprintf(c->err, sizeof c->err, "%s", strerror(errno));
        return -1;
    }
    chmod(path, 0600); /* changes are for whoever runs the switch */
    return 0;
}

/* `htscp set --control PATH QUERY.NAME=VALUE`: asks a running htscp. */
static int client(int argc, char **argv)
{
    const char *path = NULL, *set = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--control") && i + 1 < argc)
            path = argv[++i];
        else if (!set && argv[i][0] != '-')
            set = argv[i];
        else
            set = NULL, i = argc;
    }
    if (!path || !set) {
        fprintf(stderr, "usage: htscp set --control PATH QUERY.NAME=VALUE\n");
        return 2;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX}, me = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path)
        die(path, "socket path too long");
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {30, 0}; /* htscp answers on its next poll */
    char msg[600], reply[2048];
    snprintf(msg, sizeof msg, "set %s", set);
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t)) < 0 || /* autobind */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0)
        die(path, strerror(errno));
    ssize_t n = recv(fd, reply, sizeof reply - 1, 0);
    if (n < 0)
        die(path, errno == EAGAIN ? "no answer in 30 s" : strerror(errno));
    reply[n] = 0;
    close(fd);
    printf("%s\n", reply);
    return strncmp(reply, "ok:", 3) ? 1 : 0;
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
    bool moved = all || c->chg.pending;
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
        struct change *g = &c->chg;
        bool mine = g->pending && g->qi == qi;
        for (int i = 0; i < 2; i++) {
            int b = order[i];
            if (mine && g->kept[b])
                continue; /* read already, held for the change */
            bool keep = mine && !all && own[b] - 1 == g->win[b];
            if (own[b] && (all || own[b] - 1 < cur) && close_window(c, qi, own[b] - 1, b, keep))
                return -1;
            if (keep && own[b] - 1 < cur)
                g->kept[b] = true;
        }
        if (mine && g->kept[0] && g->kept[1] && maxts >= g->n * c->p->queries[qi].q->window_ns &&
            apply_change(c))
            return -1;
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
            "             --switch HOST:PORT --cpu-iface IFACE [--poll MS] [--control PATH]\n"
            "\n"
            "The control plane of a switch running `htsc compile --target v1model`'s\n"
            "program: loads the entries, then at each window end reads and clears the\n"
            "window's registers and sends their records and the watermark into the\n"
            "switch's CPU port (port 255), which forwards them to the report port.\n"
            "Runs until SIGINT or SIGTERM, then closes the windows still open.\n"
            "  --switch HOST:PORT   BMv2's Thrift server (simple_switch --thrift-port)\n"
            "  --cpu-iface IFACE    the interface wired to the switch's CPU port\n"
            "  --poll MS            how often to read the switch's time (default 5)\n"
            "  --control PATH       take live changes on this Unix socket\n"
            "\n"
            "       htscp set --control PATH QUERY.NAME=VALUE\n"
            "\n"
            "Changes a parameter of a running query (a threshold, a filter constant)\n"
            "with no recompile and no restart: the switch's entries, htscp's window end\n"
            "and the host (a param report record) take the new value from the same\n"
            "window on, the second after the one the switch is in. Prints that window.\n");
}

int main(int argc, char **argv)
{
    const char *plan_path = NULL, *entries = NULL, *addr = NULL, *iface = NULL, *ctl = NULL;
    long poll_ms = 5;
    if (argc > 1 && !strcmp(argv[1], "set"))
        return client(argc, argv);
    static const struct option opts[] = {
        {"plan", required_argument, NULL, 'p'},    {"entries", required_argument, NULL, 'e'},
        {"switch", required_argument, NULL, 's'},  {"cpu-iface", required_argument, NULL, 'i'},
        {"poll", required_argument, NULL, 'P'},    {"help", no_argument, NULL, 'h'},
        {"control", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'p': plan_path = optarg; break;
        case 'e': entries = optarg; break;
        case 's': addr = optarg; break;
        case 'i': iface = optarg; break;
        case 'c': ctl = optarg; break;
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
    c.ctl = -1;
    c.plan_path = plan_path;
    struct plan *p = plan_load(plan_path, c.err, sizeof c.err);
    if (!p)
        die(plan_path, c.err);
    c.p = p;
    if (!(c.entries_now = entries_of(&c, p))) /* what live changes are diffed against */
        die(plan_path, c.err);
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
    if (ctl && control_open(&c, ctl))
        die(ctl, c.err);
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART}; /* a Thrift call in flight completes */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "htscp: closing windows of %d quer%s on %s (%s), frames into %s\n",
            p->nqueries, p->nqueries == 1 ? "y" : "ies", addr, c.ops->name, iface);
    fflush(stderr);
    int rc = 0;
    while (!stop) {
        if (c.ctl >= 0)
            control(&c);
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
    if (c.chg.pending) { /* the banks it kept go back to the switch */
        fprintf(stderr, "htscp: %s not applied: the switch's time did not reach window %" PRId64
                "\n", c.chg.set, c.chg.n);
        char nm[48];
        snprintf(nm, sizeof nm, "q%d_owner", c.chg.qi);
        for (int b = 0; b < 2; b++)
            if (c.chg.kept[b])
                c.ops->reg_write(c.sw, nm, (uint32_t)b, 0, c.err, sizeof c.err);
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
    if (c.ctl >= 0) {
        close(c.ctl);
        unlink(ctl);
    }
    plan_changes_free(&c.changes);
    free(c.entries_now);
    free(c.banked);
    free(c.hops);
    plan_free(p);
    return rc;
}
