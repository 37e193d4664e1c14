/* Unit tests of the SQLite store: schema and migrations, events, threats,
 * list filters and pagination, evidence, retention, agents, concurrency and
 * durability across kill -9. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "mwrasp/log.h"
#include "mwrasp/store.h"
#include "store/store_internal.h"

#include "unit/store_fixture.h"

static mw_event_t *make_event(const char *raw, size_t len, const char *host, int64_t ingest_ns)
{
    mw_event_t *ev = mw_event_new(MW_SRC_SYSLOG_TCP, raw, len);

    assert_non_null(ev);
    assert_int_equal(mw_event_set_host(ev, host, strlen(host)), 0);
    assert_int_equal(mw_event_set_category(ev, "auth", 4), 0);
    ev->ts_ns = ingest_ns - 5;
    ev->ingest_ns = ingest_ns;
    return ev;
}

/* Stores one event and returns its id (inside an open batch). */
static uint64_t put_event(mw_store_t *s, const char *raw, const char *host, int64_t ingest_ns)
{
    mw_event_t *ev = make_event(raw, strlen(raw), host, ingest_ns);
    uint64_t id;

    assert_int_equal(mw_store_put_event(s, ev), 0);
    id = ev->id;
    assert_true(id > 0);
    mw_event_free(ev);
    return id;
}

static mw_threat_t make_threat(const char *rule, const char *host, int sev, int64_t seen)
{
    mw_threat_t t;

    memset(&t, 0, sizeof t);
    snprintf(t.rule_id, sizeof t.rule_id, "%s", rule);
    snprintf(t.detector, sizeof t.detector, "sigma");
    snprintf(t.title, sizeof t.title, "Title of %s", rule);
    snprintf(t.type, sizeof t.type, "credential-access");
    snprintf(t.threat_class, sizeof t.threat_class, "signature");
    snprintf(t.host, sizeof t.host, "%s", host);
    t.severity = sev;
    t.confidence = 0.5;
    t.first_seen_ns = seen;
    t.last_seen_ns = seen;
    t.count = 1;
    t.status = MW_THREAT_NEW;
    t.updated_ns = seen;
    return t;
}

static mw_detection_t make_detection(const char *rule)
{
    mw_detection_t d;

    memset(&d, 0, sizeof d);
    snprintf(d.detector, sizeof d.detector, "sigma");
    snprintf(d.rule_id, sizeof d.rule_id, "%s", rule);
    d.severity = 3;
    d.confidence = 0.5;
    return d;
}

/* ---- schema ----------------------------------------------------------- */

static void test_schema_create_and_reopen(void **state)
{
    mw_store_t *s;
    int64_t applied;
    sqlite3 *db;
    sqlite3_stmt *st;

    (void)state;
    s = open_store();
    assert_int_equal(mw_store_schema_version(s), mw_store_migration_count);
    mw_store_close(s);

    assert_int_equal(raw_int("PRAGMA user_version"), mw_store_migration_count);
    assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), mw_store_migration_count);
    assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                             "('event_segments','store_meta','threats','detections','agents')"),
                     5);
    assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);
    applied = raw_int("SELECT applied_ns FROM schema_migrations WHERE version = 1");

    /* Reopen: same version, migrations not applied again. */
    s = open_store();
    assert_int_equal(mw_store_schema_version(s), mw_store_migration_count);
    mw_store_close(s);
    assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), mw_store_migration_count);
    assert_int_equal(raw_int("SELECT applied_ns FROM schema_migrations WHERE version = 1"),
                     applied);

    /* The database is in WAL mode (persistent in the file). */
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_schema_newer_refused(void **state)
{
    mw_store_t *s = open_store();
    mw_store_t *sentinel = (mw_store_t *)(uintptr_t)0x1234;
    mw_store_t *out = sentinel;

    (void)state;
    mw_store_close(s);
    raw_exec("PRAGMA user_version = 99");
    assert_int_equal(mw_store_open(dbpath, &out), MW_EIO);
    assert_ptr_equal(out, sentinel);
}

static void test_open_bad_path(void **state)
{
    mw_store_t *out = NULL;
    char p[700];

    (void)state;
    snprintf(p, sizeof p, "%s/no/such/dir/x.db", tmpdir);
    assert_int_equal(mw_store_open(p, &out), MW_EIO);
    assert_null(out);
    assert_int_equal(mw_store_open(NULL, &out), MW_EINVAL);
    assert_int_equal(mw_store_open("", &out), MW_EINVAL);
}

