/*
 * test_kafka.c - the Kafka sink against librdkafka's in-process mock cluster.
 *
 * No broker to start: "mock" (or a mock cluster made here with rdkafka_mock.h,
 * so that faults can be injected) speaks the Kafka protocol on loopback. The
 * tests check the sink's bookkeeping exactly: produced, delivered, failed,
 * queued, rejected, per error code, and that each way of failing (an error from
 * the broker, no broker at all, a full queue, a broker that goes away and comes
 * back) ends in the counters without hanging. The real broker is exercised by
 * tests/suites/kafka.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka.h"
#include "sink.h"

#define API_PRODUCE 0 /* Kafka protocol ApiKey of ProduceRequest */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct kafka_sink *sink_new(const char *brokers, int timeout_ms,
                                   const char *const *props, size_t nprops)
{
    struct kafka_conf c = {
        .brokers = brokers,
        .topic_prefix = "test.",
        .props = props,
        .nprops = nprops,
        .delivery_timeout_ms = timeout_ms,
    };
    char err[512] = "";
    struct kafka_sink *s = kafka_sink_new(&c, err, sizeof err);

    if (!s)
        fail_msg("kafka_sink_new: %s", err);
    return s;
}

static int produce_n(struct kafka_sink *s, const char *query, int n)
{
    char key[32], val[64];

    for (int i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof key, "k%d", i);
        int vl = snprintf(val, sizeof val, "{\"i\":%d}", i);
        int rc = kafka_produce(s, query, key, (size_t)kl, val, (size_t)vl,
                               1700000000000 + i);
        if (rc)
            return rc;
    }
    return 0;
}

static uint64_t errcount(const struct kafka_counters *c, rd_kafka_resp_err_t code)
{
    for (int i = 0; i < c->nerrors; i++)
        if (c->errors[i].code == (int)code)
            return c->errors[i].count;
    return 0;
}

/* A mock cluster owned by the test (so faults can be injected), on the back of
 * a throwaway producer handle that librdkafka needs for its book-keeping. */
struct mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
};

static void mock_new(struct mock *m)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    assert_int_equal(rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err), RD_KAFKA_CONF_OK);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!m->rk)
        fail_msg("rd_kafka_new: %s", err);
    m->mc = rd_kafka_mock_cluster_new(m->rk, 1);
    assert_non_null(m->mc);
}

static void mock_free(struct mock *m)
{
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->rk);
}

/* ---- tests --------------------------------------------------------------- */

/* "mock": N rows to two queries, one flush, every one delivered. */
static void test_mock_all_delivered(void **state)
{
    struct kafka_sink *s = sink_new("mock", 10000, NULL, 0);
    struct kafka_counters c;
    char err[256];
    enum { N = 5000 };

    (void)state;
    assert_non_null(kafka_mock_bootstraps(s));
    assert_int_equal(kafka_ping(s, 5000, err, sizeof err), 0);
    assert_int_equal(produce_n(s, "flows", N), 0);
    assert_int_equal(produce_n(s, "top_talkers", N), 0);
    kafka_poll(s);
    assert_int_equal(kafka_flush(s, 10000), 0);
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 2 * N);
    assert_int_equal(c.delivered, 2 * N);
    assert_int_equal(c.failed, 0);
    assert_int_equal(c.queued, 0);
    assert_int_equal(c.rejected, 0);
    assert_int_equal(c.nerrors, 0);
    assert_int_equal(c.brokers_down, 0);
    assert_int_equal(c.fatal, 0);
    kafka_sink_free(s);
}

/* Delivery is counted only from delivery reports, which are served by poll and
 * flush: before them every produced row is queued. */
