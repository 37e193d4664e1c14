/* The SQLite backend of the store (docs/internals/store.md).
 *
 * Raw events are packed into segments (segment.c): put_event assigns the id
 * and appends the encoded event to the open segment, which is written as one
 * row when full and at commit. *
 * One read-write connection behind a recursive mutex: mw_store_begin takes
 * it, commit/rollback release it, so the writer thread owns it for a whole
 * batch, and the occasional API write (status, agents) or retention chunk
 * waits between batches. Queries use a pool of read-only connections, each
 * used by one thread at a time, so readers never wait for the writer (WAL).
 * Every statement is prepared once and cached on its connection. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "mwrasp/log.h"
#include "mwrasp/metrics.h"
#include "mwrasp/store.h"
#include "store/store_internal.h"

#define READERS 4
#define BUSY_TIMEOUT_MS 5000
#define EXPIRE_CHUNK 40 /* segments per retention transaction (<= 10 240 events) */
#define EVIDENCE_MAX 10000 /* cap on mw_store_threat_events */
#define OPEN_THREATS_MAX 65536 /* cap on mw_store_open_threats */
#define AGENTS_MAX 100000 /* cap on mw_store_list_agents */
#define LIST_LIMIT_MAX 1000
#define PAGE_SIZE 16384 /* new databases only; measured, docs/internals/store.md */
#define CKPT_BYTES (8 << 20) /* WAL size that wakes the checkpointer */
#define CKPT_HARD_BYTES (256 << 20) /* WAL size at which the writer checkpoints */

/* Writer statements. */
enum {
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_INS_SEGMENT,
    W_FIND_SEGMENT,
    W_META_COUNT,
    W_META_NEXT,
    W_INS_THREAT,
    W_UPD_THREAT,
    W_INS_DETECTION,
    W_SET_STATUS,
    W_PUT_AGENT,
    W_EXPIRE_SELECT,
    W_EXPIRE_DETECTIONS,
    W_EXPIRE_SEGMENT,
    W__COUNT
};

static const char *const w_sql[W__COUNT] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_INS_SEGMENT] = "INSERT INTO event_segments(first_id, n, min_ingest_ns, max_ingest_ns, "
                      "data) VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_FIND_SEGMENT] = "SELECT first_id, n FROM event_segments WHERE first_id <= ?1 "
                       "ORDER BY first_id DESC LIMIT 1",
    [W_META_COUNT] = "UPDATE store_meta SET value = value + ?1 WHERE key = 'event_count'",
    [W_META_NEXT] = "UPDATE store_meta SET value = max(value, ?1) WHERE key = 'next_event_id'",
    [W_INS_THREAT] = "INSERT INTO threats(rule_id, detector, title, type, class, host, severity, "
                     "confidence, first_seen_ns, last_seen_ns, count, status, updated_ns, tags) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [W_UPD_THREAT] = "UPDATE threats SET last_seen_ns = max(last_seen_ns, ?1), count = ?2, "
                     "first_seen_ns = min(first_seen_ns, ?7), "
                     "severity = min(severity, ?3), confidence = max(confidence, ?4), "
                     "updated_ns = ?5 WHERE id = ?6 AND status != 3",
    [W_INS_DETECTION] = "INSERT INTO detections(threat_id, event_id, rule_id, detector, ts_ns) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_SET_STATUS] = "UPDATE threats SET status = ?1, updated_ns = ?2 WHERE id = ?3",
    [W_PUT_AGENT] = "INSERT INTO agents(id, role, host, last_seen_ns, trust) "
                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET "
                    "role = excluded.role, host = excluded.host, "
                    "last_seen_ns = excluded.last_seen_ns, trust = excluded.trust",
    /* Whole segments, kept while any of their events is inside retention. */
    [W_EXPIRE_SELECT] = "SELECT first_id, n FROM event_segments WHERE max_ingest_ns < ?1 "
                        "LIMIT ?2",
    [W_EXPIRE_DETECTIONS] = "DELETE FROM detections WHERE event_id >= ?1 AND event_id < ?2",
    [W_EXPIRE_SEGMENT] = "DELETE FROM event_segments WHERE first_id = ?1",
};

/* Reader statements (the list query is built per filter combination). */
enum {
    R_GET_THREAT,
    R_OPEN_THREATS,
    R_THREAT_EVENTS,
    R_GET_EVENT,
    R_COUNT_EVENTS,
    R_COUNT_THREATS,
    R_LIST_AGENTS,
    R_SCAN_EVENTS,
    R__COUNT
};

#define THREAT_COLS                                                                                \
    "id, rule_id, detector, title, type, class, host, severity, confidence, first_seen_ns, "       \
    "last_seen_ns, count, status, updated_ns, tags"

static const char *const r_sql[R__COUNT] = {
    [R_GET_THREAT] = "SELECT " THREAT_COLS " FROM threats WHERE id = ?1",
    [R_OPEN_THREATS] = "SELECT " THREAT_COLS " FROM threats WHERE status != 3 AND "
                       "last_seen_ns >= ?1 ORDER BY last_seen_ns DESC LIMIT ?2",
    [R_THREAT_EVENTS] = "SELECT event_id FROM detections WHERE threat_id = ?1 "
                        "ORDER BY event_id DESC LIMIT ?2",
    [R_GET_EVENT] = "SELECT first_id, n, data FROM event_segments WHERE first_id <= ?1 "
                    "ORDER BY first_id DESC LIMIT 1",
    [R_COUNT_EVENTS] = "SELECT value FROM store_meta WHERE key = 'event_count'",
    [R_COUNT_THREATS] = "SELECT count(*) FROM threats",
    [R_LIST_AGENTS] = "SELECT id, role, host, last_seen_ns, trust FROM agents ORDER BY id "
                      "LIMIT ?1",
    /* From the segment holding ?1 (or the first after it) on. */
    [R_SCAN_EVENTS] = "SELECT first_id, n, data FROM event_segments WHERE first_id >= "
                      "coalesce((SELECT first_id FROM event_segments WHERE first_id <= ?1 "
                      "ORDER BY first_id DESC LIMIT 1), 0) ORDER BY first_id",
};

/* Filter bits of mw_store_list_threats; one cached statement per mask. */
enum { F_SEVERITY = 1, F_MAX_SEVERITY = 2, F_STATUS = 4, F_SINCE = 8, F_HOST = 16, F__MASKS = 32 };

struct reader {
    sqlite3 *db;
    sqlite3_stmt *st[R__COUNT];
    sqlite3_stmt *list[F__MASKS];
    bool busy;
};

