/* A small cache of rendered GET /api/v1/threats answers (issue 6 read target).
 *
 * Key: the normalized query (every parsed parameter, mw_api_readcache_key).
 * Freshness: one generation counter, bumped by every threat change (the
 * engine's threat hook, which runs after the batch commit and before the
 * batch's events are acknowledged, and PATCH after its commit). A reader
 * takes the generation BEFORE it reads the store and files its answer under
 * that generation; an entry is served only while its generation is the
 * current one. So a change committed while a reader was reading makes that
 * reader's entry stale, and a request that arrives after a change was
 * acknowledged never gets an answer read before it.
 *
 * Bounds: MW_READCACHE_ENTRIES entries, answers up to MW_READCACHE_ANSWER_MAX
 * bytes, MW_READCACHE_BYTES_MAX bytes in all (least recently used entries are
 * evicted). Entries are reference-counted, so that a hit sends the bytes
 * without copying them and without holding the lock during the write. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

struct mw_readcache_body {
    atomic_uint refs;
    size_t len;
    char text[]; /* len bytes (not NUL-terminated) */
};

struct slot {
    char key[MW_READCACHE_KEY_MAX];
    uint64_t gen;
    uint64_t used; /* tick of the last use (LRU) */
    struct mw_readcache_body *body; /* NULL = free */
};

struct mw_api_readcache {
    _Atomic uint64_t gen;
    pthread_mutex_t mu;
    struct slot slot[MW_READCACHE_ENTRIES];
    uint64_t tick;
    size_t bytes; /* sum of the bodies held by slots */
    _Atomic uint64_t hits, misses, stores, evictions, too_big;
};

int mw_api_readcache_new(mw_api_readcache_t **out)
{
    struct mw_api_readcache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return MW_ENOMEM;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return MW_ENOMEM;
    }
    atomic_init(&c->gen, 1);
    *out = c;
    return 0;
}

void mw_api_readcache_body_put(struct mw_readcache_body *b)
{
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}

static void slot_clear(struct mw_api_readcache *c, struct slot *s)
{
    if (s->body) {
        c->bytes -= s->body->len;
        mw_api_readcache_body_put(s->body);
        s->body = NULL;
    }
}

void mw_api_readcache_free(mw_api_readcache_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < MW_READCACHE_ENTRIES; i++)
        slot_clear(c, &c->slot[i]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

uint64_t mw_api_readcache_generation(mw_api_readcache_t *c)
{
    return c ? atomic_load_explicit(&c->gen, memory_order_acquire) : 0;
}

void mw_api_readcache_invalidate(mw_api_readcache_t *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->gen, 1, memory_order_acq_rel);
}

int mw_api_readcache_key(const struct mw_threat_query *q, char *key, size_t keylen)
{
    int n =
        snprintf(key, keylen, "s=%d;m=%d;st=%d;t=%" PRId64 ";c=%" PRIu64 ";l=%" PRIu32 ";h=%c%s",
                 q->severity, q->max_severity, q->status, q->since_ns, q->cursor, q->limit,
                 q->host ? '1' : '0', q->host ? q->host : "");
    return (n < 0 || (size_t)n >= keylen) ? MW_ETOOBIG : 0;
}

const char *mw_api_readcache_body_text(const struct mw_readcache_body *b, size_t *len)
{
    *len = b->len;
    return b->text;
}

struct mw_readcache_body *mw_api_readcache_get(mw_api_readcache_t *c, const char *key)
{
    struct mw_readcache_body *b = NULL;
    if (c == NULL)
        return NULL;
    uint64_t gen = atomic_load_explicit(&c->gen, memory_order_acquire);
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < MW_READCACHE_ENTRIES; i++) {
        struct slot *s = &c->slot[i];
        if (s->body == NULL || s->gen != gen || strcmp(s->key, key) != 0)
            continue;
        s->used = ++c->tick;
        b = s->body;
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        break;
    }
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add_explicit(b ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return b;
}

