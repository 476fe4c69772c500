/*
 * p4common.c - the parts of P4 generation every architecture shares (see
 * p4common.h): fields, expressions, headers, parser states, report headers.
 *
 * Expressions follow docs/semantics.md exactly: integers are 64-bit two's
 * complement (so every integer operand is widened to bit<64>, and ordering
 * comparisons are made on int<64>), and a comparison with an absent operand
 * is unknown. A filter keeps a packet only when its condition is true, so
 * p4g_true() writes "definitely true" and its dual "definitely false"
 * (needed under `not`), each guarded by the validity of the headers the
 * operands come from.
 */
#include "p4common.h"

#include "fields.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* ---- fields ---- */

static const struct p4g_field fields[FLD__COUNT] = {
    [FLD_META_TS] = {"meta.ts", "true", 64},
    [FLD_META_WIRE_LEN] = {"meta.wire_len", "true", 32},
    [FLD_META_CAP_LEN] = {"meta.wire_len", "true", 32},
    [FLD_META_PORT] = {"meta.port", "true", 16},
    [FLD_ETH_SRC] = {"hdr.ethernet.src_addr", "hdr.ethernet.isValid()", 48},
    [FLD_ETH_DST] = {"hdr.ethernet.dst_addr", "hdr.ethernet.isValid()", 48},
    [FLD_ETH_TYPE] = {"meta.eth_type", "hdr.ethernet.isValid()", 16},
    [FLD_VLAN_ID] = {"hdr.vlan[0].vid", "hdr.vlan[0].isValid()", 12},
    [FLD_VLAN_PCP] = {"hdr.vlan[0].pcp", "hdr.vlan[0].isValid()", 3},
    [FLD_VLAN_INNER_ID] = {"hdr.vlan[1].vid", "hdr.vlan[1].isValid()", 12},
    [FLD_VLAN_DEPTH] = {"meta.vlan_depth", "hdr.ethernet.isValid()", 8},
    [FLD_IPV4_IHL] = {"hdr.ipv4.ihl", "hdr.ipv4.isValid()", 4},
    [FLD_IPV4_TOS] = {"hdr.ipv4.tos", "hdr.ipv4.isValid()", 8},
    [FLD_IPV4_LEN] = {"hdr.ipv4.total_len", "hdr.ipv4.isValid()", 16},
    [FLD_IPV4_ID] = {"hdr.ipv4.identification", "hdr.ipv4.isValid()", 16},
    [FLD_IPV4_FLAGS] = {"hdr.ipv4.flags", "hdr.ipv4.isValid()", 3},
    [FLD_IPV4_FRAG_OFF] = {"hdr.ipv4.frag_offset", "hdr.ipv4.isValid()", 13},
    [FLD_IPV4_TTL] = {"hdr.ipv4.ttl", "hdr.ipv4.isValid()", 8},
    [FLD_IPV4_PROTO] = {"hdr.ipv4.protocol", "hdr.ipv4.isValid()", 8},
    [FLD_IPV4_SRC] = {"hdr.ipv4.src_addr", "hdr.ipv4.isValid()", 32},
    [FLD_IPV4_DST] = {"hdr.ipv4.dst_addr", "hdr.ipv4.isValid()", 32},
    [FLD_IPV6_TC] = {"hdr.ipv6.traffic_class", "hdr.ipv6.isValid()", 8},
    [FLD_IPV6_FLOW] = {"hdr.ipv6.flow_label", "hdr.ipv6.isValid()", 20},
    [FLD_IPV6_PLEN] = {"hdr.ipv6.payload_len", "hdr.ipv6.isValid()", 16},
    [FLD_IPV6_NEXT] = {"hdr.ipv6.next_hdr", "hdr.ipv6.isValid()", 8},
    [FLD_IPV6_HLIM] = {"hdr.ipv6.hop_limit", "hdr.ipv6.isValid()", 8},
    [FLD_IPV6_SRC] = {"hdr.ipv6.src_addr", "hdr.ipv6.isValid()", 128},
    [FLD_IPV6_DST] = {"hdr.ipv6.dst_addr", "hdr.ipv6.isValid()", 128},
    [FLD_TCP_SPORT] = {"hdr.tcp.src_port", "hdr.tcp.isValid()", 16},
    [FLD_TCP_DPORT] = {"hdr.tcp.dst_port", "hdr.tcp.isValid()", 16},
    [FLD_TCP_SEQ] = {"hdr.tcp.seq_no", "hdr.tcp.isValid()", 32},
    [FLD_TCP_ACK] = {"hdr.tcp.ack_no", "hdr.tcp.isValid()", 32},
    [FLD_TCP_HDR_LEN] = {"meta.tcp_hdr_len", "hdr.tcp.isValid()", 8},
    [FLD_TCP_FLAGS] = {"hdr.tcp.flags", "hdr.tcp.isValid()", 8},
    [FLD_TCP_WINDOW] = {"hdr.tcp.window", "hdr.tcp.isValid()", 16},
    [FLD_TCP_PAYLOAD_LEN] = {"meta.tcp_payload_len", "hdr.tcp.isValid()", 16},
    [FLD_UDP_SPORT] = {"hdr.udp.src_port", "hdr.udp.isValid()", 16},
    [FLD_UDP_DPORT] = {"hdr.udp.dst_port", "hdr.udp.isValid()", 16},
    [FLD_UDP_LEN] = {"hdr.udp.length", "hdr.udp.isValid()", 16},
    [FLD_ICMP_TYPE] = {"hdr.icmp.type", "hdr.icmp.isValid()", 8},
    [FLD_ICMP_CODE] = {"hdr.icmp.code", "hdr.icmp.isValid()", 8},
};

const struct p4g_field *p4g_field_of(const struct p4g_arch *a, int field)
{
    static const struct p4g_field none = {NULL, NULL, 0};
    if (a && !a->pkt_len && (field == FLD_META_WIRE_LEN || field == FLD_META_CAP_LEN))
        return &none; /* an architecture without the frame's length */
    return &fields[field];
}

static int expr_fields_ok(const struct ast_expr *e, const struct p4g_arch *a)
{
    if (!e)
        return -1;
    if (e->kind == E_NAME && e->ref_kind == REF_FIELD && !p4g_field_of(a, e->ref)->expr)
        return e->ref;
    int r = expr_fields_ok(e->a, a);
    if (r < 0)
        r = expr_fields_ok(e->b, a);
    for (int i = 0; r < 0 && i < e->nargs; i++)
        r = expr_fields_ok(e->args[i], a);
    return r;
}

int p4g_check_fields(const struct plan *p, const struct p4g_arch *a, char *err,
                     size_t errlen)
{
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        for (int k = 1; k < pq->q->nnodes; k++) {
            const struct ir_node *n = pq->q->nodes[k];
            if (!pq->nodes[k].dp)
                continue;
            int f = expr_fields_ok(n->expr, a);
            for (int j = 0; f < 0 && j < n->nexprs; j++)
                f = expr_fields_ok(n->exprs[j], a);
            for (int j = 0; f < 0 && j < n->naggs; j++)
                f = expr_fields_ok(n->aggs[j], a);
            if (f >= 0) {
                snprintf(err, errlen, "query '%s' node %d reads %s, which the generated "
                         "parser does not extract (Ethernet, VLAN, IPv4, IPv6, TCP, UDP "
                         "and ICMP only)", pq->q->name, k, hts_fields[f].name);
                return -EINVAL;
            }
        }
    }
    for (int i = 0; i < p->nlayouts; i++) {
        const struct rep_layout *l = &p->layouts[i];
        for (int c = 0; l->packet && c < l->ncols; c++)
            if (!p4g_field_of(a, l->cols[c].field)->expr) {
                snprintf(err, errlen, "query '%s' reports %s, which the generated parser "
                         "does not extract", p->queries[l->query].q->name,
                         hts_fields[l->cols[c].field].name);
                return -EINVAL;
            }
    }
    return 0;
}