static void test_migrations_atomic(void **state)
{
    static const char m1[] =
        "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_ns INTEGER);"
        "CREATE TABLE a(x);";
    static const char bad2[] = "CREATE TABLE b(y); INSERT INTO no_such_table VALUES (1);";
    static const char good2[] = "CREATE TABLE b(y); INSERT INTO a VALUES (7);";
    const char *const bad[] = {m1, bad2};
    const char *const good[] = {m1, good2};
    sqlite3 *db = NULL;
    int v = -1;

    (void)state;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    /* The second migration fails: the first stays, nothing of the second. */
    assert_int_equal(mw_store_sqlite_migrate(db, bad, 2, &v), MW_EIO);
    assert_int_equal(v, 1);
    sqlite3_close(db);
    assert_int_equal(raw_int("PRAGMA user_version"), 1);
    assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'b'"), 0);
    assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), 1);

    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(mw_store_sqlite_migrate(db, good, 2, &v), 0);
    assert_int_equal(v, 2);
    /* Re-running applies nothing (the INSERT would add a second row). */
    assert_int_equal(mw_store_sqlite_migrate(db, good, 2, &v), 0);
    assert_int_equal(v, 2);
    /* Knowing only version 1 refuses a version 2 database. */
    assert_int_equal(mw_store_sqlite_migrate(db, good, 1, &v), MW_EIO);
    sqlite3_close(db);
    assert_int_equal(raw_int("SELECT count(*) FROM a"), 1);
    assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), 2);
}

/* ---- events ----------------------------------------------------------- */

static void test_events_binary_raw(void **state)
{
    static const char bin[] = {'a', '\0', 'b', '\xff', '\0', '\n', '\x80', 'z'};
    mw_store_t *s = open_store();
    mw_event_t *ev1 = make_event(bin, sizeof bin, "web-01", 1000);
    mw_event_t *ev2 = make_event("", 0, "", 2000);
    mw_stored_event_t got = {0};
    uint64_t n = 99;

    (void)state;
    ev1->source = MW_SRC_HTTP;
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mw_store_put_event(s, ev1), MW_EINVAL); /* outside a batch */
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_begin(s), MW_EINVAL); /* already in one */
    assert_int_equal(mw_store_put_event(s, ev1), 0);
    assert_int_equal(mw_store_put_event(s, ev2), 0);
    assert_int_equal(mw_store_commit(s), 0);
    assert_true(ev1->id > 0 && ev2->id > ev1->id);

    assert_int_equal(mw_store_get_event(s, ev1->id, &got), 0);
    assert_int_equal(got.id, ev1->id);
    assert_int_equal(got.raw_len, sizeof bin);
    assert_memory_equal(got.raw, bin, sizeof bin);
    assert_int_equal(got.raw[got.raw_len], '\0');
    assert_string_equal(got.host, "web-01");
    assert_string_equal(got.category, "auth");
    assert_int_equal(got.source, MW_SRC_HTTP);
    assert_int_equal(got.ts_ns, 995);
    assert_int_equal(got.ingest_ns, 1000);
    mw_stored_event_clear(&got);
    assert_null(got.raw);

    assert_int_equal(mw_store_get_event(s, ev2->id, &got), 0);
    assert_int_equal(got.raw_len, 0);
    assert_string_equal(got.raw, "");
    assert_string_equal(got.host, "");
    assert_int_equal(got.source, MW_SRC_SYSLOG_TCP);
    mw_stored_event_clear(&got);

    memset(&got, 0x5a, sizeof got);
    assert_int_equal(mw_store_get_event(s, ev2->id + 100, &got), MW_ENOTFOUND);
    assert_int_equal(got.raw_len, (size_t)0x5a5a5a5a5a5a5a5aull); /* untouched */
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 2);

    mw_event_free(ev1);
    mw_event_free(ev2);
    mw_store_close(s);
}

static void test_rollback(void **state)
{
    mw_store_t *s = open_store();
    uint64_t n = 0;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    put_event(s, "kept", "h", 1);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < 10; i++)
        put_event(s, "dropped", "h", 2);
    mw_store_rollback(s);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mw_store_commit(s), MW_EINVAL); /* no batch */
    mw_store_rollback(s); /* harmless */
    /* The write lock was released: another batch works. */
    assert_int_equal(mw_store_begin(s), 0);
    put_event(s, "kept2", "h", 3);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 2);
    mw_store_close(s);
}

struct intruder {
    mw_store_t *s;
    int put_rc, commit_rc;
};

static void *intruder_main(void *arg)
{
    struct intruder *in = arg;
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, "x", 1);

    in->put_rc = ev ? mw_store_put_event(in->s, ev) : MW_ENOMEM;
    in->commit_rc = mw_store_commit(in->s);
    mw_store_rollback(in->s); /* not its batch: must do nothing */
    mw_event_free(ev);
    return NULL;
}

/* Only the thread that began a batch may write into it or end it. */
static void test_batch_owner_only(void **state)
{
    mw_store_t *s = open_store();
    struct intruder in = {.s = s};
    pthread_t th;
    uint64_t n = 0;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    put_event(s, "mine", "h", 1);
    assert_int_equal(pthread_create(&th, NULL, intruder_main, &in), 0);
    pthread_join(th, NULL);
    assert_int_equal(in.put_rc, MW_EINVAL);
    assert_int_equal(in.commit_rc, MW_EINVAL);
    put_event(s, "mine too", "h", 2);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 2);
    mw_store_close(s);
}

