/* ML-DSA (FIPS 204) unit tests: the rounding and NTT helpers against their
 * definitions (exhaustively / schoolbook), every NIST ACVP ML-DSA keyGen,
 * sigGen and sigVer case under $MW_SHARED_DATA/acvp (read at test time),
 * round trips of the randomized API, wrong lengths, malformed hints,
 * flipped bits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "mwrasp/pqc.h"
#include "crypto/mldsa_internal.h"

#include <dirent.h>

/* The fuzz harness, for its seed replay (fuzz_mldsa_verify_one). */
#include "../../fuzz/fuzz_mldsa_verify.c"

#define Q 8380417

static const mw_mldsa_param_t SETS[3] = {MW_MLDSA44, MW_MLDSA65, MW_MLDSA87};

/* ---- helpers ---- */

static const char *acvp_dir(void)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/acvp", MW_SHARED_DATA);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return path;
}

static json_t *load_json(const char *rel)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", acvp_dir(), rel);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    return j;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the hex string field `key` of obj (malloc'd, at least 1 byte). */
static uint8_t *hex_field(json_t *obj, const char *key, size_t *len)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s)
        fail_msg("missing hex field %s", key);
    size_t n = strlen(s);
    assert_int_equal(n % 2, 0);
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

static mw_mldsa_param_t group_param(json_t *g)
{
    mw_mldsa_param_t p;
    assert_int_equal(
        mw_mldsa_param_from_name(json_string_value(json_object_get(g, "parameterSet")), &p), 0);
    return p;
}

