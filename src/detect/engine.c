/* The detection engine: N worker threads (events sharded by host) run every
 * registered detector; one writer thread commits events, detections and
 * threats in batches, folds duplicate detections into threats, ends acks;
 * a cleanup thread enforces event retention.
 *
 *   intake --submit--> ring[w] --worker w--> wring --writer--> store, acks
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwrasp/detect.h"
#include "mwrasp/log.h"
#include "mwrasp/metrics.h"
#include "mwrasp/store.h"
#include "ring.h"

#define WORKER_BATCH 256 /* events a worker handles per read lock */
#define FOLD_MAX 65536 /* cap on remembered (rule, host) threats */
#define STORE_RETRIES 3
#define PUB_MAX 2048 /* threats notified per batch (the rest are counted, not sent) */
#define PUB_SLOTS (2 * PUB_MAX) /* id -> index hash for PUB_MAX entries */

/* A threat created or changed by the batch being written, for the threat
 * hook (mw_detect_engine_set_threat_hook). */
struct pub_ent {
    mw_threat_t t;
    int created;
};

struct detector_inst {
    const struct mw_detector_ops *ops;
    void *state;
};

struct detector_set {
    struct detector_inst *inst;
    size_t n;
};

struct worker {
    struct mw_detect_engine *e;
    unsigned idx;
    pthread_t th;
    struct mw_ring ring;
    void **scratch; /* one per detector of the current set */
    size_t nscratch;
    unsigned gen;
};

/* Remembered open threat per (rule, host), for folding. */
struct fold_ent {
    char *key; /* rule_id "\x1f" host; NULL = empty slot */
    mw_threat_t t;
};

struct mw_detect_engine {
    const struct mw_config *cfg;
    mw_store_t *store;
    unsigned nworkers;
    struct worker *workers;
    struct mw_ring wring;

    pthread_rwlock_t set_lock;
    struct detector_set set;
    _Atomic unsigned gen;

    pthread_t writer_th, cleanup_th;
    _Atomic int accepting;
    _Atomic int stop_workers;
    _Atomic unsigned workers_alive;
    _Atomic int stop_cleanup;
    int started, stopped;
    pthread_mutex_t cleanup_mu;
    pthread_cond_t cleanup_cv;

    /* writer-private */
    struct fold_ent *fold;
    size_t fold_cap, fold_n;
    int64_t window_ns;
    uint32_t batch_max;

    /* threat hook (set/cleared under hook_mu; called by the writer) */
    pthread_mutex_t hook_mu;
    mw_threat_hook_fn hook;
    void *hook_ctx;
    _Atomic int hook_on;
    /* writer-private: the threats touched by the current batch */
    struct pub_ent *pub;
    uint32_t *pub_slot; /* PUB_SLOTS entries, 0 = empty, else index + 1 */
    size_t pub_n;
    int pub_active;
    int pub_changed; /* the batch changed a threat (noted or not): BATCH_END is due */
    _Atomic uint64_t pub_skipped; /* notes beyond PUB_MAX in one batch */
};

/* ---- detector sets ---- */

static void set_destroy(struct detector_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->inst[i].state)
            s->inst[i].ops->destroy(s->inst[i].state);
    free(s->inst);
    s->inst = NULL;
    s->n = 0;
}

static int set_build(const struct mw_config *cfg, struct detector_set *out)
{
    size_t n = 0;
    while (mw_detectors[n])
        n++;
    struct detector_set s = {calloc(n ? n : 1, sizeof(struct detector_inst)), 0};
    if (!s.inst)
        return MW_ENOMEM;
    uint64_t rules = 0;
    for (size_t i = 0; i < n; i++) {
        const struct mw_detector_ops *ops = mw_detectors[i];
        void *st = NULL;
        int rc = ops->create(cfg, &st);
        if (rc != MW_OK) {
            mw_error("detect", "detector %s failed to start: %s", ops->name, mw_strerror(rc));
            set_destroy(&s);
            return rc;
        }
        s.inst[s.n].ops = ops;
        s.inst[s.n].state = st;
        s.n++;
        size_t c = ops->count ? ops->count(st) : 0;
        rules += c;
        mw_info("detect", "detector %s: %zu rules loaded", ops->name, c);
    }
    atomic_store(&mw_metrics.rules_loaded, rules);
    *out = s;
    return MW_OK;
}

/* ---- workers ---- */

