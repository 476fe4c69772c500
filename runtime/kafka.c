/*
 * kafka.c - the Kafka sink (see kafka.h for the contract, docs/kafka.md for the
 * delivery semantics).
 *
 * Shaped after librdkafka's examples/producer.c. The counters are plain fields,
 * not atomics: librdkafka calls the delivery-report and error callbacks from
 * rd_kafka_poll() / rd_kafka_flush(), which only the owning thread calls, so they
 * never race with kafka_produce() or kafka_stats().
 *
 * Topic handles are created on first use and cached for the sink's life; rows
 * for one query tend to come in runs (a window's rows, a burst of packets), so the
 * last handle used is checked before the list.
 */
#include "kafka.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define KAFKA_TOPIC_MAX 249 /* Kafka's limit on a topic name */

struct kafka_topic {
    char *query;
    rd_kafka_topic_t *rkt;
};

struct kafka_sink {
    rd_kafka_t *rk;
    char *prefix;
    size_t prefixlen;
    struct kafka_topic *topics;
    size_t ntopics, captopics;
    size_t last;              /* index of the topic used last */
    int queue_full_wait_ms;
    int shedding;             /* a wait for queue space ran out: refuse at once
                                 until a row gets in again */
    struct kafka_counters c;
    void (*on_failed)(void *ctx, const char *topic, const void *key, size_t keylen,
                      const void *value, size_t len, const char *error);
    void *failed_ctx;
    void (*on_ok)(void *ctx, int64_t timestamp_ms); /* kafka_on_delivered */
    void *ok_ctx;
};

static void set_msg(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_msg(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Counts one failure (delivery report or rejection) under its error code. */
static void count_error(struct kafka_sink *s, rd_kafka_resp_err_t err)
{
    struct kafka_counters *c = &s->c;

    for (int i = 0; i < c->nerrors; i++) {
        if (c->errors[i].code == (int)err) {
            c->errors[i].count++;
            return;
        }
    }
    if (c->nerrors < KAFKA_MAX_ERRCODES) {
        c->errors[c->nerrors].code = (int)err;
        c->errors[c->nerrors].count = 1;
        c->nerrors++;
    }
}

/* The delivery report: the one place where a row is known delivered or failed. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_sink *s = opaque;

    (void)rk;
    if (m->err) {
        s->c.failed++;
        count_error(s, m->err);
        if (s->on_failed)
            s->on_failed(s->failed_ctx, m->rkt ? rd_kafka_topic_name(m->rkt) : "?",
                         m->key, m->key_len, m->payload, m->len,
                         rd_kafka_err2str(m->err));
        set_msg(s->c.last_error, sizeof s->c.last_error, "delivery to %s failed: %s",
                m->rkt ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(m->err));
    } else {
        s->c.delivered++;
        s->c.brokers_down = 0; /* a broker took this row: not all are down */
        if (s->on_ok) /* the timestamp given to produce, kept as the message's
                       * opaque: a broker may report its own time */
            s->on_ok(s->ok_ctx, (int64_t)(intptr_t)m->_private);
    }
}

/* Client-level errors: librdkafka retries connections by itself, so these are
 * reports, not actions; they are kept so that htsd can say why rows are not
 * getting through (broker unreachable, or a fatal idempotence error). */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_sink *s = opaque;
    char fatal[256];

    switch (err) {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        s->c.brokers_down = 1;
        /* keep the connection error that says why, if one came first */
        if (!s->c.broker_error[0])
            set_msg(s->c.broker_error, sizeof s->c.broker_error, "%s", reason);
        break;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        s->c.transport_errors++;
        set_msg(s->c.broker_error, sizeof s->c.broker_error, "%s", reason);
        break;
    case RD_KAFKA_RESP_ERR__FATAL:
        s->c.fatal = 1;
        if (rd_kafka_fatal_error(rk, fatal, sizeof fatal))
            reason = fatal;
        set_msg(s->c.last_error, sizeof s->c.last_error, "fatal producer error: %s", reason);
        return;
    default:
        break;
    }
    set_msg(s->c.last_error, sizeof s->c.last_error, "%s: %s",
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *err,
                    size_t errlen)
{
    char why[512];

    if (rd_kafka_conf_set(conf, key, val, why, sizeof why) != RD_KAFKA_CONF_OK) {
        set_msg(err, errlen, "kafka: %s=%s: %s", key, val, why);
        return -EINVAL;
    }
    return 0;
}

