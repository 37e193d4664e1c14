/* ML-KEM (src/crypto/mlkem.c), FIPS 203: every NIST ACVP test case in
 * $MW_SHARED_DATA/acvp (keyGen; encapDecap: encapsulation, decapsulation,
 * encapsulationKeyCheck, decapsulationKeyCheck; all three parameter sets),
 * parsed here with jansson; the randomized API round trip; implicit
 * rejection against J(z || c) computed with OpenSSL's SHAKE256; wrong
 * lengths and a corrupted dk. Skips the ACVP part with a message when the
 * shared data folder is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/mlkem_arith.h"
#include "mwrasp/pqc.h"

static const mw_mlkem_param_t all_sets[] = {MW_MLKEM512, MW_MLKEM768, MW_MLKEM1024};

static json_t *load_acvp(const char *folder)
{
    char path[1024];
    const char *base = getenv("MW_SHARED_DATA");
    if (base == NULL)
        base = MW_SHARED_DATA;
    snprintf(path, sizeof path, "%s/acvp/%s/internalProjection.json", base, folder);
    if (access(path, R_OK) != 0) {
        print_message("SKIP: %s not found (no shared ACVP data here)\n", path);
        return NULL;
    }
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL)
        fail_msg("%s:%d: %s", path, err.line, err.text);
    return root;
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

/* The hex string field `name` of test case `tc`, decoded into a malloc'd
 * buffer; *len gets its length. Fails the test on a malformed field. */
static uint8_t *hexfield(json_t *tc, const char *name, size_t *len)
{
    const char *s = json_string_value(json_object_get(tc, name));
    if (s == NULL)
        fail_msg("tcId %lld: no field %s",
                 (long long)json_integer_value(json_object_get(tc, "tcId")), name);
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

static mw_mlkem_param_t group_param(json_t *g)
{
    mw_mlkem_param_t p;
    const char *name = json_string_value(json_object_get(g, "parameterSet"));
    assert_non_null(name);
    assert_int_equal(mw_mlkem_param_from_name(name, &p), MW_OK);
    return p;
}

static int set_index(mw_mlkem_param_t p)
{
    return p == MW_MLKEM512 ? 0 : p == MW_MLKEM768 ? 1 : 2;
}

static void expect_bytes(long long tcid, const char *what, const uint8_t *got, const uint8_t *want,
                         size_t n)
{
    if (memcmp(got, want, n) != 0)
        fail_msg("tcId %lld: %s differs from the ACVP expected value", tcid, what);
}

static void test_acvp_keygen(void **state)
{
    (void)state;
    json_t *root = load_acvp("ML-KEM-keyGen-FIPS203");
    if (root == NULL)
        skip();
    int count[3] = {0};
    size_t gi, ti;
    json_t *g, *tc;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        mw_mlkem_param_t p = group_param(g);
        json_array_foreach(json_object_get(g, "tests"), ti, tc)
        {
            long long tcid = json_integer_value(json_object_get(tc, "tcId"));
            size_t dl, zl, ekl, dkl;
            uint8_t *d = hexfield(tc, "d", &dl), *z = hexfield(tc, "z", &zl);
            uint8_t *ek = hexfield(tc, "ek", &ekl), *dk = hexfield(tc, "dk", &dkl);
            assert_int_equal(dl, 32);
            assert_int_equal(zl, 32);
            assert_int_equal(ekl, mw_mlkem_ek_bytes(p));
            assert_int_equal(dkl, mw_mlkem_dk_bytes(p));
            uint8_t gek[MW_MLKEM_MAX_EK_BYTES], gdk[MW_MLKEM_MAX_DK_BYTES];
            assert_int_equal(mw_mlkem_keygen_internal(p, gek, gdk, d, z), MW_OK);
            expect_bytes(tcid, "ek", gek, ek, ekl);
            expect_bytes(tcid, "dk", gdk, dk, dkl);
            count[set_index(p)]++;
            free(d);
            free(z);
            free(ek);
            free(dk);
        }
    }
    json_decref(root);
    print_message("ACVP keyGen: %d/%d/%d cases passed (512/768/1024)\n", count[0], count[1],
                  count[2]);
    for (int i = 0; i < 3; i++)
        assert_true(count[i] > 0);
}

