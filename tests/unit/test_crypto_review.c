/* Regression tests of the crypto security review of 2026-11-25
 * (docs/internals/crypto.md, "Review 2026-11-25"). Each test failed (or
 * crashed) before its fix:
 *  - a keystore handle that has reserved a sealer and is then inherited by a
 *    forked child: parent and child drew the same AES-GCM nonce;
 *  - mw_seal with a NULL nonce dereferenced it;
 *  - the hybrid KEM left ss unzeroized on a length error (encaps, decaps);
 *  - AES-GCM left tag / plaintext unzeroized on an argument error;
 *  - mw_keystore_rotate_if_due computed now - created with signed overflow
 *    (and rotated) for a time far before the newest generation;
 *  - a keystore write opened a pre-existing PATH.tmp with O_TRUNC, so a
 *    hard link planted there had its target truncated and overwritten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mwrasp/pqc.h"

static char dir[256], ks_path[300], key_path[300];
static char err[MW_KEYSTORE_ERR_BYTES];
static const int64_t T0 = 1700000000;

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/mw-review-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(ks_path, sizeof ks_path, "%s/keystore", dir);
    snprintf(key_path, sizeof key_path, "%s/master.key", dir);
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

static mw_keystore_t *new_keystore(void)
{
    mw_keystore_t *ks = NULL;
    mw_keystore_opts_t o = {.key_file = key_path};
    assert_int_equal(mw_keystore_new_master_key_file(key_path, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_create(&ks, ks_path, &o, T0, err, sizeof err), MW_OK);
    return ks;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* A handle with a reserved sealer, inherited across fork(): the child must
 * not reuse the parent's (sealer id, counter) nonces. */
static void test_keystore_nonce_after_fork(void **st)
{
    (void)st;
    mw_keystore_t *ks = new_keystore();
    uint8_t pt[8] = "forktest", m0[64], mp[64], mc[64];
    size_t n = 0;
    assert_int_equal(mw_keystore_seal(ks, m0, sizeof m0, &n, NULL, 0, pt, sizeof pt), MW_OK);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        size_t cn = 0;
        uint8_t c[64];
        int rc = mw_keystore_seal(ks, c, sizeof c, &cn, NULL, 0, pt, sizeof pt);
        if (rc != MW_OK || cn != sizeof pt + MW_SEAL_OVERHEAD ||
            write(fds[1], c, cn) != (ssize_t)cn)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    size_t cn = sizeof pt + MW_SEAL_OVERHEAD;
    assert_int_equal(read(fds[0], mc, cn), (ssize_t)cn);
    close(fds[0]);
    assert_int_equal(mw_keystore_seal(ks, mp, sizeof mp, &n, NULL, 0, pt, sizeof pt), MW_OK);
    /* The nonces (header bytes 9..20) of the three messages are distinct. */
    assert_memory_not_equal(m0 + 9, mp + 9, MW_AES256GCM_NONCE_BYTES);
    assert_memory_not_equal(m0 + 9, mc + 9, MW_AES256GCM_NONCE_BYTES);
    assert_memory_not_equal(mp + 9, mc + 9, MW_AES256GCM_NONCE_BYTES);
    /* All three open. */
    uint8_t out[16];
    size_t on = 0;
    assert_int_equal(mw_keystore_unseal(ks, out, sizeof out, &on, NULL, 0, mc, cn), MW_OK);
    assert_int_equal(mw_keystore_unseal(ks, out, sizeof out, &on, NULL, 0, mp, cn), MW_OK);
    mw_keystore_free(ks);
}

static void test_seal_null_nonce(void **st)
{
    (void)st;
    uint8_t key[32] = {1}, out[64], pt[4] = {1, 2, 3, 4};
    size_t n = 99;
    assert_int_equal(mw_seal(out, sizeof out, &n, key, 1, NULL, NULL, 0, pt, sizeof pt), MW_EINVAL);
    assert_int_equal(n, 0);
    uint8_t nonce[12] = {0};
    assert_int_equal(mw_seal(out, sizeof out, &n, NULL, 1, nonce, NULL, 0, pt, sizeof pt),
                     MW_EINVAL);
}