/* ---- threats ---------------------------------------------------------- */

static void test_threat_insert_update_resolve(void **state)
{
    mw_store_t *s = open_store();
    mw_threat_t t = make_threat("r-1", "db-7", 3, 100);
    mw_threat_t u, got;
    enum mw_threat_status st;
    uint64_t n;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_put_threat(s, &t), 0);
    assert_true(t.id > 0);
    /* A worse severity (4) and lower confidence do not lower the threat. */
    u = t;
    u.severity = 4;
    u.confidence = 0.2;
    u.last_seen_ns = 200;
    u.count = 2;
    assert_int_equal(mw_store_put_threat(s, &u), 0);
    assert_int_equal(mw_store_commit(s), 0);

    assert_int_equal(mw_store_get_threat(s, t.id, &got), 0);
    assert_string_equal(got.rule_id, "r-1");
    assert_string_equal(got.detector, "sigma");
    assert_string_equal(got.title, "Title of r-1");
    assert_string_equal(got.type, "credential-access");
    assert_string_equal(got.threat_class, "signature");
    assert_string_equal(got.host, "db-7");
    assert_int_equal(got.severity, 3);
    assert_true(got.confidence == 0.5);
    assert_int_equal(got.first_seen_ns, 100);
    assert_int_equal(got.last_seen_ns, 200);
    assert_int_equal(got.count, 2);
    assert_int_equal(got.status, MW_THREAT_NEW);

    /* A better severity and higher confidence raise it. */
    assert_int_equal(mw_store_begin(s), 0);
    u.severity = 1;
    u.confidence = 0.9;
    u.last_seen_ns = 300;
    u.first_seen_ns = 50; /* an out-of-order detection widens the span */
    u.count = 3;
    assert_int_equal(mw_store_put_threat(s, &u), 0);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_get_threat(s, t.id, &got), 0);
    assert_int_equal(got.first_seen_ns, 50);
    assert_int_equal(got.severity, 1);
    assert_true(got.confidence == 0.9);
    assert_int_equal(got.last_seen_ns, 300);
    assert_int_equal(got.count, 3);

    /* Status changes; resolved threats take no more updates. */
    assert_int_equal(mw_store_set_threat_status(s, t.id, MW_THREAT_ACKNOWLEDGED), 0);
    assert_int_equal(mw_store_get_threat(s, t.id, &got), 0);
    assert_int_equal(got.status, MW_THREAT_ACKNOWLEDGED);
    assert_true(got.updated_ns > 300);
    assert_int_equal(mw_store_set_threat_status(s, t.id, MW_THREAT_RESOLVED), 0);
    assert_int_equal(mw_store_begin(s), 0);
    u.count = 4;
    u.last_seen_ns = 400;
    assert_int_equal(mw_store_put_threat(s, &u), MW_ENOTFOUND);
    u.id = t.id + 1000; /* does not exist */
    assert_int_equal(mw_store_put_threat(s, &u), MW_ENOTFOUND);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_get_threat(s, t.id, &got), 0);
    assert_int_equal(got.count, 3);
    assert_int_equal(got.last_seen_ns, 300);
    assert_int_equal(got.status, MW_THREAT_RESOLVED);

    assert_int_equal(mw_store_set_threat_status(s, t.id + 1000, MW_THREAT_NEW), MW_ENOTFOUND);
    assert_int_equal(mw_store_set_threat_status(s, t.id, MW_THREAT__COUNT), MW_EINVAL);
    assert_int_equal(mw_store_get_threat(s, t.id + 1000, &got), MW_ENOTFOUND);
    assert_int_equal(mw_store_get_threat(s, 0, &got), MW_ENOTFOUND);

    /* Invalid threats are refused before touching the database. */
    assert_int_equal(mw_store_begin(s), 0);
    u = make_threat("bad", "h", 0, 1);
    assert_int_equal(mw_store_put_threat(s, &u), MW_EINVAL);
    u = make_threat("bad", "h", 6, 1);
    assert_int_equal(mw_store_put_threat(s, &u), MW_EINVAL);
    u = make_threat("bad", "h", 2, 1);
    u.confidence = 1.5;
    assert_int_equal(mw_store_put_threat(s, &u), MW_EINVAL);
    assert_int_equal(u.id, 0);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_count_threats(s, &n), 0);
    assert_int_equal(n, 1);

    assert_string_equal(mw_threat_status_name(MW_THREAT_RESPONDING), "responding");
    assert_int_equal(mw_threat_status_parse("acknowledged", &st), 0);
    assert_int_equal(st, MW_THREAT_ACKNOWLEDGED);
    assert_int_equal(mw_threat_status_parse("Resolved", &st), MW_EINVAL);
    mw_store_close(s);
}

