/* Unit tests for the JSON-lines parser, mw_json_to_event and format
 * auto-detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/ingest.h"
#include "mwrasp/metrics.h"

#define NS 1000000000LL

static char errbuf[512];
static enum mw_reject why;

static int parse(const char *s, size_t len, mw_event_t **ev)
{
    char *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    assert_non_null(copy);
    memcpy(copy, s, len);
    why = (enum mw_reject) - 1;
    errbuf[0] = '\0';
    int rc = mw_jsonl_parse(copy, len, MW_SRC_JSON_TCP, ev, &why, errbuf, sizeof errbuf);
    free(copy);
    return rc;
}

static mw_event_t *ok(const char *s)
{
    mw_event_t *ev = NULL;
    if (parse(s, strlen(s), &ev) != MW_OK)
        fail_msg("rejected %s: %s", s, errbuf);
    assert_non_null(ev);
    return ev;
}

static const char *bad(const char *s, int code, enum mw_reject w)
{
    mw_event_t *sentinel = (mw_event_t *)(uintptr_t)0x1, *ev = sentinel;
    int rc = parse(s, strlen(s), &ev);
    if (rc == MW_OK)
        fail_msg("accepted %s", s);
    assert_int_equal(rc, code);
    assert_int_equal(why, w);
    assert_ptr_equal(ev, sentinel);
    assert_true(strlen(errbuf) > 0);
    return errbuf;
}

static void assert_field(const mw_event_t *ev, const char *k, const char *v)
{
    const char *got = mw_event_get(ev, k);
    if (!v) {
        if (got)
            fail_msg("field %s should be absent, is \"%s\"", k, got);
        return;
    }
    if (!got)
        fail_msg("field %s missing (want \"%s\")", k, v);
    assert_string_equal(got, v);
}

static void test_flatten(void **st)
{
    (void)st;
    const char *line =
        "{\"source\":{\"ip\":\"1.2.3.4\",\"port\":4444},\"n\":-12,\"r\":0.1,"
        "\"big\":1e300,\"whole\":2.0,\"t\":true,\"f\":false,\"z\":null,"
        "\"arr\":[1, \"a\", {\"b\": null}],\"empty\":{},\"EventID\":4625,"
        "\"process.command_line\":\"powershell -enc QQA=\","
        "\"deep\":{\"a\":{\"b\":{\"c\":\"d\"}}},\"u\":\"caf\\u00e9 \\ud83d\\udd12\"}";
    mw_event_t *ev = ok(line);
    assert_field(ev, "source.ip", "1.2.3.4");
    assert_field(ev, "source.port", "4444");
    assert_field(ev, "n", "-12");
    assert_field(ev, "r", "0.1");
    assert_field(ev, "big", "1e+300");
    assert_field(ev, "whole", "2.0");
    assert_field(ev, "t", "true");
    assert_field(ev, "f", "false");
    assert_field(ev, "z", "null");
    assert_field(ev, "arr", "[1,\"a\",{\"b\":null}]");
    assert_field(ev, "empty", "{}");
    assert_field(ev, "EventID", "4625");
    assert_field(ev, "process.command_line", "powershell -enc QQA=");
    assert_field(ev, "deep.a.b.c", "d");
    assert_field(ev, "u", "caf\xC3\xA9 \xF0\x9F\x94\x92");
    assert_field(ev, "source", NULL);
    assert_int_equal(ev->raw_len, strlen(line));
    assert_memory_equal(ev->raw, line, strlen(line));
    assert_int_equal(ev->source, MW_SRC_JSON_TCP);
    assert_string_equal(ev->host, "");
    assert_string_equal(ev->category, "");
    mw_event_free(ev);
}

static void test_time_host_category(void **st)
{
    (void)st;
    mw_event_t *ev = ok("{\"@timestamp\":\"2024-01-02T03:04:05.123+01:00\",\"host\":{\"name\":"
                        "\"web-01\"},\"event\":{\"category\":[\"authentication\",\"iam\"]}}");
    assert_int_equal(ev->ts_ns, 1704161045LL * NS + 123000000);
    assert_string_equal(ev->host, "web-01");
    assert_string_equal(ev->category, "authentication");
    assert_field(ev, "host.name", "web-01");
    mw_event_free(ev);

    /* Windows style: Computer, TimeCreated.SystemTime, literal dotted key. */
    ev = ok("{\"TimeCreated\":{\"SystemTime\":\"2024-01-02T02:04:05Z\"},\"Computer\":\"DC-01\","
            "\"category\":\"process_creation\"}");
    assert_int_equal(ev->ts_ns, 1704161045LL * NS);
    assert_string_equal(ev->host, "DC-01");
    assert_string_equal(ev->category, "process_creation");
    mw_event_free(ev);

    /* Priority: host.name before host before hostname before Computer. */
    ev = ok("{\"Computer\":\"c\",\"hostname\":\"h\",\"host.name\":\"hn\"}");
    assert_string_equal(ev->host, "hn");
    mw_event_free(ev);
    ev = ok("{\"Computer\":\"c\",\"hostname\":\"h\"}");
    assert_string_equal(ev->host, "h");
    mw_event_free(ev);

    /* Numeric timestamps: epoch seconds and milliseconds. */
    ev = ok("{\"timestamp\":1704161045}");
    assert_int_equal(ev->ts_ns, 1704161045LL * NS);
    mw_event_free(ev);
    ev = ok("{\"timestamp\":1704161045250}");
    assert_int_equal(ev->ts_ns, 1704161045250LL * 1000000);
    mw_event_free(ev);

    /* Unparseable time: receipt time, field kept. */
    int64_t before = mw_now_realtime_ns();
    ev = ok("{\"@timestamp\":\"yesterday\"}");
    assert_true(ev->ts_ns >= before);
    assert_field(ev, "@timestamp", "yesterday");
    mw_event_free(ev);

    /* Outside the int64 ns range: receipt time. */
    ev = ok("{\"@timestamp\":\"0001-01-01T00:00:00Z\"}");
    assert_true(ev->ts_ns >= before);
    mw_event_free(ev);
    ev = ok("{\"@timestamp\":\"9999-12-31T23:59:59Z\"}");
    assert_true(ev->ts_ns >= before && ev->ts_ns < before + 3600 * NS);
    mw_event_free(ev);

    /* Host over 255 bytes: a limit. */
    char line[600];
    int n = snprintf(line, sizeof line, "{\"host\":\"");
    memset(line + n, 'h', 256);
    snprintf(line + n + 256, sizeof line - (size_t)n - 256, "\"}");
    const char *e = bad(line, MW_ELIMIT, MW_REJ_LIMIT);
    assert_non_null(strstr(e, "host"));
}

