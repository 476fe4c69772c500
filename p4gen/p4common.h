/*
 * p4common.h - what every P4 backend shares: how catalogue fields are read
 * from parsed headers, how expressions become P4 (with the language's
 * three-valued logic), the standard headers and parser, the report record
 * headers, and the names of generated objects. Internal to p4gen/.
 *
 * Naming: node k of query q is qQ_nK; its metadata, tables, actions and
 * registers carry that prefix, so a reader can find in the P4 where each IR
 * node went (`htsc explain --target` prints the same ids).
 */
#ifndef HTS_P4COMMON_H
#define HTS_P4COMMON_H

#include "p4gen.h"

/* How a catalogue field is read in P4 (per architecture: a few differ). */
struct p4g_field {
    const char *expr;  /* P4 expression of its value, NULL: not parsed */
    const char *valid; /* P4 boolean: the field is present */
    int bits;          /* width of expr */
};

/* Architecture-specific spellings the shared code needs. */
struct p4g_arch {
    const char *ts;         /* meta.ts source statement's right side */
    const char *pkt_len;    /* packet length (bytes), bit<32> */
    const char *in_port;    /* ingress port, any width */
    /* pkt_len NULL: the architecture does not know a frame's length, so
     * meta.wire_len and meta.cap_len cannot run in its data plane */
};

/* The field table for an architecture: NULL expr where the generated
 * parser does not extract the field. */
const struct p4g_field *p4g_field_of(const struct p4g_arch *a, int field);

/* Checks that every field the data-plane part of p reads has a P4 form;
 * 0, or -EINVAL naming the first that does not. */
int p4g_check_fields(const struct plan *p, const struct p4g_arch *a, char *err,
                     size_t errlen);

/* Translation of expressions. `pfx` names the metadata of the node whose
 * columns REF_COL refers to (the input node), e.g. "meta.q0_n2". */
struct p4g_ctx {
    const struct p4g_arch *a;
    const struct ir_node *in; /* the input node (columns) */
    char colpfx[64];          /* "meta.qQ_nK" of the input node */
};

/* Writes the P4 value of an int/address expression, as bit<64> for ints
 * (two's complement, as the language), at native width for addresses. */
void p4g_value(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e);
/* P4 boolean: e is present (every field and column it reads is). */
void p4g_valid(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e);
/* P4 boolean: e is true (three-valued: absent operands are not true). */
void p4g_true(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e);
/* P4 boolean: e is false (absent operands are not false either). */
void p4g_false(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e);

/* The node whose metadata holds node k's output columns (a filter passes
 * its input's columns on), and the context for expressions reading them. */
int p4g_colsrc(const struct ir_query *q, int k);
void p4g_ctx_for(struct p4g_ctx *c, const struct p4g_arch *a, int qi,
                 const struct ir_query *q, const struct ir_node *in);
/* A column name safe in P4 identifiers. */
void p4g_sanitize(char *out, size_t n, const char *name);

/* P4 type of a column / value type ("bit<64>", "bit<32>"...). */
const char *p4g_type(enum hts_type t, int bits);
/* Bytes a column or key takes (as in reports and register keys). */
int p4g_col_bytes(const struct ir_col *c);

/* ---- sections shared by the backends ---- */
void p4g_banner(struct p4g_out *o, const struct plan *p, const struct p4g_target *t);
void p4g_constants(struct p4g_out *o, const struct plan *p);
void p4g_std_headers(struct p4g_out *o);
/* One header type per report layout sent per packet, and report_t. */
void p4g_report_headers(struct p4g_out *o, const struct plan *p);
/* The members of struct headers_t: report headers first (emit order). */
void p4g_header_members(struct p4g_out *o, const struct plan *p);
/* Parser states for Ethernet/VLAN/IPv4/IPv6/TCP/UDP/ICMP; `meta`: the
 * parser may set meta.eth_type and meta.vlan_depth (else the control does). */
void p4g_parser_states(struct p4g_out *o, const char *pkt, bool meta);
/* Whether layout l is sent per packet by the data plane (not by the
 * control plane at window close). */
bool p4g_per_packet(const struct plan *p, const struct rep_layout *l);
/* Name of layout l's header: rec_qQ_nK_tuple ... */
void p4g_rec_name(char *buf, size_t n, const struct rep_layout *l);

#endif