void mw_api_readcache_put(mw_api_readcache_t *c, const char *key, uint64_t gen, const char *text,
                          size_t len)
{
    size_t klen;
    if (c == NULL || (klen = strlen(key)) >= MW_READCACHE_KEY_MAX)
        return;
    if (len > MW_READCACHE_ANSWER_MAX) {
        atomic_fetch_add_explicit(&c->too_big, 1, memory_order_relaxed);
        return;
    }
    struct mw_readcache_body *b = malloc(sizeof *b + len);
    if (b == NULL)
        return;
    atomic_init(&b->refs, 1);
    b->len = len;
    memcpy(b->text, text, len);

    pthread_mutex_lock(&c->mu);
    uint64_t now = atomic_load_explicit(&c->gen, memory_order_acquire);
    if (gen != now) { /* a change landed while this answer was read: stale */
        pthread_mutex_unlock(&c->mu);
        mw_api_readcache_body_put(b);
        return;
    }
    /* Drop every stale entry, and an older copy of this key. */
    struct slot *dst = NULL;
    for (size_t i = 0; i < MW_READCACHE_ENTRIES; i++) {
        struct slot *s = &c->slot[i];
        if (s->body && (s->gen != now || strcmp(s->key, key) == 0))
            slot_clear(c, s);
        if (s->body == NULL && dst == NULL)
            dst = s;
    }
    /* Evict the least recently used until there is a slot and room. */
    while (dst == NULL || c->bytes + len > MW_READCACHE_BYTES_MAX) {
        struct slot *lru = NULL;
        for (size_t i = 0; i < MW_READCACHE_ENTRIES; i++) {
            struct slot *s = &c->slot[i];
            if (s->body && (lru == NULL || s->used < lru->used))
                lru = s;
        }
        if (lru == NULL)
            break; /* empty: len <= MW_READCACHE_ANSWER_MAX <= BYTES_MAX fits */
        slot_clear(c, lru);
        atomic_fetch_add_explicit(&c->evictions, 1, memory_order_relaxed);
        if (dst == NULL)
            dst = lru;
    }
    memcpy(dst->key, key, klen + 1);
    dst->gen = now;
    dst->used = ++c->tick;
    dst->body = b;
    c->bytes += len;
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add_explicit(&c->stores, 1, memory_order_relaxed);
}

void mw_api_readcache_stats(mw_api_readcache_t *c, struct mw_readcache_stats *st)
{
    memset(st, 0, sizeof *st);
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < MW_READCACHE_ENTRIES; i++)
        st->entries += c->slot[i].body != NULL;
    st->bytes = c->bytes;
    pthread_mutex_unlock(&c->mu);
    st->generation = atomic_load(&c->gen);
    st->hits = atomic_load(&c->hits);
    st->misses = atomic_load(&c->misses);
    st->stores = atomic_load(&c->stores);
    st->evictions = atomic_load(&c->evictions);
    st->too_big = atomic_load(&c->too_big);
}

char *mw_api_readcache_metrics(mw_api_readcache_t *c)
{
    struct mw_readcache_stats st;
    char *out = malloc(1024);
    if (out == NULL)
        return NULL;
    mw_api_readcache_stats(c, &st);
    snprintf(out, 1024,
             "# HELP mwrasp_api_readcache_hits_total GET /api/v1/threats answers served from the "
             "read cache\n# TYPE mwrasp_api_readcache_hits_total counter\n"
             "mwrasp_api_readcache_hits_total %" PRIu64 "\n"
             "# HELP mwrasp_api_readcache_misses_total GET /api/v1/threats answers read from the "
             "store\n# TYPE mwrasp_api_readcache_misses_total counter\n"
             "mwrasp_api_readcache_misses_total %" PRIu64 "\n"
             "# HELP mwrasp_api_readcache_evictions_total Read cache entries evicted for room\n"
             "# TYPE mwrasp_api_readcache_evictions_total counter\n"
             "mwrasp_api_readcache_evictions_total %" PRIu64 "\n"
             "# HELP mwrasp_api_readcache_entries Read cache entries held\n"
             "# TYPE mwrasp_api_readcache_entries gauge\n"
             "mwrasp_api_readcache_entries %" PRIu64 "\n"
             "# HELP mwrasp_api_readcache_bytes Bytes of answers held by the read cache\n"
             "# TYPE mwrasp_api_readcache_bytes gauge\n"
             "mwrasp_api_readcache_bytes %" PRIu64 "\n",
             st.hits, st.misses, st.evictions, st.entries, st.bytes);
    return out;
}