static void test_errors(void **st)
{
    (void)st;
    const char *e = bad("{\"a\": 1,}", MW_EPARSE, MW_REJ_PARSE);
    assert_non_null(strstr(e, "invalid JSON at line 1, column"));
    e = bad("{\"a\": tru}", MW_EPARSE, MW_REJ_PARSE);
    assert_non_null(strstr(e, "column"));
    e = bad("[1,2]", MW_EPARSE, MW_REJ_PARSE);
    assert_string_equal(e, "expected a JSON object, got an array");
    e = bad("42", MW_EPARSE, MW_REJ_PARSE);
    assert_string_equal(e, "expected a JSON object, got a number");
    e = bad("\"s\"", MW_EPARSE, MW_REJ_PARSE);
    assert_string_equal(e, "expected a JSON object, got a string");
    bad("{\"a\":1} {\"b\":2}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":\"\\u0000\"}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a", MW_EPARSE, MW_REJ_PARSE);
    e = bad("{\"a\":\"caf\xC3\"}", MW_EUTF8, MW_REJ_UTF8);
    assert_non_null(strstr(e, "UTF-8"));
    bad("{\"a\":\"\xED\xA0\x80\"}", MW_EUTF8, MW_REJ_UTF8); /* surrogate */
    mw_event_t *ev = NULL;
    assert_int_equal(parse("", 0, &ev), MW_EPARSE);
    assert_null(ev);
    /* Trailing whitespace (e.g. a CR) is fine. */
    ev = ok("{\"a\":1} \r");
    mw_event_free(ev);
    /* Duplicate keys are accepted; the first wins and the others add no
     * field, also when flattening makes them collide. */
    ev = ok("{\"a\":1,\"a\":2,\"b.c\":3,\"b\":{\"c\":4}}");
    assert_field(ev, "a", "1");
    assert_field(ev, "b.c", "3");
    assert_int_equal(ev->nfields, 2);
    mw_event_free(ev);
    /* Grammar corners that jansson (and RFC 8259) refuse. */
    bad("{\"a\":01}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":1.}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":.5}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":1e}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":+1}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":1e999}", MW_EPARSE, MW_REJ_PARSE); /* real overflow */
    bad("{\"a\":9223372036854775808}", MW_EPARSE, MW_REJ_PARSE); /* int overflow */
    bad("{\"a\":\"\\x\"}", MW_EPARSE, MW_REJ_PARSE); /* bad escape */
    bad("{\"a\":\"\\ud800\"}", MW_EPARSE, MW_REJ_PARSE); /* lone surrogate */
    bad("{\"a\":\"\\udc00\"}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":\"tab\there\"}", MW_EPARSE, MW_REJ_PARSE); /* raw control char */
    bad("{'a':1}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":1 \"b\":2}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":[1,]}", MW_EPARSE, MW_REJ_PARSE);
    bad("{\"a\":nul}", MW_EPARSE, MW_REJ_PARSE);
    bad("\xEF\xBB\xBF{}", MW_EPARSE, MW_REJ_PARSE); /* BOM */
    ev = ok("{\"a\":-9223372036854775808,\"b\":-0,\"c\":1E2,\"d\":\"\\ud83d\\udd12\\/\\b\"}");
    assert_field(ev, "a", "-9223372036854775808");
    assert_field(ev, "b", "0");
    assert_field(ev, "c", "100.0");
    assert_field(ev, "d", "\xF0\x9F\x94\x92/\b");
    mw_event_free(ev);
}

static char *nested(int depth, const char *open, const char *close)
{
    size_t cap = (size_t)depth * 8 + 64;
    char *s = malloc(cap);
    size_t o = 0;
    o += (size_t)snprintf(s + o, cap - o, "{");
    for (int i = 1; i < depth; i++)
        o += (size_t)snprintf(s + o, cap - o, "%s", open);
    o += (size_t)snprintf(s + o, cap - o, "1");
    for (int i = 1; i < depth; i++)
        o += (size_t)snprintf(s + o, cap - o, "%s", close);
    snprintf(s + o, cap - o, "}");
    return s;
}

