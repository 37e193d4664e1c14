/* libFuzzer harness for the keystore readers (src/crypto/keystore.c):
 * mw_keystore_load on a keystore file and mw_keystore_read_master_key on a
 * master key file, both read from disk in a private directory (mkdtemp once
 * per process, removed at exit but left after a crash; every file the
 * library writes, PATH.lock and PATH.tmp included, stays inside it).
 *
 * Byte 0: mode = (byte & 0x0f) % 5, flags = byte & 0xf0.
 *   0 RAW     the rest is a keystore file, loaded with the fixed master key
 *             file (FIXED_KEY below).
 *   1 MASTER  the rest is a master key file (mode 0600; flag 0x10: 0640,
 *             which must be refused). A key read is compared with our own
 *             decoding of the hex, then used to load the valid keystore.
 *   2 EDIT    edits applied to a valid keystore file image as written by
 *             mw_keystore_create (flag 0x10: the 3-generation one, else the
 *             1-generation one). No re-sealing: a load may succeed only if
 *             the edited image equals the original.
 *   3 RESEAL  the same edits applied to header || plaintext body of a valid
 *             keystore, which is then sealed again under the fixed master
 *             key as the documented format says (HKDF file key from the
 *             write salt, AES-256-GCM with the header as AAD); body_len is set
 *             to the new body length unless flag 0x20 keeps the edited one.
 *   4 PASS    the rest is a keystore file, loaded with FIXED_PASS (scrypt).
 * Flag 0x40, on a successful load: also rotate_if_due (a keygen and a write).
 *
 * An edit list (modes 2 and 3) is up to MAX_EDITS of
 *   op (u8: 0 xor, 1 overwrite, 2 insert, 3 truncate), offset (u32 BE, taken
 *   modulo the current length + 1), n (u8), n bytes (truncate: none).
 *
 * What can be reached: the header checks (size cap, magic, version, kdf,
 * scrypt cost, body length) from every mode; the tag check from every mode;
 * past the tag, the body parser (generation count, exact length, ids,
 * created and interval ranges, next sealer) only through RESEAL, because the
 * file is authenticated: a harness that knows the master key can write any
 * body, and so can anyone holding it. RAW and EDIT cannot get past the tag
 * (a forgery is a bug the EDIT oracle catches). PASS reaches scrypt only for
 * a cost the harness allows (log2 N <= 12, r <= 2, p <= 2; a file at the
 * accepted cap costs seconds of scrypt per load, a documented limit) and past
 * the tag only with the seed made under FIXED_PASS. Not reached: I/O errors,
 * a lock held by another process, allocation failures.
 *
 * On a load: any input loads or is refused with a documented negative code
 * and a message; never a crash, leak, sanitizer report or hang. When it
 * loads: the generations are read back (ids strictly decreasing and, in
 * RESEAL, equal to those in the body we wrote), a seal / unseal round trip
 * (the sealer reservation writes the file in the temp dir), a modified
 * message must fail, and signing (only with an identity key from
 * mw_keystore_create: signing with a hostile secret key is not a parser
 * concern and may take many rejection rounds).
 *
 * Seeds: MW_FUZZ_KEYSTORE_SEEDS=DIR ./fuzz_keystore writes the seeds into DIR
 * and exits (fuzz/seeds/keystore/ was made that way). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mwrasp/pqc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

enum { M_RAW, M_MASTER, M_EDIT, M_RESEAL, M_PASS, M_COUNT };
#define F_ALT 0x10 /* MASTER: mode 0640; EDIT / RESEAL: 3 generations */
#define F_KEEPLEN 0x20 /* RESEAL: keep the edited body length */
#define F_ROTATE 0x40

#define HDR 57
#define TAG 16
#define BODY_FIXED 28
#define GEN_BYTES (8 + 8 + 4 + 32 + MW_MLDSA87_PK_BYTES + MW_MLDSA87_SK_BYTES)
#define GEN0_KEYS (HDR + BODY_FIXED + 52) /* its pk and sk, in header || body */
#define KEYS_BYTES (MW_MLDSA87_PK_BYTES + MW_MLDSA87_SK_BYTES)
#define MAX_EDITS 16
#define MAX_IMAGE (MW_KEYSTORE_MAX_FILE_BYTES + MAX_EDITS * 255 + 1)
#define FILE_KEY_INFO "MWRASP keystore v1 file key"
#define FIXED_PASS "fuzz-passphrase"

