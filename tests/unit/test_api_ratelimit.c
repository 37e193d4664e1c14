/* Token buckets (src/api/ratelimit.c): spec parsing, exact refill in
 * integer micro-tokens, Retry-After, independence of ids and kinds, the
 * capped table (LRU eviction), and SipHash-2-4 against the reference
 * vector of the SipHash paper (Aumasson and Bernstein 2012, appendix A). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static void test_parse(void **state)
{
    struct mw_rate_spec s = {7, 7};
    (void)state;
    assert_int_equal(mw_rate_parse("10000/min burst 20000", &s), 0);
    assert_int_equal(s.per_min, 10000);
    assert_int_equal(s.burst, 20000);
    assert_int_equal(mw_rate_parse("600/min", &s), 0);
    assert_int_equal(s.per_min, 600);
    assert_int_equal(s.burst, 600);
    assert_int_equal(mw_rate_parse("5/s burst 1", &s), 0);
    assert_int_equal(s.per_min, 300);
    assert_int_equal(s.burst, 1);
    assert_int_equal(mw_rate_parse("off", &s), 0);
    assert_int_equal(s.per_min, 0);
    assert_int_equal(mw_rate_parse("100000000/min burst 100000000", &s), 0);
    s.per_min = 9;
    const char *bad[] = {"",
                         "0/min",
                         "10",
                         "10/hour",
                         "-1/min",
                         "10/min burst",
                         "10/min burst 0",
                         "10/min burst x",
                         "10/minburst 5",
                         "100000001/min",
                         "1/min burst 100000001",
                         "10/min 5",
                         "1666667/s",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        if (mw_rate_parse(bad[i], &s) != MW_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(s.per_min, 9); /* untouched */
    }
}

/* 600/min burst 50 (10 per second): the burst at once, then exactly one
 * token every 100 ms. */
static void test_burst_then_rate(void **state)
{
    mw_ratelimit_t *rl = NULL;
    struct mw_rate_spec s = {600, 50};
    uint64_t t0 = 1000 * SEC;
    uint32_t ra = 0;
    (void)state;
    assert_int_equal(mw_ratelimit_new(1000, &rl), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "k1", &s, t0, &ra), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "k1", &s, t0, &ra), 0);
    assert_int_equal(ra, 1); /* 100 ms rounded up */
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "k1", &s, t0 + 99999999, &ra), 0);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "k1", &s, t0 + 100 * MS, &ra), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "k1", &s, t0 + 100 * MS, &ra), 0);
    /* another id and the other kind are independent */
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "k2", &s, t0, &ra), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "k1", &s, t0, &ra), 1);
    /* a clock that goes back takes nothing away and adds nothing */
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "k1", &s, t0, &ra), 0);

    struct mw_ratelimit_stats st;
    mw_ratelimit_stats(rl, &st);
    assert_int_equal(st.tracked, 3);
    assert_int_equal(st.limited[MW_RATE_KEY], 4);
    assert_int_equal(st.allowed[MW_RATE_KEY], 52);
    assert_int_equal(st.allowed[MW_RATE_ADDRESS], 1);
    mw_ratelimit_free(rl);
}

/* A client asking every 1 ms for 60 s gets burst + per_min requests, to the
 * unit, whatever the rate: no rounding is lost between looks. 7/min does not
 * divide 60e9 ns evenly. (With burst 1 the count would be lower, rightly: a
 * full bucket of one token overflows between two looks.) */
static void test_exact_over_a_minute(void **state)
{
    static const struct mw_rate_spec specs[] = {{600, 50}, {7, 2}, {10000, 20000}, {59999, 3}};
    (void)state;
    for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
        mw_ratelimit_t *rl = NULL;
        uint64_t t0 = 5 * SEC, n = 0;
        assert_int_equal(mw_ratelimit_new(64, &rl), 0);
        for (uint64_t t = 0; t <= 60 * SEC; t += MS)
            while (mw_ratelimit_take(rl, MW_RATE_KEY, "x", &specs[k], t0 + t, NULL))
                n++;
        if (n != (uint64_t)specs[k].burst + specs[k].per_min)
            fail_msg("%u/min burst %u: %llu requests in 60 s", specs[k].per_min, specs[k].burst,
                     (unsigned long long)n);
        mw_ratelimit_free(rl);
    }
}