/* ---- types ---- */

const char *p4g_type(enum hts_type t, int bits)
{
    switch (t) {
    case TY_BOOL: return "bit<1>";
    case TY_IPV4: return "bit<32>";
    case TY_IPV6: return "bit<128>";
    case TY_MAC: return "bit<48>";
    default: return bits <= 64 ? "bit<64>" : "bit<128>";
    }
}

int p4g_col_bytes(const struct ir_col *c)
{
    switch (c->type) {
    case TY_BOOL: return 1;
    case TY_IPV4: return 4;
    case TY_IPV6: return 16;
    case TY_MAC: return 6;
    default:
        return c->field >= 0 && hts_fields[c->field].type == TY_INT
                   ? (hts_fields[c->field].width + 7) / 8 : 8;
    }
}

/* ---- expressions ---- */

static void lit(struct p4g_out *o, const hts_value *v)
{
    switch (v->type) {
    case TY_BOOL:
        p4g_raw(o, "%s", v->u.i ? "true" : "false");
        break;
    case TY_IPV4:
    case TY_PREFIX4:
        p4g_raw(o, "32w0x%08" PRIx32, v->u.ip4);
        break;
    case TY_IPV6:
    case TY_PREFIX6:
        p4g_raw(o, "128w0x");
        for (int i = 0; i < 16; i++)
            p4g_raw(o, "%02x", v->u.ip6[i]);
        break;
    case TY_MAC:
        p4g_raw(o, "48w0x");
        for (int i = 0; i < 6; i++)
            p4g_raw(o, "%02x", v->u.mac[i]);
        break;
    default:
        p4g_raw(o, "64w0x%" PRIx64, (uint64_t)v->u.i);
        break;
    }
}

static bool is_addr(enum hts_type t)
{
    return t == TY_IPV4 || t == TY_IPV6 || t == TY_MAC;
}

static void col_ref(struct p4g_out *o, const struct p4g_ctx *c, int col)
{
    p4g_raw(o, "%s_c%d", c->colpfx, col);
}

void p4g_value(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e)
{
    switch (e->kind) {
    case E_LIT:
        lit(o, &e->lit);
        return;
    case E_NAME:
        if (e->ref_kind == REF_FIELD) {
            const struct p4g_field *f = p4g_field_of(c->a, e->ref);
            if (is_addr(e->type))
                p4g_raw(o, "%s", f->expr);
            else
                p4g_raw(o, "((bit<64>)%s)", f->expr);
        } else {
            col_ref(o, c, e->ref);
        }
        return;
    case E_UNARY:
        p4g_raw(o, "(64w0 - ");
        p4g_value(o, c, e->a);
        p4g_raw(o, ")");
        return;
    case E_BINARY: {
        if (e->op == OP_DIV) { /* an address masked to a prefix */
            int plen = (int)e->b->lit.u.i, bits = e->a->type == TY_IPV4 ? 32 : 128;
            p4g_raw(o, "(");
            p4g_value(o, c, e->a);
            if (bits == 32) {
                uint32_t m = plen <= 0 ? 0 : plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
                p4g_raw(o, " & 32w0x%08" PRIx32 ")", m);
            } else {
                p4g_raw(o, " & (~(128w0) << %d))", 128 - (plen < 0 ? 0 : plen > 128 ? 128 : plen));
            }
            return;
        }
        const char *op = e->op == OP_ADD ? "+" : e->op == OP_SUB ? "-"
                         : e->op == OP_BAND ? "&" : "|";
        p4g_raw(o, "(");
        p4g_value(o, c, e->a);
        p4g_raw(o, " %s ", op);
        p4g_value(o, c, e->b);
        p4g_raw(o, ")");
        return;
    }
    default:
        p4g_raw(o, "/* ? */ 64w0");
        return;
    }
}

/* the validity conditions of e's leaves, joined by && (at least "true") */
static int valid_rec(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e,
                     int n)
{
    if (!e)
        return n;
    if (e->kind == E_NAME) {
        if (e->ref_kind == REF_FIELD) {
            const char *v = p4g_field_of(c->a, e->ref)->valid;
            if (strcmp(v, "true") != 0) {
                p4g_raw(o, "%s%s", n ? " && " : "", v);
                n++;
            }
        } else {
            p4g_raw(o, "%s%s_c%d_v == 1", n ? " && " : "", c->colpfx, e->ref);
            n++;
        }
        return n;
    }
    n = valid_rec(o, c, e->a, n);
    if (e->kind != E_SET && e->kind != E_RANGE)
        n = valid_rec(o, c, e->b, n);
    return n;
}

void p4g_valid(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e)
{
    p4g_raw(o, "(");
    if (valid_rec(o, c, e, 0) == 0)
        p4g_raw(o, "true");
    p4g_raw(o, ")");
}

static void truth(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e,
                  bool want);

/* a comparison or test whose operands are values: guarded by validity */
static void atom(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e,
                 bool want)
{
    p4g_raw(o, "(");
    p4g_valid(o, c, e);
    p4g_raw(o, " && %s(", want ? "" : "!");
    const struct ast_expr *a = e->a, *b = e->b;
    bool addr = is_addr(a->type);
    switch (e->op) {
    case OP_EQ:
    case OP_NE:
        p4g_value(o, c, a);
        p4g_raw(o, e->op == OP_EQ ? " == " : " != ");
        p4g_value(o, c, b);
        break;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: {
        const char *op = e->op == OP_LT ? "<" : e->op == OP_LE ? "<=" : e->op == OP_GT ? ">" : ">=";
        if (addr) {
            p4g_value(o, c, a);
            p4g_raw(o, " %s ", op);
            p4g_value(o, c, b);
        } else {
            p4g_raw(o, "(int<64>)");
            p4g_value(o, c, a);
            p4g_raw(o, " %s (int<64>)", op);
            p4g_value(o, c, b);
        }
        break;
    }
    case OP_HAS:
        p4g_raw(o, "(");
        p4g_value(o, c, a);
        p4g_raw(o, " & ");
        p4g_value(o, c, b);
        p4g_raw(o, ") == ");
        p4g_value(o, c, b);
        break;
    case OP_IN: {
        const struct ast_expr *const *elems = &b;
        int n = 1;
        if (b->kind == E_SET) {
            elems = (const struct ast_expr *const *)b->args;
            n = b->nargs;
        }
        if (b->kind == E_RANGE) {
            p4g_raw(o, "(int<64>)");
            p4g_value(o, c, b->a);
            p4g_raw(o, " <= (int<64>)");
            p4g_value(o, c, a);
            p4g_raw(o, " && (int<64>)");
            p4g_value(o, c, a);
            p4g_raw(o, " <= (int<64>)");
            p4g_value(o, c, b->b);
            break;
        }
        if (n == 0)
            p4g_raw(o, "false");
        for (int i = 0; i < n; i++) {
            const hts_value *v = &elems[i]->lit;
            p4g_raw(o, "%s", i ? " || " : "");
            if (v->type == TY_PREFIX4 || v->type == TY_PREFIX6) {
                struct ast_expr mask = {.kind = E_BINARY, .op = OP_DIV, .a = (struct ast_expr *)a,
                                        .type = a->type};
                struct ast_expr pl = {.kind = E_LIT, .lit = hts_int(v->plen)};
                mask.b = &pl;
                hts_value net = *v;
                net.type = v->type == TY_PREFIX4 ? TY_IPV4 : TY_IPV6;
                p4g_value(o, c, &mask);
                p4g_raw(o, " == ");
                lit(o, &net);
            } else {
                p4g_value(o, c, a);
                p4g_raw(o, " == ");
                lit(o, v);
            }
        }
        break;
    }
    default:
        p4g_raw(o, "false");
        break;
    }
    p4g_raw(o, "))");
}

