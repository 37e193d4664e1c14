/* src/api/jsonfast.c writes GET /api/v1/threats answers without jansson:
 * its bytes must equal json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(10))
 * of the jansson tree built from mw_api_threat_json (json.c), on random
 * threats: strings with quotes, backslashes, control bytes, UTF-8 and
 * invalid bytes, empty and full fixed fields, tags with empty items,
 * severities and statuses out of range, reals of every shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill(char *dst, size_t cap)
{
    static const char *const pieces[] = {"a",
                                         "web1",
                                         "\"",
                                         "\\",
                                         "\n",
                                         "\t",
                                         "\x01",
                                         "\x1f",
                                         "\x7f",
                                         "/",
                                         ",",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "\xff",
                                         "\xc3",
                                         "\xed\xa0\x80",
                                         " ",
                                         "T1059.001",
                                         "attack.execution"};
    size_t len = 0, want = rnd() % 4 == 0 ? cap : rnd() % (cap / 2 + 1);
    while (len < want) {
        const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
        size_t n = strlen(p);
        if (len + n > cap)
            break;
        memcpy(dst + len, p, n);
        len += n;
    }
    if (len < cap)
        memset(dst + len, 0, cap - len); /* else: full, no NUL (strnlen) */
}

static char *reference(const mw_threat_t *list, size_t n, uint64_t next)
{
    json_t *o = json_object(), *arr = json_array();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(json_array_append_new(arr, mw_api_threat_json(&list[i])), 0);
    json_object_set_new(o, "threats", arr);
    if (next) {
        char cur[24];
        snprintf(cur, sizeof(cur), "%llu", (unsigned long long)next);
        json_object_set_new(o, "next_cursor", json_string(cur));
    } else {
        json_object_set_new(o, "next_cursor", json_null());
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    return s;
}

static void test_same_bytes(void **state)
{
    static const double reals[] = {0,           1,      0.5,   0.9,          0.123456789012,
                                   1e-7,        1e20,   -0.25, 0.3333333333, 1e-300,
                                   123456789.0, 2.5e-5, 1e10,  1e100};
    (void)state;
    for (int round = 0; round < 400; round++) {
        size_t n = rnd() % 6;
        mw_threat_t *list = calloc(n ? n : 1, sizeof(*list));
        assert_non_null(list);
        for (size_t i = 0; i < n; i++) {
            mw_threat_t *t = &list[i];
            t->id = rnd() % 3 == 0 ? UINT64_MAX - rnd() % 10 : rnd() % 100000;
            fill(t->rule_id, sizeof(t->rule_id));
            fill(t->detector, sizeof(t->detector));
            fill(t->title, sizeof(t->title));
            fill(t->type, sizeof(t->type));
            fill(t->threat_class, sizeof(t->threat_class));
            fill(t->tags, sizeof(t->tags));
            fill(t->host, sizeof(t->host));
            t->severity = (int)(rnd() % 8) - 1;
            t->confidence = reals[rnd() % (sizeof(reals) / sizeof(reals[0]))];
            /* 1970..2096 with ms, then the edges of int64 ns (1677..2262),
             * before 1970, a leap day */
            t->first_seen_ns =
                (int64_t)(rnd() % 4000000000ULL) * 1000000000LL + (int64_t)(rnd() % 1000000000ULL);
            t->last_seen_ns = t->first_seen_ns + (int64_t)(rnd() % 1000000000000ULL);
            if (rnd() % 5 == 0) {
                static const int64_t edges[] = {0,
                                                -1,
                                                -1000000,
                                                -86400LL * 1000000000LL - 1,
                                                -5000000000LL * 1000000000LL,
                                                INT64_MIN,
                                                INT64_MAX,
                                                951782400LL * 1000000000LL, /* 2000-02-29 */
                                                4102444800LL * 1000000000LL};
                t->last_seen_ns = edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
            }
            t->count = rnd() % 3 == 0 ? rnd() >> 1 : rnd() % 100;
            t->status = (enum mw_threat_status)(rnd() % (MW_THREAT__COUNT + 2));
        }
        uint64_t next = rnd() % 2 ? rnd() % 1000000 : 0;
        char *want = reference(list, n, next);
        size_t len = 0;
        char *got = mw_api_threat_list_text(list, n, next, &len);
        assert_non_null(want);
        assert_non_null(got);
        if (strcmp(want, got) != 0)
            fail_msg("round %d differs:\nwant %s\ngot  %s", round, want, got);
        assert_int_equal(len, strlen(want));
        free(want);
        free(got);
        free(list);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_same_bytes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
