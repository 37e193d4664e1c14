/* GET /api/v1/threats query-string parsing and the JSON shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"

static char err[256];

static int parse(const char *qs, struct mw_api_threat_params *p)
{
    err[0] = '\0';
    return mw_api_parse_threat_query(qs, p, err, sizeof(err));
}

static void test_defaults(void **state)
{
    struct mw_api_threat_params p;
    (void)state;
    assert_int_equal(parse(NULL, &p), 0);
    assert_int_equal(p.q.limit, 100);
    assert_int_equal(p.q.status, -1);
    assert_int_equal(p.q.severity, 0);
    assert_int_equal(p.q.max_severity, 0);
    assert_null(p.q.host);
    assert_int_equal(p.q.cursor, 0);
    assert_int_equal(p.q.since_ns, 0);
    assert_int_equal(parse("", &p), 0);
    assert_int_equal(p.q.limit, 100);
}

static void test_all_params(void **state)
{
    struct mw_api_threat_params p;
    (void)state;
    assert_int_equal(parse("severity=2&status=acknowledged&host=web%201&limit=1000&cursor=42"
                           "&since=1700000000000000000",
                           &p),
                     0);
    assert_int_equal(p.q.severity, 2);
    assert_int_equal(p.q.status, MW_THREAT_ACKNOWLEDGED);
    assert_string_equal(p.q.host, "web 1");
    assert_ptr_equal(p.q.host, p.host_buf);
    assert_int_equal(p.q.limit, 1000);
    assert_int_equal(p.q.cursor, 42);
    assert_int_equal(p.q.since_ns, 1700000000000000000LL);

    assert_int_equal(parse("max_severity=3&since=2024-01-02T03:04:05Z&host=a+b", &p), 0);
    assert_int_equal(p.q.max_severity, 3);
    assert_int_equal(p.q.since_ns, 1704164645LL * 1000000000LL);
    assert_string_equal(p.q.host, "a b");
    /* empty segments are ignored */
    assert_int_equal(parse("&limit=5&&", &p), 0);
    assert_int_equal(p.q.limit, 5);
}

static void expect_bad(const char *qs, const char *needle)
{
    struct mw_api_threat_params p;
    memset(&p, 0x5a, sizeof(p));
    struct mw_api_threat_params before = p;
    assert_int_equal(parse(qs, &p), MW_EINVAL);
    if (strstr(err, needle) == NULL)
        fail_msg("query '%s': error '%s' does not name '%s'", qs, err, needle);
    assert_memory_equal(&p, &before, sizeof(p)); /* untouched on error */
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_bad("severity=0", "'severity'");
    expect_bad("severity=6", "'severity'");
    expect_bad("severity=x", "'severity'");
    expect_bad("severity=-1", "'severity'");
    expect_bad("max_severity=9", "'max_severity'");
    expect_bad("status=open", "'status'");
    expect_bad("since=yesterday", "'since'");
    expect_bad("since=99999999999999999999", "'since'");
    expect_bad("limit=0", "'limit'");
    expect_bad("limit=1001", "'limit'");
    expect_bad("limit=1e3", "'limit'");
    expect_bad("limit=", "'limit'");
    expect_bad("limit", "'limit'");
    expect_bad("cursor=0", "'cursor'");
    expect_bad("cursor=abc", "'cursor'");
    expect_bad("host=%zz", "'host'");
    expect_bad("host=a%00b", "'host'");
    expect_bad("host=%", "'host'");
    expect_bad("host=%4", "'host'");
}

static void test_unknown_and_repeated(void **state)
{
    (void)state;
    expect_bad("sevrity=1", "unknown parameter 'sevrity'");
    expect_bad("limit=5&foo", "unknown parameter 'foo'");
    expect_bad("limit=5&limit=6", "'limit' given more than once");
    char longq[MW_API_QUERY_MAX + 10];
    memset(longq, 'a', sizeof(longq) - 1);
    longq[sizeof(longq) - 1] = '\0';
    expect_bad(longq, "longer than");
    /* a very long host value is refused, not truncated */
    char hq[400];
    strcpy(hq, "host=");
    memset(hq + 5, 'h', 300);
    hq[305] = '\0';
    expect_bad(hq, "'host'");
}

