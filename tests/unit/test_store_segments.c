/* Unit tests of the store's packed raw-event segments: the encoding (round
 * trips, corrupt and truncated blobs), segment boundaries, event ids across
 * rollback and reopen, expiry by segment, mw_store_scan_events, corrupt
 * rows in the database, and migration 2 from a version-1 database. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "mwrasp/log.h"
#include "mwrasp/store.h"
#include "store/store_internal.h"

#include "unit/store_fixture.h"

/* Deterministic raw bytes for event number i: length and content vary, and
 * include NUL and non-UTF-8 bytes. *len gets the length. */
static char *gen_raw(int i, size_t *len)
{
    size_t n = (size_t)(i * 37 % 500);
    char *r = malloc(n + 1);

    assert_non_null(r);
    for (size_t k = 0; k < n; k++)
        r[k] = (char)((i * 131 + (int)k * 7) & 0xff);
    r[n] = '\0';
    *len = n;
    return r;
}

/* Stores event i (raw from gen_raw, host "h<i%7>", ingest_ns `ingest`). */
static uint64_t put_gen(mw_store_t *s, int i, int64_t ingest)
{
    size_t len;
    char *raw = gen_raw(i, &len), host[16];
    mw_event_t *ev = mw_event_new((enum mw_source)(i % MW_SRC__COUNT), raw, len);
    uint64_t id;
    int hl = snprintf(host, sizeof host, "h%d", i % 7);

    assert_non_null(ev);
    assert_int_equal(mw_event_set_host(ev, host, (size_t)hl), 0);
    assert_int_equal(mw_event_set_category(ev, i % 2 ? "auth" : "", i % 2 ? 4 : 0), 0);
    ev->ts_ns = -1000 + i; /* negative times must survive too */
    ev->ingest_ns = ingest;
    assert_int_equal(mw_store_put_event(s, ev), 0);
    id = ev->id;
    mw_event_free(ev);
    free(raw);
    return id;
}

/* Checks that the stored event `id` is event i of put_gen. */
static void check_gen(const mw_stored_event_t *e, uint64_t id, int i, int64_t ingest)
{
    size_t len;
    char *raw = gen_raw(i, &len), host[16];

    snprintf(host, sizeof host, "h%d", i % 7);
    assert_int_equal(e->id, id);
    assert_int_equal(e->ts_ns, -1000 + i);
    assert_int_equal(e->ingest_ns, ingest);
    assert_int_equal(e->source, (enum mw_source)(i % MW_SRC__COUNT));
    assert_string_equal(e->host, host);
    assert_string_equal(e->category, i % 2 ? "auth" : "");
    assert_int_equal(e->raw_len, len);
    assert_memory_equal(e->raw, raw, len);
    assert_int_equal(e->raw[len], '\0');
    free(raw);
}

/* ---- the encoding ----------------------------------------------------- */

/* Three records: ordinary, empty strings, maximal host and binary raw. */
static void build_blob(struct mw_seg_buf *b)
{
    static const char bin[] = {'\0', '\xff', 'x', '\0'};
    char host[MW_EVENT_HOST_MAX + 1], cat[MW_EVENT_CATEGORY_MAX + 1];

    memset(host, 'H', MW_EVENT_HOST_MAX);
    host[MW_EVENT_HOST_MAX] = '\0';
    memset(cat, 'c', MW_EVENT_CATEGORY_MAX);
    cat[MW_EVENT_CATEGORY_MAX] = '\0';
    assert_int_equal(mw_seg_append(b, 1, 2, "syslog_tcp", "web-01", "auth", "hello", 5), 0);
    assert_int_equal(mw_seg_append(b, INT64_MIN, INT64_MAX, "http", "", "", NULL, 0), 0);
    assert_int_equal(mw_seg_append(b, -5, 0, "replay", host, cat, bin, sizeof bin), 0);
}

