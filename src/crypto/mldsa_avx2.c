/* ML-DSA (FIPS 204) NTT, NTT^-1, pointwise Montgomery products and the
 * reductions with AVX2, 8 coefficients per 256-bit register
 * (docs/internals/crypto.md, section "AVX2").
 *
 * Each function gives exactly the result of its portable twin in mldsa.c
 * (mw_mldsa_*_portable), so that keys and signatures are the same bytes on
 * both paths:
 * - the coefficients stay in the natural order; the layers whose butterflies
 *   pair coefficients 4, 2 or 1 apart regroup two registers with 128-bit,
 *   64-bit or 32-bit shuffles, run the butterflies, and shuffle back;
 * - Montgomery multiplication (mont_reduce of a 64-bit product) runs on the
 *   even and the odd 32-bit lanes with vpmuldq: p = a b, t = low32(p q^-1),
 *   (p - t q) >> 32, the same 64-bit integers as the scalar code.
 * No branch and no memory index depends on coefficients (constant time).
 * Compiled with target("avx2") per function; empty outside x86-64. */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "crypto/dispatch.h"

#define AVX2 __attribute__((target("avx2")))
#define AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))

#define N 256
#define Q 8380417
#define QINV 58728449 /* q^-1 mod 2^32 */

/* a b 2^-32 mod q in (-q, q) per 32-bit lane, for |a b| < 2^31 q
 * (mont_reduce of mldsa.c). */
AVX2_INLINE __m256i montmul32(__m256i a, __m256i b)
{
    const __m256i q = _mm256_set1_epi32(Q), qinv = _mm256_set1_epi32(QINV);
    __m256i pe = _mm256_mul_epi32(a, b);
    __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
    __m256i te = _mm256_mul_epi32(_mm256_mul_epi32(pe, qinv), q);
    __m256i to = _mm256_mul_epi32(_mm256_mul_epi32(po, qinv), q);
    pe = _mm256_srli_epi64(_mm256_sub_epi64(pe, te), 32);
    po = _mm256_sub_epi64(po, to);
    return _mm256_blend_epi32(pe, po, 0xaa);
}

/* Cooley-Tukey butterfly (Algorithm 41, lines 7-9). */
#define CT_BF(x, y, z)                                                                             \
    do {                                                                                           \
        __m256i t_ = montmul32((z), (y));                                                          \
        (y) = _mm256_sub_epi32((x), t_);                                                           \
        (x) = _mm256_add_epi32((x), t_);                                                           \
    } while (0)

/* Gentleman-Sande butterfly (Algorithm 42, lines 7-10), z = -zeta. */
#define GS_BF(x, y, z)                                                                             \
    do {                                                                                           \
        __m256i t_ = (x);                                                                          \
        (x) = _mm256_add_epi32(t_, (y));                                                           \
        (y) = montmul32((z), _mm256_sub_epi32(t_, (y)));                                           \
    } while (0)

#define LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(p), (v))