static void test_threat_long_strings_bounded(void **state)
{
    mw_store_t *s = open_store();
    mw_threat_t t = make_threat("x", "h", 2, 1), got;

    (void)state;
    /* Fill every array completely, without a terminating NUL. */
    memset(t.rule_id, 'r', sizeof t.rule_id);
    memset(t.title, 't', sizeof t.title);
    memset(t.host, 'h', sizeof t.host);
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_put_threat(s, &t), 0);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_get_threat(s, t.id, &got), 0);
    assert_int_equal(strlen(got.rule_id), sizeof got.rule_id - 1);
    assert_int_equal(strlen(got.title), sizeof got.title - 1);
    assert_int_equal(strlen(got.host), sizeof got.host - 1);
    assert_int_equal(got.rule_id[0], 'r');
    mw_store_close(s);
}

/* ---- lists ------------------------------------------------------------ */

#define NLIST 60
static mw_threat_t listed[NLIST];

static void fill_threats(mw_store_t *s)
{
    static const char *hosts[] = {"a", "b", "c"};

    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < NLIST; i++) {
        char rule[32];

        snprintf(rule, sizeof rule, "rule-%d", i);
        listed[i] = make_threat(rule, hosts[i % 3], 1 + i % 5, 1000 + i * 10);
        listed[i].status = (enum mw_threat_status)(i % 4);
        assert_int_equal(mw_store_put_threat(s, &listed[i]), 0);
    }
    assert_int_equal(mw_store_commit(s), 0);
}

static int matches(const mw_threat_t *t, const struct mw_threat_query *q)
{
    return (!q->severity || t->severity == q->severity) &&
           (!q->max_severity || t->severity <= q->max_severity) &&
           (q->status < 0 || (int)t->status == q->status) &&
           (!q->since_ns || t->last_seen_ns >= q->since_ns) &&
           (!q->host || strcmp(t->host, q->host) == 0) && (!q->cursor || t->id < q->cursor);
}

/* Checks one query against a brute-force filter of what was inserted. */
static void check_query(mw_store_t *s, struct mw_threat_query q)
{
    mw_threat_t *out = NULL;
    size_t n = 0, want = 0;
    uint64_t next = 1;
    uint64_t prev = UINT64_MAX;

    assert_int_equal(mw_store_list_threats(s, &q, &out, &n, &next), 0);
    for (int i = NLIST - 1; i >= 0; i--) {
        if (!matches(&listed[i], &q))
            continue;
        if (want < q.limit) {
            assert_true(want < n);
            assert_int_equal(out[want].id, listed[i].id);
            assert_string_equal(out[want].rule_id, listed[i].rule_id);
        }
        want++;
    }
    assert_int_equal(n, want < q.limit ? want : q.limit);
    for (size_t i = 0; i < n; i++) {
        assert_true(out[i].id < prev);
        prev = out[i].id;
    }
    if (want > q.limit)
        assert_int_equal(next, out[n - 1].id);
    else
        assert_int_equal(next, 0);
    free(out);
}

static void test_list_filters(void **state)
{
    mw_store_t *s = open_store();
    struct mw_threat_query q;
    mw_threat_t *out = (mw_threat_t *)(uintptr_t)1;
    size_t n = 7;
    uint64_t next = 7;

    (void)state;
    fill_threats(s);
    const struct mw_threat_query base = {.status = -1, .limit = 1000};
    q = base;
    check_query(s, q);
    q = base, q.severity = 2;
    check_query(s, q);
    q = base, q.max_severity = 2;
    check_query(s, q);
    q = base, q.status = MW_THREAT_RESOLVED;
    check_query(s, q);
    q = base, q.status = MW_THREAT_NEW;
    check_query(s, q);
    q = base, q.since_ns = 1300;
    check_query(s, q);
    q = base, q.host = "b";
    check_query(s, q);
    q = base, q.host = "nope";
    check_query(s, q);
    q = base, q.host = "a", q.max_severity = 3, q.status = MW_THREAT_NEW, q.since_ns = 1100;
    check_query(s, q);
    q = base, q.severity = 4, q.max_severity = 3; /* contradictory: empty */
    check_query(s, q);
    q = base, q.host = "c", q.limit = 5;
    check_query(s, q);
    q = base, q.cursor = listed[30].id, q.limit = 7;
    check_query(s, q);

    /* Bad queries leave outputs untouched. */
    q = base, q.limit = 0;
    assert_int_equal(mw_store_list_threats(s, &q, &out, &n, &next), MW_EINVAL);
    q.limit = 1001;
    assert_int_equal(mw_store_list_threats(s, &q, &out, &n, &next), MW_EINVAL);
    q = base, q.severity = 6;
    assert_int_equal(mw_store_list_threats(s, &q, &out, &n, &next), MW_EINVAL);
    q = base, q.status = MW_THREAT__COUNT;
    assert_int_equal(mw_store_list_threats(s, &q, &out, &n, &next), MW_EINVAL);
    assert_ptr_equal(out, (mw_threat_t *)(uintptr_t)1);
    assert_int_equal(n, 7);
    assert_int_equal(next, 7);
    mw_store_close(s);
}

