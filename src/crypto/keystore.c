/* Keystore: generations of ML-DSA-87 identity keys and AES-256-GCM data
 * keys in one file sealed under a master key (include/mwrasp/pqc.h,
 * docs/internals/crypto.md "Keystore", "AEAD nonces").
 *
 * File format, version 1 (all integers big-endian):
 *
 *   header (57 bytes, the GCM AAD)
 *     0  "MWKS"            magic
 *     4  u8 version        1
 *     5  u8 kdf            1 = master key file, 2 = passphrase through scrypt
 *     6  u8 log2(N), u8 r, u8 p   scrypt cost (0 for a key file)
 *     9  16 bytes          scrypt salt (random at creation; zero for a key file)
 *    25  16 bytes          write salt (random at every write)
 *    41  12 bytes          GCM nonce (random at every write)
 *    53  u32 body_len
 *   body (body_len bytes, AES-256-GCM ciphertext), tag (16 bytes)
 *
 *   file key = HKDF-SHA-256(salt = write salt, IKM = master key,
 *                           info = "MWRASP keystore v1 file key"), 32 bytes
 *   master key = the key file's 32 bytes, or
 *                scrypt(passphrase, scrypt salt, N, r, p), 32 bytes (RFC 7914)
 *
 *   body plaintext
 *     0  u64 created, u64 rotate interval (s), u64 next generation id,
 *    24  u32 number of generations (1..3), newest first, each:
 *          u64 id, u64 created, u32 next sealer id, 32 bytes data key,
 *          ML-DSA-87 public key (2592), ML-DSA-87 secret key (4896)
 *
 * Reading: the header is checked against hard caps, then the tag, and only
 * then is the body parsed (exact length, ids in order). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mwrasp/pqc.h"

#define MAGIC "MWKS"
#define FILE_VERSION 1
#define KDF_KEYFILE 1
#define KDF_SCRYPT 2
#define SALT_BYTES 16
#define HDR_BYTES 57
#define BODY_FIXED 28
#define GEN_BYTES (8 + 8 + 4 + 32 + MW_MLDSA87_PK_BYTES + MW_MLDSA87_SK_BYTES)
#define MAX_PASSPHRASE 1024
#define KEYFILE_MAX 256 /* a longer master key file is refused */
#define SCRYPT_MAX_MEM ((uint64_t)1 << 30)
#define FILE_KEY_INFO "MWRASP keystore v1 file key"

_Static_assert(HDR_BYTES + BODY_FIXED + MW_KEYSTORE_GENERATIONS * GEN_BYTES +
                       MW_AES256GCM_TAG_BYTES <=
                   MW_KEYSTORE_MAX_FILE_BYTES,
               "a full keystore fits the cap");

struct gen {
    uint64_t id;
    int64_t created;
    uint32_t next_sealer;
    uint8_t data_key[32];
    uint8_t pk[MW_MLDSA87_PK_BYTES];
    uint8_t sk[MW_MLDSA87_SK_BYTES];
};

struct mw_keystore {
    char *path, *lock_path;
    uint8_t master[MW_KEYSTORE_MASTER_KEY_BYTES];
    uint8_t kdf, log2n, r, p;
    uint8_t scrypt_salt[SALT_BYTES];
    int64_t created;
    uint64_t interval, next_gen_id;
    size_t ngen;
    struct gen gens[MW_KEYSTORE_GENERATIONS]; /* newest first */
    /* This handle's sealer (docs/internals/crypto.md "AEAD nonces"). */
    int have_sealer;
    uint64_t seal_gen;
    uint32_t sealer_id;
    uint64_t counter;
    pid_t sealer_pid; /* the process that reserved it: a forked child reserves its own */
};

