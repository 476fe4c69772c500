/*
 * cms.c - Count-Min cells and estimates (cms.h).
 */
#include "cms.h"
#include "value.h"

/* One independent-looking hash per row: the key's hash re-mixed with the
 * row's number. Fixed seeds, so that every worker, site and htsc run put
 * a key in the same cells: their sketches add up. */
void cms_cells(uint64_t h, uint32_t cells[CMS_D])
{
    for (uint32_t d = 0; d < CMS_D; d++) {
        uint64_t x = hts_mix64(h ^ (0x9e3779b97f4a7c15ULL * (d + 1)));
        cells[d] = d * CMS_W + (uint32_t)(x >> (64 - CMS_LOGW));
    }
}

int64_t cms_estimate(const int64_t *counters, const uint32_t cells[CMS_D])
{
    int64_t e = counters[cells[0]];
    for (uint32_t d = 1; d < CMS_D; d++)
        if (counters[cells[d]] < e)
            e = counters[cells[d]];
    return e;
}