static const char *str_field(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

#define SKIP_WITHOUT_DATA()                                                                        \
    do {                                                                                           \
        if (!acvp_dir()) {                                                                         \
            print_message("SKIP: %s/acvp is absent: no ACVP vectors to run\n", MW_SHARED_DATA);    \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- rounding and arithmetic against their definitions ---- */

/* Decompose (FIPS 204 Algorithm 36) by its definition, for every a in [0, q). */
static void test_decompose_exhaustive(void **state)
{
    (void)state;
    const int32_t g2s[2] = {(Q - 1) / 88, (Q - 1) / 32};
    for (int gi = 0; gi < 2; gi++) {
        int32_t g2 = g2s[gi];
        for (int32_t a = 0; a < Q; a++) {
            /* r0 = a mod+- 2 gamma2, in (-gamma2, gamma2] */
            int32_t r0 = a % (2 * g2);
            if (r0 > g2)
                r0 -= 2 * g2;
            int32_t r1;
            if (a - r0 == Q - 1) {
                r1 = 0;
                r0 = r0 - 1;
            } else {
                r1 = (a - r0) / (2 * g2);
            }
            int32_t got0;
            int32_t got1 = mw_mldsa_test_decompose(g2, a, &got0);
            if (got1 != r1 || got0 != r0)
                fail_msg("decompose(%d, gamma2=%d) = (%d, %d), want (%d, %d)", a, g2, got1, got0,
                         r1, r0);
        }
    }
}

/* Power2Round (Algorithm 35) for every a in [0, q). */
static void test_power2round_exhaustive(void **state)
{
    (void)state;
    for (int32_t a = 0; a < Q; a++) {
        int32_t r0 = a % 8192;
        if (r0 > 4096)
            r0 -= 8192;
        int32_t r1 = (a - r0) / 8192, g1, g0;
        mw_mldsa_test_power2round(a, &g1, &g0);
        if (g1 != r1 || g0 != r0)
            fail_msg("power2round(%d) = (%d, %d), want (%d, %d)", a, g1, g0, r1, r0);
    }
}

/* The NTT product against the schoolbook product in Z_q[X]/(X^256 + 1). */
static void test_ntt_polymul(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int round = 0; round < 20; round++) {
        int32_t a[256], b[256], c[256];
        int64_t want[256] = {0};
        for (int i = 0; i < 256; i++) {
            seed = seed * 1103515245u + 12345u;
            a[i] = (int32_t)(seed % Q) - (round & 1 ? Q / 2 : 0);
            seed = seed * 1103515245u + 12345u;
            b[i] = round < 2 ? (i == round) : (int32_t)(seed % Q);
        }
        for (int i = 0; i < 256; i++) {
            for (int j = 0; j < 256; j++) {
                int64_t t = ((int64_t)a[i] * b[j]) % Q;
                if (i + j < 256)
                    want[i + j] = (want[i + j] + t) % Q;
                else
                    want[i + j - 256] = (want[i + j - 256] - t) % Q;
            }
        }
        mw_mldsa_test_polymul(c, a, b);
        for (int i = 0; i < 256; i++) {
            int64_t w = (want[i] % Q + Q) % Q;
            if (c[i] != w)
                fail_msg("round %d coefficient %d: %d, want %lld", round, i, c[i], (long long)w);
        }
    }
}

/* ---- names and sizes ---- */

static void test_names_sizes(void **state)
{
    (void)state;
    const size_t pk[3] = {1312, 1952, 2592}, sk[3] = {2560, 4032, 4896},
                 sig[3] = {2420, 3309, 4627};
    const char *names[3] = {"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mw_mldsa_pk_bytes(SETS[i]), pk[i]);
        assert_int_equal(mw_mldsa_sk_bytes(SETS[i]), sk[i]);
        assert_int_equal(mw_mldsa_sig_bytes(SETS[i]), sig[i]);
        assert_string_equal(mw_mldsa_name(SETS[i]), names[i]);
        mw_mldsa_param_t p;
        assert_int_equal(mw_mldsa_param_from_name(names[i], &p), 0);
        assert_int_equal(p, SETS[i]);
    }
    assert_int_equal(mw_mldsa_pk_bytes((mw_mldsa_param_t)3), 0);
    assert_null(mw_mldsa_name((mw_mldsa_param_t)0));
    mw_mldsa_param_t p;
    assert_int_equal(mw_mldsa_param_from_name("ML-DSA-66", &p), MW_EINVAL);
    assert_int_equal(mw_mldsa_param_from_name("ml-dsa-44", &p), MW_EINVAL);
    const char *ph[12] = {"SHA2-224",     "SHA2-256",     "SHA2-384",  "SHA2-512",
                          "SHA2-512/224", "SHA2-512/256", "SHA3-224",  "SHA3-256",
                          "SHA3-384",     "SHA3-512",     "SHAKE-128", "SHAKE-256"};
    for (int i = 0; i < 12; i++) {
        mw_ph_alg_t a;
        assert_int_equal(mw_ph_alg_from_name(ph[i], &a), 0);
        assert_int_equal(a, (mw_ph_alg_t)i);
    }
    mw_ph_alg_t a;
    assert_int_equal(mw_ph_alg_from_name("SHA-256", &a), MW_EINVAL);
    assert_int_equal(mw_ph_alg_from_name("none", &a), MW_EINVAL);
}

/* ---- ACVP ---- */

static void test_acvp_keygen(void **state)
{
    (void)state;
    SKIP_WITHOUT_DATA();
    json_t *root = load_json("ML-DSA-keyGen-FIPS204/internalProjection.json");
    size_t gi, ti, passed = 0, total = 0;
    json_t *g, *t;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        mw_mldsa_param_t p = group_param(g);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            size_t xl, pkl, skl;
            uint8_t *xi = hex_field(t, "seed", &xl);
            uint8_t *epk = hex_field(t, "pk", &pkl);
            uint8_t *esk = hex_field(t, "sk", &skl);
            uint8_t pk[MW_MLDSA_MAX_PK_BYTES], sk[MW_MLDSA_MAX_SK_BYTES];
            assert_int_equal(xl, 32);
            assert_int_equal(pkl, mw_mldsa_pk_bytes(p));
            assert_int_equal(skl, mw_mldsa_sk_bytes(p));
            assert_int_equal(mw_mldsa_keygen_internal(p, pk, sk, xi), 0);
            total++;
            if (memcmp(pk, epk, pkl) == 0 && memcmp(sk, esk, skl) == 0)
                passed++;
            else
                print_message("keyGen tcId %lld failed\n",
                              (long long)json_integer_value(json_object_get(t, "tcId")));
            free(xi);
            free(epk);
            free(esk);
        }
    }
    json_decref(root);
    print_message("ACVP ML-DSA keyGen: %zu of %zu passed\n", passed, total);
    assert_true(total > 0);
    assert_int_equal(passed, total);
}