static void test_counters_exact(void **state)
{
    struct kafka_sink *s = sink_new("mock", 10000, NULL, 0);
    struct kafka_counters c;

    (void)state;
    assert_int_equal(produce_n(s, "q", 7), 0);
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 7);
    assert_int_equal(c.delivered, 0);
    assert_int_equal(c.queued, 7);
    assert_int_equal(kafka_flush(s, 10000), 0);
    kafka_stats(s, &c);
    assert_int_equal(c.delivered, 7);
    assert_int_equal(c.queued, 0);

    assert_int_equal(produce_n(s, "q", 3), 0);
    assert_int_equal(kafka_produce(s, "q", NULL, 0, "", 0, 0), 0); /* no key, empty, now */
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 11);
    assert_int_equal(c.queued, 4);
    assert_int_equal(kafka_flush(s, 10000), 0);
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 11);
    assert_int_equal(c.delivered, 11);
    assert_int_equal(c.failed, 0);
    assert_int_equal(c.queued, 0);
    kafka_sink_free(s);
}

/* A non-retriable error from the broker on Produce fails the row: failed is
 * counted under its code; later rows get through (later_ok) or, for an error
 * about the topic, are refused. */
static void check_produce_error(rd_kafka_resp_err_t code, int later_ok)
{
    struct mock m;
    struct kafka_sink *s;
    struct kafka_counters c;

    mock_new(&m);
    s = sink_new(rd_kafka_mock_cluster_bootstraps(m.mc), 10000, NULL, 0);
    assert_int_equal(produce_n(s, "q", 1), 0); /* connected, producer id assigned */
    assert_int_equal(kafka_flush(s, 10000), 0);

    rd_kafka_mock_push_request_errors(m.mc, API_PRODUCE, 1, code);
    assert_int_equal(produce_n(s, "q", 1), 0);
    assert_int_equal(kafka_flush(s, 10000), 1); /* one row produced and not delivered */
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 2);
    assert_int_equal(c.delivered, 1);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.queued, 0);
    assert_int_equal(errcount(&c, code), 1);
    assert_non_null(strstr(c.last_error, "delivery to test.q failed"));

    if (later_ok) {
        assert_int_equal(produce_n(s, "q", 5), 0);
        assert_int_equal(kafka_flush(s, 10000), 1); /* still only the failed one */
        kafka_stats(s, &c);
        assert_int_equal(c.delivered, 6);
        assert_int_equal(c.failed, 1);
    } else {
        /* a topic-level error sticks to the topic until librdkafka's next metadata
           refresh: rows are refused at once, counted as rejected */
        assert_int_equal(produce_n(s, "q", 1), -EIO);
        kafka_stats(s, &c);
        assert_int_equal(c.rejected, 1);
        assert_int_equal(errcount(&c, code), 2);
    }
    kafka_sink_free(s);
    mock_free(&m);
}

static void test_produce_error_too_large(void **state)
{
    (void)state;
    check_produce_error(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, 1);
}

static void test_produce_error_authz(void **state)
{
    (void)state;
    check_produce_error(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
}

/* No broker at all: rows fail when message.timeout.ms runs out, flush says how
 * many are undelivered, and the error callback has said the broker is down. */
static void test_unreachable(void **state)
{
    struct kafka_sink *s = sink_new("127.0.0.1:1", 2000, NULL, 0);
    struct kafka_counters c;
    char err[512];
    double t0 = now_s();

    (void)state;
    assert_int_equal(produce_n(s, "q", 5), 0);
    assert_int_equal(kafka_flush(s, 300), 5); /* time runs out first: all queued */
    kafka_stats(s, &c);
    assert_int_equal(c.queued, 5);
    assert_int_equal(c.failed, 0);

    assert_int_equal(kafka_flush(s, 10000), 5); /* now they time out: all failed */
    assert_true(now_s() - t0 < 6.0);
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 5);
    assert_int_equal(c.delivered, 0);
    assert_int_equal(c.failed, 5);
    assert_int_equal(c.queued, 0);
    assert_int_equal(errcount(&c, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), 5);
    assert_int_equal(c.brokers_down, 1);
    assert_true(c.transport_errors > 0);
    assert_non_null(strstr(c.broker_error, "127.0.0.1:1"));
    assert_non_null(strstr(c.broker_error, "Connection refused"));

    assert_int_equal(kafka_ping(s, 300, err, sizeof err), -EHOSTUNREACH);
    assert_non_null(strstr(err, "no broker answered"));
    kafka_sink_free(s);
    assert_true(now_s() - t0 < 8.0);
}

