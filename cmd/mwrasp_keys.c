/* mwrasp keygen / mwrasp keys: the keystore from the command line
 * (mw_keystore_*, include/mwrasp/pqc.h; docs/internals/crypto.md "Keystore").
 *
 *   mwrasp keygen [--keystore PATH] (--master-key FILE | --new-master-key FILE |
 *                 --passphrase-env VAR) [--rotate-interval SECONDS] [--scrypt-log2n N]
 *   mwrasp keys list   [--keystore PATH] (--master-key FILE | --passphrase-env VAR) [--json]
 *   mwrasp keys rotate [--keystore PATH] (--master-key FILE | --passphrase-env VAR) [--if-due]
 *
 * The keystore path defaults to $MWRASP_KEYSTORE, else DEFAULT_KEYSTORE.
 * Secrets are never printed: key ids are SHA3-256 fingerprints of the
 * ML-DSA-87 public keys. Exit status: 0 ok, 1 failed (message on stderr
 * naming the file), 64 usage error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mwrasp/pqc.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 64
#define DEFAULT_KEYSTORE "/var/lib/mwrasp/keystore"

int mw_cmd_keygen(int argc, char **argv);
int mw_cmd_keys(int argc, char **argv);

static const char keygen_help[] =
    "usage: mwrasp keygen [--keystore PATH] (--master-key FILE | --new-master-key FILE |\n"
    "                     --passphrase-env VAR) [--rotate-interval SECONDS] [--scrypt-log2n N]\n"
    "\n"
    "Creates a keystore (one generation: an ML-DSA-87 identity key and an AES-256-GCM\n"
    "data key) sealed under a master key: a key file of mode 0600 (--master-key), a new\n"
    "one written with mode 0600 (--new-master-key), or the passphrase in environment\n"
    "variable VAR through scrypt (N = 2^17 by default, --scrypt-log2n 10..20).\n"
    "--rotate-interval: seconds between rotations (default 86400).\n"
    "The keystore path is --keystore, else $MWRASP_KEYSTORE, else " DEFAULT_KEYSTORE ".\n";

static const char keys_help[] =
    "usage: mwrasp keys list   [--keystore PATH] (--master-key FILE | --passphrase-env VAR)"
    " [--json]\n"
    "       mwrasp keys rotate [--keystore PATH] (--master-key FILE | --passphrase-env VAR)"
    " [--if-due]\n"
    "\n"
    "list: the generations held (newest first), their creation time and key id (SHA3-256 of\n"
    "the ML-DSA-87 public key). rotate: adds a generation; the newest 3 are kept and older\n"
    "ones destroyed. --if-due: only when the newest generation is at least the rotation\n"
    "interval old.\n";

struct common {
    const char *keystore, *master_key, *new_master_key, *pass_env;
    uint64_t interval;
    unsigned log2n;
    int json, if_due;
};

static const char *keystore_path(const struct common *c)
{
    if (c->keystore)
        return c->keystore;
    const char *e = getenv("MWRASP_KEYSTORE");
    return (e && e[0]) ? e : DEFAULT_KEYSTORE;
}

/* Fills opts from --master-key / --passphrase-env; prints the error. */
static int master_opts(const struct common *c, mw_keystore_opts_t *o, const char *cmd)
{
    memset(o, 0, sizeof *o);
    int n = (c->master_key != NULL) + (c->pass_env != NULL) + (c->new_master_key != NULL);
    if (n != 1) {
        fprintf(stderr,
                "mwrasp %s: give exactly one of --master-key FILE%s or --passphrase-env VAR\n", cmd,
                strcmp(cmd, "keygen") == 0 ? ", --new-master-key FILE" : "");
        return EXIT_USAGE;
    }
    if (c->pass_env) {
        const char *p = getenv(c->pass_env);
        if (p == NULL || p[0] == '\0') {
            fprintf(stderr, "mwrasp %s: environment variable %s is not set or empty\n", cmd,
                    c->pass_env);
            return EXIT_FAIL;
        }
        o->passphrase = p;
    } else {
        o->key_file = c->master_key ? c->master_key : c->new_master_key;
    }
    return 0;
}

