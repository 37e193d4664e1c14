/* Unit tests for the symmetric layer (src/crypto/aead.c): AES-256-GCM against
 * the GCM specification's test cases, the sealed format and every tamper,
 * HKDF-SHA-256 against RFC 5869 test case 1, HKDF-SHA3-512 against HKDF
 * built here from OpenSSL's HMAC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mwrasp/pqc.h"

static void unhex(uint8_t *out, size_t n, const char *hex)
{
    assert_int_equal(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void rnd(void *p, size_t n)
{
    assert_int_equal(mw_random_bytes(p, n), MW_OK);
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* ---- AES-256-GCM ------------------------------------------------------- */

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and
 * 14 (AES-256, zero key, zero IV; empty plaintext and one zero block). */
static void test_gcm_known_answers(void **st)
{
    (void)st;
    uint8_t key[32] = {0}, nonce[12] = {0}, pt[16] = {0}, ct[16], tag[16], exp[16], back[16];
    assert_int_equal(mw_aes256gcm_encrypt(NULL, tag, key, nonce, NULL, 0, NULL, 0), MW_OK);
    unhex(exp, 16, "530f8afbc74536b9a963b4f1c4cb738b");
    assert_memory_equal(tag, exp, 16);
    assert_int_equal(mw_aes256gcm_decrypt(NULL, key, nonce, NULL, 0, NULL, 0, tag), MW_OK);

    assert_int_equal(mw_aes256gcm_encrypt(ct, tag, key, nonce, NULL, 0, pt, 16), MW_OK);
    unhex(exp, 16, "cea7403d4d606b6e074ec5d3baf39d18");
    assert_memory_equal(ct, exp, 16);
    unhex(exp, 16, "d0d1c8a799996bf0265b98b5d48ab919");
    assert_memory_equal(tag, exp, 16);
    assert_int_equal(mw_aes256gcm_decrypt(back, key, nonce, NULL, 0, ct, 16, tag), MW_OK);
    assert_memory_equal(back, pt, 16);
}

static void test_gcm_tamper(void **st)
{
    (void)st;
    uint8_t key[32], nonce[12], aad[20], pt[37], ct[37], tag[16], back[37];
    rnd(key, sizeof key);
    rnd(nonce, sizeof nonce);
    rnd(aad, sizeof aad);
    rnd(pt, sizeof pt);
    assert_int_equal(mw_aes256gcm_encrypt(ct, tag, key, nonce, aad, sizeof aad, pt, sizeof pt),
                     MW_OK);
    assert_memory_not_equal(ct, pt, sizeof pt);
    assert_int_equal(mw_aes256gcm_decrypt(back, key, nonce, aad, sizeof aad, ct, sizeof ct, tag),
                     MW_OK);
    assert_memory_equal(back, pt, sizeof pt);
    /* In place. */
    memcpy(back, pt, sizeof pt);
    assert_int_equal(mw_aes256gcm_encrypt(back, tag, key, nonce, aad, sizeof aad, back, sizeof pt),
                     MW_OK);
    assert_memory_equal(back, ct, sizeof ct);

    uint8_t *parts[] = {key, nonce, aad, ct, tag};
    size_t lens[] = {sizeof key, sizeof nonce, sizeof aad, sizeof ct, sizeof tag};
    for (size_t k = 0; k < 5; k++) {
        for (size_t i = 0; i < lens[k]; i++) {
            parts[k][i] ^= 0x01;
            memset(back, 0xAA, sizeof back);
            assert_int_equal(
                mw_aes256gcm_decrypt(back, key, nonce, aad, sizeof aad, ct, sizeof ct, tag),
                MW_EVERIFY);
            assert_true(all_zero(back, sizeof back));
            parts[k][i] ^= 0x01;
        }
    }
    /* A shorter AAD or ciphertext. */
    assert_int_equal(
        mw_aes256gcm_decrypt(back, key, nonce, aad, sizeof aad - 1, ct, sizeof ct, tag),
        MW_EVERIFY);
    assert_int_equal(
        mw_aes256gcm_decrypt(back, key, nonce, aad, sizeof aad, ct, sizeof ct - 1, tag),
        MW_EVERIFY);
    assert_int_equal(mw_aes256gcm_encrypt(ct, tag, key, nonce, NULL, 0, pt, MW_AEAD_MAX_BYTES + 1),
                     MW_ETOOBIG);
}

