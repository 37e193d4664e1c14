/* ACVP runner: NIST ACVP vector sets for ML-KEM (FIPS 203) and ML-DSA
 * (FIPS 204) in their published JSON, read with jansson and run against
 * include/mwrasp/pqc.h (docs/internals/crypto.md, "ACVP").
 *
 * The JSON is untrusted: every field is checked for presence and type, every
 * hex string for its characters, its length and a size cap before anything
 * is decoded, and fixed-size inputs (d, z, m, seed, rnd, mu) for their exact
 * length. Variable-length inputs (keys, ciphertexts, signatures) are passed
 * with their length to the functions, whose own checks are under test.
 *
 * A case is passed only when every output matched; a malformed case is
 * reported as an error and counted as failed. Groups the code cannot run
 * (unknown algorithm, mode, revision, parameter set, function, signature
 * interface, hash, or keyFormat groups of the -tr1 revisions) are reported as
 * skipped with the reason and never counted as passed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mwrasp/pqc.h"

/* One vector set being run. */
struct run {
    const char *name; /* for messages */
    FILE *rep;
    struct mw_acvp_counts c;
    long long vsid;
    json_t *exp; /* "tgId:tcId" -> expected test object (joined runs), else NULL */
    int bad; /* a malformed case or group was seen */
};

/* One test case: its group, its prompt object, its expected object (joined
 * runs) and what it is, for messages. */
struct tcase {
    struct run *r;
    json_t *g, *t, *e;
    long long tgid, tcid;
    const char *what;
    int done; /* already counted (failed or error) */
};

static void say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct run *r, const char *fmt, ...)
{
    va_list ap;
    if (r->rep == NULL)
        return;
    va_start(ap, fmt);
    vfprintf(r->rep, fmt, ap);
    va_end(ap);
}

