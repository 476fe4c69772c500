/*
 * tna.c - P4_16 for Tofino-1 (TNA, tna.p4) from a plan, and its control-plane
 * entries as a bfrt_python script.
 *
 * The program is a tap, like the v1model one: IngressParser (the
 * tofino_parser preamble: ingress_intrinsic_metadata_t, resubmit rejected,
 * PORT_METADATA_SIZE skipped, then Ethernet/VLAN/IPv4/IPv6/TCP/UDP/ICMP),
 * Ingress runs the data-plane part of every query and drops the packet
 * (drop_ctl); a packet that causes report records is mirrored
 * (ig_dprsr_md.mirror_type, Mirror() in the IngressDeparser) with a mirror
 * header that carries everything the records need: their flags, presence
 * bits and values, the 48-bit ns timestamp (ingress_mac_tstamp), the
 * window starts and a sequence number. REPORT_SESSION truncates the copy to
 * that header; PACKET_SESSION keeps the original frame after it (packet
 * records). EgressParser extracts the mirror header; Egress builds the
 * report frame of docs/wire-format.md from it, byte for byte as `htsc
 * emulate` writes it, and the EgressDeparser emits it.
 *
 * Per node (qQ_nK names, as `htsc explain --target tofino`):
 *   filter     a ternary table (entries in NAME.entries) when the condition is
 *              a disjunction of conjunctions of field tests, else an if on
 *              the three-valued condition, written at the fields' own widths
 *   sample     a CRC-32 Hash of meta.ts masked to 1 in N (N a power of two)
 *   map/export columns in metadata, each with a validity bit
 *   distinct,  a state array and the key's 32-bit words in arrays of their
 *   groupby    own, indexed by a CRC-32 Hash of the key bytes (the model's
 *              dpm_key_bytes), each behind RegisterActions, one execute per
 *              array per packet: the state array's claim action marks a
 *              free slot held and returns what it was, so the first key to
 *              reach a slot claims it whole (it writes its words in the
 *              next stages, before any later packet compares them); a key
 *              that finds any word different overflows to the host. A
 *              groupby fed by a distinct has a spill array, marked by the
 *              distinct's overflowing tuples. Aggregates: count in one
 *              32-bit array; sum/avg as 64 bits in a low and a high array
 *              (carry between them in the MAU) and a count of present
 *              inputs; min/max as 64 bits with the high word's sign bit
 *              flipped (so unsigned SALU compares order signed values) and
 *              min stored complemented (a max of ~x), decided high word
 *              first, and the count of present inputs
 *   threshold  applied by the control plane to the rows it reads at window
 *              close (the model does the same); its constants are in
 *              NAME.entries
 *   refined    a coarse level first, slots like the groupby's own keyed by
 *   groupby    the key with the refined address masked, and what the gate
 *              reads (a count returning its new value, a sum's words, a bit
 *              per atom on a max); the gate filter's atoms are tested in the
 *              MAU on 32-bit halves (high words' sign bits flipped) against
 *              constants in a one-entry table; a closed gate sends the
 *              tuple to the host as an overflow; then the groupby's own
 *              slots without spill array, read whole at window end
 *   histogram  a range table from the value to its bucket, and a counter
 *              array
 * Limits (refused by name, gcc-style, never emitted): register slots that
 * are not a power of two (the hash unit gives the CRC's low bits), samples
 * 1 in N for N not a power of two (no modulo), expressions needing 64-bit
 * arithmetic (+, -) or anything but a field or column as a histogram value.
 * TNA's ingress does not know a frame's length, so tofino.def says
 * frame_len = false: meta.wire_len stays on the host and packet records
 * carry length 0 ("to the end of the frame").
 *
 * Checked by tests/p4/p4check.py (structure, widths, TNA's externs, one
 * execute per register per packet path) and golden files; not compiled by
 * p4c (not packaged for Debian), so resources are as the planner models them.
 */
#include "p4common.h"

#include "fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct p4g_arch tna_arch = {
    .ts = "(bit<64>)ig_intr_md.ingress_mac_tstamp",
    .pkt_len = NULL,
    .in_port = "ig_intr_md.ingress_port",
    .no_cond_expr = true,
};

#define REPORT_SESSION 100 /* records only: truncated to the mirror header */
#define PACKET_SESSION 101 /* records and the original frame */
#define MIRROR_TAG 0xa5    /* first byte of the mirror header */

struct tna {
    const struct plan *p;
    const struct p4g_target *t;
    struct p4g_out *o;
    char *err;
    size_t errlen;
    bool failed;
    const struct ir_query *cq; /* the node whose expressions are being written */
    const struct ir_node *cn;
    bool *ptable; /* per layout: its presence comes from a table (ingress) */
};

/* Records the first refusal, gcc-shaped when the node has a location. */
__attribute__((format(printf, 5, 6))) static void refuse(struct tna *g, const struct ir_query *q,
                                                         const struct ir_node *n, const char *what,
                                                         const char *fmt, ...)
{
    if (g->failed)
        return;
    g->failed = true;
    size_t len = 0;
    const struct loc *l = n && n->loc.line ? &n->loc : &q->loc;
    if (l->line && l->file)
        len = (size_t)snprintf(g->err, g->errlen, "%s:%d:%d: ", l->file->name, l->line, l->col);
    if (len < g->errlen)
        len += (size_t)snprintf(g->err + len, g->errlen - len, "error: tofino cannot place query "
                                "'%s' node %d (%s): ", q->name, n ? n->id : 0, what);
    if (len < g->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->err + len, g->errlen - len, fmt, ap);
        va_end(ap);
    }
}

/* ---- sizes ---- */

static int col_bits(const struct ir_col *c)
{
    return c->type == TY_BOOL ? 1 : p4g_col_bytes(c) * 8;
}

static int key_bits(const struct ir_node *n)
{
    int b = 0;
    for (int i = 0; i < n->nkeys; i++)
        b += p4g_col_bytes(&n->cols[i]) * 8;
    return b ? b : 8;
}

static int key_words(const struct ir_node *n)
{
    return (key_bits(n) + 31) / 32;
}

static int log2u(uint32_t x)
{
    int b = 0;
    while ((1u << b) < x)
        b++;
    return b;
}

/* ---- expressions at their own widths ----
 * A term is a field, a column, an address masked to a prefix or a bitwise
 * & | of those: written to buf; returns its width (0: not placeable) and
 * whether it may be negative (a computed 64-bit integer). */

static int term(struct tna *g, const struct p4g_ctx *c, const struct ast_expr *e, char *buf,
                size_t n, bool *sgn)
{
    *sgn = false;
    switch (e->kind) {
    case E_NAME:
        if (e->ref_kind == REF_FIELD) {
            const struct p4g_field *f = p4g_field_of(c->a, e->ref);
            if (!f->expr)
                return 0;
            snprintf(buf, n, "%s", f->expr);
            return f->bits;
        } else {
            const struct ir_col *col = &c->in->cols[e->ref];
            snprintf(buf, n, "%s_c%d", c->colpfx, e->ref);
            *sgn = col->type == TY_INT && col->field < 0;
            return col_bits(col);
        }
    case E_LIT:
        if (e->lit.type == TY_IPV4) {
            snprintf(buf, n, "32w0x%08" PRIx32, e->lit.u.ip4);
            return 32;
        }
        if (e->lit.type != TY_INT && e->lit.type != TY_BOOL)
            return 0;
        snprintf(buf, n, "64w0x%" PRIx64, (uint64_t)e->lit.u.i);
        *sgn = e->lit.u.i < 0;
        return 64;
    case E_BINARY:
        if (e->op == OP_DIV && (e->a->type == TY_IPV4 || e->a->type == TY_IPV6)) {
            char a[512];
            bool s;
            int w = term(g, c, e->a, a, sizeof a, &s);
            int plen = (int)e->b->lit.u.i;
            if (!w)
                return 0;
            if (w == 32) {
                uint32_t m = plen <= 0 ? 0 : plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
                if ((size_t)snprintf(buf, n, "(%s & 32w0x%08" PRIx32 ")", a, m) >= n)
                    return 0;
            } else {
                char m[40];
                char *p = m;
                for (int i = 0; i < 16; i++) {
                    int b = plen - 8 * i;
                    p += sprintf(p, "%02x", b >= 8 ? 0xff : b > 0 ? (0xff << (8 - b)) & 0xff : 0);
                }
                if ((size_t)snprintf(buf, n, "(%s & 128w0x%s)", a, m) >= n)
                    return 0;
            }
            return w;
        }
        if (e->op == OP_BAND || e->op == OP_BOR) {
            char a[512], b[512];
            bool sa, sb;
            int wa = term(g, c, e->a, a, sizeof a, &sa), wb = term(g, c, e->b, b, sizeof b, &sb);
            if (!wa || !wb || e->a->type != TY_INT || e->b->type != TY_INT)
                return 0;
            if ((size_t)snprintf(buf, n, "((bit<64>)%s %s (bit<64>)%s)", a,
                                 e->op == OP_BAND ? "&" : "|", b) >= n)
                return 0;
            *sgn = sa || sb;
            return 64;
        }
        return 0;
    default:
        return 0;
    }
}

static const char *why_not(const struct ast_expr *e)
{
    if (e->kind == E_UNARY || (e->kind == E_BINARY && (e->op == OP_ADD || e->op == OP_SUB)))
        return "64-bit integer arithmetic (+, -), which a Tofino action cannot do in one step "
               "(32-bit ALUs, no carry between PHV containers): keep it on the host";
    return "an expression the generator does not write for TNA";
}

/* The comparison `a OP lit` for an unsigned term of width w: folded to a
 * constant when lit is outside [0, 2^w). */