static void test_depth_and_fields(void **st)
{
    (void)st;
    /* 32 levels of objects: fine; 33: refused. */
    /* nested() gives {"k":{"k":{...1}}}; the bare 1 becomes "v":1. */
    char *s = nested(32, "\"k\":{", "}");
    size_t cap = strlen(s) + 16;
    char *t = malloc(cap);
    char *one = strchr(s, '1');
    snprintf(t, cap, "%.*s\"v\":1%s", (int)(one - s), s, one + 1);
    mw_event_t *ev = ok(t);
    assert_int_equal(ev->nfields, 1);
    assert_int_equal(strlen(ev->fields[0].key), 31 * 2 + 1); /* k.k.....v */
    mw_event_free(ev);
    free(s);
    free(t);
    s = nested(33, "\"k\":{", "}");
    cap = strlen(s) + 16;
    t = malloc(cap);
    one = strchr(s, '1');
    snprintf(t, cap, "%.*s\"v\":1%s", (int)(one - s), s, one + 1);
    const char *e = bad(t, MW_ELIMIT, MW_REJ_LIMIT);
    assert_non_null(strstr(e, "32"));
    free(s);
    free(t);
    /* Arrays count too: an object holding 31 nested arrays is 32 levels. */
    s = nested(32, "[", "]");
    one = strchr(s, '[');
    cap = strlen(s) + 16;
    t = malloc(cap);
    snprintf(t, cap, "{\"a\":%s", one);
    t[strlen(t) - 1] = '}';
    ev = ok(t);
    mw_event_free(ev);
    free(t);
    free(s);
    s = nested(33, "[", "]");
    one = strchr(s, '[');
    cap = strlen(s) + 16;
    t = malloc(cap);
    snprintf(t, cap, "{\"a\":%s", one);
    t[strlen(t) - 1] = '}';
    bad(t, MW_ELIMIT, MW_REJ_LIMIT);
    free(t);
    free(s);
    /* Very deep input (beyond jansson's own limit): a limit, no crash. */
    s = nested(5000, "[", "]"); /* {[[[...1]]]}: make it {"a":[[...1]]} */
    cap = strlen(s) + 16;
    t = malloc(cap);
    snprintf(t, cap, "{\"a\":%s", s + 1);
    const char *e2 = bad(t, MW_ELIMIT, MW_REJ_LIMIT);
    assert_non_null(strstr(e2, "deeper"));
    /* The same as a whole array: not an object. */
    s[0] = '[';
    s[strlen(s) - 1] = ']';
    bad(s, MW_EPARSE, MW_REJ_PARSE);
    free(s);
    free(t);

    /* MW_EVENT_MAX_FIELDS fields: fine; one more: refused. */
    for (int nf = MW_EVENT_MAX_FIELDS; nf <= MW_EVENT_MAX_FIELDS + 1; nf++) {
        size_t c = (size_t)nf * 16 + 8;
        char *l = malloc(c);
        size_t o = (size_t)snprintf(l, c, "{");
        for (int i = 0; i < nf; i++)
            o += (size_t)snprintf(l + o, c - o, "%s\"f%d\":%d", i ? "," : "", i, i);
        snprintf(l + o, c - o, "}");
        if (nf == MW_EVENT_MAX_FIELDS) {
            ev = ok(l);
            assert_int_equal(ev->nfields, MW_EVENT_MAX_FIELDS);
            assert_field(ev, "f255", "255");
            mw_event_free(ev);
        } else {
            e = bad(l, MW_ELIMIT, MW_REJ_LIMIT);
            assert_non_null(strstr(e, "fields"));
        }
        free(l);
    }
}

static void test_json_to_event(void **st)
{
    (void)st;
    json_error_t jerr;
    json_t *o = json_loads("{\"host\": \"h1\", \"a\": {\"b\": [1, 2]}}", 0, &jerr);
    assert_non_null(o);
    mw_event_t *ev = NULL;
    enum mw_reject w;
    char err[128];
    assert_int_equal(mw_json_to_event(o, MW_SRC_HTTP, &ev, &w, err, sizeof err), MW_OK);
    assert_string_equal(ev->raw, "{\"host\":\"h1\",\"a\":{\"b\":[1,2]}}");
    assert_string_equal(ev->host, "h1");
    assert_field(ev, "a.b", "[1,2]");
    assert_int_equal(ev->source, MW_SRC_HTTP);
    mw_event_free(ev);
    json_decref(o);

    o = json_array();
    ev = NULL;
    assert_int_equal(mw_json_to_event(o, MW_SRC_HTTP, &ev, &w, err, sizeof err), MW_EPARSE);
    assert_int_equal(w, MW_REJ_PARSE);
    assert_null(ev);
    json_decref(o);
    assert_int_equal(mw_json_to_event(NULL, MW_SRC_HTTP, &ev, &w, err, sizeof err), MW_EPARSE);

    /* Raw text above the stack buffer goes through the heap path. */
    o = json_object();
    char *v = malloc(20000);
    memset(v, 'x', 19999);
    v[19999] = '\0';
    json_object_set_new(o, "long", json_string(v));
    assert_int_equal(mw_json_to_event(o, MW_SRC_HTTP, &ev, &w, err, sizeof err), MW_OK);
    assert_int_equal(ev->raw_len, 19999 + strlen("{\"long\":\"\"}"));
    assert_int_equal(strlen(mw_event_get(ev, "long")), 19999);
    mw_event_free(ev);
    json_decref(o);
    free(v);
}

