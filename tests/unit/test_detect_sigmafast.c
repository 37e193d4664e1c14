/* Sigma matcher speed-ups that must not change a result: the word-at-a-time
 * ASCII lowercase (sg_lower) against a byte-by-byte definition, the
 * prefilter hash (sg_hash64) on lengths around its word size, and the
 * logsource gates (a rule's pipeline selection evaluated once per event for
 * every rule that shares it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/sigma_internal.h"
#include "mwrasp/sigma.h"

#include "unit/sigma_testlib.h"

/* Every byte value at every offset of a 19-byte run (two words and a
 * tail), between bytes that must stay as they are. */
static void test_lower_every_byte(void **st)
{
    (void)st;
    char in[19], out[19];
    for (int b = 0; b < 256; b++) {
        for (int pos = 0; pos < 19; pos++) {
            for (int i = 0; i < 19; i++)
                in[i] = (char)(i % 2 ? '@' : '['); /* just below 'A', just above 'Z' */
            in[pos] = (char)b;
            sg_lower(out, in, sizeof in);
            for (int i = 0; i < 19; i++) {
                unsigned char c = (unsigned char)in[i];
                unsigned char want = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
                assert_int_equal((unsigned char)out[i], want);
            }
        }
    }
    /* mixed text, non-ASCII bytes whose low seven bits are letters stay */
    const char *s = "C:\\Windows\\SYSTEM32\\\xc1\xda\xe1\xfa"
                    "Cmd.EXE /C";
    const char *w = "c:\\windows\\system32\\\xc1\xda\xe1\xfa"
                    "cmd.exe /c";
    char o[64];
    sg_lower(o, s, strlen(s));
    assert_memory_equal(o, w, strlen(w));
}

/* Equal bytes hash equal whatever their alignment; a byte changed at any
 * position (last word, zero padding) changes the hash; lengths are part of
 * it ("ab" and "ab\0"). */
static void test_hash64(void **st)
{
    (void)st;
    char a[40], b[48];
    for (size_t n = 0; n <= 33; n++) {
        for (size_t i = 0; i < n; i++)
            a[i] = (char)('a' + (i * 7) % 26);
        memcpy(b + 3, a, n);
        assert_true(sg_hash64(a, n) == sg_hash64(b + 3, n));
        for (size_t i = 0; i < n; i++) {
            memcpy(b, a, n);
            b[i] = (char)(b[i] ^ 0x20);
            assert_true(sg_hash64(a, n) != sg_hash64(b, n));
        }
    }
    assert_true(sg_hash64("ab", 2) != sg_hash64("ab\0", 3));
}

/* ---- logsource gates ------------------------------------------------------ */

static const char *GATE_PIPE = "name: gates\n"
                               "logsources:\n"
                               "  - category: process_creation\n"
                               "    conditions:\n"
                               "      Channel: Sysmon\n"
                               "      EventID: 1\n"
                               "  - category: image_load\n"
                               "    conditions:\n"
                               "      Channel: Sysmon\n"
                               "      EventID: [7, 77]\n";

static char *gate_rule(char *buf, size_t n, const char *id, const char *category,
                       const char *detection)
{
    snprintf(buf, n, "title: %s\nid: %s\nlogsource:\n  product: windows\n%s%s%sdetection:\n%s", id,
             id, category ? "  category: " : "", category ? category : "", category ? "\n" : "",
             detection);
    return buf;
}

/* Matches ev (every matcher mode must agree: match_all) and returns the
 * rule ids as "a,b,", in load order. */
static const char *ids(const mw_sigma_ruleset_t *rs, mw_event_t *ev)
{
    static char out[256];
    struct hits h = {0};
    assert_int_equal(match_all(rs, ev, &h), 0);
    out[0] = '\0';
    for (int i = 0; i < h.n && i < 16; i++) {
        strcat(out, h.d[i].rule_id);
        strcat(out, ",");
    }
    mw_event_free(ev);
    return out;
}

/* Rules of the same logsource share one gate; a rule whose gate is false
 * for the event never fires, whether the prefilter selected it through an
 * anchor (g1, g2, g3), or always evaluates it (g4: no anchor under not);
 * rules without a pipeline selection have no gate (g6). Expected ids
 * worked out by hand from the texts. */
