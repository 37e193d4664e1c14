/* Synthetic but realistic events for the benchmarks (loadgen, sqlite_ref):
 * syslog lines (RFC 5424 and RFC 3164) from Linux hosts and JSON lines in
 * the shape of Windows Security / Sysmon events, 200-400 bytes each, from a
 * few hundred hosts. A "hit" event is crafted to match the bench rule set
 * (scripts/gen-bench-rules.sh) or the bundled rules; the others match none.
 *
 * Not thread-safe per generator; give each thread its own. */
#ifndef MW_BENCH_EVGEN_H
#define MW_BENCH_EVGEN_H

#include <stddef.h>
#include <stdint.h>

enum evgen_format { EVGEN_SYSLOG = 0, EVGEN_JSON };

struct evgen {
    uint64_t rng; /* xorshift64* state, never 0 */
    int64_t base_ns; /* timestamp of the first event (realtime ns) */
    uint64_t seq; /* events generated so far */
    uint32_t nrules; /* bench rules to aim hits at (0 = bundled rules only) */
    char host[64]; /* host name of the last event generated */
};

/* Seeds a generator. seed 0 is replaced by a fixed constant. nrules is the
 * number of rules scripts/gen-bench-rules.sh wrote (hits cycle over them). */
void evgen_init(struct evgen *g, uint64_t seed, uint32_t nrules);

/* Writes one event (no trailing newline) into buf, NUL-terminated. Returns
 * its length, or 0 if cap is too small (cap >= EVGEN_MAX is always enough). */
#define EVGEN_MAX 1024
size_t evgen_next(struct evgen *g, enum evgen_format fmt, int hit, char *buf, size_t cap);

/* A pool of pre-generated events, newline-terminated, back to back in one
 * buffer, so that senders spend no time formatting. A fraction hit_ratio of
 * them (spread evenly) are hits. */
struct evpool {
    char *data; /* all events, each ending in '\n' */
    size_t *off; /* n + 1 offsets into data */
    unsigned char *hit; /* n flags: event i is a hit */
    size_t n;
    size_t hits;
};

/* Builds a pool of n events. Returns 0, or -1 on allocation failure (the
 * pool is then empty). */
int evpool_build(struct evpool *p, struct evgen *g, enum evgen_format fmt, size_t n,
                 double hit_ratio);
void evpool_free(struct evpool *p);

#endif