struct mw_store {
    pthread_mutex_t wmu; /* recursive: see mw_store_set_threat_status */
    sqlite3 *wdb;
    sqlite3_stmt *w[W__COUNT];
    _Atomic bool in_batch; /* a batch is open; owner says by whom */
    pthread_t owner;
    int version;

    /* Raw-event segments (writer, under wmu). Ids are dense: the open
     * segment holds seg_first .. next_id - 1 when seg_n > 0. */
    uint64_t next_id; /* the next event id */
    uint64_t batch_first; /* next_id at begin; rollback returns to it */
    uint64_t seg_first;
    uint32_t seg_n;
    int64_t seg_min_ingest, seg_max_ingest;
    struct mw_seg_buf seg; /* the open segment, encoded; reused */

    pthread_mutex_t rmu;
    pthread_cond_t rcv;
    struct reader readers[READERS];

    /* Checkpointer: copies the WAL into the database off the writer's path. */
    sqlite3 *cdb;
    pthread_t cthread;
    bool cthread_started;
    pthread_mutex_t cmu;
    pthread_cond_t ccv;
    bool ckpt_wanted;
    bool ckpt_running;
    bool ckpt_stop;
    int ckpt_pages; /* CKPT_BYTES in pages unless a test changed it */
    int ckpt_hard; /* CKPT_HARD_BYTES in pages unless a test changed it */
};

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/* Process-wide, once, before any other SQLite call of this module: no
 * allocation statistics (they take a global mutex on every malloc). */
static void sqlite_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* MISUSE if already initialized: harmless */
    sqlite3_initialize();
}

/* ---- helpers ---------------------------------------------------------- */

static int64_t now_ns(void)
{
    return mw_now_realtime_ns();
}

/* Binds a fixed-size char array, never reading past it. */
static int bind_arr(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
    return sqlite3_bind_text(st, i, s, (int)strnlen(s, cap), SQLITE_STATIC);
}

static int bind_str(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        s = "";
    return sqlite3_bind_text(st, i, s, (int)strnlen(s, INT_MAX), SQLITE_STATIC);
}

/* Copies a text column into dst[cap], truncating (never overflowing). */
static void col_copy(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);

    if (!t)
        n = 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, t, n);
    dst[n] = '\0';
}

static void row_to_threat(sqlite3_stmt *st, mw_threat_t *t)
{
    int status;

    memset(t, 0, sizeof *t);
    t->id = (uint64_t)sqlite3_column_int64(st, 0);
    col_copy(t->rule_id, sizeof t->rule_id, st, 1);
    col_copy(t->detector, sizeof t->detector, st, 2);
    col_copy(t->title, sizeof t->title, st, 3);
    col_copy(t->type, sizeof t->type, st, 4);
    col_copy(t->threat_class, sizeof t->threat_class, st, 5);
    col_copy(t->host, sizeof t->host, st, 6);
    t->severity = sqlite3_column_int(st, 7);
    t->confidence = sqlite3_column_double(st, 8);
    t->first_seen_ns = sqlite3_column_int64(st, 9);
    t->last_seen_ns = sqlite3_column_int64(st, 10);
    t->count = (uint64_t)sqlite3_column_int64(st, 11);
    status = sqlite3_column_int(st, 12);
    t->status =
        (status >= 0 && status < MW_THREAT__COUNT) ? (enum mw_threat_status)status : MW_THREAT_NEW;
    t->updated_ns = sqlite3_column_int64(st, 13);
    col_copy(t->tags, sizeof t->tags, st, 14);
}

static int64_t clamp_i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Runs a statement that returns no rows; resets it. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int ret = 0;

    if (rc != SQLITE_DONE)
        ret = mw_store_sqlite_fail(db, what);
    sqlite3_reset(st);
    return ret;
}

/* ---- connections ------------------------------------------------------ */

static int open_conn(const char *path, int flags, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc;

    rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        mw_error("store", "open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        MW_INC(mw_metrics.store_errors);
        sqlite3_close(db);
        return MW_EIO;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    *out = db;
    return 0;
}

static int exec(sqlite3 *db, const char *sql, const char *what)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return mw_store_sqlite_fail(db, what);
    return 0;
}

/* The next event id: past the newest segment and past the high-water mark
 * (which outlives segments deleted by retention). Also the page size. */
