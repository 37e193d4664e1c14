/* HashML-DSA, FIPS 204 Algorithms 4 and 5 (include/mwrasp/pqc.h).
 *
 * M' = IntegerToBytes(1, 1) || IntegerToBytes(|ctx|, 1) || ctx || OID || PH(M),
 * at most 2 + 255 + 11 + 64 bytes, then ML-DSA.Sign_internal / Verify_internal.
 * The SHA-2 family comes from OpenSSL's EVP one-shot digests, SHA-3 and SHAKE
 * from our Keccak (keccak.c). The message is public for signing purposes;
 * PH(M) needs no constant-time care. */
#include <string.h>

#include <openssl/evp.h>

#include "mwrasp/pqc.h"

#define OID_BYTES 11
#define MAX_PH_BYTES 64
#define MAX_MPRIME (2 + MW_MLDSA_MAX_CTX_BYTES + OID_BYTES + MAX_PH_BYTES)

/* DER encodings of the NIST hash algorithm OIDs 2.16.840.1.101.3.4.2.x
 * (NIST CSOR; FIPS 204 section 5.4.1): 06 09 60 86 48 01 65 03 04 02 x. */
static const struct ph_info {
    const char *name; /* ACVP hashAlg */
    uint8_t arc; /* last OID arc */
    uint8_t out; /* bytes of PH(M) */
} PH[] = {
    [MW_PH_SHA2_224] = {"SHA2-224", 0x04, 28},
    [MW_PH_SHA2_256] = {"SHA2-256", 0x01, 32},
    [MW_PH_SHA2_384] = {"SHA2-384", 0x02, 48},
    [MW_PH_SHA2_512] = {"SHA2-512", 0x03, 64},
    [MW_PH_SHA2_512_224] = {"SHA2-512/224", 0x05, 28},
    [MW_PH_SHA2_512_256] = {"SHA2-512/256", 0x06, 32},
    [MW_PH_SHA3_224] = {"SHA3-224", 0x07, 28},
    [MW_PH_SHA3_256] = {"SHA3-256", 0x08, 32},
    [MW_PH_SHA3_384] = {"SHA3-384", 0x09, 48},
    [MW_PH_SHA3_512] = {"SHA3-512", 0x0a, 64},
    [MW_PH_SHAKE128] = {"SHAKE-128", 0x0b, 32},
    [MW_PH_SHAKE256] = {"SHAKE-256", 0x0c, 64},
};
#define N_PH (sizeof PH / sizeof PH[0])

int mw_ph_alg_from_name(const char *name, mw_ph_alg_t *out)
{
    if (!name || !out)
        return MW_EINVAL;
    for (size_t i = 0; i < N_PH; i++) {
        if (strcmp(name, PH[i].name) == 0) {
            *out = (mw_ph_alg_t)i;
            return MW_OK;
        }
    }
    return MW_EINVAL;
}

/* SHA3 with a rate the Keccak section has no init for: FIPS 202 section 6.1,
 * rate = 200 - 2 * output bytes, domain bits 01 then pad10*1 (0x06). */
static void sha3_oneshot(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
    mw_keccak_t k;
    memset(&k, 0, sizeof k);
    k.rate = (unsigned)(200 - 2 * outlen);
    k.dsep = 0x06;
    mw_keccak_absorb(&k, in, len);
    mw_keccak_squeeze(&k, out, outlen);
    mw_keccak_wipe(&k);
}

