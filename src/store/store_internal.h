/* Private to src/store and its unit tests: the SQLite schema migrator.
 * Other modules use include/mwrasp/store.h only. */
#ifndef MWRASP_STORE_INTERNAL_H
#define MWRASP_STORE_INTERNAL_H

#include <sqlite3.h>

#include "mwrasp/error.h"

/* The schema migrations this build knows, in order: migrations[i] brings the
 * schema from version i to version i + 1. Never edit a released entry; add a
 * new one at the end. */
extern const char *const mw_store_migrations[];
extern const int mw_store_migration_count;

/* Brings db (an open read-write connection) to version `count` by applying
 * migrations[version .. count) in order, one transaction each: the SQL, a
 * row in schema_migrations and PRAGMA user_version = i + 1 commit together,
 * or none of them does. A database whose user_version is newer than `count`
 * is refused (MW_EIO, logged). *version gets the resulting version, also when
 * a later migration failed (earlier ones stay applied). Returns 0 or MW_EIO. */
MW_WUR int mw_store_sqlite_migrate(sqlite3 *db, const char *const *migrations, int count,
                                   int *version);

/* Test hook: WAL size (pages) that wakes the background checkpointer, and
 * the size at which the writer checkpoints itself after a commit. */
struct mw_store;
void mw_store_sqlite_set_checkpoint(struct mw_store *s, int wake_pages, int hard_pages);

/* Logs sqlite3_errmsg(db) for `what`, bumps mw_metrics.store_errors and
 * returns MW_EIO. */
int mw_store_sqlite_fail(sqlite3 *db, const char *what);

#endif
