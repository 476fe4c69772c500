/*
 * load.h - the compiler's entry point for programs: query files (and
 * --set [QUERY.]NAME=VALUE overrides) to a checked IR program.
 */
#ifndef HTS_LOAD_H
#define HTS_LOAD_H

#include "ir.h"

#include <stdio.h>

#define HTS_MAX_FILES 256
#define HTS_MAX_SETS 64

/* Parses and checks paths[0, npaths) with the overrides sets[0, nsets);
 * prints diagnostics to `err`. Returns the program (in *arena) or NULL.
 * srcs[0, npaths) is filled with the sources to free (src_free). */
struct ir_program *hts_load(const char *const *paths, int npaths,
                            const char *const *sets, int nsets,
                            struct arena *arena, struct src_file **srcs,
                            FILE *err);

#endif
