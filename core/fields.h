/*
 * fields.h - the field catalogue as C: ids, names, types, widths, placement.
 *
 * The rows live in fields.def (one definition of each field); this header only
 * turns them into an enum and a lookup API.
 */
#ifndef HTS_FIELDS_H
#define HTS_FIELDS_H

#include "value.h"

enum hts_field {
#define FIELD(id, name, type, width, where, doc) FLD_##id,
#include "fields.def"
#undef FIELD
    FLD__COUNT
};

enum hts_where { WHERE_DP, WHERE_HOST };

struct hts_field_info {
    const char *name;
    enum hts_type type;
    uint16_t width;     /* bits on the wire */
    enum hts_where where;
    const char *doc;
};

extern const struct hts_field_info hts_fields[FLD__COUNT];

/* Field id by dotted name, or -1. */
int fld_lookup(const char *name, size_t len);

/* The catalogue name closest to `name` (edit distance), or NULL if nothing is
 * close enough to suggest. */
const char *fld_suggest(const char *name, size_t len);

#endif
