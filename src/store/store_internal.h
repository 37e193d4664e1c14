/* Private to src/store and its unit tests: the SQLite schema migrator.
 * Other modules use include/mwrasp/store.h only. */
#ifndef MWRASP_STORE_INTERNAL_H
#define MWRASP_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "mwrasp/error.h"
#include "mwrasp/event.h"

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

/* Runs fn on the write connection under the writer lock (outside any batch
 * of another thread: waits for its commit). For the occasional API write
 * (access.c). Returns what fn returns. */
MW_WUR int mw_store_with_writer(struct mw_store *s, int (*fn)(sqlite3 *db, void *ctx), void *ctx);
/* Runs fn on a pooled read connection. Returns what fn returns. */
MW_WUR int mw_store_with_reader(struct mw_store *s, int (*fn)(sqlite3 *db, void *ctx), void *ctx);

/* Logs sqlite3_errmsg(db) for `what`, bumps mw_metrics.store_errors and
 * returns MW_EIO. */
int mw_store_sqlite_fail(sqlite3 *db, const char *what);

/* ---- raw-event segments (segment.c; format in docs/internals/store.md) ----
 * A segment packs up to MW_SEG_MAX_EVENTS consecutive events of one batch;
 * the writer closes it when it holds that many events or at least
 * MW_SEG_MAX_BYTES bytes (so one segment can exceed the byte size by one
 * event, at most MW_EVENT_MAX_BYTES). */
#define MW_SEG_VERSION 1
#define MW_SEG_MAX_EVENTS 256
#define MW_SEG_MAX_BYTES (256u * 1024u)
/* Room for a segment of MW_SEG_MAX_BYTES, one more event of the largest
 * size, and the fixed part of every record. */
#define MW_SEG_BUF_MAX (MW_SEG_MAX_BYTES + MW_EVENT_MAX_BYTES + MW_SEG_MAX_EVENTS * 512u)

/* A growable encode buffer, reused from segment to segment. */
struct mw_seg_buf {
    uint8_t *data;
    size_t len, cap;
};
/* Appends one encoded event (writing the version byte first when the buffer
 * is empty). host and category are cut at MW_EVENT_HOST_MAX /
 * MW_EVENT_CATEGORY_MAX bytes (the core never makes longer ones). MW_EINVAL
 * for a source name over 32 bytes or raw_len >= MW_EVENT_MAX_BYTES,
 * MW_ETOOBIG past MW_SEG_BUF_MAX, MW_ENOMEM; the buffer is unchanged on
 * error. */
MW_WUR int mw_seg_append(struct mw_seg_buf *b, int64_t ts_ns, int64_t ingest_ns, const char *source,
                         const char *host, const char *category, const void *raw, size_t raw_len);
void mw_seg_buf_reset(struct mw_seg_buf *b); /* empties, keeps the memory */
void mw_seg_buf_free(struct mw_seg_buf *b); /* frees; b is empty after */

/* One decoded record. The pointers borrow the blob (not NUL-terminated). */
struct mw_seg_event {
    int64_t ts_ns, ingest_ns;
    const char *source, *host, *category, *raw;
    size_t source_len, host_len, category_len, raw_len;
};
struct mw_seg_reader {
    const uint8_t *p;
    size_t left;
    uint64_t n, i;
};
/* Starts reading a blob that should hold n records. MW_EIO if the version
 * byte is wrong, n is 0 or more records than len bytes could hold. The blob
 * is untrusted: no input makes the reader read outside data[0..len). */
MW_WUR int mw_seg_reader_init(struct mw_seg_reader *r, const void *data, size_t len, uint64_t n);
/* The next record: 0, MW_ENOTFOUND after the n-th, MW_EIO if a length runs
 * past the blob or over its cap, or if bytes follow the n-th record. */
MW_WUR int mw_seg_next(struct mw_seg_reader *r, struct mw_seg_event *ev);
/* Checks the whole blob and gives record `index` (0-based): 0, MW_ENOTFOUND
 * if index >= n, MW_EIO if the blob is corrupt. *out untouched on error. */
MW_WUR int mw_seg_decode_at(const void *data, size_t len, uint64_t n, uint64_t index,
                            struct mw_seg_event *out);

/* Registers on db the aggregate SQL function mw_pack_events(id, ts_ns,
 * ingest_ns, source, host, category, raw) that migration 2 uses to pack
 * version-1 rows: it fails unless the ids of a group are consecutive. */
MW_WUR int mw_store_sqlite_register_pack(sqlite3 *db);

#endif
