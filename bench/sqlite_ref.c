/* sqlite_ref: the reference for the store figures. Inserts the same kind of
 * rows the daemon stores (the events table of src/store/migrate.c, schema
 * version 1: ts_ns, ingest_ns, source, host, category, raw; rowid ids, an
 * index on ingest_ns) into a fresh SQLite file with the daemon's settings
 * (WAL, synchronous=NORMAL, cache_size=-32768), in transactions of --batch
 * rows, from one thread, with nothing else going on: no parsing, no
 * detection, no network. Like the store, it checkpoints the WAL from a second
 * thread on its own connection (PASSIVE, every 20 ms) rather than inside the
 * writer's commits. The ratio daemon/reference then says how much of the
 * bare SQLite rate the whole pipeline keeps.
 *
 *   sqlite_ref DBFILE [--count N] [--batch B] [--format syslog|json]
 *
 * DBFILE must not exist (it is created; remove it afterwards). Prints one
 * JSON object: rows, seconds, rows_per_s. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "evgen.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ref: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static atomic_int ckpt_stop;

/* Background checkpointer: a PASSIVE checkpoint every 20 ms on its own
 * connection, so that the writer never checkpoints in its commits. */
static void *ckpt_main(void *arg)
{
    sqlite3 *db = arg;
    while (!atomic_load(&ckpt_stop)) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        (void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path;
    unsigned long long count = 1000000, batch = 4096;
    enum evgen_format fmt = EVGEN_SYSLOG;
    sqlite3 *db = NULL, *cdb = NULL;
    pthread_t ckpt;
    int ckpt_started = 0;
    sqlite3_stmt *st = NULL;
    struct evgen g;
    struct evpool pool;
    int rc = 1;
    double t0, secs;

    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr,
                "usage: sqlite_ref DBFILE [--count N] [--batch B] [--format syslog|json]\n");
        return 2;
    }
    path = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "sqlite_ref: %s needs a value\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--count"))
            count = strtoull(v, NULL, 10);
        else if (!strcmp(argv[i], "--batch"))
            batch = strtoull(v, NULL, 10);
        else if (!strcmp(argv[i], "--format") && (!strcmp(v, "syslog") || !strcmp(v, "json")))
            fmt = !strcmp(v, "json") ? EVGEN_JSON : EVGEN_SYSLOG;
        else {
            fprintf(stderr, "sqlite_ref: bad option %s %s\n", argv[i], v);
            return 2;
        }
        i++;
    }
    if (count == 0 || count > 100000000ULL || batch == 0 || batch > 1000000) {
        fprintf(stderr, "sqlite_ref: --count must be 1..1e8, --batch 1..1e6\n");
        return 2;
    }
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "sqlite_ref: %s exists; refusing to overwrite\n", path);
        return 2;
    }

    /* The same rows every time: a pool of generated events, with the hosts. */
    evgen_init(&g, 7, 0);
    enum { POOL = 8192 };
    static char hosts[POOL][64];
    if (evpool_build(&pool, &g, fmt, POOL, 0.0) != 0) {
        fprintf(stderr, "sqlite_ref: out of memory\n");
        return 1;
    }
    /* evpool_build does not keep hosts: regenerate them with the same seed. */
    {
        struct evgen g2;
        char tmp[EVGEN_MAX];
        evgen_init(&g2, 7, 0);
        for (int i = 0; i < POOL; i++) {
            (void)evgen_next(&g2, fmt, 0, tmp, sizeof(tmp));
            memcpy(hosts[i], g2.host, sizeof(hosts[i]));
        }
    }

    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ref: open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
        goto out;
    }
    if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=NORMAL") ||
        exec(db, "PRAGMA temp_store=MEMORY") || exec(db, "PRAGMA cache_size=-32768") ||
        exec(db, "PRAGMA wal_autocheckpoint=0") ||
        exec(db, "CREATE TABLE events (id INTEGER PRIMARY KEY,"
                 " ts_ns INTEGER NOT NULL, ingest_ns INTEGER NOT NULL, source TEXT NOT NULL,"
                 " host TEXT NOT NULL, category TEXT NOT NULL, raw BLOB NOT NULL);"
                 "CREATE INDEX events_ingest ON events(ingest_ns);"))
        goto out;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO events(ts_ns, ingest_ns, source, host, category, raw)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ref: prepare: %s\n", sqlite3_errmsg(db));
        goto out;
    }

    if (sqlite3_open(path, &cdb) != SQLITE_OK || exec(cdb, "PRAGMA synchronous=NORMAL")) {
        fprintf(stderr, "sqlite_ref: checkpointer connection: %s\n",
                cdb ? sqlite3_errmsg(cdb) : "?");
        goto out;
    }
    sqlite3_busy_timeout(cdb, 1000);
    if (pthread_create(&ckpt, NULL, ckpt_main, cdb) != 0) {
        fprintf(stderr, "sqlite_ref: cannot start the checkpoint thread\n");
        goto out;
    }
    ckpt_started = 1;

    const char *source = fmt == EVGEN_JSON ? "http" : "syslog_tcp";
    const char *category = fmt == EVGEN_JSON ? "" : "syslog";
    t0 = now_s();
    for (unsigned long long i = 0; i < count;) {
        if (exec(db, "BEGIN"))
            goto out;
        for (unsigned long long k = 0; k < batch && i < count; k++, i++) {
            size_t j = (size_t)(i % POOL);
            int64_t now = realtime_ns();
            sqlite3_bind_int64(st, 1, now - 1000000);
            sqlite3_bind_int64(st, 2, now);
            sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, hosts[j], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, category, -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 6, pool.data + pool.off[j],
                              (int)(pool.off[j + 1] - pool.off[j] - 1), SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                fprintf(stderr, "sqlite_ref: insert: %s\n", sqlite3_errmsg(db));
                goto out;
            }
            sqlite3_reset(st);
        }
        if (exec(db, "COMMIT"))
            goto out;
    }
    secs = now_s() - t0;
    atomic_store(&ckpt_stop, 1);
    pthread_join(ckpt, NULL);
    ckpt_started = 0;
    printf("{\"mode\":\"sqlite-insert\",\"rows\":%llu,\"batch\":%llu,\"seconds\":%.3f,"
           "\"rows_per_s\":%.0f,\"sqlite\":\"%s\"}\n",
           count, batch, secs, secs > 0 ? (double)count / secs : 0.0, sqlite3_libversion());
    rc = 0;
out:
    if (ckpt_started) {
        atomic_store(&ckpt_stop, 1);
        pthread_join(ckpt, NULL);
    }
    sqlite3_finalize(st);
    sqlite3_close(cdb);
    sqlite3_close(db);
    evpool_free(&pool);
    return rc;
}
