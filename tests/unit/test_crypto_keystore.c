/* Unit tests for the keystore (src/crypto/keystore.c): create, rotate 4
 * times (3 generations kept, data under gen N-2 opens, gen N-3 gone), the
 * documented file format decrypted here step by step, wrong master key,
 * every tampered byte, caps, group/world-readable key files, passphrases
 * through scrypt (checked against OpenSSL's EVP_PBE_scrypt), signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mwrasp/pqc.h"

static char dir[256], ks_path[300], key_path[300], key2_path[300];
static char err[MW_KEYSTORE_ERR_BYTES];
static const int64_t T0 = 1700000000;

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/mw-ks-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(ks_path, sizeof ks_path, "%s/keystore", dir);
    snprintf(key_path, sizeof key_path, "%s/master.key", dir);
    snprintf(key2_path, sizeof key2_path, "%s/other.key", dir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void reset_dir(void)
{
    teardown(NULL);
    setup(NULL);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 17];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static mw_keystore_opts_t keyfile_opts(const char *kf)
{
    mw_keystore_opts_t o = {0};
    o.key_file = kf;
    return o;
}

static void seal_str(mw_keystore_t *ks, const char *s, uint8_t *out, size_t *len)
{
    assert_int_equal(mw_keystore_seal(ks, out, strlen(s) + MW_SEAL_OVERHEAD, len,
                                      (const uint8_t *)"aad", 3, (const uint8_t *)s, strlen(s)),
                     MW_OK);
}

static int unseal_str(const mw_keystore_t *ks, const char *s, const uint8_t *in, size_t len)
{
    uint8_t pt[64];
    size_t n = 0;
    int rc = mw_keystore_unseal(ks, pt, sizeof pt, &n, (const uint8_t *)"aad", 3, in, len);
    if (rc == MW_OK) {
        assert_int_equal(n, strlen(s));
        assert_memory_equal(pt, s, n);
    }
    return rc;
}

static void test_master_key_file(void **st)
{
    (void)st;
    uint8_t k1[32], k2[32];
    struct stat sb;
    assert_int_equal(mw_keystore_new_master_key_file(key_path, err, sizeof err), MW_OK);
    assert_int_equal(stat(key_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 65);
    assert_int_equal(mw_keystore_new_master_key_file(key_path, err, sizeof err), MW_EEXIST);
    assert_non_null(strstr(err, key_path));
    assert_int_equal(mw_keystore_read_master_key(k1, key_path, err, sizeof err), MW_OK);
    /* The file is the key in hex. */
    size_t n;
    const uint8_t *txt = slurp(key_path, &n);
    for (int i = 0; i < 32; i++) {
        unsigned v;
        assert_int_equal(sscanf((const char *)txt + 2 * i, "%2x", &v), 1);
        assert_int_equal(v, k1[i]);
    }
    assert_int_equal(txt[64], '\n');
    /* Upper-case hex reads the same. */
    char up[65];
    for (int i = 0; i < 64; i++)
        up[i] = (char)((txt[i] >= 'a' && txt[i] <= 'f') ? txt[i] - 32 : txt[i]);
    up[64] = '\n';
    spit(key2_path, (const uint8_t *)up, 65);
    assert_int_equal(chmod(key2_path, 0600), 0);
    assert_int_equal(mw_keystore_read_master_key(k2, key2_path, err, sizeof err), MW_OK);
    assert_memory_equal(k1, k2, 32);
    /* Group- or world-accessible files are refused, with the mode named. */
    const mode_t modes[] = {0644, 0640, 0604, 0620, 0602};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(key2_path, modes[i]), 0);
        memset(k2, 0xAA, sizeof k2);
        assert_int_equal(mw_keystore_read_master_key(k2, key2_path, err, sizeof err), MW_ECONFIG);
        assert_non_null(strstr(err, key2_path));
        assert_non_null(strstr(err, "0600"));
        for (int j = 0; j < 32; j++)
            assert_int_equal(k2[j], 0);
    }
    assert_int_equal(chmod(key2_path, 0644), 0);
    assert_int_equal(mw_keystore_read_master_key(k2, key2_path, err, sizeof err), MW_ECONFIG);
    assert_non_null(strstr(err, "0644"));
    mw_keystore_opts_t o = keyfile_opts(key2_path);
    mw_keystore_t *ks = NULL;
    assert_int_equal(mw_keystore_create(&ks, ks_path, &o, T0, err, sizeof err), MW_ECONFIG);
    assert_null(ks);
    assert_int_equal(access(ks_path, F_OK), -1);
    /* Malformed: short, non-hex. */
    assert_int_equal(chmod(key2_path, 0600), 0);
    up[10] = 'g';
    spit(key2_path, (const uint8_t *)up, 65);
    assert_int_equal(mw_keystore_read_master_key(k2, key2_path, err, sizeof err), MW_EPARSE);
    spit(key2_path, (const uint8_t *)up, 40);
    assert_int_equal(mw_keystore_read_master_key(k2, key2_path, err, sizeof err), MW_EPARSE);
    assert_int_equal(mw_keystore_read_master_key(k2, "/nonexistent/key", err, sizeof err), MW_EIO);
    assert_non_null(strstr(err, "/nonexistent/key"));
    unlink(key2_path);
}