/* A broker that goes away and comes back within message.timeout.ms: the rows
 * wait in the queue, librdkafka reconnects and they are all delivered. */
static void test_broker_down_then_up(void **state)
{
    struct mock m;
    struct kafka_sink *s;
    struct kafka_counters c;
    double t0;

    (void)state;
    mock_new(&m);
    s = sink_new(rd_kafka_mock_cluster_bootstraps(m.mc), 30000, NULL, 0);
    assert_int_equal(produce_n(s, "q", 10), 0);
    assert_int_equal(kafka_flush(s, 10000), 0);

    rd_kafka_mock_broker_set_down(m.mc, -1);
    assert_int_equal(produce_n(s, "q", 10), 0);
    t0 = now_s();
    do {
        kafka_flush(s, 100);
        kafka_stats(s, &c);
    } while (!c.brokers_down && now_s() - t0 < 10.0);
    assert_int_equal(c.brokers_down, 1);
    assert_int_equal(c.queued, 10);

    rd_kafka_mock_broker_set_up(m.mc, -1);
    assert_int_equal(kafka_flush(s, 20000), 0);
    kafka_stats(s, &c);
    assert_int_equal(c.delivered, 20);
    assert_int_equal(c.failed, 0);
    assert_int_equal(c.brokers_down, 0); /* cleared by a delivery */
    kafka_sink_free(s);
    mock_free(&m);
}

/* A full local queue: kafka_produce waits a bounded time, then refuses. */
static void test_queue_full(void **state)
{
    static const char *const props[] = {"queue.buffering.max.messages=10"};
    struct kafka_conf conf = {
        .brokers = "127.0.0.1:1",
        .props = props,
        .nprops = 1,
        .delivery_timeout_ms = 10000,
        .queue_full_wait_ms = 200,
    };
    char err[256];
    struct kafka_sink *s = kafka_sink_new(&conf, err, sizeof err);
    struct kafka_counters c;
    double t0;

    (void)state;
    assert_non_null(s);
    assert_int_equal(produce_n(s, "q", 10), 0);
    t0 = now_s();
    assert_int_equal(kafka_produce(s, "q", "k", 1, "v", 1, 0), -ENOBUFS);
    assert_true(now_s() - t0 >= 0.19);
    assert_true(now_s() - t0 < 2.0);
    /* the wait has run out once: the next rows are refused without waiting */
    t0 = now_s();
    for (int i = 0; i < 100; i++)
        assert_int_equal(kafka_produce(s, "q", "k", 1, "v", 1, 0), -ENOBUFS);
    assert_true(now_s() - t0 < 0.19);
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 10);
    assert_int_equal(c.rejected, 101);
    assert_int_equal(c.queue_full_waits, 101);
    assert_int_equal(errcount(&c, RD_KAFKA_RESP_ERR__QUEUE_FULL), 101);
    assert_int_equal(c.queued, 10);
    kafka_sink_free(s); /* purges the 10 queued rows, does not wait for them */
}

/* After the queue drains, rows get in again and the next full queue is waited
 * for again (the refuse-at-once state ends with the first row queued). */
