/* The AVX2 code paths give the same bytes as the portable ones
 * (src/crypto/dispatch.h, docs/internals/crypto.md section "AVX2"): for 1000
 * pseudo-random seeds per parameter set, ML-KEM keygen / encaps / decaps
 * (valid and modified ciphertext) and ML-DSA keygen / hedged signing /
 * verification (valid and modified signature) run once with the portable
 * table forced and once with the AVX2 table, and every output byte is
 * compared. Also the 4-way Keccak permutation against mw_keccak_f1600. The
 * seeds come from SHAKE256 of a counter, so a failure is reproducible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/dispatch.h"
#include "mwrasp/pqc.h"

#define SEEDS 1000

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
        cmocka_unit_test(test_keccakx4),
        cmocka_unit_test(test_mlkem_same_bytes),
        cmocka_unit_test(test_mldsa_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