static const uint8_t FIXED_KEY[32] = {
    0x6d, 0x77, 0x72, 0x61, 0x73, 0x70, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x73,
    0x74, 0x6f, 0x72, 0x65, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};

/* A valid keystore: its file image and its header || plaintext body. */
struct base {
    uint8_t *file, *plain;
    size_t file_len, plain_len;
};

static char dir[256], ks_path[300], key_path[300], mk_path[300];
static struct base base1, base3, basep;

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_keystore: %s: %s\n", what, detail);
    abort();
}

static void write_file(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, mode) != 0)
        die(path, strerror(errno));
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die(path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    close(fd);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *buf = malloc(MW_KEYSTORE_MAX_FILE_BYTES);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 || buf == NULL ? -1 : read(fd, buf, MW_KEYSTORE_MAX_FILE_BYTES);
    if (n <= 0)
        die(path, "cannot read");
    close(fd);
    *len = (size_t)n;
    return buf;
}

static void cleanup(void)
{
    static const char *const names[] = {"ks",      "ks.lock", "ks.tmp",  "master.key",
                                        "mk",      "b1",      "b1.lock", "b3",
                                        "b3.lock", "bp",      "bp.lock"};
    char p[320];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* The file key of a header under master (docs/internals/crypto.md). */
static void file_key(uint8_t fk[32], const uint8_t master[32], const uint8_t *hdr)
{
    if (mw_hkdf(MW_HKDF_SHA256, fk, 32, hdr + 25, 16, master, 32, (const uint8_t *)FILE_KEY_INFO,
                sizeof FILE_KEY_INFO - 1) != MW_OK)
        die("hkdf", "failed");
}

/* Creates a keystore at dir/name with ngen generations, keeps its image and
 * (for a key file keystore) its decrypted body. */
static void make_base(struct base *b, const char *name, size_t ngen, int pass)
{
    char path[320], err[MW_KEYSTORE_ERR_BYTES];
    mw_keystore_t *ks = NULL;
    mw_keystore_opts_t o = {0};
    if (pass) {
        o.passphrase = FIXED_PASS;
        o.scrypt_log2n = 10;
        o.scrypt_r = 1;
        o.scrypt_p = 1;
    } else {
        o.key_file = key_path;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mw_keystore_create(&ks, path, &o, 1700000000, err, sizeof err) != MW_OK)
        die("create", err);
    for (size_t i = 1; i < ngen; i++)
        if (mw_keystore_rotate(ks, 1700000000 + (int64_t)i * 86400, err, sizeof err) != MW_OK)
            die("rotate", err);
    mw_keystore_free(ks);
    b->file = slurp(path, &b->file_len);
    if (pass)
        return;
    uint8_t fk[32];
    size_t blen = b->file_len - HDR - TAG;
    b->plain_len = b->file_len - TAG;
    b->plain = malloc(b->plain_len);
    if (b->plain == NULL || get32(b->file + 53) != blen)
        die("base", "unexpected layout");
    memcpy(b->plain, b->file, HDR);
    file_key(fk, FIXED_KEY, b->file);
    if (mw_aes256gcm_decrypt(b->plain + HDR, fk, b->file + 41, b->file, HDR, b->file + HDR, blen,
                             b->file + HDR + blen) != MW_OK)
        die("base", "does not decrypt as documented");
    if (blen != BODY_FIXED + ngen * GEN_BYTES || get32(b->plain + HDR + 24) != ngen)
        die("base", "unexpected body");
}

static void write_seeds(const char *out);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/mw-fuzz-ks-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", strerror(errno));
    atexit(cleanup);
    snprintf(ks_path, sizeof ks_path, "%s/ks", dir);
    snprintf(key_path, sizeof key_path, "%s/master.key", dir);
    snprintf(mk_path, sizeof mk_path, "%s/mk", dir);
    char hex[65];
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", FIXED_KEY[i]);
    hex[64] = '\n';
    write_file(key_path, (const uint8_t *)hex, sizeof hex, 0600);
    make_base(&base1, "b1", 1, 0);
    make_base(&base3, "b3", 3, 0);
    make_base(&basep, "bp", 1, 1);
    const char *seeds = getenv("MW_FUZZ_KEYSTORE_SEEDS");
    if (seeds != NULL && seeds[0] != '\0') {
        write_seeds(seeds);
        exit(0);
    }
    return 0;
}

