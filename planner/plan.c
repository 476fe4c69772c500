/*
 * plan.c - the partition plan: data-plane shapes, exits and report layouts,
 * and the plan file (writer and strict loader).
 *
 * The planner decides only two things per node: whether it runs in the data
 * plane, and how many register slots a stateful one gets. Everything else -
 * zones, where tuples leave, overflow and spill paths, the report layouts -
 * is derived here, by one function (plan_finish) that both the compiler and
 * the loader run, so a plan file cannot describe a layout the code would not
 * derive: the loader derives it again and refuses any difference.
 *
 * The file is written from a JSON DOM; its fingerprint is the hash of the
 * DOM's compact serialization, so loader and writer agree on it byte for
 * byte (docs/plan-format.md).
 */
#include "parse.h"
#include "plan.h"

#include "fields.h"
#include "json.h"
#include "targets.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const exit_names[] = {
    [PLAN_EXIT_NONE] = "none",         [PLAN_EXIT_TUPLE] = "tuple",
    [PLAN_EXIT_PACKET] = "packet",     [PLAN_EXIT_ROW_NOW] = "row_now",
    [PLAN_EXIT_ROW_CLOSE] = "row_close", [PLAN_EXIT_PARTIAL] = "partial",
};

const char *plan_exit_name(int e)
{
    return e >= 0 && e <= PLAN_EXIT_PARTIAL ? exit_names[e] : "?";
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t len,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (len)
        vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* ---- query source text ---- */

static size_t offset_of(const struct src_file *f, int line, int col)
{
    size_t off = 0;
    for (int l = 1; l < line && off < f->len; off++)
        if (f->text[off] == '\n')
            l++;
    off += (size_t)(col > 0 ? col - 1 : 0);
    return off < f->len ? off : f->len;
}

/* The text of q, from `query` to its closing brace. */
static char *query_text(struct arena *a, const struct ir_query *q)
{
    const struct src_file *f = q->loc.file;
    if (!f || !f->text)
        return NULL;
    size_t name = offset_of(f, q->loc.line, q->loc.col);
    size_t b = name;
    while (b > 0 && (f->text[b - 1] == ' ' || f->text[b - 1] == '\t' ||
                     f->text[b - 1] == '\n' || f->text[b - 1] == '\r'))
        b--;
    if (b < 5 || memcmp(f->text + b - 5, "query", 5) != 0)
        return NULL;
    b -= 5;
    int paren = 0, brace = 0;
    for (size_t i = b; i < f->len; i++) {
        char c = f->text[i];
        if (c == '#') {
            while (i < f->len && f->text[i] != '\n')
                i++;
        } else if (c == '"') {
            for (i++; i < f->len && f->text[i] != '"' && f->text[i] != '\n'; i++)
                if (f->text[i] == '\\')
                    i++;
        } else if (c == '(') {
            paren++;
        } else if (c == ')') {
            paren--;
        } else if (c == '{' && paren == 0) {
            brace++;
        } else if (c == '}' && paren == 0 && --brace == 0) {
            return arena_strndup(a, f->text + b, i + 1 - b);
        }
    }
    return NULL;
}

/* ---- building a plan ---- */

static void consumers_of(struct plan *p, struct plan_query *pq)
{
    const struct ir_query *q = pq->q;
    int nn = q->nnodes;
    int *count = arena_alloc(&p->arena, (size_t)nn * sizeof *count);
    for (int k = 0; k < nn; k++)
        for (int j = 0; j < q->nodes[k]->nin; j++)
            count[q->nodes[k]->in[j]->id]++;
    pq->consumers = arena_alloc(&p->arena, (size_t)nn * sizeof *pq->consumers);
    for (int k = 0; k < nn; k++) {
        pq->consumers[k] = arena_alloc(&p->arena, (size_t)(count[k] + 1) * sizeof(int));
        pq->consumers[k][0] = -1;
        count[k] = 0;
    }
    for (int k = 0; k < nn; k++)
        for (int j = 0; j < q->nodes[k]->nin; j++) {
            int i = q->nodes[k]->in[j]->id;
            pq->consumers[i][count[i]++] = k;
            pq->consumers[i][count[i]] = -1;
        }
}

static struct plan *plan_alloc(const char *target, uint32_t max_frame)
{
    struct plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->format = PLAN_FORMAT;
    p->target = arena_strndup(&p->arena, target, strlen(target));
    p->max_frame = max_frame;
    p->optimality = "";
    return p;
}

static void setup_queries(struct plan *p)
{
    const struct ir_program *prog = p->prog;
    p->nqueries = prog->nqueries;
    p->queries = arena_alloc(&p->arena, (size_t)(prog->nqueries + 1) * sizeof *p->queries);
    for (int i = 0; i < prog->nqueries; i++) {
        struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = prog->queries[i];
        pq->q = q;
        pq->nodes = arena_alloc(&p->arena, (size_t)q->nnodes * sizeof *pq->nodes);
        for (int k = 0; k < q->nnodes; k++) {
            pq->nodes[k].stage = -1;
            pq->nodes[k].overflow_at = -1;
        }
        pq->nodes[0].dp = true; /* sema builds the source first */
        consumers_of(p, pq);
    }
}

struct plan *plan_new(const struct ir_program *prog, const char *target,
                      uint32_t max_frame, char *err, size_t errlen)
{
    struct plan *p = plan_alloc(target, max_frame);
    if (!p) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    p->prog = prog;
    const struct p4g_target *t = p4g_target_find(target);
    if (!t) {
        fail(err, errlen, "unknown target '%s'", target);
        plan_free(p);
        return NULL;
    }
    if (!prog->split_for || strcmp(prog->split_for, target) != 0) {
        /* the loader splits the program it rebuilds: so must the compiler */
        fail(err, errlen, "the program was not prepared for target %s "
             "(plan_split_filters)", target);
        plan_free(p);
        return NULL;
    }
    p->extract = t->extract;
    p->frame_len = t->frame_len;
    setup_queries(p);
    for (int i = 0; i < prog->nqueries; i++) {
        struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        pq->source = query_text(&p->arena, q);
        pq->file = q->loc.file ? q->loc.file->name : "";
        if (!pq->source) {
            fail(err, errlen, "query '%s': cannot find its source text", q->name);
            plan_free(p);
            return NULL;
        }
        if (!json_utf8_valid(pq->source, strlen(pq->source)) ||
            !json_utf8_valid(pq->file, strlen(pq->file))) {
            fail(err, errlen, "query '%s': its source is not UTF-8, which a plan "
                 "file cannot carry", q->name);
            plan_free(p);
            return NULL;
        }
    }
    return p;
}

void plan_free(struct plan *p)
{
    if (!p)
        return;
    rep_schema_free(&p->reports);
    if (p->prog_arena) {
        arena_free(p->prog_arena);
        free(p->prog_arena);
    }
    for (int i = 0; i < p->nsrcs; i++)
        src_free(p->srcs[i]);
    free(p->srcs);
    arena_free(&p->arena);
    free(p);
}

int plan_query_id(const struct plan *p, const char *name)
{
    for (int i = 0; i < p->nqueries; i++)
        if (strcmp(p->queries[i].q->name, name) == 0)
            return i;
    return -1;
}

/* ---- deriving exits and layouts ---- */

static void expr_fields(const struct ast_expr *e, bool *need)
{
    if (!e)
        return;
    if (e->kind == E_NAME && e->ref_kind == REF_FIELD)
        need[e->ref] = true;
    expr_fields(e->a, need);
    expr_fields(e->b, need);
    for (int i = 0; i < e->nargs; i++)
        expr_fields(e->args[i], need);
}

static void stmt_fields(struct ast_stmt **body, int n, bool *need)
{
    for (int i = 0; i < n; i++) {
        expr_fields(body[i]->expr, need);
        stmt_fields((struct ast_stmt **)body[i]->then_.v, body[i]->then_.n, need);
        stmt_fields((struct ast_stmt **)body[i]->else_.v, body[i]->else_.n, need);
    }
}

/* Catalogue fields the host reads when it resumes the query at node k. */
static void fields_after(const struct plan_query *pq, int k, bool *need,
                         bool *seen)
{
    for (const int *c = pq->consumers[k]; *c >= 0; c++) {
        if (seen[*c])
            continue;
        seen[*c] = true;
        const struct ir_node *n = pq->q->nodes[*c];
        expr_fields(n->expr, need);
        for (int i = 0; i < n->nexprs; i++)
            expr_fields(n->exprs[i], need);
        for (int i = 0; i < n->naggs; i++)
            expr_fields(n->aggs[i], need);
        stmt_fields(n->body, n->nbody, need);
        fields_after(pq, *c, need, seen);
    }
}

static uint16_t col_bits(const struct ir_col *c)
{
    switch (c->type) {
    case TY_BOOL: return 1;
    case TY_IPV4: return 32;
    case TY_IPV6: return 128;
    case TY_MAC: return 48;
    case TY_INT:
        return c->field >= 0 && hts_fields[c->field].type == TY_INT
                   ? hts_fields[c->field].width : 64;
    default: return 0;
    }
}

struct layouts {
    struct rep_layout *v;
    int n, cap;
};

static int add_layout(struct plan *p, struct layouts *ls, const struct plan_query *pq,
                      int qi, int k, enum rep_kind kind, char *err, size_t errlen)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->v[i].query == qi && ls->v[i].node == k && (int)ls->v[i].kind == (int)kind)
            return 0;
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? ls->cap * 2 : 16;
        struct rep_layout *v = arena_alloc(&p->arena, (size_t)ls->cap * sizeof *v);
        if (ls->n)
            memcpy(v, ls->v, (size_t)ls->n * sizeof *v);
        ls->v = v;
    }
    const struct ir_node *n = pq->q->nodes[k];
    struct rep_layout *l = &ls->v[ls->n];
    memset(l, 0, sizeof *l);
    l->query = qi;
    l->node = k;
    l->kind = kind;
    if (kind == REP_TUPLE && n->packet) {
        bool need[FLD__COUNT] = {0};
        bool *seen = arena_alloc(&p->arena, (size_t)pq->q->nnodes * sizeof *seen);
        fields_after(pq, k, need, seen);
        need[FLD_META_TS] = false; /* the record's timestamp */
        int nc = 0;
        for (int f = 0; f < FLD__COUNT; f++)
            nc += need[f];
        struct rep_col *cols = arena_alloc(&p->arena, (size_t)(nc + 1) * sizeof *cols);
        nc = 0;
        for (int f = 0; f < FLD__COUNT; f++) {
            if (!need[f])
                continue;
            cols[nc].name = hts_fields[f].name;
            cols[nc].type = hts_fields[f].type;
            cols[nc].bits = hts_fields[f].width;
            cols[nc].field = (int16_t)f;
            nc++;
        }
        l->packet = true;
        l->cols = cols;
        l->ncols = nc;
    } else if (kind == REP_PARTIAL) {
        /* exec_partial_ncols: keys, each aggregate's running value (a sum
         * for avg), each aggregate's count of present inputs */
        int nc = n->nkeys + 2 * n->naggs;
        struct rep_col *cols = arena_alloc(&p->arena, (size_t)(nc + 1) * sizeof *cols);
        for (int c = 0; c < nc; c++) {
            int a = c - n->nkeys, oc = c < n->nkeys ? c : n->nkeys + a % n->naggs;
            cols[c].name = n->cols[oc].name;
            cols[c].type = n->cols[oc].type;
            cols[c].bits = col_bits(&n->cols[oc]);
            cols[c].field = (int16_t)n->cols[oc].field;
            if (c >= n->nkeys + n->naggs || (a >= 0 && n->aggs[a]->agg != AGG_MIN &&
                                             n->aggs[a]->agg != AGG_MAX)) {
                cols[c].type = TY_INT; /* a count, a sum: 64 bits */
                cols[c].bits = 64;
                cols[c].field = -1;
            }
            if (c >= n->nkeys + n->naggs) {
                size_t len = strlen(n->cols[oc].name) + 7;
                char *nm = arena_alloc(&p->arena, len);
                snprintf(nm, len, "%s.seen", n->cols[oc].name);
                cols[c].name = nm;
            }
            if (!cols[c].bits)
                return fail(err, errlen, "query '%s' node %d: column '%s' (%s) cannot "
                            "leave a data plane", pq->q->name, k, cols[c].name,
                            hts_type_name(cols[c].type));
        }
        l->cols = cols;
        l->ncols = nc;
    } else if (kind != REP_PACKET) {
        struct rep_col *cols = arena_alloc(&p->arena, (size_t)(n->ncols + 1) * sizeof *cols);
        for (int c = 0; c < n->ncols; c++) {
            cols[c].name = n->cols[c].name;
            cols[c].type = n->cols[c].type;
            cols[c].bits = col_bits(&n->cols[c]);
            cols[c].field = (int16_t)n->cols[c].field;
            if (!cols[c].bits)
                return fail(err, errlen, "query '%s' node %d: column '%s' (%s) cannot "
                            "leave a data plane", pq->q->name, k, cols[c].name,
                            hts_type_name(cols[c].type));
        }
        l->cols = cols;
        l->ncols = n->ncols;
    }
    ls->n++;
    return 0;
}