static void cmp_lit(struct p4g_out *o, const char *t, int w, bool sgn, int op, int64_t lit)
{
    static const char *const ops[] = {[OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<",
                                      [OP_LE] = "<=", [OP_GT] = ">", [OP_GE] = ">="};
    if (sgn) {
        p4g_raw(o, "(int<64>)(bit<64>)%s %s (int<64>)64w0x%" PRIx64, t, ops[op], (uint64_t)lit);
        return;
    }
    uint64_t max = w >= 64 ? ~0ull : (1ull << w) - 1;
    if (lit < 0 || (uint64_t)lit > max) {
        bool below = lit < 0; /* every value is above lit (else below it) */
        bool r = op == OP_NE || (below ? (op == OP_GT || op == OP_GE) : (op == OP_LT || op == OP_LE));
        p4g_raw(o, "%s", r ? "true" : "false");
        return;
    }
    p4g_raw(o, "%s %s %dw0x%" PRIx64, t, ops[op], w, (uint64_t)lit);
}

static int mirror_op(int op)
{
    return op == OP_LT ? OP_GT : op == OP_GT ? OP_LT : op == OP_LE ? OP_GE : op == OP_GE ? OP_LE : op;
}

static void tna_lit(struct p4g_out *o, const hts_value *v, int w)
{
    if (v->type == TY_IPV6 || v->type == TY_PREFIX6 || v->type == TY_MAC) {
        p4g_raw(o, "%dw0x", w);
        int nb = w / 8;
        for (int i = 0; i < nb; i++)
            p4g_raw(o, "%02x", v->type == TY_MAC ? v->u.mac[i] : v->u.ip6[i]);
    } else {
        p4g_raw(o, "%dw0x%" PRIx64, w, (uint64_t)(v->type == TY_IPV4 || v->type == TY_PREFIX4
                                                      ? v->u.ip4 : (uint64_t)v->u.i));
    }
}

/* `t == element` of an `in` set or prefix */
static void in_elem(struct p4g_out *o, const char *t, int w, bool sgn, const hts_value *v)
{
    if (v->type == TY_PREFIX4 || v->type == TY_PREFIX6) {
        int plen = v->plen;
        hts_value net = *v;
        if (w == 32) {
            uint32_t m = plen <= 0 ? 0 : plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
            p4g_raw(o, "(%s & 32w0x%08" PRIx32 ") == 32w0x%08" PRIx32, t, m, v->u.ip4 & m);
        } else {
            p4g_raw(o, "(%s & 128w0x", t);
            for (int i = 0; i < 16; i++) {
                int b = plen - 8 * i;
                int m = b >= 8 ? 0xff : b > 0 ? (0xff << (8 - b)) & 0xff : 0;
                net.u.ip6[i] &= (uint8_t)m;
                p4g_raw(o, "%02x", m);
            }
            p4g_raw(o, ") == ");
            tna_lit(o, &net, 128);
        }
        return;
    }
    if (v->type == TY_INT) {
        cmp_lit(o, t, w, sgn, OP_EQ, v->u.i);
        return;
    }
    p4g_raw(o, "%s == ", t);
    tna_lit(o, v, w);
}

/* The atom hook of p4common's three-valued translation. */
static void tna_atom(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e,
                     bool want)
{
    struct tna *g = c->user;
    const struct ast_expr *a = e->a, *b = e->b;
    char ta[512], tb[512];
    bool sa = false, sb = false;
    int wa = 0, wb = 0, op = e->op;
    if (a->kind == E_LIT && b->kind != E_LIT && op != OP_IN && op != OP_HAS) {
        const struct ast_expr *x = a;
        a = b;
        b = x;
        op = mirror_op(op);
    }
    wa = term(g, c, a, ta, sizeof ta, &sa);
    bool blit = b->kind == E_LIT || b->kind == E_SET || b->kind == E_RANGE;
    if (!blit)
        wb = term(g, c, b, tb, sizeof tb, &sb);
    if (!wa || (!blit && !wb)) {
        refuse(g, g->cq, g->cn, ir_kind_text[g->cn->kind], "%s", why_not(!wa ? a : b));
        p4g_raw(o, "false");
        return;
    }
    p4g_raw(o, "(");
    p4g_valid(o, c, e);
    p4g_raw(o, " && %s(", want ? "" : "!");
    switch (op) {
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        if (b->kind == E_LIT && b->lit.type == TY_INT) {
            cmp_lit(o, ta, wa, sa, op, b->lit.u.i);
        } else if (b->kind == E_LIT) {
            p4g_raw(o, "%s %s ", ta, ast_op_text[op]);
            tna_lit(o, &b->lit, wa);
        } else if (sa || sb) {
            p4g_raw(o, "(int<64>)(bit<64>)%s %s (int<64>)(bit<64>)%s", ta, ast_op_text[op], tb);
        } else {
            int w = wa > wb ? wa : wb;
            p4g_raw(o, "(bit<%d>)%s %s (bit<%d>)%s", w, ta, ast_op_text[op], w, tb);
        }
        break;
    case OP_HAS: {
        uint64_t m = (uint64_t)b->lit.u.i, max = wa >= 64 ? ~0ull : (1ull << wa) - 1;
        if (m & ~max)
            p4g_raw(o, "false");
        else
            p4g_raw(o, "(%s & %dw0x%" PRIx64 ") == %dw0x%" PRIx64, ta, wa, m, wa, m);
        break;
    }
    case OP_IN:
        if (b->kind == E_RANGE) {
            p4g_raw(o, "(");
            cmp_lit(o, ta, wa, sa, OP_GE, b->a->lit.u.i);
            p4g_raw(o, ") && (");
            cmp_lit(o, ta, wa, sa, OP_LE, b->b->lit.u.i);
            p4g_raw(o, ")");
        } else if (b->kind == E_SET) {
            if (!b->nargs)
                p4g_raw(o, "false");
            for (int i = 0; i < b->nargs; i++) {
                p4g_raw(o, "%s(", i ? " || " : "");
                in_elem(o, ta, wa, sa, &b->args[i]->lit);
                p4g_raw(o, ")");
            }
        } else {
            in_elem(o, ta, wa, sa, &b->lit);
        }
        break;
    default:
        p4g_raw(o, "false");
        break;
    }
    p4g_raw(o, "))");
}

/* Context for expressions of node n (reading its input's columns). */
static void ctx_for(struct tna *g, struct p4g_ctx *c, int qi, const struct ir_query *q,
                    const struct ir_node *n)
{
    p4g_ctx_for(c, &tna_arch, qi, q, n->in[0]);
    c->atom = tna_atom;
    c->user = g;
    g->cq = q;
    g->cn = n;
}

/* Writes node n's value expression e as bit<w>; refuses what TNA cannot. */
static void value_as(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n,
                     const struct ast_expr *e, int w, const char *what)
{
    struct p4g_ctx c;
    char t[512];
    bool s;
    ctx_for(g, &c, qi, q, n);
    int tw = term(g, &c, e, t, sizeof t, &s);
    if (!tw) {
        refuse(g, q, n, what, "%s", why_not(e));
        p4g_raw(g->o, "0");
        return;
    }
    if (tw == w)
        p4g_raw(g->o, "%s", t);
    else
        p4g_raw(g->o, "(bit<%d>)%s", w, t);
}

/* ---- metadata ---- */

static bool probe_in(const struct plan_query *pq, const struct ir_node *n)
{
    return n->in[0]->id && pq->nodes[n->in[0]->id].zone == PLAN_DIST;
}

/* The words of a gate constant, as the data plane compares 64-bit signed
 * values in 32-bit halves: the high word with its sign bit flipped (so an
 * unsigned compare orders it), the low word. */
static uint32_t gate_hi(int64_t c)
{
    return (uint32_t)((uint64_t)c >> 32) ^ 0x80000000u;
}

/* A refined groupby's coarse level: key, index and slot state as the fine
 * level's, then what the gate reads: per count the new count, per sum its
 * input (0 when absent), presence and new value, per atom on a max whether
 * this tuple's input passes it and whether one has; the gate constants. */
static void meta_coarse(struct tna *g, int qi, const struct plan_query *pq, int k)
{
    struct p4g_out *o = g->o;
    const struct ir_node *n = pq->q->nodes[k];
    const struct plan_node *pn = &pq->nodes[k];
    unsigned aggs = p4g_gate_aggs(pq, k);
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(pq->q->nodes[pn->gate]->expr, t, P4G_MAX_THRESH);
    p4g_line(o, "bit<1> q%d_n%d_open; /* the refinement gate lets the tuple on */", qi, k);
    p4g_line(o, "bit<%d> q%d_n%d_coarse_key; /* the key, %s masked to /%d */", key_bits(n), qi,
             k, n->cols[pn->refine_col].name, pn->refine);
    for (int w = 0; w < key_words(n); w++) {
        p4g_line(o, "bit<32> q%d_n%d_coarse_w%d;", qi, k, w);
        p4g_line(o, "bit<8> q%d_n%d_coarse_m%d; /* 1: word %d differs */", qi, k, w, w);
    }
    p4g_line(o, "bit<%d> q%d_n%d_coarse_idx;", log2u(pn->coarse_slots), qi, k);
    p4g_line(o, "bit<32> q%d_n%d_coarse_old;", qi, k);
    p4g_line(o, "bit<1> q%d_n%d_coarse_hit; /* the coarse slot holds this prefix */", qi, k);
    for (int a = 0; a < n->naggs; a++) {
        int agg = n->aggs[a]->agg;
        const char *cn = n->cols[n->nkeys + a].name;
        if (!(aggs >> a & 1))
            continue;
        if (agg == AGG_COUNT) {
            p4g_line(o, "bit<32> q%d_n%d_coarse_r%d; /* %s after this tuple */", qi, k, a, cn);
        } else if (agg == AGG_MAX) {
            p4g_line(o, "bit<64> q%d_n%d_coarse_x%d; /* %s's input, high word's sign bit flipped "
                     "*/", qi, k, a, cn);
        } else {
            p4g_line(o, "bit<64> q%d_n%d_coarse_x%d; /* %s's input, 0 when absent */", qi, k, a,
                     cn);
            p4g_line(o, "bit<32> q%d_n%d_coarse_p%d; /* 1: present */", qi, k, a);
            p4g_line(o, "bit<32> q%d_n%d_coarse_s%d; /* present inputs after this tuple */", qi, k,
                     a);
            p4g_line(o, "bit<32> q%d_n%d_coarse_lo%d; /* %s after this tuple: low word */", qi, k,
                     a, cn);
            p4g_line(o, "bit<32> q%d_n%d_coarse_hi%d; /* ... high word, sign bit flipped */", qi,
                     k, a);
        }
    }
    for (int i = 0; i < nt; i++) {
        if (n->aggs[t[i].col - n->nkeys]->agg != AGG_MAX)
            continue;
        p4g_line(o, "bit<32> q%d_n%d_coarse_over%d; /* 1: this input passes atom %d of the gate "
                 "*/", qi, k, i, i);
        p4g_line(o, "bit<32> q%d_n%d_coarse_atom%d; /* 1: an input of the window has */", qi, k,
                 i);
    }
    for (int i = 0; i < nt; i++) {
        p4g_line(o, "bit<32> q%d_n%d_t%d_hi; /* gate constant: high word, sign bit flipped */", qi,
                 pn->gate, i);
        p4g_line(o, "bit<32> q%d_n%d_t%d_lo;", qi, pn->gate, i);
        /* cmp_prepare's differences: the value's words against the constant's */
        if (n->aggs[t[i].col - n->nkeys]->agg != AGG_COUNT) {
            p4g_line(o, "bit<32> q%d_n%d_coarse_dh%d; /* non-zero: high word above */", qi, k, i);
            p4g_line(o, "bit<32> q%d_n%d_coarse_de%d; /* zero: high words equal */", qi, k, i);
        }
        p4g_line(o, "bit<32> q%d_n%d_coarse_dl%d; /* the low words' saturated difference */", qi,
                 k, i);
        if (n->aggs[t[i].col - n->nkeys]->agg == AGG_COUNT)
            p4g_line(o, "bit<2> q%d_n%d_coarse_tk%d; /* the constant: 1 negative, 2 past 32 "
                     "bits, 0 in 32 bits */", qi, k, i);
    }
}

/* Either declares (init false) or zeroes in the parser (init true) the
 * per-query metadata; only flags need zeroing (the rest is written before
 * it is read). */
static void query_meta(struct tna *g, bool init)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        if (!init && p4g_window_query(p, i))
            p4g_line(o, "bit<64> q%d_ws; /* %s: window start (control plane) */", i, q->name);
        for (int k = 1; k < q->nnodes; k++) {
            const struct plan_node *pn = &pq->nodes[k];
            const struct ir_node *n = q->nodes[k];
            if (!pn->dp || pn->zone == PLAN_THRESH)
                continue;
            bool flag = n->kind != IR_HISTOGRAM;
            bool probe = pn->zone == PLAN_DIST || n->kind == IR_DISTINCT || n->kind == IR_GROUPBY;
            if (init) {
                if (flag)
                    p4g_line(o, "meta.q%d_n%d = 0;", i, k);
                if (probe && n->kind != IR_SAMPLE)
                    p4g_line(o, "meta.q%d_n%d_probe = 0;", i, k);
                if (n->kind == IR_GROUPBY)
                    p4g_line(o, "meta.q%d_n%d_hit = 0;", i, k);
                if (pn->refine)
                    p4g_line(o, "meta.q%d_n%d_coarse_hit = 0;", i, k);
                continue;
            }
            if (flag)
                p4g_line(o, "bit<1> q%d_n%d; /* %s passes */", i, k, ir_kind_text[n->kind]);
            if (probe && n->kind != IR_SAMPLE)
                p4g_line(o, "bit<1> q%d_n%d_probe; /* its key overflowed upstream */", i, k);
            int ncols = n->kind == IR_MAP || n->kind == IR_EXPORT ? n->ncols
                        : n->kind == IR_DISTINCT || n->kind == IR_GROUPBY ? n->nkeys : 0;
            for (int c = 0; c < ncols; c++) {
                p4g_line(o, "bit<%d> q%d_n%d_c%d; /* %s */", col_bits(&n->cols[c]), i, k, c,
                         n->cols[c].name);
                p4g_line(o, "bit<1> q%d_n%d_c%d_v;", i, k, c);
            }
            if (n->kind == IR_SAMPLE)
                p4g_line(o, "bit<32> q%d_n%d_h;", i, k);
            if (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) {
                p4g_line(o, "bit<1> q%d_n%d_kv; /* every key column present */", i, k);
                p4g_line(o, "bit<%d> q%d_n%d_key;", key_bits(n), i, k);
                for (int w = 0; w < key_words(n); w++) {
                    p4g_line(o, "bit<32> q%d_n%d_w%d;", i, k, w);
                    p4g_line(o, "bit<8> q%d_n%d_m%d; /* 1: word %d differs */", i, k, w, w);
                }
                p4g_line(o, "bit<%d> q%d_n%d_idx;", log2u(pn->slots), i, k);
                p4g_line(o, "bit<32> q%d_n%d_old; /* the slot's state before this packet */", i, k);
            }
            if (n->kind == IR_GROUPBY) {
                p4g_line(o, "bit<1> q%d_n%d_hit; /* the slot holds this key */", i, k);
                for (int a = 0; a < n->naggs; a++) {
                    if (n->aggs[a]->agg == AGG_COUNT)
                        continue;
                    p4g_line(o, "bit<64> q%d_n%d_x%d; /* %s's input */", i, k, a,
                             n->cols[n->nkeys + a].name);
                    if (n->aggs[a]->agg == AGG_SUM || n->aggs[a]->agg == AGG_AVG) {
                        /* the width the register action answers in: a cast
                         * after it is a table (a stage) of its own */
                        p4g_line(o, "bit<8> q%d_n%d_r%d; /* the low word's carry */", i, k, a);
                        p4g_line(o, "bit<32> q%d_n%d_nx%d; /* ~ the input's low word */", i, k,
                                 a);
                        p4g_line(o, "bit<32> q%d_n%d_hx%d; /* the input's high word + 1 */", i,
                                 k, a);
                    } else {
                        p4g_line(o, "bit<32> q%d_n%d_r%d;", i, k, a);
                    }
                }
            }
            if (n->kind == IR_HISTOGRAM)
                p4g_line(o, "bit<8> q%d_n%d_b; /* bucket */", i, k);
            if (pn->refine)
                meta_coarse(g, i, pq, k);
        }
    }
    for (int l = 0; l < p->nlayouts; l++) {
        char name[64];
        if (!p4g_per_packet(p, &p->layouts[l]))
            continue;
        p4g_rec_name(name, sizeof name, &p->layouts[l]);
        if (init)
            p4g_line(o, "meta.r_%s = 0;", name);
        else
            p4g_line(o, "bit<1> r_%s;", name);
    }
}

/* The packet field a record's column copies as it is (catalogue id), or -1
 * for a computed value. Records of one packet that carry the same field
 * share one mirror-header field: Tofino's mirror header is at most 48
 * bytes, and records of related operators repeat the same addresses. */
static int mirror_field(const struct plan *p, const struct rep_layout *L, int c)
{
    if (L->packet)
        return L->cols[c].field;
    const struct ir_query *q = p->queries[L->query].q;
    int src = p4g_colsrc(q, L->node);
    return c < q->nodes[src]->ncols ? q->nodes[src]->cols[c].field : -1;
}

/* The mirror-header field holding column c of L: "f_<field>" when shared,
 * else "<record>_v<c>_<column>". */
static void mirror_value_name(char *out, size_t n, const struct plan *p,
                              const struct rep_layout *L, int c)
{
    char cn[64], rn[64];
    int f = mirror_field(p, L, c);
    if (f >= 0) {
        p4g_sanitize(cn, sizeof cn, hts_fields[f].name);
        snprintf(out, n, "f_%s", cn);
        return;
    }
    p4g_rec_name(rn, sizeof rn, L);
    p4g_sanitize(cn, sizeof cn, L->cols[c].name);
    snprintf(out, n, "%s_v%d_%s", rn, c, cn);
}

/* Whether column c of L is the first user of its shared field (the one
 * that declares and fills it). */
static bool mirror_value_first(const struct plan *p, int l, int c)
{
    int f = mirror_field(p, &p->layouts[l], c);
    if (f < 0)
        return true;
    for (int l2 = 0; l2 <= l; l2++) {
        const struct rep_layout *L2 = &p->layouts[l2];
        if (!p4g_per_packet(p, L2) || L2->kind == REP_PACKET)
            continue;
        for (int c2 = 0; c2 < (l2 == l ? c : L2->ncols); c2++)
            if (mirror_field(p, L2, c2) == f)
                return false;
    }
    return true;
}

/* Fills record l's presence and values in the mirror header; a shared
 * field is written by each record that carries it (the same value). */
static void mirror_values(struct p4g_out *o, const struct plan *p, int l, const char *name,
                          bool ptable)
{
    const struct rep_layout *L = &p->layouts[l];
    char names[REP_MAX_COLS][160];
    const char *vn[REP_MAX_COLS];
    bool shared[REP_MAX_COLS];
    for (int c = 0; c < L->ncols; c++) {
        mirror_value_name(names[c], sizeof names[c], p, L, c);
        vn[c] = names[c];
        shared[c] = mirror_field(p, L, c) >= 0;
    }
    char t[96];
    snprintf(t, sizeof t, "%s_presence_t", name);
    p4g_rec_values(o, p, &tna_arch, L, "meta.mirror.", name, '_', vn, shared,
                   ptable ? t : NULL);
}

/* Opens "if (x valid) {", indented. */
static void open_valid_block(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *x)
{
    p4g_indent(o);
    p4g_raw(o, "if (");
    p4g_valid(o, c, x);
    p4g_raw(o, ") {\n");
    o->indent++;
}

/* Closes the open "if (x valid) {" block and opens another on the same
 * test: a dependent step then gets an action (and a stage) of its own. */
static void next_valid_block(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *x)
{
    o->indent--;
    p4g_line(o, "}");
    open_valid_block(o, c, x);
}

/* Bytes of the mirror header (mirror_h below). */
static int mirror_bytes(const struct plan *p, int npkt)
{
    int bits = 8 + 48 + 32 + (npkt ? 16 : 0), nflags = 0;
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        if (!p4g_per_packet(p, L))
            continue;
        nflags++;
        if (L->kind == REP_PACKET)
            continue;
        bits += L->presence_bytes * 8;
        for (int c = 0; c < L->ncols; c++)
            if (mirror_value_first(p, l, c))
                bits += (int)rep_col_bytes(&L->cols[c]) * 8;
    }
    for (int i = 0; i < p->nqueries; i++)
        bits += p4g_window_query(p, i) ? 64 : 0;
    return (bits + (nflags + 7) / 8 * 8) / 8;
}

/* The mirror header: what egress needs to build the report. Returns its
 * size in bytes. */
static int mirror_header(struct tna *g, int npkt)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    int bits = 8 + 48 + 32, nflags = 0;
    p4g_blank(o);
    p4g_line(o, "/* ingress -> egress with the mirrored copy: the records of this packet */");
    p4g_open(o, "header mirror_h");
    p4g_line(o, "bit<8> tag;       /* MIRROR_TAG */");
    p4g_line(o, "bit<48> ts;       /* ingress_mac_tstamp, ns */");
    p4g_line(o, "bit<32> seq;      /* report sequence number */");
    if (npkt) {
        p4g_line(o, "bit<16> port;     /* ingress port, for packet records */");
        bits += 16;
    }
    for (int l = 0; l < p->nlayouts; l++) {
        char name[64];
        if (!p4g_per_packet(p, &p->layouts[l]))
            continue;
        p4g_rec_name(name, sizeof name, &p->layouts[l]);
        p4g_line(o, "bit<1> r_%s;", name);
        nflags++;
    }
    if (nflags % 8) {
        p4g_line(o, "bit<%d> pad;", 8 - nflags % 8);
        nflags += 8 - nflags % 8;
    }
    bits += nflags;
    for (int i = 0; i < p->nqueries; i++)
        if (p4g_window_query(p, i)) {
            p4g_line(o, "bit<64> q%d_ws;", i);
            bits += 64;
        }
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64];
        if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
            continue;
        p4g_rec_name(name, sizeof name, L);
        p4g_line(o, "bit<%d> %s_presence;", L->presence_bytes * 8, name);
        bits += L->presence_bytes * 8;
        for (int c = 0; c < L->ncols; c++) {
            char vn[160];
            if (!mirror_value_first(p, l, c))
                continue;
            mirror_value_name(vn, sizeof vn, p, L, c);
            p4g_line(o, "bit<%u> %s;", rep_col_bytes(&L->cols[c]) * 8, vn);
            bits += (int)rep_col_bytes(&L->cols[c]) * 8;
        }
    }
    p4g_close(o, "");
    return bits / 8;
}

