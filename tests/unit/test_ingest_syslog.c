/* Unit tests for the syslog parser: RFC 5424 section 6.5 examples, RFC 3164
 * section 5.4 examples, BSD variants, malformed input with offsets, caps,
 * invalid UTF-8, and truncation of valid messages at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwrasp/ingest.h"
#include "mwrasp/metrics.h"

#define NS 1000000000LL
#define BOM "\xEF\xBB\xBF"

static char errbuf[256];
static enum mw_reject why;

/* Parses s from an exact-size heap copy so that ASan sees any overread. */
static int parse_src(const char *s, size_t len, const char *peer, enum mw_source src,
                     mw_event_t **ev)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    why = (enum mw_reject) - 1;
    int rc = mw_syslog_parse(copy, len, src, peer, ev, &why, errbuf, sizeof errbuf);
    free(copy);
    return rc;
}

static mw_event_t *ok(const char *s)
{
    mw_event_t *ev = NULL;
    int rc = parse_src(s, strlen(s), "192.0.2.250", MW_SRC_SYSLOG_UDP, &ev);
    if (rc != MW_OK)
        fail_msg("rejected \"%s\": %s", s, errbuf);
    assert_non_null(ev);
    return ev;
}

/* Expects a refusal; returns the error text. */
static const char *bad(const char *s, size_t len, int code, enum mw_reject w)
{
    mw_event_t *sentinel = (mw_event_t *)(uintptr_t)0x1;
    mw_event_t *ev = sentinel;
    int rc = parse_src(s, len, NULL, MW_SRC_SYSLOG_TCP, &ev);
    if (rc == MW_OK)
        fail_msg("accepted \"%.*s\"", (int)len, s);
    assert_int_equal(rc, code);
    assert_int_equal(why, w);
    assert_ptr_equal(ev, sentinel); /* untouched on error */
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

/* ---- RFC 5424 section 6.5 ---- */

static void test_rfc5424_example1(void **st)
{
    (void)st;
    mw_event_t *ev = ok("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " BOM
                        "'su root' failed for lonvick on /dev/pts/8");
    assert_int_equal(ev->ts_ns, 1065910455LL * NS + 3000000);
    assert_string_equal(ev->host, "mymachine.example.com");
    assert_string_equal(ev->category, "syslog");
    assert_field(ev, "log.syslog.priority", "34");
    assert_field(ev, "log.syslog.facility.code", "4");
    assert_field(ev, "log.syslog.severity.code", "2");
    assert_field(ev, "log.syslog.version", "1");
    assert_field(ev, "log.syslog.hostname", "mymachine.example.com");
    assert_field(ev, "log.syslog.appname", "su");
    assert_field(ev, "process.name", "su");
    assert_field(ev, "log.syslog.procid", NULL);
    assert_field(ev, "log.syslog.msgid", "ID47");
    assert_field(ev, "message", "'su root' failed for lonvick on /dev/pts/8"); /* BOM gone */
    assert_int_equal(ev->source, MW_SRC_SYSLOG_UDP);
    mw_event_free(ev);
}

static void test_rfc5424_example2(void **st)
{
    (void)st;
    mw_event_t *ev = ok("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% "
                        "It's time to make the do-nuts.");
    /* 05:14:15 at -07:00 is 12:14:15 UTC. */
    assert_int_equal(ev->ts_ns, 1061727255LL * NS + 3000);
    assert_string_equal(ev->host, "192.0.2.1");
    assert_field(ev, "log.syslog.facility.code", "20");
    assert_field(ev, "log.syslog.severity.code", "5");
    assert_field(ev, "log.syslog.appname", "myproc");
    assert_field(ev, "log.syslog.procid", "8710");
    assert_field(ev, "process.pid", "8710");
    assert_field(ev, "log.syslog.msgid", NULL);
    assert_field(ev, "message", "%% It's time to make the do-nuts.");
    mw_event_free(ev);
}

static void test_rfc5424_example3_sd(void **st)
{
    (void)st;
    mw_event_t *ev =
        ok("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
           "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] " BOM
           "An application event log entry...");
    assert_field(ev, "log.syslog.structured_data.exampleSDID@32473.iut", "3");
    assert_field(ev, "log.syslog.structured_data.exampleSDID@32473.eventSource", "Application");
    assert_field(ev, "log.syslog.structured_data.exampleSDID@32473.eventID", "1011");
    assert_field(ev, "message", "An application event log entry...");
    assert_field(ev, "log.syslog.appname", "evntslog");
    mw_event_free(ev);
}

static void test_rfc5424_example4_two_sd_no_msg(void **st)
{
    (void)st;
    mw_event_t *ev = ok("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                        "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
                        "[examplePriority@32473 class=\"high\"]");
    assert_field(ev, "log.syslog.structured_data.exampleSDID@32473.eventID", "1011");
    assert_field(ev, "log.syslog.structured_data.examplePriority@32473.class", "high");
    assert_field(ev, "message", NULL);
    mw_event_free(ev);
}

static void test_rfc5424_nil_and_offsets(void **st)
{
    (void)st;
    int64_t before = mw_now_realtime_ns();
    mw_event_t *ev = ok("<13>1 - - - - - -");
    int64_t after = mw_now_realtime_ns();
    assert_true(ev->ts_ns >= before && ev->ts_ns <= after); /* NILVALUE: receipt time */
    assert_string_equal(ev->host, "192.0.2.250"); /* no HOSTNAME: the peer */
    assert_field(ev, "log.syslog.hostname", NULL);
    assert_field(ev, "log.syslog.appname", NULL);
    assert_field(ev, "message", NULL);
    mw_event_free(ev);

    ev = ok("<13>1 2024-01-02T03:04:05+01:00 h a p m - x");
    assert_int_equal(ev->ts_ns, 1704161045LL * NS);
    mw_event_free(ev);
    ev = ok("<13>1 2024-01-02T03:04:05.5+01:00 h a p m - ");
    assert_int_equal(ev->ts_ns, 1704161045LL * NS + 500000000);
    assert_field(ev, "message", ""); /* SP then empty MSG */
    mw_event_free(ev);
    ev = ok("<13>1 2024-02-29T00:00:00Z h a p m -");
    mw_event_free(ev);
}

static void test_rfc5424_sd_escapes(void **st)
{
    (void)st;
    mw_event_t *ev = ok("<13>1 - h a - - [x@1 a=\"q\\\"b\\\\c\\]d\\e\" empty=\"\"] m");
    assert_field(ev, "log.syslog.structured_data.x@1.a", "q\"b\\c]d\\e");
    assert_field(ev, "log.syslog.structured_data.x@1.empty", "");
    assert_field(ev, "message", "m");
    mw_event_free(ev);
    /* An SD-ELEMENT without params adds nothing but is valid. */
    ev = ok("<13>1 - h a - - [origin] m");
    assert_field(ev, "message", "m");
    mw_event_free(ev);
}

static void test_rfc5424_malformed(void **st)
{
    (void)st;
    const char *e;
#define BAD(s) bad(s, strlen(s), MW_EPARSE, MW_REJ_PARSE)
    /* "<34>1 " is 6 bytes; the month starts at byte 11. */
    e = BAD("<34>1 2003-13-11T22:14:15Z host app - - -");
    assert_non_null(strstr(e, "TIMESTAMP"));
    assert_non_null(strstr(e, "byte 11"));
    e = BAD("<34>1 1003-10-11T22:14:15Z host app - - -"); /* not representable in ns */
    assert_non_null(strstr(e, "1678..2261"));
    assert_non_null(strstr(e, "byte 6"));
    e = BAD("<34>1 2003-02-30T22:14:15Z host app - - -");
    assert_non_null(strstr(e, "byte 14"));
    e = BAD("<34>1 2003-10-11 22:14:15Z host app - - -");
    assert_non_null(strstr(e, "byte 16"));
    e = BAD("<34>1 2003-10-11T22:14:15.1234567Z host app - - -");
    assert_non_null(strstr(e, "SECFRAC"));
    e = BAD("<34>1 2003-10-11T22:14:15 host app - - -");
    assert_non_null(strstr(e, "TIME-OFFSET"));
    e = BAD("<34>1 2003-10-11T22:14:60Z host app - - -");
    assert_non_null(strstr(e, "second"));
    e = BAD("<34>1 - host app - - [id a=b]");
    assert_non_null(strstr(e, "byte 27"));
    e = BAD("<34>1 - host app - - [id a=\"b]");
    assert_non_null(strstr(e, "unterminated"));
    e = BAD("<34>1 - host app - - [id a=\"b\"");
    assert_non_null(strstr(e, "ends inside"));
    e = BAD("<34>1 - host app - - [ a=\"b\"]");
    assert_non_null(strstr(e, "SD-ID"));
    e = BAD("<34>1 - host app - - x");
    assert_non_null(strstr(e, "STRUCTURED-DATA"));
    e = BAD("<34>1 - host app - - -x");
    assert_non_null(strstr(e, "SP after STRUCTURED-DATA"));
    e = BAD("<34>1 - host app - -");
    assert_non_null(strstr(e, "after MSGID at byte 20"));
    e = BAD("<34>1 - host  app - - -");
    assert_non_null(strstr(e, "empty APP-NAME"));
    e = BAD("<34>1 - host app");
    assert_non_null(strstr(e, "APP-NAME"));
    e = BAD("<34>1 - ho\tst app - - -");
    assert_non_null(strstr(e, "0x09"));
    /* APP-NAME is at most 48 bytes (RFC 5424 6.2.5). */
    char app[128];
    snprintf(app, sizeof app, "<34>1 - h %s - - -",
             "a123456789b123456789c123456789d123456789e12345678");
    e = BAD(app);
    assert_non_null(strstr(e, "APP-NAME longer than 48"));
#undef BAD
}

static void test_pri(void **st)
{
    (void)st;
    const char *e;
    e = bad("<192>1 - - - - - -", 18, MW_EPARSE, MW_REJ_PARSE);
    assert_non_null(strstr(e, "192"));
    assert_non_null(strstr(e, "0..191"));
    e = bad("<>x", 3, MW_EPARSE, MW_REJ_PARSE);
    assert_non_null(strstr(e, "byte 1"));
    e = bad("<1234>x", 7, MW_EPARSE, MW_REJ_PARSE);
    assert_non_null(strstr(e, "3 digits"));
    e = bad("<34", 3, MW_EPARSE, MW_REJ_PARSE);
    assert_non_null(strstr(e, "'>'"));
    e = bad("<3x>", 4, MW_EPARSE, MW_REJ_PARSE);
    assert_non_null(strstr(e, "byte 2"));
    bad("", 0, MW_EPARSE, MW_REJ_PARSE);
    /* Every valid PRI decomposes into facility * 8 + severity. */
    for (int pri = 0; pri <= 191; pri++) {
        char line[64], f[8], s[8], p[8];
        snprintf(line, sizeof line, "<%d>Oct 11 22:14:15 h t: m", pri);
        mw_event_t *ev = ok(line);
        snprintf(p, sizeof p, "%d", pri);
        snprintf(f, sizeof f, "%d", pri / 8);
        snprintf(s, sizeof s, "%d", pri % 8);
        assert_field(ev, "log.syslog.priority", p);
        assert_field(ev, "log.syslog.facility.code", f);
        assert_field(ev, "log.syslog.severity.code", s);
        mw_event_free(ev);
    }
}

/* ---- RFC 3164 ---- */

static void test_rfc3164_examples(void **st)
{
    (void)st;
    mw_event_t *ev = ok("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on "
                        "/dev/pts/8");
    assert_string_equal(ev->host, "mymachine");
    assert_field(ev, "log.syslog.hostname", "mymachine");
    assert_field(ev, "log.syslog.appname", "su");
    assert_field(ev, "process.name", "su");
    assert_field(ev, "log.syslog.priority", "34");
    assert_field(ev, "message", "'su root' failed for lonvick on /dev/pts/8");
    assert_field(ev, "log.syslog.version", NULL);
    struct tm tm;
    time_t t = (time_t)(ev->ts_ns / NS);
    gmtime_r(&t, &tm);
    assert_int_equal(tm.tm_mon, 9);
    assert_int_equal(tm.tm_mday, 11);
    assert_int_equal(tm.tm_hour, 22);
    assert_int_equal(tm.tm_min, 14);
    assert_int_equal(tm.tm_sec, 15);
    mw_event_free(ev);

    ev = ok("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");
    assert_string_equal(ev->host, "10.0.0.99");
    assert_field(ev, "log.syslog.appname", NULL);
    assert_field(ev, "message", "Use the BFG!");
    t = (time_t)(ev->ts_ns / NS);
    gmtime_r(&t, &tm);
    assert_int_equal(tm.tm_mon, 1);
    assert_int_equal(tm.tm_mday, 5);
    mw_event_free(ev);

    /* Not a valid TIMESTAMP: RFC 3164 4.3.2 says all of it is MSG. */
    ev = ok("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: "
            "That's All Folks!");
    assert_string_equal(ev->host, "192.0.2.250");
    assert_field(ev, "log.syslog.priority", "0");
    assert_field(ev, "message",
                 "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: "
                 "That's All Folks!");
    mw_event_free(ev);

    ev = ok("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the "
            "do-nuts.  %%  Ingredients: Mix=OK, Jam=OK Use=OK, Dirt=OK");
    assert_field(ev, "log.syslog.priority", "165");
    assert_non_null(strstr(mw_event_get(ev, "message"), "do-nuts"));
    mw_event_free(ev);
}

static void test_rfc3164_variants(void **st)
{
    (void)st;
    /* No PRI: no priority fields, the rest as usual. */
    mw_event_t *ev = ok("Oct  1 02:03:04 web-01 sshd[4242]: Failed password for root");
    assert_field(ev, "log.syslog.priority", NULL);
    assert_string_equal(ev->host, "web-01");
    assert_field(ev, "log.syslog.appname", "sshd");
    assert_field(ev, "log.syslog.procid", "4242");
    assert_field(ev, "process.pid", "4242");
    assert_field(ev, "message", "Failed password for root");
    mw_event_free(ev);

    /* No hostname: the first word is the tag, host is the peer. */
    ev = ok("<86>Oct 11 22:14:15 sudo: alice : TTY=pts/0 ; COMMAND=/bin/ls");
    assert_string_equal(ev->host, "192.0.2.250");
    assert_field(ev, "log.syslog.hostname", NULL);
    assert_field(ev, "log.syslog.appname", "sudo");
    assert_field(ev, "message", "alice : TTY=pts/0 ; COMMAND=/bin/ls");
    mw_event_free(ev);

    ev = ok("<86>Oct 11 22:14:15 CRON[77]: (root) CMD (run-parts)");
    assert_field(ev, "log.syslog.hostname", NULL);
    assert_field(ev, "log.syslog.appname", "CRON");
    assert_field(ev, "log.syslog.procid", "77");
    mw_event_free(ev);

    /* IPv6 host is not mistaken for a tag. */
    ev = ok("<86>Oct 11 22:14:15 fe80::1 kernel: boom");
    assert_string_equal(ev->host, "fe80::1");
    assert_field(ev, "log.syslog.appname", "kernel");
    mw_event_free(ev);

    /* RFC 3339 stamp in a BSD header (rsyslog's default forwarding format). */
    ev = ok("<34>2024-01-02T03:04:05.123+01:00 db-01 postgres[9]: ready");
    assert_int_equal(ev->ts_ns, 1704161045LL * NS + 123000000);
    assert_string_equal(ev->host, "db-01");
    assert_field(ev, "log.syslog.appname", "postgres");
    mw_event_free(ev);

    /* An RFC 3339 stamp outside the ns range is not a timestamp. */
    ev = ok("<34>0001-01-02T03:04:05.123Z db-01 postgres[9]: ready");
    assert_field(ev, "message", "0001-01-02T03:04:05.123Z db-01 postgres[9]: ready");
    mw_event_free(ev);

    /* Free text: accepted as message, host from the peer. */
    ev = ok("just some text");
    assert_field(ev, "message", "just some text");
    assert_string_equal(ev->host, "192.0.2.250");
    mw_event_free(ev);

    /* Without a peer the host is empty. */
    ev = NULL;
    assert_int_equal(parse_src("x", 1, NULL, MW_SRC_REPLAY, &ev), MW_OK);
    assert_string_equal(ev->host, "");
    mw_event_free(ev);

    /* A version other than 1 is not RFC 5424: parsed as BSD. */
    ev = ok("<34>2 - - - - - -");
    assert_field(ev, "log.syslog.version", NULL);
    mw_event_free(ev);
}

static void fmt3164(time_t t, char *out, size_t n)
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "<13>%s %2d %02d:%02d:%02d h t: m", mon[tm.tm_mon], tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

static void test_rfc3164_year(void **st)
{
    (void)st;
    char line[64];
    time_t now = time(NULL);
    /* An hour ago: this year (or last year across New Year), exactly. */
    fmt3164(now - 3600, line, sizeof line);
    mw_event_t *ev = ok(line);
    assert_int_equal(ev->ts_ns, (int64_t)(now - 3600) * NS);
    mw_event_free(ev);
    /* Twelve hours ahead (clock skew): still taken as is. */
    fmt3164(now + 12 * 3600, line, sizeof line);
    ev = ok(line);
    assert_int_equal(ev->ts_ns, (int64_t)(now + 12 * 3600) * NS);
    mw_event_free(ev);
    /* Three days ahead: more than a day in the future, so last year's. */
    fmt3164(now + 3 * 86400, line, sizeof line);
    ev = ok(line);
    assert_true(ev->ts_ns < (int64_t)now * NS);
    assert_true(ev->ts_ns > (int64_t)(now - 366 * 86400) * NS);
    struct tm a, b;
    time_t t1 = (time_t)(ev->ts_ns / NS), t2 = now + 3 * 86400;
    gmtime_r(&t1, &a);
    gmtime_r(&t2, &b);
    assert_int_equal(a.tm_mon, b.tm_mon);
    assert_int_equal(a.tm_mday, b.tm_mday);
    mw_event_free(ev);
}

/* ---- limits ---- */

static void test_limits(void **st)
{
    (void)st;
    /* HOSTNAME of 256 bytes: refused as a limit. */
    char line[1024];
    int n = snprintf(line, sizeof line, "<13>1 - ");
    memset(line + n, 'h', 256);
    n += 256;
    n += snprintf(line + n, sizeof line - (size_t)n, " a - - -");
    const char *e = bad(line, (size_t)n, MW_ELIMIT, MW_REJ_LIMIT);
    assert_non_null(strstr(e, "HOSTNAME"));
    /* 255 is fine. */
    n = snprintf(line, sizeof line, "<13>1 - ");
    memset(line + n, 'h', 255);
    n += 255;
    n += snprintf(line + n, sizeof line - (size_t)n, " a - - -");
    line[n] = '\0';
    mw_event_t *ev = ok(line);
    assert_int_equal(strlen(ev->host), 255);
    mw_event_free(ev);

    /* More SD params than MW_EVENT_MAX_FIELDS. */
    size_t cap = 16 * 1024;
    char *big = malloc(cap);
    size_t o = (size_t)snprintf(big, cap, "<13>1 - h a - - [x");
    for (int i = 0; i < MW_EVENT_MAX_FIELDS + 10; i++)
        o += (size_t)snprintf(big + o, cap - o, " p%d=\"v\"", i);
    o += (size_t)snprintf(big + o, cap - o, "]");
    e = bad(big, o, MW_ELIMIT, MW_REJ_LIMIT);
    assert_non_null(strstr(e, "fields"));
    free(big);

    /* Above the event size cap: too large. */
    big = malloc(MW_EVENT_MAX_BYTES);
    memset(big, 'x', MW_EVENT_MAX_BYTES);
    bad(big, MW_EVENT_MAX_BYTES, MW_ETOOBIG, MW_REJ_TOO_LARGE);
    free(big);

    /* err may be NULL or tiny. */
    mw_event_t *out = NULL;
    enum mw_reject w;
    assert_int_equal(mw_syslog_parse("<999>", 5, MW_SRC_REPLAY, NULL, &out, &w, NULL, 0),
                     MW_EPARSE);
    char tiny[4];
    assert_int_equal(mw_syslog_parse("<999>", 5, MW_SRC_REPLAY, NULL, &out, &w, tiny, sizeof tiny),
                     MW_EPARSE);
    assert_int_equal(strlen(tiny), 3);
    assert_null(out);
}

/* ---- UTF-8 ---- */

static void test_utf8_repair(void **st)
{
    (void)st;
    uint64_t before = MW_GET(mw_metrics.utf8_repaired[MW_SRC_SYSLOG_UDP]);
    /* Valid UTF-8 (including 4-byte) is untouched and not counted. */
    mw_event_t *ev = ok("<13>1 - h a - - - caf\xC3\xA9 \xF0\x9F\x94\x92");
    assert_field(ev, "message", "caf\xC3\xA9 \xF0\x9F\x94\x92");
    mw_event_free(ev);
    assert_int_equal(MW_GET(mw_metrics.utf8_repaired[MW_SRC_SYSLOG_UDP]), before);

    /* Truncated 2-byte sequence, stray 0xFF, overlong, surrogate, and a
     * truncated 3-byte sequence (one U+FFFD per maximal subpart). */
    const char msg[] = "<13>1 - h a - - [x@1 v=\"a\xC3\"] caf\xC3 \xFF ok \xC0\xAF "
                       "\xED\xA0\x80 \xE2\x82";
    ev = ok(msg);
    assert_memory_equal(ev->raw, msg, sizeof msg - 1); /* raw keeps the bytes */
    assert_int_equal(ev->raw_len, sizeof msg - 1);
    assert_field(ev, "message",
                 "caf\xEF\xBF\xBD \xEF\xBF\xBD ok \xEF\xBF\xBD\xEF\xBF\xBD "
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD");
    assert_field(ev, "log.syslog.structured_data.x@1.v", "a\xEF\xBF\xBD");
    for (uint32_t i = 0; i < ev->nfields; i++)
        assert_true(mw_utf8_valid(ev->fields[i].val, ev->fields[i].val_len));
    mw_event_free(ev);
    /* Counted once for the event, not per bad sequence. */
    assert_int_equal(MW_GET(mw_metrics.utf8_repaired[MW_SRC_SYSLOG_UDP]), before + 1);

    /* BSD: a non-ASCII first word is not a hostname; it stays in message. */
    ev = ok("<13>Oct 11 22:14:15 h\xFFst x");
    assert_string_equal(ev->host, "192.0.2.250");
    assert_field(ev, "message", "h\xEF\xBF\xBDst x");
    mw_event_free(ev);
    assert_int_equal(MW_GET(mw_metrics.utf8_repaired[MW_SRC_SYSLOG_UDP]), before + 2);
}

/* ---- robustness ---- */

static const char *const valid_msgs[] = {
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " BOM "'su root' failed",
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% do-nuts.",
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
    "iut=\"3\" eventSource=\"Appl\\\"ication\" eventID=\"1011\"][examplePriority@32473 "
    "class=\"high\"] " BOM "An application event log entry...",
    "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
    "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
    "Oct  1 02:03:04 web-01 sshd[4242]: Failed password for root",
    "<34>2024-01-02T03:04:05.123+01:00 db-01 postgres[9]: ready",
};

static void test_truncation_every_byte(void **st)
{
    (void)st;
    for (size_t m = 0; m < sizeof valid_msgs / sizeof valid_msgs[0]; m++) {
        size_t len = strlen(valid_msgs[m]);
        for (size_t cut = 0; cut <= len; cut++) {
            mw_event_t *ev = NULL;
            int rc = parse_src(valid_msgs[m], cut, "peer", MW_SRC_SYSLOG_TCP, &ev);
            if (rc == MW_OK) {
                assert_non_null(ev);
                assert_int_equal(ev->raw_len, cut);
                mw_event_free(ev);
            } else {
                assert_null(ev);
                assert_true(why < MW_REJ__COUNT);
                assert_true(strlen(errbuf) > 0);
            }
        }
    }
}

static void test_mutations(void **st)
{
    (void)st;
    /* Deterministic byte flips, insertions and deletions. */
    uint32_t x = 12345;
    char buf[512];
    static const char interesting[] = "<>[]\"\\= -:\n\0\xFF\xC3\xEF"
                                      "1";
    for (int iter = 0; iter < 20000; iter++) {
        const char *src = valid_msgs[iter % (sizeof valid_msgs / sizeof valid_msgs[0])];
        size_t len = strlen(src);
        memcpy(buf, src, len);
        for (int k = 0; k < 1 + iter % 4; k++) {
            x = x * 1103515245u + 12345u;
            size_t pos = (x >> 8) % len;
            x = x * 1103515245u + 12345u;
            char c =
                (x >> 16) & 1 ? (char)(x >> 8) : interesting[(x >> 8) % (sizeof interesting - 1)];
            if ((x >> 4) % 3 == 0 && len + 1 < sizeof buf) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                len++;
            } else if ((x >> 4) % 3 == 1 && len > 1) {
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
                continue;
            }
            buf[pos] = c;
        }
        mw_event_t *ev = NULL;
        int rc = parse_src(buf, len, "p", MW_SRC_SYSLOG_UDP, &ev);
        if (rc == MW_OK) {
            for (uint32_t i = 0; i < ev->nfields; i++)
                assert_true(mw_utf8_valid(ev->fields[i].val, ev->fields[i].val_len));
            mw_event_free(ev);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5424_example1),
        cmocka_unit_test(test_rfc5424_example2),
        cmocka_unit_test(test_rfc5424_example3_sd),
        cmocka_unit_test(test_rfc5424_example4_two_sd_no_msg),
        cmocka_unit_test(test_rfc5424_nil_and_offsets),
        cmocka_unit_test(test_rfc5424_sd_escapes),
        cmocka_unit_test(test_rfc5424_malformed),
        cmocka_unit_test(test_pri),
        cmocka_unit_test(test_rfc3164_examples),
        cmocka_unit_test(test_rfc3164_variants),
        cmocka_unit_test(test_rfc3164_year),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
