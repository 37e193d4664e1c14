/* Runtime dispatch between the portable C code and the AVX2 code paths of
 * src/crypto (docs/internals/crypto.md, section "AVX2"). Private to
 * src/crypto and its unit tests.
 *
 * The implementation is chosen once, at first use: the AVX2 functions when
 * the CPU has AVX2 (__builtin_cpu_supports) and the environment variable
 * MW_CRYPTO_PORTABLE is not "1", else the portable ones. Both give the same
 * bytes for every input (tests/unit/test_crypto_avx2.c compares them). */
#ifndef MW_CRYPTO_DISPATCH_H
#define MW_CRYPTO_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name; /* "portable" or "avx2" */
    /* Four independent Keccak-f[1600] permutations, state interleaved:
     * lane i of instance j is s[4 i + j]. Never NULL. */
    void (*keccakx4)(uint64_t s[100]);
    /* ML-KEM (FIPS 203) on polynomials of 256 int16_t coefficients in the
     * natural order; each entry gives exactly the result of the portable
     * function of mlkem.c (same representatives). NTT, Algorithm 9: input
     * |f| < q, output in [-(q-1)/2, (q-1)/2]. */
    void (*mlkem_ntt)(int16_t f[256]);
    /* NTT^-1, Algorithm 10, times R = 2^16: input |f| < q, output |f| < q. */
    void (*mlkem_invntt)(int16_t f[256]);
    /* r = sum_{j<k} a[j] o b[j] times R^-1 (Algorithms 11, 12): a and b hold
     * k polynomials one after the other, |a| < q, |b| <= (q-1)/2, k <= 4. */
    void (*mlkem_basemul_acc)(int16_t r[256], const int16_t *a, const int16_t *b, unsigned k);
    /* r = freeze(a + b), r = freeze(a - b) (in [0, q); a +- b must fit in
     * int16_t; r may be a or b), r = freeze(r), r = r R mod q in (-q, q). */
    void (*mlkem_add_freeze)(int16_t r[256], const int16_t a[256], const int16_t b[256]);
    void (*mlkem_sub_freeze)(int16_t r[256], const int16_t a[256], const int16_t b[256]);
    void (*mlkem_freeze)(int16_t r[256]);
    void (*mlkem_tomont)(int16_t r[256]);
    /* SampleNTT (Algorithm 7) lines 5-16 on the XOF bytes buf[0..len): the
     * 12-bit values < q, in order, appended to a[j..] until a holds 256;
     * returns the new count. Entries from the returned count on may be
     * overwritten with candidates. Branches on the (public) bytes. */
    unsigned (*mlkem_rej_uniform)(int16_t a[256], unsigned j, const uint8_t *buf, size_t len);
    /* SamplePolyCBD_eta (Algorithm 8) of the 64 eta bytes buf, eta = 2 or
     * 3: coefficients in [-eta, eta]. No branch on the (secret) bytes. */
    void (*mlkem_cbd)(int16_t f[256], const uint8_t *buf, unsigned eta);
    /* ML-DSA (FIPS 204) on 256 int32_t coefficients, natural order; same
     * results as the portable functions of mldsa.c. NTT, Algorithm 41:
     * output bounded by |input| + 8q. */
    void (*mldsa_ntt)(int32_t a[256]);
    /* NTT^-1, Algorithm 42, times 2^32: input |a| < 2^31 / 256, output
     * |a| < q. */
    void (*mldsa_invntt)(int32_t a[256]);
    /* r = a o b 2^-32 (Algorithm 45), and r += a o b 2^-32; |a b| < 2^31 q. */
    void (*mldsa_pointwise)(int32_t r[256], const int32_t a[256], const int32_t b[256]);
    void (*mldsa_pointwise_acc)(int32_t r[256], const int32_t a[256], const int32_t b[256]);
    /* a = reduce32(a) (a <= 2^31 - 2^22 - 1) and a = caddq(a). */
    void (*mldsa_reduce)(int32_t a[256]);
    void (*mldsa_caddq)(int32_t a[256]);
    /* Decompose (Algorithm 36) of a[j] in [0, q): a1 = HighBits, a0 =
     * LowBits; gamma2 = (q-1)/88 or (q-1)/32. */
    void (*mldsa_decompose)(int32_t a1[256], int32_t a0[256], const int32_t a[256], int32_t gamma2);
    /* MakeHint (Algorithm 39) of signing: h[j] = HighBits(r[j]) on input,
     * 1 where HighBits(freeze(r[j] + z[j])) differs, else 0, on output;
     * r in [0, q), |z| < q. */
    void (*mldsa_make_hint)(int32_t h[256], const int32_t r[256], const int32_t z[256],
                            int32_t gamma2);
    /* 0 if every |a[j]| < bound, else -1 (no branch); a reduced by reduce32,
     * bound <= (q-1)/8. */
    int32_t (*mldsa_norm_mask)(const int32_t a[256], int32_t bound);
    /* RejNTTPoly (Algorithm 30) lines 4-11 on the XOF bytes buf[0..len):
     * CoeffFromThreeBytes values < q appended to a[j..] until a holds 256;
     * returns the new count. Entries from the returned count on may be
     * overwritten with candidates. Branches on the (public) bytes. */
    unsigned (*mldsa_rej_uniform)(int32_t a[256], unsigned j, const uint8_t *buf, size_t len);
    /* UseHint (Algorithm 40) in place: a[j] in [0, q), h[j] in {0, 1}
     * (verification: public data). */
    void (*mldsa_use_hint)(int32_t a[256], const int32_t h[256], int32_t gamma2);
} mw_crypto_impl_t;

