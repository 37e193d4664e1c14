/* POST /api/v1/events body handling, driven through a fake sink that plays
 * the writer: it keeps the events it is given and completes their acks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api_int.h"

#define MAXEV 4096

struct fake {
    mw_event_t *ev[MAXEV];
    size_t n;
    int mode; /* 0 complete at once, 1 refuse (shutdown), 2 hold (no ack) */
    int ack_error; /* error passed to mw_ack_done in mode 0 */
    int refuse_after;
};

static int fake_submit(void *ctx, mw_event_t *ev, int flags)
{
    struct fake *f = ctx;
    assert_int_equal(flags, MW_SUBMIT_BLOCK);
    assert_non_null(ev->ack);
    if (f->mode == 1 || (f->refuse_after && (int)f->n >= f->refuse_after))
        return MW_ESHUTDOWN;
    if (f->n >= MAXEV)
        return MW_EAGAIN;
    f->ev[f->n++] = ev;
    if (f->mode == 0) {
        struct mw_ack *a = ev->ack;
        mw_ack_done(a, f->ack_error);
    }
    return 0;
}

static struct fake F;
static struct mw_api_intake_result R;

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    memset(&R, 0, sizeof(R));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < F.n; i++)
        mw_event_free(F.ev[i]);
    mw_api_intake_result_clear(&R);
    return 0;
}

static void post(const char *body, enum mw_api_body_kind kind, enum mw_source src)
{
    mw_sink_t s = {.submit = fake_submit, .ctx = &F};
    mw_api_intake_result_clear(&R);
    assert_int_equal(mw_api_intake(body, strlen(body), kind, src, "10.0.0.9", 0, s, 2000, &R), 0);
    assert_non_null(R.body);
}

static json_int_t jint(const char *k)
{
    return json_integer_value(json_object_get(R.body, k));
}

static json_t *err_at(size_t i)
{
    return json_array_get(json_object_get(R.body, "errors"), i);
}

static const char *error_code(void)
{
    return json_string_value(json_object_get(json_object_get(R.body, "error"), "code"));
}

static const char *error_message(void)
{
    return json_string_value(json_object_get(json_object_get(R.body, "error"), "message"));
}

static void test_body_kind(void **state)
{
    (void)state;
    assert_int_equal(mw_api_body_kind(NULL), MW_BODY_AUTO);
    assert_int_equal(mw_api_body_kind("application/json"), MW_BODY_AUTO);
    assert_int_equal(mw_api_body_kind("application/x-ndjson; charset=utf-8"), MW_BODY_NDJSON);
    assert_int_equal(mw_api_body_kind(" Application/X-NDJSON"), MW_BODY_NDJSON);
    assert_int_equal(mw_api_body_kind("text/plain;charset=utf-8"), MW_BODY_TEXT);
    assert_int_equal(mw_api_body_kind("text/plainx"), MW_BODY_AUTO);
}

static void test_one_object(void **state)
{
    (void)state;
    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_HTTP]);
    post("{\"host\":\"web1\",\"event\":{\"action\":\"logon\"}}", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), 1);
    assert_int_equal(jint("rejected"), 0);
    assert_int_equal(json_array_size(json_object_get(R.body, "errors")), 0);
    assert_int_equal(F.n, 1);
    assert_string_equal(F.ev[0]->host, "web1");
    assert_string_equal(mw_event_get(F.ev[0], "event.action"), "logon");
    assert_int_equal(F.ev[0]->source, MW_SRC_HTTP);
    assert_int_equal(MW_GET(mw_metrics.events_in[MW_SRC_HTTP]), in0 + 1);
}