static int load_writer_state(mw_store_t *s, int *page_size)
{
    static const char sql[] =
        "SELECT (SELECT value FROM store_meta WHERE key = 'next_event_id'),"
        " (SELECT first_id + n FROM event_segments ORDER BY first_id DESC LIMIT 1),"
        " (SELECT page_size FROM pragma_page_size())";
    sqlite3_stmt *st = NULL;
    int64_t a, b;
    int rc = 0;

    if (sqlite3_prepare_v2(s->wdb, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = mw_store_sqlite_fail(s->wdb, "read the next event id");
        goto out;
    }
    a = sqlite3_column_int64(st, 0);
    b = sqlite3_column_int64(st, 1);
    s->next_id = (uint64_t)(a > b ? a : b);
    if (s->next_id < 1)
        s->next_id = 1;
    *page_size = sqlite3_column_int(st, 2);
    if (*page_size < 512)
        *page_size = PAGE_SIZE;
out:
    sqlite3_finalize(st);
    return rc;
}

static int setup_writer(mw_store_t *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *mode;
    char sql[64];
    int rc, page_size = PAGE_SIZE;

    rc = open_conn(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->wdb);
    if (rc)
        goto out;
    /* Only takes effect on a new database, before anything is written
     * (WAL mode writes the header). */
    snprintf(sql, sizeof sql, "PRAGMA page_size=%d", PAGE_SIZE);
    rc = exec(s->wdb, sql, "set page size");
    if (rc)
        goto out;
    /* journal_mode answers with the mode actually in effect. */
    if (sqlite3_prepare_v2(s->wdb, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = mw_store_sqlite_fail(s->wdb, "set WAL mode");
        goto out;
    }
    mode = sqlite3_column_text(st, 0);
    if (!mode || strcmp((const char *)mode, "wal") != 0) {
        mw_error("store", "%s: WAL journal mode refused (got %s)", path,
                 mode ? (const char *)mode : "nothing");
        MW_INC(mw_metrics.store_errors);
        rc = MW_EIO;
        goto out;
    }
    sqlite3_finalize(st); /* a running statement would block the migrations */
    st = NULL;
    rc = exec(s->wdb,
              "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
              "PRAGMA cache_size=-32768;",
              "set pragmas");
    if (rc)
        goto out;
    rc = mw_store_sqlite_register_pack(s->wdb); /* migration 2 uses it */
    if (rc)
        goto out;
    rc =
        mw_store_sqlite_migrate(s->wdb, mw_store_migrations, mw_store_migration_count, &s->version);
    if (rc)
        goto out;
    for (int i = 0; i < W__COUNT; i++) {
        if (sqlite3_prepare_v3(s->wdb, w_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->w[i], NULL) !=
            SQLITE_OK) {
            rc = mw_store_sqlite_fail(s->wdb, "prepare writer statement");
            goto out;
        }
    }
    rc = load_writer_state(s, &page_size);
    if (rc)
        goto out;
    s->ckpt_pages = CKPT_BYTES / page_size;
    s->ckpt_hard = CKPT_HARD_BYTES / page_size;
out:
    sqlite3_finalize(st);
    return rc;
}

/* ---- checkpointer ------------------------------------------------------ */

static void *ckpt_main(void *arg)
{
    mw_store_t *s = arg;
    int log_pages, done_pages;

    pthread_mutex_lock(&s->cmu);
    for (;;) {
        while (!s->ckpt_wanted && !s->ckpt_stop)
            pthread_cond_wait(&s->ccv, &s->cmu);
        if (s->ckpt_stop)
            break;
        s->ckpt_wanted = false;
        s->ckpt_running = true;
        pthread_mutex_unlock(&s->cmu);
        /* PASSIVE: never blocks the writer or readers; it copies what it can. */
        if (sqlite3_wal_checkpoint_v2(s->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages,
                                      &done_pages) != SQLITE_OK &&
            sqlite3_errcode(s->cdb) != SQLITE_BUSY)
            (void)mw_store_sqlite_fail(s->cdb, "checkpoint");
        pthread_mutex_lock(&s->cmu);
        s->ckpt_running = false;
        pthread_cond_broadcast(&s->ccv);
    }
    pthread_mutex_unlock(&s->cmu);
    return NULL;
}

/* Runs on the writer after each commit, write lock already released. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    mw_store_t *s = arg;

    if (pages >= s->ckpt_hard) {
        /* The checkpointer is behind: bound the WAL from here. Wait for a
         * running background checkpoint (else ours would get SQLITE_BUSY)
         * and keep it from starting another until ours is done, so that
         * every frame is copied and the next batch restarts the WAL. */
        pthread_mutex_lock(&s->cmu);
        while (s->ckpt_running)
            pthread_cond_wait(&s->ccv, &s->cmu);
        if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) != SQLITE_OK)
            (void)mw_store_sqlite_fail(db, "checkpoint");
        pthread_mutex_unlock(&s->cmu);
    } else if (pages >= s->ckpt_pages) {
        pthread_mutex_lock(&s->cmu);
        if (!s->ckpt_wanted) {
            s->ckpt_wanted = true;
            pthread_cond_signal(&s->ccv);
        }
        pthread_mutex_unlock(&s->cmu);
    }
    return SQLITE_OK;
}

static int ckpt_start(mw_store_t *s, const char *path)
{
    int rc = open_conn(path, SQLITE_OPEN_READWRITE, &s->cdb);

    if (rc)
        return rc;
    rc = exec(s->cdb, "PRAGMA synchronous=NORMAL", "set checkpointer pragmas");
    if (rc)
        return rc;
    if (pthread_create(&s->cthread, NULL, ckpt_main, s) != 0) {
        mw_error("store", "cannot start the checkpoint thread");
        return MW_EIO;
    }
    s->cthread_started = true;
    sqlite3_wal_hook(s->wdb, wal_hook, s);
    return 0;
}

void mw_store_sqlite_set_checkpoint(mw_store_t *s, int wake_pages, int hard_pages)
{
    pthread_mutex_lock(&s->wmu); /* the hook runs under it */
    s->ckpt_pages = wake_pages;
    s->ckpt_hard = hard_pages;
    pthread_mutex_unlock(&s->wmu);
}

static void ckpt_stop(mw_store_t *s)
{
    if (s->cthread_started) {
        pthread_mutex_lock(&s->cmu);
        s->ckpt_stop = true;
        pthread_cond_signal(&s->ccv);
        pthread_mutex_unlock(&s->cmu);
        pthread_join(s->cthread, NULL);
        s->cthread_started = false;
    }
    if (s->wdb)
        sqlite3_wal_hook(s->wdb, NULL, NULL);
    sqlite3_close(s->cdb);
    s->cdb = NULL;
}

static void reader_close(struct reader *r)
{
    for (int i = 0; i < R__COUNT; i++)
        sqlite3_finalize(r->st[i]);
    for (int i = 0; i < F__MASKS; i++)
        sqlite3_finalize(r->list[i]);
    sqlite3_close(r->db);
    memset(r, 0, sizeof *r);
}

void mw_store_close(mw_store_t *s)
{
    if (!s)
        return;
    ckpt_stop(s);
    for (int i = 0; i < READERS; i++)
        reader_close(&s->readers[i]);
    if (s->wdb && !sqlite3_get_autocommit(s->wdb))
        sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < W__COUNT; i++)
        sqlite3_finalize(s->w[i]);
    sqlite3_close(s->wdb);
    mw_seg_buf_free(&s->seg);
    pthread_cond_destroy(&s->ccv);
    pthread_mutex_destroy(&s->cmu);
    pthread_cond_destroy(&s->rcv);
    pthread_mutex_destroy(&s->rmu);
    pthread_mutex_destroy(&s->wmu);
    free(s);
}

int mw_store_open(const char *path, mw_store_t **out)
{
    mw_store_t *s = NULL;
    pthread_mutexattr_t ma;
    int rc;

    if (!path || !*path || !out)
        return MW_EINVAL;
    pthread_once(&sqlite_once, sqlite_global_init);
    s = calloc(1, sizeof *s);
    if (!s)
        return MW_ENOMEM;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->wmu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->rcv, NULL);
    pthread_mutex_init(&s->cmu, NULL);
    pthread_cond_init(&s->ccv, NULL);

    rc = setup_writer(s, path);
    if (rc)
        goto out;
    for (int i = 0; i < READERS; i++) {
        rc = open_conn(path, SQLITE_OPEN_READONLY, &s->readers[i].db);
        if (rc)
            goto out;
    }
    rc = ckpt_start(s, path);
    if (rc)
        goto out;
    mw_info("store", "opened %s (schema version %d)", path, s->version);
    *out = s;
    s = NULL;
    rc = 0;