/* ---- sealed format ----------------------------------------------------- */

static void test_seal_format_and_tamper(void **st)
{
    (void)st;
    uint8_t key[32], nonce[12], aad[9] = "aad-bytes";
    char pt[] = "a sealed threat record";
    size_t n = sizeof pt;
    uint8_t msg[sizeof pt + MW_SEAL_OVERHEAD], back[sizeof pt];
    size_t msg_len = 0, back_len = 99;
    rnd(key, sizeof key);
    rnd(nonce, sizeof nonce);
    const uint64_t gen = 0x0102030405060708ull;

    assert_int_equal(mw_seal(msg, sizeof msg - 1, &msg_len, key, gen, nonce, aad, sizeof aad,
                             (const uint8_t *)pt, n),
                     MW_EINVAL);
    assert_int_equal(mw_seal(msg, sizeof msg, &msg_len, key, gen, nonce, aad, sizeof aad,
                             (const uint8_t *)pt, n),
                     MW_OK);
    assert_int_equal(msg_len, n + 37);
    /* Header: version 1, generation big-endian, nonce. */
    assert_int_equal(msg[0], 1);
    for (int i = 0; i < 8; i++)
        assert_int_equal(msg[1 + i], i + 1);
    assert_memory_equal(msg + 9, nonce, 12);
    /* The body is the plain GCM ciphertext with the header as AAD prefix. */
    uint8_t aadfull[21 + sizeof aad], ct[sizeof pt], tag[16];
    memcpy(aadfull, msg, 21);
    memcpy(aadfull + 21, aad, sizeof aad);
    assert_int_equal(
        mw_aes256gcm_encrypt(ct, tag, key, nonce, aadfull, sizeof aadfull, (const uint8_t *)pt, n),
        MW_OK);
    assert_memory_equal(msg + 21, ct, n);
    assert_memory_equal(msg + 21 + n, tag, 16);

    uint64_t g = 0;
    assert_int_equal(mw_seal_generation(msg, msg_len, &g), MW_OK);
    assert_true(g == gen);
    assert_int_equal(
        mw_seal_open(back, sizeof back, &back_len, key, gen, aad, sizeof aad, msg, msg_len), MW_OK);
    assert_int_equal(back_len, n);
    assert_memory_equal(back, pt, n);

    /* Every byte of the message, flipped one bit at a time. */
    for (size_t i = 0; i < msg_len; i++) {
        for (int b = 0; b < 8; b++) {
            msg[i] ^= (uint8_t)(1u << b);
            memset(back, 0xAA, sizeof back);
            back_len = 99;
            assert_int_equal(
                mw_seal_open(back, sizeof back, &back_len, key, gen, aad, sizeof aad, msg, msg_len),
                MW_EVERIFY);
            assert_true(all_zero(back, sizeof back));
            assert_int_equal(back_len, 0);
            msg[i] ^= (uint8_t)(1u << b);
        }
    }
    /* Every byte of the AAD; a missing AAD; the wrong generation. */
    for (size_t i = 0; i < sizeof aad; i++) {
        aad[i] ^= 0x80;
        assert_int_equal(
            mw_seal_open(back, sizeof back, &back_len, key, gen, aad, sizeof aad, msg, msg_len),
            MW_EVERIFY);
        aad[i] ^= 0x80;
    }
    assert_int_equal(mw_seal_open(back, sizeof back, &back_len, key, gen, NULL, 0, msg, msg_len),
                     MW_EVERIFY);
    assert_int_equal(
        mw_seal_open(back, sizeof back, &back_len, key, gen + 1, aad, sizeof aad, msg, msg_len),
        MW_EVERIFY);
    /* Truncations: too short for the format, or a shorter ciphertext. */
    for (size_t l = 0; l < MW_SEAL_OVERHEAD; l++)
        assert_int_equal(
            mw_seal_open(back, sizeof back, &back_len, key, gen, aad, sizeof aad, msg, l),
            MW_EINVAL);
    assert_int_equal(mw_seal_generation(msg, MW_SEAL_OVERHEAD - 1, &g), MW_EINVAL);
    assert_int_equal(
        mw_seal_open(back, sizeof back, &back_len, key, gen, aad, sizeof aad, msg, msg_len - 1),
        MW_EVERIFY);
    assert_int_equal(mw_seal_open(back, n - 1, &back_len, key, gen, aad, sizeof aad, msg, msg_len),
                     MW_EINVAL);
    /* An empty plaintext seals to the overhead alone. */
    assert_int_equal(mw_seal(msg, sizeof msg, &msg_len, key, 7, nonce, NULL, 0, NULL, 0), MW_OK);
    assert_int_equal(msg_len, MW_SEAL_OVERHEAD);
    assert_int_equal(mw_seal_open(NULL, 0, &back_len, key, 7, NULL, 0, msg, msg_len), MW_OK);
    assert_int_equal(back_len, 0);
}