/* Whether the host part after packet-level node k reads host-only fields. */
static bool needs_host_fields(const struct plan *p, const struct plan_query *pq, int k)
{
    bool need[FLD__COUNT] = {0};
    bool *seen = calloc((size_t)pq->q->nnodes, sizeof *seen);
    if (!seen)
        return true;
    fields_after(pq, k, need, seen);
    free(seen);
    for (int f = 0; f < FLD__COUNT; f++)
        if (need[f] && (hts_fields[f].where == WHERE_HOST ||
                        (!p->frame_len && (f == FLD_META_WIRE_LEN || f == FLD_META_CAP_LEN))))
            return true;
    return false;
}

int plan_cut_check(const struct plan *p, int qi, const bool *dp, uint8_t *zone,
                   char *err, size_t errlen)
{
    const struct plan_query *pq = &p->queries[qi];
    const struct ir_query *q = pq->q;
    int nn = q->nnodes;
    if (!dp[0])
        return fail(err, errlen, "query '%s': the packet source must be in the data plane",
                    q->name);
    for (int k = 0; k < nn; k++) {
        const struct ir_node *n = q->nodes[k];
        if (!dp[k]) {
            zone[k] = PLAN_HOST;
            continue;
        }
        const char *why = "";
        int z = plan_zone_for(q, n, zone, &why);
        if (z < 0)
            return fail(err, errlen, "query '%s' node %d (%s) cannot run in the data "
                        "plane: %s", q->name, k, ir_kind_text[n->kind], why);
        if (!p->extract && k > 0)
            return fail(err, errlen, "query '%s': target %s runs nothing but a "
                        "mirror in its data plane", q->name, p->target);
        zone[k] = (uint8_t)z;
    }
    for (int k = 0; k < nn; k++) {
        const struct ir_node *n = q->nodes[k];
        if (!dp[k])
            continue;
        int ndp = 0, nhost = 0;
        for (const int *c = pq->consumers[k]; *c >= 0; c++)
            dp[*c] ? ndp++ : nhost++;
        if (ndp && nhost)
            return fail(err, errlen, "query '%s' node %d feeds both data-plane and "
                        "host operators; the host would see its tuples twice",
                        q->name, k);
        if (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) {
            int nc = 0;
            for (const int *c = pq->consumers[n->in[0]->id]; *c >= 0; c++)
                nc++;
            if (nc != 1)
                return fail(err, errlen, "query '%s' node %d: the input of a data-plane "
                            "%s must feed nothing else (its overflow resumes there)",
                            q->name, k, ir_kind_text[n->kind]);
        }
    }
    return 0;
}

