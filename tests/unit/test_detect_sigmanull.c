/* Sigma null semantics (mw_sigma_ruleset_set_null_semantics): a condition
 * on a field the event lacks is false in SPEC mode and UNKNOWN in SQL mode,
 * with Kleene's not/and/or/"N of"; `field: null`, |exists and |re stay
 * two-valued; keywords too. Every expected result below is worked out by
 * hand from the truth tables (F, T, U = unknown; not U = U, U and F = F,
 * U and T = U, U or T = T, U or F = U); a rule fires only on T. Each case
 * runs in both modes, each with and without the prefilter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_internal.h" /* sg_disable_prefilter */
#include "mwrasp/sigma.h"

static int count(void *ctx, const mw_detection_t *d)
{
    (void)d;
    (*(int *)ctx)++;
    return 0;
}

/* Event from NULL-terminated key, value pairs. */
static mw_event_t *mkev(const char *k, ...)
{
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, "{}", 2);
    assert_non_null(ev);
    va_list ap;
    va_start(ap, k);
    for (; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        assert_int_equal(mw_event_add_field(ev, k, strlen(k), v, strlen(v)), 0);
    }
    va_end(ap);
    return ev;
}

/* Rules firing in one mode; the prefilter must not change it. */
static int fires_in(mw_sigma_ruleset_t *rs, const mw_event_t *ev, int mode)
{
    int a = 0, b = 0;
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(rs, mode), 0);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, count, &a), 0);
    sg_disable_prefilter = 1;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, count, &b), 0);
    sg_disable_prefilter = 0;
    assert_int_equal(a, b);
    int c = 0; /* without the Hyperscan databases */
    sg_disable_hs = 1;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, count, &c), 0);
    sg_disable_hs = 0;
    assert_int_equal(a, c);
    return a;
}

/* Checks the number of rules firing in SPEC and in SQL mode. Frees ev. */
#define EXPECT(rs, ev, spec, sql)                                                                  \
    do {                                                                                           \
        mw_event_t *ev_ = (ev);                                                                    \
        assert_int_equal(fires_in((rs), ev_, MW_SIGMA_NULLS_SPEC), (spec));                        \
        assert_int_equal(fires_in((rs), ev_, MW_SIGMA_NULLS_SQL), (sql));                          \
        mw_event_free(ev_);                                                                        \
    } while (0)

static mw_sigma_ruleset_t *rule(const char *detection)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "title: T\nid: t-1\ndetection:\n%s", detection);
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    if (mw_sigma_add_string(rs, buf, strlen(buf), "t.yml"))
        fail_msg("rule refused: %s", mw_sigma_last_error(rs));
    assert_int_equal(mw_sigma_count(rs), 1);
    return rs;
}

static void test_api(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(NULL, MW_SIGMA_NULLS_SQL), MW_EINVAL);
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(rs, 2), MW_EINVAL);
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(rs, -1), MW_EINVAL);
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(rs, MW_SIGMA_NULLS_SQL), 0);
    assert_int_equal(mw_sigma_ruleset_set_null_semantics(rs, MW_SIGMA_NULLS_SPEC), 0);
    mw_sigma_ruleset_free(rs);
}