/* Retry-After is the time to the next whole token, rounded up to seconds:
 * 6/min burst 1 -> 10 s right after the token is spent, 1 s when 9.5 s have
 * passed. */
static void test_retry_after(void **state)
{
    mw_ratelimit_t *rl = NULL;
    struct mw_rate_spec s = {6, 1}, slow = {1, 1};
    uint32_t ra = 0;
    (void)state;
    assert_int_equal(mw_ratelimit_new(64, &rl), 0);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "a", &s, SEC, &ra), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "a", &s, SEC, &ra), 0);
    assert_int_equal(ra, 10);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "a", &s, SEC + 1, &ra), 0);
    assert_int_equal(ra, 10); /* 9.999999999 s rounded up */
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "a", &s, SEC + 9500 * MS, &ra), 0);
    assert_int_equal(ra, 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "a", &s, 11 * SEC, &ra), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "b", &slow, SEC, &ra), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "b", &slow, SEC, &ra), 0);
    assert_int_equal(ra, 60);
    mw_ratelimit_free(rl);
}

/* The table never holds more than its cap: the least recently used bucket
 * goes, and comes back full. */
static void test_capped_table(void **state)
{
    mw_ratelimit_t *rl = NULL;
    struct mw_rate_spec s = {60, 2};
    struct mw_ratelimit_stats st;
    char id[32];
    (void)state;
    assert_int_equal(mw_ratelimit_new(32, &rl), 0); /* 2 per shard */
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof(id), "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, id, &s, SEC, NULL), 1);
        mw_ratelimit_stats(rl, &st);
        assert_true(st.tracked <= 32);
    }
    mw_ratelimit_stats(rl, &st);
    assert_true(st.evicted >= 5000 - 32);
    assert_int_equal(st.evicted + st.tracked, 5000);
    /* a new id starts full (burst 2) */
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "victim", &s, SEC, NULL), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "victim", &s, SEC, NULL), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_ADDRESS, "victim", &s, SEC, NULL), 0);
    /* long ids are shortened, still told apart */
    char longa[400], longb[400];
    memset(longa, 'a', sizeof(longa) - 1);
    longa[sizeof(longa) - 1] = '\0';
    memcpy(longb, longa, sizeof(longa));
    longb[300] = 'b';
    struct mw_rate_spec one = {1, 1};
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, longa, &one, SEC, NULL), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, longb, &one, SEC, NULL), 1);
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, longa, &one, SEC, NULL), 0);
    /* unlimited and NULL table: always yes */
    struct mw_rate_spec off = {0, 0};
    assert_int_equal(mw_ratelimit_take(rl, MW_RATE_KEY, "z", &off, SEC, NULL), 1);
    assert_int_equal(mw_ratelimit_take(NULL, MW_RATE_KEY, "z", &s, SEC, NULL), 1);
    mw_ratelimit_free(rl);
    mw_ratelimit_free(NULL);
}

/* SipHash paper, appendix A: key 00..0f, message 00..0e (15 bytes),
 * SipHash-2-4 = 0xa129ca6149be45e5. */
static void test_siphash_vector(void **state)
{
    unsigned char m[15];
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    (void)state;
    for (int i = 0; i < 15; i++)
        m[i] = (unsigned char)i;
    assert_true(mw_siphash24(k0, k1, m, sizeof(m)) == 0xa129ca6149be45e5ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_exact_over_a_minute),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_capped_table),
        cmocka_unit_test(test_siphash_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