static void structs(struct tna *g, int npkt)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    p4g_open(o, "struct ig_headers_t");
    p4g_line(o, "ethernet_t ethernet;");
    p4g_line(o, "vlan_t[2] vlan;");
    p4g_line(o, "ipv4_t ipv4;");
    p4g_line(o, "ipv6_t ipv6;");
    p4g_line(o, "tcp_t tcp;");
    p4g_line(o, "udp_t udp;");
    p4g_line(o, "icmp_t icmp;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "struct ig_metadata_t");
    p4g_line(o, "bit<64> ts;            /* meta.ts, ns */");
    p4g_line(o, "bit<16> port;          /* meta.port */");
    p4g_line(o, "bit<16> eth_type;      /* eth.type after VLAN tags */");
    p4g_line(o, "bit<8> vlan_depth;");
    p4g_line(o, "bit<8> tcp_hdr_len;");
    p4g_line(o, "bit<16> ip_hdr_len;");
    p4g_line(o, "bit<16> tcp_hdr_len16;");
    p4g_line(o, "bit<16> tcp_payload_len;");
    p4g_line(o, "bit<1> report;         /* this packet causes records */");
    p4g_line(o, "MirrorId_t session;     /* REPORT_SESSION, or PACKET_SESSION: the frame too */");
    query_meta(g, false);
    p4g_line(o, "mirror_h mirror;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "struct eg_headers_t");
    /* emit order: the report, then the packet record */
    p4g_report_members(o, p, npkt);
    p4g_line(o, "mirror_h mirror;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "struct eg_metadata_t");
    p4g_line(o, "bit<16> npkt;          /* packet targets so far */");
    p4g_close(o, "");
}

/* ---- ingress: declarations ---- */

/* RegisterAction NAME on REG with body lines (rv, of rvw bits, used when
 * `out`). */
static void reg_action_w(struct p4g_out *o, const char *reg, const char *name, int ib, bool out,
                         int rvw, const char *const *body)
{
    p4g_line(o, "RegisterAction<bit<32>, bit<%d>, bit<%d>>(%s) %s = {", ib, rvw, reg, name);
    o->indent++;
    if (out)
        p4g_line(o, "void apply(inout bit<32> v, out bit<%d> rv) {", rvw);
    else
        p4g_line(o, "void apply(inout bit<32> v) {");
    o->indent++;
    for (; *body; body++)
        p4g_line(o, "%s", *body);
    o->indent--;
    p4g_line(o, "}");
    o->indent--;
    p4g_line(o, "};");
}

static void reg_action(struct p4g_out *o, const char *reg, const char *name, int ib, bool out,
                       const char *const *body)
{
    reg_action_w(o, reg, name, ib, out, 32, body);
}

/* One level of hashed slots: a distinct or groupby's own (name "qQ_nK"), or
 * a refined groupby's coarse level ("qQ_nK_coarse", its refined key column
 * masked to a prefix). The name prefixes its externs and metadata. */
struct level {
    char nm[32];    /* "q0_n2", "q0_n2_coarse" */
    char slots[32]; /* "Q0_N2_SLOTS", "Q0_N2_COARSE_SLOTS" */
    int ib;         /* index bits */
    int mask_col;   /* the key column masked (coarse level), else -1 */
    int mask_len;
};

static void level_of(struct level *l, int qi, const struct plan_query *pq, int k, bool coarse)
{
    const struct plan_node *pn = &pq->nodes[k];
    snprintf(l->nm, sizeof l->nm, "q%d_n%d%s", qi, k, coarse ? "_coarse" : "");
    snprintf(l->slots, sizeof l->slots, "Q%d_N%d_%sSLOTS", qi, k, coarse ? "COARSE_" : "");
    l->ib = log2u(coarse ? pn->coarse_slots : pn->slots);
    l->mask_col = coarse ? pn->refine_col : -1;
    l->mask_len = coarse ? pn->refine : 0;
}

/* A level's hash, state array (claim: mark held, return the old state) and
 * key word arrays (write when claimed, else compare). */
static void declare_slots(struct tna *g, const struct ir_node *n, const struct level *l)
{
    struct p4g_out *o = g->o;
    char reg[64], act[80], l0[160];
    p4g_line(o, "Hash<bit<%d>>(HashAlgorithm_t.CRC32) %s_hash;", l->ib, l->nm);
    snprintf(reg, sizeof reg, "%s_state", l->nm);
    p4g_line(o, "Register<bit<32>, bit<%d>>(%s) %s; /* 0 free, 1 held */", l->ib, l->slots, reg);
    snprintf(act, sizeof act, "%s_claim", l->nm);
    reg_action(o, reg, act, l->ib, true, (const char *const[]){"rv = v;", "v = 1;", NULL});
    for (int w = 0; w < key_words(n); w++) {
        snprintf(reg, sizeof reg, "%s_key%d", l->nm, w);
        p4g_line(o, "Register<bit<32>, bit<%d>>(%s) %s;", l->ib, l->slots, reg);
        snprintf(act, sizeof act, "%s_write", reg);
        snprintf(l0, sizeof l0, "v = meta.%s_w%d;", l->nm, w);
        reg_action(o, reg, act, l->ib, false, (const char *const[]){l0, NULL});
        snprintf(act, sizeof act, "%s_check", reg);
        snprintf(l0, sizeof l0, "if (v == meta.%s_w%d) {", l->nm, w);
        /* an 8-bit answer: the words' answers are tested together in one
         * gateway, which takes 4 bytes of input */
        reg_action_w(o, reg, act, l->ib, true, 8,
                     (const char *const[]){l0, "    rv = 0;", "} else {", "    rv = 1;", "}", NULL});
    }
}

/* A refined groupby's coarse level: its slots, and per aggregate the gate
 * reads: a count returns its new value; a sum adds its input (0 when absent)
 * and the presence bit and returns the new words; each atom on a max keeps
 * one bit, whether an input of the window has passed it (max >= c holds
 * once one input is >= c). */
static void declare_coarse(struct tna *g, int qi, const struct plan_query *pq, int k)
{
    struct p4g_out *o = g->o;
    const struct ir_node *n = pq->q->nodes[k];
    const struct plan_node *pn = &pq->nodes[k];
    unsigned aggs = p4g_gate_aggs(pq, k);
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(pq->q->nodes[pn->gate]->expr, t, P4G_MAX_THRESH);
    struct level l;
    char reg[64], act[80], l0[160];
    level_of(&l, qi, pq, k, true);
    p4g_line(o, "/* ... refined: first a coarse level, the key with %s masked to /%d (%u "
             "slots), where %%%d's threshold gates the tuples */", n->cols[pn->refine_col].name,
             pn->refine, pn->coarse_slots, pn->gate);
    declare_slots(g, n, &l);
    for (int a = 0; a < n->naggs; a++) {
        int agg = n->aggs[a]->agg;
        const char *cn = n->cols[n->nkeys + a].name;
        if (!(aggs >> a & 1) || agg == AGG_MAX)
            continue;
        if (agg == AGG_COUNT) {
            snprintf(reg, sizeof reg, "%s_agg%d", l.nm, a);
            p4g_line(o, "Register<bit<32>, bit<%d>>(%s) %s; /* %s: count */", l.ib, l.slots, reg,
                     cn);
            snprintf(act, sizeof act, "%s_inc", reg);
            reg_action(o, reg, act, l.ib, true, (const char *const[]){"v = v + 1;", "rv = v;",
                                                                      NULL});
            continue;
        }
        snprintf(reg, sizeof reg, "%s_seen%d", l.nm, a);
        p4g_line(o, "Register<bit<32>, bit<%d>>(%s) %s; /* %s: present inputs */", l.ib, l.slots,
                 reg, cn);
        snprintf(act, sizeof act, "%s_add", reg);
        snprintf(l0, sizeof l0, "v = v + meta.%s_p%d;", l.nm, a);
        reg_action(o, reg, act, l.ib, true, (const char *const[]){l0, "rv = v;", NULL});
        for (int hi = 0; hi < 2; hi++) {
            snprintf(reg, sizeof reg, "%s_agg%d_%s", l.nm, a, hi ? "hi" : "lo");
            p4g_line(o, "Register<bit<32>, bit<%d>>(%s) %s; /* %s: sum, %s word */", l.ib, l.slots,
                     reg, cn, hi ? "high" : "low");
            snprintf(act, sizeof act, "%s_add", reg);
            snprintf(l0, sizeof l0, "v = v + meta.%s_x%d[%s];", l.nm, a, hi ? "63:32" : "31:0");
            reg_action(o, reg, act, l.ib, true, (const char *const[]){l0, "rv = v;", NULL});
        }
    }
    for (int i = 0; i < nt; i++) {
        if (n->aggs[t[i].col - n->nkeys]->agg != AGG_MAX)
            continue;
        snprintf(reg, sizeof reg, "%s_atom%d", l.nm, i);
        p4g_line(o, "Register<bit<32>, bit<%d>>(%s) %s; /* 1: an input of the window passed "
                 "%s %s %lld */", l.ib, l.slots, reg, n->cols[t[i].col].name,
                 t[i].strict ? ">" : ">=", (long long)t[i].c);
        snprintf(act, sizeof act, "%s_or", reg);
        snprintf(l0, sizeof l0, "v = v | meta.%s_over%d;", l.nm, i);
        reg_action(o, reg, act, l.ib, true, (const char *const[]){l0, "rv = v;", NULL});
    }
    p4g_line(o, "/* ... then its own slots */");
}

static void declare_state(struct tna *g, int qi, const struct plan_query *pq)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    char reg[64], act[80], l0[160], l1[160], l2[160];
    for (int k = 1; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        const struct plan_node *pn = &pq->nodes[k];
        if (!pn->dp)
            continue;
        if (n->kind == IR_SAMPLE && n->sample_n > 1)
            p4g_line(o, "Hash<bit<32>>(HashAlgorithm_t.CRC32) q%d_n%d_hash;", qi, k);
        if (n->kind == IR_HISTOGRAM) {
            p4g_line(o, "/* %%%d histogram: %d buckets */", k, n->nedges + 1);
            snprintf(reg, sizeof reg, "q%d_n%d_hist", qi, k);
            p4g_line(o, "Register<bit<32>, bit<8>>(%d) %s;", n->nedges + 1, reg);
            snprintf(act, sizeof act, "%s_inc", reg);
            reg_action(o, reg, act, 8, false, (const char *const[]){"v = v + 1;", NULL});
            continue;
        }
        if (n->kind != IR_DISTINCT && n->kind != IR_GROUPBY)
            continue;
        int ib = log2u(pn->slots);
        struct level l;
        p4g_line(o, "/* %%%d %s by %d key%s (%d bits in %d word%s): %u slots */", k,
                 ir_kind_text[n->kind], n->nkeys, n->nkeys == 1 ? "" : "s", key_bits(n),
                 key_words(n), key_words(n) == 1 ? "" : "s", pn->slots);
        if (pn->refine)
            declare_coarse(g, qi, pq, k);
        level_of(&l, qi, pq, k, false);
        declare_slots(g, n, &l);
        if (n->kind == IR_GROUPBY && probe_in(pq, n) && !pn->refine) {
            snprintf(reg, sizeof reg, "q%d_n%d_spill", qi, k);
            p4g_line(o, "Register<bit<32>, bit<%d>>(Q%d_N%d_SLOTS) %s; /* 1: the host owns the "
                     "key (a distinct tuple of it overflowed) */", ib, qi, k, reg);
            snprintf(act, sizeof act, "%s_mark", reg);
            reg_action(o, reg, act, ib, false, (const char *const[]){"v = 1;", NULL});
        }
        for (int a = 0; n->kind == IR_GROUPBY && a < n->naggs; a++) {
            int agg = n->aggs[a]->agg;
            const char *cn = n->cols[n->nkeys + a].name;
            if (agg == AGG_COUNT) {
                snprintf(reg, sizeof reg, "q%d_n%d_agg%d", qi, k, a);
                p4g_line(o, "Register<bit<32>, bit<%d>>(Q%d_N%d_SLOTS) %s; /* %s: count */", ib,
                         qi, k, reg, cn);
                snprintf(act, sizeof act, "%s_inc", reg);
                reg_action(o, reg, act, ib, false, (const char *const[]){"v = v + 1;", NULL});
                continue;
            }
            bool mm = agg == AGG_MIN || agg == AGG_MAX;
            snprintf(reg, sizeof reg, "q%d_n%d_seen%d", qi, k, a);
            p4g_line(o, "Register<bit<32>, bit<%d>>(Q%d_N%d_SLOTS) %s; /* %s: present inputs */",
                     ib, qi, k, reg, cn);
            snprintf(act, sizeof act, "%s_inc", reg);
            reg_action(o, reg, act, ib, false, (const char *const[]){"v = v + 1;", NULL});
            snprintf(reg, sizeof reg, "q%d_n%d_agg%d_lo", qi, k, a);
            p4g_line(o, "Register<bit<32>, bit<%d>>(Q%d_N%d_SLOTS) %s; /* %s: %s, low word */", ib,
                     qi, k, reg, cn, mm ? (agg == AGG_MIN ? "min, complemented" : "max") : "sum");
            if (mm) {
                snprintf(act, sizeof act, "%s_set", reg);
                snprintf(l0, sizeof l0, "v = meta.q%d_n%d_x%d[31:0];", qi, k, a);
                reg_action(o, reg, act, ib, false, (const char *const[]){l0, NULL});
                snprintf(act, sizeof act, "%s_max", reg);
                snprintf(l0, sizeof l0, "if (meta.q%d_n%d_x%d[31:0] > v) {", qi, k, a);
                snprintf(l1, sizeof l1, "    v = meta.q%d_n%d_x%d[31:0];", qi, k, a);
                reg_action(o, reg, act, ib, false, (const char *const[]){l0, l1, "}", NULL});
            } else {
                /* the carry out of the low word, as the register sees it:
                 * v + x overflows when v > ~x */
                snprintf(act, sizeof act, "%s_add", reg);
                snprintf(l0, sizeof l0, "if (v > meta.q%d_n%d_nx%d) {", qi, k, a);
                snprintf(l1, sizeof l1, "v = v + meta.q%d_n%d_x%d[31:0];", qi, k, a);
                reg_action_w(o, reg, act, ib, true, 8,
                             (const char *const[]){l0, "    rv = 1;", "} else {", "    rv = 0;",
                                                   "}", l1, NULL});
            }
            snprintf(reg, sizeof reg, "q%d_n%d_agg%d_hi", qi, k, a);
            p4g_line(o, "Register<bit<32>, bit<%d>>(Q%d_N%d_SLOTS) %s; /* %s: high word%s */", ib,
                     qi, k, reg, cn, mm ? ", sign bit flipped" : "");
            if (mm) {
                snprintf(act, sizeof act, "%s_max", reg);
                snprintf(l0, sizeof l0, "if (meta.q%d_n%d_x%d[63:32] > v) {", qi, k, a);
                snprintf(l1, sizeof l1, "    v = meta.q%d_n%d_x%d[63:32];", qi, k, a);
                snprintf(l2, sizeof l2, "} else if (meta.q%d_n%d_x%d[63:32] == v) {", qi, k, a);
                reg_action(o, reg, act, ib, true,
                           (const char *const[]){l0, l1, "    rv = 2; /* greater: written */",
                                                 l2, "    rv = 1; /* equal: the low word "
                                                 "decides */", "} else {", "    rv = 0;", "}",
                                                 NULL});
            } else {
                snprintf(act, sizeof act, "%s_add", reg);
                snprintf(l0, sizeof l0, "v = v + meta.q%d_n%d_x%d[63:32];", qi, k, a);
                reg_action(o, reg, act, ib, false, (const char *const[]){l0, NULL});
                /* with the low word's carry: the high word + 1, computed
                 * before (no carry step between the two adds) */
                snprintf(act, sizeof act, "%s_add1", reg);
                snprintf(l0, sizeof l0, "v = v + meta.q%d_n%d_hx%d;", qi, k, a);
                reg_action(o, reg, act, ib, false, (const char *const[]){l0, NULL});
            }
        }
    }
}

/* "hdr.tcp.dst_port" -> "tcp_dst_port": a key's control-plane name */
static void key_name(char *buf, size_t n, const char *expr)
{
    const char *s = !strncmp(expr, "hdr.", 4) ? expr + 4 : !strncmp(expr, "meta.", 5) ? expr + 5
                                                                                    : expr;
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%s", s);
    char *e = strstr(tmp, ".isValid()");
    if (e)
        strcpy(e, "_valid");
    p4g_sanitize(buf, n, tmp);
}

/* The histogram's value: a field or a column (refused otherwise). */
static bool hist_value(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n,
                       char *buf, size_t len, int *w)
{
    struct p4g_ctx c;
    bool s;
    ctx_for(g, &c, qi, q, n);
    *w = n->expr->kind == E_NAME ? term(g, &c, n->expr, buf, len, &s) : 0;
    if (!*w || s) {
        refuse(g, q, n, "histogram", "its value must be a field or a column of one (a range "
               "table matches it)");
        return false;
    }
    return true;
}

/* The constants of a refined groupby's gate (filter n) in a one-entry
 * table, as gate_hi() words: NAME.entries may change them. */
static void gate_table(struct tna *g, int qi, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(n->expr, t, P4G_MAX_THRESH), k = n->id;
    char head[64];
    p4g_indent(o);
    p4g_raw(o, "action q%d_n%d_set_gate(", qi, k);
    for (int i = 0; i < nt; i++)
        p4g_raw(o, "%sbit<32> t%d_hi, bit<32> t%d_lo", i ? ", " : "", i, i);
    p4g_raw(o, ") {\n");
    for (int i = 0; i < nt; i++) {
        p4g_line(o, "    meta.q%d_n%d_t%d_hi = t%d_hi;", qi, k, i, i);
        p4g_line(o, "    meta.q%d_n%d_t%d_lo = t%d_lo;", qi, k, i, i);
    }
    p4g_line(o, "}");
    snprintf(head, sizeof head, "table q%d_n%d_gate", qi, k);
    p4g_open(o, head);
    p4g_line(o, "actions = { q%d_n%d_set_gate; }", qi, k);
    p4g_line(o, "size = 1;");
    p4g_indent(o);
    p4g_raw(o, "default_action = q%d_n%d_set_gate(", qi, k);
    for (int i = 0; i < nt; i++)
        p4g_raw(o, "%s0x%08" PRIx32 ", 0x%08" PRIx32, i ? ", " : "", gate_hi(t[i].c),
                (uint32_t)t[i].c);
    p4g_raw(o, "); /* ");
    for (int i = 0; i < nt; i++)
        p4g_raw(o, "%s%s %s %lld", i ? ", " : "", n->in[0]->cols[t[i].col].name,
                t[i].strict ? ">" : ">=", (long long)t[i].c);
    p4g_raw(o, " */\n");
    p4g_close(o, "");
    p4g_blank(o);
}

static void key_valid_table(struct tna *g, int qi, const struct ir_query *q,
                            const struct ir_node *n);

static void declare_tables(struct tna *g, int qi, const struct plan_query *pq)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    char head[64], kn[96];
    if (p4g_window_query(g->p, qi))
        p4g_window_table(o, qi);
    for (int k = 1; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        const struct plan_node *pn = &pq->nodes[k];
        struct p4g_dnf d;
        if (n->kind == IR_FILTER && !pn->dp && p4g_gate_of(pq, k) >= 0) {
            gate_table(g, qi, n);
            continue;
        }
        if (!pn->dp)
            continue;
        if ((n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) && pn->zone != PLAN_THRESH)
            key_valid_table(g, qi, q, n);
        for (int a = 0; n->kind == IR_GROUPBY && a < n->naggs; a++) {
            int agg = n->aggs[a]->agg;
            if (agg != AGG_MIN && agg != AGG_MAX)
                continue;
            /* The high word of a min or max with its sign bit flipped (and
             * for min every bit): an xor with a constant, which needs action
             * data; p4c-barefoot builds the 64-bit value's high word with
             * the hash unit, and a keyless table (an if block's) cannot have
             * both ("can only be done through the hit pathway"). A table
             * with a key that always hits there (sum_inputs runs it under
             * kv == 1, gen_aggs a refined groupby's under hit == 1) can. */
            p4g_indent(o);
            p4g_raw(o, "action q%d_n%d_hi%d_set() { meta.q%d_n%d_x%d[63:32] = (", qi, k, a, qi,
                    k, a);
            value_as(g, qi, q, n, n->aggs[a]->args[0], 64, ast_agg_text[agg]);
            p4g_raw(o, ")[63:32] ^ %s; }\n",
                    agg == AGG_MIN ? "32w0x7fffffff" : "32w0x80000000");
            snprintf(head, sizeof head, "table q%d_n%d_hi%d_t", qi, k, a);
            p4g_open(o, head);
            /* unrefined: loaded with the claim (sum_inputs), under kv == 1 */
            p4g_line(o, "key = { meta.q%d_n%d_%s: exact; }", qi, k, pn->refine ? "hit" : "kv");
            p4g_line(o, "actions = { q%d_n%d_hi%d_set; NoAction; }", qi, k, a);
            p4g_line(o, "size = 2;");
            p4g_line(o, "default_action = NoAction;");
            p4g_line(o, "const entries = { 1: q%d_n%d_hi%d_set(); }", qi, k, a);
            p4g_close(o, "");
        }
        if (n->kind == IR_HISTOGRAM) {
            char v[512];
            int w;
            if (!hist_value(g, qi, q, n, v, sizeof v, &w))
                continue;
            p4g_line(o, "action q%d_n%d_set_bucket(bit<8> b) { meta.q%d_n%d_b = b; }", qi, k, qi,
                     k);
            snprintf(head, sizeof head, "table q%d_n%d_bucket", qi, k);
            p4g_open(o, head);
            p4g_open(o, "key =");
            p4g_line(o, "%s: range @name(\"value\");", v);
            p4g_close(o, "");
            p4g_line(o, "actions = { q%d_n%d_set_bucket; NoAction; }", qi, k);
            p4g_line(o, "size = %d;", n->nedges + 1);
            p4g_line(o, "default_action = NoAction();");
            p4g_close(o, "");
            p4g_blank(o);
            continue;
        }
        if (n->kind != IR_FILTER || pn->zone == PLAN_THRESH || !p4g_filter_dnf(&tna_arch, n, &d))
            continue;
        p4g_line(o, "action q%d_n%d_pass() { meta.q%d_n%d = 1; }", qi, k, qi, k);
        snprintf(head, sizeof head, "table q%d_n%d_filter", qi, k);
        p4g_open(o, head);
        p4g_open(o, "key =");
        const char *v[P4G_MAX_KEYS];
        int nv = p4g_valid_keys(&d, v);
        for (int i = 0; i < nv; i++) {
            key_name(kn, sizeof kn, v[i]);
            p4g_line(o, "%s: ternary @name(\"%s\");", v[i], kn);
        }
        for (int i = 0; i < d.nkeys; i++) {
            const char *x = p4g_field_of(&tna_arch, d.keys[i])->expr;
            key_name(kn, sizeof kn, x);
            p4g_line(o, "%s: ternary @name(\"%s\");", x, kn);
        }
        p4g_close(o, "");
        p4g_line(o, "actions = { q%d_n%d_pass; NoAction; }", qi, k);
        p4g_line(o, "size = %d;", d.nt < 16 ? 16 : d.nt * 2);
        p4g_line(o, "default_action = NoAction();");
        p4g_close(o, "");
        p4g_blank(o);
    }
}

