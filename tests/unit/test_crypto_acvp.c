/* The ACVP runner (src/crypto/acvp.c) on hand-written vector sets: malformed
 * JSON, missing fields, bad hex, wrong lengths, caps, unsupported groups
 * (skipped, never passed), the prompt/expectedResults join; and on the NIST
 * files of the shared data (skipped when absent): a tampered expected value
 * fails exactly that tcId. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "mwrasp/pqc.h"

/* Runs json (and expected, if not NULL) and returns the report text
 * (malloc'd) with the status in *rc and the counts in *c. */
static char *run(const char *json, const char *expected, int *rc, struct mw_acvp_counts *c)
{
    char *text = NULL;
    size_t tlen = 0;
    FILE *rep = open_memstream(&text, &tlen);
    assert_non_null(rep);
    memset(c, 0, sizeof *c);
    *rc = mw_acvp_run_buffer("t.json", json, strlen(json), expected,
                             expected ? strlen(expected) : 0, rep, c);
    fclose(rep);
    return text;
}

#define KG_HEAD                                                                                    \
    "{\"vsId\":7,\"algorithm\":\"ML-KEM\",\"mode\":\"keyGen\",\"revision\":\"FIPS203\","           \
    "\"testGroups\":[{\"tgId\":1,\"testType\":\"AFT\",\"parameterSet\":\"ML-KEM-512\",\"tests\":["
#define Z32 "0000000000000000000000000000000000000000000000000000000000000000"