struct emit_ctx {
    mw_event_t *ev;
    size_t cap;
};

static int emit_detection(void *ctx, const mw_detection_t *d)
{
    struct emit_ctx *c = ctx;
    mw_event_t *ev = c->ev;
    if (ev->ndets >= MW_DETECT_MAX_PER_EVENT)
        return MW_ELIMIT;
    if (ev->ndets == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 4;
        mw_detection_t *nd = realloc(ev->dets, ncap * sizeof *nd);
        if (!nd)
            return MW_ENOMEM;
        ev->dets = nd;
        c->cap = ncap;
    }
    ev->dets[ev->ndets++] = *d;
    return MW_OK;
}

static void worker_scratch_free(struct worker *w)
{
    struct detector_set *s = &w->e->set;
    for (size_t i = 0; i < w->nscratch; i++)
        if (w->scratch[i] && i < s->n && s->inst[i].ops->scratch_free)
            s->inst[i].ops->scratch_free(w->scratch[i]);
    free(w->scratch);
    w->scratch = NULL;
    w->nscratch = 0;
}

/* Called with the set read-locked: make scratch for the current set. */
static void worker_scratch_refresh(struct worker *w, unsigned gen)
{
    struct detector_set *s = &w->e->set;
    free(w->scratch); /* the old set's scratches were freed before the swap */
    w->scratch = calloc(s->n ? s->n : 1, sizeof(void *));
    w->nscratch = w->scratch ? s->n : 0;
    for (size_t i = 0; i < w->nscratch; i++)
        if (s->inst[i].ops->scratch_new &&
            s->inst[i].ops->scratch_new(s->inst[i].state, &w->scratch[i]) != MW_OK)
            w->scratch[i] = NULL;
    w->gen = gen;
}

static void run_detectors(struct worker *w, mw_event_t *ev)
{
    struct detector_set *s = &w->e->set;
    struct emit_ctx ec = {ev, 0};
    for (size_t i = 0; i < s->n; i++) {
        void *scr = i < w->nscratch ? w->scratch[i] : NULL;
        s->inst[i].ops->match(s->inst[i].state, scr, ev, emit_detection, &ec);
    }
}

static void push_to_writer(struct mw_detect_engine *e, mw_event_t *ev)
{
    while (!mw_ring_push(&e->wring, ev))
        mw_ring_wait_not_full(&e->wring, 10);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct mw_detect_engine *e = w->e;
    void *batch[WORKER_BATCH];
    for (;;) {
        size_t n = 0;
        void *p;
        while (n < WORKER_BATCH && mw_ring_pop(&w->ring, &p))
            batch[n++] = p;
        if (n == 0) {
            if (atomic_load(&e->stop_workers) && mw_ring_depth(&w->ring) == 0)
                break;
            mw_ring_wait_not_empty(&w->ring, 50);
            continue;
        }
        pthread_rwlock_rdlock(&e->set_lock);
        unsigned g = atomic_load(&e->gen);
        if (g != w->gen)
            worker_scratch_refresh(w, g);
        for (size_t i = 0; i < n; i++)
            run_detectors(w, batch[i]);
        pthread_rwlock_unlock(&e->set_lock);
        for (size_t i = 0; i < n; i++)
            push_to_writer(e, batch[i]);
    }
    pthread_rwlock_rdlock(&e->set_lock);
    worker_scratch_free(w);
    pthread_rwlock_unlock(&e->set_lock);
    atomic_fetch_sub(&e->workers_alive, 1);
    mw_ring_wake_all(&e->wring);
    return NULL;
}

/* ---- folding detections into threats (writer thread only) ---- */

static size_t fold_slot(struct mw_detect_engine *e, const char *key)
{
    size_t i = mw_hash32(key, strlen(key)) & (e->fold_cap - 1);
    while (e->fold[i].key && strcmp(e->fold[i].key, key) != 0)
        i = (i + 1) & (e->fold_cap - 1);
    return i;
}

static void fold_clear(struct mw_detect_engine *e)
{
    for (size_t i = 0; i < e->fold_cap; i++) {
        free(e->fold[i].key);
        e->fold[i].key = NULL;
    }
    e->fold_n = 0;
}

/* Remembers t under its (rule, host); when full, forgets everything older
 * than the window (rebuilding the table) before giving up. */