out:
    mw_store_close(s);
    return rc;
}

int mw_store_schema_version(mw_store_t *s)
{
    return s ? s->version : MW_EINVAL;
}

/* ---- reader pool ------------------------------------------------------ */

static struct reader *reader_get(mw_store_t *s)
{
    struct reader *r = NULL;

    pthread_mutex_lock(&s->rmu);
    for (;;) {
        for (int i = 0; i < READERS; i++) {
            if (!s->readers[i].busy) {
                r = &s->readers[i];
                r->busy = true;
                break;
            }
        }
        if (r)
            break;
        pthread_cond_wait(&s->rcv, &s->rmu);
    }
    pthread_mutex_unlock(&s->rmu);
    return r;
}

static void reader_put(mw_store_t *s, struct reader *r)
{
    pthread_mutex_lock(&s->rmu);
    r->busy = false;
    pthread_cond_signal(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

static int reader_stmt(struct reader *r, int which, sqlite3_stmt **out)
{
    *out = NULL; /* set on every path */
    if (!r->st[which] && sqlite3_prepare_v3(r->db, r_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                            &r->st[which], NULL) != SQLITE_OK)
        return mw_store_sqlite_fail(r->db, "prepare query");
    *out = r->st[which];
    return 0;
}

int mw_store_with_writer(mw_store_t *s, int (*fn)(sqlite3 *db, void *ctx), void *ctx)
{
    int rc;
    if (!s || !fn)
        return MW_EINVAL;
    pthread_mutex_lock(&s->wmu);
    rc = fn(s->wdb, ctx);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

int mw_store_with_reader(mw_store_t *s, int (*fn)(sqlite3 *db, void *ctx), void *ctx)
{
    struct reader *r;
    int rc;
    if (!s || !fn)
        return MW_EINVAL;
    r = reader_get(s);
    rc = fn(r->db, ctx);
    reader_put(s, r);
    return rc;
}

/* ---- batch writes ----------------------------------------------------- */

/* True when the calling thread owns the open batch (and so the mutex). */
static bool batch_mine(mw_store_t *s)
{
    return atomic_load_explicit(&s->in_batch, memory_order_acquire) &&
           pthread_equal(s->owner, pthread_self());
}

int mw_store_begin(mw_store_t *s)
{
    int rc;

    if (!s)
        return MW_EINVAL;
    pthread_mutex_lock(&s->wmu);
    if (s->in_batch) { /* this thread already holds a batch */
        pthread_mutex_unlock(&s->wmu);
        return MW_EINVAL;
    }
    rc = step_done(s->wdb, s->w[W_BEGIN], "begin batch");
    if (rc) {
        pthread_mutex_unlock(&s->wmu);
        return rc;
    }
    s->owner = pthread_self();
    s->batch_first = s->next_id;
    s->seg_n = 0;
    mw_seg_buf_reset(&s->seg);
    atomic_store_explicit(&s->in_batch, true, memory_order_release);
    return 0;
}

/* Writes the open segment (if any) as one row. */
static int seg_flush(mw_store_t *s)
{
    sqlite3_stmt *st = s->w[W_INS_SEGMENT];
    int rc;

    if (s->seg_n == 0)
        return 0;
    sqlite3_bind_int64(st, 1, (int64_t)s->seg_first);
    sqlite3_bind_int64(st, 2, s->seg_n);
    sqlite3_bind_int64(st, 3, s->seg_min_ingest);
    sqlite3_bind_int64(st, 4, s->seg_max_ingest);
    sqlite3_bind_blob(st, 5, s->seg.data, (int)s->seg.len, SQLITE_STATIC);
    rc = step_done(s->wdb, st, "insert event segment");
    sqlite3_clear_bindings(st); /* drop the pointer into s->seg */
    if (rc)
        return rc;
    s->seg_n = 0;
    mw_seg_buf_reset(&s->seg);
    return 0;
}

/* Resets the segment state after the batch ended (committed or not). */
static void seg_end_batch(mw_store_t *s, bool committed)
{
    if (!committed)
        s->next_id = s->batch_first; /* those ids were never stored */
    s->seg_n = 0;
    mw_seg_buf_reset(&s->seg);
}

int mw_store_put_event(mw_store_t *s, mw_event_t *ev)
{
    int rc;

    if (!s || !ev || !batch_mine(s))
        return MW_EINVAL;
    if (s->next_id > (uint64_t)INT64_MAX - MW_SEG_MAX_EVENTS)
        return MW_ELIMIT; /* ids exhausted: not in this universe */
    rc = mw_seg_append(&s->seg, ev->ts_ns, ev->ingest_ns, mw_source_name(ev->source), ev->host,
                       ev->category, ev->raw_len ? ev->raw : NULL, ev->raw ? ev->raw_len : 0);
    if (rc)
        return rc == MW_ENOMEM ? rc : MW_EINVAL;
    if (s->seg_n == 0) {
        s->seg_first = s->next_id;
        s->seg_min_ingest = s->seg_max_ingest = ev->ingest_ns;
    } else {
        if (ev->ingest_ns < s->seg_min_ingest)
            s->seg_min_ingest = ev->ingest_ns;
        if (ev->ingest_ns > s->seg_max_ingest)
            s->seg_max_ingest = ev->ingest_ns;
    }
    s->seg_n++;
    ev->id = s->next_id++;
    if (s->seg_n >= MW_SEG_MAX_EVENTS || s->seg.len >= MW_SEG_MAX_BYTES)
        return seg_flush(s);
    return 0;
}

/* Whether event id exists (for a detection link): ids of this batch exist
 * by construction; older ones are looked up. */
static int event_exists(mw_store_t *s, uint64_t id, bool *yes)
{
    sqlite3_stmt *st = s->w[W_FIND_SEGMENT];
    int step, rc = 0;

    *yes = false;
    if (id >= s->next_id)
        return 0;
    if (id >= s->batch_first) {
        *yes = true;
        return 0;
    }
    sqlite3_bind_int64(st, 1, (int64_t)id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *yes = id < (uint64_t)sqlite3_column_int64(st, 0) + (uint64_t)sqlite3_column_int64(st, 1);
    else if (step != SQLITE_DONE)
        rc = mw_store_sqlite_fail(s->wdb, "find event segment");
    sqlite3_reset(st);
    return rc;
}

static bool threat_valid(const mw_threat_t *t)
{
    return t->severity >= 1 && t->severity <= 5 && t->confidence >= 0.0 && t->confidence <= 1.0 &&
           (int)t->status >= 0 && t->status < MW_THREAT__COUNT && t->count <= (uint64_t)INT64_MAX;
}

int mw_store_put_threat(mw_store_t *s, mw_threat_t *t)
{
    sqlite3_stmt *st;
    int64_t upd;
    int rc;

    if (!s || !t || !batch_mine(s) || !threat_valid(t))
        return MW_EINVAL;
    upd = t->updated_ns ? t->updated_ns : now_ns();
    if (t->id == 0) {
        st = s->w[W_INS_THREAT];
        bind_arr(st, 1, t->rule_id, sizeof t->rule_id);
        bind_arr(st, 2, t->detector, sizeof t->detector);
        bind_arr(st, 3, t->title, sizeof t->title);
        bind_arr(st, 4, t->type, sizeof t->type);
        bind_arr(st, 5, t->threat_class, sizeof t->threat_class);
        bind_arr(st, 6, t->host, sizeof t->host);
        sqlite3_bind_int(st, 7, t->severity);
        sqlite3_bind_double(st, 8, t->confidence);
        sqlite3_bind_int64(st, 9, t->first_seen_ns);
        sqlite3_bind_int64(st, 10, t->last_seen_ns);
        sqlite3_bind_int64(st, 11, (int64_t)t->count);
        sqlite3_bind_int(st, 12, (int)t->status);
        sqlite3_bind_int64(st, 13, upd);
        bind_arr(st, 14, t->tags, sizeof t->tags);
        rc = step_done(s->wdb, st, "insert threat");
        if (rc)
            return rc;
        t->id = (uint64_t)sqlite3_last_insert_rowid(s->wdb);
        return 0;
    }
    if (t->id > (uint64_t)INT64_MAX)
        return MW_ENOTFOUND;
    st = s->w[W_UPD_THREAT];
    sqlite3_bind_int64(st, 1, t->last_seen_ns);
    sqlite3_bind_int64(st, 2, (int64_t)t->count);
    sqlite3_bind_int(st, 3, t->severity);
    sqlite3_bind_double(st, 4, t->confidence);
    sqlite3_bind_int64(st, 5, upd);
    sqlite3_bind_int64(st, 6, (int64_t)t->id);
    sqlite3_bind_int64(st, 7, t->first_seen_ns);
    rc = step_done(s->wdb, st, "update threat");
    if (rc)
        return rc;
    return sqlite3_changes(s->wdb) == 0 ? MW_ENOTFOUND : 0;
}

int mw_store_put_detection(mw_store_t *s, uint64_t threat_id, uint64_t event_id,
                           const mw_detection_t *d, int64_t ts_ns)
{
    sqlite3_stmt *st;
    bool exists = false;
    int rc;

    if (!s || !d || !batch_mine(s) || threat_id == 0 || event_id == 0 ||
        threat_id > (uint64_t)INT64_MAX || event_id > (uint64_t)INT64_MAX)
        return MW_EINVAL;
    rc = event_exists(s, event_id, &exists);
    if (rc)
        return rc;
    if (!exists) {
        mw_warn("store", "detection refers to unknown event %llu", (unsigned long long)event_id);
        return MW_ENOTFOUND;
    }
    st = s->w[W_INS_DETECTION];
    sqlite3_bind_int64(st, 1, (int64_t)threat_id);
    sqlite3_bind_int64(st, 2, (int64_t)event_id);
    bind_arr(st, 3, d->rule_id, sizeof d->rule_id);
    bind_arr(st, 4, d->detector, sizeof d->detector);
    sqlite3_bind_int64(st, 5, ts_ns);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        /* The statement failed alone; the batch goes on. */
        mw_warn("store", "detection refers to unknown threat %llu", (unsigned long long)threat_id);
        return MW_ENOTFOUND;
    }
    return mw_store_sqlite_fail(s->wdb, "insert detection");
}

int mw_store_commit(mw_store_t *s)
{
    int rc;

    if (!s || !batch_mine(s))
        return MW_EINVAL;
    rc = seg_flush(s);
    if (rc == 0 && s->next_id != s->batch_first) {
        /* The count and the high-water mark commit with the events. */
        sqlite3_bind_int64(s->w[W_META_COUNT], 1, (int64_t)(s->next_id - s->batch_first));
        rc = step_done(s->wdb, s->w[W_META_COUNT], "count events");
        if (rc == 0) {
            sqlite3_bind_int64(s->w[W_META_NEXT], 1, (int64_t)s->next_id);
            rc = step_done(s->wdb, s->w[W_META_NEXT], "next event id");
        }
    }
    if (rc == 0)
        rc = step_done(s->wdb, s->w[W_COMMIT], "commit batch");
    if (rc && !sqlite3_get_autocommit(s->wdb))
        step_done(s->wdb, s->w[W_ROLLBACK], "rollback batch");
    seg_end_batch(s, rc == 0);
    atomic_store_explicit(&s->in_batch, false, memory_order_release);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

void mw_store_rollback(mw_store_t *s)
{
    if (!s || !batch_mine(s))
        return;
    /* Some errors (I/O, full disk) already rolled the transaction back. */
    if (!sqlite3_get_autocommit(s->wdb))
        (void)step_done(s->wdb, s->w[W_ROLLBACK], "rollback batch");
    seg_end_batch(s, false);
    atomic_store_explicit(&s->in_batch, false, memory_order_release);
    pthread_mutex_unlock(&s->wmu);
}

/* ---- single writes outside batches ------------------------------------ */

int mw_store_set_threat_status(mw_store_t *s, uint64_t id, enum mw_threat_status st_)
{
    sqlite3_stmt *st;
    int rc;

    if (!s || (int)st_ < 0 || st_ >= MW_THREAT__COUNT)
        return MW_EINVAL;
    if (id == 0 || id > (uint64_t)INT64_MAX)
        return MW_ENOTFOUND;
    /* Recursive: from the writer thread inside its batch this joins the
     * batch (durable at its commit) instead of deadlocking. */
    pthread_mutex_lock(&s->wmu);
    st = s->w[W_SET_STATUS];
    sqlite3_bind_int(st, 1, (int)st_);
    sqlite3_bind_int64(st, 2, now_ns());
    sqlite3_bind_int64(st, 3, (int64_t)id);
    rc = step_done(s->wdb, st, "set threat status");
    if (rc == 0 && sqlite3_changes(s->wdb) == 0)
        rc = MW_ENOTFOUND;
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

int mw_store_put_agent(mw_store_t *s, const mw_agent_rec_t *a)
{
    sqlite3_stmt *st;
    int rc;

    if (!s || !a || strnlen(a->id, sizeof a->id) == 0 || !(a->trust >= 0.0 && a->trust <= 1.0))
        return MW_EINVAL;
    pthread_mutex_lock(&s->wmu);
    st = s->w[W_PUT_AGENT];
    bind_arr(st, 1, a->id, sizeof a->id);
    bind_arr(st, 2, a->role, sizeof a->role);
    bind_arr(st, 3, a->host, sizeof a->host);
    sqlite3_bind_int64(st, 4, a->last_seen_ns);
    sqlite3_bind_double(st, 5, a->trust);
    rc = step_done(s->wdb, st, "put agent");
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* Deletes the segments in seg[0..nseg) and their detections, and takes
 * their events off the count (inside the caller's transaction). */
static int expire_segments(mw_store_t *s, const int64_t (*seg)[2], int nseg, uint64_t *events)
{
    int64_t total = 0;
    int rc = 0;

    for (int i = 0; i < nseg && rc == 0; i++) {
        sqlite3_bind_int64(s->w[W_EXPIRE_DETECTIONS], 1, seg[i][0]);
        sqlite3_bind_int64(s->w[W_EXPIRE_DETECTIONS], 2, seg[i][0] + seg[i][1]);
        rc = step_done(s->wdb, s->w[W_EXPIRE_DETECTIONS], "expire detections");
        if (rc == 0) {
            sqlite3_bind_int64(s->w[W_EXPIRE_SEGMENT], 1, seg[i][0]);
            rc = step_done(s->wdb, s->w[W_EXPIRE_SEGMENT], "expire segment");
        }
        total += seg[i][1];
    }
    if (rc == 0 && total > 0) {
        sqlite3_bind_int64(s->w[W_META_COUNT], 1, -total);
        rc = step_done(s->wdb, s->w[W_META_COUNT], "count events");
    }
    if (rc == 0)
        *events = (uint64_t)total;
    return rc;
}

/* One chunk of retention in its own short transaction under the write lock:
 * up to EXPIRE_CHUNK segments whose newest event is older than the cutoff.
 * *nseg gets the number of segments, *n the number of events. */
static int expire_chunk(mw_store_t *s, int64_t older_than_ns, int *nseg, uint64_t *n)
{
    sqlite3_stmt *st = s->w[W_EXPIRE_SELECT];
    int64_t seg[EXPIRE_CHUNK][2];
    int cnt = 0, step = SQLITE_DONE, rc;

    pthread_mutex_lock(&s->wmu);
    if (s->in_batch) { /* called by the writer thread inside its batch */
        rc = MW_EINVAL;
        goto out;
    }
    rc = step_done(s->wdb, s->w[W_BEGIN], "begin expire");
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, older_than_ns);
    sqlite3_bind_int(st, 2, EXPIRE_CHUNK);
    while (cnt < EXPIRE_CHUNK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        seg[cnt][0] = sqlite3_column_int64(st, 0);
        seg[cnt][1] = sqlite3_column_int64(st, 1);
        cnt++;
    }
    if (cnt < EXPIRE_CHUNK && step != SQLITE_DONE)
        rc = mw_store_sqlite_fail(s->wdb, "select expired segments");
    sqlite3_reset(st);
    if (rc == 0)
        rc = expire_segments(s, (const int64_t(*)[2])seg, cnt, n);
    if (rc == 0)
        rc = step_done(s->wdb, s->w[W_COMMIT], "commit expire");
    if (rc && !sqlite3_get_autocommit(s->wdb))
        (void)step_done(s->wdb, s->w[W_ROLLBACK], "rollback expire");
    if (rc == 0)
        *nseg = cnt;
out:
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

int mw_store_expire_events(mw_store_t *s, int64_t older_than_ns, uint64_t *deleted)
{
    uint64_t total = 0, n;
    int nseg, rc;

    if (!s || !deleted)
        return MW_EINVAL;
    do {
        n = 0;
        nseg = 0;
        rc = expire_chunk(s, older_than_ns, &nseg, &n);
        if (rc)
            return rc;
        total += n;
    } while (nseg == EXPIRE_CHUNK);
    *deleted = total;
    return 0;
}

/* ---- queries ---------------------------------------------------------- */

static int build_list_sql(unsigned mask, char *buf, size_t cap)
{
    int n = snprintf(buf, cap,
                     "SELECT %s FROM threats WHERE id < ?1%s%s%s%s%s "
                     "ORDER BY id DESC LIMIT ?7",
                     THREAT_COLS, (mask & F_SEVERITY) ? " AND severity = ?2" : "",
                     (mask & F_MAX_SEVERITY) ? " AND severity <= ?3" : "",
                     (mask & F_STATUS) ? " AND status = ?4" : "",
                     (mask & F_SINCE) ? " AND last_seen_ns >= ?5" : "",
                     (mask & F_HOST) ? " AND host = ?6" : "");
    return (n > 0 && (size_t)n < cap) ? 0 : MW_EINVAL;
}

int mw_store_list_threats(mw_store_t *s, const struct mw_threat_query *q, mw_threat_t **out,
                          size_t *n, uint64_t *next_cursor)
{
    struct reader *r = NULL;
    sqlite3_stmt *st;
    mw_threat_t *arr = NULL;
    size_t cnt = 0;
    uint64_t next = 0;
    unsigned mask = 0;
    char sql[512];
    int rc, step;

    if (!s || !q || !out || !n || !next_cursor)
        return MW_EINVAL;
    if (q->limit < 1 || q->limit > LIST_LIMIT_MAX || q->severity < 0 || q->severity > 5 ||
        q->max_severity < 0 || q->max_severity > 5 || q->status < -1 ||
        q->status >= MW_THREAT__COUNT || q->since_ns < 0)
        return MW_EINVAL;
    if (q->host && strnlen(q->host, MW_EVENT_HOST_MAX + 1) > MW_EVENT_HOST_MAX)
        return MW_EINVAL;
    mask = (q->severity ? F_SEVERITY : 0) | (q->max_severity ? F_MAX_SEVERITY : 0) |
           (q->status >= 0 ? F_STATUS : 0) | (q->since_ns ? F_SINCE : 0) | (q->host ? F_HOST : 0);

    arr = malloc(q->limit * sizeof *arr);
    if (!arr)
        return MW_ENOMEM;
    r = reader_get(s);
    if (!r->list[mask]) {
        rc = build_list_sql(mask, sql, sizeof sql);
        if (rc)
            goto out;
        if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &r->list[mask], NULL) !=
            SQLITE_OK) {
            rc = mw_store_sqlite_fail(r->db, "prepare threat list");
            goto out;
        }
    }
    st = r->list[mask];
    sqlite3_bind_int64(st, 1, q->cursor ? clamp_i64(q->cursor) : INT64_MAX);
    if (mask & F_SEVERITY)
        sqlite3_bind_int(st, 2, q->severity);
    if (mask & F_MAX_SEVERITY)
        sqlite3_bind_int(st, 3, q->max_severity);
    if (mask & F_STATUS)
        sqlite3_bind_int(st, 4, q->status);
    if (mask & F_SINCE)
        sqlite3_bind_int64(st, 5, q->since_ns);
    if (mask & F_HOST)
        bind_str(st, 6, q->host);
    sqlite3_bind_int64(st, 7, (int64_t)q->limit + 1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == q->limit) { /* one more exists: there is a next page */
            next = arr[cnt - 1].id;
            break;
        }
        row_to_threat(st, &arr[cnt++]);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = mw_store_sqlite_fail(r->db, "list threats");
        sqlite3_reset(st);
        goto out;
    }
    sqlite3_reset(st);
    if (cnt == 0) {
        free(arr);
        arr = NULL;
    }
    *out = arr;
    *n = cnt;
    *next_cursor = next;
    arr = NULL;
    rc = 0;
out:
    if (r)
        reader_put(s, r);
    free(arr);
    return rc;
}

int mw_store_get_threat(mw_store_t *s, uint64_t id, mw_threat_t *out)
{
    struct reader *r;
    sqlite3_stmt *st;
    int rc, step;

    if (!s || !out)
        return MW_EINVAL;
    if (id == 0 || id > (uint64_t)INT64_MAX)
        return MW_ENOTFOUND;
    r = reader_get(s);
    rc = reader_stmt(r, R_GET_THREAT, &st);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        row_to_threat(st, out);
        rc = 0;
    } else if (step == SQLITE_DONE) {
        rc = MW_ENOTFOUND;
    } else {
        rc = mw_store_sqlite_fail(r->db, "get threat");
    }
    sqlite3_reset(st);
out:
    reader_put(s, r);
    return rc;
}

/* Steps st (already bound) to the end and collects every row into a
 * malloc'd array of elem-sized entries, each filled by fill(); *out and *n
 * are set only on success. what names the query in error messages. */
static int collect_rows(struct reader *r, sqlite3_stmt *st, size_t elem, size_t initial,
                        void (*fill)(sqlite3_stmt *st, void *dst), const char *what, void **out,
                        size_t *n)
{
    char *arr = NULL;
    size_t cnt = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : initial;
            char *tmp = realloc(arr, ncap * elem);
            if (!tmp) {
                sqlite3_reset(st);
                free(arr);
                return MW_ENOMEM;
            }
            arr = tmp;
            cap = ncap;
        }
        memset(arr + cnt * elem, 0, elem);
        fill(st, arr + cnt * elem);
        cnt++;
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        free(arr);
        return mw_store_sqlite_fail(r->db, what);
    }
    *out = arr;
    *n = cnt;
    return 0;
}

static void fill_threat(sqlite3_stmt *st, void *dst)
{
    row_to_threat(st, dst);
}

int mw_store_open_threats(mw_store_t *s, int64_t since_ns, mw_threat_t **out, size_t *n)
{
    struct reader *r;
    sqlite3_stmt *st;
    int rc;

    if (!s || !out || !n)
        return MW_EINVAL;
    r = reader_get(s);
    rc = reader_stmt(r, R_OPEN_THREATS, &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, since_ns);
        sqlite3_bind_int(st, 2, OPEN_THREATS_MAX);
        rc = collect_rows(r, st, sizeof **out, 64, fill_threat, "open threats", (void **)out, n);
    }
    reader_put(s, r);
    return rc;
}