static void test_malformed_json(void **st)
{
    (void)st;
    struct mw_acvp_counts c;
    int rc;
    char *t = run("{\"vsId\": 1, \"testGroups\": [", NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_non_null(strstr(t, "t.json: error: not valid JSON: line 1"));
    assert_int_equal(c.passed + c.failed, 0);
    assert_int_equal(c.errors, 1);
    free(t);
    t = run("[1,2]", NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_non_null(strstr(t, "not an ACVP vector set"));
    free(t);
    t = run("{\"algorithm\":\"ML-KEM\",\"mode\":\"keyGen\",\"testGroups\":{}}", NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    free(t);
    /* duplicate keys are refused */
    t = run("{\"algorithm\":\"ML-KEM\",\"algorithm\":\"x\",\"mode\":\"keyGen\",\"testGroups\":[]}",
            NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    free(t);
    assert_int_equal(mw_acvp_run_buffer("x", NULL, 1, NULL, 0, NULL, &c), MW_EINVAL);
}

static void test_bad_fields(void **st)
{
    (void)st;
    struct mw_acvp_counts c;
    int rc;
    /* tcId 1: no d; 2: bad hex; 3: odd length; 4: no ek (computed, then
     * missing); 5: z a number; 6: no tcId */
    char *t = run(KG_HEAD "{\"tcId\":1,\"z\":\"" Z32 "\"},"
                          "{\"tcId\":2,\"d\":\"" Z32 "\",\"z\":\"0G" Z32 "\"},"
                          "{\"tcId\":3,\"d\":\"" Z32 "0\",\"z\":\"" Z32 "\"},"
                          "{\"tcId\":4,\"d\":\"" Z32 "\",\"z\":\"" Z32 "\"},"
                          "{\"tcId\":5,\"d\":\"" Z32 "\",\"z\":5},"
                          "{\"d\":\"" Z32 "\",\"z\":\"" Z32 "\"}]}]}",
                  NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_non_null(strstr(t, "t.json: vsId 7 tgId 1 tcId 1 (ML-KEM-512 keyGen): error: missing "
                              "field \"d\""));
    assert_non_null(
        strstr(t, "tcId 2 (ML-KEM-512 keyGen): error: field \"z\": not a hex digit at offset 1"));
    assert_non_null(strstr(t, "tcId 3 (ML-KEM-512 keyGen): error: field \"d\": odd number"));
    assert_non_null(strstr(t, "tcId 5 (ML-KEM-512 keyGen): error: field \"z\" is not a string"));
    assert_non_null(strstr(t, "test #6 of the group has no integer tcId"));
    /* tcId 4 has a good d and z but no ek: computed, then missing "ek" */
    assert_non_null(strstr(t, "tcId 4 (ML-KEM-512 keyGen): error: missing field \"ek\""));
    assert_int_equal(c.passed, 0);
    assert_int_equal(c.failed, 6);
    assert_int_equal(c.errors, 6);
    free(t);

    t = run(KG_HEAD "{\"tcId\":9,\"d\":\"" Z32 "00\",\"z\":\"" Z32 "\"},"
                    "{\"tcId\":10,\"d\":\"" Z32 "\",\"z\":\"x" Z32 "x\"}]}]}",
            NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_non_null(strstr(t, "tcId 9 (ML-KEM-512 keyGen): error: field \"d\" has 33 bytes, must "
                              "have 32"));
    assert_non_null(strstr(t, "tcId 10 (ML-KEM-512 keyGen): error: field \"z\": not a hex digit at "
                              "offset 0"));
    free(t);
}

/* A hex field over MW_ACVP_MAX_HEX_BYTES is refused before it is decoded. */
static void test_hex_cap(void **st)
{
    (void)st;
    size_t n = 2 * (size_t)MW_ACVP_MAX_HEX_BYTES + 2;
    const char *head =
        "{\"algorithm\":\"ML-KEM\",\"mode\":\"encapDecap\",\"revision\":\"FIPS203\","
        "\"testGroups\":[{\"tgId\":1,\"function\":\"encapsulationKeyCheck\","
        "\"parameterSet\":\"ML-KEM-768\",\"tests\":[{\"tcId\":4,\"testPassed\":false,"
        "\"ek\":\"";
    char *j = malloc(strlen(head) + n + 16);
    assert_non_null(j);
    strcpy(j, head);
    memset(j + strlen(head), 'A', n);
    strcpy(j + strlen(head) + n, "\"}]}]}");
    struct mw_acvp_counts c;
    int rc;
    char *t = run(j, NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_non_null(strstr(t, "tcId 4 (ML-KEM-768 encapsulationKeyCheck): error: field \"ek\": "
                              "1048577 bytes, more than the cap"));
    free(t);
    free(j);
}

/* Key checks on keys of a wrong length (FIPS 203 sections 7.2, 7.3: the
 * length is part of the check): testPassed false passes, true fails. */
static void test_keycheck_lengths(void **st)
{
    (void)st;
    struct mw_acvp_counts c;
    int rc;
    char *t =
        run("{\"vsId\":3,\"algorithm\":\"ML-KEM\",\"mode\":\"encapDecap\",\"revision\":"
            "\"FIPS203\",\"testGroups\":["
            "{\"tgId\":1,\"function\":\"encapsulationKeyCheck\",\"parameterSet\":\"ML-KEM-512\","
            "\"tests\":[{\"tcId\":1,\"ek\":\"00\",\"testPassed\":false},"
            "{\"tcId\":2,\"ek\":\"\",\"testPassed\":true}]},"
            "{\"tgId\":2,\"function\":\"decapsulationKeyCheck\",\"parameterSet\":\"ML-KEM-1024\","
            "\"tests\":[{\"tcId\":3,\"dk\":\"0102\",\"testPassed\":false},"
            "{\"tcId\":4,\"dk\":\"0102\",\"testPassed\":\"no\"}]}]}",
            NULL, &rc, &c);
    assert_int_equal(rc, MW_EPARSE); /* tcId 4 */
    assert_int_equal(c.passed, 2);
    assert_int_equal(c.failed, 2);
    assert_int_equal(c.errors, 1);
    assert_non_null(strstr(t, "tcId 2 (ML-KEM-512 encapsulationKeyCheck): FAILED: testPassed is "
                              "false, expected true"));
    assert_non_null(strstr(t, "tcId 4 (ML-KEM-1024 decapsulationKeyCheck): error: field "
                              "\"testPassed\" is not a boolean"));
    assert_null(strstr(t, "tcId 1 "));
    assert_null(strstr(t, "tcId 3 "));
    free(t);
}

/* Unknown algorithm, revision, parameter set, function, interface,
 * keyFormat: skipped with the reason, never passed. */
static void test_skipped(void **st)
{
    (void)st;
    struct mw_acvp_counts c;
    int rc;
    char *t = run("{\"vsId\":1,\"algorithm\":\"SLH-DSA\",\"mode\":\"keyGen\",\"revision\":"
                  "\"FIPS205\",\"testGroups\":[{\"tgId\":1,\"tests\":[{\"tcId\":1},{\"tcId\":2}]},"
                  "{\"tgId\":2,\"tests\":[{\"tcId\":3}]}]}",
                  NULL, &rc, &c);
    assert_int_equal(rc, 0);
    assert_int_equal(c.skipped, 3);
    assert_int_equal(c.passed + c.failed + c.errors, 0);
    assert_non_null(strstr(t, "skipped 3 cases: algorithm \"SLH-DSA\" mode \"keyGen\" revision "
                              "\"FIPS205\" is not supported"));
    free(t);
    t = run("{\"algorithm\":\"ML-KEM\",\"mode\":\"keyGen\",\"revision\":\"FIPS203-draft\","
            "\"testGroups\":[{\"tgId\":1,\"tests\":[{\"tcId\":1}]}]}",
            NULL, &rc, &c);
    assert_int_equal(c.skipped, 1);
    assert_non_null(strstr(t, "revision \"FIPS203-draft\" is not supported"));
    free(t);
    t = run(
        "{\"vsId\":5,\"algorithm\":\"ML-DSA\",\"mode\":\"sigGen\",\"revision\":\"FIPS204\","
        "\"testGroups\":["
        "{\"tgId\":1,\"parameterSet\":\"ML-DSA-33\",\"tests\":[{\"tcId\":1}]},"
        "{\"tgId\":2,\"parameterSet\":\"ML-DSA-44\",\"keyFormat\":\"seed\",\"deterministic\":"
        "true,\"signatureInterface\":\"internal\",\"tests\":[{\"tcId\":2},{\"tcId\":3}]},"
        "{\"tgId\":3,\"parameterSet\":\"ML-DSA-44\",\"deterministic\":true,"
        "\"signatureInterface\":\"sideways\",\"tests\":[{\"tcId\":4}]},"
        "{\"tgId\":4,\"parameterSet\":\"ML-DSA-44\",\"deterministic\":true,\"tests\":[{\"tcId\":"
        "5}]},"
        "{\"tgId\":5,\"parameterSet\":\"ML-DSA-44\",\"deterministic\":true,"
        "\"signatureInterface\":\"external\",\"preHash\":\"maybe\",\"tests\":[{\"tcId\":6}]}]}",
        NULL, &rc, &c);
    assert_int_equal(rc, 0);
    assert_int_equal(c.skipped, 6);
    assert_int_equal(c.passed + c.failed, 0);
    assert_non_null(strstr(t, "vsId 5 tgId 1: skipped 1 case: unknown parameterSet \"ML-DSA-33\""));
    assert_non_null(strstr(t, "tgId 2: skipped 2 cases: keyFormat groups"));
    assert_non_null(strstr(t, "tgId 3: skipped 1 case: unknown signatureInterface"));
    assert_non_null(strstr(t, "tgId 4: skipped 1 case: no signatureInterface"));
    assert_non_null(strstr(t, "tgId 5: skipped 1 case: external interface with an unknown"));
    free(t);
    t = run("{\"algorithm\":\"ML-KEM\",\"mode\":\"encapDecap\",\"revision\":\"FIPS203\","
            "\"testGroups\":[{\"tgId\":1,\"function\":\"rekey\",\"parameterSet\":\"ML-KEM-512\","
            "\"tests\":[{\"tcId\":1}]}]}",
            NULL, &rc, &c);
    assert_int_equal(c.skipped, 1);
    assert_non_null(strstr(t, "unknown function \"rekey\""));
    free(t);
}

/* prompt + expectedResults: joined on (tgId, tcId); a prompt case without an
 * expected result and an expected result without a prompt case are errors. */
static void test_join(void **st)
{
    (void)st;
    struct mw_acvp_counts c;
    int rc;
    const char *prompt =
        "{\"vsId\":9,\"algorithm\":\"ML-KEM\",\"mode\":\"encapDecap\",\"revision\":\"FIPS203\","
        "\"testGroups\":[{\"tgId\":1,\"function\":\"encapsulationKeyCheck\",\"parameterSet\":"
        "\"ML-KEM-768\",\"tests\":[{\"tcId\":1,\"ek\":\"00\"},{\"tcId\":2,\"ek\":\"0000\"}]},"
        "{\"tgId\":2,\"function\":\"nothing\",\"parameterSet\":\"ML-KEM-768\",\"tests\":[{"
        "\"tcId\":3}]}]}";
    char *t =
        run(prompt,
            "{\"vsId\":9,\"testGroups\":[{\"tgId\":1,\"tests\":[{\"tcId\":1,\"testPassed\":"
            "false},{\"tcId\":2,\"testPassed\":false}]},{\"tgId\":2,\"tests\":[{\"tcId\":3}]}]}",
            &rc, &c);
    assert_int_equal(rc, 0);
    assert_int_equal(c.passed, 2);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(c.failed + c.errors, 0);
    free(t);
    /* tcId 2 has no expected result; tgId 1 tcId 8 has no prompt case */
    t = run(prompt,
            "{\"vsId\":9,\"testGroups\":[{\"tgId\":1,\"tests\":[{\"tcId\":1,\"testPassed\":false},"
            "{\"tcId\":8,\"testPassed\":false}]}]}",
            &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_int_equal(c.passed, 1);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.errors, 2);
    assert_non_null(
        strstr(t, "tcId 2 (ML-KEM-768 encapsulationKeyCheck): error: no expected result"));
    assert_non_null(strstr(t, "expected result tgId:tcId 1:8 has no case in the prompt"));
    free(t);
    /* a different vsId; a duplicate case */
    t = run(prompt, "{\"vsId\":10,\"testGroups\":[]}", &rc, &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_non_null(strstr(t, "vsId differs"));
    free(t);
    t = run(prompt, "{\"testGroups\":[{\"tgId\":1,\"tests\":[{\"tcId\":1},{\"tcId\":1}]}]}", &rc,
            &c);
    assert_int_equal(rc, MW_EPARSE);
    assert_non_null(strstr(t, "tgId 1 tcId 1 appears twice"));
    free(t);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The NIST ML-KEM keyGen file: every case passes; with one nibble of one ek
 * changed, exactly that tcId fails. */
static void test_nist_tamper(void **st)
{
    (void)st;
    char path[1024];
    const char *d = getenv("MW_SHARED_DATA");
    snprintf(path, sizeof path, "%s/acvp/ML-KEM-keyGen-FIPS203/internalProjection.json",
             d ? d : MW_SHARED_DATA);
    size_t len = 0;
    char *buf = slurp(path, &len);
    if (buf == NULL) {
        printf("SKIP: %s not found (shared test data absent)\n", path);
        skip();
    }
    json_t *root = json_loadb(buf, len, 0, NULL);
    assert_non_null(root);
    size_t ncases = 0, gi;
    json_t *g;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g) ncases +=
        json_array_size(json_object_get(g, "tests"));
    struct mw_acvp_counts c = {0};
    assert_int_equal(mw_acvp_run_buffer(path, buf, len, NULL, 0, NULL, &c), 0);
    assert_int_equal(c.passed, ncases);
    assert_int_equal(c.failed + c.skipped + c.errors, 0);

    json_t *t = json_array_get(
        json_object_get(json_array_get(json_object_get(root, "testGroups"), 2), "tests"), 1);
    char *ek = strdup(json_string_value(json_object_get(t, "ek")));
    ek[700] = ek[700] == '7' ? '8' : '7';
    json_object_set_new(t, "ek", json_string(ek));
    free(ek);
    char *j = json_dumps(root, 0);
    int rc;
    char *text = run(j, NULL, &rc, &c);
    assert_int_equal(rc, 0);
    assert_int_equal(c.passed, ncases - 1);
    assert_int_equal(c.failed, 1);
    char want[128];
    snprintf(want, sizeof want, "tcId %lld (ML-KEM-1024 keyGen): FAILED: ek differs",
             (long long)json_integer_value(json_object_get(t, "tcId")));
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "at byte 350 of 1568"));
    free(text);
    free(j);
    json_decref(root);
    free(buf);
}

/* The fuzzer's seeds (fuzz/seeds/acvp/) replayed as fuzz_acvp reads them: a
 * NUL splits prompt and expected results; the status is a documented one. */
static void test_fuzz_seeds(void **st)
{
    (void)st;
    static const char *const names[] = {"dsa_keygen.json", "dsa_siggen_joined", "dsa_sigver.json",
                                        "kem_checks.json", "kem_keygen.json",   "unknown.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/fuzz/seeds/acvp/%s", MW_SOURCE_DIR, names[i]);
        char *b = slurp(path, &len);
        assert_non_null(b);
        const char *nul = memchr(b, '\0', len);
        size_t plen = nul ? (size_t)(nul - b) : len;
        struct mw_acvp_counts c = {0};
        int rc = mw_acvp_run_buffer(names[i], b, plen, nul ? nul + 1 : NULL,
                                    nul ? len - plen - 1 : 0, NULL, &c);
        assert_true(rc == 0 || rc == MW_EPARSE);
        assert_true(c.passed + c.failed + c.skipped > 0);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_json), cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_hex_cap),        cmocka_unit_test(test_keycheck_lengths),
        cmocka_unit_test(test_skipped),        cmocka_unit_test(test_join),
        cmocka_unit_test(test_nist_tamper),    cmocka_unit_test(test_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
