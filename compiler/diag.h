/*
 * diag.h - source files, locations and gcc-shaped diagnostics.
 *
 * Every token, AST node and IR node carries a struct loc. Errors are collected
 * on a struct diag context (SQLite's way: report, keep going, let the caller
 * decide), then printed as
 *
 *     file:line:col: error: message
 *      line of source
 *           ^
 *
 * so tests can compare them as golden text and users see several at once.
 */
#ifndef HTS_DIAG_H
#define HTS_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct src_file {
    char *name;
    char *text; /* NUL-terminated copy of the file */
    size_t len;
};

struct loc {
    const struct src_file *file;
    int line; /* 1-based; 0: no location */
    int col;  /* 1-based, in bytes */
};

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag_msg {
    enum diag_level level;
    struct loc loc;
    char *text;
};

struct diag {
    struct diag_msg *msgs;
    int n, cap;
    int errors;
    int max_errors; /* stop collecting (but keep counting) past this */
};

/* Reads a whole file; NULL (and a message in *d) if it cannot. The file name
 * "-" reads stdin. Owned by the caller: src_free(). */
struct src_file *src_read(struct diag *d, const char *path);
/* A source from memory (tests, --set values, fuzzers); copies text. */
struct src_file *src_from_string(const char *name, const char *text, size_t len);
void src_free(struct src_file *f);

void diag_init(struct diag *d);
void diag_free(struct diag *d);

__attribute__((format(printf, 3, 4))) void
diag_error(struct diag *d, struct loc loc, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void
diag_warning(struct diag *d, struct loc loc, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void
diag_note(struct diag *d, struct loc loc, const char *fmt, ...);

/* Prints every collected message, in order, gcc-shaped. */
void diag_print(const struct diag *d, FILE *out);

#endif