/* A duplicate key whose array value would have given the category must not
 * change the category an earlier member gave (found by review: the first
 * string of the duplicate's array overwrote the kept copy, "secon"). */
static void test_category_duplicate_key(void **st)
{
    (void)st;
    mw_event_t *ev = ok("{\"event.category\":1,\"category\":[\"first\"],"
                        "\"event.category\":[\"second\"]}");
    assert_string_equal(ev->category, "first");
    assert_field(ev, "event.category", "1"); /* first wins */
    mw_event_free(ev);
    ev = ok("{\"category\":[\"a\"],\"category\":[\"longer\"],\"x\":[\"y\"]}");
    assert_string_equal(ev->category, "a");
    mw_event_free(ev);
}

/* mw_jsonl_parse (scanner) and mw_json_to_event (jansson tree) agree. */
static void test_paths_agree(void **st)
{
    (void)st;
    static const char *const lines[] = {
        "{\"a\":[0.1, 1e300, 1e16, 2.0, -0.0, 5e-324, \"x\\ny\\u0001\\\"\", {\"k\\t\": [true, "
        "null]}]}",
        "{\"event\":{\"category\":[[\"nested\"], \"x\"]},\"category\":\"c\"}",
        "{\"event\":{\"category\":[\"first\", \"x\"]},\"host\":{\"name\":7},\"hostname\":\"h\"}",
        "{\"@timestamp\":\"bad\",\"timestamp\":1.5e9,\"TimeCreated\":\"2024-01-02T03:04:05Z\"}",
        "{\"\":{\"x\":1},\"e\":{},\"n\":{\"m\":{}},\"u\":\"\\u00e9\\u2028\"}",
        "{\"r\":123456789.123456789,\"i\":-42,\"big\":1.7976931348623157e308}",
        /* nested path first, then the same path as a literal key (found by fuzzing):
         * both paths take the first in document order */
        "{\"event\":{\"category\":[\"authentication\"]},\"event.category\":\"admin\"}",
        "{\"host.name\":\"lit\",\"host\":{\"name\":\"nested\"}}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        mw_event_t *a = ok(lines[i]);
        json_error_t jerr;
        json_t *o = json_loads(lines[i], 0, &jerr);
        assert_non_null(o);
        mw_event_t *b = NULL;
        enum mw_reject w;
        char err[128];
        assert_int_equal(mw_json_to_event(o, MW_SRC_HTTP, &b, &w, err, sizeof err), MW_OK);
        json_decref(o);
        assert_int_equal(a->nfields, b->nfields);
        for (uint32_t k = 0; k < a->nfields; k++) {
            assert_string_equal(a->fields[k].key, b->fields[k].key);
            assert_int_equal(a->fields[k].val_len, b->fields[k].val_len);
            assert_memory_equal(a->fields[k].val, b->fields[k].val, a->fields[k].val_len);
        }
        assert_string_equal(a->host, b->host);
        assert_string_equal(a->category, b->category);
        if (a->ts_ns != a->ingest_ns)
            assert_int_equal(a->ts_ns, b->ts_ns);
        mw_event_free(a);
        mw_event_free(b);
    }
    /* Spot checks of the shared text. */
    mw_event_t *ev = ok(lines[0]);
    assert_field(ev, "a",
                 "[0.1,1e+300,1e+16,2.0,-0.0,4.94065645841247e-324,\"x\\ny\\u0001\\\"\","
                 "{\"k\\t\":[true,null]}]");
    mw_event_free(ev);
    ev = ok(lines[1]);
    assert_string_equal(ev->category, "c"); /* first element not a string: next key */
    mw_event_free(ev);
    ev = ok(lines[2]);
    assert_string_equal(ev->category, "first");
    assert_string_equal(ev->host, "h"); /* host.name not a string: next key */
    mw_event_free(ev);
    ev = ok(lines[3]);
    assert_int_equal(ev->ts_ns, 1500000000LL * NS);
    mw_event_free(ev);
    ev = ok(lines[6]);
    assert_string_equal(ev->category, "authentication");
    mw_event_free(ev);
    ev = ok(lines[7]);
    assert_string_equal(ev->host, "lit");
    mw_event_free(ev);
}

static void test_parse_line(void **st)
{
    (void)st;
    mw_event_t *ev = NULL;
    enum mw_reject w;
    char err[128];
    const char *j = "  {\"a\":\"b\"}";
    assert_int_equal(
        mw_ingest_parse_line(j, strlen(j), MW_SRC_REPLAY, "p", &ev, &w, err, sizeof err), MW_OK);
    assert_field(ev, "a", "b");
    assert_string_equal(ev->host, ""); /* JSON: no peer fallback */
    mw_event_free(ev);
    const char *s = "<13>Oct 11 22:14:15 h t: {\"a\":1}";
    assert_int_equal(
        mw_ingest_parse_line(s, strlen(s), MW_SRC_REPLAY, "p", &ev, &w, err, sizeof err), MW_OK);
    assert_field(ev, "message", "{\"a\":1}");
    assert_string_equal(ev->category, "syslog");
    mw_event_free(ev);
    ev = NULL;
    assert_int_equal(mw_ingest_parse_line(" \t ", 3, MW_SRC_REPLAY, "p", &ev, &w, err, sizeof err),
                     MW_EPARSE);
    assert_null(ev);
    assert_int_equal(mw_ingest_parse_line("{", 1, MW_SRC_REPLAY, "p", &ev, &w, err, sizeof err),
                     MW_EPARSE);
    assert_null(ev);
}

