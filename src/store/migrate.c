/* SQLite schema and its migrations (docs/internals/store.md).
 *
 * The schema version lives in PRAGMA user_version (in the database header,
 * so it commits atomically with the migration's DDL); schema_migrations is a
 * log of when each version was applied. */
#include <stdio.h>
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

const char *const mw_store_migrations[] = {mig_1};
const int mw_store_migration_count =
    (int)(sizeof mw_store_migrations / sizeof mw_store_migrations[0]);

int mw_store_sqlite_fail(sqlite3 *db, const char *what)
{
    mw_error("store", "%s: %s (sqlite %d)", what, db ? sqlite3_errmsg(db) : "no connection",
             db ? sqlite3_extended_errcode(db) : 0);
    MW_INC(mw_metrics.store_errors);
    return MW_EIO;
}

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