enum { F_ENC, F_DEC, F_EKCHECK, F_DKCHECK, F_COUNT };
static const char *fn_names[F_COUNT] = {"encapsulation", "decapsulation", "encapsulationKeyCheck",
                                        "decapsulationKeyCheck"};

static void test_acvp_encapdecap(void **state)
{
    (void)state;
    json_t *root = load_acvp("ML-KEM-encapDecap-FIPS203");
    if (root == NULL)
        skip();
    int count[F_COUNT][3] = {{0}};
    int rejected_ek = 0, rejected_dk = 0, modified_ct = 0;
    size_t gi, ti;
    json_t *g, *tc;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        mw_mlkem_param_t p = group_param(g);
        const char *fn = json_string_value(json_object_get(g, "function"));
        assert_non_null(fn);
        int f = -1;
        for (int i = 0; i < F_COUNT; i++)
            if (strcmp(fn, fn_names[i]) == 0)
                f = i;
        if (f < 0)
            fail_msg("tgId %lld: unknown function %s",
                     (long long)json_integer_value(json_object_get(g, "tgId")), fn);
        json_array_foreach(json_object_get(g, "tests"), ti, tc)
        {
            long long tcid = json_integer_value(json_object_get(tc, "tcId"));
            size_t l1, l2, l3;
            uint8_t ss[32];
            if (f == F_ENC) {
                uint8_t *ek = hexfield(tc, "ek", &l1), *m = hexfield(tc, "m", &l2);
                uint8_t *c = hexfield(tc, "c", &l3);
                size_t kl;
                uint8_t *k = hexfield(tc, "k", &kl);
                assert_int_equal(l2, 32);
                assert_int_equal(kl, 32);
                assert_int_equal(l3, mw_mlkem_ct_bytes(p));
                uint8_t gc[MW_MLKEM_MAX_CT_BYTES];
                assert_int_equal(mw_mlkem_encaps_internal(p, ss, gc, ek, l1, m), MW_OK);
                expect_bytes(tcid, "c", gc, c, l3);
                expect_bytes(tcid, "k", ss, k, 32);
                free(ek);
                free(m);
                free(c);
                free(k);
            } else if (f == F_DEC) {
                uint8_t *dk = hexfield(tc, "dk", &l1), *c = hexfield(tc, "c", &l2);
                uint8_t *k = hexfield(tc, "k", &l3);
                assert_int_equal(l3, 32);
                assert_int_equal(mw_mlkem_decaps(p, ss, c, l2, dk, l1), MW_OK);
                expect_bytes(tcid, "k", ss, k, 32);
                const char *reason = json_string_value(json_object_get(tc, "reason"));
                if (reason != NULL && strstr(reason, "modified") != NULL)
                    modified_ct++;
                free(dk);
                free(c);
                free(k);
            } else {
                const char *field = f == F_EKCHECK ? "ek" : "dk";
                uint8_t *key = hexfield(tc, field, &l1);
                json_t *tp = json_object_get(tc, "testPassed");
                assert_true(json_is_boolean(tp));
                int want = json_is_true(tp);
                int rc =
                    f == F_EKCHECK ? mw_mlkem_check_ek(p, key, l1) : mw_mlkem_check_dk(p, key, l1);
                if ((rc == MW_OK) != want)
                    fail_msg("tcId %lld: %s returned %d, expected testPassed=%d", tcid, fn, rc,
                             want);
                if (!want)
                    *(f == F_EKCHECK ? &rejected_ek : &rejected_dk) += 1;
                /* The operations refuse the keys the checks refuse. */
                if (!want && f == F_EKCHECK) {
                    uint8_t c[MW_MLKEM_MAX_CT_BYTES], m[32] = {1};
                    assert_int_equal(mw_mlkem_encaps_internal(p, ss, c, key, l1, m), MW_EINVAL);
                }
                if (!want && f == F_DKCHECK) {
                    uint8_t c[MW_MLKEM_MAX_CT_BYTES] = {0};
                    assert_int_equal(mw_mlkem_decaps(p, ss, c, mw_mlkem_ct_bytes(p), key, l1),
                                     MW_EINVAL);
                }
                free(key);
            }
            count[f][set_index(p)]++;
        }
    }
    json_decref(root);
    for (int f = 0; f < F_COUNT; f++) {
        print_message("ACVP %s: %d/%d/%d cases passed (512/768/1024)\n", fn_names[f], count[f][0],
                      count[f][1], count[f][2]);
        for (int i = 0; i < 3; i++)
            assert_true(count[f][i] > 0);
    }
    /* The file has failing cases of each kind: make sure they were seen. */
    assert_true(rejected_ek > 0);
    assert_true(rejected_dk > 0);
    assert_true(modified_ct > 0);
}

