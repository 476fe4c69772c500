/*
 * parser.y - grammar of the .htq query language (bison, pure, LALR(1)).
 *
 * Thin by design: every action is one call into an ast_ builder (ast.c) with
 * the parse context. Precedence, lowest first: or, and, not, comparisons and
 * tests (== != < <= > >= in has contains startswith endswith), range (..),
 * bitwise | and &, + -, * / %, unary minus. docs/language.md has the grammar
 * in prose with examples; keep the two in step.
 */
%define api.pure full
%define parse.error detailed
%define api.location.type {struct loc}
%locations
%parse-param {struct parse_ctx *c}
%lex-param {void *scanner}

%code requires {
#include "ast.h"
}

%code provides {
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                            \
    do {                                                                       \
        (Cur) = (N) ? YYRHSLOC(Rhs, 1) : YYRHSLOC(Rhs, 0);                     \
    } while (0)
}

%code {
#include "lexer.h"

#include <string.h>
#define scanner (c->scanner)
static void yyerror(struct loc *l, struct parse_ctx *c, const char *msg)
{
    /* bison's stack limit (YYMAXDEPTH) is hit only by absurd nesting */
    if (strcmp(msg, "memory exhausted") == 0)
        diag_error(c->diag, *l, "query nested too deeply");
    else
        diag_error(c->diag, *l, "%s", msg);
}
}

%union {
    hts_value v;
    const char *s;
    struct ast_expr *e;
    struct ast_item *it;
    struct ast_list l;
    struct ast_stmt *st;
    struct ast_opnode *op;
    struct ast_source *src;
    struct ast_pipeline *pipe;
}

%token QUERY "query" LET "let" WINDOW "window" EVERY "every" REFINE "refine"
%token NETWORK_WIDE "network-wide"
%token BY "by" PACKETS "packets" FILTER "filter" MAP "map"
%token DISTINCT "distinct" GROUPBY "groupby" AGGREGATE "aggregate"
%token FOLD "fold" STATE "state" IF "if" ELSE "else" EMIT "emit" CLOSE "close"
%token EXPORT "export" SAMPLE "sample" IN "in" HISTOGRAM "histogram"
%token BUCKETS "buckets" JOIN "join" LEFT "left" ON "on"
%token AND "and" OR "or" NOT "not" HAS "has" CONTAINS "contains"
%token STARTSWITH "startswith" ENDSWITH "endswith" NOTIN "not in"
%token PIPE "'|' (pipe)" EQ "==" NE "!=" LE "<=" GE ">=" DOTDOT ".."
%token <v> LITERAL "literal" STRING "string"
%token <s> NAME "name"

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE IN NOTIN HAS CONTAINS STARTSWITH ENDSWITH
%nonassoc DOTDOT
%left '|'
%left '&'
%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS

%type <e> expr primary name window_len
%type <l> exprs args items levels keys stmts
%type <it> item
%type <st> stmt
%type <op> op
%type <src> source
%type <pipe> pipeline

%%

file
    : %empty
    | file query
    | file error '}'                  { yyerrok; }
    ;

/* query := 'query' NAME params? window? refine? 'network-wide'?
 *           '{' let* pipeline '}' */
query
    : QUERY NAME                      { ast_begin_query(c, @2, $2); }
      params window refine scope '{' bindings pipeline '}'
                                      { ast_end_query(c, $10); }
    ;

/* scope := 'network-wide': the sites' state is merged (docs/network-wide.md) */
scope
    : %empty
    | NETWORK_WIDE                    { ast_set_network_wide(c, @1); }
    ;

params
    : %empty
    | '(' ')'
    | '(' param_list ')'
    ;

param_list
    : param
    | param_list ',' param
    ;

param
    : NAME '=' expr                   { ast_add_param(c, @1, $1, $3); }
    ;

