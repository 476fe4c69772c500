/*
 * parse.h - the front door of the language: source text to AST (parse.c
 * runs the flex lexer and the bison grammar over it).
 */
#ifndef HTS_PARSE_H
#define HTS_PARSE_H

#include "ast.h"

#include <stddef.h>

/* Parses one source into c->file (allocated in c->arena). Returns 0, or
 * -EINVAL when diagnostics were reported. Never exits, never crashes on any
 * input bytes. */
int ast_parse(struct arena *arena, struct diag *d, const struct src_file *src,
              struct ast_file **out);

/* Parses `text` as one literal (for --set NAME=VALUE); 0 or -EINVAL. */
int ast_parse_literal(const char *text, hts_value *out, struct arena *arena,
                      char *err, size_t errlen);

#endif