static void fold_put(struct mw_detect_engine *e, const mw_threat_t *t, int64_t now_ts)
{
    char key[MW_RULE_ID_MAX + MW_EVENT_HOST_MAX + 2];
    snprintf(key, sizeof key, "%s\x1f%s", t->rule_id, t->host);
    size_t i = fold_slot(e, key);
    if (e->fold[i].key) {
        e->fold[i].t = *t;
        return;
    }
    if (e->fold_n + 1 > FOLD_MAX) {
        /* rebuild with only the entries still inside the window */
        struct fold_ent *old = e->fold;
        size_t cap = e->fold_cap;
        e->fold = calloc(cap, sizeof *e->fold);
        if (!e->fold) {
            e->fold = old;
            return;
        }
        e->fold_n = 0;
        for (size_t k = 0; k < cap; k++) {
            if (!old[k].key)
                continue;
            if (now_ts - old[k].t.last_seen_ns <= e->window_ns) {
                size_t j = fold_slot(e, old[k].key);
                e->fold[j] = old[k];
                e->fold_n++;
            } else {
                free(old[k].key);
            }
        }
        free(old);
        if (e->fold_n + 1 > FOLD_MAX)
            return; /* still full: this threat just is not folded into later */
        i = fold_slot(e, key);
    }
    e->fold[i].key = strdup(key);
    if (!e->fold[i].key)
        return;
    e->fold[i].t = *t;
    e->fold_n++;
}

static struct fold_ent *fold_get(struct mw_detect_engine *e, const char *rule, const char *host)
{
    char key[MW_RULE_ID_MAX + MW_EVENT_HOST_MAX + 2];
    snprintf(key, sizeof key, "%s\x1f%s", rule, host);
    size_t i = fold_slot(e, key);
    return e->fold[i].key ? &e->fold[i] : NULL;
}

static void fold_reload(struct mw_detect_engine *e)
{
    fold_clear(e);
    mw_threat_t *ts = NULL;
    size_t n = 0;
    int64_t since = mw_now_realtime_ns() - e->window_ns;
    if (mw_store_open_threats(e->store, since, &ts, &n) != MW_OK) {
        mw_warn("detect", "could not reload open threats; folding starts afresh");
        return;
    }
    for (size_t i = 0; i < n; i++)
        fold_put(e, &ts[i], ts[i].last_seen_ns);
    free(ts);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t l = strnlen(src, cap - 1);
    memcpy(dst, src, l);
    dst[l] = '\0';
}

/* A standing detection reports a condition that holds (an exposed service)
 * rather than an occurrence: it folds into the open threat of its (rule,
 * host) whatever that threat's age, not only within the window. */
static int standing(const mw_detection_t *d)
{
    return strcmp(d->threat_class, MW_THREAT_CLASS_HNDL) == 0;
}

/* A standing detection the fold table does not know: the newest open threat
 * of (rule, host) in the store (it may predate a restart or have left the
 * table), remembered for folding. NULL if there is none. */
static struct fold_ent *fold_lookup_store(struct mw_detect_engine *e, const mw_detection_t *d,
                                          const char *host)
{
    struct mw_threat_query q = {0};
    q.status = -1;
    q.host = host;
    q.limit = 100;
    mw_threat_t *ts = NULL;
    size_t n = 0;
    uint64_t next = 0;
    struct fold_ent *fe = NULL;
    if (mw_store_list_threats(e->store, &q, &ts, &n, &next) != MW_OK)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ts[i].rule_id, d->rule_id) != 0 || ts[i].status == MW_THREAT_RESOLVED)
            continue;
        fold_put(e, &ts[i], ts[i].last_seen_ns);
        fe = fold_get(e, d->rule_id, host);
        break;
    }
    free(ts);
    return fe;
}

/* Remembers that the batch created (created = 1) or changed t, for the
 * threat hook; a threat touched twice in one batch is notified once, in
 * its last state. Writer thread only. */
static void pub_note(struct mw_detect_engine *e, const mw_threat_t *t, int created)
{
    e->pub_changed = 1;
    if (!e->pub_active)
        return;
    size_t i = (size_t)(t->id * 0x9E3779B97F4A7C15ULL >> 40) % PUB_SLOTS;
    while (e->pub_slot[i]) {
        struct pub_ent *p = &e->pub[e->pub_slot[i] - 1];
        if (p->t.id == t->id) {
            p->t = *t;
            return;
        }
        i = (i + 1) % PUB_SLOTS;
    }
    if (e->pub_n >= PUB_MAX) {
        atomic_fetch_add(&e->pub_skipped, 1);
        return;
    }
    e->pub[e->pub_n].t = *t;
    e->pub[e->pub_n].created = created;
    e->pub_slot[i] = (uint32_t)++e->pub_n;
}

