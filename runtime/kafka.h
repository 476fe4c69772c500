/*
 * kafka.h - the Kafka sink: result rows out of htsd, one topic per query.
 *
 * A thin layer over librdkafka's producer, shaped after its examples/producer.c:
 * every property is set with an error buffer, a message is known to be delivered
 * only when its delivery report says so, the owner polls on every pass of its
 * loop and flushes with a time limit on shutdown. The producer is idempotent
 * (enable.idempotence=true: acks=all, no duplicates or reordering from retries).
 *
 * Counting: produced = rows accepted into librdkafka's queue; each one ends as
 * exactly one delivery report, delivered or failed; queued = the rest. A row
 * refused before it was queued (queue still full after the bounded wait, bad
 * topic name, producer fatally failed) is counted as rejected, not produced.
 *
 * Threading: not thread-safe. Produce, poll, flush and stats are called from one
 * thread (htsd's main lcore); the callbacks that update the counters run inside
 * kafka_poll() / kafka_flush() on that same thread.
 *
 * Brokers "mock" starts librdkafka's in-process mock cluster (one broker on a
 * loopback port, see kafka_mock_bootstraps()) for demos and unit tests.
 * See docs/kafka.md.
 */
#ifndef HTS_KAFKA_H
#define HTS_KAFKA_H

#include <stddef.h>
#include <stdint.h>

struct kafka_conf {
    const char *brokers;       /* bootstrap.servers "host:port,...", or "mock" */
    const char *topic_prefix;  /* topic = prefix + query name; NULL = "" */
    const char *const *props;  /* extra librdkafka properties, "key=value" (-X) */
    size_t nprops;             /* applied last: they override the defaults */
    int delivery_timeout_ms;   /* message.timeout.ms; 0 = librdkafka's (300000) */
    int queue_full_wait_ms;    /* how long kafka_produce polls while the local
                                  queue is full; 0 = 5000, < 0 = do not wait */
    /* called for every row whose delivery report is a failure (and for
     * every row kafka_abandon gives up on), so that the owner can name
     * exactly which rows did not arrive; NULL: only counted */
    void (*on_failed)(void *ctx, const char *topic, const void *key,
                      size_t keylen, const void *value, size_t len,
                      const char *error);
    void *failed_ctx;
    /* transactional.id: the producer becomes transactional (kafka_txn_*);
       NULL = idempotent only */
    const char *transactional_id;
};

#define KAFKA_MAX_ERRCODES 16

struct kafka_errcount {
    int code;                  /* rd_kafka_resp_err_t */
    uint64_t count;
};

struct kafka_counters {
    uint64_t produced;         /* accepted into the queue */
    uint64_t delivered;        /* delivery report: success */
    uint64_t failed;           /* delivery report: error */
    uint64_t queued;           /* produced - delivered - failed */
    uint64_t rejected;         /* refused by kafka_produce, never queued */
    uint64_t queue_full_waits; /* times kafka_produce found the queue full */
    uint64_t transport_errors; /* error callback: connection failures */
    int brokers_down;          /* error callback said all brokers are down, and no
                                  row has been delivered since */
    int fatal;                 /* the producer hit a fatal (idempotence) error */
    /* failures (delivery reports and rejections) by error code, first seen first;
       codes past KAFKA_MAX_ERRCODES distinct ones count only in failed/rejected */
    struct kafka_errcount errors[KAFKA_MAX_ERRCODES];
    int nerrors;
    char last_error[256];      /* the latest error of any kind, "" if none */
    char broker_error[256];    /* why brokers are unreachable: the latest connection
                                  error ("Connect to ... failed: Connection refused") */
};

struct kafka_sink;

/* Creates the producer. Returns NULL with a message in err on a bad property or
 * a librdkafka failure. Does not contact the brokers (see kafka_ping). The conf
 * strings are copied; the caller keeps ownership of c. */
struct kafka_sink *kafka_sink_new(const struct kafka_conf *c, char *err, size_t errlen);

/* Asks the cluster for metadata within timeout_ms. 0 when a broker answered;
 * -EHOSTUNREACH with a message in err when none did (htsd says so at start-up
 * rather than later, when rows start to fail). */
int kafka_ping(struct kafka_sink *s, int timeout_ms, char *err, size_t errlen);