static void test_pagination(void **state)
{
    enum { N = 250 };
    mw_store_t *s = open_store();
    static uint64_t ids[N];
    static int seen[N];
    struct mw_threat_query q = {.status = -1, .limit = 100};
    mw_threat_t *out;
    size_t n, pages = 0, total = 0;
    uint64_t next;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < N; i++) {
        mw_threat_t t = make_threat("p", "h", 3, i);

        assert_int_equal(mw_store_put_threat(s, &t), 0);
        ids[i] = t.id;
    }
    assert_int_equal(mw_store_commit(s), 0);

    do {
        assert_int_equal(mw_store_list_threats(s, &q, &out, &n, &next), 0);
        pages++;
        for (size_t i = 0; i < n; i++) {
            int found = 0;

            for (int j = 0; j < N; j++) {
                if (ids[j] == out[i].id) {
                    seen[j]++;
                    found = 1;
                }
            }
            assert_true(found);
        }
        total += n;
        free(out);
        q.cursor = next;
    } while (next != 0);
    assert_int_equal(pages, 3);
    assert_int_equal(total, N);
    for (int j = 0; j < N; j++)
        assert_int_equal(seen[j], 1);

    /* Exactly one full page: no next cursor. */
    q.cursor = ids[100]; /* ids below it: 100 of them */
    assert_int_equal(mw_store_list_threats(s, &q, &out, &n, &next), 0);
    assert_int_equal(n, 100);
    assert_int_equal(next, 0);
    free(out);
    mw_store_close(s);
}

static void test_open_threats(void **state)
{
    mw_store_t *s = open_store();
    mw_threat_t *out = NULL;
    size_t n = 0, want = 0;

    (void)state;
    fill_threats(s);
    assert_int_equal(mw_store_open_threats(s, 1250, &out, &n), 0);
    for (int i = 0; i < NLIST; i++) {
        int found = 0;

        for (size_t k = 0; k < n; k++)
            found += out[k].id == listed[i].id;
        if (listed[i].status != MW_THREAT_RESOLVED && listed[i].last_seen_ns >= 1250) {
            assert_int_equal(found, 1);
            want++;
        } else {
            assert_int_equal(found, 0);
        }
    }
    assert_int_equal(n, want);
    assert_true(want > 0);
    free(out);
    mw_store_close(s);
}

/* ---- evidence and retention ------------------------------------------- */

static void test_evidence(void **state)
{
    mw_store_t *s = open_store();
    mw_threat_t t = make_threat("ev", "h", 2, 1);
    mw_detection_t d = make_detection("ev");
    uint64_t ev[5], *ids = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_put_threat(s, &t), 0);
    for (int i = 0; i < 5; i++) {
        ev[i] = put_event(s, "login failed", "h", 10 + i);
        assert_int_equal(mw_store_put_detection(s, t.id, ev[i], &d, 10 + i), 0);
    }
    /* A link to a missing event fails alone; the batch goes on. */
    assert_int_equal(mw_store_put_detection(s, t.id, ev[4] + 50, &d, 1), MW_ENOTFOUND);
    assert_int_equal(mw_store_put_detection(s, t.id + 50, ev[0], &d, 1), MW_ENOTFOUND);
    assert_int_equal(mw_store_put_detection(s, t.id, 0, &d, 1), MW_EINVAL);
    assert_int_equal(mw_store_commit(s), 0);

    assert_int_equal(mw_store_threat_events(s, t.id, 3, &ids, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], ev[4]);
    assert_int_equal(ids[1], ev[3]);
    assert_int_equal(ids[2], ev[2]);
    free(ids);
    assert_int_equal(mw_store_threat_events(s, t.id, 100, &ids, &n), 0);
    assert_int_equal(n, 5);
    free(ids);
    assert_int_equal(mw_store_threat_events(s, t.id + 9, 100, &ids, &n), 0);
    assert_int_equal(n, 0);
    free(ids);
    assert_int_equal(raw_int("SELECT count(*) FROM detections"), 5);
    mw_store_close(s);
}

