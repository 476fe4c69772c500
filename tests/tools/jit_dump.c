/*
 * jit_dump.c - prints the LLVM IR the JIT would run for some queries.
 *
 *   jit_dump [--raw | --asm] [--opt N] [--linktype N] [--set [Q.]NAME=VALUE]...
 *            QUERY.htq...
 *
 * The optimised module (what ORC LLJIT compiles to machine code) goes to
 * stdout, or with --raw the module as jit_gen.c built it, before the pass
 * manager ran, or with --asm the host assembly the optimised module makes. stderr gets one line per query: compiled, or why it falls
 * back to the interpreter, and the compile time of each phase. The decoder
 * is specialised for a link type: 1 (Ethernet, htsd's) unless --linktype
 * says otherwise. This is htsc's `--emit-llvm` for people who want to read
 * what runs; it takes htsc's query arguments.
 */
#include "driver.h"
#include "jit.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct htsc_opts o = {.format = "json"};
    struct jit_opts jo = {.linktype = HTS_DLT_EN10MB};
    bool raw = false, assembly = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--raw"))
            raw = true;
        else if (!strcmp(a, "--asm"))
            assembly = true;
        else if (!strcmp(a, "--opt") && i + 1 < argc)
            jo.opt_level = atoi(argv[++i]);
        else if (!strcmp(a, "--linktype") && i + 1 < argc)
            jo.linktype = atoi(argv[++i]);
        else if (!strcmp(a, "--set") && i + 1 < argc && o.nsets < HTSC_MAX_SETS)
            o.sets[o.nsets++] = argv[++i];
        else if (a[0] == '-') {
            fprintf(stderr, "jit_dump: unknown option %s\n", a);
            return 2;
        } else if (o.nfiles < HTSC_MAX_FILES)
            o.files[o.nfiles++] = a;
    }
    if (!o.nfiles) {
        fprintf(stderr, "usage: jit_dump [--raw | --asm] [--opt N] [--linktype N] [--set S]... "
                        "QUERY.htq...\n");
        return 2;
    }
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    struct ir_program *p = htsc_load(&o, &arena, srcs, stderr);
    if (!p)
        return 1;
    if (raw)
        jo.dump_raw = stdout;
    else if (assembly)
        jo.dump_asm = stdout;
    else
        jo.dump = stdout;
    char err[512];
    struct jit_prog *jp = jit_compile(p, &jo, err, sizeof err);
    int rc = 0;
    if (!jp) {
        fprintf(stderr, "jit_dump: %s\n", err);
        rc = 1;
    } else {
        jit_report(jp, stderr, "; ");
    }
    jit_free(jp);
    for (int i = 0; i < o.nfiles; i++)
        src_free(srcs[i]);
    arena_free(&arena);
    return rc;
}
