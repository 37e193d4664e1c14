/* Shared helpers of the Sigma unit tests: events from key/value pairs, and
 * matching in every way the matcher can run. Header-only; include once per
 * test program, after cmocka.h. */
#ifndef MW_TEST_SIGMA_TESTLIB_H
#define MW_TEST_SIGMA_TESTLIB_H

#include <stdarg.h>
#include <string.h>

#include "detect/sigma_internal.h" /* sg_disable_prefilter, sg_disable_hs */
#include "mwrasp/sigma.h"

struct hits {
    int n;
    mw_detection_t d[16];
};

static int collect(void *ctx, const mw_detection_t *d)
{
    struct hits *h = ctx;
    if (h->n < 16)
        h->d[h->n] = *d;
    h->n++;
    return 0;
}

/* An event with raw text raw and the NULL-terminated key, value pairs. */
static mw_event_t *mkev(const char *raw, ...)
{
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, raw, strlen(raw));
    assert_non_null(ev);
    va_list ap;
    va_start(ap, raw);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        assert_int_equal(mw_event_add_field(ev, k, strlen(k), v, strlen(v)), 0);
    }
    va_end(ap);
    return ev;
}

static void same_hits(const struct hits *a, const struct hits *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n && i < 16; i++)
        assert_string_equal(a->d[i].rule_id, b->d[i].rule_id);
}

/* Matches ev with the prefilter, then checks that every other way of running
 * the matcher agrees: every rule evaluated (prefilter off), no Hyperscan
 * databases, and SQL null semantics (the same with and without the
 * prefilter, and a subsequence of the spec matches: Kleene logic is
 * monotone). h gets the spec-mode matches; returns mw_sigma_match's rc. */
static int match_all(const mw_sigma_ruleset_t *rs, const mw_event_t *ev, struct hits *h)
{
    struct hits all = {0}, nohs = {0}, q = {0}, qall = {0};
    int rc = mw_sigma_match(rs, NULL, ev, collect, h);
    /* a scratch that lives across events and rulesets: its scan memo
     * answers the second match (and, hash forced to collide, a third) */
    static mw_sigma_scratch_t *kept;
    if (!kept)
        assert_int_equal(mw_sigma_scratch_new(rs, &kept), 0);
    for (int k = 0; k < 3; k++) {
        struct hits m = {0};
        sg_memo_hash_mask = k == 2 ? 0 : ~0ull;
        assert_int_equal(mw_sigma_match(rs, kept, ev, collect, &m), rc);
        same_hits(h, &m);
    }
    sg_memo_hash_mask = ~0ull;
    sg_disable_prefilter = 1;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &all), rc);
    sg_disable_prefilter = 0;
    same_hits(h, &all);
    sg_disable_hs = 1;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &nohs), rc);
    sg_disable_hs = 0;
    same_hits(h, &nohs);
    mw_sigma_ruleset_t *w = (mw_sigma_ruleset_t *)rs; /* the test owns rs */
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(w, MW_SIGMA_NULLS_SQL), 0);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &q), rc);
    sg_disable_prefilter = 1;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &qall), rc);
    sg_disable_prefilter = 0;
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(w, MW_SIGMA_NULLS_SPEC), 0);
    same_hits(&q, &qall);
    assert_true(q.n <= h->n);
    for (int i = 0, j = 0; i < q.n && i < 16; i++, j++) {
        while (j < h->n && j < 16 && strcmp(h->d[j].rule_id, q.d[i].rule_id))
            j++;
        if (h->n <= 16)
            assert_true(j < h->n); /* in load order, a subsequence of the spec matches */
    }
    return rc;
}

#endif
