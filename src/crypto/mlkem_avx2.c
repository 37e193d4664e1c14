/* ML-KEM (FIPS 203) NTT, NTT^-1 and basemul with AVX2, 16 coefficients per
 * 256-bit register (docs/internals/crypto.md, section "AVX2").
 *
 * Each function gives exactly the result of its portable twin in mlkem.c
 * (mw_mlkem_*_portable), coefficient by coefficient, so that keys,
 * ciphertexts and shared secrets are the same bytes on both paths:
 * - the coefficients stay in the natural order; the layers whose butterflies
 *   pair coefficients 8, 4 or 2 apart regroup two registers with 128-bit,
 *   64-bit or 32-bit shuffles, run the butterflies, and shuffle back;
 * - Montgomery multiplication a b 2^-16 mod q is mulhi(a, b) - mulhi(t, q)
 *   with t = mullo(a, b q^-1): since a b - t q = 0 mod 2^16, the high halves
 *   subtract exactly, which is the scalar (a b - t q) >> 16 bit for bit;
 * - Barrett reduction ((v a + 2^25) >> 26) is ((mulhi(a, v) + 2^9) >> 10),
 *   the same integer (floor of a floor);
 * - basemul sums in 32 bits with vpmaddwd, as the scalar code does, and
 *   reduces each sum once.
 * No branch and no memory index depends on coefficients (constant time).
 * Compiled with target("avx2") per function; empty outside x86-64. */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "crypto/dispatch.h"
#include "crypto/mlkem_arith.h"

#define AVX2 __attribute__((target("avx2")))
#define AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))

/* a b 2^-16 mod q in (-q, q) for each 16-bit lane; bqinv = b q^-1 mod 2^16
 * (FIPS 203 section 4.3 arithmetic in Montgomery form; fqmul of
 * mlkem_arith.h). */
AVX2_INLINE __m256i fqmul16(__m256i a, __m256i b, __m256i bqinv)
{
    const __m256i q = _mm256_set1_epi16(MLKEM_Q);
    __m256i hi = _mm256_mulhi_epi16(a, b);
    __m256i t = _mm256_mullo_epi16(a, bqinv);
    return _mm256_sub_epi16(hi, _mm256_mulhi_epi16(t, q));
}

AVX2_INLINE __m256i qinv16(__m256i z)
{
    return _mm256_mullo_epi16(z, _mm256_set1_epi16((int16_t)QINV));
}

/* barrett_reduce of mlkem_arith.h on 16 lanes. */
AVX2_INLINE __m256i barrett16(__m256i a)
{
    __m256i t = _mm256_mulhi_epi16(a, _mm256_set1_epi16(BARRETT_V));
    t = _mm256_srai_epi16(_mm256_add_epi16(t, _mm256_set1_epi16(1 << 9)), 10);
    return _mm256_sub_epi16(a, _mm256_mullo_epi16(t, _mm256_set1_epi16(MLKEM_Q)));
}

/* Cooley-Tukey butterfly of Algorithm 9, lines 8-10: t = zeta y,
 * y = x - t, x = x + t. */
#define CT_BF(x, y, z, zq)                                                                         \
    do {                                                                                           \
        __m256i t_ = fqmul16((y), (z), (zq));                                                      \
        (y) = _mm256_sub_epi16((x), t_);                                                           \
        (x) = _mm256_add_epi16((x), t_);                                                           \
    } while (0)

/* Gentleman-Sande butterfly of Algorithm 10, lines 8-10 (x reduced as the
 * portable code does): t = x, x = t + y, y = zeta (y - t). */
#define GS_BF(x, y, z, zq)                                                                         \
    do {                                                                                           \
        __m256i t_ = (x);                                                                          \
        (x) = barrett16(_mm256_add_epi16(t_, (y)));                                                \
        (y) = fqmul16(_mm256_sub_epi16((y), t_), (z), (zq));                                       \
    } while (0)

#define LD(p) _mm256_loadu_si256((const __m256i *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(p), (v))

/* zetas[i..i+3] broadcast as 64 bits to every quarter, then arranged by
 * ctl (vpshufb, within 128-bit lanes). */
AVX2_INLINE __m256i zeta4(const int16_t *z, __m256i ctl)
{
    int64_t v;
    memcpy(&v, z, sizeof v);
    return _mm256_shuffle_epi8(_mm256_set1_epi64x(v), ctl);
}

/* zetas[i..i+7] in both 128-bit lanes, then arranged by ctl. */
AVX2_INLINE __m256i zeta8(const int16_t *z, __m256i ctl)
{
    __m128i v = _mm_loadu_si128((const __m128i *)z);
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(v), ctl);
}

/* Byte controls for vpshufb: 16-bit element e of the source is bytes 2e,
 * 2e+1. E4(a, b) = element a four times, then b four times (one lane). */