/* The implementation in use (selected on the first call, thread-safe). */
const mw_crypto_impl_t *mw_crypto_impl(void);

/* Test hook: 1 forces the portable table, 0 the best one the CPU supports
 * (as if MW_CRYPTO_PORTABLE were unset). Returns the table now in use. Not
 * for concurrent use with running crypto operations. */
const mw_crypto_impl_t *mw_crypto_impl_force(int portable);

/* Four SHAKE sponges (FIPS 202 section 6.2) run side by side, for the
 * independent XOF and PRF calls of ExpandA / SampleNTT, ExpandS, ExpandMask
 * and the CBD noise. */
typedef struct {
    _Alignas(32) uint64_t s[100];
} mw_keccakx4_t;

/* Initializes k and absorbs in[j] (len bytes each, any length) into
 * instance j, then appends the SHAKE domain bits and pad10*1 (FIPS 202
 * Algorithms 8, 9). rate is 168 (SHAKE128) or 136 (SHAKE256). */
void mw_shakex4_absorb_once(mw_keccakx4_t *k, unsigned rate, const uint8_t *const in[4],
                            size_t len);
/* Squeezes nblocks whole blocks of rate bytes from each instance into
 * out[j] (nblocks * rate bytes each); can be called again for more. */
void mw_shakex4_squeezeblocks(mw_keccakx4_t *k, unsigned rate, uint8_t *const out[4],
                              size_t nblocks);

/* The portable functions (mlkem.c, mldsa.c) and their tables of zetas
 * (Montgomery form, FIPS 203 / FIPS 204 orders). */