static void test_array_partial(void **state)
{
    (void)state;
    uint64_t rej0 = MW_GET(mw_metrics.events_rejected[MW_SRC_HTTP][MW_REJ_PARSE]);
    post(
        "[\n  {\"host\":\"a\", \"x\": [1, {\"y\": \"]\"}]},\n  42,\n\n  {\"host\":\"b\"}, \"s\"\n]",
        MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), 2);
    assert_int_equal(jint("rejected"), 2);
    assert_int_equal(F.n, 2);
    assert_string_equal(F.ev[1]->host, "b");
    json_t *e = err_at(0);
    assert_int_equal(json_integer_value(json_object_get(e, "index")), 1);
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 3);
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "parse");
    e = err_at(1);
    assert_int_equal(json_integer_value(json_object_get(e, "index")), 3);
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 5);
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_HTTP][MW_REJ_PARSE]), rej0 + 2);
}

static void test_ndjson_detected(void **state)
{
    (void)state;
    /* no content type: several lines each an object */
    post("{\"host\":\"a\"}\n{\"host\":\"b\"}\r\n\n{oops\n{\"host\":\"c\"}\n", MW_BODY_AUTO,
         MW_SRC_HTTP);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), 3);
    assert_int_equal(jint("rejected"), 1);
    assert_int_equal(json_integer_value(json_object_get(err_at(0), "line")), 4);
    assert_int_equal(json_integer_value(json_object_get(err_at(0), "index")), 2);
    assert_string_equal(F.ev[2]->host, "c");

    post("{\"host\":\"z\"}", MW_BODY_NDJSON, MW_SRC_HTTP);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), 1);
}

static void test_text_lines(void **state)
{
    (void)state;
    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_REPLAY]);
    post("<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n"
         "\n"
         "{\"host\":\"j\"}\n"
         "{broken\n"
         "<13>1 2024-01-02T03:04:05Z h5 app - - - msg\n",
         MW_BODY_TEXT, MW_SRC_REPLAY);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), 3);
    assert_int_equal(jint("rejected"), 1);
    assert_int_equal(json_integer_value(json_object_get(err_at(0), "line")), 4);
    assert_int_equal(F.n, 3);
    assert_string_equal(F.ev[0]->host, "mymachine");
    assert_string_equal(F.ev[1]->host, "j");
    assert_string_equal(F.ev[2]->host, "h5");
    for (size_t i = 0; i < F.n; i++)
        assert_int_equal(F.ev[i]->source, MW_SRC_REPLAY);
    assert_int_equal(MW_GET(mw_metrics.events_in[MW_SRC_REPLAY]), in0 + 3);
}

static void test_long_line(void **state)
{
    (void)state;
    size_t n = MW_EVENT_DEFAULT_MAX_LINE + 10;
    char *body = malloc(n + 32);
    assert_non_null(body);
    strcpy(body, "{\"host\":\"ok\"}\n");
    size_t o = strlen(body);
    memset(body + o, 'x', n);
    body[o + n] = '\0';
    post(body, MW_BODY_TEXT, MW_SRC_HTTP);
    free(body);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("rejected"), 1);
    assert_string_equal(json_string_value(json_object_get(err_at(0), "reason")), "too_large");
    assert_int_equal(json_integer_value(json_object_get(err_at(0), "line")), 2);
}