/* ---- ingress: statements ---- */

static void set_flag(struct tna *g, int qi, int node, int kind)
{
    struct rep_layout l = {.query = qi, .node = node, .kind = kind};
    char name[64];
    p4g_rec_name(name, sizeof name, &l);
    p4g_line(g->o, "meta.r_%s = 1;", name);
    p4g_line(g->o, "meta.report = 1;");
    if (kind == REP_PACKET)
        p4g_line(g->o, "meta.session = PACKET_SESSION; /* the frame goes too */");
}

static void open_active(struct tna *g, int qi, const struct ir_node *n, bool probe)
{
    struct p4g_out *o = g->o;
    int in = n->in[0]->id;
    p4g_indent(o);
    if (in == 0)
        p4g_raw(o, "if (true) {\n");
    else if (probe)
        p4g_raw(o, "if (meta.q%d_n%d == 1 || meta.q%d_n%d_probe == 1) {\n", qi, in, qi, in);
    else
        p4g_raw(o, "if (meta.q%d_n%d == 1) {\n", qi, in);
    o->indent++;
}

/*
 * The key columns' validity bits from one table (TNA): each column's bit is
 * the AND of its leaves' validity (header bits, an input column's bit), so
 * one table keyed by those atoms sets every column's bit and kv, their AND,
 * in one action. Written as one if block per column, the bits shared PHV
 * containers and p4c-barefoot chained their writes over one to three
 * stages, differently from program to program (docs/targets.md, "Tofino's
 * compiler"). Not for a bool key column (its bit reads the value) or more
 * than KV_ATOMS atoms: then the if blocks as before.
 */
enum { KV_ATOMS = 4, KV_COLS = 32 };
struct key_valid {
    int natoms;
    char atom[KV_ATOMS][96];
    unsigned of[KV_COLS]; /* column i: the atoms it needs */
};

static bool kv_add(struct key_valid *kv, unsigned *of, const char *a)
{
    int j = 0;
    while (j < kv->natoms && strcmp(kv->atom[j], a))
        j++;
    if (j == kv->natoms) {
        if (j == KV_ATOMS)
            return false;
        snprintf(kv->atom[kv->natoms++], sizeof kv->atom[0], "%s", a);
    }
    *of |= 1u << j;
    return true;
}

/* valid_rec's leaves (p4common.c) as atoms */
static bool kv_leaves(const struct p4g_ctx *c, const struct ast_expr *e, struct key_valid *kv,
                      unsigned *of)
{
    if (!e)
        return true;
    if (e->kind == E_NAME) {
        char a[96];
        if (e->ref_kind == REF_FIELD) {
            const char *v = p4g_field_of(c->a, e->ref)->valid;
            return !strcmp(v, "true") || kv_add(kv, of, v);
        }
        snprintf(a, sizeof a, "%s_c%d_v", c->colpfx, e->ref);
        return kv_add(kv, of, a);
    }
    if (!kv_leaves(c, e->a, kv, of))
        return false;
    return e->kind == E_SET || e->kind == E_RANGE || kv_leaves(c, e->b, kv, of);
}

static bool key_valid_of(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n,
                         struct key_valid *kv)
{
    struct p4g_ctx c;
    memset(kv, 0, sizeof *kv);
    if (n->nkeys > KV_COLS)
        return false;
    ctx_for(g, &c, qi, q, n);
    for (int i = 0; i < n->nkeys; i++)
        if (n->cols[i].type == TY_BOOL || !kv_leaves(&c, n->exprs[i], kv, &kv->of[i]))
            return false;
    return true;
}

/* One entry of key_valid_table for the atoms present in m (-1: the default
 * action, nothing present). */
static void kv_entry(struct p4g_out *o, int qi, const struct ir_node *n,
                     const struct key_valid *kv, int m)
{
    unsigned all = 1;
    p4g_indent(o);
    if (m < 0 || !kv->natoms) {
        p4g_raw(o, "default_action = ");
    } else {
        p4g_raw(o, "%s", kv->natoms > 1 ? "(" : "");
        for (int j = 0; j < kv->natoms; j++) {
            bool bit = strstr(kv->atom[j], "isValid()") == NULL; /* bit<1>, else bool */
            int on = m >> j & 1;
            p4g_raw(o, "%s%s", j ? ", " : "", bit ? (on ? "1" : "0") : (on ? "true" : "false"));
        }
        p4g_raw(o, "%s: ", kv->natoms > 1 ? ")" : "");
    }
    p4g_raw(o, "q%d_n%d_kv_set(", qi, n->id);
    for (int i = 0; i < n->nkeys; i++) {
        unsigned v = m >= 0 && (kv->of[i] & ~(unsigned)m) == 0;
        all &= v;
        p4g_raw(o, "%u, ", v);
    }
    p4g_raw(o, "%u);\n", m >= 0 ? all : 0u);
}

/* The table of key_valid_of: an entry per combination of the atoms. */
static void key_valid_table(struct tna *g, int qi, const struct ir_query *q,
                            const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    struct key_valid kv;
    char head[64];
    int k = n->id;
    if (!key_valid_of(g, qi, q, n, &kv))
        return;
    p4g_indent(o);
    p4g_raw(o, "action q%d_n%d_kv_set(", qi, k);
    for (int i = 0; i < n->nkeys; i++)
        p4g_raw(o, "bit<1> v%d, ", i);
    p4g_raw(o, "bit<1> all) {\n");
    o->indent++;
    for (int i = 0; i < n->nkeys; i++)
        p4g_line(o, "meta.q%d_n%d_c%d_v = v%d;", qi, k, i, i);
    p4g_line(o, "meta.q%d_n%d_kv = all;", qi, k);
    o->indent--;
    p4g_line(o, "}");
    snprintf(head, sizeof head, "table q%d_n%d_kv_t", qi, k);
    p4g_open(o, head);
    if (kv.natoms) {
        p4g_indent(o);
        p4g_raw(o, "key = {");
        for (int j = 0; j < kv.natoms; j++)
            p4g_raw(o, " %s: exact;", kv.atom[j]);
        p4g_raw(o, " }\n");
    }
    p4g_line(o, "actions = { q%d_n%d_kv_set; }", qi, k);
    p4g_line(o, "size = %d;", 1 << kv.natoms);
    /* without atoms every column is present: the default action says so */
    kv_entry(o, qi, n, &kv, kv.natoms ? -1 : 0);
    if (kv.natoms)
        p4g_open(o, "const entries =");
    for (int m = 0; kv.natoms && m < 1 << kv.natoms; m++)
        kv_entry(o, qi, n, &kv, m);
    if (kv.natoms)
        p4g_close(o, "");
    p4g_close(o, "");
}

/* The guard "every key column present": kv, else each column's bit. */
static void keys_valid(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n)
{
    struct key_valid kv;
    if (!key_valid_of(g, qi, q, n, &kv)) {
        p4g_keys_valid(g->o, qi, n);
        return;
    }
    p4g_line(g->o, "if (meta.q%d_n%d_kv == 1) {", qi, n->id);
    g->o->indent++;
}

static void assign_cols(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n,
                        int ncols)
{
    struct p4g_out *o = g->o;
    struct p4g_ctx c;
    struct key_valid kv;
    bool table = (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) && ncols == n->nkeys &&
                 key_valid_of(g, qi, q, n, &kv);
    if (table)
        p4g_line(o, "q%d_n%d_kv_t.apply(); /* the key columns' validity bits, in one step */", qi,
                 n->id);
    ctx_for(g, &c, qi, q, n);
    for (int i = 0; i < ncols; i++) {
        if (table)
            p4g_indent(o);
        else if (p4g_assign_col_valid(o, &c, qi, n, i))
            continue;
        p4g_raw(o, "meta.q%d_n%d_c%d = ", qi, n->id, i);
        value_as(g, qi, q, n, n->exprs[i], col_bits(&n->cols[i]), ir_kind_text[n->kind]);
        p4g_raw(o, ";\n");
    }
}

/* Key, index, claim and compare: leaves meta.NM_old (0: claimed) and,
 * when it was held, the word checks m0.. (0: equal). */
/* The key of level l, its words and its slot index (hashed); the claim
 * (key_lookup) follows. */
static void key_hash(struct tna *g, int qi, const struct ir_node *n, const struct level *l)
{
    struct p4g_out *o = g->o;
    const char *nm = l->nm;
    int k = n->id, kb = key_bits(n);
    p4g_indent(o);
    p4g_raw(o, "meta.%s_key = ", nm);
    for (int i = 0; i < n->nkeys; i++) {
        char col[48], masked[96];
        snprintf(col, sizeof col, "meta.q%d_n%d_c%d", qi, k, i);
        if (i == l->mask_col)
            p4g_masked_col(masked, sizeof masked, col, n->cols[i].type, l->mask_len);
        p4g_raw(o, "%s(bit<%d>)%s", i ? " ++ " : "", p4g_col_bytes(&n->cols[i]) * 8,
                i == l->mask_col ? masked : col);
    }
    if (!n->nkeys)
        p4g_raw(o, "8w0");
    p4g_raw(o, ";\n");
    for (int w = 0; w < key_words(n); w++) {
        int hi = 32 * w + 31 < kb ? 32 * w + 31 : kb - 1;
        if (hi - 32 * w + 1 == 32)
            p4g_line(o, "meta.%s_w%d = meta.%s_key[%d:%d];", nm, w, nm, hi, 32 * w);
        else
            p4g_line(o, "meta.%s_w%d = (bit<32>)meta.%s_key[%d:%d];", nm, w, nm, hi, 32 * w);
    }
    p4g_line(o, "meta.%s_idx = %s_hash.get({ meta.%s_key });", nm, nm, nm);
}

/* The key's slot: hashed (unless `hashed`: key_hash was written before),
 * then claimed. */
static void key_lookup(struct tna *g, int qi, const struct ir_node *n, const struct level *l,
                       bool hashed)
{
    if (!hashed)
        key_hash(g, qi, n, l);
    p4g_line(g->o, "meta.%s_old = %s_claim.execute(meta.%s_idx);", l->nm, l->nm, l->nm);
}

static void key_writes(struct tna *g, const struct ir_node *n, const struct level *l)
{
    for (int w = 0; w < key_words(n); w++)
        p4g_line(g->o, "%s_key%d_write.execute(meta.%s_idx);", l->nm, w, l->nm);
}

static void key_checks(struct tna *g, const struct ir_node *n, const struct level *l)
{
    for (int w = 0; w < key_words(n); w++)
        p4g_line(g->o, "meta.%s_m%d = %s_key%d_check.execute(meta.%s_idx);", l->nm, w, l->nm, w,
                 l->nm);
}

/* "(meta.NM_m0 == 0 && meta.NM_m1 == 0)": every word equal, as tests of
 * single fields against constants (a Tofino gateway cannot OR two fields) */
static void words_equal(struct tna *g, const struct ir_node *n, const struct level *l)
{
    p4g_raw(g->o, "(");
    for (int w = 0; w < key_words(n); w++)
        p4g_raw(g->o, "%smeta.%s_m%d == 0", w ? " && " : "", l->nm, w);
    p4g_raw(g->o, ")");
}

/* A level's slot lookup: the index and state, a free slot claimed (its key
 * words written, meta.NM<held> set), else the held key's words compared;
 * leaves the else branch open at the indent of the caller's "if". */
static void slot_lookup(struct tna *g, int qi, const struct ir_node *n, const struct level *l,
                        const char *why, const char *held, bool hashed)
{
    struct p4g_out *o = g->o;
    key_lookup(g, qi, n, l, hashed);
    p4g_line(o, "if (meta.%s_old == 0) {", l->nm);
    o->indent++;
    p4g_line(o, "/* a free slot, now held by this %s for the window%s */",
             l->mask_col >= 0 ? "prefix" : "key", why);
    key_writes(g, n, l);
    p4g_line(o, "meta.%s%s = 1;", l->nm, held);
    o->indent--;
    p4g_line(o, "} else {");
    o->indent++;
    key_checks(g, n, l);
    p4g_indent(o);
}

/* The steps of a distinct or a (fine-only) groupby, each a block of its own
 * under the same guard (the input active, every key column present), so
 * that ingress() can write independent operators' steps interleaved: the
 * compiler places tables in control-flow order, and a branch written after
 * another was only placed after it (docs/targets.md, "Tofino's compiler").
 * A step reads what the steps before it wrote, never another operator's. */
enum { STEP_CLAIM, STEP_CHECK, STEP_UPDATE };

/* The guard of a later step: reopens what step STEP_CLAIM opened. */
static void reopen_slot(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n,
                        bool probe)
{
    open_active(g, qi, n, probe);
    keys_valid(g, qi, q, n);
}

/* A sum's (or avg's) input, loaded with the claim (it reads the packet
 * only), ~ its low word in the next step (in the same block it crashes
 * p4c-barefoot); only the hit branch's register actions read them. */