static void test_truncation_every_byte(void **st)
{
    (void)st;
    const char *line = "{\"@timestamp\":\"2024-01-02T03:04:05Z\",\"host\":{\"name\":\"w\"},"
                       "\"a\":[1,{\"b\":\"c\\\"\\u00e9\"}],\"n\":1.5e3,\"t\":true}";
    size_t len = strlen(line);
    for (size_t cut = 0; cut <= len; cut++) {
        mw_event_t *ev = NULL;
        int rc = parse(line, cut, &ev);
        if (cut == len) {
            assert_int_equal(rc, MW_OK);
            mw_event_free(ev);
        } else {
            assert_int_not_equal(rc, MW_OK);
            assert_null(ev);
            assert_true(strlen(errbuf) > 0);
        }
    }
}

/* The string scanner looks at 16 (SSE2) or 8 bytes at a time: a special
 * byte (quote, escape, control byte, UTF-8 lead byte) at every offset
 * 0..40 of a value, followed by 0..40 more plain bytes before the end of
 * the line, is found where it is, and an escape or a UTF-8 sequence that
 * straddles a block boundary decodes whole. */
struct special_case {
    const char *src; /* as written in the JSON text */
    const char *dec; /* decoded value text; NULL: refused */
    int code;
    enum mw_reject why;
};

static void test_special_byte_offsets(void **st)
{
    (void)st;
    static const struct special_case cases[] = {
        {"", "", 0, 0},
        {"\\n", "\n", 0, 0},
        {"\\\\", "\\", 0, 0},
        {"\\\"", "\"", 0, 0},
        {"\\u00e9", "\xc3\xa9", 0, 0},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80", 0, 0},
        {"\xc3\xa9", "\xc3\xa9", 0, 0},
        {"\xe2\x80\xa8", "\xe2\x80\xa8", 0, 0},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", 0, 0},
        {"\x7f", "\x7f", 0, 0},
        {" ", " ", 0, 0},
        {"\x01", NULL, MW_EPARSE, MW_REJ_PARSE},
        {"\x1f", NULL, MW_EPARSE, MW_REJ_PARSE},
        {"\x80", NULL, MW_EUTF8, MW_REJ_UTF8},
        {"\xff", NULL, MW_EUTF8, MW_REJ_UTF8},
        {"\xc3(", NULL, MW_EUTF8, MW_REJ_UTF8},
        {"\\x", NULL, MW_EPARSE, MW_REJ_PARSE},
    };
    static const size_t tails[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40};
    char line[256], want[256], col[32];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct special_case *sc = &cases[c];
        for (size_t k = 0; k <= 40; k++) {
            for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                for (int as_key = 0; as_key < 2; as_key++) {
                    size_t m = tails[t];
                    /* {"key":"<k x 'a'><special><m x 'b'>"} or the same as a key */
                    char body[128];
                    size_t bl = 0;
                    memset(body, 'a', k);
                    bl += k;
                    memcpy(body + bl, sc->src, strlen(sc->src));
                    bl += strlen(sc->src);
                    memset(body + bl, 'b', m);
                    bl += m;
                    int n = as_key
                                ? snprintf(line, sizeof line, "{\"%.*s\":\"v\"}", (int)bl, body)
                                : snprintf(line, sizeof line, "{\"key\":\"%.*s\"}", (int)bl, body);
                    assert_true(n > 0 && (size_t)n < sizeof line);
                    mw_event_t *ev = NULL;
                    int rc = parse(line, (size_t)n, &ev);
                    if (!sc->dec) {
                        if (rc == MW_OK)
                            fail_msg("case %zu k %zu m %zu key %d accepted", c, k, m, as_key);
                        assert_int_equal(rc, sc->code);
                        assert_int_equal(why, sc->why);
                        assert_null(ev);
                        /* the column of the offending byte (of the backslash
                         * for a bad escape) */
                        size_t at = (as_key ? 2 : 8) + k + 1;
                        snprintf(col, sizeof col, "column %zu:", at);
                        if (!strstr(errbuf, col))
                            fail_msg("case %zu k %zu: \"%s\" lacks \"%s\"", c, k, errbuf, col);
                        continue;
                    }
                    if (rc != MW_OK)
                        fail_msg("case %zu k %zu m %zu key %d: %s", c, k, m, as_key, errbuf);
                    size_t wl = 0;
                    memset(want, 'a', k);
                    wl += k;
                    memcpy(want + wl, sc->dec, strlen(sc->dec));
                    wl += strlen(sc->dec);
                    memset(want + wl, 'b', m);
                    wl += m;
                    want[wl] = '\0';
                    if (wl == 0 && as_key) {
                        assert_int_equal(ev->nfields, 0); /* "" as a key: no field */
                    } else {
                        assert_int_equal(ev->nfields, 1);
                        const mw_field_t *f = &ev->fields[0];
                        const char *got = as_key ? f->key : f->val;
                        size_t gl = as_key ? f->key_len : f->val_len;
                        assert_int_equal(gl, wl);
                        assert_memory_equal(got, want, wl);
                        assert_int_equal(got[wl], '\0');
                    }
                    mw_event_free(ev);
                }
            }
        }
    }
}

