/*
 * planner.c - the optimal data-plane cut of every query (see planner.h and
 * docs/partitioning.md, which states the model and the optimality argument).
 *
 * Three steps:
 *  1. options: per query, every valid cut (enumerated node by node: a node
 *     may join the data plane only if its inputs did and plan_zone_for
 *     accepts it; the result is checked with plan_cut_check, the same rules
 *     plan_finish applies), times register sizes for its stateful operators.
 *     Each option gets its estimated records to the host (cost) and its
 *     resource footprint, laid out stage by stage.
 *  2. an integer program: a binary per (query, option, stage offset: where
 *     in the pipeline the option's first stage sits), exactly one per query,
 *     per-stage rows for tables, stateful ALUs, hash units and register
 *     memory, total rows for register memory, PHV bits and table entries,
 *     and on a target with a mirror limit (Tofino) the mirror header's
 *     bytes (a binary per packet field that records share, counted once);
 *     minimise the estimated records, then (a second program, records
 *     bounded by the first's optimum) the operators left on the host.
 *     Options another option of the same query beats (records, then host
 *     operators) while using no more of anything are dropped first (they
 *     are never needed). GLPK's branch and cut solves both and says whether
 *     it proved optimality (the plan's "optimality" line). The all-host
 *     option of every query uses nothing but its mirror bytes, so a
 *     solution exists unless those pass the mirror limit (refused by name).
 *  3. the chosen options become a struct plan (plan_finish derives exits and
 *     layouts).
 */
#include "planner.h"

#include "fields.h"
#include "packet.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXST 64            /* stage bound of the resource vectors */
#define MAX_CUTS 4096       /* cuts enumerated per query */
#define MAX_OPTIONS 20000   /* options per query */
#define TIE 1e-3            /* per host operator: orders options (by_obj) */
#define TIE_NODES 5000      /* branch-and-bound nodes for the tie-break */

struct usage {
    int tables[MAXST], salus[MAXST], hash[MAXST];
    uint64_t regbits[MAXST];
    int stages;
    uint64_t regbits_total;
    int phv, entries;
    int mirror; /* mirror-header bytes not shared (plan_mirror_bytes) */
    int frames; /* its records that carry the frame */
    int keyed;  /* its distincts and groupbys in the data plane (TNA_CHAIN_LAG) */
    uint64_t mfields[HTS_PRESENT_WORDS]; /* shared packet fields in it */
};

struct option {
    double cost, obj;
    int host; /* operators on the host: fewer is the tie-break */
    bool *dp;
    uint32_t *slots;
    uint8_t *refine; /* per groupby: coarse prefix length, 0: not refined */
    bool frame;      /* packet-level exits send the frame (plan_node.frame) */
    int16_t *stage, *nst;
    struct usage u;
    bool fits;
};

struct qopts {
    struct option *v;
    int n, cap;
    double best;
    int min_mirror; /* the fewest mirror-header bytes of its options (fixed part
                     * included), fitting or not; 0: none counted */
    int min_frames; /* the fewest records carrying the frame of its options; -1: none */
    int min_noframe; /* the fewest mirror bytes of its options without frames; 0: none */
};

