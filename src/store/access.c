/* API keys and the audit log (schema 4): the occasional write of the API
 * (key created, revoked, a state-changing call logged) and the admin's
 * listings. Statements are prepared per call: these are rare, and the
 * request path reads keys from src/api/auth.c's memory, not from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/store.h"
#include "store/store_internal.h"

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    size_t len = t ? (size_t)n : 0;
    if (len >= cap)
        len = cap - 1;
    if (len)
        memcpy(dst, t, len);
    dst[len] = '\0';
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return mw_store_sqlite_fail(db, "prepare");
    return 0;
}

/* ---- API keys ------------------------------------------------------------ */

static int put_key_fn(sqlite3 *db, void *ctx)
{
    const mw_apikey_rec_t *k = ctx;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
                  "INSERT INTO api_keys(id, name, role, hash, created_ns, last_used_ns, "
                  "revoked_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, k->id, (int)strnlen(k->id, sizeof k->id), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->name, (int)strnlen(k->name, sizeof k->name), SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->role, (int)strnlen(k->role, sizeof k->role), SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, k->hash, sizeof k->hash, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, k->created_ns);
    sqlite3_bind_int64(st, 6, k->last_used_ns);
    sqlite3_bind_int64(st, 7, k->revoked_ns);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT || (s & 0xff) == SQLITE_CONSTRAINT)
        rc = MW_EEXIST;
    else if (s != SQLITE_DONE)
        rc = mw_store_sqlite_fail(db, "put api key");
    sqlite3_finalize(st);
    return rc;
}

int mw_store_put_apikey(mw_store_t *s, const mw_apikey_rec_t *k)
{
    if (!s || !k || strnlen(k->id, sizeof k->id) == 0)
        return MW_EINVAL;
    return mw_store_with_writer(s, put_key_fn, (void *)k);
}

struct key_list {
    mw_apikey_rec_t *v;
    size_t n;
};

static int list_keys_fn(sqlite3 *db, void *ctx)
{
    struct key_list *l = ctx;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = prep(db,
                  "SELECT id, name, role, hash, created_ns, last_used_ns, revoked_ns "
                  "FROM api_keys ORDER BY created_ns, id LIMIT ?1",
                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, MW_APIKEYS_MAX);
    for (;;) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = mw_store_sqlite_fail(db, "list api keys");
            break;
        }
        if (l->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            mw_apikey_rec_t *nv = realloc(l->v, nc * sizeof *nv);
            if (!nv) {
                rc = MW_ENOMEM;
                break;
            }
            l->v = nv;
            cap = nc;
        }
        mw_apikey_rec_t *k = &l->v[l->n];
        memset(k, 0, sizeof *k);
        copy_col(k->id, sizeof k->id, st, 0);
        copy_col(k->name, sizeof k->name, st, 1);
        copy_col(k->role, sizeof k->role, st, 2);
        if (sqlite3_column_bytes(st, 3) != 32) {
            rc = mw_store_sqlite_fail(db, "api key hash of the wrong size");
            break;
        }
        memcpy(k->hash, sqlite3_column_blob(st, 3), 32);
        k->created_ns = sqlite3_column_int64(st, 4);
        k->last_used_ns = sqlite3_column_int64(st, 5);
        k->revoked_ns = sqlite3_column_int64(st, 6);
        l->n++;
    }
    sqlite3_finalize(st);
    return rc;
}

