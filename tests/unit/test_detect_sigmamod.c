/* Sigma value modifiers (Sigma modifiers appendix): re with i/m/s and its
 * match limit, base64, base64offset, utf16le/utf16be/utf16/wide, windash,
 * cidr, exists, fieldref, lt/lte/gt/gte, cased, keyword maps ('|all'),
 * deprecated rules, and the refusals. Every match runs with and without the
 * prefilter. Expected encodings are worked out by hand (base64 of UTF-16
 * bytes) or taken from the SigmaHQ SQL conversion (base64offset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "detect/sigma_internal.h" /* sg_disable_prefilter */
#include "mwrasp/log.h"
#include "mwrasp/sigma.h"

#include "unit/sigma_testlib.h"

/* Number of rules firing, checked in every matcher mode (sigma_testlib.h).
 * Frees ev. */
static int fires(mw_sigma_ruleset_t *rs, mw_event_t *ev)
{
    struct hits h = {0};
    assert_int_equal(match_all(rs, ev, &h), 0);
    mw_event_free(ev);
    return h.n;
}

static mw_sigma_ruleset_t *rule(const char *detection)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "title: T\nid: t-1\ndetection:\n%s", detection);
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    if (mw_sigma_add_string(rs, buf, strlen(buf), "t.yml"))
        fail_msg("rule refused: %s", mw_sigma_last_error(rs));
    assert_int_equal(mw_sigma_count(rs), 1);
    return rs;
}

#define SEL(body) "  sel:\n    " body "\n  condition: sel\n"

