/*
 * sink.h - where htsd's result rows go: stdout (the embedded default) or
 * Kafka. A struct of function pointers, so the main lcore does not care.
 *
 * Delivery is counted by the sink: for stdout a row is delivered when it is
 * written; for Kafka only on its delivery report.
 */
#ifndef HTS_SINK_H
#define HTS_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rt_sink_counters {
    uint64_t produced, delivered, failed, queued;
    bool broker_down;
    uint64_t txn_commits, txn_aborts; /* --exactly-once: transactions */
    char last_error[256];
};

struct rt_sink_ops {
    /* 0, or a negative errno: the row was not accepted (counted failed) */
    int (*produce)(void *self, const char *query, const void *key,
                   size_t keylen, const void *value, size_t len,
                   int64_t timestamp_ns);
    void (*poll)(void *self);
    /* waits up to timeout_ms; returns how many rows remain undelivered */
    int (*flush)(void *self, int timeout_ms);
    void (*counters)(void *self, struct rt_sink_counters *c);
    void (*free)(void *self);
    /* gives up on rows still undelivered after flush, naming each; may be
     * NULL (a sink that cannot hold rows back) */
    int (*abandon)(void *self);
    /* network-wide state (netstate.h): one message into one partition of
     * topic prefix+topic, and that topic's partitions (created with
     * `create` when missing); NULL where the sink cannot (stdout) */
    int (*produce_to)(void *self, const char *topic, int32_t partition,
                      const void *value, size_t len, int64_t timestamp_ns);
    int (*partitions)(void *self, const char *topic, int create, char *err,
                      size_t errlen);
    /* fn(ctx, timestamp) for each row delivered (its message timestamp, ns
     * as given to produce); NULL where the sink cannot say (transactions) */
    void (*on_delivered)(void *self, void (*fn)(void *ctx, int64_t ts_ns), void *ctx);
};

struct rt_sink {
    const struct rt_sink_ops *ops;
    void *self;
    const char *name;
};

struct rt_sink *rt_sink_stdout(FILE *out);
struct rt_sink *rt_sink_kafka(const char *brokers, const char *topic_prefix,
                              const char *const *props, int nprops,
                              char *err, size_t errlen);
/* Exactly once for read_committed consumers: rows in Kafka transactions,
 * committed every interval_ms (0: 100), sent again after an abort
 * (sink_kafka_txn.c). */
struct rt_sink *rt_sink_kafka_txn(const char *brokers, const char *topic_prefix,
                                  const char *const *props, int nprops,
                                  const char *transactional_id, int interval_ms,
                                  char *err, size_t errlen);
void rt_sink_free(struct rt_sink *s);

/* The librdkafka producer behind both Kafka sinks (kafka.h), asked at once
 * whether a broker answers (a warning if none does); transactional_id NULL:
 * idempotent, failed rows named on stderr. */
struct kafka_sink;
struct kafka_sink *rt_kafka_open(const char *brokers, const char *topic_prefix,
                                 const char *const *props, int nprops,
                                 const char *transactional_id, char *err, size_t errlen);

/* Says on stderr that a row will not arrive: "htsd: undelivered (WHY):
 * TOPIC key=K ROW" (an HTX1 batch is named by its record count). */
void rt_kafka_name_undelivered(const char *topic, const void *key, size_t keylen,
                               const void *value, size_t len, const char *why);

#endif