static void truth(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e,
                  bool want)
{
    switch (e->kind) {
    case E_LIT:
        p4g_raw(o, "%s", (e->lit.u.i != 0) == want ? "true" : "false");
        return;
    case E_NAME: /* a bool column */
        p4g_raw(o, "(%s_c%d_v == 1 && %s_c%d == %d)", c->colpfx, e->ref, c->colpfx, e->ref,
                want ? 1 : 0);
        return;
    case E_UNARY: /* not */
        truth(o, c, e->a, !want);
        return;
    case E_BINARY:
        if (e->op == OP_AND || e->op == OP_OR) {
            /* true(a and b) = T(a) && T(b); false(a and b) = F(a) || F(b) */
            bool conj = (e->op == OP_AND) == want;
            p4g_raw(o, "(");
            truth(o, c, e->a, want);
            p4g_raw(o, conj ? " && " : " || ");
            truth(o, c, e->b, want);
            p4g_raw(o, ")");
            return;
        }
        if (c->atom)
            c->atom(o, c, e, want);
        else
            atom(o, c, e, want);
        return;
    default:
        p4g_raw(o, "false");
        return;
    }
}

void p4g_true(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e)
{
    truth(o, c, e, true);
}

void p4g_false(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e)
{
    truth(o, c, e, false);
}

int p4g_colsrc(const struct ir_query *q, int k)
{
    const struct ir_node *n = q->nodes[k];
    while (n->kind == IR_FILTER || n->kind == IR_SAMPLE)
        n = n->in[0];
    return n->id;
}

void p4g_ctx_for(struct p4g_ctx *c, const struct p4g_arch *a, int qi,
                 const struct ir_query *q, const struct ir_node *in)
{
    c->a = a;
    c->in = in;
    c->atom = NULL;
    c->user = NULL;
    snprintf(c->colpfx, sizeof c->colpfx, "meta.q%d_n%d", qi, in ? p4g_colsrc(q, in->id) : 0);
}

/* ---- sections ---- */

void p4g_banner(struct p4g_out *o, const struct plan *p, const struct p4g_target *t)
{
    p4g_line(o, "/*");
    p4g_line(o, " * Generated by htsc for target %s (%s) from plan 0x%016" PRIx64 ".",
             t->name, t->arch, p->fingerprint);
    p4g_line(o, " * Do not edit: change the queries and run `htsc compile` again.");
    p4g_line(o, " *");
    p4g_line(o, " * The data-plane part of each query (docs/partitioning.md); the rest runs");
    p4g_line(o, " * on the host, which this program feeds with report frames");
    p4g_line(o, " * (docs/wire-format.md). Window ends are the control plane's: it reads");
    p4g_line(o, " * and clears the registers, sends their rows and a watermark, and sets");
    p4g_line(o, " * the window start in the window tables (NAME.entries shows how).");
    p4g_line(o, " *");
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        int ndp = 0;
        for (int k = 1; k < pq->q->nnodes; k++)
            ndp += pq->nodes[k].dp;
        p4g_line(o, " * query %d %s: %d of %d operators here", i, pq->q->name, ndp,
                 pq->q->nnodes - 1);
    }
    p4g_line(o, " */");
}

void p4g_constants(struct p4g_out *o, const struct plan *p)
{
    p4g_line(o, "const bit<16> ETHERTYPE_IPV4 = 0x0800;");
    p4g_line(o, "const bit<16> ETHERTYPE_IPV6 = 0x86dd;");
    p4g_line(o, "const bit<16> ETHERTYPE_VLAN = 0x8100;");
    p4g_line(o, "const bit<16> ETHERTYPE_QINQ = 0x88a8;");
    p4g_line(o, "const bit<16> ETHERTYPE_REPORT = 0x%04x;", REP_ETHERTYPE);
    p4g_line(o, "const bit<8> PROTO_ICMP = 1;");
    p4g_line(o, "const bit<8> PROTO_TCP = 6;");
    p4g_line(o, "const bit<8> PROTO_UDP = 17;");
    p4g_line(o, "const bit<32> REPORT_MAGIC = 0x%08x;", REP_MAGIC);
    p4g_line(o, "const bit<8> REPORT_VERSION = %d;", REP_VERSION);
    p4g_line(o, "const bit<64> PLAN_FINGERPRINT = 0x%016" PRIx64 ";", p->fingerprint);
    for (int i = 0; i < p->nqueries; i++) {
        const struct plan_query *pq = &p->queries[i];
        for (int k = 0; k < pq->q->nnodes; k++)
            if (pq->nodes[k].dp && pq->nodes[k].slots) {
                p4g_line(o, "const bit<32> Q%d_N%d_SLOTS = %u;", i, k, pq->nodes[k].slots);
                if (pq->nodes[k].refine)
                    p4g_line(o, "const bit<32> Q%d_N%d_COARSE_SLOTS = %u; /* its /%d level */", i,
                             k, pq->nodes[k].coarse_slots, pq->nodes[k].refine);
            }
    }
}

void p4g_std_headers(struct p4g_out *o)
{
    p4g_open(o, "header ethernet_t");
    p4g_line(o, "mac_addr_t dst_addr;");
    p4g_line(o, "mac_addr_t src_addr;");
    p4g_line(o, "bit<16> ether_type;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header vlan_t");
    p4g_line(o, "bit<3> pcp;");
    p4g_line(o, "bit<1> dei;");
    p4g_line(o, "bit<12> vid;");
    p4g_line(o, "bit<16> ether_type;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header ipv4_t");
    p4g_line(o, "bit<4> version;");
    p4g_line(o, "bit<4> ihl;");
    p4g_line(o, "bit<8> tos;");
    p4g_line(o, "bit<16> total_len;");
    p4g_line(o, "bit<16> identification;");
    p4g_line(o, "bit<3> flags;");
    p4g_line(o, "bit<13> frag_offset;");
    p4g_line(o, "bit<8> ttl;");
    p4g_line(o, "bit<8> protocol;");
    p4g_line(o, "bit<16> hdr_checksum;");
    p4g_line(o, "ipv4_addr_t src_addr;");
    p4g_line(o, "ipv4_addr_t dst_addr;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header ipv4_options_t");
    p4g_line(o, "varbit<320> options;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header ipv6_t");
    p4g_line(o, "bit<4> version;");
    p4g_line(o, "bit<8> traffic_class;");
    p4g_line(o, "bit<20> flow_label;");
    p4g_line(o, "bit<16> payload_len;");
    p4g_line(o, "bit<8> next_hdr;");
    p4g_line(o, "bit<8> hop_limit;");
    p4g_line(o, "ipv6_addr_t src_addr;");
    p4g_line(o, "ipv6_addr_t dst_addr;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header tcp_t");
    p4g_line(o, "bit<16> src_port;");
    p4g_line(o, "bit<16> dst_port;");
    p4g_line(o, "bit<32> seq_no;");
    p4g_line(o, "bit<32> ack_no;");
    p4g_line(o, "bit<4> data_offset;");
    p4g_line(o, "bit<4> res;");
    p4g_line(o, "bit<8> flags;");
    p4g_line(o, "bit<16> window;");
    p4g_line(o, "bit<16> checksum;");
    p4g_line(o, "bit<16> urgent_ptr;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header udp_t");
    p4g_line(o, "bit<16> src_port;");
    p4g_line(o, "bit<16> dst_port;");
    p4g_line(o, "bit<16> length;");
    p4g_line(o, "bit<16> checksum;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header icmp_t");
    p4g_line(o, "bit<8> type;");
    p4g_line(o, "bit<8> code;");
    p4g_line(o, "bit<16> checksum;");
    p4g_close(o, "");
}