static json_t *find_by(json_t *arr, const char *key, json_int_t id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_integer_value(json_object_get(v, key)) == id)
            return v;
    }
    return NULL;
}

/* Categories: 0 external pure, 1 external preHash, 2 internal, 3 internal mu. */
static int category(json_t *g)
{
    if (strcmp(str_field(g, "signatureInterface"), "external") == 0)
        return strcmp(str_field(g, "preHash"), "preHash") == 0 ? 1 : 0;
    return json_is_true(json_object_get(g, "externalMu")) ? 3 : 2;
}

static void test_acvp_siggen(void **state)
{
    (void)state;
    SKIP_WITHOUT_DATA();
    json_t *prompt = load_json("ML-DSA-sigGen-FIPS204/prompt.json");
    json_t *expect = load_json("ML-DSA-sigGen-FIPS204/expectedResults.json");
    json_t *egroups = json_object_get(expect, "testGroups");
    size_t gi, ti, passed = 0, total = 0, per_cat[4][2] = {{0}};
    json_t *g, *t;
    json_array_foreach(json_object_get(prompt, "testGroups"), gi, g)
    {
        mw_mldsa_param_t p = group_param(g);
        int cat = category(g);
        int det = json_is_true(json_object_get(g, "deterministic"));
        json_t *eg = find_by(egroups, "tgId", json_integer_value(json_object_get(g, "tgId")));
        assert_non_null(eg);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            json_int_t tc = json_integer_value(json_object_get(t, "tcId"));
            json_t *et = find_by(json_object_get(eg, "tests"), "tcId", tc);
            assert_non_null(et);
            size_t skl, ml = 0, cl = 0, rl = 32, esl;
            uint8_t *sk = hex_field(t, "sk", &skl);
            uint8_t *msg = hex_field(t, cat == 3 ? "mu" : "message", &ml);
            uint8_t *ctx = cat <= 1 ? hex_field(t, "context", &cl) : NULL;
            uint8_t zero[32] = {0};
            uint8_t *rnd = det ? zero : hex_field(t, "rnd", &rl);
            uint8_t *esig = hex_field(et, "signature", &esl);
            uint8_t sig[MW_MLDSA_MAX_SIG_BYTES];
            assert_int_equal(rl, 32);
            assert_int_equal(esl, mw_mldsa_sig_bytes(p));
            int rc;
            if (cat == 0) {
                rc = mw_mldsa_sign(p, sig, sk, skl, msg, ml, ctx, cl, rnd);
            } else if (cat == 1) {
                mw_ph_alg_t ph;
                assert_int_equal(mw_ph_alg_from_name(str_field(t, "hashAlg"), &ph), 0);
                rc = mw_hashmldsa_sign(p, sig, sk, skl, msg, ml, ctx, cl, ph, rnd);
            } else if (cat == 2) {
                rc = mw_mldsa_sign_internal(p, sig, sk, skl, msg, ml, rnd);
            } else {
                assert_int_equal(ml, 64);
                rc = mw_mldsa_sign_mu(p, sig, sk, skl, msg, rnd);
            }
            total++;
            if (rc == 0 && memcmp(sig, esig, esl) == 0) {
                passed++;
                per_cat[cat][det]++;
            } else {
                print_message("sigGen tgId %lld tcId %lld failed (rc %d)\n",
                              (long long)json_integer_value(json_object_get(g, "tgId")),
                              (long long)tc, rc);
            }
            free(sk);
            free(msg);
            free(ctx);
            if (!det)
                free(rnd);
            free(esig);
        }
    }
    json_decref(prompt);
    json_decref(expect);
    print_message("ACVP ML-DSA sigGen: %zu of %zu passed\n", passed, total);
    assert_int_equal(passed, total);
    for (int c = 0; c < 4; c++)
        for (int d = 0; d < 2; d++)
            if (per_cat[c][d] == 0)
                fail_msg("sigGen: no case of category %d deterministic=%d ran", c, d);
}

