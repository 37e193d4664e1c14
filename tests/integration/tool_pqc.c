/* tool_pqc: a test driver for tests/integration/test_crypto_noble.sh.
 *
 * Reads one request per line on stdin, answers one JSON line per request on
 * stdout, so that a Node script can compare our ML-KEM and ML-DSA byte for
 * byte with @noble/post-quantum on seeds it chose itself. Hex is lower-case;
 * "-" stands for an empty byte string.
 *
 *   kem SET D Z M FLIP        -> {"ek","dk","ct","ss","ss_dec","ct_bad","ss_rej"}
 *       keygen_internal(d, z), encaps_internal(ek, m), decaps(ct), and decaps
 *       of ct with byte FLIP (decimal, mod |ct|) xor 0x01 (implicit rejection).
 *   dsa SET XI RND MSG CTX    -> {"pk","sk","sig_det","sig_rnd","ok_det","ok_rnd","ok_bad"}
 *       keygen_internal(xi), sign(sk, MSG, CTX) deterministic and with RND,
 *       verify of both, and verify of sig_det over MSG || 0x00 (must fail).
 *
 * SET is "ML-KEM-768", "ML-DSA-87", etc. A malformed request prints
 * {"error": "..."} and the tool goes on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/pqc.h"

#define MAX_HEX (1 << 20)

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    if (strcmp(s, "-") == 0) {
        *len = 0;
        return 0;
    }
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

static void put_hex(const char *key, const uint8_t *b, size_t n, int first)
{
    printf("%s\"%s\":\"", first ? "" : ",", key);
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    putchar('"');
}

static uint8_t *buf(size_t n)
{
    uint8_t *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "tool_pqc: out of memory\n");
        exit(2);
    }
    return p;
}

static int do_kem(char **f, int nf)
{
    mw_mlkem_param_t p;
    uint8_t d[32], z[32], m[32];
    size_t n1, n2, n3;
    if (nf != 6 || mw_mlkem_param_from_name(f[1], &p) != 0 || unhex(f[2], d, 32, &n1) ||
        unhex(f[3], z, 32, &n2) || unhex(f[4], m, 32, &n3) || n1 != 32 || n2 != 32 || n3 != 32)
        return -1;
    size_t eklen = mw_mlkem_ek_bytes(p), dklen = mw_mlkem_dk_bytes(p), ctlen = mw_mlkem_ct_bytes(p);
    uint8_t *ek = buf(eklen), *dk = buf(dklen), *ct = buf(ctlen), *bad = buf(ctlen);
    uint8_t ss[32], ss_dec[32], ss_rej[32];
    int rc = -1;
    if (mw_mlkem_keygen_internal(p, ek, dk, d, z) != 0 ||
        mw_mlkem_encaps_internal(p, ss, ct, ek, eklen, m) != 0 ||
        mw_mlkem_decaps(p, ss_dec, ct, ctlen, dk, dklen) != 0)
        goto out;
    memcpy(bad, ct, ctlen);
    bad[strtoul(f[5], NULL, 10) % ctlen] ^= 0x01;
    if (mw_mlkem_decaps(p, ss_rej, bad, ctlen, dk, dklen) != 0)
        goto out;
    putchar('{');
    put_hex("ek", ek, eklen, 1);
    put_hex("dk", dk, dklen, 0);
    put_hex("ct", ct, ctlen, 0);
    put_hex("ss", ss, 32, 0);
    put_hex("ss_dec", ss_dec, 32, 0);
    put_hex("ct_bad", bad, ctlen, 0);
    put_hex("ss_rej", ss_rej, 32, 0);
    puts("}");
    rc = 0;
out:
    free(ek);
    free(dk);
    free(ct);
    free(bad);
    return rc;
}

static int do_dsa(char **f, int nf)
{
    mw_mldsa_param_t p;
    uint8_t xi[32], rnd[32], zero[32] = {0}, ctx[256];
    size_t n1, n2, mlen, clen;
    static uint8_t msg[MAX_HEX + 1];
    if (nf != 6 || mw_mldsa_param_from_name(f[1], &p) != 0 || unhex(f[2], xi, 32, &n1) ||
        unhex(f[3], rnd, 32, &n2) || n1 != 32 || n2 != 32 || unhex(f[4], msg, MAX_HEX, &mlen) ||
        unhex(f[5], ctx, sizeof ctx, &clen))
        return -1;
    size_t pklen = mw_mldsa_pk_bytes(p), sklen = mw_mldsa_sk_bytes(p),
           siglen = mw_mldsa_sig_bytes(p);
    uint8_t *pk = buf(pklen), *sk = buf(sklen), *s1 = buf(siglen), *s2 = buf(siglen);
    int rc = -1;
    if (mw_mldsa_keygen_internal(p, pk, sk, xi) != 0 ||
        mw_mldsa_sign(p, s1, sk, sklen, msg, mlen, ctx, clen, zero) != 0 ||
        mw_mldsa_sign(p, s2, sk, sklen, msg, mlen, ctx, clen, rnd) != 0)
        goto out;
    int ok1 = mw_mldsa_verify(p, pk, pklen, msg, mlen, ctx, clen, s1, siglen) == 0;
    int ok2 = mw_mldsa_verify(p, pk, pklen, msg, mlen, ctx, clen, s2, siglen) == 0;
    msg[mlen] = 0;
    int bad = mw_mldsa_verify(p, pk, pklen, msg, mlen + 1, ctx, clen, s1, siglen) == 0;
    putchar('{');
    put_hex("pk", pk, pklen, 1);
    put_hex("sk", sk, sklen, 0);
    put_hex("sig_det", s1, siglen, 0);
    put_hex("sig_rnd", s2, siglen, 0);
    printf(",\"ok_det\":%s,\"ok_rnd\":%s,\"ok_bad\":%s}\n", ok1 ? "true" : "false",
           ok2 ? "true" : "false", bad ? "true" : "false");
    rc = 0;
out:
    free(pk);
    free(sk);
    free(s1);
    free(s2);
    return rc;
}

int main(void)
{
    size_t cap = 4 * MAX_HEX;
    char *line = malloc(cap);
    if (!line)
        return 2;
    while (fgets(line, (int)cap, stdin)) {
        char *f[8];
        int nf = 0;
        for (char *t = strtok(line, " \t\r\n"); t && nf < 8; t = strtok(NULL, " \t\r\n"))
            f[nf++] = t;
        if (nf == 0)
            continue;
        int rc = -1;
        if (strcmp(f[0], "kem") == 0)
            rc = do_kem(f, nf);
        else if (strcmp(f[0], "dsa") == 0)
            rc = do_dsa(f, nf);
        if (rc != 0)
            printf("{\"error\":\"bad request or failed operation: %s\"}\n", f[0]);
        fflush(stdout);
    }
    free(line);
    return 0;
}