static void test_gates(void **st)
{
    (void)st;
    char path[512], err[512], buf[1024];
    const char *base = getenv("MW_TEST_TMP");
    snprintf(path, sizeof path, "%s/sgfast-%d.yml", base && base[0] ? base : "/tmp", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(GATE_PIPE, fp);
    fclose(fp);
    mw_sigma_pipeline_t *p = NULL;
    assert_int_equal(mw_sigma_pipeline_load(path, &p, err, sizeof err), 0);
    unlink(path);
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    mw_sigma_ruleset_set_pipeline(rs, p);
    static const struct {
        const char *id, *cat, *det;
    } rules[] = {
        {"g1", "process_creation",
         "  sel:\n    CommandLine|contains: mimikatz\n  condition: sel\n"},
        {"g2", "process_creation", "  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\n"},
        {"g3", "image_load", "  sel:\n    ImageLoaded|endswith: '\\evil.dll'\n  condition: sel\n"},
        {"g4", "process_creation", "  sel:\n    Image|endswith: '\\x.exe'\n  condition: not sel\n"},
        {"g5", "image_load", "  sel:\n    CommandLine|contains: mimikatz\n  condition: sel\n"},
        {"g6", NULL, "  sel:\n    CommandLine|contains: mimikatz\n  condition: sel\n"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        gate_rule(buf, sizeof buf, rules[i].id, rules[i].cat, rules[i].det);
        if (mw_sigma_add_string(rs, buf, strlen(buf), "g.yml"))
            fail_msg("rule refused: %s", mw_sigma_last_error(rs));
    }
    assert_int_equal(mw_sigma_count(rs), 6);
    assert_int_equal(rs->ngates, 2); /* process_creation, image_load */
    assert_int_equal(rs->rules[0]->gate, 1);
    assert_int_equal(rs->rules[1]->gate, 1);
    assert_int_equal(rs->rules[2]->gate, 2);
    assert_int_equal(rs->rules[3]->gate, 1);
    assert_int_equal(rs->rules[4]->gate, 2);
    assert_int_equal(rs->rules[5]->gate, 0);

    assert_string_equal(ids(rs, mkev("{}", "Channel", "Sysmon", "EventID", "1", "CommandLine",
                                     "x MimiKatz y", "Image", "C:\\Cmd.exe", NULL)),
                        "g1,g2,g4,g6,");
    assert_string_equal(
        ids(rs, mkev("{}", "Channel", "sysmon", "EventID", "77", "CommandLine", "mimikatz", "Image",
                     "c:\\cmd.exe", "ImageLoaded", "c:\\evil.dll", NULL)),
        "g3,g5,g6,");
    assert_string_equal(ids(rs, mkev("{}", "Channel", "Security", "EventID", "1", "CommandLine",
                                     "mimikatz", "Image", "c:\\cmd.exe", NULL)),
                        "g6,");
    assert_string_equal(ids(rs, mkev("{}", "EventID", "1", "CommandLine", "mimikatz", "Image",
                                     "c:\\cmd.exe", NULL)),
                        "g6,");
    assert_string_equal(
        ids(rs, mkev("{}", "Channel", "Sysmon", "EventID", "1", "Image", "c:\\x.exe", NULL)), "");
    /* one scratch over several events: each event's gates are its own */
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(rs, &sc), 0);
    const char *want[] = {"g1,g2,g4,g6,", "g3,g5,g6,", "g6,"};
    for (int round = 0; round < 6; round++) {
        mw_event_t *ev =
            round % 3 == 0 ? mkev("{}", "Channel", "Sysmon", "EventID", "1", "CommandLine",
                                  "mimikatz", "Image", "c:\\cmd.exe", NULL)
            : round % 3 == 1
                ? mkev("{}", "Channel", "Sysmon", "EventID", "7", "CommandLine", "mimikatz",
                       "ImageLoaded", "c:\\Evil.dll", NULL)
                : mkev("{}", "Channel", "Sysmon", "EventID", "3", "CommandLine", "mimikatz", NULL);
        struct hits h = {0};
        assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
        char got[256] = "";
        for (int i = 0; i < h.n && i < 16; i++) {
            strcat(got, h.d[i].rule_id);
            strcat(got, ",");
        }
        assert_string_equal(got, want[round % 3]);
        mw_event_free(ev);
    }
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(rs);
}

/* ---- field name cache (per scratch) ------------------------------------- */

static int fires_with(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *sc, const mw_event_t *ev)
{
    struct hits h = {0};
    assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
    return h.n;
}

static void add_rule_text(mw_sigma_ruleset_t *rs, const char *id, const char *field)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "title: %s\nid: %s\nlogsource: {product: test}\ndetection:\n  sel:\n"
             "    %s|contains: needle\n  condition: sel\n",
             id, id, field);
    if (mw_sigma_add_string(rs, buf, strlen(buf), "k.yml"))
        fail_msg("rule refused: %s", mw_sigma_last_error(rs));
}