/* Randomized API: keygen, encaps, decaps agree; the key checks accept. */
static void test_round_trip(void **state)
{
    (void)state;
    for (size_t s = 0; s < 3; s++) {
        mw_mlkem_param_t p = all_sets[s];
        for (int iter = 0; iter < 20; iter++) {
            uint8_t ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES];
            uint8_t ct[MW_MLKEM_MAX_CT_BYTES], ss1[32], ss2[32];
            assert_int_equal(mw_mlkem_keygen(p, ek, dk), MW_OK);
            assert_int_equal(mw_mlkem_check_ek(p, ek, mw_mlkem_ek_bytes(p)), MW_OK);
            assert_int_equal(mw_mlkem_check_dk(p, dk, mw_mlkem_dk_bytes(p)), MW_OK);
            assert_int_equal(mw_mlkem_encaps(p, ss1, ct, ek, mw_mlkem_ek_bytes(p)), MW_OK);
            assert_int_equal(
                mw_mlkem_decaps(p, ss2, ct, mw_mlkem_ct_bytes(p), dk, mw_mlkem_dk_bytes(p)), MW_OK);
            assert_memory_equal(ss1, ss2, 32);
        }
    }
}

/* J(z || c) = SHAKE256(z || c, 32 bytes) with OpenSSL. */
static void ossl_j(uint8_t out[32], const uint8_t z[32], const uint8_t *c, size_t clen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_shake256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, z, 32), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, c, clen), 1);
    assert_int_equal(EVP_DigestFinalXOF(ctx, out, 32), 1);
    EVP_MD_CTX_free(ctx);
}

/* A modified ciphertext decapsulates to J(z || c') (implicit rejection). */
static void test_implicit_rejection(void **state)
{
    (void)state;
    for (size_t s = 0; s < 3; s++) {
        mw_mlkem_param_t p = all_sets[s];
        size_t ekl = mw_mlkem_ek_bytes(p), dkl = mw_mlkem_dk_bytes(p), ctl = mw_mlkem_ct_bytes(p);
        uint8_t ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES];
        uint8_t ct[MW_MLKEM_MAX_CT_BYTES], ss[32], ss2[32], want[32];
        assert_int_equal(mw_mlkem_keygen(p, ek, dk), MW_OK);
        assert_int_equal(mw_mlkem_encaps(p, ss, ct, ek, ekl), MW_OK);
        const uint8_t *z = dk + dkl - 32;
        size_t positions[] = {0, ctl / 2, ctl - 1};
        for (size_t i = 0; i < 3; i++) {
            ct[positions[i]] ^= 0x01;
            ossl_j(want, z, ct, ctl);
            assert_int_equal(mw_mlkem_decaps(p, ss2, ct, ctl, dk, dkl), MW_OK);
            assert_memory_equal(ss2, want, 32);
            assert_memory_not_equal(ss2, ss, 32);
            ct[positions[i]] ^= 0x01;
        }
        assert_int_equal(mw_mlkem_decaps(p, ss2, ct, ctl, dk, dkl), MW_OK);
        assert_memory_equal(ss2, ss, 32);
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t r = 0;
    for (size_t i = 0; i < n; i++)
        r |= p[i];
    return r == 0;
}

/* Every wrong length gives MW_EINVAL and zeroized outputs; a bad parameter
 * set too. */