static void sum_inputs(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n,
                       int step)
{
    struct p4g_out *o = g->o;
    int k = n->id;
    for (int a = 0; a < n->naggs; a++) {
        int agg = n->aggs[a]->agg;
        if (agg == AGG_COUNT || ((agg == AGG_MIN || agg == AGG_MAX) && step != STEP_CLAIM))
            continue;
        const struct ast_expr *x = n->aggs[a]->args[0];
        struct p4g_ctx c;
        ctx_for(g, &c, qi, q, n);
        open_valid_block(o, &c, x);
        if (agg == AGG_MIN || agg == AGG_MAX) {
            /* its words flipped for the unsigned compare (gen_aggs) */
            p4g_indent(o);
            p4g_raw(o, "meta.q%d_n%d_x%d[31:0] = (", qi, k, a);
            value_as(g, qi, q, n, x, 64, ast_agg_text[agg]);
            p4g_raw(o, ")[31:0]%s;\n", agg == AGG_MIN ? " ^ 32w0xffffffff" : "");
            p4g_line(o, "q%d_n%d_hi%d_t.apply(); /* the high word (declare_tables) */", qi, k,
                     a);
        } else if (step == STEP_CLAIM) {
            p4g_indent(o);
            p4g_raw(o, "meta.q%d_n%d_x%d = ", qi, k, a);
            value_as(g, qi, q, n, x, 64, ast_agg_text[agg]);
            p4g_raw(o, ";\n");
        } else {
            p4g_line(o, "meta.q%d_n%d_nx%d = ~meta.q%d_n%d_x%d[31:0];", qi, k, a, qi, k, a);
            p4g_line(o, "meta.q%d_n%d_hx%d = meta.q%d_n%d_x%d[63:32] + 1;", qi, k, a, qi, k, a);
        }
        o->indent--;
        p4g_line(o, "}");
    }
}

/* Step STEP_CLAIM: the key columns, key words, index and the slot's claim
 * (meta.NM_old: 0 when it was free). */
static void claim_step(struct tna *g, int qi, const struct plan_query *pq, const struct ir_node *n,
                       bool probe)
{
    struct level l;
    level_of(&l, qi, pq, n->id, false);
    open_active(g, qi, n, probe);
    assign_cols(g, qi, pq->q, n, n->nkeys);
    keys_valid(g, qi, pq->q, n);
    key_lookup(g, qi, n, &l, false);
    if (n->kind == IR_GROUPBY)
        sum_inputs(g, qi, pq->q, n, STEP_CLAIM);
    p4g_close(g->o, "");
    p4g_close(g->o, "");
}

/* Step STEP_CHECK: a free slot's key words written, a held one's compared
 * (m0..: 0 when equal); leaves the else branch open, after the compare. */
static void check_step(struct tna *g, int qi, const struct plan_query *pq, const struct ir_node *n,
                       bool probe, const char *why, const char *held)
{
    struct p4g_out *o = g->o;
    struct level l;
    level_of(&l, qi, pq, n->id, false);
    reopen_slot(g, qi, pq->q, n, probe);
    if (n->kind == IR_GROUPBY)
        sum_inputs(g, qi, pq->q, n, STEP_CHECK);
    p4g_line(o, "if (meta.%s_old == 0) {", l.nm);
    o->indent++;
    p4g_line(o, "/* a free slot, now held by this key for the window%s */", why);
    key_writes(g, n, &l);
    p4g_line(o, "meta.%s%s = 1;", l.nm, held);
    o->indent--;
    p4g_line(o, "} else {");
    o->indent++;
    key_checks(g, n, &l);
    p4g_indent(o);
}

static void gen_distinct(struct tna *g, int qi, const struct plan_query *pq, const struct ir_node *n,
                         int step)
{
    struct p4g_out *o = g->o;
    const struct plan_node *pn = &pq->nodes[n->id];
    int k = n->id;
    struct level l;
    level_of(&l, qi, pq, k, false);
    if (step == STEP_CLAIM) {
        claim_step(g, qi, pq, n, false);
        return;
    }
    check_step(g, qi, pq, n, false, ": its first sight", "");
    p4g_raw(o, "if (!(");
    words_equal(g, n, &l);
    p4g_raw(o, ")) {\n");
    o->indent++;
    p4g_line(o, "/* the slot holds another key: the host runs this one */");
    set_flag(g, qi, pn->overflow_at, pn->overflow_kind);
    p4g_line(o, "meta.q%d_n%d_probe = 1;", qi, k);
    o->indent--;
    p4g_line(o, "}");
    o->indent--;
    p4g_line(o, "}");
    p4g_close(o, "");
    p4g_close(o, "");
}

/* The aggregates' updates on a hit; early: sums' inputs were loaded by
 * sum_inputs(). */
static void gen_aggs(struct tna *g, int qi, const struct ir_query *q, const struct ir_node *n,
                     bool early)
{
    struct p4g_out *o = g->o;
    int k = n->id;
    for (int a = 0; a < n->naggs; a++) {
        int agg = n->aggs[a]->agg;
        if (agg == AGG_COUNT) {
            p4g_line(o, "q%d_n%d_agg%d_inc.execute(meta.q%d_n%d_idx);", qi, k, a, qi, k);
            continue;
        }
        const struct ast_expr *x = n->aggs[a]->args[0];
        struct p4g_ctx c;
        ctx_for(g, &c, qi, q, n);
        open_valid_block(o, &c, x);
        p4g_indent(o);
        bool sum = agg == AGG_SUM || agg == AGG_AVG;
        /* min and max compare as unsigned words: the sign bit flipped (and
         * for min every bit: ~v ^ sign = v ^ ~sign) by one xor with a
         * constant (an action cannot chain two operations on a field) */
        if (sum && !early) {
            p4g_raw(o, "meta.q%d_n%d_x%d = ", qi, k, a);
            value_as(g, qi, q, n, x, 64, ast_agg_text[agg]);
            p4g_raw(o, ";\n");
        } else if (sum) {
            p4g_raw(o, "/* the input and ~ its low word: loaded by the claim and check */\n");
        } else if (early) {
            p4g_raw(o, "/* the input's words, flipped: loaded by the claim */\n");
        } else { /* per 32-bit word: one operation each */
            p4g_raw(o, "meta.q%d_n%d_x%d[31:0] = (", qi, k, a);
            value_as(g, qi, q, n, x, 64, ast_agg_text[agg]);
            p4g_raw(o, ")[31:0]%s;\n", agg == AGG_MIN ? " ^ 32w0xffffffff" : "");
            p4g_line(o, "q%d_n%d_hi%d_t.apply(); /* the high word (declare_tables) */", qi, k,
                     a);
        }
        p4g_line(o, "q%d_n%d_seen%d_inc.execute(meta.q%d_n%d_idx);", qi, k, a, qi, k);
        if (agg == AGG_SUM || agg == AGG_AVG) {
            /* ~x in a block of its own (it reads what the line above wrote),
             * the register's add in the next */
            if (!early) {
                next_valid_block(o, &c, x);
                p4g_line(o, "meta.q%d_n%d_nx%d = ~meta.q%d_n%d_x%d[31:0];", qi, k, a, qi, k, a);
                p4g_line(o, "meta.q%d_n%d_hx%d = meta.q%d_n%d_x%d[63:32] + 1;", qi, k, a, qi, k,
                         a);
            }
            next_valid_block(o, &c, x);
            p4g_line(o, "meta.q%d_n%d_r%d = q%d_n%d_agg%d_lo_add.execute(meta.q%d_n%d_idx);",
                     qi, k, a, qi, k, a, qi, k);
            p4g_line(o, "if (meta.q%d_n%d_r%d == 1) { /* the low word's carry */", qi, k, a);
            p4g_line(o, "    q%d_n%d_agg%d_hi_add1.execute(meta.q%d_n%d_idx);", qi, k, a, qi, k);
            p4g_line(o, "} else {");
            p4g_line(o, "    q%d_n%d_agg%d_hi_add.execute(meta.q%d_n%d_idx);", qi, k, a, qi, k);
            p4g_line(o, "}");
        } else {
            p4g_line(o, "meta.q%d_n%d_r%d = q%d_n%d_agg%d_hi_max.execute(meta.q%d_n%d_idx);", qi,
                     k, a, qi, k, a, qi, k);
            p4g_line(o, "if (meta.q%d_n%d_r%d == 2) {", qi, k, a);
            p4g_line(o, "    q%d_n%d_agg%d_lo_set.execute(meta.q%d_n%d_idx);", qi, k, a, qi, k);
            p4g_line(o, "} else if (meta.q%d_n%d_r%d == 1) {", qi, k, a);
            p4g_line(o, "    q%d_n%d_agg%d_lo_max.execute(meta.q%d_n%d_idx);", qi, k, a, qi, k);
            p4g_line(o, "}");
        }
        o->indent--;
        p4g_line(o, "}");
    }
}

/* "v >= t" (or >) for 64-bit signed values compared as 32-bit halves, the
 * high words with their sign bits flipped (an unsigned compare orders them). */
/* Tofino's gateways compare a field with a constant, not with another
 * field ("condition too complex"), and a gate's constants are fields (set
 * by the gate's table): a value's words (vhi, vlo; vhi NULL: a 32-bit
 * count) are compared with the constant's (thi, tlo) in an action, by
 * saturating subtraction and xor, into NM_dhI (non-zero: vhi > thi),
 * NM_deI (zero: vhi == thi) and NM_dlI (strict: non-zero when vlo > tlo;
 * else zero when vlo >= tlo); cmp_nested tests them in gateways. The
 * caller puts the action in a step of its own (it reads what the step
 * before wrote). */
static void cmp_prepare(struct p4g_out *o, const char *nm, int i, const char *vhi,
                        const char *vlo, const char *thi, const char *tlo, bool strict)
{
    if (vhi) {
        p4g_line(o, "meta.%s_dh%d = %s |-| %s;", nm, i, vhi, thi);
        p4g_line(o, "meta.%s_de%d = %s ^ %s;", nm, i, vhi, thi);
    }
    if (strict)
        p4g_line(o, "meta.%s_dl%d = %s |-| %s;", nm, i, vlo, tlo);
    else
        p4g_line(o, "meta.%s_dl%d = %s |-| %s;", nm, i, tlo, vlo);
}

/* The value against the constant on cmp_prepare's differences, as
 * nested gateways of one field each (a gateway reads at most 4 bytes):
 * writes `pass` (or nothing) where the value passes, `fail` where not. */
static void cmp_nested(struct p4g_out *o, const char *nm, int i, bool words, bool strict,
                       const char *pass, const char *fail)
{
    if (words) {
        p4g_line(o, "if (meta.%s_dh%d != 0) {", nm, i);
        if (pass)
            p4g_line(o, "    %s", pass);
        p4g_line(o, "} else if (meta.%s_de%d != 0) {", nm, i);
        if (fail)
            p4g_line(o, "    %s", fail);
        p4g_indent(o);
        p4g_raw(o, "} else ");
    } else {
        p4g_indent(o);
    }
    /* the low words: one branch, the one with a statement */
    bool p = pass != NULL;
    p4g_raw(o, "if (meta.%s_dl%d %s 0) {\n", nm, i, (strict == p) ? "!=" : "==");
    p4g_line(o, "    %s", p ? pass : fail);
    p4g_line(o, "}");
}

/* A refined groupby's coarse level and gate (docs/partitioning.md,
 * "Refinement in the generated P4"): the key with its refined column masked
 * claims or finds a coarse slot; there the aggregates the gate reads are
 * updated and the gate's atoms tested on their new values; the gate is open
 * (meta.qQ_nK_open) when they all hold, or when the slot holds another
 * prefix. Leaves the gate-open branch open, indented. */
static void gen_coarse(struct tna *g, int qi, const struct plan_query *pq, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    const struct plan_node *pn = &pq->nodes[n->id];
    int k = n->id, gate = pn->gate;
    unsigned aggs = p4g_gate_aggs(pq, k);
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(q->nodes[gate]->expr, t, P4G_MAX_THRESH);
    struct level l;
    const char *nm = l.nm;
    char vhi[64], vlo[64], thi[64], tlo[64];
    level_of(&l, qi, pq, k, true);
    p4g_line(o, "/* refinement: first the coarse level, %s/%d */", n->cols[pn->refine_col].name,
             pn->refine);
    /* the gate's constants: read by the tests after the update, needed
     * by nothing before (applied first, they take no stage of the chain) */
    p4g_line(o, "q%d_n%d_gate.apply();", qi, gate);
    /* a single count atom (the gate "count >= constant"): its constant's
     * high word classified now, so that one gateway decides the gate */
    bool one_count = nt == 1 && n->aggs[t[0].col - n->nkeys]->agg == AGG_COUNT;
    if (one_count) {
        snprintf(thi, sizeof thi, "meta.q%d_n%d_t0_hi", qi, gate);
        p4g_line(o, "if (%s[31:31] == 0) {", thi);
        p4g_line(o, "    meta.%s_tk0 = 1; /* negative: every count passes */", nm);
        p4g_line(o, "} else if (%s != 32w0x80000000) {", thi);
        p4g_line(o, "    meta.%s_tk0 = 2; /* past 32 bits: no count does */", nm);
        p4g_line(o, "} else {");
        p4g_line(o, "    meta.%s_tk0 = 0; /* the low words decide */", nm);
        p4g_line(o, "}");
    }
    slot_lookup(g, qi, n, &l, "", "_hit", false);
    p4g_raw(o, "if (");
    words_equal(g, n, &l);
    p4g_raw(o, ") {\n");
    p4g_line(o, "    meta.%s_hit = 1;", nm);
    p4g_line(o, "}");
    o->indent--;
    p4g_line(o, "}");
    if (!one_count)
        p4g_line(o, "meta.q%d_n%d_open = 1; /* a prefix whose slot holds another: no gate */", qi,
                 k);
    /* the aggregates on a hit: with a one-word key tested on the claim and
     * the check themselves (a stage before meta.hit is set) */
    if (key_words(n) == 1)
        p4g_line(o, "if (meta.%s_old == 0 || meta.%s_m0 == 0) {", nm, nm);
    else
        p4g_line(o, "if (meta.%s_hit == 1) {", nm);
    o->indent++;
    for (int a = 0; a < n->naggs; a++) {
        int agg = n->aggs[a]->agg;
        if (!(aggs >> a & 1))
            continue;
        if (agg == AGG_COUNT) {
            p4g_line(o, "meta.%s_r%d = %s_agg%d_inc.execute(meta.%s_idx);", nm, a, nm, a, nm);
            continue;
        }
        const struct ast_expr *x = n->aggs[a]->args[0];
        struct p4g_ctx c;
        ctx_for(g, &c, qi, q, n);
        p4g_line(o, "meta.%s_x%d = 0;", nm, a);
        if (agg == AGG_SUM)
            p4g_line(o, "meta.%s_p%d = 0;", nm, a);
        for (int i = 0; agg == AGG_MAX && i < nt; i++)
            if (t[i].col == n->nkeys + a)
                p4g_line(o, "meta.%s_over%d = 0;", nm, i);
        open_valid_block(o, &c, x);
        p4g_indent(o);
        p4g_raw(o, "meta.%s_x%d = (", nm, a);
        value_as(g, qi, q, n, x, 64, ast_agg_text[agg]);
        p4g_raw(o, ")%s;\n", agg == AGG_SUM ? "" : " ^ 64w0x8000000000000000");
        if (agg == AGG_SUM) {
            p4g_line(o, "meta.%s_p%d = 1;", nm, a);
        } else {
            for (int i = 0; i < nt; i++) {
                if (t[i].col != n->nkeys + a)
                    continue;
                snprintf(vhi, sizeof vhi, "meta.%s_x%d[63:32]", nm, a);
                snprintf(vlo, sizeof vlo, "meta.%s_x%d[31:0]", nm, a);
                snprintf(thi, sizeof thi, "meta.q%d_n%d_t%d_hi", qi, gate, i);
                snprintf(tlo, sizeof tlo, "meta.q%d_n%d_t%d_lo", qi, gate, i);
                next_valid_block(o, &c, x);
                cmp_prepare(o, nm, i, vhi, vlo, thi, tlo, t[i].strict);
                next_valid_block(o, &c, x);
                char over[96];
                snprintf(over, sizeof over, "meta.%s_over%d = 1;", nm, i);
                cmp_nested(o, nm, i, true, t[i].strict, over, NULL);
            }
        }
        o->indent--;
        p4g_line(o, "}");
        if (agg == AGG_SUM) {
            p4g_line(o, "meta.%s_s%d = %s_seen%d_add.execute(meta.%s_idx);", nm, a, nm, a, nm);
            p4g_line(o, "meta.%s_lo%d = %s_agg%d_lo_add.execute(meta.%s_idx);", nm, a, nm, a, nm);
            p4g_line(o, "if (meta.%s_lo%d < meta.%s_x%d[31:0]) {", nm, a, nm, a);
            p4g_line(o, "    meta.%s_x%d[63:32] = meta.%s_x%d[63:32] + 1; /* carry */", nm, a, nm,
                     a);
            p4g_line(o, "}");
            p4g_line(o, "meta.%s_hi%d = %s_agg%d_hi_add.execute(meta.%s_idx);", nm, a, nm, a, nm);
            p4g_line(o, "meta.%s_hi%d = meta.%s_hi%d ^ 32w0x80000000; /* signed order */", nm, a,
                     nm, a);
        } else {
            for (int i = 0; i < nt; i++)
                if (t[i].col == n->nkeys + a)
                    p4g_line(o, "meta.%s_atom%d = %s_atom%d_or.execute(meta.%s_idx);", nm, i, nm,
                             i, nm);
        }
    }
    /* the new values against the gate's constants, a step of their own */
    o->indent--;
    p4g_line(o, "}");
    p4g_line(o, "if (meta.%s_hit == 1) {", nm);
    o->indent++;
    for (int i = 0; i < nt; i++) {
        int a = t[i].col - n->nkeys, agg = n->aggs[a]->agg;
        snprintf(thi, sizeof thi, "meta.q%d_n%d_t%d_hi", qi, gate, i);
        snprintf(tlo, sizeof tlo, "meta.q%d_n%d_t%d_lo", qi, gate, i);
        snprintf(vhi, sizeof vhi, "meta.%s_hi%d", nm, a);
        snprintf(vlo, sizeof vlo, agg == AGG_COUNT ? "meta.%s_r%d" : "meta.%s_lo%d", nm, a);
        if (agg == AGG_COUNT || agg == AGG_SUM)
            cmp_prepare(o, nm, i, agg == AGG_COUNT ? NULL : vhi, vlo, thi, tlo, t[i].strict);
    }
    o->indent--;
    p4g_line(o, "}");
    if (one_count) { /* one gateway: the hit, the class, the difference */
        p4g_line(o, "if (meta.%s_hit == 1 && (meta.%s_tk0 == 2 || (meta.%s_tk0 == 0 && "
                 "meta.%s_dl0 %s 0))) {", nm, nm, nm, nm, t[0].strict ? "==" : "!=");
        o->indent++;
    } else {
        p4g_line(o, "if (meta.%s_hit == 1) {", nm);
        o->indent++;
        /* the atoms on the new values: one failing closes the gate, each
         * tested in gateways of one field */
        char shut[96];
        snprintf(shut, sizeof shut, "meta.q%d_n%d_open = 0; /* the prefix is below the threshold "
                 "so far */", qi, k);
        for (int i = 0; i < nt; i++) {
            int a = t[i].col - n->nkeys, agg = n->aggs[a]->agg;
            snprintf(thi, sizeof thi, "meta.q%d_n%d_t%d_hi", qi, gate, i);
            if (agg == AGG_COUNT) { /* 32 bits: its high word is 0, 0x80000000 flipped */
                p4g_line(o, "if (%s[31:31] == 1) { /* the constant is not negative */", thi);
                p4g_line(o, "    if (%s != 32w0x80000000) { /* past 32 bits */", thi);
                p4g_line(o, "        %s", shut);
                p4g_line(o, "    } else {");
                o->indent += 2;
                cmp_nested(o, nm, i, false, t[i].strict, NULL, shut);
                o->indent -= 2;
                p4g_line(o, "    }");
                p4g_line(o, "}");
            } else if (agg == AGG_SUM) { /* absent until an input is present */
                p4g_line(o, "if (meta.%s_s%d == 0) {", nm, a);
                p4g_line(o, "    %s", shut);
                p4g_line(o, "} else {");
                o->indent++;
                cmp_nested(o, nm, i, true, t[i].strict, NULL, shut);
                o->indent--;
                p4g_line(o, "}");
            } else {
                p4g_line(o, "if (meta.%s_atom%d == 0) {", nm, i);
                p4g_line(o, "    %s", shut);
                p4g_line(o, "}");
            }
        }
        o->indent--;
        p4g_line(o, "}");
        p4g_line(o, "if (meta.q%d_n%d_open == 0) {", qi, k);
        o->indent++;
    }
    p4g_line(o, "/* gated: the host runs this tuple (it leaves as an overflow would) */");
    set_flag(g, qi, pn->overflow_at, pn->overflow_kind);
    p4g_gate_open(o);
}

