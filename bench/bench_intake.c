/* bench_intake: the HTTP intake's body handling alone, one thread, no
 * socket, no pipeline.
 *
 * Builds NDJSON bodies of realistic Windows JSON events (bench/evgen.c, the
 * events `loadgen http-ndjson` sends) and times, in CPU time of this thread:
 *   - parse:  mw_jsonl_parse on every line (the floor: what any intake pays);
 *   - intake: mw_api_intake on whole bodies (split, parse, submit, ack wait)
 *             with a sink that ends each event at once (as a committed
 *             batch would), so only the intake's own work is measured;
 *   - array:  mw_api_intake on the same events as JSON array bodies.
 * Prints nanoseconds per event for each. Not part of `make test`.
 *
 * Usage: bench_intake [--events N] [--batch B] [--rounds R] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "evgen.h"
#include "mwrasp/ingest.h"
#include "mwrasp/pipeline.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A sink that plays the writer: the event is "durable" at once. */
static int done_submit(void *ctx, mw_event_t *ev, int flags)
{
    (void)flags;
    ++*(size_t *)ctx;
    if (ev->ack)
        mw_ack_done(ev->ack, 0);
    mw_event_free(ev);
    return 0;
}

/* Bodies of batch events each, from the pool; as_array: "[e1,\ne2,...]". */
static char **make_bodies(const struct evpool *p, size_t batch, int as_array, size_t *nb,
                          size_t **lens)
{
    size_t n = (p->n + batch - 1) / batch;
    char **b = calloc(n, sizeof(*b));
    size_t *l = calloc(n, sizeof(*l));
    if (b == NULL || l == NULL)
        goto fail;
    for (size_t k = 0; k < n; k++) {
        size_t first = k * batch, last = first + batch < p->n ? first + batch : p->n;
        size_t sz = p->off[last] - p->off[first] + 2 * (last - first) + 4, len = 0;
        if ((b[k] = malloc(sz)) == NULL)
            goto fail;
        if (as_array)
            b[k][len++] = '[';
        for (size_t i = first; i < last; i++) {
            size_t el = p->off[i + 1] - p->off[i] - 1;
            if (as_array && i > first)
                b[k][len++] = ',';
            memcpy(b[k] + len, p->data + p->off[i], el);
            len += el;
            b[k][len++] = '\n';
        }
        if (as_array)
            b[k][len++] = ']';
        b[k][len] = '\0';
        l[k] = len;
    }
    *nb = n;
    *lens = l;
    return b;
fail:
    for (size_t k = 0; b && k < n; k++)
        free(b[k]);
    free(b);
    free(l);
    return NULL;
}

static double time_intake(char **bodies, const size_t *lens, size_t nb, enum mw_api_body_kind kind,
                          int rounds, size_t nev)
{
    size_t submitted = 0;
    mw_sink_t sink = {done_submit, &submitted};
    double t0 = cpu_s();
    for (int r = 0; r < rounds; r++) {
        for (size_t k = 0; k < nb; k++) {
            struct mw_api_intake_result res;
            if (mw_api_intake(bodies[k], lens[k], kind, MW_SRC_HTTP, "127.0.0.1", 0, sink, 1000,
                              &res) != 0 ||
                res.status != 202 || res.rejected != 0) {
                fprintf(stderr, "bench_intake: body %zu answered %d\n", k, res.status);
                exit(1);
            }
            mw_api_intake_result_clear(&res);
        }
    }
    double t = cpu_s() - t0;
    if (submitted != nev * (size_t)rounds) {
        fprintf(stderr, "bench_intake: %zu events submitted, expected %zu\n", submitted,
                nev * (size_t)rounds);
        exit(1);
    }
    return t * 1e9 / ((double)nev * rounds);
}

int main(int argc, char **argv)
{
    size_t nev = 20000, batch = 1000;
    int rounds = 5;
    struct evgen g;
    struct evpool p;
    char **nd, **arr;
    size_t nnd, narr, *lnd, *larr;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0)
            nev = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
    }
    if (nev == 0 || batch == 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_intake [--events N] [--batch B] [--rounds R]\n");
        return 2;
    }
    evgen_init(&g, 12, 100);
    if (evpool_build(&p, &g, EVGEN_JSON, nev, 0.001) != 0) {
        fprintf(stderr, "bench_intake: out of memory\n");
        return 1;
    }
    nd = make_bodies(&p, batch, 0, &nnd, &lnd);
    arr = make_bodies(&p, batch, 1, &narr, &larr);
    if (nd == NULL || arr == NULL) {
        fprintf(stderr, "bench_intake: out of memory\n");
        return 1;
    }

    double t0 = cpu_s();
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < p.n; i++) {
            mw_event_t *ev = NULL;
            enum mw_reject why;
            if (mw_jsonl_parse(p.data + p.off[i], p.off[i + 1] - p.off[i] - 1, MW_SRC_HTTP, &ev,
                               &why, NULL, 0) != 0) {
                fprintf(stderr, "bench_intake: event %zu refused\n", i);
                return 1;
            }
            mw_event_free(ev);
        }
    }
    double parse_ns = (cpu_s() - t0) * 1e9 / ((double)p.n * rounds);
    /* one warm-up round of each, untimed */
    time_intake(nd, lnd, nnd, MW_BODY_NDJSON, 1, p.n);
    time_intake(arr, larr, narr, MW_BODY_AUTO, 1, p.n);
    double nd_ns = time_intake(nd, lnd, nnd, MW_BODY_NDJSON, rounds, p.n);
    double arr_ns = time_intake(arr, larr, narr, MW_BODY_AUTO, rounds, p.n);
    printf("{\"events\":%zu,\"batch\":%zu,\"rounds\":%d,\"avg_bytes\":%zu,"
           "\"parse_ns\":%.0f,\"intake_ndjson_ns\":%.0f,\"intake_array_ns\":%.0f}\n",
           p.n, batch, rounds, (p.off[p.n] - p.off[0]) / p.n, parse_ns, nd_ns, arr_ns);
    for (size_t k = 0; k < nnd; k++)
        free(nd[k]);
    for (size_t k = 0; k < narr; k++)
        free(arr[k]);
    free(nd);
    free(arr);
    free(lnd);
    free(larr);
    evpool_free(&p);
    return 0;
}