#define E1(e) (char)(2 * (e)), (char)(2 * (e) + 1)
#define E2(a) E1(a), E1(a)
#define E4(a) E2(a), E2(a)

/* NTT, FIPS 203 Algorithm 9, same result as mw_mlkem_ntt_portable. */
AVX2 void mw_mlkem_ntt_avx2(int16_t f[MLKEM_N])
{
    /* len = 128, 64, 32 (zeta index i = 1; 2..3; 4..7): whole registers. */
    unsigned i = 1;
    for (unsigned len = 128; len >= 32; len >>= 1) {
        for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
            const __m256i z = _mm256_set1_epi16(mw_mlkem_zetas[i++]), zq = qinv16(z);
            for (unsigned j = start; j < start + len; j += 16) {
                __m256i x = LD(f + j), y = LD(f + j + len);
                CT_BF(x, y, z, zq);
                ST(f + j, x);
                ST(f + j + len, y);
            }
        }
    }
    /* len = 16, 8, 4, 2 stay inside 32 coefficients: a = f[32c .. 32c+15],
     * b = f[32c+16 .. 32c+31], then the final Barrett pass. */
    const __m256i ctl4 = _mm256_setr_epi8(E4(0), E4(2), E4(1), E4(3));
    const __m256i ctl8 = _mm256_setr_epi8(E2(0), E2(1), E2(4), E2(5), E2(2), E2(3), E2(6), E2(7));
    for (unsigned c = 0; c < 8; c++) {
        int16_t *p = f + 32 * c;
        __m256i a = LD(p), b = LD(p + 16), x, y, z, zq;
        /* len = 16: zeta 8 + c */
        z = _mm256_set1_epi16(mw_mlkem_zetas[8 + c]);
        zq = qinv16(z);
        CT_BF(a, b, z, zq);
        /* len = 8: blocks a (zeta 16 + 2c) and b (zeta 17 + 2c); x holds the
         * low halves (a.lo | b.lo), y the high halves. */
        x = _mm256_permute2x128_si256(a, b, 0x20);
        y = _mm256_permute2x128_si256(a, b, 0x31);
        z = _mm256_set_m128i(_mm_set1_epi16(mw_mlkem_zetas[17 + 2 * c]),
                             _mm_set1_epi16(mw_mlkem_zetas[16 + 2 * c]));
        zq = qinv16(z);
        CT_BF(x, y, z, zq);
        a = _mm256_permute2x128_si256(x, y, 0x20);
        b = _mm256_permute2x128_si256(x, y, 0x31);
        /* len = 4: blocks of 8 are a.lane0, a.lane1, b.lane0, b.lane1 (zetas
         * 32 + 4c + 0..3); x = low quarters (blk0, blk2 | blk1, blk3). */
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = zeta4(&mw_mlkem_zetas[32 + 4 * c], ctl4);
        zq = qinv16(z);
        CT_BF(x, y, z, zq);
        a = _mm256_unpacklo_epi64(x, y);
        b = _mm256_unpackhi_epi64(x, y);
        /* len = 2: blocks of 4 (zetas 64 + 8c + 0..7); 32-bit pairs d0..d3 of
         * a lane are reordered d0 d2 d1 d3, so that x = the low pairs of
         * (blk0, blk1, blk4, blk5 | blk2, blk3, blk6, blk7). */
        a = _mm256_shuffle_epi32(a, 0xd8);
        b = _mm256_shuffle_epi32(b, 0xd8);
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = zeta8(&mw_mlkem_zetas[64 + 8 * c], ctl8);
        zq = qinv16(z);
        CT_BF(x, y, z, zq);
        a = _mm256_shuffle_epi32(_mm256_unpacklo_epi64(x, y), 0xd8);
        b = _mm256_shuffle_epi32(_mm256_unpackhi_epi64(x, y), 0xd8);
        ST(p, barrett16(a));
        ST(p + 16, barrett16(b));
    }
}

/* NTT^-1, FIPS 203 Algorithm 10, times R; same result as
 * mw_mlkem_invntt_portable (zeta index i runs down from 127). */