static void test_invalid_json(void **state)
{
    (void)state;
    uint64_t bad0 = MW_GET(mw_metrics.api_bad_body);
    post("{\"a\": 1,\n \"b\": }", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    assert_string_equal(error_code(), "invalid_json");
    assert_non_null(strstr(error_message(), "line 2 column"));
    assert_int_equal(MW_GET(mw_metrics.api_bad_body), bad0 + 1);
    assert_int_equal(F.n, 0);

    post("   ", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    assert_string_equal(error_code(), "empty_body");
    post("\n\n", MW_BODY_TEXT, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    assert_string_equal(error_code(), "empty_body");
    post("[]", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    post("\"just a string\"", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    assert_string_equal(error_code(), "invalid_json");

    /* A body that is not UTF-8: its own code, and counted as a utf8 refusal. */
    uint64_t u0 = MW_GET(mw_metrics.events_rejected[MW_SRC_HTTP][MW_REJ_UTF8]);
    post("{\"host\": \"a\", \"m\": \"\xff\xfe\"}", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    assert_string_equal(error_code(), "invalid_utf8");
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_HTTP][MW_REJ_UTF8]), u0 + 1);
    assert_int_equal(F.n, 0);
}

static void test_nothing_accepted(void **state)
{
    (void)state;
    post("[1, 2, \"x\"]", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    assert_string_equal(error_code(), "no_valid_events");
    assert_int_equal(jint("accepted"), 0);
    assert_int_equal(jint("rejected"), 3);
    assert_int_equal(json_array_size(json_object_get(R.body, "errors")), 3);
}

static void test_errors_capped(void **state)
{
    (void)state;
    char *body = malloc(300 * 3 + 32);
    assert_non_null(body);
    size_t o = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(body + o, "{x\n", 3);
        o += 3;
    }
    strcpy(body + o, "{\"host\":\"y\"}\n");
    post(body, MW_BODY_NDJSON, MW_SRC_HTTP);
    free(body);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), 1);
    assert_int_equal(jint("rejected"), 300);
    assert_int_equal(json_array_size(json_object_get(R.body, "errors")), MW_API_ERRORS_MAX);
}

static void test_shutdown(void **state)
{
    (void)state;
    F.refuse_after = 1;
    post("{\"host\":\"a\"}\n{\"host\":\"b\"}\n{\"host\":\"c\"}\n", MW_BODY_NDJSON, MW_SRC_HTTP);
    assert_int_equal(R.status, 503);
    assert_string_equal(error_code(), "unavailable");
    assert_int_equal(F.n, 1); /* stopped at the first refusal */
}

static void test_store_error(void **state)
{
    (void)state;
    F.ack_error = MW_EIO;
    post("{\"host\":\"a\"}", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 500);
    assert_string_equal(error_code(), "store_error");
    assert_int_equal(jint("accepted"), 0);
}

static void test_timeout(void **state)
{
    (void)state;
    mw_sink_t s = {.submit = fake_submit, .ctx = &F};
    F.mode = 2; /* hold: nothing becomes durable */
    const char *body = "[{\"host\":\"a\"},{\"host\":\"b\"}]";
    assert_int_equal(
        mw_api_intake(body, strlen(body), MW_BODY_AUTO, MW_SRC_HTTP, NULL, 0, s, 50, &R), 0);
    assert_int_equal(R.status, 503);
    assert_string_equal(error_code(), "timeout");
    assert_int_equal(F.n, 2);
    /* the writer finishes later: the acks must still be alive */
    for (size_t i = 0; i < F.n; i++)
        mw_ack_done(F.ev[i]->ack, 0);
    usleep(1500 * 1000); /* let the reaper thread free the ticket */
}

/* Arrays of objects are read by the JSON-lines scanner: raw is each element
 * as sent (the jansson path would have stored its compact text), except for
 * an element spread over lines, whose raw is its compact text. */
static void test_array_scanner(void **state)
{
    (void)state;
    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_HTTP]);
    post(" [ {\"host\": \"a\", \"n\": 1} ,{\"host\":\"b\",\"s\":\"x\\\"]}\\\\\"},\n"
         "{\n  \"host\": \"c\",\n  \"deep\": {\"k\": [1, 2]}\n}\n]\n",
         MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), 3);
    assert_int_equal(jint("rejected"), 0);
    assert_int_equal(F.n, 3);
    assert_string_equal(F.ev[0]->raw, "{\"host\": \"a\", \"n\": 1}");
    assert_string_equal(mw_event_get(F.ev[0], "n"), "1");
    assert_string_equal(F.ev[1]->host, "b");
    assert_string_equal(mw_event_get(F.ev[1], "s"), "x\"]}\\");
    assert_string_equal(F.ev[2]->host, "c");
    assert_string_equal(F.ev[2]->raw, "{\"host\":\"c\",\"deep\":{\"k\":[1,2]}}");
    assert_string_equal(mw_event_get(F.ev[2], "deep.k"), "[1,2]");
    assert_int_equal(MW_GET(mw_metrics.events_in[MW_SRC_HTTP]), in0 + 3);
}