/* Escaped strings in lines around the size where the scanner's decode
 * buffer moves from the stack to the heap (4,096 bytes with the NUL). */
static void test_long_escaped_lines(void **st)
{
    (void)st;
    static const size_t lens[] = {4093, 4094, 4095, 4096, 4097, 9000};
    for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
        size_t len = lens[t];
        /* {"a":"\n<x...>\t","b":"\\"} exactly len bytes */
        const char *head = "{\"a\":\"\\n", *tail = "\\t\",\"b\":\"\\\\\"}";
        size_t fill = len - strlen(head) - strlen(tail);
        char *line = malloc(len + 1);
        assert_non_null(line);
        snprintf(line, len + 1, "%s%*s%s", head, (int)fill, "", tail);
        memset(line + strlen(head), 'x', fill);
        assert_int_equal(strlen(line), len);
        mw_event_t *ev = NULL;
        if (parse(line, len, &ev) != MW_OK)
            fail_msg("len %zu: %s", len, errbuf);
        const mw_field_t *a = mw_event_field(ev, "a");
        assert_non_null(a);
        assert_int_equal(a->val_len, fill + 2);
        assert_int_equal(a->val[0], '\n');
        assert_int_equal(a->val[fill], 'x');
        assert_int_equal(a->val[fill + 1], '\t');
        assert_field(ev, "b", "\\");
        mw_event_free(ev);
        free(line);
    }
}

/* Every time, host and category key is recognised alone, as a literal
 * (dotted) name, and a name of the same length and first byte is not one
 * (the scanner filters member names by length and first byte). */
static void test_special_keys(void **st)
{
    (void)st;
    static const char *const times[] = {"@timestamp", "timestamp", "TimeCreated",
                                        "TimeCreated.SystemTime"};
    static const char *const hosts[] = {"host.name", "host", "hostname", "Computer"};
    static const char *const cats[] = {"event.category", "category"};
    static const char *const misses[] = {
        "@timestampx", "tImestamp",      "TimeCreatex", "hostXname", "hosT", "hostnamE",
        "ComputeR",    "event.categorY", "categorY",    "Timestamp", "Host", "computer"};
    char line[256];
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        snprintf(line, sizeof line, "{\"x\":1,\"%s\":\"2024-01-02T03:04:05Z\"}", times[i]);
        mw_event_t *ev = ok(line);
        assert_int_equal(ev->ts_ns, 1704164645LL * NS);
        mw_event_free(ev);
    }
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        snprintf(line, sizeof line, "{\"x\":1,\"%s\":\"H%zu\"}", hosts[i], i);
        mw_event_t *ev = ok(line);
        char want[8];
        snprintf(want, sizeof want, "H%zu", i);
        assert_string_equal(ev->host, want);
        mw_event_free(ev);
    }
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++) {
        snprintf(line, sizeof line, "{\"x\":1,\"%s\":\"C%zu\"}", cats[i], i);
        mw_event_t *ev = ok(line);
        char want[8];
        snprintf(want, sizeof want, "C%zu", i);
        assert_string_equal(ev->category, want);
        mw_event_free(ev);
    }
    int64_t before = mw_now_realtime_ns();
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
        snprintf(line, sizeof line, "{\"%s\":\"2024-01-02T03:04:05Z\"}", misses[i]);
        mw_event_t *ev = ok(line);
        assert_true(ev->ts_ns >= before);
        assert_string_equal(ev->host, "");
        assert_string_equal(ev->category, "");
        assert_field(ev, misses[i], "2024-01-02T03:04:05Z");
        mw_event_free(ev);
    }
}

/* Whitespace: the four JSON kinds are skipped around every token; other
 * bytes at or below ' ' (VT, FF, NUL, 0x1F) are refused there, at their
 * own column. */
static void test_whitespace(void **st)
{
    (void)st;
    static const char *const wss[] = {"", " ", "\t", "\n", "\r", " \r\n\t ", "\t\t\t\t\t\t\t\t"};
    char line[256];
    for (size_t w = 0; w < sizeof wss / sizeof wss[0]; w++) {
        const char *x = wss[w];
        snprintf(line, sizeof line, "%s{%s\"a\"%s:%s\"b\"%s,%s\"n\"%s:%s[%s1%s,%s2%s]%s}%s", x, x,
                 x, x, x, x, x, x, x, x, x, x, x, x);
        mw_event_t *ev = ok(line);
        assert_int_equal(ev->nfields, 2);
        assert_field(ev, "a", "b");
        assert_field(ev, "n", "[1,2]");
        mw_event_free(ev);
    }
    static const char bads[] = {'\v', '\f', '\x1f', '\x01'};
    for (size_t b = 0; b < sizeof bads; b++) {
        /* before ':', after ':', after a value, after ',' */
        static const char *const fmts[] = {"{\"a\"%c:1}", "{\"a\":%c1}", "{\"a\":1%c}",
                                           "{\"a\":1,%c\"b\":2}"};
        static const int cols[] = {5, 6, 7, 8};
        for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
            int n = snprintf(line, sizeof line, fmts[f], bads[b]);
            mw_event_t *ev = NULL;
            assert_int_equal(parse(line, (size_t)n, &ev), MW_EPARSE);
            assert_null(ev);
            char col[32];
            snprintf(col, sizeof col, "column %d:", cols[f]);
            if (!strstr(errbuf, col))
                fail_msg("byte %d fmt %zu: \"%s\" lacks \"%s\"", bads[b], f, errbuf, col);
        }
    }
}