static void test_expire(void **state)
{
    enum { OLD = 25000, NEW = 10 }; /* more than two chunks of old events */
    mw_store_t *s = open_store();
    mw_threat_t t = make_threat("ex", "h", 2, 1);
    mw_detection_t d = make_detection("ex");
    uint64_t newids[NEW], *ids = NULL, deleted = 0, n = 0;
    size_t nids = 0;
    char raw[64];

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_put_threat(s, &t), 0);
    for (int i = 0; i < OLD; i++) {
        snprintf(raw, sizeof raw, "old event %d", i);
        uint64_t id = put_event(s, raw, "h", 1000 + i % 100);
        if (i % 1000 == 0)
            assert_int_equal(mw_store_put_detection(s, t.id, id, &d, 1), 0);
    }
    /* Retention is exact to the segment; a segment never spans batches, so
     * the new events (another batch) share no segment with old ones. */
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < NEW; i++) {
        newids[i] = put_event(s, "new event", "h", 1000000 + i);
        assert_int_equal(mw_store_put_detection(s, t.id, newids[i], &d, 2), 0);
    }
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(raw_int("SELECT count(*) FROM detections"), OLD / 1000 + NEW);

    assert_int_equal(mw_store_expire_events(s, 500000, &deleted), 0);
    assert_int_equal(deleted, OLD);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, NEW);
    assert_int_equal(raw_int("SELECT count(*) FROM detections"), NEW);
    assert_int_equal(raw_int("SELECT min(min_ingest_ns) FROM event_segments"), 1000000);
    assert_int_equal(mw_store_get_event(s, newids[0] - 1, &(mw_stored_event_t){0}), MW_ENOTFOUND);
    assert_int_equal(mw_store_threat_events(s, t.id, 1000, &ids, &nids), 0);
    assert_int_equal(nids, NEW);
    for (size_t i = 0; i < nids; i++)
        assert_int_equal(ids[i], newids[NEW - 1 - i]);
    free(ids);
    assert_int_equal(mw_store_count_threats(s, &n), 0);
    assert_int_equal(n, 1); /* threats stay */

    /* Nothing left to expire. */
    assert_int_equal(mw_store_expire_events(s, 500000, &deleted), 0);
    assert_int_equal(deleted, 0);
    /* From inside a batch it is refused instead of deadlocking. */
    assert_int_equal(mw_store_begin(s), 0);
    assert_int_equal(mw_store_expire_events(s, 500000, &deleted), MW_EINVAL);
    mw_store_rollback(s);
    mw_store_close(s);
}

/* Retention may delete every event; ids still never repeat, also across a
 * reopen (the high-water mark is kept in store_meta). */
static void test_expire_ids_never_reused(void **state)
{
    mw_store_t *s = open_store();
    uint64_t last = 0, deleted = 0, n = 0, id;

    (void)state;
    assert_int_equal(mw_store_begin(s), 0);
    for (int i = 0; i < 5; i++)
        last = put_event(s, "old", "h", 100 + i);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(mw_store_expire_events(s, 1000, &deleted), 0);
    assert_int_equal(deleted, 5);
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(raw_int("SELECT count(*) FROM event_segments"), 0);
    assert_int_equal(mw_store_begin(s), 0);
    id = put_event(s, "new", "h", 2000);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(id, last + 1);
    last = id;
    assert_int_equal(mw_store_expire_events(s, 3000, &deleted), 0);
    assert_int_equal(deleted, 1);
    mw_store_close(s);

    s = open_store();
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mw_store_begin(s), 0);
    id = put_event(s, "after reopen", "h", 4000);
    assert_int_equal(mw_store_commit(s), 0);
    assert_int_equal(id, last + 1);
    mw_store_close(s);
}

/* The WAL stays bounded under sustained writes (checkpoints keep up). */
static void test_wal_bounded(void **state)
{
    /* Thresholds in bytes, turned into pages of whatever size the store uses. */
    enum { BATCHES = 60, PER = 100, RAW = 1000, WAKE_BYTES = 64 << 10, HARD_BYTES = 1 << 20 };
    mw_store_t *s = open_store();
    char raw[RAW + 1], wal[700];
    struct stat sb;
    off_t max_wal = 0;
    uint64_t n = 0;
    mw_stored_event_t e;
    int64_t page;

    (void)state;
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    page = raw_int("PRAGMA page_size");
    assert_true(page >= 512);
    mw_store_sqlite_set_checkpoint(s, (int)(WAKE_BYTES / page), (int)(HARD_BYTES / page));
    memset(raw, 'x', RAW);
    raw[RAW] = '\0';
    for (int b = 0; b < BATCHES; b++) {
        assert_int_equal(mw_store_begin(s), 0);
        for (int i = 0; i < PER; i++) {
            int k = snprintf(raw, 32, "b%d-i%d", b, i);

            raw[k] = 'x';
            put_event(s, raw, "h", b);
        }
        assert_int_equal(mw_store_commit(s), 0);
        if (stat(wal, &sb) == 0 && sb.st_size > max_wal)
            max_wal = sb.st_size;
    }
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, BATCHES * PER);
    /* About 6 MB went through a WAL capped near HARD_BYTES plus a batch (and
     * a WAL frame header per page). */
    assert_true(max_wal > 0);
    assert_true(max_wal < (off_t)(HARD_BYTES + (256 << 10)) / page * (page + 24));
    assert_int_equal(mw_store_get_event(s, 1, &e), 0);
    assert_int_equal(e.raw_len, RAW);
    assert_memory_equal(e.raw, "b0-i0x", 6);
    mw_stored_event_clear(&e);
    mw_store_close(s);
}