/* Forgets the notes of a batch (after its flush, or a rollback). */
static void pub_drop(struct mw_detect_engine *e)
{
    if (e->pub_n)
        memset(e->pub_slot, 0, PUB_SLOTS * sizeof *e->pub_slot);
    e->pub_n = 0;
    e->pub_changed = 0;
}

/* Starts a batch: notes are kept only while a hook is set. */
static void pub_reset(struct mw_detect_engine *e)
{
    pub_drop(e);
    e->pub_active = 0;
    if (!atomic_load(&e->hook_on))
        return;
    if (!e->pub) {
        e->pub = malloc(PUB_MAX * sizeof *e->pub);
        e->pub_slot = calloc(PUB_SLOTS, sizeof *e->pub_slot);
        if (!e->pub || !e->pub_slot) {
            free(e->pub);
            free(e->pub_slot);
            e->pub = NULL;
            e->pub_slot = NULL;
            return;
        }
    }
    e->pub_active = 1;
}

/* After a commit: hands every noted threat to the hook. BATCH_END is sent
 * whenever the batch changed a threat, even if none could be noted (the
 * note buffer could not be allocated): listeners that only need to know
 * that something changed (the API's read cache) never miss a commit. */
static void pub_flush(struct mw_detect_engine *e)
{
    if (!e->pub_n && !e->pub_changed)
        return;
    pthread_mutex_lock(&e->hook_mu);
    if (e->hook) {
        for (size_t i = 0; i < e->pub_n; i++)
            e->hook(e->hook_ctx, &e->pub[i].t,
                    e->pub[i].created ? MW_THREAT_CREATED : MW_THREAT_UPDATED);
        e->hook(e->hook_ctx, NULL, MW_THREAT_BATCH_END);
    }
    pthread_mutex_unlock(&e->hook_mu);
}

/* One detection of ev: fold into a remembered threat within the window (any
 * age for a standing detection), or open a new threat; then link the
 * detection. */
static int record_detection(struct mw_detect_engine *e, mw_event_t *ev, const mw_detection_t *d)
{
    int64_t ts = ev->ts_ns;
    struct fold_ent *fe = fold_get(e, d->rule_id, ev->host);
    int st = standing(d);
    int rc;
    if (!fe && st)
        fe = fold_lookup_store(e, d, ev->host);
    if (fe && (st || (ts - fe->t.last_seen_ns <= e->window_ns &&
                      fe->t.first_seen_ns - ts <= e->window_ns))) {
        mw_threat_t t = fe->t;
        if (ts > t.last_seen_ns)
            t.last_seen_ns = ts;
        if (ts < t.first_seen_ns)
            t.first_seen_ns = ts;
        t.count++;
        if (d->severity < t.severity)
            t.severity = d->severity;
        if (d->confidence > t.confidence)
            t.confidence = d->confidence;
        rc = mw_store_put_threat(e->store, &t);
        if (rc == MW_OK) {
            fe->t = t;
            MW_INC(mw_metrics.threats_folded);
            pub_note(e, &t, 0);
            return mw_store_put_detection(e->store, t.id, ev->id, d, ts);
        }
        if (rc != MW_ENOTFOUND)
            return rc;
        /* resolved (or gone) meanwhile: open a new one below */
    }
    mw_threat_t t;
    memset(&t, 0, sizeof t);
    copy_str(t.rule_id, sizeof t.rule_id, d->rule_id);
    copy_str(t.detector, sizeof t.detector, d->detector);
    copy_str(t.title, sizeof t.title, d->title);
    copy_str(t.type, sizeof t.type, d->type);
    copy_str(t.threat_class, sizeof t.threat_class, d->threat_class);
    copy_str(t.tags, sizeof t.tags, d->tags);
    copy_str(t.host, sizeof t.host, ev->host);
    t.severity = d->severity;
    t.confidence = d->confidence;
    t.first_seen_ns = t.last_seen_ns = ts;
    t.count = 1;
    t.status = MW_THREAT_NEW;
    t.updated_ns = mw_now_realtime_ns();
    rc = mw_store_put_threat(e->store, &t);
    if (rc != MW_OK)
        return rc;
    fold_put(e, &t, ts);
    MW_INC(mw_metrics.threats_new);
    pub_note(e, &t, 1);
    return mw_store_put_detection(e->store, t.id, ev->id, d, ts);
}