/* One scratch used with two rulesets in turn, and with a ruleset that gains
 * fields between events: the cached name -> slot answers of one field
 * table must never be used with another. Also the case-insensitive
 * fallback (TargetFileName for a rule on TargetFilename) through the cache,
 * and a name longer than the cache keeps. */
static void test_key_cache(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *a = mw_sigma_ruleset_new(), *b = mw_sigma_ruleset_new();
    assert_non_null(a);
    assert_non_null(b);
    add_rule_text(a, "ka", "TargetFilename");
    add_rule_text(b, "kb1", "Zeta");
    add_rule_text(b, "kb2", "TargetFilename2");
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(a, &sc), 0);
    mw_event_t *e1 = mkev("{}", "Zeta", "a needle", "TargetFileName", "x", NULL);
    mw_event_t *e2 = mkev("{}", "Zeta", "b", "TargetFileName", "the NEEDLE", NULL);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(fires_with(a, sc, e1), 0); /* a: TargetFilename (ci) "x" */
        assert_int_equal(fires_with(b, sc, e1), 1); /* b: Zeta has it */
        assert_int_equal(fires_with(a, sc, e2), 1); /* a: TargetFileName holds it */
        assert_int_equal(fires_with(b, sc, e2), 0); /* b: TargetFilename2 absent, Zeta "b" */
    }
    /* a gains the field Zeta: the same scratch must see it at once */
    add_rule_text(a, "ka2", "Zeta");
    assert_int_equal(fires_with(a, sc, e1), 1);
    assert_int_equal(fires_with(a, sc, e2), 1);
    /* a 60-byte name (not cached) still resolves, event after event */
    const char *longname = "Very.Long.Field.Name.That.Does.Not.Fit.The.Cache.Copy.At.All";
    add_rule_text(a, "ka3", longname);
    mw_event_t *e3 = mkev("{}", longname, "NeEdLe", NULL);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(fires_with(a, sc, e3), 1);
        assert_int_equal(fires_with(a, sc, e1), 1);
    }
    struct hits h = {0};
    assert_int_equal(match_all(a, e2, &h), 0);
    assert_int_equal(h.n, 1);
    mw_event_free(e1);
    mw_event_free(e2);
    mw_event_free(e3);
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(a);
    mw_sigma_ruleset_free(b);
}

/* ---- condition bits only from sg_hs_fid_min_vals values --------------------- */

/* The same rules built with condition bits for every condition and for
 * none give the same matches (hand-worked below), and the threshold
 * decides which conditions get an id. */
static void test_fid_threshold(void **st)
{
    (void)st;
    const char *rule = "title: F\nid: f1\nlogsource: {product: test}\ndetection:\n"
                       "  a:\n    CommandLine|contains: [alpha, bravo, charlie]\n"
                       "  b:\n    CommandLine|contains|all: [delta, echo]\n"
                       "  c:\n    Image|endswith: ['\\x.exe', '\\y.exe', '\\z.exe', '\\w.exe']\n"
                       "  condition: (a or b) and not c\n";
    const struct {
        const char *cl, *img;
        int want;
    } ev[] = {
        {"run ALPHA now", "c:\\a.exe", 1}, {"bravo", "c:\\x.exe", 0},
        {"echo delta", "c:\\W.EXE", 0},    {"echo delta", "c:\\w.exe2", 1},
        {"echo only", "c:\\a.exe", 0},     {"nothing", "c:\\a.exe", 0},
        {"alphabravo", "c:\\y.exe.z", 1},  {"charli", "c:\\z.exe", 0},
    };
    uint32_t mins[] = {1, 100, 4};
    for (int m = 0; m < 3; m++) {
        sg_hs_fid_min_vals = mins[m];
        mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
        assert_non_null(rs);
        assert_int_equal(mw_sigma_add_string(rs, rule, strlen(rule), "f.yml"), 0);
        const struct sg_rule *r = rs->rules[0];
        for (uint32_t i = 0; i < r->nsels; i++) {
            const struct sg_fcond *fc = &r->sels[i].maps[0].conds[0];
            if (fc->vals[0].lit) /* the slot has a database */
                assert_int_equal(fc->fid != 0, fc->nvals >= mins[m]);
        }
        assert_true(rs->pf.hs_id != 0);
        for (size_t e = 0; e < sizeof ev / sizeof ev[0]; e++) {
            struct hits h = {0};
            mw_event_t *x = mkev("{}", "CommandLine", ev[e].cl, "Image", ev[e].img, NULL);
            assert_int_equal(match_all(rs, x, &h), 0);
            mw_event_free(x);
            assert_int_equal(h.n, ev[e].want);
        }
        mw_sigma_ruleset_free(rs);
    }
    sg_hs_fid_min_vals = 1;
}