static void test_gcm_outputs_zeroized_on_einval(void **st)
{
    (void)st;
    uint8_t key[32] = {1}, nonce[12] = {2}, tag[16], ct[4], pt[4] = {1, 2, 3, 4};
    memset(tag, 0xaa, sizeof tag);
    memset(ct, 0xaa, sizeof ct);
    assert_int_equal(mw_aes256gcm_encrypt(ct, tag, NULL, nonce, NULL, 0, pt, sizeof pt), MW_EINVAL);
    assert_true(all_zero(tag, sizeof tag));
    assert_true(all_zero(ct, sizeof ct));
    memset(tag, 0xaa, sizeof tag);
    assert_int_equal(mw_aes256gcm_encrypt(ct, tag, key, nonce, NULL, 5, pt, sizeof pt), MW_EINVAL);
    assert_true(all_zero(tag, sizeof tag));
    uint8_t out[4];
    memset(out, 0xaa, sizeof out);
    assert_int_equal(mw_aes256gcm_decrypt(out, NULL, nonce, NULL, 0, ct, sizeof ct, tag),
                     MW_EINVAL);
    assert_true(all_zero(out, sizeof out));
    memset(out, 0xaa, sizeof out);
    assert_int_equal(mw_aes256gcm_decrypt(out, key, nonce, NULL, 0, ct, sizeof ct, NULL),
                     MW_EINVAL);
    assert_true(all_zero(out, sizeof out));
    /* mw_seal_open with a NULL key: pt zeroized, *pt_len 0. */
    uint8_t sealed[4 + MW_SEAL_OVERHEAD];
    size_t sn = 0, pn = 7;
    assert_int_equal(mw_seal(sealed, sizeof sealed, &sn, key, 3, nonce, NULL, 0, pt, sizeof pt),
                     MW_OK);
    memset(out, 0xaa, sizeof out);
    assert_int_equal(mw_seal_open(out, sizeof out, &pn, NULL, 3, NULL, 0, sealed, sn), MW_EINVAL);
    assert_int_equal(pn, 0);
    assert_true(all_zero(out, sizeof out));
}

static void test_hybrid_ss_zeroized_on_einval(void **st)
{
    (void)st;
    static uint8_t pk[MW_HYBRID_PK_BYTES], sk[MW_HYBRID_SK_BYTES], ct[MW_HYBRID_CT_BYTES];
    uint8_t ss[32];
    assert_int_equal(mw_hybrid_keygen(pk, sizeof pk, sk, sizeof sk), MW_OK);
    memset(ss, 0xaa, sizeof ss);
    memset(ct, 0xaa, sizeof ct);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, pk, sizeof pk - 1), MW_EINVAL);
    assert_true(all_zero(ss, sizeof ss));
    memset(ss, 0xaa, sizeof ss);
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, NULL, sizeof pk), MW_EINVAL);
    assert_true(all_zero(ss, sizeof ss));
    assert_int_equal(mw_hybrid_encaps(ss, ct, sizeof ct, pk, sizeof pk), MW_OK);
    memset(ss, 0xaa, sizeof ss);
    assert_int_equal(mw_hybrid_decaps(ss, ct, sizeof ct - 1, sk, sizeof sk), MW_EINVAL);
    assert_true(all_zero(ss, sizeof ss));
    memset(ss, 0xaa, sizeof ss);
    assert_int_equal(mw_hybrid_decaps(ss, ct, sizeof ct, sk, sizeof sk + 1), MW_EINVAL);
    assert_true(all_zero(ss, sizeof ss));
    explicit_bzero(sk, sizeof sk);
}

/* A time before the newest generation is never "due", and the difference
 * is computed without signed overflow (UBSan). */
static void test_rotate_if_due_extreme_times(void **st)
{
    (void)st;
    mw_keystore_t *ks = new_keystore();
    int rotated = -1;
    assert_int_equal(mw_keystore_rotate_if_due(ks, INT64_MIN, &rotated, err, sizeof err), MW_OK);
    assert_int_equal(rotated, 0);
    assert_int_equal(mw_keystore_rotate_if_due(ks, T0 - 1, &rotated, err, sizeof err), MW_OK);
    assert_int_equal(rotated, 0);
    assert_int_equal(mw_keystore_rotate_if_due(ks, INT64_MAX, &rotated, err, sizeof err), MW_OK);
    assert_int_equal(rotated, 1);
    assert_int_equal(mw_keystore_generations(ks), 2);
    mw_keystore_free(ks);
}

static void test_keystore_tmp_hard_link(void **st)
{
    (void)st;
    mw_keystore_t *ks = new_keystore();
    char victim[320], tmp[320];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", ks_path);
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    assert_int_equal(link(victim, tmp), 0);
    assert_int_equal(mw_keystore_rotate(ks, T0 + 10, err, sizeof err), MW_OK);
    char line[64] = {0};
    f = fopen(victim, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "hello\n");
    /* The keystore itself was written and reads back. */
    mw_keystore_t *ks2 = NULL;
    mw_keystore_opts_t o = {.key_file = key_path};
    assert_int_equal(mw_keystore_load(&ks2, ks_path, &o, err, sizeof err), MW_OK);
    assert_int_equal(mw_keystore_generations(ks2), 2);
    mw_keystore_free(ks2);
    mw_keystore_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keystore_nonce_after_fork, setup, teardown),
        cmocka_unit_test(test_seal_null_nonce),
        cmocka_unit_test(test_gcm_outputs_zeroized_on_einval),
        cmocka_unit_test(test_hybrid_ss_zeroized_on_einval),
        cmocka_unit_test_setup_teardown(test_rotate_if_due_extreme_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keystore_tmp_hard_link, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
