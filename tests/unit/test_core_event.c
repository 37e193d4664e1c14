/* Unit tests for the core: events, interning, time, UTF-8, config, acks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mwrasp/config.h"
#include "mwrasp/event.h"
#include "mwrasp/metrics.h"
#include "mwrasp/pipeline.h"

static void test_event_fields(void **st)
{
    (void)st;
    mw_event_t *ev = mw_event_new(MW_SRC_HTTP, "raw\0bytes", 9);
    assert_non_null(ev);
    assert_int_equal(ev->raw_len, 9);
    assert_memory_equal(ev->raw, "raw\0bytes", 9);
    assert_string_equal(ev->host, "");
    assert_int_equal(mw_event_set_host(ev, "web-01", 6), MW_OK);
    assert_string_equal(ev->host, "web-01");
    assert_int_equal(mw_event_add_field(ev, "EventID", 7, "4625", 4), MW_OK);
    assert_int_equal(mw_event_add_field(ev, "EventID", 7, "second", 6), MW_OK);
    assert_string_equal(mw_event_get(ev, "EventID"), "4625"); /* first wins */
    assert_null(mw_event_get(ev, "eventid")); /* case-sensitive keys */
    assert_int_equal(mw_event_add_field(ev, "", 0, "x", 1), MW_EINVAL);
    /* Grow past the inline field array and check every value survived. */
    char k[32], v[32];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "value-%d", i);
        assert_int_equal(mw_event_add_field(ev, k, strlen(k), v, strlen(v)), MW_OK);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "value-%d", i);
        assert_string_equal(mw_event_get(ev, k), v);
    }
    assert_string_equal(mw_event_get(ev, "EventID"), "4625");
    mw_event_free(ev);
    mw_event_free(NULL);
}

static void test_event_caps(void **st)
{
    (void)st;
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, "", 0);
    assert_non_null(ev);
    char big[MW_EVENT_HOST_MAX + 2];
    memset(big, 'h', sizeof big);
    assert_int_equal(mw_event_set_host(ev, big, MW_EVENT_HOST_MAX + 1), MW_ETOOBIG);
    assert_int_equal(mw_event_set_host(ev, big, MW_EVENT_HOST_MAX), MW_OK);
    for (int i = 0; ev->nfields < MW_EVENT_MAX_FIELDS; i++)
        assert_int_equal(mw_event_add_field(ev, "f", 1, "v", 1), MW_OK);
    assert_int_equal(mw_event_add_field(ev, "f", 1, "v", 1), MW_ELIMIT);
    mw_event_free(ev);

    /* The arena cap: values adding up past MW_EVENT_MAX_BYTES are refused and
     * the event stays usable. */
    ev = mw_event_new(MW_SRC_REPLAY, "", 0);
    size_t chunk = 200 * 1024;
    char *val = malloc(chunk);
    memset(val, 'a', chunk);
    int rc = MW_OK, n = 0;
    while ((rc = mw_event_add_field(ev, "big", 3, val, chunk)) == MW_OK)
        n++;
    assert_int_equal(rc, MW_ETOOBIG);
    assert_true(n >= 4 && n <= 5);
    assert_int_equal((int)ev->nfields, n);
    free(val);
    mw_event_free(ev);
    assert_null(mw_event_new(MW_SRC_REPLAY, "x", MW_EVENT_MAX_BYTES));
}

/* mw_event_add_field_interned stores the interned pointer as given, with
 * mw_event_add_field's checks and errors. */