extern const int16_t mw_mlkem_zetas[128];
extern const int16_t mw_mlkem_gammas[128];
extern const int32_t mw_mldsa_zetas[256];
void mw_mlkem_ntt_portable(int16_t f[256]);
void mw_mlkem_invntt_portable(int16_t f[256]);
void mw_mlkem_basemul_acc_portable(int16_t r[256], const int16_t *a, const int16_t *b, unsigned k);
void mw_mlkem_add_freeze_portable(int16_t r[256], const int16_t a[256], const int16_t b[256]);
void mw_mlkem_sub_freeze_portable(int16_t r[256], const int16_t a[256], const int16_t b[256]);
void mw_mlkem_freeze_portable(int16_t r[256]);
void mw_mlkem_tomont_portable(int16_t r[256]);
unsigned mw_mlkem_rej_uniform_portable(int16_t a[256], unsigned j, const uint8_t *buf, size_t len);
void mw_mlkem_cbd_portable(int16_t f[256], const uint8_t *buf, unsigned eta);
void mw_mldsa_ntt_portable(int32_t a[256]);
void mw_mldsa_invntt_portable(int32_t a[256]);
void mw_mldsa_pointwise_portable(int32_t r[256], const int32_t a[256], const int32_t b[256]);
void mw_mldsa_pointwise_acc_portable(int32_t r[256], const int32_t a[256], const int32_t b[256]);
void mw_mldsa_reduce_portable(int32_t a[256]);
void mw_mldsa_caddq_portable(int32_t a[256]);
void mw_mldsa_decompose_portable(int32_t a1[256], int32_t a0[256], const int32_t a[256],
                                 int32_t gamma2);
void mw_mldsa_make_hint_portable(int32_t h[256], const int32_t r[256], const int32_t z[256],
                                 int32_t gamma2);
int32_t mw_mldsa_norm_mask_portable(const int32_t a[256], int32_t bound);
unsigned mw_mldsa_rej_uniform_portable(int32_t a[256], unsigned j, const uint8_t *buf, size_t len);
void mw_mldsa_use_hint_portable(int32_t a[256], const int32_t h[256], int32_t gamma2);

#if defined(__x86_64__)
void mw_keccakx4_f1600_avx2(uint64_t s[100]);
/* Positions of the set bits of m, ascending, padded with 0 (mlkem_avx2.c). */
extern const uint8_t mw_rej_idx[256][8];
/* src/crypto/mlkem_avx2.c, mldsa_avx2.c (target("avx2") only). */
void mw_mlkem_ntt_avx2(int16_t f[256]);
void mw_mlkem_invntt_avx2(int16_t f[256]);
void mw_mlkem_basemul_acc_avx2(int16_t r[256], const int16_t *a, const int16_t *b, unsigned k);
void mw_mlkem_add_freeze_avx2(int16_t r[256], const int16_t a[256], const int16_t b[256]);
void mw_mlkem_sub_freeze_avx2(int16_t r[256], const int16_t a[256], const int16_t b[256]);
void mw_mlkem_freeze_avx2(int16_t r[256]);
void mw_mlkem_tomont_avx2(int16_t r[256]);
unsigned mw_mlkem_rej_uniform_avx2(int16_t a[256], unsigned j, const uint8_t *buf, size_t len);
void mw_mlkem_cbd_avx2(int16_t f[256], const uint8_t *buf, unsigned eta);
void mw_mldsa_ntt_avx2(int32_t a[256]);
void mw_mldsa_invntt_avx2(int32_t a[256]);
void mw_mldsa_pointwise_avx2(int32_t r[256], const int32_t a[256], const int32_t b[256]);
void mw_mldsa_pointwise_acc_avx2(int32_t r[256], const int32_t a[256], const int32_t b[256]);
void mw_mldsa_reduce_avx2(int32_t a[256]);
void mw_mldsa_caddq_avx2(int32_t a[256]);
void mw_mldsa_decompose_avx2(int32_t a1[256], int32_t a0[256], const int32_t a[256],
                             int32_t gamma2);
void mw_mldsa_make_hint_avx2(int32_t h[256], const int32_t r[256], const int32_t z[256],
                             int32_t gamma2);
int32_t mw_mldsa_norm_mask_avx2(const int32_t a[256], int32_t bound);
unsigned mw_mldsa_rej_uniform_avx2(int32_t a[256], unsigned j, const uint8_t *buf, size_t len);
void mw_mldsa_use_hint_avx2(int32_t a[256], const int32_t h[256], int32_t gamma2);
#endif

#endif
