/* The event model: events with an arena of chunks (pointers never move),
 * the process-wide key intern table, hashing, time and UTF-8 helpers. */
#include "mwrasp/event.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mw_arena_chunk {
    struct mw_arena_chunk *next;
    size_t size;
    size_t used;
    char data[];
};

static const char *const source_names[MW_SRC__COUNT] = {
    "syslog_udp", "syslog_tcp", "json_tcp", "http", "replay", "capture",
};

const char *mw_source_name(enum mw_source s)
{
    return (unsigned)s < MW_SRC__COUNT ? source_names[s] : "unknown";
}

int mw_source_parse(const char *name, enum mw_source *out)
{
    for (int i = 0; i < MW_SRC__COUNT; i++) {
        if (strcmp(name, source_names[i]) == 0) {
            *out = (enum mw_source)i;
            return MW_OK;
        }
    }
    return MW_EINVAL;
}

uint32_t mw_hash32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* ---- arena ---- */

static struct mw_arena_chunk *chunk_new(size_t size)
{
    struct mw_arena_chunk *c = malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

/* The first chunk of an event's arena: allocated with the event, right
 * after it (mw_event_new). */
_Static_assert(sizeof(mw_event_t) % _Alignof(struct mw_arena_chunk) == 0,
               "the first chunk follows the event");
static struct mw_arena_chunk *first_chunk(mw_event_t *ev)
{
    return (struct mw_arena_chunk *)(void *)(ev + 1);
}

/* Allocates n bytes (8-aligned) from the event arena; NULL past the cap. */
static void *arena_alloc(mw_event_t *ev, size_t n)
{
    n = (n + 7u) & ~(size_t)7u;
    if (n > MW_EVENT_MAX_BYTES || ev->arena_used_total + n > MW_EVENT_MAX_BYTES)
        return NULL;
    struct mw_arena_chunk *c = ev->arena_head;
    if (!c || c->size - c->used < n) {
        size_t sz = c ? c->size * 2 : 1024;
        if (sz < n)
            sz = n;
        if (sz > MW_EVENT_MAX_BYTES)
            sz = MW_EVENT_MAX_BYTES;
        struct mw_arena_chunk *nc = chunk_new(sz);
        if (!nc)
            return NULL;
        nc->next = c;
        ev->arena_head = nc;
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    ev->arena_used_total += n;
    return p;
}

char *mw_event_strdup(mw_event_t *ev, const char *s, size_t len)
{
    if (len >= MW_EVENT_MAX_BYTES)
        return NULL;
    char *p = arena_alloc(ev, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

mw_event_t *mw_event_new(enum mw_source src, const char *raw, size_t raw_len)
{
    if (raw_len >= MW_EVENT_MAX_BYTES || (unsigned)src >= MW_SRC__COUNT)
        return NULL;
    /* One allocation for the event and its first arena chunk (sized for
     * the raw copy plus room for typical fields), which sits right after
     * the event: mw_event_free frees every chunk but that one. */
    size_t first = raw_len * 2 + 512;
    mw_event_t *ev = malloc(sizeof *ev + sizeof(struct mw_arena_chunk) + first);
    if (!ev)
        return NULL;
    memset(ev, 0, sizeof *ev);
    ev->source = src;
    ev->host = "";
    ev->category = "";
    ev->fields = ev->fields_inline;
    ev->fields_cap = sizeof ev->fields_inline / sizeof ev->fields_inline[0];
    struct mw_arena_chunk *c0 = first_chunk(ev);
    c0->next = NULL;
    c0->size = first;
    c0->used = 0;
    ev->arena_head = c0;
    char *r = mw_event_strdup(ev, raw ? raw : "", raw ? raw_len : 0);
    if (!r) {
        mw_event_free(ev);
        return NULL;
    }
    ev->raw = r;
    ev->raw_len = (uint32_t)(raw ? raw_len : 0);
    ev->ingest_ns = mw_now_realtime_ns();
    ev->ts_ns = ev->ingest_ns;
    ev->mono_ns = mw_now_mono_ns();
    return ev;
}

void mw_event_free(mw_event_t *ev)
{
    if (!ev)
        return;
    struct mw_arena_chunk *c = ev->arena_head, *c0 = first_chunk(ev);
    while (c) {
        struct mw_arena_chunk *n = c->next;
        if (c != c0) /* the first one is part of ev's allocation */
            free(c);
        c = n;
    }
    if (ev->fields != ev->fields_inline)
        free(ev->fields);
    free(ev->dets);
    free(ev);
}

int mw_event_set_host(mw_event_t *ev, const char *host, size_t len)
{
    if (len > MW_EVENT_HOST_MAX)
        return MW_ETOOBIG;
    char *h = mw_event_strdup(ev, host, len);
    if (!h)
        return MW_ENOMEM;
    ev->host = h;
    ev->host_hash = mw_hash32(h, len);
    return MW_OK;
}

int mw_event_set_category(mw_event_t *ev, const char *cat, size_t len)
{
    if (len > MW_EVENT_CATEGORY_MAX)
        return MW_ETOOBIG;
    char *c = mw_event_strdup(ev, cat, len);
    if (!c)
        return MW_ENOMEM;
    ev->category = c;
    return MW_OK;
}

/* mw_event_add_field, and mw_event_add_field_interned when ikey is set (an
 * interned copy of key[0..klen)). */
static inline __attribute__((always_inline)) int add_field(mw_event_t *ev, const char *ikey,
                                                           const char *key, size_t klen,
                                                           const char *val, size_t vlen)
{
    if (!key || klen == 0)
        return MW_EINVAL;
    if (ev->nfields >= MW_EVENT_MAX_FIELDS)
        return MW_ELIMIT;
    if (klen >= MW_EVENT_MAX_BYTES || vlen >= MW_EVENT_MAX_BYTES)
        return MW_ETOOBIG;
    if (ev->nfields == ev->fields_cap) {
        uint32_t ncap = ev->fields_cap * 2;
        if (ncap > MW_EVENT_MAX_FIELDS)
            ncap = MW_EVENT_MAX_FIELDS;
        mw_field_t *nf = malloc(ncap * sizeof *nf);
        if (!nf)
            return MW_ENOMEM;
        memcpy(nf, ev->fields, ev->nfields * sizeof *nf);
        if (ev->fields != ev->fields_inline)
            free(ev->fields);
        ev->fields = nf;
        ev->fields_cap = ncap;
    }
    size_t mark_used = ev->arena_head ? ev->arena_head->used : 0;
    size_t mark_total = ev->arena_used_total;
    struct mw_arena_chunk *mark_head = ev->arena_head;
    const char *k = ikey ? ikey : mw_intern(key, klen);
    int copied = !k;
    if (!k) {
        k = mw_event_strdup(ev, key, klen);
        if (!k)
            return MW_ETOOBIG;
    }
    const char *v = mw_event_strdup(ev, val ? val : "", val ? vlen : 0);
    if (!v) {
        /* Leave the event as it was: give back what the key took, if it is
         * still the newest allocation of the same chunk. */
        if (ev->arena_head == mark_head && mark_head) {
            mark_head->used = mark_used;
            ev->arena_used_total = mark_total;
        }
        return MW_ETOOBIG;
    }
    ev->keys_copied += (uint32_t)copied;
    mw_field_t *f = &ev->fields[ev->nfields++];
    f->key = k;
    f->key_len = (uint32_t)klen;
    f->val = v;
    f->val_len = (uint32_t)(val ? vlen : 0);
    return MW_OK;
}

int mw_event_add_field(mw_event_t *ev, const char *key, size_t klen, const char *val, size_t vlen)
{
    return add_field(ev, NULL, key, klen, val, vlen);
}

int mw_event_add_field_interned(mw_event_t *ev, const char *ikey, size_t klen, const char *val,
                                size_t vlen)
{
    return add_field(ev, ikey, ikey, klen, val, vlen);
}

const mw_field_t *mw_event_field(const mw_event_t *ev, const char *key)
{
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const mw_field_t *f = &ev->fields[i];
        if (f->key == key || (f->key_len == klen && memcmp(f->key, key, klen) == 0))
            return f;
    }
    return NULL;
}

const char *mw_event_get(const mw_event_t *ev, const char *key)
{
    const mw_field_t *f = mw_event_field(ev, key);
    return f ? f->val : NULL;
}

/* ---- intern table ----
 * Open addressing, 2x MW_INTERN_MAX slots. Readers are lock-free (acquire
 * loads of published entries); inserts take a mutex. Entries live until
 * process exit (they are few and small: at most 64 Ki keys of <= 255 bytes). */

#define INTERN_SLOTS (MW_INTERN_MAX * 2)
struct intern_entry {
    uint32_t hash;
    uint32_t len;
    char s[];
};
static _Atomic(struct intern_entry *) g_intern[INTERN_SLOTS];
static pthread_mutex_t g_intern_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_intern_count;

/* Hash of a key for the intern table: 8 bytes at a time (field names are
 * hashed for every field of every event), finished with the MurmurHash3
 * 64-bit finalizer, and seeded per process so that the probe sequences of
 * this capped table cannot be precomputed from outside. */
static uint64_t g_intern_seed;
static pthread_once_t g_intern_once = PTHREAD_ONCE_INIT;

static void intern_seed_init(void)
{
    uint64_t s = 0;
    FILE *fp = fopen("/dev/urandom", "rb");
    if (fp) {
        if (fread(&s, sizeof s, 1, fp) != 1)
            s = 0;
        fclose(fp);
    }
    g_intern_seed = s ^ (uint64_t)mw_now_mono_ns() ^ 0x9E3779B97F4A7C15ULL;
}

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static uint32_t intern_hash(const char *key, size_t len)
{
    uint64_t h = g_intern_seed ^ ((uint64_t)len * 0x9E3779B97F4A7C15ULL);
    size_t i = 0;
    uint64_t w;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, key + i, 8);
        h = fmix64(h ^ w);
    }
    if (i < len) {
        /* The tail by fixed-size loads (a variable-length memcpy into w
         * made the load after it wait on a failed store forward): the
         * last eight bytes of the key when it has eight, else two
         * overlapping four-byte loads, else three of its bytes. Equal keys
         * give equal words; the length is in the seed. */
        if (len >= 8) {
            memcpy(&w, key + len - 8, 8);
        } else if (len >= 4) {
            uint32_t a, b;
            memcpy(&a, key, 4);
            memcpy(&b, key + len - 4, 4);
            w = (uint64_t)a | (uint64_t)b << 32;
        } else {
            const unsigned char *u = (const unsigned char *)key;
            w = (uint64_t)u[0] | (uint64_t)u[len / 2] << 8 | (uint64_t)u[len - 1] << 16;
        }
        h = fmix64(h ^ w ^ 0x1);
    }
    return (uint32_t)(h ^ (h >> 32));
}

/* Per-thread front cache of the intern table: the keys this thread interned
 * last, direct-mapped by their length and first and last eight bytes (an
 * unseeded index is harmless here: a collision only sends the lookup on to
 * the table). Entries point at interned strings, which live until exit.
 * Saves the seeded hash and the probe of the shared table (a cache miss on
 * most lookups) for the few dozen keys an event source repeats. */
#define INTERN_FRONT 1024
struct intern_front {
    const char *s;
    size_t len;
};
static _Thread_local struct intern_front tl_front[INTERN_FRONT];

/* Two words of key[0..len), 1 <= len <= 255: its first and last eight
 * bytes (overlapping when len < 16), or for len < 8 its bytes in a and 0
 * in b. Equal keys give equal words. */
static void key_words(const char *key, size_t len, uint64_t *a, uint64_t *b)
{
    if (len >= 8) {
        memcpy(a, key, 8);
        memcpy(b, key + len - 8, 8);
        return;
    }
    uint64_t w = 0;
    if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, key, 4);
        memcpy(&y, key + len - 4, 4);
        w = (uint64_t)x | (uint64_t)y << 32;
    } else {
        const unsigned char *u = (const unsigned char *)key;
        w = (uint64_t)u[0] | (uint64_t)u[len / 2] << 8 | (uint64_t)u[len - 1] << 16;
    }
    *a = w;
    *b = 0;
}