static void test_encode_roundtrip(void **state)
{
    struct mw_seg_buf b = {0};
    struct mw_seg_reader r;
    struct mw_seg_event e;
    char longhost[400];

    (void)state;
    build_blob(&b);
    assert_int_equal(b.data[0], MW_SEG_VERSION);
    assert_int_equal(mw_seg_reader_init(&r, b.data, b.len, 3), 0);

    assert_int_equal(mw_seg_next(&r, &e), 0);
    assert_int_equal(e.ts_ns, 1);
    assert_int_equal(e.ingest_ns, 2);
    assert_int_equal(e.source_len, 10);
    assert_memory_equal(e.source, "syslog_tcp", 10);
    assert_int_equal(e.host_len, 6);
    assert_memory_equal(e.host, "web-01", 6);
    assert_int_equal(e.category_len, 4);
    assert_memory_equal(e.category, "auth", 4);
    assert_int_equal(e.raw_len, 5);
    assert_memory_equal(e.raw, "hello", 5);

    assert_int_equal(mw_seg_next(&r, &e), 0);
    assert_true(e.ts_ns == INT64_MIN);
    assert_true(e.ingest_ns == INT64_MAX);
    assert_int_equal(e.host_len, 0);
    assert_int_equal(e.category_len, 0);
    assert_int_equal(e.raw_len, 0);

    assert_int_equal(mw_seg_next(&r, &e), 0);
    assert_int_equal(e.ts_ns, -5);
    assert_int_equal(e.host_len, MW_EVENT_HOST_MAX);
    assert_int_equal(e.category_len, MW_EVENT_CATEGORY_MAX);
    assert_int_equal(e.raw_len, 4);
    assert_memory_equal(e.raw, "\0\xffx\0", 4);
    assert_int_equal(mw_seg_next(&r, &e), MW_ENOTFOUND);

    /* decode_at: each index, and past the end. */
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 3, 1, &e), 0);
    assert_true(e.ts_ns == INT64_MIN);
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 3, 2, &e), 0);
    assert_int_equal(e.ts_ns, -5);
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 3, 3, &e), MW_ENOTFOUND);

    /* Over-long host and category are cut at their caps, never overflow. */
    mw_seg_buf_reset(&b);
    memset(longhost, 'L', sizeof longhost - 1);
    longhost[sizeof longhost - 1] = '\0';
    assert_int_equal(mw_seg_append(&b, 0, 0, "http", longhost, longhost, "r", 1), 0);
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), 0);
    assert_int_equal(e.host_len, MW_EVENT_HOST_MAX);
    assert_int_equal(e.category_len, MW_EVENT_CATEGORY_MAX);
    /* Refused: an unknown-length source, raw at the cap, NULL raw with a length. */
    assert_int_equal(mw_seg_append(&b, 0, 0, longhost, "", "", "r", 1), MW_EINVAL);
    assert_int_equal(mw_seg_append(&b, 0, 0, "http", "", "", "r", MW_EVENT_MAX_BYTES), MW_EINVAL);
    assert_int_equal(mw_seg_append(&b, 0, 0, "http", "", "", NULL, 3), MW_EINVAL);
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), 0); /* unchanged */
    mw_seg_buf_free(&b);
    assert_null(b.data);
}

/* Every truncation, every extra byte, and wrong counts are MW_EIO. */
static void test_decode_truncated_and_counts(void **state)
{
    struct mw_seg_buf b = {0};
    struct mw_seg_event e, sentinel;
    uint8_t *copy;

    (void)state;
    build_blob(&b);
    memset(&sentinel, 0x5a, sizeof sentinel);
    for (size_t len = 0; len < b.len; len++) {
        /* A fresh allocation of exactly len bytes, so ASan sees any overread. */
        copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, b.data, len);
        e = sentinel;
        assert_int_equal(mw_seg_decode_at(copy, len, 3, 0, &e), MW_EIO);
        assert_memory_equal(&e, &sentinel, sizeof e); /* untouched */
        assert_int_equal(mw_seg_decode_at(copy, len, 3, 2, &e), MW_EIO);
        free(copy);
    }
    copy = malloc(b.len + 1);
    assert_non_null(copy);
    memcpy(copy, b.data, b.len);
    copy[b.len] = 0;
    assert_int_equal(mw_seg_decode_at(copy, b.len + 1, 3, 0, &e), MW_EIO); /* trailing byte */
    free(copy);
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 2, 0, &e), MW_EIO); /* n too small */
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 4, 0, &e), MW_EIO); /* n too large */
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 0, 0, &e), MW_EIO);
    assert_int_equal(mw_seg_decode_at(b.data, b.len, UINT64_MAX, 0, &e), MW_EIO);
    assert_int_equal(mw_seg_decode_at(NULL, 0, 1, 0, &e), MW_EIO);
    b.data[0] = MW_SEG_VERSION + 1;
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 3, 0, &e), MW_EIO);
    mw_seg_buf_free(&b);
}

