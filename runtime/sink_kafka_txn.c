/*
 * sink_kafka_txn.c - the exactly-once Kafka sink (htsd --exactly-once).
 *
 * Rows are produced inside Kafka transactions, one committed every commit
 * interval (100 ms by default). A consumer that reads committed data
 * (isolation.level=read_committed: librdkafka's default, so kcat's too)
 * sees every row exactly once, across broker restarts as well: when a
 * restart makes librdkafka bump the producer epoch, or any row of a
 * transaction fails, the transaction is aborted (its rows, even those the
 * broker had written, become invisible) and the same rows are sent again in
 * the next one. The idempotent producer alone (the default sink) can write
 * a batch twice in that case; docs/kafka.md compares the two.
 *
 * A row counts delivered when its transaction commits, failed when it can
 * never be (a bad topic name, a fatal producer error such as being fenced by
 * a newer htsd with the same transactional.id, or htsd giving up at
 * shutdown); each failed row is named on stderr like the default sink's.
 *
 * Threading: commit and abort block (commit flushes, then waits for the
 * transaction coordinator), and must not stall htsd's main lcore, which
 * drains the workers. So a producer thread owns the librdkafka handle: every
 * kafka_* call on it is made from that thread (kafka.h's contract, except
 * kafka_ping and kafka_sink_free, called before it starts and after it
 * ended). The main lcore hands rows over through a list under a mutex; the
 * thread keeps a copy of each row until its transaction commits. Blocking
 * calls run in slices of TXN_SLICE_MS (they are resumable), so that a
 * shutdown that gives up is not held for the whole transaction timeout.
 */
#include "kafka.h"
#include "sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TXN_SLICE_MS 1000
#define TXN_DEFAULT_INTERVAL_MS 100
#define TXN_DEFAULT_MAX_HELD (4u << 20) /* rows held uncommitted before refusing */
/* A transaction aborted this many times in a row without a commit between
 * holds a row the brokers refuse for good (too large for the topic, say):
 * its rows are named failed rather than sent again forever. */
#define TXN_MAX_ABORTS 5

struct trow {
    struct trow *next;
    int64_t ts_ms;
    int32_t partition;        /* -1: by key (network-wide state: one of its own) */
    size_t qlen, keylen, len; /* keylen = SIZE_MAX: no key */
    char data[];              /* query NUL, key, value */
};

struct rlist {
    struct trow *head, *tail;
    size_t n;
};

struct txs {
    struct kafka_sink *k;
    char *prefix;
    int interval_ms;
    size_t max_held;
    pthread_t th;
    bool running;             /* the thread was started and not joined */
    pthread_mutex_t mu;
    pthread_cond_t wake;      /* to the thread: rows, flush, stop */
    pthread_cond_t settled;   /* to flush: a transaction ended */
    /* under mu */
    struct rlist in;          /* handed over, not yet in a transaction */
    bool flush_req, stop, give_up, done;
    uint64_t produced, delivered, failed, commits, aborts;
    bool fatal, broker_down;
    char last_error[256];
    /* the thread's own */
    struct rlist tx;          /* rows of the open transaction */
};

static void rl_push(struct rlist *l, struct trow *r)
{
    r->next = NULL;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
}

