/* Logsource pipelines (src/detect/sigma_pipeline.c): loading with FILE:LINE
 * errors and caps, conditions ANDed with the rule, field renames, refused
 * logsources, and the two bundled pipelines (pipelines/NAME.yml). Expected
 * results are worked out by hand from the rule and event texts below. */
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

#include "detect/sigma_internal.h" /* sg_disable_prefilter, anchors */
#include "mwrasp/detect.h"
#include "mwrasp/event.h"
#include "mwrasp/log.h"
#include "mwrasp/sigma.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("MW_TEST_TMP");
    snprintf(tmpdir, sizeof(tmpdir), "%s/sgpipeXXXXXX", base && base[0] ? base : "/tmp");
    char parent[256];
    snprintf(parent, sizeof(parent), "%s", base && base[0] ? base : "/tmp");
    mkdir(parent, 0700);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

struct hits {
    int n;
    char ids[8][MW_RULE_ID_MAX];
};

static int collect(void *ctx, const mw_detection_t *d)
{
    struct hits *h = ctx;
    if (h->n < 8)
        snprintf(h->ids[h->n], sizeof(h->ids[0]), "%s", d->rule_id);
    h->n++;
    return 0;
}

/* An event from key/value pairs, NULL-terminated. */
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

static int nmatch(const mw_sigma_ruleset_t *rs, mw_event_t *ev)
{
    struct hits h = {0}, all = {0}, nohs = {0};
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &h), 0);
    /* the prefilter (and its Hyperscan part) never changes the result */
    sg_disable_prefilter = 1;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &all), 0);
    sg_disable_prefilter = 0;
    sg_disable_hs = 1;
    assert_int_equal(mw_sigma_match(rs, NULL, ev, collect, &nohs), 0);
    sg_disable_hs = 0;
    assert_int_equal(h.n, all.n);
    assert_int_equal(h.n, nohs.n);
    mw_event_free(ev);
    return h.n;
}

static const char *PIPE = "name: test\n"
                          "logsources:\n"
                          "  - product: windows\n"
                          "    category: process_creation\n"
                          "    conditions:\n"
                          "      Channel: Security\n"
                          "      EventID: [4688, 1]\n"
                          "    fields:\n"
                          "      Image: NewProcessName\n"
                          "  - category: file_access\n"
                          "    unsupported: nothing logs it\n";

static const char *RULE = "title: Whoami\n"
                          "id: r1\n"
                          "logsource:\n"
                          "  product: windows\n"
                          "  category: process_creation\n"
                          "detection:\n"
                          "  sel:\n"
                          "    Image|endswith: '\\whoami.exe'\n"
                          "  filter:\n"
                          "    - User: SYSTEM\n"
                          "  condition: sel and not filter\n";

static void test_conditions_and_renames(void **state)
{
    (void)state;
    char err[512];
    mw_sigma_pipeline_t *p = NULL;
    assert_int_equal(mw_sigma_pipeline_load(write_tmp("p.yml", PIPE), &p, err, sizeof(err)), 0);
    assert_string_equal(mw_sigma_pipeline_name(p), "test");
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    mw_sigma_ruleset_set_pipeline(rs, p);
    assert_int_equal(mw_sigma_add_string(rs, RULE, strlen(RULE), "r.yml"), 0);
    assert_int_equal(mw_sigma_count(rs), 1);
    /* the prefilter anchors the rule on its own condition, not on the
     * logsource's Channel/EventID (true for most events of the kind) */
    assert_int_equal(rs->rules[0]->nanchors, 1);
    assert_int_equal(rs->rules[0]->anchors[0]->slot,
                     (uint32_t)sg_fields_find(&rs->fields, "NewProcessName", 14));
    /* renamed field + both conditions: match */
    assert_int_equal(nmatch(rs, mkev("Channel", "security", "EventID", "4688", "NewProcessName",
                                     "C:\\W\\whoami.exe", NULL)),
                     1);
    /* the second EventID value of the list */
    assert_int_equal(nmatch(rs, mkev("Channel", "Security", "EventID", "1", "NewProcessName",
                                     "C:\\W\\whoami.exe", NULL)),
                     1);
    /* the original field name is no longer used */
    assert_int_equal(
        nmatch(rs, mkev("Channel", "Security", "EventID", "4688", "Image", "C:\\whoami.exe", NULL)),
        0);
    /* wrong channel / EventID / missing Channel: the added conditions fail */
    assert_int_equal(nmatch(rs, mkev("Channel", "System", "EventID", "4688", "NewProcessName",
                                     "C:\\whoami.exe", NULL)),
                     0);
    assert_int_equal(nmatch(rs, mkev("Channel", "Security", "EventID", "4689", "NewProcessName",
                                     "C:\\whoami.exe", NULL)),
                     0);
    assert_int_equal(nmatch(rs, mkev("EventID", "4688", "NewProcessName", "C:\\whoami.exe", NULL)),
                     0);
    /* the rule's own "not filter" still applies */
    assert_int_equal(nmatch(rs, mkev("Channel", "Security", "EventID", "4688", "NewProcessName",
                                     "C:\\whoami.exe", "User", "system", NULL)),
                     0);
    mw_sigma_ruleset_free(rs);
}

