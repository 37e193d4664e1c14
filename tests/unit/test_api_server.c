/* The real server (civetweb) over a real SQLite store, without an engine,
 * driven by the module's own HTTP client (mw_http_request): routing, status
 * codes, error shapes, 404/405/413, readiness, the OpenAPI file; plus the
 * client's own failure modes. */
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

#include "api/api_int.h"
#include "mwrasp/api.h"

static char tmpdir[512];
static char base[64];
static mw_store_t *store;
static mw_api_t *api;
static struct mw_config cfg;

static int group_setup(void **state)
{
    (void)state;
    const char *t = getenv("MW_TEST_TMP");
    char path[600], yaml[600];
    if (t == NULL || !*t)
        t = "/tmp";
    if (mkdir(t, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(tmpdir, sizeof(tmpdir), "%s/mw-api-XXXXXX", t);
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/t.db", tmpdir);
    if (mw_store_open(path, &store) != 0)
        return -1;
    snprintf(yaml, sizeof(yaml), "%s/openapi.yaml", tmpdir);
    FILE *f = fopen(yaml, "w");
    if (f == NULL)
        return -1;
    fputs("openapi: 3.0.3\n", f);
    fclose(f);

    mw_config_defaults(&cfg);
    /* port 0: civetweb 1.15 binds an ephemeral port and reports it */
    snprintf(cfg.http_listen, sizeof(cfg.http_listen), "127.0.0.1:0");
    cfg.api_threads = 2;
    /* routing, not credentials: those are test_api_auth.c's */
    snprintf(cfg.api_auth, sizeof(cfg.api_auth), "off");
    struct mw_api_opts o = {.cfg = &cfg, .store = store, .engine = NULL, .openapi_path = yaml};
    if (mw_api_start(&o, &api) != 0)
        return -1;
    if (mw_api_port(api) <= 0)
        return -1;
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", mw_api_port(api));
    return 0;
}

static int group_teardown(void **state)
{
    char p[700];
    (void)state;
    mw_api_stop(api);
    mw_store_close(store);
    const char *files[] = {"t.db", "t.db-wal", "t.db-shm", "openapi.yaml"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

static struct mw_http_response R;
static json_t *J;

static void req(const char *method, const char *path, const char *hdrs, const char *body,
                size_t blen)
{
    char url[512], err[256];
    mw_http_response_clear(&R);
    json_decref(J);
    J = NULL;
    snprintf(url, sizeof(url), "%s%s", base, path);
    int rc = mw_http_request(url, method, hdrs, body, blen, 5000, 0, &R, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s %s: %s", method, path, err);
    J = json_loadb(R.body, R.body_len, 0, NULL);
}

static const char *ecode(void)
{
    return json_string_value(json_object_get(json_object_get(J, "error"), "code"));
}

static void test_health(void **state)
{
    (void)state;
    req("GET", "/health/live", NULL, NULL, 0);
    assert_int_equal(R.status, 200);
    assert_string_equal(json_string_value(json_object_get(J, "status")), "ok");
    assert_string_equal(R.content_type, "application/json");
    mw_api_set_ready(api, 0);
    req("GET", "/health/ready", NULL, NULL, 0);
    assert_int_equal(R.status, 503);
    assert_string_equal(ecode(), "not_ready");
    mw_api_set_ready(api, 1);
    req("GET", "/health/ready", NULL, NULL, 0);
    assert_int_equal(R.status, 200);
}

static void test_threats_empty_and_errors(void **state)
{
    (void)state;
    req("GET", "/api/v1/threats", NULL, NULL, 0);
    assert_int_equal(R.status, 200);
    assert_true(json_is_array(json_object_get(J, "threats")));
    assert_int_equal(json_array_size(json_object_get(J, "threats")), 0);
    assert_true(json_is_null(json_object_get(J, "next_cursor")));

    req("GET", "/api/v1/threats?limit=5000", NULL, NULL, 0);
    assert_int_equal(R.status, 400);
    assert_string_equal(ecode(), "invalid_parameter");
    req("GET", "/api/v1/threats?bogus=1", NULL, NULL, 0);
    assert_int_equal(R.status, 400);
    assert_non_null(strstr(R.body, "bogus"));

    req("GET", "/api/v1/threats/12", NULL, NULL, 0);
    assert_int_equal(R.status, 404);
    assert_string_equal(ecode(), "not_found");
    req("GET", "/api/v1/threats/abc", NULL, NULL, 0);
    assert_int_equal(R.status, 400);
    assert_string_equal(ecode(), "invalid_id");
    req("PATCH", "/api/v1/threats/12", NULL, "{\"status\":\"resolved\"}", 21);
    assert_int_equal(R.status, 404);
    req("PATCH", "/api/v1/threats/12", NULL, "{\"status\":\"gone\"}", 17);
    assert_int_equal(R.status, 400);
    req("PATCH", "/api/v1/threats/12", NULL, "{\"status\":\"new\",\"x\":1}", 22);
    assert_int_equal(R.status, 400);
    assert_non_null(strstr(R.body, "'x'"));
    req("PATCH", "/api/v1/threats/12", NULL, "nope", 4);
    assert_int_equal(R.status, 400);
    assert_string_equal(ecode(), "invalid_json");
}

static void test_routes_404_405_413(void **state)
{
    (void)state;
    uint64_t e4 = MW_GET(mw_metrics.api_errors_4xx);
    req("GET", "/api/v1/nothing", NULL, NULL, 0);
    assert_int_equal(R.status, 404);
    assert_string_equal(ecode(), "not_found");
    req("GET", "/elsewhere", NULL, NULL, 0);
    assert_int_equal(R.status, 404);
    req("DELETE", "/api/v1/threats/1", NULL, NULL, 0);
    assert_int_equal(R.status, 405);
    assert_string_equal(ecode(), "method_not_allowed");
    req("GET", "/api/v1/events", NULL, NULL, 0);
    assert_int_equal(R.status, 405);
    req("POST", "/metrics", NULL, "", 0);
    assert_int_equal(R.status, 405);
    assert_true(MW_GET(mw_metrics.api_errors_4xx) >= e4 + 5);

    char big[MW_API_SMALL_BODY + 100];
    memset(big, ' ', sizeof(big));
    req("PATCH", "/api/v1/threats/1", NULL, big, sizeof(big));
    assert_int_equal(R.status, 413);
    assert_string_equal(ecode(), "body_too_large");

    /* no engine attached: events cannot be accepted */
    uint64_t e5 = MW_GET(mw_metrics.api_errors_5xx);
    req("POST", "/api/v1/events", NULL, "{}", 2);
    assert_int_equal(R.status, 503);
    assert_int_equal(MW_GET(mw_metrics.api_errors_5xx), e5 + 1);
}

static void test_metrics_and_openapi(void **state)
{
    (void)state;
    req("GET", "/api/v1/metrics", NULL, NULL, 0);
    assert_int_equal(R.status, 200);
    assert_true(json_integer_value(json_object_get(J, "api_requests")) > 0);
    assert_null(json_object_get(J, "ring_depth"));
    req("GET", "/metrics", NULL, NULL, 0);
    assert_int_equal(R.status, 200);
    assert_non_null(strstr(R.content_type, "text/plain"));
    assert_non_null(strstr(R.content_type, "0.0.4"));
    req("GET", "/api/v1/openapi.yaml", NULL, NULL, 0);
    assert_int_equal(R.status, 200);
    assert_string_equal(R.content_type, "application/yaml");
    assert_string_equal(R.body, "openapi: 3.0.3\n");
}

static void test_client_errors(void **state)
{
    struct mw_http_response r;
    char err[256];
    (void)state;
    memset(&r, 0x33, sizeof(r));
    struct mw_http_response before = r;
    assert_int_equal(
        mw_http_request("ftp://x/", "GET", NULL, NULL, 0, 1000, 0, &r, err, sizeof(err)),
        MW_EINVAL);
    assert_int_equal(mw_http_request("http://127.0.0.1:99999/", "GET", NULL, NULL, 0, 1000, 0, &r,
                                     err, sizeof(err)),
                     MW_EINVAL);
    assert_int_equal(mw_http_request("http://127.0.0.1/a b", "GET", NULL, NULL, 0, 1000, 0, &r, err,
                                     sizeof(err)),
                     MW_EINVAL);
    /* port 1 on loopback: nobody listens there in a test run */
    assert_int_equal(mw_http_request("http://127.0.0.1:1/health/live", "GET", NULL, NULL, 0, 1000,
                                     0, &r, err, sizeof(err)),
                     MW_EIO);
    assert_string_equal(err, "connection refused");
    assert_memory_equal(&r, &before, sizeof(r));
    /* an answer larger than max_body */
    char url[128];
    snprintf(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(mw_http_request(url, "GET", NULL, NULL, 0, 5000, 16, &r, err, sizeof(err)),
                     MW_ETOOBIG);
    mw_http_response_clear(NULL);
}

static int cleanup(void **state)
{
    (void)state;
    mw_http_response_clear(&R);
    json_decref(J);
    J = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_health, cleanup),
        cmocka_unit_test_teardown(test_threats_empty_and_errors, cleanup),
        cmocka_unit_test_teardown(test_routes_404_405_413, cleanup),
        cmocka_unit_test_teardown(test_metrics_and_openapi, cleanup),
        cmocka_unit_test_teardown(test_client_errors, cleanup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