/* One (node, kind) record of a cut, for plan_mirror_bytes. */
struct mrec {
    int node, kind;
};

static void mrec_add(struct mrec *v, int *n, int node, int kind)
{
    for (int i = 0; i < *n; i++)
        if (v[i].node == node && v[i].kind == kind)
            return;
    v[*n].node = node;
    v[(*n)++].kind = kind;
}

int plan_mirror_bytes(const struct plan *p, int qi, const bool *dp, const uint8_t *zone,
                      bool frame, uint8_t *field_bytes, int *frames)
{
    const struct plan_query *pq = &p->queries[qi];
    const struct ir_query *q = pq->q;
    int nn = q->nnodes, n = 0, bytes = 0;
    bool rows = false;
    memset(field_bytes, 0, FLD__COUNT);
    *frames = 0;
    /* derive_query's layouts sent per packet (p4g_per_packet): exits of
     * the stream zone, rows of the distinct zone, overflows */
    struct mrec *v = calloc((size_t)(2 * nn + 1), sizeof *v);
    if (!v)
        return 0x7fff; /* never fits */
    for (int k = 0; k < nn; k++) {
        const struct ir_node *nd = q->nodes[k];
        if (!dp[k])
            continue;
        int nhost = 0;
        for (const int *c = pq->consumers[k]; *c >= 0; c++)
            nhost += !dp[*c];
        if (nd == q->root || nhost) {
            if (zone[k] == PLAN_STREAM)
                mrec_add(v, &n, k, !p->extract || (nd->packet && (frame || needs_host_fields(p, pq, k)))
                                       ? REP_PACKET : REP_TUPLE);
            else if (zone[k] == PLAN_DIST)
                mrec_add(v, &n, k, REP_ROW);
        }
        if (nd->kind == IR_DISTINCT || nd->kind == IR_GROUPBY) {
            int i = nd->in[0]->id;
            mrec_add(v, &n, i, zone[i] == PLAN_STREAM ? REP_TUPLE : REP_ROW);
        }
    }
    for (int r = 0; r < n; r++) {
        const struct ir_node *nd = q->nodes[v[r].node];
        bytes++; /* the record's flag */
        if (v[r].kind == REP_PACKET) {
            (*frames)++;
            continue;
        }
        rows |= v[r].kind == REP_ROW;
        if (v[r].kind == REP_TUPLE && nd->packet) {
            bool need[FLD__COUNT] = {0};
            bool *seen = calloc((size_t)nn, sizeof *seen);
            if (!seen) {
                free(v);
                return 0x7fff;
            }
            fields_after(pq, v[r].node, need, seen);
            free(seen);
            need[FLD_META_TS] = false; /* the record's timestamp */
            int nc = 0;
            for (int f = 0; f < FLD__COUNT; f++)
                if (need[f]) {
                    nc++;
                    field_bytes[f] = (uint8_t)((hts_fields[f].width + 7) / 8);
                }
            bytes += (nc + 7) / 8;
            continue;
        }
        /* a column that copies a packet field (that of the node the
         * filters and samples before it pass on: p4gen/tna.c mirror_field)
         * shares that field's place */
        const struct ir_node *src = nd;
        while (src->kind == IR_FILTER || src->kind == IR_SAMPLE)
            src = src->in[0];
        bytes += (nd->ncols + 7) / 8;
        for (int c = 0; c < nd->ncols; c++) {
            int b = (col_bits(&nd->cols[c]) + 7) / 8, f = c < src->ncols ? src->cols[c].field : -1;
            if (f < 0)
                bytes += b;
            else if (b > field_bytes[f])
                field_bytes[f] = (uint8_t)b;
        }
    }
    free(v);
    return bytes + (rows ? 8 : 0);
}

