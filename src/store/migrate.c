/* SQLite schema and its migrations (docs/internals/store.md).
 *
 * The schema version lives in PRAGMA user_version (in the database header,
 * so it commits atomically with the migration's DDL); schema_migrations is a
 * log of when each version was applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwrasp/event.h"
#include "mwrasp/log.h"
#include "mwrasp/metrics.h"
#include "store/store_internal.h"

/* Version 1: everything. Raw events keep their bytes exactly (BLOB); parsed
 * fields are not stored, they are re-derivable from raw. events.id is a plain
 * rowid (no AUTOINCREMENT: that costs a sqlite_sequence write per insert,
 * about a third of the insert rate); retention always keeps the newest event
 * so ids never repeat. */
static const char mig_1[] =
    "CREATE TABLE schema_migrations ("
    "  version INTEGER PRIMARY KEY,"
    "  applied_ns INTEGER NOT NULL);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  ts_ns INTEGER NOT NULL,"
    "  ingest_ns INTEGER NOT NULL,"
    "  source TEXT NOT NULL,"
    "  host TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  raw BLOB NOT NULL);"
    "CREATE INDEX events_ingest ON events(ingest_ns);"
    "CREATE TABLE threats ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  rule_id TEXT NOT NULL,"
    "  detector TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  class TEXT NOT NULL,"
    "  host TEXT NOT NULL,"
    "  severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),"
    "  confidence REAL NOT NULL CHECK (confidence >= 0.0 AND confidence <= 1.0),"
    "  first_seen_ns INTEGER NOT NULL,"
    "  last_seen_ns INTEGER NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 3),"
    "  updated_ns INTEGER NOT NULL);"
    "CREATE INDEX threats_status ON threats(status, id);"
    "CREATE INDEX threats_severity ON threats(severity, id);"
    "CREATE INDEX threats_host ON threats(host, id);"
    "CREATE INDEX threats_last_seen ON threats(last_seen_ns);"
    "CREATE TABLE detections ("
    "  id INTEGER PRIMARY KEY,"
    "  threat_id INTEGER NOT NULL REFERENCES threats(id),"
    "  event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
    "  rule_id TEXT NOT NULL,"
    "  detector TEXT NOT NULL,"
    "  ts_ns INTEGER NOT NULL);"
    "CREATE INDEX detections_threat ON detections(threat_id, event_id);"
    "CREATE INDEX detections_event ON detections(event_id);"
    "CREATE TABLE agents ("
    "  id TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL,"
    "  host TEXT NOT NULL,"
    "  last_seen_ns INTEGER NOT NULL,"
    "  trust REAL NOT NULL) WITHOUT ROWID;";

/* Version 2: raw events in packed segments (docs/internals/store.md). One
 * row per run of up to 256 consecutive events of a batch; event ids are
 * first_id + index. store_meta keeps the event count and the next event id
 * (a high-water mark, so ids never repeat even when retention has deleted
 * every segment). The version-1 rows are packed by mw_pack_events (an
 * aggregate the store registers on its write connection) in groups of
 * consecutive ids: `run` is constant over a run of consecutive ids, `blk`
 * cuts it every 256 rows and `bblk` about every 256 KiB (400 bytes per row
 * over-estimates the fixed part of a record). detections is rebuilt without
 * its foreign key to events (a key cannot point into a segment); retention
 * deletes the detections of the segments it deletes. The old detections go
 * first: dropping events with foreign keys on would cascade into them. */
static const char mig_2[] =
    "CREATE TABLE event_segments ("
    "  first_id INTEGER PRIMARY KEY,"
    "  n INTEGER NOT NULL CHECK (n > 0),"
    "  min_ingest_ns INTEGER NOT NULL,"
    "  max_ingest_ns INTEGER NOT NULL,"
    "  data BLOB NOT NULL);"
    "CREATE INDEX event_segments_max_ingest ON event_segments(max_ingest_ns);"
    "CREATE TABLE store_meta ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO store_meta(key, value) VALUES"
    "  ('event_count', (SELECT count(*) FROM events)),"
    "  ('next_event_id', coalesce((SELECT max(id) FROM events), 0) + 1);"
    "INSERT INTO event_segments(first_id, n, min_ingest_ns, max_ingest_ns, data)"
    "  SELECT min(id), count(*), min(ingest_ns), max(ingest_ns),"
    "         mw_pack_events(id, ts_ns, ingest_ns, source, host, category, raw)"
    "  FROM (SELECT id, ts_ns, ingest_ns, source, host, category, raw,"
    "               id - row_number() OVER w AS run,"
    "               (row_number() OVER w - 1) / 256 AS blk,"
    "               (sum(length(CAST(raw AS BLOB)) + 400) OVER w) / 262144 AS bblk"
    "        FROM events WINDOW w AS (ORDER BY id))"
    "  GROUP BY run, blk, bblk;"
    "CREATE TABLE detections_v2 ("
    "  id INTEGER PRIMARY KEY,"
    "  threat_id INTEGER NOT NULL REFERENCES threats(id),"
    "  event_id INTEGER NOT NULL,"
    "  rule_id TEXT NOT NULL,"
    "  detector TEXT NOT NULL,"
    "  ts_ns INTEGER NOT NULL);"
    "INSERT INTO detections_v2(id, threat_id, event_id, rule_id, detector, ts_ns)"
    "  SELECT id, threat_id, event_id, rule_id, detector, ts_ns FROM detections;"
    "DROP TABLE detections;"
    "ALTER TABLE detections_v2 RENAME TO detections;"
    "CREATE INDEX detections_threat ON detections(threat_id, event_id);"
    "CREATE INDEX detections_event ON detections(event_id);"
    "DROP TABLE events;";

