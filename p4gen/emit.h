/*
 * emit.h - the writer every P4 backend prints through (struct p4g_out):
 * indentation and error state for one output file.
 */
#ifndef HTS_P4EMIT_H
#define HTS_P4EMIT_H

#include <stdarg.h>
#include <stdio.h>

/* The emitter: indentation and error state for one output file. */
struct p4g_out {
    FILE *f;
    int indent;
    int err;
};

__attribute__((format(printf, 2, 3))) void p4g_line(struct p4g_out *o,
                                                    const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void p4g_raw(struct p4g_out *o,
                                                   const char *fmt, ...);
void p4g_blank(struct p4g_out *o);                   /* an empty line */
void p4g_indent(struct p4g_out *o);                  /* indentation, no newline */
void p4g_open(struct p4g_out *o, const char *head); /* "head {" and indent */
void p4g_close(struct p4g_out *o, const char *tail); /* "}" + tail */

#endif
