/*
 * winlat.h - window latency: from the moment event time passes a window's
 * end to the moment the broker acknowledges that window's last row.
 *
 * htsd's main lcore records when its watermark crosses each window boundary
 * (winlat_advance), which windows' rows it produced (winlat_row), and the
 * sink's delivery reports say which were acknowledged (winlat_acked, by the
 * message timestamp: the window's end). A window whose every row was
 * acknowledged gives one sample; winlat_stats gives their p50 and p99.
 * The watermark is the main lcore's: the time a worker takes to see the
 * first packet past the end and hand its state over (a burst) is not in it.
 * Only with --message-time event (the default): then a row's timestamp is
 * its window's end.
 */
#ifndef HTS_WINLAT_H
#define HTS_WINLAT_H

#include <stddef.h>
#include <stdint.h>

struct winlat;

struct winlat_stats {
    size_t windows;      /* windows with every row acknowledged */
    size_t incomplete;   /* windows with a row not (yet) acknowledged */
    double p50_ms, p99_ms, max_ms;
};

/* hop_ns: the smallest window hop of the program (boundaries are its
 * multiples). NULL on allocation failure. */
struct winlat *winlat_new(int64_t hop_ns);
void winlat_advance(struct winlat *w, int64_t watermark, uint64_t now_ns);
void winlat_row(struct winlat *w, int64_t window_end, uint64_t now_ns);
void winlat_acked(struct winlat *w, int64_t ts_ns, uint64_t now_ns);
void winlat_stats(struct winlat *w, struct winlat_stats *out);
void winlat_free(struct winlat *w);

#endif
