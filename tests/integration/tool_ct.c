/* tool_ct: runs ML-KEM key generation, encapsulation and decapsulation and
 * ML-DSA key generation and signing with every secret input marked undefined
 * for valgrind memcheck (issue 4, item 6). Run by
 * tests/integration/test_crypto_ct.sh under valgrind: memcheck reports any
 * branch ("Conditional jump or move depends on uninitialised value") or memory
 * index ("Use of uninitialised value") that depends on a secret. Public values
 * derived from secrets are declassified inside the crypto code
 * (src/crypto/ct.h); the public outputs (ek, ct, pk, sig) are declassified
 * here after each call. Outside valgrind the marks do nothing.
 *
 * Usage: tool_ct [ROUNDS]  (default 3 per parameter set). Exit 0 when every
 * operation succeeded (and decapsulation recovered the key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "mwrasp/pqc.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int fail(const char *what, const char *set)
{
    fprintf(stderr, "tool_ct: %s failed for %s\n", what, set);
    return 1;
}

static int kem_round(mw_mlkem_param_t p)
{
    const char *name = mw_mlkem_name(p);
    size_t eklen = mw_mlkem_ek_bytes(p), dklen = mw_mlkem_dk_bytes(p), ctlen = mw_mlkem_ct_bytes(p);
    uint8_t d[32], z[32], m[32], ss[32], ss2[32], ss3[32];
    static uint8_t ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES], ct[MW_MLKEM_MAX_CT_BYTES];
    if (mw_random_bytes(d, 32) || mw_random_bytes(z, 32) || mw_random_bytes(m, 32))
        return fail("random", name);
    SECRET(d, 32);
    SECRET(z, 32);
    if (mw_mlkem_keygen_internal(p, ek, dk, d, z) != 0)
        return fail("keygen", name);
    PUBLIC(ek, eklen);
    /* dk = dk_PKE || ek || H(ek) || z: ek and H(ek) are public. */
    PUBLIC(dk + 384 * (size_t)p, eklen + 32);
    SECRET(m, 32);
    if (mw_mlkem_encaps_internal(p, ss, ct, ek, eklen, m) != 0)
        return fail("encaps", name);
    PUBLIC(ct, ctlen);
    if (mw_mlkem_decaps(p, ss2, ct, ctlen, dk, dklen) != 0)
        return fail("decaps", name);
    ct[ctlen / 2] ^= 0x10; /* implicit rejection path, same code, same timing */
    if (mw_mlkem_decaps(p, ss3, ct, ctlen, dk, dklen) != 0)
        return fail("decaps (modified ciphertext)", name);
    /* Declassify only to check the result, after the operations. */
    PUBLIC(ss, 32);
    PUBLIC(ss2, 32);
    PUBLIC(ss3, 32);
    if (memcmp(ss, ss2, 32) != 0)
        return fail("decaps result", name);
    if (memcmp(ss, ss3, 32) == 0)
        return fail("implicit rejection", name);
    return 0;
}

static int dsa_round(mw_mldsa_param_t p, const uint8_t *msg, size_t mlen)
{
    const char *name = mw_mldsa_name(p);
    size_t pklen = mw_mldsa_pk_bytes(p), sklen = mw_mldsa_sk_bytes(p),
           siglen = mw_mldsa_sig_bytes(p);
    uint8_t xi[32], rnd[32];
    static uint8_t pk[MW_MLDSA_MAX_PK_BYTES], sk[MW_MLDSA_MAX_SK_BYTES],
        sig[MW_MLDSA_MAX_SIG_BYTES];
    if (mw_random_bytes(xi, 32) || mw_random_bytes(rnd, 32))
        return fail("random", name);
    SECRET(xi, 32);
    if (mw_mldsa_keygen_internal(p, pk, sk, xi) != 0)
        return fail("keygen", name);
    PUBLIC(pk, pklen);
    /* sk = rho || K || tr || s1 || s2 || t0: rho (0..31) and tr (64..127) are public. */
    PUBLIC(sk, 32);
    PUBLIC(sk + 64, 64);
    SECRET(sk + 32, 32);
    SECRET(sk + 128, sklen - 128);
    SECRET(rnd, 32);
    if (mw_mldsa_sign(p, sig, sk, sklen, msg, mlen, (const uint8_t *)"ct", 2, rnd) != 0)
        return fail("sign", name);
    PUBLIC(sig, siglen);
    if (mw_mldsa_verify(p, pk, pklen, msg, mlen, (const uint8_t *)"ct", 2, sig, siglen) != 0)
        return fail("verify", name);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    static const mw_mlkem_param_t kems[] = {MW_MLKEM512, MW_MLKEM768, MW_MLKEM1024};
    static const mw_mldsa_param_t dsas[] = {MW_MLDSA44, MW_MLDSA65, MW_MLDSA87};
    uint8_t msg[100];
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < 3; i++)
            if (kem_round(kems[i]))
                return 1;
        for (size_t i = 0; i < 3; i++) {
            if (mw_random_bytes(msg, sizeof msg))
                return 1;
            if (dsa_round(dsas[i], msg, sizeof msg))
                return 1;
        }
    }
    printf("tool_ct: %d rounds of ML-KEM-512/768/1024 and ML-DSA-44/65/87 done\n", rounds);
    return 0;
}