int mw_store_list_apikeys(mw_store_t *s, mw_apikey_rec_t **out, size_t *n)
{
    struct key_list l = {NULL, 0};
    int rc;
    if (!s || !out || !n)
        return MW_EINVAL;
    rc = mw_store_with_reader(s, list_keys_fn, &l);
    if (rc) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

struct key_upd {
    const char *id;
    int64_t ns;
    int revoke;
};

static int upd_key_fn(sqlite3 *db, void *ctx)
{
    struct key_upd *u = ctx;
    sqlite3_stmt *st = NULL;
    int rc =
        prep(db,
             u->revoke ? "UPDATE api_keys SET revoked_ns = ?2 WHERE id = ?1 AND revoked_ns = 0"
                       : "UPDATE api_keys SET last_used_ns = max(last_used_ns, ?2) WHERE id = ?1",
             &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, u->ns);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = mw_store_sqlite_fail(db, "update api key");
    else if (sqlite3_changes(db) == 0)
        rc = MW_ENOTFOUND;
    sqlite3_finalize(st);
    return rc;
}

int mw_store_revoke_apikey(mw_store_t *s, const char *id, int64_t ns)
{
    struct key_upd u = {id, ns, 1};
    if (!s || !id || ns <= 0)
        return MW_EINVAL;
    return mw_store_with_writer(s, upd_key_fn, &u);
}

int mw_store_touch_apikey(mw_store_t *s, const char *id, int64_t ns)
{
    struct key_upd u = {id, ns, 0};
    if (!s || !id)
        return MW_EINVAL;
    return mw_store_with_writer(s, upd_key_fn, &u);
}

/* ---- audit log ----------------------------------------------------------- */

static void bind_str(sqlite3_stmt *st, int i, const char *v, size_t cap)
{
    sqlite3_bind_text(st, i, v, (int)strnlen(v, cap), SQLITE_STATIC);
}

static int put_audit_fn(sqlite3 *db, void *ctx)
{
    mw_audit_rec_t *r = ctx;
    sqlite3_stmt *st = NULL;
    int rc = prep(db,
                  "INSERT INTO audit_log(ts_ns, actor, role, method, path, target, summary, "
                  "client, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->ts_ns);
    bind_str(st, 2, r->actor, sizeof r->actor);
    bind_str(st, 3, r->role, sizeof r->role);
    bind_str(st, 4, r->method, sizeof r->method);
    bind_str(st, 5, r->path, sizeof r->path);
    bind_str(st, 6, r->target, sizeof r->target);
    bind_str(st, 7, r->summary, sizeof r->summary);
    bind_str(st, 8, r->client, sizeof r->client);
    sqlite3_bind_int(st, 9, r->status);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = mw_store_sqlite_fail(db, "put audit row");
    else
        r->id = (uint64_t)sqlite3_last_insert_rowid(db);
    sqlite3_finalize(st);
    return rc;
}

int mw_store_put_audit(mw_store_t *s, mw_audit_rec_t *r)
{
    if (!s || !r)
        return MW_EINVAL;
    return mw_store_with_writer(s, put_audit_fn, r);
}

struct audit_list {
    const struct mw_audit_query *q;
    mw_audit_rec_t *v;
    size_t n;
    uint64_t next;
};

static int list_audit_fn(sqlite3 *db, void *ctx)
{
    struct audit_list *l = ctx;
    const struct mw_audit_query *q = l->q;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = prep(db,
                  "SELECT id, ts_ns, actor, role, method, path, target, summary, client, status "
                  "FROM audit_log WHERE (?1 = 0 OR id < ?1) AND ts_ns >= ?2 "
                  "AND (?3 IS NULL OR actor = ?3) ORDER BY id DESC LIMIT ?4",
                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, (int64_t)q->cursor);
    sqlite3_bind_int64(st, 2, q->since_ns);
    if (q->actor)
        sqlite3_bind_text(st, 3, q->actor, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, (int)q->limit + 1); /* one more: is there a next page? */
    for (;;) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = mw_store_sqlite_fail(db, "list audit rows");
            break;
        }
        if (l->n == q->limit) {
            l->next = l->v[l->n - 1].id;
            break;
        }
        if (l->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            mw_audit_rec_t *nv = realloc(l->v, nc * sizeof *nv);
            if (!nv) {
                rc = MW_ENOMEM;
                break;
            }
            l->v = nv;
            cap = nc;
        }
        mw_audit_rec_t *r = &l->v[l->n];
        memset(r, 0, sizeof *r);
        r->id = (uint64_t)sqlite3_column_int64(st, 0);
        r->ts_ns = sqlite3_column_int64(st, 1);
        copy_col(r->actor, sizeof r->actor, st, 2);
        copy_col(r->role, sizeof r->role, st, 3);
        copy_col(r->method, sizeof r->method, st, 4);
        copy_col(r->path, sizeof r->path, st, 5);
        copy_col(r->target, sizeof r->target, st, 6);
        copy_col(r->summary, sizeof r->summary, st, 7);
        copy_col(r->client, sizeof r->client, st, 8);
        r->status = sqlite3_column_int(st, 9);
        l->n++;
    }
    sqlite3_finalize(st);
    return rc;
}

int mw_store_list_audit(mw_store_t *s, const struct mw_audit_query *q, mw_audit_rec_t **out,
                        size_t *n, uint64_t *next_cursor)
{
    struct audit_list l = {q, NULL, 0, 0};
    int rc;
    if (!s || !q || !out || !n || !next_cursor || q->limit == 0 || q->limit > MW_AUDIT_LIMIT_MAX ||
        q->cursor > (uint64_t)INT64_MAX)
        return MW_EINVAL;
    rc = mw_store_with_reader(s, list_audit_fn, &l);
    if (rc) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    *next_cursor = l.next;
    return 0;
}