static void test_event_add_interned(void **st)
{
    (void)st;
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, "", 0);
    assert_non_null(ev);
    const char *k = mw_intern("Image", 5);
    assert_non_null(k);
    assert_int_equal(mw_event_add_field_interned(ev, k, 5, "a.exe", 5), MW_OK);
    assert_int_equal(mw_event_add_field_interned(ev, NULL, 5, "x", 1), MW_EINVAL);
    assert_int_equal(mw_event_add_field_interned(ev, k, 0, "x", 1), MW_EINVAL);
    assert_int_equal(ev->nfields, 1);
    assert_ptr_equal(ev->fields[0].key, k);
    assert_int_equal(ev->fields[0].key_len, 5);
    assert_string_equal(mw_event_get(ev, "Image"), "a.exe");
    assert_int_equal(ev->keys_copied, 0);
    /* grows past the inline array like mw_event_add_field */
    while (ev->nfields < MW_EVENT_MAX_FIELDS)
        assert_int_equal(mw_event_add_field_interned(ev, k, 5, "v", 1), MW_OK);
    assert_int_equal(mw_event_add_field_interned(ev, k, 5, "v", 1), MW_ELIMIT);
    assert_string_equal(mw_event_get(ev, "Image"), "a.exe");
    assert_string_equal(ev->fields[MW_EVENT_MAX_FIELDS - 1].val, "v");
    mw_event_free(ev);
    /* the arena cap: refused, the event unchanged */
    ev = mw_event_new(MW_SRC_REPLAY, "", 0);
    size_t chunk = 200 * 1024;
    char *val = malloc(chunk);
    assert_non_null(val);
    memset(val, 'a', chunk);
    int rc, n = 0;
    while ((rc = mw_event_add_field_interned(ev, k, 5, val, chunk)) == MW_OK)
        n++;
    assert_int_equal(rc, MW_ETOOBIG);
    assert_int_equal((int)ev->nfields, n);
    free(val);
    mw_event_free(ev);
}

static void test_intern(void **st)
{
    (void)st;
    const char *a = mw_intern("source.ip", 9);
    const char *b = mw_intern("source.ipX", 9);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_string_equal(a, "source.ip");
    assert_ptr_not_equal(a, mw_intern("source.port", 11));
    assert_null(mw_intern("", 0));
}

/* The per-thread front cache of mw_intern: keys that share their length
 * and first and last eight bytes (one front-cache entry) but differ in
 * between, or only in the middle byte of a short key, must stay distinct,
 * whatever order they come in; every length from 1 to 40 bytes; and the
 * same key interned in another thread is the same pointer. */
struct intern_thr {
    const char *key;
    const char *got;
};

static void *intern_thread(void *arg)
{
    struct intern_thr *t = arg;
    t->got = mw_intern(t->key, strlen(t->key));
    return NULL;
}

static void test_intern_front(void **st)
{
    (void)st;
    const char *x = "Front.Key.AAAA.End.Of.It", *y = "Front.Key.BBBB.End.Of.It";
    for (int round = 0; round < 3; round++) {
        const char *a = mw_intern(round % 2 ? y : x, strlen(x));
        const char *b = mw_intern(round % 2 ? x : y, strlen(y));
        assert_non_null(a);
        assert_non_null(b);
        assert_ptr_not_equal(a, b);
        assert_string_equal(a, round % 2 ? y : x);
        assert_string_equal(b, round % 2 ? x : y);
    }
    assert_ptr_not_equal(mw_intern("a1b", 3), mw_intern("a2b", 3));
    assert_string_equal(mw_intern("a1b", 3), "a1b");
    assert_string_equal(mw_intern("a2b", 3), "a2b");
    char k[41];
    const char *first[41];
    for (size_t n = 1; n <= 40; n++) {
        for (size_t i = 0; i < n; i++)
            k[i] = (char)('a' + (i * 5 + n) % 26);
        k[n] = '\0';
        first[n] = mw_intern(k, n);
        assert_non_null(first[n]);
        assert_string_equal(first[n], k);
    }
    for (size_t n = 1; n <= 40; n++) {
        for (size_t i = 0; i < n; i++)
            k[i] = (char)('a' + (i * 5 + n) % 26);
        assert_ptr_equal(mw_intern(k, n), first[n]);
        k[n / 2] = '#'; /* another key of the same length */
        const char *o = mw_intern(k, n);
        assert_ptr_not_equal(o, first[n]);
        assert_memory_equal(o, k, n);
    }
    struct intern_thr t = {.key = x};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, intern_thread, &t), 0);
    pthread_join(th, NULL);
    assert_ptr_equal(t.got, mw_intern(x, strlen(x)));
}