/* Length fields that run past the blob or over their caps, including
 * values that would overflow a size computation. */
static void test_decode_bad_lengths(void **state)
{
    struct mw_seg_buf b = {0};
    struct mw_seg_event e;
    /* Offsets in a one-record blob "version, ts, ingest, 4 http, 1 h, 1 c, raw". */
    enum { SRC = 17, HOST = SRC + 5, CAT = HOST + 2, RAWLEN = CAT + 2 };
    static const uint32_t raws[] = {4, 5, 0x7fffffffu, 0xffffffffu, MW_EVENT_MAX_BYTES};

    (void)state;
    assert_int_equal(mw_seg_append(&b, 7, 8, "http", "h", "c", "abc", 3), 0);
    assert_int_equal(b.len, (size_t)RAWLEN + 4 + 3);
    assert_int_equal(b.data[SRC], 4);
    assert_int_equal(b.data[HOST], 1);
    assert_int_equal(b.data[CAT], 1);
    assert_int_equal(b.data[RAWLEN], 3);
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), 0);

    for (size_t k = 0; k < sizeof raws / sizeof raws[0]; k++) {
        b.data[RAWLEN] = (uint8_t)raws[k];
        b.data[RAWLEN + 1] = (uint8_t)(raws[k] >> 8);
        b.data[RAWLEN + 2] = (uint8_t)(raws[k] >> 16);
        b.data[RAWLEN + 3] = (uint8_t)(raws[k] >> 24);
        assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), MW_EIO);
    }
    memset(b.data + RAWLEN, 0, 4);
    b.data[RAWLEN] = 3;
    for (int v = 2; v < 256; v++) { /* string lengths past the end */
        b.data[HOST] = (uint8_t)v;
        assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), MW_EIO);
    }
    b.data[HOST] = 1;
    b.data[CAT] = MW_EVENT_CATEGORY_MAX + 1; /* over the cap (and the end) */
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), MW_EIO);
    b.data[CAT] = 1;
    b.data[SRC] = 200;
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), MW_EIO);
    b.data[SRC] = 4;
    assert_int_equal(mw_seg_decode_at(b.data, b.len, 1, 0, &e), 0); /* restored */
    mw_seg_buf_free(&b);
}

/* ---- the store -------------------------------------------------------- */

/* Segments close at MW_SEG_MAX_EVENTS events, at MW_SEG_MAX_BYTES bytes and
 * at commit; every event reads back. */
