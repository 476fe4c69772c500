/*
 * value.c - comparing, hashing and printing typed values.
 *
 * These define the observable form of results: the JSON a user reads (addresses
 * as text, numbers as numbers, absent as null) and the total order that makes
 * row order deterministic. The hash is FNV-1a over the value's canonical bytes
 * so it is the same on every machine and run (sampling depends on that).
 */
#include "value.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[TY__COUNT] = {
#define X(id, name) [TY_##id] = name,
    HTS_TYPES(X)
#undef X
};

const char *hts_type_name(enum hts_type t)
{
    return (unsigned)t < TY__COUNT ? type_names[t] : "<bad type>";
}

int hts_value_cmp(const hts_value *a, const hts_value *b)
{
    if (!a->present || !b->present)
        return (int)a->present - (int)b->present;
    if (a->type != b->type)
        return (int)a->type - (int)b->type;
    switch ((enum hts_type)a->type) {
    case TY_BOOL:
    case TY_INT:
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    /* a plain address has no prefix length: only prefixes compare theirs */
    case TY_IPV4:
        return (a->u.ip4 > b->u.ip4) - (a->u.ip4 < b->u.ip4);
    case TY_PREFIX4:
        if (a->u.ip4 != b->u.ip4)
            return a->u.ip4 < b->u.ip4 ? -1 : 1;
        return (int)a->plen - (int)b->plen;
    case TY_IPV6:
        return memcmp(a->u.ip6, b->u.ip6, 16);
    case TY_PREFIX6: {
        int c = memcmp(a->u.ip6, b->u.ip6, 16);
        return c ? c : (int)a->plen - (int)b->plen;
    }
    case TY_MAC:
        return memcmp(a->u.mac, b->u.mac, 6);
    case TY_TYPESET: { /* u.s.p holds u.s.n 16-bit codes */
        const uint16_t *x = (const uint16_t *)(const void *)a->u.s.p;
        const uint16_t *y = (const uint16_t *)(const void *)b->u.s.p;
        for (uint32_t i = 0; i < a->u.s.n && i < b->u.s.n; i++)
            if (x[i] != y[i])
                return x[i] < y[i] ? -1 : 1;
        return (a->u.s.n > b->u.s.n) - (a->u.s.n < b->u.s.n);
    }
    case TY_STR: {
        uint32_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c)
            return c;
        return (a->u.s.n > b->u.s.n) - (a->u.s.n < b->u.s.n);
    }
    default:
        return 0;
    }
}

bool hts_value_eq(const hts_value *a, const hts_value *b)
{
    return hts_value_cmp(a, b) == 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t hts_value_hash(const hts_value *v, uint64_t seed)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ULL;
    h = fnv(h, &v->present, 1);
    if (!v->present)
        return h;
    switch ((enum hts_type)v->type) {
    case TY_BOOL:
    case TY_INT: {
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)((uint64_t)v->u.i >> (8 * i));
        return fnv(h, b, 8);
    }
    case TY_IPV4:
    case TY_PREFIX4: {
        uint8_t b[4] = {(uint8_t)(v->u.ip4 >> 24), (uint8_t)(v->u.ip4 >> 16),
                        (uint8_t)(v->u.ip4 >> 8), (uint8_t)v->u.ip4};
        return fnv(h, b, 4);
    }
    case TY_IPV6:
    case TY_PREFIX6:
        return fnv(h, v->u.ip6, 16);
    case TY_MAC:
        return fnv(h, v->u.mac, 6);
    case TY_STR:
        return v->u.s.n ? fnv(h, v->u.s.p, v->u.s.n) : h;
    case TY_TYPESET:
        return v->u.s.n ? fnv(h, v->u.s.p, 2 * (size_t)v->u.s.n) : h;
    default:
        return h;
    }
}

/* Appends to buf as snprintf would; `len` is the running length needed. */
#define APPEND(...)                                                            \
    do {                                                                       \
        int n_ = snprintf(buf + (len < cap ? len : cap),                       \
                          len < cap ? cap - len : 0, __VA_ARGS__);             \
        if (n_ > 0)                                                            \
            len += (size_t)n_;                                                 \
    } while (0)

static int format(const hts_value *v, char *buf, size_t cap, bool json)
{
    size_t len = 0;
    char a[INET6_ADDRSTRLEN];
    const char *q = json ? "\"" : "";
    if (cap)
        buf[0] = 0;
    if (!v->present) {
        APPEND("%s", json ? "null" : "-");
        return (int)len;
    }
    switch ((enum hts_type)v->type) {
    case TY_BOOL:
        APPEND("%s", v->u.i ? "true" : "false");
        break;
    case TY_INT:
        APPEND("%lld", (long long)v->u.i);
        break;
    case TY_IPV4:
    case TY_PREFIX4: {
        uint32_t x = v->u.ip4;
        APPEND("%s%u.%u.%u.%u", q, x >> 24, (x >> 16) & 255, (x >> 8) & 255,
               x & 255);
        if (v->type == TY_PREFIX4)
            APPEND("/%u", v->plen);
        APPEND("%s", q);
        break;
    }
    case TY_IPV6:
    case TY_PREFIX6:
        inet_ntop(AF_INET6, v->u.ip6, a, sizeof a);
        APPEND("%s%s", q, a);
        if (v->type == TY_PREFIX6)
            APPEND("/%u", v->plen);
        APPEND("%s", q);
        break;
    case TY_MAC:
        APPEND("%s%02x:%02x:%02x:%02x:%02x:%02x%s", q, v->u.mac[0],
               v->u.mac[1], v->u.mac[2], v->u.mac[3], v->u.mac[4],
               v->u.mac[5], q);
        break;
    case TY_STR:
        APPEND("\"");
        for (uint32_t i = 0; i < v->u.s.n; i++) {
            uint8_t c = v->u.s.p[i];
            if (c == '"' || c == '\\')
                APPEND("\\%c", c);
            else if (c >= 0x20 && c < 0x7f)
                APPEND("%c", c);
            else
                APPEND("\\u%04x", c);
        }
        APPEND("\"");
        break;
    default:
        APPEND("%s", json ? "null" : "?");
        break;
    }
    return (int)len;
}

int hts_value_json(const hts_value *v, char *buf, size_t cap)
{
    return format(v, buf, cap, true);
}

int hts_value_text(const hts_value *v, char *buf, size_t cap)
{
    return format(v, buf, cap, false);
}
