/* The AVX2 code paths give the same bytes as the portable ones
 * (src/crypto/dispatch.h, docs/internals/crypto.md section "AVX2"): for 1000
 * pseudo-random seeds per parameter set, ML-KEM keygen / encaps / decaps
 * (valid and modified ciphertext) and ML-DSA keygen / hedged signing /
 * verification (valid and modified signature) run once with the portable
 * table forced and once with the AVX2 table, and every output byte is
 * compared. Also the 4-way Keccak permutation against mw_keccak_f1600, and
 * the NTT / NTT^-1 / basemul (ML-KEM) and NTT / NTT^-1 / pointwise /
 * reductions (ML-DSA) of both tables on random inputs and on the extreme
 * values of their documented input ranges (crypto/dispatch.h). The seeds
 * come from SHAKE256 of a counter, so a failure is reproducible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/dispatch.h"
#include "mwrasp/pqc.h"

/* 1000 seeds per set; 100 in sanitizer builds (-DMW_SANITIZE=ON: ASan +
 * UBSan make the 1000-seed run take ~3 min), so that `make test` stays fast. */
#if defined(__SANITIZE_ADDRESS__) || defined(MW_SANITIZE)
#define SEEDS 100
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEEDS 100
#endif
#endif
#ifndef SEEDS
#define SEEDS 1000
#endif
/* Random inputs per arithmetic function (NTT, NTT^-1, basemul, pointwise). */
#define ARITH_RUNS (4 * SEEDS)

static int have_avx2(void)
{
    const mw_crypto_impl_t *best = mw_crypto_impl_force(0);
    if (strcmp(best->name, "portable") == 0) {
        print_message("SKIP: this CPU has no AVX2 (or not x86-64): only the portable path\n");
        return 0;
    }
    return 1;
}

static void prng(uint8_t *out, size_t len, const char *label, unsigned i)
{
    uint8_t in[64];
    int n = snprintf((char *)in, sizeof in, "%s/%u", label, i);
    mw_shake256(out, len, in, (size_t)n);
}

static void test_keccakx4(void **state)
{
    (void)state;
    if (!have_avx2())
        return;
    uint64_t s[100], ref[4][25];
    for (unsigned t = 0; t < 50; t++) {
        prng((uint8_t *)s, sizeof s, "keccak", t);
        for (unsigned j = 0; j < 4; j++)
            for (unsigned i = 0; i < 25; i++)
                ref[j][i] = s[4 * i + j];
        mw_crypto_impl_force(0)->keccakx4(s);
        for (unsigned j = 0; j < 4; j++) {
            mw_keccak_f1600(ref[j]);
            for (unsigned i = 0; i < 25; i++)
                assert_true(s[4 * i + j] == ref[j][i]);
        }
    }
}

/* A value in [lo, hi] for input pattern `pat` (run number mod 4): 0 uniform,
 * 1 all hi, 2 all lo, 3 a mix of lo, hi, 0, -1, 1 and uniform values. */
static int64_t pick(const uint8_t *r, unsigned pat, int64_t lo, int64_t hi)
{
    uint64_t u = 0;
    for (int b = 0; b < 8; b++)
        u = u << 8 | r[b];
    const int64_t uni = lo + (int64_t)(u % (uint64_t)(hi - lo + 1));
    switch (pat) {
    case 1:
        return hi;
    case 2:
        return lo;
    case 3: {
        const int64_t v[6] = {lo, hi, 0, lo < 0 ? -1 : lo, 1, uni};
        return v[(u >> 60) % 6];
    }
    default:
        return uni;
    }
}

static void fill16(int16_t *f, size_t n, const char *label, unsigned run, int64_t lo, int64_t hi)
{
    static uint8_t r[8 * 256 * 4];
    prng(r, 8 * n, label, run);
    for (size_t i = 0; i < n; i++)
        f[i] = (int16_t)pick(r + 8 * i, run % 4, lo, hi);
}

static void fill32(int32_t *f, size_t n, const char *label, unsigned run, int64_t lo, int64_t hi)
{
    static uint8_t r[8 * 256 * 4];
    prng(r, 8 * n, label, run);
    for (size_t i = 0; i < n; i++)
        f[i] = (int32_t)pick(r + 8 * i, run % 4, lo, hi);
}

#define KQ 3329
#define DQ 8380417

/* ML-KEM NTT (input |f| < q), NTT^-1 (|f| < q) and basemul (|a| < q,
 * |b| <= (q-1)/2, k = 1..4), the ranges of crypto/dispatch.h, through both
 * tables: same coefficients. */