static void test_queue_full_recovers(void **state)
{
    static const char *const props[] = {"queue.buffering.max.messages=10"};
    struct mock m;
    struct kafka_conf conf = {
        .props = props,
        .nprops = 1,
        .delivery_timeout_ms = 30000,
        .queue_full_wait_ms = 200,
    };
    char err[256];
    struct kafka_sink *s;
    struct kafka_counters c;
    double t0;

    (void)state;
    mock_new(&m);
    conf.brokers = rd_kafka_mock_cluster_bootstraps(m.mc);
    s = kafka_sink_new(&conf, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(produce_n(s, "q", 1), 0);
    assert_int_equal(kafka_flush(s, 10000), 0);

    rd_kafka_mock_broker_set_down(m.mc, -1);
    assert_int_equal(produce_n(s, "q", 10), 0);
    assert_int_equal(kafka_produce(s, "q", "k", 1, "v", 1, 0), -ENOBUFS);
    assert_int_equal(kafka_produce(s, "q", "k", 1, "v", 1, 0), -ENOBUFS);
    rd_kafka_mock_broker_set_up(m.mc, -1);
    assert_int_equal(kafka_flush(s, 20000), 0);

    assert_int_equal(produce_n(s, "q", 10), 0); /* queued again */
    t0 = now_s();
    assert_int_equal(kafka_produce(s, "q", "k", 1, "v", 1, 0), 0); /* waited, got in */
    assert_true(now_s() - t0 < 0.19 + 0.5);
    assert_int_equal(kafka_flush(s, 20000), 0);
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 22);
    assert_int_equal(c.delivered, 22);
    assert_int_equal(c.rejected, 2);
    kafka_sink_free(s);
    mock_free(&m);
}

/* Topic names Kafka would refuse are refused here, before librdkafka sees them. */
static void test_bad_topic(void **state)
{
    struct kafka_sink *s = sink_new("mock", 10000, NULL, 0);
    struct kafka_counters c;
    char longname[300];

    (void)state;
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(kafka_produce(s, "bad name", "k", 1, "v", 1, 0), -EINVAL);
    assert_int_equal(kafka_produce(s, "", "k", 1, "v", 1, 0), -EINVAL);
    assert_int_equal(kafka_produce(s, longname, "k", 1, "v", 1, 0), -EINVAL);
    kafka_stats(s, &c);
    assert_int_equal(c.produced, 0);
    assert_int_equal(c.rejected, 3);
    assert_non_null(strstr(c.last_error, "topic"));
    assert_int_equal(kafka_flush(s, 1000), 0);
    kafka_sink_free(s);
}

/* Every property is checked, with librdkafka's reason in the message. */
static void test_bad_conf(void **state)
{
    static const char *const unknown[] = {"no.such.property=1"};
    static const char *const noeq[] = {"linger.ms"};
    static const char *const badval[] = {"acks=sometimes"};
    struct kafka_conf c = {.brokers = "mock"};
    char err[512];

    (void)state;
    c.props = unknown;
    c.nprops = 1;
    assert_null(kafka_sink_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "no.such.property"));
    c.props = noeq;
    assert_null(kafka_sink_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "not key=value"));
    c.props = badval;
    assert_null(kafka_sink_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "acks"));
    c.nprops = 0;
    c.brokers = "";
    assert_null(kafka_sink_new(&c, err, sizeof err));
    kafka_sink_free(NULL);
}

/* ---- the exactly-once sink (sink_kafka_txn.c) on the mock cluster ---- */

static struct rt_sink *txn_sink(const char *brokers, const char *id)
{
    static const char *const props[] = {"log_level=3"};
    char err[512] = "";
    struct rt_sink *s = rt_sink_kafka_txn(brokers, "test.", props, 1, id, 20, err, sizeof err);
    if (!s)
        fail_msg("rt_sink_kafka_txn: %s", err);
    return s;
}

static void txn_produce_n(struct rt_sink *s, int n)
{
    char key[32], val[64];
    for (int i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof key, "k%d", i);
        int vl = snprintf(val, sizeof val, "{\"i\":%d}", i);
        assert_int_equal(s->ops->produce(s->self, "q", key, (size_t)kl, val, (size_t)vl,
                                         (int64_t)1700000000000 * 1000000), 0);
    }
}

/* Rows count delivered only once their transaction commits; every one does. */
static void test_txn_all_committed(void **state)
{
    struct mock m;
    struct rt_sink_counters c;
    enum { N = 3000 };

    (void)state;
    mock_new(&m);
    struct rt_sink *s = txn_sink(rd_kafka_mock_cluster_bootstraps(m.mc), "t1");
    txn_produce_n(s, N);
    assert_int_equal(s->ops->flush(s->self, 20000), 0);
    s->ops->counters(s->self, &c);
    assert_int_equal(c.produced, N);
    assert_int_equal(c.delivered, N);
    assert_int_equal(c.failed, 0);
    assert_int_equal(c.queued, 0);
    assert_true(c.txn_commits >= 1);
    assert_int_equal(c.txn_aborts, 0);
    rt_sink_free(s);
    mock_free(&m);
}