/* The scanner path and the jansson path answer the same, whatever the body;
 * an element the scanner refuses sends the whole body to jansson, so the
 * errors keep jansson's wording. */
static void test_array_paths_agree(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "[{\"host\":\"a\"},{\"b\":tru}]",
        "[{\"host\":\"a\"},{\"b\":1}",
        "[{\"host\":\"a\"},,{\"b\":1}]",
        "[{\"host\":\"a\"}] x",
        "[{\"host\":\"a\"},[1]]",
        "[]",
        "[{\"host\":\"a\",\"a\":{\"b\":1},\"a.b\":2}]",
        "[{\"s\":\"\\ud800\"}]",
        "[{\"x\":1e999999}]",
        "[{\"x\":123456789012345678901234567890}]",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *fast;
        size_t nfast;
        for (size_t k = 0; k < F.n; k++)
            mw_event_free(F.ev[k]);
        F.n = 0;
        mw_api_fast_arrays = 1;
        post(bodies[i], MW_BODY_AUTO, MW_SRC_HTTP);
        fast = json_incref(R.body);
        nfast = F.n;
        mw_api_fast_arrays = 0;
        post(bodies[i], MW_BODY_AUTO, MW_SRC_HTTP);
        mw_api_fast_arrays = 1;
        if (!json_equal(fast, R.body)) {
            char *a = json_dumps(fast, 0), *b = json_dumps(R.body, 0);
            print_error("body %zu: scanner path %s, jansson path %s\n", i, a, b);
            free(a);
            free(b);
            fail();
        }
        assert_int_equal(F.n, 2 * nfast);
        for (size_t k = 0; k < nfast; k++) {
            assert_string_equal(F.ev[k]->host, F.ev[nfast + k]->host);
            assert_int_equal(F.ev[k]->nfields, F.ev[nfast + k]->nfields);
        }
        json_decref(fast);
    }
    mw_api_fast_arrays = 1;
    post("[{\"host\":\"a\"},{\"b\":tru}]", MW_BODY_AUTO, MW_SRC_HTTP);
    assert_int_equal(R.status, 400);
    assert_string_equal(error_code(), "invalid_json");
    assert_non_null(strstr(error_message(), "line 1"));
}

/* Ack tickets are taken in blocks: a refusal in the middle of a block
 * must give the rest back (else the wait would time out instead). */
static void test_ack_blocks(void **state)
{
    (void)state;
    size_t n = 300;
    char *body = malloc(n * 16 + 1), *p = body;
    assert_non_null(body);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "{\"host\":\"h%zu\"}\n", i % 100);
    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_HTTP]);
    post(body, MW_BODY_NDJSON, MW_SRC_HTTP);
    assert_int_equal(R.status, 202);
    assert_int_equal(jint("accepted"), n);
    assert_int_equal(MW_GET(mw_metrics.events_in[MW_SRC_HTTP]), in0 + n);
    for (size_t i = 0; i < F.n; i++)
        mw_event_free(F.ev[i]);
    F.n = 0;
    F.refuse_after = 100; /* inside the second block of 64 */
    post(body, MW_BODY_NDJSON, MW_SRC_HTTP);
    free(body);
    assert_int_equal(R.status, 503);
    assert_string_equal(error_code(), "unavailable");
    assert_int_equal(F.n, 100);
    assert_int_equal(MW_GET(mw_metrics.events_in[MW_SRC_HTTP]), in0 + n + 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_kind),
        cmocka_unit_test_setup_teardown(test_one_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_scanner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_paths_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_blocks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