static struct rlist rl_take(struct rlist *l)
{
    struct rlist all = *l;
    memset(l, 0, sizeof *l);
    return all;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *row_key(const struct trow *r)
{
    return r->keylen == SIZE_MAX ? NULL : r->data + r->qlen + 1;
}

static const char *row_value(const struct trow *r)
{
    return r->data + r->qlen + 1 + (r->keylen == SIZE_MAX ? 0 : r->keylen);
}

/* Names a row that will not arrive and counts it; mu held. */
static void row_fail(struct txs *t, struct trow *r, const char *why)
{
    char topic[512];
    snprintf(topic, sizeof topic, "%s%s", t->prefix, r->data);
    rt_kafka_name_undelivered(topic, row_key(r), r->keylen == SIZE_MAX ? 0 : r->keylen,
                              row_value(r), r->len, why);
    t->failed++;
    free(r);
}

static void fail_all(struct txs *t, struct rlist *l, const char *why)
{
    struct trow *r = l->head, *next;
    for (; r; r = next) {
        next = r->next;
        row_fail(t, r, why);
    }
    memset(l, 0, sizeof *l);
}

static void set_error(struct txs *t, const char *msg)
{
    pthread_mutex_lock(&t->mu);
    snprintf(t->last_error, sizeof t->last_error, "%s", msg);
    pthread_mutex_unlock(&t->mu);
}

static bool giving_up(struct txs *t)
{
    pthread_mutex_lock(&t->mu);
    bool g = t->give_up;
    pthread_mutex_unlock(&t->mu);
    return g;
}

/* Copies what the producer knows about the brokers; thread only. */
static void sync_broker_state(struct txs *t)
{
    struct kafka_counters kc;
    kafka_stats(t->k, &kc);
    pthread_mutex_lock(&t->mu);
    t->broker_down = kc.brokers_down;
    if (kc.brokers_down && kc.broker_error[0])
        snprintf(t->last_error, sizeof t->last_error, "%s", kc.broker_error);
    pthread_mutex_unlock(&t->mu);
}

/* Runs a resumable transactional call until it is done, fails, or the owner
 * gives up (then KAFKA_TXN_RETRY is returned). */
static enum kafka_txn_result txn_call(struct txs *t, int which)
{
    char err[256];
    enum kafka_txn_result r;
    for (;;) {
        switch (which) {
        case 0: r = kafka_txn_init(t->k, TXN_SLICE_MS, err, sizeof err); break;
        case 1: r = kafka_txn_commit(t->k, TXN_SLICE_MS, err, sizeof err); break;
        default: r = kafka_txn_abort(t->k, TXN_SLICE_MS, err, sizeof err); break;
        }
        if (r != KAFKA_TXN_OK)
            set_error(t, err);
        sync_broker_state(t);
        if (r != KAFKA_TXN_RETRY || giving_up(t))
            return r;
    }
}

static enum kafka_txn_result txn_begin(struct txs *t)
{
    char err[256];
    enum kafka_txn_result r = kafka_txn_begin(t->k, err, sizeof err);
    if (r != KAFKA_TXN_OK)
        set_error(t, err);
    return r == KAFKA_TXN_OK ? r : KAFKA_TXN_FATAL;
}

/* Produces rows into the open transaction, appending them to t->tx. A row
 * refused for good is named and counted; on a full local queue the rest go
 * back to the front of the hand-over list and 1 is returned (commit first). */
static int produce_rows(struct txs *t, struct rlist *rows)
{
    struct trow *r = rows->head, *next;
    for (; r; r = next) {
        next = r->next;
        int rc = kafka_produce_to(t->k, r->data, r->partition, row_key(r),
                                  r->keylen == SIZE_MAX ? 0 : r->keylen, row_value(r),
                                  r->len, r->ts_ms);
        if (rc == 0) {
            rl_push(&t->tx, r);
            continue;
        }
        pthread_mutex_lock(&t->mu);
        if (rc == -ENOBUFS) {
            /* put r and the rest back in front of the newer rows */
            struct rlist back = {r, rows->tail, 0};
            for (struct trow *x = r; x; x = x->next)
                back.n++;
            if (t->in.head) {
                back.tail->next = t->in.head;
                back.tail = t->in.tail;
            }
            back.n += t->in.n;
            t->in = back;
            pthread_mutex_unlock(&t->mu);
            memset(rows, 0, sizeof *rows);
            return 1;
        }
        struct kafka_counters kc;
        kafka_stats(t->k, &kc);
        row_fail(t, r, kc.last_error[0] ? kc.last_error : "refused by the producer");
        pthread_cond_broadcast(&t->settled);
        pthread_mutex_unlock(&t->mu);
    }
    memset(rows, 0, sizeof *rows);
    return 0;
}

/* Sends the rows of an aborted transaction again in a new one. */
static int resend_tx(struct txs *t)
{
    struct rlist again = rl_take(&t->tx);
    return produce_rows(t, &again);
}

static void free_list(struct rlist *l)
{
    struct trow *r = l->head, *next;
    for (; r; r = next) {
        next = r->next;
        free(r);
    }
    memset(l, 0, sizeof *l);
}

static void *txs_main(void *arg)
{
    struct txs *t = arg;
    enum kafka_txn_result r = txn_call(t, 0);
    if (r == KAFKA_TXN_OK)
        r = txn_begin(t);
    int64_t deadline = now_ms() + t->interval_ms;
    bool force = false;
    int aborts_in_row = 0;

    while (r == KAFKA_TXN_OK) {
        pthread_mutex_lock(&t->mu);
        for (;;) {
            int64_t now = now_ms();
            if (t->give_up || t->in.n || force ||
                (t->tx.n && (now >= deadline || t->flush_req || t->stop)) ||
                (t->stop && !t->tx.n))
                break;
            int64_t until = t->tx.n ? deadline : now + 100;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait_ns = (until - now) * 1000000 + ts.tv_nsec;
            ts.tv_sec += (time_t)(wait_ns / 1000000000);
            ts.tv_nsec = (long)(wait_ns % 1000000000);
            pthread_cond_timedwait(&t->wake, &t->mu, &ts);
            if (!t->in.n && !t->give_up)
                break; /* woke for time: poll the producer */
        }
        if (t->give_up || (t->stop && !t->in.n && !t->tx.n)) {
            pthread_mutex_unlock(&t->mu);
            break;
        }
        struct rlist batch = rl_take(&t->in);
        bool flush = t->flush_req || t->stop;
        pthread_mutex_unlock(&t->mu);

        if (produce_rows(t, &batch))
            force = true;
        kafka_poll(t->k);
        sync_broker_state(t);
        if (!t->tx.n || !(force || flush || now_ms() >= deadline))
            continue;

        force = false;
        r = txn_call(t, 1);
        if (r == KAFKA_TXN_OK) {
            pthread_mutex_lock(&t->mu);
            t->delivered += t->tx.n;
            t->commits++;
            t->last_error[0] = '\0'; /* what went wrong before is resolved */
            pthread_cond_broadcast(&t->settled);
            pthread_mutex_unlock(&t->mu);
            free_list(&t->tx);
            aborts_in_row = 0;
            r = txn_begin(t);
        } else if (r == KAFKA_TXN_ABORT) {
            pthread_mutex_lock(&t->mu);
            t->aborts++;
            char why[300];
            snprintf(why, sizeof why, "transaction aborted %d times in a row: %s",
                     TXN_MAX_ABORTS, t->last_error);
            if (++aborts_in_row == TXN_MAX_ABORTS) {
                fail_all(t, &t->tx, why);
                aborts_in_row = 0;
                pthread_cond_broadcast(&t->settled);
            }
            pthread_mutex_unlock(&t->mu);
            r = txn_call(t, 2);
            if (r == KAFKA_TXN_OK)
                r = txn_begin(t);
            if (r == KAFKA_TXN_OK && resend_tx(t))
                force = true;
        }
        /* KAFKA_TXN_RETRY here means the owner gave up during the call */
        deadline = now_ms() + t->interval_ms;
    }

    pthread_mutex_lock(&t->mu);
    if (r == KAFKA_TXN_FATAL) {
        /* nothing more can be sent: name every row held */
        t->fatal = true;
        char why[300];
        snprintf(why, sizeof why, "transactional producer failed: %s", t->last_error);
        fail_all(t, &t->tx, why);
        fail_all(t, &t->in, why);
    }
    t->done = true;
    pthread_cond_broadcast(&t->settled);
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* ---- the sink interface, called from the main lcore ---- */

static int tx_produce_part(void *self, const char *query, int32_t partition,
                           const void *key, size_t keylen, const void *value, size_t len,
                           int64_t ts_ns);

static int tx_produce(void *self, const char *query, const void *key, size_t keylen,
                      const void *value, size_t len, int64_t ts_ns)
{
    return tx_produce_part(self, query, -1, key, keylen, value, len, ts_ns);
}

/* network-wide state (netstate.h): into one partition, in the transaction */
static int tx_produce_to(void *self, const char *topic, int32_t partition,
                         const void *value, size_t len, int64_t ts_ns)
{
    return tx_produce_part(self, topic, partition, NULL, 0, value, len, ts_ns);
}

static int tx_partitions(void *self, const char *topic, int create, char *err,
                         size_t errlen)
{
    struct txs *t = self;
    return kafka_partitions(t->k, topic, create, 10000, err, errlen);
}

static int tx_produce_part(void *self, const char *query, int32_t partition,
                           const void *key, size_t keylen, const void *value, size_t len,
                           int64_t ts_ns)
{
    struct txs *t = self;
    size_t qlen = strlen(query);
    struct trow *r = malloc(sizeof *r + qlen + 1 + (key ? keylen : 0) + len);
    if (!r) {
        pthread_mutex_lock(&t->mu);
        t->produced++;
        t->failed++;
        snprintf(t->last_error, sizeof t->last_error, "out of memory holding a row");
        pthread_mutex_unlock(&t->mu);
        return -ENOMEM;
    }
    r->ts_ms = ts_ns / 1000000;
    r->partition = partition;
    r->qlen = qlen;
    r->keylen = key ? keylen : SIZE_MAX;
    r->len = len;
    memcpy(r->data, query, qlen + 1);
    if (key)
        memcpy(r->data + qlen + 1, key, keylen);
    memcpy((char *)row_value(r), value, len);

    pthread_mutex_lock(&t->mu);
    t->produced++;
    uint64_t held = t->produced - 1 - t->delivered - t->failed;
    if (t->done || t->give_up) {
        row_fail(t, r, t->fatal ? "transactional producer failed" : "sink closed");
        pthread_mutex_unlock(&t->mu);
        return -EIO;
    }
    if (held >= t->max_held) {
        snprintf(t->last_error, sizeof t->last_error,
                 "%zu rows waiting for a commit: refusing more", t->max_held);
        row_fail(t, r, "too many rows waiting for a commit");
        pthread_mutex_unlock(&t->mu);
        return -ENOBUFS;
    }
    rl_push(&t->in, r);
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mu);
    return 0;
}

static void tx_poll(void *self)
{
    (void)self; /* the producer thread serves librdkafka */
}

static int tx_flush(void *self, int timeout_ms)
{
    struct txs *t = self;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (int64_t)timeout_ms * 1000000;
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);

