/* bench_pqc: operations per second and cycles per operation of every ML-KEM
 * and ML-DSA operation at every parameter set (issue 4, "Performance").
 *
 * Usage: bench_pqc [--seconds S] [--json]
 * Each operation runs for about S seconds (default 0.5) on fresh random
 * inputs prepared outside the timed region; the cycle figure is the median
 * of the per-call rdtsc differences (x86-64; elsewhere, nanoseconds are
 * reported in the cycles column and "ns" is said so). One thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwrasp/pqc.h"

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t ticks(void)
{
    return __builtin_ia32_rdtsc();
}
static const char *tick_unit = "cycles";
#else
static inline uint64_t ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static const char *tick_unit = "ns";
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#define MAXN 200000
static uint64_t samples[MAXN];
static double seconds = 0.5;
static int as_json;

enum op { KEYGEN, ENCAPS, DECAPS, SIGN, VERIFY };
static const char *op_name[] = {"keygen", "encaps", "decaps", "sign", "verify"};

static struct {
    uint8_t ek[MW_MLKEM_MAX_EK_BYTES], dk[MW_MLKEM_MAX_DK_BYTES], ct[MW_MLKEM_MAX_CT_BYTES];
    uint8_t pk[MW_MLDSA_MAX_PK_BYTES], sk[MW_MLDSA_MAX_SK_BYTES], sig[MW_MLDSA_MAX_SIG_BYTES];
    uint8_t seed[32], seed2[32], ss[32], msg[64];
} st;

static int run_once(const char *alg, int kem, int p, enum op op)
{
    if (kem) {
        mw_mlkem_param_t k = (mw_mlkem_param_t)p;
        switch (op) {
        case KEYGEN:
            return mw_mlkem_keygen_internal(k, st.ek, st.dk, st.seed, st.seed2);
        case ENCAPS:
            return mw_mlkem_encaps_internal(k, st.ss, st.ct, st.ek, mw_mlkem_ek_bytes(k), st.seed);
        case DECAPS:
            return mw_mlkem_decaps(k, st.ss, st.ct, mw_mlkem_ct_bytes(k), st.dk,
                                   mw_mlkem_dk_bytes(k));
        default:
            break;
        }
    } else {
        mw_mldsa_param_t d = (mw_mldsa_param_t)p;
        switch (op) {
        case KEYGEN:
            return mw_mldsa_keygen_internal(d, st.pk, st.sk, st.seed);
        case SIGN:
            return mw_mldsa_sign(d, st.sig, st.sk, mw_mldsa_sk_bytes(d), st.msg, sizeof st.msg,
                                 NULL, 0, st.seed2);
        case VERIFY:
            return mw_mldsa_verify(d, st.pk, mw_mldsa_pk_bytes(d), st.msg, sizeof st.msg, NULL, 0,
                                   st.sig, mw_mldsa_sig_bytes(d));
        default:
            break;
        }
    }
    fprintf(stderr, "bench_pqc: %s %s: no such operation\n", alg, op_name[op]);
    return -1;
}

/* Prepares the inputs an operation needs (keys, ciphertext, signature). */
static int prepare(int kem, int p, enum op op)
{
    if (mw_random_bytes(st.seed, 32) || mw_random_bytes(st.seed2, 32) ||
        mw_random_bytes(st.msg, sizeof st.msg))
        return -1;
    if (op == KEYGEN)
        return 0;
    if (kem) {
        mw_mlkem_param_t k = (mw_mlkem_param_t)p;
        if (mw_mlkem_keygen_internal(k, st.ek, st.dk, st.seed, st.seed2))
            return -1;
        if (op == DECAPS)
            return mw_mlkem_encaps_internal(k, st.ss, st.ct, st.ek, mw_mlkem_ek_bytes(k), st.seed2);
        return 0;
    }
    mw_mldsa_param_t d = (mw_mldsa_param_t)p;
    if (mw_mldsa_keygen_internal(d, st.pk, st.sk, st.seed))
        return -1;
    if (op == VERIFY)
        return mw_mldsa_sign(d, st.sig, st.sk, mw_mldsa_sk_bytes(d), st.msg, sizeof st.msg, NULL, 0,
                             st.seed2);
    return 0;
}

static int bench(const char *alg, int kem, int p, enum op op)
{
    size_t n = 0;
    double t0 = now(), t1;
    do {
        /* New inputs every 16 calls: signing time depends on the key and message. */
        if (n % 16 == 0 && prepare(kem, p, op))
            return -1;
        uint64_t a = ticks();
        if (run_once(alg, kem, p, op) != 0) {
            fprintf(stderr, "bench_pqc: %s %s failed\n", alg, op_name[op]);
            return -1;
        }
        samples[n++] = ticks() - a;
        t1 = now();
    } while (t1 - t0 < seconds && n < MAXN);
    /* ops/s over the timed calls only (prepare excluded). */
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += samples[i];
    qsort(samples, n, sizeof samples[0], cmp_u64);
    uint64_t median = samples[n / 2];
    double mean = (double)total / (double)n;
    /* ticks per second, measured over the whole loop */
    static double tps;
    if (tps == 0) {
        double c0 = now();
        uint64_t k0 = ticks();
        while (now() - c0 < 0.05) {
        }
        tps = (double)(ticks() - k0) / (now() - c0);
    }
    double ops = tps / mean;
    if (as_json)
        printf("{\"alg\":\"%s\",\"op\":\"%s\",\"n\":%zu,\"median_%s\":%llu,\"mean_%s\":%.0f,"
               "\"ops_per_s\":%.0f}\n",
               alg, op_name[op], n, tick_unit, (unsigned long long)median, tick_unit, mean, ops);
    else
        printf("| %s | %s | %zu | %llu | %.0f | %.0f |\n", alg, op_name[op], n,
               (unsigned long long)median, mean, ops);
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else {
            fprintf(stderr, "usage: bench_pqc [--seconds S] [--json]\n");
            return 2;
        }
    }
    if (!as_json) {
        printf("| algorithm | operation | calls | median %s | mean %s | ops/s |\n", tick_unit,
               tick_unit);
        printf("|---|---|---|---|---|---|\n");
    }
    static const mw_mlkem_param_t kems[] = {MW_MLKEM512, MW_MLKEM768, MW_MLKEM1024};
    static const mw_mldsa_param_t dsas[] = {MW_MLDSA44, MW_MLDSA65, MW_MLDSA87};
    for (int i = 0; i < 3; i++)
        for (enum op op = KEYGEN; op <= DECAPS; op++)
            if (bench(mw_mlkem_name(kems[i]), 1, kems[i], op))
                return 1;
    for (int i = 0; i < 3; i++) {
        static const enum op ops[] = {KEYGEN, SIGN, VERIFY};
        for (int j = 0; j < 3; j++)
            if (bench(mw_mldsa_name(dsas[i]), 0, dsas[i], ops[j]))
                return 1;
    }
    return 0;
}