/* NTT, FIPS 204 Algorithm 41; same result as mw_mldsa_ntt_portable. */
AVX2 void mw_mldsa_ntt_avx2(int32_t f[N])
{
    /* len = 128 .. 16 (zeta index m = 1; 2..3; 4..7; 8..15). */
    unsigned m = 1;
    for (unsigned len = 128; len >= 16; len >>= 1) {
        for (unsigned start = 0; start < N; start += 2 * len) {
            const __m256i z = _mm256_set1_epi32(mw_mldsa_zetas[m++]);
            for (unsigned j = start; j < start + len; j += 8) {
                __m256i x = LD(f + j), y = LD(f + j + len);
                CT_BF(x, y, z);
                ST(f + j, x);
                ST(f + j + len, y);
            }
        }
    }
    /* len = 8, 4, 2, 1 inside 16 coefficients: a = f[16c .. 16c+7],
     * b = f[16c+8 .. 16c+15]. */
    const __m256i idx2 = _mm256_setr_epi32(0, 0, 2, 2, 1, 1, 3, 3);
    const __m256i idx1 = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    for (unsigned c = 0; c < 16; c++) {
        int32_t *p = f + 16 * c;
        __m256i a = LD(p), b = LD(p + 8), x, y, z;
        /* len = 8: zeta 16 + c */
        z = _mm256_set1_epi32(mw_mldsa_zetas[16 + c]);
        CT_BF(a, b, z);
        /* len = 4: blocks a, b (zetas 32 + 2c, 33 + 2c); x = (a.lo | b.lo) */
        x = _mm256_permute2x128_si256(a, b, 0x20);
        y = _mm256_permute2x128_si256(a, b, 0x31);
        z = _mm256_set_m128i(_mm_set1_epi32(mw_mldsa_zetas[33 + 2 * c]),
                             _mm_set1_epi32(mw_mldsa_zetas[32 + 2 * c]));
        CT_BF(x, y, z);
        a = _mm256_permute2x128_si256(x, y, 0x20);
        b = _mm256_permute2x128_si256(x, y, 0x31);
        /* len = 2: blocks of 4 = a.lane0, a.lane1, b.lane0, b.lane1 (zetas
         * 64 + 4c + 0..3); x = low pairs of (blk0, blk2 | blk1, blk3). */
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = _mm256_permutevar8x32_epi32(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)&mw_mldsa_zetas[64 + 4 * c])),
            idx2);
        CT_BF(x, y, z);
        a = _mm256_unpacklo_epi64(x, y);
        b = _mm256_unpackhi_epi64(x, y);
        /* len = 1: blocks of 2 (zetas 128 + 8c + 0..7); a lane d0 d1 d2 d3
         * is reordered d0 d2 d1 d3, so x = the even coefficients of
         * (blk0, blk1, blk4, blk5 | blk2, blk3, blk6, blk7). */
        a = _mm256_shuffle_epi32(a, 0xd8);
        b = _mm256_shuffle_epi32(b, 0xd8);
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = _mm256_permutevar8x32_epi32(LD(&mw_mldsa_zetas[128 + 8 * c]), idx1);
        CT_BF(x, y, z);
        ST(p, _mm256_shuffle_epi32(_mm256_unpacklo_epi64(x, y), 0xd8));
        ST(p + 8, _mm256_shuffle_epi32(_mm256_unpackhi_epi64(x, y), 0xd8));
    }
}

/* NTT^-1, FIPS 204 Algorithm 42, times 2^32 (f = 41978); same result as
 * mw_mldsa_invntt_portable. */