/* selection and not filter: the reference's class-2 pairs. */
static void test_not_missing(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule("  sel:\n    a: '1'\n  filter:\n    b: '2'\n"
                                  "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 1, 0); /* T and not U = T and U = U */
    EXPECT(rs, mkev("a", "1", "b", "3", NULL), 1, 1); /* T and not F */
    EXPECT(rs, mkev("a", "1", "b", "2", NULL), 0, 0); /* T and not T */
    EXPECT(rs, mkev("b", "3", NULL), 0, 0); /* U and not F = U (spec: F) */
    mw_sigma_ruleset_free(rs);

    rs = rule("  filter:\n    b: '2'\n  condition: not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 1, 0); /* not U */
    EXPECT(rs, mkev("b", "3", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);

    rs = rule("  filter:\n    b: '2'\n  condition: not not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 0, 0); /* not not U = U */
    EXPECT(rs, mkev("b", "2", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);
}

static void test_and_or(void **st)
{
    (void)st;
    /* U or T = T, U or F = U */
    mw_sigma_ruleset_t *rs =
        rule("  sel:\n    a: '1'\n  filter:\n    b: '2'\n  condition: sel or filter\n");
    EXPECT(rs, mkev("b", "2", NULL), 1, 1);
    EXPECT(rs, mkev("b", "3", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);

    rs = rule("  sel:\n    a: '1'\n  filter:\n    b: '2'\n  condition: not (sel or filter)\n");
    EXPECT(rs, mkev("b", "3", NULL), 1, 0); /* not (U or F) = not U */
    EXPECT(rs, mkev("b", "2", NULL), 0, 0); /* not (U or T) = F */
    EXPECT(rs, mkev("a", "0", "b", "3", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);

    /* F dominates and: not (U and F) = T */
    rs = rule("  sel:\n    a: '1'\n  filter:\n    b: '2'\n  condition: not (sel and filter)\n");
    EXPECT(rs, mkev("b", "3", NULL), 1, 1);
    EXPECT(rs, mkev("b", "2", NULL), 1, 0); /* not (U and T) = U */
    EXPECT(rs, mkev("a", "1", "b", "2", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);

    /* inside a map (AND of fields) and a list of maps (OR) */
    rs = rule("  sel:\n    a: '1'\n  filter:\n    b: '2'\n    c: '3'\n"
              "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", "c", "4", NULL), 1, 1); /* not (U and F) */
    EXPECT(rs, mkev("a", "1", "c", "3", NULL), 1, 0); /* not (U and T) */
    mw_sigma_ruleset_free(rs);
    rs = rule("  sel:\n    a: '1'\n  filter:\n    - b: '2'\n    - c: '3'\n"
              "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", "c", "4", NULL), 1, 0); /* not (U or F) */
    EXPECT(rs, mkev("a", "1", "c", "3", NULL), 0, 0); /* not (U or T) */
    EXPECT(rs, mkev("a", "1", "b", "0", "c", "0", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);

    /* a value list is an OR over one field; |all an AND: both U when missing */
    rs = rule("  sel:\n    a: '1'\n  filter:\n    b|contains|all: [x, y]\n"
              "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 1, 0);
    EXPECT(rs, mkev("a", "1", "b", "x", NULL), 1, 1); /* x and not y: F */
    EXPECT(rs, mkev("a", "1", "b", "yx", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);
}

static void test_of(void **st)
{
    (void)st;
    const char *sels = "  sel1:\n    a: '1'\n  sel2:\n    b: '2'\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%s  condition: not 1 of sel*\n", sels);
    mw_sigma_ruleset_t *rs = rule(buf);
    EXPECT(rs, mkev("b", "3", NULL), 1, 0); /* not (U or F) */
    EXPECT(rs, mkev("b", "2", NULL), 0, 0); /* not (U or T) */
    mw_sigma_ruleset_free(rs);

    snprintf(buf, sizeof buf, "%s  condition: not all of sel*\n", sels);
    rs = rule(buf);
    EXPECT(rs, mkev("b", "3", NULL), 1, 1); /* not (U and F) */
    EXPECT(rs, mkev("b", "2", NULL), 1, 0); /* not (U and T) */
    EXPECT(rs, mkev("a", "1", "b", "2", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);

    snprintf(buf, sizeof buf, "%s  condition: 1 of sel*\n", sels);
    rs = rule(buf);
    EXPECT(rs, mkev("b", "2", NULL), 1, 1); /* U or T */
    mw_sigma_ruleset_free(rs);

    /* 2 of 3: T if 2 are T; F if fewer than 2 can be (T + U < 2); else U */
    rs = rule("  sel1:\n    a: '1'\n  sel2:\n    b: '2'\n  sel3:\n    c: '3'\n"
              "  condition: not 2 of sel*\n");
    EXPECT(rs, mkev("c", "3", NULL), 1, 0); /* T=1 U=2: U */
    EXPECT(rs, mkev("b", "0", "c", "3", NULL), 1, 0); /* T=1 U=1 F=1: U */
    EXPECT(rs, mkev("a", "0", "b", "0", "c", "3", NULL), 1, 1); /* T=1 F=2: F */
    EXPECT(rs, mkev("c", "0", NULL), 1, 0); /* T=0 U=2 F=1: U */
    EXPECT(rs, mkev("b", "0", "c", "0", NULL), 1, 1); /* T=0 U=1 F=2: F */
    EXPECT(rs, mkev("b", "2", "c", "3", NULL), 0, 0); /* T=2 */
    mw_sigma_ruleset_free(rs);
}

/* IS NULL, |exists and |re are two-valued in both modes. */
static void test_null_exists_re(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule("  sel:\n    a: '1'\n  filter:\n    b: null\n"
                                  "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 0, 0); /* b IS NULL: T */
    EXPECT(rs, mkev("a", "1", "b", "x", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);

    rs = rule("  sel:\n    b: null\n  condition: sel\n");
    EXPECT(rs, mkev("a", "1", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);

    /* (b IS NULL or b = 'x'): T when missing */
    rs = rule("  sel:\n    a: '1'\n  filter:\n    b: [null, x]\n"
              "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 0, 0);
    EXPECT(rs, mkev("a", "1", "b", "y", NULL), 1, 1);
    EXPECT(rs, mkev("a", "1", "b", "x", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);

    rs = rule("  sel:\n    a: '1'\n  filter:\n    b|exists: true\n"
              "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 1, 1); /* exists F: not F */
    EXPECT(rs, mkev("a", "1", "b", "", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);
    rs = rule("  sel:\n    a: '1'\n  filter:\n    b|exists: false\n"
              "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 0, 0);
    EXPECT(rs, mkev("a", "1", "b", "z", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);

    /* the reference's REGEXP function returns 0 on NULL: F, not U */
    rs = rule("  sel:\n    a: '1'\n  filter:\n    b|re: 'x+'\n"
              "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", NULL), 1, 1);
    EXPECT(rs, mkev("a", "1", "b", "axxb", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);
}

static void test_fieldref_keywords(void **st)
{
    (void)st;
    /* b = c: U when either is missing (SQL b = NULL) */
    mw_sigma_ruleset_t *rs = rule("  sel:\n    a: '1'\n  filter:\n    b|fieldref: c\n"
                                  "  condition: sel and not filter\n");
    EXPECT(rs, mkev("a", "1", "b", "v", NULL), 1, 0);
    EXPECT(rs, mkev("a", "1", "c", "v", NULL), 1, 0);
    EXPECT(rs, mkev("a", "1", "b", "v", "c", "V", NULL), 0, 0);
    EXPECT(rs, mkev("a", "1", "b", "v", "c", "w", NULL), 1, 1);
    mw_sigma_ruleset_free(rs);

    /* keywords stay two-valued */
    rs = rule("  sel:\n    a: '1'\n  kw:\n    - foo\n  condition: sel and not kw\n");
    EXPECT(rs, mkev("a", "1", "b", "bar", NULL), 1, 1);
    EXPECT(rs, mkev("a", "1", "b", "xfoo", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);
}

/* Several rules in one ruleset (the prefilter indexes them together). */
static void test_ruleset(void **st)
{
    (void)st;
    static const char *yaml =
        "title: A\nid: t-a\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n"
        "  filter:\n    ParentImage|endswith: '\\explorer.exe'\n"
        "  condition: sel and not filter\n"
        "---\n"
        "title: B\nid: t-b\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n"
        "  condition: sel\n"
        "---\n"
        "title: C\nid: t-c\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n"
        "  filter:\n    User|contains: 'SYSTEM'\n"
        "  condition: sel and not filter\n";
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    assert_int_equal(mw_sigma_add_string(rs, yaml, strlen(yaml), "t.yml"), 0);
    assert_int_equal(mw_sigma_count(rs), 3);
    EXPECT(rs, mkev("Image", "C:\\cmd.exe", NULL), 3, 1); /* A, C: U */
    EXPECT(rs, mkev("Image", "C:\\cmd.exe", "User", "x", NULL), 3, 2); /* A: U */
    EXPECT(rs, mkev("Image", "C:\\cmd.exe", "ParentImage", "y", "User", "nt system", NULL), 2, 2);
    EXPECT(rs, mkev("Image", "C:\\other.exe", NULL), 0, 0);
    mw_sigma_ruleset_free(rs);
}

int main(void)
{
    sg_hs_min_anchors = 1; /* every slot with a literal anchor gets a database */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_not_missing),
        cmocka_unit_test(test_and_or),
        cmocka_unit_test(test_of),
        cmocka_unit_test(test_null_exists_re),
        cmocka_unit_test(test_fieldref_keywords),
        cmocka_unit_test(test_ruleset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