int mw_store_threat_events(mw_store_t *s, uint64_t threat_id, uint32_t limit, uint64_t **ids,
                           size_t *n)
{
    struct reader *r;
    sqlite3_stmt *st;
    uint64_t *arr = NULL;
    size_t cnt = 0;
    int rc, step = SQLITE_DONE;

    if (!s || !ids || !n || limit == 0)
        return MW_EINVAL;
    if (limit > EVIDENCE_MAX)
        limit = EVIDENCE_MAX;
    arr = malloc(limit * sizeof *arr);
    if (!arr)
        return MW_ENOMEM;
    r = reader_get(s);
    rc = reader_stmt(r, R_THREAT_EVENTS, &st);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, clamp_i64(threat_id));
    sqlite3_bind_int(st, 2, (int)limit);
    while (cnt < limit && (step = sqlite3_step(st)) == SQLITE_ROW)
        arr[cnt++] = (uint64_t)sqlite3_column_int64(st, 0);
    if (cnt < limit && step != SQLITE_DONE) {
        rc = mw_store_sqlite_fail(r->db, "threat events");
        sqlite3_reset(st);
        goto out;
    }
    sqlite3_reset(st);
    if (cnt == 0) {
        free(arr);
        arr = NULL;
    }
    *ids = arr;
    *n = cnt;
    arr = NULL;
    rc = 0;