/* A groupby: a refined one in one step (its coarse level, gate and fine
 * level), any other in three: STEP_CLAIM, STEP_CHECK (meta.qQ_nK_hit) and
 * STEP_UPDATE (the aggregates on a hit, else the overflow). */
static void gen_groupby(struct tna *g, int qi, const struct plan_query *pq, const struct ir_node *n,
                        int step)
{
    struct p4g_out *o = g->o;
    const struct plan_node *pn = &pq->nodes[n->id];
    int k = n->id;
    bool probe = probe_in(pq, n) && !pn->refine; /* refined: partial rows merge, no spill */
    struct level l;
    level_of(&l, qi, pq, k, false);
    if (pn->refine) {
        open_active(g, qi, n, false);
        assign_cols(g, qi, pq->q, n, n->nkeys);
        keys_valid(g, qi, pq->q, n);
        /* the fine level's key and index first: they do not depend on the
         * gate, and the fine claim then need not wait for them */
        key_hash(g, qi, n, &l);
        gen_coarse(g, qi, pq, n);
        slot_lookup(g, qi, n, &l, "", "_hit", true);
    } else if (step == STEP_CLAIM) {
        claim_step(g, qi, pq, n, probe);
        return;
    } else if (step == STEP_CHECK) {
        check_step(g, qi, pq, n, probe, "", "_hit");
    } else {
        reopen_slot(g, qi, pq->q, n, probe);
    }
    if (pn->refine || step == STEP_CHECK) {
        p4g_raw(o, "if (");
        words_equal(g, n, &l);
        p4g_raw(o, ") {\n");
        p4g_line(o, "    meta.q%d_n%d_hit = 1;", qi, k);
        p4g_line(o, "}");
        o->indent--;
        p4g_line(o, "}");
    }
    if (!pn->refine && step == STEP_CHECK) {
        p4g_close(o, "");
        p4g_close(o, "");
        return;
    }
    if (probe) {
        p4g_line(o, "if (meta.q%d_n%d_probe == 1) {", qi, n->in[0]->id);
        o->indent++;
        p4g_line(o, "/* a distinct tuple of this key overflowed: the host owns the key */");
        p4g_line(o, "if (meta.q%d_n%d_hit == 1) {", qi, k);
        p4g_line(o, "    q%d_n%d_spill_mark.execute(meta.q%d_n%d_idx);", qi, k, qi, k);
        p4g_line(o, "}");
        o->indent--;
        p4g_line(o, "} else if (meta.q%d_n%d_hit == 1) {", qi, k);
    } else {
        p4g_line(o, "if (meta.q%d_n%d_hit == 1) {", qi, k);
    }
    o->indent++;
    gen_aggs(g, qi, pq->q, n, !pn->refine);
    p4g_line(o, "meta.q%d_n%d = 1;", qi, k);
    o->indent--;
    p4g_line(o, "} else {");
    o->indent++;
    p4g_line(o, "/* the slot holds another key: the host runs this one */");
    set_flag(g, qi, pn->overflow_at, pn->overflow_kind);
    o->indent--;
    p4g_line(o, "}");
    if (pn->refine) {
        o->indent--;
        p4g_line(o, "}");
    }
    p4g_close(o, "");
    p4g_close(o, "");
}

static void gen_filter(struct tna *g, int qi, const struct plan_query *pq, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    int k = n->id;
    bool probe = probe_in(pq, n);
    struct p4g_dnf d;
    open_active(g, qi, n, probe);
    if (p4g_filter_dnf(&tna_arch, n, &d)) {
        p4g_line(o, "q%d_n%d_filter.apply(); /* sets meta.q%d_n%d */", qi, k, qi, k);
    } else {
        struct p4g_ctx c;
        ctx_for(g, &c, qi, pq->q, n);
        p4g_filter_if(o, &c, qi, n, probe);
    }
    p4g_close(o, "");
}

/* How many steps gen_node() writes node K in: 0 when the data plane does
 * not run it. */
static int node_steps(const struct plan_query *pq, int k)
{
    const struct ir_node *n = pq->q->nodes[k];
    const struct plan_node *pn = &pq->nodes[k];
    if (!pn->dp || k == 0 || pn->zone == PLAN_THRESH)
        return 0;
    if (n->kind == IR_DISTINCT)
        return 2;
    if (n->kind == IR_GROUPBY && !pn->refine)
        return 3;
    return 1;
}

static void gen_node(struct tna *g, int qi, const struct plan_query *pq, int k, int step)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    const struct ir_node *n = q->nodes[k];
    const struct plan_node *pn = &pq->nodes[k];
    static const char *const zones[] = {"host", "per packet", "distinct", "aggregate",
                                        "threshold"};
    static const char *const steps[] = {"claim", "check", "update"};
    int nsteps = node_steps(pq, k);
    if (step >= nsteps)
        return;
    if (nsteps == 1)
        p4g_line(o, "/* %%%d %s (%s) */", k, ir_kind_text[n->kind], zones[pn->zone]);
    else
        p4g_line(o, "/* %%%d %s (%s), step %d of %d: %s */", k, ir_kind_text[n->kind],
                 zones[pn->zone], step + 1, nsteps, steps[step]);
    switch (n->kind) {
    case IR_FILTER:
        gen_filter(g, qi, pq, n);
        break;
    case IR_SAMPLE:
        open_active(g, qi, n, false);
        if (n->sample_n <= 1) {
            p4g_line(o, "meta.q%d_n%d = 1; /* 1 in 1 */", qi, k);
        } else {
            p4g_line(o, "meta.q%d_n%d_h = q%d_n%d_hash.get({ meta.ts });", qi, k, qi, k);
            p4g_line(o, "if ((meta.q%d_n%d_h & 32w0x%llx) == 0) { meta.q%d_n%d = 1; } /* 1 in %lld */",
                     qi, k, (unsigned long long)(n->sample_n - 1), qi, k, (long long)n->sample_n);
        }
        p4g_close(o, "");
        break;
    case IR_MAP:
    case IR_EXPORT: {
        bool probe = probe_in(pq, n);
        open_active(g, qi, n, probe);
        p4g_pass_on(o, qi, n, probe);
        assign_cols(g, qi, q, n, n->ncols);
        p4g_close(o, "");
        break;
    }
    case IR_DISTINCT:
        gen_distinct(g, qi, pq, n, step);
        break;
    case IR_GROUPBY:
        gen_groupby(g, qi, pq, n, step);
        break;
    case IR_HISTOGRAM: {
        struct p4g_ctx c;
        ctx_for(g, &c, qi, q, n);
        p4g_indent(o);
        p4g_raw(o, "if (%s", n->in[0]->id ? "" : "true");
        if (n->in[0]->id)
            p4g_raw(o, "meta.q%d_n%d == 1", qi, n->in[0]->id);
        p4g_raw(o, " && ");
        p4g_valid(o, &c, n->expr);
        p4g_raw(o, ") {\n");
        o->indent++;
        p4g_line(o, "if (q%d_n%d_bucket.apply().hit) {", qi, k);
        p4g_line(o, "    q%d_n%d_hist_inc.execute(meta.q%d_n%d_b);", qi, k, qi, k);
        p4g_line(o, "}");
        p4g_close(o, "");
        break;
    }
    default:
        break;
    }
    if (step == nsteps - 1 && (pn->exit == PLAN_EXIT_TUPLE || pn->exit == PLAN_EXIT_PACKET ||
                               pn->exit == PLAN_EXIT_ROW_NOW)) {
        int kind = pn->exit == PLAN_EXIT_TUPLE ? REP_TUPLE
                   : pn->exit == PLAN_EXIT_PACKET ? REP_PACKET : REP_ROW;
        p4g_line(o, "if (meta.q%d_n%d == 1) {", qi, k);
        o->indent++;
        set_flag(g, qi, k, kind);
        o->indent--;
        p4g_line(o, "}");
    }
}

/* A query's operators, their steps interleaved: a step is written at its
 * level, the step's place in its operator plus the level after its input's
 * last step (inputs' first), and all steps of a level before the next, in
 * node order. Independent operators (a join's branches) so share levels:
 * p4c-barefoot places tables in control-flow order, a few candidates at a
 * time, and an operator written whole after another was placed in the
 * stages after it even when no field tied them (syn_flood's three groupbys
 * in stages 1-4, 5-8, 9-13). An operator's steps read their own fields and
 * their input's, which is finished a level before. Sets start[k], node
 * k's first level; returns the query's number of levels. */
static int query_levels(const struct plan_query *pq, int *start)
{
    int nn = pq->q->nnodes, top = 0;
    for (int k = 1; k < nn; k++) {
        const struct ir_node *n = pq->q->nodes[k];
        start[k] = 0;
        for (int i = 0; i < n->nin; i++) {
            int in = n->in[i]->id;
            if (in > 0 && in < k && start[in] + node_steps(pq, in) > start[k])
                start[k] = start[in] + node_steps(pq, in);
        }
        if (start[k] + node_steps(pq, k) > top)
            top = start[k] + node_steps(pq, k);
    }
    return top;
}

static void gen_query(struct tna *g, int qi, const struct plan_query *pq)
{
    int nn = pq->q->nnodes;
    int *start = calloc((size_t)nn, sizeof *start);
    if (!start) {
        for (int k = 1; k < nn; k++)
            for (int s = 0; s < 3; s++)
                gen_node(g, qi, pq, k, s);
        return;
    }
    int top = query_levels(pq, start);
    for (int lv = 0; lv < top; lv++)
        for (int k = 1; k < nn; k++)
            if (lv >= start[k] && lv < start[k] + node_steps(pq, k))
                gen_node(g, qi, pq, k, lv - start[k]);
    free(start);
}

/* The queries' operators, interleaved by level (query_levels) within each
 * query, and across queries too: level 0 of every query, then level 1 of
 * every query... Queries share no field but the derived ones (computed
 * before) and the record flags (set, never read until the fill): written
 * one after another, the compiler placed a second query's tables after
 * the first's (a combined program of six queries, each within 12 stages
 * alone and 12 together by the planner's model, needed 18; 16 so). */
static void gen_queries(struct tna *g)
{
    const struct plan *p = g->p;
    int **start = calloc((size_t)p->nqueries, sizeof *start);
    int *top = calloc((size_t)p->nqueries, sizeof *top);
    int max = 0;
    bool ok = start && top;
    for (int i = 0; ok && i < p->nqueries; i++) {
        start[i] = calloc((size_t)p->queries[i].q->nnodes, sizeof **start);
        ok = start[i] != NULL;
        if (ok && (top[i] = query_levels(&p->queries[i], start[i])) > max)
            max = top[i];
    }
    if (!ok) /* out of memory: the queries one after another, each still whole */
        max = 0;
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        p4g_blank(g->o);
        p4g_line(g->o, "/* ---- query %d: %s ---- */", i, pq->q->name);
        if (p4g_window_query(p, i))
            p4g_line(g->o, "q%d_window.apply();", i);
        if (pq->nodes[0].exit != PLAN_EXIT_NONE)
            set_flag(g, i, 0, pq->nodes[0].exit == PLAN_EXIT_PACKET ? REP_PACKET : REP_TUPLE);
        if (!ok)
            gen_query(g, i, pq);
    }
    for (int lv = 0; lv < max; lv++)
        for (int i = 0; i < p->nqueries; i++) {
            const struct plan_query *pq = &p->queries[i];
            if (lv >= top[i])
                continue;
            if (p->nqueries > 1)
                p4g_line(g->o, "/* query %d: %s, level %d */", i, pq->q->name, lv);
            for (int k = 1; k < pq->q->nnodes; k++)
                if (lv >= start[i][k] && lv < start[i][k] + node_steps(pq, k))
                    gen_node(g, i, pq, k, lv - start[i][k]);
        }
    for (int i = 0; start && i < p->nqueries; i++)
        free(start[i]);
    free(start);
    free(top);
}

/* What a target-level check refuses before any P4 is written. */
static void check_plan(struct tna *g)
{
    const struct plan *p = g->p;
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        for (int k = 1; k < pq->q->nnodes; k++) {
            const struct ir_node *n = pq->q->nodes[k];
            const struct plan_node *pn = &pq->nodes[k];
            if (!pn->dp)
                continue;
            const char *what = ir_kind_text[n->kind];
            if ((n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) &&
                (pn->slots < 2 || (pn->slots & (pn->slots - 1))))
                refuse(g, pq->q, n, what, "%u register slots: the index is the low bits of a "
                       "CRC-32 hash unit, so slots must be a power of two (at least 2)",
                       pn->slots);
            if (pn->refine && (pn->coarse_slots < 2 || (pn->coarse_slots & (pn->coarse_slots - 1))))
                refuse(g, pq->q, n, what, "%u coarse register slots: the index is the low bits "
                       "of a CRC-32 hash unit, so slots must be a power of two (at least 2)",
                       pn->coarse_slots);
            if (n->kind == IR_SAMPLE && n->sample_n > 1 && (n->sample_n & (n->sample_n - 1)))
                refuse(g, pq->q, n, what, "1 in %lld: Tofino has no modulo, so N must be a power "
                       "of two", (long long)n->sample_n);
            if (n->kind == IR_HISTOGRAM && n->nedges + 1 > 256)
                refuse(g, pq->q, n, what, "%d buckets: at most 256", n->nedges + 1);
            if (n->kind == IR_FOLD || n->kind == IR_JOIN)
                refuse(g, pq->q, n, what, "not a data-plane operator");
        }
    }
}

/*
 * @pa_solitary for the 1-bit metadata the steps write (flags, pass bits,
 * meta.report) and the key words' compare answers: each alone in its PHV
 * container. Packed together, two tables writing fields of one container
 * cannot share a stage, and p4c-barefoot chained such writes by a stage
 * each, differently from program to program ("action dependency ... due to
 * PHV allocation" in its table placement log; docs/targets.md), a
 * column's validity bit even with meta.port. The fields are query_meta's,
 * read back from what it writes.
 */
static void solitary(struct tna *g)
{
    struct p4g_out *o = g->o, m = {0};
    char *text = NULL, *line, *save = NULL;
    size_t len = 0;
    m.f = open_memstream(&text, &len);
    if (!m.f) {
        o->err = 1;
        return;
    }
    g->o = &m;
    query_meta(g, false);
    g->o = o;
    fclose(m.f);
    p4g_line(o, "@pa_solitary(\"ingress\", \"meta.report\")");
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[64];
        int w, n = 0;
        if (sscanf(line, " bit<%d> %63[A-Za-z0-9_];%n", &w, name, &n) != 2 || !n)
            continue;
        const char *u = strrchr(name, '_');
        bool answer = w == 8 && u && u[1] == 'm' && u[2] >= '0' && u[2] <= '9';
        if (w == 1 || answer)
            p4g_line(o, "@pa_solitary(\"ingress\", \"meta.%s\")", name);
    }
    free(text);
}

