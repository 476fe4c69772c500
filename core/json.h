/*
 * json.h - a small strict JSON reader and a DOM writer, for plan files.
 *
 * The plan file (docs/plan-format.md) is read by htsd from disk, so the
 * reader treats its input as untrusted: RFC 8259 only (no comments, no
 * trailing commas, no NaN), UTF-8 checked, duplicate object keys refused,
 * nesting bounded, every error reported with line and column, never a crash.
 * Numbers keep their text, so writing a parsed document back is exact (the
 * plan's fingerprint is a hash of that compact serialization).
 *
 * A document is a tree of struct json nodes owned by a struct json_doc (one
 * block list freed at once). Builders (json_new_*, json_add) make documents
 * to write; json_write serializes compactly or indented.
 */
#ifndef HTS_JSON_H
#define HTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
    enum json_type type;
    bool b;          /* JSON_BOOL */
    bool is_int;     /* JSON_NUM: an integer that fits int64 */
    int64_t i;       /* JSON_NUM when is_int */
    const char *s;   /* JSON_STR: the string (NUL-terminated, may hold NULs);
                      * JSON_NUM: the number's text */
    size_t len;      /* JSON_STR: bytes */
    int n, cap;      /* JSON_ARR, JSON_OBJ: items */
    struct json **items;
    const char **keys; /* JSON_OBJ */
    size_t *klens;
    int line, col;   /* where it started (parsed documents) */
};

struct json_doc {
    struct json_block *blocks;
};

/*
 * Parses text[0, len) into doc. Returns the root, or NULL with "LINE:COL:
 * message" in err. The whole input must be one value (whitespace around it
 * allowed).
 */
struct json *json_parse(struct json_doc *doc, const char *text, size_t len,
                        char *err, size_t errlen);
void json_doc_free(struct json_doc *doc);

/* Member `key` of an object, or NULL (also when o is not an object). */
const struct json *json_get(const struct json *o, const char *key);

/* ---- building ---- */
struct json *json_new(struct json_doc *doc, enum json_type t);
struct json *json_new_int(struct json_doc *doc, int64_t i);
struct json *json_new_str(struct json_doc *doc, const char *s);
struct json *json_new_strn(struct json_doc *doc, const char *s, size_t n);
struct json *json_new_bool(struct json_doc *doc, bool b);
/* Appends v to array a, or as member `key` of object a. */
void json_push(struct json_doc *doc, struct json *a, struct json *v);
void json_set(struct json_doc *doc, struct json *o, const char *key,
              struct json *v);

/* Writes v: compact (indent 0) or indented by `indent` spaces per level.
 * 0, or -EIO when the stream fails. */
int json_write(const struct json *v, FILE *out, int indent);

/* Whether s[0, n) is valid UTF-8 (what the writer needs its strings to be). */
bool json_utf8_valid(const char *s, size_t n);

/* FNV-1a 64 of v's compact serialization. */
uint64_t json_hash(const struct json *v);

#endif
