/*
 * hll.h - HyperLogLog, the sketch behind approx_distinct(x).
 *
 * A fixed 2^11 one-byte registers per key (2 KiB): standard error
 * 1.04 / sqrt(2048) = 2.3% (Flajolet et al. 2007, with linear counting
 * for small cardinalities, exact-looking below a few hundred). The value
 * is hashed with hts_value_hash then a 64-bit finaliser; the first 11 bits
 * pick the register, the rank of the first set bit of the other 53 is
 * kept if larger. Two sketches merge by register-wise maximum: the merged
 * sketch is exactly the sketch of the union, so sites and workers merge
 * without adding error (docs/network-wide.md). Estimates are deterministic
 * for the same values.
 */
#ifndef HTS_HLL_H
#define HTS_HLL_H

#include "value.h"

#include <stdint.h>

#define HLL_P 11
#define HLL_M (1u << HLL_P) /* registers, one byte each */

void hll_add(uint8_t *regs, const hts_value *x);
void hll_merge(uint8_t *regs, const uint8_t *other);
int64_t hll_estimate(const uint8_t *regs);

#endif
