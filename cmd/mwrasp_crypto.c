/* mwrasp crypto: offline tools of the crypto module (no daemon involved).
 *
 *   mwrasp crypto acvp PATH...
 *
 * acvp runs NIST ACVP vector sets (ML-KEM FIPS 203, ML-DSA FIPS 204) through
 * mw_acvp_run_path (src/crypto/acvp.c) and prints every failure, skip and
 * error, then "K skipped" (if any) and "N passed, M failed".
 * Exit status: 0 if no case failed and at least one ran, 1 if a case failed
 * or none ran, 2 for an unreadable or malformed vector set, 64 usage. */
#include <stdio.h>
#include <string.h>

#include "mwrasp/pqc.h"

#define EXIT_FAILED 1
#define EXIT_ERROR 2
#define EXIT_USAGE 64

int mw_cmd_crypto(int argc, char **argv);

static const char crypto_help[] =
    "usage: mwrasp crypto acvp PATH...\n"
    "\n"
    "Runs NIST ACVP vector sets (their published JSON) against our ML-KEM and ML-DSA:\n"
    "ML-KEM keyGen and encapDecap (revision FIPS203), ML-DSA keyGen, sigGen and sigVer\n"
    "(revision FIPS204; external pure and preHash, internal, external mu).\n"
    "PATH is an internalProjection.json, a prompt.json (joined with the\n"
    "expectedResults.json beside it on tgId and tcId), or a folder holding either,\n"
    "or a folder of such folders.\n"
    "\n"
    "Prints each failed case (vsId, tgId, tcId and what differed), each skipped group\n"
    "with the reason, then 'K skipped' if any, and 'N passed, M failed'.\n"
    "Exit status: 0 if no case failed and at least one ran, 1 if a case failed or\n"
    "none ran, 2 if a vector set could not be read or is malformed, 64 usage error.\n";

static int cmd_acvp(int argc, char **argv)
{
    struct mw_acvp_counts c;
    int err = 0;

    if (argc < 2) {
        fputs(crypto_help, stderr);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(crypto_help, stdout);
            return 0;
        }
    }
    memset(&c, 0, sizeof c);
    for (int i = 1; i < argc; i++) {
        if (mw_acvp_run_path(argv[i], stdout, &c) != 0)
            err = 1;
    }
    if (c.skipped > 0)
        printf("%llu skipped\n", c.skipped);
    printf("%llu passed, %llu failed\n", c.passed, c.failed);
    fflush(stdout);
    if (err || c.errors > 0)
        return EXIT_ERROR;
    if (c.failed > 0 || c.passed == 0) {
        if (c.passed == 0 && c.failed == 0)
            fprintf(stderr, "mwrasp: crypto acvp: no test case ran\n");
        return EXIT_FAILED;
    }
    return 0;
}

int mw_cmd_crypto(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(crypto_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "acvp") == 0)
        return cmd_acvp(argc - 1, argv + 1);
    fprintf(stderr, "mwrasp: crypto: unknown command '%s'\n\n", argv[1]);
    fputs(crypto_help, stderr);
    return EXIT_USAGE;
}
