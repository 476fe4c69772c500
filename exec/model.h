/*
 * model.h - the data-plane model: runs exactly the data-plane part of a plan
 * on packets and produces the report frames the P4 program would send.
 *
 * `htsc emulate` drives it over a capture; the differential test compares
 * the rows the host part computes from its frames with the reference
 * executor's. It evaluates filters, maps and keys with the executor's own
 * evaluator (exec_eval), and keeps state the way the generated P4 does:
 * hashed register arrays of the plan's sizes, indexed by CRC-32 of the key's
 * bytes (dpm_key_bytes), a slot keeping the first key that claims it for the
 * window, overflow to the host when another key finds it taken, and a reset
 * when the window closes. docs/partitioning.md argues why the host's rows are
 * then exactly the executor's.
 *
 * Training: dpm_train() runs the same code with the deepest data-plane cut
 * every query allows and unbounded registers, counting per node what passes
 * and how many keys each window holds: the planner's selectivities.
 */
#ifndef HTS_MODEL_H
#define HTS_MODEL_H

#include "plan.h"
#include "pcapin.h"
#include "report.h"
#include "train.h"

#include <stddef.h>
#include <stdint.h>

struct dpm;

/* Receives each finished report frame (valid during the call) and the time
 * of the packet that caused it. */
typedef void (*dpm_frame_fn)(void *ctx, const uint8_t *frame, size_t len,
                             uint64_t ts);

struct dpm_stats {
    uint64_t packets;
    uint64_t frames;
    uint64_t records[8];  /* by enum rep_kind */
    uint64_t overflows;   /* tuples sent to the host because a slot was taken */
    uint64_t spills;      /* spilled groupby keys: one partial record each */
    uint64_t gated;       /* tuples sent to the host by a refinement gate */
    uint64_t late;        /* packets dropped by data-plane state: window closed */
    uint64_t truncated;   /* mirrored frames cut to fit a report record */
    uint64_t *query_records; /* per query: tuple, row and packet records */
};

/* A model of plan p's data plane (p must outlive it). NULL on allocation
 * failure. */
struct dpm *dpm_new(const struct plan *p, dpm_frame_fn fn, void *ctx);

/* One packet: decoded (meta.ts present) and its frame as captured. */
void dpm_packet(struct dpm *m, const struct hts_pkt *pkt, const uint8_t *data,
                uint32_t cap_len, uint32_t wire_len, uint16_t port,
                int linktype);

/* End of input: dumps the registers of every open window. */
void dpm_finish(struct dpm *m);

const struct dpm_stats *dpm_stats(const struct dpm *m);
void dpm_free(struct dpm *m);

/*
 * The bytes a data plane hashes for the key of stateful node n: each key
 * column as it travels in a report (docs/wire-format.md, Values), one after
 * another. Returns the length, or 0 when a key is absent (the tuple does not
 * enter the operator, as in the executor). buf must hold 16 * IR_MAX_KEYS.
 */
size_t dpm_key_bytes(const struct ir_node *n, const hts_value *key,
                     uint8_t *buf);

/* CRC-32 (IEEE, reflected: P4's HashAlgorithm.crc32) of p[0, n). */
uint32_t dpm_crc32(const uint8_t *p, size_t n);

/* ---- a switch's control plane (cp/) ----
 *
 * The window end of a real switch: its control plane reads the registers of
 * a closed window's bank and hands them to the model, which sends exactly
 * the records close_query() would (rows after the threshold, partial
 * records, spill dumps) and then the watermark. One definition of what a
 * window end sends, for the model and for a switch.
 */

/* Key words as the P4 stores them (docs/targets.md): the key's bytes
 * (dpm_key_bytes) as one big-endian number, in 32-bit words, least
 * significant first. Fills key (n->nkeys values); false if n's key has a
 * column a data plane cannot hold. */
bool dpm_key_from_words(const struct ir_node *n, const uint32_t *words, hts_value *key);
/* 32-bit words of node n's key in the P4 (0 when not held in a data plane). */
int dpm_key_words(const struct ir_node *n);

/* Slot idx of stateful node `node` of query qi, read from a switch: state
 * (P4: 1 held, 2 spilled; | 4 ignored), key words, aggregate values and
 * present-input counts (n->naggs each). 0, or -EINVAL when idx or the key
 * cannot be a slot of that node. */
int dpm_cp_slot(struct dpm *m, int qi, int node, uint32_t idx, unsigned state,
                const uint32_t *words, const int64_t *aggs, const int64_t *seen);
/* Bucket b of histogram `node`. */
int dpm_cp_bucket(struct dpm *m, int qi, int node, int b, int64_t count);
/* Query qi's window starting at ws, loaded with the calls above: sends its
 * records (one frame or more, to the frame callback) and forgets it. */
void dpm_cp_close(struct dpm *m, int qi, int64_t ws);
/* A live change: from the next window closed on, query qi's records are
 * made with the operators of pq (the same query of a plan loaded with other
 * parameter values, plan_load_set, which must outlive m). */
void dpm_cp_set_query(struct dpm *m, int qi, const struct plan_query *pq);
/* A param record (docs/wire-format.md) in a frame of its own: query qi's
 * "NAME=VALUE" from the window starting at from. 0 or -EINVAL. */
int dpm_cp_param(struct dpm *m, int qi, int64_t from, const char *text);
/* A watermark record in a frame of its own. */
void dpm_cp_watermark(struct dpm *m, int64_t wm);

/* ---- training (the statistics: planner/train.h) ---- */

/*
 * Runs the capture at path through the deepest data-plane cut of every
 * query of prog (on target `t_stateful` with or without registers) with
 * unbounded registers, counting. 0, or -errno with a message in err.
 * Release with dpm_train_free() (train.h).
 */
int dpm_train(const struct ir_program *prog, bool stateful, const char *path,
              struct dpm_train *out, char *err, size_t errlen);

#endif
