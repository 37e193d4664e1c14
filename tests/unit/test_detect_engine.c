/* The detection engine over a real SQLite store and real Sigma rules:
 * events in, threats folded by (rule, host) within the window, acks after
 * commit, drain on stop, back-pressure, reload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mwrasp/config.h"
#include "mwrasp/detect.h"
#include "mwrasp/metrics.h"
#include "mwrasp/store.h"

struct fixture {
    char dir[64];
    char rules[128];
    struct mw_config cfg;
    mw_store_t *store;
    mw_detect_engine_t *e;
};

static const char *RULE_A = "title: A\nid: rule-a\nlevel: high\nlogsource: {product: t}\n"
                            "tags: [attack.credential_access, attack.t1110.003]\n"
                            "detection:\n  sel:\n    message|contains: evil\n"
                            "  condition: sel\n";
static const char *RULE_B = "title: B\nid: rule-b\nlevel: critical\nlogsource: {product: t}\n"
                            "detection:\n  sel:\n    message|contains: worse\n"
                            "  condition: sel\n";

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int64_t g_retention_ns; /* 0 = the default */

static int setup(void **st)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mweng.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->rules, sizeof f->rules, "%s/rules", f->dir);
    assert_int_equal(mkdir(f->rules, 0700), 0);
    write_file(f->rules, "a.yml", RULE_A);
    mw_config_defaults(&f->cfg);
    snprintf(f->cfg.rules_dir, sizeof f->cfg.rules_dir, "%s", f->rules);
    snprintf(f->cfg.store_path, sizeof f->cfg.store_path, "%s/t.db", f->dir);
    f->cfg.ring_size = 64;
    f->cfg.workers = 2;
    if (g_retention_ns) {
        f->cfg.retention_ns = g_retention_ns;
        f->cfg.cleanup_interval_ns = 1000000000LL;
    }
    assert_int_equal(mw_store_open(f->cfg.store_path, &f->store), MW_OK);
    assert_int_equal(mw_detect_engine_new(&f->cfg, f->store, &f->e), MW_OK);
    assert_int_equal(mw_detect_engine_start(f->e), MW_OK);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fixture *f = *st;
    mw_detect_engine_free(f->e);
    mw_store_close(f->store);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static mw_event_t *mk(const char *host, const char *msg, int64_t ts)
{
    mw_event_t *ev = mw_event_new(MW_SRC_HTTP, msg, strlen(msg));
    assert_non_null(ev);
    assert_int_equal(mw_event_set_host(ev, host, strlen(host)), MW_OK);
    assert_int_equal(mw_event_add_field(ev, "message", 7, msg, strlen(msg)), MW_OK);
    ev->ts_ns = ts;
    return ev;
}

/* Submits with an ack and waits for durability. */
static void submit_acked(struct fixture *f, mw_event_t **evs, size_t n)
{
    mw_ack_t ack;
    mw_ack_init(&ack);
    mw_sink_t sink = mw_detect_engine_sink(f->e);
    for (size_t i = 0; i < n; i++) {
        mw_ack_add(&ack, 1);
        evs[i]->ack = &ack;
        assert_int_equal(sink.submit(sink.ctx, evs[i], MW_SUBMIT_BLOCK), MW_OK);
    }
    assert_int_equal(mw_ack_wait(&ack, -1), MW_OK);
    mw_ack_destroy(&ack);
}

static void find_threats(struct fixture *f, const char *host, mw_threat_t **out, size_t *n)
{
    struct mw_threat_query q = {.status = -1, .host = host, .limit = 1000};
    uint64_t next;
    assert_int_equal(mw_store_list_threats(f->store, &q, out, n, &next), MW_OK);
}

