/*
 * report.h - the report wire format: what a data plane sends to the host.
 *
 * A data plane (a P4 switch, an FPGA SmartNIC, or the software model in
 * exec/model.c) tells the host about the part of each query it ran in
 * report frames; docs/wire-format.md draws them byte by byte. In short:
 *
 *   Ethernet (14) | report header (20) | record | record | ...
 *
 *   report header:  magic "HTSR" u32 | version u8 | flags u8 | count u16 |
 *                   plan fingerprint u64 | sequence u32
 *   record:         length u16 | query u16 | node u16 | kind u8 | 0 u8 |
 *                   timestamp u64 | presence bits | values
 *
 * All integers are big-endian (network order). Values sit at the byte-rounded
 * width of their column (a catalogue field's width, 64 bits for a computed
 * integer), so every record of one layout has the same length: that is what
 * a P4 header needs, and what lets the decoder check every length.
 *
 * One description, two directions: a struct rep_layout (query, node, kind,
 * columns) is built from the plan (planner/plan.c) and drives both the
 * encoder (the data-plane model) and the decoder (`htsc host`, htsd). p4gen
 * generates its report headers from the same layouts.
 *
 * The decoder is written for hostile input: it validates a whole frame (every
 * record's length, layout and value widths) before it hands out the first
 * record, rejects frames from another plan (fingerprint) or a newer format
 * (version), counts why it rejected each frame, never reads outside the frame
 * and never allocates.
 */
#ifndef HTS_REPORT_H
#define HTS_REPORT_H

#include "packet.h"
#include "value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REP_ETHERTYPE 0x88B5u   /* IEEE 802 local experimental EtherType 1 */
#define REP_MAGIC 0x48545352u   /* "HTSR" */
#define REP_VERSION 1           /* this header's format; see wire-format.md */
#define REP_ETH_LEN 14
#define REP_HDR_LEN 20          /* report header after the Ethernet header */
#define REP_REC_HDR_LEN 16      /* record header before presence and values */
#define REP_MAX_COLS 256        /* columns of one layout */
#define REP_MAX_FRAME 65535     /* the largest frame a report can be */
#define REP_PKT_HDR_LEN 12      /* packet record: wire_len, port, linktype, extra, 0 */
#define REP_MAX_TARGETS 64      /* (query, node) targets of one packet record */
#define REP_MIN_FRAME 60        /* Ethernet minimum (without FCS): padding */
#define REP_NONE 0xFFFF         /* query and node of a watermark record */
#define REP_MAX_PARAM 240       /* text bytes of a param record */

/* Record kinds. REPORT KIND ORDER: rep_kind_names[] follows this list. */
#define REP_KINDS(X)                                                           \
    X(TUPLE, 1, "tuple")        /* a per-packet tuple leaving at node N */     \
    X(ROW, 2, "row")            /* a row of stateful node N (or after it) */   \
    X(WATERMARK, 3, "watermark") /* event time reached ts: close windows */  \
    X(PACKET, 4, "packet")      /* a whole mirrored frame leaving at node N */ \
    X(PARTIAL, 5, "partial")    /* part of a groupby's state: merge it */   \
    X(PARAM, 6, "param")        /* from window ts, query's NAME=VALUE */

enum rep_kind {
#define X(id, code, name) REP_##id = code,
    REP_KINDS(X)
#undef X
};

/* "tuple", "row", "watermark", or NULL for a code that is not a kind. */
const char *rep_kind_name(int kind);
/* The kind named `name`, or -1. */
int rep_kind_lookup(const char *name);

/* One column of a layout. */
struct rep_col {
    const char *name;
    enum hts_type type; /* TY_INT, TY_BOOL, TY_IPV4, TY_IPV6 or TY_MAC */
    uint16_t bits;      /* significant bits: catalogue width, 64, 1... */
    int16_t field;      /* catalogue field id, or -1 for a computed column */
};

/* Bytes a column occupies in a record: its bits rounded up to bytes. */
static inline unsigned rep_col_bytes(const struct rep_col *c)
{
    return (c->bits + 7u) / 8u;
}

