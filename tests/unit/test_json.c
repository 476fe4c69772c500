/*
 * test_json.c - the strict JSON reader and the writer behind plan files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static bool parses(const char *s)
{
    struct json_doc d = {0};
    char err[128];
    bool ok = json_parse(&d, s, strlen(s), err, sizeof err) != NULL;
    json_doc_free(&d);
    return ok;
}

static void test_accepts(void **state)
{
    (void)state;
    assert_true(parses("{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"]}"));
    assert_true(parses("  0 "));
    assert_true(parses("\"\""));
}

static void test_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"a\": 1,}", "[1,]", "{\"a\": 1, \"a\": 2}", "01", "1.", "-", "tru",
        "\"\\x\"", "\"\\ud800\"", "\"a\nb\"", "{a: 1}", "[1] 2", "", "// c\n1",
        "\"\xff\"", "\"\xc0\xaf\"", "NaN",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(parses(bad[i]));
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    struct json_doc d = {0};
    char err[128];
    assert_null(json_parse(&d, deep, 200, err, sizeof err));
    assert_non_null(strstr(err, "nested"));
    json_doc_free(&d);
}

static void test_position(void **state)
{
    (void)state;
    struct json_doc d = {0};
    char err[128];
    assert_null(json_parse(&d, "{\n  \"a\" 1}", 11, err, sizeof err));
    assert_string_equal(err, "2:7: JSON: expected ':'");
    json_doc_free(&d);
}

static void test_round_trip_hash(void **state)
{
    (void)state;
    const char *s = "{\"b\":[1,2,{\"c\":\"q\\\"\\n\"}],\"a\":-9223372036854775808,\"x\":1.5e10}";
    struct json_doc d = {0};
    char err[128];
    struct json *v = json_parse(&d, s, strlen(s), err, sizeof err);
    assert_non_null(v);
    assert_true(json_get(v, "a")->is_int);
    assert_true(json_get(v, "a")->i == INT64_MIN);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    json_write(v, f, 0);
    fclose(f);
    assert_string_equal(out, s); /* compact output is the canonical form */
    uint64_t h = json_hash(v);
    struct json_doc d2 = {0};
    struct json *v2 = json_parse(&d2, out, n, err, sizeof err);
    assert_true(json_hash(v2) == h);
    free(out);
    json_doc_free(&d);
    json_doc_free(&d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_position),
        cmocka_unit_test(test_round_trip_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