/* A produce error that fails the transaction (a batch refused once): it is
 * aborted and its rows sent again in the next one; nothing fails. */
static void test_txn_abort_resend(void **state)
{
    struct mock m;
    struct rt_sink_counters c;
    enum { N = 200 };

    (void)state;
    mock_new(&m);
    struct rt_sink *s = txn_sink(rd_kafka_mock_cluster_bootstraps(m.mc), "t2");
    txn_produce_n(s, 10); /* the transaction machinery and the topic exist */
    assert_int_equal(s->ops->flush(s->self, 20000), 0);
    rd_kafka_mock_push_request_errors(m.mc, API_PRODUCE, 1,
                                      RD_KAFKA_RESP_ERR_INVALID_RECORD);
    txn_produce_n(s, N);
    assert_int_equal(s->ops->flush(s->self, 30000), 0);
    s->ops->counters(s->self, &c);
    assert_int_equal(c.produced, N + 10);
    assert_int_equal(c.delivered, N + 10);
    assert_int_equal(c.failed, 0);
    assert_true(c.txn_aborts >= 1);
    rt_sink_free(s);
    mock_free(&m);
}

/* A broker that refuses every batch: after 5 aborts in a row the rows are
 * named failed, not sent again forever. */
static void test_txn_poison(void **state)
{
    struct mock m;
    struct rt_sink_counters c;

    (void)state;
    mock_new(&m);
    struct rt_sink *s = txn_sink(rd_kafka_mock_cluster_bootstraps(m.mc), "t3");
    txn_produce_n(s, 1);
    assert_int_equal(s->ops->flush(s->self, 20000), 0);
    rd_kafka_resp_err_t e[64];
    for (int i = 0; i < 64; i++)
        e[i] = RD_KAFKA_RESP_ERR_INVALID_RECORD;
    rd_kafka_mock_push_request_errors_array(m.mc, API_PRODUCE, 64, e);
    txn_produce_n(s, 3);
    assert_int_equal(s->ops->flush(s->self, 30000), 3); /* settled: all failed */
    s->ops->counters(s->self, &c);
    assert_int_equal(c.delivered, 1);
    assert_int_equal(c.failed, 3);
    assert_true(c.txn_aborts >= 5);
    rt_sink_free(s);
    mock_free(&m);
}

/* No broker: nothing commits, flush says how many, abandon names them all,
 * and closing does not wait for the transaction timeout. */
static void test_txn_unreachable(void **state)
{
    struct rt_sink_counters c;
    double t0 = now_s();

    (void)state;
    struct rt_sink *s = txn_sink("127.0.0.1:1", "t4");
    txn_produce_n(s, 7);
    assert_int_equal(s->ops->flush(s->self, 500), 7);
    assert_int_equal(s->ops->abandon(s->self), 7);
    s->ops->counters(s->self, &c);
    assert_int_equal(c.delivered, 0);
    assert_int_equal(c.failed, 7);
    assert_int_equal(c.queued, 0);
    assert_int_equal(s->ops->produce(s->self, "q", NULL, 0, "x", 1, 0), -EIO);
    rt_sink_free(s);
    assert_true(now_s() - t0 < 15.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mock_all_delivered),
        cmocka_unit_test(test_counters_exact),
        cmocka_unit_test(test_produce_error_too_large),
        cmocka_unit_test(test_produce_error_authz),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_broker_down_then_up),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_queue_full_recovers),
        cmocka_unit_test(test_bad_topic),
        cmocka_unit_test(test_bad_conf),
        cmocka_unit_test(test_txn_all_committed),
        cmocka_unit_test(test_txn_abort_resend),
        cmocka_unit_test(test_txn_poison),
        cmocka_unit_test(test_txn_unreachable),
    };
    return cmocka_run_group_tests_name("kafka", tests, NULL, NULL);
}