static int derive_query(struct plan *p, int qi, struct layouts *ls, char *err,
                        size_t errlen)
{
    struct plan_query *pq = &p->queries[qi];
    const struct ir_query *q = pq->q;
    int nn = q->nnodes;
    uint8_t *zone = arena_alloc(&p->arena, (size_t)nn);
    bool *dp = arena_alloc(&p->arena, (size_t)nn * sizeof *dp);
    for (int k = 0; k < nn; k++)
        dp[k] = pq->nodes[k].dp;
    int rc = plan_cut_check(p, qi, dp, zone, err, errlen);
    if (rc < 0)
        return rc;
    for (int k = 0; k < nn; k++) {
        struct plan_node *pn = &pq->nodes[k];
        const struct ir_node *n = q->nodes[k];
        pn->exit = PLAN_EXIT_NONE;
        pn->spill = false;
        pn->overflow_at = -1;
        pn->overflow_kind = 0;
        pn->zone = zone[k];
        pn->refine_col = -1;
        pn->gate = -1;
        if (pn->dp && (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) && pn->slots == 0)
            return fail(err, errlen, "query '%s' node %d: a data-plane %s needs "
                        "register slots", q->name, k, ir_kind_text[n->kind]);
        if (!pn->refine)
            continue;
        int col, gate;
        const char *why = "";
        if (!pn->dp)
            return fail(err, errlen, "query '%s' node %d: only a data-plane groupby "
                        "is refined", q->name, k);
        if (!plan_refinable(q, n, pn->refine, &col, &gate, &why))
            return fail(err, errlen, "query '%s' node %d cannot be refined at /%d: %s",
                        q->name, k, pn->refine, why);
        if (dp[gate])
            return fail(err, errlen, "query '%s' node %d: the threshold after a refined "
                        "groupby runs on the host (the data plane reports partial "
                        "state)", q->name, gate);
        if (pn->coarse_slots == 0)
            return fail(err, errlen, "query '%s' node %d: a refined groupby needs "
                        "coarse register slots", q->name, k);
        pn->refine_col = (int8_t)col;
        pn->gate = (int16_t)gate;
    }
    for (int k = 0; k < nn; k++) {
        struct plan_node *pn = &pq->nodes[k];
        const struct ir_node *n = q->nodes[k];
        if (!pn->dp)
            continue;
        int nhost = 0;
        for (const int *c = pq->consumers[k]; *c >= 0; c++)
            nhost += !pq->nodes[*c].dp;
        if (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) {
            int i = n->in[0]->id;
            pn->overflow_at = (int16_t)i;
            pn->overflow_kind = zone[i] == PLAN_STREAM ? REP_TUPLE : REP_ROW;
            /* a refined groupby's partial rows merge with the host's, so
             * a key counted in both places needs no spill */
            pn->spill = n->kind == IR_GROUPBY && zone[i] == PLAN_DIST && !pn->refine;
        }
        if (n == q->root || nhost) {
            switch (zone[k]) {
            case PLAN_STREAM:
                pn->exit = !p->extract || (n->packet && (pn->frame || needs_host_fields(p, pq, k)))
                               ? PLAN_EXIT_PACKET : PLAN_EXIT_TUPLE;
                break;
            case PLAN_DIST:
                pn->exit = PLAN_EXIT_ROW_NOW;
                break;
            default:
                pn->exit = pn->refine ? PLAN_EXIT_PARTIAL : PLAN_EXIT_ROW_CLOSE;
                break;
            }
        }
    }
    for (int k = 0; k < nn; k++) {
        const struct plan_node *pn = &pq->nodes[k];
        rc = 0;
        if (pn->exit == PLAN_EXIT_TUPLE)
            rc = add_layout(p, ls, pq, qi, k, REP_TUPLE, err, errlen);
        else if (pn->exit == PLAN_EXIT_PACKET)
            rc = add_layout(p, ls, pq, qi, k, REP_PACKET, err, errlen);
        else if (pn->exit == PLAN_EXIT_PARTIAL)
            rc = add_layout(p, ls, pq, qi, k, REP_PARTIAL, err, errlen);
        else if (pn->exit != PLAN_EXIT_NONE)
            rc = add_layout(p, ls, pq, qi, k, REP_ROW, err, errlen);
        if (rc == 0 && pn->overflow_at >= 0)
            rc = add_layout(p, ls, pq, qi, pn->overflow_at, pn->overflow_kind, err, errlen);
        /* a spilled key's slot, which kept counting its held rows, leaves as
         * one partial record at window end (docs/partitioning.md) */
        if (rc == 0 && pn->spill && pn->exit != PLAN_EXIT_PARTIAL)
            rc = add_layout(p, ls, pq, qi, k, REP_PARTIAL, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static struct json *plan_dom(const struct plan *p, struct json_doc *doc,
                             char *err, size_t errlen);

int plan_finish(struct plan *p, char *err, size_t errlen)
{
    struct layouts ls = {0};
    rep_schema_free(&p->reports);
    for (int i = 0; i < p->nqueries; i++) {
        int rc = derive_query(p, i, &ls, err, errlen);
        if (rc < 0)
            return rc;
    }
    p->layouts = ls.v;
    p->nlayouts = ls.n;
    int rc = rep_schema_init(&p->reports, 0, ls.v, ls.n);
    if (rc < 0)
        return fail(err, errlen, "a report layout is too large for a frame");
    struct json_doc doc = {0};
    struct json *dom = plan_dom(p, &doc, err, errlen);
    if (!dom) {
        json_doc_free(&doc);
        return -EINVAL;
    }
    p->fingerprint = json_hash(dom);
    p->reports.fingerprint = p->fingerprint;
    json_doc_free(&doc);
    return 0;
}

/* ---- the JSON form ---- */

static struct json *param_value(struct json_doc *doc, const hts_value *v)
{
    char buf[256];
    switch ((enum hts_type)v->type) {
    case TY_INT:
        return json_new_int(doc, v->u.i);
    case TY_BOOL:
        return json_new_bool(doc, v->u.i != 0);
    case TY_STR:
        if (!json_utf8_valid((const char *)v->u.s.p, v->u.s.n))
            return NULL;
        return json_new_strn(doc, (const char *)v->u.s.p, v->u.s.n);
    case TY_IPV4:
    case TY_IPV6:
    case TY_MAC:
    case TY_PREFIX4:
    case TY_PREFIX6:
        hts_value_text(v, buf, sizeof buf);
        return json_new_str(doc, buf);
    default:
        return NULL;
    }
}

static struct json *obj(struct json_doc *doc) { return json_new(doc, JSON_OBJ); }
static struct json *arr(struct json_doc *doc) { return json_new(doc, JSON_ARR); }

static void set_int(struct json_doc *doc, struct json *o, const char *k, int64_t v)
{
    json_set(doc, o, k, json_new_int(doc, v));
}

static void set_str(struct json_doc *doc, struct json *o, const char *k, const char *v)
{
    json_set(doc, o, k, json_new_str(doc, v));
}

static struct json *layout_dom(struct json_doc *doc, const struct rep_layout *l)
{
    struct json *r = obj(doc);
    set_int(doc, r, "query", l->query);
    set_int(doc, r, "node", l->node);
    set_str(doc, r, "kind", rep_kind_name(l->kind));
    json_set(doc, r, "packet", json_new_bool(doc, l->packet));
    set_int(doc, r, "length", l->rec_len);
    struct json *cols = arr(doc);
    for (int c = 0; c < l->ncols; c++) {
        struct json *col = obj(doc);
        set_str(doc, col, "name", l->cols[c].name);
        set_str(doc, col, "type", hts_type_name(l->cols[c].type));
        set_int(doc, col, "bits", l->cols[c].bits);
        set_int(doc, col, "field", l->cols[c].field);
        json_push(doc, cols, col);
    }
    json_set(doc, r, "columns", cols);
    return r;
}

static struct json *plan_dom(const struct plan *p, struct json_doc *doc,
                             char *err, size_t errlen)
{
    struct json *o = obj(doc);
    set_str(doc, o, "generator", "htsc");
    set_str(doc, o, "target", p->target);
    set_int(doc, o, "max_frame", p->max_frame);
    set_int(doc, o, "ethertype", REP_ETHERTYPE);
    set_int(doc, o, "report_version", REP_VERSION);
    set_str(doc, o, "optimality", p->optimality);
    struct json *res = obj(doc);
    set_int(doc, res, "stages", p->used.stages);
    set_int(doc, res, "register_bits", (int64_t)p->used.register_bits);
    set_int(doc, res, "salus", p->used.salus);
    set_int(doc, res, "hash_units", p->used.hash_units);
    set_int(doc, res, "tables", p->used.tables);
    set_int(doc, res, "table_entries", p->used.table_entries);
    set_int(doc, res, "phv_bits", p->used.phv_bits);
    json_set(doc, o, "resources", res);
    struct json *qs = arr(doc);
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        struct json *jq = obj(doc);
        set_int(doc, jq, "id", i);
        set_str(doc, jq, "name", q->name);
        set_str(doc, jq, "file", pq->file);
        set_str(doc, jq, "source", pq->source);
        struct json *ps = arr(doc);
        for (int k = 0; k < q->nparams; k++) {
            struct json *jp = obj(doc);
            struct json *v = param_value(doc, &q->params[k].value);
            if (!v) {
                fail(err, errlen, "query '%s': parameter '%s' has a value a plan "
                     "file cannot carry", q->name, q->params[k].name);
                return NULL;
            }
            set_str(doc, jp, "name", q->params[k].name);
            set_str(doc, jp, "type", hts_type_name(q->params[k].value.type));
            json_set(doc, jp, "value", v);
            json_push(doc, ps, jp);
        }
        json_set(doc, jq, "params", ps);
        set_int(doc, jq, "window_ns", q->window_ns);
        set_int(doc, jq, "hop_ns", q->hop_ns);
        struct json *est = obj(doc);
        set_int(doc, est, "packets_in", (int64_t)(pq->est_in + 0.5));
        set_int(doc, est, "records_out", (int64_t)(pq->est_out + 0.5));
        json_set(doc, jq, "estimate", est);
        struct json *ns = arr(doc);
        for (int k = 0; k < q->nnodes; k++) {
            const struct plan_node *pn = &pq->nodes[k];
            struct json *jn = obj(doc);
            set_int(doc, jn, "id", k);
            set_str(doc, jn, "kind", ir_kind_text[q->nodes[k]->kind]);
            json_set(doc, jn, "dp", json_new_bool(doc, pn->dp));
            set_int(doc, jn, "slots", pn->slots);
            if (pn->refine) {
                set_int(doc, jn, "refine", pn->refine);
                set_int(doc, jn, "coarse_slots", pn->coarse_slots);
            }
            if (pn->frame)
                json_set(doc, jn, "frame", json_new_bool(doc, true));
            set_int(doc, jn, "stage", pn->stage);
            set_int(doc, jn, "stages", pn->nstages);
            set_str(doc, jn, "exit", plan_exit_name(pn->exit));
            json_push(doc, ns, jn);
        }
        json_set(doc, jq, "nodes", ns);
        json_push(doc, qs, jq);
    }
    json_set(doc, o, "queries", qs);
    struct json *rs = arr(doc);
    for (int i = 0; i < p->nlayouts; i++)
        json_push(doc, rs, layout_dom(doc, &p->layouts[i]));
    json_set(doc, o, "reports", rs);
    return o;
}

int plan_write(const struct plan *p, FILE *out)
{
    struct json_doc doc = {0};
    char err[256];
    struct json *content = plan_dom(p, &doc, err, sizeof err);
    if (!content) {
        json_doc_free(&doc);
        return -EINVAL;
    }
    struct json *top = obj(&doc);
    set_int(&doc, top, "format", p->format);
    char fp[32];
    snprintf(fp, sizeof fp, "0x%016" PRIx64, p->fingerprint);
    set_str(&doc, top, "fingerprint", fp);
    json_set(&doc, top, "plan", content);
    int rc = json_write(top, out, 2);
    if (fputc('\n', out) == EOF)
        rc = -EIO;
    json_doc_free(&doc);
    return rc;
}

/* ---- loading ---- */

struct loader {
    const char *name;
    char *err;
    size_t errlen;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void lfail(struct loader *L,
                                                        const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    int n = snprintf(L->err, L->errlen, "%s: ", L->name);
    if (n < 0 || (size_t)n >= L->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static const struct json *need(struct loader *L, const struct json *o,
                               const char *key, enum json_type t, const char *where)
{
    const struct json *v = json_get(o, key);
    if (!v || v->type != t) {
        static const char *const tn[] = {"null", "a boolean", "a number", "a string",
                                         "an array", "an object"};
        lfail(L, "%s: \"%s\" must be %s", where, key, tn[t]);
        return NULL;
    }
    return v;
}

static bool need_int(struct loader *L, const struct json *o, const char *key,
                     int64_t lo, int64_t hi, int64_t *out, const char *where)
{
    const struct json *v = need(L, o, key, JSON_NUM, where);
    if (!v)
        return false;
    if (!v->is_int || v->i < lo || v->i > hi) {
        lfail(L, "%s: \"%s\" must be an integer in [%lld, %lld]", where, key,
              (long long)lo, (long long)hi);
        return false;
    }
    *out = v->i;
    return true;
}

static const char *need_str(struct loader *L, const struct json *o,
                            const char *key, const char *where)
{
    const struct json *v = need(L, o, key, JSON_STR, where);
    if (v && strlen(v->s) != v->len) {
        lfail(L, "%s: \"%s\" holds a NUL byte", where, key);
        return NULL;
    }
    return v ? v->s : NULL;
}

/* A parameter value from its JSON form, into the program's arena. */
static bool param_from_json(struct loader *L, struct arena *a, const char *type,
                            const struct json *v, hts_value *out, const char *where)
{
    if (!strcmp(type, "int") && v->type == JSON_NUM && v->is_int) {
        *out = hts_int(v->i);
        return true;
    }
    if (!strcmp(type, "bool") && v->type == JSON_BOOL) {
        *out = hts_bool(v->b);
        return true;
    }
    if (!strcmp(type, "string") && v->type == JSON_STR) {
        hts_value s = {.type = TY_STR, .present = 1};
        char *c = arena_alloc(a, v->len + 1);
        memcpy(c, v->s, v->len);
        s.u.s.p = (const uint8_t *)c;
        s.u.s.n = (uint32_t)v->len;
        *out = s;
        return true;
    }
    if ((!strcmp(type, "ipv4") || !strcmp(type, "ipv6") || !strcmp(type, "mac") ||
         !strcmp(type, "ipv4 prefix") || !strcmp(type, "ipv6 prefix")) &&
        v->type == JSON_STR && strlen(v->s) == v->len && v->len < 64) {
        char msg[128];
        if (ast_parse_literal(v->s, out, a, msg, sizeof msg) == 0 &&
            !strcmp(hts_type_name(out->type), type))
            return true;
    }
    lfail(L, "%s: bad value for a parameter of type %s", where, type);
    return false;
}

/* The first error diagnostic as one line. */
static void first_error(const struct diag *d, char *buf, size_t len)
{
    snprintf(buf, len, "errors");
    for (int i = 0; i < d->n; i++)
        if (d->msgs[i].level == DIAG_ERROR) {
            snprintf(buf, len, "%d:%d: %s", d->msgs[i].loc.line, d->msgs[i].loc.col,
                     d->msgs[i].text);
            return;
        }
}

static struct plan *load_text(const char *text, size_t len, const char *name,
                              const char *const *sets, int nsets, char *err, size_t errlen);

struct plan *plan_load_text(const char *text, size_t len, const char *name,
                            char *err, size_t errlen)
{
    return load_text(text, len, name, NULL, 0, err, errlen);
}

/* Applies "QUERY.NAME=VALUE" to the plan's own parameter values. */
static bool apply_set(struct loader *L, struct arena *a, const char *set,
                      struct ir_override *ovr, int novr)
{
    const char *eq = strchr(set, '='), *dot = eq ? memchr(set, '.', (size_t)(eq - set)) : NULL;
    if (!eq || !dot || dot == set || dot + 1 == eq) {
        lfail(L, "%s: expected QUERY.NAME=VALUE", set);
        return false;
    }
    for (int i = 0; i < novr; i++) {
        const char *q = ovr[i].query, *n = ovr[i].name;
        if (strlen(q) != (size_t)(dot - set) || strncmp(q, set, (size_t)(dot - set)) ||
            strlen(n) != (size_t)(eq - dot - 1) || strncmp(n, dot + 1, (size_t)(eq - dot - 1)))
            continue;
        char msg[200];
        hts_value v;
        if (ast_parse_literal(eq + 1, &v, a, msg, sizeof msg) < 0) {
            lfail(L, "%s: %s", set, msg);
            return false;
        }
        ovr[i].value = v;
        return true;
    }
    lfail(L, "%s: the plan has no query '%.*s' with a parameter '%.*s'", set,
          (int)(dot - set), set, (int)(eq - dot - 1), dot + 1);
    return false;
}

static struct plan *load_text(const char *text, size_t len, const char *name,
                              const char *const *sets, int nsets, char *err, size_t errlen)
{
    struct loader L = {.name = name, .err = err, .errlen = errlen};
    struct json_doc doc = {0};
    struct plan *p = NULL;
    char jerr[200];
    if (errlen)
        err[0] = 0;
    const struct json *root = json_parse(&doc, text, len, jerr, sizeof jerr);
    if (!root) {
        lfail(&L, "%s", jerr);
        goto out;
    }
    if (root->type != JSON_OBJ) {
        lfail(&L, "not a plan (the document is not an object)");
        goto out;
    }
    int64_t format;
    if (!need_int(&L, root, "format", 0, INT32_MAX, &format, "plan"))
        goto out;
    if (format > PLAN_FORMAT) {
        lfail(&L, "format %lld is newer than this program understands (%d)",
              (long long)format, PLAN_FORMAT);
        goto out;
    }
    if (format != PLAN_FORMAT) {
        lfail(&L, "format %lld is not one this program understands (%d)",
              (long long)format, PLAN_FORMAT);
        goto out;
    }
    const char *fps = need_str(&L, root, "fingerprint", "plan");
    const struct json *content = need(&L, root, "plan", JSON_OBJ, "plan");
    if (!fps || !content)
        goto out;
    uint64_t fp = 0;
    {
        char *end = NULL;
        if (strncmp(fps, "0x", 2) != 0 || strlen(fps) != 18) {
            lfail(&L, "fingerprint must be 0x and 16 hex digits");
            goto out;
        }
        fp = strtoull(fps + 2, &end, 16);
        if (!end || *end) {
            lfail(&L, "fingerprint must be 0x and 16 hex digits");
            goto out;
        }
    }
    uint64_t actual = json_hash(content);
    if (actual != fp) {
        lfail(&L, "fingerprint 0x%016" PRIx64 " does not match the content "
              "(0x%016" PRIx64 "): the file was changed", fp, actual);
        goto out;
    }
    const char *target = need_str(&L, content, "target", "plan");
    int64_t max_frame, ethertype, rver;
    if (!target || !need_int(&L, content, "max_frame", REP_MIN_FRAME, REP_MAX_FRAME,
                             &max_frame, "plan") ||
        !need_int(&L, content, "ethertype", 0, 0xffff, &ethertype, "plan") ||
        !need_int(&L, content, "report_version", 0, 255, &rver, "plan"))
        goto out;
    if (ethertype != REP_ETHERTYPE || rver != REP_VERSION) {
        lfail(&L, "report EtherType %#llx version %lld: this program speaks %#x "
              "version %d", (long long)ethertype, (long long)rver, REP_ETHERTYPE,
              REP_VERSION);
        goto out;
    }
    const char *optimality = need_str(&L, content, "optimality", "plan");
    const struct json *res = need(&L, content, "resources", JSON_OBJ, "plan");
    const struct json *jqs = need(&L, content, "queries", JSON_ARR, "plan");
    if (!optimality || !res || !jqs)
        goto out;
    if (jqs->n < 1 || jqs->n > 4096) {
        lfail(&L, "a plan holds 1 to 4096 queries");
        goto out;
    }
    p = plan_alloc(target, (uint32_t)max_frame);
    if (!p) {
        lfail(&L, "out of memory");
        goto out;
    }
    p->optimality = arena_strndup(&p->arena, optimality, strlen(optimality));
    {
        int64_t v[7];
        static const char *const keys[] = {"stages", "register_bits", "salus",
                                           "hash_units", "tables", "table_entries",
                                           "phv_bits"};
        for (int i = 0; i < 7; i++)
            if (!need_int(&L, res, keys[i], 0, i == 1 ? INT64_MAX : INT32_MAX, &v[i],
                          "resources"))
                goto out;
        /* the mirror header's use is not in the plan file: explain's */
        p->used = (struct plan_resources){.stages = (int)v[0], .register_bits = (uint64_t)v[1],
                                          .salus = (int)v[2], .hash_units = (int)v[3],
                                          .tables = (int)v[4], .table_entries = (int)v[5],
                                          .phv_bits = (int)v[6]};
    }
    /* rebuild the program from the sources */
    p->prog_arena = calloc(1, sizeof *p->prog_arena);
    p->srcs = calloc((size_t)jqs->n, sizeof *p->srcs);
    if (!p->prog_arena || !p->srcs) {
        lfail(&L, "out of memory");
        goto out;
    }
    struct diag d;
    diag_init(&d);
    struct ast_file **files = arena_alloc(p->prog_arena, (size_t)jqs->n * sizeof *files);
    int nparams = 0;
    for (int i = 0; i < jqs->n; i++) {
        const struct json *jp = json_get(jqs->items[i], "params");
        nparams += jp && jp->type == JSON_ARR ? jp->n : 0;
    }
    struct ir_override *ovr = arena_alloc(p->prog_arena, (size_t)(nparams + 1) * sizeof *ovr);
    int novr = 0, nf = 0;
    for (int i = 0; i < jqs->n && !L.failed; i++) {
        const struct json *jq = jqs->items[i];
        char where[64];
        snprintf(where, sizeof where, "query %d", i);
        int64_t id;
        if (jq->type != JSON_OBJ) {
            lfail(&L, "%s: not an object", where);
            break;
        }
        const char *qname = need_str(&L, jq, "name", where);
        const char *src = need_str(&L, jq, "source", where);
        const struct json *params = need(&L, jq, "params", JSON_ARR, where);
        if (!need_int(&L, jq, "id", i, i, &id, where) || !qname || !src || !params)
            break;
        p->srcs[p->nsrcs] = src_from_string(qname, src, strlen(src));
        if (!p->srcs[p->nsrcs]) {
            lfail(&L, "out of memory");
            break;
        }
        struct ast_file *f = NULL;
        int before = d.errors;
        if (ast_parse(p->prog_arena, &d, p->srcs[p->nsrcs++], &f) != 0 || d.errors > before) {
            char msg[200];
            first_error(&d, msg, sizeof msg);
            lfail(&L, "query '%s': source does not parse: %s", qname, msg);
            break;
        }
        if (f->queries.n != 1) {
            lfail(&L, "query '%s': source must hold exactly one query", qname);
            break;
        }
        files[nf++] = f;
        for (int k = 0; k < params->n && !L.failed; k++) {
            const struct json *jp = params->items[k];
            const char *pn = need_str(&L, jp, "name", where);
            const char *pt = need_str(&L, jp, "type", where);
            const struct json *pv = json_get(jp, "value");
            if (!pn || !pt)
                break;
            if (!pv) {
                lfail(&L, "%s: parameter '%s' has no value", where, pn);
                break;
            }
            struct ir_override *o = &ovr[novr++];
            o->query = arena_strndup(p->prog_arena, qname, strlen(qname));
            o->name = arena_strndup(p->prog_arena, pn, strlen(pn));
            param_from_json(&L, p->prog_arena, pt, pv, &o->value, where);
        }
    }
    for (int i = 0; i < nsets && !L.failed; i++)
        apply_set(&L, p->prog_arena, sets[i], ovr, novr);
    if (L.failed) {
        diag_free(&d);
        goto out;
    }
    struct ir_program *prog = sema_build(p->prog_arena, &d, files, nf, ovr, novr);
    if (!prog || d.errors) {
        char msg[200];
        first_error(&d, msg, sizeof msg);
        lfail(&L, "the queries do not compile: %s", msg);
        diag_free(&d);
        goto out;
    }
    diag_free(&d);
    for (int i = 0; i < novr; i++)
        if (!ovr[i].used) {
            lfail(&L, "query '%s' has no parameter '%s'", ovr[i].query, ovr[i].name);
            goto out;
        }
    if (prog->nqueries != jqs->n) {
        lfail(&L, "the sources give %d queries, the plan lists %d", prog->nqueries, jqs->n);
        goto out;
    }
    const struct p4g_target *tgt = p4g_target_find(p->target);
    if (!tgt) {
        lfail(&L, "unknown target '%s'", p->target);
        goto out;
    }
    /* the program the compiler planned: filters split for the target */
    p->prog = plan_split_filters(p->prog_arena, prog, tgt);
    setup_queries(p);
    p->extract = tgt->extract;
    p->frame_len = tgt->frame_len;
    for (int i = 0; i < jqs->n; i++) {
        const struct json *jq = jqs->items[i];
        struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        char where[300];
        snprintf(where, sizeof where, "query '%s'", q->name);
        const char *file = need_str(&L, jq, "file", where);
        const char *qname = need_str(&L, jq, "name", where);
        const char *src = need_str(&L, jq, "source", where);
        const struct json *est = need(&L, jq, "estimate", JSON_OBJ, where);
        const struct json *ns = need(&L, jq, "nodes", JSON_ARR, where);
        int64_t w, h, ein, eout;
        if (!file || !qname || !src || !est || !ns ||
            !need_int(&L, jq, "window_ns", 0, INT64_MAX, &w, where) ||
            !need_int(&L, jq, "hop_ns", 0, INT64_MAX, &h, where) ||
            !need_int(&L, est, "packets_in", 0, INT64_MAX, &ein, where) ||
            !need_int(&L, est, "records_out", 0, INT64_MAX, &eout, where))
            goto out;
        if (strcmp(qname, q->name) != 0) {
            lfail(&L, "query %d: the plan names it '%s', its source '%s'", i, qname, q->name);
            goto out;
        }
        if (w != q->window_ns || h != q->hop_ns) {
            lfail(&L, "%s: the window differs from its source's", where);
            goto out;
        }
        pq->file = arena_strndup(&p->arena, file, strlen(file));
        pq->source = arena_strndup(&p->arena, src, strlen(src));
        pq->est_in = (double)ein;
        pq->est_out = (double)eout;
        if (ns->n != q->nnodes) {
            lfail(&L, "%s: the plan lists %d nodes, its source gives %d", where, ns->n,
                  q->nnodes);
            goto out;
        }
        for (int k = 0; k < ns->n; k++) {
            const struct json *jn = ns->items[k];
            struct plan_node *pn = &pq->nodes[k];
            char nw[340];
            snprintf(nw, sizeof nw, "%s node %d", where, k);
            int64_t id, slots, stage, nst;
            const char *kind = need_str(&L, jn, "kind", nw);
            const struct json *dp = need(&L, jn, "dp", JSON_BOOL, nw);
            const char *exitn = need_str(&L, jn, "exit", nw);
            if (!need_int(&L, jn, "id", k, k, &id, nw) || !kind || !dp || !exitn ||
                !need_int(&L, jn, "slots", 0, 1 << 24, &slots, nw) ||
                !need_int(&L, jn, "stage", -1, 1024, &stage, nw) ||
                !need_int(&L, jn, "stages", 0, 1024, &nst, nw))
                goto out;
            if (strcmp(kind, ir_kind_text[q->nodes[k]->kind]) != 0) {
                lfail(&L, "%s: plan says %s, source gives %s", nw, kind,
                      ir_kind_text[q->nodes[k]->kind]);
                goto out;
            }
            int64_t refine = 0, cslots = 0;
            if (json_get(jn, "refine") &&
                (!need_int(&L, jn, "refine", 1, 127, &refine, nw) ||
                 !need_int(&L, jn, "coarse_slots", 1, 1 << 24, &cslots, nw)))
                goto out;
            pn->refine = (uint8_t)refine;
            pn->coarse_slots = (uint32_t)cslots;
            const struct json *fr = json_get(jn, "frame");
            if (fr && fr->type != JSON_BOOL) {
                lfail(&L, "%s: \"frame\" is not a boolean", nw);
                goto out;
            }
            pn->frame = fr && fr->b;
            pn->dp = dp->b;
            pn->slots = (uint32_t)slots;
            pn->stage = (int16_t)stage;
            pn->nstages = (int16_t)nst;
        }
    }
    char derr[300];
    if (plan_finish(p, derr, sizeof derr) < 0) {
        lfail(&L, "%s", derr);
        goto out;
    }
    /* what the file says must be what we derive */
    for (int i = 0; i < p->nqueries; i++) {
        const struct json *ns = json_get(jqs->items[i], "nodes");
        for (int k = 0; k < ns->n; k++) {
            const char *e = json_get(ns->items[k], "exit")->s;
            if (strcmp(e, plan_exit_name(p->queries[i].nodes[k].exit)) != 0) {
                lfail(&L, "query '%s' node %d: the plan says exit %s, its cut gives %s",
                      p->queries[i].q->name, k, e,
                      plan_exit_name(p->queries[i].nodes[k].exit));
                goto out;
            }
        }
    }
    const struct json *jrs = need(&L, content, "reports", JSON_ARR, "plan");
    if (!jrs)
        goto out;
    if (jrs->n != p->nlayouts) {
        lfail(&L, "the plan lists %d report layouts, its cut gives %d", jrs->n,
              p->nlayouts);
        goto out;
    }
    for (int i = 0; i < jrs->n; i++) {
        struct json_doc tmp = {0};
        uint64_t a = json_hash(jrs->items[i]);
        uint64_t b = json_hash(layout_dom(&tmp, &p->layouts[i]));
        json_doc_free(&tmp);
        if (a != b) {
            lfail(&L, "report layout %d (query %d node %d) differs from the one its cut "
                  "gives", i, p->layouts[i].query, p->layouts[i].node);
            goto out;
        }
    }
    if (nsets) { /* the same plan with other constants: the switch's plan still */
        p->fingerprint = fp;
        p->reports.fingerprint = fp;
    }
    if (p->fingerprint != fp) {
        lfail(&L, "the content is not what this program derives from it (fingerprint "
              "0x%016" PRIx64 ", derived 0x%016" PRIx64 ")", fp, p->fingerprint);
        goto out;
    }
    json_doc_free(&doc);
    return p;
out:
    json_doc_free(&doc);
    plan_free(p);
    return NULL;
}

struct plan *plan_load(const char *path, char *err, size_t errlen)
{
    return plan_load_set(path, NULL, 0, err, errlen);
}

struct plan *plan_load_set(const char *path, const char *const *sets, int nsets, char *err,
                           size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (64u << 20)) {
                snprintf(err, errlen, "%s: larger than 64 MiB: not a plan", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        return NULL;
    }
    struct plan *p = load_text(buf, len, path, sets, nsets, err, errlen);
    free(buf);
    return p;
}

struct plan *plan_changes_add(struct plan_changes *c, const char *path, const char *set,
                              char *err, size_t errlen)
{
    char **sets = realloc(c->sets, (size_t)(c->n + 1) * sizeof *sets);
    if (sets)
        c->sets = sets;
    struct plan **plans = realloc(c->plans, (size_t)(c->n + 1) * sizeof *plans);
    if (plans)
        c->plans = plans;
    if (!sets || !plans || !(c->sets[c->n] = strdup(set))) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct plan *p = plan_load_set(path, (const char *const *)c->sets, c->n + 1, err, errlen);
    if (!p) {
        free(c->sets[c->n]);
        return NULL;
    }
    c->plans[c->n++] = p;
    return p;
}

void plan_changes_pop(struct plan_changes *c)
{
    if (c->n > 0) {
        c->n--;
        free(c->sets[c->n]);
        plan_free(c->plans[c->n]);
    }
}

void plan_changes_free(struct plan_changes *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->sets[i]);
        plan_free(c->plans[i]);
    }
    free(c->sets);
    free(c->plans);
    memset(c, 0, sizeof *c);
}