static void test_fold_window(void **st)
{
    struct fixture *f = *st;
    int64_t t0 = mw_now_realtime_ns();
    int64_t s = 1000000000LL;
    mw_event_t *evs[] = {
        mk("h1", "an evil thing", t0),
        mk("h1", "more evil", t0 + 10 * s),
        mk("h2", "evil elsewhere", t0 + 11 * s),
        mk("h1", "harmless", t0 + 12 * s),
        mk("h1", "evil much later", t0 + 200 * s), /* outside the 60 s window */
    };
    submit_acked(f, evs, 5);
    mw_threat_t *t;
    size_t n;
    find_threats(f, "h1", &t, &n);
    assert_int_equal(n, 2); /* newest first */
    assert_int_equal(t[0].count, 1);
    assert_int_equal(t[1].count, 2);
    assert_true(t[1].first_seen_ns == t0 && t[1].last_seen_ns == t0 + 10 * s);
    assert_string_equal(t[1].rule_id, "rule-a");
    assert_int_equal(t[1].severity, 2); /* high */
    assert_string_equal(t[1].type, "credential-access");
    assert_string_equal(t[1].tags, "attack.credential_access,attack.t1110.003");
    assert_int_equal(t[1].status, MW_THREAT_NEW);
    free(t);
    find_threats(f, "h2", &t, &n);
    assert_int_equal(n, 1);
    free(t);
    uint64_t ne;
    assert_int_equal(mw_store_count_events(f->store, &ne), MW_OK);
    assert_int_equal(ne, 5); /* every event stored, matching or not */
}

static void test_many_events_drain(void **st)
{
    struct fixture *f = *st;
    /* 20k events through 64-slot rings: blocking submits must never lose one,
     * and stop() must drain what is queued. */
    mw_sink_t sink = mw_detect_engine_sink(f->e);
    char host[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(host, sizeof host, "host%d", i % 50);
        /* every 4th block of 50 consecutive events hits all 50 hosts */
        mw_event_t *ev = mk(host, (i / 50) % 4 == 0 ? "evil" : "fine", mw_now_realtime_ns());
        assert_int_equal(sink.submit(sink.ctx, ev, MW_SUBMIT_BLOCK), MW_OK);
    }
    mw_detect_engine_stop(f->e);
    uint64_t ne;
    assert_int_equal(mw_store_count_events(f->store, &ne), MW_OK);
    assert_int_equal(ne, 20000);
    uint64_t nt;
    assert_int_equal(mw_store_count_threats(f->store, &nt), MW_OK);
    assert_int_equal(nt, 50); /* 5000 detections over 50 hosts, all within the window */
    mw_threat_t *t;
    size_t n;
    find_threats(f, NULL, &t, &n);
    assert_int_equal(n, 50);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(t[i].count, 100);
    free(t);
    /* After stop, submits are refused and the caller keeps the event. */
    mw_event_t *ev = mk("late", "evil", 0);
    assert_int_equal(sink.submit(sink.ctx, ev, MW_SUBMIT_BLOCK), MW_ESHUTDOWN);
    mw_event_free(ev);
}

static void test_nowait_full(void **st)
{
    struct fixture *f = *st;
    /* Flood with NOWAIT faster than the writer can commit: some submissions
     * must come back MW_EAGAIN (UDP drops), and those that were accepted are
     * all stored. */
    mw_sink_t sink = mw_detect_engine_sink(f->e);
    uint64_t before;
    assert_int_equal(mw_store_count_events(f->store, &before), MW_OK);
    int accepted = 0, refused = 0;
    for (int i = 0; i < 50000; i++) {
        mw_event_t *ev = mk("same-host", "x", 0);
        int rc = sink.submit(sink.ctx, ev, MW_SUBMIT_NOWAIT);
        if (rc == MW_OK) {
            accepted++;
        } else {
            assert_int_equal(rc, MW_EAGAIN);
            mw_event_free(ev);
            refused++;
        }
    }
    mw_detect_engine_stop(f->e);
    assert_true(refused > 0);
    uint64_t after;
    assert_int_equal(mw_store_count_events(f->store, &after), MW_OK);
    assert_int_equal(after - before, (uint64_t)accepted);
}

static void test_reload(void **st)
{
    struct fixture *f = *st;
    mw_event_t *e1 = mk("r1", "worse", mw_now_realtime_ns());
    submit_acked(f, &e1, 1);
    mw_threat_t *t;
    size_t n;
    find_threats(f, "r1", &t, &n);
    assert_int_equal(n, 0); /* rule B not loaded yet */
    free(t);
    write_file(f->rules, "b.yml", RULE_B);
    uint64_t reloads = MW_GET(mw_metrics.rule_reloads);
    assert_int_equal(mw_detect_engine_reload(f->e, &f->cfg), MW_OK);
    assert_int_equal(MW_GET(mw_metrics.rule_reloads), reloads + 1);
    mw_event_t *e2 = mk("r1", "worse", mw_now_realtime_ns());
    submit_acked(f, &e2, 1);
    find_threats(f, "r1", &t, &n);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].rule_id, "rule-b");
    assert_int_equal(t[0].severity, 1);
    free(t);
    /* A rules dir that cannot be read: reload fails, old rules stay. */
    snprintf(f->cfg.rules_dir, sizeof f->cfg.rules_dir, "%s/nope", f->dir);
    assert_int_not_equal(mw_detect_engine_reload(f->e, &f->cfg), MW_OK);
    mw_event_t *e3 = mk("r2", "worse", mw_now_realtime_ns());
    submit_acked(f, &e3, 1);
    find_threats(f, "r2", &t, &n);
    assert_int_equal(n, 1);
    free(t);
}

