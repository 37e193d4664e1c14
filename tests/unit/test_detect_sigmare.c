/* Sigma |re values prefiltered by Hyperscan (sigma_hs.c, regex databases):
 * every match below runs through match_all (prefilter on and off, without
 * the Hyperscan databases, SQL null semantics, a kept scratch whose scan memo
 * replays the regex ids), and the expected results are worked out by hand
 * from PCRE2's semantics (UTF mode without UCP: \w \s \d ASCII, caseless
 * matching folds Unicode; $ also before a final newline; unanchored search).
 * Further: which regexes get a database, that a value the scan rules out
 * never reaches PCRE2, and a differential run of random regexes and values
 * (the database must report every regex PCRE2 matches). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigma_testlib.h"

/* One rule per (id, field, modifiers, single-quoted YAML pattern). */
static void add_rule(mw_sigma_ruleset_t *rs, const char *id, const char *field, const char *mods,
                     const char *pat)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf,
                     "title: %s\nid: %s\ndetection:\n  sel:\n    %s|%s: '%s'\n  condition: sel\n",
                     id, id, field, mods, pat);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    if (mw_sigma_add_string(rs, buf, (size_t)n, "re.yml"))
        fail_msg("rule %s refused: %s", id, mw_sigma_last_error(rs));
}

static mw_sigma_ruleset_t *rules(void)
{
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    /* CommandLine also has literal rules: one slot, both databases */
    add_rule(rs, "lit-mimi", "CommandLine", "contains", "mimikatz");
    add_rule(rs, "lit-sek", "CommandLine", "endswith", "sekurlsa");
    add_rule(rs, "re-i", "CommandLine", "re|i", "whoami\\s+/all");
    add_rule(rs, "re-anch", "Image", "re", "^C:\\\\Windows\\\\[a-z]+\\.exe$");
    add_rule(rs, "re-m", "Data", "re|m", "^line2$");
    add_rule(rs, "re-nom", "Data", "re", "^line2$");
    add_rule(rs, "re-s", "Payload", "re|s", "begin.end");
    add_rule(rs, "re-nos", "Payload", "re", "begin.end");
    add_rule(rs, "re-dot", "User", "re", "^J.rg$");
    add_rule(rs, "re-ci8", "User", "re|i", "^\xc3\x84rger$"); /* ^Ärger$: non-ASCII pattern */
    add_rule(rs, "re-sk", "Host", "re|i", "^sk$");
    add_rule(rs, "re-bad", "Path", "re", "cd$");
    add_rule(rs, "re-bad2", "Path", "re", "ab.cd");
    add_rule(rs, "re-R", "Text", "re", "foo\\Rbar"); /* \R: Hyperscan rejects it */
    add_rule(rs, "re-ref", "Text", "re", "(ab)\\1");
    add_rule(rs, "re-look", "Text", "re", "(?<=x)yz");
    add_rule(rs, "re-empty", "Note", "re", "q*");
    add_rule(rs, "re-ucp", "Word", "re", "(*UCP)^\\w+$");
    add_rule(rs, "re-W", "Sep", "re", "a\\Wb");
    add_rule(rs, "re-S", "Sep2", "re", "a\\Sb");
    add_rule(rs, "re-D", "Sep3", "re", "x\\D+y");
    return rs;
}

/* Match rule ids in load order, space-separated. */
static void expect(const mw_sigma_ruleset_t *rs, const char *want, const char *k, const char *v)
{
    mw_event_t *ev = mkev("{}", k, v, NULL);
    struct hits h = {0};
    assert_int_equal(match_all(rs, ev, &h), 0);
    char got[512] = "";
    for (int i = 0; i < h.n && i < 16; i++) {
        if (i)
            strcat(got, " ");
        strcat(got, h.d[i].rule_id);
    }
    if (strcmp(got, want))
        fail_msg("%s=%s: got '%s', want '%s'", k, v, got, want);
    mw_event_free(ev);
}