    pthread_mutex_lock(&t->mu);
    t->flush_req = true;
    pthread_cond_signal(&t->wake);
    while (!t->done && t->produced != t->delivered + t->failed)
        if (pthread_cond_timedwait(&t->settled, &t->mu, &ts) == ETIMEDOUT)
            break;
    t->flush_req = false;
    uint64_t left = t->produced - t->delivered;
    pthread_mutex_unlock(&t->mu);
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

static void stop_thread(struct txs *t, bool give_up)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    t->give_up |= give_up;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->th, NULL);
    t->running = false;
}

/* Gives up on every row not committed yet, naming each. */
static int tx_abandon(void *self)
{
    struct txs *t = self;
    stop_thread(t, true);
    pthread_mutex_lock(&t->mu);
    uint64_t before = t->failed;
    const char *why = "not committed before the flush timeout";
    fail_all(t, &t->tx, why);
    fail_all(t, &t->in, why);
    uint64_t n = t->failed - before;
    pthread_mutex_unlock(&t->mu);
    return (int)n;
}

static void tx_counters(void *self, struct rt_sink_counters *c)
{
    struct txs *t = self;
    memset(c, 0, sizeof *c);
    pthread_mutex_lock(&t->mu);
    c->produced = t->produced;
    c->delivered = t->delivered;
    c->failed = t->failed;
    c->queued = t->produced - t->delivered - t->failed;
    c->broker_down = t->broker_down;
    c->txn_commits = t->commits;
    c->txn_aborts = t->aborts;
    snprintf(c->last_error, sizeof c->last_error, "%s", t->last_error);
    pthread_mutex_unlock(&t->mu);
}