static int write_batch(struct mw_detect_engine *e, mw_event_t **evs, size_t n, uint64_t *ndet)
{
    pub_reset(e);
    int rc = mw_store_begin(e->store);
    if (rc != MW_OK)
        return rc;
    *ndet = 0;
    for (size_t i = 0; i < n; i++) {
        rc = mw_store_put_event(e->store, evs[i]);
        if (rc != MW_OK)
            goto fail;
        for (uint32_t k = 0; k < evs[i]->ndets; k++) {
            rc = record_detection(e, evs[i], &evs[i]->dets[k]);
            if (rc != MW_OK)
                goto fail;
            (*ndet)++;
        }
    }
    rc = mw_store_commit(e->store);
    if (rc == MW_OK) {
        pub_flush(e);
        return MW_OK;
    }
fail:
    pub_drop(e);
    mw_store_rollback(e->store);
    /* The fold table may name threats that were rolled back. */
    fold_reload(e);
    return rc;
}

static void finish_batch(mw_event_t **evs, size_t n, int rc)
{
    uint64_t now = mw_now_mono_ns();
    for (size_t i = 0; i < n; i++) {
        mw_event_t *ev = evs[i];
        if (rc == MW_OK)
            mw_metrics_observe_latency(now - ev->mono_ns);
        if (ev->ack)
            mw_ack_done(ev->ack, rc);
        mw_event_free(ev);
    }
}

static void *writer_main(void *arg)
{
    struct mw_detect_engine *e = arg;
    mw_event_t **batch = malloc(e->batch_max * sizeof *batch);
    if (!batch) {
        mw_error("detect", "writer: out of memory");
        abort();
    }
    for (;;) {
        size_t n = 0;
        void *p;
        while (n < e->batch_max && mw_ring_pop(&e->wring, &p))
            batch[n++] = p;
        if (n == 0) {
            if (atomic_load(&e->workers_alive) == 0 && mw_ring_depth(&e->wring) == 0)
                break;
            mw_ring_wait_not_empty(&e->wring, 50);
            continue;
        }
        int rc = MW_EIO;
        uint64_t ndet = 0;
        for (int attempt = 0; attempt < STORE_RETRIES; attempt++) {
            for (size_t i = 0; i < n; i++)
                batch[i]->id = 0;
            rc = write_batch(e, batch, n, &ndet);
            if (rc == MW_OK)
                break;
            MW_INC(mw_metrics.store_errors);
            mw_error("detect", "writing a batch of %zu events failed (%s), attempt %d of %d", n,
                     mw_strerror(rc), attempt + 1, STORE_RETRIES);
            struct timespec ts = {0, 100000000L << attempt};
            nanosleep(&ts, NULL);
        }
        if (rc == MW_OK) {
            MW_ADD(mw_metrics.events_stored, n);
            MW_ADD(mw_metrics.detections, ndet);
            MW_INC(mw_metrics.store_batches);
        } else {
            mw_error("detect",
                     "dropping a batch of %zu events after %d failed attempts; "
                     "waiting clients get an error",
                     n, STORE_RETRIES);
        }
        finish_batch(batch, n, rc);
    }
    free(batch);
    return NULL;
}

/* ---- retention ---- */

static void *cleanup_main(void *arg)
{
    struct mw_detect_engine *e = arg;
    pthread_mutex_lock(&e->cleanup_mu);
    while (!atomic_load(&e->stop_cleanup)) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        int64_t iv = e->cfg->cleanup_interval_ns;
        dl.tv_sec += iv / 1000000000LL;
        dl.tv_nsec += iv % 1000000000LL;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&e->cleanup_cv, &e->cleanup_mu, &dl);
        if (atomic_load(&e->stop_cleanup))
            break;
        pthread_mutex_unlock(&e->cleanup_mu);
        uint64_t del = 0;
        int64_t cutoff = mw_now_realtime_ns() - e->cfg->retention_ns;
        if (mw_store_expire_events(e->store, cutoff, &del) == MW_OK) {
            MW_ADD(mw_metrics.events_expired, del);
            if (del)
                mw_info("detect", "retention: removed %llu events", (unsigned long long)del);
        }
        pthread_mutex_lock(&e->cleanup_mu);
    }
    pthread_mutex_unlock(&e->cleanup_mu);
    return NULL;
}