static void test_regex_semantics(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rules();
    expect(rs, "re-i", "CommandLine", "cmd /c WHOAMI   /ALL");
    expect(rs, "", "CommandLine", "whoami/all");
    expect(rs, "lit-mimi re-i", "CommandLine", "mimikatz; whoami /all");
    expect(rs, "lit-sek", "CommandLine", "x sekurlsa");
    expect(rs, "re-anch", "Image", "C:\\Windows\\cmd.exe");
    expect(rs, "re-anch", "Image", "C:\\Windows\\cmd.exe\n"); /* $ before a final newline */
    expect(rs, "", "Image", "C:\\Windows\\cmd.exe\nx");
    expect(rs, "", "Image", "D:\\C:\\Windows\\cmd.exe");
    expect(rs, "", "Image", "C:\\Windows\\CMD.exe"); /* case-sensitive */
    expect(rs, "re-m", "Data", "line1\nline2\nline3");
    expect(rs, "re-m re-nom", "Data", "line2");
    expect(rs, "re-s", "Payload", "begin\nend");
    expect(rs, "re-s re-nos", "Payload", "beginXend");
    /* non-ASCII values: '.' is one code point (two bytes here) */
    expect(rs, "re-dot", "User", "J\xc3\xb6rg");
    expect(rs, "re-dot", "User", "Jxrg");
    expect(rs, "", "User", "Joerg");
    expect(rs, "re-ci8", "User", "\xc3\xa4RGER"); /* äRGER */
    expect(rs, "re-sk", "Host", "S\xe2\x84\xaa"); /* S + KELVIN SIGN folds to k */
    expect(rs, "re-sk", "Host", "sK");
    /* invalid UTF-8: PCRE2 matches inside the valid parts only */
    expect(rs, "re-bad", "Path",
           "ab\xff"
           "cd");
    expect(rs, "", "Path", "ab\xff");
    expect(rs, "re-bad re-bad2", "Path", "abxcd");
    expect(rs, "re-R", "Text", "foo\r\nbar");
    expect(rs, "re-ref", "Text", "xababx");
    expect(rs, "", "Text", "xabx");
    expect(rs, "re-look", "Text", "xyz");
    expect(rs, "", "Text", "ayz");
    expect(rs, "re-empty", "Note", "");
    expect(rs, "re-empty", "Note", "anything");
    expect(rs, "re-ucp", "Word", "h\xc3\xa9llo"); /* (*UCP): \w takes é */
    expect(rs, "", "Word", "a b");
    /* Hyperscan does not scan a non-ASCII value: the answers below are
     * PCRE2's (its interpreter's, see re_match) */
    expect(rs, "re-W", "Sep", "a-b");
    expect(rs, "", "Sep", "a_b");
    /* Non-ASCII characters are \W, \S and \D without UCP. PCRE2 10.42's JIT
     * misses them (an attacker's no-break space would hide "whoami\W+/all"),
     * so a non-ASCII value is matched by the interpreter (re_match). */
    expect(rs, "re-W", "Sep",
           "a\xc3\xa9"
           "b"); /* aéb */
    expect(rs, "re-W", "Sep",
           "a\xc2\xa0"
           "b"); /* a, no-break space, b */
    expect(rs, "re-S", "Sep2",
           "a\xc3\xa9"
           "b");
    expect(rs, "re-S", "Sep2",
           "a\xc2\xa0"
           "b");
    expect(rs, "", "Sep2", "a b");
    expect(rs, "re-D", "Sep3",
           "x\xc3\xa9\xc3\xa9"
           "y");
    expect(rs, "", "Sep3", "x1y");
    mw_sigma_ruleset_free(rs);
}

static uint32_t slot_of(const mw_sigma_ruleset_t *rs, const char *name)
{
    int32_t s = sg_fields_find(&rs->fields, name, strlen(name));
    assert_true(s >= 0);
    return (uint32_t)s;
}