/* ---- HKDF -------------------------------------------------------------- */

/* RFC 5869 appendix A.1, test case 1 (SHA-256). */
static void test_hkdf_rfc5869_case1(void **st)
{
    (void)st;
    uint8_t ikm[22], salt[13], info[10], prk[32], okm[42], exp_prk[32], exp_okm[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++)
        salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++)
        info[i] = (uint8_t)(0xf0 + i);
    unhex(exp_prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    unhex(exp_okm, 42,
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    assert_int_equal(mw_hkdf(MW_HKDF_SHA256, okm, sizeof okm, salt, sizeof salt, ikm, sizeof ikm,
                             info, sizeof info),
                     MW_OK);
    assert_memory_equal(okm, exp_okm, 42);
    assert_int_equal(
        mw_hkdf_extract(MW_HKDF_SHA256, prk, sizeof prk, salt, sizeof salt, ikm, sizeof ikm),
        MW_OK);
    assert_memory_equal(prk, exp_prk, 32);
    memset(okm, 0, sizeof okm);
    assert_int_equal(
        mw_hkdf_expand(MW_HKDF_SHA256, okm, sizeof okm, prk, sizeof prk, info, sizeof info), MW_OK);
    assert_memory_equal(okm, exp_okm, 42);
    /* A prefix of the output is the shorter output (T(1) || T(2) ...). */
    assert_int_equal(
        mw_hkdf(MW_HKDF_SHA256, okm, 5, salt, sizeof salt, ikm, sizeof ikm, info, sizeof info),
        MW_OK);
    assert_memory_equal(okm, exp_okm, 5);
}

static void test_hkdf_limits(void **st)
{
    (void)st;
    static uint8_t out[255 * 64 + 1];
    uint8_t ikm[32] = {1}, info[MW_HKDF_MAX_INFO_BYTES + 1] = {0}, prk[64];
    assert_int_equal(mw_hkdf(MW_HKDF_SHA256, out, 255 * 32, NULL, 0, ikm, 32, NULL, 0), MW_OK);
    assert_int_equal(mw_hkdf(MW_HKDF_SHA256, out, 255 * 32 + 1, NULL, 0, ikm, 32, NULL, 0),
                     MW_EINVAL);
    assert_int_equal(mw_hkdf(MW_HKDF_SHA3_512, out, 255 * 64, NULL, 0, ikm, 32, NULL, 0), MW_OK);
    assert_int_equal(mw_hkdf(MW_HKDF_SHA3_512, out, 255 * 64 + 1, NULL, 0, ikm, 32, NULL, 0),
                     MW_EINVAL);
    assert_int_equal(mw_hkdf(MW_HKDF_SHA256, out, 0, NULL, 0, ikm, 32, NULL, 0), MW_EINVAL);
    assert_int_equal(mw_hkdf((mw_hkdf_hash_t)9, out, 32, NULL, 0, ikm, 32, NULL, 0), MW_EINVAL);
    assert_int_equal(mw_hkdf(MW_HKDF_SHA256, out, 32, NULL, 0, ikm, 32, info, sizeof info),
                     MW_ETOOBIG);
    assert_int_equal(mw_hkdf(MW_HKDF_SHA256, out, 32, NULL, 0, ikm, 32, info, sizeof info - 1),
                     MW_OK);
    assert_int_equal(mw_hkdf_extract(MW_HKDF_SHA256, prk, 64, NULL, 0, ikm, 32), MW_EINVAL);
    assert_int_equal(mw_hkdf_expand(MW_HKDF_SHA3_512, out, 32, prk, 63, NULL, 0), MW_EINVAL);
    assert_int_equal(mw_hkdf_hash_bytes(MW_HKDF_SHA256), 32);
    assert_int_equal(mw_hkdf_hash_bytes(MW_HKDF_SHA3_512), 64);
}

/* HKDF written out from RFC 5869 section 2 over OpenSSL's HMAC-SHA3-512. */
static void ref_hkdf_sha3_512(uint8_t *out, size_t len, const uint8_t *salt, size_t salt_len,
                              const uint8_t *ikm, size_t ikm_len, const uint8_t *info,
                              size_t info_len)
{
    uint8_t zeros[64] = {0}, prk[64], t[64], buf[64 + MW_HKDF_MAX_INFO_BYTES + 1];
    size_t n = 0;
    if (salt_len == 0) {
        salt = zeros;
        salt_len = 64;
    }
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA3-512", NULL, salt, salt_len, ikm, ikm_len,
                              prk, sizeof prk, &n));
    assert_int_equal(n, 64);
    size_t tlen = 0, done = 0;
    for (unsigned i = 1; done < len; i++) {
        memcpy(buf, t, tlen);
        memcpy(buf + tlen, info, info_len);
        buf[tlen + info_len] = (uint8_t)i;
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA3-512", NULL, prk, 64, buf,
                                  tlen + info_len + 1, t, sizeof t, &n));
        tlen = 64;
        size_t k = len - done < 64 ? len - done : 64;
        memcpy(out + done, t, k);
        done += k;
    }
}

