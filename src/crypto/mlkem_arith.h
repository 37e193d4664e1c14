/* Arithmetic mod q = 3329 for ML-KEM (FIPS 203), private to src/crypto:
 * Montgomery and Barrett reduction, Compress_d / Decompress_d. All
 * branch-free. Shared by mlkem.c and its unit test, which checks each
 * function exhaustively over its input range. */
#ifndef MW_CRYPTO_MLKEM_ARITH_H
#define MW_CRYPTO_MLKEM_ARITH_H

#include <stdint.h>

#define MLKEM_Q 3329
#define MLKEM_N 256 /* coefficients per polynomial */
#define MLKEM_MAXK 4 /* largest module rank k */
#define QINV (-3327) /* q^-1 mod 2^16, as a signed 16-bit value */
#define MONT_R2 1353 /* R^2 mod q: fqmul(x, MONT_R2) = x * R */
#define INVNTT_F 1441 /* R^2 / 128 mod q: scales Algorithm 10 by 128^-1 and R */
#define BARRETT_V 20159 /* round(2^26 / q) */
#define COMPRESS_M 20642679ULL /* ceil(2^36 / q): y / q = y * M >> 36 for y < 2^23 */

/* Montgomery reduction: for |a| < q * 2^15, returns a * 2^-16 mod q in
 * (-q, q). t = a * q^-1 mod 2^16 makes a - t*q divisible by 2^16. */
static inline int16_t montgomery_reduce(int32_t a)
{
    int16_t t = (int16_t)((uint32_t)a * (uint32_t)(uint16_t)QINV);
    return (int16_t)((a - (int32_t)t * MLKEM_Q) >> 16);
}

/* a * b * 2^-16 mod q, in (-q, q), for |a * b| < q * 2^15. */
static inline int16_t fqmul(int16_t a, int16_t b)
{
    return montgomery_reduce((int32_t)a * b);
}

/* Barrett reduction: the representative of a mod q in [-(q-1)/2, (q-1)/2]
 * for any int16_t a (test_crypto_mlkem checks every one). */
static inline int16_t barrett_reduce(int16_t a)
{
    int16_t t = (int16_t)(((int32_t)BARRETT_V * a + (1 << 25)) >> 26);
    return (int16_t)(a - t * MLKEM_Q);
}

/* The representative in [0, q) of any int16_t a, without a branch. */
static inline int16_t freeze(int16_t a)
{
    a = barrett_reduce(a);
    a = (int16_t)(a + ((a >> 15) & MLKEM_Q));
    return a;
}

/* Compress_d (section 4.2.1, eq. 4.7) of x in [0, q): round(2^d x / q)
 * mod 2^d = floor((2^d x + 1664) / q) mod 2^d, the division done as a
 * multiplication (exact for every x and d <= 11: test_crypto_mlkem checks
 * them all), no branch. */
static inline uint16_t compress(int16_t x, unsigned d)
{
    uint64_t y = ((uint64_t)(uint16_t)x << d) + 1664;
    return (uint16_t)(((y * COMPRESS_M) >> 36) & ((1u << d) - 1));
}

/* Decompress_d (eq. 4.8): round(q y / 2^d). */
static inline int16_t decompress(uint16_t y, unsigned d)
{
    return (int16_t)(((uint32_t)y * MLKEM_Q + (1u << (d - 1))) >> d);
}

#endif