/* The scanner predicts an event's keys from the previous event's (per
 * thread). Sequences of events whose keys repeat, extend, shorten, reorder,
 * nest or repeat a key where the prediction has a new one: each event's
 * fields equal the jansson path's (mw_json_to_event), keys are the interned
 * pointers, and a repeated key still adds no field (first wins). */
static void test_key_prediction(void **st)
{
    (void)st;
    /* line, and for lines with a repeated member name (which jansson's
     * object does not keep) the fields by hand as "key=value|..." */
    static const char *const lines[][2] = {
        {"{\"A\":1,\"B\":\"b\",\"C\":\"c\"}", NULL},
        {"{\"A\":2,\"B\":\"b2\",\"C\":\"c2\"}", NULL},
        {"{\"A\":3,\"B\":\"b3\"}", NULL},
        {"{\"A\":4,\"B\":\"b4\",\"C\":\"c4\",\"D\":\"d4\"}", NULL},
        {"{\"A\":5,\"A\":\"dup\",\"B\":\"b5\",\"C\":\"c5\",\"D\":\"d5\"}", "A=5|B=b5|C=c5|D=d5|"},
        {"{\"A\":6,\"B\":\"b6\",\"B\":\"dup\",\"D\":\"d6\"}", "A=6|B=b6|D=d6|"},
        {"{\"A\":7,\"B\":\"b7\",\"C\":\"c7\",\"D\":\"d7\",\"C\":\"dup\"}", "A=7|B=b7|C=c7|D=d7|"},
        {"{\"B\":\"b8\",\"A\":8,\"C\":\"c8\",\"D\":\"d8\"}", NULL},
        {"{\"B\":\"b9\",\"A\":9,\"C\":{\"x\":1,\"y\":[2]},\"D\":\"d9\"}", NULL},
        {"{\"B\":\"b10\",\"A\":10,\"C.x\":\"lit\",\"C\":{\"x\":1},\"D\":\"d10\"}", NULL},
        {"{\"B\":\"b11\",\"A\":11,\"C\":{\"x\":1},\"C.x\":\"lit\",\"D\":\"d11\"}", NULL},
        {"{\"B\":\"b12\",\"A\":12,\"C\":{\"x\":1},\"C.x\":\"lit\",\"D\":\"d12\"}", NULL},
        {"{}", NULL},
        {"{\"B\":\"b13\",\"A\":13,\"C\":{\"x\":1},\"C.x\":\"lit\",\"D\":\"d13\"}", NULL},
        {"{\"B\":\"b14\",\"A\":14,\"C\":{\"x\":1},\"C.x\":\"lit\",\"D\":\"d14\",\"E\":[]}", NULL},
        {"{\"B\":\"b15\"}", NULL},
        {"{\"B\":\"b16\",\"A\":16,\"C\":{\"x\":1},\"C.x\":\"lit\",\"D\":\"d16\",\"E\":[]}", NULL},
    };
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            mw_event_t *a = ok(lines[i][0]);
            for (uint32_t k = 0; k < a->nfields; k++) {
                assert_ptr_equal(a->fields[k].key,
                                 mw_intern(a->fields[k].key, a->fields[k].key_len));
                for (uint32_t m = 0; m < k; m++)
                    assert_string_not_equal(a->fields[k].key, a->fields[m].key);
            }
            if (lines[i][1]) {
                char got[256];
                size_t o = 0;
                got[0] = '\0';
                for (uint32_t k = 0; k < a->nfields; k++)
                    o += (size_t)snprintf(got + o, sizeof got - o, "%s=%s|", a->fields[k].key,
                                          a->fields[k].val);
                assert_string_equal(got, lines[i][1]);
                mw_event_free(a);
                continue;
            }
            json_error_t jerr;
            json_t *o = json_loads(lines[i][0], JSON_REJECT_DUPLICATES, &jerr);
            assert_non_null(o);
            mw_event_t *b = NULL;
            enum mw_reject w;
            char err[128];
            assert_int_equal(mw_json_to_event(o, MW_SRC_HTTP, &b, &w, err, sizeof err), MW_OK);
            json_decref(o);
            if (a->nfields != b->nfields)
                fail_msg("line %zu: %u fields, jansson %u", i, a->nfields, b->nfields);
            for (uint32_t k = 0; k < a->nfields; k++) {
                assert_string_equal(a->fields[k].key, b->fields[k].key);
                assert_int_equal(a->fields[k].val_len, b->fields[k].val_len);
                assert_memory_equal(a->fields[k].val, b->fields[k].val, a->fields[k].val_len);
            }
            mw_event_free(a);
            mw_event_free(b);
        }
    }
}

/* A key that differs from the predicted one (the previous event's) in one
 * byte, at every position of names of 1..40 bytes, is not taken for it
 * (the scanner compares short names with word loads); nested names too,
 * whose prefix is copied the same way. */