/* Applies the edit list in (n bytes) to img (len bytes, room for
 * MAX_IMAGE). Returns the new length; *touched_keys is set when an edit may
 * have changed the KEYS_BYTES at from (the newest identity key pair; an
 * insert or truncate before them shifts them). */
static size_t apply_edits(uint8_t *img, size_t len, const uint8_t *in, size_t n, size_t from,
                          int *touched_keys)
{
    for (int e = 0; e < MAX_EDITS && n >= 5; e++) {
        unsigned op = in[0] & 3u;
        size_t off = get32(in + 1) % (len + 1);
        in += 5;
        n -= 5;
        if (op == 3) {
            len = off;
            *touched_keys |= off < from + KEYS_BYTES;
            continue;
        }
        if (n < 1)
            break;
        size_t k = in[0];
        in++;
        n--;
        if (k > n)
            k = n;
        if (op == 2) {
            if (len + k > MAX_IMAGE)
                k = MAX_IMAGE - len;
            memmove(img + off + k, img + off, len - off);
            memcpy(img + off, in, k);
            len += k;
            *touched_keys |= k > 0 && off < from + KEYS_BYTES;
        } else {
            if (k > len - off)
                k = len - off;
            for (size_t i = 0; i < k; i++)
                img[off + i] = op == 0 ? (uint8_t)(img[off + i] ^ in[i]) : in[i];
            *touched_keys |= k > 0 && off + k > from && off < from + KEYS_BYTES;
        }
        in += k;
        n -= k;
    }
    return len;
}

/* Seals header || body (len bytes) in place into a file image: out needs
 * len + TAG bytes. A text shorter than the header is written as it is. */
static size_t reseal(uint8_t *out, const uint8_t *plain, size_t len, int keep_len)
{
    uint8_t fk[32];
    memcpy(out, plain, len);
    if (len < HDR)
        return len;
    size_t blen = len - HDR;
    if (!keep_len)
        put32(out + 53, (uint32_t)blen);
    file_key(fk, FIXED_KEY, out);
    if (mw_aes256gcm_encrypt(out + HDR, out + len, fk, out + 41, out, HDR, plain + HDR, blen) !=
        MW_OK)
        die("reseal", "encrypt failed");
    return len + TAG;
}

static void check_refusal(int rc, const char *err, const char *what)
{
    if (rc != MW_EPARSE && rc != MW_EVERIFY && rc != MW_ETOOBIG && rc != MW_ECONFIG &&
        rc != MW_ENOMEM)
        die(what, "undocumented error code");
    if (rc != MW_ENOMEM && err[0] == '\0')
        die(what, "refused without a message");
}

/* Reads back a loaded keystore. body: the plaintext body we sealed (RESEAL),
 * else NULL. may_sign: the newest key pair is one mw_keystore_create made. */
