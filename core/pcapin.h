/*
 * pcapin.h - capture files in: pcap and pcapng through libpcap.
 *
 * Two ways in. hts_pcap_* streams a file packet by packet (the executor, the
 * tools); hts_trace_* loads a whole capture into one allocation so that a
 * benchmark can replay it without touching the disk or libpcap in the timed
 * loop. Timestamps are always nanoseconds since the epoch, whatever the file
 * stores (libpcap scales microsecond files when opened at nano precision).
 * Link types are libpcap's DLT values (pcap_datalink), which hts_decode()
 * accepts directly.
 */
#ifndef HTS_PCAPIN_H
#define HTS_PCAPIN_H

#include <stddef.h>
#include <stdint.h>

struct hts_pcap;

/* Opens a pcap or pcapng file. Returns NULL and writes a message to err
 * (missing file, not a capture...) on failure. */
struct hts_pcap *hts_pcap_open(const char *path, char *err, size_t errlen);

/*
 * The next packet: 1 and the packet's bytes, lengths and time; 0 at the end
 * of the file; a negative errno (-EIO) on a read error, with the message in
 * hts_pcap_error(). *data stays valid until the next call or close.
 */
int hts_pcap_next(struct hts_pcap *pc, const uint8_t **data, uint32_t *caplen,
                  uint32_t *wirelen, uint64_t *ts_ns);

/* libpcap's DLT link type of the file (1 Ethernet, 12 raw, 113 SLL...). */
int hts_pcap_linktype(const struct hts_pcap *pc);

/* The last error's message ("" if none). */
const char *hts_pcap_error(struct hts_pcap *pc);

void hts_pcap_close(struct hts_pcap *pc);

/*
 * A capture held in memory: frame i is bytes[off[i] .. off[i] + cap_len[i]).
 * All arrays have n entries; the owner frees them with hts_trace_free().
 */
struct hts_trace {
    int linktype;
    size_t n;
    uint8_t *bytes;
    size_t nbytes;
    size_t *off;
    uint32_t *cap_len;
    uint32_t *wire_len;
    uint64_t *ts_ns;
};

static inline const uint8_t *hts_trace_frame(const struct hts_trace *t,
                                             size_t i)
{
    return t->bytes + t->off[i];
}

/* Loads the whole file. 0, or a negative errno and a message in err (the
 * trace is then empty and needs no free). */
int hts_trace_load(const char *path, struct hts_trace *t, char *err,
                   size_t errlen);

/* Frees the arrays and zeroes *t (safe on a zeroed trace). */
void hts_trace_free(struct hts_trace *t);

#endif