/* PH(M) into out (PH[ph].out bytes). MW_ECRYPTO if OpenSSL fails. */
static int prehash(mw_ph_alg_t ph, uint8_t *out, const uint8_t *msg, size_t msg_len)
{
    const EVP_MD *md = NULL;
    static const uint8_t empty[1] = {0};
    if (!msg)
        msg = empty; /* msg_len is 0 here */
    switch (ph) {
    case MW_PH_SHA2_224:
        md = EVP_sha224();
        break;
    case MW_PH_SHA2_256:
        md = EVP_sha256();
        break;
    case MW_PH_SHA2_384:
        md = EVP_sha384();
        break;
    case MW_PH_SHA2_512:
        md = EVP_sha512();
        break;
    case MW_PH_SHA2_512_224:
        md = EVP_sha512_224();
        break;
    case MW_PH_SHA2_512_256:
        md = EVP_sha512_256();
        break;
    case MW_PH_SHA3_224:
        sha3_oneshot(out, 28, msg, msg_len);
        return MW_OK;
    case MW_PH_SHA3_256:
        mw_sha3_256(out, msg, msg_len);
        return MW_OK;
    case MW_PH_SHA3_384:
        sha3_oneshot(out, 48, msg, msg_len);
        return MW_OK;
    case MW_PH_SHA3_512:
        mw_sha3_512(out, msg, msg_len);
        return MW_OK;
    case MW_PH_SHAKE128:
        mw_shake128(out, 32, msg, msg_len);
        return MW_OK;
    case MW_PH_SHAKE256:
        mw_shake256(out, 64, msg, msg_len);
        return MW_OK;
    }
    if (!md)
        return MW_EINVAL;
    unsigned int n = 0;
    if (EVP_Digest(msg, msg_len, out, &n, md, NULL) != 1 || n != PH[ph].out)
        return MW_ECRYPTO;
    return MW_OK;
}

/* Builds M' (Algorithm 4 lines 10-22, Algorithm 5 lines 5-17); returns its
 * length, or a negative MW_E* code. */
static int build_mprime(uint8_t mp[MAX_MPRIME], const uint8_t *msg, size_t msg_len,
                        const uint8_t *ctx, size_t ctx_len, mw_ph_alg_t ph)
{
    if ((unsigned)ph >= N_PH || ctx_len > MW_MLDSA_MAX_CTX_BYTES || (ctx_len && !ctx) ||
        (msg_len && !msg))
        return MW_EINVAL;
    size_t o = 0;
    mp[o++] = 1;
    mp[o++] = (uint8_t)ctx_len;
    if (ctx_len)
        memcpy(mp + o, ctx, ctx_len);
    o += ctx_len;
    static const uint8_t oid_prefix[10] = {0x06, 0x09, 0x60, 0x86, 0x48,
                                           0x01, 0x65, 0x03, 0x04, 0x02};
    memcpy(mp + o, oid_prefix, sizeof oid_prefix);
    o += sizeof oid_prefix;
    mp[o++] = PH[ph].arc;
    int rc = prehash(ph, mp + o, msg, msg_len);
    if (rc != MW_OK)
        return rc;
    o += PH[ph].out;
    return (int)o;
}

int mw_hashmldsa_sign(mw_mldsa_param_t p, uint8_t *sig, const uint8_t *sk, size_t sk_len,
                      const uint8_t *msg, size_t msg_len, const uint8_t *ctx, size_t ctx_len,
                      mw_ph_alg_t ph, const uint8_t *rnd)
{
    uint8_t mp[MAX_MPRIME];
    size_t sig_bytes = mw_mldsa_sig_bytes(p);
    if (!sig_bytes || !sig)
        return MW_EINVAL;
    int n = build_mprime(mp, msg, msg_len, ctx, ctx_len, ph);
    if (n < 0) {
        explicit_bzero(sig, sig_bytes);
        return n;
    }
    int rc = mw_mldsa_sign_internal(p, sig, sk, sk_len, mp, (size_t)n, rnd);
    explicit_bzero(mp, sizeof mp);
    return rc;
}

int mw_hashmldsa_verify(mw_mldsa_param_t p, const uint8_t *pk, size_t pk_len, const uint8_t *msg,
                        size_t msg_len, const uint8_t *ctx, size_t ctx_len, mw_ph_alg_t ph,
                        const uint8_t *sig, size_t sig_len)
{
    uint8_t mp[MAX_MPRIME];
    if (!mw_mldsa_pk_bytes(p))
        return MW_EINVAL;
    int n = build_mprime(mp, msg, msg_len, ctx, ctx_len, ph);
    if (n < 0)
        return n;
    return mw_mldsa_verify_internal(p, pk, pk_len, mp, (size_t)n, sig, sig_len);
}
