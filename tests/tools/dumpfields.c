/*
 * dumpfields.c - print every catalogue field of every packet of a capture.
 *
 *   dumpfields FILE.pcap[ng]
 *
 * One tab-separated line per packet: the frame number (1-based, as tshark
 * counts), then each field of fields.def in catalogue order (an absent field
 * is an empty string), then the decode error that stopped decoding this
 * packet, if any ("trunc_dns"...). A header line starting with '#' names the columns, so
 * tests/decoder/compare_tshark.py can find columns by name. Formats are
 * chosen to be easy to compare with `tshark -T fields`: integers in decimal,
 * IPv4 dotted, IPv6 as inet_ntop writes it (RFC 5952, as tshark does), MACs
 * as lower-case aa:bb:cc:dd:ee:ff, dns.an.types as comma-separated codes in
 * first-seen order, payload in lower-case hex, dns.qname with printable
 * ASCII as is and every other byte (and '\') as \xNN.
 *
 * The decode-error counts go to stderr at the end, one "name count" line per
 * non-zero reason after a "packets N" line. Exit status: 0, or 1 if the file
 * cannot be opened or read.
 */
#include "packet.h"
#include "pcapin.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void print_value(const struct hts_pkt *p, enum hts_field f)
{
    if (!hts_pkt_has(p, f))
        return;
    const union hts_fv *v = &p->f[f];
    switch (hts_fields[f].type) {
    case TY_INT:
        printf("%" PRIu64, v->u);
        break;
    case TY_IPV4: {
        uint32_t a = (uint32_t)v->u;
        printf("%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
               a & 255);
        break;
    }
    case TY_IPV6: {
        char buf[INET6_ADDRSTRLEN];
        fputs(inet_ntop(AF_INET6, v->b, buf, sizeof buf), stdout);
        break;
    }
    case TY_MAC:
        printf("%02x:%02x:%02x:%02x:%02x:%02x", v->b[0], v->b[1], v->b[2],
               v->b[3], v->b[4], v->b[5]);
        break;
    case TY_STR:
        for (uint32_t i = 0; i < v->s.n; i++) {
            uint8_t c = v->s.p[i];
            if (f == FLD_PAYLOAD)
                printf("%02x", c);
            else if (c >= 0x20 && c < 0x7f && c != '\\')
                putchar(c);
            else
                printf("\\x%02x", c);
        }
        break;
    case TY_TYPESET:
        for (unsigned i = 0; i < p->n_an_types; i++)
            printf("%s%u", i ? "," : "", p->an_types[i]);
        break;
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
        return 2;
    }
    char err[512];
    struct hts_pcap *pc = hts_pcap_open(argv[1], err, sizeof err);
    if (!pc) {
        fprintf(stderr, "dumpfields: %s\n", err);
        return 1;
    }
    int lt = hts_pcap_linktype(pc);

    printf("#frame");
    for (int f = 0; f < FLD__COUNT; f++)
        printf("\t%s", hts_fields[f].name);
    printf("\terror\n");

    static struct hts_pkt pkt;
    struct hts_decode_stats st = {0};
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts;
    uint64_t frame = 0;
    int rc;
    while ((rc = hts_pcap_next(pc, &data, &caplen, &wirelen, &ts)) > 0) {
        struct hts_decode_stats before = st;
        hts_decode(&pkt, data, caplen, wirelen, ts, 0, lt, &st);
        printf("%" PRIu64, ++frame);
        for (int f = 0; f < FLD__COUNT; f++) {
            putchar('\t');
            print_value(&pkt, (enum hts_field)f);
        }
        /* the reason decoding stopped, if any (at most one per packet) */
        putchar('\t');
        for (int e = 0; e < DEC__COUNT; e++)
            if (st.errors[e] != before.errors[e])
                fputs(hts_decode_err_names[e], stdout);
        putchar('\n');
    }
    int status = 0;
    if (rc < 0) {
        fprintf(stderr, "dumpfields: %s: %s\n", argv[1], hts_pcap_error(pc));
        status = 1;
    }
    hts_pcap_close(pc);
    fflush(stdout);

    fprintf(stderr, "packets %" PRIu64 "\n", st.packets);
    for (int e = 0; e < DEC__COUNT; e++)
        if (st.errors[e])
            fprintf(stderr, "%s %" PRIu64 "\n", hts_decode_err_names[e],
                    st.errors[e]);
    return status;
}