static struct intern_front *front_slot(const char *key, size_t len)
{
    uint64_t a, b;
    key_words(key, len, &a, &b);
    uint64_t h = (a ^ (b + len) * 0x9E3779B97F4A7C15ULL) * 0xff51afd7ed558ccdULL;
    return &tl_front[h >> 54]; /* INTERN_FRONT == 1024 */
}

static const char *intern_table(const char *key, size_t len);

const char *mw_intern(const char *key, size_t len)
{
    if (len == 0 || len > 255)
        return NULL;
    struct intern_front *f = front_slot(key, len);
    if (f->len == len && memcmp(f->s, key, len) == 0)
        return f->s;
    const char *res = intern_table(key, len);
    if (res) {
        f->s = res;
        f->len = len;
    }
    return res;
}

static const char *intern_table(const char *key, size_t len)
{
    pthread_once(&g_intern_once, intern_seed_init);
    uint32_t h = intern_hash(key, len);
    size_t i = h & (INTERN_SLOTS - 1);
    for (size_t probes = 0; probes < INTERN_SLOTS; probes++) {
        struct intern_entry *e = atomic_load_explicit(&g_intern[i], memory_order_acquire);
        if (!e)
            break;
        if (e->hash == h && e->len == len && memcmp(e->s, key, len) == 0)
            return e->s;
        i = (i + 1) & (INTERN_SLOTS - 1);
    }
    /* Not found: insert under the lock, re-probing from the empty slot on. */
    const char *res = NULL;
    pthread_mutex_lock(&g_intern_mu);
    for (size_t probes = 0; probes < INTERN_SLOTS; probes++) {
        struct intern_entry *e = atomic_load_explicit(&g_intern[i], memory_order_acquire);
        if (!e) {
            if (g_intern_count >= MW_INTERN_MAX)
                break;
            struct intern_entry *ne = malloc(sizeof *ne + len + 1);
            if (!ne)
                break;
            ne->hash = h;
            ne->len = (uint32_t)len;
            memcpy(ne->s, key, len);
            ne->s[len] = '\0';
            atomic_store_explicit(&g_intern[i], ne, memory_order_release);
            g_intern_count++;
            res = ne->s;
            break;
        }
        if (e->hash == h && e->len == len && memcmp(e->s, key, len) == 0) {
            res = e->s;
            break;
        }
        i = (i + 1) & (INTERN_SLOTS - 1);
    }
    pthread_mutex_unlock(&g_intern_mu);
    return res;
}