static void test_prediction_near_keys(void **st)
{
    (void)st;
    char key[48], key2[48], line[160];
    for (size_t n = 1; n <= 40; n++) {
        for (size_t p = 0; p < n; p++) {
            for (size_t k = 0; k < n; k++)
                key[k] = (char)('a' + (k % 26));
            key[n] = '\0';
            memcpy(key2, key, n + 1);
            key2[p] = 'Z';
            for (int nested = 0; nested < 2; nested++) {
                const char *fmt = nested ? "{\"o\":{\"%s\":1,\"x\":2}}" : "{\"%s\":1,\"x\":2}";
                char want[64];
                snprintf(line, sizeof line, fmt, key);
                mw_event_t *ev = ok(line);
                mw_event_free(ev);
                snprintf(line, sizeof line, fmt, key2);
                ev = ok(line);
                assert_int_equal(ev->nfields, 2);
                snprintf(want, sizeof want, "%s%s", nested ? "o." : "", key2);
                assert_string_equal(ev->fields[0].key, want);
                assert_int_equal(ev->fields[0].key_len, strlen(want));
                assert_ptr_equal(ev->fields[0].key, mw_intern(want, strlen(want)));
                mw_event_free(ev);
            }
        }
    }
}

/* Strings with an escape every `gap` plain bytes (gap 0..40), so that
 * escapes fall at every offset of the decoder's 16-byte blocks, with the
 * value ending 0..20 bytes before the end of the line. */
static void test_escape_runs(void **st)
{
    (void)st;
    static const char *const escs[][2] = {
        {"\\\\", "\\"}, {"\\n", "\n"}, {"\\u00e9", "\xc3\xa9"}, {"\\\"", "\""}};
    char body[1024], want[1024], line[1200];
    for (size_t e = 0; e < sizeof escs / sizeof escs[0]; e++) {
        for (size_t gap = 0; gap <= 40; gap++) {
            for (size_t pad = 0; pad <= 20; pad += 5) {
                size_t bl = 0, wl = 0;
                for (int rep = 0; rep < 12; rep++) {
                    for (size_t g = 0; g < gap; g++) {
                        char c = (char)('A' + (rep + (int)g) % 26);
                        body[bl++] = c;
                        want[wl++] = c;
                    }
                    memcpy(body + bl, escs[e][0], strlen(escs[e][0]));
                    bl += strlen(escs[e][0]);
                    memcpy(want + wl, escs[e][1], strlen(escs[e][1]));
                    wl += strlen(escs[e][1]);
                }
                int n = snprintf(line, sizeof line, "{\"v\":\"%.*s\",\"p\":\"%*s\"}", (int)bl, body,
                                 (int)pad, "");
                assert_true(n > 0 && (size_t)n < sizeof line);
                mw_event_t *ev = NULL;
                if (parse(line, (size_t)n, &ev) != MW_OK)
                    fail_msg("esc %zu gap %zu: %s", e, gap, errbuf);
                const mw_field_t *f = mw_event_field(ev, "v");
                assert_non_null(f);
                assert_int_equal(f->val_len, wl);
                assert_memory_equal(f->val, want, wl);
                mw_event_free(ev);
            }
        }
    }
}

/* Integers keep their own digits as text (the scanner copies them from the
 * input), "-0" reads as 0 as in jansson, and the 64-bit limits hold for
 * 18, 19 and 20 digit values, as members and inside arrays. */
static void test_integer_text(void **st)
{
    (void)st;
    static const char *const okv[][2] = {
        {"0", "0"},
        {"-0", "0"},
        {"7", "7"},
        {"-7", "-7"},
        {"123456789012345678", "123456789012345678"},
        {"-123456789012345678", "-123456789012345678"},
        {"999999999999999999", "999999999999999999"},
        {"1234567890123456789", "1234567890123456789"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"-0.0", "-0.0"},
        {"1e2", "100.0"},
    };
    char line[128], want[128];
    for (size_t i = 0; i < sizeof okv / sizeof okv[0]; i++) {
        snprintf(line, sizeof line, "{\"n\":%s,\"a\":[%s,%s]}", okv[i][0], okv[i][0], okv[i][0]);
        mw_event_t *ev = ok(line);
        assert_field(ev, "n", okv[i][1]);
        snprintf(want, sizeof want, "[%s,%s]", okv[i][1], okv[i][1]);
        assert_field(ev, "a", want);
        mw_event_free(ev);
    }
    static const char *const big[] = {"9223372036854775808", "-9223372036854775809",
                                      "10000000000000000000", "99999999999999999999",
                                      "-10000000000000000000"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        snprintf(line, sizeof line, "{\"n\":%s}", big[i]);
        const char *e = bad(line, MW_EPARSE, MW_REJ_PARSE);
        assert_non_null(strstr(e, "too big"));
        snprintf(line, sizeof line, "{\"a\":[1,%s]}", big[i]);
        bad(line, MW_EPARSE, MW_REJ_PARSE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_time_host_category),
        cmocka_unit_test(test_category_duplicate_key),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth_and_fields),
        cmocka_unit_test(test_json_to_event),
        cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_special_byte_offsets),
        cmocka_unit_test(test_long_escaped_lines),
        cmocka_unit_test(test_special_keys),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_key_prediction),
        cmocka_unit_test(test_prediction_near_keys),
        cmocka_unit_test(test_escape_runs),
        cmocka_unit_test(test_integer_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