/* One "key=value" from the command line (-X). */
static int conf_set_kv(rd_kafka_conf_t *conf, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    char key[256];
    size_t klen;

    if (!eq || eq == kv) {
        set_msg(err, errlen, "kafka: property '%s' is not key=value", kv);
        return -EINVAL;
    }
    klen = (size_t)(eq - kv);
    if (klen >= sizeof key) {
        set_msg(err, errlen, "kafka: property name too long in '%s'", kv);
        return -EINVAL;
    }
    memcpy(key, kv, klen);
    key[klen] = '\0';
    return conf_set(conf, key, eq + 1, err, errlen);
}

/* Defaults first, then the caller's -X properties, which may override them. */
static int build_conf(rd_kafka_conf_t *conf, const struct kafka_conf *c, char *err,
                      size_t errlen)
{
    char num[32];

    if (conf_set(conf, "client.id", "htsd", err, errlen) ||
        conf_set(conf, "enable.idempotence", "true", err, errlen) ||
        /* the Java client's partitioner: a key lands in the same partition whether a
           row comes from htsd or from a Java/Kafka Streams producer */
        conf_set(conf, "partitioner", "murmur2_random", err, errlen) ||
        /* measured (docs/kafka.md, "Producer settings"): HTX1 batches take 3.3x
           less broker disk and network with lz4, at the same acknowledged rate
           on this machine; zstd 6x less but slower to compress. linger.ms
           stays librdkafka's 5 ms: windowed rows' latency */
        conf_set(conf, "compression.codec", "lz4", err, errlen))
        return -EINVAL;
    if (strcmp(c->brokers, "mock") == 0) {
        if (conf_set(conf, "test.mock.num.brokers", "1", err, errlen))
            return -EINVAL;
    } else if (conf_set(conf, "bootstrap.servers", c->brokers, err, errlen)) {
        return -EINVAL;
    }
    if (c->delivery_timeout_ms > 0) {
        snprintf(num, sizeof num, "%d", c->delivery_timeout_ms);
        if (conf_set(conf, "message.timeout.ms", num, err, errlen))
            return -EINVAL;
    }
    if (c->transactional_id &&
        conf_set(conf, "transactional.id", c->transactional_id, err, errlen))
        return -EINVAL;
    for (size_t i = 0; i < c->nprops; i++)
        if (conf_set_kv(conf, c->props[i], err, errlen))
            return -EINVAL;
    return 0;
}

struct kafka_sink *kafka_sink_new(const struct kafka_conf *c, char *err, size_t errlen)
{
    struct kafka_sink *s;
    rd_kafka_conf_t *conf;
    char why[512];
    const char *prefix = c->topic_prefix ? c->topic_prefix : "";

    if (!c->brokers || !*c->brokers) {
        set_msg(err, errlen, "kafka: no brokers given");
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->prefix = strdup(prefix))) {
        free(s);
        set_msg(err, errlen, "kafka: out of memory");
        return NULL;
    }
    s->prefixlen = strlen(prefix);
    s->on_failed = c->on_failed;
    s->failed_ctx = c->failed_ctx;
    s->queue_full_wait_ms = c->queue_full_wait_ms == 0 ? 5000 : c->queue_full_wait_ms;

    conf = rd_kafka_conf_new();
    if (build_conf(conf, c, err, errlen)) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, s);

    /* rd_kafka_new owns conf on success only */
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        set_msg(err, errlen, "kafka: cannot create producer: %s", why);
        goto fail;
    }
    return s;

fail:
    free(s->prefix);
    free(s);
    return NULL;
}

int kafka_ping(struct kafka_sink *s, int timeout_ms, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;
    int nbrokers;

    e = rd_kafka_metadata(s->rk, 0, NULL, &md, timeout_ms);
    nbrokers = md ? md->broker_cnt : 0;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_poll(s->rk, 0); /* collect the error callbacks that explain a failure */
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && nbrokers > 0)
        return 0;
    set_msg(err, errlen, "kafka: no broker answered within %d ms: %s%s%s", timeout_ms,
            rd_kafka_err2str(e), s->c.broker_error[0] ? "; " : "", s->c.broker_error);
    return -EHOSTUNREACH;
}

