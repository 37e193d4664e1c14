/* libFuzzer harness for the HTTP intake's body handling (mw_api_intake),
 * differential for JSON bodies: the fast array path (elements split here and
 * read by the JSON-lines scanner) must answer exactly as the jansson path
 * does (status, accepted/rejected counts, the whole response JSON), and give
 * the same events (host, category, time, fields; raw the same JSON value),
 * except that with duplicate member names the scanner keeps the first and
 * jansson the last (then only the answer is compared). NDJSON and text
 * bodies run once each, for the usual promises (no crash, no leak, every
 * submitted event acknowledged).
 *
 * Input: the first byte picks the body kind (0 JSON, 1 NDJSON, 2 text), the
 * rest is the body. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEEP_MAX 4096

struct keep {
    mw_event_t *ev[KEEP_MAX];
    size_t n;
};

static int keep_submit(void *ctx, mw_event_t *ev, int flags)
{
    struct keep *k = ctx;
    if (flags != MW_SUBMIT_BLOCK || ev->ack == NULL)
        abort();
    if (k->n >= KEEP_MAX)
        return MW_ESHUTDOWN;
    k->ev[k->n++] = ev;
    mw_ack_done(ev->ack, 0); /* durable at once */
    return 0;
}

static void keep_clear(struct keep *k)
{
    for (size_t i = 0; i < k->n; i++)
        mw_event_free(k->ev[i]);
    k->n = 0;
}

static void run(const char *body, size_t len, enum mw_api_body_kind kind, struct keep *k,
                struct mw_api_intake_result *r)
{
    mw_sink_t sink = {keep_submit, k};
    if (mw_api_intake(body, len, kind, MW_SRC_HTTP, "10.0.0.1", 0, sink, 1000, r) != 0 ||
        r->body == NULL)
        abort();
    if (r->status == 202 && r->accepted != k->n)
        abort();
}

static int same_raw(const mw_event_t *a, const mw_event_t *b)
{
    json_error_t e;
    json_t *ja = json_loadb(a->raw, a->raw_len, 0, &e);
    json_t *jb = json_loadb(b->raw, b->raw_len, 0, &e);
    int same = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same;
}

static int same_event(const mw_event_t *a, const mw_event_t *b)
{
    if (strcmp(a->host, b->host) != 0 || strcmp(a->category, b->category) != 0 ||
        a->nfields != b->nfields || a->source != b->source)
        return 0;
    /* a time from the event itself must agree; "now" differs run to run */
    if (a->ts_ns != a->ingest_ns && b->ts_ns != b->ingest_ns && a->ts_ns != b->ts_ns)
        return 0;
    for (uint32_t i = 0; i < a->nfields; i++) {
        const mw_field_t *x = &a->fields[i], *y = &b->fields[i];
        if (x->key_len != y->key_len || x->val_len != y->val_len ||
            memcmp(x->key, y->key, x->key_len) != 0 || memcmp(x->val, y->val, x->val_len) != 0)
            return 0;
    }
    return same_raw(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct keep fast, slow;
    struct mw_api_intake_result rf, rs;
    const char *body = (const char *)data + 1;
    size_t len;

    if (size < 1)
        return 0;
    len = size - 1;
    if (data[0] % 3 != 0) {
        run(body, len, data[0] % 3 == 1 ? MW_BODY_NDJSON : MW_BODY_TEXT, &fast, &rf);
        mw_api_intake_result_clear(&rf);
        keep_clear(&fast);
        return 0;
    }
    mw_api_fast_arrays = 1;
    run(body, len, MW_BODY_AUTO, &fast, &rf);
    mw_api_fast_arrays = 0;
    run(body, len, MW_BODY_AUTO, &slow, &rs);
    mw_api_fast_arrays = 1;

    if (rf.status != rs.status || rf.accepted != rs.accepted || rf.rejected != rs.rejected ||
        !json_equal(rf.body, rs.body) || fast.n != slow.n)
        abort();
    json_error_t e;
    json_t *strict = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (strict != NULL) {
        for (size_t i = 0; i < fast.n; i++)
            if (!same_event(fast.ev[i], slow.ev[i]))
                abort();
    }
    json_decref(strict);
    mw_api_intake_result_clear(&rf);
    mw_api_intake_result_clear(&rs);
    keep_clear(&fast);
    keep_clear(&slow);
    return 0;
}