void p4g_rec_name(char *buf, size_t n, const struct rep_layout *l)
{
    snprintf(buf, n, "rec_q%d_n%d_%s", l->query, l->node, rep_kind_name(l->kind));
}

bool p4g_per_packet(const struct plan *p, const struct rep_layout *l)
{
    if (l->kind == REP_PARTIAL) /* a refined groupby's slots, at window end */
        return false;
    if (l->kind != REP_ROW)
        return true;
    const struct plan_query *pq = &p->queries[l->query];
    if (pq->nodes[l->node].exit == PLAN_EXIT_ROW_NOW)
        return true;
    for (int k = 0; k < pq->q->nnodes; k++)
        if (pq->nodes[k].overflow_at == l->node && pq->nodes[k].overflow_kind == REP_ROW)
            return true;
    return false;
}

void p4g_sanitize(char *out, size_t n, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; name[i] && j + 1 < n; i++)
        out[j++] = isalnum((unsigned char)name[i]) ? name[i] : '_';
    out[j] = 0;
}

void p4g_report_headers(struct p4g_out *o, const struct plan *p)
{
    p4g_open(o, "header report_t");
    p4g_line(o, "bit<32> magic;");
    p4g_line(o, "bit<8> version;");
    p4g_line(o, "bit<8> flags;");
    p4g_line(o, "bit<16> count;");
    p4g_line(o, "bit<64> fingerprint;");
    p4g_line(o, "bit<32> seq;");
    p4g_close(o, "");
    for (int i = 0; i < p->nlayouts; i++) {
        const struct rep_layout *l = &p->layouts[i];
        if (!p4g_per_packet(p, l))
            continue;
        char name[64], head[96];
        p4g_rec_name(name, sizeof name, l);
        p4g_blank(o);
        p4g_line(o, "/* %s records of query %d (%s) at node %d: %d bytes */",
                 rep_kind_name(l->kind), l->query, p->queries[l->query].q->name, l->node,
                 l->kind == REP_PACKET ? 24 : l->rec_len);
        snprintf(head, sizeof head, "header %s_t", name);
        p4g_open(o, head);
        p4g_line(o, "bit<16> length;");
        p4g_line(o, "bit<16> query;");
        p4g_line(o, "bit<16> node;");
        p4g_line(o, "bit<8> kind;");
        p4g_line(o, "bit<8> reserved;");
        p4g_line(o, "bit<64> ts;");
        if (l->kind == REP_PACKET) {
            p4g_line(o, "bit<32> wire_len;");
            p4g_line(o, "bit<16> port;");
            p4g_line(o, "bit<16> linktype;");
        } else {
            p4g_line(o, "bit<%d> presence;", l->presence_bytes * 8);
            for (int c = 0; c < l->ncols; c++) {
                char cn[64];
                p4g_sanitize(cn, sizeof cn, l->cols[c].name);
                p4g_line(o, "bit<%u> v%d_%s;", rep_col_bytes(&l->cols[c]) * 8, c, cn);
            }
        }
        p4g_close(o, "");
    }
}

void p4g_header_members(struct p4g_out *o, const struct plan *p)
{
    p4g_line(o, "ethernet_t report_eth;");
    p4g_line(o, "report_t report;");
    for (int i = 0; i < p->nlayouts; i++) {
        const struct rep_layout *l = &p->layouts[i];
        if (!p4g_per_packet(p, l))
            continue;
        char name[64];
        p4g_rec_name(name, sizeof name, l);
        p4g_line(o, "%s_t %s;", name, name);
    }
    p4g_line(o, "ethernet_t ethernet;");
    p4g_line(o, "vlan_t[2] vlan;");
    p4g_line(o, "ipv4_t ipv4;");
    p4g_line(o, "ipv4_options_t ipv4_options;");
    p4g_line(o, "ipv6_t ipv6;");
    p4g_line(o, "tcp_t tcp;");
    p4g_line(o, "udp_t udp;");
    p4g_line(o, "icmp_t icmp;");
}

/* The select after a VLAN tag on its ether type `et`: another tag to
 * `vlan` (NULL: the stack is full, accept), IPv4, IPv6. */
static void vlan_select(struct p4g_out *o, const char *et, const char *vlan)
{
    char head[64];
    snprintf(head, sizeof head, "transition select(%s)", et);
    p4g_open(o, head);
    if (vlan) {
        p4g_line(o, "ETHERTYPE_VLAN: %s;", vlan);
        p4g_line(o, "ETHERTYPE_QINQ: %s;", vlan);
    }
    p4g_line(o, "ETHERTYPE_IPV4: parse_ipv4;");
    p4g_line(o, "ETHERTYPE_IPV6: parse_ipv6;");
    p4g_line(o, "default: accept;");
    p4g_close(o, "");
}

