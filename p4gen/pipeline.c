/*
 * pipeline.c - P4_16 for BMv2 simple_switch (v1model.p4) and for an FPGA
 * SmartNIC in ESnet's style (Vitis Networking P4, xsa.p4) from a plan: the
 * query pipelines are the same code, the architectures differ in how a
 * report leaves (v1model: a clone built in egress; xsa: the packet itself,
 * rewritten and truncated, sent to the host port).
 *
 * The v1model program is a tap: every packet runs through the data-plane part of
 * every query, is dropped, and when it causes report records an I2E clone
 * (mirror session REPORT_SESSION) carries them to the host, built in egress
 * from metadata preserved with @field_list(1). Layout follows the p4lang
 * tutorials: includes, constants, typedefs, headers, structs, parser,
 * ingress (registers, actions and tables declared in the control), egress,
 * checksums, deparser, main.
 *
 * Per node (qQ_nK names throughout, matching `htsc explain --target`):
 *   filter      a ternary table when its condition is a disjunction of
 *               conjunctions of field == constant / field in prefix or set /
 *               field has flags (entries in NAME.entries), else an if on the
 *               three-valued condition
 *   sample      hash(crc32, meta.ts) mod N == 0, as exec_sample_hash
 *   map/export  columns in metadata, each with a validity bit
 *   distinct    register arrays: a state byte and the key in 64-bit words,
 *   groupby     indexed by crc32 of the key bytes mod slots (the model's
 *               dpm_key_bytes); a free slot is claimed, a slot holding
 *               another key sends the tuple to the host (overflow); a
 *               groupby fed by a distinct keeps spill state (2) for keys whose
 *               distinct tuples overflowed, aggregates in bit<64> registers
 *               with a count of present inputs
 *   threshold   marks the slot (state | 4) once its aggregates pass the
 *               threshold, whose constants sit in a table (table_set_default)
 *   refined     first a coarse level (qQ_nK_coarse_*: the key with the
 *   groupby     refined address masked, the aggregates the gate reads); the
 *               gate filter's threshold, tested there on the new values
 *               with constants in a table like a threshold's, sends the
 *               tuple to the host (as an overflow) until it holds; then the
 *               groupby's own slots, without spill state or threshold,
 *               read whole at window end (partial records)
 *   histogram   a counter array indexed by the bucket
 * The control plane (not generated) reads and clears the registers at each
 * window end and sends their rows; docs/partitioning.md.
 */
#include "p4common.h"

#include "fields.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const struct p4g_arch arch = {
    .ts = "(bit<64>)standard_metadata.ingress_global_timestamp * 1000",
    .pkt_len = "standard_metadata.packet_length",
    .in_port = "standard_metadata.ingress_port",
};

static const struct p4g_arch xsa_arch = {
    .ts = "sn_meta.timestamp_ns",
    .pkt_len = NULL,
    .in_port = "sn_meta.ingress_port",
};

#define REPORT_SESSION 100
#define HTS_CPU_PORT 255

struct gen {
    const struct plan *p;
    const struct p4g_target *t;
    struct p4g_out *o;
    bool xsa; /* the SmartNIC architecture (else v1model) */
};

/* metadata that must survive into a v1model clone's egress */
#define FL(g) ((g)->xsa ? "" : "@field_list(1) ")

static const char *zone_of(const struct plan_query *pq, int k)
{
    static const char *const z[] = {"host", "per packet", "distinct", "aggregate",
                                    "threshold"};
    return z[pq->nodes[k].zone];
}

/* Bits of a key: its columns at report widths. */
static int key_bits(const struct ir_node *n)
{
    int b = 0;
    for (int i = 0; i < n->nkeys; i++)
        b += p4g_col_bytes(&n->cols[i]) * 8;
    return b ? b : 8;
}

/* Keys sit in 32-bit register words: BMv2's Thrift API reads a cell as a
 * signed 64-bit number and saturates wider values, so a control plane could
 * not read a 64-bit word whose top bit is set. */
static int key_words(const struct ir_node *n)
{
    return (key_bits(n) + 31) / 32;
}

/* ---- windows in the data plane (v1model) ---- */

/* A tumbling-windowed query: its window is computed in the data plane, its
 * state is kept in two banks by the window's parity, and late packets skip
 * it (docs/targets.md, "Windows on a switch that never pauses"). */
static bool banked(const struct gen *g, int qi)
{
    const struct ir_query *q = g->p->queries[qi].q;
    return !g->xsa && !q->per_packet && q->window_ns > 0 &&
           (q->hop_ns == 0 || q->hop_ns == q->window_ns);
}

/* A query whose window start goes into per-packet ROW records. */
static bool needs_ws(const struct gen *g, int qi)
{
    return p4g_window_query(g->p, qi);
}

/* The query holds data-plane state (distinct, groupby, histogram). */
static bool has_state(const struct plan_query *pq)
{
    for (int k = 1; k < pq->q->nnodes; k++)
        if (pq->nodes[k].dp && ir_kind_stateful(pq->q->nodes[k]->kind))
            return true;
    return false;
}

/* "(bit<64>)(((bit<192>)X * 192wM) >> S)": X / W for every 64-bit X, with
 * M = ceil(2^S / W), S = 64 + ceil(log2 W) (Granlund and Montgomery, 1994):
 * P4 has no division, a multiplication by a constant it has. */
static void div_window(struct p4g_out *o, const char *x, int64_t W)
{
    int l = 0;
    while (l < 63 && ((uint64_t)1 << l) < (uint64_t)W)
        l++;
    int S = 64 + l;
    unsigned __int128 M = (((unsigned __int128)1 << S) + (uint64_t)W - 1) / (uint64_t)W;
    p4g_raw(o, "(bit<64>)(((bit<192>)%s * 192w0x", x);
    if ((uint64_t)(M >> 64))
        p4g_raw(o, "%" PRIx64 "%016" PRIx64, (uint64_t)(M >> 64), (uint64_t)M);
    else
        p4g_raw(o, "%" PRIx64, (uint64_t)M);
    p4g_raw(o, ") >> %d)", S);
}

/* ---- metadata ---- */

static void meta_cols(struct gen *g, int qi, int k, const struct ir_node *n, int ncols)
{
    for (int c = 0; c < ncols; c++) {
        p4g_line(g->o, "%s%s q%d_n%d_c%d; /* %s */", FL(g),
                 p4g_type(n->cols[c].type, 64), qi, k, c, n->cols[c].name);
        p4g_line(g->o, "%sbit<1> q%d_n%d_c%d_v;", FL(g), qi, k, c);
    }
}

/* A refined groupby's coarse level, its gate and the gate's constants. */
static void meta_coarse(struct gen *g, int qi, const struct plan_query *pq, int k)
{
    struct p4g_out *o = g->o;
    const struct ir_node *n = pq->q->nodes[k];
    int gate = pq->nodes[k].gate;
    unsigned aggs = p4g_gate_aggs(pq, k);
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(pq->q->nodes[gate]->expr, t, P4G_MAX_THRESH);
    p4g_line(o, "bit<1> q%d_n%d_open; /* the refinement gate lets the tuple on */", qi, k);
    p4g_line(o, "bit<%d> q%d_n%d_coarse_key;", key_bits(n), qi, k);
    p4g_line(o, "bit<%d> q%d_n%d_coarse_kpad;", key_words(n) * 32, qi, k);
    for (int w = 0; w < key_words(n); w++)
        p4g_line(o, "bit<32> q%d_n%d_coarse_w%d;", qi, k, w);
    p4g_line(o, "bit<32> q%d_n%d_coarse_idx;", qi, k);
    p4g_line(o, "bit<8> q%d_n%d_coarse_state;", qi, k);
    for (int a = 0; a < n->naggs; a++) {
        if (!(aggs >> a & 1))
            continue;
        p4g_line(o, "bit<64> q%d_n%d_coarse_a%d;", qi, k, a);
        if (n->aggs[a]->agg != AGG_COUNT)
            p4g_line(o, "bit<64> q%d_n%d_coarse_s%d;", qi, k, a);
    }
    for (int i = 0; i < nt; i++)
        p4g_line(o, "bit<64> q%d_n%d_t%d; /* gate constant */", qi, gate, i);
}

