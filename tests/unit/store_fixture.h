/* Shared fixtures of the store unit tests: a temporary directory (under
 * $MW_TEST_TMP if set), one fresh database path per test, and open_store().
 * Header-only; include once per test program, after cmocka.h. */
#ifndef MW_TEST_STORE_FIXTURE_H
#define MW_TEST_STORE_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <stdint.h>

#include "mwrasp/store.h"

static char tmpdir[512];
static char dbpath[600];

static int make_tmpdir(void)
{
    const char *base = getenv("MW_TEST_TMP");
    char tmpl[512];

    if (!base || !*base)
        base = "/tmp";
    if (mkdir(base, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(tmpl, sizeof tmpl, "%s/mw-store-XXXXXX", base);
    if (!mkdtemp(tmpl))
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);
    return 0;
}

static void remove_db(const char *path)
{
    char p[700];

    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static int per_test_setup(void **state)
{
    static int n;

    (void)state;
    snprintf(dbpath, sizeof dbpath, "%s/t%d.db", tmpdir, n++);
    remove_db(dbpath);
    return 0;
}

static int per_test_teardown(void **state)
{
    (void)state;
    remove_db(dbpath);
    return 0;
}

static mw_store_t *open_store(void)
{
    mw_store_t *s = NULL;

    assert_int_equal(mw_store_open(dbpath, &s), 0);
    assert_non_null(s);
    return s;
}

/* One integer from a raw SQL query on a separate connection to dbpath. */
static int64_t raw_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

#endif