void p4g_parser_states(struct p4g_out *o, const char *pkt, bool meta, bool skip_options)
{
    p4g_open(o, "state parse_ethernet");
    p4g_line(o, "%s.extract(hdr.ethernet);", pkt);
    if (meta)
        p4g_line(o, "meta.eth_type = hdr.ethernet.ether_type;");
    p4g_open(o, "transition select(hdr.ethernet.ether_type)");
    p4g_line(o, "ETHERTYPE_VLAN: parse_vlan;");
    p4g_line(o, "ETHERTYPE_QINQ: parse_vlan;");
    p4g_line(o, "ETHERTYPE_IPV4: parse_ipv4;");
    p4g_line(o, "ETHERTYPE_IPV6: parse_ipv6;");
    p4g_line(o, "default: accept;");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_blank(o);
    if (!meta) {
        p4g_open(o, "state parse_vlan");
        p4g_line(o, "%s.extract(hdr.vlan.next);", pkt);
        vlan_select(o, "hdr.vlan.last.ether_type", "parse_vlan");
        p4g_close(o, "");
        p4g_blank(o);
    } else {
        /* a parser (Tofino's) cannot add: one state per tag of the stack,
         * each setting the depth as a constant; a third tag ends parsing
         * (no L3 fields), where the loop above would overflow the stack */
        for (int d = 1; d <= 2; d++) {
            char head[64], et[32];
            snprintf(head, sizeof head, d == 1 ? "state parse_vlan" : "state parse_vlan_%d", d);
            snprintf(et, sizeof et, "hdr.vlan[%d].ether_type", d - 1);
            p4g_open(o, head);
            p4g_line(o, "%s.extract(hdr.vlan[%d]);", pkt, d - 1);
            p4g_line(o, "meta.vlan_depth = %d;", d);
            p4g_line(o, "meta.eth_type = %s;", et);
            vlan_select(o, et, d == 1 ? "parse_vlan_2" : NULL);
            p4g_close(o, "");
            p4g_blank(o);
        }
    }
    p4g_open(o, "state parse_ipv4");
    p4g_line(o, "%s.extract(hdr.ipv4);", pkt);
    p4g_open(o, "transition select(hdr.ipv4.ihl)");
    p4g_line(o, "5: parse_ipv4_l4;");
    if (skip_options) {
        for (int ihl = 6; ihl <= 15; ihl++)
            p4g_line(o, "%d: skip_ipv4_options_%d;", ihl, ihl - 5);
    } else {
        p4g_line(o, "6 &&& 0xe: parse_ipv4_options; /* 6, 7 */");
        p4g_line(o, "8 &&& 0x8: parse_ipv4_options; /* 8..15 */");
    }
    p4g_line(o, "default: accept; /* malformed: no L4 fields */");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_blank(o);
    if (skip_options) { /* no field reads them: skip 1 to 10 words */
        for (int w = 1; w <= 10; w++) {
            char head[48];
            snprintf(head, sizeof head, "state skip_ipv4_options_%d", w);
            p4g_open(o, head);
            p4g_line(o, "%s.advance(%d);", pkt, 32 * w);
            p4g_line(o, "transition parse_ipv4_l4;");
            p4g_close(o, "");
        }
    } else {
        p4g_open(o, "state parse_ipv4_options");
        p4g_line(o, "%s.extract(hdr.ipv4_options, ((bit<32>)hdr.ipv4.ihl - 5) * 32);", pkt);
        p4g_line(o, "transition parse_ipv4_l4;");
        p4g_close(o, "");
    }
    p4g_blank(o);
    p4g_open(o, "state parse_ipv4_l4");
    p4g_line(o, "/* L4 fields only in the first fragment, as the host's decoder */");
    p4g_open(o, "transition select(hdr.ipv4.frag_offset, hdr.ipv4.protocol)");
    p4g_line(o, "(0, PROTO_TCP): parse_tcp;");
    p4g_line(o, "(0, PROTO_UDP): parse_udp;");
    p4g_line(o, "(0, PROTO_ICMP): parse_icmp;");
    p4g_line(o, "default: accept;");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "state parse_ipv6");
    p4g_line(o, "%s.extract(hdr.ipv6);", pkt);
    p4g_open(o, "transition select(hdr.ipv6.next_hdr)");
    p4g_line(o, "PROTO_TCP: parse_tcp;");
    p4g_line(o, "PROTO_UDP: parse_udp;");
    p4g_line(o, "default: accept;");
    p4g_close(o, "");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "state parse_tcp");
    p4g_line(o, "%s.extract(hdr.tcp);", pkt);
    p4g_line(o, "transition accept;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "state parse_udp");
    p4g_line(o, "%s.extract(hdr.udp);", pkt);
    p4g_line(o, "transition accept;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "state parse_icmp");
    p4g_line(o, "%s.extract(hdr.icmp);", pkt);
    p4g_line(o, "transition accept;");
    p4g_close(o, "");
}

/* ---- filters as ternary tables ---- */

static bool atom_of(const struct p4g_arch *arch, const struct ast_expr *e, struct p4g_atom *a,
                    hts_value *set, int *nset)
{
    if (e->kind != E_BINARY)
        return false;
    const struct ast_expr *f = e->a, *c = e->b;
    if (e->op == OP_EQ && f->kind == E_LIT)
        f = e->b, c = e->a;
    if (f->kind != E_NAME || f->ref_kind != REF_FIELD ||
        !p4g_field_of(arch, f->ref)->expr)
        return false;
    a->field = f->ref;
    a->has = 0;
    *nset = 0;
    if ((e->op == OP_EQ || e->op == OP_HAS) && c->kind == E_LIT) {
        a->v = c->lit;
        a->has = e->op == OP_HAS;
        return e->op == OP_EQ || c->lit.type == TY_INT;
    }
    if (e->op == OP_IN && c->kind == E_LIT) {
        a->v = c->lit;
        return true;
    }
    if (e->op == OP_IN && c->kind == E_SET && c->nargs <= P4G_MAX_TERMS) {
        for (int i = 0; i < c->nargs; i++)
            set[(*nset)++] = c->args[i]->lit;
        a->v = set[0];
        return c->nargs > 0;
    }
    return false;
}

/* Conjunction e into term t (expanding sets into more terms of d). */
static bool dnf_and(const struct p4g_arch *arch, struct p4g_dnf *d, int ti,
                    const struct ast_expr *e)
{
    if (e->kind == E_BINARY && e->op == OP_AND)
        return dnf_and(arch, d, ti, e->a) && dnf_and(arch, d, ti, e->b);
    struct p4g_atom a;
    hts_value set[P4G_MAX_TERMS];
    int nset;
    if (!atom_of(arch, e, &a, set, &nset) || d->t[ti].n == P4G_MAX_KEYS)
        return false;
    int k = 0;
    while (k < d->nkeys && d->keys[k] != a.field)
        k++;
    if (k == d->nkeys) {
        if (d->nkeys == P4G_MAX_KEYS)
            return false;
        d->keys[d->nkeys++] = a.field;
    }
    for (int i = 0; i < d->t[ti].n; i++)
        if (d->t[ti].a[i].field == a.field)
            return false; /* two tests of one field: not one ternary key */
    if (nset > 1) { /* one copy of the term per element */
        int base = d->nt;
        if (d->nt + nset - 1 > P4G_MAX_TERMS)
            return false;
        for (int j = 1; j < nset; j++) {
            d->t[d->nt] = d->t[ti];
            struct p4g_atom b = a;
            b.v = set[j];
            d->t[d->nt].a[d->t[d->nt].n++] = b;
            d->nt++;
        }
        (void)base;
    }
    d->t[ti].a[d->t[ti].n++] = a;
    return true;
}

static bool dnf_or(const struct p4g_arch *arch, struct p4g_dnf *d, const struct ast_expr *e)
{
    if (e->kind == E_BINARY && e->op == OP_OR)
        return dnf_or(arch, d, e->a) && dnf_or(arch, d, e->b);
    if (d->nt == P4G_MAX_TERMS)
        return false;
    int ti = d->nt++;
    d->t[ti].n = 0;
    int before = d->nt;
    if (!dnf_and(arch, d, ti, e))
        return false;
    /* terms cloned from ti by a set before later atoms were added to ti
     * would miss those atoms: allow sets only as a term's last atom */
    for (int j = before; j < d->nt; j++)
        if (d->t[j].n != d->t[ti].n)
            return false;
    return true;
}

bool p4g_filter_dnf(const struct p4g_arch *arch, const struct ir_node *n, struct p4g_dnf *d)
{
    memset(d, 0, sizeof *d);
    if (!n->in[0]->packet)
        return false;
    return dnf_or(arch, d, n->expr);
}

/* Table keys match metadata bits for header validity (bit<1>, ternary):
 * "hdr.tcp.isValid()" -> "meta.valid_tcp". */
void p4g_valid_key(char *buf, size_t n, const char *valid)
{
    const char *h = valid + 4; /* after "hdr." */
    const char *dot = strstr(h, ".isValid()");
    int len = dot ? (int)(dot - h) : (int)strlen(h);
    char name[64];
    snprintf(name, sizeof name, "%.*s", len, h);
    for (char *c = name; *c; c++)
        if (*c == '[' || *c == ']')
            *c = '_';
    if (name[0] && name[strlen(name) - 1] == '_')
        name[strlen(name) - 1] = 0;
    snprintf(buf, n, "meta.valid_%s", name);
}

/* The validity keys of a filter table: each header its fields need. */
int p4g_valid_keys(const struct p4g_dnf *d, const char **v)
{
    int n = 0;
    for (int k = 0; k < d->nkeys; k++) {
        const char *x = p4g_field_of(NULL, d->keys[k])->valid;
        if (!strcmp(x, "true"))
            continue;
        int j = 0;
        while (j < n && strcmp(v[j], x))
            j++;
        if (j == n)
            v[n++] = x;
    }
    return n;
}

const struct p4g_atom *p4g_term_atom(const struct p4g_term *t, int field)
{
    const struct p4g_atom *a = NULL;
    for (int x = 0; x < t->n; x++)
        if (t->a[x].field == field)
            a = &t->a[x];
    return a;
}

bool p4g_term_needs(const struct p4g_term *t, const char *valid)
{
    bool need = false;
    for (int a = 0; a < t->n; a++)
        need |= !strcmp(p4g_field_of(NULL, t->a[a].field)->valid, valid);
    return need;
}

void p4g_atom_ternary(const struct p4g_atom *a, char *val, char *mask)
{
    const hts_value *v = &a->v;
    int bits = p4g_field_of(NULL, a->field)->bits;
    switch (v->type) {
    case TY_PREFIX4: {
        uint32_t m = v->plen ? ~(0xffffffffu >> v->plen) : 0;
        sprintf(val, "0x%08" PRIx32, v->u.ip4 & m);
        sprintf(mask, "0x%08" PRIx32, m);
        break;
    }
    case TY_IPV4:
        sprintf(val, "0x%08" PRIx32, v->u.ip4);
        strcpy(mask, "0xffffffff");
        break;
    case TY_IPV6:
    case TY_PREFIX6: {
        int plen = v->type == TY_PREFIX6 ? v->plen : 128;
        char *p = val + sprintf(val, "0x"), *q = mask + sprintf(mask, "0x");
        for (int i = 0; i < 16; i++) {
            int b = plen - 8 * i;
            p += sprintf(p, "%02x", v->u.ip6[i]);
            q += sprintf(q, "%02x", b >= 8 ? 0xff : b > 0 ? (0xff << (8 - b)) & 0xff : 0);
        }
        break;
    }
    case TY_MAC: {
        char *p = val + sprintf(val, "0x");
        for (int i = 0; i < 6; i++)
            p += sprintf(p, "%02x", v->u.mac[i]);
        strcpy(mask, "0xffffffffffff");
        break;
    }
    default: {
        uint64_t full = bits >= 64 ? ~0ull : (1ull << bits) - 1;
        uint64_t x = (uint64_t)v->u.i & full;
        sprintf(val, "0x%" PRIx64, x);
        sprintf(mask, "0x%" PRIx64, a->has ? x : full);
        break;
    }
    }
}

/* ---- report records ---- */

void p4g_rec_common(struct p4g_out *o, const char *h, const struct rep_layout *l, const char *ts)
{
    p4g_line(o, "hdr.%s.setValid();", h);
    if (l->kind != REP_PACKET)
        p4g_line(o, "hdr.%s.length = %u;", h, l->rec_len);
    p4g_line(o, "hdr.%s.query = %d;", h, l->query);
    p4g_line(o, "hdr.%s.node = %d;", h, l->node);
    p4g_line(o, "hdr.%s.kind = %d;", h, l->kind);
    p4g_line(o, "hdr.%s.reserved = 0;", h);
    p4g_line(o, "hdr.%s.ts = %s;", h, ts);
}

/* Column c of record L: its validity test and value, as P4. */
static void rec_col(const struct plan *p, const struct p4g_arch *a, const struct rep_layout *L,
                    int c, char *valid, size_t vn, char *val, size_t ln)
{
    const struct rep_col *col = &L->cols[c];
    int bits = (int)rep_col_bytes(col) * 8;
    if (L->packet) {
        const struct p4g_field *f = p4g_field_of(a, col->field);
        snprintf(valid, vn, "%s", f->valid);
        snprintf(val, ln, "(bit<%d>)%s", bits, f->expr);
    } else {
        int src = p4g_colsrc(p->queries[L->query].q, L->node);
        snprintf(valid, vn, "meta.q%d_n%d_c%d_v == 1", L->query, src, c);
        snprintf(val, ln, "(bit<%d>)meta.q%d_n%d_c%d", bits, L->query, src, c);
    }
}

bool p4g_presence_table(struct p4g_out *o, const struct plan *p, const struct p4g_arch *a,
                        const struct rep_layout *L, const char *dst, const char *name,
                        char sep, const char *tname)
{
    enum { MAXK = 8 };
    char keys[MAXK][128];
    int nk = 0, keyof[REP_MAX_COLS];
    for (int c = 0; c < L->ncols; c++) {
        char valid[128], val[160];
        rec_col(p, a, L, c, valid, sizeof valid, val, sizeof val);
        keyof[c] = -1;
        if (!strcmp(valid, "true"))
            continue; /* always present */
        char *eq = strstr(valid, " == 1"); /* a 1-bit field: the key is the field */
        if (eq)
            *eq = 0;
        for (int k = 0; k < nk && keyof[c] < 0; k++)
            if (!strcmp(keys[k], valid))
                keyof[c] = k;
        if (keyof[c] >= 0)
            continue;
        if (nk == MAXK)
            return false;
        snprintf(keys[nk], sizeof keys[nk], "%s", valid);
        keyof[c] = nk++;
    }
    const int nbits = L->presence_bytes * 8;
    p4g_line(o, "action %s_set(bit<%d> v) { %s%s%cpresence = v; }", tname, nbits, dst, name, sep);
    char head[160];
    snprintf(head, sizeof head, "table %s", tname);
    p4g_open(o, head);
    p4g_indent(o);
    p4g_raw(o, "key = {");
    for (int k = 0; k < nk; k++)
        p4g_raw(o, " %s: exact;", keys[k]);
    p4g_raw(o, " }\n");
    p4g_line(o, "actions = { %s_set; }", tname);
    p4g_line(o, "size = %d;", 1 << nk);
    /* the entries list every combination; the default serves no key */
    uint64_t always = 0;
    for (int c = 0; c < L->ncols; c++)
        if (keyof[c] < 0)
            always |= 1ull << (nbits - 1 - c);
    p4g_line(o, "default_action = %s_set(0x%llx);", tname, (unsigned long long)always);
    if (nk) {
        p4g_open(o, "const entries =");
        for (int m = 0; m < 1 << nk; m++) {
            uint64_t v = always;
            for (int c = 0; c < L->ncols; c++)
                if (keyof[c] >= 0 && (m >> keyof[c] & 1))
                    v |= 1ull << (nbits - 1 - c);
            p4g_indent(o);
            p4g_raw(o, "%s", nk > 1 ? "(" : "");
            for (int k = 0; k < nk; k++) {
                bool bit = strstr(keys[k], "isValid()") == NULL; /* bit<1>, else bool */
                int on = m >> k & 1;
                p4g_raw(o, "%s%s", k ? ", " : "", bit ? (on ? "1" : "0") : (on ? "true" : "false"));
            }
            p4g_raw(o, "%s: %s_set(0x%llx);\n", nk > 1 ? ")" : "", tname, (unsigned long long)v);
        }
        p4g_close(o, "");
    }
    p4g_close(o, "");
    return true;
}

void p4g_rec_values(struct p4g_out *o, const struct plan *p, const struct p4g_arch *a,
                    const struct rep_layout *L, const char *dst, const char *name, char sep,
                    const char *const *vnames, const bool *shared, const char *ptable)
{
    if (ptable)
        p4g_line(o, "%s.apply(); /* the presence bits, in one step */", ptable);
    else
        p4g_line(o, "%s%s%cpresence = 0;", dst, name, sep);
    for (int c = 0; c < L->ncols; c++) {
        char cn[64], valid[128], val[160];
        p4g_sanitize(cn, sizeof cn, L->cols[c].name);
        rec_col(p, a, L, c, valid, sizeof valid, val, sizeof val);
        char target[256];
        if (vnames)
            snprintf(target, sizeof target, "%s%s", dst, vnames[c]);
        else
            snprintf(target, sizeof target, "%s%s%cv%d_%s", dst, name, sep, c, cn);
        bool clear = !(shared && shared[c]); /* else written by the caller */
        if (!clear && ptable)
            continue;
        p4g_line(o, "if (%s) {", valid);
        o->indent++;
        if (!ptable)
            p4g_line(o, "%s%s%cpresence = %s%s%cpresence | (1 << %d);", dst, name, sep, dst,
                     name, sep, L->presence_bytes * 8 - 1 - c);
        if (clear)
            p4g_line(o, "%s = %s;", target, val);
        o->indent--;
        if (!clear) {
            p4g_line(o, "}");
            continue;
        }
        p4g_line(o, "} else {");
        o->indent++;
        p4g_line(o, "%s = 0;", target);
        o->indent--;
        p4g_line(o, "}");
    }
}

int p4g_packet_layouts(const struct plan *p)
{
    int n = 0;
    for (int l = 0; l < p->nlayouts; l++)
        n += p->layouts[l].kind == REP_PACKET;
    return n;
}

void p4g_rec_packet_headers(struct p4g_out *o)
{
    p4g_blank(o);
    p4g_line(o, "/* one packet record for all queries that want the packet whole */");
    p4g_open(o, "header rec_packet_t");
    p4g_line(o, "bit<16> length;");
    p4g_line(o, "bit<16> query;");
    p4g_line(o, "bit<16> node;");
    p4g_line(o, "bit<8> kind;");
    p4g_line(o, "bit<8> reserved;");
    p4g_line(o, "bit<64> ts;");
    p4g_line(o, "bit<32> wire_len;");
    p4g_line(o, "bit<16> port;");
    p4g_line(o, "bit<16> linktype;");
    p4g_line(o, "bit<16> extra;");
    p4g_line(o, "bit<16> reserved2;");
    p4g_close(o, "");
    p4g_blank(o);
    p4g_open(o, "header rec_target_t");
    p4g_line(o, "bit<16> query;");
    p4g_line(o, "bit<16> node;");
    p4g_close(o, "");
}

void p4g_packet_records(struct p4g_out *o, const struct plan *p, int npkt,
                        const struct p4g_pkt_rec *r)
{
    p4g_blank(o);
    p4g_line(o, "meta.npkt = 0;");
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64];
        if (L->kind != REP_PACKET)
            continue;
        p4g_rec_name(name, sizeof name, L);
        p4g_line(o, "if (%s%s == 1) {", r->flag, name);
        o->indent++;
        p4g_line(o, "if (meta.npkt == 0) {");
        o->indent++;
        p4g_rec_common(o, "rec_packet", L, r->ts);
        if (r->zero_len) /* the frame's length is unknown: 0, "to the end" */
            p4g_line(o, "hdr.rec_packet.length = 0;");
        p4g_line(o, "hdr.rec_packet.wire_len = %s;", r->wire_len);
        p4g_line(o, "hdr.rec_packet.port = %s;", r->port);
        p4g_line(o, "hdr.rec_packet.linktype = 1; /* Ethernet */");
        p4g_line(o, "hdr.rec_packet.extra = 0;");
        p4g_line(o, "hdr.rec_packet.reserved2 = 0;");
        o->indent--;
        for (int t = 1; t < npkt; t++) {
            p4g_line(o, "} else if (meta.npkt == %d) {", t);
            o->indent++;
            p4g_line(o, "hdr.rec_targets[%d].setValid();", t - 1);
            p4g_line(o, "hdr.rec_targets[%d].query = %d;", t - 1, L->query);
            p4g_line(o, "hdr.rec_targets[%d].node = %d;", t - 1, L->node);
            p4g_line(o, "hdr.rec_packet.extra = %d;", t);
            o->indent--;
        }
        p4g_line(o, "}");
        p4g_line(o, "meta.npkt = meta.npkt + 1;");
        o->indent--;
        p4g_line(o, "}");
    }
    p4g_open(o, "if (meta.npkt != 0)");
    p4g_line(o, "/* the original frame follows the packet record */");
    if (!r->zero_len)
        p4g_line(o, "hdr.rec_packet.length = (bit<16>)%s + %d + 4 * "
                 "hdr.rec_packet.extra;", r->wire_len, REP_REC_HDR_LEN + REP_PKT_HDR_LEN);
    p4g_line(o, "count = count + 1;");
    p4g_close(o, "");
}

