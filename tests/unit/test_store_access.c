/* src/store/access.c: API key records (put, duplicate id, list, revoke,
 * touch) and the audit log (put, newest-first paging, filters, limits), on
 * a real SQLite store; both survive a reopen. */
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

#include "mwrasp/store.h"

static char dir[512], path[600];

static mw_store_t *open_store(void)
{
    mw_store_t *s = NULL;
    assert_int_equal(mw_store_open(path, &s), 0);
    assert_int_equal(mw_store_schema_version(s), 4);
    return s;
}

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("MW_TEST_TMP");
    if (t == NULL || !*t)
        t = "/tmp";
    if (mkdir(t, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(dir, sizeof dir, "%s/mw-access-XXXXXX", t);
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char p[700];
    (void)state;
    const char *f[] = {"t.db", "t.db-wal", "t.db-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, f[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static mw_apikey_rec_t key(const char *id, const char *role, uint8_t fill, int64_t created)
{
    mw_apikey_rec_t k;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "%s", id);
    snprintf(k.name, sizeof k.name, "name-%s", id);
    snprintf(k.role, sizeof k.role, "%s", role);
    memset(k.hash, fill, sizeof k.hash);
    k.created_ns = created;
    return k;
}

static void test_apikeys(void **state)
{
    (void)state;
    mw_store_t *s = open_store();
    mw_apikey_rec_t a = key("aaaaaaaaaaaa", "admin", 1, 100),
                    b = key("bbbbbbbbbbbb", "viewer", 2, 50);
    mw_apikey_rec_t *v = NULL;
    size_t n = 0;

    assert_int_equal(mw_store_put_apikey(s, &a), 0);
    assert_int_equal(mw_store_put_apikey(s, &b), 0);
    assert_int_equal(mw_store_put_apikey(s, &a), MW_EEXIST);
    mw_apikey_rec_t empty = key("", "admin", 3, 1);
    assert_int_equal(mw_store_put_apikey(s, &empty), MW_EINVAL);

    assert_int_equal(mw_store_revoke_apikey(s, "bbbbbbbbbbbb", 777), 0);
    assert_int_equal(mw_store_revoke_apikey(s, "bbbbbbbbbbbb", 888), MW_ENOTFOUND); /* once */
    assert_int_equal(mw_store_revoke_apikey(s, "cccccccccccc", 777), MW_ENOTFOUND);
    assert_int_equal(mw_store_touch_apikey(s, "aaaaaaaaaaaa", 500), 0);
    assert_int_equal(mw_store_touch_apikey(s, "aaaaaaaaaaaa", 400), 0); /* never backwards */
    assert_int_equal(mw_store_touch_apikey(s, "cccccccccccc", 400), MW_ENOTFOUND);
    mw_store_close(s);

    s = open_store(); /* durable */
    assert_int_equal(mw_store_list_apikeys(s, &v, &n), 0);
    assert_int_equal(n, 2);
    /* oldest first */
    assert_string_equal(v[0].id, "bbbbbbbbbbbb");
    assert_string_equal(v[0].role, "viewer");
    assert_string_equal(v[0].name, "name-bbbbbbbbbbbb");
    assert_int_equal(v[0].revoked_ns, 777);
    assert_int_equal(v[0].hash[31], 2);
    assert_string_equal(v[1].id, "aaaaaaaaaaaa");
    assert_int_equal(v[1].last_used_ns, 500);
    assert_int_equal(v[1].revoked_ns, 0);
    assert_int_equal(v[1].hash[0], 1);
    free(v);
    mw_store_close(s);
}

static void test_audit(void **state)
{
    (void)state;
    mw_store_t *s = open_store();
    mw_audit_rec_t r, *v = NULL;
    size_t n = 0;
    uint64_t next = 0;
    struct mw_audit_query q;

    for (int i = 1; i <= 25; i++) {
        memset(&r, 0, sizeof r);
        r.ts_ns = i * 1000;
        snprintf(r.actor, sizeof r.actor, "%s", i % 5 == 0 ? "jwt:alice" : "key:aaaaaaaaaaaa");
        snprintf(r.role, sizeof r.role, "analyst");
        snprintf(r.method, sizeof r.method, "PATCH");
        snprintf(r.path, sizeof r.path, "/api/v1/threats/%d", i);
        snprintf(r.target, sizeof r.target, "%d", i);
        snprintf(r.summary, sizeof r.summary, "status=acknowledged");
        snprintf(r.client, sizeof r.client, "127.0.0.1");
        r.status = 200;
        assert_int_equal(mw_store_put_audit(s, &r), 0);
        assert_int_equal(r.id, (uint64_t)i);
    }
    memset(&q, 0, sizeof q);
    q.limit = 10;
    assert_int_equal(mw_store_list_audit(s, &q, &v, &n, &next), 0);
    assert_int_equal(n, 10);
    assert_int_equal(v[0].id, 25); /* newest first */
    assert_int_equal(v[9].id, 16);
    assert_int_equal(next, 16);
    assert_string_equal(v[0].path, "/api/v1/threats/25");
    assert_string_equal(v[0].actor, "jwt:alice");
    assert_int_equal(v[0].status, 200);
    assert_int_equal(v[0].ts_ns, 25000);
    free(v);
    q.cursor = next;
    q.limit = 1000;
    assert_int_equal(mw_store_list_audit(s, &q, &v, &n, &next), 0);
    assert_int_equal(n, 15);
    assert_int_equal(v[0].id, 15);
    assert_int_equal(next, 0); /* last page */
    free(v);
    /* filters: actor, since */
    memset(&q, 0, sizeof q);
    q.limit = 100;
    q.actor = "jwt:alice";
    assert_int_equal(mw_store_list_audit(s, &q, &v, &n, &next), 0);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i].actor, "jwt:alice");
    free(v);
    q.actor = NULL;
    q.since_ns = 20000;
    assert_int_equal(mw_store_list_audit(s, &q, &v, &n, &next), 0);
    assert_int_equal(n, 6); /* 20..25 */
    free(v);
    /* exactly one page: no next cursor */
    q.since_ns = 0;
    q.limit = 25;
    assert_int_equal(mw_store_list_audit(s, &q, &v, &n, &next), 0);
    assert_int_equal(n, 25);
    assert_int_equal(next, 0);
    free(v);
    /* limits */
    q.limit = 0;
    assert_int_equal(mw_store_list_audit(s, &q, &v, &n, &next), MW_EINVAL);
    q.limit = MW_AUDIT_LIMIT_MAX + 1;
    assert_int_equal(mw_store_list_audit(s, &q, &v, &n, &next), MW_EINVAL);
    mw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apikeys),
        cmocka_unit_test(test_audit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