static int parse(int argc, char **argv, struct common *c, int keygen)
{
    enum { O_KS = 1, O_MK, O_NMK, O_PE, O_RI, O_LOG2N, O_JSON, O_DUE, O_HELP };
    static const struct option opts[] = {
        {"keystore", required_argument, NULL, O_KS},
        {"master-key", required_argument, NULL, O_MK},
        {"new-master-key", required_argument, NULL, O_NMK},
        {"passphrase-env", required_argument, NULL, O_PE},
        {"rotate-interval", required_argument, NULL, O_RI},
        {"scrypt-log2n", required_argument, NULL, O_LOG2N},
        {"json", no_argument, NULL, O_JSON},
        {"if-due", no_argument, NULL, O_DUE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(c, 0, sizeof *c);
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case O_KS:
            c->keystore = optarg;
            break;
        case O_MK:
            c->master_key = optarg;
            break;
        case O_NMK:
            if (!keygen)
                return EXIT_USAGE;
            c->new_master_key = optarg;
            break;
        case O_PE:
            c->pass_env = optarg;
            break;
        case O_RI:
            errno = 0;
            c->interval = strtoull(optarg, &end, 10);
            if (!keygen || errno || *end || optarg[0] == '-' || c->interval == 0 ||
                c->interval > (uint64_t)INT64_MAX) {
                fprintf(stderr, "mwrasp keygen: --rotate-interval wants seconds > 0\n");
                return EXIT_USAGE;
            }
            break;
        case O_LOG2N:
            errno = 0;
            c->log2n = (unsigned)strtoul(optarg, &end, 10);
            if (!keygen || errno || *end || c->log2n < 10 || c->log2n > 20) {
                fprintf(stderr, "mwrasp keygen: --scrypt-log2n wants 10..20\n");
                return EXIT_USAGE;
            }
            break;
        case O_JSON:
            c->json = 1;
            break;
        case O_DUE:
            c->if_due = 1;
            break;
        case O_HELP:
            fputs(keygen ? keygen_help : keys_help, stdout);
            exit(0);
        default:
            return EXIT_USAGE;
        }
    }
    return 0;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef"; /* public data only */
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void utc(char *out, size_t len, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "%lld", (long long)t);
}

int mw_cmd_keygen(int argc, char **argv)
{
    struct common c;
    mw_keystore_opts_t o;
    char err[MW_KEYSTORE_ERR_BYTES];
    mw_keystore_t *ks = NULL;
    int rc = parse(argc, argv, &c, 1);
    if (rc == 0 && optind != argc) {
        fprintf(stderr, "mwrasp keygen: unexpected argument '%s'\n", argv[optind]);
        rc = EXIT_USAGE;
    }
    if (rc) {
        fputs(keygen_help, stderr);
        return rc;
    }
    rc = master_opts(&c, &o, "keygen");
    if (rc)
        return rc;
    o.rotate_interval_s = c.interval;
    o.scrypt_log2n = (uint8_t)c.log2n;
    const char *path = keystore_path(&c);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "mwrasp keygen: %s: the keystore already exists\n", path);
        return EXIT_FAIL;
    }
    if (c.new_master_key) {
        if (mw_keystore_new_master_key_file(c.new_master_key, err, sizeof err) != MW_OK) {
            fprintf(stderr, "mwrasp keygen: %s\n", err);
            return EXIT_FAIL;
        }
    }
    rc = mw_keystore_create(&ks, path, &o, (int64_t)time(NULL), err, sizeof err);
    if (rc != MW_OK) {
        fprintf(stderr, "mwrasp keygen: %s\n", err);
        if (c.new_master_key)
            unlink(c.new_master_key); /* made for this keystore only */
        return EXIT_FAIL;
    }
    mw_keystore_gen_info_t gi;
    char id[65];
    if (mw_keystore_gen_info(ks, 0, &gi) == MW_OK) {
        hex(id, gi.identity_id, 32);
        printf("created keystore %s: generation %llu, identity key id %s\n", path,
               (unsigned long long)gi.id, id);
    }
    if (c.new_master_key)
        printf("master key written to %s (mode 0600): keep it apart from the keystore\n",
               c.new_master_key);
    mw_keystore_free(ks);
    return 0;
}

