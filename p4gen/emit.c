/*
 * emit.c - the one printf-checked writer of generated P4 and entries:
 * lines at the current indentation, blocks opened and closed, the first
 * write error kept.
 */
#include "emit.h"

#include <errno.h>
#include <stdbool.h>

static void vput(struct p4g_out *o, bool indent, const char *fmt, va_list ap)
{
    if (indent)
        for (int i = 0; i < o->indent; i++)
            if (fputs("    ", o->f) == EOF)
                o->err = -EIO;
    if (vfprintf(o->f, fmt, ap) < 0)
        o->err = -EIO;
}

void p4g_line(struct p4g_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(o, true, fmt, ap);
    va_end(ap);
    if (fputc('\n', o->f) == EOF)
        o->err = -EIO;
}

void p4g_blank(struct p4g_out *o)
{
    if (fputc('\n', o->f) == EOF)
        o->err = -EIO;
}

void p4g_indent(struct p4g_out *o)
{
    for (int i = 0; i < o->indent; i++)
        if (fputs("    ", o->f) == EOF)
            o->err = -EIO;
}

void p4g_raw(struct p4g_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(o, false, fmt, ap);
    va_end(ap);
}

void p4g_open(struct p4g_out *o, const char *head)
{
    p4g_line(o, "%s {", head);
    o->indent++;
}

void p4g_close(struct p4g_out *o, const char *tail)
{
    o->indent--;
    p4g_line(o, "}%s", tail);
}
