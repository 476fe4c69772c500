/*
 * jit.c - LLVM set-up and the JIT's run-time side (see jit.h).
 *
 * Compiling: plan (jit_plan.c), IR (jit_gen.c), verify, optimise with the new
 * pass manager ("default<O2>" by default) for the host CPU, then ORC LLJIT
 * turns the module into code and we look the burst function up. The LLJIT
 * instance owns the code; jit_free() releases it.
 *
 * Running: struct jit_run calls the compiled function on as much of a burst
 * as it takes, then does what it stopped for:
 *  - rows in ctx->out: decoded into hts_values and handed to the row
 *    callback, once per window that holds the packet (exec.c: route);
 *  - a packet at or past ctx->next_close: every table whose window ends at
 *    or before that time is converted into the executor's partial rows and
 *    merged (exec_merge), or, when the executor holds nothing of that
 *    window and no fold reads downstream, into the node's finished rows
 *    (exec_feed_rows: no table to build there); then exec_advance() closes
 *    those windows in the executor, which runs the rest of the query and
 *    emits rows exactly when the reference executor would. A query whose
 *    plan says `direct` (a tumbling window, one table, filters and maps
 *    after it) is finished here instead: a compiled function makes each
 *    entry's row (or took each emitted row of a fold as it came), the rows
 *    are sorted as the executor sorts them, and the executor hands them out
 *    when it closes the window, in its order among all windows
 *    (exec_window_external);
 *  - a full table: it is merged into its (still open) window in the
 *    executor and emptied, so memory stays bounded and no tuple is lost
 *    (counted in jit_stats.flushes); a fold's table, whose state cannot be
 *    merged, doubles instead (up to jit_opts.max_keys);
 * and runs the packets it consumed through the interpreter for the queries
 * the JIT does not cover. A fold's rows reach the executor as finished rows
 * of its node (exec_feed_rows): emitted rows as they are emitted, the
 * per-key rows of a fold without emit at window close. Compiled code calls
 * back into C only through pointers in ctx (the interpreter's decoder for
 * DNS, payload and tunnel fields; string tests; copying string keys), so
 * no symbol needs resolving in the JIT. Which window a table slot holds is derived from
 * event time (a packet can only fall into the W/H windows that hold it, and
 * every window that ended was handed over when time passed its end), so the
 * C side keeps no per-slot bookkeeping.
 */
#include "jit_int.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct jit_prog {
    struct jit_plan pl;
    struct jit_opts o;
    LLVMOrcLLJITRef lljit;
    jit_fn fn;
    jit_rest_fn *rest; /* per query: its window's rows (jit_int.h: rest_jit) */
    struct jit_times times;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;

static void llvm_init(void)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
}