static void test_time(void **st)
{
    (void)st;
    int64_t ns;
    assert_int_equal(mw_time_parse_rfc3339("1970-01-01T00:00:00Z", 20, &ns), MW_OK);
    assert_int_equal(ns, 0);
    /* RFC 3339 section 5.8 examples */
    const char *t1 = "1985-04-12T23:20:50.52Z";
    assert_int_equal(mw_time_parse_rfc3339(t1, strlen(t1), &ns), MW_OK);
    assert_int_equal(ns, 482196050LL * 1000000000LL + 520000000LL);
    const char *t2 = "1996-12-19T16:39:57-08:00";
    assert_int_equal(mw_time_parse_rfc3339(t2, strlen(t2), &ns), MW_OK);
    assert_int_equal(ns, 851042397LL * 1000000000LL);
    const char *bad[] = {"1985-04-12T23:20:50",     "1985-13-12T23:20:50Z",  "1985-02-30T00:00:00Z",
                         "2023-02-29T00:00:00Z",    "1985-04-12T23:20:50.Z", "garbage",
                         "1985-04-12T23:20:50Zjunk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mw_time_parse_rfc3339(bad[i], strlen(bad[i]), &ns), MW_EPARSE);
    assert_int_equal(mw_time_parse_rfc3339("2024-02-29T00:00:00Z", 20, &ns), MW_OK);
    /* outside what int64 nanoseconds can hold */
    assert_int_equal(mw_time_parse_rfc3339("9999-12-31T23:59:59Z", 20, &ns), MW_EPARSE);
    assert_int_equal(mw_time_parse_rfc3339("0001-01-01T00:00:00Z", 20, &ns), MW_EPARSE);
    assert_int_equal(mw_time_parse_rfc3339("2261-12-31T23:59:59Z", 20, &ns), MW_OK);
    char buf[40];
    mw_time_format_rfc3339(482196050LL * 1000000000LL + 520000000LL, buf, sizeof buf);
    assert_string_equal(buf, "1985-04-12T23:20:50.520Z");
}

static void test_utf8(void **st)
{
    (void)st;
    assert_true(mw_utf8_valid("plain", 5));
    assert_true(mw_utf8_valid("\xc3\xa9t\xc3\xa9", 5)); /* été */
    assert_true(mw_utf8_valid("\xf0\x9f\x98\x80", 4)); /* U+1F600 */
    assert_false(mw_utf8_valid("\xc3", 1)); /* truncated */
    assert_false(mw_utf8_valid("\xc0\xaf", 2)); /* overlong */
    assert_false(mw_utf8_valid("\xe0\x80\xaf", 3)); /* overlong */
    assert_false(mw_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(mw_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(mw_utf8_valid("\xff", 1));
    assert_false(mw_utf8_valid("ab\xe2\x82", 4)); /* truncated at end */
}

static void test_config(void **st)
{
    (void)st;
    struct mw_config c;
    mw_config_defaults(&c);
    assert_string_equal(c.http_listen, "127.0.0.1:8080");
    assert_int_equal(c.workers, 2);
    assert_true(c.dedup_window_ns == 60LL * 1000000000LL);
    assert_true(c.retention_ns == 24LL * 3600 * 1000000000LL);
    assert_int_equal(c.max_line, 65536);

    char dir[] = "/tmp/mwcfgXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/mwrasp.yaml", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "# comment\nlisten:\n  http: 127.0.0.1:9999\n  syslog_udp: \"\"\n"
                "pipeline.workers: 4\nthreats:\n  dedup_window: 90s\ningest:\n  max_line: 1MiB\n");
    fclose(fp);
    assert_int_equal(mw_config_load_file(&c, path, err, sizeof err), MW_OK);
    assert_string_equal(c.http_listen, "127.0.0.1:9999");
    assert_string_equal(c.syslog_udp_listen, "");
    assert_int_equal(c.workers, 4);
    assert_true(c.dedup_window_ns == 90LL * 1000000000LL);
    assert_int_equal(c.max_line, 1 << 20);

    /* Unknown key: error names file, line and key. */
    fp = fopen(path, "w");
    fprintf(fp, "listen:\n  http: 127.0.0.1:1\n  bogus: 1\n");
    fclose(fp);
    assert_int_equal(mw_config_load_file(&c, path, err, sizeof err), MW_ECONFIG);
    assert_non_null(strstr(err, ":3:"));
    assert_non_null(strstr(err, "listen.bogus"));
    /* YAML syntax error names the line. */
    fp = fopen(path, "w");
    fprintf(fp, "listen:\n  http: 'unclosed\n");
    fclose(fp);
    assert_int_equal(mw_config_load_file(&c, path, err, sizeof err), MW_ECONFIG);
    assert_non_null(strstr(err, "yaml error"));
    /* Out of range and bad units. */
    assert_int_equal(mw_config_set(&c, "pipeline.workers", "0", err, sizeof err), MW_ECONFIG);
    assert_int_equal(mw_config_set(&c, "pipeline.workers", "-3", err, sizeof err), MW_ECONFIG);
    assert_int_equal(mw_config_set(&c, "threats.dedup_window", "5 parsecs", err, sizeof err),
                     MW_ECONFIG);
    assert_int_equal(mw_config_set(&c, "ingest.max_line", "2GiB", err, sizeof err), MW_ECONFIG);
    assert_int_equal(mw_config_load_file(&c, "/nonexistent/x.yaml", err, sizeof err), MW_EIO);
    assert_non_null(strstr(err, "/nonexistent/x.yaml"));
    unlink(path);
    rmdir(dir);
}

static void test_metrics_text(void **st)
{
    (void)st;
    MW_INC(mw_metrics.events_in[MW_SRC_SYSLOG_UDP]);
    mw_metrics_observe_latency(3000000); /* 3 ms */
    char *txt = mw_metrics_prometheus("mwrasp_extra_gauge 7\n");
    assert_non_null(txt);
    assert_non_null(strstr(txt, "mwrasp_events_received_total{source=\"syslog_udp\"} 1\n"));
    assert_non_null(strstr(txt, "mwrasp_event_latency_seconds_bucket{le=\"0.0025\"} 0\n"));
    assert_non_null(strstr(txt, "mwrasp_event_latency_seconds_bucket{le=\"0.005\"} 1\n"));
    assert_non_null(strstr(txt, "mwrasp_event_latency_seconds_bucket{le=\"+Inf\"} 1\n"));
    assert_non_null(strstr(txt, "mwrasp_extra_gauge 7\n"));
    free(txt);
}

static void *ack_thread(void *arg)
{
    mw_ack_t *a = arg;
    usleep(10000);
    mw_ack_done(a, 0);
    mw_ack_done(a, MW_EIO);
    return NULL;
}

static void test_ack(void **st)
{
    (void)st;
    mw_ack_t a;
    mw_ack_init(&a);
    mw_ack_add(&a, 2);
    assert_int_equal(mw_ack_wait(&a, 1), MW_EAGAIN);
    pthread_t t;
    pthread_create(&t, NULL, ack_thread, &a);
    assert_int_equal(mw_ack_wait(&a, -1), MW_EIO);
    pthread_join(t, NULL);
    mw_ack_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_event_caps),
        cmocka_unit_test(test_event_add_interned),
        cmocka_unit_test(test_intern),
        cmocka_unit_test(test_intern_front),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_metrics_text),
        cmocka_unit_test(test_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