/* ---- a found caseless contains literal is the answer ------------------- */

/* Once a field's scan is complete, a caseless contains value whose literal
 * was found matches without a comparison; cased values, startswith /
 * endswith / exact (found elsewhere in the field) still compare. Anchors
 * are confirmed after the scan. Hand-worked expectations. */
static void test_found_contains(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    static const char *const rules[] = {
        "title: C1\nid: c1\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine|contains: MiMiKatz\n  condition: s\n",
        "title: C2\nid: c2\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine|contains|cased: Mimikatz\n  condition: s\n",
        "title: C3\nid: c3\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine|startswith: mimikatz\n  condition: s\n",
        "title: C4\nid: c4\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine|endswith: katz\n  condition: s\n",
        "title: C5\nid: c5\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine|contains|all: [mimi, sekurlsa]\n  f:\n    Image|contains: "
        "safe\n  condition: s and not f\n",
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        assert_int_equal(mw_sigma_add_string(rs, rules[i], strlen(rules[i]), "c.yml"), 0);
    static const struct {
        const char *cl, *img, *want;
    } ev[] = {
        {"run MIMIKATZ now", "a.exe", "c1,"},
        {"run Mimikatz", "a.exe", "c1,c2,c4,"},
        {"mimikatz.exe sekurlsa::x", "a.exe", "c1,c3,c5,"},
        {"mimikatz.exe sekurlsa::x", "SAFE.exe", "c1,c3,"},
        {"katz mimi", "a.exe", ""},
        {"x mimikatz", "a.exe", "c1,c4,"},
        {"mimikat", "a.exe", ""},
    };
    for (size_t e = 0; e < sizeof ev / sizeof ev[0]; e++)
        assert_string_equal(ids(rs, mkev("{}", "CommandLine", ev[e].cl, "Image", ev[e].img, NULL)),
                            ev[e].want);
    mw_sigma_ruleset_free(rs);
}

/* sg_bloom against its definition: bit (a * 0x9d ^ b * 0x3b) & 255 for every
 * pair of adjacent bytes a, b; no other bit. */
static void test_bloom(void **st)
{
    (void)st;
    unsigned char buf[300];
    for (int len = 0; len < 300; len += 7) {
        for (int i = 0; i < len; i++)
            buf[i] = (unsigned char)(i * 37 + len);
        uint64_t want[4] = {0, 0, 0, 0}, got[4];
        for (int i = 0; i + 1 < len; i++) {
            unsigned h = ((unsigned)buf[i] * 0x9du ^ (unsigned)buf[i + 1] * 0x3bu) & 255u;
            want[h >> 6] |= 1ull << (h & 63);
        }
        sg_bloom((const char *)buf, (size_t)len, got);
        for (int k = 0; k < 4; k++)
            assert_true(got[k] == want[k]);
    }
}

/* ---- globs by their longest literal run --------------------------------- */

/* A glob gets the literal id of its longest run of literal bytes (>= 3): a
 * field without that run (in any case) cannot match, one with it is still
 * matched by the glob. Runs split by '?' or an escaped '*', cased globs,
 * glob anchors and keyword globs; hand-worked expectations. */
static void test_glob_literals(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    static const char *const rules[] = {
        "title: G1\nid: g1\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine: '*invoke-*expression*'\n  condition: s\n",
        "title: G2\nid: g2\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine|cased: '*Get-?tem*'\n  condition: s\n",
        "title: G3\nid: g3\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    CommandLine: 'ab\\*cd*xyz'\n  condition: s\n",
        "title: G4\nid: g4\nlogsource: {product: t}\ndetection:\n"
        "  k:\n    - '*secret*dump*'\n  condition: k\n",
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (mw_sigma_add_string(rs, rules[i], strlen(rules[i]), "g.yml"))
            fail_msg("rule refused: %s", mw_sigma_last_error(rs));
    /* the globs got literal ids (the slot has a database) */
    assert_true(rs->rules[0]->sels[0].maps[0].conds[0].vals[0].lit != 0);
    static const struct {
        const char *cl, *other, *want;
    } ev[] = {
        {"x INVOKE-Web; expression", "-", "g1,"},
        {"expression invoke-", "-", ""},
        {"Get-Item", "-", "g2,"},
        {"get-item", "-", ""},
        {"Get-Xtem and more", "-", "g2,"},
        {"ab*cd then xyz", "-", "g3,"},
        {"abXcd then xyz", "-", ""},
        {"AB*CD..XYZ", "-", "g3,"},
        {"a SECRET", "then dump", ""}, /* a keyword matches within one field */
        {"a SECRET then Dump", "-", "g4,"},
        {"dump secret", "-", ""},
    };
    for (size_t e = 0; e < sizeof ev / sizeof ev[0]; e++)
        assert_string_equal(
            ids(rs, mkev("{}", "CommandLine", ev[e].cl, "Other", ev[e].other, NULL)), ev[e].want);
    mw_sigma_ruleset_free(rs);
}

/* ---- exact prefilter entries: longer field values skip the lookup ------- */

static void test_exact_maxlen(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    static const char *const rules[] = {
        "title: E1\nid: e1\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    OriginalFileName: [cmd.exe, psexec.c]\n  condition: s\n",
        "title: E2\nid: e2\nlogsource: {product: t}\ndetection:\n"
        "  s:\n    OriginalFileName: 'rundll32.exe'\n  condition: s\n",
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        assert_int_equal(mw_sigma_add_string(rs, rules[i], strlen(rules[i]), "e.yml"), 0);
    int32_t slot = sg_fields_find(&rs->fields, "OriginalFileName", 16);
    assert_true(slot >= 0);
    assert_int_equal(rs->pf.slots[slot].exact_maxlen, 12); /* rundll32.exe */
    static const struct {
        const char *v, *want;
    } ev[] = {
        {"CMD.EXE", "e1,"},    {"cmd.exe ", ""},    {"RunDll32.exe", "e2,"},
        {"rundll32.exe2", ""}, {"psexec.c", "e1,"}, {"a much longer value than any rule", ""},
    };
    for (size_t e = 0; e < sizeof ev / sizeof ev[0]; e++)
        assert_string_equal(ids(rs, mkev("{}", "OriginalFileName", ev[e].v, NULL)), ev[e].want);
    mw_sigma_ruleset_free(rs);
}

/* ---- keyword scan over a plain copy of the fields ------------------------- */

/* The keyword database scans the fields' original bytes (caseless): a
 * keyword in any case in one field matches, split across two fields it
 * does not; an event without fields is searched in its raw text; many
 * events through one scratch reuse its buffer. Hand-worked. */
static void test_keyword_copy(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    const char *rule = "title: K\nid: k1\nlogsource: {product: t}\ndetection:\n"
                       "  keywords:\n    - 'sekurlsa::'\n    - 'Invoke-Mimikatz'\n"
                       "  condition: keywords\n";
    assert_int_equal(mw_sigma_add_string(rs, rule, strlen(rule), "k.yml"), 0);
    assert_non_null(rs->pf.kw_db);
    assert_string_equal(ids(rs, mkev("{}", "a", "x", "b", "run SEKURLSA::logonpasswords", NULL)),
                        "k1,");
    assert_string_equal(ids(rs, mkev("{}", "a", "invoke-", "b", "mimikatz", NULL)), "");
    assert_string_equal(ids(rs, mkev("raw text with INVOKE-MIMIKATZ in it", NULL)), "k1,");
    assert_string_equal(ids(rs, mkev("raw text with invoke mimikatz", NULL)), "");
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(rs, &sc), 0);
    for (int i = 0; i < 50; i++) {
        char big[600];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        if (i % 2)
            memcpy(big + 300 + i, "sekurlsa::", 10);
        mw_event_t *ev = mkev("{}", "f1", big, "f2", "short", "f3", "", NULL);
        struct hits h = {0};
        assert_int_equal(mw_sigma_match(rs, sc, ev, collect, &h), 0);
        assert_int_equal(h.n, i % 2);
        mw_event_free(ev);
    }
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(rs);
}

/* The keyword scan skips values shorter than the shortest keyword literal
 * (pf.kw_minlen, here 4: 'abcd'), and the field list is made only when a
 * value has to be compared. Expected ids worked out by hand: a value of
 * exactly kw_minlen bytes is scanned (k1), a keyword split over two short
 * fields is in no field, a keyword after skipped short fields is found
 * (k2), raw text of kw_minlen bytes is scanned, and a keyword without a
 * literal ('zq', 2 bytes: compared through the bigram filter) still sees
 * the short fields the scan skipped (k3). */
static void test_keyword_minlen(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    const char *r1 = "title: K1\nid: k1\nlogsource: {product: t}\ndetection:\n"
                     "  keywords:\n    - 'abcd'\n  condition: keywords\n";
    const char *r2 = "title: K2\nid: k2\nlogsource: {product: t}\ndetection:\n"
                     "  keywords:\n    - 'sekurlsa::'\n  condition: keywords\n";
    const char *r3 = "title: K3\nid: k3\nlogsource: {product: t}\ndetection:\n"
                     "  keywords:\n    - 'zq'\n  condition: keywords\n";
    assert_int_equal(mw_sigma_add_string(rs, r1, strlen(r1), "k1.yml"), 0);
    assert_int_equal(mw_sigma_add_string(rs, r2, strlen(r2), "k2.yml"), 0);
    assert_int_equal(mw_sigma_add_string(rs, r3, strlen(r3), "k3.yml"), 0);
    assert_non_null(rs->pf.kw_db);
    assert_int_equal(rs->pf.kw_minlen, 4);
    assert_string_equal(ids(rs, mkev("{}", "a", "x", "b", "ABCD", NULL)), "k1,");
    assert_string_equal(ids(rs, mkev("{}", "a", "abc", "b", "d", NULL)), "");
    assert_string_equal(ids(rs, mkev("{}", "a", "ab", "b", "cd", "c", "xabcdx", NULL)), "k1,");
    assert_string_equal(
        ids(rs, mkev("{}", "a", "x", "b", "yy", "c", "run SEKURLSA::x", "d", "abc", NULL)), "k2,");
    assert_string_equal(ids(rs, mkev("abcd", NULL)), "k1,");
    assert_string_equal(ids(rs, mkev("abc", NULL)), "");
    assert_string_equal(ids(rs, mkev("{}", "a", "zq", "b", "long value abcd", NULL)), "k1,k3,");
    assert_string_equal(ids(rs, mkev("{}", "a", "z", "b", "q", NULL)), "");
    mw_sigma_ruleset_free(rs);
}

/* ---- field layouts ---------------------------------------------------------- */

/* The layout cache (scratch_prepare) gives the slots of an event's fields
 * from the sequence of its key pointers: events of one layout with other
 * values, the same keys in another order, a repeated key (first wins) and
 * a case-insensitive spelling, each seen twice so that the second answer
 * comes from the cache. Expected counts worked out by hand from the two
 * rules (A contains needle, TargetFilename contains needle). */
static void test_layout_cache(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    add_rule_text(rs, "la", "LayA");
    add_rule_text(rs, "lt", "TargetFilename");
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(rs, &sc), 0);
    struct {
        mw_event_t *ev;
        int want;
    } cases[] = {
        {mkev("{}", "LayA", "a needle", "LayB", "x", NULL), 1},
        {mkev("{}", "LayA", "x", "LayB", "needle", NULL), 0}, /* same layout, LayB unused */
        {mkev("{}", "LayB", "x", "LayA", "NEEDLE", NULL), 1}, /* other order */
        {mkev("{}", "LayB", "needle", "LayA", "x", NULL), 0},
        {mkev("{}", "LayA", "x", "LayA", "needle", NULL), 0}, /* repeated: first wins */
        {mkev("{}", "LayA", "needle", "LayA", "x", NULL), 1},
        {mkev("{}", "LayA", "x", "TargetFileName", "Needle", NULL), 1}, /* case fallback */
        {mkev("{}", "LayA", "needle", "TargetFileName", "needle", NULL), 2},
        {mkev("{}", "LayA", "x", "TargetFileName", "x", NULL), 0},
        {mkev("{}", "TargetFilename", "x", "TargetFileName", "needle", NULL), 0}, /* exact wins */
        {mkev("{}", "TargetFileName", "needle", "TargetFilename", "x", NULL), 0},
        {mkev("{}", "TargetFileName", "x", "TargetFilename", "needle", NULL), 1},
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < n; i++)
            if (fires_with(rs, sc, cases[i].ev) != cases[i].want)
                fail_msg("round %d case %zu: want %d", round, i, cases[i].want);
    for (size_t i = 0; i < n; i++)
        mw_event_free(cases[i].ev);
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(rs);
}

/* With the intern table full, keys are copies in each event's arena, and a
 * freed event's address can come back with another key at the same place
 * (mw_event_t.keys_copied): the layout cache must then not be trusted.
 * Runs last: it fills the process-wide intern table. */
static void test_layout_copied_keys(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    add_rule_text(rs, "q1", "QqOne");
    const char *r2 = "title: q2\nid: q2\nlogsource: {product: test}\ndetection:\n  sel:\n"
                     "    QqTwo|contains: other\n  condition: sel\n";
    assert_int_equal(mw_sigma_add_string(rs, r2, strlen(r2), "q2.yml"), 0);
    char k[32];
    for (unsigned i = 0; i <= MW_INTERN_MAX; i++) {
        snprintf(k, sizeof k, "layout-fill-%u", i);
        if (!mw_intern(k, strlen(k)))
            break;
    }
    snprintf(k, sizeof k, "QqOne");
    assert_null(mw_intern(k, strlen(k))); /* full: the keys below are copied */
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(rs, &sc), 0);
    for (int round = 0; round < 4; round++) {
        mw_event_t *x = mkev("{}", "QqOne", "needle", NULL);
        assert_int_equal(x->keys_copied, 1);
        assert_int_equal(fires_with(rs, sc, x), 1);
        mw_event_free(x);
        /* often at x's address (not under ASan, which delays reuse) */
        mw_event_t *y = mkev("{}", "QqTwo", "needle", NULL);
        assert_int_equal(fires_with(rs, sc, y), 0); /* QqTwo wants "other" */
        mw_event_free(y);
        y = mkev("{}", "QqTwo", "other", NULL);
        assert_int_equal(fires_with(rs, sc, y), 1);
        mw_event_free(y);
    }
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(rs);
}