out:
    reader_put(s, r);
    free(arr);
    return rc;
}

/* A malloc'd NUL-terminated copy of p[0..n). */
static char *dup_n(const char *p, size_t n)
{
    char *d = malloc(n + 1);

    if (!d)
        return NULL;
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static enum mw_source parse_source(const char *name, size_t len)
{
    char buf[40];
    enum mw_source src;

    if (len >= sizeof buf)
        return MW_SRC_REPLAY;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return mw_source_parse(buf, &src) == 0 ? src : MW_SRC_REPLAY;
}

/* Decodes event `id` from the current row (first_id, n, data) of st. */
static int row_event(sqlite3 *db, sqlite3_stmt *st, uint64_t id, mw_stored_event_t *out)
{
    uint64_t first = (uint64_t)sqlite3_column_int64(st, 0);
    int64_t n = sqlite3_column_int64(st, 1);
    const void *data = sqlite3_column_blob(st, 2);
    size_t len = (size_t)sqlite3_column_bytes(st, 2);
    struct mw_seg_event se;
    mw_stored_event_t e = {0};
    int rc;

    if (n <= 0 || id < first || id - first >= (uint64_t)n)
        return MW_ENOTFOUND;
    rc = mw_seg_decode_at(data, len, (uint64_t)n, id - first, &se);
    if (rc) {
        mw_error("store", "event segment %llu is corrupt (event %llu unreadable)",
                 (unsigned long long)first, (unsigned long long)id);
        MW_INC(mw_metrics.store_errors);
        return data || sqlite3_errcode(db) != SQLITE_NOMEM ? MW_EIO : MW_ENOMEM;
    }
    e.id = id;
    e.ts_ns = se.ts_ns;
    e.ingest_ns = se.ingest_ns;
    e.source = parse_source(se.source, se.source_len);
    e.host = dup_n(se.host, se.host_len);
    e.category = dup_n(se.category, se.category_len);
    e.raw = dup_n(se.raw, se.raw_len);
    e.raw_len = se.raw_len;
    if (!e.host || !e.category || !e.raw) {
        mw_stored_event_clear(&e);
        return MW_ENOMEM;
    }
    *out = e;
    return 0;
}

int mw_store_get_event(mw_store_t *s, uint64_t id, mw_stored_event_t *out)
{
    struct reader *r;
    sqlite3_stmt *st;
    int rc, step;

    if (!s || !out)
        return MW_EINVAL;
    if (id == 0 || id > (uint64_t)INT64_MAX)
        return MW_ENOTFOUND;
    r = reader_get(s);
    rc = reader_stmt(r, R_GET_EVENT, &st);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)id);
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = MW_ENOTFOUND;
    else if (step != SQLITE_ROW)
        rc = mw_store_sqlite_fail(r->db, "get event");
    else
        rc = row_event(r->db, st, id, out);
    sqlite3_reset(st);