/* ---- statements shared by the backends ---- */

bool p4g_window_query(const struct plan *p, int qi)
{
    for (int l = 0; l < p->nlayouts; l++)
        if (p->layouts[l].query == qi && p->layouts[l].kind == REP_ROW &&
            p4g_per_packet(p, &p->layouts[l]))
            return true;
    return false;
}

void p4g_window_table(struct p4g_out *o, int qi)
{
    char head[64];
    p4g_line(o, "/* the start of the current window: set by the control plane */");
    p4g_line(o, "action q%d_set_window(bit<64> start) { meta.q%d_ws = start; }", qi, qi);
    snprintf(head, sizeof head, "table q%d_window", qi);
    p4g_open(o, head);
    p4g_line(o, "actions = { q%d_set_window; }", qi);
    p4g_line(o, "size = 1;");
    p4g_line(o, "default_action = q%d_set_window(0);", qi);
    p4g_close(o, "");
    p4g_blank(o);
}

/* target = cond ? 1w1 : 1w0, or as an if statement where the target
 * cannot have conditions in actions (Tofino); cond is written by fn(e)
 * (and, with both, by fn2(e) after " || "). Leaves the line open as the
 * callers expect: at the indentation, nothing written. */
static void assign_bit(struct p4g_out *o, const struct p4g_ctx *c, const char *target,
                       const struct ast_expr *e,
                       void (*fn)(struct p4g_out *, const struct p4g_ctx *, const struct ast_expr *),
                       void (*fn2)(struct p4g_out *, const struct p4g_ctx *, const struct ast_expr *))
{
    if (!c->a->no_cond_expr) {
        p4g_raw(o, "%s = (", target);
        fn(o, c, e);
        if (fn2) {
            p4g_raw(o, " || ");
            fn2(o, c, e);
        }
        p4g_raw(o, ") ? 1w1 : 1w0;\n");
        return;
    }
    p4g_raw(o, "if (");
    fn(o, c, e);
    if (fn2) {
        p4g_raw(o, " || ");
        fn2(o, c, e);
    }
    p4g_raw(o, ") {\n");
    o->indent++;
    p4g_line(o, "%s = 1w1;", target);
    o->indent--;
    p4g_line(o, "} else {");
    o->indent++;
    p4g_line(o, "%s = 1w0;", target);
    o->indent--;
    p4g_line(o, "}");
}

