/*
 * rt.c - the runtime's process helpers that every lcore may call: the wall
 * clock (event time of a frame without a capture timestamp), the
 * out-of-memory exit, and the late count of a query over every lcore.
 */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void rt_fatal_oom(void)
{
    fprintf(stderr, "htsd: out of memory\n");
    abort();
}

uint64_t rt_late(const struct rt_global *rt, int q)
{
    uint64_t n = exec_late(rt->main_x, q);
    for (int i = 0; i < rt->nworkers; i++)
        if (rt->workers[i].late_q)
            n += atomic_load_explicit(&rt->workers[i].late_q[q], memory_order_relaxed);
    return n;
}

uint64_t rt_wallclock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