static void test_hkdf_sha3_512_vs_openssl_hmac(void **st)
{
    (void)st;
    uint8_t salt[100], ikm[100], info[100], a[300], b[300];
    for (int iter = 0; iter < 200; iter++) {
        uint8_t r[4];
        rnd(r, sizeof r);
        size_t sl = r[0] % 100, il = 1 + r[1] % 99, nl = r[2] % 100, ol = 1 + (r[3] + iter) % 300;
        rnd(salt, sl);
        rnd(ikm, il);
        rnd(info, nl);
        assert_int_equal(
            mw_hkdf(MW_HKDF_SHA3_512, a, ol, sl ? salt : NULL, sl, ikm, il, nl ? info : NULL, nl),
            MW_OK);
        ref_hkdf_sha3_512(b, ol, salt, sl, ikm, il, info, nl);
        assert_memory_equal(a, b, ol);
    }
}

/* ---- nonces under the keystore ------------------------------------------ */

struct gn {
    uint64_t gen;
    uint8_t nonce[12];
};

static int gn_cmp(const void *a, const void *b)
{
    const struct gn *x = a, *y = b;
    if (x->gen != y->gen)
        return x->gen < y->gen ? -1 : 1;
    return memcmp(x->nonce, y->nonce, 12);
}

#define PER_ROUND 3000
#define ROUNDS 6