/* window := 'window' LEN ('every' LEN)? */
window
    : %empty
    | WINDOW window_len               { ast_set_window(c, $2, NULL); }
    | WINDOW window_len EVERY window_len { ast_set_window(c, $2, $4); }
    ;

window_len
    : LITERAL                         { $$ = ast_lit(c, @1, $1); }
    | name
    ;

/* refine := 'refine' NAME 'by' '/' LEN (',' '/' LEN)* */
refine
    : %empty
    | REFINE name BY levels           { ast_set_refine(c, $2, &$4); }
    ;

levels
    : '/' LITERAL                     { $$ = (struct ast_list){0}; ast_list_push(c, &$$, ast_lit(c, @2, $2)); }
    | levels ',' '/' LITERAL          { $$ = $1; ast_list_push(c, &$$, ast_lit(c, @4, $4)); }
    ;

bindings
    : %empty
    | bindings LET NAME '=' pipeline  { ast_add_binding(c, @3, $3, $5); }
    ;

/* pipeline := source ('|' op)* */
pipeline
    : source                          { $$ = ast_pipeline(c, $1); }
    | pipeline PIPE op                { $$ = $1; ast_list_push(c, &$$->ops, $3); }
    ;

/* source := 'packets' | NAME | source 'left'? 'join' NAME 'on' keys */
source
    : PACKETS                         { $$ = ast_src_packets(c, @1); }
    | NAME                            { $$ = ast_src_name(c, @1, $1); }
    | source JOIN NAME ON keys        { $$ = ast_src_join(c, @2, $1, false, ast_src_name(c, @3, $3), &$5); }
    | source LEFT JOIN NAME ON keys   { $$ = ast_src_join(c, @2, $1, true, ast_src_name(c, @4, $4), &$6); }
    ;

keys
    : name                            { $$ = (struct ast_list){0}; ast_list_push(c, &$$, $1); }
    | keys ',' name                   { $$ = $1; ast_list_push(c, &$$, $3); }
    ;

op
    : FILTER expr                     { $$ = ast_op(c, @1, K_FILTER); $$->expr = $2; }
    | MAP items                       { $$ = ast_op(c, @1, K_MAP); $$->items = $2; }
    | DISTINCT items                  { $$ = ast_op(c, @1, K_DISTINCT); $$->items = $2; }
    | GROUPBY items AGGREGATE items   { $$ = ast_op(c, @1, K_GROUPBY); $$->items = $2; $$->aggs = $4; }
    | FOLD BY items STATE items '{' stmts '}'
                                      { $$ = ast_op(c, @1, K_FOLD); $$->items = $3; $$->aggs = $5; $$->body = $7; }
    | FOLD BY items STATE items '{' stmts '}' CLOSE '{' stmts '}'
                                      { $$ = ast_op(c, @1, K_FOLD); $$->items = $3; $$->aggs = $5; $$->body = $7; $$->close = $11; }
    | EXPORT items                    { $$ = ast_op(c, @1, K_EXPORT); $$->items = $2; }
    | SAMPLE LITERAL IN expr          { $$ = ast_op(c, @1, K_SAMPLE); $$->expr = ast_lit(c, @2, $2); $$->n = $4; }
    | HISTOGRAM expr BUCKETS exprs    { $$ = ast_op(c, @1, K_HISTOGRAM); $$->expr = $2; $$->buckets = $4; }
    ;

items
    : item                            { $$ = (struct ast_list){0}; ast_list_push(c, &$$, $1); }
    | items ',' item                  { $$ = $1; ast_list_push(c, &$$, $3); }
    ;

item
    : NAME '=' expr                   { $$ = ast_item(c, @1, $1, $3); }
    | expr                            { $$ = ast_item(c, @1, NULL, $1); }
    ;

stmts
    : %empty                          { $$ = (struct ast_list){0}; }
    | stmts stmt                      { $$ = $1; ast_list_push(c, &$$, $2); }
    ;

