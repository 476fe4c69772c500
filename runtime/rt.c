/*
 * rt.c - the runtime's process helpers that every lcore may call: the wall
 * clock (event time of a frame without a capture timestamp) and the
 * out-of-memory exit.
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

uint64_t rt_wallclock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