/*
 * What one (query, node, kind) record carries. For a TUPLE at a packet-level
 * node (`packet` true) the columns are catalogue fields the host part reads
 * (each with field >= 0); the decoder puts them into a struct hts_pkt. A
 * PACKET layout has no columns: the record carries the frame itself, for a
 * host part that reads fields only the host can decode (DNS, payload) and
 * for targets that cannot extract fields at all; its length varies. For any
 * other layout the columns are the node's output columns, in order, and the
 * decoder gives an array of values.
 */
struct rep_layout {
    int query, node;
    enum rep_kind kind;
    bool packet;
    int ncols;
    const struct rep_col *cols;
    /* filled by rep_schema_init */
    uint16_t presence_bytes;
    uint16_t rec_len; /* header + presence + values; 0 for PACKET (varies) */
};

/*
 * The layouts of one plan, with the plan's fingerprint. Layouts and columns
 * are owned by the caller (the plan) and must outlive the schema.
 */
struct rep_schema {
    uint64_t fingerprint;
    int nlayouts;
    struct rep_layout *layouts;
    int nqueries;       /* index: per query, per node, per kind */
    int *qbase;         /* [nqueries + 1] into idx */
    int32_t *idx;       /* (node * 4 + slot of kind) -> layout or -1 */
};

/* Computes lengths and the lookup index (allocated; rep_schema_free). Returns
 * 0, or -EINVAL when a layout is malformed (a column type or width a record
 * cannot carry, a duplicate (query, node, kind), a record over
 * REP_MAX_FRAME), -ENOMEM. */
int rep_schema_init(struct rep_schema *s, uint64_t fingerprint,
                    struct rep_layout *layouts, int n);
void rep_schema_free(struct rep_schema *s);

/* The layout of (query, node, kind), or NULL. */
const struct rep_layout *rep_layout_find(const struct rep_schema *s, int query,
                                         int node, int kind);

/* ---- encoder (the data-plane model) ------------------------------------ */

struct rep_writer {
    const struct rep_schema *s;
    uint8_t *buf;        /* max_frame bytes, owned by the caller */
    size_t max_frame;    /* the target's largest report frame (<= REP_MAX_FRAME) */
    size_t len;          /* bytes in the frame being built (0: none) */
    uint16_t count;      /* records in it */
    uint32_t seq;        /* sequence number of the next frame */
    uint8_t dst[6], src[6];
};

/* Sets up w to build frames of at most max_frame bytes into buf. */
void rep_writer_init(struct rep_writer *w, const struct rep_schema *s,
                     uint8_t *buf, size_t max_frame);

/*
 * Appends one record to the frame being built. For a packet layout the
 * values come from *pkt (a field it lacks is sent absent), otherwise from
 * vals[0..ncols). Returns 0; -ENOSPC when the record does not fit the frame
 * (rep_frame_end() it, then add again: a record always fits an empty frame);
 * -ERANGE when a value does not fit its column's width (nothing is added).
 */
int rep_add(struct rep_writer *w, const struct rep_layout *l, uint64_t ts,
            const struct hts_pkt *pkt, const hts_value *vals);

/*
 * A packet record: the captured frame data[0, cap_len) with its wire length,
 * ingress port and pcap link type, for every (query, node) of the PACKET
 * layouts t[0, nt): a data plane mirrors a packet once, however many
 * queries want it whole. It must be the last record of its frame (the frame
 * bytes follow it): the caller ends the frame after it. A packet record too
 * long for max_frame is sent alone in a frame of up to REP_MAX_FRAME bytes
 * (the model's idealisation of a jumbo mirror; docs/wire-format.md). Same
 * returns as rep_add.
 */
int rep_add_packet(struct rep_writer *w, const struct rep_layout *const *t,
                   int nt, uint64_t ts, const uint8_t *data, uint32_t cap_len,
                   uint32_t wire_len, uint16_t port, uint16_t linktype);

/* A watermark record: event time has reached ts. Same returns as rep_add. */
int rep_add_watermark(struct rep_writer *w, uint64_t ts);

/* A param record: query's parameter changes from the window starting at
 * ts on; text is "NAME=VALUE" (VALUE as `htsc --set` takes it), printable
 * ASCII, 3 to REP_MAX_PARAM bytes. Same returns as rep_add, and -EINVAL for
 * a text that is not one. */
int rep_add_param(struct rep_writer *w, int query, uint64_t ts, const char *text,
                  size_t len);