static void test_acvp_sigver(void **state)
{
    (void)state;
    SKIP_WITHOUT_DATA();
    json_t *root = load_json("ML-DSA-sigVer-FIPS204/internalProjection.json");
    size_t gi, ti, passed = 0, total = 0, per_cat[4][2] = {{0}};
    json_t *g, *t;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        mw_mldsa_param_t p = group_param(g);
        int cat = category(g);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            size_t pkl, ml = 0, cl = 0, sl;
            uint8_t *pk = hex_field(t, "pk", &pkl);
            uint8_t *msg = hex_field(t, cat == 3 ? "mu" : "message", &ml);
            uint8_t *ctx = cat <= 1 ? hex_field(t, "context", &cl) : NULL;
            uint8_t *sig = hex_field(t, "signature", &sl);
            int want = json_is_true(json_object_get(t, "testPassed"));
            int rc;
            if (cat == 0) {
                rc = mw_mldsa_verify(p, pk, pkl, msg, ml, ctx, cl, sig, sl);
            } else if (cat == 1) {
                mw_ph_alg_t ph;
                assert_int_equal(mw_ph_alg_from_name(str_field(t, "hashAlg"), &ph), 0);
                rc = mw_hashmldsa_verify(p, pk, pkl, msg, ml, ctx, cl, ph, sig, sl);
            } else if (cat == 2) {
                rc = mw_mldsa_verify_internal(p, pk, pkl, msg, ml, sig, sl);
            } else {
                assert_int_equal(ml, 64);
                rc = mw_mldsa_verify_mu(p, pk, pkl, msg, sig, sl);
            }
            total++;
            if ((want && rc == 0) || (!want && rc == MW_EVERIFY)) {
                passed++;
                per_cat[cat][want]++;
            } else {
                print_message("sigVer tcId %lld (%s) failed: rc %d, want %s\n",
                              (long long)json_integer_value(json_object_get(t, "tcId")),
                              str_field(t, "reason"), rc, want ? "valid" : "invalid");
            }
            free(pk);
            free(msg);
            free(ctx);
            free(sig);
        }
    }
    json_decref(root);
    print_message("ACVP ML-DSA sigVer: %zu of %zu passed\n", passed, total);
    assert_int_equal(passed, total);
    for (int c = 0; c < 4; c++)
        for (int v = 0; v < 2; v++)
            if (per_cat[c][v] == 0)
                fail_msg("sigVer: no case of category %d valid=%d ran", c, v);
}

/* ---- the randomized API and bad input ---- */