/* Found by fuzz/fuzz_keystore.c: the reader looked at the first 256 bytes
 * only, so 64 hex digits, spaces up to byte 256 and then anything at all
 * were accepted as a key file. The whole file must be the digits and
 * trailing whitespace; a file over 256 bytes is refused. */
static void test_master_key_file_trailing_bytes(void **st)
{
    (void)st;
    uint8_t k[32];
    char buf[300];
    memset(buf, 'a', 64);
    memset(buf + 64, ' ', sizeof buf - 64);
    memcpy(buf + sizeof buf - 7, "garbage", 7);
    spit(key2_path, (const uint8_t *)buf, sizeof buf);
    assert_int_equal(chmod(key2_path, 0600), 0);
    memset(k, 0xAA, sizeof k);
    err[0] = '\0';
    assert_int_equal(mw_keystore_read_master_key(k, key2_path, err, sizeof err), MW_EPARSE);
    assert_non_null(strstr(err, key2_path));
    for (int j = 0; j < 32; j++)
        assert_int_equal(k[j], 0);
    /* Whitespace only past byte 256 is still too long: the size is capped. */
    memset(buf + 64, ' ', sizeof buf - 64);
    spit(key2_path, (const uint8_t *)buf, sizeof buf);
    assert_int_equal(mw_keystore_read_master_key(k, key2_path, err, sizeof err), MW_EPARSE);
    /* 256 bytes exactly (digits and whitespace) is accepted. */
    buf[255] = '\n';
    spit(key2_path, (const uint8_t *)buf, 256);
    assert_int_equal(mw_keystore_read_master_key(k, key2_path, err, sizeof err), MW_OK);
    for (int j = 0; j < 32; j++)
        assert_int_equal(k[j], 0xaa);
    unlink(key2_path);
}