/* Takes an LLVM error into err; true if there was one. */
static bool llvm_err(LLVMErrorRef e, const char *what, char *err, size_t len)
{
    if (!e)
        return false;
    char *msg = LLVMGetErrorMessage(e);
    snprintf(err, len, "jit: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return true;
}

/* A target machine for the host, for the optimiser's cost models. */
static LLVMTargetMachineRef host_tm(int opt, char *err, size_t len)
{
    char *triple = LLVMGetDefaultTargetTriple(), *msg = NULL;
    LLVMTargetRef target;
    LLVMTargetMachineRef tm = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        snprintf(err, len, "jit: no target for %s: %s", triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
    } else {
        char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
        tm = LLVMCreateTargetMachine(target, triple, cpu, feat,
                                     opt >= 3 ? LLVMCodeGenLevelAggressive
                                              : LLVMCodeGenLevelDefault,
                                     LLVMRelocDefault, LLVMCodeModelJITDefault);
        LLVMDisposeMessage(cpu);
        LLVMDisposeMessage(feat);
        if (!tm)
            snprintf(err, len, "jit: cannot create a target machine for %s", triple);
    }
    LLVMDisposeMessage(triple);
    return tm;
}

static void print_module(LLVMModuleRef m, FILE *out)
{
    char *s = LLVMPrintModuleToString(m);
    fputs(s, out);
    LLVMDisposeMessage(s);
}

struct jit_prog *jit_compile(const struct ir_program *p, const struct jit_opts *o,
                             char *err, size_t errlen)
{
    double t0 = now_ms();
    struct jit_prog *jp = calloc(1, sizeof *jp);
    if (!jp) {
        snprintf(err, errlen, "jit: out of memory");
        return NULL;
    }
    if (o)
        jp->o = *o;
    if (!jp->o.linktype)
        jp->o.linktype = HTS_DLT_EN10MB;
    if (!jp->o.opt_level)
        jp->o.opt_level = 2;
    if (!jp->o.table_limit)
        jp->o.table_limit = 65536;
    if (jit_plan_build(&jp->pl, p) < 0) {
        snprintf(err, errlen, "jit: out of memory");
        goto fail;
    }
    double t1 = now_ms();
    jp->times.plan = t1 - t0;
    pthread_once(&llvm_once, llvm_init);

    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef c = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext("hts_jit", c);
    LLVMOrcJITTargetMachineBuilderRef jtmb = NULL;
    LLVMOrcLLJITBuilderRef jb = NULL;
    LLVMTargetMachineRef tm = NULL;
    bool ok = false;
    if (jit_gen(&jp->pl, jp->o.linktype, c, m, err, errlen) < 0)
        goto done;
    if (jp->o.dump_raw)
        print_module(m, jp->o.dump_raw);
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        snprintf(err, errlen, "jit: invalid IR (a bug): %.400s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        goto done;
    }
    LLVMDisposeMessage(msg);
    if (llvm_err(LLVMOrcJITTargetMachineBuilderDetectHost(&jtmb), "host detection", err, errlen))
        goto done;
    jb = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(jb, jtmb); /* takes jtmb */
    jtmb = NULL;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&jp->lljit, jb); /* takes jb */
    jb = NULL;
    if (llvm_err(e, "LLJIT", err, errlen)) {
        jp->lljit = NULL;
        goto done;
    }
    LLVMSetTarget(m, LLVMOrcLLJITGetTripleString(jp->lljit));
    LLVMSetDataLayout(m, LLVMOrcLLJITGetDataLayoutStr(jp->lljit));
    double t2 = now_ms();
    jp->times.build = t2 - t1;
    if (jp->o.opt_level > 0) {
        tm = host_tm(jp->o.opt_level, err, errlen);
        if (!tm)
            goto done;
        char passes[32];
        snprintf(passes, sizeof passes, "default<O%d>", jp->o.opt_level > 3 ? 3 : jp->o.opt_level);
        LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
        e = LLVMRunPasses(m, passes, tm, po);
        LLVMDisposePassBuilderOptions(po);
        if (llvm_err(e, "optimiser", err, errlen))
            goto done;
    }
    if (jp->o.dump)
        print_module(m, jp->o.dump);
    if (jp->o.dump_asm && tm) {
        /* from a copy: code generation rewrites the IR it is given */
        LLVMModuleRef copy = LLVMCloneModule(m);
        LLVMMemoryBufferRef buf = NULL;
        char *emsg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(tm, copy, LLVMAssemblyFile, &emsg, &buf)) {
            fprintf(jp->o.dump_asm, "; no assembly: %s\n", emsg ? emsg : "?");
            LLVMDisposeMessage(emsg);
        } else {
            fwrite(LLVMGetBufferStart(buf), 1, LLVMGetBufferSize(buf), jp->o.dump_asm);
            LLVMDisposeMemoryBuffer(buf);
        }
        LLVMDisposeModule(copy);
    }
    double t3 = now_ms();
    jp->times.opt = t3 - t2;
    /* the optimiser may call memset/memcpy: let the process provide them */
    LLVMOrcDefinitionGeneratorRef dg = NULL;
    if (llvm_err(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
                     &dg, LLVMOrcLLJITGetGlobalPrefix(jp->lljit), NULL, NULL),
                 "process symbols", err, errlen))
        goto done;
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jp->lljit);
    LLVMOrcJITDylibAddGenerator(jd, dg);
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, tsc);
    m = NULL; /* owned by tsm, then by the JIT */
    if (llvm_err(LLVMOrcLLJITAddLLVMIRModule(jp->lljit, jd, tsm), "adding the module", err,
                 errlen)) {
        LLVMOrcDisposeThreadSafeModule(tsm);
        goto done;
    }
    LLVMOrcExecutorAddress addr = 0;
    if (llvm_err(LLVMOrcLLJITLookup(jp->lljit, &addr, JIT_FN_NAME), "code generation", err,
                 errlen))
        goto done;
    jp->fn = (jit_fn)(uintptr_t)addr;
    jp->rest = calloc((size_t)p->nqueries + 1, sizeof *jp->rest);
    if (!jp->rest) {
        snprintf(err, errlen, "jit: out of memory");
        goto done;
    }
    for (int q = 0; q < p->nqueries; q++) {
        char name[64];
        if (!jp->pl.qs[q].covered || !jp->pl.qs[q].rest_jit)
            continue;
        snprintf(name, sizeof name, JIT_REST_FN "%d", q);
        if (llvm_err(LLVMOrcLLJITLookup(jp->lljit, &addr, name), "code generation", err, errlen))
            goto done;
        jp->rest[q] = (jit_rest_fn)(uintptr_t)addr;
    }
    jp->times.codegen = now_ms() - t3;
    jp->times.total = now_ms() - t0;
    ok = true;
done:
    if (tm)
        LLVMDisposeTargetMachine(tm);
    if (jtmb)
        LLVMOrcDisposeJITTargetMachineBuilder(jtmb);
    if (m)
        LLVMDisposeModule(m);
    LLVMOrcDisposeThreadSafeContext(tsc);
    if (ok)
        return jp;
fail:
    jit_free(jp);
    return NULL;
}

bool jit_covers(const struct jit_prog *jp, int query, const char **why)
{
    const struct jit_qplan *qp = &jp->pl.qs[query];
    if (why)
        *why = qp->why;
    return qp->covered;
}

int jit_ncovered(const struct jit_prog *jp)
{
    return jp->pl.ncovered;
}

const struct jit_times *jit_times(const struct jit_prog *jp)
{
    return &jp->times;
}

void jit_report(const struct jit_prog *jp, FILE *out, const char *prefix)
{
    const struct ir_program *p = jp->pl.p;
    for (int i = 0; i < p->nqueries; i++)
        fprintf(out, "%squery %s: %s (%s)\n", prefix, p->queries[i]->name,
                jp->pl.qs[i].covered ? "jit" : "interpreter", jp->pl.qs[i].why);
    fprintf(out, "%s%d of %d queries compiled in %.1f ms (plan %.1f, IR %.1f, O%d %.1f, "
            "codegen %.1f)\n", prefix, jp->pl.ncovered, p->nqueries, jp->times.total,
            jp->times.plan, jp->times.build, jp->o.opt_level, jp->times.opt,
            jp->times.codegen);
}

void jit_free(struct jit_prog *jp)
{
    if (!jp)
        return;
    if (jp->lljit)
        LLVMConsumeError(LLVMOrcDisposeLLJIT(jp->lljit));
    jit_plan_free(&jp->pl);
    free(jp->rest);
    free(jp);
}

/* ---- the run-time side ---- */