static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t pk[MW_MLDSA_MAX_PK_BYTES], sk[MW_MLDSA_MAX_SK_BYTES], sig[MW_MLDSA_MAX_SIG_BYTES],
        sig2[MW_MLDSA_MAX_SIG_BYTES];
    const uint8_t msg[] = "threat report 42";
    const uint8_t ctx[] = "mwrasp";
    uint8_t bigctx[256];
    memset(bigctx, 7, sizeof bigctx);
    for (int i = 0; i < 3; i++) {
        mw_mldsa_param_t p = SETS[i];
        size_t pkl = mw_mldsa_pk_bytes(p), skl = mw_mldsa_sk_bytes(p), sl = mw_mldsa_sig_bytes(p);
        assert_int_equal(mw_mldsa_keygen(p, pk, sk), 0);
        /* hedged (rnd NULL) */
        assert_int_equal(mw_mldsa_sign(p, sig, sk, skl, msg, sizeof msg, ctx, 6, NULL), 0);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, ctx, 6, sig, sl), 0);
        /* hedged twice: different signatures, both valid */
        assert_int_equal(mw_mldsa_sign(p, sig2, sk, skl, msg, sizeof msg, ctx, 6, NULL), 0);
        assert_memory_not_equal(sig, sig2, sl);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, ctx, 6, sig2, sl), 0);
        /* deterministic: same signature twice */
        uint8_t zero[32] = {0};
        assert_int_equal(mw_mldsa_sign(p, sig, sk, skl, msg, sizeof msg, NULL, 0, zero), 0);
        assert_int_equal(mw_mldsa_sign(p, sig2, sk, skl, msg, sizeof msg, NULL, 0, zero), 0);
        assert_memory_equal(sig, sig2, sl);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, sig, sl), 0);
        /* wrong context, wrong interface */
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, ctx, 1, sig, sl), MW_EVERIFY);
        assert_int_equal(mw_mldsa_verify_internal(p, pk, pkl, msg, sizeof msg, sig, sl),
                         MW_EVERIFY);
        /* a flipped bit anywhere in the signature or the message */
        for (size_t bit = 0; bit < sl * 8; bit += 61) {
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, sig, sl),
                             MW_EVERIFY);
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        uint8_t m2[sizeof msg];
        memcpy(m2, msg, sizeof msg);
        for (size_t bit = 0; bit < sizeof msg * 8; bit += 5) {
            m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(mw_mldsa_verify(p, pk, pkl, m2, sizeof m2, NULL, 0, sig, sl),
                             MW_EVERIFY);
            m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* the mu interface agrees with the internal one */
        uint8_t mu[64];
        memset(mu, 0xa5, sizeof mu);
        assert_int_equal(mw_mldsa_sign_mu(p, sig, sk, skl, mu, NULL), 0);
        assert_int_equal(mw_mldsa_verify_mu(p, pk, pkl, mu, sig, sl), 0);
        mu[3] ^= 1;
        assert_int_equal(mw_mldsa_verify_mu(p, pk, pkl, mu, sig, sl), MW_EVERIFY);
        /* HashML-DSA, every pre-hash; a different pre-hash does not verify */
        for (int ph = MW_PH_SHA2_224; ph <= MW_PH_SHAKE256; ph++) {
            assert_int_equal(
                mw_hashmldsa_sign(p, sig, sk, skl, msg, sizeof msg, ctx, 6, (mw_ph_alg_t)ph, NULL),
                0);
            assert_int_equal(
                mw_hashmldsa_verify(p, pk, pkl, msg, sizeof msg, ctx, 6, (mw_ph_alg_t)ph, sig, sl),
                0);
            mw_ph_alg_t other = (mw_ph_alg_t)((ph + 1) % 12);
            assert_int_equal(
                mw_hashmldsa_verify(p, pk, pkl, msg, sizeof msg, ctx, 6, other, sig, sl),
                MW_EVERIFY);
            assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, ctx, 6, sig, sl),
                             MW_EVERIFY);
        }
        /* an empty message */
        assert_int_equal(mw_mldsa_sign(p, sig, sk, skl, NULL, 0, NULL, 0, NULL), 0);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, NULL, 0, NULL, 0, sig, sl), 0);
        assert_int_equal(mw_hashmldsa_sign(p, sig, sk, skl, NULL, 0, NULL, 0, MW_PH_SHA2_256, NULL),
                         0);
        assert_int_equal(mw_hashmldsa_verify(p, pk, pkl, NULL, 0, NULL, 0, MW_PH_SHA2_256, sig, sl),
                         0);

        /* ctx of 255 bytes works, 256 is refused (the signature is zeroed) */
        assert_int_equal(mw_mldsa_sign(p, sig, sk, skl, msg, sizeof msg, bigctx, 255, NULL), 0);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, bigctx, 255, sig, sl), 0);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, bigctx, 256, sig, sl),
                         MW_EINVAL);
        assert_int_equal(mw_mldsa_sign(p, sig, sk, skl, msg, sizeof msg, bigctx, 256, NULL),
                         MW_EINVAL);
        uint8_t zsig[MW_MLDSA_MAX_SIG_BYTES] = {0};
        assert_memory_equal(sig, zsig, sl);
        assert_int_equal(
            mw_hashmldsa_sign(p, sig, sk, skl, msg, sizeof msg, bigctx, 256, MW_PH_SHA2_256, NULL),
            MW_EINVAL);
        assert_int_equal(
            mw_hashmldsa_verify(p, pk, pkl, msg, sizeof msg, bigctx, 256, MW_PH_SHA2_256, sig, sl),
            MW_EINVAL);
        assert_int_equal(
            mw_hashmldsa_sign(p, sig, sk, skl, msg, sizeof msg, NULL, 0, (mw_ph_alg_t)12, NULL),
            MW_EINVAL);

        /* wrong lengths */
        assert_int_equal(mw_mldsa_sign(p, sig, sk, skl - 1, msg, sizeof msg, NULL, 0, NULL),
                         MW_EINVAL);
        assert_int_equal(mw_mldsa_sign_internal(p, sig, sk, skl + 1, msg, 1, NULL), MW_EINVAL);
        assert_int_equal(mw_mldsa_sign_mu(p, sig, sk, 0, mu, NULL), MW_EINVAL);
        assert_int_equal(mw_mldsa_sign(p, sig, sk, skl, msg, sizeof msg, NULL, 0, zero), 0);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl - 1, msg, sizeof msg, NULL, 0, sig, sl),
                         MW_EINVAL);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, sig, sl - 1),
                         MW_EVERIFY);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, sig, sl + 1),
                         MW_EVERIFY);
        assert_int_equal(mw_mldsa_verify_internal(p, pk, pkl, msg, 1, sig, 0), MW_EVERIFY);
        assert_int_equal(mw_mldsa_verify_mu(p, pk, pkl + 1, mu, sig, sl), MW_EINVAL);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, sig, sl), 0);
    }
    assert_int_equal(mw_mldsa_keygen((mw_mldsa_param_t)45, pk, sk), MW_EINVAL);
    assert_int_equal(mw_mldsa_verify((mw_mldsa_param_t)45, pk, 1312, msg, 1, NULL, 0, sig, 2420),
                     MW_EINVAL);
}