static void test_segment_boundaries(void **state)
{
    enum { N = 1000 };
    mw_store_t *s = open_store();
    mw_stored_event_t e;
    uint64_t ids[N], n = 0;
    char *big;
    mw_event_t *ev;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < N; i++) {
        ids[i] = put_gen(s, i, 5000 + i);
        assert_int_equal(ids[i], (uint64_t)i + 1); /* dense from 1 */
    }
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(raw_int("SELECT count(*) FROM event_segments"), 4); /* 256 256 256 232 */
    assert_int_equal(raw_int("SELECT max(n) FROM event_segments"), MW_SEG_MAX_EVENTS);
    assert_int_equal(raw_int("SELECT n FROM event_segments WHERE first_id = 769"), 232);
    assert_int_equal(raw_int("SELECT min_ingest_ns FROM event_segments WHERE first_id = 257"),
                     5000 + 256);
    assert_int_equal(raw_int("SELECT max_ingest_ns FROM event_segments WHERE first_id = 257"),
                     5000 + 511);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(mw_store_get_event(s, ids[i], &e), 0);
        check_gen(&e, ids[i], i, 5000 + i);
        mw_stored_event_clear(&e);
    }
    assert_int_equal(mw_store_get_event(s, N + 1, &e), MW_ENOTFOUND);
    assert_int_equal(mw_store_get_event(s, 0, &e), MW_ENOTFOUND);

    /* Big events: a segment closes once it holds MW_SEG_MAX_BYTES. */
    big = malloc(200 * 1024);
    assert_non_null(big);
    memset(big, 'B', 200 * 1024);
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < 3; i++) {
        ev = mw_event_new(MW_SRC_HTTP, big, 200 * 1024);
        assert_non_null(ev);
        assert_int_equal(mw_store_put_event(s, ev), 0);
        assert_int_equal(ev->id, (uint64_t)N + 1 + (uint64_t)i);
        mw_event_free(ev);
    }
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(raw_int("SELECT n FROM event_segments WHERE first_id = 1001"), 2);
    assert_int_equal(raw_int("SELECT n FROM event_segments WHERE first_id = 1003"), 1);
    assert_int_equal(mw_store_get_event(s, N + 2, &e), 0);
    assert_int_equal(e.raw_len, 200 * 1024);
    assert_memory_equal(e.raw, big, 200 * 1024);
    mw_stored_event_clear(&e);
    free(big);
    mw_store_close(s);
}

/* Ids: rollback gives the batch's ids back (they were never stored), a
 * commit makes them durable, a reopen goes on after the newest. */
static void test_ids_rollback_and_reopen(void **state)
{
    mw_store_t *s = open_store();
    mw_stored_event_t e;
    uint64_t id, n = 0;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < 300; i++)
        assert_int_equal(put_gen(s, i, 10), (uint64_t)i + 1);
    mw_store_rollback(s);
    assert_int_equal(mw_store_get_event(s, 1, &e), MW_ENOTFOUND);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 0);

    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < 300; i++)
        assert_int_equal(put_gen(s, i, 10), (uint64_t)i + 1);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(put_gen(s, 300, 11), 301);
    assert_int_equal(mw_store_commit(s), 0);
    /* An empty batch changes nothing. */
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_commit(s), 0);
    mw_store_close(s);

    s = open_store();
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 301);
    assert_int_equal(mw_store_get_event(s, 301, &e), 0);
    check_gen(&e, 301, 300, 11);
    mw_stored_event_clear(&e);
    assert_int_equal(mw_store_begin(s), 0);
    id = put_gen(s, 301, 12);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(id, 302);
    mw_store_close(s);
}

/* Expiry deletes whole segments whose newest event is older than the
 * cutoff, with their detections; a segment with one young event stays. */
static void test_expire_by_segment(void **state)
{
    mw_store_t *s = open_store();
    mw_threat_t t;
    mw_detection_t d;
    mw_stored_event_t e;
    uint64_t deleted = 0, n = 0, *ids = NULL;
    size_t nids = 0;

    (void)state;
    memset(&t, 0, sizeof t);
    snprintf(t.rule_id, sizeof t.rule_id, "r");
    t.severity = 2;
    t.confidence = 0.5;
    t.count = 1;
    memset(&d, 0, sizeof d);
    snprintf(d.rule_id, sizeof d.rule_id, "r");
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_put_threat(s, &t), 0);
    /* Segment 1 (ids 1..256): all old. Segment 2 (257..512): old but the
     * last. Segment 3 (513..600): all old. */
    for (int i = 0; i < 600; i++)
        put_gen(s, i, i == 511 ? 9000 : 100);
    for (uint64_t id = 1; id <= 600; id += 100)
        assert_int_equal(mw_store_put_detection(s, t.id, id, &d, 1), 0);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(raw_int("SELECT count(*) FROM detections"), 6);

    assert_int_equal(mw_store_expire_events(s, 1000, &deleted), 0);
    assert_int_equal(deleted, 256 + 88);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 256);
    assert_int_equal(mw_store_get_event(s, 1, &e), MW_ENOTFOUND);
    assert_int_equal(mw_store_get_event(s, 513, &e), MW_ENOTFOUND);
    assert_int_equal(mw_store_get_event(s, 257, &e), 0); /* old, kept by its segment */
    check_gen(&e, 257, 256, 100);
    mw_stored_event_clear(&e);
    /* Detections of 1, 101 and 201 went; those of 301, 401, 501 stay. */
    assert_int_equal(mw_store_threat_events(s, t.id, 100, &ids, &nids), 0);
    assert_int_equal(nids, 3);
    assert_int_equal(ids[0], 501);
    assert_int_equal(ids[1], 401);
    assert_int_equal(ids[2], 301);
    free(ids);
    /* A detection of an expired event, or of one never stored, is refused;
     * of a kept event from an earlier batch it is fine. */
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_put_detection(s, t.id, 5, &d, 1), MW_ENOTFOUND);
    assert_int_equal(mw_store_put_detection(s, t.id, 9999, &d, 1), MW_ENOTFOUND);
    assert_int_equal(mw_store_put_detection(s, t.id, 300, &d, 1), 0);
    assert_int_equal(mw_store_commit(s), 0);

    assert_int_equal(mw_store_expire_events(s, 10000, &deleted), 0);
    assert_int_equal(deleted, 256);
    assert_int_equal(raw_int("SELECT count(*) FROM detections"), 0);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 0);
    mw_store_close(s);
}

