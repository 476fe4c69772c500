/*
 * fuzz_plan.c - libFuzzer target: any bytes as a plan file.
 *
 * plan_load_text() reads files htsd trusts no more than its network: any
 * input must end in a plan or a one-line reason, never a crash, a hang or a
 * sanitizer report. Seeds are real plans (tests/fuzz/run.sh compiles them).
 * When the first byte is odd, the target first rewrites the file's
 * fingerprint to match its content, so mutations get past that check and
 * reach the source rebuild, the node checks and the layout derivation. A
 * loaded plan is written back out, which must work.
 */
#include "json.h"
#include "plan.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (size == 0)
        return 0;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    size_t len = size - 1;
    if (data[0] & 1) {
        struct json_doc d = {0};
        char jerr[128];
        struct json *root = json_parse(&d, text, len, jerr, sizeof jerr);
        const struct json *fp = json_get(root, "fingerprint");
        const struct json *content = json_get(root, "plan");
        if (fp && content && fp->type == JSON_STR && fp->len == 18) {
            char want[19];
            snprintf(want, sizeof want, "0x%016" PRIx64, json_hash(content));
            char *at = memmem(text, len, fp->s, 18);
            if (at)
                memcpy(at, want, 18);
        }
        json_doc_free(&d);
    }
    char err[512];
    struct plan *p = plan_load_text(text, len, "fuzz.plan.json", err, sizeof err);
    if (p) {
        if (devnull && plan_write(p, devnull) != 0)
            abort();
        plan_free(p);
    }
    free(text);
    return 0;
}
