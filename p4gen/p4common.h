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
    /* Tofino: a condition inside an action must compare an action
     * parameter, so `x = c ? a : b` is written as an if statement */
    bool no_cond_expr;
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
    /* NULL, or how this backend writes a comparison/test (an atom) as a
     * P4 boolean that is `want` (p4g_true/p4g_false call it); user: its own */
    void (*atom)(struct p4g_out *o, const struct p4g_ctx *c, const struct ast_expr *e,
                 bool want);
    void *user;
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
 * parser may set meta.eth_type and meta.vlan_depth (else the control does);
 * `skip_options`: IPv4 options are skipped with fixed advances (one state
 * per IHL) instead of extracted into a varbit header. */
void p4g_parser_states(struct p4g_out *o, const char *pkt, bool meta, bool skip_options);
/* Whether layout l is sent per packet by the data plane (not by the
 * control plane at window close). */
bool p4g_per_packet(const struct plan *p, const struct rep_layout *l);
/* Name of layout l's header: rec_qQ_nK_tuple ... */
void p4g_rec_name(char *buf, size_t n, const struct rep_layout *l);
/* Sets record header h valid with layout l's record header fields. */
void p4g_rec_common(struct p4g_out *o, const char *h, const struct rep_layout *l, const char *ts);
/* The presence bits and values of tuple/row record L, written to fields
 * DST NAME SEP presence and DST NAME SEP vC_COL ("hdr." "rec_q0_n1_tuple"
 * '.': the record header itself). vnames (or NULL) names column c's field
 * DST vnames[c] instead (TNA's mirror header, where records share packet
 * fields); shared[c] (or NULL): the caller writes that field (the packet's
 * own, or 0), so only its presence is set here. ptable (or NULL): the presence comes from that
 * table (p4g_presence_table) instead of a statement per column. */
void p4g_rec_values(struct p4g_out *o, const struct plan *p, const struct p4g_arch *a,
                    const struct rep_layout *L, const char *dst, const char *name, char sep,
                    const char *const *vnames, const bool *shared, const char *ptable);
/* Declares table TNAME (and its action) that sets record L's presence,
 * DST NAME SEP presence, in one step: keyed by the distinct validity tests
 * of its columns, one const entry per combination. `presence = presence |
 * bit` in every column's block is a read-modify-write chain, one Tofino
 * stage per column; the table is one. false (nothing written) when the
 * record has more than 8 distinct tests. */
bool p4g_presence_table(struct p4g_out *o, const struct plan *p, const struct p4g_arch *a,
                        const struct rep_layout *L, const char *dst, const char *name,
                        char sep, const char *tname);
/* Packet records: how many layouts, their header types, and the statements
 * that fill hdr.rec_packet / hdr.rec_targets (locals count, meta.npkt). */
int p4g_packet_layouts(const struct plan *p);
void p4g_rec_packet_headers(struct p4g_out *o);
struct p4g_pkt_rec {
    const char *flag;     /* prefix of the record flags: "meta.r_" */
    const char *ts;       /* the record timestamp */
    const char *wire_len; /* the frame length ("0": unknown) */
    const char *port;     /* the ingress port */
    bool zero_len;        /* record length 0: "to the end of the frame" */
};
void p4g_packet_records(struct p4g_out *o, const struct plan *p, int npkt,
                        const struct p4g_pkt_rec *r);

/* ---- filters as ternary tables ----
 * A filter on packet fields that is a disjunction of conjunctions of
 * field == constant, field in prefix/set, field has flags becomes one
 * ternary table: one key per field plus the validity bit of each header. */
#define P4G_MAX_TERMS 64
#define P4G_MAX_KEYS 16

struct p4g_atom {
    int field;
    hts_value v; /* the constant: INT, IPV4/6, MAC, or a prefix */
    int has;     /* flag test: value and mask are the constant */
};

struct p4g_term {
    struct p4g_atom a[P4G_MAX_KEYS];
    int n;
};

struct p4g_dnf {
    struct p4g_term t[P4G_MAX_TERMS];
    int nt;
    int keys[P4G_MAX_KEYS]; /* fields, in key order */
    int nkeys;
};