/* Seals PER_ROUND messages with each of several handles (two open at once,
 * handles freed and the keystore reopened, a rotation in between) and
 * checks that no (generation, nonce) pair ever repeats. */
static void test_keystore_nonces_never_repeat(void **st)
{
    (void)st;
    char dir[] = "/tmp/mw-aead-test.XXXXXX", ks_path[64], key_path[64], cmd[96];
    char err[MW_KEYSTORE_ERR_BYTES];
    assert_non_null(mkdtemp(dir));
    snprintf(ks_path, sizeof ks_path, "%s/ks", dir);
    snprintf(key_path, sizeof key_path, "%s/mk", dir);
    assert_int_equal(mw_keystore_new_master_key_file(key_path, err, sizeof err), MW_OK);
    mw_keystore_opts_t o = {0};
    o.key_file = key_path;
    mw_keystore_t *a = NULL, *b = NULL;
    assert_int_equal(mw_keystore_create(&a, ks_path, &o, 1000, err, sizeof err), MW_OK);

    static struct gn seen[PER_ROUND * ROUNDS];
    size_t ns = 0;
    uint8_t pt[5] = "hello", out[5 + MW_SEAL_OVERHEAD], back[5];
    for (int round = 0; round < ROUNDS; round++) {
        /* 0: a; 1: b opened beside a; 2: a freed and reopened; 3: b again,
         * then freed; 4: a rotates; 5: b reopened (under the new generation). */
        if (round == 1 || round == 5)
            assert_int_equal(mw_keystore_load(&b, ks_path, &o, err, sizeof err), MW_OK);
        if (round == 2) {
            mw_keystore_free(a);
            assert_int_equal(mw_keystore_load(&a, ks_path, &o, err, sizeof err), MW_OK);
        }
        if (round == 4)
            assert_int_equal(mw_keystore_rotate(a, 2000, err, sizeof err), MW_OK);
        mw_keystore_t *h = round % 2 ? b : a;
        uint32_t sealer = 0;
        for (int i = 0; i < PER_ROUND; i++) {
            size_t ol = 0, bl = 0;
            assert_int_equal(mw_keystore_seal(h, out, sizeof out, &ol, NULL, 0, pt, 5), MW_OK);
            assert_int_equal(ol, sizeof out);
            assert_int_equal(mw_keystore_unseal(h, back, sizeof back, &bl, NULL, 0, out, ol),
                             MW_OK);
            assert_memory_equal(back, pt, 5);
            assert_int_equal(mw_seal_generation(out, ol, &seen[ns].gen), MW_OK);
            memcpy(seen[ns].nonce, out + 9, 12);
            /* nonce = sealer id (32 bits) || counter (64 bits) */
            uint32_t s = ((uint32_t)out[9] << 24) | ((uint32_t)out[10] << 16) |
                         ((uint32_t)out[11] << 8) | out[12];
            if (i == 0)
                sealer = s;
            assert_int_equal(s, sealer);
            uint64_t c = 0;
            for (int k = 0; k < 8; k++)
                c = (c << 8) | out[13 + k];
            assert_true(c == (uint64_t)i + (round == 3 ? PER_ROUND : 0));
            ns++;
        }
        if (round == 3) {
            mw_keystore_free(b);
            b = NULL;
        }
    }
    qsort(seen, ns, sizeof seen[0], gn_cmp);
    for (size_t i = 1; i < ns; i++)
        assert_int_not_equal(gn_cmp(&seen[i - 1], &seen[i]), 0);
    mw_keystore_free(a);
    mw_keystore_free(b);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_known_answers),
        cmocka_unit_test(test_gcm_tamper),
        cmocka_unit_test(test_seal_format_and_tamper),
        cmocka_unit_test(test_hkdf_rfc5869_case1),
        cmocka_unit_test(test_hkdf_limits),
        cmocka_unit_test(test_hkdf_sha3_512_vs_openssl_hmac),
        cmocka_unit_test(test_keystore_nonces_never_repeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