/* ingress()'s shared mirror fields, grouped by their validity test. */
static void shared_fields(struct p4g_out *o, const struct plan *p)
{
    enum { MAXF = 64 };
    char vn[MAXF][160];
    const char *valid[MAXF], *expr[MAXF];
    unsigned bits[MAXF];
    int nf = 0;
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
            continue;
        for (int c = 0; c < L->ncols && nf < MAXF; c++) {
            int f = mirror_field(p, L, c);
            if (f < 0 || !mirror_value_first(p, l, c))
                continue;
            const struct p4g_field *pf = p4g_field_of(&tna_arch, f);
            mirror_value_name(vn[nf], sizeof vn[nf], p, L, c);
            valid[nf] = pf->valid;
            expr[nf] = pf->expr;
            bits[nf] = rep_col_bytes(&L->cols[c]) * 8;
            nf++;
        }
    }
    for (int i = 0; i < nf; i++)
        if (!strcmp(valid[i], "true"))
            p4g_line(o, "meta.mirror.%s = (bit<%u>)%s;", vn[i], bits[i], expr[i]);
    for (int i = 0; i < nf; i++) {
        bool first = strcmp(valid[i], "true") != 0;
        for (int j = 0; j < i && first; j++)
            first = strcmp(valid[j], valid[i]) != 0;
        if (!first)
            continue;
        p4g_line(o, "if (%s) {", valid[i]);
        for (int j = i; j < nf; j++)
            if (!strcmp(valid[j], valid[i]))
                p4g_line(o, "    meta.mirror.%s = (bit<%u>)%s;", vn[j], bits[j], expr[j]);
        p4g_line(o, "} else {");
        for (int j = i; j < nf; j++)
            if (!strcmp(valid[j], valid[i]))
                p4g_line(o, "    meta.mirror.%s = 0;", vn[j]);
        p4g_line(o, "}");
    }
}

static void ingress(struct tna *g, int mirror_bytes)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    solitary(g);
    p4g_line(o, "control Ingress(inout ig_headers_t hdr, inout ig_metadata_t meta,");
    p4g_line(o, "                in ingress_intrinsic_metadata_t ig_intr_md,");
    p4g_line(o, "                in ingress_intrinsic_metadata_from_parser_t ig_prsr_md,");
    p4g_line(o, "                inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,");
    p4g_line(o, "                inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {");
    o->indent++;
    p4g_line(o, "/* report frames are numbered: one read-modify-write per report */");
    p4g_line(o, "Register<bit<32>, bit<1>>(1) report_seq;");
    reg_action(o, "report_seq", "report_seq_next", 1, true,
               (const char *const[]){"rv = v;", "v = v + 1;", NULL});
    for (int i = 0; i < p->nqueries; i++) {
        p4g_blank(o);
        p4g_line(o, "/* ---- query %d: %s ---- */", i, p->queries[i].q->name);
        declare_state(g, i, &p->queries[i]);
        declare_tables(g, i, &p->queries[i]);
    }
    p4g_blank(o);
    /* header lengths from 4-bit fields by lookup, not by shifts: a shift
     * ties the nibble's place in its byte to the result's, and ihl and
     * data_offset sit at different places (PARDE alignment) */
    p4g_line(o, "action set_ip_hdr_len(bit<16> n) { meta.ip_hdr_len = n; }");
    p4g_open(o, "table ip_hdr_len_t");
    p4g_line(o, "key = { hdr.ipv4.ihl: exact; }");
    p4g_line(o, "actions = { set_ip_hdr_len; }");
    p4g_line(o, "size = 16;");
    p4g_line(o, "default_action = set_ip_hdr_len(0);");
    p4g_open(o, "const entries =");
    for (int v = 0; v < 16; v++)
        p4g_line(o, "%d: set_ip_hdr_len(%d);", v, 4 * v);
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_line(o, "action set_tcp_hdr_len(bit<8> n, bit<16> n16) { meta.tcp_hdr_len = n; "
             "meta.tcp_hdr_len16 = n16; }");
    p4g_open(o, "table tcp_hdr_len_t");
    p4g_line(o, "key = { hdr.tcp.data_offset: exact; }");
    p4g_line(o, "actions = { set_tcp_hdr_len; }");
    p4g_line(o, "size = 16;");
    p4g_line(o, "default_action = set_tcp_hdr_len(0, 0);");
    p4g_open(o, "const entries =");
    for (int v = 0; v < 16; v++)
        p4g_line(o, "%d: set_tcp_hdr_len(%d, %d);", v, 4 * v, 4 * v);
    p4g_close(o, "");
    p4g_close(o, "");
    /* each record's presence bits in one table: set column by column, they
     * were a chain of one stage per column (all bits share a container) */
    g->ptable = calloc((size_t)p->nlayouts + 1, sizeof *g->ptable);
    for (int l = 0; g->ptable && l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64], t[96];
        if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
            continue;
        p4g_rec_name(name, sizeof name, L);
        snprintf(t, sizeof t, "%s_presence_t", name);
        g->ptable[l] = p4g_presence_table(o, p, &tna_arch, L, "meta.mirror.", name, '_', t);
    }
    p4g_blank(o);
    p4g_open(o, "apply");
    p4g_line(o, "meta.ts = %s;", tna_arch.ts);
    p4g_line(o, "meta.port = (bit<16>)%s;", tna_arch.in_port);
    /* first: at the end, its table shared a PHV container with the record
     * flags and took a stage of its own between them and the report's fill */
    p4g_line(o, "ig_dprsr_md.drop_ctl = 1; /* a tap: only the mirrored reports leave */");
    /* The derived lengths: one operation per field and step, and each
     * dependent step in a block of its own, so that the compiler makes it an
     * action of its own (an action runs in one stage; Tofino cannot chain
     * dependent operations inside it). */
    p4g_open(o, "if (hdr.tcp.isValid())");
    p4g_line(o, "tcp_hdr_len_t.apply();");
    p4g_open(o, "if (hdr.ipv4.isValid())");
    p4g_line(o, "ip_hdr_len_t.apply();");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_open(o, "if (hdr.tcp.isValid())");
    p4g_open(o, "if (hdr.ipv4.isValid())");
    p4g_line(o, "meta.tcp_payload_len = hdr.ipv4.total_len - meta.ip_hdr_len;");
    p4g_close(o, " else if (hdr.ipv6.isValid()) {");
    o->indent++;
    p4g_line(o, "meta.tcp_payload_len = hdr.ipv6.payload_len;");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_open(o, "if (hdr.tcp.isValid())");
    p4g_line(o, "meta.tcp_payload_len = meta.tcp_payload_len - meta.tcp_hdr_len16;");
    p4g_close(o, "");
    gen_queries(g);
    p4g_blank(o);
    p4g_open(o, "if (meta.report == 1)");
    p4g_line(o, "/* the mirror header (%d bytes) carries the records to egress */", mirror_bytes);
    p4g_line(o, "meta.mirror.setValid();");
    p4g_line(o, "meta.mirror.tag = MIRROR_TAG;");
    p4g_line(o, "meta.mirror.ts = ig_intr_md.ingress_mac_tstamp;");
    p4g_line(o, "meta.mirror.seq = report_seq_next.execute(0);");
    /* the session was picked by the record flags (a packet record's sets
     * PACKET_SESSION): chosen here under meta.whole, its two tables went a
     * stage after the fill's (tcp_handshake_rtt) */
    p4g_line(o, "ig_dprsr_md.mirror_type = MIRROR_TYPE_REPORT;");
    if (p4g_packet_layouts(p))
        p4g_line(o, "meta.mirror.port = meta.port;");
    for (int i = 0; i < p->nqueries; i++)
        if (p4g_window_query(p, i))
            p4g_line(o, "meta.mirror.q%d_ws = meta.q%d_ws;", i, i);
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64];
        if (!p4g_per_packet(p, L))
            continue;
        p4g_rec_name(name, sizeof name, L);
        p4g_line(o, "meta.mirror.r_%s = meta.r_%s;", name, name);
    }
    /* Shared fields, once for every record that carries them (the packet's
     * field, or 0 when absent), whatever the records: written by each
     * record's block, they were zeroed first and then written record after
     * record, a chain of stages on the same field. The fields of one header
     * in one block (its validity test, then copied or zeroed together): a
     * block per field was two tables each, and the fill passed a stage's 16
     * tables (tcp_out_of_order's six fields, docs/targets.md). */
    shared_fields(o, p);
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64];
        if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
            continue;
        p4g_rec_name(name, sizeof name, L);
        p4g_line(o, "if (meta.r_%s == 1) {", name);
        o->indent++;
        mirror_values(o, p, l, name, g->ptable && g->ptable[l]);
        o->indent--;
        p4g_line(o, "}");
    }
    p4g_close(o, "");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
}

static void egress(struct tna *g, int npkt)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    p4g_line(o, "control Egress(inout eg_headers_t hdr, inout eg_metadata_t meta,");
    p4g_line(o, "               in egress_intrinsic_metadata_t eg_intr_md,");
    p4g_line(o, "               in egress_intrinsic_metadata_from_parser_t eg_prsr_md,");
    p4g_line(o, "               inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,");
    p4g_line(o, "               inout egress_intrinsic_metadata_for_output_port_t eg_oport_md) {");
    o->indent++;
    /* The records' count from one table keyed by their flags (a const
     * entry per combination, up to 8 records): counted record after record
     * it was a chain of one stage per record (count = count + 1). With
     * packet records, or more records, the chain as before. */
    int nrec = 0;
    for (int l = 0; l < p->nlayouts; l++)
        if (p4g_per_packet(p, &p->layouts[l]) && p->layouts[l].kind != REP_PACKET)
            nrec++;
    bool count_t = !npkt && nrec >= 2 && nrec <= 8;
    if (count_t) {
        p4g_line(o, "action set_count(bit<16> n) { hdr.report.count = n; }");
        p4g_open(o, "table report_count_t");
        p4g_open(o, "key =");
        for (int l = 0; l < p->nlayouts; l++) {
            const struct rep_layout *L = &p->layouts[l];
            char name[64];
            if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
                continue;
            p4g_rec_name(name, sizeof name, L);
            p4g_line(o, "hdr.mirror.r_%s: exact;", name);
        }
        p4g_close(o, "");
        p4g_line(o, "actions = { set_count; }");
        p4g_line(o, "size = %d;", 1 << nrec);
        p4g_line(o, "default_action = set_count(0);");
        p4g_open(o, "const entries =");
        for (unsigned m = 0; m < 1u << nrec; m++) {
            p4g_indent(o);
            p4g_raw(o, "(");
            for (int b = 0; b < nrec; b++)
                p4g_raw(o, "%s%u", b ? ", " : "", m >> b & 1);
            p4g_raw(o, "): set_count(%d);\n", __builtin_popcount(m));
        }
        p4g_close(o, "");
        p4g_close(o, "");
        p4g_blank(o);
    }
    p4g_open(o, "apply");
    p4g_open(o, "if (hdr.mirror.isValid())");
    if (!count_t)
        p4g_line(o, "bit<16> count = 0;");
    p4g_report_frame_hdrs(o);
    p4g_line(o, "hdr.report.seq = hdr.mirror.seq;");
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64], ts[48];
        if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
            continue;
        p4g_rec_name(name, sizeof name, L);
        if (L->kind == REP_ROW)
            snprintf(ts, sizeof ts, "hdr.mirror.q%d_ws", L->query);
        else
            snprintf(ts, sizeof ts, "(bit<64>)hdr.mirror.ts");
        p4g_blank(o);
        p4g_line(o, "if (hdr.mirror.r_%s == 1) {", name);
        o->indent++;
        p4g_rec_common(o, name, L, ts);
        p4g_line(o, "hdr.%s.presence = hdr.mirror.%s_presence;", name, name);
        for (int c = 0; c < L->ncols; c++) {
            char cn[64], vn[160];
            p4g_sanitize(cn, sizeof cn, L->cols[c].name);
            mirror_value_name(vn, sizeof vn, p, L, c);
            p4g_line(o, "hdr.%s.v%d_%s = hdr.mirror.%s;", name, c, cn, vn);
        }
        if (!count_t)
            p4g_line(o, "count = count + 1;");
        o->indent--;
        p4g_line(o, "}");
    }
    if (npkt) {
        struct p4g_pkt_rec r = {.flag = "hdr.mirror.r_", .ts = "(bit<64>)hdr.mirror.ts",
                                .port = "hdr.mirror.port", .wire_len = "0", .zero_len = true};
        p4g_packet_records(o, p, npkt, &r);
    }
    if (count_t)
        p4g_line(o, "report_count_t.apply(); /* hdr.report.count */");
    else
        p4g_line(o, "hdr.report.count = count;");
    p4g_line(o, "hdr.mirror.setInvalid(); /* consumed: not emitted */");
    p4g_close(o, " else {");
    o->indent++;
    p4g_line(o, "eg_dprsr_md.drop_ctl = 1; /* not a report copy (ingress drops the rest) */");
    p4g_close(o, "");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
}

static int tna_program(const struct plan *p, const struct p4g_target *t, struct p4g_out *o,
                       char *err, size_t errlen)
{
    struct tna g0 = {.p = p, .t = t, .o = o, .err = err, .errlen = errlen}, *g = &g0;
    int rc = p4g_check_fields(p, &tna_arch, err, errlen);
    if (rc < 0)
        return rc;
    int npkt = p4g_packet_layouts(p);
    if (npkt > REP_MAX_TARGETS) {
        snprintf(err, errlen, "%d queries want whole packets; a packet record holds %d", npkt,
                 REP_MAX_TARGETS);
        return -EINVAL;
    }
    check_plan(g);
    if (g->failed)
        return -EINVAL;
    p4g_banner(o, p, t);
    p4g_line(o, "#include <core.p4>");
    p4g_line(o, "#include <tna.p4>");
    p4g_blank(o);
    p4g_line(o, "/* ---- constants ---- */");
    p4g_constants(o, p);
    p4g_line(o, "const MirrorId_t REPORT_SESSION = %d; /* records only: truncated to the mirror "
             "header */", REPORT_SESSION);
    p4g_line(o, "const MirrorId_t PACKET_SESSION = %d; /* records and the whole frame */",
             PACKET_SESSION);
    p4g_line(o, "const MirrorType_t MIRROR_TYPE_REPORT = 1;");
    p4g_line(o, "const bit<8> MIRROR_TAG = 0x%02x;", MIRROR_TAG);
    p4g_blank(o);
    p4g_line(o, "/* ---- typedefs ---- */");
    p4g_line(o, "typedef bit<48> mac_addr_t;");
    p4g_line(o, "typedef bit<32> ipv4_addr_t;");
    p4g_line(o, "typedef bit<128> ipv6_addr_t;");
    p4g_blank(o);
    p4g_line(o, "/* ---- headers ---- */");
    p4g_std_headers(o);
    p4g_blank(o);
    p4g_line(o, "/* report frames: docs/wire-format.md */");
    p4g_report_headers(o, p);
    if (npkt)
        p4g_rec_packet_headers(o);
    int mbytes = mirror_header(g, npkt);
    p4g_blank(o);
    p4g_line(o, "/* ---- structs ---- */");
    structs(g, npkt);
    p4g_blank(o);
    p4g_line(o, "/* ---- ingress parser: tofino_parser preamble, then the headers ---- */");
    p4g_line(o, "parser IngressParser(packet_in pkt, out ig_headers_t hdr, out ig_metadata_t meta,");
    p4g_line(o, "                     out ingress_intrinsic_metadata_t ig_intr_md) {");
    o->indent++;
    p4g_open(o, "state start");
    p4g_line(o, "pkt.extract(ig_intr_md);");
    p4g_line(o, "meta.vlan_depth = 0;");
    p4g_line(o, "meta.tcp_hdr_len = 0;");
    p4g_line(o, "meta.ip_hdr_len = 0;");
    p4g_line(o, "meta.tcp_payload_len = 0;");
    p4g_line(o, "meta.report = 0;");
    p4g_line(o, "meta.session = REPORT_SESSION; /* a packet record's flag sets PACKET_SESSION */");
    query_meta(g, true);
    p4g_open(o, "transition select(ig_intr_md.resubmit_flag)");
    p4g_line(o, "1: parse_resubmit;");
    p4g_line(o, "0: parse_port_metadata;");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "state parse_resubmit");
    p4g_line(o, "transition reject; /* this program never resubmits */");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "state parse_port_metadata");
    p4g_line(o, "pkt.advance(PORT_METADATA_SIZE);");
    p4g_line(o, "transition parse_ethernet;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_parser_states(o, "pkt", true, true);
    o->indent--;
    p4g_line(o, "}");
    p4g_blank(o);
    p4g_line(o, "/* ---- ingress: the data-plane part of every query ---- */");
    ingress(g, mbytes);
    p4g_blank(o);
    p4g_line(o, "/* ---- ingress deparser: the mirror copy carries the records ---- */");
    p4g_line(o, "control IngressDeparser(packet_out pkt, inout ig_headers_t hdr, in ig_metadata_t meta,");
    p4g_line(o, "                        in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md) {");
    o->indent++;
    p4g_line(o, "Mirror() mirror;");
    p4g_blank(o);
    p4g_open(o, "apply");
    p4g_open(o, "if (ig_dprsr_md.mirror_type == MIRROR_TYPE_REPORT)");
    p4g_line(o, "mirror.emit<mirror_h>(meta.session, meta.mirror);");
    p4g_close(o, "");
    p4g_line(o, "pkt.emit(hdr);");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
    p4g_blank(o);
    p4g_line(o, "/* ---- egress parser: only mirror copies arrive ---- */");
    p4g_line(o, "parser EgressParser(packet_in pkt, out eg_headers_t hdr, out eg_metadata_t meta,");
    p4g_line(o, "                    out egress_intrinsic_metadata_t eg_intr_md) {");
    o->indent++;
    p4g_open(o, "state start");
    p4g_line(o, "pkt.extract(eg_intr_md);");
    p4g_line(o, "meta.npkt = 0;");
    p4g_open(o, "transition select(pkt.lookahead<bit<8>>())");
    p4g_line(o, "MIRROR_TAG: parse_mirror;");
    p4g_line(o, "default: accept;");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "state parse_mirror");
    p4g_line(o, "pkt.extract(hdr.mirror);");
    p4g_line(o, "transition accept; /* a packet record's frame follows, unparsed */");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
    p4g_blank(o);
    p4g_line(o, "/* ---- egress: the report frame ---- */");
    egress(g, npkt);
    p4g_blank(o);
    p4g_line(o, "/* ---- egress deparser ---- */");
    p4g_line(o, "control EgressDeparser(packet_out pkt, inout eg_headers_t hdr, in eg_metadata_t meta,");
    p4g_line(o, "                       in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {");
    o->indent++;
    p4g_open(o, "apply");
    p4g_report_emits(o, p, npkt, "pkt");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
    p4g_blank(o);
    p4g_line(o, "/* ---- main ---- */");
    p4g_line(o, "Pipeline(IngressParser(), Ingress(), IngressDeparser(),");
    p4g_line(o, "         EgressParser(), Egress(), EgressDeparser()) pipe;");
    p4g_line(o, "Switch(pipe) main;");
    free(g->ptable);
    return g->failed ? -EINVAL : 0;
}