static void test_wrong_lengths(void **state)
{
    (void)state;
    static uint8_t big[MW_MLKEM_MAX_DK_BYTES + 64];
    for (size_t s = 0; s < 3; s++) {
        mw_mlkem_param_t p = all_sets[s];
        size_t ekl = mw_mlkem_ek_bytes(p), dkl = mw_mlkem_dk_bytes(p), ctl = mw_mlkem_ct_bytes(p);
        uint8_t ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES];
        uint8_t ct[MW_MLKEM_MAX_CT_BYTES], ss[32], m[32] = {7};
        assert_int_equal(mw_mlkem_keygen(p, ek, dk), MW_OK);
        memcpy(big, ek, ekl);
        assert_int_equal(mw_mlkem_encaps(p, ss, ct, ek, ekl), MW_OK);
        size_t bad_ek[] = {0, 1, ekl - 1, ekl + 1, MW_MLKEM512_EK_BYTES, MW_MLKEM1024_EK_BYTES};
        for (size_t i = 0; i < sizeof bad_ek / sizeof bad_ek[0]; i++) {
            if (bad_ek[i] == ekl)
                continue;
            memset(ss, 0xaa, sizeof ss);
            memset(ct, 0xaa, sizeof ct);
            assert_int_equal(mw_mlkem_encaps_internal(p, ss, ct, big, bad_ek[i], m), MW_EINVAL);
            assert_true(all_zero(ss, 32));
            assert_true(all_zero(ct, ctl));
            memset(ss, 0xaa, sizeof ss);
            memset(ct, 0xaa, sizeof ct);
            assert_int_equal(mw_mlkem_encaps(p, ss, ct, big, bad_ek[i]), MW_EINVAL);
            assert_true(all_zero(ss, 32));
            assert_true(all_zero(ct, ctl));
            assert_int_equal(mw_mlkem_check_ek(p, big, bad_ek[i]), MW_EINVAL);
        }
        assert_int_equal(mw_mlkem_encaps(p, ss, ct, ek, ekl), MW_OK);
        memcpy(big, dk, dkl);
        size_t bad_dk[] = {0, 1, dkl - 1, dkl + 1, MW_MLKEM512_DK_BYTES, MW_MLKEM1024_DK_BYTES};
        for (size_t i = 0; i < sizeof bad_dk / sizeof bad_dk[0]; i++) {
            if (bad_dk[i] == dkl)
                continue;
            memset(ss, 0xaa, sizeof ss);
            assert_int_equal(mw_mlkem_decaps(p, ss, ct, ctl, big, bad_dk[i]), MW_EINVAL);
            assert_true(all_zero(ss, 32));
            assert_int_equal(mw_mlkem_check_dk(p, big, bad_dk[i]), MW_EINVAL);
        }
        static uint8_t bigct[MW_MLKEM_MAX_CT_BYTES + 1];
        memcpy(bigct, ct, ctl);
        size_t bad_ct[] = {0, 1, ctl - 1, ctl + 1, MW_MLKEM512_CT_BYTES, MW_MLKEM1024_CT_BYTES};
        for (size_t i = 0; i < sizeof bad_ct / sizeof bad_ct[0]; i++) {
            if (bad_ct[i] == ctl)
                continue;
            memset(ss, 0xaa, sizeof ss);
            assert_int_equal(mw_mlkem_decaps(p, ss, bigct, bad_ct[i], dk, dkl), MW_EINVAL);
            assert_true(all_zero(ss, 32));
        }
    }
    /* Invalid parameter sets. */
    uint8_t ss[32], ct[16], d[32] = {0};
    memset(ss, 0xaa, sizeof ss);
    assert_int_equal(mw_mlkem_encaps_internal((mw_mlkem_param_t)5, ss, ct, big, 800, d), MW_EINVAL);
    assert_true(all_zero(ss, 32));
    memset(ss, 0xaa, sizeof ss);
    assert_int_equal(mw_mlkem_decaps((mw_mlkem_param_t)1, ss, big, 768, big, 1632), MW_EINVAL);
    assert_true(all_zero(ss, 32));
    assert_int_equal(mw_mlkem_keygen_internal((mw_mlkem_param_t)0, big, big, d, d), MW_EINVAL);
    assert_int_equal(mw_mlkem_check_ek((mw_mlkem_param_t)3 + 2, big, 800), MW_EINVAL);
}