/* HintBitUnpack (Algorithm 21) rejects every malformed hint encoding. */
static void test_malformed_hints(void **state)
{
    (void)state;
    uint8_t pk[MW_MLDSA_MAX_PK_BYTES], sk[MW_MLDSA_MAX_SK_BYTES], sig[MW_MLDSA_MAX_SIG_BYTES],
        bad[MW_MLDSA_MAX_SIG_BYTES];
    const unsigned omega[3] = {80, 55, 75}, k[3] = {4, 6, 8};
    const uint8_t msg[] = "hints";
    for (int i = 0; i < 3; i++) {
        mw_mldsa_param_t p = SETS[i];
        size_t pkl = mw_mldsa_pk_bytes(p), skl = mw_mldsa_sk_bytes(p), sl = mw_mldsa_sig_bytes(p);
        uint8_t xi[32] = {(uint8_t)i};
        assert_int_equal(mw_mldsa_keygen_internal(p, pk, sk, xi), 0);
        /* find a signature with at least 2 hints in its first polynomial */
        uint8_t rnd[32] = {0};
        const uint8_t *y = sig + sl - omega[i] - k[i];
        for (int tries = 0;; tries++) {
            assert_true(tries < 1000);
            rnd[0] = (uint8_t)tries;
            rnd[1] = (uint8_t)(tries >> 8);
            assert_int_equal(mw_mldsa_sign(p, sig, sk, skl, msg, sizeof msg, NULL, 0, rnd), 0);
            if (y[omega[i]] >= 2)
                break;
        }
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, sig, sl), 0);
        size_t hy = sl - omega[i] - k[i]; /* offset of the hint bytes */
        unsigned total = sig[sl - 1];
        /* indices not strictly increasing: swap the first two */
        memcpy(bad, sig, sl);
        uint8_t t = bad[hy];
        bad[hy] = bad[hy + 1];
        bad[hy + 1] = t;
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                         MW_EVERIFY);
        /* a repeated index */
        memcpy(bad, sig, sl);
        bad[hy + 1] = bad[hy];
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                         MW_EVERIFY);
        /* counts decreasing: first count above the second */
        memcpy(bad, sig, sl);
        bad[hy + omega[i]] = (uint8_t)(bad[hy + omega[i] + 1] + 1);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                         MW_EVERIFY);
        /* a count above omega */
        memcpy(bad, sig, sl);
        bad[sl - 1] = (uint8_t)(omega[i] + 1);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                         MW_EVERIFY);
        bad[sl - 1] = 255;
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                         MW_EVERIFY);
        /* non-zero padding after the last index */
        if (total < omega[i]) {
            memcpy(bad, sig, sl);
            bad[hy + omega[i] - 1] = 1;
            assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                             MW_EVERIFY);
        }
        /* every count byte set to omega with garbage indices: no crash */
        memcpy(bad, sig, sl);
        for (unsigned j = 0; j < omega[i] + k[i]; j++)
            bad[hy + j] = (uint8_t)(j < omega[i] ? 255 - j : omega[i]);
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                         MW_EVERIFY);
        /* z out of range: the first coefficient of z all ones (gamma1 - (2^b - 1)) */
        memcpy(bad, sig, sl);
        size_t ct = i == 0 ? 32 : i == 1 ? 48 : 64;
        bad[ct] = 0xff;
        bad[ct + 1] = 0xff;
        bad[ct + 2] |= i == 0 ? 0x03 : 0x0f;
        assert_int_equal(mw_mldsa_verify(p, pk, pkl, msg, sizeof msg, NULL, 0, bad, sl),
                         MW_EVERIFY);
    }
}

