/*
 * cms.h - the Count-Min sketch behind approx_count() and approx_sum(x).
 *
 * A groupby whose aggregates are approx_count/approx_sum keeps no state per
 * key: per window and aggregate, CMS_D rows of CMS_W 64-bit counters. A
 * tuple adds its value to one counter per row, chosen by the key's hash;
 * a key's estimate is the smallest of its CMS_D counters (Cormode and
 * Muthukrishnan 2005). It is never below the key's exact value, and above
 * it by at most e/CMS_W of the window's total (0.13%) with probability
 * 1 - e^-CMS_D (98.2%). Two sketches merge by adding counters: the merged
 * sketch is exactly the sketch of all their tuples, so workers and sites
 * add no error. Which keys to report is kept apart (exec.c): a key whose
 * estimate reaches the query's threshold in some part of the traffic
 * (docs/language.md, "approx_count and approx_sum").
 */
#ifndef HTS_CMS_H
#define HTS_CMS_H

#include <stdint.h>

#define CMS_D 4
#define CMS_LOGW 11
#define CMS_W (1u << CMS_LOGW)
#define CMS_CELLS (CMS_D * CMS_W)

/* The CMS_D counters of the key with hash h: cells[d] is in row d. */
void cms_cells(uint64_t h, uint32_t cells[CMS_D]);
/* The estimate from one aggregate's counters at those cells. */
int64_t cms_estimate(const int64_t *counters, const uint32_t cells[CMS_D]);

#endif