static void seterr(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
    if (err == NULL || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

static void wipe_gen(struct gen *g)
{
    explicit_bzero(g, sizeof *g);
}

/* ---- master key files ---------------------------------------------------- */

/* Hex digit value without a secret-dependent branch or table index:
 * returns 0..15 and ORs 1 into *bad for a non-hex character. */
static uint8_t ct_hexval(uint8_t c, unsigned *bad)
{
    unsigned n = (unsigned)(c ^ 0x30); /* '0'..'9' -> 0..9 */
    unsigned a = (unsigned)((c | 0x20) - 0x61) & 0xffu; /* 'a'..'f' / 'A'..'F' -> 0..5 */
    unsigned isn = ((n - 10u) >> 8) & 1u;
    unsigned isa = ((a - 6u) >> 8) & 1u;
    *bad |= 1u ^ (isn | isa);
    return (uint8_t)(((0u - isn) & n) | ((0u - isa) & (a + 10u)));
}

static char ct_hexchar(unsigned x) /* x in 0..15 */
{
    return (char)(48u + x + (((9u - x) >> 8) & 39u));
}

int mw_keystore_new_master_key_file(const char *path, char *err, size_t err_len)
{
    uint8_t key[MW_KEYSTORE_MASTER_KEY_BYTES];
    char text[2 * MW_KEYSTORE_MASTER_KEY_BYTES + 1];
    int rc, fd = -1;
    if (path == NULL || path[0] == '\0') {
        seterr(err, err_len, "master key file: no path given");
        return MW_EINVAL;
    }
    rc = mw_random_bytes(key, sizeof key);
    if (rc != MW_OK) {
        seterr(err, err_len, "%s: the random source failed", path);
        goto out;
    }
    for (size_t i = 0; i < sizeof key; i++) {
        text[2 * i] = ct_hexchar(key[i] >> 4);
        text[2 * i + 1] = ct_hexchar(key[i] & 15u);
    }
    text[sizeof text - 1] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? MW_EEXIST : MW_EIO;
        seterr(err, err_len, "%s: cannot create the master key file: %s", path,
               errno == EEXIST ? "it already exists" : strerror(errno));
        goto out;
    }
    /* The umask may have cleared bits but never adds any; make it exact. */
    if (fchmod(fd, 0600) != 0 || write(fd, text, sizeof text) != (ssize_t)sizeof text ||
        fsync(fd) != 0) {
        rc = MW_EIO;
        seterr(err, err_len, "%s: cannot write the master key file: %s", path, strerror(errno));
        close(fd);
        fd = -1;
        unlink(path);
        goto out;
    }
    rc = MW_OK;
out:
    if (fd >= 0)
        close(fd);
    explicit_bzero(key, sizeof key);
    explicit_bzero(text, sizeof text);
    return rc;
}

int mw_keystore_read_master_key(uint8_t key[32], const char *path, char *err, size_t err_len)
{
    uint8_t buf[KEYFILE_MAX + 1];
    size_t n = 0;
    int rc = MW_EIO;
    struct stat st;
    if (key == NULL || path == NULL) {
        seterr(err, err_len, "master key file: no path given");
        return MW_EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        seterr(err, err_len, "%s: cannot open the master key file: %s", path, strerror(errno));
        goto out;
    }
    /* Checked on the open file, not the name, so it cannot change between. */
    if (fstat(fd, &st) != 0) {
        seterr(err, err_len, "%s: cannot stat the master key file: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = MW_ECONFIG;
        seterr(err, err_len, "%s: the master key file is not a regular file", path);
        goto out;
    }
    if (st.st_mode & 077) {
        rc = MW_ECONFIG;
        seterr(err, err_len,
               "%s: the master key file has mode %04o, which gives access to group or others; "
               "it must be 0600 or stricter (chmod 600 %s)",
               path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    /* The whole file, up to the cap + 1 so that a longer one is caught: bytes
     * past the first KEYFILE_MAX must not be ignored. */
    while (n < sizeof buf) {
        ssize_t k = read(fd, buf + n, sizeof buf - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            seterr(err, err_len, "%s: cannot read the master key file: %s", path, strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > KEYFILE_MAX) {
        rc = MW_EPARSE;
        seterr(err, err_len, "%s: a master key file holds 64 hex digits (file over %d bytes)", path,
               KEYFILE_MAX);
        goto out;
    }
    /* 64 hex digits, then only whitespace (the length is not secret). */
    size_t len = n;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    if (len != 2 * MW_KEYSTORE_MASTER_KEY_BYTES) {
        rc = MW_EPARSE;
        seterr(err, err_len, "%s: a master key file holds 64 hex digits (%zu characters found)",
               path, len);
        goto out;
    }
    unsigned bad = 0;
    for (size_t i = 0; i < MW_KEYSTORE_MASTER_KEY_BYTES; i++)
        key[i] = (uint8_t)((ct_hexval(buf[2 * i], &bad) << 4) | ct_hexval(buf[2 * i + 1], &bad));
    if (bad) {
        rc = MW_EPARSE;
        seterr(err, err_len, "%s: a master key file holds 64 hex digits (non-hex found)", path);
        goto out;
    }
    rc = MW_OK;
out:
    if (fd >= 0)
        close(fd);
    explicit_bzero(buf, sizeof buf);
    if (rc != MW_OK)
        explicit_bzero(key, MW_KEYSTORE_MASTER_KEY_BYTES);
    return rc;
}

/* ---- master key and file key -------------------------------------------- */

static int scrypt_params_ok(uint8_t log2n, uint8_t r, uint8_t p)
{
    if (log2n < 10 || log2n > 20 || r < 1 || r > 32 || p < 1 || p > 16)
        return 0;
    /* scrypt needs about 128 * r * (N + p) bytes (RFC 7914 section 6). */
    return 128u * (uint64_t)r * (((uint64_t)1 << log2n) + p) <= SCRYPT_MAX_MEM;
}

static int derive_scrypt(uint8_t out[32], const char *pass, const uint8_t salt[16], uint8_t log2n,
                         uint8_t r, uint8_t p)
{
    uint64_t nn = (uint64_t)1 << log2n;
    uint64_t maxmem = 128u * (uint64_t)r * (nn + 2 + p) + (1u << 20);
    if (EVP_PBE_scrypt(pass, strlen(pass), salt, SALT_BYTES, nn, r, p, maxmem, out, 32) != 1) {
        explicit_bzero(out, 32);
        return MW_ECRYPTO;
    }
    return MW_OK;
}

static int file_key(uint8_t fk[32], const uint8_t master[32], const uint8_t wsalt[16])
{
    return mw_hkdf(MW_HKDF_SHA256, fk, 32, wsalt, SALT_BYTES, master, 32,
                   (const uint8_t *)FILE_KEY_INFO, sizeof FILE_KEY_INFO - 1);
}

/* ---- encode / decode ------------------------------------------------------ */

/* Decodes a whole file image into ks (gens, counters). On the first load
 * (first != 0) the master key for a passphrase is derived here from the
 * header; on a reload the header must name the same scrypt salt and cost
 * as the cached key. ks is unchanged on failure. */
static int decode(mw_keystore_t *ks, const uint8_t *buf, size_t len, const char *passphrase,
                  int first, char *err, size_t err_len)
{
    const char *path = ks->path;
    uint8_t master[32], fk[32];
    uint8_t *body = NULL;
    struct gen *gens = NULL;
    int rc = MW_EPARSE;
    size_t blen = 0;

    memcpy(master, ks->master, sizeof master);
    if (len < HDR_BYTES + MW_AES256GCM_TAG_BYTES || memcmp(buf, MAGIC, 4) != 0) {
        seterr(err, err_len, "%s: not a keystore file (bad magic or too short)", path);
        goto out;
    }
    if (buf[4] != FILE_VERSION) {
        seterr(err, err_len, "%s: keystore format version %u is not supported (only %u)", path,
               buf[4], FILE_VERSION);
        goto out;
    }
    uint8_t kdf = buf[5], log2n = buf[6], r = buf[7], p = buf[8];
    blen = get32(buf + 53);
    if (blen != len - HDR_BYTES - MW_AES256GCM_TAG_BYTES) {
        seterr(err, err_len, "%s: keystore body length %zu does not match the file size", path,
               blen);
        goto out;
    }
    if (kdf == KDF_SCRYPT) {
        if (!scrypt_params_ok(log2n, r, p)) {
            rc = MW_ETOOBIG;
            seterr(err, err_len, "%s: scrypt cost N=2^%u r=%u p=%u is outside the accepted range",
                   path, log2n, r, p);
            goto out;
        }
        if (first) {
            if (passphrase == NULL) {
                rc = MW_ECONFIG;
                seterr(err, err_len,
                       "%s: the keystore is sealed under a passphrase, not a key file", path);
                goto out;
            }
            rc = derive_scrypt(master, passphrase, buf + 9, log2n, r, p);
            if (rc != MW_OK) {
                seterr(err, err_len, "%s: scrypt failed", path);
                goto out;
            }
        } else if (ks->kdf != KDF_SCRYPT || ks->log2n != log2n || ks->r != r || ks->p != p ||
                   memcmp(ks->scrypt_salt, buf + 9, SALT_BYTES) != 0) {
            rc = MW_EVERIFY;
            seterr(err, err_len, "%s: the keystore was re-created under another master key", path);
            goto out;
        }
    } else if (kdf == KDF_KEYFILE) {
        if ((first && passphrase != NULL) || (!first && ks->kdf != KDF_KEYFILE)) {
            rc = MW_ECONFIG;
            seterr(err, err_len,
                   "%s: the keystore is sealed under a master key file, not a "
                   "passphrase",
                   path);
            goto out;
        }
    } else {
        seterr(err, err_len, "%s: unknown master key derivation %u", path, kdf);
        goto out;
    }

    /* The tag first: nothing in the body is looked at before it verifies. */
    body = malloc(blen ? blen : 1);
    gens = calloc(MW_KEYSTORE_GENERATIONS, sizeof *gens);
    if (body == NULL || gens == NULL) {
        rc = MW_ENOMEM;
        seterr(err, err_len, "%s: out of memory", path);
        goto out;
    }
    rc = file_key(fk, master, buf + 25);
    if (rc != MW_OK) {
        seterr(err, err_len, "%s: key derivation failed", path);
        goto out;
    }
    rc = mw_aes256gcm_decrypt(body, fk, buf + 41, buf, HDR_BYTES, buf + HDR_BYTES, blen,
                              buf + HDR_BYTES + blen);
    if (rc != MW_OK) {
        seterr(err, err_len,
               "%s: the keystore does not authenticate: wrong master key or passphrase, or the "
               "file was modified",
               path);
        goto out;
    }

    rc = MW_EPARSE;
    if (blen < BODY_FIXED) {
        seterr(err, err_len, "%s: keystore body too short", path);
        goto out;
    }
    uint64_t created = get64(body), interval = get64(body + 8), next_id = get64(body + 16);
    uint32_t ngen = get32(body + 24);
    if (ngen < 1 || ngen > MW_KEYSTORE_GENERATIONS || blen != BODY_FIXED + ngen * GEN_BYTES ||
        interval == 0 || interval > INT64_MAX || created > INT64_MAX) {
        seterr(err, err_len, "%s: malformed keystore body", path);
        goto out;
    }
    const uint8_t *q = body + BODY_FIXED;
    for (uint32_t i = 0; i < ngen; i++, q += GEN_BYTES) {
        struct gen *g = &gens[i];
        g->id = get64(q);
        uint64_t c = get64(q + 8);
        g->next_sealer = get32(q + 16);
        memcpy(g->data_key, q + 20, 32);
        memcpy(g->pk, q + 52, MW_MLDSA87_PK_BYTES);
        memcpy(g->sk, q + 52 + MW_MLDSA87_PK_BYTES, MW_MLDSA87_SK_BYTES);
        if (c > INT64_MAX || g->id == 0 || g->id >= next_id || (i > 0 && g->id >= gens[i - 1].id)) {
            seterr(err, err_len, "%s: malformed keystore generation %u", path, i);
            goto out;
        }
        g->created = (int64_t)c;
    }

    /* Commit into ks. */
    for (size_t i = 0; i < MW_KEYSTORE_GENERATIONS; i++)
        wipe_gen(&ks->gens[i]);
    memcpy(ks->gens, gens, MW_KEYSTORE_GENERATIONS * sizeof *gens);
    ks->ngen = ngen;
    ks->created = (int64_t)created;
    ks->interval = interval;
    ks->next_gen_id = next_id;
    if (first) {
        memcpy(ks->master, master, sizeof master);
        ks->kdf = kdf;
        ks->log2n = log2n;
        ks->r = r;
        ks->p = p;
        memcpy(ks->scrypt_salt, buf + 9, SALT_BYTES);
    }
    rc = MW_OK;
out:
    explicit_bzero(master, sizeof master);
    explicit_bzero(fk, sizeof fk);
    if (body) {
        explicit_bzero(body, blen);
        free(body);
    }
    if (gens) {
        explicit_bzero(gens, MW_KEYSTORE_GENERATIONS * sizeof *gens);
        free(gens);
    }
    return rc;
}

/* Encodes ks into a fresh file image (new write salt and nonce). */
static int encode(const mw_keystore_t *ks, uint8_t **out, size_t *out_len)
{
    size_t blen = BODY_FIXED + ks->ngen * GEN_BYTES;
    size_t len = HDR_BYTES + blen + MW_AES256GCM_TAG_BYTES;
    uint8_t *body = malloc(blen), *buf = malloc(len), fk[32];
    int rc = MW_ENOMEM;
    if (body == NULL || buf == NULL)
        goto out;
    memcpy(buf, MAGIC, 4);
    buf[4] = FILE_VERSION;
    buf[5] = ks->kdf;
    buf[6] = ks->kdf == KDF_SCRYPT ? ks->log2n : 0;
    buf[7] = ks->kdf == KDF_SCRYPT ? ks->r : 0;
    buf[8] = ks->kdf == KDF_SCRYPT ? ks->p : 0;
    if (ks->kdf == KDF_SCRYPT)
        memcpy(buf + 9, ks->scrypt_salt, SALT_BYTES);
    else
        memset(buf + 9, 0, SALT_BYTES);
    /* A fresh write salt gives a fresh file key per write, and the nonce is
     * random too: no (key, nonce) pair can repeat across writes. */
    rc = mw_random_bytes(buf + 25, SALT_BYTES + MW_AES256GCM_NONCE_BYTES);
    if (rc != MW_OK)
        goto out;
    put32(buf + 53, (uint32_t)blen);

    put64(body, (uint64_t)ks->created);
    put64(body + 8, ks->interval);
    put64(body + 16, ks->next_gen_id);
    put32(body + 24, (uint32_t)ks->ngen);
    uint8_t *q = body + BODY_FIXED;
    for (size_t i = 0; i < ks->ngen; i++, q += GEN_BYTES) {
        const struct gen *g = &ks->gens[i];
        put64(q, g->id);
        put64(q + 8, (uint64_t)g->created);
        put32(q + 16, g->next_sealer);
        memcpy(q + 20, g->data_key, 32);
        memcpy(q + 52, g->pk, MW_MLDSA87_PK_BYTES);
        memcpy(q + 52 + MW_MLDSA87_PK_BYTES, g->sk, MW_MLDSA87_SK_BYTES);
    }
    rc = file_key(fk, ks->master, buf + 25);
    if (rc != MW_OK)
        goto out;
    rc = mw_aes256gcm_encrypt(buf + HDR_BYTES, buf + HDR_BYTES + blen, fk, buf + 41, buf, HDR_BYTES,
                              body, blen);
out:
    explicit_bzero(fk, sizeof fk);
    if (body) {
        explicit_bzero(body, blen);
        free(body);
    }
    if (rc != MW_OK) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    *out_len = rc == MW_OK ? len : 0;
    return rc;
}

/* ---- files ----------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Atomic replace: PATH.tmp (created anew with O_EXCL, 0600), fsync, rename
 * over PATH, fsync the directory. Called with the lock held, so PATH.tmp has
 * one writer. */
static int save(mw_keystore_t *ks, char *err, size_t err_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = encode(ks, &buf, &len);
    char *tmp = NULL, *dir = NULL;
    int fd = -1;
    if (rc != MW_OK) {
        seterr(err, err_len, "%s: cannot encode the keystore (%s)", ks->path, mw_strerror(rc));
        return rc;
    }
    rc = MW_EIO;
    size_t pl = strlen(ks->path);
    tmp = malloc(pl + 5);
    dir = strdup(ks->path);
    if (tmp == NULL || dir == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }
    memcpy(tmp, ks->path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    /* A PATH.tmp left over (a crash, or planted in a shared directory as a
     * hard link to another file) is removed, never written through. */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        seterr(err, err_len, "%s: cannot remove a stale temporary file: %s", tmp, strerror(errno));
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        seterr(err, err_len, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        seterr(err, err_len, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        seterr(err, err_len, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, ks->path) != 0) {
        seterr(err, err_len, "%s: cannot replace the keystore: %s", ks->path, strerror(errno));
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        seterr(err, err_len, "%s: cannot sync the directory: %s", dir, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        goto out;
    }
    close(dfd);
    rc = MW_OK;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    free(dir);
    free(buf); /* ciphertext only */
    return rc;
}

static int read_file(const char *path, uint8_t **out, size_t *out_len, char *err, size_t err_len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *buf = NULL;
    int rc = MW_EIO;
    *out = NULL;
    *out_len = 0;
    if (fd < 0) {
        rc = errno == ENOENT ? MW_ENOTFOUND : MW_EIO;
        seterr(err, err_len, "%s: cannot open the keystore: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        seterr(err, err_len, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size > MW_KEYSTORE_MAX_FILE_BYTES) {
        rc = MW_ETOOBIG;
        seterr(err, err_len, "%s: keystore file larger than %d bytes", path,
               MW_KEYSTORE_MAX_FILE_BYTES);
        goto out;
    }
    /* Read up to the cap + 1 whatever fstat said, so a growing file is caught. */
    buf = malloc(MW_KEYSTORE_MAX_FILE_BYTES + 1);
    if (buf == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }
    size_t n = 0;
    while (n < MW_KEYSTORE_MAX_FILE_BYTES + 1) {
        ssize_t k = read(fd, buf + n, MW_KEYSTORE_MAX_FILE_BYTES + 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            seterr(err, err_len, "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > MW_KEYSTORE_MAX_FILE_BYTES) {
        rc = MW_ETOOBIG;
        seterr(err, err_len, "%s: keystore file larger than %d bytes", path,
               MW_KEYSTORE_MAX_FILE_BYTES);
        goto out;
    }
    *out = buf;
    *out_len = n;
    buf = NULL;
    rc = MW_OK;
out:
    free(buf);
    close(fd);
    return rc;
}

static int lock(const mw_keystore_t *ks, char *err, size_t err_len)
{
    int fd = open(ks->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        seterr(err, err_len, "%s: cannot open the lock file: %s", ks->lock_path, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            seterr(err, err_len, "%s: cannot lock: %s", ks->lock_path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

/* Re-reads the file (with the lock held) so a change starts from the
 * current state written by any process. */
static int reload(mw_keystore_t *ks, char *err, size_t err_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file(ks->path, &buf, &len, err, err_len);
    if (rc == MW_OK)
        rc = decode(ks, buf, len, NULL, 0, err, err_len);
    free(buf);
    return rc;
}

/* ---- handles ---------------------------------------------------------------- */

static mw_keystore_t *ks_new(const char *path)
{
    mw_keystore_t *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        return NULL;
    size_t pl = strlen(path);
    ks->path = strdup(path);
    ks->lock_path = malloc(pl + 6);
    if (ks->path == NULL || ks->lock_path == NULL) {
        mw_keystore_free(ks);
        return NULL;
    }
    memcpy(ks->lock_path, path, pl);
    memcpy(ks->lock_path + pl, ".lock", 6);
    return ks;
}

void mw_keystore_free(mw_keystore_t *ks)
{
    if (ks == NULL)
        return;
    free(ks->path);
    free(ks->lock_path);
    explicit_bzero(ks, sizeof *ks); /* master key, every generation, sealer */
    free(ks);
}

static int opts_ok(const mw_keystore_opts_t *o, const char *path, char *err, size_t err_len)
{
    if (o == NULL || (o->key_file == NULL) == (o->passphrase == NULL)) {
        seterr(err, err_len, "%s: give either a master key file or a passphrase", path);
        return MW_EINVAL;
    }
    if (o->passphrase) {
        size_t n = strnlen(o->passphrase, MAX_PASSPHRASE + 1);
        if (n == 0 || n > MAX_PASSPHRASE) {
            seterr(err, err_len, "%s: the passphrase must be 1 to %d bytes", path, MAX_PASSPHRASE);
            return MW_EINVAL;
        }
    }
    return MW_OK;
}

static int new_gen(mw_keystore_t *ks, int64_t now)
{
    struct gen g;
    memset(&g, 0, sizeof g);
    int rc = mw_mldsa_keygen(MW_MLDSA87, g.pk, g.sk);
    if (rc == MW_OK)
        rc = mw_random_bytes(g.data_key, sizeof g.data_key);
    if (rc != MW_OK) {
        wipe_gen(&g);
        return rc;
    }
    g.id = ks->next_gen_id++;
    g.created = now;
    if (ks->ngen == MW_KEYSTORE_GENERATIONS) /* the oldest is destroyed */
        wipe_gen(&ks->gens[MW_KEYSTORE_GENERATIONS - 1]);
    else
        ks->ngen++;
    memmove(&ks->gens[1], &ks->gens[0], (ks->ngen - 1) * sizeof ks->gens[0]);
    ks->gens[0] = g;
    wipe_gen(&g);
    /* The slot left behind by memmove past ngen holds nothing secret: when
     * ngen was full, its last element was wiped before the move. */
    return MW_OK;
}

int mw_keystore_create(mw_keystore_t **out, const char *path, const mw_keystore_opts_t *opts,
                       int64_t now, char *err, size_t err_len)
{
    mw_keystore_t *ks = NULL;
    int lfd = -1, rc;
    if (out == NULL || path == NULL || path[0] == '\0') {
        seterr(err, err_len, "keystore: no path given");
        return MW_EINVAL;
    }
    *out = NULL;
    rc = opts_ok(opts, path, err, err_len);
    if (rc != MW_OK)
        return rc;
    uint8_t log2n = opts->scrypt_log2n ? opts->scrypt_log2n : MW_KEYSTORE_SCRYPT_LOG2N;
    uint8_t r = opts->scrypt_r ? opts->scrypt_r : MW_KEYSTORE_SCRYPT_R;
    uint8_t p = opts->scrypt_p ? opts->scrypt_p : MW_KEYSTORE_SCRYPT_P;
    if (opts->passphrase && !scrypt_params_ok(log2n, r, p)) {
        seterr(err, err_len, "%s: scrypt cost N=2^%u r=%u p=%u is outside the accepted range", path,
               log2n, r, p);
        return MW_EINVAL;
    }
    if (opts->rotate_interval_s > INT64_MAX) {
        seterr(err, err_len, "%s: rotation interval too large", path);
        return MW_EINVAL;
    }
    ks = ks_new(path);
    if (ks == NULL) {
        seterr(err, err_len, "%s: out of memory", path);
        return MW_ENOMEM;
    }
    lfd = lock(ks, err, err_len);
    if (lfd < 0) {
        rc = MW_EIO;
        goto out;
    }
    struct stat st;
    if (lstat(path, &st) == 0 || errno != ENOENT) {
        rc = MW_EEXIST;
        seterr(err, err_len, "%s: the keystore already exists", path);
        goto out;
    }
    if (opts->key_file) {
        rc = mw_keystore_read_master_key(ks->master, opts->key_file, err, err_len);
        if (rc != MW_OK)
            goto out;
        ks->kdf = KDF_KEYFILE;
    } else {
        ks->kdf = KDF_SCRYPT;
        ks->log2n = log2n;
        ks->r = r;
        ks->p = p;
        rc = mw_random_bytes(ks->scrypt_salt, SALT_BYTES);
        if (rc == MW_OK)
            rc = derive_scrypt(ks->master, opts->passphrase, ks->scrypt_salt, log2n, r, p);
        if (rc != MW_OK) {
            seterr(err, err_len, "%s: scrypt failed", path);
            goto out;
        }
    }
    ks->created = now;
    ks->interval = opts->rotate_interval_s ? opts->rotate_interval_s : MW_KEYSTORE_DEFAULT_ROTATE_S;
    ks->next_gen_id = 1;
    rc = new_gen(ks, now);
    if (rc != MW_OK) {
        seterr(err, err_len, "%s: key generation failed (%s)", path, mw_strerror(rc));
        goto out;
    }
    rc = save(ks, err, err_len);
out:
    unlock(lfd);
    if (rc != MW_OK)
        mw_keystore_free(ks);
    else
        *out = ks;
    return rc;
}

int mw_keystore_load(mw_keystore_t **out, const char *path, const mw_keystore_opts_t *opts,
                     char *err, size_t err_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    mw_keystore_t *ks = NULL;
    int rc;
    if (out == NULL || path == NULL || path[0] == '\0') {
        seterr(err, err_len, "keystore: no path given");
        return MW_EINVAL;
    }
    *out = NULL;
    rc = opts_ok(opts, path, err, err_len);
    if (rc != MW_OK)
        return rc;
    ks = ks_new(path);
    if (ks == NULL) {
        seterr(err, err_len, "%s: out of memory", path);
        return MW_ENOMEM;
    }
    if (opts->key_file) {
        rc = mw_keystore_read_master_key(ks->master, opts->key_file, err, err_len);
        if (rc != MW_OK)
            goto out;
    }
    rc = read_file(path, &buf, &len, err, err_len);
    if (rc != MW_OK)
        goto out;
    rc = decode(ks, buf, len, opts->passphrase, 1, err, err_len);
out:
    free(buf);
    if (rc != MW_OK)
        mw_keystore_free(ks);
    else
        *out = ks;
    return rc;
}

/* ---- rotation ---------------------------------------------------------------- */

static int rotate_locked(mw_keystore_t *ks, int64_t now, int only_if_due, int *rotated, char *err,
                         size_t err_len)
{
    int rc = reload(ks, err, err_len);
    if (rc != MW_OK)
        return rc;
    /* Due when now >= created + interval, computed without signed overflow
     * (now is any int64_t; a time before the newest generation is not due). */
    if (only_if_due &&
        (now < ks->gens[0].created || (uint64_t)now - (uint64_t)ks->gens[0].created < ks->interval))
        return MW_OK;
    if (ks->next_gen_id == UINT64_MAX) {
        seterr(err, err_len, "%s: generation ids exhausted", ks->path);
        return MW_ELIMIT;
    }
    rc = new_gen(ks, now);
    if (rc != MW_OK) {
        seterr(err, err_len, "%s: key generation failed (%s)", ks->path, mw_strerror(rc));
        return rc;
    }
    rc = save(ks, err, err_len);
    if (rc != MW_OK) {
        /* The file is unchanged: go back to it (the new keys are dropped). */
        if (reload(ks, NULL, 0) != MW_OK) {
            for (size_t i = 0; i < MW_KEYSTORE_GENERATIONS; i++)
                wipe_gen(&ks->gens[i]);
            ks->ngen = 0;
        }
        return rc;
    }
    if (rotated)
        *rotated = 1;
    return MW_OK;
}

static int rotate_common(mw_keystore_t *ks, int64_t now, int only_if_due, int *rotated, char *err,
                         size_t err_len)
{
    if (rotated)
        *rotated = 0;
    if (ks == NULL) {
        seterr(err, err_len, "keystore: no handle");
        return MW_EINVAL;
    }
    int lfd = lock(ks, err, err_len);
    if (lfd < 0)
        return MW_EIO;
    int rc = rotate_locked(ks, now, only_if_due, rotated, err, err_len);
    unlock(lfd);
    return rc;
}

int mw_keystore_rotate(mw_keystore_t *ks, int64_t now, char *err, size_t err_len)
{
    return rotate_common(ks, now, 0, NULL, err, err_len);
}

int mw_keystore_rotate_if_due(mw_keystore_t *ks, int64_t now, int *rotated, char *err,
                              size_t err_len)
{
    return rotate_common(ks, now, 1, rotated, err, err_len);
}

uint64_t mw_keystore_rotate_interval(const mw_keystore_t *ks)
{
    return ks ? ks->interval : 0;
}

/* ---- queries ------------------------------------------------------------------ */

size_t mw_keystore_generations(const mw_keystore_t *ks)
{
    return ks ? ks->ngen : 0;
}

int mw_keystore_gen_info(const mw_keystore_t *ks, size_t i, mw_keystore_gen_info_t *out)
{
    if (ks == NULL || out == NULL || i >= ks->ngen)
        return MW_EINVAL;
    out->id = ks->gens[i].id;
    out->created = ks->gens[i].created;
    mw_sha3_256(out->identity_id, ks->gens[i].pk, MW_MLDSA87_PK_BYTES);
    return MW_OK;
}

int mw_keystore_identity_pk(const mw_keystore_t *ks, size_t i, uint8_t *pk, size_t pk_len)
{
    if (ks == NULL || pk == NULL || i >= ks->ngen || pk_len != MW_MLDSA87_PK_BYTES)
        return MW_EINVAL;
    memcpy(pk, ks->gens[i].pk, MW_MLDSA87_PK_BYTES);
    return MW_OK;
}

/* ---- sealing ------------------------------------------------------------------- */

/* Reserves a sealer id under the newest generation on disk, persisted
 * before any nonce of it is used. */
static int reserve_sealer(mw_keystore_t *ks)
{
    int lfd = lock(ks, NULL, 0);
    if (lfd < 0)
        return MW_EIO;
    int rc = reload(ks, NULL, 0);
    if (rc != MW_OK)
        goto out;
    struct gen *g = &ks->gens[0];
    if (g->next_sealer == UINT32_MAX) {
        rc = MW_ELIMIT;
        goto out;
    }
    uint32_t id = g->next_sealer++;
    rc = save(ks, NULL, 0);
    if (rc != MW_OK) {
        g->next_sealer--; /* not persisted: not used either */
        goto out;
    }
    ks->have_sealer = 1;
    ks->seal_gen = g->id;
    ks->sealer_id = id;
    ks->counter = 0;
    ks->sealer_pid = getpid();
out:
    unlock(lfd);
    return rc;
}

int mw_keystore_seal(mw_keystore_t *ks, uint8_t *out, size_t out_cap, size_t *out_len,
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len)
{
    if (out_len)
        *out_len = 0;
    if (ks == NULL || ks->ngen == 0 || out == NULL || out_len == NULL)
        return MW_EINVAL;
    if (pt_len > MW_AEAD_MAX_BYTES)
        return MW_ETOOBIG;
    if (out_cap < pt_len + MW_SEAL_OVERHEAD)
        return MW_EINVAL;
    /* A new sealer id for a new generation, when 2^64 - 1 nonces are used,
     * or in a child that inherited the handle through fork(): parent and
     * child would otherwise draw the same (sealer id, counter) nonces. */
    if (!ks->have_sealer || ks->seal_gen != ks->gens[0].id || ks->counter == UINT64_MAX ||
        ks->sealer_pid != getpid()) {
        int rc = reserve_sealer(ks);
        if (rc != MW_OK)
            return rc;
    }
    /* Nonce = sealer id (32 bits) || counter (64 bits), big-endian: SP
     * 800-38D section 8.2.1, fixed field + invocation field. The counter
     * moves on before the seal, so a failed seal never frees its nonce. */
    uint8_t nonce[MW_AES256GCM_NONCE_BYTES];
    put32(nonce, ks->sealer_id);
    put64(nonce + 4, ks->counter++);
    return mw_seal(out, out_cap, out_len, ks->gens[0].data_key, ks->gens[0].id, nonce, aad, aad_len,
                   pt, pt_len);
}

int mw_keystore_unseal(const mw_keystore_t *ks, uint8_t *pt, size_t pt_cap, size_t *pt_len,
                       const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len)
{
    uint64_t gid = 0;
    if (pt_len)
        *pt_len = 0;
    if (ks == NULL || pt_len == NULL)
        return MW_EINVAL;
    int rc = mw_seal_generation(in, in_len, &gid);
    if (rc != MW_OK)
        return rc;
    for (size_t i = 0; i < ks->ngen; i++)
        if (ks->gens[i].id == gid)
            return mw_seal_open(pt, pt_cap, pt_len, ks->gens[i].data_key, gid, aad, aad_len, in,
                                in_len);
    return MW_ENOTFOUND;
}

int mw_keystore_sign(const mw_keystore_t *ks, uint8_t *sig, size_t sig_len, const uint8_t *msg,
                     size_t msg_len, const uint8_t *ctx, size_t ctx_len)
{
    if (ks == NULL || ks->ngen == 0 || sig == NULL || sig_len != MW_MLDSA87_SIG_BYTES)
        return MW_EINVAL;
    return mw_mldsa_sign(MW_MLDSA87, sig, ks->gens[0].sk, MW_MLDSA87_SK_BYTES, msg, msg_len, ctx,
                         ctx_len, NULL);
}