/* ---- public ---- */

static int engine_submit(void *ctx, mw_event_t *ev, int flags)
{
    struct mw_detect_engine *e = ctx;
    if (!atomic_load(&e->accepting))
        return MW_ESHUTDOWN;
    struct worker *w = &e->workers[ev->host_hash % e->nworkers];
    while (!mw_ring_push(&w->ring, ev)) {
        if (flags & MW_SUBMIT_NOWAIT)
            return MW_EAGAIN;
        if (!atomic_load(&e->accepting))
            return MW_ESHUTDOWN;
        mw_ring_wait_not_full(&w->ring, 10);
    }
    return MW_OK;
}

int mw_detect_engine_submit_detection(mw_detect_engine_t *e, mw_event_t *ev,
                                      const mw_detection_t *d)
{
    if (!e || !ev || !d || ev->ndets)
        return MW_EINVAL;
    if (!atomic_load(&e->accepting))
        return MW_ESHUTDOWN;
    mw_detection_t *copy = malloc(sizeof *copy);
    if (!copy)
        return MW_ENOMEM;
    *copy = *d;
    ev->dets = copy;
    ev->ndets = 1;
    push_to_writer(e, ev);
    return MW_OK;
}

void mw_detect_engine_set_threat_hook(mw_detect_engine_t *e, mw_threat_hook_fn fn, void *ctx)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->hook_mu);
    e->hook = fn;
    e->hook_ctx = ctx;
    atomic_store(&e->hook_on, fn != NULL);
    pthread_mutex_unlock(&e->hook_mu);
}

mw_sink_t mw_detect_engine_sink(mw_detect_engine_t *e)
{
    mw_sink_t s = {engine_submit, e};
    return s;
}

int mw_detect_engine_new(const struct mw_config *cfg, struct mw_store *store,
                         mw_detect_engine_t **out)
{
    struct mw_detect_engine *e = calloc(1, sizeof *e);
    if (!e)
        return MW_ENOMEM;
    e->cfg = cfg;
    e->store = store;
    e->nworkers = cfg->workers ? cfg->workers : 1;
    e->window_ns = cfg->dedup_window_ns;
    e->batch_max = cfg->batch_max ? cfg->batch_max : 4096;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->set_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&e->cleanup_mu, NULL);
    pthread_mutex_init(&e->hook_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cleanup_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_store(&e->gen, 1);

    int rc = MW_ENOMEM;
    e->fold_cap = 2 * FOLD_MAX;
    e->fold = calloc(e->fold_cap, sizeof *e->fold);
    e->workers = calloc(e->nworkers, sizeof *e->workers);
    if (!e->fold || !e->workers || mw_ring_init(&e->wring, (size_t)cfg->ring_size * 2) != MW_OK)
        goto fail;
    for (unsigned i = 0; i < e->nworkers; i++) {
        e->workers[i].e = e;
        e->workers[i].idx = i;
        if (mw_ring_init(&e->workers[i].ring, cfg->ring_size) != MW_OK)
            goto fail;
    }
    rc = set_build(cfg, &e->set);
    if (rc != MW_OK)
        goto fail;
    fold_reload(e);
    *out = e;
    return MW_OK;
fail:
    mw_detect_engine_free(e);
    return rc;
}

int mw_detect_engine_start(mw_detect_engine_t *e)
{
    atomic_store(&e->workers_alive, e->nworkers);
    for (unsigned i = 0; i < e->nworkers; i++)
        if (pthread_create(&e->workers[i].th, NULL, worker_main, &e->workers[i]) != 0)
            abort(); /* cannot run without threads; nothing to unwind safely */
    if (pthread_create(&e->writer_th, NULL, writer_main, e) != 0 ||
        pthread_create(&e->cleanup_th, NULL, cleanup_main, e) != 0)
        abort();
    e->started = 1;
    atomic_store(&e->accepting, 1);
    return MW_OK;
}