/* 3: threats keep their rule's tags (MITRE ATT&CK tactics and techniques). */
static const char mig_3[] = "ALTER TABLE threats ADD COLUMN tags TEXT NOT NULL DEFAULT '';";

/* 4: API keys (only the SHA3-256 of a key is kept; id is the public part
 * of the key, so a lookup is by id) and the audit log of state-changing API
 * calls (src/api/auth.c, docs/internals/api.md). */
static const char mig_4[] = "CREATE TABLE api_keys ("
                            "  id TEXT PRIMARY KEY,"
                            "  name TEXT NOT NULL,"
                            "  role TEXT NOT NULL,"
                            "  hash BLOB NOT NULL CHECK (length(hash) = 32),"
                            "  created_ns INTEGER NOT NULL,"
                            "  last_used_ns INTEGER NOT NULL DEFAULT 0,"
                            "  revoked_ns INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
                            "CREATE TABLE audit_log ("
                            "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                            "  ts_ns INTEGER NOT NULL,"
                            "  actor TEXT NOT NULL,"
                            "  role TEXT NOT NULL,"
                            "  method TEXT NOT NULL,"
                            "  path TEXT NOT NULL,"
                            "  target TEXT NOT NULL,"
                            "  summary TEXT NOT NULL,"
                            "  client TEXT NOT NULL,"
                            "  status INTEGER NOT NULL);"
                            "CREATE INDEX audit_log_actor ON audit_log(actor, id);"
                            "CREATE INDEX audit_log_ts ON audit_log(ts_ns);";

const char *const mw_store_migrations[] = {mig_1, mig_2, mig_3, mig_4};
const int mw_store_migration_count =
    (int)(sizeof mw_store_migrations / sizeof mw_store_migrations[0]);

int mw_store_sqlite_fail(sqlite3 *db, const char *what)
{
    mw_error("store", "%s: %s (sqlite %d)", what, db ? sqlite3_errmsg(db) : "no connection",
             db ? sqlite3_extended_errcode(db) : 0);
    MW_INC(mw_metrics.store_errors);
    return MW_EIO;
}

/* ---- mw_pack_events: the aggregate of migration 2 ---------------------- */

#define PACK_ROWS_MAX 65536 /* the migration groups at most 256 */

struct pack_item {
    int64_t id;
    size_t off, len; /* the record in pack.buf */
};

struct pack {
    struct mw_seg_buf buf; /* records in arrival order */
    struct pack_item *items;
    size_t n, cap;
    int failed;
};

static int cmp_item(const void *a, const void *b)
{
    int64_t x = ((const struct pack_item *)a)->id, y = ((const struct pack_item *)b)->id;

    return (x > y) - (x < y);
}

static const char *value_str(sqlite3_value *v)
{
    const unsigned char *t = sqlite3_value_text(v);

    return t ? (const char *)t : "";
}

