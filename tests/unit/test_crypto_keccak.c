/* Keccak / SHA-3 / SHAKE (src/crypto/keccak.c) against OpenSSL's EVP
 * implementation of FIPS 202: every input length 0..1000 for each function,
 * random absorb splits and random squeeze chunk sizes against one-shot
 * output. Inputs come from a fixed-seed generator so a failure reproduces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "mwrasp/pqc.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd64(void)
{
    /* xorshift64*: test input only. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd64() >> 56);
}

static size_t rnd_below(size_t n)
{
    return (size_t)(rnd64() % n);
}

enum fn { F_SHA3_256, F_SHA3_512, F_SHAKE128, F_SHAKE256, F_COUNT };
static const char *fn_name[F_COUNT] = {"SHA3-256", "SHA3-512", "SHAKE128", "SHAKE256"};

/* OpenSSL one-shot: EVP_DigestFinal_ex, or EVP_DigestFinalXOF for SHAKE. */
static void ossl(enum fn f, uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    const EVP_MD *md = f == F_SHA3_256   ? EVP_sha3_256()
                       : f == F_SHA3_512 ? EVP_sha3_512()
                       : f == F_SHAKE128 ? EVP_shake128()
                                         : EVP_shake256();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, in, inlen), 1);
    if (f == F_SHAKE128 || f == F_SHAKE256) {
        assert_int_equal(EVP_DigestFinalXOF(ctx, out, outlen), 1);
    } else {
        unsigned int n = 0;
        assert_int_equal(EVP_DigestFinal_ex(ctx, out, &n), 1);
        assert_int_equal(n, outlen);
    }
    EVP_MD_CTX_free(ctx);
}

static void ours_init(enum fn f, mw_keccak_t *k)
{
    switch (f) {
    case F_SHA3_256:
        mw_sha3_256_init(k);
        break;
    case F_SHA3_512:
        mw_sha3_512_init(k);
        break;
    case F_SHAKE128:
        mw_shake128_init(k);
        break;
    default:
        mw_shake256_init(k);
        break;
    }
}

static void ours_oneshot(enum fn f, uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    switch (f) {
    case F_SHA3_256:
        assert_int_equal(outlen, 32);
        mw_sha3_256(out, in, inlen);
        break;
    case F_SHA3_512:
        assert_int_equal(outlen, 64);
        mw_sha3_512(out, in, inlen);
        break;
    case F_SHAKE128:
        mw_shake128(out, outlen, in, inlen);
        break;
    default:
        mw_shake256(out, outlen, in, inlen);
        break;
    }
}

static size_t digest_len(enum fn f, size_t shake_len)
{
    return f == F_SHA3_256 ? 32 : f == F_SHA3_512 ? 64 : shake_len;
}

static void check_equal(enum fn f, size_t inlen, const uint8_t *a, const uint8_t *b, size_t n)
{
    if (memcmp(a, b, n) != 0)
        fail_msg("%s: input length %zu, output %zu bytes differ from OpenSSL", fn_name[f], inlen,
                 n);
}

/* Every input length 0..1000, one-shot API, each function. */
static void test_every_length(void **state)
{
    (void)state;
    static uint8_t in[1000];
    uint8_t want[200], got[200];
    for (int f = 0; f < F_COUNT; f++) {
        for (size_t len = 0; len <= 1000; len++) {
            rnd_bytes(in, len);
            size_t outlen = digest_len(f, 1 + len % 200);
            ossl(f, want, outlen, in, len);
            memset(got, 0xaa, sizeof got);
            ours_oneshot(f, got, outlen, in, len);
            check_equal(f, len, want, got, outlen);
        }
    }
}

/* Incremental absorb: the same input split into random chunks (including
 * empty ones) gives the one-shot digest. */
static void test_absorb_splits(void **state)
{
    (void)state;
    static uint8_t in[1000];
    uint8_t want[64], got[64];
    for (int f = 0; f < F_COUNT; f++) {
        for (int iter = 0; iter < 400; iter++) {
            size_t len = rnd_below(1001);
            rnd_bytes(in, len);
            size_t outlen = digest_len(f, 64);
            ossl(f, want, outlen, in, len);
            mw_keccak_t k;
            ours_init(f, &k);
            size_t off = 0;
            while (off < len) {
                size_t max = (iter & 1) ? 8 : 400; /* small and large chunks */
                size_t n = rnd_below(max + 1);
                if (n > len - off)
                    n = len - off;
                mw_keccak_absorb(&k, in + off, n);
                off += n;
            }
            mw_keccak_squeeze(&k, got, outlen);
            check_equal(f, len, want, got, outlen);
        }
    }
}

