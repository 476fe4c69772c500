/*
 * units.h - durations and sizes as users type them on command lines.
 *
 * The language's own literals are the lexer's; these are for options such
 * as --max-delay 2s or --sort-memory 256MiB: a non-negative integer and a
 * unit (ns us ms s m h; B KB MB GB KiB MiB GiB), a bare number being
 * nanoseconds or bytes.
 */
#ifndef HTS_UNITS_H
#define HTS_UNITS_H

#include <stdint.h>

/* 0 and *ns, or -EINVAL for text that is not a duration (or overflows). */
int hts_parse_duration(const char *text, int64_t *ns);
/* 0 and *bytes, or -EINVAL. */
int hts_parse_size(const char *text, uint64_t *bytes);

#endif