/* ---- agents ----------------------------------------------------------- */

static mw_agent_rec_t make_agent(const char *id, const char *role, double trust)
{
    mw_agent_rec_t a;

    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.role, sizeof a.role, "%s", role);
    snprintf(a.host, sizeof a.host, "host-%s", id);
    a.last_seen_ns = 42;
    a.trust = trust;
    return a;
}

static void test_agents(void **state)
{
    mw_store_t *s = open_store();
    mw_agent_rec_t a = make_agent("b-2", "monitor", 0.5);
    mw_agent_rec_t b = make_agent("a-1", "defender", 0.9);
    mw_agent_rec_t *out = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(mw_store_list_agents(s, &out, &n), 0);
    assert_int_equal(n, 0);
    free(out);
    assert_int_equal(mw_store_put_agent(s, &a), 0);
    assert_int_equal(mw_store_put_agent(s, &b), 0);
    a.trust = 0.25;
    a.last_seen_ns = 77;
    snprintf(a.role, sizeof a.role, "coordinator");
    assert_int_equal(mw_store_put_agent(s, &a), 0); /* update */
    b.trust = 2.0;
    assert_int_equal(mw_store_put_agent(s, &b), MW_EINVAL);
    memset(b.id, 0, sizeof b.id);
    b.trust = 0.1;
    assert_int_equal(mw_store_put_agent(s, &b), MW_EINVAL);

    assert_int_equal(mw_store_list_agents(s, &out, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].id, "a-1");
    assert_string_equal(out[0].role, "defender");
    assert_true(out[0].trust == 0.9);
    assert_string_equal(out[1].id, "b-2");
    assert_string_equal(out[1].role, "coordinator");
    assert_string_equal(out[1].host, "host-b-2");
    assert_int_equal(out[1].last_seen_ns, 77);
    assert_true(out[1].trust == 0.25);
    free(out);
    mw_store_close(s);
}

/* ---- concurrency ------------------------------------------------------ */

enum { C_BATCHES = 40, C_BATCH = 250, C_READERS = 6 };

struct conc {
    mw_store_t *s;
    uint64_t threat_id;
    atomic_int writer_done;
    atomic_int failures;
    atomic_int reads;
};

static void *conc_writer(void *arg)
{
    struct conc *c = arg;
    char raw[64];

    for (int b = 0; b < C_BATCHES; b++) {
        if (mw_store_begin(c->s) != 0) {
            atomic_fetch_add(&c->failures, 1);
            break;
        }
        for (int i = 0; i < C_BATCH; i++) {
            int len = snprintf(raw, sizeof raw, "batch %d event %d", b, i);
            mw_event_t *ev = mw_event_new(MW_SRC_JSON_TCP, raw, (size_t)len);

            if (!ev || mw_store_put_event(c->s, ev) != 0)
                atomic_fetch_add(&c->failures, 1);
            mw_event_free(ev);
        }
        if (mw_store_commit(c->s) != 0)
            atomic_fetch_add(&c->failures, 1);
    }
    atomic_store(&c->writer_done, 1);
    return NULL;
}

