/*
 * emit_llvm.c - htsc-llvm, what `htsc compile --emit-llvm` runs: the LLVM IR
 * htsd's JIT would run.
 *
 *   htsc-llvm compile FILE... --emit-llvm -o DIR [--set [Q.]NAME=VALUE]...
 *
 * htsc itself does not link LLVM (loading libLLVM would cost every htsc
 * command tens of milliseconds): `make` builds this program next to it
 * (bin/htsc-llvm, with the JIT's planner and IR generator) and htsc runs
 * it from its own directory for --emit-llvm, with htsc's arguments. For
 * the queries of o->files, DIR/NAME.ll (NAME: the first file's name
 * without .htq, as for the plan and P4 files) holds the module that
 * `htsd --engine jit` compiles, optimised for this host's CPU (the pass
 * pipeline htsd runs: default<O2>), with a comment per query at the top
 * saying what is compiled or why the query stays in the interpreter. The
 * decoder in it is specialised for Ethernet, htsd's link type. The file is
 * LLVM's textual IR: llvm-as, opt and llc read it.
 */
#include "driver.h"
#include "jit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


int htsc_cmd_emit_llvm(const struct htsc_opts *o)
{
    if (!o->out) {
        fprintf(stderr, "htsc: compile needs -o DIR\n");
        return 2;
    }
    struct arena arena = {0};
    struct src_file *srcs[HTSC_MAX_FILES] = {0};
    struct ir_program *p = htsc_load(o, &arena, srcs, stderr);
    int rc = 1;
    char *path = NULL, *text = NULL;
    size_t textlen = 0;
    FILE *mem = NULL;
    if (!p)
        goto out;
    if (mkdir(o->out, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "htsc: %s: %s\n", o->out, strerror(errno));
        goto out;
    }
    const char *b = strrchr(o->files[0], '/');
    b = b ? b + 1 : o->files[0];
    size_t n = strlen(b);
    if (n > 4 && !strcmp(b + n - 4, ".htq"))
        n -= 4;
    size_t len = strlen(o->out) + n + 8;
    path = malloc(len);
    mem = open_memstream(&text, &textlen);
    if (!path || !mem) {
        fprintf(stderr, "htsc: out of memory\n");
        goto out;
    }
    snprintf(path, len, "%s/%.*s.ll", o->out, (int)n, b);
    /* compiled as htsd would (ORC included: the IR is what it ran through),
     * the optimised module kept as text */
    struct jit_opts jo = {.linktype = HTS_DLT_EN10MB, .dump = mem};
    char err[512];
    struct jit_prog *jp = jit_compile(p, &jo, err, sizeof err);
    if (fclose(mem) != 0)
        jp = (jit_free(jp), NULL);
    mem = NULL;
    if (!jp) {
        fprintf(stderr, "htsc: %s\n", err);
        goto out;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "htsc: %s: %s\n", path, strerror(errno));
        jit_free(jp);
        goto out;
    }
    fprintf(f, "; %s: the LLVM IR of `htsd --engine jit` for these queries (htsc compile "
            "--emit-llvm),\n; optimised (default<O2>) for this host's CPU; Ethernet frames\n",
            path);
    jit_report(jp, f, "; ");
    fwrite(text, 1, textlen, f);
    rc = fclose(f) == 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "htsc: %s: write failed\n", path);
    jit_free(jp);
out:
    if (mem)
        fclose(mem);
    free(text);
    free(path);
    for (int i = 0; i < o->nfiles; i++)
        src_free(srcs[i]);
    arena_free(&arena);
    return rc;
}

int main(int argc, char **argv)
{
    struct htsc_opts o;
    if (argc < 2 || strcmp(argv[1], "compile") != 0 ||
        htsc_parse_args(argc - 2, argv + 2, &o) < 0) {
        fprintf(stderr, "usage: htsc-llvm compile FILE... --emit-llvm -o DIR "
                        "[--set [Q.]NAME=VALUE]...\n");
        return 2;
    }
    return htsc_cmd_emit_llvm(&o);
}