static void metadata(struct gen *g)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    p4g_open(o, "struct metadata_t");
    p4g_line(o, "%sbit<64> ts;            /* meta.ts, ns */", FL(g));
    p4g_line(o, "%sbit<32> wire_len;      /* meta.wire_len */", FL(g));
    p4g_line(o, "%sbit<16> port;          /* meta.port */", FL(g));
    if (!g->xsa) {
        p4g_line(o, "bit<64> maxts;                        /* the latest time seen before this packet */");
        p4g_line(o, "@field_list(2) bit<1> hold;           /* resubmit: wait for a bank */");
        p4g_line(o, "bit<64> held;");
    }
    /* derived fields a report record may carry: kept for the clone's egress too */
    p4g_line(o, "%sbit<16> eth_type;      /* eth.type after VLAN tags */", FL(g));
    p4g_line(o, "%sbit<8> vlan_depth;", FL(g));
    p4g_line(o, "%sbit<8> tcp_hdr_len;", FL(g));
    p4g_line(o, "%sbit<16> tcp_payload_len;", FL(g));
    p4g_line(o, "%sbit<1> report;         /* this packet causes records */", FL(g));
    p4g_line(o, "bit<16> npkt;                         /* egress: packet targets so far */");
    p4g_line(o, "bit<1> valid_ethernet;                /* header validity, for table keys */");
    p4g_line(o, "bit<1> valid_vlan_0;");
    p4g_line(o, "bit<1> valid_vlan_1;");
    p4g_line(o, "bit<1> valid_ipv4;");
    p4g_line(o, "bit<1> valid_ipv6;");
    p4g_line(o, "bit<1> valid_tcp;");
    p4g_line(o, "bit<1> valid_udp;");
    p4g_line(o, "bit<1> valid_icmp;");
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        const struct ir_query *q = pq->q;
        if (banked(g, i)) {
            p4g_line(o, "%sbit<64> q%d_ws; /* %s: window start */", FL(g), i, q->name);
            p4g_line(o, "bit<64> q%d_win; /* its window: meta.ts / window length */", i);
            p4g_line(o, "bit<32> q%d_bank; /* the window's parity: its register bank */", i);
            p4g_line(o, "bit<64> q%d_own; /* the window the bank holds + 1, 0 free */", i);
            p4g_line(o, "bit<1> q%d_go; /* not late, bank ours: run the query */", i);
            p4g_line(o, "bit<64> q%d_cnt;", i);
        } else if (needs_ws(g, i)) {
            p4g_line(o, "%sbit<64> q%d_ws; /* %s: window start (control plane) */", FL(g),
                     i, q->name);
        }
        for (int k = 1; k < q->nnodes; k++) {
            const struct plan_node *pn = &pq->nodes[k];
            const struct ir_node *n = q->nodes[k];
            if (!pn->dp)
                continue;
            switch (n->kind) {
            case IR_FILTER:
                if (pn->zone == PLAN_THRESH) {
                    struct p4g_thresh t[P4G_MAX_THRESH];
                    int nt = p4g_thresholds(n->expr, t, P4G_MAX_THRESH);
                    for (int a = 0; a < nt; a++)
                        p4g_line(o, "bit<64> q%d_n%d_t%d; /* threshold constant */", i, k, a);
                    break;
                }
                p4g_line(o, "bit<1> q%d_n%d; /* %s passes */", i, k, ir_kind_text[n->kind]);
                if (pn->zone == PLAN_DIST)
                    p4g_line(o, "bit<1> q%d_n%d_probe;", i, k);
                break;
            case IR_SAMPLE:
                p4g_line(o, "bit<1> q%d_n%d;", i, k);
                p4g_line(o, "bit<32> q%d_n%d_h;", i, k);
                break;
            case IR_MAP:
            case IR_EXPORT:
                p4g_line(o, "bit<1> q%d_n%d;", i, k);
                if (pn->zone == PLAN_DIST)
                    p4g_line(o, "bit<1> q%d_n%d_probe;", i, k);
                meta_cols(g, i, k, n, n->ncols);
                break;
            case IR_DISTINCT:
            case IR_GROUPBY: {
                p4g_line(o, "bit<1> q%d_n%d; /* %s */", i, k,
                         n->kind == IR_DISTINCT ? "first sight of its key" : "updated");
                p4g_line(o, "bit<1> q%d_n%d_probe; /* its key overflowed upstream */", i, k);
                meta_cols(g, i, k, n, n->kind == IR_DISTINCT ? n->ncols : n->ncols);
                p4g_line(o, "bit<%d> q%d_n%d_key;", key_bits(n), i, k);
                p4g_line(o, "bit<%d> q%d_n%d_kpad;", key_words(n) * 32, i, k);
                for (int w = 0; w < key_words(n); w++)
                    p4g_line(o, "bit<32> q%d_n%d_w%d;", i, k, w);
                p4g_line(o, "bit<32> q%d_n%d_idx;", i, k);
                p4g_line(o, "bit<8> q%d_n%d_state;", i, k);
                for (int a = 0; n->kind == IR_GROUPBY && a < n->naggs; a++) {
                    p4g_line(o, "bit<64> q%d_n%d_a%d;", i, k, a);
                    p4g_line(o, "bit<64> q%d_n%d_s%d;", i, k, a);
                }
                if (pn->refine)
                    meta_coarse(g, i, pq, k);
                break;
            }
            case IR_HISTOGRAM:
                p4g_line(o, "bit<64> q%d_n%d_x;", i, k);
                p4g_line(o, "bit<32> q%d_n%d_b;", i, k);
                p4g_line(o, "bit<64> q%d_n%d_cnt;", i, k);
                break;
            default:
                break;
            }
        }
    }
    for (int l = 0; l < p->nlayouts; l++) {
        char name[64];
        if (!p4g_per_packet(p, &p->layouts[l]))
            continue;
        p4g_rec_name(name, sizeof name, &p->layouts[l]);
        p4g_line(o, "%sbit<1> r_%s;", FL(g), name);
    }
    p4g_close(o, "");
}

/* ---- ingress ---- */

static void set_flag(struct gen *g, int qi, int node, int kind)
{
    struct rep_layout l = {.query = qi, .node = node, .kind = kind};
    char name[64];
    p4g_rec_name(name, sizeof name, &l);
    p4g_line(g->o, "meta.r_%s = 1;", name);
    p4g_line(g->o, "meta.report = 1;");
}

/* "meta.qQ_nIN == 1" for node n's input (the source is always active) */
static void active_in(struct p4g_out *o, int qi, const struct ir_node *n, bool probe)
{
    int in = n->in[0]->id;
    if (in == 0)
        p4g_raw(o, "true");
    else if (probe)
        p4g_raw(o, "(meta.q%d_n%d == 1 || meta.q%d_n%d_probe == 1)", qi, in, qi, in);
    else
        p4g_raw(o, "meta.q%d_n%d == 1", qi, in);
}

static bool in_probe(const struct plan_query *pq, const struct ir_node *n)
{
    return n->in[0]->id && pq->nodes[n->in[0]->id].zone == PLAN_DIST;
}

/* Assigns the columns of map/export/keys: value and validity. */
static void assign_cols(struct gen *g, int qi, const struct ir_query *q, const struct ir_node *n,
                        int ncols)
{
    struct p4g_out *o = g->o;
    struct p4g_ctx c;
    p4g_ctx_for(&c, &arch, qi, q, n->in[0]);
    for (int i = 0; i < ncols; i++) {
        if (p4g_assign_col_valid(o, &c, qi, n, i))
            continue;
        p4g_raw(o, "meta.q%d_n%d_c%d = meta.q%d_n%d_c%d_v == 1 ? ", qi, n->id, i, qi, n->id, i);
        p4g_value(o, &c, n->exprs[i]);
        p4g_raw(o, " : 0;\n");
    }
}

/* One level of hashed slots: a distinct or groupby's own (name "qQ_nK"), or
 * a refined groupby's coarse level ("qQ_nK_coarse", its refined key column
 * masked to a prefix). The name prefixes its registers and metadata. */
struct level {
    char nm[32];    /* "q0_n2", "q0_n2_coarse" */
    char slots[32]; /* "Q0_N2_SLOTS", "Q0_N2_COARSE_SLOTS" */
    int mask_col;   /* the key column masked (coarse level), else -1 */
    int mask_len;
};

static void level_of(struct level *l, int qi, const struct plan_query *pq, int k, bool coarse)
{
    const struct plan_node *pn = &pq->nodes[k];
    snprintf(l->nm, sizeof l->nm, "q%d_n%d%s", qi, k, coarse ? "_coarse" : "");
    snprintf(l->slots, sizeof l->slots, "Q%d_N%d_%sSLOTS", qi, k, coarse ? "COARSE_" : "");
    l->mask_col = coarse ? pn->refine_col : -1;
    l->mask_len = coarse ? pn->refine : 0;
}

static void key_concat(struct gen *g, int qi, const struct ir_node *n, const struct level *l)
{
    struct p4g_out *o = g->o;
    const char *nm = l->nm;
    p4g_indent(o);
    p4g_raw(o, "meta.%s_key = ", nm);
    for (int i = 0; i < n->nkeys; i++) {
        char col[48], masked[96];
        snprintf(col, sizeof col, "meta.q%d_n%d_c%d", qi, n->id, i);
        if (i == l->mask_col)
            p4g_masked_col(masked, sizeof masked, col, n->cols[i].type, l->mask_len);
        p4g_raw(o, "%s(bit<%d>)%s", i ? " ++ " : "", p4g_col_bytes(&n->cols[i]) * 8,
                i == l->mask_col ? masked : col);
    }
    if (!n->nkeys)
        p4g_raw(o, "8w0");
    p4g_raw(o, ";\n");
    p4g_line(o, "meta.%s_kpad = (bit<%d>)meta.%s_key;", nm, key_words(n) * 32, nm);
    p4g_line(o, "hash(meta.%s_idx, HashAlgorithm.crc32, 32w0, { meta.%s_key }, %s);", nm, nm,
             l->slots);
    if (banked(g, qi))
        p4g_line(o, "meta.%s_idx = meta.%s_idx + meta.q%d_bank * %s; /* this window's bank */",
                 nm, nm, qi, l->slots);
    p4g_line(o, "%s_state.read(meta.%s_state, meta.%s_idx);", nm, nm, nm);
    for (int w = 0; w < key_words(n); w++)
        p4g_line(o, "%s_key%d.read(meta.%s_w%d, meta.%s_idx);", nm, w, nm, w, nm);
}

static void key_match(struct gen *g, const struct ir_node *n, const struct level *l)
{
    p4g_raw(g->o, "meta.%s_state != 0", l->nm);
    for (int w = 0; w < key_words(n); w++)
        p4g_raw(g->o, " && meta.%s_w%d == meta.%s_kpad[%d:%d]", l->nm, w, l->nm, w * 32 + 31,
                w * 32);
}

static void key_claim(struct gen *g, const struct ir_node *n, const struct level *l, int state)
{
    for (int w = 0; w < key_words(n); w++)
        p4g_line(g->o, "%s_key%d.write(meta.%s_idx, meta.%s_kpad[%d:%d]);", l->nm, w, l->nm,
                 l->nm, w * 32 + 31, w * 32);
    p4g_line(g->o, "meta.%s_state = %d;", l->nm, state);
}