struct jit_run {
    const struct jit_prog *jp;
    const struct jit_plan *pl;
    jit_fn fn;
    struct jit_ctx ctx;
    struct exec *x;
    exec_row_fn rowfn;
    void *rowctx;
    struct hts_decode_stats *ds;
    struct jit_stats st;
    int *fallback; /* queries run by the interpreter */
    int nfallback;
    bool windowed; /* some covered query keeps tables */
    hts_value row[IR_MAX_KEYS + 2 * IR_MAX_AGGS + JIT_MAX_COLS + 2];
    struct hts_pkt pkt;
    /* direct close: per table, whether part of its window went to the
     * executor (a flush); sort scratch */
    bool *flushed;
    uint64_t *ck;
    uint32_t *tmp;
    int *var;
    size_t ckcap, tmpcap, varcap;
    /* per query: its window's rows so far, for a fold whose windows close
     * here (keep_fold_row) */
    struct fold_rows {
        uint64_t *w; /* per row: nw sort words, then the row's words */
        size_t n, cap;
        uint32_t *ord; /* their order, once the window closed */
        size_t ordcap;
        int nw;
    } *frows;
    hts_value *drows, *dtmp;
    uint32_t *dord;
    uint64_t *dkeys;
    size_t drows_cap, dtmp_cap, dord_cap, dkeys_cap;
};

/* exec.c: first_window. The oldest window [s, s + W), s a multiple of H,
 * that holds ts. */
static int64_t first_window(int64_t ts, int64_t W, int64_t H)
{
    int64_t s = ts - ts % H;
    while (s - H > ts - W && s - H >= 0)
        s -= H;
    return s;
}

/* The window slot j of a query holds, given event time wm. */
static int64_t slot_window(const struct ir_query *q, int K, int j, int64_t wm)
{
    int64_t H = q->hop_ns, top = wm / H, d = ((top % K) - j + K) % K;
    return (top - d) * H;
}

static void compute_next_close(struct jit_run *r)
{
    int64_t nc = INT64_MAX, wm = r->ctx.wm < 0 ? 0 : r->ctx.wm;
    for (int s = 0; s < r->pl->nsinks; s++) {
        const struct jit_sink *k = &r->pl->sinks[s];
        if (k->kind == SINK_ROWS)
            continue;
        int64_t H = k->q->hop_ns, n = wm / H + 1;
        int64_t e = n > INT64_MAX / H ? INT64_MAX : n * H;
        if (e < nc)
            nc = e;
    }
    r->ctx.next_close = nc;
}

/* ---- what compiled code calls (through ctx: no symbols to resolve) ---- */

static void rt_decode(struct jit_ctx *ctx, const struct jit_pkt *p, int64_t proto,
                      uint64_t off, uint64_t end, uint64_t want)
{
    hts_decode_l4(ctx->scratch, p->data, p->caplen, p->wirelen, (int)proto, off, end,
                  (uint32_t)want);
}

/* exec.c: hts_value_eq on strings (op 0) and bytes_has (contains,
 * startswith, endswith). A null pointer is an absent side: false. */
static int rt_bytes(const uint8_t *a, uint64_t an, const uint8_t *b, uint64_t bn, int op)
{
    if ((!a && an) || (!b && bn))
        return 0;
    if (op == 0)
        return an == bn && (an == 0 || memcmp(a, b, an) == 0);
    if (bn > an)
        return 0;
    if (bn == 0)
        return 1;
    if (op == 2)
        return memcmp(a, b, bn) == 0;
    if (op == 3)
        return memcmp(a + an - bn, b, bn) == 0;
    return memmem(a, an, b, bn) != NULL;
}

/* String keys: FNV-1a of the bytes; a copy into the table (the compiled
 * code stops a table from being used with less than JIT_STR_RESERVE bytes
 * per string key left, so this always fits). */