AVX2 void mw_mldsa_invntt_avx2(int32_t f[N])
{
    /* len = 1 (block j of chunk c: -zetas[255 - 8c - j]), 2 (127 - 4c - j),
     * 4 (63 - 2c - j), 8 (31 - c): inside 16 coefficients. The loaded
     * zetas w_m = zetas[base + m] run upwards, so block j takes w_(n-1-j). */
    const __m256i zero = _mm256_setzero_si256();
    const __m256i idx1 = _mm256_setr_epi32(7, 6, 3, 2, 5, 4, 1, 0);
    const __m256i idx2 = _mm256_setr_epi32(3, 3, 1, 1, 2, 2, 0, 0);
    for (unsigned c = 0; c < 16; c++) {
        int32_t *p = f + 16 * c;
        __m256i a = LD(p), b = LD(p + 8), x, y, z;
        /* len = 1 */
        a = _mm256_shuffle_epi32(a, 0xd8);
        b = _mm256_shuffle_epi32(b, 0xd8);
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = _mm256_sub_epi32(zero,
                             _mm256_permutevar8x32_epi32(LD(&mw_mldsa_zetas[248 - 8 * c]), idx1));
        GS_BF(x, y, z);
        a = _mm256_shuffle_epi32(_mm256_unpacklo_epi64(x, y), 0xd8);
        b = _mm256_shuffle_epi32(_mm256_unpackhi_epi64(x, y), 0xd8);
        /* len = 2 */
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = _mm256_sub_epi32(
            zero, _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(_mm_loadu_si128(
                                                  (const __m128i *)&mw_mldsa_zetas[124 - 4 * c])),
                                              idx2));
        GS_BF(x, y, z);
        a = _mm256_unpacklo_epi64(x, y);
        b = _mm256_unpackhi_epi64(x, y);
        /* len = 4 */
        x = _mm256_permute2x128_si256(a, b, 0x20);
        y = _mm256_permute2x128_si256(a, b, 0x31);
        z = _mm256_set_m128i(_mm_set1_epi32(-mw_mldsa_zetas[62 - 2 * c]),
                             _mm_set1_epi32(-mw_mldsa_zetas[63 - 2 * c]));
        GS_BF(x, y, z);
        a = _mm256_permute2x128_si256(x, y, 0x20);
        b = _mm256_permute2x128_si256(x, y, 0x31);
        /* len = 8 */
        z = _mm256_set1_epi32(-mw_mldsa_zetas[31 - c]);
        GS_BF(a, b, z);
        ST(p, a);
        ST(p + 8, b);
    }
    /* len = 16 .. 64 (zetas 15..8, 7..4, 3..2): whole registers. */
    unsigned m = 15;
    for (unsigned len = 16; len <= 64; len <<= 1) {
        for (unsigned start = 0; start < N; start += 2 * len) {
            const __m256i z = _mm256_set1_epi32(-mw_mldsa_zetas[m--]);
            for (unsigned j = start; j < start + len; j += 8) {
                __m256i x = LD(f + j), y = LD(f + j + len);
                GS_BF(x, y, z);
                ST(f + j, x);
                ST(f + j + len, y);
            }
        }
    }
    /* len = 128 (zeta 1), then every coefficient times f = 2^64 / 256. */
    const __m256i z = _mm256_set1_epi32(-mw_mldsa_zetas[1]);
    const __m256i fv = _mm256_set1_epi32(41978);
    for (unsigned j = 0; j < 128; j += 8) {
        __m256i x = LD(f + j), y = LD(f + j + 128);
        GS_BF(x, y, z);
        ST(f + j, montmul32(fv, x));
        ST(f + j + 128, montmul32(fv, y));
    }
}

/* r = a o b 2^-32 (Algorithm 45); r may be a or b. */
AVX2 void mw_mldsa_pointwise_avx2(int32_t r[N], const int32_t a[N], const int32_t b[N])
{
    for (unsigned j = 0; j < N; j += 8)
        ST(r + j, montmul32(LD(a + j), LD(b + j)));
}

AVX2 void mw_mldsa_pointwise_acc_avx2(int32_t r[N], const int32_t a[N], const int32_t b[N])
{
    for (unsigned j = 0; j < N; j += 8)
        ST(r + j, _mm256_add_epi32(LD(r + j), montmul32(LD(a + j), LD(b + j))));
}

/* reduce32: a - ((a + 2^22) >> 23) q. */
AVX2 void mw_mldsa_reduce_avx2(int32_t a[N])
{
    const __m256i q = _mm256_set1_epi32(Q), h = _mm256_set1_epi32(1 << 22);
    for (unsigned j = 0; j < N; j += 8) {
        __m256i x = LD(a + j);
        __m256i t = _mm256_srai_epi32(_mm256_add_epi32(x, h), 23);
        ST(a + j, _mm256_sub_epi32(x, _mm256_mullo_epi32(t, q)));
    }
}

/* caddq: a + q if a < 0, by a mask. */
AVX2 void mw_mldsa_caddq_avx2(int32_t a[N])
{
    const __m256i q = _mm256_set1_epi32(Q);
    for (unsigned j = 0; j < N; j += 8) {
        __m256i x = LD(a + j);
        ST(a + j, _mm256_add_epi32(x, _mm256_and_si256(_mm256_srai_epi32(x, 31), q)));
    }
}

/* Decompose (Algorithm 36) of 8 lanes in [0, q), the arithmetic of
 * decompose() in mldsa.c step by step (multiplications by constants, shifts
 * and masks); returns a1, sets *a0. */