int mw_detect_engine_reload(mw_detect_engine_t *e, const struct mw_config *cfg)
{
    struct detector_set ns;
    int rc = set_build(cfg, &ns);
    if (rc != MW_OK) {
        mw_error("detect", "reload failed (%s); keeping the rules loaded before", mw_strerror(rc));
        return rc;
    }
    pthread_rwlock_wrlock(&e->set_lock);
    /* Workers are outside their read sections: free their scratch for the
     * old set now, they make new ones on their next batch. */
    for (unsigned i = 0; i < e->nworkers; i++) {
        struct worker *w = &e->workers[i];
        for (size_t k = 0; k < w->nscratch; k++)
            if (w->scratch[k] && e->set.inst[k].ops->scratch_free)
                e->set.inst[k].ops->scratch_free(w->scratch[k]);
        free(w->scratch);
        w->scratch = NULL;
        w->nscratch = 0;
    }
    struct detector_set old = e->set;
    e->set = ns;
    atomic_fetch_add(&e->gen, 1);
    pthread_rwlock_unlock(&e->set_lock);
    set_destroy(&old);
    MW_INC(mw_metrics.rule_reloads);
    return MW_OK;
}

void mw_detect_engine_stop(mw_detect_engine_t *e)
{
    if (!e || !e->started || e->stopped)
        return;
    atomic_store(&e->accepting, 0);
    atomic_store(&e->stop_workers, 1);
    for (unsigned i = 0; i < e->nworkers; i++) {
        mw_ring_wake_all(&e->workers[i].ring);
        pthread_join(e->workers[i].th, NULL);
    }
    pthread_join(e->writer_th, NULL);
    pthread_mutex_lock(&e->cleanup_mu);
    atomic_store(&e->stop_cleanup, 1);
    pthread_cond_broadcast(&e->cleanup_cv);
    pthread_mutex_unlock(&e->cleanup_mu);
    pthread_join(e->cleanup_th, NULL);
    e->stopped = 1;
}

void mw_detect_engine_free(mw_detect_engine_t *e)
{
    if (!e)
        return;
    mw_detect_engine_stop(e);
    if (e->workers) {
        for (unsigned i = 0; i < e->nworkers; i++) {
            if (!e->workers[i].ring.cells)
                continue;
            void *p;
            while (mw_ring_pop(&e->workers[i].ring, &p))
                mw_event_free(p); /* only if never started */
            mw_ring_destroy(&e->workers[i].ring);
        }
        free(e->workers);
    }
    if (e->wring.cells) {
        void *p;
        while (mw_ring_pop(&e->wring, &p))
            mw_event_free(p);
        mw_ring_destroy(&e->wring);
    }
    set_destroy(&e->set);
    if (e->fold) {
        fold_clear(e);
        free(e->fold);
    }
    pthread_rwlock_destroy(&e->set_lock);
    pthread_mutex_destroy(&e->cleanup_mu);
    pthread_mutex_destroy(&e->hook_mu);
    pthread_cond_destroy(&e->cleanup_cv);
    free(e->pub);
    free(e->pub_slot);
    free(e);
}

uint64_t mw_detect_engine_depth(mw_detect_engine_t *e)
{
    uint64_t d = mw_ring_depth(&e->wring);
    for (unsigned i = 0; i < e->nworkers; i++)
        d += mw_ring_depth(&e->workers[i].ring);
    return d;
}

char *mw_detect_engine_gauges(mw_detect_engine_t *e)
{
    size_t cap = 768 + (size_t)e->nworkers * 96;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t n = (size_t)snprintf(s, cap,
                                "# HELP mwrasp_ring_depth Events queued in a pipeline ring.\n"
                                "# TYPE mwrasp_ring_depth gauge\n"
                                "mwrasp_ring_depth{ring=\"writer\"} %zu\n",
                                mw_ring_depth(&e->wring));
    for (unsigned i = 0; i < e->nworkers && n < cap; i++)
        n += (size_t)snprintf(s + n, cap - n, "mwrasp_ring_depth{ring=\"worker%u\"} %zu\n", i,
                              mw_ring_depth(&e->workers[i].ring));
    if (n < cap)
        snprintf(s + n, cap - n,
                 "# HELP mwrasp_ring_capacity Capacity of each worker ring.\n"
                 "# TYPE mwrasp_ring_capacity gauge\nmwrasp_ring_capacity %zu\n"
                 "# HELP mwrasp_threat_notes_skipped_total Threat changes not handed to the "
                 "threat hook (more than %d threats in one batch).\n"
                 "# TYPE mwrasp_threat_notes_skipped_total counter\n"
                 "mwrasp_threat_notes_skipped_total %llu\n",
                 e->workers[0].ring.mask + 1, PUB_MAX,
                 (unsigned long long)atomic_load(&e->pub_skipped));
    return s;
}