/* HashML-DSA against M' built here with OpenSSL's digests (SHA2, SHA3, SHAKE
 * with EVP_DigestFinalXOF), for message lengths around the Keccak block
 * sizes: the hand-initialised SHA3-224/384 sponges of mldsa_prehash.c
 * included. The OID bytes come from NIST CSOR (2.16.840.1.101.3.4.2.x). */
static void test_prehash_vs_openssl(void **state)
{
    (void)state;
    static const struct {
        mw_ph_alg_t ph;
        const char *md;
        uint8_t arc;
        size_t out;
    } phs[] = {
        {MW_PH_SHA2_224, "SHA224", 4, 28},         {MW_PH_SHA2_256, "SHA256", 1, 32},
        {MW_PH_SHA2_384, "SHA384", 2, 48},         {MW_PH_SHA2_512, "SHA512", 3, 64},
        {MW_PH_SHA2_512_224, "SHA512-224", 5, 28}, {MW_PH_SHA2_512_256, "SHA512-256", 6, 32},
        {MW_PH_SHA3_224, "SHA3-224", 7, 28},       {MW_PH_SHA3_256, "SHA3-256", 8, 32},
        {MW_PH_SHA3_384, "SHA3-384", 9, 48},       {MW_PH_SHA3_512, "SHA3-512", 10, 64},
        {MW_PH_SHAKE128, "SHAKE128", 11, 32},      {MW_PH_SHAKE256, "SHAKE256", 12, 64},
    };
    static const size_t lens[] = {0, 1, 71, 72, 103, 104, 105, 143, 144, 145, 300};
    uint8_t pk[MW_MLDSA44_PK_BYTES], sk[MW_MLDSA44_SK_BYTES], sig[MW_MLDSA44_SIG_BYTES],
        sig2[MW_MLDSA44_SIG_BYTES], msg[300], xi[32] = {9}, zero[32] = {0};
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(mw_mldsa_keygen_internal(MW_MLDSA44, pk, sk, xi), 0);
    const uint8_t ctx[3] = {'a', 'b', 'c'};
    for (size_t a = 0; a < sizeof phs / sizeof phs[0]; a++) {
        EVP_MD *md = EVP_MD_fetch(NULL, phs[a].md, NULL);
        assert_non_null(md);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            uint8_t mp[2 + 3 + 11 + 64] = {1,    3,    'a',  'b',  'c',  0x06, 0x09, 0x60,
                                           0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02};
            mp[15] = phs[a].arc;
            EVP_MD_CTX *c = EVP_MD_CTX_new();
            assert_non_null(c);
            assert_int_equal(EVP_DigestInit_ex(c, md, NULL), 1);
            assert_int_equal(EVP_DigestUpdate(c, msg, lens[li]), 1);
            if (phs[a].ph == MW_PH_SHAKE128 || phs[a].ph == MW_PH_SHAKE256) {
                assert_int_equal(EVP_DigestFinalXOF(c, mp + 16, phs[a].out), 1);
            } else {
                unsigned n = 0;
                assert_int_equal(EVP_DigestFinal_ex(c, mp + 16, &n), 1);
                assert_int_equal(n, phs[a].out);
            }
            EVP_MD_CTX_free(c);
            assert_int_equal(mw_hashmldsa_sign(MW_MLDSA44, sig, sk, sizeof sk, msg, lens[li], ctx,
                                               3, phs[a].ph, zero),
                             0);
            assert_int_equal(
                mw_mldsa_sign_internal(MW_MLDSA44, sig2, sk, sizeof sk, mp, 16 + phs[a].out, zero),
                0);
            if (memcmp(sig, sig2, sizeof sig) != 0)
                fail_msg("%s, message of %zu bytes: HashML-DSA differs from M' built with "
                         "OpenSSL",
                         phs[a].md, lens[li]);
        }
        EVP_MD_free(md);
    }
}