static void test_mlkem_arith(void **state)
{
    (void)state;
    if (!have_avx2())
        return;
    const mw_crypto_impl_t *pt = mw_crypto_impl_force(1), *av = mw_crypto_impl_force(0);
    int16_t x[256], y[256], a[4 * 256], b[4 * 256];
    for (unsigned run = 0; run < ARITH_RUNS; run++) {
        fill16(x, 256, "kem-ntt", run, -(KQ - 1), KQ - 1);
        memcpy(y, x, sizeof x);
        pt->mlkem_ntt(x);
        av->mlkem_ntt(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM NTT differs, run %u", run);
        fill16(x, 256, "kem-invntt", run, -(KQ - 1), KQ - 1);
        memcpy(y, x, sizeof x);
        pt->mlkem_invntt(x);
        av->mlkem_invntt(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM NTT^-1 differs, run %u", run);
        const unsigned k = 1 + run % 4;
        fill16(a, 256 * k, "kem-bm-a", run, -(KQ - 1), KQ - 1);
        fill16(b, 256 * k, "kem-bm-b", run, -(KQ - 1) / 2, (KQ - 1) / 2);
        pt->mlkem_basemul_acc(x, a, b, k);
        av->mlkem_basemul_acc(y, a, b, k);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM basemul differs, run %u, k = %u", run, k);
    }
    /* freeze(a + b), freeze(a - b) (a +- b fits in int16_t), freeze(r) and
     * r R (any int16_t) */
    for (unsigned run = 0; run < ARITH_RUNS; run++) {
        fill16(a, 256, "kem-add-a", run, -16384, 16383);
        fill16(b, 256, "kem-add-b", run, -16384, 16383);
        pt->mlkem_add_freeze(x, a, b);
        av->mlkem_add_freeze(y, a, b);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM add_freeze differs, run %u", run);
        pt->mlkem_sub_freeze(x, a, b);
        memcpy(y, b, sizeof y);
        av->mlkem_sub_freeze(y, a, y); /* r aliasing b, as decryption does */
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM sub_freeze differs, run %u", run);
        fill16(x, 256, "kem-freeze", run, INT16_MIN, INT16_MAX);
        memcpy(y, x, sizeof x);
        pt->mlkem_freeze(x);
        av->mlkem_freeze(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM freeze differs, run %u", run);
        fill16(x, 256, "kem-tomont", run, INT16_MIN, INT16_MAX);
        memcpy(y, x, sizeof x);
        pt->mlkem_tomont(x);
        av->mlkem_tomont(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM tomont differs, run %u", run);
    }
    /* SampleNTT's rejection loop: lengths 0..600 (the callers pass 504 and
     * 168), any start count, bytes uniform or biased to >= q (0xff: every
     * value rejected), both tables fill the same values and return the same
     * count. */
    static uint8_t buf[600];
    for (unsigned run = 0; run < ARITH_RUNS; run++) {
        uint8_t p[4];
        prng(p, sizeof p, "kem-rej-p", run);
        const size_t len = run % 3 == 0 ? 504 : (run % 3 == 1 ? 168 : (p[0] | p[1] << 8) % 601);
        const unsigned j0 = run % 2 ? 0 : p[2] + (p[3] & 1); /* 0..256 */
        prng(buf, sizeof buf, "kem-rej", run);
        if (run % 4 == 3) /* many values >= q */
            for (size_t i = 0; i < sizeof buf; i++)
                buf[i] |= (uint8_t)(buf[(i * 7) % sizeof buf] & 0xc0);
        memset(x, 0x55, sizeof x);
        memset(y, 0x55, sizeof y);
        const unsigned jp = pt->mlkem_rej_uniform(x, j0, buf, len);
        uint8_t *eb = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
        assert_non_null(eb);
        memcpy(eb, buf, len);
        const unsigned ja = av->mlkem_rej_uniform(y, j0, eb, len);
        free(eb);
        assert_int_equal(jp, ja);
        if (memcmp(x, y, jp * sizeof x[0]) != 0) /* a[0..count) is defined */
            fail_msg("ML-KEM rej_uniform differs, run %u (len %zu, j %u)", run, len, j0);
    }
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(av->mlkem_rej_uniform(x, 7, buf, 504), 7);
    /* SamplePolyCBD_eta, eta = 2 and 3, random bytes and all-0 / all-1 */
    for (unsigned run = 0; run < ARITH_RUNS; run++) {
        const unsigned eta = 2 + run % 2;
        prng(buf, 64 * eta, "kem-cbd", run);
        if (run % 8 == 2 || run % 8 == 3)
            memset(buf, run % 8 == 2 ? 0x00 : 0xff, 64 * eta);
        if (run % 8 == 4 || run % 8 == 5) /* eta ones then eta zeros: +eta or -eta */
            memset(buf, run % 8 == 4 ? 0x33 : 0xcc, 64 * eta);
        uint8_t *eb = malloc(64 * eta); /* exact size: ASan sees any over-read */
        assert_non_null(eb);
        memcpy(eb, buf, 64 * eta);
        pt->mlkem_cbd(x, buf, eta);
        av->mlkem_cbd(y, eb, eta);
        free(eb);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-KEM cbd differs, run %u, eta %u", run, eta);
    }
    /* The NTT round trip through the AVX2 functions: NTT^-1(NTT(f)) = f R
     * (the R^-1 of basemul is missing), i.e. fqmul(result, 1) = f mod q. */
    for (unsigned run = 0; run < 16; run++) {
        fill16(x, 256, "kem-rt", run, -(KQ - 1), KQ - 1);
        memcpy(y, x, sizeof x);
        av->mlkem_ntt(y);
        av->mlkem_invntt(y);
        for (unsigned i = 0; i < 256; i++) {
            int32_t v = ((int32_t)y[i] * 169) % KQ; /* R^-1 = 169 mod q */
            assert_int_equal(((v - x[i]) % KQ + KQ) % KQ, 0);
        }
    }
}

/* ML-DSA NTT (|a| < q), NTT^-1 (|a| < 2^31 / 256), pointwise (|a b| <
 * 2^31 q: a any int32 but INT32_MIN with |b| < q, or both |.| <= 9q),
 * pointwise_acc, reduce32 (a <= 2^31 - 2^22 - 1) and caddq (any). */
static void test_mldsa_arith(void **state)
{
    (void)state;
    if (!have_avx2())
        return;
    const mw_crypto_impl_t *pt = mw_crypto_impl_force(1), *av = mw_crypto_impl_force(0);
    int32_t x[256], y[256], a[256], b[256];
    const int64_t imax = INT32_MAX, imin = INT32_MIN, nq = 9 * (int64_t)DQ;
    unsigned norm_out[2] = {0, 0};
    for (unsigned run = 0; run < ARITH_RUNS; run++) {
        fill32(x, 256, "dsa-ntt", run, -(DQ - 1), DQ - 1);
        memcpy(y, x, sizeof x);
        pt->mldsa_ntt(x);
        av->mldsa_ntt(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA NTT differs, run %u", run);
        fill32(x, 256, "dsa-invntt", run, -((1 << 23) - 1), (1 << 23) - 1);
        memcpy(y, x, sizeof x);
        pt->mldsa_invntt(x);
        av->mldsa_invntt(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA NTT^-1 differs, run %u", run);
        if (run % 2) {
            fill32(a, 256, "dsa-pw-a", run, imin + 1, imax);
            fill32(b, 256, "dsa-pw-b", run / 2, -(DQ - 1), DQ - 1);
        } else {
            fill32(a, 256, "dsa-pw-a", run, -nq, nq);
            fill32(b, 256, "dsa-pw-b", run / 2, -nq, nq);
        }
        pt->mldsa_pointwise(x, a, b);
        av->mldsa_pointwise(y, a, b);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA pointwise differs, run %u", run);
        fill32(x, 256, "dsa-acc", run, -(1 << 30), 1 << 30);
        memcpy(y, x, sizeof x);
        pt->mldsa_pointwise_acc(x, a, b);
        av->mldsa_pointwise_acc(y, a, b);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA pointwise_acc differs, run %u", run);
        memcpy(y, b, sizeof b); /* r aliasing an input, as verification does */
        av->mldsa_pointwise(y, a, y);
        pt->mldsa_pointwise(x, a, b);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA pointwise in place differs, run %u", run);
        fill32(x, 256, "dsa-red", run, imin, imax - (1 << 22));
        memcpy(y, x, sizeof x);
        pt->mldsa_reduce(x);
        av->mldsa_reduce(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA reduce32 differs, run %u", run);
        /* Decompose and MakeHint for both gamma2, a and r in [0, q), z in
         * (-q, q); the norm check on reduce32 outputs around the bounds. */
        const int32_t g2 = run % 2 ? (DQ - 1) / 32 : (DQ - 1) / 88;
        int32_t x0[256], y0[256];
        fill32(a, 256, "dsa-dec", run, 0, DQ - 1);
        pt->mldsa_decompose(x, x0, a, g2);
        av->mldsa_decompose(y, y0, a, g2);
        if (memcmp(x, y, sizeof x) != 0 || memcmp(x0, y0, sizeof x0) != 0)
            fail_msg("ML-DSA decompose differs, run %u", run);
        /* UseHint: a in [0, q) (extremes included), hints 0 / 1 */
        fill32(x, 256, "dsa-usehint-h", run, 0, 1);
        memcpy(y, a, sizeof y);
        memcpy(x0, a, sizeof x0);
        pt->mldsa_use_hint(x0, x, g2);
        av->mldsa_use_hint(y, x, g2);
        if (memcmp(x0, y, sizeof y) != 0)
            fail_msg("ML-DSA use_hint differs, run %u", run);
        pt->mldsa_decompose(x, x0, a, g2);
        fill32(b, 256, "dsa-hint", run, -(DQ - 1), DQ - 1);
        memcpy(y, x, sizeof x);
        pt->mldsa_make_hint(x, a, b, g2);
        av->mldsa_make_hint(y, a, b, g2);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA make_hint differs, run %u", run);
        /* norm check: inside the bound (+-(bound - 1) at the extremes), then
         * one coefficient at +-bound or +-(bound - 1) somewhere */
        const int32_t bound = run % 3 == 0 ? (DQ - 1) / 8 : (run % 3 == 1 ? g2 : 1 << 17);
        fill32(a, 256, "dsa-norm", run, -(bound - 1), bound - 1);
        if (run % 2) {
            uint8_t r[2];
            prng(r, sizeof r, "dsa-norm-pos", run);
            a[r[0]] = (r[1] & 1 ? bound : bound - 1) * (r[1] & 2 ? -1 : 1);
        }
        const int32_t mp = pt->mldsa_norm_mask(a, bound), ma = av->mldsa_norm_mask(a, bound);
        if (mp != ma)
            fail_msg("ML-DSA norm_mask differs, run %u", run);
        norm_out[mp == 0]++;
        fill32(x, 256, "dsa-caddq", run, imin, imax);
        memcpy(y, x, sizeof x);
        pt->mldsa_caddq(x);
        av->mldsa_caddq(y);
        if (memcmp(x, y, sizeof x) != 0)
            fail_msg("ML-DSA caddq differs, run %u", run);
    }
    assert_true(norm_out[0] > ARITH_RUNS / 8 && norm_out[1] > ARITH_RUNS / 8); /* both outcomes */
    /* RejNTTPoly's loop: lengths 0..900 (the callers pass 840 and 168), any
     * start count, bytes uniform or with the top bits set (more rejections) */
    static uint8_t buf[900];
    for (unsigned run = 0; run < ARITH_RUNS; run++) {
        uint8_t p[4];
        prng(p, sizeof p, "dsa-rej-p", run);
        const size_t len = run % 3 == 0 ? 840 : (run % 3 == 1 ? 168 : (p[0] | p[1] << 8) % 901);
        const unsigned j0 = run % 2 ? 0 : p[2] + (p[3] & 1);
        prng(buf, sizeof buf, "dsa-rej", run);
        if (run % 4 == 3)
            for (size_t i = 2; i < sizeof buf; i += 3)
                buf[i] |= 0x7f;
        memset(x, 0x55, sizeof x);
        memset(y, 0x55, sizeof y);
        const unsigned jp = pt->mldsa_rej_uniform(x, j0, buf, len);
        uint8_t *eb = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
        assert_non_null(eb);
        memcpy(eb, buf, len);
        const unsigned ja = av->mldsa_rej_uniform(y, j0, eb, len);
        free(eb);
        assert_int_equal(jp, ja);
        if (memcmp(x, y, jp * sizeof x[0]) != 0) /* a[0..count) is defined */
            fail_msg("ML-DSA rej_uniform differs, run %u (len %zu, j %u)", run, len, j0);
    }
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(av->mldsa_rej_uniform(x, 9, buf, 840), 9);
}

struct kem_out {
    uint8_t ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES];
    uint8_t ct[MW_MLKEM_MAX_CT_BYTES], ss[32], ss_bad[32];
    int rc[4];
};

static void kem_run(mw_mlkem_param_t p, const uint8_t seed[96], struct kem_out *o)
{
    const size_t ekl = mw_mlkem_ek_bytes(p), dkl = mw_mlkem_dk_bytes(p), ctl = mw_mlkem_ct_bytes(p);
    uint8_t ss2[32], bad[MW_MLKEM_MAX_CT_BYTES];
    memset(o, 0, sizeof *o);
    o->rc[0] = mw_mlkem_keygen_internal(p, o->ek, o->dk, seed, seed + 32);
    o->rc[1] = mw_mlkem_encaps_internal(p, o->ss, o->ct, o->ek, ekl, seed + 64);
    o->rc[2] = mw_mlkem_decaps(p, ss2, o->ct, ctl, o->dk, dkl);
    assert_memory_equal(ss2, o->ss, 32);
    memcpy(bad, o->ct, ctl);
    bad[seed[0] % ctl] ^= (uint8_t)(1u << (seed[1] % 8)); /* implicit rejection */
    o->rc[3] = mw_mlkem_decaps(p, o->ss_bad, bad, ctl, o->dk, dkl);
}

static void test_mlkem_same_bytes(void **state)
{
    (void)state;
    if (!have_avx2())
        return;
    static const mw_mlkem_param_t sets[] = {MW_MLKEM512, MW_MLKEM768, MW_MLKEM1024};
    static struct kem_out a, b;
    uint8_t seed[96];
    for (size_t s = 0; s < 3; s++) {
        for (unsigned i = 0; i < SEEDS; i++) {
            prng(seed, sizeof seed, mw_mlkem_name(sets[s]), i);
            mw_crypto_impl_force(1);
            kem_run(sets[s], seed, &a);
            mw_crypto_impl_force(0);
            kem_run(sets[s], seed, &b);
            for (int r = 0; r < 4; r++) {
                assert_int_equal(a.rc[r], MW_OK);
                assert_int_equal(b.rc[r], MW_OK);
            }
            if (memcmp(&a, &b, sizeof a) != 0)
                fail_msg("%s seed %u: portable and AVX2 outputs differ", mw_mlkem_name(sets[s]), i);
            assert_memory_not_equal(a.ss, a.ss_bad, 32);
        }
    }
}

struct dsa_out {
    uint8_t pk[MW_MLDSA_MAX_PK_BYTES], sk[MW_MLDSA_MAX_SK_BYTES], sig[MW_MLDSA_MAX_SIG_BYTES];
    int rc[4];
};

static void dsa_run(mw_mldsa_param_t p, const uint8_t seed[192], struct dsa_out *o)
{
    const size_t pkl = mw_mldsa_pk_bytes(p), skl = mw_mldsa_sk_bytes(p),
                 sigl = mw_mldsa_sig_bytes(p);
    const uint8_t *msg = seed + 64;
    const size_t ml = seed[63] % 128;
    uint8_t bad[MW_MLDSA_MAX_SIG_BYTES];
    memset(o, 0, sizeof *o);
    o->rc[0] = mw_mldsa_keygen_internal(p, o->pk, o->sk, seed);
    o->rc[1] = mw_mldsa_sign_internal(p, o->sig, o->sk, skl, msg, ml, seed + 32);
    o->rc[2] = mw_mldsa_verify_internal(p, o->pk, pkl, msg, ml, o->sig, sigl);
    memcpy(bad, o->sig, sigl);
    bad[seed[0] % sigl] ^= (uint8_t)(1u << (seed[1] % 8));
    o->rc[3] = mw_mldsa_verify_internal(p, o->pk, pkl, msg, ml, bad, sigl);
}

static void test_mldsa_same_bytes(void **state)
{
    (void)state;
    if (!have_avx2())
        return;
    static const mw_mldsa_param_t sets[] = {MW_MLDSA44, MW_MLDSA65, MW_MLDSA87};
    static struct dsa_out a, b;
    uint8_t seed[192];
    for (size_t s = 0; s < 3; s++) {
        for (unsigned i = 0; i < SEEDS; i++) {
            prng(seed, sizeof seed, mw_mldsa_name(sets[s]), i);
            mw_crypto_impl_force(1);
            dsa_run(sets[s], seed, &a);
            mw_crypto_impl_force(0);
            dsa_run(sets[s], seed, &b);
            assert_int_equal(a.rc[0], MW_OK);
            assert_int_equal(a.rc[1], MW_OK);
            assert_int_equal(a.rc[2], MW_OK);
            assert_int_not_equal(a.rc[3], MW_OK);
            if (memcmp(&a, &b, sizeof a) != 0)
                fail_msg("%s seed %u: portable and AVX2 outputs differ", mw_mldsa_name(sets[s]), i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccakx4),         cmocka_unit_test(test_mlkem_arith),
        cmocka_unit_test(test_mldsa_arith),      cmocka_unit_test(test_mlkem_same_bytes),
        cmocka_unit_test(test_mldsa_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