static void gen_distinct(struct gen *g, int qi, const struct plan_query *pq, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    const struct plan_node *pn = &pq->nodes[n->id];
    struct level l;
    level_of(&l, qi, pq, n->id, false);
    p4g_indent(o);
    p4g_raw(o, "if (");
    active_in(o, qi, n, false);
    p4g_raw(o, ") {\n");
    o->indent++;
    assign_cols(g, qi, pq->q, n, n->nkeys);
    p4g_keys_valid(g->o, qi, n);
    key_concat(g, qi, n, &l);
    p4g_line(o, "if (meta.q%d_n%d_state == 0) {", qi, n->id);
    o->indent++;
    p4g_line(o, "/* a free slot: this key is held here for the window */");
    key_claim(g, n, &l, 1);
    p4g_line(o, "q%d_n%d_state.write(meta.q%d_n%d_idx, meta.q%d_n%d_state);", qi, n->id, qi,
             n->id, qi, n->id);
    p4g_line(o, "meta.q%d_n%d = 1;", qi, n->id);
    o->indent--;
    p4g_indent(o);
    p4g_raw(o, "} else if (!(");
    key_match(g, n, &l);
    p4g_raw(o, ")) {\n");
    o->indent++;
    p4g_line(o, "/* the slot holds another key: the host runs this one */");
    set_flag(g, qi, pn->overflow_at, pn->overflow_kind);
    p4g_line(o, "meta.q%d_n%d_probe = 1;", qi, n->id);
    o->indent--;
    p4g_line(o, "}");
    p4g_close(o, "");
    p4g_close(o, "");
}

/* P4 value of aggregate i's argument, widened to bit<64> */
static void agg_arg(struct gen *g, int qi, const struct ir_query *q, const struct ir_node *n, int i,
                    bool valid)
{
    struct p4g_ctx c;
    p4g_ctx_for(&c, &arch, qi, q, n->in[0]);
    const struct ast_expr *x = n->aggs[i]->args[0];
    if (valid) {
        p4g_valid(g->o, &c, x);
    } else if (x->type == TY_IPV4) {
        p4g_raw(g->o, "(bit<64>)");
        p4g_value(g->o, &c, x);
    } else {
        p4g_value(g->o, &c, x);
    }
}

/* Aggregate i of groupby n on level l's slot (meta.NM_idx): read, update
 * with the tuple, write back; `cols`: also set the node's column (value and
 * validity) for a data-plane threshold. */
static void agg_step(struct gen *g, int qi, const struct ir_query *q, const struct ir_node *n,
                     int i, const char *nm, bool cols)
{
    struct p4g_out *o = g->o;
    int k = n->id, agg = n->aggs[i]->agg, col = n->nkeys + i;
    p4g_line(o, "%s_agg%d.read(meta.%s_a%d, meta.%s_idx);", nm, i, nm, i, nm);
    if (agg == AGG_COUNT) {
        p4g_line(o, "meta.%s_a%d = meta.%s_a%d + 1;", nm, i, nm, i);
        p4g_line(o, "%s_agg%d.write(meta.%s_idx, meta.%s_a%d);", nm, i, nm, nm, i);
        if (cols) {
            p4g_line(o, "meta.q%d_n%d_c%d = meta.%s_a%d;", qi, k, col, nm, i);
            p4g_line(o, "meta.q%d_n%d_c%d_v = 1;", qi, k, col);
        }
        return;
    }
    p4g_line(o, "%s_seen%d.read(meta.%s_s%d, meta.%s_idx);", nm, i, nm, i, nm);
    p4g_indent(o);
    p4g_raw(o, "if (");
    agg_arg(g, qi, q, n, i, true);
    p4g_raw(o, ") {\n");
    o->indent++;
    if (agg == AGG_SUM || agg == AGG_AVG) {
        p4g_indent(o);
        p4g_raw(o, "meta.%s_a%d = meta.%s_a%d + ", nm, i, nm, i);
        agg_arg(g, qi, q, n, i, false);
        p4g_raw(o, ";\n");
    } else {
        bool addr = n->aggs[i]->args[0]->type == TY_IPV4;
        p4g_indent(o);
        p4g_raw(o, "if (meta.%s_s%d == 0 || %s", nm, i, addr ? "" : "(int<64>)");
        agg_arg(g, qi, q, n, i, false);
        p4g_raw(o, " %s %smeta.%s_a%d) {\n", agg == AGG_MIN ? "<" : ">", addr ? "" : "(int<64>)",
                nm, i);
        o->indent++;
        p4g_indent(o);
        p4g_raw(o, "meta.%s_a%d = ", nm, i);
        agg_arg(g, qi, q, n, i, false);
        p4g_raw(o, ";\n");
        o->indent--;
        p4g_line(o, "}");
    }
    p4g_line(o, "meta.%s_s%d = meta.%s_s%d + 1;", nm, i, nm, i);
    p4g_line(o, "%s_agg%d.write(meta.%s_idx, meta.%s_a%d);", nm, i, nm, nm, i);
    p4g_line(o, "%s_seen%d.write(meta.%s_idx, meta.%s_s%d);", nm, i, nm, nm, i);
    o->indent--;
    p4g_line(o, "}");
    if (cols) {
        p4g_line(o, "meta.q%d_n%d_c%d = meta.%s_a%d;", qi, k, col, nm, i);
        p4g_line(o, "meta.q%d_n%d_c%d_v = meta.%s_s%d != 0 ? 1w1 : 1w0;", qi, k, col, nm, i);
    }
}

/* A refined groupby's coarse level and gate (docs/partitioning.md,
 * "Refinement in the generated P4"): the key with its refined column
 * masked claims or finds a coarse slot, whose aggregates the gate reads are
 * updated; the gate is open (meta.qQ_nK_open) when the gate filter's
 * threshold holds on them, or when the slot holds another prefix. */
static void gen_coarse(struct gen *g, int qi, const struct plan_query *pq, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    const struct plan_node *pn = &pq->nodes[n->id];
    int k = n->id, gate = pn->gate;
    unsigned aggs = p4g_gate_aggs(pq, k);
    struct level l;
    level_of(&l, qi, pq, k, true);
    p4g_line(o, "/* refinement: first the coarse level, %s/%d */", n->cols[pn->refine_col].name,
             pn->refine);
    key_concat(g, qi, n, &l);
    p4g_line(o, "meta.q%d_n%d_open = 1; /* a prefix whose slot holds another: no gate */", qi, k);
    p4g_indent(o);
    p4g_raw(o, "if (meta.%s_state == 0 || (", l.nm);
    key_match(g, n, &l);
    p4g_raw(o, ")) {\n");
    o->indent++;
    p4g_line(o, "if (meta.%s_state == 0) {", l.nm);
    o->indent++;
    key_claim(g, n, &l, 1);
    p4g_line(o, "%s_state.write(meta.%s_idx, meta.%s_state);", l.nm, l.nm, l.nm);
    o->indent--;
    p4g_line(o, "}");
    for (int i = 0; i < n->naggs; i++)
        if (aggs >> i & 1)
            agg_step(g, qi, q, n, i, l.nm, false);
    p4g_line(o, "q%d_n%d_gate.apply();", qi, gate);
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(q->nodes[gate]->expr, t, P4G_MAX_THRESH);
    /* the atoms on the new values, each parenthesised */
    p4g_indent(o);
    p4g_raw(o, "if (!%s", nt > 1 ? "(" : "");
    for (int i = 0; i < nt; i++) {
        int a = t[i].col - n->nkeys;
        p4g_raw(o, "%s(", i ? " && " : "");
        if (n->aggs[a]->agg != AGG_COUNT) /* absent until an input is present */
            p4g_raw(o, "meta.%s_s%d != 0 && ", l.nm, a);
        p4g_raw(o, "(int<64>)meta.%s_a%d %s (int<64>)meta.q%d_n%d_t%d)", l.nm, a,
                t[i].strict ? ">" : ">=", qi, gate, i);
    }
    p4g_gate_close(o, qi, k, nt);
    set_flag(g, qi, pn->overflow_at, pn->overflow_kind);
    p4g_gate_open(o);
}