static int nerrs;
static char lasterr[512];
static void on_err(void *ctx, const char *msg)
{
    (void)ctx;
    nerrs++;
    snprintf(lasterr, sizeof(lasterr), "%s", msg);
}

static void test_unsupported_and_unmapped(void **state)
{
    (void)state;
    char err[512];
    mw_sigma_pipeline_t *p = NULL;
    assert_int_equal(mw_sigma_pipeline_load(write_tmp("p2.yml", PIPE), &p, err, sizeof(err)), 0);
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    mw_sigma_ruleset_set_pipeline(rs, p);
    mw_sigma_ruleset_set_error_fn(rs, on_err, NULL);
    nerrs = 0;
    const char *fa = "title: FA\nlogsource:\n  product: windows\n  category: file_access\n"
                     "detection:\n  sel:\n    FileName: x\n  condition: sel\n";
    assert_int_equal(mw_sigma_add_string(rs, fa, strlen(fa), "fa.yml"), MW_EINVAL);
    assert_int_equal(nerrs, 1);
    assert_non_null(strstr(lasterr, "fa.yml:3: logsource"));
    assert_non_null(strstr(lasterr, "nothing logs it"));
    /* a logsource no entry matches (linux) compiles unchanged */
    const char *lx = "title: L\nid: l1\nlogsource: {product: linux, service: sshd}\n"
                     "detection:\n  sel:\n    message|contains: failed\n  condition: sel\n";
    assert_int_equal(mw_sigma_add_string(rs, lx, strlen(lx), "l.yml"), 0);
    assert_int_equal(nmatch(rs, mkev("message", "Failed password", NULL)), 1);
    /* the reserved selection name */
    const char *rv = "title: R\nlogsource: {product: windows, category: process_creation}\n"
                     "detection:\n  _mwrasp_logsource:\n    a: b\n  condition: _mwrasp_logsource\n";
    assert_int_equal(mw_sigma_add_string(rs, rv, strlen(rv), "rv.yml"), MW_EINVAL);
    assert_non_null(strstr(lasterr, "rv.yml:4: selection name '_mwrasp_logsource' is reserved"));
    assert_int_equal(nerrs, 2);
    mw_sigma_ruleset_free(rs);
}

