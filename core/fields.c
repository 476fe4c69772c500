/*
 * fields.c - the catalogue table built from fields.def, and name lookup.
 *
 * Lookup is a linear scan: the catalogue has under a hundred rows and is only
 * searched while checking queries, never per packet.
 */
#include "fields.h"

#include <string.h>

const struct hts_field_info hts_fields[FLD__COUNT] = {
#define FIELD(id, name, type, width, where, doc)                               \
    [FLD_##id] = {name, TY_##type, width, WHERE_##where, doc},
#include "fields.def"
#undef FIELD
};

int fld_lookup(const char *name, size_t len)
{
    for (int i = 0; i < FLD__COUNT; i++)
        if (strlen(hts_fields[i].name) == len &&
            memcmp(hts_fields[i].name, name, len) == 0)
            return i;
    return -1;
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, so "dts" is one edit from "dst"), for short names. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[64][64];
    if (la >= 63 || lb >= 63)
        return (size_t)-1;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *fld_suggest(const char *name, size_t len)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    for (int i = 0; i < FLD__COUNT; i++) {
        const char *n = hts_fields[i].name;
        size_t d = edit_distance(name, len, n, strlen(n));
        if (d < bestd) {
            bestd = d;
            best = n;
        }
    }
    /* suggest only plausible typos: at most a third of the name */
    if (best && bestd <= 1 + len / 3)
        return best;
    return NULL;
}