static void exercise(mw_keystore_t *ks, const uint8_t *body, int may_sign, int rotate)
{
    size_t n = mw_keystore_generations(ks);
    mw_keystore_gen_info_t gi, prev = {0};
    uint8_t pk[MW_MLDSA87_PK_BYTES];
    if (n < 1 || n > MW_KEYSTORE_GENERATIONS || mw_keystore_rotate_interval(ks) == 0)
        die("loaded", "generation count or interval out of range");
    if (body != NULL && get32(body + 24) != n)
        die("loaded", "generation count differs from the body");
    for (size_t i = 0; i < n; i++) {
        if (mw_keystore_gen_info(ks, i, &gi) != MW_OK ||
            mw_keystore_identity_pk(ks, i, pk, sizeof pk))
            die("loaded", "generation not readable");
        if (gi.id == 0 || gi.created < 0 || (i > 0 && gi.id >= prev.id))
            die("loaded", "generation ids or times out of order");
        if (body != NULL && gi.id != get64(body + BODY_FIXED + i * GEN_BYTES))
            die("loaded", "generation id differs from the body");
        prev = gi;
    }
    if (mw_keystore_gen_info(ks, n, &gi) != MW_EINVAL ||
        mw_keystore_identity_pk(ks, n, pk, sizeof pk) != MW_EINVAL)
        die("loaded", "generation past the end readable");

    /* Seal / unseal: the sealer reservation re-reads and rewrites the file. */
    static const uint8_t aad[] = "fuzz-aad", msg[] = "keystore fuzz round trip";
    uint8_t sealed[sizeof msg + MW_SEAL_OVERHEAD], back[sizeof msg];
    size_t sl = 0, bl = 0;
    int rc = mw_keystore_seal(ks, sealed, sizeof sealed, &sl, aad, sizeof aad, msg, sizeof msg);
    if (rc == MW_OK) {
        if (mw_keystore_unseal(ks, back, sizeof back, &bl, aad, sizeof aad, sealed, sl) != MW_OK ||
            bl != sizeof msg || memcmp(back, msg, bl) != 0)
            die("seal", "round trip failed");
        sealed[sl - 1] ^= 1;
        if (mw_keystore_unseal(ks, back, sizeof back, &bl, aad, sizeof aad, sealed, sl) !=
            MW_EVERIFY)
            die("seal", "a modified message opened");
    } else if (rc != MW_ELIMIT && rc != MW_EPARSE && rc != MW_EVERIFY) {
        die("seal", mw_strerror(rc));
    }

    if (may_sign) {
        uint8_t sig[MW_MLDSA87_SIG_BYTES];
        if (mw_keystore_sign(ks, sig, sizeof sig, msg, sizeof msg, NULL, 0) != MW_OK ||
            mw_keystore_identity_pk(ks, 0, pk, sizeof pk) != MW_OK ||
            mw_mldsa_verify(MW_MLDSA87, pk, sizeof pk, msg, sizeof msg, NULL, 0, sig, sizeof sig) !=
                MW_OK)
            die("sign", "signature does not verify");
    }

    if (rotate) {
        char err[MW_KEYSTORE_ERR_BYTES] = "";
        int rotated = 0;
        mw_keystore_gen_info_t before;
        if (mw_keystore_gen_info(ks, 0, &before) != MW_OK)
            die("rotate", "no newest generation");
        rc = mw_keystore_rotate_if_due(ks, INT64_MAX, &rotated, err, sizeof err);
        if (rc == MW_OK && rotated) {
            size_t m = mw_keystore_generations(ks);
            if (m != (n < MW_KEYSTORE_GENERATIONS ? n + 1 : n) ||
                mw_keystore_gen_info(ks, 0, &gi) != MW_OK || gi.id <= before.id)
                die("rotate", "generations after a rotation");
        } else if (rc != MW_OK && rc != MW_ELIMIT && rc != MW_EPARSE && rc != MW_EVERIFY) {
            die("rotate", err);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t img[MAX_IMAGE + TAG], plain[MAX_IMAGE];
    char err[MW_KEYSTORE_ERR_BYTES];
    mw_keystore_t *ks = NULL;
    mw_keystore_opts_t o = {0};
    const uint8_t *body = NULL;
    int may_sign = 0, rc;
    if (size < 1)
        return 0;
    unsigned mode = (data[0] & 0x0fu) % M_COUNT, flags = data[0] & 0xf0u;
    data++;
    size--;
    err[0] = '\0';

    if (mode == M_MASTER) {
        uint8_t key[32], mine[32];
        write_file(mk_path, data, size, (flags & F_ALT) ? 0640 : 0600);
        rc = mw_keystore_read_master_key(key, mk_path, err, sizeof err);
        /* Our own reading of the format: 64 hex digits, then only '\n', '\r', ' '. */
        size_t len = size;
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
            len--;
        int ok = len == 64 && size <= 256 && !(flags & F_ALT);
        for (size_t i = 0; ok && i < 32; i++) {
            char h[3] = {(char)data[2 * i], (char)data[2 * i + 1], 0};
            char *end;
            if (!strchr("0123456789abcdefABCDEF", h[0]) ||
                !strchr("0123456789abcdefABCDEF", h[1]) || h[0] == 0 || h[1] == 0)
                ok = 0;
            else
                mine[i] = (uint8_t)strtoul(h, &end, 16);
        }
        if (ok != (rc == MW_OK))
            die("master key", ok ? "a valid key file refused" : "an invalid key file accepted");
        if (rc != MW_OK) {
            if ((rc != MW_EPARSE && rc != MW_ECONFIG) || err[0] == '\0')
                die("master key", "refusal without a documented code or a message");
            return 0;
        }
        if (memcmp(key, mine, 32) != 0)
            die("master key", "decoded key differs from the hex");
        write_file(ks_path, base1.file, base1.file_len, 0600);
        o.key_file = mk_path;
        rc = mw_keystore_load(&ks, ks_path, &o, err, sizeof err);
        if ((rc == MW_OK) != (memcmp(key, FIXED_KEY, 32) == 0))
            die("master key", "load result does not match the key");
        if (rc != MW_OK && rc != MW_EVERIFY)
            die("master key", err);
        mw_keystore_free(ks);
        return 0;
    }

    if (mode == M_RAW || mode == M_PASS) {
        if (mode == M_PASS && size >= 9 && data[5] == 2 &&
            (data[6] > 12 || data[7] > 2 || data[8] > 2))
            return 0; /* an scrypt cost the harness does not pay (see above) */
        write_file(ks_path, data, size, 0600);
        if (mode == M_PASS)
            o.passphrase = FIXED_PASS;
        else
            o.key_file = key_path;
        may_sign = 1; /* a file that loads was written by mw_keystore_create */
    } else {
        const struct base *b = (flags & F_ALT) ? &base3 : &base1;
        int touched = 0;
        o.key_file = key_path;
        if (mode == M_EDIT) {
            memcpy(img, b->file, b->file_len);
            size_t len = apply_edits(img, b->file_len, data, size, GEN0_KEYS, &touched);
            int same = len == b->file_len && memcmp(img, b->file, len) == 0;
            write_file(ks_path, img, len, 0600);
            rc = mw_keystore_load(&ks, ks_path, &o, err, sizeof err);
            if (rc == MW_OK && !same)
                die("edit", "a modified keystore loaded without re-sealing");
            may_sign = 1;
            goto loaded;
        }
        memcpy(plain, b->plain, b->plain_len);
        size_t len = apply_edits(plain, b->plain_len, data, size, GEN0_KEYS, &touched);
        len = reseal(img, plain, len, (flags & F_KEEPLEN) != 0);
        write_file(ks_path, img, len, 0600);
        body = len >= HDR + BODY_FIXED ? plain + HDR : NULL;
        may_sign = !touched;
    }
    rc = mw_keystore_load(&ks, ks_path, &o, err, sizeof err);
loaded:
    if (rc != MW_OK) {
        check_refusal(rc, err, "load");
        return 0;
    }
    exercise(ks, body, may_sign, (flags & F_ROTATE) != 0);
    mw_keystore_free(ks);
    return 0;
}

/* ---- seeds ----------------------------------------------------------------- */

static void seed(const char *out, const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
    char path[512];
    uint8_t *buf = malloc(n + 1);
    if (buf == NULL)
        die("seed", "out of memory");
    buf[0] = mode;
    memcpy(buf + 1, p, n);
    snprintf(path, sizeof path, "%s/%s", out, name);
    write_file(path, buf, n + 1, 0644);
    free(buf);
}

/* One edit: op, offset, bytes. */
static size_t edit(uint8_t *p, unsigned op, uint32_t off, const uint8_t *bytes, size_t n)
{
    p[0] = (uint8_t)op;
    put32(p + 1, off);
    if (op == 3)
        return 5;
    p[5] = (uint8_t)n;
    memcpy(p + 6, bytes, n);
    return 6 + n;
}

static void write_seeds(const char *out)
{
    static const uint8_t ff8[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t zero8[8] = {0}, one[1] = {1}, two[1] = {2}, four[4] = {0, 0, 0, 4};
    static const uint8_t big[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
    uint8_t e[64];
    char hex[66];
    const size_t g0 = HDR + BODY_FIXED; /* first generation in header || body */

    /* RAW: the valid 1-generation keystore and truncations of it. */
    seed(out, "raw_valid", M_RAW, base1.file, base1.file_len);
    seed(out, "raw_empty", M_RAW, base1.file, 0);
    seed(out, "raw_trunc_56", M_RAW, base1.file, 56);
    seed(out, "raw_trunc_73", M_RAW, base1.file, HDR + TAG);
    seed(out, "raw_trunc_100", M_RAW, base1.file, 100);
    seed(out, "raw_trunc_last", M_RAW, base1.file, base1.file_len - 1);
    /* PASS: a passphrase keystore (scrypt N = 2^10, r = 1, p = 1). */
    seed(out, "pass_valid", M_PASS, basep.file, basep.file_len);
    seed(out, "pass_header", M_PASS, basep.file, HDR);
    /* MASTER: the fixed key, upper case, CRLF, one digit short, a non-hex. */
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", FIXED_KEY[i]);
    hex[64] = '\n';
    seed(out, "master_valid", M_MASTER, (const uint8_t *)hex, 65);
    seed(out, "master_mode0640", M_MASTER | F_ALT, (const uint8_t *)hex, 65);
    hex[64] = '\r';
    hex[65] = '\n';
    seed(out, "master_crlf", M_MASTER, (const uint8_t *)hex, 66);
    seed(out, "master_short", M_MASTER, (const uint8_t *)hex + 1, 64);
    for (size_t i = 0; i < 64; i++)
        hex[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
    seed(out, "master_upper", M_MASTER, (const uint8_t *)hex, 65);
    hex[10] = 'g';
    seed(out, "master_nonhex", M_MASTER, (const uint8_t *)hex, 65);
    /* Over 256 bytes: the digits, spaces, then bytes past 256 (refused). */
    char longer[300];
    memset(longer, 'a', 64);
    memset(longer + 64, ' ', sizeof longer - 64);
    memcpy(longer + sizeof longer - 4, "tail", 4);
    seed(out, "master_over_256", M_MASTER, (const uint8_t *)longer, sizeof longer);
    /* EDIT: no change (loads), body length, version, kdf, a tag byte. */
    seed(out, "edit_none", M_EDIT, e, edit(e, 0, 0, zero8, 1));
    seed(out, "edit_none_3gen", M_EDIT | F_ALT | F_ROTATE, e, edit(e, 0, 0, zero8, 1));
    seed(out, "edit_body_len", M_EDIT, e, edit(e, 1, 53, four, 4));
    seed(out, "edit_version", M_EDIT, e, edit(e, 1, 4, two, 1));
    seed(out, "edit_kdf", M_EDIT, e, edit(e, 1, 5, two, 1));
    seed(out, "edit_tag", M_EDIT, e, edit(e, 0, (uint32_t)base1.file_len - 1, one, 1));
    seed(out, "edit_trunc", M_EDIT, e, edit(e, 3, 1000, NULL, 0));
    /* RESEAL: authentic files with hostile bodies. */
    seed(out, "reseal_none", M_RESEAL | F_ROTATE, e, edit(e, 0, 0, zero8, 1));
    seed(out, "reseal_ngen0", M_RESEAL, e, edit(e, 1, HDR + 24, zero8, 4));
    seed(out, "reseal_ngen4", M_RESEAL | F_ALT, e, edit(e, 1, HDR + 24, four, 4));
    seed(out, "reseal_ngen2_of_3", M_RESEAL | F_ALT, e, edit(e, 1, HDR + 27, two, 1));
    seed(out, "reseal_ngen_big", M_RESEAL, e, edit(e, 1, HDR + 24, ff8, 4));
    seed(out, "reseal_interval0", M_RESEAL, e, edit(e, 1, HDR + 8, zero8, 8));
    seed(out, "reseal_created_neg", M_RESEAL, e, edit(e, 1, HDR, big, 8));
    seed(out, "reseal_next_id_max", M_RESEAL | F_ROTATE, e, edit(e, 1, HDR + 16, ff8, 8));
    seed(out, "reseal_id0", M_RESEAL, e, edit(e, 1, (uint32_t)g0, zero8, 8));
    seed(out, "reseal_gen_created_neg", M_RESEAL, e, edit(e, 1, (uint32_t)g0 + 8, big, 8));
    seed(out, "reseal_sealer_max", M_RESEAL, e, edit(e, 1, (uint32_t)g0 + 16, ff8, 4));
    seed(out, "reseal_ids_equal", M_RESEAL | F_ALT, e,
         edit(e, 1, (uint32_t)(g0 + GEN_BYTES), base3.plain + g0, 8));
    seed(out, "reseal_body_short", M_RESEAL, e, edit(e, 3, HDR + 20, NULL, 0));
    seed(out, "reseal_body_long", M_RESEAL, e, edit(e, 2, (uint32_t)base1.plain_len, ff8, 8));
    seed(out, "reseal_keeplen", M_RESEAL | F_KEEPLEN, e, edit(e, 1, 53, zero8, 4));
    seed(out, "reseal_kdf_scrypt", M_RESEAL, e, edit(e, 1, 5, two, 1));
}