AVX2_INLINE __m256i decompose8(__m256i a, __m256i *a0, int32_t gamma2)
{
    __m256i a1 = _mm256_srai_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(127)), 7);
    if (gamma2 == (Q - 1) / 32) { /* CT: branch on the parameter set only */
        a1 = _mm256_mullo_epi32(a1, _mm256_set1_epi32(1025));
        a1 = _mm256_srai_epi32(_mm256_add_epi32(a1, _mm256_set1_epi32(1 << 21)), 22);
        a1 = _mm256_and_si256(a1, _mm256_set1_epi32(15));
    } else {
        a1 = _mm256_mullo_epi32(a1, _mm256_set1_epi32(11275));
        a1 = _mm256_srai_epi32(_mm256_add_epi32(a1, _mm256_set1_epi32(1 << 23)), 24);
        /* a1 = 44 -> 0: a1 ^= ((43 - a1) >> 31) & a1 */
        __m256i m = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_set1_epi32(43), a1), 31);
        a1 = _mm256_xor_si256(a1, _mm256_and_si256(m, a1));
    }
    __m256i r0 = _mm256_sub_epi32(a, _mm256_mullo_epi32(a1, _mm256_set1_epi32(2 * gamma2)));
    __m256i m = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_set1_epi32((Q - 1) / 2), r0), 31);
    *a0 = _mm256_sub_epi32(r0, _mm256_and_si256(m, _mm256_set1_epi32(Q)));
    return a1;
}

AVX2 void mw_mldsa_decompose_avx2(int32_t a1[N], int32_t a0[N], const int32_t a[N], int32_t gamma2)
{
    for (unsigned j = 0; j < N; j += 8) {
        __m256i lo;
        ST(a1 + j, decompose8(LD(a + j), &lo, gamma2));
        ST(a0 + j, lo);
    }
}

/* MakeHint of signing (mw_mldsa_make_hint_portable): h = 1 where
 * HighBits(freeze(r + z)) != h, else 0. */
AVX2 void mw_mldsa_make_hint_avx2(int32_t h[N], const int32_t r[N], const int32_t z[N],
                                  int32_t gamma2)
{
    const __m256i q = _mm256_set1_epi32(Q), half = _mm256_set1_epi32(1 << 22);
    const __m256i zero = _mm256_setzero_si256();
    for (unsigned j = 0; j < N; j += 8) {
        __m256i x = _mm256_add_epi32(LD(r + j), LD(z + j)), lo;
        /* freeze = caddq(reduce32(x)) */
        __m256i t = _mm256_srai_epi32(_mm256_add_epi32(x, half), 23);
        x = _mm256_sub_epi32(x, _mm256_mullo_epi32(t, q));
        x = _mm256_add_epi32(x, _mm256_and_si256(_mm256_srai_epi32(x, 31), q));
        __m256i d = _mm256_xor_si256(decompose8(x, &lo, gamma2), LD(h + j));
        ST(h + j, _mm256_srli_epi32(_mm256_or_si256(d, _mm256_sub_epi32(zero, d)), 31));
    }
}

/* 0 if every |a_j| < bound, else -1: the OR of (bound - 1 - |a_j|) >> 31
 * over all lanes, folded without a branch. */
AVX2 int32_t mw_mldsa_norm_mask_avx2(const int32_t a[N], int32_t bound)
{
    const __m256i b1 = _mm256_set1_epi32(bound - 1);
    __m256i bad = _mm256_setzero_si256();
    for (unsigned j = 0; j < N; j += 8) {
        __m256i x = LD(a + j);
        __m256i t = _mm256_sub_epi32(
            x, _mm256_and_si256(_mm256_srai_epi32(x, 31), _mm256_add_epi32(x, x))); /* |a_j| */
        bad = _mm256_or_si256(bad, _mm256_srai_epi32(_mm256_sub_epi32(b1, t), 31));
    }
    /* lanes are 0 or -1: fold to one 32-bit lane */
    __m128i v = _mm_or_si128(_mm256_castsi256_si128(bad), _mm256_extracti128_si256(bad, 1));
    v = _mm_or_si128(v, _mm_shuffle_epi32(v, 0x4e));
    v = _mm_or_si128(v, _mm_shuffle_epi32(v, 0xb1));
    return _mm_cvtsi128_si32(v);
}

