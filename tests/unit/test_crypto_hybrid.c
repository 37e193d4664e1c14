/* Unit tests for the hybrid KEM (src/crypto/hybrid.c): round trip, the key
 * recomputed here from OpenSSL's X25519 derive and SHA3-256 and our ML-KEM
 * decapsulation, tampering with each region, wrong lengths, low-order
 * X25519 points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mwrasp/pqc.h"

#define EKB MW_MLKEM1024_EK_BYTES
#define DKB MW_MLKEM1024_DK_BYTES
#define CTB MW_MLKEM1024_CT_BYTES

static uint8_t pk[MW_HYBRID_PK_BYTES], sk[MW_HYBRID_SK_BYTES], ct[MW_HYBRID_CT_BYTES];

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* X25519 shared secret computed with OpenSSL directly. */
static int ossl_x25519(uint8_t out[32], const uint8_t skx[32], const uint8_t peer[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, skx, 32);
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
    size_t n = 32;
    int ok = c && p && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, p) == 1 &&
             EVP_PKEY_derive(c, out, &n) == 1 && n == 32;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(p);
    EVP_PKEY_free(k);
    return ok;
}

/* The documented combiner, with OpenSSL's SHA3-256. */
static void expected_ss(uint8_t out[32], const uint8_t *c, const uint8_t *s)
{
    uint8_t ss_m[32], ss_x[32];
    assert_int_equal(mw_mlkem_decaps(MW_MLKEM1024, ss_m, c, CTB, s, DKB), MW_OK);
    assert_true(ossl_x25519(ss_x, s + DKB, c + CTB));
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned n = 0;
    assert_int_equal(EVP_DigestInit_ex(m, EVP_sha3_256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(m, "MWHK01", 6), 1);
    assert_int_equal(EVP_DigestUpdate(m, ss_m, 32), 1);
    assert_int_equal(EVP_DigestUpdate(m, ss_x, 32), 1);
    assert_int_equal(EVP_DigestUpdate(m, c + CTB, 32), 1); /* ct_x25519 */
    assert_int_equal(EVP_DigestUpdate(m, s + DKB + 32, 32), 1); /* pk_x25519 */
    assert_int_equal(EVP_DigestUpdate(m, c, CTB), 1); /* ct_mlkem */
    assert_int_equal(EVP_DigestFinal_ex(m, out, &n), 1);
    assert_int_equal(n, 32);
    EVP_MD_CTX_free(m);
}

static void test_round_trip_and_layout(void **st)
{
    (void)st;
    for (int i = 0; i < 5; i++) {
        uint8_t ss1[32], ss2[32], exp[32], pub[32];
        size_t n = 32;
        assert_int_equal(mw_hybrid_keygen(pk, sizeof pk, sk, sizeof sk), MW_OK);
        /* pk = ek || pk_x; sk = dk || sk_x || pk_x; pk_x = X25519(sk_x, 9). */
        assert_memory_equal(pk + EKB, sk + DKB + 32, 32);
        assert_int_equal(mw_mlkem_check_ek(MW_MLKEM1024, pk, EKB), MW_OK);
        assert_int_equal(mw_mlkem_check_dk(MW_MLKEM1024, sk, DKB), MW_OK);
        assert_memory_equal(pk, sk + 384 * 4, EKB); /* FIPS 203: dk = dk_PKE || ek || h || z */
        EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk + DKB, 32);
        assert_non_null(k);
        assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub, &n), 1);
        EVP_PKEY_free(k);
        assert_memory_equal(pub, pk + EKB, 32);

        assert_int_equal(mw_hybrid_encaps(ss1, ct, sizeof ct, pk, sizeof pk), MW_OK);
        assert_int_equal(mw_hybrid_decaps(ss2, ct, sizeof ct, sk, sizeof sk), MW_OK);
        assert_memory_equal(ss1, ss2, 32);
        expected_ss(exp, ct, sk);
        assert_memory_equal(ss1, exp, 32);
        assert_false(all_zero(ss1, 32));
    }
}

/* Changing any region of the ciphertext (or the X25519 public key held in
 * sk) changes the key. */