AVX2 void mw_mlkem_invntt_avx2(int16_t f[MLKEM_N])
{
    /* len = 2 (block j of chunk c: zeta 127 - 8c - j), 4 (63 - 4c - j),
     * 8 (31 - 2c - j), 16 (15 - c): inside 32 coefficients. The loaded
     * zetas w_m = zetas[base + m] run upwards, so block j takes w_(n-1-j). */
    const __m256i ctl4 = _mm256_setr_epi8(E4(3), E4(1), E4(2), E4(0));
    const __m256i ctl8 = _mm256_setr_epi8(E2(7), E2(6), E2(3), E2(2), E2(5), E2(4), E2(1), E2(0));
    for (unsigned c = 0; c < 8; c++) {
        int16_t *p = f + 32 * c;
        __m256i a = LD(p), b = LD(p + 16), x, y, z, zq;
        /* len = 2 */
        a = _mm256_shuffle_epi32(a, 0xd8);
        b = _mm256_shuffle_epi32(b, 0xd8);
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = zeta8(&mw_mlkem_zetas[120 - 8 * c], ctl8);
        zq = qinv16(z);
        GS_BF(x, y, z, zq);
        a = _mm256_shuffle_epi32(_mm256_unpacklo_epi64(x, y), 0xd8);
        b = _mm256_shuffle_epi32(_mm256_unpackhi_epi64(x, y), 0xd8);
        /* len = 4 */
        x = _mm256_unpacklo_epi64(a, b);
        y = _mm256_unpackhi_epi64(a, b);
        z = zeta4(&mw_mlkem_zetas[60 - 4 * c], ctl4);
        zq = qinv16(z);
        GS_BF(x, y, z, zq);
        a = _mm256_unpacklo_epi64(x, y);
        b = _mm256_unpackhi_epi64(x, y);
        /* len = 8 */
        x = _mm256_permute2x128_si256(a, b, 0x20);
        y = _mm256_permute2x128_si256(a, b, 0x31);
        z = _mm256_set_m128i(_mm_set1_epi16(mw_mlkem_zetas[30 - 2 * c]),
                             _mm_set1_epi16(mw_mlkem_zetas[31 - 2 * c]));
        zq = qinv16(z);
        GS_BF(x, y, z, zq);
        a = _mm256_permute2x128_si256(x, y, 0x20);
        b = _mm256_permute2x128_si256(x, y, 0x31);
        /* len = 16 */
        z = _mm256_set1_epi16(mw_mlkem_zetas[15 - c]);
        zq = qinv16(z);
        GS_BF(a, b, z, zq);
        ST(p, a);
        ST(p + 16, b);
    }
    /* len = 32 (zetas 7..4), 64 (3, 2): whole registers. */
    unsigned i = 7;
    for (unsigned len = 32; len <= 64; len <<= 1) {
        for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
            const __m256i z = _mm256_set1_epi16(mw_mlkem_zetas[i--]), zq = qinv16(z);
            for (unsigned j = start; j < start + len; j += 16) {
                __m256i x = LD(f + j), y = LD(f + j + len);
                GS_BF(x, y, z, zq);
                ST(f + j, x);
                ST(f + j + len, y);
            }
        }
    }
    /* len = 128 (zeta 1), then the final multiplication by INVNTT_F
     * (line 14's 128^-1, times R) of every coefficient. */
    const __m256i z = _mm256_set1_epi16(mw_mlkem_zetas[1]), zq = qinv16(z);
    const __m256i fv = _mm256_set1_epi16(INVNTT_F), fq = qinv16(fv);
    for (unsigned j = 0; j < 128; j += 16) {
        __m256i x = LD(f + j), y = LD(f + j + 128);
        GS_BF(x, y, z, zq);
        ST(f + j, fqmul16(x, fv, fq));
        ST(f + j + 128, fqmul16(y, fv, fq));
    }
}

/* r = sum_{j<k} a[j] o b[j] times R^-1 (MultiplyNTTs and BaseCaseMultiply,
 * FIPS 203 Algorithms 11, 12); same result as
 * mw_mlkem_basemul_acc_portable. A register holds 8 pairs (a0, a1); per
 * pair, c0 = a0 b0 + fqmul(a1, b1) gamma and c1 = a0 b1 + a1 b0 are
 * vpmaddwd dot products of (a0, fqmul(a1, b1)) . (b0, gamma) and
 * (a0, a1) . (b1, b0), summed over j in 32 bits. */
AVX2 void mw_mlkem_basemul_acc_avx2(int16_t r[MLKEM_N], const int16_t *a, const int16_t *b,
                                    unsigned k)
{
    const __m256i qv = _mm256_set1_epi16(MLKEM_Q), qi = _mm256_set1_epi16((int16_t)QINV);
    for (unsigned i = 0; i < MLKEM_N; i += 16) {
        /* gamma_(i/2 + m) in the high (odd) 16 bits of 32-bit lane m */
        const __m256i g = _mm256_slli_epi32(
            _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)&mw_mlkem_gammas[i / 2])), 16);
        __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256();
        for (unsigned j = 0; j < k; j++) {
            const __m256i x = LD(a + MLKEM_N * j + i), y = LD(b + MLKEM_N * j + i);
            const __m256i m = fqmul16(x, y, qinv16(y)); /* odd lanes: fqmul(a1, b1) */
            const __m256i ys = _mm256_or_si256(_mm256_slli_epi32(y, 16), _mm256_srli_epi32(y, 16));
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_blend_epi16(x, m, 0xaa),
                                                        _mm256_blend_epi16(y, g, 0xaa)));
            c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(x, ys));
        }
        /* montgomery_reduce of each 32-bit sum s: t = low16(s) q^-1 mod 2^16
         * (even 16-bit lanes), result = (s >> 16) - hi16(t q) in the odd
         * lanes (exact: s - t q = 0 mod 2^16). */
        __m256i t0 = _mm256_slli_epi32(_mm256_mulhi_epi16(_mm256_mullo_epi16(c0, qi), qv), 16);
        __m256i t1 = _mm256_slli_epi32(_mm256_mulhi_epi16(_mm256_mullo_epi16(c1, qi), qv), 16);
        c0 = _mm256_srli_epi32(_mm256_sub_epi16(c0, t0), 16);
        c1 = _mm256_sub_epi16(c1, t1);
        ST(r + i, _mm256_blend_epi16(c0, c1, 0xaa));
    }
}

