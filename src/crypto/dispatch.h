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

#if defined(__x86_64__)
void mw_keccakx4_f1600_avx2(uint64_t s[100]);
#endif

#endif
