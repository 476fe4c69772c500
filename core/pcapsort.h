/*
 * pcapsort.h - a capture file read in time order, in bounded memory.
 *
 * `htsc run` gives the rows of a time-ordered copy of its capture, whatever
 * order the file holds (docs/semantics.md, "Event time"). A first pass reads
 * the file and checks its order: a capture already in time order, the usual
 * case, is then streamed as it is. Otherwise the packets are sorted by time
 * (ties keep file order), as an external merge sort: chunks of at most
 * mem_limit bytes are sorted in memory; when the capture does not fit in
 * one, each sorted chunk goes to an unlinked temporary file in $TMPDIR (or
 * /tmp) and the chunks are merged, one packet of each in memory. So memory
 * stays near mem_limit for captures of any size; the disk holds one copy.
 */
#ifndef HTS_PCAPSORT_H
#define HTS_PCAPSORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hts_sorted;

struct hts_sorted_stats {
    uint64_t packets;
    uint64_t out_of_order; /* packets older than one before them in the file */
    uint64_t max_back_ns;  /* the largest step back in time */
    int runs;              /* sorted chunks written to disk (0: in memory) */
};

/* Opens path for reading in time order; mem_limit bytes for sorting (0: a
 * default of 512 MiB). NULL and a message in err on failure. */
struct hts_sorted *hts_sorted_open(const char *path, size_t mem_limit, char *err,
                                   size_t errlen);

/* As hts_pcap_next (pcapin.h): 1 and the next packet in time order, 0 at
 * the end, a negative errno with a message in hts_sorted_error(). */
int hts_sorted_next(struct hts_sorted *s, const uint8_t **data, uint32_t *caplen,
                    uint32_t *wirelen, uint64_t *ts_ns);

int hts_sorted_linktype(const struct hts_sorted *s);
const char *hts_sorted_error(const struct hts_sorted *s);
const struct hts_sorted_stats *hts_sorted_stats(const struct hts_sorted *s);
void hts_sorted_close(struct hts_sorted *s);

#endif
