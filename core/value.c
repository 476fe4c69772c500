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
#include <stdlib.h>
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

size_t hts_value_max_len(const hts_value *v)
{
    if (!v->present)
        return 4;
    switch ((enum hts_type)v->type) {
    case TY_STR:
        return 2 + 6 * (size_t)v->u.s.n;
    case TY_IPV6:
    case TY_PREFIX6:
        return 2 + 46 + 4;
    default:
        return 32; /* an int (20), an IPv4 prefix (20), a MAC (19), quotes */
    }
}

/* The decimal digits of 0..255, for addresses: three characters and a
 * length each. */
static const char octet_text[256][4] = {
#define D1(n) {(char)('0' + (n)), 0, 0, 1}
#define D2(n) {(char)('0' + (n) / 10), (char)('0' + (n) % 10), 0, 2}
#define D3(n) {(char)('0' + (n) / 100), (char)('0' + (n) / 10 % 10), (char)('0' + (n) % 10), 3}
#define R10(M, b) M(b), M(b + 1), M(b + 2), M(b + 3), M(b + 4), M(b + 5), M(b + 6), M(b + 7), M(b + 8), M(b + 9)
    R10(D1, 0), R10(D2, 10), R10(D2, 20), R10(D2, 30), R10(D2, 40), R10(D2, 50),
    R10(D2, 60), R10(D2, 70), R10(D2, 80), R10(D2, 90), R10(D3, 100), R10(D3, 110),
    R10(D3, 120), R10(D3, 130), R10(D3, 140), R10(D3, 150), R10(D3, 160), R10(D3, 170),
    R10(D3, 180), R10(D3, 190), R10(D3, 200), R10(D3, 210), R10(D3, 220), R10(D3, 230),
    R10(D3, 240), D3(250), D3(251), D3(252), D3(253), D3(254), D3(255),
#undef R10
#undef D3
#undef D2
#undef D1
};

static char *put_octet(char *d, unsigned o)
{
    memcpy(d, octet_text[o], 3);
    return d + octet_text[o][3];
}

static const char digits2[201] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char *hts_put_uint(char *d, uint64_t u)
{
    char tmp[20], *e = tmp + sizeof tmp, *p = e;
    while (u >= 100) { /* two digits a step */
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, digits2 + 2 * r, 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, digits2 + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
    memcpy(d, p, (size_t)(e - p));
    return d + (e - p);
}

char *hts_put_int(char *d, int64_t i)
{
    if (i < 0) {
        *d++ = '-';
        return hts_put_uint(d, (uint64_t)0 - (uint64_t)i);
    }
    return hts_put_uint(d, (uint64_t)i);
}

char *hts_value_put(char *d, const hts_value *v, bool json)
{
    static const char hex[] = "0123456789abcdef";
    if (!v->present) {
        if (json) {
            memcpy(d, "null", 4);
            return d + 4;
        }
        *d = '-';
        return d + 1;
    }
    switch ((enum hts_type)v->type) {
    case TY_BOOL:
        if (v->u.i) {
            memcpy(d, "true", 4);
            return d + 4;
        }
        memcpy(d, "false", 5);
        return d + 5;
    case TY_INT:
        return hts_put_int(d, v->u.i);
    case TY_IPV4:
    case TY_PREFIX4: {
        uint32_t x = v->u.ip4;
        if (json)
            *d++ = '"';
        d = put_octet(d, x >> 24);
        *d++ = '.';
        d = put_octet(d, (x >> 16) & 255);
        *d++ = '.';
        d = put_octet(d, (x >> 8) & 255);
        *d++ = '.';
        d = put_octet(d, x & 255);
        if (v->type == TY_PREFIX4) {
            *d++ = '/';
            d = hts_put_uint(d, v->plen);
        }
        if (json)
            *d++ = '"';
        return d;
    }
    case TY_IPV6:
    case TY_PREFIX6: {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, v->u.ip6, a, sizeof a);
        size_t n = strlen(a);
        if (json)
            *d++ = '"';
        memcpy(d, a, n);
        d += n;
        if (v->type == TY_PREFIX6) {
            *d++ = '/';
            d = hts_put_uint(d, v->plen);
        }
        if (json)
            *d++ = '"';
        return d;
    }
    case TY_MAC:
        if (json)
            *d++ = '"';
        for (int i = 0; i < 6; i++) {
            if (i)
                *d++ = ':';
            *d++ = hex[v->u.mac[i] >> 4];
            *d++ = hex[v->u.mac[i] & 15];
        }
        if (json)
            *d++ = '"';
        return d;
    case TY_STR: /* always escaped and quoted, also as text */
        *d++ = '"';
        for (uint32_t i = 0; i < v->u.s.n; i++) {
            uint8_t c = v->u.s.p[i];
            if (c == '"' || c == '\\') {
                *d++ = '\\';
                *d++ = (char)c;
            } else if (c >= 0x20 && c < 0x7f) {
                *d++ = (char)c;
            } else {
                memcpy(d, "\\u00", 4);
                d[4] = hex[c >> 4];
                d[5] = hex[c & 15];
                d += 6;
            }
        }
        *d++ = '"';
        return d;
    default:
        if (json) {
            memcpy(d, "null", 4);
            return d + 4;
        }
        *d = '?';
        return d + 1;
    }
}

/* snprintf's contract over hts_value_put */
static int format(const hts_value *v, char *buf, size_t cap, bool json)
{
    char small[64];
    size_t max = hts_value_max_len(v);
    char *tmp = max <= sizeof small ? small : malloc(max);
    if (!tmp) {
        if (cap)
            buf[0] = 0;
        return -1;
    }
    size_t len = (size_t)(hts_value_put(tmp, v, json) - tmp);
    if (cap) {
        size_t k = len < cap ? len : cap - 1;
        memcpy(buf, tmp, k);
        buf[k] = 0;
    }
    if (tmp != small)
        free(tmp);
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