struct scan_ctx {
    uint64_t next; /* the id expected next */
    uint64_t seen;
    uint64_t stop_at; /* 0 = never */
};

static int scan_cb(const mw_stored_event_t *e, void *arg)
{
    struct scan_ctx *c = arg;
    size_t len;
    char *raw;
    int i = (int)(e->id - 1), ok;

    if (e->id != c->next)
        return -100;
    raw = gen_raw(i, &len);
    ok = e->raw_len == len && memcmp(e->raw, raw, len) == 0 && e->raw[len] == '\0' &&
         e->ingest_ns == 77 && e->ts_ns == -1000 + i;
    free(raw);
    if (!ok)
        return -101;
    c->next++;
    c->seen++;
    return c->stop_at && e->id == c->stop_at ? 42 : 0;
}

static void test_scan_events(void **state)
{
    mw_store_t *s = open_store();
    struct scan_ctx c;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < 700; i++)
        put_gen(s, i, 77);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 700; i < 710; i++)
        put_gen(s, i, 77);
    assert_int_equal(mw_store_commit(s), 0);

    c = (struct scan_ctx){.next = 1};
    assert_int_equal(mw_store_scan_events(s, 0, scan_cb, &c), 0);
    assert_int_equal(c.seen, 710);
    c = (struct scan_ctx){.next = 300}; /* from the middle of a segment */
    assert_int_equal(mw_store_scan_events(s, 300, scan_cb, &c), 0);
    assert_int_equal(c.seen, 411);
    c = (struct scan_ctx){.next = 256, .stop_at = 260}; /* the callback stops it */
    assert_int_equal(mw_store_scan_events(s, 256, scan_cb, &c), 42);
    assert_int_equal(c.seen, 5);
    c = (struct scan_ctx){.next = 1};
    assert_int_equal(mw_store_scan_events(s, 711, scan_cb, &c), 0);
    assert_int_equal(c.seen, 0);
    assert_int_equal(mw_store_scan_events(s, 1, NULL, &c), MW_EINVAL);
    mw_store_close(s);
}

/* A corrupt segment row is MW_EIO for get_event and scan, never a crash;
 * the other segments stay readable. */