static void test_several_rule_dirs(void **st)
{
    struct fixture *f = *st;
    char second[160];
    snprintf(second, sizeof second, "%s/more", f->dir);
    assert_int_equal(mkdir(second, 0700), 0);
    write_file(second, "b.yml", RULE_B);
    snprintf(f->cfg.rules_dir, sizeof f->cfg.rules_dir, "%s:%s", f->rules, second);
    assert_int_equal(mw_detect_engine_reload(f->e, &f->cfg), MW_OK);
    assert_int_equal(MW_GET(mw_metrics.rules_loaded), 2);
    mw_event_t *evs[] = {mk("d1", "evil", mw_now_realtime_ns()),
                         mk("d2", "worse", mw_now_realtime_ns())};
    submit_acked(f, evs, 2);
    mw_threat_t *t;
    size_t n;
    find_threats(f, "d1", &t, &n);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].rule_id, "rule-a");
    free(t);
    find_threats(f, "d2", &t, &n);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].rule_id, "rule-b");
    free(t);
    /* one unreadable directory in the list: the reload fails, old rules stay */
    snprintf(f->cfg.rules_dir, sizeof f->cfg.rules_dir, "%s:%s/nope", f->rules, f->dir);
    assert_int_not_equal(mw_detect_engine_reload(f->e, &f->cfg), MW_OK);
    assert_int_equal(MW_GET(mw_metrics.rules_loaded), 2);
}

static void test_resolved_not_folded(void **st)
{
    struct fixture *f = *st;
    int64_t t0 = mw_now_realtime_ns();
    mw_event_t *e1 = mk("z", "evil", t0);
    submit_acked(f, &e1, 1);
    mw_threat_t *t;
    size_t n;
    find_threats(f, "z", &t, &n);
    assert_int_equal(n, 1);
    assert_int_equal(mw_store_set_threat_status(f->store, t[0].id, MW_THREAT_RESOLVED), MW_OK);
    free(t);
    mw_event_t *e2 = mk("z", "evil again", t0 + 1000);
    submit_acked(f, &e2, 1);
    find_threats(f, "z", &t, &n);
    assert_int_equal(n, 2);
    assert_int_equal(t[0].status, MW_THREAT_NEW);
    assert_int_equal(t[0].count, 1);
    free(t);
}

static int setup_short_retention(void **st)
{
    g_retention_ns = 1000000000LL; /* 1 s, cleaned every 1 s */
    int rc = setup(st);
    g_retention_ns = 0;
    return rc;
}

static void test_retention_task(void **st)
{
    struct fixture *f = *st;
    mw_event_t *evs[20];
    for (int i = 0; i < 20; i++)
        evs[i] = mk("ret", i % 2 ? "evil" : "fine", mw_now_realtime_ns());
    uint64_t expired0 = MW_GET(mw_metrics.events_expired);
    submit_acked(f, evs, 20);
    uint64_t n;
    assert_int_equal(mw_store_count_events(f->store, &n), MW_OK);
    assert_int_equal(n, 20);
    /* The cleanup thread runs every second and removes what is older than
     * 1 s: within 4 s every event must be gone, the threat stays. */
    for (int i = 0; i < 40 && n > 0; i++) {
        usleep(100000);
        assert_int_equal(mw_store_count_events(f->store, &n), MW_OK);
    }
    assert_int_equal(n, 0);
    assert_int_equal(MW_GET(mw_metrics.events_expired) - expired0, 20);
    uint64_t nt;
    assert_int_equal(mw_store_count_threats(f->store, &nt), MW_OK);
    assert_int_equal(nt, 1);
}

