/* libFuzzer harness for ML-KEM's untrusted inputs (src/crypto/mlkem.c):
 * decapsulation keys, ciphertexts and encapsulation keys of any length and
 * content. Input: byte 0 picks the parameter set (mod 3), the rest is
 * split: dk first (as much as a dk holds), then the ciphertext (any length).
 * Each piece is copied into a buffer of its exact size so that ASan sees
 * any read past it. Besides "no crash, no overread, no UB":
 * - check_ek / check_dk / decaps / encaps refuse wrong lengths and zero ss;
 * - decaps of a dk whose hash field is repaired reaches the full path
 *   (decrypt, re-encrypt, constant-time select) for a right-size ct, and
 *   is deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/pqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t r = 0;
    for (size_t i = 0; i < n; i++)
        r |= p[i];
    return r == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mw_mlkem_param_t sets[] = {MW_MLKEM512, MW_MLKEM768, MW_MLKEM1024};
    if (size < 1)
        return 0;
    const mw_mlkem_param_t p = sets[data[0] % 3];
    data++;
    size--;
    const size_t ekl = mw_mlkem_ek_bytes(p), dkl = mw_mlkem_dk_bytes(p);
    const size_t ctl = mw_mlkem_ct_bytes(p);
    const unsigned k = (unsigned)p;

    size_t dk_len = size < dkl ? size : dkl;
    uint8_t *dk = dup_exact(data, dk_len);
    uint8_t *ct = dup_exact(data + dk_len, size - dk_len);
    uint8_t *whole = dup_exact(data, size);
    if (dk == NULL || ct == NULL || whole == NULL)
        goto out;
    uint8_t ss[32], ss2[32];

    /* The checks on the whole input, any length. */
    int rc = mw_mlkem_check_ek(p, whole, size);
    if (size != ekl && rc != MW_EINVAL)
        abort();
    rc = mw_mlkem_check_dk(p, whole, size);
    if (size != dkl && rc != MW_EINVAL)
        abort();

    /* Encaps on the whole input as ek. */
    {
        uint8_t c[MW_MLKEM_MAX_CT_BYTES];
        static const uint8_t m[32] = {0x5a};
        rc = mw_mlkem_encaps_internal(p, ss, c, whole, size, m);
        if (rc != MW_OK && (!all_zero(ss, 32) || !all_zero(c, ctl)))
            abort();
        if ((rc == MW_OK) != (mw_mlkem_check_ek(p, whole, size) == MW_OK))
            abort();
    }

    /* Decaps as given: the hash check almost always refuses. */
    rc = mw_mlkem_decaps(p, ss, ct, size - dk_len, dk, dk_len);
    if (rc != MW_OK && !all_zero(ss, 32))
        abort();
    if (rc == MW_OK && (dk_len != dkl || size - dk_len != ctl))
        abort();

    /* Repair H(ek) inside a full-size dk to reach decrypt / re-encrypt. */
    if (dk_len == dkl) {
        mw_sha3_256(dk + 768 * k + 32, dk + 384 * k, 384 * k + 32);
        if (mw_mlkem_check_dk(p, dk, dkl) != MW_OK)
            abort();
        rc = mw_mlkem_decaps(p, ss, ct, size - dk_len, dk, dkl);
        if ((rc == MW_OK) != (size - dk_len == ctl))
            abort();
        if (rc == MW_OK) {
            if (mw_mlkem_decaps(p, ss2, ct, ctl, dk, dkl) != MW_OK || memcmp(ss, ss2, 32) != 0)
                abort();
        }
    }
    (void)ekl;
out:
    free(dk);
    free(ct);
    free(whole);
    return 0;
}
