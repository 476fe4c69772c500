/*
 * value.h - value types and typed values shared by compiler, executor and runtime.
 *
 * The language has few types. Every integer is a 64-bit signed number at run
 * time, whatever the width of the field it came from (a field's wire width is
 * catalogue metadata the P4 generator uses): arithmetic wraps as two's
 * complement, which docs/semantics.md states. Addresses, MACs, byte strings and
 * DNS type sets are their own types so that the checker can refuse comparing an
 * address with a port.
 *
 * A value may be absent (a field whose header the packet lacks, an aggregate of
 * nothing): `present` says so. Absent propagates through arithmetic and makes
 * comparisons false; see docs/semantics.md.
 */
#ifndef HTS_VALUE_H
#define HTS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TYPE ORDER: hts_type_names[] in core/value.c follows this list. */
#define HTS_TYPES(X)                                                           \
    X(ERROR, "<error>")                                                        \
    X(BOOL, "bool")                                                            \
    X(INT, "int")                                                              \
    X(IPV4, "ipv4")                                                            \
    X(IPV6, "ipv6")                                                            \
    X(MAC, "mac")                                                              \
    X(STR, "string")                                                           \
    X(TYPESET, "typeset")                                                      \
    X(PREFIX4, "ipv4 prefix")                                                  \
    X(PREFIX6, "ipv6 prefix")                                                  \
    X(SET, "set")

enum hts_type {
#define X(id, name) TY_##id,
    HTS_TYPES(X)
#undef X
        TY__COUNT
};

/* catalogue spelling of the field types (fields.def) */
#define TY_UINT TY_INT

const char *hts_type_name(enum hts_type t);

typedef struct hts_str {
    const uint8_t *p;
    uint32_t n;
} hts_str;

typedef struct hts_value {
    uint8_t type;    /* enum hts_type */
    uint8_t present; /* 0: absent (SQL NULL-like) */
    uint8_t plen;    /* prefix length for PREFIX4/PREFIX6 */
    union {
        int64_t i;        /* BOOL (0/1) and INT */
        uint32_t ip4;     /* IPV4, PREFIX4: host byte order */
        uint8_t ip6[16];  /* IPV6, PREFIX6: network byte order */
        uint8_t mac[6];   /* MAC: network byte order */
        hts_str s;        /* STR: bytes owned elsewhere */
    } u;
} hts_value;

static inline hts_value hts_int(int64_t i)
{
    hts_value v = {.type = TY_INT, .present = 1};
    v.u.i = i;
    return v;
}

static inline hts_value hts_bool(bool b)
{
    hts_value v = {.type = TY_BOOL, .present = 1};
    v.u.i = b;
    return v;
}

static inline hts_value hts_absent(enum hts_type t)
{
    hts_value v = {.type = (uint8_t)t, .present = 0};
    return v;
}

/* Total order on values of one type (absent first); the deterministic row
 * order of results is built on it. Returns <0, 0, >0. */
int hts_value_cmp(const hts_value *a, const hts_value *b);

/* Equality of present values of one type; absent equals absent. */
bool hts_value_eq(const hts_value *a, const hts_value *b);

/* splitmix64's finaliser: spreads a hash's bits over all 64 (sketches
 * take their register or cell from it: exec/hll.c, exec/cms.c). */
static inline uint64_t hts_mix64(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

/* 64-bit hash of a value (type-aware); stable across runs and machines. */
uint64_t hts_value_hash(const hts_value *v, uint64_t seed);

/* Writes the value as JSON (strings escaped, addresses quoted text, absent as
 * null) into buf; returns the length it needed, like snprintf. */
int hts_value_json(const hts_value *v, char *buf, size_t cap);

/* Text for people and IR dumps (no quotes around addresses). */
int hts_value_text(const hts_value *v, char *buf, size_t cap);

/* The fast path of both: writes the value (as JSON, or as text) at d, which
 * has room for hts_value_max_len(v) bytes, and returns the end. No NUL, no
 * printf: the row writers call it per column. */
char *hts_value_put(char *d, const hts_value *v, bool json);
size_t hts_value_max_len(const hts_value *v);
/* Decimal integers at d; return the end (at most 20 bytes). */
char *hts_put_int(char *d, int64_t i);
char *hts_put_uint(char *d, uint64_t u);

#endif