static int topic_char_ok(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

/* The cached topic handle for a query, created on first use; NULL with the
 * error counted when the name is not a valid Kafka topic or memory runs out. */
static rd_kafka_topic_t *topic_for(struct kafka_sink *s, const char *query)
{
    char name[KAFKA_TOPIC_MAX + 1];
    size_t qlen = strlen(query);
    struct kafka_topic *t;

    if (s->ntopics && strcmp(s->topics[s->last].query, query) == 0)
        return s->topics[s->last].rkt;
    for (size_t i = 0; i < s->ntopics; i++) {
        if (strcmp(s->topics[i].query, query) == 0) {
            s->last = i;
            return s->topics[i].rkt;
        }
    }

    if (qlen == 0 || s->prefixlen + qlen > KAFKA_TOPIC_MAX) {
        set_msg(s->c.last_error, sizeof s->c.last_error,
                "topic '%s%s' is empty or longer than %d characters", s->prefix, query,
                KAFKA_TOPIC_MAX);
        return NULL;
    }
    memcpy(name, s->prefix, s->prefixlen);
    memcpy(name + s->prefixlen, query, qlen + 1);
    for (const char *p = name; *p; p++) {
        if (!topic_char_ok((unsigned char)*p)) {
            set_msg(s->c.last_error, sizeof s->c.last_error,
                    "topic '%s' has a character Kafka does not allow (only [A-Za-z0-9._-])",
                    name);
            return NULL;
        }
    }

    if (s->ntopics == s->captopics) {
        size_t cap = s->captopics ? 2 * s->captopics : 8;
        t = realloc(s->topics, cap * sizeof *t);
        if (!t) {
            set_msg(s->c.last_error, sizeof s->c.last_error, "topic '%s': out of memory", name);
            return NULL;
        }
        s->topics = t;
        s->captopics = cap;
    }
    t = &s->topics[s->ntopics];
    t->query = strdup(query);
    if (!t->query) {
        set_msg(s->c.last_error, sizeof s->c.last_error, "topic '%s': out of memory", name);
        return NULL;
    }
    t->rkt = rd_kafka_topic_new(s->rk, name, NULL);
    if (!t->rkt) {
        set_msg(s->c.last_error, sizeof s->c.last_error, "topic '%s': %s", name,
                rd_kafka_err2str(rd_kafka_last_error()));
        free(t->query);
        return NULL;
    }
    s->last = s->ntopics++;
    return t->rkt;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int reject(struct kafka_sink *s, rd_kafka_resp_err_t err, int ret)
{
    s->c.rejected++;
    count_error(s, err);
    return ret;
}

void kafka_on_delivered(struct kafka_sink *s, void (*fn)(void *ctx, int64_t timestamp_ms),
                        void *ctx)
{
    s->on_ok = fn;
    s->ok_ctx = ctx;
}

int kafka_produce(struct kafka_sink *s, const char *query, const void *key, size_t keylen,
                  const void *value, size_t len, int64_t timestamp_ms)
{
    return kafka_produce_to(s, query, RD_KAFKA_PARTITION_UA, key, keylen, value, len,
                            timestamp_ms);
}

int kafka_produce_to(struct kafka_sink *s, const char *query, int32_t partition,
                     const void *key, size_t keylen, const void *value, size_t len,
                     int64_t timestamp_ms)
{
    rd_kafka_topic_t *rkt = topic_for(s, query);
    rd_kafka_resp_err_t err;
    int64_t deadline = 0;
    int waited = 0;

    if (!rkt)
        return reject(s, RD_KAFKA_RESP_ERR__INVALID_ARG, -EINVAL);
    for (;;) {
        err = rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(rkt),
                                RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY((void *)key, key ? keylen : 0),
                                RD_KAFKA_V_VALUE((void *)value, len),
                                RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                                RD_KAFKA_V_OPAQUE((void *)(intptr_t)timestamp_ms),
                                RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        /* The queue drains as delivery reports are served: serve them and retry,
           for a bounded time. Once a wait has run out, later rows are refused at
           once until one gets in again, so a stuck broker costs the caller one
           wait per episode, not one per row. */
        if (!waited) {
            s->c.queue_full_waits++;
            waited = 1;
            deadline = now_ms() + (s->shedding ? 0 : s->queue_full_wait_ms);
        }
        if (s->queue_full_wait_ms < 0 || now_ms() >= deadline) {
            s->shedding = 1;
            break;
        }
        rd_kafka_poll(s->rk, 10);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s->c.produced++;
        s->shedding = 0;
        return 0;
    }
    set_msg(s->c.last_error, sizeof s->c.last_error, "produce to %s failed: %s",
            rd_kafka_topic_name(rkt), rd_kafka_err2str(err));
    switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return reject(s, err, -ENOBUFS);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return reject(s, err, -EMSGSIZE);
    default:
        return reject(s, err, -EIO);
    }
}

/* The partition count of topic `name` in the cluster's metadata: > 0, 0
 * when the topic does not exist, -1 when no broker answered. */
static int topic_partitions(rd_kafka_t *rk, const char *name, int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    /* all topics: asking for this one would have a broker with
     * auto.create.topics.enable make it, with its default partitions */
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    int n = -1;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
        n = 0;
        for (int i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, name) == 0)
                n = md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR
                        ? md->topics[i].partition_cnt : -1;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    return n;
}

