/*
 * main.c - htsc, the query compiler's command line.
 *
 *   htsc check FILES...              type-check queries
 *   htsc explain [--dot] FILES...    print the IR (text, or Graphviz DOT)
 *   htsc run FILE --pcap CAPTURE     run queries over a capture (reference
 *                                    executor), rows as JSON Lines or a table
 *   htsc explain --target T FILES... the data-plane cut, resources, estimates
 *   htsc compile FILES... --target T -o DIR    P4, entries, plan file
 *   htsc emulate PLAN --pcap IN -o OUT         data-plane model: report frames
 *   htsc host PLAN --reports FILE              host part: rows from reports
 *
 * Every subcommand takes --set [QUERY.]NAME=VALUE to override parameters.
 * Exit status: 0 fine, 1 diagnostics (bad queries, bad input), 2 usage or
 * system errors.
 */
#include "ir.h"
#include "driver.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: htsc check [--set [Q.]NAME=VALUE]... FILE...\n"
          "       htsc explain [--dot] [--set [Q.]NAME=VALUE]... FILE...\n"
          "       htsc run FILE... --pcap CAPTURE [--set [Q.]NAME=VALUE]...\n"
          "                [--format json|table] [--query NAME] [--stats]\n"
          "                [--max-delay DUR] [--sort-memory SIZE]\n"
          "       htsc explain --target T [--train CAPTURE] [--dot] FILE...\n"
          "       htsc compile FILE... --target none|v1model|tofino|smartnic -o DIR\n"
          "                [--train CAPTURE] [--registers N] [--force-dp] [--force-refine] [--plan-only]\n"
          "                [--set [Q.]NAME=VALUE]... [--emit-llvm]\n"
          "       htsc compile FILE... --emit-llvm -o DIR   DIR/NAME.ll: the JIT's LLVM IR\n"
          "       htsc emulate DIR/NAME.plan.json --pcap CAPTURE -o REPORTS.pcap [--stats]\n"
          "       htsc host DIR/NAME.plan.json --reports REPORTS.pcap [--stats]\n"
          "       htsc fields      list the packet fields queries can use\n"
          "       htsc decode [FILE...]   HTX1 batches (htsd's per-packet export; files or\n"
          "                        stdin, e.g. kcat -C -f '%s') to htsc run's JSON Lines\n"
          "run reads the capture in time order: a file out of order is sorted first, in\n"
          "--sort-memory bytes (default 512MiB; larger captures through temporary files\n"
          "in $TMPDIR). --max-delay DUR reads it as a stream instead: windows close DUR\n"
          "after the latest time seen, and packets later still are counted late.\n",
          out);
}

/* --emit-llvm: bin/htsc-llvm, next to this program (it links LLVM, which
 * htsc does not load), with the same arguments; its exit status. */
static int run_htsc_llvm(char **argv)
{
    char self[4096], path[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "htsc: --emit-llvm: cannot find htsc's own directory\n");
        return 2;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    snprintf(path, sizeof path, "%s/htsc-llvm", slash ? self : ".");
    if (access(path, X_OK) != 0) {
        fprintf(stderr, "htsc: --emit-llvm needs %s (make builds it with LLVM 14)\n", path);
        return 2;
    }
    fflush(NULL);
    pid_t pid;
    extern char **environ;
    int e = posix_spawn(&pid, path, NULL, NULL, argv, environ);
    if (e) {
        fprintf(stderr, "htsc: %s: %s\n", path, strerror(e));
        return 2;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "fields"))
        return htsc_cmd_fields(stdout);
    if (!strcmp(cmd, "decode"))
        return htsc_cmd_decode(argc - 2, argv + 2);
    struct htsc_opts o;
    if (htsc_parse_args(argc - 2, argv + 2, &o) < 0) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(cmd, "check"))
        return htsc_cmd_check(&o);
    if (!strcmp(cmd, "explain"))
        return o.target ? htsc_cmd_explain_target(&o) : htsc_cmd_explain(&o);
    if (!strcmp(cmd, "run"))
        return htsc_cmd_run(&o);
    if (!strcmp(cmd, "compile")) {
        /* --emit-llvm alone (no --target): the JIT's IR only */
        int rc = o.target || !o.emit_llvm ? htsc_cmd_compile(&o) : 0;
        return rc == 0 && o.emit_llvm ? run_htsc_llvm(argv) : rc;
    }
    if (!strcmp(cmd, "emulate"))
        return htsc_cmd_emulate(&o);
    if (!strcmp(cmd, "host"))
        return htsc_cmd_host(&o);
    fprintf(stderr, "htsc: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