/* ---- time ---- */

int64_t mw_now_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint64_t mw_now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int64_t mw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t len, size_t pos, size_t n, int *out)
{
    if (pos + n > len)
        return 0;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[pos + i];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 1;
}

int mw_time_parse_rfc3339(const char *s, size_t len, int64_t *out_ns)
{
    int Y, M, D, h, m, sec;
    if (!digits(s, len, 0, 4, &Y) || len < 19 || s[4] != '-' || !digits(s, len, 5, 2, &M) ||
        s[7] != '-' || !digits(s, len, 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, len, 11, 2, &h) ||
        s[13] != ':' || !digits(s, len, 14, 2, &m) || s[16] != ':' || !digits(s, len, 17, 2, &sec))
        return MW_EPARSE;
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
        return MW_EPARSE;
    if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
        return MW_EPARSE;
    size_t p = 19;
    int64_t frac = 0;
    if (p < len && s[p] == '.') {
        p++;
        size_t nd = 0;
        while (p < len && s[p] >= '0' && s[p] <= '9') {
            if (nd < 9) {
                frac = frac * 10 + (s[p] - '0');
                nd++;
            }
            p++;
        }
        if (nd == 0)
            return MW_EPARSE;
        while (nd < 9) {
            frac *= 10;
            nd++;
        }
    }
    int64_t off = 0;
    if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        int oh, om;
        if (!digits(s, len, p + 1, 2, &oh) || p + 3 >= len || s[p + 3] != ':' ||
            !digits(s, len, p + 4, 2, &om) || oh > 23 || om > 59)
            return MW_EPARSE;
        off = (int64_t)(oh * 60 + om) * 60;
        if (s[p] == '-')
            off = -off;
        p += 6;
    } else {
        return MW_EPARSE;
    }
    if (p != len)
        return MW_EPARSE;
    int64_t secs = mw_days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 +
                   (sec == 60 ? 59 : sec) - off;
    /* int64 ns covers 1677-09-21 .. 2262-04-11; refuse what does not fit. */
    if (secs >= INT64_MAX / 1000000000LL || secs <= INT64_MIN / 1000000000LL)
        return MW_EPARSE;
    *out_ns = secs * 1000000000LL + frac;
    return MW_OK;
}

void mw_time_format_rfc3339(int64_t ns, char *buf, size_t buflen)
{
    int64_t secs = ns / 1000000000LL;
    int64_t rem = ns % 1000000000LL;
    if (rem < 0) {
        rem += 1000000000LL;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
}

/* ---- UTF-8 ---- */

int mw_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + n >= len) /* continuation bytes i+1..i+n must exist */
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}