int kafka_partitions(struct kafka_sink *s, const char *query, int create, int timeout_ms,
                     char *err, size_t errlen)
{
    char name[KAFKA_TOPIC_MAX + 1];
    snprintf(name, sizeof name, "%s%s", s->prefix, query);
    return kafka_topic_ensure(s->rk, name, create, timeout_ms, err, errlen);
}

int kafka_topic_ensure(rd_kafka_t *rk, const char *name, int create, int timeout_ms,
                       char *err, size_t errlen)
{
    int64_t deadline = now_ms() + timeout_ms;
    int asked = 0;
    for (;;) {
        int n = topic_partitions(rk, name, 2000);
        if (n > 0)
            return n;
        rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
        if (n == 0 && create > 0 && !asked && mc) { /* the mock has no Admin API */
            rd_kafka_resp_err_t me = rd_kafka_mock_topic_create(mc, name, create, 1);
            if (me) {
                set_msg(err, errlen, "cannot create topic %s in the mock cluster: %s", name,
                        rd_kafka_err2str(me));
                return -1;
            }
            asked = 1;
            continue;
        }
        if (n == 0 && create > 0 && !asked) {
            /* the broker's default replication factor (-1) */
            char e[256];
            rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, create, -1, e, sizeof e);
            rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
            if (!nt || !q) {
                set_msg(err, errlen, "topic %s: %s", name, nt ? "out of memory" : e);
                if (nt)
                    rd_kafka_NewTopic_destroy(nt);
                if (q)
                    rd_kafka_queue_destroy(q);
                return -1;
            }
            rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
            /* TOPIC_ALREADY_EXISTS: another site (or htsmerge) was first */
            const rd_kafka_CreateTopics_result_t *res =
                ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
            size_t cnt = 0;
            const rd_kafka_topic_result_t **tr =
                res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
            rd_kafka_resp_err_t te = !ev ? RD_KAFKA_RESP_ERR__TIMED_OUT
                                     : rd_kafka_event_error(ev) ? rd_kafka_event_error(ev)
                                     : cnt == 1 ? rd_kafka_topic_result_error(tr[0])
                                                : RD_KAFKA_RESP_ERR__FAIL;
            if (te != RD_KAFKA_RESP_ERR_NO_ERROR &&
                te != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                set_msg(err, errlen, "cannot create topic %s (%d partitions): %s", name,
                        create, rd_kafka_err2str(te));
                if (ev)
                    rd_kafka_event_destroy(ev);
                rd_kafka_NewTopic_destroy(nt);
                rd_kafka_queue_destroy(q);
                return -1;
            }
            if (ev)
                rd_kafka_event_destroy(ev);
            rd_kafka_NewTopic_destroy(nt);
            rd_kafka_queue_destroy(q);
            asked = 1;
            continue;
        }
        if (now_ms() >= deadline) {
            set_msg(err, errlen, n == 0 ? "topic %s does not exist" :
                    "no broker told the partitions of topic %s", name);
            return -1;
        }
        /* a pause, not rd_kafka_poll: the transactional sink's thread
         * serves this producer's callbacks */
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
    }
}

