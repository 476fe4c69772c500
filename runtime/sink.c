/*
 * sink.c - the stdout sink (JSON Lines), htsd's embedded default when no
 * broker is given, and rt_sink_free().
 */
#include "sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct stdout_sink {
    FILE *out;
    struct rt_sink_counters c;
    void (*ok)(void *ctx, int64_t ts_ns); /* a row written is delivered */
    void *ok_ctx;
};

static int so_produce(void *self, const char *query, const void *key,
                      size_t keylen, const void *value, size_t len,
                      int64_t ts)
{
    struct stdout_sink *s = self;
    (void)query; (void)key; (void)keylen;
    s->c.produced++;
    if (fwrite(value, 1, len, s->out) != len || fputc('\n', s->out) == EOF) {
        s->c.failed++;
        snprintf(s->c.last_error, sizeof s->c.last_error, "stdout: %s",
                 strerror(errno));
        return -EIO;
    }
    s->c.delivered++;
    if (s->ok)
        s->ok(s->ok_ctx, ts);
    return 0;
}

static void so_on_delivered(void *self, void (*fn)(void *ctx, int64_t ts_ns), void *ctx)
{
    struct stdout_sink *s = self;
    s->ok = fn;
    s->ok_ctx = ctx;
}

static void so_poll(void *self) { (void)self; }

static int so_flush(void *self, int timeout_ms)
{
    struct stdout_sink *s = self;
    (void)timeout_ms;
    if (fflush(s->out) != 0) {
        snprintf(s->c.last_error, sizeof s->c.last_error, "stdout: %s",
                 strerror(errno));
        return 1;
    }
    return 0;
}

static void so_counters(void *self, struct rt_sink_counters *c)
{
    *c = ((struct stdout_sink *)self)->c;
}

static void so_free(void *self) { free(self); }

static const struct rt_sink_ops stdout_ops = {
    so_produce, so_poll, so_flush, so_counters, so_free, NULL, NULL, NULL, so_on_delivered,
};

struct rt_sink *rt_sink_stdout(FILE *out)
{
    struct rt_sink *k = calloc(1, sizeof *k);
    struct stdout_sink *s = calloc(1, sizeof *s);
    if (!k || !s) {
        free(k);
        free(s);
        return NULL;
    }
    s->out = out;
    k->ops = &stdout_ops;
    k->self = s;
    k->name = "stdout";
    return k;
}

void rt_sink_free(struct rt_sink *s)
{
    if (!s)
        return;
    s->ops->free(s->self);
    free(s);
}