/* freeze of mlkem_arith.h: Barrett, then + q where negative (mask). */
AVX2_INLINE __m256i freeze16(__m256i a)
{
    a = barrett16(a);
    return _mm256_add_epi16(a,
                            _mm256_and_si256(_mm256_srai_epi16(a, 15), _mm256_set1_epi16(MLKEM_Q)));
}

/* r = freeze(a + b), freeze(a - b), freeze(r), fqmul(r, R^2): same results
 * as the mw_mlkem_*_portable helpers of mlkem.c. */
AVX2 void mw_mlkem_add_freeze_avx2(int16_t r[MLKEM_N], const int16_t a[MLKEM_N],
                                   const int16_t b[MLKEM_N])
{
    for (unsigned i = 0; i < MLKEM_N; i += 16)
        ST(r + i, freeze16(_mm256_add_epi16(LD(a + i), LD(b + i))));
}

AVX2 void mw_mlkem_sub_freeze_avx2(int16_t r[MLKEM_N], const int16_t a[MLKEM_N],
                                   const int16_t b[MLKEM_N])
{
    for (unsigned i = 0; i < MLKEM_N; i += 16)
        ST(r + i, freeze16(_mm256_sub_epi16(LD(a + i), LD(b + i))));
}

AVX2 void mw_mlkem_freeze_avx2(int16_t r[MLKEM_N])
{
    for (unsigned i = 0; i < MLKEM_N; i += 16)
        ST(r + i, freeze16(LD(r + i)));
}

AVX2 void mw_mlkem_tomont_avx2(int16_t r[MLKEM_N])
{
    const __m256i f = _mm256_set1_epi16(MONT_R2), fq = qinv16(f);
    for (unsigned i = 0; i < MLKEM_N; i += 16)
        ST(r + i, fqmul16(LD(r + i), f, fq));
}

/* SampleNTT lines 5-16 (mw_mlkem_rej_uniform_portable): 24 bytes give 16
 * candidates d1, d2, ... at a time. The bytes are spread so that 16-bit lane
 * 2m holds bytes 3m, 3m+1 (d1 = the low 12 bits) and lane 2m+1 bytes 3m+1,
 * 3m+2 (d2 = the high 12 bits); the accepted ones (< q) are appended in
 * order from the compare mask. Branches on public XOF bytes only (rho is
 * public). The last bytes (less than 32 left) go through the scalar loop. */
AVX2 unsigned mw_mlkem_rej_uniform_avx2(int16_t a[MLKEM_N], unsigned j, const uint8_t *buf,
                                        size_t len)
{
    const __m256i ctl = _mm256_setr_epi8(0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11, /* */
                                         4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11, 12, 13, 14, 14, 15);
    const __m256i m12 = _mm256_set1_epi16(0x0fff), qv = _mm256_set1_epi16(MLKEM_Q);
    _Alignas(32) int16_t v[16];
    size_t pos = 0;
    while (j < MLKEM_N && pos + 32 <= len) {
        /* lane 0 = bytes 0..15, lane 1 = bytes 8..23 of the 24 */
        __m256i b = _mm256_permute4x64_epi64(LD(buf + pos), 0x94);
        b = _mm256_shuffle_epi8(b, ctl);
        b = _mm256_blend_epi16(_mm256_and_si256(b, m12), _mm256_srli_epi16(b, 4), 0xaa);
        _mm256_store_si256((__m256i *)v, b);
        unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_cmpgt_epi16(qv, b)) & 0x55555555u;
        while (m != 0 && j < MLKEM_N) {
            a[j++] = v[__builtin_ctz(m) >> 1];
            m &= m - 1;
        }
        pos += 24;
    }
    if (j < MLKEM_N)
        j = mw_mlkem_rej_uniform_portable(a, j, buf + pos, len - pos);
    return j;
}

#endif