static void gen_groupby(struct gen *g, int qi, const struct plan_query *pq, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    const struct plan_node *pn = &pq->nodes[n->id];
    int k = n->id;
    bool probe = in_probe(pq, n) && !pn->refine; /* refined: partial rows merge, no spill */
    struct level l;
    level_of(&l, qi, pq, k, false);
    p4g_indent(o);
    p4g_raw(o, "if (");
    active_in(o, qi, n, probe);
    p4g_raw(o, ") {\n");
    o->indent++;
    assign_cols(g, qi, q, n, n->nkeys);
    p4g_keys_valid(g->o, qi, n);
    if (pn->refine)
        gen_coarse(g, qi, pq, n);
    key_concat(g, qi, n, &l);
    if (probe) {
        p4g_line(o, "if (meta.q%d_n%d_probe == 1) {", qi, n->in[0]->id);
        o->indent++;
        p4g_line(o, "/* a distinct tuple of this key overflowed: the host owns the key */");
        p4g_line(o, "if (meta.q%d_n%d_state == 0) {", qi, k);
        o->indent++;
        key_claim(g, n, &l, 2);
        o->indent--;
        p4g_indent(o);
        p4g_raw(o, "} else if (");
        key_match(g, n, &l);
        p4g_raw(o, ") {\n");
        o->indent++;
        p4g_line(o, "meta.q%d_n%d_state = 2;", qi, k);
        o->indent--;
        p4g_line(o, "}");
        p4g_line(o, "q%d_n%d_state.write(meta.q%d_n%d_idx, meta.q%d_n%d_state);", qi, k, qi, k, qi, k);
        o->indent--;
        p4g_line(o, "} else {");
        o->indent++;
    }
    p4g_indent(o);
    p4g_raw(o, "if (meta.q%d_n%d_state == 0 || (", qi, k);
    key_match(g, n, &l);
    p4g_raw(o, ")) {\n");
    o->indent++;
    p4g_line(o, "if (meta.q%d_n%d_state == 0) {", qi, k);
    o->indent++;
    key_claim(g, n, &l, 1);
    o->indent--;
    p4g_line(o, "}");
    for (int i = 0; i < n->naggs; i++) /* columns: for a data-plane threshold */
        agg_step(g, qi, q, n, i, l.nm, !pn->refine);
    /* the data-plane threshold after this groupby: mark the slot */
    for (const int *c = pq->consumers[k]; *c >= 0; c++) {
        if (!pq->nodes[*c].dp || pq->nodes[*c].zone != PLAN_THRESH)
            continue;
        struct p4g_thresh t[P4G_MAX_THRESH];
        int nt = p4g_thresholds(q->nodes[*c]->expr, t, P4G_MAX_THRESH);
        p4g_line(o, "q%d_n%d_threshold.apply();", qi, *c);
        p4g_indent(o);
        p4g_raw(o, "if (");
        for (int i = 0; i < nt; i++)
            p4g_raw(o, "%s(meta.q%d_n%d_c%d_v == 1 && (int<64>)meta.q%d_n%d_c%d %s "
                    "(int<64>)meta.q%d_n%d_t%d)", i ? " && " : "", qi, k, t[i].col, qi, k,
                    t[i].col, t[i].strict ? ">" : ">=", qi, *c, i);
        p4g_raw(o, ") {\n");
        o->indent++;
        p4g_line(o, "meta.q%d_n%d_state = meta.q%d_n%d_state | 4; /* over the threshold */", qi,
                 k, qi, k);
        o->indent--;
        p4g_line(o, "}");
    }
    p4g_line(o, "q%d_n%d_state.write(meta.q%d_n%d_idx, meta.q%d_n%d_state);", qi, k, qi, k, qi, k);
    p4g_line(o, "meta.q%d_n%d = 1;", qi, k);
    o->indent--;
    p4g_line(o, "} else {");
    o->indent++;
    p4g_line(o, "/* the slot holds another key: the host runs this one */");
    set_flag(g, qi, pn->overflow_at, pn->overflow_kind);
    o->indent--;
    p4g_line(o, "}");
    if (probe || pn->refine) {
        o->indent--;
        p4g_line(o, "}");
    }
    p4g_close(o, "");
    p4g_close(o, "");
}

static void gen_histogram(struct gen *g, int qi, const struct ir_query *q, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    int k = n->id;
    struct p4g_ctx c;
    p4g_ctx_for(&c, &arch, qi, q, n->in[0]);
    p4g_indent(o);
    p4g_raw(o, "if (");
    active_in(o, qi, n, false);
    p4g_raw(o, " && ");
    p4g_valid(o, &c, n->expr);
    p4g_raw(o, ") {\n");
    o->indent++;
    p4g_indent(o);
    p4g_raw(o, "meta.q%d_n%d_x = ", qi, k);
    p4g_value(o, &c, n->expr);
    p4g_raw(o, ";\n");
    p4g_line(o, "meta.q%d_n%d_b = %d;", qi, k, n->nedges);
    for (int b = n->nedges - 1; b >= 0; b--)
        p4g_line(o, "if ((int<64>)meta.q%d_n%d_x < (int<64>)64w0x%" PRIx64 ") { meta.q%d_n%d_b = %d; }",
                 qi, k, (uint64_t)n->edges[b], qi, k, b);
    if (banked(g, qi))
        p4g_line(o, "meta.q%d_n%d_b = meta.q%d_n%d_b + meta.q%d_bank * %d; /* this window's "
                 "bank */", qi, k, qi, k, qi, n->nedges + 1);
    p4g_line(o, "q%d_n%d_hist.read(meta.q%d_n%d_cnt, meta.q%d_n%d_b);", qi, k, qi, k, qi, k);
    p4g_line(o, "q%d_n%d_hist.write(meta.q%d_n%d_b, meta.q%d_n%d_cnt + 1);", qi, k, qi, k, qi, k);
    p4g_close(o, "");
}

static void gen_filter(struct gen *g, int qi, const struct plan_query *pq, const struct ir_node *n)
{
    struct p4g_out *o = g->o;
    int k = n->id;
    bool probe = in_probe(pq, n);
    struct p4g_dnf d;
    p4g_indent(o);
    p4g_raw(o, "if (");
    active_in(o, qi, n, probe);
    p4g_raw(o, ") {\n");
    o->indent++;
    if (p4g_filter_dnf(&arch, n, &d)) {
        p4g_line(o, "q%d_n%d_filter.apply(); /* sets meta.q%d_n%d */", qi, k, qi, k);
    } else {
        struct p4g_ctx c;
        p4g_ctx_for(&c, &arch, qi, pq->q, n->in[0]);
        p4g_filter_if(o, &c, qi, n, probe);
    }
    p4g_close(o, "");
}

static void gen_node(struct gen *g, int qi, const struct plan_query *pq, int k)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    const struct ir_node *n = q->nodes[k];
    const struct plan_node *pn = &pq->nodes[k];
    if (!pn->dp || k == 0 || pn->zone == PLAN_THRESH)
        return;
    p4g_line(o, "/* %%%d %s (%s) */", k, ir_kind_text[n->kind], zone_of(pq, k));
    switch (n->kind) {
    case IR_FILTER:
        gen_filter(g, qi, pq, n);
        break;
    case IR_SAMPLE:
        p4g_indent(o);
        p4g_raw(o, "if (");
        active_in(o, qi, n, false);
        p4g_raw(o, ") {\n");
        o->indent++;
        p4g_line(o, "hash(meta.q%d_n%d_h, HashAlgorithm.crc32, 32w0, { meta.ts }, 32w%lld);", qi,
                 k, (long long)n->sample_n);
        p4g_line(o, "if (meta.q%d_n%d_h == 0) { meta.q%d_n%d = 1; }", qi, k, qi, k);
        p4g_close(o, "");
        break;
    case IR_MAP:
    case IR_EXPORT: {
        bool probe = in_probe(pq, n);
        p4g_indent(o);
        p4g_raw(o, "if (");
        active_in(o, qi, n, probe);
        p4g_raw(o, ") {\n");
        o->indent++;
        p4g_pass_on(o, qi, n, probe);
        assign_cols(g, qi, q, n, n->ncols);
        p4g_close(o, "");
        break;
    }
    case IR_DISTINCT:
        gen_distinct(g, qi, pq, n);
        break;
    case IR_GROUPBY:
        gen_groupby(g, qi, pq, n);
        break;
    case IR_HISTOGRAM:
        gen_histogram(g, qi, q, n);
        break;
    default:
        break;
    }
    if (pn->exit == PLAN_EXIT_TUPLE || pn->exit == PLAN_EXIT_PACKET ||
        pn->exit == PLAN_EXIT_ROW_NOW) {
        int kind = pn->exit == PLAN_EXIT_TUPLE ? REP_TUPLE
                   : pn->exit == PLAN_EXIT_PACKET ? REP_PACKET : REP_ROW;
        p4g_line(o, "if (meta.q%d_n%d == 1) {", qi, k);
        o->indent++;
        set_flag(g, qi, k, kind);
        o->indent--;
        p4g_line(o, "}");
    }
}

/* A refined groupby's two levels of registers, and what the control plane
 * does with them at window end. B: "2 * " when the query keeps two banks. */
static void declare_refined(struct gen *g, int qi, const struct plan_query *pq, int k,
                            const char *B)
{
    struct p4g_out *o = g->o;
    const struct ir_node *n = pq->q->nodes[k];
    const struct plan_node *pn = &pq->nodes[k];
    unsigned aggs = p4g_gate_aggs(pq, k);
    p4g_line(o, "/* %%%d groupby by %d key%s, refined: the coarse level (%s/%d, %u slots) gates "
             "the fine one (%u slots) */", k, n->nkeys, n->nkeys == 1 ? "" : "s",
             n->cols[pn->refine_col].name, pn->refine, pn->coarse_slots, pn->slots);
    p4g_line(o, "/* window end: each held fine slot becomes a partial record (keys, aggregate "
             "values, present-input counts: docs/wire-format.md); then both levels are "
             "cleared */");
    p4g_line(o, "register<bit<8>>(%sQ%d_N%d_COARSE_SLOTS) q%d_n%d_coarse_state; /* 0 free, 1 "
             "held */", B, qi, k, qi, k);
    for (int w = 0; w < key_words(n); w++)
        p4g_line(o, "register<bit<32>>(%sQ%d_N%d_COARSE_SLOTS) q%d_n%d_coarse_key%d;", B, qi, k,
                 qi, k, w);
    for (int a = 0; a < n->naggs; a++) {
        if (!(aggs >> a & 1))
            continue;
        p4g_line(o, "register<bit<64>>(%sQ%d_N%d_COARSE_SLOTS) q%d_n%d_coarse_agg%d; /* %s, for "
                 "the gate */", B, qi, k, qi, k, a, n->cols[n->nkeys + a].name);
        if (n->aggs[a]->agg != AGG_COUNT)
            p4g_line(o, "register<bit<64>>(%sQ%d_N%d_COARSE_SLOTS) q%d_n%d_coarse_seen%d;", B,
                     qi, k, qi, k, a);
    }
    p4g_line(o, "register<bit<8>>(%sQ%d_N%d_SLOTS) q%d_n%d_state; /* 0 free, 1 held */", B, qi,
             k, qi, k);
    for (int w = 0; w < key_words(n); w++)
        p4g_line(o, "register<bit<32>>(%sQ%d_N%d_SLOTS) q%d_n%d_key%d;", B, qi, k, qi, k, w);
    for (int a = 0; a < n->naggs; a++) {
        p4g_line(o, "register<bit<64>>(%sQ%d_N%d_SLOTS) q%d_n%d_agg%d; /* %s */", B, qi, k, qi,
                 k, a, n->cols[n->nkeys + a].name);
        if (n->aggs[a]->agg != AGG_COUNT)
            p4g_line(o, "register<bit<64>>(%sQ%d_N%d_SLOTS) q%d_n%d_seen%d;", B, qi, k, qi, k,
                     a);
    }
}

