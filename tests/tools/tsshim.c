/*
 * tsshim.c - puts each frame's capture time in front of it, for a P4 test
 * build on BMv2 (-DHTS_TIME_SHIM, docs/targets.md).
 *
 *   tsshim IN.pcap[ng] OUT.pcap
 *
 * simple_switch replaying a file (--use-files) stamps frames with its own
 * clock, so rows computed on it could not be compared with `htsc run`'s.
 * Each frame of IN (Ethernet only: the generated parser starts there) is
 * written to OUT preceded by 8 bytes, the capture time in ns since the
 * epoch, big-endian: the header ts_shim_t the test build parses, as a tap's
 * hardware timestamp would be. OUT is a classic pcap (link type Ethernet,
 * microsecond times). Prints the number of frames written; exit 1 on error.
 */
#include "pcapin.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tsshim IN.pcap OUT.pcap\n");
        return 2;
    }
    char err[512];
    struct hts_pcap *in = hts_pcap_open(argv[1], err, sizeof err);
    if (!in) {
        fprintf(stderr, "tsshim: %s\n", err);
        return 1;
    }
    if (hts_pcap_linktype(in) != DLT_EN10MB) {
        fprintf(stderr, "tsshim: %s: link type %d, not Ethernet\n", argv[1],
                hts_pcap_linktype(in));
        hts_pcap_close(in);
        return 1;
    }
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144 + 8);
    pcap_dumper_t *out = dead ? pcap_dump_open(dead, argv[2]) : NULL;
    if (!out) {
        fprintf(stderr, "tsshim: %s: %s\n", argv[2], dead ? pcap_geterr(dead) : "pcap");
        if (dead)
            pcap_close(dead);
        hts_pcap_close(in);
        return 1;
    }
    uint8_t *buf = malloc(262144 + 8);
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts;
    unsigned long n = 0;
    int rc = 0;
    while (buf && (rc = hts_pcap_next(in, &data, &caplen, &wirelen, &ts)) == 1) {
        if (caplen > 262144)
            caplen = 262144;
        for (int i = 0; i < 8; i++)
            buf[i] = (uint8_t)(ts >> (56 - 8 * i));
        memcpy(buf + 8, data, caplen);
        struct pcap_pkthdr h = {
            .ts = {.tv_sec = (time_t)(ts / 1000000000u),
                   .tv_usec = (suseconds_t)(ts % 1000000000u / 1000u)},
            .caplen = caplen + 8,
            .len = wirelen + 8,
        };
        pcap_dump((u_char *)out, &h, buf);
        n++;
    }
    int bad = !buf || rc < 0;
    if (rc < 0)
        fprintf(stderr, "tsshim: %s: %s\n", argv[1], hts_pcap_error(in));
    free(buf);
    pcap_dump_close(out);
    pcap_close(dead);
    hts_pcap_close(in);
    if (!bad)
        printf("%lu\n", n);
    return bad;
}