/* Incremental squeeze: 1..3 blocks (and a bit more) of XOF output squeezed
 * in random chunk sizes equals one EVP_DigestFinalXOF of the total. */
static void test_squeeze_chunks(void **state)
{
    (void)state;
    uint8_t in[300];
    uint8_t want[600], got[600];
    for (int f = F_SHAKE128; f <= F_SHAKE256; f++) {
        size_t rate = f == F_SHAKE128 ? 168 : 136;
        for (int iter = 0; iter < 300; iter++) {
            size_t len = rnd_below(sizeof in + 1);
            rnd_bytes(in, len);
            size_t total = rnd_below(3 * rate + 20) + 1;
            if (iter < 6)
                total = (size_t)(iter % 3 + 1) * rate; /* exact block multiples */
            ossl(f, want, total, in, len);
            mw_keccak_t k;
            ours_init(f, &k);
            mw_keccak_absorb(&k, in, len);
            size_t off = 0;
            while (off < total) {
                size_t max = (iter & 1) ? 7 : rate + 3;
                size_t n = rnd_below(max + 1);
                if (iter % 5 == 0)
                    n = rate; /* whole-block squeezes */
                if (n > total - off)
                    n = total - off;
                mw_keccak_squeeze(&k, got + off, n);
                off += n;
            }
            check_equal(f, len, want, got, total);
        }
    }
}

/* The struct may be copied to fork a sponge; absorbing after squeezing does
 * nothing; wipe zeroes the state. */
static void test_fork_and_misuse(void **state)
{
    (void)state;
    uint8_t in[500], want[100], a[100], b[100];
    rnd_bytes(in, sizeof in);
    mw_keccak_t k, fork;
    mw_shake256_init(&k);
    mw_keccak_absorb(&k, in, 200);
    fork = k;
    mw_keccak_absorb(&k, in + 200, 300);
    mw_keccak_absorb(&fork, in + 200, 300);
    ossl(F_SHAKE256, want, sizeof want, in, sizeof in);
    mw_keccak_squeeze(&k, a, 50);
    mw_keccak_absorb(&k, in, 10); /* ignored */
    mw_keccak_squeeze(&k, a + 50, 50);
    mw_keccak_squeeze(&fork, b, sizeof b);
    assert_memory_equal(a, want, sizeof want);
    assert_memory_equal(b, want, sizeof want);

    mw_keccak_wipe(&k);
    static const mw_keccak_t zero;
    assert_memory_equal(&k, &zero, sizeof k);
    /* A wiped (rate 0) sponge squeezes zeros and does not crash. */
    memset(a, 0xff, sizeof a);
    mw_keccak_absorb(&k, in, 10);
    mw_keccak_squeeze(&k, a, sizeof a);
    static const uint8_t zeros[100];
    assert_memory_equal(a, zeros, sizeof a);
    /* Re-initialised after a wipe, it works again. */
    mw_sha3_512_init(&k);
    mw_keccak_absorb(&k, in, 77);
    mw_keccak_squeeze(&k, a, 64);
    ossl(F_SHA3_512, want, 64, in, 77);
    assert_memory_equal(a, want, 64);
}

/* Keccak-f[1600] alone: the all-zero state permuted once starts with the
 * lane 0xF1258F7940E1DDE7 (the Keccak team's published intermediate value
 * for Keccak-f[1600] on zero; also follows from SHAKE/SHA3 agreeing with
 * OpenSSL above, which exercises the permutation on every block). */
static void test_permutation_zero(void **state)
{
    (void)state;
    uint64_t s[25] = {0};
    mw_keccak_f1600(s);
    assert_true(s[0] == 0xF1258F7940E1DDE7ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_length),     cmocka_unit_test(test_absorb_splits),
        cmocka_unit_test(test_squeeze_chunks),   cmocka_unit_test(test_fork_and_misuse),
        cmocka_unit_test(test_permutation_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