static void declare_state(struct gen *g, int qi, const struct plan_query *pq)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    const char *B = banked(g, qi) ? "2 * " : "";
    if (banked(g, qi) && has_state(pq)) {
        p4g_line(o, "/* two banks of every register below, by the window's parity: the control "
                 "plane reads and clears one while packets fill the other */");
        p4g_line(o, "register<bit<64>>(2) q%d_owner; /* per bank: 0 free, else its window + 1 "
                 "*/", qi);
        p4g_line(o, "register<bit<64>>(1) q%d_overrun; /* packets that found their bank still "
                 "held by an older window */", qi);
    }
    if (banked(g, qi))
        p4g_line(o, "register<bit<64>>(1) q%d_late; /* packets whose window had closed */", qi);
    for (int k = 1; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        const struct plan_node *pn = &pq->nodes[k];
        if (!pn->dp)
            continue;
        if (pn->refine) {
            declare_refined(g, qi, pq, k, B);
        } else if (n->kind == IR_DISTINCT || n->kind == IR_GROUPBY) {
            p4g_line(o, "/* %%%d %s by %d key%s: %u slots */", k, ir_kind_text[n->kind], n->nkeys,
                     n->nkeys == 1 ? "" : "s", pn->slots);
            p4g_line(o, "register<bit<8>>(%sQ%d_N%d_SLOTS) q%d_n%d_state; /* 0 free, 1 held, 2 "
                     "host's (spilled), | 4 over threshold */", B, qi, k, qi, k);
            for (int w = 0; w < key_words(n); w++)
                p4g_line(o, "register<bit<32>>(%sQ%d_N%d_SLOTS) q%d_n%d_key%d;", B, qi, k, qi, k,
                         w);
            for (int a = 0; n->kind == IR_GROUPBY && a < n->naggs; a++) {
                p4g_line(o, "register<bit<64>>(%sQ%d_N%d_SLOTS) q%d_n%d_agg%d; /* %s */", B, qi,
                         k, qi, k, a, n->cols[n->nkeys + a].name);
                if (n->aggs[a]->agg != AGG_COUNT)
                    p4g_line(o, "register<bit<64>>(%sQ%d_N%d_SLOTS) q%d_n%d_seen%d;", B, qi, k,
                             qi, k, a);
            }
        } else if (n->kind == IR_HISTOGRAM) {
            p4g_line(o, "register<bit<64>>(%s%d) q%d_n%d_hist; /* one counter per bucket */", B,
                     n->nedges + 1, qi, k);
        }
    }
}

/* The constants of threshold filter n (a data-plane threshold, or a refined
 * groupby's gate) in a one-entry table: NAME.entries may change them. */
static void threshold_table(struct gen *g, int qi, const struct ir_node *n, const char *what)
{
    struct p4g_out *o = g->o;
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(n->expr, t, P4G_MAX_THRESH), k = n->id;
    char head[64];
    p4g_indent(o);
    p4g_raw(o, "action q%d_n%d_set_%s(", qi, k, what);
    for (int i = 0; i < nt; i++)
        p4g_raw(o, "%sbit<64> t%d", i ? ", " : "", i);
    p4g_raw(o, ") {");
    for (int i = 0; i < nt; i++)
        p4g_raw(o, " meta.q%d_n%d_t%d = t%d;", qi, k, i, i);
    p4g_raw(o, " }\n");
    snprintf(head, sizeof head, "table q%d_n%d_%s", qi, k, what);
    p4g_open(o, head);
    p4g_line(o, "actions = { q%d_n%d_set_%s; }", qi, k, what);
    p4g_line(o, "size = 1;");
    p4g_indent(o);
    p4g_raw(o, "default_action = q%d_n%d_set_%s(", qi, k, what);
    for (int i = 0; i < nt; i++)
        p4g_raw(o, "%s%lld", i ? ", " : "", (long long)t[i].c);
    p4g_raw(o, ");\n");
    p4g_close(o, "");
    p4g_blank(o);
}

static void declare_tables(struct gen *g, int qi, const struct plan_query *pq)
{
    struct p4g_out *o = g->o;
    const struct ir_query *q = pq->q;
    if (needs_ws(g, qi) && !banked(g, qi))
        p4g_window_table(o, qi);
    for (int k = 1; k < q->nnodes; k++) {
        const struct ir_node *n = q->nodes[k];
        const struct plan_node *pn = &pq->nodes[k];
        struct p4g_dnf d;
        char head[64];
        if (n->kind == IR_FILTER && !pn->dp && p4g_gate_of(pq, k) >= 0) {
            threshold_table(g, qi, n, "gate"); /* a refined groupby's gate */
            continue;
        }
        if (!pn->dp || n->kind != IR_FILTER)
            continue;
        if (pn->zone == PLAN_THRESH) {
            threshold_table(g, qi, n, "threshold");
            continue;
        }
        if (!p4g_filter_dnf(&arch, n, &d))
            continue;
        p4g_line(o, "action q%d_n%d_pass() { meta.q%d_n%d = 1; }", qi, k, qi, k);
        snprintf(head, sizeof head, "table q%d_n%d_filter", qi, k);
        p4g_open(o, head);
        p4g_open(o, "key =");
        const char *v[P4G_MAX_KEYS];
        int nv = p4g_valid_keys(&d, v);
        for (int i = 0; i < nv; i++) {
            char vk[96];
            p4g_valid_key(vk, sizeof vk, v[i]);
            p4g_line(o, "%s: ternary;", vk);
        }
        for (int i = 0; i < d.nkeys; i++)
            p4g_line(o, "%s: ternary;", p4g_field_of(&arch, d.keys[i])->expr);
        p4g_close(o, "");
        p4g_line(o, "actions = { q%d_n%d_pass; NoAction; }", qi, k);
        p4g_line(o, "size = %d;", d.nt < 16 ? 16 : d.nt * 2);
        p4g_line(o, "default_action = NoAction();");
        p4g_close(o, "");
        p4g_blank(o);
    }
}

/* Registers, actions and tables of every query (inside the control). */
static void query_decls(struct gen *g)
{
    const struct plan *p = g->p;
    for (int i = 0; i < p->nqueries; i++) {
        p4g_line(g->o, "/* ---- query %d: %s ---- */", i, p->queries[i].q->name);
        declare_state(g, i, &p->queries[i]);
        declare_tables(g, i, &p->queries[i]);
    }
}

/* A banked query's window, lateness and bank; opens "if (meta.qQ_go == 1) {"
 * around the query's statements (closed by the caller). */
static void window_prelude(struct gen *g, int qi, const struct plan_query *pq)
{
    struct p4g_out *o = g->o;
    int64_t W = pq->q->window_ns;
    p4g_line(o, "/* the window, from the packet's time: no division in P4, a multiplication */");
    p4g_indent(o);
    p4g_raw(o, "meta.q%d_win = ", qi);
    div_window(o, "meta.ts", W);
    p4g_raw(o, ";\n");
    p4g_line(o, "meta.q%d_ws = meta.q%d_win * %" PRId64 ";", qi, qi, W);
    p4g_line(o, "meta.q%d_bank = (bit<32>)meta.q%d_win[0:0];", qi, qi);
    p4g_line(o, "meta.q%d_go = 0;", qi);
    p4g_indent(o);
    p4g_raw(o, "if (meta.q%d_win < ", qi);
    div_window(o, "meta.maxts", W);
    p4g_raw(o, ") {\n");
    o->indent++;
    p4g_line(o, "/* late: a later packet has closed its window */");
    p4g_line(o, "q%d_late.read(meta.q%d_cnt, 0);", qi, qi);
    p4g_line(o, "q%d_late.write(0, meta.q%d_cnt + 1);", qi, qi);
    o->indent--;
    if (has_state(pq)) {
        p4g_line(o, "} else {");
        o->indent++;
        p4g_line(o, "q%d_owner.read(meta.q%d_own, meta.q%d_bank);", qi, qi, qi);
        p4g_line(o, "if (meta.q%d_own == 0) {", qi);
        p4g_line(o, "    q%d_owner.write(meta.q%d_bank, meta.q%d_win + 1); /* a cleared bank: "
                 "claim it */", qi, qi, qi);
        p4g_line(o, "    meta.q%d_go = 1;", qi);
        p4g_line(o, "} else if (meta.q%d_own == meta.q%d_win + 1) {", qi, qi);
        p4g_line(o, "    meta.q%d_go = 1;", qi);
        p4g_line(o, "} else {");
        p4g_line(o, "    /* the control plane has not cleared the bank's older window yet */");
        p4g_line(o, "    q%d_overrun.read(meta.q%d_cnt, 0);", qi, qi);
        p4g_line(o, "    q%d_overrun.write(0, meta.q%d_cnt + 1);", qi, qi);
        p4g_line(o, "}");
        o->indent--;
        p4g_line(o, "}");
    } else {
        p4g_line(o, "} else {");
        p4g_line(o, "    meta.q%d_go = 1;", qi);
        p4g_line(o, "}");
    }
    char head[48];
    snprintf(head, sizeof head, "if (meta.q%d_go == 1)", qi);
    p4g_open(o, head);
}

