/* ML-DSA internals exposed to the unit tests only (not part of pqc.h). */
#ifndef MWRASP_CRYPTO_MLDSA_INTERNAL_H
#define MWRASP_CRYPTO_MLDSA_INTERNAL_H

#include <stdint.h>

/* Decompose (FIPS 204 Algorithm 36) for a in [0, q): returns r1, sets r0. */
int32_t mw_mldsa_test_decompose(int32_t gamma2, int32_t a, int32_t *a0);
/* Power2Round (Algorithm 35) for a in [0, q). */
void mw_mldsa_test_power2round(int32_t a, int32_t *a1, int32_t *a0);
/* c = a * b in Z_q[X]/(X^256 + 1) through the NTT (Algorithms 41, 42, 45);
 * inputs |a_j|, |b_j| < q; output in [0, q). */
void mw_mldsa_test_polymul(int32_t c[256], const int32_t a[256], const int32_t b[256]);

#endif
