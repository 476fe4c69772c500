/*
 * test_hll.c - HyperLogLog (exec/hll.c), the sketch of approx_distinct.
 *
 * The promises docs/language.md makes: small cardinalities counted nearly
 * exactly (linear counting), a relative error within 3 standard errors
 * (3 x 2.3%) up to ten million distinct values, duplicates change nothing,
 * and two sketches merged equal, byte for byte, the sketch of the union
 * (what lets workers and sites merge without adding error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hll.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint8_t a[HLL_M], b[HLL_M], u[HLL_M];

static void add_range(uint8_t *r, int64_t from, int64_t to)
{
    for (int64_t i = from; i < to; i++) {
        hts_value v = hts_int(i * 7919 + 13);
        hll_add(r, &v);
    }
}

static void test_accuracy(void **state)
{
    (void)state;
    const int64_t ns[] = {1, 2, 10, 100, 1000, 5000, 20000, 100000, 1000000, 10000000};
    double worst = 0;
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        memset(a, 0, sizeof a);
        add_range(a, 0, ns[k]);
        int64_t e = hll_estimate(a);
        double err = fabs((double)e - (double)ns[k]) / (double)ns[k];
        print_message("hll: %lld distinct -> %lld (%.2f%%)\n", (long long)ns[k], (long long)e,
                      100 * err);
        if (ns[k] <= 100)
            assert_true(llabs(e - ns[k]) <= 1); /* linear counting */
        assert_true(err <= 3 * 1.04 / sqrt(HLL_M));
        if (err > worst)
            worst = err;
    }
    print_message("hll: worst relative error %.2f%% (standard error %.2f%%)\n", 100 * worst,
                  100 * 1.04 / sqrt(HLL_M));
}

static void test_duplicates_and_empty(void **state)
{
    (void)state;
    memset(a, 0, sizeof a);
    assert_int_equal(hll_estimate(a), 0);
    add_range(a, 0, 500);
    memcpy(b, a, sizeof a);
    add_range(a, 0, 500); /* the same values again */
    assert_memory_equal(a, b, HLL_M);
}

static void test_merge_is_union(void **state)
{
    (void)state;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(u, 0, sizeof u);
    add_range(a, 0, 60000);      /* two sites, overlapping */
    add_range(b, 40000, 100000);
    add_range(u, 0, 100000);
    hll_merge(a, b);
    assert_memory_equal(a, u, HLL_M);
    assert_int_equal(hll_estimate(a), hll_estimate(u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_duplicates_and_empty),
        cmocka_unit_test(test_merge_is_union),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
