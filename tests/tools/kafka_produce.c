/*
 * kafka_produce.c - a tiny driver for the Kafka sink, used by tests/suites/kafka.sh.
 *
 *   kafka_produce [-t TIMEOUT_MS] [-X key=value]... BROKERS PREFIX QUERY N
 *
 * Produces N rows through runtime/kafka.c to topic PREFIX+QUERY, then flushes and
 * prints the counters. Row i has key "key-%06d", timestamp 1700000000000 + i and
 * payload {"query":"QUERY","i":i,"pad":"x...x"} with i % 50 x's, so the suite can
 * regenerate exactly what must come back from the broker. Exits 0 only if every
 * row was delivered; otherwise says why (last error, broker error) and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka.h"

#define TS_BASE 1700000000000LL
#define MAX_PROPS 32

static void usage(void)
{
    fprintf(stderr, "usage: kafka_produce [-t TIMEOUT_MS] [-X key=value]... BROKERS PREFIX QUERY N\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *props[MAX_PROPS];
    struct kafka_conf conf = {.props = props, .delivery_timeout_ms = 30000};
    struct kafka_counters c;
    struct kafka_sink *s;
    char err[512], key[32], val[160];
    const char *query;
    long n;
    int opt, left, rc = 0;

    while ((opt = getopt(argc, argv, "t:X:")) != -1) {
        switch (opt) {
        case 't':
            conf.delivery_timeout_ms = atoi(optarg);
            break;
        case 'X':
            if (conf.nprops == MAX_PROPS)
                usage();
            props[conf.nprops++] = optarg;
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 4)
        usage();
    conf.brokers = argv[optind];
    conf.topic_prefix = argv[optind + 1];
    query = argv[optind + 2];
    n = atol(argv[optind + 3]);

    s = kafka_sink_new(&conf, err, sizeof err);
    if (!s) {
        fprintf(stderr, "kafka_produce: %s\n", err);
        return 1;
    }
    for (long i = 0; i < n && rc == 0; i++) {
        int kl = snprintf(key, sizeof key, "key-%06ld", i);
        int vl = snprintf(val, sizeof val, "{\"query\":\"%s\",\"i\":%ld,\"pad\":\"%.*s\"}", query,
                          i, (int)(i % 50), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        rc = kafka_produce(s, query, key, (size_t)kl, val, (size_t)vl, TS_BASE + i);
        kafka_poll(s);
    }
    if (rc)
        fprintf(stderr, "kafka_produce: produce: %s\n", strerror(-rc));
    left = kafka_flush(s, conf.delivery_timeout_ms + 5000);
    kafka_stats(s, &c);
    printf("produced %llu delivered %llu failed %llu queued %llu rejected %llu undelivered %d\n",
           (unsigned long long)c.produced, (unsigned long long)c.delivered,
           (unsigned long long)c.failed, (unsigned long long)c.queued,
           (unsigned long long)c.rejected, left);
    if (left || rc || c.delivered != (unsigned long long)n) {
        fprintf(stderr, "kafka_produce: %d of %ld rows not delivered%s\n", left, n,
                c.brokers_down ? "; all brokers down" : "");
        if (c.last_error[0])
            fprintf(stderr, "kafka_produce: last error: %s\n", c.last_error);
        if (c.broker_error[0])
            fprintf(stderr, "kafka_produce: broker error: %s\n", c.broker_error);
        rc = 1;
    }
    kafka_sink_free(s);
    return rc ? 1 : 0;
}
