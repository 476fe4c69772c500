/*
 * units.c - command-line durations and sizes (see units.h).
 */
#include "units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct unit {
    const char *name;
    uint64_t mult;
};

static int parse(const char *text, const struct unit *units, uint64_t *out)
{
    if (!text || *text < '0' || *text > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno)
        return -EINVAL;
    uint64_t mult = 1;
    if (*end) {
        const struct unit *u = units;
        while (u->name && strcmp(u->name, end) != 0)
            u++;
        if (!u->name)
            return -EINVAL;
        mult = u->mult;
    }
    if (n > INT64_MAX / mult)
        return -EINVAL;
    *out = n * mult;
    return 0;
}

int hts_parse_duration(const char *text, int64_t *ns)
{
    static const struct unit units[] = {
        {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000ull},
        {"m", 60000000000ull}, {"h", 3600000000000ull}, {NULL, 0}};
    uint64_t v;
    int rc = parse(text, units, &v);
    if (rc == 0)
        *ns = (int64_t)v;
    return rc;
}

int hts_parse_size(const char *text, uint64_t *bytes)
{
    static const struct unit units[] = {
        {"B", 1}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000ull},
        {"KiB", 1024}, {"MiB", 1048576}, {"GiB", 1073741824ull}, {NULL, 0}};
    return parse(text, units, bytes);
}