static void test_corrupt_rows(void **state)
{
    mw_store_t *s = open_store();
    mw_stored_event_t e;
    struct scan_ctx c;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < 600; i++)
        put_gen(s, i, 77);
    assert_int_equal(mw_store_commit(s), 0);
    mw_store_close(s);
    /* Segment 257: truncated. Segment 513: n larger than its records. */
    raw_exec("UPDATE event_segments SET data = substr(data, 1, length(data) - 3) "
             "WHERE first_id = 257;"
             "UPDATE event_segments SET n = 200 WHERE first_id = 513;");

    s = open_store();
    assert_int_equal(mw_store_get_event(s, 5, &e), 0);
    mw_stored_event_clear(&e);
    memset(&e, 0x5a, sizeof e);
    assert_int_equal(mw_store_get_event(s, 257, &e), MW_EIO);
    assert_int_equal(e.raw_len, (size_t)0x5a5a5a5a5a5a5a5aull); /* untouched */
    assert_int_equal(mw_store_get_event(s, 300, &e), MW_EIO);
    assert_int_equal(mw_store_get_event(s, 513, &e), MW_EIO);
    c = (struct scan_ctx){.next = 1};
    assert_int_equal(mw_store_scan_events(s, 1, scan_cb, &c), MW_EIO);
    assert_int_equal(c.seen, 256); /* the first segment, none of the corrupt one */
    mw_store_close(s);

    raw_exec("UPDATE event_segments SET data = x'' WHERE first_id = 1;"
             "UPDATE event_segments SET data = 'text, not a segment' WHERE first_id = 257;");
    s = open_store();
    assert_int_equal(mw_store_get_event(s, 1, &e), MW_EIO);
    assert_int_equal(mw_store_get_event(s, 258, &e), MW_EIO);
    mw_store_close(s);
}

/* ---- migration 2 ------------------------------------------------------ */

/* A version-1 database: ids with gaps (as retention left them), binary raw,
 * a threat with detections, and raw big enough to split groups by bytes. */
