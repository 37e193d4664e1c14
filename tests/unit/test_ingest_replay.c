/* Unit tests for file replay: mixed formats, bad lines reported as
 * FILE:LINE, oversized lines skipped, blank lines and CRLF, no final LF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mwrasp/ingest.h"
#include "mwrasp/metrics.h"

struct coll {
    mw_event_t *evs[64];
    int n;
    int refuse_after; /* return MW_ESHUTDOWN once n reaches it (0 = never) */
};

static int coll_submit(void *ctx, mw_event_t *ev, int flags)
{
    struct coll *c = ctx;
    assert_int_equal(flags, MW_SUBMIT_BLOCK);
    if ((c->refuse_after && c->n >= c->refuse_after) || c->n >= 64)
        return MW_ESHUTDOWN;
    c->evs[c->n++] = ev;
    return MW_OK;
}

static void coll_clear(struct coll *c)
{
    for (int i = 0; i < c->n; i++)
        mw_event_free(c->evs[i]);
    c->n = 0;
}

static char *write_tmp(const char *data, size_t len)
{
    static char path[256];
    const char *dir = getenv("MW_TEST_TMP");
    if (!dir || access(dir, W_OK) != 0)
        dir = "/tmp";
    snprintf(path, sizeof path, "%s/replay-XXXXXX", dir);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_replay_mixed(void **st)
{
    (void)st;
    char big[300];
    memset(big, 'z', sizeof big);
    char data[2048];
    int n = snprintf(data, sizeof data,
                     "{\"host\":\"w1\",\"EventID\":4625}\n" /* 1 */
                     "<34>Oct 11 22:14:15 web-01 sshd[1]: Failed\r\n" /* 2 */
                     "\n" /* 3 blank */
                     "{\"broken\": }\n" /* 4 bad */
                     "   \t\n" /* 5 blank */
                     "<999>x\n" /* 6 bad PRI */
                     "%.*s\n" /* 7 too long */
                     "<13>1 - h2 a - - - five\n" /* 8 */
                     "  {\"host\":\"w3\"}", /* 9 no LF */
                     (int)sizeof big, big);
    char *path = write_tmp(data, (size_t)n);
    struct coll c = {0};
    mw_sink_t sink = {.submit = coll_submit, .ctx = &c};
    struct mw_replay_stats stats;
    char *errs = NULL;
    size_t errlen = 0;
    FILE *ef = open_memstream(&errs, &errlen);
    uint64_t in0 = MW_GET(mw_metrics.events_in[MW_SRC_REPLAY]);
    uint64_t tl0 = MW_GET(mw_metrics.events_rejected[MW_SRC_REPLAY][MW_REJ_TOO_LARGE]);
    assert_int_equal(mw_replay_file(path, MW_SRC_REPLAY, 256, sink, &stats, ef, NULL), MW_OK);
    fclose(ef);
    assert_int_equal(stats.accepted, 4);
    assert_int_equal(stats.rejected, 3);
    assert_int_equal(stats.lines, 7);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.evs[0]->host, "w1");
    assert_string_equal(mw_event_get(c.evs[0], "EventID"), "4625");
    assert_string_equal(c.evs[1]->host, "web-01");
    assert_string_equal(mw_event_get(c.evs[1], "message"), "Failed"); /* CR gone */
    assert_string_equal(c.evs[2]->host, "h2");
    assert_string_equal(c.evs[3]->host, "w3");
    assert_int_equal(c.evs[0]->source, MW_SRC_REPLAY);
    assert_int_equal(MW_GET(mw_metrics.events_in[MW_SRC_REPLAY]), in0 + 4);
    assert_int_equal(MW_GET(mw_metrics.events_rejected[MW_SRC_REPLAY][MW_REJ_TOO_LARGE]), tl0 + 1);
    /* One line per bad line, "FILE:LINE: reason". */
    char want[400];
    snprintf(want, sizeof want, "%s:4: invalid JSON at line 1, column", path);
    assert_non_null(strstr(errs, want));
    snprintf(want, sizeof want, "%s:6: PRI 999 out of range", path);
    assert_non_null(strstr(errs, want));
    snprintf(want, sizeof want, "%s:7: line", path);
    assert_non_null(strstr(errs, want));
    int lines = 0;
    for (char *p = errs; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    free(errs);
    coll_clear(&c);
    unlink(path);
}

static void test_replay_long_line_across_reads(void **st)
{
    (void)st;
    /* A 3 MiB line (longer than one read) between two good ones, with the
     * default max_line: refused once, line numbers stay right. */
    size_t big = 3u << 20;
    char *data = malloc(big + 128);
    size_t o = (size_t)sprintf(data, "{\"a\":1}\n");
    memset(data + o, 'q', big);
    o += big;
    o += (size_t)sprintf(data + o, "\nnot json but syslog\n{\"oops\n");
    char *path = write_tmp(data, o);
    free(data);
    struct coll c = {0};
    mw_sink_t sink = {.submit = coll_submit, .ctx = &c};
    struct mw_replay_stats stats;
    char *errs = NULL;
    size_t errlen = 0;
    FILE *ef = open_memstream(&errs, &errlen);
    assert_int_equal(mw_replay_file(path, MW_SRC_REPLAY, 0, sink, &stats, ef, NULL), MW_OK);
    fclose(ef);
    assert_int_equal(stats.accepted, 2);
    assert_int_equal(stats.rejected, 2);
    assert_int_equal(c.n, 2);
    assert_string_equal(mw_event_get(c.evs[1], "message"), "not json but syslog");
    char want[400];
    snprintf(want, sizeof want, "%s:2: line longer than max_line 65536", path);
    assert_non_null(strstr(errs, want));
    snprintf(want, sizeof want, "%s:4: invalid JSON", path);
    assert_non_null(strstr(errs, want));
    free(errs);
    coll_clear(&c);
    unlink(path);
}

static void test_replay_errors(void **st)
{
    (void)st;
    struct coll c = {0};
    mw_sink_t sink = {.submit = coll_submit, .ctx = &c};
    struct mw_replay_stats stats = {0};
    char *errs = NULL;
    size_t errlen = 0;
    FILE *ef = open_memstream(&errs, &errlen);
    assert_int_equal(
        mw_replay_file("/nonexistent/file.jsonl", MW_SRC_REPLAY, 0, sink, &stats, ef, NULL),
        MW_EIO);
    fclose(ef);
    assert_non_null(strstr(errs, "/nonexistent/file.jsonl: cannot open"));
    free(errs);
    /* The sink shutting down stops the replay with its error. */
    const char data[] = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
    char *path = write_tmp(data, sizeof data - 1);
    c.refuse_after = 1;
    assert_int_equal(mw_replay_file(path, MW_SRC_REPLAY, 0, sink, &stats, NULL, NULL),
                     MW_ESHUTDOWN);
    assert_int_equal(stats.accepted, 1);
    assert_int_equal(c.n, 1);
    coll_clear(&c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_mixed),
        cmocka_unit_test(test_replay_long_line_across_reads),
        cmocka_unit_test(test_replay_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