static void test_tamper_changes_key(void **st)
{
    (void)st;
    uint8_t ss[32], ss2[32];
    assert_int_equal(mw_hybrid_keygen(pk, sizeof pk, sk, sizeof sk), MW_OK);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, pk, sizeof pk), MW_OK);
    const size_t pos[] = {0, 1, 700, CTB - 1, CTB, CTB + 15, CTB + 31};
    const uint8_t bits[] = {0x01, 0x80};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        for (size_t b = 0; b < 2; b++) {
            ct[pos[i]] ^= bits[b];
            int rc = mw_hybrid_decaps(ss2, ct, sizeof ct, sk, sizeof sk);
            /* Bit 255 of an X25519 u-coordinate is ignored by X25519 (RFC
             * 7748 section 5), yet the key changes: ct_x25519 is hashed. */
            assert_true(rc == MW_OK || rc == MW_ECRYPTO);
            if (rc == MW_OK)
                assert_memory_not_equal(ss, ss2, 32);
            ct[pos[i]] ^= bits[b];
        }
    }
    /* Every byte of the X25519 part, one at a time. */
    for (size_t i = CTB; i < sizeof ct; i++) {
        ct[i] ^= 0x04;
        int rc = mw_hybrid_decaps(ss2, ct, sizeof ct, sk, sizeof sk);
        assert_true(rc == MW_OK || rc == MW_ECRYPTO);
        if (rc == MW_OK)
            assert_memory_not_equal(ss, ss2, 32);
        ct[i] ^= 0x04;
    }
    /* The X25519 public key stored in sk is part of the hash. */
    sk[DKB + 32] ^= 1;
    assert_int_equal(mw_hybrid_decaps(ss2, ct, sizeof ct, sk, sizeof sk), MW_OK);
    assert_memory_not_equal(ss, ss2, 32);
    sk[DKB + 32] ^= 1;
    assert_int_equal(mw_hybrid_decaps(ss2, ct, sizeof ct, sk, sizeof sk), MW_OK);
    assert_memory_equal(ss, ss2, 32);
}

static void test_wrong_lengths(void **st)
{
    (void)st;
    uint8_t ss[32];
    assert_int_equal(mw_hybrid_keygen(pk, sizeof pk, sk, sizeof sk), MW_OK);
    assert_int_equal(mw_hybrid_keygen(pk, sizeof pk - 1, sk, sizeof sk), MW_EINVAL);
    assert_int_equal(mw_hybrid_keygen(pk, sizeof pk, sk, sizeof sk + 1), MW_EINVAL);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct - 1, pk, sizeof pk), MW_EINVAL);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, pk, sizeof pk - 1), MW_EINVAL);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, pk, EKB), MW_EINVAL);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, pk, sizeof pk), MW_OK);
    assert_int_equal(mw_hybrid_decaps(ss, ct, sizeof ct - 1, sk, sizeof sk), MW_EINVAL);
    assert_int_equal(mw_hybrid_decaps(ss, ct, sizeof ct + 1, sk, sizeof sk), MW_EINVAL);
    assert_int_equal(mw_hybrid_decaps(ss, ct, sizeof ct, sk, sizeof sk - 1), MW_EINVAL);
    assert_int_equal(mw_hybrid_decaps(ss, ct, CTB, sk, sizeof sk), MW_EINVAL);
    assert_int_equal(mw_hybrid_decaps(NULL, ct, sizeof ct, sk, sizeof sk), MW_EINVAL);
    /* An ML-KEM ek that fails the modulus check (FIPS 203 section 7.2): a
     * coefficient 0xFFF >= q. */
    uint8_t bad[MW_HYBRID_PK_BYTES];
    memcpy(bad, pk, sizeof bad);
    bad[0] = 0xFF;
    bad[1] |= 0x0F;
    memset(ss, 0xAA, sizeof ss);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, bad, sizeof bad), MW_EINVAL);
    assert_true(all_zero(ss, 32));
    /* A dk whose H(ek) does not match (section 7.3). */
    sk[DKB - 40] ^= 1;
    assert_int_equal(mw_hybrid_decaps(ss, ct, sizeof ct, sk, sizeof sk), MW_EINVAL);
    sk[DKB - 40] ^= 1;
}

/* Low-order X25519 points (RFC 7748 section 6.1): u = 0 and u = 1 give an
 * all-zero shared secret, which OpenSSL's derive refuses. */
static void test_low_order_points(void **st)
{
    (void)st;
    uint8_t ss[32], out[32];
    assert_int_equal(mw_hybrid_keygen(pk, sizeof pk, sk, sizeof sk), MW_OK);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, pk, sizeof pk), MW_OK);
    for (int u = 0; u <= 1; u++) {
        memset(ct + CTB, 0, 32);
        ct[CTB] = (uint8_t)u;
        assert_false(ossl_x25519(out, sk + DKB, ct + CTB)); /* OpenSSL itself refuses it */
        memset(ss, 0xAA, sizeof ss);
        assert_int_equal(mw_hybrid_decaps(ss, ct, sizeof ct, sk, sizeof sk), MW_ECRYPTO);
        assert_true(all_zero(ss, 32));
        /* The same point as a recipient's public key: encaps refuses it. */
        uint8_t badpk[MW_HYBRID_PK_BYTES];
        memcpy(badpk, pk, sizeof badpk);
        memset(badpk + EKB, 0, 32);
        badpk[EKB] = (uint8_t)u;
        memset(ss, 0xAA, sizeof ss);
        assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, badpk, sizeof badpk), MW_ECRYPTO);
        assert_true(all_zero(ss, 32));
        assert_true(all_zero(ct, sizeof ct));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_layout),
        cmocka_unit_test(test_tamper_changes_key),
        cmocka_unit_test(test_wrong_lengths),
        cmocka_unit_test(test_low_order_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