static void tx_free(void *self)
{
    struct txs *t = self;
    stop_thread(t, true);
    kafka_sink_free(t->k);
    free_list(&t->tx);
    free_list(&t->in);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->wake);
    pthread_cond_destroy(&t->settled);
    free(t->prefix);
    free(t);
}

static const struct rt_sink_ops txn_ops = {
    tx_produce, tx_poll, tx_flush, tx_counters, tx_free, tx_abandon, tx_produce_to,
    tx_partitions, NULL,
};

struct rt_sink *rt_sink_kafka_txn(const char *brokers, const char *topic_prefix,
                                  const char *const *props, int nprops,
                                  const char *transactional_id, int interval_ms,
                                  char *err, size_t errlen)
{
    struct txs *t = calloc(1, sizeof *t);
    struct rt_sink *s = calloc(1, sizeof *s);
    if (!t || !s || !(t->prefix = strdup(topic_prefix ? topic_prefix : ""))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    t->interval_ms = interval_ms > 0 ? interval_ms : TXN_DEFAULT_INTERVAL_MS;
    t->max_held = TXN_DEFAULT_MAX_HELD;
    t->k = rt_kafka_open(brokers, topic_prefix, props, nprops, transactional_id, err, errlen);
    if (!t->k)
        goto fail;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->settled, NULL);
    if (pthread_create(&t->th, NULL, txs_main, t) != 0) {
        snprintf(err, errlen, "cannot start the Kafka producer thread");
        kafka_sink_free(t->k);
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->wake);
        pthread_cond_destroy(&t->settled);
        goto fail;
    }
    t->running = true;
    s->ops = &txn_ops;
    s->self = t;
    s->name = "kafka";
    return s;

fail:
    if (t)
        free(t->prefix);
    free(t);
    free(s);
    return NULL;
}
