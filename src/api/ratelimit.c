/* Token-bucket rate limits for the HTTP API (issue 6 item 2).
 *
 * One bucket per (kind, id): kind MW_RATE_ADDRESS is keyed by the client
 * address, MW_RATE_KEY by the authenticated identity (API key id or JWT
 * sub). A bucket holds at most `burst` tokens and refills continuously at
 * `per_min` tokens per minute; a request takes one token or is refused with
 * 429 and a Retry-After (RFC 6585 section 4, RFC 9110 section 10.2.3).
 *
 * Exactness: tokens are counted in micro-tokens (MW_RATE_MICRO per request)
 * and the refill is integer arithmetic with its remainder carried over:
 * elapsed_ns * per_min micro-tokens arrive per 60,000 ns-units, so
 * add = (elapsed_ns * per_min + frac) / 60000 and frac keeps the rest. No
 * rounding is ever lost, however often the bucket is looked at. The caps
 * MW_RATE_MAX_PER_MIN and MW_RATE_MAX_BURST keep every product below 2^63.
 *
 * The table of buckets is split into MW_RATE_SHARDS shards, each with its
 * own mutex, chained hash table and LRU list; a shard holds at most
 * ceil(max_clients / shards) buckets and evicts its least recently used one
 * to make room. An evicted bucket comes back full, which is what it would
 * have been after being idle long enough. Hash: SipHash-2-4 (Aumasson and
 * Bernstein, 2012) under a random key, so that clients cannot choose ids
 * that collide. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/api_int.h"

#define NS_PER_MIN_UNITS 60000ULL /* 60e9 ns / 1e6 micro-tokens */

struct rl_entry {
    struct rl_entry *hnext; /* hash chain */
    struct rl_entry *prev, *next; /* LRU: head = most recent */
    uint64_t h;
    uint64_t tokens; /* micro-tokens */
    uint64_t last_ns; /* time of the last refill */
    uint32_t frac; /* refill remainder, < NS_PER_MIN_UNITS */
    uint8_t kind;
    uint8_t idlen;
    char id[]; /* idlen bytes + NUL */
};

struct rl_shard {
    pthread_mutex_t mu;
    struct rl_entry **heads;
    size_t nheads; /* power of two */
    struct rl_entry *lru_head, *lru_tail;
    size_t count, cap;
};

struct mw_ratelimit {
    struct rl_shard shards[MW_RATE_SHARDS];
    uint64_t k0, k1; /* SipHash key */
    _Atomic uint64_t evicted;
    _Atomic uint64_t limited[MW_RATE__KINDS];
    _Atomic uint64_t allowed[MW_RATE__KINDS];
};

/* ---- SipHash-2-4 --------------------------------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t load_le64(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint64_t mw_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    size_t full = len & ~(size_t)7;

    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(p + i, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = ((uint64_t)len << 56) | load_le64(p + full, len - full);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- specs --------------------------------------------------------------- */

/* Reads a decimal number 1..max at *s, moving *s past it. */
static int read_num(const char **s, uint64_t max, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return MW_EINVAL;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return MW_EINVAL;
        p++;
    }
    if (v == 0)
        return MW_EINVAL;
    *s = p;
    *out = v;
    return 0;
}

int mw_rate_parse(const char *text, struct mw_rate_spec *out)
{
    const char *p = text;
    uint64_t n, burst, per_min;

    if (text == NULL)
        return MW_EINVAL;
    while (*p == ' ')
        p++;
    if (strcmp(p, "off") == 0) {
        out->per_min = 0;
        out->burst = 0;
        return 0;
    }
    if (read_num(&p, MW_RATE_MAX_PER_MIN, &n) != 0)
        return MW_EINVAL;
    while (*p == ' ')
        p++;
    if (strncmp(p, "/min", 4) == 0) {
        per_min = n;
        p += 4;
    } else if (strncmp(p, "/s", 2) == 0) {
        per_min = n * 60;
        p += 2;
    } else {
        return MW_EINVAL;
    }
    if (per_min > MW_RATE_MAX_PER_MIN)
        return MW_EINVAL;
    burst = per_min < MW_RATE_MAX_BURST ? per_min : MW_RATE_MAX_BURST;
    if (*p != ' ' && *p != '\0')
        return MW_EINVAL;
    while (*p == ' ')
        p++;
    if (strncmp(p, "burst", 5) == 0) {
        p += 5;
        if (*p != ' ')
            return MW_EINVAL;
        while (*p == ' ')
            p++;
        if (read_num(&p, MW_RATE_MAX_BURST, &burst) != 0)
            return MW_EINVAL;
        while (*p == ' ')
            p++;
    }
    if (*p != '\0')
        return MW_EINVAL;
    out->per_min = (uint32_t)per_min;
    out->burst = (uint32_t)burst;
    return 0;
}