/* Flipping any bit of H(ek) inside dk makes decaps refuse the key; a
 * coefficient >= q in ek makes encaps refuse it. */
static void test_corrupted_keys(void **state)
{
    (void)state;
    for (size_t s = 0; s < 3; s++) {
        mw_mlkem_param_t p = all_sets[s];
        size_t ekl = mw_mlkem_ek_bytes(p), dkl = mw_mlkem_dk_bytes(p), ctl = mw_mlkem_ct_bytes(p);
        unsigned k = (unsigned)p;
        uint8_t ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES];
        uint8_t ct[MW_MLKEM_MAX_CT_BYTES], ss[32];
        assert_int_equal(mw_mlkem_keygen(p, ek, dk), MW_OK);
        assert_int_equal(mw_mlkem_encaps(p, ss, ct, ek, ekl), MW_OK);
        size_t h = 768 * k + 32;
        for (size_t i = 0; i < 32; i += 7) {
            dk[h + i] ^= 0x10;
            memset(ss, 0xaa, sizeof ss);
            assert_int_equal(mw_mlkem_check_dk(p, dk, dkl), MW_EINVAL);
            assert_int_equal(mw_mlkem_decaps(p, ss, ct, ctl, dk, dkl), MW_EINVAL);
            assert_true(all_zero(ss, 32));
            dk[h + i] ^= 0x10;
        }
        /* A byte of the embedded ek changed: the hash no longer matches. */
        dk[384 * k + 5] ^= 1;
        assert_int_equal(mw_mlkem_check_dk(p, dk, dkl), MW_EINVAL);
        dk[384 * k + 5] ^= 1;
        assert_int_equal(mw_mlkem_check_dk(p, dk, dkl), MW_OK);

        /* Coefficient 1 of t^[k-1] := 0xFFF (>= q): the modulus check fails. */
        uint8_t bad[MW_MLKEM_MAX_EK_BYTES];
        memcpy(bad, ek, ekl);
        bad[384 * (k - 1) + 1] |= 0xf0;
        bad[384 * (k - 1) + 2] = 0xff;
        assert_int_equal(mw_mlkem_check_ek(p, bad, ekl), MW_EINVAL);
        memset(ct, 0xaa, sizeof ct);
        assert_int_equal(mw_mlkem_encaps(p, ss, ct, bad, ekl), MW_EINVAL);
        assert_true(all_zero(ct, ctl));
        /* Exactly q is refused, q - 1 accepted (coefficient 0 of t^[0]). */
        memcpy(bad, ek, ekl);
        bad[0] = 3329 & 0xff;
        bad[1] = (uint8_t)((bad[1] & 0xf0) | (3329 >> 8));
        assert_int_equal(mw_mlkem_check_ek(p, bad, ekl), MW_EINVAL);
        bad[0] = 3328 & 0xff;
        assert_int_equal(mw_mlkem_check_ek(p, bad, ekl), MW_OK);
    }
}

static void test_names_sizes(void **state)
{
    (void)state;
    const size_t want[3][3] = {
        {MW_MLKEM512_EK_BYTES, MW_MLKEM512_DK_BYTES, MW_MLKEM512_CT_BYTES},
        {MW_MLKEM768_EK_BYTES, MW_MLKEM768_DK_BYTES, MW_MLKEM768_CT_BYTES},
        {MW_MLKEM1024_EK_BYTES, MW_MLKEM1024_DK_BYTES, MW_MLKEM1024_CT_BYTES}};
    const char *names[3] = {"ML-KEM-512", "ML-KEM-768", "ML-KEM-1024"};
    for (int i = 0; i < 3; i++) {
        mw_mlkem_param_t p = all_sets[i], q;
        assert_int_equal(mw_mlkem_ek_bytes(p), want[i][0]);
        assert_int_equal(mw_mlkem_dk_bytes(p), want[i][1]);
        assert_int_equal(mw_mlkem_ct_bytes(p), want[i][2]);
        assert_string_equal(mw_mlkem_name(p), names[i]);
        assert_int_equal(mw_mlkem_param_from_name(names[i], &q), MW_OK);
        assert_int_equal(q, p);
    }
    mw_mlkem_param_t q;
    assert_int_equal(mw_mlkem_param_from_name("ML-KEM-256", &q), MW_EINVAL);
    assert_int_equal(mw_mlkem_param_from_name("ml-kem-512", &q), MW_EINVAL);
    assert_int_equal(mw_mlkem_param_from_name(NULL, &q), MW_EINVAL);
    assert_null(mw_mlkem_name((mw_mlkem_param_t)5));
    assert_int_equal(mw_mlkem_ek_bytes((mw_mlkem_param_t)1), 0);
    assert_int_equal(mw_mlkem_dk_bytes((mw_mlkem_param_t)0), 0);
    assert_int_equal(mw_mlkem_ct_bytes((mw_mlkem_param_t)-1), 0);
}