/* The statements of the apply block that run every query's data-plane part
 * on the packet and set meta.report and the record flags. */
static void query_apply(struct gen *g)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    const struct p4g_arch *a = g->xsa ? &xsa_arch : &arch;
    if (!g->xsa) { /* the shim's 8 bytes are not the frame's */
        p4g_raw(o, "#ifdef HTS_TIME_SHIM\n");
        p4g_line(o, "meta.ts = hdr.ts_shim.ts_ns;");
        p4g_line(o, "meta.wire_len = %s - 8;", a->pkt_len);
        p4g_raw(o, "#else\n");
    }
    p4g_line(o, "meta.ts = %s;", a->ts);
    if (a->pkt_len)
        p4g_line(o, "meta.wire_len = %s;", a->pkt_len);
    if (!g->xsa)
        p4g_raw(o, "#endif\n");
    p4g_line(o, "meta.port = (bit<16>)%s;", a->in_port);
    if (!g->xsa) {
        p4g_line(o, "hts_maxts.read(meta.maxts, 0);");
        p4g_line(o, "if (meta.ts > meta.maxts) { hts_maxts.write(0, meta.ts); }");
    }
    if (g->xsa) { /* no user metadata in xsa's parser: set here */
        p4g_line(o, "meta.vlan_depth = hdr.vlan[1].isValid() ? 8w2 : (hdr.vlan[0].isValid() ? 8w1 : 8w0);");
        p4g_line(o, "meta.eth_type = hdr.vlan[1].isValid() ? hdr.vlan[1].ether_type :");
        p4g_line(o, "    (hdr.vlan[0].isValid() ? hdr.vlan[0].ether_type : hdr.ethernet.ether_type);");
    }
    p4g_line(o, "meta.valid_ethernet = hdr.ethernet.isValid() ? 1w1 : 1w0;");
    p4g_line(o, "meta.valid_vlan_0 = hdr.vlan[0].isValid() ? 1w1 : 1w0;");
    p4g_line(o, "meta.valid_vlan_1 = hdr.vlan[1].isValid() ? 1w1 : 1w0;");
    p4g_line(o, "meta.valid_ipv4 = hdr.ipv4.isValid() ? 1w1 : 1w0;");
    p4g_line(o, "meta.valid_ipv6 = hdr.ipv6.isValid() ? 1w1 : 1w0;");
    p4g_line(o, "meta.valid_tcp = hdr.tcp.isValid() ? 1w1 : 1w0;");
    p4g_line(o, "meta.valid_udp = hdr.udp.isValid() ? 1w1 : 1w0;");
    p4g_line(o, "meta.valid_icmp = hdr.icmp.isValid() ? 1w1 : 1w0;");
    p4g_open(o, "if (hdr.tcp.isValid())");
    p4g_line(o, "meta.tcp_hdr_len = (bit<8>)hdr.tcp.data_offset << 2;");
    p4g_open(o, "if (hdr.ipv4.isValid())");
    p4g_line(o, "meta.tcp_payload_len = hdr.ipv4.total_len - ((bit<16>)hdr.ipv4.ihl << 2)");
    p4g_line(o, "                       - ((bit<16>)hdr.tcp.data_offset << 2);");
    p4g_close(o, " else if (hdr.ipv6.isValid()) {");
    o->indent++;
    p4g_line(o, "meta.tcp_payload_len = hdr.ipv6.payload_len - ((bit<16>)hdr.tcp.data_offset << 2);");
    p4g_close(o, "");
    p4g_close(o, "");
    bool any = false;
    for (int i = 0; i < p->nqueries; i++)
        any |= banked(g, i) && has_state(&p->queries[i]);
    if (any) {
        p4g_blank(o);
        p4g_line(o, "/* a packet whose bank still holds an older window (time jumped over a whole");
        p4g_line(o, " * window: the control plane has not read it yet) waits, resubmitted ahead of");
        p4g_line(o, " * every later packet, until the control plane has cleared the bank */");
        p4g_line(o, "meta.hold = 0;");
        for (int i = 0; i < p->nqueries; i++) {
            const struct plan_query *pq = &p->queries[i];
            if (!banked(g, i) || !has_state(pq))
                continue;
            p4g_indent(o);
            p4g_raw(o, "meta.q%d_win = ", i);
            div_window(o, "meta.ts", pq->q->window_ns);
            p4g_raw(o, ";\n");
            p4g_line(o, "q%d_owner.read(meta.q%d_own, (bit<32>)meta.q%d_win[0:0]);", i, i, i);
            p4g_line(o, "if (meta.q%d_own != 0 && meta.q%d_own < meta.q%d_win + 1) { meta.hold = 1; }",
                     i, i, i);
        }
        p4g_open(o, "if (meta.hold == 1)");
        p4g_line(o, "hts_held.read(meta.held, 0);");
        p4g_line(o, "hts_held.write(0, meta.held + 1);");
        p4g_line(o, "resubmit_preserving_field_list(2);");
        p4g_line(o, "return;");
        p4g_close(o, "");
    }
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        p4g_blank(o);
        p4g_line(o, "/* ---- query %d: %s ---- */", i, pq->q->name);
        if (banked(g, i))
            window_prelude(g, i, pq);
        else if (needs_ws(g, i))
            p4g_line(o, "q%d_window.apply();", i);
        if (pq->nodes[0].exit != PLAN_EXIT_NONE)
            set_flag(g, i, 0, pq->nodes[0].exit == PLAN_EXIT_PACKET ? REP_PACKET : REP_TUPLE);
        for (int k = 1; k < pq->q->nnodes; k++)
            gen_node(g, i, pq, k);
        if (banked(g, i))
            p4g_close(o, "");
    }
}

static void ingress(struct gen *g)
{
    struct p4g_out *o = g->o;
    p4g_line(o, "control IngressImpl(inout headers_t hdr, inout metadata_t meta,");
    p4g_line(o, "                    inout standard_metadata_t standard_metadata) {");
    o->indent++;
    p4g_raw(o, "#ifdef HTS_TIME_SHIM\n");
    p4g_line(o, "register<bit<64>>(1) hts_packets; /* test builds: frames seen, for the harness */");
    p4g_raw(o, "#endif\n");
    p4g_line(o, "register<bit<64>>(1) hts_maxts; /* the latest packet time seen: the control "
             "plane closes windows by it */");
    p4g_line(o, "register<bit<64>>(1) hts_held; /* passes of packets that waited for a bank */");
    p4g_line(o, "register<bit<64>>(1) hts_cpu_frames; /* report frames of the control plane "
             "taken in: it knows when one has passed */");
    p4g_blank(o);
    p4g_line(o, "/* report frames of the control plane (window ends, watermarks) come in on "
             "CPU_PORT and leave on the report port, behind every clone sent before them */");
    p4g_line(o, "action hts_to_report(bit<9> port) { standard_metadata.egress_spec = port; }");
    p4g_open(o, "table hts_cpu");
    p4g_line(o, "actions = { hts_to_report; }");
    p4g_line(o, "size = 1;");
    p4g_line(o, "default_action = hts_to_report(64);");
    p4g_close(o, "");
    p4g_blank(o);
    query_decls(g);
    p4g_blank(o);
    p4g_open(o, "apply");
    p4g_open(o, "if (standard_metadata.ingress_port == CPU_PORT)");
    p4g_open(o, "if (hdr.report.isValid())");
    p4g_line(o, "bit<64> hts_c;");
    p4g_line(o, "hts_cpu_frames.read(hts_c, 0);");
    p4g_line(o, "hts_cpu_frames.write(0, hts_c + 1);");
    p4g_line(o, "hts_cpu.apply();");
    p4g_close(o, " else {");
    o->indent++;
    p4g_line(o, "mark_to_drop(standard_metadata);");
    p4g_close(o, "");
    p4g_line(o, "return;");
    p4g_close(o, "");
    p4g_raw(o, "#ifdef HTS_TIME_SHIM\n");
    p4g_open(o, "if (standard_metadata.instance_type == 0)");
    p4g_line(o, "bit<64> hts_n;");
    p4g_line(o, "hts_packets.read(hts_n, 0);");
    p4g_line(o, "hts_packets.write(0, hts_n + 1);");
    p4g_close(o, "");
    p4g_raw(o, "#endif\n");
    query_apply(g);
    p4g_blank(o);
    p4g_open(o, "if (meta.report == 1)");
    p4g_line(o, "clone_preserving_field_list(CloneType.I2E, REPORT_SESSION, 1);");
    p4g_close(o, "");
    p4g_line(o, "mark_to_drop(standard_metadata); /* a tap: only reports leave */");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
}

/* ---- egress: the report ---- */

/* The statements that turn the packet into a report frame: report headers
 * and every flagged record; count and len are locals of the caller. */
