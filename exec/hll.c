/*
 * hll.c - HyperLogLog registers: add, merge, estimate (hll.h).
 */
#include "hll.h"

#include <math.h>

void hll_add(uint8_t *regs, const hts_value *x)
{
    uint64_t h = hts_mix64(hts_value_hash(x, 0x48594c4cULL));
    uint32_t idx = (uint32_t)(h >> (64 - HLL_P));
    uint64_t rest = h << HLL_P; /* the other 53 bits, at the top */
    uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - HLL_P + 1);
    if (rank > regs[idx])
        regs[idx] = rank;
}

void hll_merge(uint8_t *regs, const uint8_t *other)
{
    for (uint32_t i = 0; i < HLL_M; i++)
        if (other[i] > regs[i])
            regs[i] = other[i];
}

int64_t hll_estimate(const uint8_t *regs)
{
    double sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < HLL_M; i++) {
        sum += ldexp(1.0, -(int)regs[i]);
        zeros += regs[i] == 0;
    }
    const double m = HLL_M;
    double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros) /* small range: linear counting */
        e = m * log(m / zeros);
    return (int64_t)llround(e);
}
