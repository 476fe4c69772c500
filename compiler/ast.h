/*
 * ast.h - the abstract syntax tree of .htq files, and its builders.
 *
 * The bison grammar (parser.y) stays thin: each action is one call to an
 * ast_ builder below. Nodes live in the parse's arena and die with it. The
 * semantic pass (sema.c) annotates expressions in place (type, what a name
 * refers to) and lowers pipelines to the IR; the executor then evaluates
 * those annotated expressions directly.
 */
#ifndef HTS_AST_H
#define HTS_AST_H

#include "arena.h"
#include "diag.h"
#include "value.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- expressions ----------------------------------------------------------
 * OPERATOR ORDER: the parser's precedence, sema's typing rules and the
 * executor's evaluator all switch over this list. */
#define HTS_OPS(X)                                                             \
    X(OR, "or")                                                                \
    X(AND, "and")                                                              \
    X(NOT, "not")                                                              \
    X(EQ, "==")                                                                \
    X(NE, "!=")                                                                \
    X(LT, "<")                                                                 \
    X(LE, "<=")                                                                \
    X(GT, ">")                                                                 \
    X(GE, ">=")                                                                \
    X(IN, "in")          /* set, prefix or range membership */                 \
    X(HAS, "has")        /* flag bits all set / set contains */                \
    X(CONTAINS, "contains")                                                    \
    X(STARTSWITH, "startswith")                                                \
    X(ENDSWITH, "endswith")                                                    \
    X(BOR, "|")                                                                \
    X(BAND, "&")                                                               \
    X(ADD, "+")                                                                \
    X(SUB, "-")                                                                \
    X(MUL, "*")                                                                \
    X(DIV, "/")          /* on an address: prefix mask */                      \
    X(MOD, "%")                                                                \
    X(NEG, "-")

enum ast_op {
#define X(id, text) OP_##id,
    HTS_OPS(X)
#undef X
        OP__COUNT
};
extern const char *const ast_op_text[OP__COUNT];

/* AGGREGATE ORDER: sema, the executor and the IR printer follow this list. */
#define HTS_AGGS(X)                                                            \
    X(COUNT, "count")                                                          \
    X(SUM, "sum")                                                              \
    X(MIN, "min")                                                              \
    X(MAX, "max")                                                              \
    X(AVG, "avg")                                                              \
    X(APPROX_DISTINCT, "approx_distinct") /* HyperLogLog (exec/hll.h) */       \
    X(APPROX_COUNT, "approx_count")       /* Count-Min (exec/cms.h) */         \
    X(APPROX_SUM, "approx_sum")

enum ast_agg {
    AGG_NONE = -1,
#define X(id, text) AGG_##id,
    HTS_AGGS(X)
#undef X
        AGG__COUNT
};
extern const char *const ast_agg_text[AGG__COUNT];

enum expr_kind {
    E_LIT,   /* lit holds the value */
    E_NAME,  /* a dotted name; sema resolves it (ref_kind, ref) */
    E_UNARY, /* op a */
    E_BINARY,/* a op b */
    E_CALL,  /* name(args): aggregate or scalar function */
    E_SET,   /* { args } */
    E_RANGE, /* a .. b */
};

/* Expressions deeper than this are refused: every pass over them recurses,
 * and a left-nested chain (a+1+1+...) never deepens bison's stack. */
#define AST_MAX_DEPTH 1000

/* what a name resolved to (set by sema) */
enum ref_kind {
    REF_NONE,
    REF_FIELD, /* catalogue field id (packet-level input) */
    REF_COL,   /* column index of the operator's input schema */
    REF_STATE, /* fold state variable index */
    REF_PARAM, /* replaced by its value: kind becomes E_LIT */
};

struct ast_expr {
    enum expr_kind kind;
    enum ast_op op;
    struct loc loc;
    struct ast_expr *a, *b;
    struct ast_expr **args;
    int nargs;
    const char *name; /* E_NAME, E_CALL */
    hts_value lit;    /* E_LIT */
    int depth;        /* height of the tree below, bounded (AST_MAX_DEPTH) */
    /* filled by sema */
    enum hts_type type;
    enum ref_kind ref_kind;
    int ref;
    enum ast_agg agg; /* E_CALL of an aggregate */
    int fn;           /* E_CALL of a scalar function (enum in sema.h) */
};

/* name = expr (map, export, keys, aggregates, fold state, params) */
struct ast_item {
    const char *name; /* NULL: taken from a plain name expression */
    struct ast_expr *expr;
    struct loc loc;
};

struct ast_list { /* growable array of pointers */
    void **v;
    int n, cap;
};

/* ---- fold statements ---- */
enum stmt_kind { S_ASSIGN, S_IF, S_EMIT };
struct ast_stmt {
    enum stmt_kind kind;
    struct loc loc;
    const char *name;      /* S_ASSIGN target */
    struct ast_expr *expr; /* S_ASSIGN value, S_IF condition */
    struct ast_list then_, else_; /* S_IF: struct ast_stmt * */
    int ref; /* S_ASSIGN: state variable index (sema) */
};

/* ---- pipeline operators ----
 * OPERATOR KIND ORDER: ir.h's IR_ kinds and the IR printer follow this list. */