static void test_create_rotate_generations(void **st)
{
    (void)st;
    reset_dir();
    mw_keystore_opts_t o = keyfile_opts(key_path);
    mw_keystore_t *ks = NULL, *ks2 = NULL;
    assert_int_equal(mw_keystore_new_master_key_file(key_path, err, sizeof err), MW_OK);
    o.rotate_interval_s = 100;
    assert_int_equal(mw_keystore_create(&ks, ks_path, &o, T0, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_create(&ks2, ks_path, &o, T0, err, sizeof err), MW_EEXIST);
    assert_non_null(strstr(err, ks_path));
    struct stat sb;
    assert_int_equal(stat(ks_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(mw_keystore_generations(ks), 1);
    assert_int_equal(mw_keystore_rotate_interval(ks), 100);

    /* msg[g] sealed under generation g (1..5). */
    uint8_t msg[6][64];
    size_t len[6];
    char text[6][16];
    for (int g = 1; g <= 5; g++) {
        snprintf(text[g], sizeof text[g], "data of gen %d", g);
        if (g > 1)
            assert_int_equal(mw_keystore_rotate(ks, T0 + 10 * g, err, sizeof err), MW_OK);
        seal_str(ks, text[g], msg[g], &len[g]);
        uint64_t gid = 0;
        assert_int_equal(mw_seal_generation(msg[g], len[g], &gid), MW_OK);
        assert_int_equal(gid, (uint64_t)g);
    }
    /* 4 rotations: generations 5, 4, 3 kept; 2 and 1 destroyed. */
    for (int pass = 0; pass < 2; pass++) {
        const mw_keystore_t *k = pass == 0 ? ks : ks2;
        assert_int_equal(mw_keystore_generations(k), 3);
        for (size_t i = 0; i < 3; i++) {
            mw_keystore_gen_info_t gi;
            assert_int_equal(mw_keystore_gen_info(k, i, &gi), MW_OK);
            assert_int_equal(gi.id, 5 - i);
            assert_int_equal(gi.created, T0 + 10 * (int64_t)(5 - i));
            /* Key id = SHA3-256 of the public key (OpenSSL here). */
            uint8_t pk[MW_MLDSA87_PK_BYTES], h[32];
            unsigned hl = 0;
            assert_int_equal(mw_keystore_identity_pk(k, i, pk, sizeof pk), MW_OK);
            assert_int_equal(EVP_Digest(pk, sizeof pk, h, &hl, EVP_sha3_256(), NULL), 1);
            assert_memory_equal(gi.identity_id, h, 32);
        }
        mw_keystore_gen_info_t gi;
        assert_int_equal(mw_keystore_gen_info(k, 3, &gi), MW_EINVAL);
        for (int g = 3; g <= 5; g++)
            assert_int_equal(unseal_str(k, text[g], msg[g], len[g]), MW_OK);
        for (int g = 1; g <= 2; g++)
            assert_int_equal(unseal_str(k, text[g], msg[g], len[g]), MW_ENOTFOUND);
        /* Tampering with a held generation's message: MW_EVERIFY. */
        msg[4][30] ^= 1;
        assert_int_equal(unseal_str(k, text[4], msg[4], len[4]), MW_EVERIFY);
        msg[4][30] ^= 1;
        if (pass == 0)
            assert_int_equal(mw_keystore_load(&ks2, ks_path, &o, err, sizeof err), MW_OK);
    }
    /* Rotation when due only. */
    int rotated = -1;
    assert_int_equal(mw_keystore_rotate_if_due(ks, T0 + 50 + 99, &rotated, err, sizeof err), MW_OK);
    assert_int_equal(rotated, 0);
    assert_int_equal(mw_keystore_rotate_if_due(ks, T0 + 50 + 100, &rotated, err, sizeof err),
                     MW_OK);
    assert_int_equal(rotated, 1);
    mw_keystore_gen_info_t gi;
    assert_int_equal(mw_keystore_gen_info(ks, 0, &gi), MW_OK);
    assert_int_equal(gi.id, 6);
    /* ks2 still holds 5, 4, 3; its next rotation starts from the file. */
    assert_int_equal(mw_keystore_rotate(ks2, T0 + 200, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_gen_info(ks2, 0, &gi), MW_OK);
    assert_int_equal(gi.id, 7);
    assert_int_equal(mw_keystore_gen_info(ks2, 2, &gi), MW_OK);
    assert_int_equal(gi.id, 5);
    assert_int_equal(unseal_str(ks2, text[4], msg[4], len[4]), MW_ENOTFOUND);

    /* Signatures with the newest identity key verify under its public key. */
    uint8_t sig[MW_MLDSA87_SIG_BYTES], pk[MW_MLDSA87_PK_BYTES];
    assert_int_equal(
        mw_keystore_sign(ks2, sig, sizeof sig, (const uint8_t *)"m", 1, (const uint8_t *)"ctx", 3),
        MW_OK);
    assert_int_equal(mw_keystore_identity_pk(ks2, 0, pk, sizeof pk), MW_OK);
    assert_int_equal(mw_mldsa_verify(MW_MLDSA87, pk, sizeof pk, (const uint8_t *)"m", 1,
                                     (const uint8_t *)"ctx", 3, sig, sizeof sig),
                     MW_OK);
    assert_int_equal(mw_keystore_sign(ks2, sig, sizeof sig - 1, NULL, 0, NULL, 0), MW_EINVAL);
    mw_keystore_free(ks);
    mw_keystore_free(ks2);
    mw_keystore_free(NULL);
}

/* The documented format, decrypted here: header fields, HKDF-SHA-256 file
 * key, AES-256-GCM with the header as AAD, body layout. */
static void check_format(const uint8_t *f, size_t n, const uint8_t master[32], uint32_t ngen)
{
    assert_true(n > 57 + 16);
    assert_memory_equal(f, "MWKS", 4);
    assert_int_equal(f[4], 1);
    uint32_t blen = ((uint32_t)f[53] << 24) | ((uint32_t)f[54] << 16) | (f[55] << 8) | f[56];
    assert_int_equal(blen, n - 57 - 16);
    uint8_t fk[32];
    static const char info[] = "MWRASP keystore v1 file key";
    assert_int_equal(
        mw_hkdf(MW_HKDF_SHA256, fk, 32, f + 25, 16, master, 32, (const uint8_t *)info, 27), MW_OK);
    static uint8_t body[65536];
    assert_int_equal(mw_aes256gcm_decrypt(body, fk, f + 41, f, 57, f + 57, blen, f + 57 + blen),
                     MW_OK);
    assert_int_equal(be64(body + 16) > 0, 1);
    uint32_t ng =
        ((uint32_t)body[24] << 24) | ((uint32_t)body[25] << 16) | (body[26] << 8) | body[27];
    assert_int_equal(ng, ngen);
    assert_int_equal(blen, 28 + ngen * (8 + 8 + 4 + 32 + 2592 + 4896));
}

static void test_format_wrong_key_and_tamper(void **st)
{
    (void)st;
    reset_dir();
    mw_keystore_opts_t o = keyfile_opts(key_path);
    mw_keystore_t *ks = NULL;
    uint8_t master[32];
    assert_int_equal(mw_keystore_new_master_key_file(key_path, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_new_master_key_file(key2_path, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_read_master_key(master, key_path, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_create(&ks, ks_path, &o, T0, err, sizeof err), MW_OK);
    size_t n;
    uint8_t *f = slurp(ks_path, &n);
    check_format(f, n, master, 1);
    assert_int_equal(f[5], 1); /* key file */
    assert_int_equal(mw_keystore_rotate(ks, T0 + 1, err, sizeof err), MW_OK);
    mw_keystore_free(ks);
    f = slurp(ks_path, &n);
    check_format(f, n, master, 2);
    static uint8_t orig[65536];
    memcpy(orig, f, n);

    /* The wrong master key: MW_EVERIFY, the file named. */
    mw_keystore_opts_t o2 = keyfile_opts(key2_path);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &o2, err, sizeof err), MW_EVERIFY);
    assert_null(ks);
    assert_non_null(strstr(err, ks_path));
    /* A passphrase on a key-file keystore. */
    mw_keystore_opts_t op = {0};
    op.passphrase = "pass";
    assert_int_equal(mw_keystore_load(&ks, ks_path, &op, err, sizeof err), MW_ECONFIG);

    /* Every header byte, every 61st body byte and every tag byte changed
     * (one bit each): refused, never opened. The header fields checked
     * before the tag give MW_EPARSE; the rest MW_EVERIFY. */
    static uint8_t t[MW_KEYSTORE_MAX_FILE_BYTES + 2];
    for (size_t i = 0; i < n; i += (i < 57 || i >= n - 17) ? 1 : 61) {
        memcpy(t, orig, n);
        t[i] ^= (uint8_t)(1u << (i % 8));
        spit(ks_path, t, n);
        int rc = mw_keystore_load(&ks, ks_path, &o, err, sizeof err);
        assert_null(ks);
        if (i < 6 || (i >= 53 && i < 57))
            assert_int_equal(rc, MW_EPARSE);
        else
            assert_int_equal(rc, MW_EVERIFY);
    }
    /* Truncated, extended, too large, empty, missing. */
    spit(ks_path, orig, n - 1);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &o, err, sizeof err), MW_EPARSE);
    memcpy(t, orig, n);
    t[n] = 0;
    spit(ks_path, t, n + 1);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &o, err, sizeof err), MW_EPARSE);
    memset(t, 0, sizeof t);
    spit(ks_path, t, MW_KEYSTORE_MAX_FILE_BYTES + 1);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &o, err, sizeof err), MW_ETOOBIG);
    spit(ks_path, t, 0);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &o, err, sizeof err), MW_EPARSE);
    unlink(ks_path);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &o, err, sizeof err), MW_ENOTFOUND);
    assert_non_null(strstr(err, ks_path));
    /* The original still loads. */
    spit(ks_path, orig, n);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &o, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_generations(ks), 2);
    mw_keystore_free(ks);
    /* Options: neither or both master sources. */
    mw_keystore_opts_t none = {0}, both = {0};
    both.key_file = key_path;
    both.passphrase = "x";
    assert_int_equal(mw_keystore_load(&ks, ks_path, &none, err, sizeof err), MW_EINVAL);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &both, err, sizeof err), MW_EINVAL);
}

