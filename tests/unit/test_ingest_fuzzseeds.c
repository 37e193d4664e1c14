/* Replays the fuzz seed corpus (every file under fuzz/seeds/<harness>/) through both parsers
 * in normal builds, so that `make test` (and its ASan+UBSan pass) exercises
 * it. Seeds named ok_* must be accepted by their harness's parser, bad_*
 * refused; any other name (e.g. crash_* regressions) only must not crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/ingest.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    char *exact = malloc(n ? n : 1); /* exact size: ASan sees overreads */
    memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

static int run_dir(const char *harness)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz/seeds/%s", MW_SOURCE_DIR, harness);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("no seed directory %s", dir);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        char *data = slurp(path, &len);
        mw_event_t *ev = NULL;
        enum mw_reject why;
        char err[256];
        int rc_s = mw_syslog_parse(data, len, MW_SRC_SYSLOG_TCP, "p", &ev, &why, err, sizeof err);
        mw_event_free(ev);
        ev = NULL;
        int rc_j = mw_jsonl_parse(data, len, MW_SRC_JSON_TCP, &ev, &why, err, sizeof err);
        mw_event_free(ev);
        ev = NULL;
        int rc_l = mw_ingest_parse_line(data, len, MW_SRC_REPLAY, NULL, &ev, &why, err, sizeof err);
        mw_event_free(ev);
        int rc = strcmp(harness, "syslog") == 0 ? rc_s : rc_j;
        (void)rc_l;
        if (strncmp(de->d_name, "ok_", 3) == 0 && rc != MW_OK)
            fail_msg("%s: refused (%d) but named ok_", path, rc);
        if (strncmp(de->d_name, "bad_", 4) == 0 && rc == MW_OK)
            fail_msg("%s: accepted but named bad_", path);
        free(data);
        files++;
    }
    closedir(d);
    return files;
}

static void test_syslog_seeds(void **st)
{
    (void)st;
    assert_true(run_dir("syslog") >= 5);
}

static void test_jsonl_seeds(void **st)
{
    (void)st;
    assert_true(run_dir("jsonl") >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syslog_seeds),
        cmocka_unit_test(test_jsonl_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