/* Queues one row for topic prefix+query. key may be NULL; the payload and key are
 * copied, so the caller may reuse its buffers at once. timestamp_ms is the
 * message timestamp (ms since the epoch; 0 = now). When the local queue is full,
 * serves delivery reports and retries for up to queue_full_wait_ms; after such a
 * wait has run out, rows are refused without waiting until one is queued again
 * (one stall per congestion episode, not one per row).
 * Returns 0 once queued (delivery is known later, from kafka_stats), or
 * -ENOBUFS (queue still full), -EMSGSIZE, -EINVAL (bad topic name), -EIO (other,
 * including a fatal producer error); those rows count as rejected. */
int kafka_produce(struct kafka_sink *s, const char *query, const void *key, size_t keylen,
                  const void *value, size_t len, int64_t timestamp_ms);

/* Calls fn with each delivered row's message timestamp (ms), from the
 * delivery report (inside kafka_poll/kafka_flush): htsd's window latency. */
void kafka_on_delivered(struct kafka_sink *s, void (*fn)(void *ctx, int64_t timestamp_ms),
                        void *ctx);

/* kafka_produce into one partition (RD_KAFKA_PARTITION_UA, -1: by key). */
int kafka_produce_to(struct kafka_sink *s, const char *query, int32_t partition,
                     const void *key, size_t keylen, const void *value, size_t len,
                     int64_t timestamp_ms);

/* How many partitions topic prefix+query has; when it does not exist and
 * create > 0, creates it with that many (the broker's replication factor).
 * Waits up to timeout_ms for the metadata. > 0, or -1 with err. */
int kafka_partitions(struct kafka_sink *s, const char *query, int create, int timeout_ms,
                     char *err, size_t errlen);

/* The same for topic `name` as it is, on any librdkafka handle (htsmerge's
 * producer too); rk is an rd_kafka_t. */
struct rd_kafka_s;
int kafka_topic_ensure(struct rd_kafka_s *rk, const char *name, int create, int timeout_ms,
                       char *err, size_t errlen);

/* Serves delivery reports and errors without blocking; call on every loop pass. */
void kafka_poll(struct kafka_sink *s);

/* Waits up to timeout_ms for every queued row to get its delivery report.
 * Returns how many rows produced so far are not delivered: those still queued
 * when the time ran out plus those whose report was a failure. 0 means every row
 * ever produced reached the broker (htsd exits non-zero otherwise). */
int kafka_flush(struct kafka_sink *s, int timeout_ms);

/* Gives up on every row still queued or in flight: each gets a failed
 * delivery report (and on_failed). Call after kafka_flush timed out, before
 * reporting; returns how many rows it gave up on. */
int kafka_abandon(struct kafka_sink *s);

/* Copies the counters out. */
void kafka_stats(const struct kafka_sink *s, struct kafka_counters *out);

/* The mock cluster's bootstrap address when brokers was "mock" (for kcat), else NULL. */
const char *kafka_mock_bootstraps(const struct kafka_sink *s);

/* Transactions (only with kafka_conf.transactional_id). Each call blocks up
 * to timeout_ms (-1: the rest of transaction.timeout.ms, librdkafka's advice)
 * and says what the caller must do next: */
enum kafka_txn_result {
    KAFKA_TXN_OK,      /* done */
    KAFKA_TXN_RETRY,   /* not done yet (timeout, coordinator away): call again */
    KAFKA_TXN_ABORT,   /* the transaction failed: abort it and send its rows
                          again in a new one */
    KAFKA_TXN_FATAL,   /* the producer cannot go on (fenced, unauthorised) */
};
/* init_transactions: fences an older producer with the same id and aborts
 * what it left open. */
enum kafka_txn_result kafka_txn_init(struct kafka_sink *s, int timeout_ms, char *err,
                                     size_t errlen);
enum kafka_txn_result kafka_txn_begin(struct kafka_sink *s, char *err, size_t errlen);
/* Flushes the transaction's rows, then commits: read_committed consumers
 * see all of them or (after an abort) none. */
enum kafka_txn_result kafka_txn_commit(struct kafka_sink *s, int timeout_ms, char *err,
                                       size_t errlen);
enum kafka_txn_result kafka_txn_abort(struct kafka_sink *s, int timeout_ms, char *err,
                                      size_t errlen);

/* Destroys the producer. Rows still queued are purged, not waited for: call
 * kafka_flush first. NULL is allowed. */
void kafka_sink_free(struct kafka_sink *s);

#endif