/* Finishes the frame being built: returns its length (padded to
 * REP_MIN_FRAME) and the frame is in w->buf; 0 when it holds no record.
 * The next rep_add starts a new frame. */
size_t rep_frame_end(struct rep_writer *w);

/* ---- decoder (htsc host, htsd) ----------------------------------------- */

/* Why a frame was refused. REPORT ERROR ORDER: rep_err_names[] follows. */
#define REP_ERRORS(X)                                                          \
    X(SHORT, "short", "frame shorter than the Ethernet and report headers")  \
    X(ETHERTYPE, "ethertype", "not a report frame (EtherType)")              \
    X(MAGIC, "magic", "bad report magic")                                    \
    X(VERSION, "version", "report version this decoder does not know")      \
    X(FLAGS, "flags", "reserved header bits set")                            \
    X(FINGERPRINT, "fingerprint", "report from another plan (fingerprint)")  \
    X(TRUNCATED, "truncated", "record runs past the end of the frame")      \
    X(LAYOUT, "layout", "record of an unknown query, node or kind")          \
    X(LENGTH, "length", "record length does not match its layout")          \
    X(VALUE, "value", "value or presence bit outside its column's width")    \
    X(TRAILING, "trailing", "bytes after the last record that are not padding")

enum rep_err {
#define X(id, name, text) REP_ERR_##id,
    REP_ERRORS(X)
#undef X
        REP_ERR__COUNT
};
extern const char *const rep_err_names[REP_ERR__COUNT]; /* "short"... */
extern const char *const rep_err_text[REP_ERR__COUNT];

struct rep_stats {
    uint64_t frames;  /* frames seen */
    uint64_t good;    /* frames accepted */
    uint64_t records; /* records in accepted frames */
    uint64_t errors[REP_ERR__COUNT];
};

/* One decoded record: points into the frame (valid while the frame is). */
struct rep_record {
    const struct rep_layout *layout; /* NULL for a watermark */
    enum rep_kind kind;
    int query, node;   /* REP_NONE for a watermark; node REP_NONE for a param */
    uint64_t ts;       /* tuple: meta.ts; row, param: window start; watermark: time */
    const uint8_t *presence;
    const uint8_t *values;
    /* PACKET: the frame and what came with it; its targets are (query,
     * node) and then rep_record_target(rec, 1 .. ntargets - 1); PARAM:
     * data[0, cap_len) is its "NAME=VALUE" text (not NUL-terminated) */
    const uint8_t *data;
    uint32_t cap_len, wire_len;
    uint16_t port, linktype;
    int ntargets;
    const uint8_t *targets;
};

/* Target i of a packet record (0 is rec->query, rec->node). */
static inline void rep_record_target(const struct rep_record *rec, int i,
                                     int *query, int *node)
{
    if (i == 0) {
        *query = rec->query;
        *node = rec->node;
        return;
    }
    const uint8_t *t = rec->targets + 4 * (i - 1);
    *query = t[0] << 8 | t[1];
    *node = t[2] << 8 | t[3];
}

struct rep_reader {
    const struct rep_schema *s;
    const uint8_t *p, *end; /* the next record */
    int left;               /* records still to hand out */
    uint32_t seq;
};

/*
 * Validates a whole frame against schema s and prepares to hand out its
 * records. Returns 0, or -(1 + enum rep_err) for the reason it was refused,
 * counted in st (may be NULL). Reads nothing outside frame[0, len).
 */
int rep_frame_open(struct rep_reader *r, const struct rep_schema *s,
                   const uint8_t *frame, size_t len, struct rep_stats *st);

/* The next record of an opened frame: 1 and *rec, or 0 at the end. */
int rep_next(struct rep_reader *r, struct rep_record *rec);

/* A frame's plan fingerprint, to pick among several plans: 0 and *fp, or
 * -(1 + reason) when it is not a report frame of a known version. */
int rep_frame_fingerprint(const uint8_t *frame, size_t len, uint64_t *fp);

/* A non-packet record's values, vals[0..layout->ncols). */
void rep_record_values(const struct rep_record *rec, hts_value *vals);

/* A TUPLE record at a packet-level node: its fields into *pkt (reset
 * first), with meta.ts = rec->ts. (A PACKET record is decoded with
 * hts_decode() on rec->data.) */
void rep_record_pkt(const struct rep_record *rec, struct hts_pkt *pkt);

#endif