/* ---- control-plane entries: a bfrt_python script ---- */

static void threshold_text(struct p4g_out *o, const struct ir_node *n)
{
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(n->expr, t, P4G_MAX_THRESH);
    for (int i = 0; i < nt; i++)
        p4g_raw(o, "%s(%d, \"%s\", %lld)", i ? ", " : "", t[i].col, t[i].strict ? ">" : ">=",
                (long long)t[i].c);
}

/* The coarse registers of refined groupby k, for REGISTERS. */
static void coarse_registers(struct p4g_out *o, int qi, const struct plan_query *pq, int k)
{
    const struct ir_node *n = pq->q->nodes[k];
    unsigned aggs = p4g_gate_aggs(pq, k);
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(pq->q->nodes[pq->nodes[k].gate]->expr, t, P4G_MAX_THRESH);
    p4g_line(o, "    ig.q%d_n%d_coarse_state,", qi, k);
    for (int w = 0; w < key_words(n); w++)
        p4g_line(o, "    ig.q%d_n%d_coarse_key%d,", qi, k, w);
    for (int a = 0; a < n->naggs; a++) {
        int agg = n->aggs[a]->agg;
        if (!(aggs >> a & 1) || agg == AGG_MAX)
            continue;
        if (agg == AGG_COUNT) {
            p4g_line(o, "    ig.q%d_n%d_coarse_agg%d,", qi, k, a);
        } else {
            p4g_line(o, "    ig.q%d_n%d_coarse_seen%d,", qi, k, a);
            p4g_line(o, "    ig.q%d_n%d_coarse_agg%d_lo,", qi, k, a);
            p4g_line(o, "    ig.q%d_n%d_coarse_agg%d_hi,", qi, k, a);
        }
    }
    for (int i = 0; i < nt; i++)
        if (n->aggs[t[i].col - n->nkeys]->agg == AGG_MAX)
            p4g_line(o, "    ig.q%d_n%d_coarse_atom%d,", qi, k, i);
}

/* The registers the control plane reads at window end: as comments that
 * say how to read them (list false), or as the entries of REGISTERS. */
static void entries_registers(struct p4g_out *o, int qi, const struct plan_query *pq, bool list)
{
    const struct ir_query *q = pq->q;
    for (int k = 1; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        if (!pq->nodes[k].dp)
            continue;
        if (n->kind == IR_HISTOGRAM) {
            if (list)
                p4g_line(o, "    ig.q%d_n%d_hist,", qi, k);
            else
                p4g_line(o, "#   q%d_n%d_hist[b]: histogram %%%d, bucket b", qi, k, k);
        }
        if (n->kind != IR_DISTINCT && n->kind != IR_GROUPBY)
            continue;
        const struct plan_node *pn = &pq->nodes[k];
        bool spill = n->kind == IR_GROUPBY && n->in[0]->id &&
                     pq->nodes[n->in[0]->id].zone == PLAN_DIST && !pn->refine;
        if (list) {
            if (pn->refine)
                coarse_registers(o, qi, pq, k);
            p4g_line(o, "    ig.q%d_n%d_state,", qi, k);
            for (int w = 0; w < key_words(n); w++)
                p4g_line(o, "    ig.q%d_n%d_key%d,", qi, k, w);
            if (spill)
                p4g_line(o, "    ig.q%d_n%d_spill,", qi, k);
        } else {
            p4g_line(o, "#   %%%d %s: q%d_n%d_state (0 free, 1 held); the key's word w in "
                     "q%d_n%d_key<w> (key bits 32w+31..32w)", k, ir_kind_text[n->kind], qi, k,
                     qi, k);
            if (spill)
                p4g_line(o, "#     q%d_n%d_spill = 1: no row; the slot, which counted the "
                         "key's held distinct rows, as a partial record (kind 5) instead", qi, k);
            if (pn->refine) {
                p4g_line(o, "#     refined: each held slot is sent, whatever its values (%%%d's "
                         "threshold runs on the host),", pn->gate);
                p4g_line(o, "#     as a partial record (kind 5, docs/wire-format.md): the keys, "
                         "each aggregate's value");
                p4g_line(o, "#     (avg: the sum; 0 when seen is 0), then each one's count of "
                         "present inputs (COL.seen: 0 for a count)");
            }
        }
        for (int a = 0; n->kind == IR_GROUPBY && a < n->naggs; a++) {
            int agg = n->aggs[a]->agg;
            char cn[64];
            p4g_sanitize(cn, sizeof cn, n->cols[n->nkeys + a].name);
            if (list) {
                if (agg == AGG_COUNT) {
                    p4g_line(o, "    ig.q%d_n%d_agg%d,", qi, k, a);
                } else {
                    p4g_line(o, "    ig.q%d_n%d_seen%d,", qi, k, a);
                    p4g_line(o, "    ig.q%d_n%d_agg%d_lo,", qi, k, a);
                    p4g_line(o, "    ig.q%d_n%d_agg%d_hi,", qi, k, a);
                }
                continue;
            }
            if (agg == AGG_COUNT) {
                p4g_line(o, "#     %s = q%d_n%d_agg%d (count)", cn, qi, k, a);
                continue;
            }
            const char *how = agg == AGG_SUM ? "hi << 32 | lo"
                              : agg == AGG_AVG && pq->nodes[k].refine ? "hi << 32 | lo (the sum)"
                              : agg == AGG_AVG ? "(hi << 32 | lo) / seen (signed, truncated)"
                              : agg == AGG_MAX ? "(hi ^ 0x80000000) << 32 | lo"
                                               : "~((hi ^ 0x80000000) << 32 | lo)";
            if (pq->nodes[k].refine)
                p4g_line(o, "#     %s = %s, from q%d_n%d_agg%d_hi/_lo as 64-bit two's "
                         "complement; %s.seen = q%d_n%d_seen%d", cn, how, qi, k, a, cn, qi, k, a);
            else
                p4g_line(o, "#     %s = %s, from q%d_n%d_agg%d_hi/_lo as 64-bit two's "
                         "complement; absent when q%d_n%d_seen%d = 0", cn, how, qi, k, a, qi, k,
                         a);
        }
        if (!list && pn->refine)
            p4g_line(o, "#     its coarse level (%s/%d, gate %%%d): q%d_n%d_coarse_* are only "
                     "cleared", n->cols[pn->refine_col].name, pn->refine, pn->gate, qi, k);
    }
}

static int tna_entries(const struct plan *p, const struct p4g_target *t, struct p4g_out *o,
                       char *err, size_t errlen)
{
    struct tna g0 = {.p = p, .t = t, .o = o, .err = err, .errlen = errlen}, *g = &g0;
    p4g_line(o, "# Generated by htsc for target %s (%s) from plan 0x%016" PRIx64 ".", t->name,
             t->arch, p->fingerprint);
    p4g_line(o, "# Control-plane entries for the program, as a bfrt_python script:");
    p4g_line(o, "#     bfshell -b NAME.entries   (or run it inside bfrt_python)");
    p4g_line(o, "# Mirror sessions to the host, the filter and bucket tables, the window");
    p4g_line(o, "# starts; then what the control plane does at each window end: read the");
    p4g_line(o, "# registers below, apply the thresholds, send their rows and a watermark");
    p4g_line(o, "# to the host (docs/partitioning.md), clear the registers.");
    p4g_blank(o);
    p4g_line(o, "HOST_PORT = 64        # the device port towards htsd: edit for your board");
    p4g_line(o, "REPORT_SESSION = %d  # records only: the copy is cut after the mirror header",
             REPORT_SESSION);
    p4g_line(o, "PACKET_SESSION = %d  # records and the whole frame", PACKET_SESSION);
    p4g_blank(o);
    p4g_blank(o);
    p4g_line(o, "def program():");
    p4g_line(o, "    \"\"\"The pipe of the loaded P4 program that has our Ingress control.\"\"\"");
    p4g_line(o, "    for name in dir(bfrt):");
    p4g_line(o, "        node = getattr(bfrt, name)");
    p4g_line(o, "        if hasattr(node, \"pipe\") and hasattr(node.pipe, \"Ingress\"):");
    p4g_line(o, "            return node.pipe");
    p4g_line(o, "    raise RuntimeError(\"no P4 program with an Ingress control is loaded\")");
    p4g_blank(o);
    p4g_blank(o);
    bool gates = false;
    for (int i = 0; i < p->nqueries; i++)
        for (int k = 0; k < p->queries[i].q->nnodes; k++)
            gates |= p->queries[i].nodes[k].refine != 0;
    if (gates) {
        p4g_line(o, "def gate_words(atoms):");
        p4g_line(o, "    \"\"\"A refinement gate's constants as its action's parameters: each a "
                 "signed 64-bit");
        p4g_line(o, "    value in two words, the high one with its sign bit flipped (the data "
                 "plane compares");
        p4g_line(o, "    32-bit halves); a constant changes only at a window end, when the "
                 "registers are cleared.\"\"\"");
        p4g_line(o, "    words = {}");
        p4g_line(o, "    for i, (_, _, c) in enumerate(atoms):");
        p4g_line(o, "        c &= (1 << 64) - 1");
        p4g_line(o, "        words[\"t%%d_hi\" %% i] = (c >> 32) ^ 0x80000000");
        p4g_line(o, "        words[\"t%%d_lo\" %% i] = c & 0xffffffff");
        p4g_line(o, "    return words");
        p4g_blank(o);
        p4g_blank(o);
    }
    p4g_line(o, "ig = program().Ingress");
    int mbytes = mirror_bytes(p, p4g_packet_layouts(p));
    p4g_line(o, "bfrt.mirror.cfg.entry_with_normal(sid=REPORT_SESSION, direction=\"INGRESS\", "
             "session_enable=True,");
    p4g_line(o, "    ucast_egress_port=HOST_PORT, ucast_egress_port_valid=1, max_pkt_len=%d).push()",
             mbytes);
    p4g_line(o, "bfrt.mirror.cfg.entry_with_normal(sid=PACKET_SESSION, direction=\"INGRESS\", "
             "session_enable=True,");
    p4g_line(o, "    ucast_egress_port=HOST_PORT, ucast_egress_port_valid=1).push()");
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        p4g_blank(o);
        p4g_line(o, "# ---- query %d: %s ----", i, pq->q->name);
        if (p4g_window_query(p, i))
            p4g_line(o, "ig.q%d_window.set_default_with_q%d_set_window(start=0)  # the control "
                     "plane sets each window's start (ns)", i, i);
        for (int k = 1; k < pq->q->nnodes; k++) {
            const struct ir_node *n = pq->q->nodes[k];
            const struct plan_node *pn = &pq->nodes[k];
            struct p4g_dnf d;
            if (!pn->dp && n->kind != IR_FILTER)
                continue;
            if (n->kind == IR_HISTOGRAM) {
                char v[512];
                int w;
                struct p4g_ctx c;
                bool s;
                ctx_for(g, &c, i, pq->q, n);
                w = term(g, &c, n->expr, v, sizeof v, &s);
                uint64_t max = w >= 64 ? ~0ull : (1ull << w) - 1;
                for (int b = 0; b <= n->nedges; b++) {
                    int64_t lo = b ? n->edges[b - 1] : 0, hi;
                    uint64_t ulo, uhi;
                    if (b < n->nedges) {
                        hi = n->edges[b] - 1;
                        if (hi < 0)
                            continue;
                        uhi = (uint64_t)hi > max ? max : (uint64_t)hi;
                    } else {
                        uhi = max;
                    }
                    ulo = lo < 0 ? 0 : (uint64_t)lo;
                    if (ulo > uhi)
                        continue;
                    p4g_line(o, "ig.q%d_n%d_bucket.add_with_q%d_n%d_set_bucket(value_start=%" PRIu64
                             ", value_end=%" PRIu64 ", b=%d)", i, k, i, k, ulo, uhi, b);
                }
                continue;
            }
            if (n->kind == IR_FILTER && !pn->dp && p4g_gate_of(pq, k) >= 0) {
                p4g_indent(o);
                p4g_raw(o, "GATE_q%d_n%d = [", i, k);
                threshold_text(o, n);
                p4g_raw(o, "]  # (column of %%%d, op, constant), all must hold on the coarse "
                        "slot: %%%d's refinement gate\n", n->in[0]->id, n->in[0]->id);
                p4g_line(o, "ig.q%d_n%d_gate.set_default_with_q%d_n%d_set_gate(**gate_words(GATE_"
                         "q%d_n%d))", i, k, i, k, i, k);
                continue;
            }
            if (!pn->dp || n->kind != IR_FILTER)
                continue;
            if (pn->zone == PLAN_THRESH) {
                p4g_indent(o);
                p4g_raw(o, "THRESHOLD_q%d_n%d = [", i, k);
                threshold_text(o, n);
                p4g_raw(o, "]  # (column of %%%d, op, constant), all must hold: applied to the "
                        "rows read at window end\n", n->in[0]->id);
                continue;
            }
            if (!p4g_filter_dnf(&tna_arch, n, &d))
                continue;
            const char *v[P4G_MAX_KEYS];
            int nv = p4g_valid_keys(&d, v);
            p4g_line(o, "# %%%d filter: one entry per term; any match passes (priorities do not "
                     "matter)", k);
            for (int ti = 0; ti < d.nt; ti++) {
                const struct p4g_term *tm = &d.t[ti];
                char kn[96];
                p4g_indent(o);
                p4g_raw(o, "ig.q%d_n%d_filter.add_with_q%d_n%d_pass(", i, k, i, k);
                for (int j = 0; j < nv; j++) {
                    int need = p4g_term_needs(tm, v[j]);
                    key_name(kn, sizeof kn, v[j]);
                    p4g_raw(o, "%s=%d, %s_mask=%d, ", kn, need, kn, need);
                }
                for (int key = 0; key < d.nkeys; key++) {
                    const struct p4g_atom *a = p4g_term_atom(tm, d.keys[key]);
                    char val[40] = "0", mask[40] = "0";
                    if (a)
                        p4g_atom_ternary(a, val, mask);
                    key_name(kn, sizeof kn, p4g_field_of(&tna_arch, d.keys[key])->expr);
                    p4g_raw(o, "%s=%s, %s_mask=%s, ", kn, val, kn, mask);
                }
                p4g_raw(o, "MATCH_PRIORITY=%d)\n", ti + 1);
            }
        }
    }
    p4g_blank(o);
    p4g_line(o, "# ---- window end: registers to read (all slots whose state is 1), then clear ----");
    for (int i = 0; i < p->nqueries; i++)
        entries_registers(o, i, &p->queries[i], false);
    p4g_line(o, "REGISTERS = [");
    for (int i = 0; i < p->nqueries; i++)
        entries_registers(o, i, &p->queries[i], true);
    p4g_line(o, "]");
    p4g_blank(o);
    p4g_blank(o);
    p4g_line(o, "def clear_registers():");
    p4g_line(o, "    \"\"\"After the rows of a window are read and sent.\"\"\"");
    p4g_line(o, "    for reg in REGISTERS:");
    p4g_line(o, "        reg.clear()");
    return g->failed ? -EINVAL : 0;
}

const struct p4g_backend p4g_tna = {"tna", tna_program, tna_entries};