static void pack_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct pack *p = sqlite3_aggregate_context(ctx, (int)sizeof *p);
    enum mw_source src = MW_SRC_REPLAY;
    struct pack_item *tmp;
    const void *raw;
    size_t before, raw_len;
    int rc;

    if (!p) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (p->failed || argc != 7)
        goto fail;
    if (p->n == p->cap) {
        if (p->cap >= PACK_ROWS_MAX)
            goto fail;
        p->cap = p->cap ? p->cap * 2 : 256;
        tmp = realloc(p->items, p->cap * sizeof *tmp);
        if (!tmp)
            goto fail;
        p->items = tmp;
    }
    /* Normalised through the enum: an unknown name becomes "replay", as
     * version 1 read it. */
    if (mw_source_parse(value_str(argv[3]), &src) != 0)
        src = MW_SRC_REPLAY;
    raw = sqlite3_value_blob(argv[6]);
    raw_len = (size_t)sqlite3_value_bytes(argv[6]);
    before = p->buf.len ? p->buf.len : 1; /* the first append writes the version byte */
    rc = mw_seg_append(&p->buf, sqlite3_value_int64(argv[1]), sqlite3_value_int64(argv[2]),
                       mw_source_name(src), value_str(argv[4]), value_str(argv[5]),
                       raw_len ? raw : NULL, raw_len);
    if (rc)
        goto fail;
    p->items[p->n].id = sqlite3_value_int64(argv[0]);
    p->items[p->n].off = before;
    p->items[p->n].len = p->buf.len - before;
    p->n++;
    return;
fail:
    p->failed = 1;
}

static void pack_final(sqlite3_context *ctx)
{
    struct pack *p = sqlite3_aggregate_context(ctx, 0);
    uint8_t *out = NULL;
    size_t o = 1;

    if (!p || p->n == 0) {
        sqlite3_result_error(ctx, "mw_pack_events: empty group", -1);
        return;
    }
    if (p->failed)
        goto fail;
    /* Rows may come in any order within a group: sort, then insist on
     * consecutive ids (a segment holds ids first_id .. first_id + n - 1). */
    qsort(p->items, p->n, sizeof *p->items, cmp_item);
    for (size_t i = 1; i < p->n; i++)
        if (p->items[i].id != p->items[i - 1].id + 1)
            goto fail;
    out = malloc(p->buf.len);
    if (!out)
        goto fail;
    out[0] = MW_SEG_VERSION;
    for (size_t i = 0; i < p->n; i++) {
        memcpy(out + o, p->buf.data + p->items[i].off, p->items[i].len);
        o += p->items[i].len;
    }
    sqlite3_result_blob(ctx, out, (int)o, free);
    out = NULL;
    goto out;
fail:
    sqlite3_result_error(ctx, "mw_pack_events: cannot pack this group", -1);
out:
    free(p->items);
    mw_seg_buf_free(&p->buf);
    memset(p, 0, sizeof *p);
}

int mw_store_sqlite_register_pack(sqlite3 *db)
{
    if (sqlite3_create_function_v2(db, "mw_pack_events", 7, SQLITE_UTF8, NULL, NULL, pack_step,
                                   pack_final, NULL) != SQLITE_OK)
        return mw_store_sqlite_fail(db, "register mw_pack_events");
    return 0;
}

/* ---- the migrator --------------------------------------------------------- */

static int read_user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = MW_EIO;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        rc = mw_store_sqlite_fail(db, "read schema version");
        goto out;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = mw_store_sqlite_fail(db, "read schema version");
        goto out;
    }
    *out = sqlite3_column_int(st, 0);
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* Applies one migration (to version `to`) in its own transaction. */
static int apply_one(sqlite3 *db, const char *sql, int to)
{
    char meta[160];
    struct timespec ts;
    int rc = MW_EIO;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(meta, sizeof meta,
             "INSERT INTO schema_migrations(version, applied_ns) VALUES (%d, %lld);"
             "PRAGMA user_version = %d;",
             to, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, to);

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = mw_store_sqlite_fail(db, "begin migration");
        goto out;
    }
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, meta, NULL, NULL, NULL) != SQLITE_OK) {
        mw_error("store", "schema migration to version %d failed", to);
        rc = mw_store_sqlite_fail(db, "migration");
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = mw_store_sqlite_fail(db, "commit migration");
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    mw_info("store", "schema migrated to version %d", to);
    rc = 0;
out:
    return rc;
}

int mw_store_sqlite_migrate(sqlite3 *db, const char *const *migrations, int count, int *version)
{
    int v = 0;
    int rc;

    if (!db || !version || count < 0 || (count > 0 && !migrations))
        return MW_EINVAL;
    rc = read_user_version(db, &v);
    if (rc)
        goto out;
    if (v < 0 || v > count) {
        mw_error("store",
                 "database schema version %d is newer than this build supports (%d); "
                 "upgrade mwrasp or restore a backup",
                 v, count);
        MW_INC(mw_metrics.store_errors);
        rc = MW_EIO;
        goto out;
    }
    while (v < count) {
        rc = apply_one(db, migrations[v], v + 1);
        if (rc)
            goto out;
        v++;
    }
    rc = 0;
out:
    *version = v;
    return rc;
}