static int32_t mod_q(int64_t a)
{
    int64_t r = a % MLKEM_Q;
    return (int32_t)(r < 0 ? r + MLKEM_Q : r);
}

/* The private arithmetic (src/crypto/mlkem_arith.h), exhaustively against
 * plain integer arithmetic: Barrett and freeze for every int16_t,
 * Montgomery reduction over its whole input range (strided), Compress_d
 * and Decompress_d for every input and every d FIPS 203 uses. */
static void test_arith_exhaustive(void **state)
{
    (void)state;
    for (int32_t a = INT16_MIN; a <= INT16_MAX; a++) {
        int16_t r = barrett_reduce((int16_t)a);
        if (r < -(MLKEM_Q - 1) / 2 || r > (MLKEM_Q - 1) / 2 || mod_q(r) != mod_q(a))
            fail_msg("barrett_reduce(%d) = %d", a, r);
        int16_t f = freeze((int16_t)a);
        if (f < 0 || f >= MLKEM_Q || f != mod_q(a))
            fail_msg("freeze(%d) = %d", a, f);
    }
    /* montgomery_reduce(a) = a * 2^-16 mod q, in (-q, q), for |a| < q 2^15. */
    const int32_t rinv = 169; /* 2^-16 mod q: 65536 * 169 = 3327 * 3329 + 1 */
    assert_int_equal(mod_q(65536LL * rinv), 1);
    const int32_t lim = MLKEM_Q * 32768 - 1;
    for (int64_t a = -lim; a <= lim; a += 997) {
        int16_t r = montgomery_reduce((int32_t)a);
        if (r <= -MLKEM_Q || r >= MLKEM_Q || mod_q(r) != mod_q(a * rinv))
            fail_msg("montgomery_reduce(%lld) = %d", (long long)a, r);
    }
    for (int32_t a = -lim; a <= -lim + 70000; a++) /* both ends densely */
        assert_int_equal(mod_q(montgomery_reduce(a)), mod_q((int64_t)a * rinv));
    for (int32_t a = lim - 70000; a <= lim; a++)
        assert_int_equal(mod_q(montgomery_reduce(a)), mod_q((int64_t)a * rinv));
    static const unsigned ds[] = {1, 4, 5, 10, 11};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        unsigned d = ds[i];
        /* Compress_d(x) = round(2^d x / q) mod 2^d: 2^(d+1) x + q over 2q, floored. */
        for (int32_t x = 0; x < MLKEM_Q; x++) {
            uint32_t want =
                (uint32_t)((((int64_t)x << (d + 1)) + MLKEM_Q) / (2 * MLKEM_Q)) & ((1u << d) - 1);
            if (compress((int16_t)x, d) != want)
                fail_msg("Compress_%u(%d) = %u, want %u", d, x, compress((int16_t)x, d), want);
        }
        /* Decompress_d(y) = round(q y / 2^d), ties up. */
        for (uint32_t y = 0; y < (1u << d); y++) {
            int32_t want = (int32_t)(((int64_t)y * MLKEM_Q * 2 + (1 << d)) / (2 << d));
            assert_int_equal(decompress((uint16_t)y, d), want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_sizes),   cmocka_unit_test(test_arith_exhaustive),
        cmocka_unit_test(test_acvp_keygen),   cmocka_unit_test(test_acvp_encapdecap),
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_implicit_rejection),
        cmocka_unit_test(test_wrong_lengths), cmocka_unit_test(test_corrupted_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