static void *conc_reader(void *arg)
{
    struct conc *c = arg;
    uint64_t last = 0, n;
    struct mw_threat_query q = {.status = -1, .limit = 10};
    mw_threat_t *out, one;
    size_t nt;
    uint64_t next;
    int done;

    do {
        done = atomic_load(&c->writer_done);
        if (mw_store_count_events(c->s, &n) != 0 || n < last || n % C_BATCH != 0)
            atomic_fetch_add(&c->failures, 1); /* never a partial batch */
        last = n;
        if (mw_store_list_threats(c->s, &q, &out, &nt, &next) != 0 || nt != 1)
            atomic_fetch_add(&c->failures, 1);
        free(out);
        if (mw_store_get_threat(c->s, c->threat_id, &one) != 0)
            atomic_fetch_add(&c->failures, 1);
        /* An API-style write between the writer's batches. */
        if (mw_store_set_threat_status(c->s, c->threat_id, MW_THREAT_ACKNOWLEDGED) != 0)
            atomic_fetch_add(&c->failures, 1);
        atomic_fetch_add(&c->reads, 1);
    } while (!done);
    if (last != (uint64_t)C_BATCHES * C_BATCH)
        atomic_fetch_add(&c->failures, 1);
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    struct conc c = {0};
    pthread_t w, r[C_READERS];
    mw_threat_t t = make_threat("c", "h", 2, 1);

    (void)state;
    c.s = open_store();
    assert_int_equal(mw_store_begin(c.s), 0);
    assert_int_equal(mw_store_put_threat(c.s, &t), 0);
    assert_int_equal(mw_store_commit(c.s), 0);
    c.threat_id = t.id;
    for (int i = 0; i < C_READERS; i++)
        assert_int_equal(pthread_create(&r[i], NULL, conc_reader, &c), 0);
    assert_int_equal(pthread_create(&w, NULL, conc_writer, &c), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < C_READERS; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(atomic_load(&c.failures), 0);
    assert_true(atomic_load(&c.reads) >= C_READERS);
    mw_store_close(c.s);
}

/* ---- durability ------------------------------------------------------- */

enum { K_EVENTS = 4096 };

/* "ev-<i>", a NUL, then "bin": raw bytes with a NUL inside. */
static size_t crash_raw(char *buf, size_t cap, int i)
{
    int n = snprintf(buf, cap, "ev-%d", i);

    assert_true(n > 0 && (size_t)n + 4 <= cap);
    memcpy(buf + n + 1, "bin", 3);
    return (size_t)n + 4;
}

/* Child: commits a batch and a status change, starts another batch it never
 * commits, and dies by SIGKILL. Exits with a code > 0 on any failure. */
static void crash_child(void)
{
    mw_store_t *s = NULL;
    mw_threat_t t = make_threat("k", "h", 1, 1);
    mw_detection_t d = make_detection("k");
    char raw[64];

    if (mw_store_open(dbpath, &s) != 0 || mw_store_begin(s) != 0 || mw_store_put_threat(s, &t) != 0)
        _exit(2);
    for (int i = 0; i < K_EVENTS; i++) {
        size_t len = crash_raw(raw, sizeof raw, i);
        mw_event_t *ev = mw_event_new(MW_SRC_HTTP, raw, len);

        if (!ev || mw_store_put_event(s, ev) != 0)
            _exit(3);
        if (i % 512 == 0 && mw_store_put_detection(s, t.id, ev->id, &d, 1) != 0)
            _exit(4);
        mw_event_free(ev);
    }
    if (mw_store_commit(s) != 0)
        _exit(5);
    if (mw_store_set_threat_status(s, t.id, MW_THREAT_RESPONDING) != 0)
        _exit(6);
    /* Uncommitted: must vanish. */
    if (mw_store_begin(s) != 0)
        _exit(7);
    for (int i = 0; i < 100; i++) {
        mw_event_t *ev = mw_event_new(MW_SRC_HTTP, "lost", 4);

        if (!ev || mw_store_put_event(s, ev) != 0)
            _exit(8);
        mw_event_free(ev);
    }
    raise(SIGKILL);
    _exit(9);
}

static void test_crash_durability(void **state)
{
    mw_store_t *s;
    mw_stored_event_t e;
    mw_threat_t *out = NULL, got;
    uint64_t n = 0, next, *ids = NULL;
    size_t nt = 0, nids = 0;
    struct mw_threat_query q = {.status = -1, .limit = 10};
    int status = 0;
    pid_t pid;
    char want[64];

    (void)state;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        crash_child();
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status))
        fail_msg("child exited with %d instead of being killed", WEXITSTATUS(status));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    s = open_store();
    assert_int_equal(mw_store_count_events(s, &n), 0);
    assert_int_equal(n, K_EVENTS);
    for (uint64_t id = 1; id <= K_EVENTS; id++) {
        size_t len = crash_raw(want, sizeof want, (int)(id - 1));

        assert_int_equal(mw_store_get_event(s, id, &e), 0);
        assert_int_equal(e.raw_len, len);
        assert_memory_equal(e.raw, want, len);
        mw_stored_event_clear(&e);
    }
    assert_int_equal(mw_store_list_threats(s, &q, &out, &nt, &next), 0);
    assert_int_equal(nt, 1);
    assert_int_equal(mw_store_get_threat(s, out[0].id, &got), 0);
    assert_int_equal(got.status, MW_THREAT_RESPONDING);
    assert_int_equal(mw_store_threat_events(s, out[0].id, 100, &ids, &nids), 0);
    assert_int_equal(nids, K_EVENTS / 512);
    free(ids);
    free(out);
    mw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_create_and_reopen, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_schema_newer_refused, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_open_bad_path, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_migrations_atomic, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_events_binary_raw, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_rollback, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_batch_owner_only, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_threat_insert_update_resolve, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_threat_long_strings_bounded, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_pagination, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_open_threats, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_evidence, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_expire, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_expire_ids_never_reused, per_test_setup,
                                        per_test_teardown),
        cmocka_unit_test_setup_teardown(test_wal_bounded, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_agents, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_readers, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_crash_durability, per_test_setup, per_test_teardown),
    };
    int rc;

    mw_log_set_level(MW_LOG_ERROR);
    if (make_tmpdir() != 0) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmpdir);
    return rc;
}
