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

/* Damerau-free Levenshtein distance, bounded to short names. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[64];
    if (la >= 63 || lb >= 63)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
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