static void expect_load_error(const char *text, int code, const char *needle)
{
    char err[512];
    mw_sigma_pipeline_t *p = NULL;
    int rc = mw_sigma_pipeline_load(write_tmp("bad.yml", text), &p, err, sizeof(err));
    if (rc != code || !strstr(err, needle))
        fail_msg("rc %d (want %d), err '%s' (want '%s')", rc, code, err, needle);
    assert_null(p);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("logsources: [\n", MW_EPARSE, "bad.yml:2:1: yaml error");
    expect_load_error("name: x\n", MW_EINVAL, "bad.yml:1: 'logsources' must be a list");
    expect_load_error("logsources:\n  - category: a\n    colour: red\n", MW_EINVAL,
                      "bad.yml:3: unknown key 'colour'");
    expect_load_error("logsources:\n  - conditions: {a: b}\n", MW_EINVAL,
                      "bad.yml:2: a logsource entry needs product, category or service");
    expect_load_error("logsources:\n  - category: a\n    conditions:\n      a|contains: b\n",
                      MW_EINVAL, "bad.yml:4: modifiers are not allowed");
    expect_load_error("logsources:\n  - category: a\n    fields:\n      A: B\n      A: C\n",
                      MW_EINVAL, "bad.yml:5: field 'A' renamed twice");
    expect_load_error("logsources:\n  - category: a\n    unsupported: x\n    fields: {A: B}\n",
                      MW_EINVAL, "cannot have conditions or fields");
    /* cap on entries */
    size_t n = (MW_SIGMA_PIPELINE_MAX_ENTRIES + 1) * 16 + 32;
    char *big = malloc(n), *o = big;
    assert_non_null(big);
    o += sprintf(o, "logsources:\n");
    for (int i = 0; i <= MW_SIGMA_PIPELINE_MAX_ENTRIES; i++)
        o += sprintf(o, "  - service: s\n");
    expect_load_error(big, MW_ELIMIT, "more than 1024 logsource entries");
    free(big);
    char err[256];
    mw_sigma_pipeline_t *p = NULL;
    assert_int_equal(mw_sigma_pipeline_load("no-such-pipeline", &p, err, sizeof(err)),
                     MW_ENOTFOUND);
    assert_int_equal(mw_sigma_pipeline_load("../x y", &p, err, sizeof(err)), MW_EIO);
    assert_int_equal(mw_sigma_pipeline_load("bad name!", &p, err, sizeof(err)), MW_EINVAL);
    assert_null(p);
}

/* The bundled pipelines load and say what the shared data's SQL says:
 * Sysmon process_creation = Sysmon channel, EventID 1; windows-audit =
 * Security 4688 with Image renamed NewProcessName. */
static void test_bundled(void **state)
{
    (void)state;
    char err[512];
    const char *names[2] = {MW_SOURCE_DIR "/pipelines/sysmon.yml",
                            MW_SOURCE_DIR "/pipelines/windows-audit.yml"};
    mw_sigma_ruleset_t *rs[2];
    mw_sigma_pipeline_t *pl[2];
    for (int i = 0; i < 2; i++) {
        mw_sigma_pipeline_t *p = NULL;
        if (mw_sigma_pipeline_load(names[i], &p, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        pl[i] = p;
        rs[i] = mw_sigma_ruleset_new();
        mw_sigma_ruleset_set_pipeline(rs[i], p);
        const char *r =
            "title: W\nid: w\nlogsource: {product: windows, category: process_creation}\n"
            "detection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";
        assert_int_equal(mw_sigma_add_string(rs[i], r, strlen(r), "w.yml"), 0);
    }
    assert_string_equal(mw_sigma_pipeline_name(pl[0]), "sysmon");
    assert_string_equal(mw_sigma_pipeline_name(pl[1]), "windows-audit");
    const char *sys = "Microsoft-Windows-Sysmon/Operational";
    assert_int_equal(
        nmatch(rs[0], mkev("Channel", sys, "EventID", "1", "Image", "C:\\whoami.exe", NULL)), 1);
    assert_int_equal(
        nmatch(rs[0], mkev("Channel", sys, "EventID", "11", "Image", "C:\\whoami.exe", NULL)), 0);
    assert_int_equal(nmatch(rs[1], mkev("Channel", "Security", "EventID", "4688", "NewProcessName",
                                        "C:\\whoami.exe", NULL)),
                     1);
    assert_int_equal(
        nmatch(rs[1], mkev("Channel", sys, "EventID", "1", "Image", "C:\\whoami.exe", NULL)), 0);
    for (int i = 0; i < 2; i++)
        mw_sigma_ruleset_free(rs[i]);
}

int main(void)
{
    sg_hs_min_anchors = 1; /* every slot with a literal anchor gets a database */
    mw_log_set_level(MW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditions_and_renames),
        cmocka_unit_test(test_unsupported_and_unmapped),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_bundled),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