/* stmt := NAME '=' expr | 'if' expr '{' stmt* '}' ('else' '{' stmt* '}')? | 'emit' */
stmt
    : NAME '=' expr                   { $$ = ast_assign(c, @1, $1, $3); }
    | IF expr '{' stmts '}'           { $$ = ast_if(c, @1, $2, &$4, NULL); }
    | IF expr '{' stmts '}' ELSE '{' stmts '}'
                                      { $$ = ast_if(c, @1, $2, &$4, &$8); }
    | EMIT                            { $$ = ast_emit(c, @1); }
    ;

expr
    : expr OR expr                    { $$ = ast_binary(c, @2, OP_OR, $1, $3); }
    | expr AND expr                   { $$ = ast_binary(c, @2, OP_AND, $1, $3); }
    | NOT expr                        { $$ = ast_unary(c, @1, OP_NOT, $2); }
    | expr EQ expr                    { $$ = ast_binary(c, @2, OP_EQ, $1, $3); }
    | expr NE expr                    { $$ = ast_binary(c, @2, OP_NE, $1, $3); }
    | expr '<' expr                   { $$ = ast_binary(c, @2, OP_LT, $1, $3); }
    | expr LE expr                    { $$ = ast_binary(c, @2, OP_LE, $1, $3); }
    | expr '>' expr                   { $$ = ast_binary(c, @2, OP_GT, $1, $3); }
    | expr GE expr                    { $$ = ast_binary(c, @2, OP_GE, $1, $3); }
    | expr IN expr                    { $$ = ast_binary(c, @2, OP_IN, $1, $3); }
    | expr NOTIN expr                 { $$ = ast_unary(c, @2, OP_NOT, ast_binary(c, @2, OP_IN, $1, $3)); }
    | expr HAS expr                   { $$ = ast_binary(c, @2, OP_HAS, $1, $3); }
    | expr CONTAINS expr              { $$ = ast_binary(c, @2, OP_CONTAINS, $1, $3); }
    | expr STARTSWITH expr            { $$ = ast_binary(c, @2, OP_STARTSWITH, $1, $3); }
    | expr ENDSWITH expr              { $$ = ast_binary(c, @2, OP_ENDSWITH, $1, $3); }
    | expr DOTDOT expr                { $$ = ast_range(c, @2, $1, $3); }
    | expr '|' expr                   { $$ = ast_binary(c, @2, OP_BOR, $1, $3); }
    | expr '&' expr                   { $$ = ast_binary(c, @2, OP_BAND, $1, $3); }
    | expr '+' expr                   { $$ = ast_binary(c, @2, OP_ADD, $1, $3); }
    | expr '-' expr                   { $$ = ast_binary(c, @2, OP_SUB, $1, $3); }
    | expr '*' expr                   { $$ = ast_binary(c, @2, OP_MUL, $1, $3); }
    | expr '/' expr                   { $$ = ast_binary(c, @2, OP_DIV, $1, $3); }
    | expr '%' expr                   { $$ = ast_binary(c, @2, OP_MOD, $1, $3); }
    | '-' expr %prec UMINUS           { $$ = ast_unary(c, @1, OP_NEG, $2); }
    | primary
    ;

primary
    : LITERAL                         { $$ = ast_lit(c, @1, $1); }
    | STRING                          { $$ = ast_lit(c, @1, $1); }
    | name
    | NAME '(' args ')'               { $$ = ast_call(c, @1, $1, &$3); }
    | '(' expr ')'                    { $$ = $2; }
    | '{' exprs '}'                   { $$ = ast_set(c, @1, &$2); }
    ;

name
    : NAME                            { $$ = ast_name(c, @1, $1); }
    ;

args
    : %empty                          { $$ = (struct ast_list){0}; }
    | exprs
    ;

exprs
    : expr                            { $$ = (struct ast_list){0}; ast_list_push(c, &$$, $1); }
    | exprs ',' expr                  { $$ = $1; ast_list_push(c, &$$, $3); }
    ;

%%