/* Whether filter n is such a table (d: its terms and keys). */
bool p4g_filter_dnf(const struct p4g_arch *a, const struct ir_node *n, struct p4g_dnf *d);
/* The validity keys of d (each header its fields need), as P4 booleans
 * "hdr.tcp.isValid()"; and the metadata bit a table matches for one. */
int p4g_valid_keys(const struct p4g_dnf *d, const char **v);
void p4g_valid_key(char *buf, size_t n, const char *valid);
/* Term t's atom on `field` (NULL: don't care), whether t needs header
 * validity `valid`, and an atom's ternary value and mask in hex (buffers
 * of 40 bytes). */
const struct p4g_atom *p4g_term_atom(const struct p4g_term *t, int field);
bool p4g_term_needs(const struct p4g_term *t, const char *valid);
void p4g_atom_ternary(const struct p4g_atom *a, char *val, char *mask);

/* The report frame's header members (in emit order: report, records,
 * packet record), their emits in a deparser (pkt: the packet_out), and the
 * statements that fill the Ethernet and report headers but count and seq. */
void p4g_report_members(struct p4g_out *o, const struct plan *p, int npkt);
void p4g_report_emits(struct p4g_out *o, const struct plan *p, int npkt, const char *pkt);
void p4g_report_frame_hdrs(struct p4g_out *o);

/* ---- statements shared by the backends ---- */
/* Whether query qi sends row records per packet (so needs its window start,
 * meta.qQ_ws), and the table the control plane sets it with. */
bool p4g_window_query(const struct plan *p, int qi);
void p4g_window_table(struct p4g_out *o, int qi);
/* Column i of a map/export/keys node n: a boolean column whole (value and
 * validity, true: done), else its validity line "meta.qQ_nK_cI_v = ...;"
 * and the indent of the value line, which the backend writes (false). */
bool p4g_assign_col_valid(struct p4g_out *o, const struct p4g_ctx *c, int qi,
                          const struct ir_node *n, int i);
/* "if (every key column of n is present) {", indented. */
void p4g_keys_valid(struct p4g_out *o, int qi, const struct ir_node *n);
/* Node n passes the tuple on: meta.qQ_nK = 1, or (probe: after a distinct)
 * its input's flag and probe bit. */
void p4g_pass_on(struct p4g_out *o, int qi, const struct ir_node *n, bool probe);
/* Filter n as an if on its three-valued condition (c: its context). */
void p4g_filter_if(struct p4g_out *o, const struct p4g_ctx *c, int qi, const struct ir_node *n,
                   bool probe);

/* ---- thresholds and refinement ---- */
/* One atom of a threshold filter (plan.c threshold_ok: a conjunction of
 * agg >= c, agg > c, c <= agg, c < agg): the column compared, whether the
 * comparison is strict, the constant. */
struct p4g_thresh {
    int col;
    bool strict;
    int64_t c;
};
#define P4G_MAX_THRESH 16
/* The atoms of threshold condition e, in order (nested `and`s flattened):
 * their count; at most max are written (p4g_generate refuses a plan with
 * more than P4G_MAX_THRESH, so the backends see them all). */
int p4g_thresholds(const struct ast_expr *e, struct p4g_thresh *t, int max);
/* The refined data-plane groupby whose gate is node k of pq, or -1. */
int p4g_gate_of(const struct plan_query *pq, int k);
/* The aggregates (bit a: aggregate a) refined groupby k's gate reads: the
 * ones its coarse level keeps. */
unsigned p4g_gate_aggs(const struct plan_query *pq, int k);

/*
 * The end of a refinement gate's test (both architectures): closes the
 * condition the caller opened with "if (!(" and nt conjuncts, clears
 * meta.q<qi>_n<k>_open when the prefix is below the threshold, and opens
 * "if (open == 0) {" for the gated path; the caller then marks the tuple to
 * leave as an overflow does, and p4g_gate_open() turns to the fine level
 * ("} else {"), which the caller closes.
 */
void p4g_gate_close(struct p4g_out *o, int qi, int k, int nt);
void p4g_gate_open(struct p4g_out *o);
/* "(COL & MASK)": address column `col` (IPv4 or IPv6) masked to its first
 * len bits, as a refined groupby's coarse key (the model's mask_key). */
void p4g_masked_col(char *buf, size_t n, const char *col, enum hts_type type, int len);

#endif