/* A secret key of the right length but random content (coefficients of s1,
 * s2 outside [-eta, eta]) signs or fails cleanly: no crash, no UB (ASan +
 * UBSan run). */
static void test_garbage_sk(void **state)
{
    (void)state;
    uint8_t sk[MW_MLDSA_MAX_SK_BYTES], sig[MW_MLDSA_MAX_SIG_BYTES];
    for (int i = 0; i < 3; i++) {
        for (int r = 0; r < 3; r++) {
            assert_int_equal(mw_random_bytes(sk, sizeof sk), 0);
            if (r == 1)
                memset(sk + 128, 0xff, sizeof sk - 128); /* the most negative s1, s2, t0 */
            int rc = mw_mldsa_sign(SETS[i], sig, sk, mw_mldsa_sk_bytes(SETS[i]),
                                   (const uint8_t *)"m", 1, NULL, 0, NULL);
            assert_true(rc == 0 || rc == MW_ECRYPTO);
        }
    }
}

/* Replays fuzz/seeds/mldsa_verify through the harness: ok_* verify, bad_*
 * do not, and the harness's own checks hold (it aborts otherwise). */
static void test_fuzz_seeds(void **state)
{
    (void)state;
    const char *dir = MW_SOURCE_DIR "/fuzz/seeds/mldsa_verify";
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[16384];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, buf, len);
        int rc = fuzz_mldsa_verify_one(exact, len);
        free(exact);
        if (strncmp(e->d_name, "ok_", 3) == 0 && rc != 0)
            fail_msg("seed %s: rc %d, want 0", e->d_name, rc);
        if (strncmp(e->d_name, "bad_", 4) == 0 && rc == 0)
            fail_msg("seed %s verified", e->d_name);
        n++;
    }
    closedir(d);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decompose_exhaustive), cmocka_unit_test(test_power2round_exhaustive),
        cmocka_unit_test(test_ntt_polymul),          cmocka_unit_test(test_names_sizes),
        cmocka_unit_test(test_acvp_keygen),          cmocka_unit_test(test_acvp_siggen),
        cmocka_unit_test(test_acvp_sigver),          cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_malformed_hints),      cmocka_unit_test(test_fuzz_seeds),
        cmocka_unit_test(test_prehash_vs_openssl),   cmocka_unit_test(test_garbage_sk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