out:
    reader_put(s, r);
    return rc;
}

/* Copies p[0..n) and a NUL into the scan's scratch buffer at *o. */
static char *scratch_put(char *buf, size_t *o, const char *p, size_t n)
{
    char *d = buf + *o;

    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    *o += n + 1;
    return d;
}

int mw_store_scan_events(mw_store_t *s, uint64_t from_id, mw_store_event_cb cb, void *ctx)
{
    /* Largest record: host, category, raw and their NULs. */
    enum { SCRATCH = MW_EVENT_HOST_MAX + MW_EVENT_CATEGORY_MAX + MW_EVENT_MAX_BYTES + 3 };
    struct reader *r;
    sqlite3_stmt *st;
    struct mw_seg_reader sr;
    struct mw_seg_event se;
    mw_stored_event_t e;
    char *scratch = NULL;
    int rc, dec, step = SQLITE_DONE;

    if (!s || !cb)
        return MW_EINVAL;
    if (from_id == 0)
        from_id = 1;
    if (from_id > (uint64_t)INT64_MAX)
        return 0;
    scratch = malloc(SCRATCH);
    if (!scratch)
        return MW_ENOMEM;
    r = reader_get(s);
    rc = reader_stmt(r, R_SCAN_EVENTS, &st);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)from_id);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t first = (uint64_t)sqlite3_column_int64(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        const void *data = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);

        /* A segment is checked whole before any of its events is delivered. */
        dec = n > 0 ? mw_seg_reader_init(&sr, data, len, (uint64_t)n) : MW_EIO;
        while (dec == 0)
            dec = mw_seg_next(&sr, &se);
        if (dec == MW_ENOTFOUND)
            dec = mw_seg_reader_init(&sr, data, len, (uint64_t)n);
        while (dec == 0 && (dec = mw_seg_next(&sr, &se)) == 0) {
            size_t o = 0;
            uint64_t id = first + sr.i - 1;

            if (id < from_id)
                continue;
            memset(&e, 0, sizeof e);
            e.id = id;
            e.ts_ns = se.ts_ns;
            e.ingest_ns = se.ingest_ns;
            e.source = parse_source(se.source, se.source_len);
            e.host = scratch_put(scratch, &o, se.host, se.host_len);
            e.category = scratch_put(scratch, &o, se.category, se.category_len);
            e.raw = scratch_put(scratch, &o, se.raw, se.raw_len);
            e.raw_len = se.raw_len;
            rc = cb(&e, ctx);
            if (rc)
                break; /* the callback stops the scan */
        }
        if (rc == 0 && dec != MW_ENOTFOUND) { /* MW_ENOTFOUND: the segment's end */
            mw_error("store", "event segment %llu is corrupt", (unsigned long long)first);
            MW_INC(mw_metrics.store_errors);
            rc = MW_EIO;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = mw_store_sqlite_fail(r->db, "scan events");
    sqlite3_reset(st);
out:
    reader_put(s, r);
    free(scratch);
    return rc;
}