/* ---- the threat hook (mw_detect_engine_set_threat_hook) ---- */

#define NOTES_MAX 64
struct notes {
    pthread_mutex_t mu;
    size_t n;
    struct {
        enum mw_threat_change what;
        uint64_t id, count;
        char host[32];
    } v[NOTES_MAX];
};

static void note_hook(void *ctx, const struct mw_threat *t, enum mw_threat_change what)
{
    struct notes *ns = ctx;
    pthread_mutex_lock(&ns->mu);
    if (ns->n < NOTES_MAX) {
        ns->v[ns->n].what = what;
        ns->v[ns->n].id = t ? t->id : 0;
        ns->v[ns->n].count = t ? t->count : 0;
        snprintf(ns->v[ns->n].host, sizeof ns->v[0].host, "%.31s", t ? t->host : "");
        ns->n++;
    }
    pthread_mutex_unlock(&ns->mu);
}

static void test_threat_hook(void **st)
{
    struct fixture *f = *st;
    struct notes ns = {.mu = PTHREAD_MUTEX_INITIALIZER};
    int64_t t0 = mw_now_realtime_ns();
    mw_detect_engine_set_threat_hook(f->e, note_hook, &ns);

    mw_event_t *evs[] = {mk("h1", "evil 1", t0), mk("h1", "evil 2", t0 + 1), mk("h2", "evil 3", t0),
                         mk("h1", "harmless", t0), mk("h1", "evil 4", t0 + 2)};
    submit_acked(f, evs, 5); /* the notes are made before the acks end */
    pthread_mutex_lock(&ns.mu);
    /* every note is followed by a batch end; each threat is created once;
     * h1's last note carries its count after the three detections */
    assert_true(ns.n >= 3);
    assert_int_equal(ns.v[ns.n - 1].what, MW_THREAT_BATCH_END);
    size_t created = 0, last_h1 = NOTES_MAX;
    uint64_t id_h1 = 0, id_h2 = 0;
    for (size_t i = 0; i < ns.n; i++) {
        if (ns.v[i].what == MW_THREAT_BATCH_END) {
            assert_int_equal(ns.v[i].id, 0);
            continue;
        }
        assert_true(ns.v[i].what == MW_THREAT_CREATED || ns.v[i].what == MW_THREAT_UPDATED);
        created += ns.v[i].what == MW_THREAT_CREATED;
        if (strcmp(ns.v[i].host, "h1") == 0) {
            if (ns.v[i].what == MW_THREAT_CREATED)
                id_h1 = ns.v[i].id;
            assert_int_equal(ns.v[i].id, id_h1);
            last_h1 = i;
        } else {
            assert_string_equal(ns.v[i].host, "h2");
            assert_int_equal(ns.v[i].what, MW_THREAT_CREATED);
            id_h2 = ns.v[i].id;
        }
    }
    assert_int_equal(created, 2);
    assert_true(id_h1 != 0 && id_h2 != 0 && id_h1 != id_h2);
    assert_true(last_h1 < NOTES_MAX);
    assert_int_equal(ns.v[last_h1].count, 3);
    size_t before = ns.n;
    pthread_mutex_unlock(&ns.mu);

    /* one more detection on h1: one 'updated' note with count 4, one batch end */
    mw_event_t *e5 = mk("h1", "evil 5", t0 + 3);
    submit_acked(f, &e5, 1);
    pthread_mutex_lock(&ns.mu);
    assert_int_equal(ns.n, before + 2);
    assert_int_equal(ns.v[before].what, MW_THREAT_UPDATED);
    assert_int_equal(ns.v[before].id, id_h1);
    assert_int_equal(ns.v[before].count, 4);
    assert_int_equal(ns.v[before + 1].what, MW_THREAT_BATCH_END);
    pthread_mutex_unlock(&ns.mu);

    /* removed: no more calls; events without detections: no notes at all */
    mw_detect_engine_set_threat_hook(f->e, NULL, NULL);
    mw_event_t *e6[] = {mk("h1", "evil 6", t0 + 4), mk("h3", "harmless", t0)};
    submit_acked(f, e6, 2);
    assert_int_equal(ns.n, before + 2);
    pthread_mutex_destroy(&ns.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fold_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_events_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nowait_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolved_not_folded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_rule_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_task, setup_short_retention, teardown),
        cmocka_unit_test_setup_teardown(test_threat_hook, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