static void *xmalloc0(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "htsc: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- default statistics: when there is no training capture ---- */

/* Documented in docs/partitioning.md: a window of 100000 packets; a filter
 * keeps 10%, a sample 1/N; a distinct sees 50% of its input as new keys, a
 * groupby 20% (at least one); a threshold keeps 5% of the groups; a
 * histogram has its buckets. */
#define DEF_PACKETS 100000.0
#define DEF_FILTER 0.1
#define DEF_DISTINCT 0.5
#define DEF_GROUPS 0.2
#define DEF_THRESH 0.05

static void default_train(const struct ir_program *prog, bool stateful,
                          struct dpm_train *t)
{
    memset(t, 0, sizeof *t);
    t->packets = DEF_PACKETS;
    t->nqueries = prog->nqueries;
    t->nnodes = xmalloc0((size_t)prog->nqueries * sizeof *t->nnodes);
    t->q = xmalloc0((size_t)prog->nqueries * sizeof *t->q);
    t->dp = xmalloc0((size_t)prog->nqueries * sizeof *t->dp);
    for (int i = 0; i < prog->nqueries; i++) {
        const struct ir_query *q = prog->queries[i];
        int nn = q->nnodes;
        uint8_t *zone = xmalloc0((size_t)nn);
        t->nnodes[i] = nn;
        t->q[i] = xmalloc0((size_t)nn * sizeof **t->q);
        t->dp[i] = xmalloc0((size_t)nn * sizeof **t->dp);
        for (int k = 0; k < nn; k++) {
            const struct ir_node *n = q->nodes[k];
            struct dpm_node_train *s = &t->q[i][k];
            const char *why;
            int z = plan_zone_for(q, n, zone, &why);
            if (z < 0 || (!stateful && z != PLAN_STREAM))
                z = PLAN_HOST;
            zone[k] = (uint8_t)z;
            t->dp[i][k] = z != PLAN_HOST;
            if (z == PLAN_HOST)
                continue;
            double in = k ? t->q[i][n->in[0]->id].out : DEF_PACKETS;
            switch (n->kind) {
            case IR_SOURCE: s->out = DEF_PACKETS; break;
            case IR_FILTER:
                s->out = z == PLAN_THRESH ? in * DEF_THRESH : in * DEF_FILTER;
                break;
            case IR_SAMPLE: s->out = in / (double)n->sample_n; break;
            case IR_DISTINCT:
            case IR_GROUPBY:
            case IR_HISTOGRAM: {
                double keys = n->kind == IR_HISTOGRAM ? n->nedges + 1
                              : n->kind == IR_DISTINCT ? in * DEF_DISTINCT
                                                       : in * DEF_GROUPS;
                if (keys < 1)
                    keys = 1;
                s->in = in;
                s->out = keys;
                s->win = xmalloc0(sizeof *s->win);
                s->win[0] = (struct dpm_window){in, keys};
                s->nwin = s->capwin = 1;
                break;
            }
            default: s->out = in; break;
            }
        }
        free(zone);
    }
}

/* ---- costs ---- */

/* Fraction of n keys that find their slot taken among m slots (first come,
 * first served): 1 - (m/n)(1 - (1 - 1/m)^n). */
static double fcoll(double n, double m)
{
    if (n <= 1 || m <= 0)
        return 0;
    return 1 - (m / n) * (1 - pow(1 - 1 / m, n));
}

static double overflow_tuples(const struct dpm_node_train *t, double m)
{
    double s = 0;
    for (int w = 0; w < t->nwin; w++)
        s += t->win[w].in * fcoll(t->win[w].keys, m);
    return s;
}

static double overflow_frac(const struct dpm_node_train *t, double m)
{
    double in = 0;
    for (int w = 0; w < t->nwin; w++)
        in += t->win[w].in;
    return in > 0 ? overflow_tuples(t, m) / in : 0;
}

static double held_rows(const struct dpm_node_train *t, double m)
{
    double s = 0;
    for (int w = 0; w < t->nwin; w++)
        s += t->win[w].keys * (1 - fcoll(t->win[w].keys, m));
    return s;
}

/* ---- footprints ---- */

static unsigned col_bytes(const struct ir_col *c)
{
    switch (c->type) {
    case TY_BOOL: return 1;
    case TY_IPV4: return 4;
    case TY_IPV6: return 16;
    case TY_MAC: return 6;
    default:
        return c->field >= 0 && hts_fields[c->field].type == TY_INT
                   ? (hts_fields[c->field].width + 7u) / 8u : 8u;
    }
}

static int dnf_terms(const struct ast_expr *e)
{
    if (e->kind == E_BINARY && e->op == OP_OR)
        return dnf_terms(e->a) + dnf_terms(e->b);
    return 1;
}

/* Adds node n's footprint starting at stage `start`; returns its stage
 * count, or -1 when it cannot fit the stage vector. */
/* What one operator uses in each of its stages. */
struct stage_use {
    int tables, salus, hash;
    uint64_t bits;
};

/* Adds nst stages of use s to u from stage `start` (all at stage 0 on a
 * target without stages); returns nst, or -1 past the stage vector. */
static int add_stages(const struct p4g_target *t, const struct stage_use *s, int nst,
                      int start, struct usage *u)
{
    for (int i = 0; i < nst; i++) {
        int at = t->stages ? start + i : 0;
        if (at >= MAXST)
            return -1;
        u->tables[at] += s[i].tables;
        u->salus[at] += s[i].salus;
        u->hash[at] += s[i].hash;
        u->regbits[at] += s[i].bits;
        u->regbits_total += s[i].bits;
    }
    return nst;
}

/* The aggregates (bit per index) a threshold expression reads. */
static unsigned gate_aggs(const struct ir_node *g, const struct ast_expr *e)
{
    if (!e)
        return 0;
    if (e->kind == E_NAME && e->ref_kind == REF_COL && e->ref >= g->nkeys &&
        e->ref < g->nkeys + g->naggs)
        return 1u << (e->ref - g->nkeys);
    return e->kind == E_BINARY ? gate_aggs(g, e->a) | gate_aggs(g, e->b) : 0;
}

/* Register arrays an aggregate takes: a count one word, anything else a
 * 64-bit value in words plus its count of present inputs. */
static int agg_arrays(const struct ast_expr *a, int w)
{
    return a->agg == AGG_COUNT ? 1 : (64 + w - 1) / w + 1;
}

/*
 * The TNA stage model (docs/targets.md, "Tofino's compiler"): besides each
 * operator's steps (tna_keyed, add_foot), every program p4gen/tna.c writes
 * spends stages p4c-barefoot cannot overlap with them:
 *   derived fields  tcp.payload_len, from two length tables (stage 0) and
 *                   two subtractions (stages 1, 2): its readers start at 3
 *   record flags    meta.r_<record> and meta.report, set a stage after the
 *                   step that decides them (an exit, an overflow); the
 *                   source's own records from stage 0
 *   report          the mirror header's fill under `meta.report == 1`, the
 *                   stage after the last flag (the generator keeps it within
 *                   a stage's tables: a block per header, not per field)
 *   branches        independent distincts and groupbys of one query (a
 *                   join's branches) share levels but not stages: the
 *                   compiler's placement, a few tables at a time in
 *                   control-flow order, lags each further one by about two
 *                   stages (syn_flood's three groupbys end in stages 7, 8
 *                   and 9, each starting later)
 */
#define TNA_DERIVED 3

/* The fixed part of TNA's mirror header (p4gen/tna.c mirror_h) as
 * p4c-barefoot counts it against the target's mirror_bytes: tag 1, ts 6,
 * seq 4, port 2 (with packet records; counted always), the flags' pad 1,
 * and 3 bytes the compiler adds of its own (measured: its "Learning quanta
 * requires N bytes" is the fields' whole bytes plus 3). */
#define TNA_MIRROR_FIXED 17

/*
 * Several queries in one TNA program: p4c-barefoot places tables greedily,
 * the longest dependency chain first, and closes a stage once its pick
 * needs the next; the keyed operators of different queries (each a chain:
 * key columns, claim, check, update, flags) so start staggered, each about
 * two stages after the one before, in the order the program writes them
 * (p4gen/tna.c gen_queries: query order within a level). Measured on six
 * library queries together (docs/targets.md, "Why a combined program that
 * plans may need more stages"): the six keyed operators' first tables in
 * stages 1, 2, 4, 6, 8, 10, the program 16 ingress stages where each
 * query alone fits 12. So in a program of several queries, a query with
 * keyed operators in the data plane ends TNA_CHAIN_LAG stages later for
 * every keyed operator of the queries before it (a row per query in the
 * integer program; planner_run's program estimate, which explain prints).
 */
#define TNA_CHAIN_LAG 2

/* Bytes of the mirror header a usage needs, fixed part included. */
static int mirror_need(const struct usage *u)
{
    int b = TNA_MIRROR_FIXED + u->mirror;
    for (int f = 0; f < FLD__COUNT; f++)
        if (u->mfields[f / 64] >> (f % 64) & 1)
            b += (hts_fields[f].width + 7) / 8;
    return b;
}

static bool tna_model(const struct p4g_target *t)
{
    return t->arch && strcmp(t->arch, "tna") == 0 && t->salus_per_stage;
}

static bool expr_reads_derived(const struct ast_expr *e)
{
    if (!e)
        return false;
    if (e->kind == E_NAME && e->ref_kind == REF_FIELD && e->ref == FLD_TCP_PAYLOAD_LEN)
        return true;
    if (expr_reads_derived(e->a) || expr_reads_derived(e->b))
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (expr_reads_derived(e->args[i]))
            return true;
    return false;
}

/* Whether node n reads tcp.payload_len (derived in the first stages). */
static bool tna_reads_derived(const struct ir_node *n)
{
    bool r = expr_reads_derived(n->expr);
    for (int i = 0; i < n->nexprs; i++)
        r |= expr_reads_derived(n->exprs[i]);
    for (int i = 0; i < n->naggs; i++)
        r |= expr_reads_derived(n->aggs[i]);
    return r;
}

/* Whether node j feeds node k (directly or not). */
static bool feeds(const struct ir_node *j, const struct ir_node *k)
{
    for (int i = 0; i < k->nin; i++)
        if (k->in[i] == j || feeds(j, k->in[i]))
            return true;
    return false;
}

/* The lag of keyed operator k: two stages per keyed operator before it
 * (node order, the generator's within a level) that does not feed it. */
static int tna_lag(const struct ir_query *q, const bool *dp, const uint8_t *refine, int k)
{
    int lag = 0;
    for (int j = 1; j < k; j++)
        if (dp[j] && !refine[j] && (q->nodes[j]->kind == IR_DISTINCT ||
                                    q->nodes[j]->kind == IR_GROUPBY) &&
            !feeds(q->nodes[j], q->nodes[k]))
            lag += 2;
    return lag;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* A query's ingress stages: its operators' (ops), then the record flags,
 * one block per stage in order (each writes meta.report), flag[i] the
 * earliest stage of each, then the mirror header's fill (a stage). Without
 * flags nothing waits for the report. */
static int tna_stages(int ops, int *flag, int nflags)
{
    qsort(flag, (size_t)nflags, sizeof *flag, cmp_int);
    int last = -1;
    for (int i = 0; i < nflags; i++)
        last = flag[i] > last + 1 ? flag[i] : last + 1;
    int end = nflags ? last + 2 : ops;
    return end > ops ? end : ops < 1 ? 1 : ops;
}

/* Stages of an unrefined groupby's update on TNA (tna_keyed's last). */
static int tna_agg_stages(const struct p4g_target *t, const struct ir_node *n, bool spill)
{
    int w = t->reg_width ? t->reg_width : 32, first = spill ? 1 : 0, second = 0, st = 0;
    for (int i = 0; i < n->naggs; i++) {
        int a = agg_arrays(n->aggs[i], w);
        first += a == 1 ? 1 : a - 1;
        second += a == 1 ? 0 : 1;
    }
    st = (first + t->salus_per_stage - 1) / t->salus_per_stage;
    return st + (second + t->salus_per_stage - 1) / t->salus_per_stage;
}

static bool spill_of(const struct ir_query *q, const uint8_t *zone, int k)
{
    return q->nodes[k]->kind == IR_GROUPBY && zone[q->nodes[k]->in[0]->id] == PLAN_DIST;
}

/*
 * A distinct's or an unrefined groupby's stages on TNA, as p4gen/tna.c
 * writes its steps and p4c-barefoot places them (docs/targets.md,
 * "Tofino's compiler", the stage model):
 *   key columns   their validity bits from one table (and kv, all of
 *                 them), one stage
 *   claim         the key, its CRC-32 index and the slot-state array's
 *                 claim, one stage; a key of several 32-bit words then a
 *                 stage that cuts it into words
 *   check         the key word arrays, written or compared, up to the
 *                 SALUs of a stage (each answer alone in its PHV container)
 *   compare       the gateway on the words' answers (hit, or overflow)
 *   update        groupby: the aggregates' arrays (and the spill array), up
 *                 to the SALUs of a stage; a sum's or avg's high word, or a
 *                 min's or max's low word, a stage after the first word's
 *                 (their inputs are loaded, a min's or max's flipped, with
 *                 the claim)
 * Fills s; returns the stage count.
 */
static int tna_keyed(const struct p4g_target *t, const struct ir_node *n, uint32_t slots,
                     bool spill, struct stage_use *s)
{
    int w = t->reg_width ? t->reg_width : 32, st_per = t->salus_per_stage;
    int keybits = 0;
    for (int i = 0; i < n->nkeys; i++)
        keybits += (int)col_bytes(&n->cols[i]) * 8;
    int words = (keybits + w - 1) / w, nst = 0;
    if (words < 1)
        words = 1;
    uint64_t cell = (uint64_t)slots * (uint64_t)w;
    /* the key columns (their values beside) and their validity bits from
       one table (p4gen/tna.c, key_valid_table) */
    s[nst++].tables = 1 + n->nkeys;
    s[nst].tables = 1;
    s[nst].hash = 1;
    s[nst].salus = 1;
    s[nst].bits = cell;
    nst++;
    if (words > 1)
        s[nst++].tables = 1;
    /* the key words' arrays, up to the SALUs of a stage (ssh_brute's and
       tcp_handshake_rtt's three in one) */
    for (int left = words; left > 0; nst++) {
        int here = left < st_per ? left : st_per;
        left -= here;
        s[nst].tables = 2 * here;
        s[nst].salus = here;
        s[nst].bits = (uint64_t)here * cell;
    }
    s[nst++].tables = 1;
    if (n->kind != IR_GROUPBY)
        return nst;
    int first = spill ? 1 : 0, second = 0;
    for (int i = 0; i < n->naggs; i++) {
        int a = agg_arrays(n->aggs[i], w);
        first += a == 1 ? 1 : a - 1; /* a count; else the first words and the count */
        second += a == 1 ? 0 : 1;
    }
    for (int pass = 0; pass < 2; pass++) {
        int arrays = pass ? second : first;
        while (arrays > 0 && nst < MAXST) {
            int here = arrays < st_per ? arrays : st_per;
            s[nst].tables += here;
            s[nst].salus += here;
            s[nst].bits += (uint64_t)here * cell;
            arrays -= here;
            nst++;
        }
    }
    return nst;
}

/*
 * A refined groupby (p4gen's layout): one stage hashes both the masked
 * key (coarse level) and the key (fine level), which does not depend on
 * the gate; then the coarse level's slot state and key words, the arrays
 * of the aggregates the gate reads, one stage for the gate's test, and the
 * fine level's key words and all its aggregates (no spill bits). Arrays
 * share a stage up to the target's stateful ALUs per stage, as in
 * add_foot.
 */
static int add_foot_refined(const struct p4g_target *t, const struct ir_node *n,
                            const struct ast_expr *gate, uint32_t slots, int start,
                            struct usage *u)
{
    int w = t->reg_width ? t->reg_width : 64;
    int st_per = t->salus_per_stage ? t->salus_per_stage : 1 << 20;
    struct stage_use s[MAXST];
    memset(s, 0, sizeof s);
    int keybits = 0;
    for (int i = 0; i < n->nkeys; i++)
        keybits += (int)col_bytes(&n->cols[i]) * 8;
    int words = (keybits + w - 1) / w;
    if (words < 1)
        words = 1;
    if (t->salus_per_stage)
        words += 1; /* the slot-state array (TNA) */
    unsigned ga = gate_aggs(n, gate);
    int nst = 0;
    s[nst].tables = 2;
    s[nst].hash = 2;
    nst++;
    for (int level = 0; level < 2; level++) {
        for (int i = 0; i < words && nst < MAXST; i++, nst++) {
            s[nst].tables = 1;
            s[nst].salus = 1;
            s[nst].bits = (uint64_t)slots * (uint64_t)w;
        }
        int arrays = 0;
        for (int i = 0; i < n->naggs; i++)
            if (level == 1 || (ga >> i & 1))
                arrays += agg_arrays(n->aggs[i], w);
        while (arrays > 0 && nst < MAXST) {
            int here = arrays < st_per ? arrays : st_per;
            s[nst].tables = here;
            s[nst].salus = here;
            s[nst].bits = (uint64_t)here * slots * (uint64_t)w;
            arrays -= here;
            nst++;
        }
        if (level == 0 && nst < MAXST)
            s[nst++].tables = 1; /* the gate's test */
        /* TNA: the gate compares by a saturating difference in an action,
         * then tests it in a gateway a stage later (p4gen/tna.c
         * gen_coarse; gateways compare a field with constants only) */
        if (level == 0 && tna_model(t) && nst < MAXST)
            s[nst++].tables = 1;
    }
    if (nst >= MAXST)
        return -1;
    u->phv += 2 * (keybits + 32 + 8) + 64 * (n->naggs + __builtin_popcount(ga)) + 1;
    return add_stages(t, s, nst, start, u);
}

static int add_foot(const struct p4g_target *t, const struct ir_node *n,
                    int zone, uint32_t slots, bool spill, int start,
                    struct usage *u)
{
    int w = t->reg_width ? t->reg_width : 64;
    int st_per = t->salus_per_stage ? t->salus_per_stage : 1 << 20;
    int nst = 0;
    struct stage_use s[MAXST];
    memset(s, 0, sizeof s);
    int keybits = 0;
    for (int i = 0; i < n->nkeys; i++)
        keybits += (int)col_bytes(&n->cols[i]) * 8;
    switch (n->kind) {
    case IR_SOURCE:
        return 0;
    case IR_FILTER:
        nst = 1;
        s[0].tables = 1;
        u->entries += zone == PLAN_THRESH ? 1 : dnf_terms(n->expr);
        u->phv += 1;
        break;
    case IR_SAMPLE:
        nst = 1;
        s[0].tables = 1;
        s[0].hash = 1;
        u->phv += 32;
        break;
    case IR_MAP:
    case IR_EXPORT:
        nst = 1;
        s[0].tables = 1;
        for (int i = 0; i < n->ncols; i++)
            u->phv += (int)col_bytes(&n->cols[i]) * 8;
        break;
    case IR_DISTINCT:
    case IR_GROUPBY: {
        if (t->salus_per_stage) {
            nst = tna_keyed(t, n, slots, spill, s);
            u->phv += keybits + 32 + 8 + (n->kind == IR_GROUPBY ? 64 * n->naggs : 0);
            break;
        }
        int a = (keybits + w - 1) / w;
        if (a < 1)
            a = 1;
        s[0].tables = 1;
        s[0].hash = 1;
        nst = 1;
        for (int i = 0; i < a && nst < MAXST; i++, nst++) {
            s[nst].tables = 1;
            s[nst].salus = 1;
            s[nst].bits = (uint64_t)slots * (uint64_t)w;
        }
        u->phv += keybits + 32 + 8;
        if (n->kind == IR_GROUPBY) {
            int arrays = spill ? 1 : 0;
            for (int i = 0; i < n->naggs; i++) {
                int agg = n->aggs[i]->agg;
                arrays += agg == AGG_COUNT ? 1 : (64 + w - 1) / w + 1;
            }
            while (arrays > 0 && nst < MAXST) {
                int here = arrays < st_per ? arrays : st_per;
                s[nst].tables = here;
                s[nst].salus = here;
                s[nst].bits = (uint64_t)here * slots * (uint64_t)w;
                arrays -= here;
                nst++;
            }
            u->phv += 64 * n->naggs;
        }
        break;
    }
    case IR_HISTOGRAM:
        nst = 2;
        s[0].tables = 1;
        u->entries += n->nedges + 1;
        s[1].tables = 1;
        s[1].salus = 1;
        s[1].bits = (uint64_t)(n->nedges + 1) * (uint64_t)w;
        u->phv += 16 + 32;
        break;
    default:
        return -1;
    }
    return add_stages(t, s, nst, start, u);
}

static bool fits(const struct p4g_target *t, const struct usage *u)
{
    if (t->stages && u->stages > t->stages)
        return false;
    if (t->reg_bits_total && u->regbits_total > t->reg_bits_total)
        return false;
    if (t->phv_bits && u->phv > t->phv_bits)
        return false;
    if (t->table_entries && u->entries > t->table_entries)
        return false;
    if (t->mirror_bytes && mirror_need(u) > t->mirror_bytes)
        return false;
    if (t->packet_records && u->frames > t->packet_records)
        return false;
    int ns = t->stages ? t->stages : 1;
    for (int s = 0; s < ns && s < MAXST; s++) {
        if (t->tables_per_stage && u->tables[s] > t->tables_per_stage)
            return false;
        if (t->salus_per_stage && u->salus[s] > t->salus_per_stage)
            return false;
        if (t->hash_per_stage && u->hash[s] > t->hash_per_stage)
            return false;
        if (t->reg_bits_per_stage && u->regbits[s] > t->reg_bits_per_stage)
            return false;
    }
    return true;
}

/* ---- options ---- */

struct qctx {
    const struct planner_opts *o;
    const struct plan *p;  /* for consumers and plan_cut_check */
    int qi;
    const struct ir_query *q;
    const struct dpm_node_train *tr;
    struct qopts *opts;
    int ncuts;
};

/* Records a groupby refined at `level` with m fine slots sends: the gate's
 * tuples, the fine slots' partial rows, the fine slots' overflow (the
 * coarse level's collisions, which open the gate, are not counted). Without
 * training for that level (no capture): the gate keeps DEF_GATED of the
 * tuples on the host and the rest have the default share of keys. */
#define DEF_GATED 0.1
static double refined_cost(const struct dpm_node_train *s, int level, double m)
{
    for (int l = 0; l < s->nref; l++) {
        if (s->ref[l].level != level)
            continue;
        double cost = 0;
        for (int w = 0; w < s->ref[l].nwin; w++) {
            const struct dpm_refine_window *x = &s->ref[l].win[w];
            double f = fcoll(x->keys, m);
            cost += x->gated + x->keys * (1 - f) + x->post * f;
        }
        return cost;
    }
    double cost = 0;
    for (int w = 0; w < s->nwin; w++) {
        double post = s->win[w].in * (1 - DEF_GATED), keys = post * DEF_GROUPS;
        double f = fcoll(keys, m);
        cost += s->win[w].in * DEF_GATED + keys * (1 - f) + post * f;
    }
    return cost;
}

/* The threshold filter a refinable groupby's gate tests. */
static int gate_of(const struct ir_query *q, const struct ir_node *n)
{
    int col, gate;
    const char *why;
    return plan_refinable(q, n, 0, &col, &gate, &why) ? gate : -1;
}

/* A frame sent instead of the fields the host reads is the same record,
 * but larger: its option costs this much more (relative), so that frames
 * are sent only where the mirror header needs it. */
#define FRAME_PENALTY 1e-6

static void add_option(struct qctx *c, const bool *dp, const uint8_t *zone,
                       const uint32_t *slots, const uint8_t *refine, bool frame)
{
    const struct ir_query *q = c->q;
    const struct plan_query *pq = &c->p->queries[c->qi];
    const struct p4g_target *t = c->o->target;
    int nn = q->nnodes;
    struct option op;
    memset(&op, 0, sizeof op);
    op.dp = xmalloc0((size_t)nn * sizeof *op.dp);
    op.slots = xmalloc0((size_t)nn * sizeof *op.slots);
    op.stage = xmalloc0((size_t)nn * sizeof *op.stage);
    op.nst = xmalloc0((size_t)nn * sizeof *op.nst);
    memcpy(op.dp, dp, (size_t)nn * sizeof *dp);
    memcpy(op.slots, slots, (size_t)nn * sizeof *slots);
    op.refine = xmalloc0((size_t)nn * sizeof *op.refine);
    memcpy(op.refine, refine, (size_t)nn * sizeof *refine);
    double cost = 0;
    int host = 0;
    bool ok = true;
    bool tna = tna_model(t);
    int nflags = 0, aggst = 0;
    int *flags = xmalloc0((size_t)(2 * nn + 1) * sizeof *flags);
    for (int k = 0; k < nn; k++) {
        const struct ir_node *n = q->nodes[k];
        op.stage[k] = -1;
        if (!dp[k]) {
            host++;
            continue;
        }
        if (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY)
            op.u.keyed++;
        int start = 0;
        for (int j = 0; j < n->nin; j++) {
            int e = op.stage[n->in[j]->id] + op.nst[n->in[j]->id];
            if (e > start)
                start = e;
        }
        /* TNA: tcp.payload_len is derived in stages 0-2 (tna_reads_derived) */
        if (tna && k > 0 && tna_reads_derived(n) && start < TNA_DERIVED)
            start = TNA_DERIVED;
        if (tna && (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) && !refine[k])
            start += tna_lag(q, dp, refine, k);
        aggst = tna && n->kind == IR_GROUPBY && !refine[k] ? tna_agg_stages(t, n, spill_of(q, zone, k)) : 0;
        bool spill = n->kind == IR_GROUPBY && zone[n->in[0]->id] == PLAN_DIST && !refine[k];
        int nst = tna && zone[k] == PLAN_THRESH ? 0
                  : refine[k] ? add_foot_refined(t, n, q->nodes[gate_of(q, n)]->expr, slots[k],
                                               start, &op.u)
                            : add_foot(t, n, zone[k], slots[k], spill, start, &op.u);
        if (nst < 0) {
            ok = false;
            break;
        }
        op.stage[k] = (int16_t)(nst ? start : -1);
        op.nst[k] = (int16_t)nst;
        if (start + nst > op.u.stages)
            op.u.stages = start + nst;
        if (k == 0)
            op.stage[k] = 0;
        /* records */
        const struct dpm_node_train *s = &c->tr[k];
        double m = slots[k];
        bool exits = n == q->root;
        for (const int *cn = pq->consumers[k]; *cn >= 0; cn++)
            exits |= !dp[*cn];
        /* TNA: a record's flag (and meta.report) set a stage after the step
         * that decides it: an exit, an overflow */
        if (tna && (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY)) /* overflow */
            flags[nflags++] = n->kind == IR_DISTINCT ? start + nst - 1 : start + nst - aggst;
        if (tna && exits && n->kind != IR_GROUPBY && n->kind != IR_HISTOGRAM && zone[k] != PLAN_THRESH)
            flags[nflags++] = start + nst;
        if (refine[k]) {
            cost += refined_cost(s, refine[k], m);
            continue;
        }
        if (exits) {
            if (zone[k] == PLAN_AGG && n->kind == IR_GROUPBY)
                cost += held_rows(s, m);
            else if (zone[k] == PLAN_THRESH)
                cost += s->out * (1 - overflow_frac(&c->tr[n->in[0]->id],
                                                    slots[n->in[0]->id]));
            else if (n->kind == IR_DISTINCT)
                cost += s->out * (1 - overflow_frac(s, m));
            else
                cost += s->out;
        }
        if (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY)
            cost += overflow_tuples(s, m);
        if (spill) {
            const struct ir_node *d = n->in[0];
            while (d->kind != IR_DISTINCT)
                d = d->in[0];
            /* one partial record per groupby key that saw at least one
             * overflowing row (its slot counted the rows still held) */
            double fd = overflow_frac(&c->tr[d->id], slots[d->id]);
            for (int w = 0; w < s->nwin; w++) {
                double per = s->win[w].keys > 0 ? s->win[w].in / s->win[w].keys : 1;
                cost += s->win[w].keys * (1 - pow(1 - fd, per));
            }
        }
    }
    if (tna && ok)
        op.u.stages = tna_stages(op.u.stages, flags, nflags);
    if (t->mirror_bytes && ok) {
        uint8_t fb[FLD__COUNT];
        op.u.mirror = plan_mirror_bytes(c->p, c->qi, dp, zone, frame, fb, &op.u.frames);
        for (int f = 0; f < FLD__COUNT; f++)
            if (fb[f])
                op.u.mfields[f / 64] |= 1ull << (f % 64);
        if (frame) {
            /* the same as without frames: no packet-level tuple leaves */
            uint8_t fb2[FLD__COUNT];
            int fr2;
            ok = plan_mirror_bytes(c->p, c->qi, dp, zone, false, fb2, &fr2) != op.u.mirror ||
                 memcmp(fb, fb2, sizeof fb) != 0;
            op.frame = true;
            cost *= 1 + FRAME_PENALTY;
        }
    }
    free(flags);
    op.cost = cost;
    op.host = host;
    op.obj = c->o->force_dp ? host + (op.frame ? FRAME_PENALTY : 0) : cost + TIE * host;
    op.fits = ok && fits(t, &op.u);
    if (t->mirror_bytes && ok) {
        int need = mirror_need(&op.u);
        if (!c->opts->min_mirror || need < c->opts->min_mirror)
            c->opts->min_mirror = need;
        if (c->opts->min_frames < 0 || op.u.frames < c->opts->min_frames)
            c->opts->min_frames = op.u.frames;
        if (!op.u.frames && (!c->opts->min_noframe || need < c->opts->min_noframe))
            c->opts->min_noframe = need;
    }
    if (!op.fits || c->opts->n >= MAX_OPTIONS) {
        free(op.dp);
        free(op.slots);
        free(op.refine);
        free(op.stage);
        free(op.nst);
        return;
    }
    if (c->opts->n == c->opts->cap) {
        c->opts->cap = c->opts->cap ? c->opts->cap * 2 : 16;
        c->opts->v = realloc(c->opts->v, (size_t)c->opts->cap * sizeof *c->opts->v);
        if (!c->opts->v) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
    }
    c->opts->v[c->opts->n++] = op;
}

/* Register sizes to try for one stateful operator. */
static int slot_choices(const struct planner_opts *o, int nstateful, uint32_t *out)
{
    if (o->registers) {
        out[0] = o->registers;
        return 1;
    }
    uint32_t max = o->target->max_slots;
    int n = 0;
    int step = nstateful > 3 ? 4 : 2; /* keep the product small */
    for (uint32_t s = max; s >= 64 && n < 4; s >>= step)
        out[n++] = s;
    return n;
}

/* Refinement choices for the stateful operators st[i..ns): each groupby
 * that can be refined in this cut (its threshold on the host) is tried
 * unrefined (not with --force-refine) and at each coarser level of the
 * query's hint. */
/* Whether TNA can run a refined groupby's gate: a count's, yes; a sum's,
 * min's or max's not yet (their 64-bit comparisons in words fail PHV
 * allocation in p4c-barefoot, and the coarse sum's carry would compare two
 * fields in a gateway: docs/targets.md, "Combined and refined programs"),
 * so such a groupby is not refined on TNA, and stays whole. */
static bool tna_gate_ok(const struct p4g_target *t, const struct ir_node *n,
                        const struct ast_expr *gate)
{
    unsigned ga = gate_aggs(n, gate);
    for (int i = 0; tna_model(t) && i < n->naggs; i++)
        if ((ga >> i & 1) && n->aggs[i]->agg != AGG_COUNT)
            return false;
    return true;
}

static void refine_rec(struct qctx *c, const bool *dp, const uint8_t *zone,
                       const uint32_t *slots, uint8_t *refine, const int *st, int ns,
                       int i)
{
    if (i == ns) {
        add_option(c, dp, zone, slots, refine, false);
        if (c->o->target->mirror_bytes) /* the variant that sends frames */
            add_option(c, dp, zone, slots, refine, true);
        return;
    }
    const struct ir_query *q = c->q;
    const struct ir_node *n = q->nodes[st[i]];
    int col, gate;
    const char *why;
    /* without a training capture nothing says how the traffic spreads over
     * prefixes, which decides whether the gate pays: refined only when
     * forced */
    bool can = plan_refinable(q, n, 0, &col, &gate, &why) && !dp[gate] &&
               (c->o->train || c->o->force_refine) &&
               tna_gate_ok(c->o->target, n, q->nodes[gate]->expr);
    refine[st[i]] = 0;
    if (!can || !c->o->force_refine)
        refine_rec(c, dp, zone, slots, refine, st, ns, i + 1);
    for (int l = 0; can && l < q->nlevels; l++) {
        if (!plan_refinable(q, n, q->levels[l], &col, &gate, &why))
            continue;
        refine[st[i]] = (uint8_t)q->levels[l];
        refine_rec(c, dp, zone, slots, refine, st, ns, i + 1);
    }
    refine[st[i]] = 0;
}

static void slots_rec(struct qctx *c, const bool *dp, const uint8_t *zone,
                      uint32_t *slots, const int *st, int ns, int i,
                      const uint32_t *choice, int nchoice)
{
    if (i == ns) {
        uint8_t *refine = xmalloc0((size_t)c->q->nnodes);
        refine_rec(c, dp, zone, slots, refine, st, ns, 0);
        free(refine);
        return;
    }
    for (int j = 0; j < nchoice; j++) {
        slots[st[i]] = choice[j];
        slots_rec(c, dp, zone, slots, st, ns, i + 1, choice, nchoice);
    }
}

static void cut_done(struct qctx *c, const bool *dp)
{
    int nn = c->q->nnodes;
    uint8_t *zone = xmalloc0((size_t)nn);
    char why[256];
    bool skip = false;
    for (int k = 0; c->o->force_refine && k < nn; k++) {
        int col, gate;
        const char *w;
        /* --force-refine: a refinable groupby's threshold stays on the host */
        skip |= dp[k] && plan_refinable(c->q, c->q->nodes[k], 0, &col, &gate, &w) && dp[gate];
    }
    if (!skip && plan_cut_check(c->p, c->qi, dp, zone, why, sizeof why) == 0) {
        uint32_t *slots = xmalloc0((size_t)nn * sizeof *slots);
        int *st = xmalloc0((size_t)nn * sizeof *st), ns = 0;
        for (int k = 0; k < nn; k++)
            if (dp[k] && (c->q->nodes[k]->kind == IR_DISTINCT ||
                          c->q->nodes[k]->kind == IR_GROUPBY))
                st[ns++] = k;
        uint32_t choice[8];
        int nchoice = slot_choices(c->o, ns, choice);
        if (ns == 0 || nchoice > 0)
            slots_rec(c, dp, zone, slots, st, ns, 0, choice, nchoice);
        free(slots);
        free(st);
    }
    free(zone);
}

/* What the target adds to plan_zone_for's rules. */
static bool target_ok(const struct p4g_target *t, const struct ir_node *n, int zone)
{
    if (!t->extract || (!t->stateful && zone != PLAN_STREAM))
        return false;
    if (n->kind == IR_SAMPLE && !t->hash)
        return false;
    if (!t->frame_len) {
        bool r = plan_expr_reads_frame_len(n->expr);
        for (int i = 0; i < n->nexprs; i++)
            r |= plan_expr_reads_frame_len(n->exprs[i]);
        for (int i = 0; i < n->naggs; i++)
            r |= plan_expr_reads_frame_len(n->aggs[i]);
        if (r)
            return false;
    }
    return true;
}

static void cuts_rec(struct qctx *c, bool *dp, uint8_t *zone, int k)
{
    if (c->ncuts >= MAX_CUTS)
        return;
    const struct ir_query *q = c->q;
    if (k == q->nnodes) {
        c->ncuts++;
        cut_done(c, dp);
        return;
    }
    const struct p4g_target *t = c->o->target;
    dp[k] = false;
    zone[k] = PLAN_HOST;
    cuts_rec(c, dp, zone, k + 1);
    const char *why;
    int z = plan_zone_for(q, q->nodes[k], zone, &why);
    if (z >= 0 && target_ok(t, q->nodes[k], z)) {
        dp[k] = true;
        zone[k] = (uint8_t)z;
        cuts_rec(c, dp, zone, k + 1);
        dp[k] = false;
        zone[k] = PLAN_HOST;
    }
}

/* ---- the integer program ---- */

static bool leq(const struct usage *a, const struct usage *b)
{
    if (a->regbits_total > b->regbits_total || a->phv > b->phv || a->entries > b->entries ||
        a->stages > b->stages || a->mirror > b->mirror || a->frames > b->frames ||
        a->keyed > b->keyed)
        return false;
    for (int w = 0; w < HTS_PRESENT_WORDS; w++)
        if (a->mfields[w] & ~b->mfields[w])
            return false;
    for (int s = 0; s < MAXST; s++)
        if (a->tables[s] > b->tables[s] || a->salus[s] > b->salus[s] ||
            a->hash[s] > b->hash[s] || a->regbits[s] > b->regbits[s])
            return false;
    return true;
}

/* Records estimates are sums of doubles: equal within this. */
static int cost_cmp(double a, double b)
{
    double eps = 1e-9 * fmax(1, fmax(fabs(a), fabs(b)));
    return a < b - eps ? -1 : a > b + eps ? 1 : 0;
}

/* Whether option b is better than a: fewer records, then fewer host
 * operators (lexicographic); with --force-dp, fewer host operators. */
static int opt_cmp(const struct option *b, const struct option *a, bool lex)
{
    int c = lex ? cost_cmp(b->cost, a->cost) : 0;
    if (c)
        return c;
    return (b->host > a->host) - (b->host < a->host);
}

/* Drops options another option of the same query beats (records, then host
 * operators) and uses no more of anything than: they can never be in an
 * optimal plan alone. */
static void prune(struct qopts *q, bool lex)
{
    int n = 0;
    for (int i = 0; i < q->n; i++) {
        bool dominated = false;
        for (int j = 0; j < q->n && !dominated; j++) {
            if (j == i)
                continue;
            const struct option *a = &q->v[i], *b = &q->v[j];
            int c = opt_cmp(b, a, lex);
            bool better = c < 0 || (c == 0 && j < i);
            dominated = better && leq(&b->u, &a->u);
        }
        if (dominated) {
            free(q->v[i].dp);
            free(q->v[i].slots);
            free(q->v[i].refine);
            free(q->v[i].stage);
            free(q->v[i].nst);
        } else {
            q->v[n++] = q->v[i];
        }
    }
    q->n = n;
}

struct ilp {
    glp_prob *lp;
    int *ia, *ja;
    double *ar;
    int nz, capnz;
    int *col_q, *col_o, *col_d; /* what each column is */
    int ncols;
};

static void nz(struct ilp *m, int row, int col, double v)
{
    if (v == 0)
        return;
    if (m->nz + 1 >= m->capnz) {
        m->capnz = m->capnz ? m->capnz * 2 : 4096;
        m->ia = realloc(m->ia, (size_t)m->capnz * sizeof *m->ia);
        m->ja = realloc(m->ja, (size_t)m->capnz * sizeof *m->ja);
        m->ar = realloc(m->ar, (size_t)m->capnz * sizeof *m->ar);
        if (!m->ia || !m->ja || !m->ar) {
            fprintf(stderr, "htsc: out of memory\n");
            exit(2);
        }
    }
    m->nz++;
    m->ia[m->nz] = row;
    m->ja[m->nz] = col;
    m->ar[m->nz] = v;
}

enum { R_TABLES, R_SALUS, R_HASH, R_REGS, R__STAGE };

/* The tie-break's node budget: it stops after TIE_NODES branch-and-bound
 * nodes (a count, not a time, so plans do not depend on the machine's
 * load). Phase 1's solution is its first incumbent. */
struct tie_cb {
    long nodes;
    const double *start; /* phase 1's column values [1..ncols] */
    bool given;
};

static void tie_callback(glp_tree *tree, void *info)
{
    struct tie_cb *c = info;
    switch (glp_ios_reason(tree)) {
    case GLP_IHEUR:
        if (!c->given) {
            c->given = true;
            glp_ios_heur_sol(tree, c->start);
        }
        break;
    case GLP_ISELECT:
        if (++c->nodes > TIE_NODES)
            glp_ios_terminate(tree);
        break;
    default:
        break;
    }
}

static void set_parm(glp_iocp *parm)
{
    glp_init_iocp(parm);
    parm->presolve = GLP_ON;
    parm->msg_lev = GLP_MSG_OFF;
    parm->tm_lim = 120000;
    parm->mip_gap = 0;
    /* pseudocost branching, best-bound backtracking and GLPK's cuts: what
     * closes the gap on the stage-packing instances (docs/partitioning.md) */
    parm->br_tech = GLP_BR_PCH;
    parm->bt_tech = GLP_BT_BLB;
    parm->gmi_cuts = parm->mir_cuts = parm->cov_cuts = parm->clq_cuts = GLP_ON;
}

/*
 * Solves: one option (and stage offset) per query, within every per-stage
 * and total limit of the target, minimising lexicographically (lex) the
 * records to the host, then the operators left on the host; or (!lex,
 * --force-dp) the operators on the host alone. Phase 1 minimises the first
 * to proven optimality; phase 2, the tie-break, minimises host operators
 * among the plans with phase 1's records, within a node budget. Fills
 * choice[q] / offset[q]; returns GLPK's verdict text in opt.
 */
static int solve(const struct p4g_target *t, struct qopts *qo, int nq, bool lex,
                 int *choice, int *offset, char *opt, size_t optlen)
{
    int S = t->stages > MAXST ? MAXST : t->stages;
    struct ilp m = {0};
    m.lp = glp_create_prob();
    glp_set_obj_dir(m.lp, GLP_MIN);
    /* rows: queries, then per stage resources, then totals */
    int row_q = 1, row_st = row_q + nq, row_tot = row_st + S * R__STAGE;
    int nrows = row_tot + 3 - 1;
    /* the mirror header (t->mirror_bytes): a row bounding its bytes; a
     * binary per packet field that options' records carry (shared: counted
     * once, when any chosen option carries it) and a row per (query, field)
     * that sets it: the sum of that query's columns carrying f <= y_f */
    bool mir = t->mirror_bytes > 0;
    int row_mir = nrows + 1, row_frm = nrows + 2, nf = 0, fcol[FLD__COUNT];
    int *link = xmalloc0((size_t)nq * FLD__COUNT * sizeof *link);
    for (int f = 0; f < FLD__COUNT; f++)
        fcol[f] = -1;
    if (mir) {
        nrows += 2; /* bytes, then records that carry the frame */
        for (int i = 0; i < nq; i++)
            for (int j = 0; j < qo[i].n; j++)
                for (int f = 0; f < FLD__COUNT; f++)
                    if (qo[i].v[j].u.mfields[f / 64] >> (f % 64) & 1 && !link[i * FLD__COUNT + f]) {
                        link[i * FLD__COUNT + f] = ++nrows;
                        if (fcol[f] < 0)
                            fcol[f] = nf++;
                    }
    }
    /* several queries on TNA: a row per query for the stagger of keyed
     * operators across queries (TNA_CHAIN_LAG): the query's last stage,
     * plus TNA_CHAIN_LAG per keyed operator of the queries before it, within
     * S when it has keyed operators (else loose by big_m) */
    bool lag = tna_model(t) && nq > 1 && S;
    int row_lag = nrows + 1, big_m = S;
    for (int i = 0; lag && i < nq; i++) {
        int most = 0;
        for (int j = 0; j < qo[i].n; j++)
            most = qo[i].v[j].u.keyed > most ? qo[i].v[j].u.keyed : most;
        big_m += TNA_CHAIN_LAG * most;
    }
    if (lag)
        nrows += nq;
    glp_add_rows(m.lp, nrows + (lex ? 1 : 0)); /* + the records bound */
    for (int i = 0; lag && i < nq; i++)
        glp_set_row_bnds(m.lp, row_lag + i, GLP_UP, 0, S + big_m);
    for (int i = 0; i < nq; i++)
        glp_set_row_bnds(m.lp, row_q + i, GLP_FX, 1, 1);
    const double caps[R__STAGE] = {t->tables_per_stage, t->salus_per_stage, t->hash_per_stage,
                                   (double)t->reg_bits_per_stage / 1024};
    for (int s = 0; s < S; s++)
        for (int r = 0; r < R__STAGE; r++)
            glp_set_row_bnds(m.lp, row_st + s * R__STAGE + r, caps[r] > 0 ? GLP_UP : GLP_FR,
                             0, caps[r]);
    const double tcaps[3] = {(double)t->reg_bits_total / 1024, t->phv_bits, t->table_entries};
    for (int r = 0; r < 3; r++)
        glp_set_row_bnds(m.lp, row_tot + r, tcaps[r] > 0 ? GLP_UP : GLP_FR, 0, tcaps[r]);
    if (mir) {
        glp_set_row_bnds(m.lp, row_mir, GLP_UP, 0, t->mirror_bytes - TNA_MIRROR_FIXED);
        glp_set_row_bnds(m.lp, row_frm, t->packet_records ? GLP_UP : GLP_FR, 0,
                         t->packet_records);
    }
    for (int r = row_frm + 1; mir && r <= nrows && r < (lag ? row_lag : nrows + 1); r++)
        glp_set_row_bnds(m.lp, r, GLP_UP, 0, 0);
    /* columns */
    int cap = 0;
    for (int i = 0; i < nq; i++)
        for (int j = 0; j < qo[i].n; j++)
            cap += S ? S + 1 : 1;
    m.col_q = xmalloc0((size_t)(cap + 1) * sizeof *m.col_q);
    m.col_o = xmalloc0((size_t)(cap + 1) * sizeof *m.col_o);
    m.col_d = xmalloc0((size_t)(cap + 1) * sizeof *m.col_d);
    for (int i = 0; i < nq; i++)
        for (int j = 0; j < qo[i].n; j++) {
            const struct option *o = &qo[i].v[j];
            /* every start stage that keeps it in the pipeline (an option
             * with no stage, all on the host, needs only one) */
            int maxd = S && o->u.stages ? S - o->u.stages : 0;
            for (int d = 0; d <= maxd; d++) {
                int col = ++m.ncols;
                m.col_q[col] = i;
                m.col_o[col] = j;
                m.col_d[col] = d;
                nz(&m, row_q + i, col, 1);
                for (int s = 0; S && s + d < S && s < o->u.stages; s++) {
                    int r0 = row_st + (s + d) * R__STAGE;
                    nz(&m, r0 + R_TABLES, col, o->u.tables[s]);
                    nz(&m, r0 + R_SALUS, col, o->u.salus[s]);
                    nz(&m, r0 + R_HASH, col, o->u.hash[s]);
                    nz(&m, r0 + R_REGS, col, (double)o->u.regbits[s] / 1024);
                }
                nz(&m, row_tot, col, (double)o->u.regbits_total / 1024);
                nz(&m, row_tot + 1, col, o->u.phv);
                nz(&m, row_tot + 2, col, o->u.entries);
                if (lag) {
                    nz(&m, row_lag + i, col,
                       (o->u.stages ? d + o->u.stages : 0) + (o->u.keyed ? big_m : 0));
                    for (int i2 = i + 1; i2 < nq; i2++)
                        nz(&m, row_lag + i2, col, TNA_CHAIN_LAG * o->u.keyed);
                }
                if (!mir)
                    continue;
                nz(&m, row_mir, col, o->u.mirror);
                nz(&m, row_frm, col, o->u.frames);
                for (int f = 0; f < FLD__COUNT; f++)
                    if (o->u.mfields[f / 64] >> (f % 64) & 1)
                        nz(&m, link[i * FLD__COUNT + f], col, 1);
            }
        }
    int ntot = m.ncols + nf; /* the options' columns, then the fields' */
    for (int f = 0; f < FLD__COUNT; f++) {
        if (fcol[f] < 0)
            continue;
        int col = m.ncols + 1 + fcol[f];
        nz(&m, row_mir, col, (hts_fields[f].width + 7) / 8);
        for (int i = 0; i < nq; i++)
            if (link[i * FLD__COUNT + f])
                nz(&m, link[i * FLD__COUNT + f], col, -1);
    }
    free(link);
    glp_add_cols(m.lp, ntot);
    for (int col = 1; col <= ntot; col++)
        glp_set_col_kind(m.lp, col, GLP_BV);
    for (int col = 1; col <= m.ncols; col++) {
        const struct option *o = &qo[m.col_q[col]].v[m.col_o[col]];
        /* + a stage offset's worth of nothing: among equal plans the one
         * that starts each query earliest, so that the program's stage
         * estimate is its own, not the solver's whim (several queries) */
        glp_set_obj_coef(m.lp, col, (lex ? o->cost : o->obj) + (nq > 1 ? 1e-5 * m.col_d[col] : 0));
    }
    glp_load_matrix(m.lp, m.nz, m.ia, m.ja, m.ar);
    glp_iocp parm;
    set_parm(&parm);
    int was = glp_term_out(GLP_OFF); /* the cut generators print otherwise */
    int rc = glp_intopt(m.lp, &parm);
    int st = glp_mip_status(m.lp);
    int ret = 0;
    const char *tie = "";
    if (rc == 0 && st == GLP_OPT) {
        snprintf(opt, optlen, "optimal: integer program of %d binaries (options of %d "
                 "queries x stage offsets) and %d rows, solved to proven optimality by "
                 "GLPK branch and cut", m.ncols, nq, nrows);
    } else if (st == GLP_FEAS) {
        snprintf(opt, optlen, "not proven: GLPK stopped (%s) with a feasible plan; "
                 "%d binaries, %d rows", rc == GLP_ETMLIM ? "time limit" : "error",
                 m.ncols, nrows);
    } else {
        snprintf(opt, optlen, "no solution from GLPK (status %d, code %d)", st, rc);
        ret = -1;
    }
    double *x = xmalloc0((size_t)(ntot + 1) * sizeof *x);
    if (ret == 0)
        for (int col = 1; col <= ntot; col++)
            x[col] = glp_mip_col_val(m.lp, col) > 0.5;
    if (ret == 0 && lex) {
        /* phase 2: records at most phase 1's, fewest host operators */
        double best = 0;
        for (int col = 1; col <= m.ncols; col++)
            if (x[col] > 0.5)
                best += qo[m.col_q[col]].v[m.col_o[col]].cost;
        int row = nrows + 1;
        int *ind = xmalloc0((size_t)(m.ncols + 1) * sizeof *ind);
        double *val = xmalloc0((size_t)(m.ncols + 1) * sizeof *val);
        int n = 0;
        for (int col = 1; col <= m.ncols; col++) {
            const struct option *o = &qo[m.col_q[col]].v[m.col_o[col]];
            /* the offsets' sum below 1: fewest host operators first */
            glp_set_obj_coef(m.lp, col, o->host + (nq > 1 ? (double)m.col_d[col] /
                                                                 (nq * (S + 1) + 1) : 0));
            if (o->cost != 0) {
                ind[++n] = col;
                val[n] = o->cost;
            }
        }
        glp_set_mat_row(m.lp, row, n, ind, val);
        glp_set_row_bnds(m.lp, row, GLP_UP, 0, best + 1e-9 * fmax(1, best));
        free(ind);
        free(val);
        struct tie_cb cb = {.start = x};
        set_parm(&parm);
        parm.presolve = GLP_OFF; /* the callback's columns are the problem's */
        parm.cb_func = tie_callback;
        parm.cb_info = &cb;
        glp_smcp sm;
        glp_init_smcp(&sm);
        sm.msg_lev = GLP_MSG_OFF;
        int rc2 = glp_simplex(m.lp, &sm) == 0 ? glp_intopt(m.lp, &parm) : -1;
        int st2 = rc2 < 0 ? GLP_UNDEF : glp_mip_status(m.lp);
        if (st2 == GLP_OPT || st2 == GLP_FEAS) {
            for (int col = 1; col <= ntot; col++)
                x[col] = glp_mip_col_val(m.lp, col) > 0.5;
            /* proven: the plan is optimal for the whole (lexicographic)
             * objective and the line says no more */
            if (rc2 != 0 || st2 != GLP_OPT)
                tie = "; among such plans, the fewest operators on the host GLPK "
                      "found in its budget of branch-and-bound nodes (not proven "
                      "fewest)";
        } else {
            tie = "; no tie-break (GLPK found no plan in its budget)";
        }
        if (*tie && rc == 0 && st == GLP_OPT) /* say what was proven */
            snprintf(opt, optlen, "optimal: integer program of %d binaries (options "
                     "of %d queries x stage offsets) and %d rows, records to the host "
                     "proven minimal by GLPK branch and cut", m.ncols, nq, nrows);
    }
    glp_term_out(was);
    if (ret == 0) {
        size_t len = strlen(opt);
        snprintf(opt + len, optlen - len, "%s", tie);
        for (int col = 1; col <= m.ncols; col++)
            if (x[col] > 0.5) {
                choice[m.col_q[col]] = m.col_o[col];
                offset[m.col_q[col]] = m.col_d[col];
            }
    }
    free(x);
    glp_delete_prob(m.lp);
    free(m.ia);
    free(m.ja);
    free(m.ar);
    free(m.col_q);
    free(m.col_o);
    free(m.col_d);
    return ret;
}

/* The start of a mirror refusal, gcc-shaped at query q's source: "FILE:L:C:
 * error: T cannot mirror the records of "; its length (snprintf's). */
static size_t refusal_head(char *err, size_t errlen, const struct ir_query *q,
                           const struct p4g_target *t)
{
    size_t len = 0;
    if (q->loc.line && q->loc.file)
        len = (size_t)snprintf(err, errlen, "%s:%d:%d: ", q->loc.file->name, q->loc.line,
                               q->loc.col);
    if (len < errlen)
        len += (size_t)snprintf(err + len, errlen - len, "error: %s cannot mirror the "
                                "records of ", t->name);
    return len;
}

/* The refusal when the records queries send per packet cannot fit the
 * mirror header, or carry the frame more often than the egress can list,
 * whatever runs on the host: gcc-shaped at the first query named, naming
 * each query with the fewest bytes (or frames) its options need. `only`:
 * one query (its options all failed), else all (the integer program had
 * no solution). Returns false when neither limit is why. */
static bool mirror_refusal(const struct p4g_target *t, const struct ir_program *prog,
                           const struct qopts *qo, int nq, int only, char *err,
                           size_t errlen)
{
    if (!t->mirror_bytes)
        return false;
    int sum = TNA_MIRROR_FIXED, frames = 0;
    for (int i = 0; i < nq; i++)
        if (only < 0 || i == only) {
            sum += qo[i].min_mirror ? qo[i].min_mirror - TNA_MIRROR_FIXED : 0;
            frames += qo[i].min_frames > 0 ? qo[i].min_frames : 0;
        }
    bool bytes = sum > t->mirror_bytes;
    bool frm = t->packet_records && frames > t->packet_records;
    if (!bytes && !frm && only >= 0)
        return false;
    if (!bytes && !frm) { /* the two together */
        size_t len = refusal_head(err, errlen, prog->queries[0], t);
        for (int i = 0; i < nq && len < errlen; i++) {
            int nf = qo[i].min_noframe ? qo[i].min_noframe - TNA_MIRROR_FIXED : -1;
            int fr = qo[i].min_mirror - TNA_MIRROR_FIXED;
            if (nf >= 0 && nf > fr)
                len += (size_t)snprintf(err + len, errlen - len, "%s'%s' (%d bytes, %d with "
                                        "the frame)", i ? ", " : "", prog->queries[i]->name,
                                        nf, fr);
            else
                len += (size_t)snprintf(err + len, errlen - len, "%s'%s' (%d bytes%s)",
                                        i ? ", " : "", prog->queries[i]->name, fr,
                                        qo[i].min_frames > 0 ? " with the frame" : "");
        }
        if (len < errlen)
            snprintf(err + len, errlen - len, ": with at most %d records carrying the frame, "
                     "no choice fits the %d bytes of mirror header p4c-barefoot allows (%d "
                     "fixed), even with every operator it can move on the host",
                     t->packet_records, t->mirror_bytes, TNA_MIRROR_FIXED);
        return true;
    }
    const struct ir_query *first = NULL;
    for (int i = 0; i < nq && !first; i++)
        if ((only < 0 || i == only) && (bytes ? qo[i].min_mirror > TNA_MIRROR_FIXED
                                              : qo[i].min_frames > 0))
            first = prog->queries[i];
    first = first ? first : prog->queries[only >= 0 ? only : 0];
    size_t len = refusal_head(err, errlen, first, t);
    bool any = false;
    for (int i = 0; i < nq && len < errlen; i++) {
        if (only >= 0 && i != only)
            continue;
        int v = bytes ? qo[i].min_mirror - TNA_MIRROR_FIXED : qo[i].min_frames;
        if (v <= 0)
            continue;
        len += (size_t)snprintf(err + len, errlen - len, "%s'%s' (%d %s)", any ? ", " : "",
                                prog->queries[i]->name, v,
                                bytes ? "bytes" : v == 1 ? "frame" : "frames");
        any = true;
    }
    if (len < errlen && bytes)
        snprintf(err + len, errlen - len, ": at least %d bytes of mirror header with its "
                 "fixed %d, past the %d bytes p4c-barefoot allows, even with every operator "
                 "it can move on the host", sum, TNA_MIRROR_FIXED, t->mirror_bytes);
    else if (len < errlen)
        snprintf(err + len, errlen - len, ": %d records that carry the frame, past the %d "
                 "its egress lists in 12 stages, even with every operator it can move on "
                 "the host", frames, t->packet_records);
    return true;
}

static int by_obj(const void *a, const void *b)
{
    const struct option *x = a, *y = b;
    return (x->obj > y->obj) - (x->obj < y->obj);
}

static void free_opts(struct qopts *qo, int nq)
{
    for (int i = 0; i < nq; i++) {
        for (int j = 0; j < qo[i].n; j++) {
            free(qo[i].v[j].dp);
            free(qo[i].v[j].slots);
            free(qo[i].v[j].refine);
            free(qo[i].v[j].stage);
            free(qo[i].v[j].nst);
        }
        free(qo[i].v);
    }
    free(qo);
}

struct plan *planner_run(const struct ir_program *prog,
                         const struct planner_opts *o, char *err,
                         size_t errlen)
{
    const struct p4g_target *t = o->target;
    struct plan *p = plan_new(prog, t->name, t->max_frame, err, errlen);
    if (!p)
        return NULL;
    struct dpm_train defaults;
    const struct dpm_train *tr = o->train;
    if (!tr) {
        default_train(prog, t->stateful, &defaults);
        tr = &defaults;
    }
    int nq = prog->nqueries;
    struct qopts *qo = xmalloc0((size_t)(nq + 1) * sizeof *qo);
    for (int i = 0; i < nq; i++) {
        const struct ir_query *q = prog->queries[i];
        struct qctx c = {.o = o, .p = p, .qi = i, .q = q, .tr = tr->q[i], .opts = &qo[i]};
        bool *dp = xmalloc0((size_t)q->nnodes * sizeof *dp);
        uint8_t *zone = xmalloc0((size_t)q->nnodes);
        dp[0] = true;
        zone[0] = PLAN_STREAM;
        qo[i].min_frames = -1;
        cuts_rec(&c, dp, zone, 1);
        free(dp);
        free(zone);
        prune(&qo[i], !o->force_dp);
        qsort(qo[i].v, (size_t)qo[i].n, sizeof *qo[i].v, by_obj);
        if (qo[i].n == 0) {
            if (!mirror_refusal(t, prog, qo, nq, i, err, errlen))
                snprintf(err, errlen, "query '%s': no data-plane cut fits target %s "
                         "(not even mirroring)", q->name, t->name);
            free_opts(qo, nq);
            if (!o->train)
                dpm_train_free(&defaults);
            plan_free(p);
            return NULL;
        }
    }
    int *choice = xmalloc0((size_t)(nq + 1) * sizeof *choice);
    int *offset = xmalloc0((size_t)(nq + 1) * sizeof *offset);
    char *opt = arena_alloc(&p->arena, 512);
    if (solve(t, qo, nq, !o->force_dp, choice, offset, opt, 512) < 0) {
        if (!mirror_refusal(t, prog, qo, nq, -1, err, errlen))
            snprintf(err, errlen, "planning for %s failed: %s", t->name, opt);
        free(choice);
        free(offset);
        free_opts(qo, nq);
        if (!o->train)
            dpm_train_free(&defaults);
        plan_free(p);
        return NULL;
    }
    p->optimality = opt;
    memset(&p->used, 0, sizeof p->used);
    struct usage all;
    memset(&all, 0, sizeof all);
    int lagged = 0; /* TNA_CHAIN_LAG per keyed operator of the queries so far */
    for (int i = 0; i < nq; i++) {
        const struct option *op = &qo[i].v[choice[i]];
        struct plan_query *pq = &p->queries[i];
        int d = offset[i];
        for (int k = 0; k < pq->q->nnodes; k++) {
            pq->nodes[k].dp = op->dp[k];
            pq->nodes[k].slots = op->dp[k] ? op->slots[k] : 0;
            pq->nodes[k].refine = op->dp[k] ? op->refine[k] : 0;
            pq->nodes[k].coarse_slots = pq->nodes[k].refine ? op->slots[k] : 0;
            pq->nodes[k].stage = (int16_t)(op->stage[k] >= 0 && k > 0 ? op->stage[k] + d
                                                                      : op->stage[k]);
            pq->nodes[k].nstages = op->nst[k];
            bool exits = pq->q->nodes[k] == pq->q->root;
            for (const int *cn = pq->consumers[k]; *cn >= 0; cn++)
                exits |= !op->dp[*cn];
            pq->nodes[k].frame = op->frame && op->dp[k] && exits && pq->q->nodes[k]->packet;
        }
        pq->est_in = tr->packets;
        pq->est_out = op->cost;
        for (int s = 0; s + d < MAXST && s < MAXST; s++) {
            all.tables[s + d] += op->u.tables[s];
            all.salus[s + d] += op->u.salus[s];
            all.hash[s + d] += op->u.hash[s];
        }
        all.regbits_total += op->u.regbits_total;
        all.phv += op->u.phv;
        all.entries += op->u.entries;
        all.mirror += op->u.mirror;
        all.frames += op->u.frames;
        for (int w = 0; w < HTS_PRESENT_WORDS; w++)
            all.mfields[w] |= op->u.mfields[w];
        if (op->u.stages + d > all.stages)
            all.stages = op->u.stages + d;
        /* several queries on TNA: later keyed operators start staggered */
        if (tna_model(t) && nq > 1 && op->u.keyed && op->u.stages + d + lagged > all.stages)
            all.stages = op->u.stages + d + lagged;
        lagged += TNA_CHAIN_LAG * op->u.keyed;
    }
    p->used.stages = all.stages;
    p->used.register_bits = all.regbits_total;
    p->used.phv_bits = all.phv;
    p->used.table_entries = all.entries;
    if (t->mirror_bytes) {
        p->used.mirror_bytes = mirror_need(&all);
        p->used.frames = all.frames;
    }
    for (int st = 0; st < MAXST; st++) {
        p->used.tables += all.tables[st];
        p->used.salus += all.salus[st];
        p->used.hash_units += all.hash[st];
    }
    free(choice);
    free(offset);
    free_opts(qo, nq);
    if (!o->train)
        dpm_train_free(&defaults);
    if (plan_finish(p, err, errlen) < 0) {
        plan_free(p);
        return NULL;
    }
    return p;
}

/* ---- explain ---- */

static void node_desc(const struct ir_node *n, FILE *out)
{
    switch (n->kind) {
    case IR_FILTER:
    case IR_HISTOGRAM:
        ir_expr_print(n->expr, n->in[0], out);
        break;
    case IR_DISTINCT:
    case IR_GROUPBY:
        for (int i = 0; i < n->nkeys; i++) {
            fputs(i ? ", " : "by ", out);
            fputs(n->cols[i].name, out);
        }
        break;
    case IR_SAMPLE:
        fprintf(out, "1 in %lld", (long long)n->sample_n);
        break;
    default:
        break;
    }
}

static const char *zone_name(int z)
{
    static const char *const names[] = {"host", "stream", "distinct", "aggregate",
                                        "threshold"};
    return z >= 0 && z <= PLAN_THRESH ? names[z] : "?";
}

void planner_explain(const struct plan *p, const struct p4g_target *t,
                     FILE *out)
{
    fprintf(out, "target %s: %s\n", t->name, t->doc);
    fprintf(out, "plan: %s\n", p->optimality);
    fprintf(out, "fingerprint 0x%016llx\n", (unsigned long long)p->fingerprint);
    double in = 0, recs = 0;
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        int ndp = 0;
        for (int k = 1; k < q->nnodes; k++)
            ndp += pq->nodes[k].dp;
        fprintf(out, "\nquery %s: %d of %d operators in the data plane; estimated "
                "%.0f records to the host for %.0f packets (%.4f per packet)\n",
                q->name, ndp, q->nnodes - 1, pq->est_out, pq->est_in,
                pq->est_in > 0 ? pq->est_out / pq->est_in : 0);
        in = pq->est_in;
        recs += pq->est_out;
        for (int k = 0; k < q->nnodes; k++) {
            const struct plan_node *pn = &pq->nodes[k];
            const struct ir_node *n = q->nodes[k];
            char st[32] = "";
            if (pn->dp && pn->nstages > 1)
                snprintf(st, sizeof st, "stages %d-%d", pn->stage, pn->stage + pn->nstages - 1);
            else if (pn->dp && pn->nstages == 1)
                snprintf(st, sizeof st, "stage %d", pn->stage);
            else if (pn->dp)
                snprintf(st, sizeof st, "parser");
            fprintf(out, "  %%%-3d %-10s %-5s %-9s %-12s ", k, ir_kind_text[n->kind],
                    pn->dp ? "dp" : "host", pn->dp ? zone_name(pn->zone) : "", st);
            node_desc(n, out);
            if (pn->slots && pn->refine)
                fprintf(out, "  [%u slots, refined: %u coarse slots at /%d, gate %%%d]",
                        pn->slots, pn->coarse_slots, pn->refine, pn->gate);
            else if (pn->slots)
                fprintf(out, "  [%u slots%s]", pn->slots, pn->spill ? ", spill bits" : "");
            if (pn->exit != PLAN_EXIT_NONE)
                fprintf(out, "  -> %s records", plan_exit_name(pn->exit));
            if (pn->overflow_at >= 0)
                fprintf(out, "  overflow -> %s at %%%d",
                        pn->overflow_kind == REP_ROW ? "row" : "tuple", pn->overflow_at);
            fputc('\n', out);
        }
    }
    fprintf(out, "\nresources used on %s", t->name);
    if (t->stages) {
        fprintf(out, " (per stage: tables/%d, SALUs/%d, hash/%d, register Kbit/%llu):\n",
                t->tables_per_stage, t->salus_per_stage, t->hash_per_stage,
                (unsigned long long)(t->reg_bits_per_stage / 1024));
        /* recompute the per-stage table from the plan */
        struct usage u;
        memset(&u, 0, sizeof u);
        for (int i = 0; i < p->nqueries; i++) {
            const struct plan_query *pq = &p->queries[i];
            for (int k = 0; k < pq->q->nnodes; k++)
                if (pq->nodes[k].dp && pq->nodes[k].nstages && pq->nodes[k].refine)
                    add_foot_refined(t, pq->q->nodes[k],
                                     pq->q->nodes[pq->nodes[k].gate]->expr,
                                     pq->nodes[k].slots, pq->nodes[k].stage, &u);
                else if (pq->nodes[k].dp && pq->nodes[k].nstages)
                    add_foot(t, pq->q->nodes[k], pq->nodes[k].zone, pq->nodes[k].slots,
                             pq->nodes[k].spill, pq->nodes[k].stage, &u);
        }
        for (int s = 0; s < t->stages; s++)
            fprintf(out, "  stage %2d: tables %2d  SALUs %d  hash %d  registers %6llu Kbit\n",
                    s, u.tables[s], u.salus[s], u.hash[s],
                    (unsigned long long)(u.regbits[s] / 1024));
    } else {
        fputs(":\n", out);
    }
    fprintf(out, "  stages %d%s, register memory %.2f Mbit%s, PHV %d bits%s, "
            "table entries %d%s\n", p->used.stages,
            t->stages ? "" : " (no limit)", (double)p->used.register_bits / (1 << 20),
            t->reg_bits_total ? "" : " (no limit)", p->used.phv_bits,
            t->phv_bits ? "" : " (no limit)", p->used.table_entries,
            t->table_entries ? "" : " (no limit)");
    if (t->mirror_bytes)
        fprintf(out, "  mirror header %d of %d bytes (%d fixed), %d of %d records that carry "
                "the frame\n", p->used.mirror_bytes, t->mirror_bytes, TNA_MIRROR_FIXED,
                p->used.frames, t->packet_records);
    fprintf(out, "estimated records to the host: %.0f for %.0f packets in (%.4f per "
            "packet, all queries)\n", recs, in, in > 0 ? recs / in : 0);
}

void planner_dot(const struct plan *p, FILE *out)
{
    fputs("digraph htsplan {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", "
          "fontname=\"Helvetica\"];\n", out);
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        fprintf(out, "  subgraph cluster_%d {\n    label=\"%s (%s)\";\n", i, q->name,
                p->target);
        for (int k = 0; k < q->nnodes; k++) {
            const struct plan_node *pn = &pq->nodes[k];
            fprintf(out, "    q%d_n%d [label=\"%%%d %s\\n%s%s\", fillcolor=\"%s\"];\n", i,
                    k, k, ir_kind_text[q->nodes[k]->kind], pn->dp ? "data plane" : "host",
                    pn->exit != PLAN_EXIT_NONE ? " (reports)" : "",
                    pn->dp ? "#c8e6c9" : "#ffe0b2");
        }
        for (int k = 0; k < q->nnodes; k++)
            for (int j = 0; j < q->nodes[k]->nin; j++) {
                int a = q->nodes[k]->in[j]->id;
                bool cross = pq->nodes[a].dp && !pq->nodes[k].dp;
                fprintf(out, "    q%d_n%d -> q%d_n%d%s;\n", i, a, i, k,
                        cross ? " [style=bold, color=\"#d32f2f\", label=\"reports\"]" : "");
            }
        fputs("  }\n", out);
    }
    fputs("}\n", out);
}