static void test_passphrase(void **st)
{
    (void)st;
    reset_dir();
    mw_keystore_opts_t o = {0};
    mw_keystore_t *ks = NULL;
    o.passphrase = "correct horse battery staple";
    o.scrypt_log2n = 10; /* cheap for the test; the default is 2^17 */
    assert_int_equal(mw_keystore_create(&ks, ks_path, &o, T0, err, sizeof err), MW_OK);
    uint8_t sealed[64];
    size_t sl;
    seal_str(ks, "secret", sealed, &sl);
    mw_keystore_free(ks);
    size_t n;
    uint8_t *f = slurp(ks_path, &n);
    assert_int_equal(f[5], 2);
    assert_int_equal(f[6], 10);
    assert_int_equal(f[7], 8);
    assert_int_equal(f[8], 1);
    /* master = scrypt(passphrase, salt from the header), OpenSSL here. */
    uint8_t master[32];
    assert_int_equal(
        EVP_PBE_scrypt(o.passphrase, strlen(o.passphrase), f + 9, 16, 1024, 8, 1, 0, master, 32),
        1);
    check_format(f, n, master, 1);

    mw_keystore_opts_t lo = {0};
    lo.passphrase = o.passphrase;
    assert_int_equal(mw_keystore_load(&ks, ks_path, &lo, err, sizeof err), MW_OK);
    assert_int_equal(unseal_str(ks, "secret", sealed, sl), MW_OK);
    assert_int_equal(mw_keystore_rotate(ks, T0 + 5, err, sizeof err), MW_OK);
    mw_keystore_free(ks);
    /* The scrypt salt stays; the write salt and nonce change per write. */
    uint8_t salt[16], wsalt[16];
    memcpy(salt, f + 9, 16);
    memcpy(wsalt, f + 25, 16);
    f = slurp(ks_path, &n);
    assert_memory_equal(f + 9, salt, 16);
    assert_memory_not_equal(f + 25, wsalt, 16);

    lo.passphrase = "correct horse battery stapler";
    assert_int_equal(mw_keystore_load(&ks, ks_path, &lo, err, sizeof err), MW_EVERIFY);
    assert_non_null(strstr(err, ks_path));
    lo.passphrase = "";
    assert_int_equal(mw_keystore_load(&ks, ks_path, &lo, err, sizeof err), MW_EINVAL);
    /* A key file on a passphrase keystore. */
    assert_int_equal(mw_keystore_new_master_key_file(key_path, err, sizeof err), MW_OK);
    mw_keystore_opts_t ko = keyfile_opts(key_path);
    assert_int_equal(mw_keystore_load(&ks, ks_path, &ko, err, sizeof err), MW_ECONFIG);
    /* scrypt costs past the caps are refused before any work: in a file
     * (log2 N = 30) and at creation. */
    static uint8_t t[MW_KEYSTORE_MAX_FILE_BYTES + 2];
    memcpy(t, f, n);
    t[6] = 30;
    spit(ks_path, t, n);
    lo.passphrase = o.passphrase;
    assert_int_equal(mw_keystore_load(&ks, ks_path, &lo, err, sizeof err), MW_ETOOBIG);
    unlink(ks_path);
    o.scrypt_log2n = 21;
    assert_int_equal(mw_keystore_create(&ks, ks_path, &o, T0, err, sizeof err), MW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master_key_file),
        cmocka_unit_test(test_master_key_file_trailing_bytes),
        cmocka_unit_test(test_create_rotate_generations),
        cmocka_unit_test(test_format_wrong_key_and_tamper),
        cmocka_unit_test(test_passphrase),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