/* Which regexes are in a database, and the counts of the load message. */
static void test_regex_databases(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rules();
    size_t in_hs = 99, pcre = 99;
    mw_sigma_regex_counts(rs, &in_hs, &pcre);
    /* PCRE2 only: re-ci8 (non-ASCII pattern), re-R (\R), re-empty (q*),
     * re-ucp ((*UCP)); the 13 others are in a database */
    assert_int_equal(pcre, 4);
    assert_int_equal(in_hs, 15);
    const struct sg_pf_slot *cl = &rs->pf.slots[slot_of(rs, "CommandLine")];
    assert_non_null(cl->hs_db); /* literals (sg_hs_min_anchors = 1) */
    assert_non_null(cl->re_db);
    assert_int_equal(cl->re_n, 1);
    const struct sg_pf_slot *tx = &rs->pf.slots[slot_of(rs, "Text")];
    assert_non_null(tx->re_db);
    assert_int_equal(tx->re_n, 2); /* (ab)\1 and (?<=x)yz; \R rejected */
    assert_null(rs->pf.slots[slot_of(rs, "Note")].re_db);
    assert_null(rs->pf.slots[slot_of(rs, "Word")].re_db);
    mw_sigma_regex_counts(NULL, &in_hs, &pcre);
    assert_int_equal(in_hs + pcre, 0);
    mw_sigma_ruleset_free(rs);

    /* the same pattern with other flags is another database entry; the same
     * pattern and flags twice is one */
    rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    add_rule(rs, "a", "F", "re", "abc");
    add_rule(rs, "b", "F", "re|i", "abc");
    add_rule(rs, "c", "F", "re", "abc");
    assert_int_equal(rs->pf.slots[slot_of(rs, "F")].re_n, 2);
    expect(rs, "b", "F", "xABCx");
    expect(rs, "a b c", "F", "xabcx");
    mw_sigma_ruleset_free(rs);
}

/* PCRE2 runs only for the regexes the scan reported, on ASCII values; on
 * other values (and without the databases) for every candidate regex. */
static void test_regex_spares_pcre(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = rules();
    struct {
        const char *k, *v;
        uint64_t with_hs, without;
    } cases[] = {
        /* re-i's anchor is checked by the prefilter (one call without the
         * databases); when it holds, the rule is evaluated (a second call) */
        {"CommandLine", "net user", 0, 1}, /* ruled out by the scan */
        {"CommandLine", "whoami /all", 2, 2}, /* reported: anchor and rule confirmed */
        {"CommandLine", "whoami/all", 0, 1}, /* no \s: not reported */
        {"Text", "nothing", 1, 3}, /* only re-R (rejected by Hyperscan) runs */
        {"User", "J\xc3\xb6rg", 3, 3}, /* non-ASCII value: re-dot twice, re-ci8 once */
        {"User", "Jxrx", 1, 2}, /* re-ci8 has no database entry */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mw_event_t *ev = mkev("{}", cases[i].k, cases[i].v, NULL);
        struct hits h = {0};
        sg_count_re = 1;
        for (int nohs = 0; nohs < 2; nohs++) {
            sg_disable_hs = nohs;
            sg_disable_memo = 1;
            sg_re_calls = 0;
            assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
            uint64_t want = nohs ? cases[i].without : cases[i].with_hs;
            if (sg_re_calls != want)
                fail_msg("%s=%s nohs=%d: %llu PCRE2 calls, want %llu", cases[i].k, cases[i].v, nohs,
                         (unsigned long long)sg_re_calls, (unsigned long long)want);
        }
        sg_disable_hs = 0;
        sg_disable_memo = 0;
        sg_count_re = 0;
        mw_event_free(ev);
    }
    /* a kept scratch: the first match makes both calls, the next ones take
     * the anchor's verdict from the scan memo and only evaluate the rule
     * (the regex scan is not kept in the memo: it runs again, and reports it) */
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(rs, &sc), 0);
    mw_event_t *ev = mkev("{}", "CommandLine", "a whoami /all b", NULL);
    for (int k = 0; k < 3; k++) {
        struct hits h = {0};
        sg_count_re = 1;
        sg_re_calls = 0;
        assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
        sg_count_re = 0;
        assert_int_equal(h.n, 1);
        assert_string_equal(h.d[0].rule_id, "re-i");
        assert_int_equal(sg_re_calls, k == 0 ? 2 : 1);
    }
    mw_event_free(ev);
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(rs);
}

