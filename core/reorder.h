/*
 * reorder.h - a bounded buffer that puts packets back in time order.
 *
 * The tool of stream processors for out-of-order input ("bounded
 * out-of-orderness", K-slack): packets wait here, copied, until the caller's
 * watermark (the largest time seen minus the allowed delay) has passed
 * them, and leave in time order, ties in arrival order. What the caller
 * feeds its executor is then time-ordered except for packets older than
 * the watermark on arrival: those leave at once, and the executor decides
 * whether their window is still open (docs/semantics.md, "Event time").
 *
 * The buffer holds at most max_bytes of packet copies. Over that, the
 * caller must take the oldest packet out before its time (forced): it
 * counts them, so that nothing leaves early without a word.
 */
#ifndef HTS_REORDER_H
#define HTS_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hts_rpkt { /* one buffered packet: its bytes follow */
    uint64_t ts;
    uint64_t seq; /* arrival number: ties leave in arrival order */
    uint32_t caplen, wirelen;
    uint16_t port;
    uint8_t data[];
};

struct hts_reorder;

/* A buffer of at most max_bytes of packets (0: no limit). NULL: no memory. */
struct hts_reorder *hts_reorder_new(size_t max_bytes);
void hts_reorder_free(struct hts_reorder *r);

/* Copies a packet in. -ENOMEM when the allocation fails (the buffer is
 * unchanged). */
int hts_reorder_push(struct hts_reorder *r, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, uint64_t ts, uint16_t port);

/* The oldest packet (smallest time, then arrival), NULL when empty. */
const struct hts_rpkt *hts_reorder_peek(const struct hts_reorder *r);

/* Takes the oldest packet out; the caller gives it back with
 * hts_reorder_done() once it has used the bytes. NULL when empty. */
struct hts_rpkt *hts_reorder_pop(struct hts_reorder *r);
void hts_reorder_done(struct hts_reorder *r, struct hts_rpkt *p);

/*
 * The watermark of n sources (ports): the smallest, over the sources that
 * have had a packet within `idle` (in the caller's clock units) of `now`, of
 * their latest time minus `delay`. A source that never had a packet, or has
 * been silent longer, does not hold it back; when no source is active the
 * watermark is the latest time of any (everything seen may leave) and
 * *all_idle is set. -1 when nothing was seen at all. last_rx[i] == 0: never.
 */
int64_t hts_watermark(const uint64_t *latest, const uint64_t *last_rx, int n, uint64_t now,
                      uint64_t idle, int64_t delay, bool *all_idle);

/* Packets and bytes held, and whether the limit is exceeded. */
size_t hts_reorder_count(const struct hts_reorder *r);
size_t hts_reorder_bytes(const struct hts_reorder *r);
bool hts_reorder_over(const struct hts_reorder *r);

#endif