static uint64_t rt_str_hash(const uint8_t *p, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint64_t i = 0; p && i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t rt_str_put(struct jit_table *t, const uint8_t *p, uint64_t n)
{
    uint64_t off = t->nbytes;
    if (n > JIT_STR_RESERVE || n > (uint64_t)t->capbytes - off) {
        fprintf(stderr, "jit: a string key does not fit its table (a bug)\n");
        abort();
    }
    if (n)
        memcpy(t->bytes + off, p, n);
    t->nbytes += (uint32_t)n;
    return off;
}

/* A string key's value: its bytes in table t. */
static hts_value str_value(const struct jit_table *t, uint64_t w)
{
    hts_value v = {.type = TY_STR, .present = 1};
    v.u.s.p = t->bytes + (w >> 32);
    v.u.s.n = (uint32_t)w;
    return v;
}

static bool bytes_low(const struct jit_sink *k, const struct jit_table *t)
{
    return k->nstr && (uint64_t)t->capbytes - t->nbytes < (uint64_t)JIT_STR_RESERVE * (uint64_t)k->nstr;
}

struct jit_run *jit_run_new(const struct jit_prog *jp, struct exec *x, exec_row_fn fn,
                            void *ctx, struct hts_decode_stats *ds)
{
    struct jit_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    const struct jit_plan *pl = &jp->pl;
    r->jp = jp;
    r->pl = pl;
    r->fn = jp->fn;
    r->x = x;
    r->rowfn = fn;
    r->rowctx = ctx;
    r->ds = ds;
    r->fallback = calloc((size_t)pl->p->nqueries + 1, sizeof *r->fallback);
    r->ctx.late = calloc((size_t)pl->nlate + 1, sizeof *r->ctx.late);
    r->ctx.tables = calloc((size_t)pl->ntables + 1, sizeof *r->ctx.tables);
    r->flushed = calloc((size_t)pl->ntables + 1, sizeof *r->flushed);
    r->frows = calloc((size_t)pl->p->nqueries + 1, sizeof *r->frows);
    r->ctx.out_cap = (uint32_t)(pl->pkt_words * 256 > 4096 ? pl->pkt_words * 256 : 4096);
    r->ctx.out = calloc(r->ctx.out_cap, sizeof *r->ctx.out);
    r->ctx.scratch = malloc(sizeof *r->ctx.scratch);
    r->ctx.decode = rt_decode;
    r->ctx.decode_udp_dns = hts_decode_udp_dns;
    r->ctx.bytes = rt_bytes;
    r->ctx.str_hash = rt_str_hash;
    r->ctx.str_put = rt_str_put;
    r->ctx.linktype = jp->o.linktype;
    if (!r->fallback || !r->ctx.late || !r->ctx.tables || !r->flushed || !r->frows || !r->ctx.out ||
        !r->ctx.scratch)
        goto fail;
    for (int i = 0; i < pl->p->nqueries; i++)
        if (!pl->qs[i].covered)
            r->fallback[r->nfallback++] = i;
    uint32_t limit = jp->o.table_limit, cap = 1;
    while (cap < 2 * limit)
        cap <<= 1;
    for (int s = 0; s < pl->nsinks; s++) {
        const struct jit_sink *k = &pl->sinks[s];
        if (k->kind == SINK_ROWS)
            continue;
        r->windowed = true;
        for (int j = 0; j < k->nslots; j++) {
            struct jit_table *t = &r->ctx.tables[k->table0 + j];
            if (k->kind == SINK_HIST) {
                t->limit = (uint32_t)k->node->nedges + 1;
                t->ent = calloc(t->limit, sizeof *t->ent);
                if (!t->ent)
                    goto fail;
                continue;
            }
            t->limit = limit;
            t->mask = cap - 1;
            t->gen = 1;
            t->index = calloc(cap, sizeof *t->index);
            t->ent = malloc((size_t)limit * (size_t)k->stride * sizeof *t->ent);
            if (!t->index || !t->ent)
                goto fail;
            if (k->nstr) {
                uint64_t cb = (uint64_t)limit * 32 * (uint64_t)k->nstr;
                if (cb < 2ull * JIT_STR_RESERVE * (uint64_t)k->nstr)
                    cb = 2ull * JIT_STR_RESERVE * (uint64_t)k->nstr;
                t->capbytes = (uint32_t)(cb < UINT32_MAX / 2 ? cb : UINT32_MAX / 2);
                t->bytes = malloc(t->capbytes);
                if (!t->bytes)
                    goto fail;
            }
        }
    }
    compute_next_close(r);
    return r;
fail:
    jit_run_free(r);
    return NULL;
}

void jit_run_set_fn(struct jit_run *r, jit_fn fn)
{
    r->fn = fn;
}

static void key_value(hts_value *v, const struct jit_table *t, enum hts_type ty,
                      const uint64_t *w)
{
    if (ty == TY_STR)
        *v = str_value(t, w[0]);
    else
        jit_set_value(v, ty, w);
}

/* The finished row of a groupby or distinct entry (exec.c: acc_finish):
 * keys, then each aggregate: count; avg as sum / inputs; absent when no
 * input was present. */
static void final_row(const struct jit_sink *k, const struct jit_table *t, const uint64_t *w,
                      hts_value *row)
{
    const struct ir_node *n = k->node;
    for (int c = 0; c < n->nkeys; c++)
        key_value(&row[c], t, n->cols[c].type, w + k->keyoff[c]);
    for (int a = 0; k->kind == SINK_GROUPBY && a < n->naggs; a++) {
        enum hts_type ty = n->cols[n->nkeys + a].type;
        enum ast_agg agg = n->aggs[a]->agg;
        const uint64_t *v = w + k->aggoff[a];
        if (agg == AGG_COUNT)
            row[n->nkeys + a] = hts_int((int64_t)v[0]);
        else if (!v[1])
            row[n->nkeys + a] = hts_absent(ty);
        else if (agg == AGG_AVG)
            row[n->nkeys + a] = hts_int((int64_t)v[0] / (int64_t)v[1]);
        else
            jit_set_value(&row[n->nkeys + a], ty, v);
    }
}

static bool can_direct(const struct jit_run *r, const struct jit_sink *k, int j);

/* Empties a table (gen: one increment). */
static void table_reset(struct jit_table *t)
{
    t->n = 0;
    t->nbytes = 0;
    if (++t->gen == 0) { /* 2^32 windows later: stale stamps could match */
        memset(t->index, 0, ((size_t)t->mask + 1) * sizeof *t->index);
        t->gen = 1;
    }
}

/* Table j of sink k, holding window ws, as partial rows into the executor;
 * leaves it empty. */
static void hand_over(struct jit_run *r, const struct jit_sink *k, int j, int64_t ws)
{
    struct jit_table *t = &r->ctx.tables[k->table0 + j];
    const struct ir_node *n = k->node;
    int qi = k->q->index;
    hts_value *row = r->row;
    if (k->kind == SINK_HIST) {
        for (uint32_t b = 0; b < t->limit; b++) {
            if (!t->ent[b])
                continue;
            row[0] = hts_int(b);
            row[1] = hts_int((int64_t)t->ent[b]);
            exec_merge(r->x, qi, n->id, ws, row);
            t->ent[b] = 0;
        }
        t->n = 0;
        return;
    }
    /* the executor holds nothing of this window's node (no flush, no
     * worker's partial state), and no key limit there applies: its rows */
    bool rows = k->feed_rows && can_direct(r, k, j);
    for (uint32_t e = 0; e < t->n; e++) {
        const uint64_t *w = t->ent + (size_t)e * (size_t)k->stride;
        if (k->chained || rows) {
            /* fed by a fold's rows, which never reached the executor: this
             * node's finished rows (exec.c: acc_finish) */
            final_row(k, t, w, row);
            exec_feed_rows(r->x, qi, n->id, ws, row);
            continue;
        }
        if (k->kind == SINK_FOLD) {
            /* one row per key with its final state, unless the fold emits
             * (its rows went to the executor as they were emitted); with a
             * close block, the state, for the executor to run it on */
            if (n->emits && !n->nclose)
                continue;
            for (int c = 0; c < n->nkeys; c++)
                key_value(&row[c], t, n->cols[c].type, w + k->keyoff[c]);
            for (int a = 0; a < n->naggs; a++) {
                enum hts_type ty = n->cols[n->nkeys + a].type;
                if ((w[k->presoff] >> a) & 1)
                    jit_set_value(&row[n->nkeys + a], ty, w + k->aggoff[a]);
                else
                    row[n->nkeys + a] = hts_absent(ty);
            }
            if (n->nclose)
                exec_fold_state(r->x, qi, n->id, ws, row);
            else
                exec_feed_rows(r->x, qi, n->id, ws, row);
            continue;
        }
        for (int c = 0; c < n->nkeys; c++)
            key_value(&row[c], t, n->cols[c].type, w + k->keyoff[c]);
        for (int a = 0; k->kind == SINK_GROUPBY && a < n->naggs; a++) {
            enum hts_type ty = n->cols[n->nkeys + a].type;
            bool count = n->aggs[a]->agg == AGG_COUNT;
            jit_set_value(&row[n->nkeys + a], ty, w + k->aggoff[a]);
            /* the executor counts present inputs for all but count() */
            row[n->nkeys + n->naggs + a] = hts_int(count ? 0 : (int64_t)w[k->aggoff[a] + 1]);
        }
        exec_merge(r->x, qi, n->id, ws, row);
    }
    table_reset(t);
}

/* Grows *p to hold n items of size sz; false when out of memory. */
static bool reserve(void *p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 64;
    while (c < n)
        c *= 2;
    void *q = realloc(*(void **)p, c * sz);
    if (!q)
        return false;
    *(void **)p = q;
    *cap = c;
    return true;
}

/* Sort words of a root column of type ty (exec.c: row_cmp orders rows by
 * hts_value_cmp, column by column; these words, compared as unsigned
 * numbers in turn, give the same order, for values of their column's type
 * (compiled rows are)): presence, then the value. 0 for a type they do not
 * cover. */
static int sort_nwords(enum hts_type ty)
{
    switch (ty) {
    case TY_INT: case TY_BOOL: case TY_IPV4: case TY_MAC:
        return 2;
    case TY_IPV6:
        return 3;
    default:
        return 0;
    }
}

/* Merge sort of ord[0..n) by the rows' compact keys (nv words each in
 * ck, compared as unsigned numbers in turn); tmp holds n / 2 entries. */
static inline int key_cmp(const uint64_t *ck, int nv, uint32_t a, uint32_t b)
{
    const uint64_t *x = ck + (size_t)a * (size_t)nv, *y = ck + (size_t)b * (size_t)nv;
    for (int i = 0; i < nv; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static void msort_keys(uint32_t *ord, uint32_t *tmp, size_t n, const uint64_t *ck, int nv)
{
    if (n < 2)
        return;
    if (n <= 12) { /* insertion sort */
        for (size_t i = 1; i < n; i++) {
            uint32_t v = ord[i];
            size_t j = i;
            for (; j > 0 && key_cmp(ck, nv, ord[j - 1], v) > 0; j--)
                ord[j] = ord[j - 1];
            ord[j] = v;
        }
        return;
    }
    size_t h = n / 2;
    msort_keys(ord, tmp, h, ck, nv);
    msort_keys(ord + h, tmp, n - h, ck, nv);
    if (key_cmp(ck, nv, ord[h - 1], ord[h]) <= 0)
        return; /* already in order */
    memcpy(tmp, ord, h * sizeof *tmp);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        ord[o++] = key_cmp(ck, nv, tmp[i], ord[j]) <= 0 ? tmp[i++] : ord[j++];
    while (i < h)
        ord[o++] = tmp[i++];
}

/* fr's rows in order: ord. Only the sort words that differ between rows
 * take part (a column present in every row has a constant presence word),
 * copied side by side first. Rows with equal keys are equal rows, whose
 * order nobody can tell apart. */
static bool sort_rows(struct jit_run *r, struct fold_rows *fr, size_t per, int nw)
{
    size_t n = fr->n;
    int nv = 0;
    if (!reserve(&fr->ord, &fr->ordcap, n + 1, sizeof *fr->ord) ||
        !reserve(&r->tmp, &r->tmpcap, n + 1, sizeof *r->tmp) ||
        !reserve(&r->var, &r->varcap, (size_t)nw + 1, sizeof *r->var))
        return false;
    for (size_t i = 0; i < n; i++)
        fr->ord[i] = (uint32_t)i;
    if (n < 2)
        return true;
    for (int k = 0; k < nw; k++)
        for (size_t i = 1; i < n; i++)
            if (fr->w[i * per + (size_t)k] != fr->w[(size_t)k]) {
                r->var[nv++] = k;
                break;
            }
    if (!nv)
        return true;
    if (!reserve(&r->ck, &r->ckcap, n * (size_t)nv, sizeof *r->ck))
        return false;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < nv; k++)
            r->ck[i * (size_t)nv + (size_t)k] = fr->w[i * per + (size_t)r->var[k]];
    msort_keys(fr->ord, r->tmp, n, r->ck, nv);
    return true;
}


/* Whether the window of table j of sink k (the query's direct sink) can
 * close here: the executor holds nothing of it (no flush, no worker hand-
 * over of partial state) and no key limit applies that it would enforce. */
static bool can_direct(const struct jit_run *r, const struct jit_sink *k, int j)
{
    const struct jit_table *t = &r->ctx.tables[k->table0 + j];
    uint64_t max = r->jp->o.max_keys;
    return !r->flushed[k->table0 + j] && !exec_is_partial(r->x) && (!max || t->n <= max);
}

/* The sort words of a row the compiled rows function made (w): the
 * encoding keeps the order (MACs and IPv6 as big-endian numbers). */
static void make_key(const struct jit_qplan *qp, const struct ir_node *root, const uint64_t *w,
                     uint64_t *key)
{
    for (int c = 0, o = 0; c < root->ncols; c++) {
        enum hts_type ty = root->cols[c].type;
        const uint64_t *v = w + qp->rest_off[c];
        bool present = (w[0] >> c) & 1;
        key[o] = present;
        if (ty == TY_IPV6) {
            key[o + 1] = present ? v[0] : 0;
            key[o + 2] = present ? v[1] : 0;
        } else if (ty == TY_INT || ty == TY_BOOL) {
            key[o + 1] = present ? v[0] ^ (1ull << 63) : 0;
        } else {
            key[o + 1] = present ? (ty == TY_IPV4 ? (uint32_t)v[0] : v[0]) : 0;
        }
        o += sort_nwords(ty);
    }
}

static int sort_words_of(const struct ir_node *root)
{
    int nw = 0;
    for (int c = 0; c < root->ncols; c++)
        nw += sort_nwords(root->cols[c].type);
    return nw;
}

/* The executor calls this when it closes a window whose rows were made
 * here (exec_window_external): the query's kept rows, in their order. */
static uint64_t emit_window(void *ctx, const struct ir_query *q, int64_t ws, int64_t we)
{
    struct jit_run *r = ctx;
    const struct jit_qplan *qp = &r->pl->qs[q->index];
    struct fold_rows *fr = &r->frows[q->index];
    const struct ir_node *root = q->root;
    int nc = root->ncols;
    size_t per = (size_t)(fr->nw + qp->rest_words), m = fr->n;
    for (size_t i = 0; i < m; i++) {
        const uint64_t *w = fr->w + (size_t)fr->ord[i] * per + fr->nw;
        for (int c = 0; c < nc; c++) {
            if ((w[0] >> c) & 1)
                jit_set_value(&r->row[c], root->cols[c].type, w + qp->rest_off[c]);
            else
                r->row[c] = hts_absent(root->cols[c].type);
        }
        r->rowfn(r->rowctx, q, ws, we, r->row, nc);
    }
    fr->n = 0;
    return m;
}

/* close_direct with the compiled rows: the compiled function makes each
 * kept row's words from a table entry (a fold's rows were made as they
 * were emitted: keep_fold_row), they are sorted, and the executor hands
 * them out when it closes the window, in its order among all the
 * queries' windows (emit_window); hts_values only for the rows handed
 * out. */
static bool close_compiled(struct jit_run *r, const struct jit_qplan *qp,
                           const struct jit_sink *k, struct jit_table *t, int64_t ws,
                           jit_rest_fn rest, int nw)
{
    const struct ir_query *q = k->q;
    struct fold_rows *fr = &r->frows[q->index];
    size_t per = (size_t)(nw + qp->rest_words);
    if (k->kind != SINK_FOLD) {
        if (!reserve(&fr->w, &fr->cap, ((size_t)t->n + 1) * per, sizeof *fr->w))
            return false;
        fr->n = 0;
        for (uint32_t e = 0; e < t->n; e++) {
            uint64_t *key = fr->w + fr->n * per;
            if (!rest(t->ent + (size_t)e * (size_t)k->stride, key + nw))
                continue;
            make_key(qp, q->root, key + nw, key);
            fr->n++;
        }
    }
    if (!sort_rows(r, fr, per, nw)) {
        if (k->kind != SINK_FOLD)
            return false;
        fprintf(stderr, "jit: out of memory sorting a window's rows\n");
        abort();
    }
    fr->nw = nw;
    if (!exec_window_external(r->x, q->index, ws, emit_window, r))
        fr->n = 0; /* late (cannot happen: windows close in time) */
    r->st.direct++;
    table_reset(t);
    return true;
}

/* A fold's emitted row (row words in ctx->out) for a query whose windows
 * close here: through the compiled rows function now, kept until the
 * window closes. false: it goes to the executor (a worker handing state
 * over). */
static bool keep_fold_row(struct jit_run *r, const struct jit_sink *k, const uint64_t *w)
{
    const struct ir_query *q = k->q;
    const struct jit_qplan *qp = &r->pl->qs[q->index];
    jit_rest_fn rest = r->jp->rest[q->index];
    if (qp->direct != k - r->pl->sinks + 1 || !rest || exec_is_partial(r->x))
        return false;
    struct fold_rows *fr = &r->frows[q->index];
    int nw = sort_words_of(q->root);
    size_t per = (size_t)(nw + qp->rest_words);
    if (!reserve(&fr->w, &fr->cap, (fr->n + 1) * per, sizeof *fr->w)) {
        fprintf(stderr, "jit: out of memory keeping a fold's rows\n");
        abort();
    }
    uint64_t *key = fr->w + fr->n * per;
    if (rest(w, key + nw)) {
        make_key(qp, q->root, key + nw, key);
        fr->n++;
    }
    return true;
}

/* The window's rows made here, as the executor would make them (exec.c:
 * acc_finish, batch, window_close): each entry's finished row through the
 * filters and maps after the table (compiled: jit_int.h, rest_jit), then
 * sorted, then handed out in the executor's order of windows. false
 * (nothing done) when out of memory: the executor then does it. */
static bool close_direct(struct jit_run *r, const struct jit_qplan *qp,
                         const struct jit_sink *k, int j, int64_t ws)
{
    jit_rest_fn rest = r->jp->rest[k->q->index];
    int nw = sort_words_of(k->q->root);
    if (!rest || nw <= 0)
        return false;
    return close_compiled(r, qp, k, &r->ctx.tables[k->table0 + j], ws, rest, nw);
}

/* Hands over every table whose window ends at or before ts (all of them
 * for ts == INT64_MAX); event time then moves to ts. */
static void close_until(struct jit_run *r, int64_t ts)
{
    int64_t wm = r->ctx.wm;
    for (int s = 0; r->windowed && s < r->pl->nsinks; s++) {
        const struct jit_sink *k = &r->pl->sinks[s];
        if (k->kind == SINK_ROWS)
            continue;
        const struct jit_qplan *qp = &r->pl->qs[k->q->index];
        for (int j = 0; j < k->nslots; j++) {
            int64_t ws = slot_window(k->q, k->nslots, j, wm);
            if (ts != INT64_MAX && ws + k->q->window_ns > ts)
                continue;
            if (r->ctx.tables[k->table0 + j].n &&
                !(qp->direct == s + 1 && can_direct(r, k, j) && close_direct(r, qp, k, j, ws)))
                hand_over(r, k, j, ws);
            r->flushed[k->table0 + j] = false;
        }
    }
    if (ts > r->ctx.wm && ts != INT64_MAX)
        r->ctx.wm = ts;
    compute_next_close(r);
}

/* A fold's full table doubles (up to max_keys, past which the compiled
 * code refuses new keys and counts them, as the executor does): its state
 * cannot be handed over before the window ends. 0, or -ENOMEM. */
static int grow_bytes(const struct jit_sink *k, struct jit_table *t)
{
    if (!bytes_low(k, t))
        return 0;
    uint64_t cb = (uint64_t)t->capbytes * 2;
    if (cb > UINT32_MAX / 2)
        return -ENOMEM;
    uint8_t *b = realloc(t->bytes, cb);
    if (!b)
        return -ENOMEM;
    t->bytes = b;
    t->capbytes = (uint32_t)cb;
    return 0;
}

static int grow(struct jit_run *r, const struct jit_sink *k, struct jit_table *t)
{
    if (grow_bytes(k, t) < 0)
        return -ENOMEM;
    if ((uint64_t)t->n + (uint64_t)k->reserve < t->limit)
        return 0;
    uint64_t max = r->jp->o.max_keys, limit = (uint64_t)t->limit * 2;
    if (max && limit > max)
        limit = max;
    if (limit <= t->limit || limit > UINT32_MAX / 2)
        return 0; /* at max_keys: stays full, refuses */
    uint32_t cap = 1;
    while (cap < 2 * limit)
        cap <<= 1;
    uint64_t *ent = realloc(t->ent, (size_t)limit * (size_t)k->stride * sizeof *ent);
    uint64_t *index = calloc(cap, sizeof *index);
    if (!ent || !index) {
        free(index);
        if (ent)
            t->ent = ent;
        return -ENOMEM;
    }
    for (uint32_t e = 0; e < t->n; e++) {
        uint64_t i = ent[(size_t)e * (size_t)k->stride] & (cap - 1);
        while (index[i] >> 32 == 1)
            i = (i + 1) & (cap - 1);
        index[i] = (uint64_t)1 << 32 | e;
    }
    free(t->index);
    t->index = index;
    t->ent = ent;
    t->mask = cap - 1;
    t->gen = 1;
    t->limit = (uint32_t)limit;
    r->st.grown++;
    return 0;
}

/* Tables that reached their limit go to their (open) window early. */
static void flush_full(struct jit_run *r)
{
    for (int s = 0; s < r->pl->nsinks; s++) {
        const struct jit_sink *k = &r->pl->sinks[s];
        if (k->kind != SINK_GROUPBY && k->kind != SINK_DISTINCT && k->kind != SINK_FOLD)
            continue;
        for (int j = 0; j < k->nslots; j++) {
            struct jit_table *t = &r->ctx.tables[k->table0 + j];
            if ((uint64_t)t->n + (uint64_t)k->reserve < t->limit && !bytes_low(k, t))
                continue;
            if (k->kind == SINK_FOLD || k->chained) {
                /* neither a fold's state nor a table fed by one can be
                 * handed over before its window ends */
                if (grow(r, k, t) < 0) {
                    fprintf(stderr, "jit: out of memory growing a fold's table\n");
                    abort();
                }
                continue;
            }
            r->flushed[k->table0 + j] = true; /* first: merged, not rows */
            hand_over(r, k, j, slot_window(k->q, k->nslots, j, r->ctx.wm));
            r->st.flushes++;
        }
    }
    r->ctx.full = 0;
}

/* Per-packet rows: query, ts, presence bits, value words. */
static void drain_rows(struct jit_run *r)
{
    const uint64_t *w = r->ctx.out;
    uint32_t o = 0;
    while (o < r->ctx.out_n) {
        if (w[o] >> 32) { /* a fold's emitted row: into its window's rows */
            const struct jit_sink *k = &r->pl->sinks[(w[o] >> 32) - 1];
            if (keep_fold_row(r, k, w + o)) {
                o += (uint32_t)k->emit_words;
                continue;
            }
            const struct ir_node *n = k->node;
            uint64_t mask = w[o + 2];
            int wo = JIT_ROW_HDR;
            int64_t ws = (int64_t)w[o + 1];
            const struct jit_table *t =
                &r->ctx.tables[k->table0 + (ws / k->q->hop_ns) % k->nslots];
            for (int c = 0; c < n->ncols; c++) {
                enum hts_type ty = n->cols[c].type;
                if ((mask >> c) & 1)
                    key_value(&r->row[c], t, ty, w + o + wo);
                else
                    r->row[c] = hts_absent(ty);
                wo += c < n->nkeys ? k->keyw[c] : jit_type_words(ty);
            }
            exec_feed_rows(r->x, k->q->index, n->id, (int64_t)w[o + 1], r->row);
            o += (uint32_t)k->emit_words;
            continue;
        }
        const struct ir_query *q = r->pl->p->queries[w[o]];
        const struct jit_sink *k = &r->pl->sinks[r->pl->qs[q->index].first_sink];
        const struct ir_node *root = k->node;
        int64_t ts = (int64_t)w[o + 1];
        uint64_t mask = w[o + 2];
        for (int c = 0; c < root->ncols; c++) {
            if ((mask >> c) & 1)
                jit_set_value(&r->row[c], root->cols[c].type, w + o + k->coloff[c]);
            else
                r->row[c] = hts_absent(root->cols[c].type);
        }
        int64_t W = q->window_ns, H = q->hop_ns;
        if (!W) {
            r->rowfn(r->rowctx, q, ts, ts, r->row, root->ncols);
            r->st.rows++;
        } else {
            for (int64_t s = first_window(ts, W, H); s <= ts; s += H) {
                r->rowfn(r->rowctx, q, s, s + W, r->row, root->ncols);
                r->st.rows++;
            }
        }
        o += (uint32_t)k->row_words;
    }
    r->ctx.out_n = 0;
}

/* The interpreter's share: the queries the JIT does not cover. */
static void fallback(struct jit_run *r, const struct jit_pkt *pkts, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct jit_pkt *p = &pkts[i];
        hts_decode(&r->pkt, p->data, p->caplen, p->wirelen, p->ts, p->port,
                   r->jp->o.linktype, r->ds);
        for (int f = 0; f < r->nfallback; f++)
            exec_feed(r->x, r->fallback[f], 0, &r->pkt, NULL, (int64_t)p->ts);
    }
}

void jit_run_burst(struct jit_run *r, const struct jit_pkt *pkts, uint32_t n)
{
    uint32_t i = 0;
    if (!r->nfallback && r->ds)
        r->ds->packets += n;
    while (i < n) {
        uint32_t k = r->fn(&r->ctx, pkts + i, n - i);
        bool progress = k != 0 || r->ctx.out_n || r->ctx.full;
        r->st.calls++;
        r->st.packets += k;
        if (r->ctx.out_n)
            drain_rows(r);
        if (r->nfallback && k)
            fallback(r, pkts + i, k);
        i += k;
        if (r->ctx.full)
            flush_full(r);
        if (i == n)
            break;
        int64_t ts = (int64_t)pkts[i].ts;
        if (ts >= r->ctx.next_close) {
            close_until(r, ts);
            exec_advance(r->x, ts);
            progress |= ts < r->ctx.next_close;
        }
        if (!progress) {
            /* a time so close to 2^63 that no window end follows it: the
             * compiled code cannot place it (nor can the executor, whose
             * window ends would overflow); the interpreter takes it */
            r->st.untimed++;
            if (r->nfallback)
                fallback(r, pkts + i, 1);
            i++;
        }
    }
}

void jit_run_advance(struct jit_run *r, int64_t ts)
{
    if (ts >= r->ctx.next_close)
        close_until(r, ts);
    else if (ts > r->ctx.wm)
        r->ctx.wm = ts;
    exec_advance(r->x, ts);
}

uint64_t jit_run_late(const struct jit_run *r, int query)
{
    uint64_t n = exec_late(r->x, query);
    const struct jit_qplan *qp = &r->pl->qs[query];
    if (qp->covered && qp->nsinks && !r->pl->sinks[qp->first_sink].q->per_packet)
        n += r->ctx.late[r->pl->sinks[qp->first_sink].late];
    return n;
}

int64_t jit_run_watermark(const struct jit_run *r)
{
    int64_t w = exec_watermark(r->x);
    return r->ctx.wm > w ? r->ctx.wm : w;
}

void jit_run_finish(struct jit_run *r)
{
    if (r->ctx.out_n)
        drain_rows(r);
    close_until(r, INT64_MAX);
    exec_finish(r->x);
}

const struct jit_stats *jit_run_stats(struct jit_run *r)
{
    r->st.late = 0;
    for (int l = 0; l < r->pl->nlate; l++)
        r->st.late += r->ctx.late[l];
    r->st.refused = r->ctx.refused;
    return &r->st;
}

void jit_run_free(struct jit_run *r)
{
    if (!r)
        return;
    for (int t = 0; r->ctx.tables && t < r->pl->ntables; t++) {
        free(r->ctx.tables[t].index);
        free(r->ctx.tables[t].ent);
        free(r->ctx.tables[t].bytes);
    }
    free(r->ctx.tables);
    free(r->flushed);
    free(r->ck);
    free(r->tmp);
    free(r->var);
    for (int q = 0; r->frows && q < r->pl->p->nqueries; q++) {
        free(r->frows[q].w);
        free(r->frows[q].ord);
    }
    free(r->frows);
    free(r->ctx.late);
    free(r->ctx.out);
    free(r->ctx.scratch);
    free(r->fallback);
    free(r);
}