static void test_url_decode_and_u64(void **state)
{
    char out[8];
    uint64_t v;
    (void)state;
    assert_int_equal(mw_api_url_decode("a%41+b", 6, out, sizeof(out)), 4);
    assert_string_equal(out, "aA b");
    assert_int_equal(mw_api_url_decode("abcdefgh", 8, out, sizeof(out)), MW_ETOOBIG);
    assert_int_equal(mw_api_url_decode("%4", 2, out, sizeof(out)), MW_EINVAL);
    assert_int_equal(mw_api_parse_u64("18446744073709551615", 20, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(mw_api_parse_u64("18446744073709551616", 20, &v), MW_EINVAL);
    assert_int_equal(mw_api_parse_u64("", 0, &v), MW_EINVAL);
    assert_int_equal(mw_api_parse_u64("12a", 3, &v), MW_EINVAL);
    assert_int_equal(mw_api_parse_u64("+1", 2, &v), MW_EINVAL);
}

static void test_threat_json(void **state)
{
    mw_threat_t t;
    (void)state;
    memset(&t, 0, sizeof(t));
    t.id = 9007199254740993ULL; /* 2^53 + 1: not representable as a JS number */
    strcpy(t.rule_id, "r-1");
    strcpy(t.detector, "sigma");
    strcpy(t.title, "Encoded PowerShell");
    strcpy(t.type, "execution");
    strcpy(t.threat_class, "signature");
    strcpy(t.host, "ws\xff"
                   "1"); /* invalid UTF-8 must not break the answer */
    t.severity = 2;
    t.confidence = 0.75;
    t.first_seen_ns = 1704164645LL * 1000000000LL;
    t.last_seen_ns = t.first_seen_ns + 1500000000LL;
    t.count = 3;
    t.status = MW_THREAT_RESPONDING;
    strcpy(t.tags, "attack.execution,attack.t1059.001");

    json_t *j = mw_api_threat_json(&t);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "9007199254740993");
    assert_string_equal(json_string_value(json_object_get(j, "rule_id")), "r-1");
    assert_string_equal(json_string_value(json_object_get(j, "detector")), "sigma");
    assert_string_equal(json_string_value(json_object_get(j, "class")), "signature");
    assert_string_equal(json_string_value(json_object_get(j, "host")), "ws\xef\xbf\xbd"
                                                                       "1");
    assert_int_equal(json_integer_value(json_object_get(j, "severity")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "severity_name")), "high");
    assert_true(json_real_value(json_object_get(j, "confidence")) == 0.75);
    assert_string_equal(json_string_value(json_object_get(j, "first_seen")),
                        "2024-01-02T03:04:05.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "last_seen")),
                        "2024-01-02T03:04:06.500Z");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "responding");
    json_t *tags = json_object_get(j, "tags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "attack.execution");
    assert_string_equal(json_string_value(json_array_get(tags, 1)), "attack.t1059.001");
    assert_int_equal(json_object_size(j), 15);
    json_decref(j);
    t.tags[0] = '\0'; /* no tags: an empty list */
    j = mw_api_threat_json(&t);
    assert_int_equal(json_array_size(json_object_get(j, "tags")), 0);
    json_decref(j);
}

static void test_error_and_event_json(void **state)
{
    (void)state;
    json_t *e = mw_api_error_json("invalid_json", "bad \xc3( byte");
    assert_non_null(e);
    json_t *in = json_object_get(e, "error");
    assert_string_equal(json_string_value(json_object_get(in, "code")), "invalid_json");
    assert_string_equal(json_string_value(json_object_get(in, "message")),
                        "bad \xef\xbf\xbd( byte");
    json_decref(e);

    char raw[] = "a\0b\xed\xa0\x80z"; /* NUL kept, surrogate replaced */
    mw_stored_event_t se = {.id = 7,
                            .ts_ns = 0,
                            .ingest_ns = 0,
                            .source = MW_SRC_REPLAY,
                            .host = "h",
                            .category = "",
                            .raw = raw,
                            .raw_len = sizeof(raw) - 1};
    json_t *ev = mw_api_event_json(&se);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "id")), "7");
    assert_string_equal(json_string_value(json_object_get(ev, "source")), "replay");
    json_t *r = json_object_get(ev, "raw");
    assert_int_equal(json_string_length(r), 1 + 1 + 1 + 9 + 1);
    assert_memory_equal(json_string_value(r), "a\0b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz", 13);
    json_decref(ev);
}

static void test_metrics_json(void **state)
{
    (void)state;
    uint64_t before = MW_GET(mw_metrics.events_in[MW_SRC_HTTP]);
    MW_INC(mw_metrics.events_in[MW_SRC_HTTP]);
    MW_INC(mw_metrics.events_rejected[MW_SRC_REPLAY][MW_REJ_UTF8]);
    json_t *m = mw_api_metrics_json(1, 17);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "events_in"), "http")),
                     before + 1);
    json_t *rej = json_object_get(json_object_get(m, "events_rejected"), "replay");
    assert_true(json_integer_value(json_object_get(rej, "utf8")) >= 1);
    assert_int_equal(json_integer_value(json_object_get(m, "ring_depth")), 17);
    json_t *b = json_object_get(json_object_get(m, "latency"), "buckets");
    assert_int_equal(json_array_size(b), MW_LAT_BUCKETS);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(b, MW_LAT_BUCKETS - 1), "le")), "+Inf");
    json_decref(m);
    m = mw_api_metrics_json(0, 0);
    assert_null(json_object_get(m, "ring_depth"));
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_params),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_unknown_and_repeated),
        cmocka_unit_test(test_url_decode_and_u64),
        cmocka_unit_test(test_threat_json),
        cmocka_unit_test(test_error_and_event_json),
        cmocka_unit_test(test_metrics_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
