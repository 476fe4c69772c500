/*
 * sink_kafka.c - the Kafka sink behind htsd's sink interface (kafka.c does
 * the librdkafka work). At start-up it asks the cluster for metadata so that
 * an unreachable broker is said clearly at once, not discovered row by row;
 * htsd still runs (the broker may come back) and its exit status tells.
 */
#include "kafka.h"
#include "sink.h"

#include <stdlib.h>
#include <string.h>

static int k_produce(void *self, const char *query, const void *key,
                     size_t keylen, const void *value, size_t len, int64_t ts)
{
    return kafka_produce(self, query, key, keylen, value, len, ts / 1000000);
}

static void k_poll(void *self) { kafka_poll(self); }

static int k_flush(void *self, int timeout_ms)
{
    return kafka_flush(self, timeout_ms);
}

static void k_counters(void *self, struct rt_sink_counters *c)
{
    struct kafka_counters k;
    kafka_stats(self, &k);
    memset(c, 0, sizeof *c);
    c->produced = k.produced + k.rejected;
    c->delivered = k.delivered;
    c->failed = k.failed + k.rejected;
    c->queued = k.queued;
    c->broker_down = k.brokers_down;
    snprintf(c->last_error, sizeof c->last_error, "%s",
             k.broker_error[0] ? k.broker_error : k.last_error);
}

static void k_free(void *self) { kafka_sink_free(self); }

static int k_abandon(void *self) { return kafka_abandon(self); }

static int k_produce_to(void *self, const char *topic, int32_t partition,
                        const void *value, size_t len, int64_t ts)
{
    return kafka_produce_to(self, topic, partition, NULL, 0, value, len, ts / 1000000);
}

static int k_partitions(void *self, const char *topic, int create, char *err,
                        size_t errlen)
{
    return kafka_partitions(self, topic, create, 10000, err, errlen);
}

void rt_kafka_name_undelivered(const char *topic, const void *key, size_t keylen,
                               const void *value, size_t len, const char *error)
{
    const char *v = value;
    if (len >= 4 && memcmp(v, "HTSN", 4) == 0) {
        fprintf(stderr, "htsd: undelivered (%s): %s: a network-wide state message of "
                "%zu bytes\n", error, topic, len);
        return;
    }
    if (len >= 4 && memcmp(v, "HTX1", 4) == 0) {
        unsigned n = len >= 10 ? (unsigned)((uint8_t)v[6] << 24 | (uint8_t)v[7] << 16 |
                                            (uint8_t)v[8] << 8 | (uint8_t)v[9])
                               : 0;
        fprintf(stderr, "htsd: undelivered (%s): %s: an HTX1 batch of %u records\n",
                error, topic, n);
        return;
    }
    fprintf(stderr, "htsd: undelivered (%s): %s key=%.*s %.*s\n", error, topic,
            (int)keylen, key ? (const char *)key : "", (int)len, v);
}

/* Names each row that did not arrive, so that a run says exactly which. */
static void on_failed(void *ctx, const char *topic, const void *key,
                      size_t keylen, const void *value, size_t len,
                      const char *error)
{
    (void)ctx;
    rt_kafka_name_undelivered(topic, key, keylen, value, len, error);
}

/* librdkafka gives milliseconds back: htsd's hook takes ns */
static void (*ok_fn)(void *ctx, int64_t ts_ns);
static void ok_ms(void *ctx, int64_t ms)
{
    ok_fn(ctx, ms * 1000000);
}

static void k_on_delivered(void *self, void (*fn)(void *ctx, int64_t ts_ns), void *ctx)
{
    ok_fn = fn;
    kafka_on_delivered(self, fn ? ok_ms : NULL, ctx);
}

static const struct rt_sink_ops kafka_ops = {
    k_produce, k_poll, k_flush, k_counters, k_free, k_abandon, k_produce_to, k_partitions,
    k_on_delivered,
};

struct kafka_sink *rt_kafka_open(const char *brokers, const char *topic_prefix,
                                 const char *const *props, int nprops,
                                 const char *transactional_id, char *err, size_t errlen)
{
    struct kafka_conf c = {
        .brokers = brokers,
        .topic_prefix = topic_prefix,
        .props = props,
        .nprops = (size_t)nprops,
        /* in a transaction a failed row is sent again, not lost: the
           transactional sink names rows itself; a full queue means commit */
        .on_failed = transactional_id ? NULL : on_failed,
        .queue_full_wait_ms = transactional_id ? -1 : 0,
        .transactional_id = transactional_id,
    };
    struct kafka_sink *k = kafka_sink_new(&c, err, errlen);
    if (!k)
        return NULL;
    char perr[256];
    if (kafka_ping(k, 5000, perr, sizeof perr) < 0)
        fprintf(stderr, "htsd: warning: Kafka at %s does not answer (%s); rows "
                "will wait for it until the delivery timeout\n", brokers, perr);
    return k;
}

struct rt_sink *rt_sink_kafka(const char *brokers, const char *topic_prefix,
                              const char *const *props, int nprops,
                              char *err, size_t errlen)
{
    struct kafka_sink *k = rt_kafka_open(brokers, topic_prefix, props, nprops, NULL, err,
                                         errlen);
    if (!k)
        return NULL;
    struct rt_sink *s = calloc(1, sizeof *s);
    if (!s) {
        kafka_sink_free(k);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->ops = &kafka_ops;
    s->self = k;
    s->name = "kafka";
    return s;
}
