/* libFuzzer harness for ML-DSA verification (src/crypto/mldsa.c,
 * mldsa_prehash.c): public keys, signatures, messages and contexts are all
 * untrusted. Input layout:
 *   byte 0: parameter set (b % 3: 44, 65, 87), interface ((b / 3) % 4: pure
 *           with context, HashML-DSA, internal, external mu), exact lengths
 *           when (b / 12) & 1 (else taken from bytes 2-5)
 *   byte 1: pre-hash (b % 16, 12..15 invalid); context length = byte 6,
 *           plus 256 (refused) when b & 0x80
 *   bytes 2-3, 4-5: pk and signature lengths (little-endian, mod max + 2)
 *   then pk, signature, context bytes, and the rest is the message (mu is
 *   its first 64 bytes, zero-padded).
 * Every buffer is copied to an allocation of its exact length so that ASan
 * sees any overread. Checks: the result is 0, MW_EVERIFY or MW_EINVAL, as the
 * header says for the lengths given; the same call gives the same result; a
 * signature that verifies stops verifying when the message changes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/pqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *take(const uint8_t **p, size_t *left, size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    if (!b)
        abort();
    size_t n = len < *left ? len : *left;
    memcpy(b, *p, n);
    memset(b + n, 0, len - n);
    *p += n;
    *left -= n;
    return b;
}

static int run(mw_mldsa_param_t p, int iface, mw_ph_alg_t ph, const uint8_t *pk, size_t pk_len,
               const uint8_t *sig, size_t sig_len, const uint8_t *ctx, size_t ctx_len,
               const uint8_t *msg, size_t msg_len, const uint8_t *mu)
{
    switch (iface) {
    case 0:
        return mw_mldsa_verify(p, pk, pk_len, msg, msg_len, ctx, ctx_len, sig, sig_len);
    case 1:
        return mw_hashmldsa_verify(p, pk, pk_len, msg, msg_len, ctx, ctx_len, ph, sig, sig_len);
    case 2:
        return mw_mldsa_verify_internal(p, pk, pk_len, msg, msg_len, sig, sig_len);
    default:
        return mw_mldsa_verify_mu(p, pk, pk_len, mu, sig, sig_len);
    }
}

/* Runs one input; returns the verification result (1 for an input shorter
 * than the 7-byte header). Aborts when a check fails. tests/unit/
 * test_crypto_mldsa.c includes this file to replay the seeds: ok_* must
 * return 0, bad_* must not. */
static int fuzz_mldsa_verify_one(const uint8_t *data, size_t size)
{
    static const mw_mldsa_param_t sets[3] = {MW_MLDSA44, MW_MLDSA65, MW_MLDSA87};
    if (size < 7)
        return 1;
    mw_mldsa_param_t p = sets[data[0] % 3];
    int iface = (data[0] / 3) % 4;
    int exact = (data[0] / 12) & 1;
    mw_ph_alg_t ph = (mw_ph_alg_t)(data[1] % 16);
    size_t pk_len = mw_mldsa_pk_bytes(p), sig_len = mw_mldsa_sig_bytes(p);
    if (!exact) {
        pk_len = (data[2] | (size_t)data[3] << 8) % (MW_MLDSA_MAX_PK_BYTES + 2);
        sig_len = (data[4] | (size_t)data[5] << 8) % (MW_MLDSA_MAX_SIG_BYTES + 2);
    }
    size_t ctx_len = data[6] + (data[1] & 0x80 ? 256u : 0u);
    const uint8_t *q = data + 7;
    size_t left = size - 7;
    uint8_t *pk = take(&q, &left, pk_len);
    uint8_t *sig = take(&q, &left, sig_len);
    uint8_t *ctx = take(&q, &left, ctx_len);
    size_t msg_len = left;
    uint8_t *msg = take(&q, &left, msg_len);
    uint8_t mu[64] = {0};
    memcpy(mu, msg, msg_len < 64 ? msg_len : 64);

    int rc = run(p, iface, ph, pk, pk_len, sig, sig_len, ctx, ctx_len, msg, msg_len, mu);
    int want_einval = pk_len != mw_mldsa_pk_bytes(p) ||
                      (iface <= 1 && ctx_len > MW_MLDSA_MAX_CTX_BYTES) ||
                      (iface == 1 && (unsigned)ph > MW_PH_SHAKE256);
    if (want_einval && rc != MW_EINVAL)
        abort();
    if (!want_einval && rc != 0 && rc != MW_EVERIFY)
        abort();
    if (!want_einval && sig_len != mw_mldsa_sig_bytes(p) && rc != MW_EVERIFY)
        abort();
    if (run(p, iface, ph, pk, pk_len, sig, sig_len, ctx, ctx_len, msg, msg_len, mu) != rc)
        abort();
    if (rc == 0) {
        /* a changed message (or mu) must not verify */
        if (iface == 3) {
            mu[0] ^= 1;
        } else if (msg_len > 0) {
            msg[msg_len - 1] ^= 1;
        } else {
            free(msg);
            msg = malloc(1);
            if (!msg)
                abort();
            msg[0] = 0;
            msg_len = 1;
        }
        if (run(p, iface, ph, pk, pk_len, sig, sig_len, ctx, ctx_len, msg, msg_len, mu) !=
            MW_EVERIFY)
            abort();
    }
    free(pk);
    free(sig);
    free(ctx);
    free(msg);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_mldsa_verify_one(data, size);
    return 0;
}