/* A malformed case: reported, counted as failed and as an error. */
static void case_error(struct tcase *tc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void case_error(struct tcase *tc, const char *fmt, ...)
{
    va_list ap;
    if (tc->done)
        return;
    tc->done = 1;
    tc->r->c.failed++;
    tc->r->c.errors++;
    tc->r->bad = 1;
    if (tc->r->rep == NULL)
        return;
    fprintf(tc->r->rep, "%s: vsId %lld tgId %lld tcId %lld (%s): error: ", tc->r->name, tc->r->vsid,
            tc->tgid, tc->tcid, tc->what);
    va_start(ap, fmt);
    vfprintf(tc->r->rep, fmt, ap);
    va_end(ap);
    fputc('\n', tc->r->rep);
}

/* A case whose outputs differ from the expected ones. */
static void case_fail(struct tcase *tc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void case_fail(struct tcase *tc, const char *fmt, ...)
{
    va_list ap;
    if (tc->done)
        return;
    tc->done = 1;
    tc->r->c.failed++;
    if (tc->r->rep == NULL)
        return;
    fprintf(tc->r->rep, "%s: vsId %lld tgId %lld tcId %lld (%s): FAILED: ", tc->r->name,
            tc->r->vsid, tc->tgid, tc->tcid, tc->what);
    va_start(ap, fmt);
    vfprintf(tc->r->rep, fmt, ap);
    va_end(ap);
    fputc('\n', tc->r->rep);
}

/* A field of the case: the prompt test object, then the expected one, then
 * the group (older vector sets put some inputs there). */
static json_t *field(const struct tcase *tc, const char *key)
{
    json_t *v = json_object_get(tc->t, key);
    if (v == NULL && tc->e != NULL)
        v = json_object_get(tc->e, key);
    if (v == NULL)
        v = json_object_get(tc->g, key);
    return v;
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Decodes the hex field key into a malloc'd buffer (*out, *len; a 1-byte
 * buffer for ""). 0, or -1 after reporting the case as malformed. */
static int get_hex(struct tcase *tc, const char *key, uint8_t **out, size_t *len)
{
    json_t *v = field(tc, key);
    *out = NULL;
    *len = 0;
    if (v == NULL) {
        case_error(tc, "missing field \"%s\"", key);
        return -1;
    }
    if (!json_is_string(v)) {
        case_error(tc, "field \"%s\" is not a string", key);
        return -1;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n % 2 != 0) {
        case_error(tc, "field \"%s\": odd number of hex digits (%zu)", key, n);
        return -1;
    }
    if (n / 2 > MW_ACVP_MAX_HEX_BYTES) {
        case_error(tc, "field \"%s\": %zu bytes, more than the cap of %u", key, n / 2,
                   (unsigned)MW_ACVP_MAX_HEX_BYTES);
        return -1;
    }
    uint8_t *b = malloc(n / 2 + 1);
    if (b == NULL) {
        case_error(tc, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            case_error(tc, "field \"%s\": not a hex digit at offset %zu", key,
                       hi < 0 ? 2 * i : 2 * i + 1);
            free(b);
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return 0;
}

/* A hex field of exactly n bytes, into buf. */
static int get_hex_exact(struct tcase *tc, const char *key, uint8_t *buf, size_t n)
{
    uint8_t *b;
    size_t len;
    if (get_hex(tc, key, &b, &len) != 0)
        return -1;
    if (len != n) {
        case_error(tc, "field \"%s\" has %zu bytes, must have %zu", key, len, n);
        explicit_bzero(b, len);
        free(b);
        return -1;
    }
    memcpy(buf, b, n);
    explicit_bzero(b, len);
    free(b);
    return 0;
}

static void free_hex(uint8_t *b, size_t len)
{
    if (b != NULL) {
        explicit_bzero(b, len);
        free(b);
    }
}

static int get_bool(struct tcase *tc, const char *key, int *out)
{
    json_t *v = field(tc, key);
    if (v == NULL) {
        case_error(tc, "missing field \"%s\"", key);
        return -1;
    }
    if (!json_is_boolean(v)) {
        case_error(tc, "field \"%s\" is not a boolean", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static const char *get_str(struct tcase *tc, const char *key)
{
    json_t *v = field(tc, key);
    if (v == NULL) {
        case_error(tc, "missing field \"%s\"", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        case_error(tc, "field \"%s\" is not a string", key);
        return NULL;
    }
    return json_string_value(v);
}

/* Compares an output with the expected hex field key. 0 if equal; -1 after
 * reporting the case (failed, or malformed if the field is). */
static int expect_hex(struct tcase *tc, const char *key, const uint8_t *got, size_t got_len)
{
    uint8_t *want;
    size_t wlen;
    int rc = -1;
    if (get_hex(tc, key, &want, &wlen) != 0)
        return -1;
    if (wlen != got_len) {
        case_fail(tc, "%s has %zu bytes, expected %zu", key, got_len, wlen);
        goto out;
    }
    for (size_t i = 0; i < wlen; i++) {
        if (got[i] != want[i]) {
            case_fail(tc,
                      "%s differs from the expected value at byte %zu of %zu (%02X, expected %02X)",
                      key, i, wlen, got[i], want[i]);
            goto out;
        }
    }
    rc = 0;
out:
    free_hex(want, wlen);
    return rc;
}

static int expect_bool(struct tcase *tc, const char *key, int got, const char *detail)
{
    int want;
    if (get_bool(tc, key, &want) != 0)
        return -1;
    if (!want != !got) {
        case_fail(tc, "%s is %s, expected %s%s%s", key, got ? "true" : "false",
                  want ? "true" : "false", detail ? ": " : "", detail ? detail : "");
        return -1;
    }
    return 0;
}

static void call_failed(struct tcase *tc, const char *fn, int rc)
{
    case_fail(tc, "%s returned %d (%s)", fn, rc, mw_strerror(rc));
}

/* ---- ML-KEM (FIPS 203) ------------------------------------------------- */

/* keyGen: ML-KEM.KeyGen_internal(d, z), FIPS 203 Algorithm 16. */
static void mlkem_keygen(struct tcase *tc, mw_mlkem_param_t p)
{
    uint8_t d[32], z[32], ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES];
    if (get_hex_exact(tc, "d", d, sizeof d) != 0 || get_hex_exact(tc, "z", z, sizeof z) != 0)
        goto out;
    int rc = mw_mlkem_keygen_internal(p, ek, dk, d, z);
    if (rc != 0) {
        call_failed(tc, "mw_mlkem_keygen_internal", rc);
        goto out;
    }
    if (expect_hex(tc, "ek", ek, mw_mlkem_ek_bytes(p)) == 0)
        (void)expect_hex(tc, "dk", dk, mw_mlkem_dk_bytes(p));
out:
    explicit_bzero(d, sizeof d);
    explicit_bzero(z, sizeof z);
    explicit_bzero(dk, sizeof dk);
}

/* encapsulation: Encaps_internal(ek, m), Algorithm 17 (after the section 7.2
 * check that mw_mlkem_encaps_internal makes). */
static void mlkem_encaps(struct tcase *tc, mw_mlkem_param_t p)
{
    uint8_t m[32], ss[32], ct[MW_MLKEM_MAX_CT_BYTES], *ek = NULL;
    size_t ek_len = 0;
    if (get_hex(tc, "ek", &ek, &ek_len) != 0 || get_hex_exact(tc, "m", m, sizeof m) != 0)
        goto out;
    int rc = mw_mlkem_encaps_internal(p, ss, ct, ek, ek_len, m);
    if (rc != 0) {
        call_failed(tc, "mw_mlkem_encaps_internal", rc);
        goto out;
    }
    if (expect_hex(tc, "c", ct, mw_mlkem_ct_bytes(p)) == 0)
        (void)expect_hex(tc, "k", ss, sizeof ss);
out:
    free_hex(ek, ek_len);
    explicit_bzero(m, sizeof m);
    explicit_bzero(ss, sizeof ss);
}

/* decapsulation: ML-KEM.Decaps(dk, c), Algorithms 21 and 18 (for a modified
 * ciphertext the expected k is the implicit-rejection key). */
static void mlkem_decaps(struct tcase *tc, mw_mlkem_param_t p)
{
    uint8_t ss[32], *dk = NULL, *c = NULL;
    size_t dk_len = 0, c_len = 0;
    if (get_hex(tc, "dk", &dk, &dk_len) != 0 || get_hex(tc, "c", &c, &c_len) != 0)
        goto out;
    int rc = mw_mlkem_decaps(p, ss, c, c_len, dk, dk_len);
    if (rc != 0) {
        call_failed(tc, "mw_mlkem_decaps", rc);
        goto out;
    }
    (void)expect_hex(tc, "k", ss, sizeof ss);
out:
    free_hex(dk, dk_len);
    free_hex(c, c_len);
    explicit_bzero(ss, sizeof ss);
}

/* encapsulationKeyCheck / decapsulationKeyCheck: the input checks of FIPS 203
 * sections 7.2 (modulus check) and 7.3 (hash check). */
static void mlkem_keycheck(struct tcase *tc, mw_mlkem_param_t p, int is_dk)
{
    uint8_t *key = NULL;
    size_t len = 0;
    if (get_hex(tc, is_dk ? "dk" : "ek", &key, &len) != 0)
        goto out;
    int rc = is_dk ? mw_mlkem_check_dk(p, key, len) : mw_mlkem_check_ek(p, key, len);
    json_t *why = field(tc, "reason");
    (void)expect_bool(tc, "testPassed", rc == 0, json_string_value(why));
out:
    free_hex(key, len);
}

/* ---- ML-DSA (FIPS 204) ------------------------------------------------- */

/* keyGen: ML-DSA.KeyGen_internal(xi), FIPS 204 Algorithm 6. */
static void mldsa_keygen(struct tcase *tc, mw_mldsa_param_t p)
{
    uint8_t xi[32], pk[MW_MLDSA_MAX_PK_BYTES], sk[MW_MLDSA_MAX_SK_BYTES];
    if (get_hex_exact(tc, "seed", xi, sizeof xi) != 0)
        goto out;
    int rc = mw_mldsa_keygen_internal(p, pk, sk, xi);
    if (rc != 0) {
        call_failed(tc, "mw_mldsa_keygen_internal", rc);
        goto out;
    }
    if (expect_hex(tc, "pk", pk, mw_mldsa_pk_bytes(p)) == 0)
        (void)expect_hex(tc, "sk", sk, mw_mldsa_sk_bytes(p));
out:
    explicit_bzero(xi, sizeof xi);
    explicit_bzero(sk, sizeof sk);
}

/* The signature interface of a sigGen / sigVer group. */
enum iface { IF_PURE, IF_PREHASH, IF_INTERNAL, IF_MU };

/* The message inputs of a case: M (or M'), ctx, the pre-hash, or mu. */
struct msg {
    uint8_t *m, *ctx;
    size_t m_len, ctx_len;
    uint8_t mu[64];
    mw_ph_alg_t ph;
};

static void msg_free(struct msg *m)
{
    free_hex(m->m, m->m_len);
    free_hex(m->ctx, m->ctx_len);
    explicit_bzero(m->mu, sizeof m->mu);
}

/* Reads the message fields of interface ifc. 0; 1 if the case is skipped
 * (hash not supported: reported and counted); -1 if malformed. */
static int get_msg(struct tcase *tc, enum iface ifc, struct msg *m)
{
    memset(m, 0, sizeof *m);
    if (ifc == IF_MU)
        return get_hex_exact(tc, "mu", m->mu, sizeof m->mu);
    if (get_hex(tc, "message", &m->m, &m->m_len) != 0)
        return -1;
    if (ifc == IF_INTERNAL)
        return 0;
    if (get_hex(tc, "context", &m->ctx, &m->ctx_len) != 0)
        return -1;
    if (ifc == IF_PREHASH) {
        const char *h = get_str(tc, "hashAlg");
        if (h == NULL)
            return -1;
        if (mw_ph_alg_from_name(h, &m->ph) != 0) {
            tc->done = 1;
            tc->r->c.skipped++;
            say(tc->r,
                "%s: vsId %lld tgId %lld tcId %lld (%s): skipped: hashAlg \"%s\" is not "
                "supported\n",
                tc->r->name, tc->r->vsid, tc->tgid, tc->tcid, tc->what, h);
            return 1;
        }
    }
    return 0;
}

/* sigGen: Sign_internal (Algorithm 7) through the interface of the group:
 * ML-DSA.Sign (Algorithm 2), HashML-DSA.Sign (Algorithm 4), M' as given, or
 * mu as given. rnd is 32 zero bytes in deterministic groups. */
static void mldsa_siggen(struct tcase *tc, mw_mldsa_param_t p, enum iface ifc, int deterministic)
{
    uint8_t rnd[32] = {0}, sig[MW_MLDSA_MAX_SIG_BYTES], *sk = NULL;
    size_t sk_len = 0;
    struct msg m;
    int rc;
    memset(&m, 0, sizeof m);
    if (get_hex(tc, "sk", &sk, &sk_len) != 0)
        goto out;
    if (!deterministic && get_hex_exact(tc, "rnd", rnd, sizeof rnd) != 0)
        goto out;
    if (get_msg(tc, ifc, &m) != 0)
        goto out;
    switch (ifc) {
    case IF_PURE:
        rc = mw_mldsa_sign(p, sig, sk, sk_len, m.m, m.m_len, m.ctx, m.ctx_len, rnd);
        break;
    case IF_PREHASH:
        rc = mw_hashmldsa_sign(p, sig, sk, sk_len, m.m, m.m_len, m.ctx, m.ctx_len, m.ph, rnd);
        break;
    case IF_INTERNAL:
        rc = mw_mldsa_sign_internal(p, sig, sk, sk_len, m.m, m.m_len, rnd);
        break;
    default:
        rc = mw_mldsa_sign_mu(p, sig, sk, sk_len, m.mu, rnd);
        break;
    }
    if (rc != 0) {
        call_failed(tc, "signing", rc);
        goto out;
    }
    (void)expect_hex(tc, "signature", sig, mw_mldsa_sig_bytes(p));
out:
    free_hex(sk, sk_len);
    msg_free(&m);
    explicit_bzero(rnd, sizeof rnd);
}

/* sigVer: Verify_internal (Algorithm 8) through the interface of the group
 * (Algorithms 3 and 5, M' as given, mu as given). */
static void mldsa_sigver(struct tcase *tc, mw_mldsa_param_t p, enum iface ifc)
{
    uint8_t *pk = NULL, *sig = NULL;
    size_t pk_len = 0, sig_len = 0;
    struct msg m;
    int rc;
    memset(&m, 0, sizeof m);
    if (get_hex(tc, "pk", &pk, &pk_len) != 0 || get_hex(tc, "signature", &sig, &sig_len) != 0)
        goto out;
    if (get_msg(tc, ifc, &m) != 0)
        goto out;
    switch (ifc) {
    case IF_PURE:
        rc = mw_mldsa_verify(p, pk, pk_len, m.m, m.m_len, m.ctx, m.ctx_len, sig, sig_len);
        break;
    case IF_PREHASH:
        rc = mw_hashmldsa_verify(p, pk, pk_len, m.m, m.m_len, m.ctx, m.ctx_len, m.ph, sig, sig_len);
        break;
    case IF_INTERNAL:
        rc = mw_mldsa_verify_internal(p, pk, pk_len, m.m, m.m_len, sig, sig_len);
        break;
    default:
        rc = mw_mldsa_verify_mu(p, pk, pk_len, m.mu, sig, sig_len);
        break;
    }
    json_t *why = field(tc, "reason");
    char detail[160];
    snprintf(detail, sizeof detail, "verification returned %d (%s)%s%s", rc, mw_strerror(rc),
             json_is_string(why) ? ", case: " : "",
             json_is_string(why) ? json_string_value(why) : "");
    (void)expect_bool(tc, "testPassed", rc == 0, detail);
out:
    free_hex(pk, pk_len);
    free_hex(sig, sig_len);
    msg_free(&m);
}

/* ---- groups and vector sets -------------------------------------------- */

enum kind {
    K_NONE,
    K_MLKEM_KEYGEN,
    K_MLKEM_ENCAPDECAP,
    K_MLDSA_KEYGEN,
    K_MLDSA_SIGGEN,
    K_MLDSA_SIGVER
};

/* An integer id (tgId, tcId) of o, or -1 if absent or not a non-negative
 * integer. */
static long long get_id(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    return (long long)json_integer_value(v);
}

/* Skips the cases of a group (and drops their expected results, which then
 * have a prompt case). */
static void skip_group(struct run *r, long long tgid, json_t *tests, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void skip_group(struct run *r, long long tgid, json_t *tests, const char *fmt, ...)
{
    va_list ap;
    size_t n = json_array_size(tests), i;
    json_t *t;
    r->c.skipped += n;
    json_array_foreach(tests, i, t)
    {
        char key[48];
        snprintf(key, sizeof key, "%lld:%lld", tgid, get_id(t, "tcId"));
        if (r->exp != NULL)
            (void)json_object_del(r->exp, key);
    }
    if (r->rep == NULL)
        return;
    fprintf(r->rep, "%s: vsId %lld tgId %lld: skipped %zu case%s: ", r->name, r->vsid, tgid, n,
            n == 1 ? "" : "s");
    va_start(ap, fmt);
    vfprintf(r->rep, fmt, ap);
    va_end(ap);
    fputc('\n', r->rep);
}

/* Group-level fields of sigGen / sigVer: the interface, or 1 with *why set
 * when the group is not one this runner knows. */
static int group_iface(json_t *g, enum kind k, enum iface *ifc, const char **why)
{
    const char *si = json_string_value(json_object_get(g, "signatureInterface"));
    const char *ph = json_string_value(json_object_get(g, "preHash"));
    json_t *xmu = json_object_get(g, "externalMu");
    if (si == NULL) {
        *why = "no signatureInterface (a pre-FIPS 204 vector set?)";
        return 1;
    }
    if (strcmp(si, "external") == 0) {
        if (xmu != NULL && !json_is_false(xmu)) {
            *why = "external interface with externalMu is not defined";
            return 1;
        }
        if (ph != NULL && strcmp(ph, "pure") == 0) {
            *ifc = IF_PURE;
            return 0;
        }
        if (ph != NULL && strcmp(ph, "preHash") == 0) {
            *ifc = IF_PREHASH;
            return 0;
        }
        *why = "external interface with an unknown or missing preHash";
        return 1;
    }
    if (strcmp(si, "internal") == 0) {
        if (ph != NULL && strcmp(ph, "none") != 0) {
            *why = "internal interface with a preHash other than \"none\"";
            return 1;
        }
        if (xmu == NULL || json_is_false(xmu)) {
            *ifc = IF_INTERNAL;
            return 0;
        }
        if (json_is_true(xmu)) {
            *ifc = IF_MU;
            return 0;
        }
        *why = "externalMu is not a boolean";
        return 1;
    }
    (void)k;
    *why = "unknown signatureInterface";
    return 1;
}

static void run_group(struct run *r, enum kind k, json_t *g, size_t gi)
{
    long long tgid = get_id(g, "tgId");
    json_t *tests = json_object_get(g, "tests");
    const char *ps = json_string_value(json_object_get(g, "parameterSet"));
    char what[96];
    mw_mlkem_param_t kp = MW_MLKEM768;
    mw_mldsa_param_t dp = MW_MLDSA65;
    enum iface ifc = IF_PURE;
    const char *fn = NULL, *why = NULL;
    int deterministic = 1, kem_fn = 0;

    if (!json_is_object(g) || tgid < 0 || !json_is_array(tests)) {
        say(r, "%s: vsId %lld: error: test group #%zu has no %s\n", r->name, r->vsid, gi + 1,
            !json_is_object(g) ? "object"
            : tgid < 0         ? "integer tgId"
                               : "\"tests\" array");
        r->c.errors++;
        r->bad = 1;
        return;
    }
    size_t n = json_array_size(tests);
    if (json_object_get(g, "keyFormat") != NULL) {
        skip_group(r, tgid, tests, "keyFormat groups (the -tr1 revisions) are not supported");
        return;
    }
    if (ps == NULL) {
        skip_group(r, tgid, tests, "no parameterSet");
        return;
    }
    if (k == K_MLKEM_KEYGEN || k == K_MLKEM_ENCAPDECAP) {
        if (mw_mlkem_param_from_name(ps, &kp) != 0) {
            skip_group(r, tgid, tests, "unknown parameterSet \"%s\"", ps);
            return;
        }
    } else if (mw_mldsa_param_from_name(ps, &dp) != 0) {
        skip_group(r, tgid, tests, "unknown parameterSet \"%s\"", ps);
        return;
    }
    switch (k) {
    case K_MLKEM_KEYGEN:
        snprintf(what, sizeof what, "%s keyGen", ps);
        break;
    case K_MLKEM_ENCAPDECAP:
        fn = json_string_value(json_object_get(g, "function"));
        if (fn == NULL) {
            skip_group(r, tgid, tests, "no \"function\"");
            return;
        }
        if (strcmp(fn, "encapsulation") == 0)
            kem_fn = 1;
        else if (strcmp(fn, "decapsulation") == 0)
            kem_fn = 2;
        else if (strcmp(fn, "encapsulationKeyCheck") == 0)
            kem_fn = 3;
        else if (strcmp(fn, "decapsulationKeyCheck") == 0)
            kem_fn = 4;
        else {
            skip_group(r, tgid, tests, "unknown function \"%s\"", fn);
            return;
        }
        snprintf(what, sizeof what, "%s %s", ps, fn);
        break;
    case K_MLDSA_KEYGEN:
        snprintf(what, sizeof what, "%s keyGen", ps);
        break;
    case K_MLDSA_SIGGEN:
    case K_MLDSA_SIGVER: {
        if (group_iface(g, k, &ifc, &why) != 0) {
            skip_group(r, tgid, tests, "%s", why);
            return;
        }
        json_t *det = json_object_get(g, "deterministic");
        if (k == K_MLDSA_SIGGEN) {
            if (!json_is_boolean(det)) {
                skip_group(r, tgid, tests, "no boolean \"deterministic\"");
                return;
            }
            deterministic = json_is_true(det);
        }
        static const char *const names[] = {"external pure", "external preHash", "internal",
                                            "internal externalMu"};
        snprintf(what, sizeof what, "%s %s %s%s", ps, k == K_MLDSA_SIGGEN ? "sigGen" : "sigVer",
                 names[ifc],
                 k == K_MLDSA_SIGVER ? ""
                 : deterministic     ? " deterministic"
                                     : " hedged");
        break;
    }
    default:
        return;
    }

    for (size_t i = 0; i < n; i++) {
        struct tcase tc = {
            .r = r, .g = g, .t = json_array_get(tests, i), .tgid = tgid, .what = what};
        tc.tcid = get_id(tc.t, "tcId");
        if (!json_is_object(tc.t) || tc.tcid < 0) {
            case_error(&tc, "test #%zu of the group has no integer tcId", i + 1);
            continue;
        }
        if (r->exp != NULL) {
            char key[48];
            snprintf(key, sizeof key, "%lld:%lld", tgid, tc.tcid);
            tc.e = json_object_get(r->exp, key);
            if (tc.e == NULL) {
                case_error(&tc, "no expected result for this case in expectedResults.json");
                continue;
            }
            json_incref(tc.e);
            json_object_del(r->exp, key); /* what is left at the end has no prompt case */
        }
        switch (k) {
        case K_MLKEM_KEYGEN:
            mlkem_keygen(&tc, kp);
            break;
        case K_MLKEM_ENCAPDECAP:
            if (kem_fn == 1)
                mlkem_encaps(&tc, kp);
            else if (kem_fn == 2)
                mlkem_decaps(&tc, kp);
            else
                mlkem_keycheck(&tc, kp, kem_fn == 4);
            break;
        case K_MLDSA_KEYGEN:
            mldsa_keygen(&tc, dp);
            break;
        case K_MLDSA_SIGGEN:
            mldsa_siggen(&tc, dp, ifc, deterministic);
            break;
        default:
            mldsa_sigver(&tc, dp, ifc);
            break;
        }
        if (!tc.done)
            r->c.passed++;
        json_decref(tc.e);
    }
}

/* Indexes the expected results by "tgId:tcId". 0, or -1 after reporting. */
static int index_expected(struct run *r, json_t *exp, const char *ename)
{
    json_t *groups = json_object_get(exp, "testGroups");
    size_t gi, ti;
    json_t *g, *t;
    if (!json_is_object(exp) || !json_is_array(groups)) {
        say(r, "%s: error: no \"testGroups\" array\n", ename);
        return -1;
    }
    r->exp = json_object();
    if (r->exp == NULL)
        return -1;
    json_array_foreach(groups, gi, g)
    {
        long long tgid = get_id(g, "tgId");
        json_t *tests = json_object_get(g, "tests");
        if (tgid < 0 || !json_is_array(tests)) {
            say(r, "%s: error: test group #%zu has no integer tgId or no \"tests\" array\n", ename,
                gi + 1);
            return -1;
        }
        json_array_foreach(tests, ti, t)
        {
            long long tcid = get_id(t, "tcId");
            char key[48];
            if (!json_is_object(t) || tcid < 0) {
                say(r, "%s: error: tgId %lld test #%zu has no integer tcId\n", ename, tgid, ti + 1);
                return -1;
            }
            snprintf(key, sizeof key, "%lld:%lld", tgid, tcid);
            if (json_object_get(r->exp, key) != NULL) {
                say(r, "%s: error: tgId %lld tcId %lld appears twice\n", ename, tgid, tcid);
                return -1;
            }
            if (json_object_set(r->exp, key, t) != 0)
                return -1;
        }
    }
    return 0;
}

static json_t *load(struct run *r, const char *name, const char *buf, size_t len)
{
    json_error_t err;
    json_t *j;
    if (len > MW_ACVP_MAX_FILE_BYTES) {
        say(r, "%s: error: %zu bytes, more than the cap of %u\n", name, len,
            (unsigned)MW_ACVP_MAX_FILE_BYTES);
        return NULL;
    }
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL)
        say(r, "%s: error: not valid JSON: line %d column %d: %s\n", name, err.line, err.column,
            err.text);
    return j;
}

/* Counts the test cases of a vector set (for a skipped set). */
static size_t count_cases(json_t *groups)
{
    size_t n = 0, i;
    json_t *g;
    json_array_foreach(groups, i, g) n += json_array_size(json_object_get(g, "tests"));
    return n;
}

static int run_sets(const char *name, const char *json, size_t len, const char *expected,
                    size_t expected_len, FILE *report, struct mw_acvp_counts *out)
{
    struct run r = {.name = name ? name : "(buffer)", .rep = report};
    json_t *root = NULL, *exp = NULL;
    int rc = MW_EPARSE;
    char ename[512];

    snprintf(ename, sizeof ename, "%s (expected results)", r.name);
    root = load(&r, r.name, json, len);
    if (root == NULL) {
        rc = len > MW_ACVP_MAX_FILE_BYTES ? MW_ETOOBIG : MW_EPARSE;
        goto out;
    }
    if (expected != NULL) {
        exp = load(&r, ename, expected, expected_len);
        if (exp == NULL) {
            rc = expected_len > MW_ACVP_MAX_FILE_BYTES ? MW_ETOOBIG : MW_EPARSE;
            goto out;
        }
        if (index_expected(&r, exp, ename) != 0)
            goto out;
    }
    json_t *groups = json_object_get(root, "testGroups");
    const char *alg = json_string_value(json_object_get(root, "algorithm"));
    const char *mode = json_string_value(json_object_get(root, "mode"));
    const char *rev = json_string_value(json_object_get(root, "revision"));
    json_t *vs = json_object_get(root, "vsId");
    if (!json_is_object(root) || !json_is_array(groups) || alg == NULL || mode == NULL) {
        say(&r,
            "%s: error: not an ACVP vector set (needs \"algorithm\", \"mode\" and a "
            "\"testGroups\" array)\n",
            r.name);
        goto out;
    }
    r.vsid = json_is_integer(vs) ? (long long)json_integer_value(vs) : -1;
    if (exp != NULL) {
        json_t *evs = json_object_get(exp, "vsId");
        if (evs != NULL && vs != NULL && !json_equal(evs, vs)) {
            say(&r, "%s: error: vsId differs between the prompt and the expected results\n",
                r.name);
            goto out;
        }
    }
    enum kind k = K_NONE;
    if (strcmp(alg, "ML-KEM") == 0 && rev != NULL && strcmp(rev, "FIPS203") == 0) {
        if (strcmp(mode, "keyGen") == 0)
            k = K_MLKEM_KEYGEN;
        else if (strcmp(mode, "encapDecap") == 0)
            k = K_MLKEM_ENCAPDECAP;
    } else if (strcmp(alg, "ML-DSA") == 0 && rev != NULL && strcmp(rev, "FIPS204") == 0) {
        if (strcmp(mode, "keyGen") == 0)
            k = K_MLDSA_KEYGEN;
        else if (strcmp(mode, "sigGen") == 0)
            k = K_MLDSA_SIGGEN;
        else if (strcmp(mode, "sigVer") == 0)
            k = K_MLDSA_SIGVER;
    }
    if (k == K_NONE) {
        size_t n = count_cases(groups);
        r.c.skipped += n;
        say(&r,
            "%s: vsId %lld: skipped %zu case%s: algorithm \"%s\" mode \"%s\" revision \"%s\" "
            "is not supported\n",
            r.name, r.vsid, n, n == 1 ? "" : "s", alg, mode, rev ? rev : "(none)");
        rc = 0;
        goto out;
    }
    size_t gi;
    json_t *g;
    json_array_foreach(groups, gi, g) run_group(&r, k, g, gi);
    if (r.exp != NULL && json_object_size(r.exp) > 0) {
        const char *key;
        json_t *v;
        json_object_foreach(r.exp, key, v)
        {
            say(&r, "%s: error: expected result tgId:tcId %s has no case in the prompt\n", r.name,
                key);
        }
        r.c.errors += json_object_size(r.exp);
        r.bad = 1;
    }
    rc = r.bad ? MW_EPARSE : 0;
out:
    out->passed += r.c.passed;
    out->failed += r.c.failed;
    out->skipped += r.c.skipped;
    out->errors += r.c.errors + (rc != 0 && !r.bad);
    json_decref(r.exp);
    json_decref(root);
    json_decref(exp);
    return rc;
}

int mw_acvp_run_buffer(const char *name, const char *json, size_t len, const char *expected,
                       size_t expected_len, FILE *report, struct mw_acvp_counts *out)
{
    if (out == NULL || (json == NULL && len > 0) || (expected == NULL && expected_len > 0))
        return MW_EINVAL;
    if (json == NULL)
        json = "";
    return run_sets(name, json, len, expected, expected_len, report, out);
}

/* ---- files and folders ------------------------------------------------- */

/* Reads a whole regular file of at most MW_ACVP_MAX_FILE_BYTES. */
static int read_file(const char *path, FILE *report, char **buf, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = MW_EIO;
    char *b = NULL;
    size_t done = 0;
    *buf = NULL;
    *len = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (report)
            fprintf(report, "%s: error: cannot read: %s\n", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        if (report)
            fprintf(report, "%s: error: not a regular file\n", path);
        goto out;
    }
    if ((unsigned long long)st.st_size > MW_ACVP_MAX_FILE_BYTES) {
        if (report)
            fprintf(report, "%s: error: %lld bytes, more than the cap of %u\n", path,
                    (long long)st.st_size, (unsigned)MW_ACVP_MAX_FILE_BYTES);
        rc = MW_ETOOBIG;
        goto out;
    }
    b = malloc((size_t)st.st_size + 1);
    if (b == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, b + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (report)
                fprintf(report, "%s: error: read failed: %s\n", path,
                        n < 0 ? strerror(errno) : "file shrank");
            goto out;
        }
        done += (size_t)n;
    }
    *buf = b;
    *len = done;
    b = NULL;
    rc = 0;
out:
    free(b);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs a prompt file and its expected results (ep NULL: a whole set). */
static int run_files(const char *pp, const char *ep, FILE *report, struct mw_acvp_counts *out)
{
    char *p = NULL, *e = NULL;
    size_t pl = 0, el = 0;
    int rc = read_file(pp, report, &p, &pl);
    if (rc == 0 && ep != NULL)
        rc = read_file(ep, report, &e, &el);
    if (rc == 0)
        rc = run_sets(pp, p, pl, e, el, report, out);
    else
        out->errors++;
    free(p);
    free(e);
    return rc;
}

static int join(char *dst, size_t n, const char *dir, const char *name)
{
    size_t l = strlen(dir);
    int w = snprintf(dst, n, "%s%s%s", dir, l > 0 && dir[l - 1] == '/' ? "" : "/", name);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int run_dir(const char *dir, int depth, FILE *report, struct mw_acvp_counts *out, int *found)
{
    char a[4096], b[4096];
    struct dirent **ents = NULL;
    int n, rc = 0;

    if (join(a, sizeof a, dir, "internalProjection.json") != 0)
        return MW_EINVAL;
    if (is_file(a)) {
        *found = 1;
        return run_files(a, NULL, report, out);
    }
    if (join(a, sizeof a, dir, "prompt.json") != 0 ||
        join(b, sizeof b, dir, "expectedResults.json") != 0)
        return MW_EINVAL;
    if (is_file(a) && is_file(b)) {
        *found = 1;
        return run_files(a, b, report, out);
    }
    if (is_file(a)) {
        *found = 1;
        if (report)
            fprintf(report, "%s: error: prompt.json without expectedResults.json\n", dir);
        out->errors++;
        return MW_ENOTFOUND;
    }
    if (depth >= MW_ACVP_MAX_DEPTH)
        return 0;
    n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) {
        if (report)
            fprintf(report, "%s: error: cannot list: %s\n", dir, strerror(errno));
        out->errors++;
        return MW_EIO;
    }
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (ents[i]->d_name[0] != '.' && join(a, sizeof a, dir, ents[i]->d_name) == 0 &&
            lstat(a, &st) == 0 && S_ISDIR(st.st_mode)) {
            int r2 = run_dir(a, depth + 1, report, out, found);
            if (r2 != 0 && rc == 0)
                rc = r2;
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int mw_acvp_run_path(const char *path, FILE *report, struct mw_acvp_counts *out)
{
    struct stat st;
    int found = 0, rc;
    if (path == NULL || out == NULL)
        return MW_EINVAL;
    if (stat(path, &st) != 0) {
        if (report)
            fprintf(report, "%s: error: %s\n", path, strerror(errno));
        out->errors++;
        return MW_EIO;
    }
    if (!S_ISDIR(st.st_mode)) {
        /* a prompt.json is joined with the expectedResults.json beside it */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strcmp(base, "prompt.json") == 0) {
            char dir[4096], e[4096];
            size_t dl = (size_t)(base - path);
            if (dl >= sizeof dir)
                return MW_EINVAL;
            memcpy(dir, path, dl);
            dir[dl] = '\0';
            if (join(e, sizeof e, dl ? dir : ".", "expectedResults.json") != 0)
                return MW_EINVAL;
            if (!is_file(e)) {
                if (report)
                    fprintf(report, "%s: error: no expectedResults.json beside it\n", path);
                out->errors++;
                return MW_ENOTFOUND;
            }
            return run_files(path, e, report, out);
        }
        return run_files(path, NULL, report, out);
    }
    rc = run_dir(path, 0, report, out, &found);
    if (rc == 0 && !found) {
        if (report)
            fprintf(report,
                    "%s: error: no internalProjection.json or prompt.json + expectedResults.json "
                    "in it or in its folders\n",
                    path);
        out->errors++;
        return MW_ENOTFOUND;
    }
    return rc;
}