/* ---- scan memo --------------------------------------------------------------- */

static mw_sigma_ruleset_t *memo_rules(const char *lit_a, const char *lit_b)
{
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    assert_non_null(rs);
    char buf[512];
    snprintf(buf, sizeof buf,
             "title: ma\nid: ma\nlogsource: {product: test}\ndetection:\n  sel:\n"
             "    Cmd|contains: %s\n  condition: sel\n",
             lit_a);
    assert_int_equal(mw_sigma_add_string(rs, buf, strlen(buf), "ma.yml"), 0);
    snprintf(buf, sizeof buf,
             "title: mb\nid: mb\nlogsource: {product: test}\ndetection:\n  sel:\n"
             "    Cmd|endswith: %s\n  condition: sel\n",
             lit_b);
    assert_int_equal(mw_sigma_add_string(rs, buf, strlen(buf), "mb.yml"), 0);
    assert_non_null(rs->pf.slots[0].hs_db); /* sg_hs_min_anchors = 1 */
    return rs;
}

static int memo_fires(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *sc, const char *val)
{
    mw_event_t *ev = mkev("{}", "Cmd", val, NULL);
    int n = fires_with(rs, sc, ev);
    mw_event_free(ev);
    return n;
}

/* A value answered from the memo gives what its scan gave; values that only
 * share a hash (every hash forced equal), a value read under another
 * ruleset build with the same slot number, values too long to keep and
 * values that hit more literals than an entry keeps are scanned, not
 * answered from another value's entry. Expected counts worked out by hand
 * from the two rules (contains lit_a, endswith lit_b). */