bool p4g_assign_col_valid(struct p4g_out *o, const struct p4g_ctx *c, int qi,
                          const struct ir_node *n, int i)
{
    const struct ast_expr *e = n->exprs[i];
    char target[96];
    p4g_indent(o);
    if (n->cols[i].type == TY_BOOL && c->a->no_cond_expr) {
        snprintf(target, sizeof target, "meta.q%d_n%d_c%d", qi, n->id, i);
        assign_bit(o, c, target, e, p4g_true, NULL);
        p4g_indent(o);
        snprintf(target, sizeof target, "meta.q%d_n%d_c%d_v", qi, n->id, i);
        assign_bit(o, c, target, e, p4g_true, p4g_false);
        return true;
    }
    if (c->a->no_cond_expr) {
        snprintf(target, sizeof target, "meta.q%d_n%d_c%d_v", qi, n->id, i);
        assign_bit(o, c, target, e, p4g_valid, NULL);
        p4g_indent(o);
        return false;
    }
    if (n->cols[i].type == TY_BOOL) {
        p4g_raw(o, "meta.q%d_n%d_c%d = ", qi, n->id, i);
        p4g_true(o, c, e);
        p4g_raw(o, " ? 1w1 : 1w0;\n");
        p4g_indent(o);
        p4g_raw(o, "meta.q%d_n%d_c%d_v = (", qi, n->id, i);
        p4g_true(o, c, e);
        p4g_raw(o, " || ");
        p4g_false(o, c, e);
        p4g_raw(o, ") ? 1w1 : 1w0;\n");
        return true;
    }
    p4g_raw(o, "meta.q%d_n%d_c%d_v = ", qi, n->id, i);
    p4g_valid(o, c, e);
    p4g_raw(o, " ? 1w1 : 1w0;\n");
    p4g_indent(o);
    return false;
}