static void report_build(struct gen *g)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    p4g_line(o, "bit<16> count = 0;");
    p4g_line(o, "bit<32> len = %d;", REP_ETH_LEN + REP_HDR_LEN);
    p4g_report_frame_hdrs(o);
    if (g->xsa) {
        p4g_line(o, "hdr.report.seq = 0; /* no registers here: the host cannot count losses */");
    } else {
        p4g_line(o, "report_seq.read(hdr.report.seq, 0);");
        p4g_line(o, "report_seq.write(0, hdr.report.seq + 1);");
    }
    int npkt = 0;
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        if (!p4g_per_packet(p, L))
            continue;
        char name[64], ts[32];
        p4g_rec_name(name, sizeof name, L);
        if (L->kind == REP_PACKET) {
            npkt++;
            continue;
        }
        snprintf(ts, sizeof ts, L->kind == REP_ROW ? "meta.q%d_ws" : "meta.ts", L->query);
        p4g_blank(o);
        p4g_line(o, "if (meta.r_%s == 1) {", name);
        o->indent++;
        p4g_rec_common(o, name, L, ts);
        p4g_rec_values(o, p, &arch, L, "hdr.", name, '.', NULL, NULL, NULL);
        p4g_line(o, "count = count + 1;");
        p4g_line(o, "len = len + %u;", L->rec_len);
        o->indent--;
        p4g_line(o, "}");
    }
    if (npkt) { /* one packet record for every query that wants the packet whole */
        struct p4g_pkt_rec r = {.flag = "meta.r_", .ts = "meta.ts", .port = "meta.port",
                                .wire_len = g->xsa ? "0" : "meta.wire_len", .zero_len = g->xsa};
        p4g_packet_records(o, p, npkt, &r);
    }
    p4g_line(o, "hdr.report.count = count;");
    p4g_open(o, npkt ? "if (meta.npkt == 0)" : "if (true)");
    p4g_line(o, "/* records only: drop the original headers and payload */");
    p4g_line(o, "hdr.ethernet.setInvalid();");
    p4g_line(o, "hdr.vlan[0].setInvalid();");
    p4g_line(o, "hdr.vlan[1].setInvalid();");
    p4g_line(o, "hdr.ipv4.setInvalid();");
    p4g_line(o, "hdr.ipv4_options.setInvalid();");
    p4g_line(o, "hdr.ipv6.setInvalid();");
    p4g_line(o, "hdr.tcp.setInvalid();");
    p4g_line(o, "hdr.udp.setInvalid();");
    p4g_line(o, "hdr.icmp.setInvalid();");
    if (g->xsa) {
        p4g_line(o, "sn_meta.truncate_enable = 1;");
        p4g_line(o, "sn_meta.truncate_length = (bit<16>)len;");
    } else {
        p4g_line(o, "truncate(len);");
    }
    p4g_close(o, "");
}

static void egress(struct gen *g)
{
    struct p4g_out *o = g->o;
    p4g_line(o, "control EgressImpl(inout headers_t hdr, inout metadata_t meta,");
    p4g_line(o, "                   inout standard_metadata_t standard_metadata) {");
    o->indent++;
    p4g_line(o, "register<bit<32>>(1) report_seq;");
    p4g_blank(o);
    p4g_open(o, "apply");
    p4g_line(o, "/* only the clone of a reporting packet gets here (the original is dropped) */");
    p4g_open(o, "if (standard_metadata.instance_type == BMV2_V1MODEL_INSTANCE_TYPE_INGRESS_CLONE)");
    report_build(g);
    p4g_close(o, " else if (hdr.report.isValid()) {");
    o->indent++;
    p4g_line(o, "/* the control plane's frame: numbered in the same sequence */");
    p4g_line(o, "report_seq.read(hdr.report.seq, 0);");
    p4g_line(o, "report_seq.write(0, hdr.report.seq + 1);");
    p4g_close(o, "");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
}

/* ---- the program ---- */

static void headers_struct(struct gen *g, int npkt)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    p4g_open(o, "struct headers_t");
    /* report headers first, in emit order; the packet record last */
    p4g_report_members(o, p, npkt);
    p4g_line(o, "ethernet_t ethernet;");
    p4g_line(o, "vlan_t[2] vlan;");
    p4g_line(o, "ipv4_t ipv4;");
    p4g_line(o, "ipv4_options_t ipv4_options;");
    p4g_line(o, "ipv6_t ipv6;");
    p4g_line(o, "tcp_t tcp;");
    p4g_line(o, "udp_t udp;");
    p4g_line(o, "icmp_t icmp;");
    if (!g->xsa) {
        p4g_raw(o, "#ifdef HTS_TIME_SHIM\n");
        p4g_line(o, "ts_shim_t ts_shim; /* parsed, never emitted */");
        p4g_raw(o, "#endif\n");
    }
    p4g_close(o, "");
}

static void deparser_body(struct gen *g, int npkt)
{
    struct p4g_out *o = g->o;
    const struct plan *p = g->p;
    p4g_open(o, "apply");
    p4g_report_emits(o, p, npkt, "packet");
    p4g_line(o, "packet.emit(hdr.ethernet);");
    p4g_line(o, "packet.emit(hdr.vlan);");
    p4g_line(o, "packet.emit(hdr.ipv4);");
    p4g_line(o, "packet.emit(hdr.ipv4_options);");
    p4g_line(o, "packet.emit(hdr.ipv6);");
    p4g_line(o, "packet.emit(hdr.tcp);");
    p4g_line(o, "packet.emit(hdr.udp);");
    p4g_line(o, "packet.emit(hdr.icmp);");
    p4g_close(o, "");
}

static int program(struct gen *g, char *err, size_t errlen)
{
    const struct plan *p = g->p;
    struct p4g_out *o = g->o;
    int rc = p4g_check_fields(p, g->xsa ? &xsa_arch : &arch, err, errlen);
    if (rc < 0)
        return rc;
    int npkt = p4g_packet_layouts(p);
    if (npkt > REP_MAX_TARGETS) {
        snprintf(err, errlen, "%d queries want whole packets; a packet record holds %d", npkt,
                 REP_MAX_TARGETS);
        return -EINVAL;
    }
    p4g_banner(o, p, g->t);
    p4g_line(o, "#include <core.p4>");
    p4g_line(o, g->xsa ? "#include <xsa.p4>" : "#include <v1model.p4>");
    p4g_blank(o);
    p4g_line(o, "/* ---- constants ---- */");
    p4g_constants(o, p);
    if (g->xsa)
        p4g_line(o, "const bit<2> HOST_PORT = 2; /* smartnic egress_port: the host */");
    else
    {
        p4g_line(o, "const bit<32> REPORT_SESSION = %d; /* mirror session to the host */",
                 REPORT_SESSION);
        /* v1model.p4 leaves instance_type's values to the target; these are
         * BMv2 simple_switch's (its docs/simple_switch.md), declared here as
         * p4c's own BMv2 examples do */
        p4g_line(o, "const bit<32> BMV2_V1MODEL_INSTANCE_TYPE_INGRESS_CLONE = 1;");
        p4g_line(o, "/* the port the control plane sends its report frames in on (P4Runtime's");
        p4g_line(o, " * convention for simple_switch_grpc --cpu-port) */");
        p4g_line(o, "const bit<9> CPU_PORT = %d;", HTS_CPU_PORT);
    }
    p4g_blank(o);
    p4g_line(o, "/* ---- typedefs ---- */");
    p4g_line(o, "typedef bit<48> mac_addr_t;");
    p4g_line(o, "typedef bit<32> ipv4_addr_t;");
    p4g_line(o, "typedef bit<128> ipv6_addr_t;");
    p4g_blank(o);
    p4g_line(o, "/* ---- headers ---- */");
    p4g_std_headers(o);
    if (!g->xsa) {
        p4g_raw(o, "#ifdef HTS_TIME_SHIM\n");
        p4g_line(o, "/* test builds (-DHTS_TIME_SHIM): the capture time of the frame, in ns,");
        p4g_line(o, " * put in front of it by the test harness as a tap's hardware timestamp");
        p4g_line(o, " * would be; simple_switch replaying a file has no clock of its own to give */");
        p4g_line(o, "header ts_shim_t { bit<64> ts_ns; }");
        p4g_raw(o, "#endif\n");
    }
    p4g_blank(o);
    p4g_line(o, "/* report frames: docs/wire-format.md */");
    p4g_report_headers(o, p);
    if (npkt)
        p4g_rec_packet_headers(o);
    p4g_blank(o);
    p4g_line(o, "/* ---- structs ---- */");
    headers_struct(g, npkt);
    p4g_blank(o);
    metadata(g);
    if (g->xsa) {
        p4g_blank(o);
        p4g_line(o, "/* the platform's metadata (esnet-smartnic-hw) */");
        p4g_open(o, "struct smartnic_metadata");
        p4g_line(o, "bit<64> timestamp_ns;    /* set at packet arrival */");
        p4g_line(o, "bit<16> pid;             /* read only */");
        p4g_line(o, "bit<4> ingress_port;");
        p4g_line(o, "bit<2> egress_port;      /* 0 PORT0, 1 PORT1, 2 HOST, 3 LOOPBACK */");
        p4g_line(o, "bit<1> truncate_enable;");
        p4g_line(o, "bit<16> truncate_length;");
        p4g_line(o, "bit<1> rss_enable;");
        p4g_line(o, "bit<12> rss_entropy;");
        p4g_line(o, "bit<4> drop_reason;");
        p4g_line(o, "bit<32> scratch;");
        p4g_close(o, "");
    }
    p4g_blank(o);
    p4g_line(o, "/* ---- parser ---- */");
    if (g->xsa) {
        p4g_line(o, "parser ParserImpl(packet_in packet, out headers_t hdr,");
        p4g_line(o, "                  inout smartnic_metadata sn_meta, inout standard_metadata_t smeta) {");
    } else {
        p4g_line(o, "parser ParserImpl(packet_in packet, out headers_t hdr, inout metadata_t meta,");
        p4g_line(o, "                  inout standard_metadata_t standard_metadata) {");
    }
    o->indent++;
    if (g->xsa) {
        p4g_open(o, "state start");
        p4g_line(o, "transition parse_ethernet;");
        p4g_close(o, "");
    } else {
        p4g_open(o, "state start");
        p4g_open(o, "transition select(standard_metadata.ingress_port)");
        p4g_line(o, "CPU_PORT: parse_cp_report;");
        p4g_line(o, "default: parse_tap;");
        p4g_close(o, "");
        p4g_close(o, "");
        p4g_blank(o);
        p4g_line(o, "/* a report frame of the control plane: its records stay payload */");
        p4g_open(o, "state parse_cp_report");
        p4g_line(o, "packet.extract(hdr.report_eth);");
        p4g_line(o, "transition select(hdr.report_eth.ether_type)");
        p4g_line(o, "{");
        p4g_line(o, "    ETHERTYPE_REPORT: parse_cp_report_hdr;");
        p4g_line(o, "    default: accept;");
        p4g_line(o, "}");
        p4g_close(o, "");
        p4g_blank(o);
        p4g_open(o, "state parse_cp_report_hdr");
        p4g_line(o, "packet.extract(hdr.report);");
        p4g_line(o, "transition accept;");
        p4g_close(o, "");
        p4g_blank(o);
        p4g_open(o, "state parse_tap");
        p4g_raw(o, "#ifdef HTS_TIME_SHIM\n");
        p4g_line(o, "packet.extract(hdr.ts_shim);");
        p4g_raw(o, "#endif\n");
        p4g_line(o, "transition parse_ethernet;");
        p4g_close(o, "");
    }
    p4g_blank(o);
    p4g_parser_states(o, "packet", !g->xsa, false);
    o->indent--;
    p4g_line(o, "}");
    p4g_blank(o);
    if (g->xsa) {
        p4g_line(o, "/* ---- match-action: the data-plane part of every query; reports ---- */");
        p4g_line(o, "control MatchActionImpl(inout headers_t hdr, inout smartnic_metadata sn_meta,");
        p4g_line(o, "                        inout standard_metadata_t smeta) {");
        o->indent++;
        p4g_line(o, "metadata_t meta;");
        query_decls(g);
        p4g_blank(o);
        p4g_open(o, "apply");
        query_apply(g);
        p4g_blank(o);
        p4g_open(o, "if (meta.report == 1)");
        p4g_line(o, "/* the packet becomes its report, to the host */");
        report_build(g);
        p4g_line(o, "sn_meta.egress_port = HOST_PORT;");
        p4g_close(o, " else {");
        o->indent++;
        p4g_line(o, "smeta.drop = 1; /* a tap: only reports leave */");
        p4g_close(o, "");
        p4g_close(o, "");
        o->indent--;
        p4g_line(o, "}");
        p4g_blank(o);
        p4g_line(o, "/* ---- deparser ---- */");
        p4g_line(o, "control DeparserImpl(packet_out packet, in headers_t hdr,");
        p4g_line(o, "                     inout smartnic_metadata sn_meta, inout standard_metadata_t smeta) {");
        o->indent++;
        deparser_body(g, npkt);
        o->indent--;
        p4g_line(o, "}");
        p4g_blank(o);
        p4g_line(o, "/* ---- main ---- */");
        p4g_line(o, "XilinxPipeline(ParserImpl(), MatchActionImpl(), DeparserImpl()) main;");
        return 0;
    }
    p4g_line(o, "/* ---- checksum verification ---- */");
    p4g_line(o, "control VerifyChecksumImpl(inout headers_t hdr, inout metadata_t meta) {");
    p4g_line(o, "    apply { }");
    p4g_line(o, "}");
    p4g_blank(o);
    p4g_line(o, "/* ---- ingress: the data-plane part of every query ---- */");
    ingress(g);
    p4g_blank(o);
    p4g_line(o, "/* ---- egress: report frames ---- */");
    egress(g);
    p4g_blank(o);
    p4g_line(o, "/* ---- checksum computation ---- */");
    p4g_line(o, "control ComputeChecksumImpl(inout headers_t hdr, inout metadata_t meta) {");
    o->indent++;
    p4g_open(o, "apply");
    p4g_line(o, "update_checksum(hdr.ipv4.isValid(),");
    p4g_line(o, "    { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.tos, hdr.ipv4.total_len,");
    p4g_line(o, "      hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.frag_offset,");
    p4g_line(o, "      hdr.ipv4.ttl, hdr.ipv4.protocol, hdr.ipv4.src_addr, hdr.ipv4.dst_addr },");
    p4g_line(o, "    hdr.ipv4.hdr_checksum, HashAlgorithm.csum16);");
    p4g_close(o, "");
    o->indent--;
    p4g_line(o, "}");
    p4g_blank(o);
    p4g_line(o, "/* ---- deparser ---- */");
    p4g_line(o, "control DeparserImpl(packet_out packet, in headers_t hdr) {");
    o->indent++;
    deparser_body(g, npkt);
    o->indent--;
    p4g_line(o, "}");
    p4g_blank(o);
    p4g_line(o, "/* ---- main ---- */");
    p4g_line(o, "V1Switch(ParserImpl(), VerifyChecksumImpl(), IngressImpl(), EgressImpl(),");
    p4g_line(o, "         ComputeChecksumImpl(), DeparserImpl()) main;");
    return 0;
}