/* ---- differential: random regexes and values ---- */

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const atoms[] = {
    "a",    "b",     "c",     "ab",     ".",      "\\w",         "\\W",
    "\\s",  "\\d",   "\\D",   "\\S",    "[a-c]",  "[^a]",        "(a|bc)",
    "^",    "$",     "\\b",   "\\B",    "\\Z",    "\\z",         "\\A",
    "(?i)", "(?=a)", "(?!b)", "(?<=a)", "(a)\\1", "[[:alpha:]]", "[[:^alpha:]]",
    "x",    "-",     "\\n",   "(?s)",   "(?m)",   "\\.",         "K",
    "S",
};
static const char *const quants[] = {"", "", "", "*", "+", "?", "{2}", "{1,3}", "*?"};
static const char *const chars[] = {
    "a",
    "b",
    "c",
    "x",
    "K",
    "k",
    "s",
    "S",
    "-",
    " ",
    "\n",
    "_",
    "1",
    ".",
    "\xc3\xa9", /* é */
    "\xe2\x84\xaa", /* KELVIN SIGN */
    "\xc5\xbf", /* LATIN SMALL LETTER LONG S */
    "\xff", /* invalid UTF-8 */
};

static void quiet(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

static void test_regex_differential(void **st)
{
    (void)st;
    int checked = 0, loaded = 0;
    for (int batch = 0; batch < 30; batch++) {
        mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
        assert_non_null(rs);
        mw_sigma_ruleset_set_error_fn(rs, quiet, NULL);
        /* 48 rules, one document each, loaded by one call (one build) */
        static char doc[48 * 320];
        size_t dl = 0;
        for (int r = 0; r < 48; r++) {
            char pat[256] = "";
            int na = 1 + (int)rnd(5);
            for (int a = 0; a < na; a++) {
                strcat(pat, atoms[rnd(sizeof atoms / sizeof atoms[0])]);
                strcat(pat, quants[rnd(sizeof quants / sizeof quants[0])]);
            }
            const char *mods[] = {"re", "re|i", "re|m", "re|s", "re|i|m|s"};
            int n = snprintf(doc + dl, sizeof doc - dl,
                             "---\ntitle: d%d\nid: d%d\ndetection:\n  sel:\n    F|%s: '%s'\n"
                             "  condition: sel\n",
                             r, r, mods[rnd(5)], pat);
            assert_true(n > 0 && (size_t)n < sizeof doc - dl);
            dl += (size_t)n;
        }
        /* an invalid random pattern is refused: the others load */
        (void)!mw_sigma_add_string(rs, doc, dl, "d.yml");
        loaded += (int)mw_sigma_count(rs);
        for (int e = 0; e < 60; e++) {
            char val[128] = "";
            int nc = (int)rnd(12);
            for (int c = 0; c < nc; c++)
                strcat(val, chars[rnd(e % 3 ? 14 : sizeof chars / sizeof chars[0])]);
            mw_event_t *ev = mkev("{}", "F", val, NULL);
            struct hits h = {0}, nohs = {0};
            assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
            sg_disable_hs = 1;
            assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &nohs), 0);
            sg_disable_hs = 0;
            if (h.n != nohs.n)
                fail_msg("value '%s': %d matches with Hyperscan, %d with PCRE2 alone", val, h.n,
                         nohs.n);
            same_hits(&h, &nohs);
            checked += nohs.n;
            mw_event_free(ev);
        }
        mw_sigma_ruleset_free(rs);
    }
    assert_true(loaded > 300); /* most random patterns are valid */
    assert_true(checked > 100); /* and they do match */
}

int main(void)
{
    sg_hs_min_anchors = 1; /* small rulesets get literal databases too */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regex_semantics),
        cmocka_unit_test(test_regex_databases),
        cmocka_unit_test(test_regex_spares_pcre),
        cmocka_unit_test(test_regex_differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
