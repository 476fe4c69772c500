/*
 * ir.c - printing the IR: a text form for people and golden tests, and
 * Graphviz DOT for pictures.
 *
 * The text form is stable on purpose (golden files compare it): one line per
 * node in topological order, "%id kind(inputs) details :: (schema) @line:col".
 */
#include "ir.h"

#include "fields.h"

#include <stdlib.h>
#include <string.h>

static void print_value(const hts_value *v, FILE *out)
{
    char buf[256];
    if (v->type == TY_STR) {
        hts_value_json(v, buf, sizeof buf);
    } else {
        hts_value_text(v, buf, sizeof buf);
    }
    fputs(buf, out);
}

static const char *col_name(const struct ir_node *in, int i)
{
    return in && i >= 0 && i < in->ncols ? in->cols[i].name : "?";
}

void ir_expr_print(const struct ast_expr *e, const struct ir_node *in,
                   FILE *out)
{
    switch (e->kind) {
    case E_LIT:
        if (e->name && e->ref_kind != REF_PARAM)
            fputs(e->name, out); /* a named constant: SYN, DNS_RRSIG... */
        else
            print_value(&e->lit, out);
        return;
    case E_NAME:
        if (e->ref_kind == REF_COL)
            fputs(col_name(in, e->ref), out);
        else
            fputs(e->name, out);
        return;
    case E_UNARY:
        if (e->op == OP_NOT && e->a->kind == E_BINARY && e->a->op == OP_IN) {
            fputc('(', out);
            ir_expr_print(e->a->a, in, out);
            fputs(" not in ", out);
            ir_expr_print(e->a->b, in, out);
            fputc(')', out);
            return;
        }
        fputs(e->op == OP_NOT ? "not " : "-", out);
        ir_expr_print(e->a, in, out);
        return;
    case E_BINARY:
        fputc('(', out);
        ir_expr_print(e->a, in, out);
        fprintf(out, " %s ", ast_op_text[e->op]);
        ir_expr_print(e->b, in, out);
        fputc(')', out);
        return;
    case E_CALL:
        fprintf(out, "%s(", e->name);
        for (int i = 0; i < e->nargs; i++) {
            if (i)
                fputs(", ", out);
            ir_expr_print(e->args[i], in, out);
        }
        fputc(')', out);
        return;
    case E_SET:
        fputc('{', out);
        for (int i = 0; i < e->nargs; i++) {
            if (i)
                fputs(", ", out);
            ir_expr_print(e->args[i], in, out);
        }
        fputc('}', out);
        return;
    case E_RANGE:
        ir_expr_print(e->a, in, out);
        fputs("..", out);
        ir_expr_print(e->b, in, out);
        return;
    }
}

static void print_schema(const struct ir_node *n, FILE *out)
{
    if (n->packet) {
        fputs("packet", out);
        return;
    }
    fputc('(', out);
    for (int i = 0; i < n->ncols; i++)
        fprintf(out, "%s%s %s", i ? ", " : "", n->cols[i].name,
                hts_type_name(n->cols[i].type));
    fputc(')', out);
}

static void print_stmts(struct ast_stmt **body, int n, const struct ir_node *in,
                        const struct ir_node *self, FILE *out)
{
    for (int i = 0; i < n; i++) {
        const struct ast_stmt *st = body[i];
        if (i)
            fputs("; ", out);
        switch (st->kind) {
        case S_EMIT:
            fputs("emit", out);
            break;
        case S_ASSIGN:
            fprintf(out, "%s = ", st->name);
            ir_expr_print(st->expr, in, out);
            break;
        case S_IF:
            fputs("if ", out);
            ir_expr_print(st->expr, in, out);
            fputs(" { ", out);
            print_stmts((struct ast_stmt **)st->then_.v, st->then_.n, in, self, out);
            fputs(" }", out);
            if (st->else_.n) {
                fputs(" else { ", out);
                print_stmts((struct ast_stmt **)st->else_.v, st->else_.n, in, self, out);
                fputs(" }", out);
            }
            break;
        }
    }
}

/* the operator's own arguments, without inputs and schema */
static void print_details(const struct ir_node *n, FILE *out)
{
    const struct ir_node *in = n->in[0];
    switch (n->kind) {
    case IR_FILTER:
    case IR_HISTOGRAM:
        ir_expr_print(n->expr, in, out);
        if (n->kind == IR_HISTOGRAM) {
            fputs(" buckets", out);
            for (int i = 0; i < n->nedges; i++)
                fprintf(out, "%s %lld", i ? "," : "", (long long)n->edges[i]);
        }
        break;
    case IR_MAP:
    case IR_EXPORT:
    case IR_DISTINCT:
    case IR_GROUPBY:
    case IR_FOLD:
        if (n->kind == IR_GROUPBY || n->kind == IR_FOLD)
            fputs("by ", out);
        for (int i = 0; i < n->nexprs; i++) {
            if (i)
                fputs(", ", out);
            const struct ast_expr *e = n->exprs[i];
            const char *shown = e->kind != E_NAME ? NULL
                                : e->ref_kind == REF_COL ? col_name(in, e->ref)
                                                         : e->name;
            if (!shown || strcmp(shown, n->cols[i].name) != 0)
                fprintf(out, "%s = ", n->cols[i].name);
            ir_expr_print(e, in, out);
        }
        if (n->kind == IR_GROUPBY || n->kind == IR_FOLD) {
            fputs(n->kind == IR_GROUPBY ? " aggregate " : " state ", out);
            for (int i = 0; i < n->naggs; i++) {
                fprintf(out, "%s%s = ", i ? ", " : "", n->cols[n->nkeys + i].name);
                ir_expr_print(n->aggs[i], in, out);
            }
            if (n->sketch) /* the sketch's size is exec/cms.h's */
                fprintf(out, " sketch count-min, keys kept from %s >= %lld",
                        n->cols[n->nkeys + n->sketch_agg].name, (long long)n->sketch_min);
        }
        if (n->kind == IR_FOLD) {
            fputs(" { ", out);
            print_stmts(n->body, n->nbody, in, n, out);
            fputs(" }", out);
            if (n->nclose) {
                fputs(" close { ", out);
                print_stmts(n->close, n->nclose, in, n, out);
                fputs(" }", out);
            }
        }
        break;
    case IR_SAMPLE:
        fprintf(out, "1 in %lld", (long long)n->sample_n);
        break;
    case IR_JOIN:
        fprintf(out, "%son ", n->left_join ? "left " : "");
        for (int k = 0; k < n->njk; k++)
            fprintf(out, "%s%s", k ? ", " : "", n->cols[k].name);
        break;
    default:
        break;
    }
}

