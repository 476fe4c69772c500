/*
 * fuzz_query.c - libFuzzer target: any bytes as a query file.
 *
 * Parses, checks, builds the IR and prints it (text and DOT), then frees
 * everything. The promise under test (issue "Foundation"): any input gets
 * diagnostics or an IR, never a crash, a hang or a sanitizer report.
 */
#include "driver.h"
#include "ir.h"
#include "parse.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    struct arena arena = {0};
    struct diag d;
    diag_init(&d);
    struct src_file *src = src_from_string("fuzz.htq", (const char *)data, size);
    struct ast_file *f = NULL;
    if (ast_parse(&arena, &d, src, &f) == 0) {
        struct ir_program *p = sema_build(&arena, &d, &f, 1, NULL, 0);
        if (p && devnull) {
            ir_dump(p, devnull);
            ir_dump_dot(p, devnull);
        }
    }
    if (devnull)
        diag_print(&d, devnull);
    diag_free(&d);
    src_free(src);
    arena_free(&arena);
    return 0;
}