static int v1_program(const struct plan *p, const struct p4g_target *t, struct p4g_out *o,
                      char *err, size_t errlen)
{
    struct gen g = {.p = p, .t = t, .o = o};
    return program(&g, err, errlen);
}

static int xsa_program(const struct plan *p, const struct p4g_target *t, struct p4g_out *o,
                       char *err, size_t errlen)
{
    struct gen g = {.p = p, .t = t, .o = o, .xsa = true};
    for (int i = 0; i < p->nqueries; i++) /* the planner never does this: refuse anyway */
        for (int k = 1; k < p->queries[i].q->nnodes; k++) {
            const struct ir_node *n = p->queries[i].q->nodes[k];
            if (p->queries[i].nodes[k].dp &&
                (ir_kind_stateful(n->kind) || n->kind == IR_SAMPLE)) {
                snprintf(err, errlen, "smartnic cannot place query '%s' node %d (%s): Vitis "
                         "Networking P4 has no registers or hash extern (a stateful operator "
                         "needs a hand-written RTL UserExtern)", p->queries[i].q->name, k,
                         ir_kind_text[n->kind]);
                return -EINVAL;
            }
        }
    return program(&g, err, errlen);
}

/* ---- control-plane entries (simple_switch_CLI) ---- */

static void ternary(struct p4g_out *o, const struct p4g_atom *a)
{
    char val[40], mask[40];
    p4g_atom_ternary(a, val, mask);
    p4g_raw(o, " %s&&&%s", val, mask);
}

/* table_set_default of threshold_table()'s table for filter n */
static void threshold_entry(struct p4g_out *o, int qi, const struct ir_node *n, const char *what)
{
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(n->expr, t, P4G_MAX_THRESH);
    p4g_indent(o);
    p4g_raw(o, "table_set_default q%d_n%d_%s q%d_n%d_set_%s", qi, n->id, what, qi, n->id, what);
    for (int i = 0; i < nt; i++)
        p4g_raw(o, " %lld", (long long)t[i].c);
    p4g_raw(o, "\n");
}

static bool v1_banked(const struct plan *p, const struct p4g_target *t, int qi)
{
    struct gen g = {.p = p, .t = t, .xsa = strcmp(t->arch, "v1model") != 0};
    return banked(&g, qi);
}

static int v1_entries(const struct plan *p, const struct p4g_target *t, struct p4g_out *o,
                      char *err, size_t errlen)
{
    if (!strcmp(t->arch, "v1model")) {
        p4g_line(o, "mirroring_add %d 64", REPORT_SESSION);
        p4g_line(o, "table_set_default hts_cpu hts_to_report 64");
    }
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        for (int l = 0; l < p->nlayouts; l++)
            if (p->layouts[l].query == i && p->layouts[l].kind == REP_ROW &&
                p4g_per_packet(p, &p->layouts[l]) && !v1_banked(p, t, i)) {
                p4g_line(o, "table_set_default q%d_window q%d_set_window 0", i, i);
                break;
            }
        for (int k = 1; k < pq->q->nnodes; k++) {
            const struct ir_node *n = pq->q->nodes[k];
            struct p4g_dnf d;
            if (n->kind == IR_FILTER && !pq->nodes[k].dp && p4g_gate_of(pq, k) >= 0) {
                threshold_entry(o, i, n, "gate");
                continue;
            }
            if (!pq->nodes[k].dp || n->kind != IR_FILTER)
                continue;
            if (pq->nodes[k].zone == PLAN_THRESH) {
                threshold_entry(o, i, n, "threshold");
                continue;
            }
            if (!p4g_filter_dnf(&arch, n, &d))
                continue;
            const char *v[P4G_MAX_KEYS];
            int nv = p4g_valid_keys(&d, v);
            for (int ti = 0; ti < d.nt; ti++) {
                const struct p4g_term *tm = &d.t[ti];
                p4g_indent(o);
                p4g_raw(o, "table_add q%d_n%d_filter q%d_n%d_pass", i, k, i, k);
                for (int j = 0; j < nv; j++)
                    p4g_raw(o, " %s", p4g_term_needs(tm, v[j]) ? "1&&&1" : "0&&&0");
                for (int key = 0; key < d.nkeys; key++) {
                    const struct p4g_atom *a = p4g_term_atom(tm, d.keys[key]);
                    if (a)
                        ternary(o, a);
                    else
                        p4g_raw(o, " 0&&&0");
                }
                p4g_raw(o, " => %d\n", ti + 1);
            }
        }
    }
    (void)t;
    (void)err;
    (void)errlen;
    return 0;
}

const struct p4g_backend p4g_v1model = {"v1model", v1_program, v1_entries};
/* the same entries: ESnet's tooling takes the same tables, matches and
 * priorities (docs/targets.md); there is no mirror session */
const struct p4g_backend p4g_xsa = {"xsa", xsa_program, v1_entries};