#define HTS_OPKINDS(X)                                                         \
    X(FILTER, "filter")                                                        \
    X(MAP, "map")                                                              \
    X(DISTINCT, "distinct")                                                    \
    X(GROUPBY, "groupby")                                                      \
    X(FOLD, "fold")                                                            \
    X(EXPORT, "export")                                                        \
    X(SAMPLE, "sample")                                                        \
    X(HISTOGRAM, "histogram")

enum op_kind {
#define X(id, text) K_##id,
    HTS_OPKINDS(X)
#undef X
        K__COUNT
};
extern const char *const ast_opkind_text[K__COUNT];

struct ast_opnode {
    enum op_kind kind;
    struct loc loc;
    struct ast_expr *expr;   /* filter predicate, histogram value */
    struct ast_list items;   /* map/export outputs, keys: struct ast_item * */
    struct ast_list aggs;    /* groupby aggregates, fold state: ast_item * */
    struct ast_list body;    /* fold update: struct ast_stmt * */
    struct ast_list close;   /* fold: statements run per key at window close */
    struct ast_list buckets; /* histogram edges: struct ast_expr * */
    struct ast_expr *n;      /* sample 1 in n */
};

enum src_kind { SRC_PACKETS, SRC_NAME, SRC_JOIN };
struct ast_source {
    enum src_kind kind;
    struct loc loc;
    const char *name;         /* SRC_NAME */
    struct ast_source *left;  /* SRC_JOIN */
    struct ast_source *right; /* SRC_JOIN: an SRC_NAME */
    struct ast_list keys;     /* SRC_JOIN: struct ast_expr * (names) */
    bool left_join;
};

struct ast_pipeline {
    struct ast_source *src;
    struct ast_list ops; /* struct ast_opnode * */
};

struct ast_binding {
    const char *name;
    struct loc loc;
    struct ast_pipeline *pipe;
};

struct ast_query {
    const char *name;
    struct loc loc;
    struct ast_list params;   /* struct ast_item *: name = literal */
    struct ast_expr *window;  /* NULL: no window */
    struct ast_expr *every;   /* hop, NULL: tumbling */
    struct ast_expr *refine;  /* the address key named by refine */
    struct ast_list levels;   /* struct ast_expr *: prefix lengths */
    bool network_wide;        /* 'network-wide': merged across sites */
    struct loc network_loc;
    struct ast_list bindings; /* struct ast_binding * */
    struct ast_pipeline *result;
};

struct ast_file {
    const struct src_file *src;
    struct ast_list queries; /* struct ast_query * */
};

/* ---- parse context and builders (called from parser.y) ---- */
struct parse_ctx {
    struct arena *arena;
    struct diag *diag;
    const struct src_file *src;
    struct ast_file *file;
    void *scanner;
    int line, col; /* where the lexer is: the next character's position */
    struct ast_query *q; /* the query being parsed */
    bool too_deep;       /* reported an over-deep expression */
};

void ast_list_push(struct parse_ctx *c, struct ast_list *l, void *x);

struct ast_expr *ast_lit(struct parse_ctx *c, struct loc l, hts_value v);
struct ast_expr *ast_name(struct parse_ctx *c, struct loc l, const char *name);
struct ast_expr *ast_unary(struct parse_ctx *c, struct loc l, enum ast_op op,
                           struct ast_expr *a);
struct ast_expr *ast_binary(struct parse_ctx *c, struct loc l, enum ast_op op,
                            struct ast_expr *a, struct ast_expr *b);
struct ast_expr *ast_call(struct parse_ctx *c, struct loc l, const char *name,
                          struct ast_list *args);
struct ast_expr *ast_set(struct parse_ctx *c, struct loc l,
                         struct ast_list *elems);
struct ast_expr *ast_range(struct parse_ctx *c, struct loc l,
                           struct ast_expr *lo, struct ast_expr *hi);
struct ast_item *ast_item(struct parse_ctx *c, struct loc l, const char *name,
                          struct ast_expr *e);
struct ast_stmt *ast_assign(struct parse_ctx *c, struct loc l,
                            const char *name, struct ast_expr *e);
struct ast_stmt *ast_if(struct parse_ctx *c, struct loc l,
                        struct ast_expr *cond, struct ast_list *then_,
                        struct ast_list *else_);
struct ast_stmt *ast_emit(struct parse_ctx *c, struct loc l);
struct ast_opnode *ast_op(struct parse_ctx *c, struct loc l, enum op_kind k);
struct ast_source *ast_src_packets(struct parse_ctx *c, struct loc l);
struct ast_source *ast_src_name(struct parse_ctx *c, struct loc l,
                                const char *name);
struct ast_source *ast_src_join(struct parse_ctx *c, struct loc l,
                                struct ast_source *left, bool left_join,
                                struct ast_source *right,
                                struct ast_list *keys);
struct ast_pipeline *ast_pipeline(struct parse_ctx *c, struct ast_source *s);
void ast_begin_query(struct parse_ctx *c, struct loc l, const char *name);
void ast_add_param(struct parse_ctx *c, struct loc l, const char *name,
                   struct ast_expr *value);
void ast_set_window(struct parse_ctx *c, struct ast_expr *size,
                    struct ast_expr *every);
void ast_set_network_wide(struct parse_ctx *c, struct loc l);
void ast_set_refine(struct parse_ctx *c, struct ast_expr *key,
                    struct ast_list *levels);
void ast_add_binding(struct parse_ctx *c, struct loc l, const char *name,
                     struct ast_pipeline *p);
void ast_end_query(struct parse_ctx *c, struct ast_pipeline *result);

#endif
