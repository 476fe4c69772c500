/*
 * rt.h - htsd's process-wide state and the main lcore's helpers.
 *
 * One struct rt_global, owned by htsd's main (htsd/main.c), set up before
 * the lcores start and read-only afterwards but for force_quit (workers
 * write only their own struct rt_worker). It is passed explicitly: each
 * worker reaches it through rt_worker.rt, the metrics server through
 * rt_metrics_open().
 */
#ifndef HTS_RT_H
#define HTS_RT_H

#include "htsd.h"
#include "netsite.h"
#include "sink.h"
#include "winlat.h"

/* --late-topic: the topic's name after the prefix; no query can have it
 * (a query name is an identifier) */
#define RT_LATE_TOPIC "late-packets"

struct rt_global {
    struct rt_options opt;
    uint16_t ports[RT_MAX_PORTS];
    int nports;
    struct rt_worker workers[RT_MAX_WORKERS];
    int nworkers;
    int ts_offset; /* mbuf timestamp dynfield, -1: none */
    uint64_t ts_scale[RT_MAX_PORTS]; /* ns per timestamp unit; 0: use the clock */
    uint64_t ts_flag;
    struct ir_program *prog;
    struct plan *plan;  /* --plan */
    bool report_mode;   /* ports carry report frames */
    struct exec *main_x; /* merges the workers' windows, emits rows */
    struct rowfmt *fmt;  /* the JSON writer of the program's rows */
    struct rt_sink *sink;
    struct ns_site *nsite; /* network-wide queries: their state to Kafka */
    struct winlat *winlat; /* window end to last row acknowledged */
    uint64_t pass_ns;      /* CLOCK_MONOTONIC at the control loop pass's start */
    /* counters of the main lcore */
    uint64_t *rows_per_query;
    uint64_t rows_dropped; /* could not be handed to the sink */
    uint64_t late_merges;
    uint64_t late_produced; /* --late-topic: packets handed to the sink */
    int64_t emitted_upto; /* windows ending at or before this are out */
    volatile bool force_quit; /* SIGINT/SIGTERM: workers stop receiving */
    uint64_t loop_max_ns;     /* the control loop's longest pass (its work, not its sleep) */
    uint64_t loop_max_cpu_ns; /* the same in the main lcore's CPU time */
};

/* rt.c */
__attribute__((noreturn)) void rt_fatal_oom(void);
uint64_t rt_wallclock_ns(void);
/* Packets (and handed-over state) of query q that came after their window
 * had closed: the workers' published counts and the main lcore's. */
uint64_t rt_late(const struct rt_global *rt, int q);

/* worker.c */
void rt_msg_fix_strings(struct rt_msg *m);
/* The main lcore is done with m, which came from worker w: back to w's
 * free ring for reuse (freed when it is full). */
void rt_msg_release(struct rt_worker *w, struct rt_msg *m);

/* metrics.c: Prometheus text over HTTP: rendered by the main lcore
 * (rt_metrics_poll, never blocking), served by a thread of its own */
int rt_metrics_open(const struct rt_global *g, const char *hostport, char *err,
                    size_t errlen);
void rt_metrics_poll(void);
void rt_metrics_close(void);

#endif