void p4g_keys_valid(struct p4g_out *o, int qi, const struct ir_node *n)
{
    p4g_indent(o);
    p4g_raw(o, "if (");
    for (int i = 0; i < n->nkeys; i++)
        p4g_raw(o, "%smeta.q%d_n%d_c%d_v == 1", i ? " && " : "", qi, n->id, i);
    if (!n->nkeys)
        p4g_raw(o, "true");
    p4g_raw(o, ") {\n");
    o->indent++;
}

void p4g_pass_on(struct p4g_out *o, int qi, const struct ir_node *n, bool probe)
{
    if (probe) {
        p4g_line(o, "meta.q%d_n%d = meta.q%d_n%d;", qi, n->id, qi, n->in[0]->id);
        p4g_line(o, "meta.q%d_n%d_probe = meta.q%d_n%d_probe;", qi, n->id, qi, n->in[0]->id);
    } else {
        p4g_line(o, "meta.q%d_n%d = 1;", qi, n->id);
    }
}

void p4g_filter_if(struct p4g_out *o, const struct p4g_ctx *c, int qi, const struct ir_node *n,
                   bool probe)
{
    p4g_indent(o);
    p4g_raw(o, "if (");
    p4g_true(o, c, n->expr);
    p4g_raw(o, ") {\n");
    o->indent++;
    p4g_pass_on(o, qi, n, probe);
    o->indent--;
    p4g_line(o, "}");
}

void p4g_report_members(struct p4g_out *o, const struct plan *p, int npkt)
{
    p4g_line(o, "ethernet_t report_eth;");
    p4g_line(o, "report_t report;");
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64];
        if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
            continue;
        p4g_rec_name(name, sizeof name, L);
        p4g_line(o, "%s_t %s;", name, name);
    }
    if (npkt) {
        p4g_line(o, "rec_packet_t rec_packet;");
        if (npkt > 1)
            p4g_line(o, "rec_target_t[%d] rec_targets;", npkt - 1);
    }
}

void p4g_report_emits(struct p4g_out *o, const struct plan *p, int npkt, const char *pkt)
{
    p4g_line(o, "%s.emit(hdr.report_eth);", pkt);
    p4g_line(o, "%s.emit(hdr.report);", pkt);
    for (int l = 0; l < p->nlayouts; l++) {
        const struct rep_layout *L = &p->layouts[l];
        char name[64];
        if (!p4g_per_packet(p, L) || L->kind == REP_PACKET)
            continue;
        p4g_rec_name(name, sizeof name, L);
        p4g_line(o, "%s.emit(hdr.%s);", pkt, name);
    }
    if (npkt) {
        p4g_line(o, "%s.emit(hdr.rec_packet);", pkt);
        if (npkt > 1)
            p4g_line(o, "%s.emit(hdr.rec_targets);", pkt);
    }
}

void p4g_report_frame_hdrs(struct p4g_out *o)
{
    p4g_line(o, "hdr.report_eth.setValid();");
    p4g_line(o, "hdr.report_eth.dst_addr = 0x024854530001;");
    p4g_line(o, "hdr.report_eth.src_addr = 0x024854530000;");
    p4g_line(o, "hdr.report_eth.ether_type = ETHERTYPE_REPORT;");
    p4g_line(o, "hdr.report.setValid();");
    p4g_line(o, "hdr.report.magic = REPORT_MAGIC;");
    p4g_line(o, "hdr.report.version = REPORT_VERSION;");
    p4g_line(o, "hdr.report.flags = 0;");
    p4g_line(o, "hdr.report.fingerprint = PLAN_FINGERPRINT;");
}

/* ---- thresholds and refinement ---- */

static int thresholds(const struct ast_expr *e, struct p4g_thresh *t, int n, int max)
{
    if (e->kind == E_BINARY && e->op == OP_AND) {
        n = thresholds(e->a, t, n, max);
        return thresholds(e->b, t, n, max);
    }
    if (n >= max)
        return n + 1; /* counted, not written */
    bool rev = e->op == OP_LE || e->op == OP_LT;
    t[n].col = (rev ? e->b : e->a)->ref;
    t[n].strict = e->op == OP_GT || e->op == OP_LT;
    t[n].c = (rev ? e->a : e->b)->lit.u.i;
    return n + 1;
}

int p4g_thresholds(const struct ast_expr *e, struct p4g_thresh *t, int max)
{
    return thresholds(e, t, 0, max);
}

int p4g_gate_of(const struct plan_query *pq, int k)
{
    for (int g = 0; g < pq->q->nnodes; g++)
        if (pq->nodes[g].dp && pq->nodes[g].refine && pq->nodes[g].gate == k)
            return g;
    return -1;
}

unsigned p4g_gate_aggs(const struct plan_query *pq, int k)
{
    const struct ir_node *n = pq->q->nodes[k];
    struct p4g_thresh t[P4G_MAX_THRESH];
    int nt = p4g_thresholds(pq->q->nodes[pq->nodes[k].gate]->expr, t, P4G_MAX_THRESH);
    unsigned m = 0;
    for (int i = 0; i < nt; i++)
        m |= 1u << (t[i].col - n->nkeys);
    return m;
}

void p4g_masked_col(char *buf, size_t n, const char *col, enum hts_type type, int len)
{
    if (type == TY_IPV4) {
        uint32_t m = len <= 0 ? 0 : len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len);
        snprintf(buf, n, "(%s & 32w0x%08" PRIx32 ")", col, m);
        return;
    }
    char hex[33];
    for (int i = 0; i < 16; i++) {
        int b = len - 8 * i;
        snprintf(hex + 2 * i, 3, "%02x", b >= 8 ? 0xff : b > 0 ? (0xff << (8 - b)) & 0xff : 0);
    }
    snprintf(buf, n, "(%s & 128w0x%s)", col, hex);
}

void p4g_gate_close(struct p4g_out *o, int qi, int k, int nt)
{
    p4g_raw(o, "%s) {\n", nt > 1 ? ")" : "");
    p4g_line(o, "    meta.q%d_n%d_open = 0; /* the prefix is below the threshold so far */", qi, k);
    p4g_line(o, "}");
    o->indent--;
    p4g_line(o, "}");
    p4g_line(o, "if (meta.q%d_n%d_open == 0) {", qi, k);
    o->indent++;
    p4g_line(o, "/* gated: the host runs this tuple (it leaves as an overflow would) */");
}

void p4g_gate_open(struct p4g_out *o)
{
    o->indent--;
    p4g_line(o, "} else {");
    o->indent++;
}