static int count_query(mw_store_t *s, int which, uint64_t *n)
{
    struct reader *r;
    sqlite3_stmt *st;
    int rc;

    if (!s || !n)
        return MW_EINVAL;
    r = reader_get(s);
    rc = reader_stmt(r, which, &st);
    if (rc)
        goto out;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *n = (uint64_t)sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = mw_store_sqlite_fail(r->db, "count");
    }
    sqlite3_reset(st);
out:
    reader_put(s, r);
    return rc;
}

int mw_store_count_events(mw_store_t *s, uint64_t *n)
{
    return count_query(s, R_COUNT_EVENTS, n);
}

int mw_store_count_threats(mw_store_t *s, uint64_t *n)
{
    return count_query(s, R_COUNT_THREATS, n);
}

static void fill_agent(sqlite3_stmt *st, void *dst)
{
    mw_agent_rec_t *a = dst;
    col_copy(a->id, sizeof a->id, st, 0);
    col_copy(a->role, sizeof a->role, st, 1);
    col_copy(a->host, sizeof a->host, st, 2);
    a->last_seen_ns = sqlite3_column_int64(st, 3);
    a->trust = sqlite3_column_double(st, 4);
}

int mw_store_list_agents(mw_store_t *s, mw_agent_rec_t **out, size_t *n)
{
    struct reader *r;
    sqlite3_stmt *st;
    int rc;

    if (!s || !out || !n)
        return MW_EINVAL;
    r = reader_get(s);
    rc = reader_stmt(r, R_LIST_AGENTS, &st);
    if (rc == 0) {
        sqlite3_bind_int(st, 1, AGENTS_MAX);
        rc = collect_rows(r, st, sizeof **out, 16, fill_agent, "list agents", (void **)out, n);
    }
    reader_put(s, r);
    return rc;
}