static void test_scan_memo(void **st)
{
    (void)st;
    mw_sigma_ruleset_t *a = memo_rules("alpha", "omega"), *b = memo_rules("beta", "alpha");
    mw_sigma_scratch_t *sc = NULL;
    assert_int_equal(mw_sigma_scratch_new(a, &sc), 0);
    for (int round = 0; round < 3; round++) {
        sg_memo_hash_mask = round == 1 ? 0 : ~0ull; /* round 1: every hash collides */
        assert_int_equal(memo_fires(a, sc, "x alpha y"), 1);
        assert_int_equal(memo_fires(a, sc, "x alphb y"), 0); /* same hash in round 1 */
        assert_int_equal(memo_fires(a, sc, "alpha omega"), 2);
        assert_int_equal(memo_fires(a, sc, "omega alpha"), 1); /* omega not at the end */
        assert_int_equal(memo_fires(a, sc, "x alpha y"), 1);
        /* the same value and slot under ruleset b: its own literals */
        assert_int_equal(memo_fires(b, sc, "x alpha y"), 0);
        assert_int_equal(memo_fires(b, sc, "x alpha"), 1);
        assert_int_equal(memo_fires(a, sc, "x alpha"), 1);
        assert_int_equal(memo_fires(b, sc, "beta alpha"), 2);
        assert_int_equal(memo_fires(a, sc, "beta alpha"), 1);
    }
    sg_memo_hash_mask = ~0ull;
    /* too long for an entry (body 384 bytes, values up to 380): scanned each time */
    char lng[600];
    memset(lng, 'z', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    memcpy(lng + 100, "alpha", 5);
    for (int i = 0; i < 3; i++)
        assert_int_equal(memo_fires(a, sc, lng), 1);
    memcpy(lng + sizeof lng - 6, "omega", 5);
    assert_int_equal(memo_fires(a, sc, lng), 2);
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(a);
    mw_sigma_ruleset_free(b);

    /* more literals found than an entry records (SG_SM_REC = 64): 80 rules
     * on lit00..lit79, a value containing all of them */
    mw_sigma_ruleset_t *m = mw_sigma_ruleset_new();
    assert_non_null(m);
    char all[80 * 6 + 1] = "", buf[256];
    for (int i = 0; i < 80; i++) {
        snprintf(buf, sizeof buf,
                 "title: m%d\nid: m%d\nlogsource: {product: test}\ndetection:\n  sel:\n"
                 "    Cmd|contains: lit%02d\n  condition: sel\n",
                 i, i, i);
        assert_int_equal(mw_sigma_add_string(m, buf, strlen(buf), "m.yml"), 0);
        snprintf(all + strlen(all), 7, "lit%02d ", i);
    }
    assert_int_equal(mw_sigma_scratch_new(m, &sc), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(memo_fires(m, sc, all), 80);
        assert_int_equal(memo_fires(m, sc, "lit07 lit42"), 2);
    }
    sg_disable_memo = 1;
    assert_int_equal(memo_fires(m, sc, "lit07 lit42"), 2);
    sg_disable_memo = 0;
    mw_sigma_scratch_free(sc);
    mw_sigma_ruleset_free(m);
}

int main(void)
{
    sg_hs_min_anchors = 1; /* small rulesets get Hyperscan databases too */
    sg_hs_fid_min_vals = 1; /* and condition bits for every condition */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lower_every_byte),
        cmocka_unit_test(test_hash64),
        cmocka_unit_test(test_bloom),
        cmocka_unit_test(test_gates),
        cmocka_unit_test(test_key_cache),
        cmocka_unit_test(test_fid_threshold),
        cmocka_unit_test(test_found_contains),
        cmocka_unit_test(test_glob_literals),
        cmocka_unit_test(test_exact_maxlen),
        cmocka_unit_test(test_keyword_copy),
        cmocka_unit_test(test_keyword_minlen),
        cmocka_unit_test(test_layout_cache),
        cmocka_unit_test(test_scan_memo),
        cmocka_unit_test(test_layout_copied_keys), /* last: fills the intern table */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