static void make_v1_db(void)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;

    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(mw_store_sqlite_migrate(db, mw_store_migrations, 1, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "INSERT INTO events(id, ts_ns, ingest_ns, source, host, category, raw) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int id = 1; id <= 1200; id++) {
        size_t len;
        char *raw, host[16];
        int i = id - 1;

        if ((id > 300 && id < 500) || (id > 520 && id < 1000))
            continue; /* gaps */
        raw = gen_raw(i, &len);
        snprintf(host, sizeof host, "h%d", i % 7);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, -1000 + i);
        sqlite3_bind_int64(st, 3, id < 1100 ? 100 : 5000);
        sqlite3_bind_text(st, 4, mw_source_name((enum mw_source)(i % MW_SRC__COUNT)), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, i % 2 ? "auth" : "", -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, raw, (int)len, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
        free(raw);
    }
    /* Big events (100 KiB) and an unknown source name. */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO events VALUES (1201, 1, 6000, 'http', 'big', 'b', "
                                  "zeroblob(102400)), (1202, 2, 6000, 'http', 'big', 'b', "
                                  "zeroblob(102400)), (1203, 3, 6000, 'http', 'big', 'b', "
                                  "zeroblob(102400)), (1204, 4, 6000, 'carrier-pigeon', 'p', "
                                  "'', x'00ff');"
                                  "INSERT INTO threats(rule_id, detector, title, type, class, "
                                  "host, severity, confidence, first_seen_ns, last_seen_ns, "
                                  "count, status, updated_ns) VALUES ('r', 'sigma', 't', 'x', "
                                  "'y', 'h', 2, 0.5, 1, 2, 3, 0, 4);"
                                  "INSERT INTO detections(threat_id, event_id, rule_id, "
                                  "detector, ts_ns) VALUES (1, 7, 'r', 'sigma', 1), "
                                  "(1, 510, 'r', 'sigma', 1), (1, 1150, 'r', 'sigma', 1);"
                                  "COMMIT",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_migration_2(void **state)
{
    mw_store_t *s;
    mw_stored_event_t e;
    uint64_t n = 0, deleted = 0, *ids = NULL, id;
    size_t nids = 0;
    int64_t old;
    static const uint8_t zero[102400];

    (void)state;
    make_v1_db();
    s = open_store();
    assert_int_equal(mw_store_schema_version(s), mw_store_migration_count); /* 1 -> 2 -> 3 */
    assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 300 + 21 + 201 + 4);
    assert_int_equal(raw_int("SELECT sum(n) FROM event_segments"), 526);
    /* Runs of consecutive ids: 1..300 (256 + 44), 500..520, 1000..1204
     * (with the big events split by bytes). No segment crosses a gap. */
    assert_int_equal(raw_int("SELECT count(*) FROM event_segments WHERE (first_id <= 300 AND "
                             "first_id + n > 301) OR (first_id <= 520 AND first_id + n > 521)"),
                     0);
    assert_int_equal(raw_int("SELECT sum(n) FROM event_segments WHERE first_id BETWEEN 500 AND "
                             "520"),
                     21);
    assert_int_equal(raw_int("SELECT max(n) FROM event_segments"), MW_SEG_MAX_EVENTS);
    /* The three 100 KiB events do not fit one segment of 256 KiB. */
    assert_true(raw_int("SELECT count(*) FROM event_segments WHERE first_id + n > 1201") >= 2);
    assert_true(raw_int("SELECT max(length(data)) FROM event_segments") < (int64_t)MW_SEG_BUF_MAX);
    for (uint64_t k = 1; k <= 1200; k++) {
        int rc = mw_store_get_event(s, k, &e);

        if ((k > 300 && k < 500) || (k > 520 && k < 1000)) {
            assert_int_equal(rc, MW_ENOTFOUND);
            continue;
        }
        assert_int_equal(rc, 0);
        check_gen(&e, k, (int)k - 1, k < 1100 ? 100 : 5000);
        mw_stored_event_clear(&e);
    }
    for (uint64_t k = 1201; k <= 1203; k++) {
        assert_int_equal(mw_store_get_event(s, k, &e), 0);
        assert_int_equal(e.raw_len, sizeof zero);
        assert_memory_equal(e.raw, zero, sizeof zero);
        assert_string_equal(e.host, "big");
        mw_stored_event_clear(&e);
    }
    assert_int_equal(mw_store_get_event(s, 1204, &e), 0);
    assert_int_equal(e.source, MW_SRC_REPLAY); /* unknown name, read as before */
    assert_int_equal(e.raw_len, 2);
    assert_memory_equal(e.raw, "\0\xff", 2);
    mw_stored_event_clear(&e);

    /* Detections survived; new ids go on after the newest. */
    assert_int_equal(mw_store_threat_events(s, 1, 10, &ids, &nids), 0);
    assert_int_equal(nids, 3);
    assert_int_equal(ids[0], 1150);
    assert_int_equal(ids[2], 7);
    free(ids);
    assert_int_equal(mw_store_begin(s), 0);
    id = put_gen(s, 5, 7000);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(id, 1205);

    /* Retention works on migrated segments: those whose events were all
     * ingested before 1000; the first two runs (1..300, 500..520) entirely,
     * some of 1000..1099 (those not sharing a segment with 1100..). */
    old = raw_int("SELECT sum(n) FROM event_segments WHERE max_ingest_ns < 1000");
    assert_true(old >= 321 && old <= 421);
    assert_int_equal(mw_store_expire_events(s, 1000, &deleted), 0);
    assert_int_equal(deleted, old);
    assert_int_equal(mw_store_threat_events(s, 1, 10, &ids, &nids), 0);
    assert_int_equal(nids, 1);
    assert_int_equal(ids[0], 1150);
    free(ids);
    mw_store_close(s);

    /* Reopen: no migration again, same data. */
    s = open_store();
    assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), mw_store_migration_count);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 526 + 1 - (uint64_t)old);
    mw_store_close(s);
}

/* A version-1 database whose newest rows were all expired but one: the
 * high-water mark comes from max(id). An empty version-1 database works. */
static void test_migration_2_empty(void **state)
{
    sqlite3 *db = NULL;
    mw_store_t *s;
    uint64_t n = 1;
    int v = -1;

    (void)state;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(mw_store_sqlite_migrate(db, mw_store_migrations, 1, &v), 0);
    sqlite3_close(db);
    s = open_store();
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(put_gen(s, 0, 1), 1);
    assert_int_equal(mw_store_commit(s), 0);
    mw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_decode_truncated_and_counts),
        cmocka_unit_test(test_decode_bad_lengths),
        cmocka_unit_test_setup_teardown(test_segment_boundaries, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_ids_rollback_and_reopen, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_expire_by_segment, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_scan_events, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_rows, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_migration_2, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_migration_2_empty, per_test_setup, per_test_teardown),
    };
    int rc;

    mw_log_set_level(MW_LOG_ERROR); /* the corrupt-row tests log errors on purpose */
    if (make_tmpdir() != 0) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmpdir);
    return rc;
}