/* ---- the table ------------------------------------------------------------ */

int mw_ratelimit_new(uint32_t max_clients, mw_ratelimit_t **out)
{
    struct mw_ratelimit *rl;
    uint64_t key[2];
    size_t cap;

    if (out == NULL || max_clients == 0)
        return MW_EINVAL;
    rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return MW_ENOMEM;
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
        free(rl);
        return MW_EIO;
    }
    rl->k0 = key[0];
    rl->k1 = key[1];
    cap = (max_clients + MW_RATE_SHARDS - 1) / MW_RATE_SHARDS;
    for (int i = 0; i < MW_RATE_SHARDS; i++) {
        struct rl_shard *s = &rl->shards[i];
        size_t nh = 16;
        while (nh < cap && nh < (1u << 20))
            nh <<= 1;
        s->heads = calloc(nh, sizeof(*s->heads));
        if (s->heads == NULL) {
            for (int j = 0; j < i; j++) {
                pthread_mutex_destroy(&rl->shards[j].mu);
                free(rl->shards[j].heads);
            }
            free(rl);
            return MW_ENOMEM;
        }
        s->nheads = nh;
        s->cap = cap;
        pthread_mutex_init(&s->mu, NULL);
    }
    *out = rl;
    return 0;
}

void mw_ratelimit_free(mw_ratelimit_t *rl)
{
    if (rl == NULL)
        return;
    for (int i = 0; i < MW_RATE_SHARDS; i++) {
        struct rl_shard *s = &rl->shards[i];
        struct rl_entry *e = s->lru_head;
        while (e) {
            struct rl_entry *n = e->next;
            free(e);
            e = n;
        }
        free(s->heads);
        pthread_mutex_destroy(&s->mu);
    }
    free(rl);
}

static void lru_unlink(struct rl_shard *s, struct rl_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct rl_shard *s, struct rl_entry *e)
{
    e->prev = NULL;
    e->next = s->lru_head;
    if (s->lru_head)
        s->lru_head->prev = e;
    s->lru_head = e;
    if (s->lru_tail == NULL)
        s->lru_tail = e;
}