void kafka_poll(struct kafka_sink *s)
{
    rd_kafka_poll(s->rk, 0);
}

int kafka_flush(struct kafka_sink *s, int timeout_ms)
{
    uint64_t undelivered;

    rd_kafka_flush(s->rk, timeout_ms); /* serves the delivery reports while it waits */
    undelivered = s->c.produced - s->c.delivered;
    return undelivered > INT_MAX ? INT_MAX : (int)undelivered;
}

void kafka_stats(const struct kafka_sink *s, struct kafka_counters *out)
{
    *out = s->c;
    out->queued = s->c.produced - s->c.delivered - s->c.failed;
}

const char *kafka_mock_bootstraps(const struct kafka_sink *s)
{
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(s->rk);

    return mc ? rd_kafka_mock_cluster_bootstraps(mc) : NULL;
}

int kafka_abandon(struct kafka_sink *s)
{
    uint64_t before = s->c.failed;
    rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    /* purged rows get their (failed) delivery reports on the next polls */
    for (int i = 0; i < 100 && rd_kafka_outq_len(s->rk) > 0; i++)
        rd_kafka_poll(s->rk, 10);
    rd_kafka_poll(s->rk, 0);
    return (int)(s->c.failed - before);
}

/* Classifies a transactional API's error (and destroys it). */
static enum kafka_txn_result txn_result(struct kafka_sink *s, rd_kafka_error_t *e,
                                        const char *what, char *err, size_t errlen)
{
    enum kafka_txn_result r;

    if (!e)
        return KAFKA_TXN_OK;
    if (rd_kafka_error_is_fatal(e))
        r = KAFKA_TXN_FATAL;
    else if (rd_kafka_error_txn_requires_abort(e))
        r = KAFKA_TXN_ABORT;
    else if (rd_kafka_error_is_retriable(e))
        r = KAFKA_TXN_RETRY;
    else
        r = KAFKA_TXN_FATAL; /* neither retriable nor abortable: librdkafka says fatal */
    set_msg(err, errlen, "%s: %s", what, rd_kafka_error_string(e));
    set_msg(s->c.last_error, sizeof s->c.last_error, "%s: %s", what,
            rd_kafka_error_string(e));
    if (r == KAFKA_TXN_FATAL)
        s->c.fatal = 1;
    rd_kafka_error_destroy(e);
    return r;
}

enum kafka_txn_result kafka_txn_init(struct kafka_sink *s, int timeout_ms, char *err,
                                     size_t errlen)
{
    return txn_result(s, rd_kafka_init_transactions(s->rk, timeout_ms),
                      "init_transactions", err, errlen);
}

enum kafka_txn_result kafka_txn_begin(struct kafka_sink *s, char *err, size_t errlen)
{
    return txn_result(s, rd_kafka_begin_transaction(s->rk), "begin_transaction", err,
                      errlen);
}

enum kafka_txn_result kafka_txn_commit(struct kafka_sink *s, int timeout_ms, char *err,
                                       size_t errlen)
{
    return txn_result(s, rd_kafka_commit_transaction(s->rk, timeout_ms),
                      "commit_transaction", err, errlen);
}

enum kafka_txn_result kafka_txn_abort(struct kafka_sink *s, int timeout_ms, char *err,
                                      size_t errlen)
{
    return txn_result(s, rd_kafka_abort_transaction(s->rk, timeout_ms),
                      "abort_transaction", err, errlen);
}

void kafka_sink_free(struct kafka_sink *s)
{
    if (!s)
        return;
    /* without this, rd_kafka_destroy would wait on rows the caller gave up on */
    rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(s->rk, 0);
    for (size_t i = 0; i < s->ntopics; i++) {
        rd_kafka_topic_destroy(s->topics[i].rkt);
        free(s->topics[i].query);
    }
    free(s->topics);
    rd_kafka_destroy(s->rk);
    free(s->prefix);
    free(s);
}