static void test_re(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("c|re: '^cmd\\.exe /c [a-z]+$'"));
    assert_int_equal(fires(rs, mkev("", "c", "cmd.exe /c whoami", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "CMD.EXE /c whoami", NULL)), 0); /* case-sensitive */
    assert_int_equal(fires(rs, mkev("", "c", "cmd.exe /c who ami", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "d", "cmd.exe /c whoami", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    rs = rule(SEL("c|re|i: 'cmd\\.exe'")); /* unanchored search */
    assert_int_equal(fires(rs, mkev("", "c", "C:\\x\\CMD.EXE /c", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "cmdxexe", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    rs = rule(SEL("c|re|m: '^b$'"));
    assert_int_equal(fires(rs, mkev("", "c", "a\nb\nc", NULL)), 1);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("c|re: '^b$'"));
    assert_int_equal(fires(rs, mkev("", "c", "a\nb\nc", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    rs = rule(SEL("c|re|s: 'a.c'"));
    assert_int_equal(fires(rs, mkev("", "c", "a\nc", NULL)), 1);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("c|re: 'a.c'"));
    assert_int_equal(fires(rs, mkev("", "c", "a\nc", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "c", "abc", NULL)), 1);
    mw_sigma_ruleset_free(rs);
}

static void test_re_limit(void **st)
{
    (void)st;
    /* catastrophic backtracking: stopped by the match limit = no match */
    mw_sigma_ruleset_t *rs = rule(SEL("c|re: '^(a|aa)+$'"));
    char v[64];
    memset(v, 'a', 60);
    v[60] = 'b';
    v[61] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(fires(rs, mkev("", "c", v, NULL)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s < 2.0); /* unbounded, this takes hours (2^60 paths) */
    v[60] = '\0';
    assert_int_equal(fires(rs, mkev("", "c", "aaaa", NULL)), 1);
    mw_sigma_ruleset_free(rs);
}

static void test_base64(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("c|base64: abc")); /* "YWJj" */
    assert_int_equal(fires(rs, mkev("", "c", "YWJj", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "xYWJj", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("c|base64|contains: ab")); /* "YWI=" */
    assert_int_equal(fires(rs, mkev("", "c", "x YWI= y", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "x YWJj y", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    /* the three offsets of 'Add-MpPreference ', as the SigmaHQ SQL has them */
    rs = rule(SEL("c|base64offset|contains: 'Add-MpPreference '"));
    assert_int_equal(fires(rs, mkev("", "c", "-e xQWRkLU1wUHJlZmVyZW5jZSx", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "-e FkZC1NcFByZWZlcmVuY2Ug", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "-e BZGQtTXBQcmVmZXJlbmNlI=", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "-e QWRkLU1wUHJl", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "c", "Add-MpPreference ", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_utf16(void **st)
{
    (void)st;
    /* cmd -> 63 00 6d 00 64 00 -> "YwBtAGQA" */
    const char *le[] = {"c|wide|base64: cmd", "c|utf16le|base64: cmd"};
    for (int i = 0; i < 2; i++) {
        char b[128];
        snprintf(b, sizeof b, "  sel:\n    %s\n  condition: sel\n", le[i]);
        mw_sigma_ruleset_t *rs = rule(b);
        assert_int_equal(fires(rs, mkev("", "c", "YwBtAGQA", NULL)), 1);
        assert_int_equal(fires(rs, mkev("", "c", "Y21k", NULL)), 0); /* base64 of plain cmd */
        mw_sigma_ruleset_free(rs);
    }
    /* 00 63 00 6d 00 64 -> "AGMAbQBk" */
    mw_sigma_ruleset_t *rs = rule(SEL("c|utf16be|base64|contains: cmd"));
    assert_int_equal(fires(rs, mkev("", "c", "..AGMAbQBk..", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "YwBtAGQA", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    /* ff fe 63 00 6d 00 64 00 -> "//5jAG0AZAA=" */
    rs = rule(SEL("c|utf16|base64: cmd"));
    assert_int_equal(fires(rs, mkev("", "c", "//5jAG0AZAA=", NULL)), 1);
    mw_sigma_ruleset_free(rs);
    /* without base64: the UTF-16 bytes themselves; 'é' = U+00E9 -> e9 00 */
    rs = rule(SEL("c|utf16be|base64: \"\\u00e9\"")); /* 00 e9 -> "AOk=" */
    assert_int_equal(fires(rs, mkev("", "c", "AOk=", NULL)), 1);
    mw_sigma_ruleset_free(rs);
}

static void test_windash(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("c|contains|windash: ' -enc '"));
    assert_int_equal(fires(rs, mkev("", "c", "ps -enc AAA", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "ps /ENC AAA", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c",
                                    "ps \xe2\x80\x93"
                                    "enc AAA",
                                    NULL)),
                     1); /* en dash */
    assert_int_equal(fires(rs, mkev("", "c",
                                    "ps \xe2\x80\x94"
                                    "enc AAA",
                                    NULL)),
                     1); /* em dash */
    assert_int_equal(fires(rs, mkev("", "c",
                                    "ps \xe2\x80\x95"
                                    "enc AAA",
                                    NULL)),
                     1); /* bar */
    assert_int_equal(fires(rs, mkev("", "c", "ps +enc AAA", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "c", "ps enc AAA", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    /* every combination for two dashes; a dash inside a word is kept (\B[-/]\b) */
    rs = rule(SEL("c|contains|windash: '-a x-y /b'"));
    assert_int_equal(fires(rs, mkev("", "c", "/a x-y -b", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c",
                                    "\xe2\x80\x94"
                                    "a x-y \xe2\x80\x93"
                                    "b",
                                    NULL)),
                     1);
    assert_int_equal(fires(rs, mkev("", "c", "-a x/y /b", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    /* with |all: each rule value (with its variants) must match */
    rs = rule(SEL("c|contains|all|windash: ['-a', '-b']"));
    assert_int_equal(fires(rs, mkev("", "c", "x /a -b", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "x /a /a", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_cidr(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("ip|cidr: ['10.0.0.0/8', '192.168.1.0/25', 'fe80::/10']"));
    assert_int_equal(fires(rs, mkev("", "ip", "10.200.3.4", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "ip", "11.0.0.1", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "ip", "192.168.1.127", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "ip", "192.168.1.128", NULL)), 0); /* not octet-aligned */
    assert_int_equal(fires(rs, mkev("", "ip", "fe80::1", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "ip", "FEBF::1", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "ip", "fec0::1", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "ip", "not an ip", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "ip", "10.0.0.1 ", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "ip", "", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("ip|cidr: 0.0.0.0/0"));
    assert_int_equal(fires(rs, mkev("", "ip", "1.2.3.4", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "ip", "::1", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_exists(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("f|exists: true"));
    assert_int_equal(fires(rs, mkev("", "f", "", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "x", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "g", "x", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule("  sel:\n    e: 1\n    f|exists: false\n  condition: sel\n");
    assert_int_equal(fires(rs, mkev("", "e", "1", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "e", "1", "f", "", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_fieldref(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("a|fieldref: b"));
    assert_int_equal(fires(rs, mkev("", "a", "X", "b", "x", NULL)), 1); /* case-insensitive */
    assert_int_equal(fires(rs, mkev("", "a", "x", "b", "xy", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "a", "x", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "b", "x", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("a|fieldref|endswith: b"));
    assert_int_equal(fires(rs, mkev("", "a", "C:\\x\\Bar.exe", "b", "bar.EXE", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "a", "C:\\x\\Bar.exe2", "b", "bar.exe", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("a|fieldref|contains|cased: b"));
    assert_int_equal(fires(rs, mkev("", "a", "xAbx", "b", "Ab", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "a", "xabx", "b", "Ab", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_numeric(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("n|gt: 10"));
    assert_int_equal(fires(rs, mkev("", "n", "11", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "n", "10", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "n", "9.5", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "n", "1e2", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "n", "abc", NULL)), 0); /* not a number: no match */
    assert_int_equal(fires(rs, mkev("", "n", "0x20", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "n", "11 ", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "n", "", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("n|lte: 10"));
    assert_int_equal(fires(rs, mkev("", "n", "10", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "n", "-3", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "n", "10.01", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("n|lt: 1.5"));
    assert_int_equal(fires(rs, mkev("", "n", "1", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "n", "1.5", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("n|gte: -5"));
    assert_int_equal(fires(rs, mkev("", "n", "-5", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "n", "-6", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    /* plain numbers compare as text: 4688 is not 46880 nor 04688 */
    rs = rule(SEL("EventID: 4688"));
    assert_int_equal(fires(rs, mkev("", "EventID", "4688", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "EventID", "46880", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "EventID", "04688", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_cased(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rule(SEL("f|cased: AdMin"));
    assert_int_equal(fires(rs, mkev("", "f", "AdMin", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "admin", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("f|contains|cased: 'Enc'"));
    assert_int_equal(fires(rs, mkev("", "f", "x Enc y", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "x enc y", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    rs = rule(SEL("f|cased: 'A?c*'"));
    assert_int_equal(fires(rs, mkev("", "f", "Abcd", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "abcd", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_keyword_maps(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs =
        rule("  kw:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n"
             "  condition: kw\n");
    assert_int_equal(
        fires(rs, mkev("", "a", "Set-OABVirtualDirectory", "b", "x -externalurl y", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "a", "Set-OabVirtualDirectory", NULL)), 0);
    assert_int_equal(fires(rs, mkev("Set-OabVirtualDirectory -ExternalUrl x", NULL)), 1);
    mw_sigma_ruleset_free(rs);
    rs = rule("  kw:\n    '|re': 'ab+c'\n  condition: kw\n");
    assert_int_equal(fires(rs, mkev("", "a", "x", "b", "xabbbc", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "a", "xABBC", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

/* Many rules in one ruleset: anchors of every kind next to each other. */
static void test_prefilter_mix(void **st)
{
    (void)st;
    const char *y = "title: a\nid: a\ndetection: {s: {f|cased: AdMin}, condition: s}\n---\n"
                    "title: b\nid: b\ndetection: {s: {f: admin}, condition: s}\n---\n"
                    "title: c\nid: c\ndetection: {s: {f|re: '^Ad'}, condition: s}\n---\n"
                    "title: d\nid: d\ndetection: {s: {ip|cidr: 10.0.0.0/8}, condition: s}\n---\n"
                    "title: e\nid: e\ndetection: {s: {f|contains|windash: ' -x'}, condition: s}\n";
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_int_equal(mw_sigma_add_string(rs, y, strlen(y), "mix.yml"), 0);
    assert_int_equal(mw_sigma_count(rs), 5);
    assert_int_equal(fires(rs, mkev("", "f", "AdMin", NULL)), 3); /* a b c */
    assert_int_equal(fires(rs, mkev("", "f", "ADMIN", NULL)), 1); /* b */
    assert_int_equal(fires(rs, mkev("", "f", "q /x", "ip", "10.0.0.9", NULL)), 2); /* d e */
    mw_sigma_ruleset_free(rs);
}

static void test_deprecated_reported(void **st)
{
    (void)st;
    const char *y = "title: old\nid: old-1\nstatus: deprecated\n"
                    "detection: {s: {f: x}, condition: s}\n";
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_int_equal(mw_sigma_add_string(rs, y, strlen(y), "old.yml"), 0);
    assert_int_equal(mw_sigma_count(rs), 1); /* loaded */
    assert_int_equal(mw_sigma_warning_count(rs), 1);
    assert_string_equal(mw_sigma_warning(rs, 0),
                        "old.yml:1: rule 'old-1' has status 'deprecated' (loaded)");
    assert_null(mw_sigma_warning(rs, 1));
    assert_int_equal(fires(rs, mkev("", "f", "x", NULL)), 1);
    mw_sigma_ruleset_free(rs);
}

struct bad {
    const char *body;
    int rc;
    const char *msg;
};

static void test_refusals(void **st)
{
    (void)st;
    const struct bad cases[] = {
        {"f|i: x", MW_EINVAL, "modifier 'i' must follow 're' in 'f|i'"},
        {"f|re|contains: x", MW_EINVAL, "conflicting modifiers in 'f|re|contains'"},
        {"f|re: '[a'", MW_EINVAL,
         "invalid regular expression '[a' at offset 2: missing terminating ]"},
        {"f|cidr: 10.0.0.0/33", MW_EINVAL, "invalid CIDR '10.0.0.0/33'"},
        {"f|cidr: 300.0.0.0/8", MW_EINVAL, "invalid CIDR '300.0.0.0/8'"},
        {"f|cidr|contains: 10.0.0.0/8", MW_EINVAL, "conflicting modifiers"},
        {"f|exists: maybe", MW_EINVAL, "'exists' takes true or false, not 'maybe'"},
        {"f|exists: [true, false]", MW_EINVAL, "'exists' takes one value"},
        {"f|gt: abc", MW_EINVAL, "'abc' is not a number"},
        {"f|gt|lt: 3", MW_EINVAL, "conflicting modifiers"},
        {"f|base64: 'a*'", MW_EINVAL, "wildcards cannot be combined with 'base64'"},
        {"f|base64|re: x", MW_EINVAL, "conflicting modifiers"},
        {"f|expand: '%Servers%'", MW_EINVAL, "modifier 'expand' (placeholders) is not supported"},
        {"f|neq: x", MW_EINVAL, "unsupported modifier 'neq' in 'f|neq'"},
        {"f|cased|cased: x", MW_EINVAL, "modifier 'cased' given twice"},
        {"f|contains|windash: '-a -b -c -d -e -f'", MW_ELIMIT, "expands to more than 3125 values"},
        {"f|re: null", MW_EINVAL, "null value with a modifier"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char y[512];
        snprintf(y, sizeof y, "title: B\ndetection:\n  s:\n    %s\n  condition: s\n",
                 cases[i].body);
        mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
        int rc = mw_sigma_add_string(rs, y, strlen(y), "bad.yml");
        const char *e = mw_sigma_last_error(rs);
        if (rc != cases[i].rc || !strstr(e, cases[i].msg) || strncmp(e, "bad.yml:4: ", 11))
            fail_msg("case %zu: rc %d (want %d), message '%s' (want 'bad.yml:4: ...%s')", i, rc,
                     cases[i].rc, e, cases[i].msg);
        assert_int_equal(mw_sigma_count(rs), 0);
        mw_sigma_ruleset_free(rs);
    }
}

static void test_long_value(void **st)
{
    (void)st;
    size_t n = MW_SIGMA_MAX_VALUE_LEN + 1;
    char *y = malloc(n + 256);
    assert_non_null(y);
    int o = snprintf(y, 256, "title: L\ndetection:\n  s:\n    f|contains: '");
    memset(y + o, 'a', n);
    snprintf(y + o + n, 64, "'\n  condition: s\n");
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_int_equal(mw_sigma_add_string(rs, y, strlen(y), "long.yml"), MW_ETOOBIG);
    assert_non_null(strstr(mw_sigma_last_error(rs), "long.yml:4: value longer than 65536 bytes"));
    assert_int_equal(mw_sigma_count(rs), 0);
    mw_sigma_ruleset_free(rs);
    free(y);
}

/* Every SigmaHQ Windows rule of the shared test data compiles (skipped
 * without ../shared/data). */
static void test_sigmahq_rules(void **st)
{
    (void)st;
    char dir[1024];
    const char *d = getenv("MW_SHARED_DATA");
    snprintf(dir, sizeof dir, "%s/sigma/rules/windows", d ? d : MW_SOURCE_DIR "/../shared/data");
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        printf("SKIP: %s not found (shared test data absent)\n", dir);
        skip();
    }
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    size_t nerr = 99;
    assert_int_equal(mw_sigma_load_dir(rs, dir, &nerr), 0);
    if (nerr)
        fail_msg("%zu rules refused, last: %s", nerr, mw_sigma_last_error(rs));
    assert_int_equal(mw_sigma_count(rs), 2407);
    mw_sigma_ruleset_free(rs);
}

int main(void)
{
    sg_hs_min_anchors = 1; /* every slot with a literal anchor gets a database */
    mw_log_set_level((enum mw_log_level)(MW_LOG_ERROR + 1)); /* quiet */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_re),
        cmocka_unit_test(test_re_limit),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_windash),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_fieldref),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_cased),
        cmocka_unit_test(test_keyword_maps),
        cmocka_unit_test(test_prefilter_mix),
        cmocka_unit_test(test_deprecated_reported),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_long_value),
        cmocka_unit_test(test_sigmahq_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