static void evict_tail(struct rl_shard *s)
{
    struct rl_entry *e = s->lru_tail, **pp;
    if (e == NULL)
        return;
    lru_unlink(s, e);
    for (pp = &s->heads[(e->h >> 4) & (s->nheads - 1)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    }
    s->count--;
    free(e);
}

/* Brings e's tokens up to date at now_ns (see the file comment). */
static void refill(struct rl_entry *e, const struct mw_rate_spec *spec, uint64_t now_ns)
{
    uint64_t full = (uint64_t)spec->burst * MW_RATE_MICRO;
    uint64_t elapsed = now_ns > e->last_ns ? now_ns - e->last_ns : 0;

    e->last_ns = now_ns > e->last_ns ? now_ns : e->last_ns;
    if (e->tokens >= full) {
        e->tokens = full;
        e->frac = 0;
        return;
    }
    /* Time to fill up: ceil(((full - tokens) * 60000 - frac) / per_min). */
    uint64_t units = (full - e->tokens) * NS_PER_MIN_UNITS - e->frac;
    uint64_t fill_ns = (units + spec->per_min - 1) / spec->per_min;
    if (elapsed >= fill_ns) {
        e->tokens = full;
        e->frac = 0;
        return;
    }
    uint64_t acc = elapsed * spec->per_min + e->frac;
    e->tokens += acc / NS_PER_MIN_UNITS;
    e->frac = (uint32_t)(acc % NS_PER_MIN_UNITS);
}

int mw_ratelimit_take(mw_ratelimit_t *rl, enum mw_rate_kind kind, const char *id,
                      const struct mw_rate_spec *spec, uint64_t now_ns, uint32_t *retry_after_s)
{
    char idbuf[MW_RATE_ID_MAX + 1];
    size_t idlen;
    struct rl_shard *s;
    struct rl_entry *e, **head;
    uint64_t h;
    int ok;

    if (rl == NULL || spec == NULL || spec->per_min == 0 || (unsigned)kind >= MW_RATE__KINDS)
        return 1;
    if (id == NULL)
        id = "";
    idlen = strlen(id);
    if (idlen > MW_RATE_ID_MAX) {
        /* A long id keeps its start and gets a keyed hash of the whole. */
        snprintf(idbuf, sizeof(idbuf), "%.*s#%016llx", MW_RATE_ID_MAX - 17, id,
                 (unsigned long long)mw_siphash24(rl->k0, rl->k1, id, idlen));
        id = idbuf;
        idlen = strlen(idbuf);
    }
    h = mw_siphash24(rl->k0, rl->k1, id, idlen) ^ (uint64_t)kind;
    s = &rl->shards[h & (MW_RATE_SHARDS - 1)];
    pthread_mutex_lock(&s->mu);
    head = &s->heads[(h >> 4) & (s->nheads - 1)];
    for (e = *head; e; e = e->hnext)
        if (e->h == h && e->kind == kind && e->idlen == idlen && memcmp(e->id, id, idlen) == 0)
            break;
    if (e == NULL) {
        if (s->count >= s->cap) {
            evict_tail(s);
            atomic_fetch_add_explicit(&rl->evicted, 1, memory_order_relaxed);
        }
        e = malloc(sizeof(*e) + idlen + 1);
        if (e == NULL) {
            pthread_mutex_unlock(&s->mu);
            return 1; /* fail open: out of memory is not the client's fault */
        }
        memset(e, 0, sizeof(*e));
        e->h = h;
        e->kind = (uint8_t)kind;
        e->idlen = (uint8_t)idlen;
        memcpy(e->id, id, idlen + 1);
        e->tokens = (uint64_t)spec->burst * MW_RATE_MICRO;
        e->last_ns = now_ns;
        e->hnext = *head;
        *head = e;
        s->count++;
        lru_push_front(s, e);
    } else if (s->lru_head != e) {
        lru_unlink(s, e);
        lru_push_front(s, e);
    }
    refill(e, spec, now_ns);
    ok = e->tokens >= MW_RATE_MICRO;
    if (ok) {
        e->tokens -= MW_RATE_MICRO;
    } else if (retry_after_s) {
        uint64_t units = (MW_RATE_MICRO - e->tokens) * NS_PER_MIN_UNITS - e->frac;
        uint64_t wait_ns = (units + spec->per_min - 1) / spec->per_min;
        uint64_t secs = (wait_ns + 999999999ULL) / 1000000000ULL;
        *retry_after_s = secs < 1 ? 1 : (secs > 86400 ? 86400 : (uint32_t)secs);
    }
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_add_explicit(ok ? &rl->allowed[kind] : &rl->limited[kind], 1,
                              memory_order_relaxed);
    return ok;
}

void mw_ratelimit_stats(mw_ratelimit_t *rl, struct mw_ratelimit_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (rl == NULL)
        return;
    for (int i = 0; i < MW_RATE_SHARDS; i++) {
        pthread_mutex_lock(&rl->shards[i].mu);
        st->tracked += rl->shards[i].count;
        pthread_mutex_unlock(&rl->shards[i].mu);
    }
    st->evicted = atomic_load_explicit(&rl->evicted, memory_order_relaxed);
    for (int k = 0; k < MW_RATE__KINDS; k++) {
        st->limited[k] = atomic_load_explicit(&rl->limited[k], memory_order_relaxed);
        st->allowed[k] = atomic_load_explicit(&rl->allowed[k], memory_order_relaxed);
    }
}
