/* The read cache of GET /api/v1/threats (src/api/readcache.c): keys cover
 * every parameter, an answer read under an old generation is never kept or
 * served, the entry, answer-size and byte caps hold, and a body handed out
 * stays valid after its entry is evicted (ASan checks the reference count). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"

static struct mw_threat_query base(void)
{
    struct mw_threat_query q;
    memset(&q, 0, sizeof q);
    q.status = -1;
    q.limit = 50;
    return q;
}

static void key_of(const struct mw_threat_query *q, char *k)
{
    assert_int_equal(mw_api_readcache_key(q, k, MW_READCACHE_KEY_MAX), 0);
}

static void test_keys_differ(void **state)
{
    (void)state;
    char k[8][MW_READCACHE_KEY_MAX];
    struct mw_threat_query q[8];
    for (int i = 0; i < 8; i++)
        q[i] = base();
    q[1].severity = 2;
    q[2].max_severity = 2;
    q[3].status = 0;
    q[4].since_ns = 1;
    q[5].host = ""; /* host "" is not "any host" */
    q[6].cursor = 7;
    q[7].limit = 51;
    for (int i = 0; i < 8; i++)
        key_of(&q[i], k[i]);
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++)
            assert_string_not_equal(k[i], k[j]);
    assert_string_equal(k[0], "s=0;m=0;st=-1;t=0;c=0;l=50;h=0");
    /* the longest host fits */
    char host[MW_EVENT_HOST_MAX + 1];
    memset(host, 'h', MW_EVENT_HOST_MAX);
    host[MW_EVENT_HOST_MAX] = '\0';
    q[0].host = host;
    q[0].since_ns = INT64_MIN;
    q[0].cursor = UINT64_MAX;
    q[0].severity = q[0].max_severity = q[0].status = -2147483647 - 1;
    q[0].limit = UINT32_MAX;
    key_of(&q[0], k[0]);
    char small[16];
    assert_int_equal(mw_api_readcache_key(&q[0], small, sizeof small), MW_ETOOBIG);
}

static void test_hit_and_generation(void **state)
{
    (void)state;
    mw_api_readcache_t *c;
    struct mw_readcache_stats st;
    size_t len;
    assert_int_equal(mw_api_readcache_new(&c), 0);
    assert_null(mw_api_readcache_get(c, "a"));

    uint64_t g = mw_api_readcache_generation(c);
    mw_api_readcache_put(c, "a", g, "{\"x\":1}", 7);
    struct mw_readcache_body *b = mw_api_readcache_get(c, "a");
    assert_non_null(b);
    assert_memory_equal(mw_api_readcache_body_text(b, &len), "{\"x\":1}", 7);
    assert_int_equal(len, 7);
    mw_api_readcache_body_put(b);
    assert_null(mw_api_readcache_get(c, "b"));

    /* a change: the entry is no longer served */
    mw_api_readcache_invalidate(c);
    assert_null(mw_api_readcache_get(c, "a"));
    /* an answer read under the old generation is not kept */
    mw_api_readcache_put(c, "a", g, "{\"x\":1}", 7);
    assert_null(mw_api_readcache_get(c, "a"));
    /* one read under the new one is */
    g = mw_api_readcache_generation(c);
    mw_api_readcache_put(c, "a", g, "{\"x\":2}", 7);
    b = mw_api_readcache_get(c, "a");
    assert_non_null(b);
    assert_memory_equal(mw_api_readcache_body_text(b, &len), "{\"x\":2}", 7);
    mw_api_readcache_body_put(b);

    mw_api_readcache_stats(c, &st);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 4);
    assert_int_equal(st.entries, 1); /* the stale entry was dropped by the put */
    assert_int_equal(st.bytes, 7);
    mw_api_readcache_free(c);
    mw_api_readcache_free(NULL);
    mw_api_readcache_invalidate(NULL);
    assert_null(mw_api_readcache_get(NULL, "a"));
}

static void test_entry_cap_lru(void **state)
{
    (void)state;
    mw_api_readcache_t *c;
    struct mw_readcache_stats st;
    char k[32];
    assert_int_equal(mw_api_readcache_new(&c), 0);
    uint64_t g = mw_api_readcache_generation(c);
    for (int i = 0; i < MW_READCACHE_ENTRIES; i++) {
        snprintf(k, sizeof k, "k%d", i);
        mw_api_readcache_put(c, k, g, k, strlen(k));
    }
    /* k0 is used: k1 becomes the least recently used */
    struct mw_readcache_body *held = mw_api_readcache_get(c, "k0");
    assert_non_null(held);
    mw_api_readcache_put(c, "new", g, "new", 3);
    mw_api_readcache_stats(c, &st);
    assert_int_equal(st.entries, MW_READCACHE_ENTRIES);
    assert_int_equal(st.evictions, 1);
    assert_null(mw_api_readcache_get(c, "k1"));
    struct mw_readcache_body *b = mw_api_readcache_get(c, "new");
    assert_non_null(b);
    mw_api_readcache_body_put(b);
    /* the same key again replaces, it does not add */
    mw_api_readcache_put(c, "new", g, "newer", 5);
    mw_api_readcache_stats(c, &st);
    assert_int_equal(st.entries, MW_READCACHE_ENTRIES);
    /* 200 more keys: never more than the cap */
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "m%d", i);
        mw_api_readcache_put(c, k, g, k, strlen(k));
        mw_api_readcache_stats(c, &st);
        assert_true(st.entries <= MW_READCACHE_ENTRIES);
    }
    /* k0 was evicted meanwhile, but the body handed out is still ours */
    size_t len;
    assert_null(mw_api_readcache_get(c, "k0"));
    assert_memory_equal(mw_api_readcache_body_text(held, &len), "k0", 2);
    mw_api_readcache_body_put(held);
    mw_api_readcache_free(c);
}

static void test_byte_caps(void **state)
{
    (void)state;
    mw_api_readcache_t *c;
    struct mw_readcache_stats st;
    size_t big = MW_READCACHE_ANSWER_MAX;
    char *text = malloc(big + 1);
    char k[32];
    assert_non_null(text);
    memset(text, 'x', big + 1);
    assert_int_equal(mw_api_readcache_new(&c), 0);
    uint64_t g = mw_api_readcache_generation(c);
    mw_api_readcache_put(c, "over", g, text, big + 1); /* one byte over: not kept */
    assert_null(mw_api_readcache_get(c, "over"));
    mw_api_readcache_stats(c, &st);
    assert_int_equal(st.too_big, 1);
    /* 1 MiB answers: at most BYTES_MAX / ANSWER_MAX of them */
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof k, "b%d", i);
        mw_api_readcache_put(c, k, g, text, big);
        mw_api_readcache_stats(c, &st);
        assert_true(st.bytes <= MW_READCACHE_BYTES_MAX);
    }
    assert_int_equal(st.entries, MW_READCACHE_BYTES_MAX / MW_READCACHE_ANSWER_MAX);
    assert_int_equal(st.bytes, MW_READCACHE_BYTES_MAX);
    struct mw_readcache_body *b = mw_api_readcache_get(c, "b39");
    assert_non_null(b);
    mw_api_readcache_body_put(b);
    assert_null(mw_api_readcache_get(c, "b0"));
    char *m = mw_api_readcache_metrics(c);
    assert_non_null(m);
    assert_non_null(strstr(m, "\nmwrasp_api_readcache_entries 16\n"));
    free(m);
    mw_api_readcache_free(c);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_differ),
        cmocka_unit_test(test_hit_and_generation),
        cmocka_unit_test(test_entry_cap_lru),
        cmocka_unit_test(test_byte_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