static int keys_list(mw_keystore_t *ks, const char *path, int json)
{
    size_t n = mw_keystore_generations(ks);
    if (!json)
        printf("keystore %s: %zu generation%s, rotation every %llu s\n%-6s %-21s %s\n", path, n,
               n == 1 ? "" : "s", (unsigned long long)mw_keystore_rotate_interval(ks), "gen",
               "created (UTC)", "identity key id (SHA3-256 of the ML-DSA-87 public key)");
    for (size_t i = 0; i < n; i++) {
        mw_keystore_gen_info_t gi;
        char id[65], ts[64];
        if (mw_keystore_gen_info(ks, i, &gi) != MW_OK)
            return EXIT_FAIL;
        hex(id, gi.identity_id, 32);
        utc(ts, sizeof ts, gi.created);
        if (json)
            printf("{\"generation\":%llu,\"created\":\"%s\",\"created_unix\":%lld,"
                   "\"identity_key_id\":\"%s\",\"algorithm\":\"ML-DSA-87\",\"current\":%s}\n",
                   (unsigned long long)gi.id, ts, (long long)gi.created, id,
                   i == 0 ? "true" : "false");
        else
            printf("%-6llu %-21s %s%s\n", (unsigned long long)gi.id, ts, id,
                   i == 0 ? "  (current)" : "");
    }
    return 0;
}

int mw_cmd_keys(int argc, char **argv)
{
    struct common c;
    mw_keystore_opts_t o;
    char err[MW_KEYSTORE_ERR_BYTES];
    mw_keystore_t *ks = NULL;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(keys_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *sub = argv[1];
    int list = strcmp(sub, "list") == 0, rotate = strcmp(sub, "rotate") == 0;
    if (!list && !rotate) {
        fprintf(stderr, "mwrasp keys: unknown subcommand '%s'\n\n%s", sub, keys_help);
        return EXIT_USAGE;
    }
    optind = 1;
    int rc = parse(argc - 1, argv + 1, &c, 0);
    if (rc == 0 && optind != argc - 1) {
        fprintf(stderr, "mwrasp keys %s: unexpected argument '%s'\n", sub, argv[optind + 1]);
        rc = EXIT_USAGE;
    }
    if (rc == 0 && ((list && c.if_due) || (rotate && c.json)))
        rc = EXIT_USAGE;
    if (rc) {
        fputs(keys_help, stderr);
        return rc;
    }
    char cmd[16];
    snprintf(cmd, sizeof cmd, "keys %s", sub);
    rc = master_opts(&c, &o, cmd);
    if (rc)
        return rc;
    const char *path = keystore_path(&c);
    if (mw_keystore_load(&ks, path, &o, err, sizeof err) != MW_OK) {
        fprintf(stderr, "mwrasp %s: %s\n", cmd, err);
        return EXIT_FAIL;
    }
    if (list) {
        rc = keys_list(ks, path, c.json);
    } else {
        int rotated = 0;
        int64_t now = (int64_t)time(NULL);
        int r = c.if_due ? mw_keystore_rotate_if_due(ks, now, &rotated, err, sizeof err)
                         : mw_keystore_rotate(ks, now, err, sizeof err);
        if (r != MW_OK) {
            fprintf(stderr, "mwrasp %s: %s\n", cmd, err);
            rc = EXIT_FAIL;
        } else {
            mw_keystore_gen_info_t gi;
            if (mw_keystore_gen_info(ks, 0, &gi) != MW_OK) {
                rc = EXIT_FAIL;
            } else if (c.if_due && !rotated) {
                printf("not due: generation %llu is %lld s old, rotation every %llu s\n",
                       (unsigned long long)gi.id, (long long)(now - gi.created),
                       (unsigned long long)mw_keystore_rotate_interval(ks));
            } else {
                char id[65];
                hex(id, gi.identity_id, 32);
                printf("rotated %s: generation %llu created (identity key id %s); %zu kept\n", path,
                       (unsigned long long)gi.id, id, mw_keystore_generations(ks));
            }
        }
    }
    mw_keystore_free(ks);
    return rc;
}