/* Number of set bits of an 8-bit mask (no popcnt instruction needed). */
static inline unsigned popcount8(unsigned m)
{
    m = m - ((m >> 1) & 0x55);
    m = (m & 0x33) + ((m >> 2) & 0x33);
    return (m + (m >> 4)) & 0x0f;
}

/* RejNTTPoly lines 4-11 (mw_mldsa_rej_uniform_portable): 24 bytes give 8
 * candidates at a time, 32-bit lane m holding bytes 3m, 3m+1, 3m+2 with the
 * top bit cleared (CoeffFromThreeBytes, Algorithm 14); the accepted ones
 * (< q) are moved to the front with vpermd (mw_rej_idx, mlkem_avx2.c) and
 * stored at a + j, in order; a[j + count .. j + 7] get candidates that later
 * values overwrite (only a[0..return) is defined). Branches and the table
 * index depend on public XOF bytes only (rho is public). When fewer than 8
 * places or 32 bytes are left, the scalar loop finishes. */
AVX2 unsigned mw_mldsa_rej_uniform_avx2(int32_t a[N], unsigned j, const uint8_t *buf, size_t len)
{
    const __m256i ctl = _mm256_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1, /* */
                                         4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1, 13, 14, 15, -1);
    const __m256i m23 = _mm256_set1_epi32(0x7fffff), qv = _mm256_set1_epi32(Q);
    size_t pos = 0;
    /* each step stores 8 values at a + j */
    while (j <= N - 8 && pos + 32 <= len) {
        /* lane 0 = bytes 0..15, lane 1 = bytes 8..23 of the 24 */
        __m256i b = _mm256_permute4x64_epi64(LD(buf + pos), 0x94);
        b = _mm256_and_si256(_mm256_shuffle_epi8(b, ctl), m23);
        const unsigned m =
            (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(qv, b)));
        int64_t idx;
        memcpy(&idx, mw_rej_idx[m], sizeof idx);
        const __m256i p = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(idx));
        ST(a + j, _mm256_permutevar8x32_epi32(b, p));
        j += popcount8(m);
        pos += 24;
    }
    if (j < N)
        j = mw_mldsa_rej_uniform_portable(a, j, buf + pos, len - pos);
    return j;
}

/* UseHint (Algorithm 40) of 8 lanes, without branches: with (a1, a0) =
 * Decompose(a) and m = (q-1) / (2 gamma2), the result is a1 where h = 0,
 * else a1 + 1 (0 instead of m) where a0 > 0, else a1 - 1 (m - 1 instead of
 * -1); same values as use_hint() of mldsa.c. */
AVX2 void mw_mldsa_use_hint_avx2(int32_t a[N], const int32_t h[N], int32_t gamma2)
{
    const __m256i m = _mm256_set1_epi32((Q - 1) / (2 * gamma2)), one = _mm256_set1_epi32(1);
    const __m256i zero = _mm256_setzero_si256();
    for (unsigned j = 0; j < N; j += 8) {
        __m256i a0;
        const __m256i a1 = decompose8(LD(a + j), &a0, gamma2);
        __m256i up = _mm256_add_epi32(a1, one);
        up = _mm256_andnot_si256(_mm256_cmpeq_epi32(up, m), up);
        __m256i down = _mm256_sub_epi32(a1, one);
        down = _mm256_blendv_epi8(down, _mm256_sub_epi32(m, one), _mm256_cmpeq_epi32(a1, zero));
        const __m256i r = _mm256_blendv_epi8(down, up, _mm256_cmpgt_epi32(a0, zero));
        ST(a + j, _mm256_blendv_epi8(r, a1, _mm256_cmpeq_epi32(LD(h + j), zero)));
    }
}

#endif