static void print_duration(int64_t ns, FILE *out)
{
    static const struct { const char *u; int64_t m; } units[] = {
        {"h", 3600000000000LL}, {"m", 60000000000LL}, {"s", 1000000000LL},
        {"ms", 1000000LL}, {"us", 1000LL}, {"ns", 1}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ns % units[i].m == 0) {
            fprintf(out, "%lld%s", (long long)(ns / units[i].m), units[i].u);
            return;
        }
}

void ir_dump(const struct ir_program *p, FILE *out)
{
    for (int qi = 0; qi < p->nqueries; qi++) {
        const struct ir_query *q = p->queries[qi];
        if (qi)
            fputc('\n', out);
        fprintf(out, "query %s", q->name);
        if (q->window_ns) {
            fputs(" window ", out);
            print_duration(q->window_ns, out);
            if (q->hop_ns != q->window_ns) {
                fputs(" every ", out);
                print_duration(q->hop_ns, out);
            }
        }
        fprintf(out, " %s", q->per_packet ? "per-packet" : "windowed");
        if (q->nparams) {
            fputs(" params", out);
            for (int i = 0; i < q->nparams; i++) {
                fprintf(out, "%s %s=", i ? "," : "", q->params[i].name);
                print_value(&q->params[i].value, out);
            }
        }
        if (q->refine_key) {
            fprintf(out, " refine %s", q->refine_key);
            for (int i = 0; i < q->nlevels; i++)
                fprintf(out, "%s/%d", i ? "," : " ", q->levels[i]);
        }
        if (q->network_wide)
            fputs(" network-wide", out);
        fputc('\n', out);
        for (int i = 0; i < q->nnodes; i++) {
            const struct ir_node *n = q->nodes[i];
            fprintf(out, "  %%%d = %s", n->id, ir_kind_text[n->kind]);
            if (n->nin) {
                fputc('(', out);
                for (int k = 0; k < n->nin; k++)
                    fprintf(out, "%s%%%d", k ? ", " : "", n->in[k]->id);
                fputc(')', out);
            }
            fputc(' ', out);
            print_details(n, out);
            fputs(" :: ", out);
            print_schema(n, out);
            fprintf(out, " @%d:%d", n->loc.line, n->loc.col);
            if (n->label)
                fprintf(out, " [%s]", n->label);
            fputc('\n', out);
        }
        fprintf(out, "  output %%%d\n", q->root ? q->root->id : -1);
    }
}

/* DOT labels: escape what DOT's quoted strings and record syntax care about */
static void dot_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

void ir_dump_dot(const struct ir_program *p, FILE *out)
{
    fputs("digraph htsq {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", "
          "fillcolor=white, fontname=\"Helvetica\"];\n", out);
    for (int qi = 0; qi < p->nqueries; qi++) {
        const struct ir_query *q = p->queries[qi];
        fprintf(out, "  subgraph cluster_%d {\n    label=\"", qi);
        dot_escaped(out, q->name);
        fputs("\";\n", out);
        for (int i = 0; i < q->nnodes; i++) {
            const struct ir_node *n = q->nodes[i];
            char *buf = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&buf, &len);
            if (!m)
                continue;
            fprintf(m, "%s", ir_kind_text[n->kind]);
            if (n->label)
                fprintf(m, " [%s]", n->label);
            fputs("\n", m);
            print_details(n, m);
            fputs("\n", m);
            print_schema(n, m);
            fclose(m);
            fprintf(out, "    q%d_n%d [label=\"", qi, n->id);
            for (char *c = buf; *c; c++) {
                if (*c == '\n')
                    fputs("\\n", out);
                else if (*c == '"' || *c == '\\')
                    fprintf(out, "\\%c", *c);
                else
                    fputc(*c, out);
            }
            fprintf(out, "\", fillcolor=\"%s\"];\n",
                    ir_kind_stateful(n->kind) ? "#fde9c9" : "#ddeeff");
            free(buf);
        }
        for (int i = 0; i < q->nnodes; i++) {
            const struct ir_node *n = q->nodes[i];
            for (int k = 0; k < n->nin; k++)
                fprintf(out, "    q%d_n%d -> q%d_n%d;\n", qi, n->in[k]->id, qi, n->id);
        }
        if (q->root)
            fprintf(out, "    q%d_out [label=\"rows\", shape=note];\n    q%d_n%d -> q%d_out;\n",
                    qi, qi, q->root->id, qi);
        fputs("  }\n", out);
    }
    fputs("}\n", out);
}
