/*
 * splitpcap.c - splits a capture into N captures by flow, as RSS would.
 *
 *   splitpcap IN OUT_PREFIX N      writes OUT_PREFIX0.pcap ... OUT_PREFIX{N-1}.pcap
 *
 * A symmetric hash of the IP addresses and L4 ports (decoded by the project's
 * decoder) picks the output, so both directions of a flow land together.
 * Timestamps are kept in microseconds (what DPDK's net_pcap replays). Used by
 * the tests that run htsd with several workers, one net_pcap queue each.
 */
#include "packet.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: splitpcap IN OUT_PREFIX N\n");
        return 2;
    }
    int n = atoi(argv[3]);
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!in || n < 1 || n > 64) {
        fprintf(stderr, "splitpcap: %s\n", in ? "N must be 1..64" : err);
        return 1;
    }
    pcap_dumper_t *out[64];
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%d.pcap", argv[2], i);
        out[i] = pcap_dump_open(in, path);
        if (!out[i]) {
            fprintf(stderr, "splitpcap: %s: %s\n", path, pcap_geterr(in));
            return 1;
        }
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    struct hts_pkt p;
    int r;
    while ((r = pcap_next_ex(in, &h, &data)) == 1) {
        hts_decode(&p, data, h->caplen, h->len, 0, 0, pcap_datalink(in), NULL);
        uint64_t a = 0, b = 0;
        static const enum hts_field src[] = {FLD_IPV4_SRC, FLD_TCP_SPORT, FLD_UDP_SPORT};
        static const enum hts_field dst[] = {FLD_IPV4_DST, FLD_TCP_DPORT, FLD_UDP_DPORT};
        for (int k = 0; k < 3; k++) {
            if (hts_pkt_has(&p, src[k]))
                a = a * 31 + p.f[src[k]].u;
            if (hts_pkt_has(&p, dst[k]))
                b = b * 31 + p.f[dst[k]].u;
        }
        uint64_t hsh = (a ^ b) * 0x9e3779b97f4a7c15ULL; /* symmetric in a, b */
        pcap_dump((u_char *)out[(hsh >> 32) % (uint64_t)n], h, data);
    }
    for (int i = 0; i < n; i++)
        pcap_dump_close(out[i]);
    pcap_close(in);
    return r == -1 ? 1 : 0;
}
