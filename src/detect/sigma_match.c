/* Sigma evaluation: one event against every compiled rule.
 *
 * Per event, the event's fields are resolved once to the ruleset's field
 * slots (one hash lookup per event field). A rule is skipped at once if a
 * field its condition requires is absent. Field values are lowercased
 * lazily, at most once per event, into the scratch buffer; literals were
 * lowercased at compile time, so every comparison is a plain memcmp/memmem. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <hs/hs.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_internal.h"

struct sg_slotval {
    uint32_t gen; /* == scratch gen: present in the current event */
    uint32_t len;
    uint32_t bloom_gen; /* == gen: bloom is computed for this event */
    uint32_t hs_gen; /* == gen: the slot's literal bits (lbits) are this event's */
    uint32_t re_try; /* == gen: the slot's regex scan was tried for this event, */
    uint32_t re_gen; /* == gen: and it ran: the slot's regex bits are this event's */
    uint64_t bloom[4];
    const char *val; /* event's value */
    const char *lower; /* lowercased copy in scratch->buf, or NULL */
};

/* Cache of event field name -> slots (sg_fields_find, and where the
 * case-insensitive fallback starts), per scratch, direct-mapped by the
 * name's address: event keys are interned (mw_intern), so the same few
 * addresses come back event after event. A hit also compares the bytes
 * with the cached copy, so a name at a reused address (an arena copy when
 * the intern table is full) is never mistaken for another. Longer names
 * are looked up every time. Valid for the field table fields.uid. */
#define SG_KC_SIZE 256
#define SG_KC_KEYMAX 40
struct sg_keycache {
    const char *key;
    uint32_t len;
    int32_t exact; /* sg_fields_find, or -1 */
    int32_t ci; /* first slot of the name's case-insensitive group, or -1 */
    uint8_t need_ci; /* unknown name, or a group with other spellings */
    char copy[SG_KC_KEYMAX];
};

/* Cache of event layouts: the slots of every field of an event, for the
 * sequence of its keys. Events of one source and type (Windows: one
 * Channel and EventID) repeat a few key sequences, and while every key of
 * an event is interned (mw_event_t.keys_copied == 0) equal pointers are
 * equal keys for the life of the process, so a layout is recognised by
 * comparing pointers, without reading the names. Direct-mapped by the
 * number of fields and two of the keys; events with more than SG_LC_MAXF
 * fields, or with a copied key, use the name cache above field by field.
 * Valid for the field table fields.uid, like the name cache. */
#define SG_LC_SIZE 64 /* indexed by the top six bits of a hash */
#define SG_LC_MAXF 48
struct sg_layout {
    uint32_t nf; /* 0: empty */
    uint8_t need_ci; /* some field needs the case-insensitive pass */
    const char *keys[SG_LC_MAXF];
    int32_t exact[SG_LC_MAXF]; /* sg_fields_find of field i, or -1 */
    int32_t ci[SG_LC_MAXF]; /* first slot of its case-insensitive group, or -1 */
};

/* Slot memo: what the prefilter learnt of a value of a slot that has a
 * database, so that a value seen before is answered without redoing it:
 * the literal ids the scan reported, the rules its exact-value entries
 * marked, and the anchors of the slot already evaluated on it (true or
 * false). Windows events repeat most of their values (in the bundled
 * 15,076 events: 25 distinct Channel values, 261 EventID, 63 Provider_Name,
 * 252 Image), and a scan costs ~100-300 ns even for three bytes. Every
 * piece is a function of the value alone: a field condition reads only its
 * own field (anchors never use |fieldref, null or exists:
 * sg_compute_anchors), and the literal bits it may read are the slot's,
 * restored before any anchor is checked.
 *
 * Per scratch (one per thread, no lock), direct-mapped by a hash of (slot,
 * value); an entry keeps a copy of the value, compared in full on every
 * lookup, so a hash collision can never answer for another value (an
 * attacker choosing values can only make entries evict each other, i.e.
 * make every value computed again, as before the memo). Entries are tagged
 * with the database build (hs_id): one from another build is never used.
 * The ids are replayed through hs_hit in the order the scan reported them,
 * which sets the same bits and queues the same anchors as the scan would.
 * Values too long for an entry are computed every time; so are anchors
 * whose verdict no longer fits. */
#define SG_SM_SIZE 8192 /* entries, a power of two */
#define SG_SM_BODY 384 /* bytes per entry: the value, then 4-byte words */
#define SG_SM_REC 64 /* ids recorded during a scan; more: not kept */
#define SG_SM_EXACT 16 /* exact-value rules recorded; more: not kept */
struct sg_memo_hdr {
    uint64_t hash; /* of (slot, value) */
    uint64_t build; /* pf->hs_id of the entry; 0: empty */
    uint32_t slot;
    uint16_t len; /* value bytes; the words start at (len + 3) / 4 */
    uint8_t nids, nexact; /* words: ids, then exact rules, then */
    uint16_t nverd; /* verdicts: anchor index << 1 | holds, ascending */
};
struct sg_memo {
    struct sg_memo_hdr hdr[SG_SM_SIZE];
    uint32_t body[SG_SM_SIZE][SG_SM_BODY / 4];
};

struct mw_sigma_scratch {
    uint32_t gen;
    uint32_t nslots;
    struct sg_slotval *slots;
    char *buf;
    size_t bufcap, bufused;
    const mw_event_t *ev;
    uint32_t kw_gen; /* == gen: kwf[] holds this event's fields */
    uint32_t nkwf;
    struct sg_slotval *kwf; /* keywords: every field of the event (or raw) */
    uint64_t kw_bloom[4]; /* union of kwf[]'s bigram filters */
    pcre2_match_data *md; /* |re: one pair, made on first use */
    uint64_t *cand; /* bit per rule: the prefilter selected it (this event) */
    size_t ncand; /* words */
    uint32_t npresent;
    uint32_t *present; /* slots present in the event; nslots entries (a slot
                          is set at most once per event) */
    hs_scratch_t *hs; /* sized for the databases of the ruleset build hs_id */
    uint64_t hs_id;
    uint64_t *lbits; /* bit per literal id: the scan found it (sg_value.lit) */
    size_t nlbits; /* words */
    const struct sg_prefilter *pf; /* this event's ruleset, and */
    int use_hs; /* whether its databases are scanned for this event */
    uint32_t kwscan_gen; /* == gen: the keyword scan was tried for this event, */
    uint32_t kwlit_gen; /* == gen: and the keyword literal bits are this event's */
    uint32_t kwbloom_gen; /* == gen: kw_bloom is this event's */
    const mw_sigma_ruleset_t *rs; /* this event's ruleset */
    uint32_t ngates; /* entries of gate_gen / gate_val */
    uint32_t *gate_gen; /* == gen: gate_val[g] is gate g's value for this event */
    uint8_t *gate_val;
    struct sg_keycache *kc; /* SG_KC_SIZE entries, made on first use */
    /* anchors whose literals the running scan found (indexes into the
     * slot's other[]), confirmed once the scan is complete */
    uint32_t *pend;
    uint32_t npend, pendcap;
    uint64_t kc_uid; /* the fields.uid kc was filled under (+ 1; 0 = none) */
    struct sg_layout *lc; /* SG_LC_SIZE entries, made on first use; valid with kc */
    struct sg_memo *memo; /* made on first scan; NULL if that failed (no memo) */
    int memo_failed;
    /* the entry of the slot being prefiltered (verdicts are read and added
     * by pf_check), and its slot's anchors */
    struct sg_memo_hdr *mv;
    uint32_t *mv_words;
    uint32_t mv_room; /* words of the entry after the value */
    const struct sg_pf_other *mv_other;
};

static int lit_seen(const mw_sigma_scratch_t *sc, uint32_t lit)
{
    uint32_t id = lit - 1;
    return (int)(sc->lbits[id >> 6] >> (id & 63) & 1);
}

static const unsigned char lower_tab[256] = {
#define R(b) (unsigned char)((b) >= 'A' && (b) <= 'Z' ? (b) + 32 : (b))
#define R4(b) R(b), R(b + 1), R(b + 2), R(b + 3)
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
#define R64(b) R16(b), R16(b + 16), R16(b + 32), R16(b + 48)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R16
#undef R4
#undef R
};

/* Eight bytes at a time: in a word x, a byte gets 0x20 added when it is
 * ASCII (high bit clear) and 'A' <= byte <= 'Z'. With the high bits masked
 * off, adding 0x3f (0x80 - 'A') or 0x25 (0x7f - 'Z') to a byte carries into
 * its own high bit only, never into the next byte. */
void sg_lower(char *dst, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *d = (unsigned char *)dst;
    size_t i = 0;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; n - i >= 8; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t h = x & ~highs; /* low seven bits of each byte */
        uint64_t ge_a = h + ones * 0x3f; /* high bit: byte & 0x7f >= 'A' */
        uint64_t gt_z = h + ones * 0x25; /* high bit: byte & 0x7f > 'Z' */
        uint64_t upper = ge_a & ~gt_z & ~x & highs;
        x |= upper >> 2;
        memcpy(d + i, &x, 8);
    }
    for (; i < n; i++)
        d[i] = lower_tab[s[i]];
}

static inline unsigned bloom_bit(unsigned a, unsigned b)
{
    return (a * 0x9du ^ b * 0x3bu) & 255u;
}

/* The four words are kept in locals (no read-modify-write of out[] per
 * byte), and each pair's bit goes into all four under a mask: written as
 * "q == 0 ? bit : 0" gcc made it branches, which the random word number
 * mispredicted about half the time (~8 ns per byte on long fields). */
void sg_bloom(const char *s, size_t n, uint64_t out[4])
{
    const unsigned char *u = (const unsigned char *)s;
#if defined(__SSE2__)
    /* One byte per bit, set by independent stores (a word per bit would
     * chain each update on the previous one), then packed sixteen at a
     * time. */
    unsigned char m[256] __attribute__((aligned(16)));
    memset(m, 0, sizeof m);
    for (size_t i = 0; i + 1 < n; i++)
        m[bloom_bit(u[i], u[i + 1])] = 0x80;
    for (int k = 0; k < 4; k++) {
        uint64_t w = 0;
        for (int j = 0; j < 4; j++) {
            __m128i v = _mm_load_si128((const __m128i *)(const void *)(m + k * 64 + j * 16));
            w |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << (j * 16);
        }
        out[k] = w;
    }
#else
    uint64_t b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned h = bloom_bit(u[i], u[i + 1]);
        uint64_t bit = 1ull << (h & 63);
        uint64_t q = h >> 6;
        b0 |= bit & (0 - (uint64_t)(q == 0));
        b1 |= bit & (0 - (uint64_t)(q == 1));
        b2 |= bit & (0 - (uint64_t)(q == 2));
        b3 |= bit & (0 - (uint64_t)(q == 3));
    }
    out[0] = b0;
    out[1] = b1;
    out[2] = b2;
    out[3] = b3;
#endif
}

void sg_bloom_glob(const char *s, const uint8_t *kinds, size_t n, uint64_t out[4])
{
    const unsigned char *u = (const unsigned char *)s;
    out[0] = out[1] = out[2] = out[3] = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (kinds[i] != SG_K_LIT || kinds[i + 1] != SG_K_LIT)
            continue;
        unsigned h = bloom_bit(lower_tab[u[i]], lower_tab[u[i + 1]]);
        out[h >> 6] |= 1ull << (h & 63);
    }
}

int mw_sigma_scratch_new(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t **out)
{
    if (!out)
        return MW_EINVAL;
    mw_sigma_scratch_t *s = calloc(1, sizeof(*s));
    if (!s)
        return MW_ENOMEM;
    uint32_t n = rs && rs->fields.n ? rs->fields.n : 16;
    s->slots = calloc(n, sizeof(*s->slots));
    s->present = calloc(n, sizeof(*s->present));
    if (!s->slots || !s->present) {
        free(s->slots);
        free(s->present);
        free(s);
        return MW_ENOMEM;
    }
    s->nslots = n;
    *out = s;
    return 0;
}

void mw_sigma_scratch_free(mw_sigma_scratch_t *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s->present);
    free(s->buf);
    free(s->cand);
    free(s->kwf);
    free(s->lbits);
    free(s->gate_gen);
    free(s->gate_val);
    free(s->kc);
    free(s->lc);
    free(s->pend);
    free(s->memo);
    pcre2_match_data_free(s->md);
    hs_free_scratch(s->hs);
    free(s);
}

/* Gives slot s the value of event field f for this event; returns the
 * scratch bytes its lowercased copy may need. */
static size_t slot_set(mw_sigma_scratch_t *sc, int32_t s, const mw_field_t *f)
{
    struct sg_slotval *sv = &sc->slots[s];
    sv->gen = sc->gen;
    sv->len = f->val_len;
    sv->val = f->val;
    sv->lower = NULL;
    sc->present[sc->npresent++] = (uint32_t)s; /* < nslots: s set once per event */
    return (size_t)f->val_len + 1;
}

/* The slots of event field name f->key (exact, case-insensitive group,
 * whether the second pass needs it), from the cache when it can. */
static void key_slots(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *sc, const mw_field_t *f,
                      int32_t *exact, int32_t *ci, int *need_ci)
{
    const struct sg_fields *fs = &rs->fields;
    struct sg_keycache *e = NULL;
    if (sc->kc && f->key_len <= SG_KC_KEYMAX) {
        uintptr_t p = (uintptr_t)f->key;
        e = &sc->kc[(p >> 4 ^ p >> 12) & (SG_KC_SIZE - 1)];
        if (e->key == f->key && e->len == f->key_len && memcmp(e->copy, f->key, f->key_len) == 0) {
            *exact = e->exact;
            *ci = e->ci;
            *need_ci = e->need_ci;
            return;
        }
    }
    int32_t s = sg_fields_find(fs, f->key, f->key_len);
    int n = s < 0 || fs->ci_head[s] != s || fs->ci_next[s] >= 0;
    int32_t c = s >= 0 ? fs->ci_head[s] : n ? sg_fields_find_ci(fs, f->key, f->key_len) : -1;
    *exact = s;
    *ci = c;
    *need_ci = n;
    if (e) {
        e->key = f->key;
        e->len = f->key_len;
        e->exact = s;
        e->ci = c;
        e->need_ci = (uint8_t)n;
        memcpy(e->copy, f->key, f->key_len);
    }
}

static int scratch_prepare(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *sc,
                           const mw_event_t *ev)
{
    if (rs->fields.n > sc->nslots) {
        struct sg_slotval *ns = realloc(sc->slots, rs->fields.n * sizeof(*ns));
        if (!ns)
            return MW_ENOMEM;
        memset(ns + sc->nslots, 0, (rs->fields.n - sc->nslots) * sizeof(*ns));
        sc->slots = ns;
        uint32_t *np = realloc(sc->present, rs->fields.n * sizeof(*np));
        if (!np)
            return MW_ENOMEM;
        sc->present = np;
        sc->nslots = rs->fields.n;
    }
    size_t nw = (rs->nrules + 63) / 64;
    if (nw > sc->ncand) {
        uint64_t *nc = realloc(sc->cand, nw * sizeof(*nc));
        if (!nc)
            return MW_ENOMEM;
        sc->cand = nc;
        sc->ncand = nw;
    }
    if (nw) /* no rules: cand may be NULL */
        memset(sc->cand, 0, nw * sizeof(*sc->cand));
    if (rs->ngates > sc->ngates) {
        uint32_t *gg = calloc(rs->ngates, sizeof(*gg));
        uint8_t *gv = calloc(rs->ngates, sizeof(*gv));
        if (!gg || !gv) {
            free(gg);
            free(gv);
            return MW_ENOMEM;
        }
        free(sc->gate_gen);
        free(sc->gate_val);
        sc->gate_gen = gg;
        sc->gate_val = gv;
        sc->ngates = rs->ngates;
    }
    if (++sc->gen == 0) {
        sc->kw_gen = sc->kwscan_gen = sc->kwlit_gen = sc->kwbloom_gen = 0;
        for (uint32_t i = 0; i < sc->nslots; i++)
            sc->slots[i].gen = sc->slots[i].bloom_gen = sc->slots[i].hs_gen = sc->slots[i].re_try =
                sc->slots[i].re_gen = 0;
        for (uint32_t g = 0; g < sc->ngates; g++)
            sc->gate_gen[g] = 0;
        sc->gen = 1;
    }
    sc->rs = rs;
    size_t need = (size_t)ev->raw_len + 1;
    sc->npresent = 0;
    /* Exact names first. Then, for a rule field the event lacks, an event
     * field whose name differs only in ASCII case (Windows schemas spell the
     * same field differently across versions: Sysmon TargetFilename /
     * TargetFileName; docs/sigma-compat.md). Repeated keys: first wins. */
    int32_t cibuf[MW_EVENT_MAX_FIELDS];
    const int32_t *ci = cibuf;
    int need_ci = 0;
    if (sc->kc_uid != rs->fields.uid + 1) {
        if (!sc->kc && !(sc->kc = malloc(SG_KC_SIZE * sizeof(*sc->kc))))
            return MW_ENOMEM;
        if (!sc->lc && !(sc->lc = malloc(SG_LC_SIZE * sizeof(*sc->lc))))
            return MW_ENOMEM;
        for (uint32_t i = 0; i < SG_KC_SIZE; i++)
            sc->kc[i].key = NULL;
        for (uint32_t i = 0; i < SG_LC_SIZE; i++)
            sc->lc[i].nf = 0;
        sc->kc_uid = rs->fields.uid + 1;
    }
    const uint32_t nf = ev->nfields;
    struct sg_layout *lay = NULL;
    int hit = 0;
    if (ev->keys_copied == 0 && nf > 0 && nf <= SG_LC_MAXF) {
        uintptr_t a = (uintptr_t)ev->fields[nf / 2].key, b = (uintptr_t)ev->fields[nf - 1].key;
        uint64_t h =
            ((uint64_t)a ^ (uint64_t)b * 0x9e3779b97f4a7c15ull ^ nf) * 0xff51afd7ed558ccdull;
        lay = &sc->lc[h >> 58]; /* SG_LC_SIZE == 64 */
        uint32_t i = 0;
        if (lay->nf == nf)
            while (i < nf && lay->keys[i] == ev->fields[i].key)
                i++;
        hit = i == nf;
        if (hit) { /* this layout: the slots without looking at a name */
            for (i = 0; i < nf; i++) {
                int32_t s = lay->exact[i];
                if (s >= 0 && sc->slots[s].gen != sc->gen)
                    need += slot_set(sc, s, &ev->fields[i]);
            }
            need_ci = lay->need_ci;
            ci = lay->ci;
            lay = NULL;
        } else {
            lay->nf = 0; /* refilled below */
        }
    }
    for (uint32_t i = 0; !hit && i < nf; i++) {
        const mw_field_t *f = &ev->fields[i];
        int32_t s;
        int n;
        key_slots(rs, sc, f, &s, &cibuf[i], &n);
        need_ci |= n; /* unknown spelling, or a group with other spellings */
        if (lay) {
            lay->keys[i] = f->key;
            lay->exact[i] = s;
            lay->ci[i] = cibuf[i];
        }
        if (s < 0 || sc->slots[s].gen == sc->gen)
            continue; /* unused by any rule, or a repeated key: first wins */
        need += slot_set(sc, s, f);
    }
    if (lay) {
        lay->need_ci = (uint8_t)need_ci;
        lay->nf = nf;
    }
    for (uint32_t i = 0; need_ci && i < ev->nfields; i++) {
        const mw_field_t *f = &ev->fields[i];
        int32_t s = ci[i];
        for (; s >= 0; s = rs->fields.ci_next[s])
            if (sc->slots[s].gen != sc->gen)
                need += slot_set(sc, s, f);
    }
    if (rs->has_kw) { /* keywords lowercase every field (or the raw text) */
        for (uint32_t i = 0; i < ev->nfields; i++)
            need += (size_t)ev->fields[i].val_len + 1;
        if (!sc->kwf && !(sc->kwf = calloc(MW_EVENT_MAX_FIELDS + 1, sizeof(*sc->kwf))))
            return MW_ENOMEM;
    }
    if (need > sc->bufcap) {
        char *nb = realloc(sc->buf, need);
        if (!nb)
            return MW_ENOMEM;
        sc->buf = nb;
        sc->bufcap = need;
    }
    sc->bufused = 0;
    sc->ev = ev;
    return 0;
}

/* Pointers into buf are stable for the event: buf was sized for all of it. */
static const char *lowered(mw_sigma_scratch_t *sc, const char *v, uint32_t len)
{
    char *d = sc->buf + sc->bufused;
    sg_lower(d, v, len);
    d[len] = '\0';
    sc->bufused += (size_t)len + 1;
    return d;
}

/* '*' any run, '?' one byte; both sides already lowercased. Worst case
 * O(len(pattern) * len(text)); patterns come from rule files. */
static int glob_match(const struct sg_value *v, const char *s, size_t sl)
{
    const char *p = v->s;
    const uint8_t *k = v->kinds;
    size_t pl = v->len, pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sl) {
        if (pi < pl && k[pi] == SG_K_STAR) {
            star = pi++;
            mark = si;
        } else if (pi < pl && (k[pi] == SG_K_QMARK || p[pi] == s[si])) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < pl && k[pi] == SG_K_STAR)
        pi++;
    return pi == pl;
}

int sg_parse_num(const char *s, size_t n, double *out)
{
    char buf[64];
    size_t i = 0, digits = 0;
    if (n == 0 || n >= sizeof buf)
        return -1;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return -1;
    }
    if (i != n)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return 0;
}

static int cidr_match(const struct sg_cidr *cd, const char *s, size_t len)
{
    char buf[INET6_ADDRSTRLEN + 1];
    unsigned char a[16];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(cd->family, buf, a) != 1)
        return 0;
    unsigned full = cd->bits / 8, rest = cd->bits % 8;
    if (memcmp(a, cd->addr, full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff00u >> rest);
        if ((a[full] & mask) != (cd->addr[full] & mask))
            return 0;
    }
    return 1;
}

/* 1 if s[0..n) is plain ASCII (no byte >= 0x80), eight bytes at a time:
 * the only values the regex databases scan (sigma_hs.c: on ASCII text,
 * their byte-mode semantics are PCRE2's UTF semantics). */
static int is_ascii(const char *s, size_t n)
{
    uint64_t acc = 0, w;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return !(acc & 0x8080808080808080ull);
}

static int re_hit(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    uint64_t *bits = ctx;
    bits[id >> 6] |= 1ull << (id & 63);
    return 0;
}

/* 1 if the regex bits of sv's slot hold this event's scan of its regex
 * database, which runs when a regex of the slot is first evaluated in the
 * event (most events reach none of a field's regexes: an eager scan of
 * every present field cost more than it saved). Only a slot's value (never
 * a keyword field) reaches here: only field regexes get an id. The scan
 * runs on non-empty ASCII values, while the event's databases are in use
 * (prefilter: hs_ready, not sg_disable_hs); else 0 and PCRE2 decides. */
static int re_scan(mw_sigma_scratch_t *sc, struct sg_slotval *sv)
{
    if (sv->re_try == sc->gen)
        return sv->re_gen == sc->gen;
    sv->re_try = sc->gen;
    const struct sg_prefilter *pf = sc->pf;
    if (!sc->use_hs || !pf || sv < sc->slots || sv >= sc->slots + sc->nslots)
        return 0;
    size_t s = (size_t)(sv - sc->slots);
    if (s >= pf->nslots || !pf->slots[s].re_db || !sv->len || !is_ascii(sv->val, sv->len))
        return 0;
    const struct sg_pf_slot *ps = &pf->slots[s];
    uint32_t w0 = ps->re_base >> 6, w1 = (ps->re_base + ps->re_n + 63) >> 6;
    memset(sc->lbits + w0, 0, (size_t)(w1 - w0) * sizeof(*sc->lbits));
    /* the callback gets the bitset shifted to the slot's range (64-aligned) */
    if (hs_scan(ps->re_db, sv->val, sv->len, 0, sc->hs, re_hit, sc->lbits + w0) != HS_SUCCESS)
        return 0;
    sv->re_gen = sc->gen;
    return 1;
}

int sg_count_re;
uint64_t sg_re_calls;

static int re_match(mw_sigma_scratch_t *sc, const struct sg_re *re, const char *s, size_t len)
{
    if (sg_count_re)
        __atomic_add_fetch(&sg_re_calls, 1, __ATOMIC_RELAXED);
    if (!sc->md && !(sc->md = pcre2_match_data_create(1, NULL)))
        return 0; /* out of memory: no match (never a crash) */
    /* A value with a non-ASCII byte goes to the interpreter: PCRE2 10.42's
     * JIT, with PCRE2_MATCH_INVALID_UTF, does not let \W, \S or \D match a
     * non-ASCII character (the interpreter does, as the pattern says), so
     * one no-break space in a command line hid it from "whoami\W+/all". */
    uint32_t opts = is_ascii(s, len) ? 0 : PCRE2_NO_JIT;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, opts, sc->md, re->mctx);
    return rc >= 0; /* no match, match/depth/heap limit, bad UTF: no match */
}

static const char *sv_lower(mw_sigma_scratch_t *sc, struct sg_slotval *sv)
{
    if (!sv->lower)
        sv->lower = lowered(sc, sv->val, sv->len);
    return sv->lower;
}

static int str_op(int op, const char *s, size_t len, const char *v, size_t vl)
{
    switch (op) {
    case SG_EXACT:
        return len == vl && memcmp(s, v, len) == 0;
    case SG_CONTAINS:
        return vl == 0 || (vl <= len && memmem(s, len, v, vl) != NULL);
    case SG_STARTSWITH:
        return vl <= len && memcmp(s, v, vl) == 0;
    case SG_ENDSWITH:
        return vl <= len && memcmp(s + len - vl, v, vl) == 0;
    }
    return 0;
}

/* One value against one present field; sv's bigram filter (always over the
 * lowercased text) gives a cheap "contains" reject before memmem. */
static int value_match(mw_sigma_scratch_t *sc, const struct sg_value *v, struct sg_slotval *sv)
{
    uint32_t len = sv->len;
    /* The slot's scan did not find this literal, in any case: no
     * exact/contains/startswith/endswith comparison of it can hold. When it
     * did, the bigram filter below would pass: skip it. */
    int scanned = v->lit && sv->hs_gen == sc->gen;
    if (scanned && !lit_seen(sc, v->lit))
        return 0;
    /* Found: for a caseless contains that is the answer (the database is
     * ASCII-caseless and unanchored, as our lowercase comparison is). */
    if (scanned && v->op == SG_CONTAINS && !v->cased)
        return 1;
    const char *s = v->cased ? sv->val : sv_lower(sc, sv);
    switch (v->op) {
    case SG_CONTAINS:
        if (v->len > len)
            return 0;
        if (v->len > 1 && !scanned) {
            if (sv->bloom_gen != sc->gen) {
                sg_bloom(sv_lower(sc, sv), len, sv->bloom);
                sv->bloom_gen = sc->gen;
            }
            if ((sv->bloom[0] & v->bloom[0]) != v->bloom[0] ||
                (sv->bloom[1] & v->bloom[1]) != v->bloom[1] ||
                (sv->bloom[2] & v->bloom[2]) != v->bloom[2] ||
                (sv->bloom[3] & v->bloom[3]) != v->bloom[3])
                return 0;
        }
        return str_op(SG_CONTAINS, s, len, v->s, v->len);
    case SG_EXACT:
    case SG_STARTSWITH:
    case SG_ENDSWITH:
        return str_op(v->op, s, len, v->s, v->len);
    case SG_GLOB:
        if (sv->bloom_gen != sc->gen) {
            sg_bloom(sv_lower(sc, sv), len, sv->bloom);
            sv->bloom_gen = sc->gen;
        }
        if ((sv->bloom[0] & v->bloom[0]) != v->bloom[0] ||
            (sv->bloom[1] & v->bloom[1]) != v->bloom[1] ||
            (sv->bloom[2] & v->bloom[2]) != v->bloom[2] ||
            (sv->bloom[3] & v->bloom[3]) != v->bloom[3])
            return 0;
        return glob_match(v, s, len);
    case SG_NULL:
        return len == 0;
    case SG_ANY:
        return 1;
    case SG_RE: {
        /* Hyperscan's prefilter scan of this value did not report the
         * regex: it cannot match, PCRE2 is not needed. */
        const struct sg_re *re = v->aux;
        if (re->hsid && re_scan(sc, sv) && !lit_seen(sc, re->hsid))
            return 0;
        return re_match(sc, re, sv->val, len);
    }
    case SG_CIDR:
        return cidr_match(v->aux, sv->val, len);
    case SG_NUM: {
        double d, ref = *(const double *)v->aux;
        if (sg_parse_num(sv->val, len, &d))
            return 0;
        return v->cmp == SG_LT    ? d < ref
               : v->cmp == SG_LTE ? d <= ref
               : v->cmp == SG_GT  ? d > ref
                                  : d >= ref;
    }
    case SG_EXISTS:
        return v->len; /* present */
    case SG_FIELDREF: {
        const struct sg_fref *fr = v->aux;
        struct sg_slotval *o = &sc->slots[fr->slot];
        if (o->gen != sc->gen)
            return 0;
        const char *os = v->cased ? o->val : sv_lower(sc, o);
        return str_op(fr->mode, s, len, os, o->len);
    }
    }
    return 0;
}

/* Values of fc against one field: OR, or with |all, every group (the
 * values one rule value expanded to) must have a matching value. */
static int values_match(mw_sigma_scratch_t *sc, const struct sg_fcond *fc, struct sg_slotval *sv)
{
    if (fc->fid && sv->hs_gen == sc->gen && !lit_seen(sc, fc->fid))
        return 0; /* none of its literals occurs in the field */
    if (!fc->all) {
        for (uint32_t i = 0; i < fc->nvals; i++)
            if (value_match(sc, &fc->vals[i], sv))
                return 1;
        return 0;
    }
    for (uint32_t i = 0; i < fc->nvals;) {
        uint32_t g = fc->vals[i].grp, hit = 0;
        for (; i < fc->nvals && fc->vals[i].grp == g; i++)
            if (!hit && value_match(sc, &fc->vals[i], sv))
                hit = 1;
        if (!hit)
            return 0;
    }
    return 1;
}

static int kw_hit(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    mw_sigma_scratch_t *sc = ctx;
    uint32_t g = sc->pf->kw_base + id;
    sc->lbits[g >> 6] |= 1ull << (g & 63);
    return 0;
}

/* Keywords: every field value of the event, or its raw text if it has no
 * fields. kw_scan runs the keyword database once per event: the values
 * that can hold a keyword literal (those at least pf->kw_minlen bytes
 * long) are copied one after the other, NUL-separated, into free scratch
 * space and that run of text is scanned once; the space is then given
 * back. Text between the fields can only add hits, never hide one: a
 * keyword literal the scan does not report is in no field. kw_list makes
 * the field list the values are compared with, only when a keyword value
 * has to be compared (most events have no keyword: their literals' bits
 * are clear). The fields are lowercased later, one by one, when a value is
 * compared with them (a plain copy is cheaper than a lowercase one). */
static void kw_list(mw_sigma_scratch_t *sc)
{
    if (sc->kw_gen == sc->gen)
        return;
    const mw_event_t *ev = sc->ev;
    uint32_t n = 0;
    if (ev->nfields == 0) {
        sc->kwf[0] =
            (struct sg_slotval){.val = ev->raw ? ev->raw : "", .len = ev->raw ? ev->raw_len : 0};
        n = 1;
    }
    for (uint32_t i = 0; i < ev->nfields && n < MW_EVENT_MAX_FIELDS; i++)
        sc->kwf[n++] = (struct sg_slotval){.val = ev->fields[i].val, .len = ev->fields[i].val_len};
    sc->nkwf = n;
    sc->kw_gen = sc->gen;
}

static void kw_scan(mw_sigma_scratch_t *sc)
{
    if (sc->kwscan_gen == sc->gen)
        return;
    sc->kwscan_gen = sc->gen;
    const struct sg_prefilter *pf = sc->pf;
    if (!sc->use_hs || !pf->kw_db)
        return;
    const mw_event_t *ev = sc->ev;
    uint32_t w0 = pf->kw_base >> 6, w1 = (pf->kw_base + pf->kw_nlit + 63) >> 6;
    memset(sc->lbits + w0, 0, (size_t)(w1 - w0) * sizeof(*sc->lbits));
    /* buf has room for every field (or the raw text) + NUL after bufused
     * (scratch_prepare counted the lowercase copies the fields may still
     * need) */
    char *d = sc->buf + sc->bufused;
    size_t len = 0;
    if (ev->nfields == 0 && ev->raw && ev->raw_len >= pf->kw_minlen) {
        memcpy(d, ev->raw, ev->raw_len);
        len = ev->raw_len;
    }
    for (uint32_t i = 0; i < ev->nfields && i < MW_EVENT_MAX_FIELDS; i++) {
        const mw_field_t *f = &ev->fields[i];
        if (f->val_len < pf->kw_minlen)
            continue; /* too short for any keyword literal */
        memcpy(d + len, f->val, f->val_len);
        len += f->val_len;
        d[len++] = '\0';
    }
    if (len <= UINT32_MAX &&
        hs_scan(pf->kw_db, d, (unsigned)len, 0, sc->hs, kw_hit, sc) == HS_SUCCESS)
        sc->kwlit_gen = sc->gen;
}

static void kw_bloom(mw_sigma_scratch_t *sc)
{
    kw_list(sc);
    sc->kwbloom_gen = sc->gen;
    sc->kw_bloom[0] = sc->kw_bloom[1] = sc->kw_bloom[2] = sc->kw_bloom[3] = 0;
    for (uint32_t f = 0; f < sc->nkwf; f++) {
        struct sg_slotval *sv = &sc->kwf[f];
        if (sv->bloom_gen != sc->gen) {
            sg_bloom(sv_lower(sc, sv), sv->len, sv->bloom);
            sv->bloom_gen = sc->gen;
        }
        for (int k = 0; k < 4; k++)
            sc->kw_bloom[k] |= sv->bloom[k];
    }
}

/* Union of the fields' bigram filters (made on first use): 1 if v's
 * bigrams are not all in it, so that v is in no field. */
static int kw_bloom_lacks(mw_sigma_scratch_t *sc, const struct sg_value *v)
{
    if (sc->kwbloom_gen != sc->gen)
        kw_bloom(sc);
    return (sc->kw_bloom[0] & v->bloom[0]) != v->bloom[0] ||
           (sc->kw_bloom[1] & v->bloom[1]) != v->bloom[1] ||
           (sc->kw_bloom[2] & v->bloom[2]) != v->bloom[2] ||
           (sc->kw_bloom[3] & v->bloom[3]) != v->bloom[3];
}

/* A keyword value matches if it matches one field. With |all, every group
 * must match some field (not necessarily the same one). */
static int kw_match(mw_sigma_scratch_t *sc, const struct sg_value *vals, uint32_t nvals, int all)
{
    kw_scan(sc);
    for (uint32_t i = 0; i < nvals;) {
        uint32_t g = vals[i].grp, hit = 0;
        for (; i < nvals && vals[i].grp == g; i++) {
            const struct sg_value *v = &vals[i];
            if (v->lit && sc->kwlit_gen == sc->gen) {
                if (!lit_seen(sc, v->lit))
                    continue; /* in no field */
            } else if (v->op == SG_CONTAINS && v->len > 1 && kw_bloom_lacks(sc, v)) {
                continue; /* in no field */
            }
            kw_list(sc);
            for (uint32_t f = 0; f < sc->nkwf && !hit; f++)
                hit = value_match(sc, v, &sc->kwf[f]);
        }
        if (hit && !all)
            return 1;
        if (!hit && all)
            return 0;
    }
    return all;
}

static int fcond_match(mw_sigma_scratch_t *sc, const struct sg_fcond *fc)
{
    if (fc->slot == SG_SLOT_KW)
        return kw_match(sc, fc->vals, fc->nvals, fc->all);
    struct sg_slotval *sv = &sc->slots[fc->slot];
    if (sv->gen != sc->gen)
        return fc->has_null; /* a missing field matches only "field: null" / exists: false */
    return values_match(sc, fc, sv);
}

static int sel_match(mw_sigma_scratch_t *sc, const struct sg_sel *sel)
{
    for (uint32_t m = 0; m < sel->nmaps; m++) {
        const struct sg_map *map = &sel->maps[m];
        uint32_t i = 0;
        while (i < map->n && fcond_match(sc, &map->conds[i]))
            i++;
        if (i == map->n)
            return 1;
    }
    return sel->nkw && kw_match(sc, sel->kw, sel->nkw, 0);
}

static int eval_node(mw_sigma_scratch_t *sc, const struct sg_rule *r, uint32_t idx)
{
    const struct sg_node *n = &r->nodes[idx];
    switch (n->op) {
    case SG_N_SEL:
        return sel_match(sc, &r->sels[n->sel]);
    case SG_N_NOT:
        return !eval_node(sc, r, n->kids[0]);
    case SG_N_AND:
        for (uint32_t i = 0; i < n->n; i++)
            if (!eval_node(sc, r, n->kids[i]))
                return 0;
        return 1;
    case SG_N_OR:
        for (uint32_t i = 0; i < n->n; i++)
            if (eval_node(sc, r, n->kids[i]))
                return 1;
        return 0;
    case SG_N_OF: {
        uint32_t hit = 0;
        for (uint32_t i = 0; i < n->n; i++) {
            if (sel_match(sc, &r->sels[n->kids[i]]) && ++hit >= n->k)
                return 1;
            if (hit + (n->n - i - 1) < n->k)
                return 0;
        }
        return 0;
    }
    }
    return 0;
}

/* 0 if the rule's gate (sg_rule.gate, 1-based; 0 = none) is false for this
 * event: evaluated once per event, spec semantics (sigma.c, rule_gate). */
static int gate_ok(mw_sigma_scratch_t *sc, uint32_t gate)
{
    if (!gate)
        return 1;
    uint32_t g = gate - 1;
    if (sc->gate_gen[g] != sc->gen) {
        sc->gate_val[g] = (uint8_t)sel_match(sc, sc->rs->gates[g]);
        sc->gate_gen[g] = sc->gen;
    }
    return sc->gate_val[g];
}

/* ---- SQL null semantics (MW_SIGMA_NULLS_SQL) -------------------------------
 * Kleene's three-valued logic. A value on a missing field is UNKNOWN, except
 * null (IS NULL: true), |exists (true / false) and |re (false: the
 * reference's REGEXP function returns 0 on NULL); |fieldref against a
 * missing field is UNKNOWN (SQL a = NULL). Keywords stay two-valued (no
 * converted rule uses them). Every leaf is either the same as in SPEC mode
 * or UNKNOWN where SPEC says false, so (Kleene's connectives being monotone)
 * TRUE here implies TRUE in SPEC mode: the required-field skip and the
 * prefilter, which only drop rules that cannot be TRUE in SPEC mode, stay
 * correct. */
enum { T3_F = 0, T3_T = 1, T3_U = 2 };

static int value3(mw_sigma_scratch_t *sc, const struct sg_value *v, struct sg_slotval *sv)
{
    if (!sv) {
        switch (v->op) {
        case SG_NULL:
            return T3_T;
        case SG_EXISTS:
            return v->len ? T3_F : T3_T;
        case SG_RE:
            return T3_F;
        default:
            return T3_U;
        }
    }
    if (v->op == SG_FIELDREF && sc->slots[((const struct sg_fref *)v->aux)->slot].gen != sc->gen)
        return T3_U;
    return value_match(sc, v, sv) ? T3_T : T3_F;
}

/* OR of values, or with |all, AND over groups of an OR. */
static int fcond3(mw_sigma_scratch_t *sc, const struct sg_fcond *fc)
{
    if (fc->slot == SG_SLOT_KW)
        return fcond_match(sc, fc) ? T3_T : T3_F;
    struct sg_slotval *sv = &sc->slots[fc->slot];
    if (sv->gen != sc->gen)
        sv = NULL;
    else if (fc->fid && sv->hs_gen == sc->gen && !lit_seen(sc, fc->fid))
        return T3_F; /* present, and none of its literals occurs in it */
    int res = T3_T;
    for (uint32_t i = 0; i < fc->nvals;) {
        uint32_t g = fc->vals[i].grp;
        int gr = T3_F;
        for (; i < fc->nvals && (fc->all ? fc->vals[i].grp == g : 1); i++) {
            if (gr == T3_T)
                continue;
            int t = value3(sc, &fc->vals[i], sv);
            if (t == T3_T || gr == T3_F)
                gr = t;
        }
        if (gr == T3_F)
            return T3_F;
        if (gr == T3_U)
            res = T3_U;
    }
    return res;
}

static int sel3(mw_sigma_scratch_t *sc, const struct sg_sel *sel)
{
    int res = T3_F;
    for (uint32_t m = 0; m < sel->nmaps && res != T3_T; m++) {
        const struct sg_map *map = &sel->maps[m];
        int mr = T3_T;
        for (uint32_t i = 0; i < map->n && mr != T3_F; i++) {
            int t = fcond3(sc, &map->conds[i]);
            if (t != T3_T)
                mr = t;
        }
        if (mr == T3_T || (mr == T3_U && res == T3_F))
            res = mr;
    }
    if (res != T3_T && sel->nkw && kw_match(sc, sel->kw, sel->nkw, 0))
        res = T3_T;
    return res;
}

static int eval3(mw_sigma_scratch_t *sc, const struct sg_rule *r, uint32_t idx)
{
    const struct sg_node *n = &r->nodes[idx];
    switch (n->op) {
    case SG_N_SEL:
        return sel3(sc, &r->sels[n->sel]);
    case SG_N_NOT: {
        int t = eval3(sc, r, n->kids[0]);
        return t == T3_U ? T3_U : t == T3_T ? T3_F : T3_T;
    }
    case SG_N_AND:
    case SG_N_OR: {
        int stop = n->op == SG_N_AND ? T3_F : T3_T, res = n->op == SG_N_AND ? T3_T : T3_F;
        for (uint32_t i = 0; i < n->n; i++) {
            int t = eval3(sc, r, n->kids[i]);
            if (t == stop)
                return stop;
            if (t == T3_U)
                res = T3_U;
        }
        return res;
    }
    case SG_N_OF: { /* at least k TRUE: TRUE; cannot reach k even with every UNKNOWN: FALSE */
        uint32_t nt = 0, nu = 0;
        for (uint32_t i = 0; i < n->n; i++) {
            int t = sel3(sc, &r->sels[n->kids[i]]);
            nt += t == T3_T;
            nu += t == T3_U;
            if (nt >= n->k)
                return T3_T;
        }
        return nt + nu >= n->k ? T3_U : T3_F;
    }
    }
    return T3_F;
}

int mw_sigma_ruleset_set_null_semantics(mw_sigma_ruleset_t *rs, int mode)
{
    if (!rs || (mode != MW_SIGMA_NULLS_SPEC && mode != MW_SIGMA_NULLS_SQL))
        return MW_EINVAL;
    rs->nulls = (uint8_t)mode;
    return 0;
}

int sg_disable_prefilter;
int sg_disable_hs;

/* Anchor po of a slot: marks its rule if the anchor holds. bloom: try the
 * anchor's bigram filter first (not worth it when a scan has just found
 * one of its literals: the filter then nearly always passes; nor on a
 * scanned field, whose literal bits reject values at once: the values that
 * need the field's filter compute it themselves). */
/* The verdict of anchor a in the current memo entry: 1/0, or -1 if none;
 * *at is where it is or would go (verdicts ascend by anchor). */
static int verdict_find(const mw_sigma_scratch_t *sc, uint32_t a, uint32_t *at)
{
    const uint32_t *v = sc->mv_words + sc->mv->nids + sc->mv->nexact;
    uint32_t lo = 0, hi = sc->mv->nverd;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v[mid] >> 1 < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return lo < sc->mv->nverd && v[lo] >> 1 == a ? (int)(v[lo] & 1) : -1;
}

static void verdict_add(mw_sigma_scratch_t *sc, uint32_t a, uint32_t at, int holds)
{
    struct sg_memo_hdr *d = sc->mv;
    uint32_t *v = sc->mv_words + d->nids + d->nexact;
    if ((uint32_t)d->nids + d->nexact + d->nverd >= sc->mv_room || a >= 1u << 31)
        return; /* full: evaluated again next time */
    memmove(v + at + 1, v + at, (size_t)(d->nverd - at) * sizeof(*v));
    v[at] = a << 1 | (uint32_t)(holds != 0);
    d->nverd++;
}

/* Anchor po of a slot: marks its rule if the anchor holds. bloom: try the
 * anchor's bigram filter first (not worth it when a scan has just found
 * one of its literals: the filter then nearly always passes; nor on a
 * scanned field, whose literal bits reject values at once: the values that
 * need the field's filter compute it themselves). With a memo entry
 * (sc->mv) the verdict is read from it, or evaluated and added to it. */
static void pf_check(mw_sigma_scratch_t *sc, const struct sg_pf_other *po, struct sg_slotval *sv,
                     int bloom)
{
    uint32_t gen = sc->gen;
    if (sc->cand[po->rule >> 6] >> (po->rule & 63) & 1)
        return;
    if (!gate_ok(sc, po->gate))
        return; /* the rule cannot match this event */
    uint32_t a = 0, at = 0;
    if (sc->mv) {
        a = (uint32_t)(po - sc->mv_other);
        int v = verdict_find(sc, a, &at);
        if (v >= 0) {
            if (v)
                sc->cand[po->rule >> 6] |= 1ull << (po->rule & 63);
            return;
        }
    }
    int holds = 1;
    if (bloom && po->has_bloom && sv->hs_gen != gen) {
        if (sv->bloom_gen != gen) {
            if (!sv->lower)
                sv->lower = lowered(sc, sv->val, sv->len);
            sg_bloom(sv->lower, sv->len, sv->bloom);
            sv->bloom_gen = gen;
        }
        if ((sv->bloom[0] & po->bloom[0]) != po->bloom[0] ||
            (sv->bloom[1] & po->bloom[1]) != po->bloom[1] ||
            (sv->bloom[2] & po->bloom[2]) != po->bloom[2] ||
            (sv->bloom[3] & po->bloom[3]) != po->bloom[3])
            holds = 0;
    }
    if (holds)
        holds = fcond_match(sc, po->fc);
    if (holds)
        sc->cand[po->rule >> 6] |= 1ull << (po->rule & 63);
    if (sc->mv)
        verdict_add(sc, a, at, holds);
}

struct hs_ctx {
    mw_sigma_scratch_t *sc;
    const struct sg_pf_slot *ps;
    struct sg_slotval *sv;
    uint32_t *rec; /* the ids reported, for the memo (NULL: not recorded) */
    uint32_t nrec; /* may exceed SG_SM_REC: then too many to keep */
};

/* Literal id occurs in the field: set its bit; its anchors may hold,
 * confirm them. */
static int hs_hit(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    struct hs_ctx *c = ctx;
    const struct sg_pf_slot *ps = c->ps;
    if (c->rec) {
        if (c->nrec < SG_SM_REC)
            c->rec[c->nrec] = id;
        c->nrec++;
    }
    uint64_t *bits = c->sc->lbits;
    uint32_t g = ps->hs_base + id, fb = ps->hs_base + ps->hs_nlit;
    bits[g >> 6] |= 1ull << (g & 63);
    for (uint32_t k = ps->fc_off[id]; k < ps->fc_off[id + 1]; k++) {
        uint32_t f = fb + ps->fc_ids[k];
        bits[f >> 6] |= 1ull << (f & 63);
    }
    /* its anchors may hold: confirmed after the scan, when the literal
     * bits of the field are complete (value_match uses them) */
    mw_sigma_scratch_t *sc = c->sc;
    for (uint32_t k = ps->hs_off[id]; k < ps->hs_off[id + 1]; k++) {
        if (sc->npend < sc->pendcap)
            sc->pend[sc->npend++] = ps->hs_anc[k];
        else /* not reached: pend holds every anchor reference of a slot */
            pf_check(sc, &ps->other[ps->hs_anc[k]], c->sv, 0);
    }
    return 0;
}

/* 1 if sc->hs fits the ruleset's databases (sized on first use). */
static int hs_ready(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *sc)
{
    const struct sg_prefilter *pf = &rs->pf;
    if (pf->hs_id == 0 || sg_disable_hs)
        return 0;
    if (sc->hs_id == pf->hs_id)
        return 1;
    for (uint32_t i = 0; i < pf->nslots; i++)
        if ((pf->slots[i].hs_db && hs_alloc_scratch(pf->slots[i].hs_db, &sc->hs) != HS_SUCCESS) ||
            (pf->slots[i].re_db && hs_alloc_scratch(pf->slots[i].re_db, &sc->hs) != HS_SUCCESS))
            return 0; /* memory: this event is prefiltered one by one */
    if (pf->kw_db && hs_alloc_scratch(pf->kw_db, &sc->hs) != HS_SUCCESS)
        return 0;
    uint32_t npend = 0; /* anchor references of the largest slot */
    for (uint32_t i = 0; i < pf->nslots; i++)
        if (pf->slots[i].hs_db && pf->slots[i].hs_off[pf->slots[i].hs_nlit] > npend)
            npend = pf->slots[i].hs_off[pf->slots[i].hs_nlit];
    if (npend > sc->pendcap) {
        uint32_t *np = malloc(npend * sizeof(*np));
        if (!np)
            return 0;
        free(sc->pend);
        sc->pend = np;
        sc->pendcap = npend;
    }
    size_t nw = (size_t)pf->nlits / 64 + 1;
    if (nw > sc->nlbits) {
        uint64_t *nb = calloc(nw, sizeof(*nb));
        if (!nb)
            return 0;
        free(sc->lbits);
        sc->lbits = nb;
        sc->nlbits = nw;
    }
    sc->hs_id = pf->hs_id;
    return 1;
}

int sg_disable_memo;
uint64_t sg_memo_hash_mask = ~0ull;

static uint64_t memo_hash(uint32_t slot, const struct sg_slotval *sv)
{
    uint64_t h = sg_hash64(sv->val, sv->len) ^ ((uint64_t)slot + 1) * 0x9e3779b97f4a7c15ull;
    return (h ^ h >> 29) & sg_memo_hash_mask;
}

static uint32_t memo_index(uint64_t h)
{
    return (uint32_t)(h ^ h >> 32) & (SG_SM_SIZE - 1);
}

/* 1 if entry e is (slot, value) of build. */
static int memo_is(const struct sg_memo *m, uint32_t e, uint64_t build, uint32_t slot,
                   const struct sg_slotval *sv, uint64_t h)
{
    const struct sg_memo_hdr *d = &m->hdr[e];
    return d->build == build && d->hash == h && d->slot == slot && d->len == sv->len &&
           memcmp(m->body[e], sv->val, sv->len) == 0;
}

/* Marks the rules whose exact-value entries equal slot s's value; their
 * indexes go to rec (up to SG_SM_EXACT; *nrec counts them all). */
static void exact_lookup(mw_sigma_scratch_t *sc, const struct sg_prefilter *pf, uint32_t s,
                         struct sg_slotval *sv, uint32_t *rec, uint32_t *nrec)
{
    const struct sg_pf_slot *ps = &pf->slots[s];
    if (!ps->nexact || sv->len > ps->exact_maxlen) /* no entry has its length */
        return;
    if (!sv->lower)
        sv->lower = lowered(sc, sv->val, sv->len);
    uint64_t h = sg_hash64(sv->lower, sv->len);
    uint32_t m = pf->htcap - 1, j = (uint32_t)(h ^ s) & m;
    for (; pf->ht[j].used; j = (j + 1) & m) {
        const struct sg_pf_exact *e = &pf->ht[j];
        if (e->hash == h && e->slot == s && e->len == sv->len &&
            memcmp(e->s, sv->lower, sv->len) == 0) {
            sc->cand[e->rule >> 6] |= 1ull << (e->rule & 63);
            if (rec && *nrec < SG_SM_EXACT)
                rec[*nrec] = e->rule;
            ++*nrec;
        }
    }
}

/* Exact-value rules, literal bits and pending anchors of slot s's value
 * (a slot with a database): from its memo entry, or computed and kept in
 * a new one. Sets sc->mv to the entry (NULL without one). 0, or -1 on a
 * scan error (the exact rules are marked all the same). */
static int slot_scan(mw_sigma_scratch_t *sc, uint32_t s, const struct sg_pf_slot *ps,
                     struct sg_slotval *sv)
{
    struct hs_ctx c = {.sc = sc, .ps = ps, .sv = sv};
    const struct sg_prefilter *pf = sc->pf;
    struct sg_memo *m = NULL;
    uint64_t h = 0, build = pf->hs_id;
    uint32_t e = 0, rec[SG_SM_REC], ex[SG_SM_EXACT], nex = 0;
    sc->mv = NULL;
    if (!sg_disable_memo && sv->len <= SG_SM_BODY - 4) {
        if (!sc->memo && !sc->memo_failed) {
            sc->memo = calloc(1, sizeof(*sc->memo));
            sc->memo_failed = sc->memo == NULL; /* no memo: computed every time */
        }
        m = sc->memo;
    }
    if (m) {
        h = memo_hash(s, sv);
        e = memo_index(h);
        if (memo_is(m, e, build, s, sv, h)) {
            struct sg_memo_hdr *d = &m->hdr[e];
            uint32_t *w = m->body[e] + (d->len + 3) / 4;
            for (uint32_t i = 0; i < d->nexact; i++)
                sc->cand[w[d->nids + i] >> 6] |= 1ull << (w[d->nids + i] & 63);
            for (uint32_t i = 0; i < d->nids; i++)
                hs_hit(w[i], 0, 0, 0, &c);
            sc->mv = d;
            sc->mv_words = w;
            sc->mv_room = SG_SM_BODY / 4 - (d->len + 3) / 4;
            sc->mv_other = ps->other;
            return 0;
        }
        c.rec = rec;
    }
    exact_lookup(sc, pf, s, sv, m ? ex : NULL, &nex);
    if (sv->len && hs_scan(ps->hs_db, sv->val, sv->len, 0, sc->hs, hs_hit, &c) != HS_SUCCESS)
        return -1;
    if (!m || c.nrec > SG_SM_REC || nex > SG_SM_EXACT ||
        (sv->len + 3) / 4 + c.nrec + nex > SG_SM_BODY / 4)
        return 0;
    struct sg_memo_hdr *d = &m->hdr[e];
    uint32_t *w = m->body[e] + (sv->len + 3) / 4;
    memcpy(m->body[e], sv->val, sv->len);
    memcpy(w, rec, (size_t)c.nrec * sizeof(*w));
    memcpy(w + c.nrec, ex, (size_t)nex * sizeof(*w));
    d->hash = h;
    d->build = build;
    d->slot = s;
    d->len = (uint16_t)sv->len;
    d->nids = (uint8_t)c.nrec;
    d->nexact = (uint8_t)nex;
    d->nverd = 0;
    sc->mv = d;
    sc->mv_words = w;
    sc->mv_room = SG_SM_BODY / 4 - (d->len + 3) / 4;
    sc->mv_other = ps->other;
    return 0;
}

/* Sets in sc->cand the bits of the rules the prefilter lets through. */
static void prefilter(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *sc)
{
    const struct sg_prefilter *pf = &rs->pf;
    int use_hs = hs_ready(rs, sc);
    sc->pf = pf;
    sc->use_hs = use_hs;
    for (uint32_t i = 0; i < pf->nalways; i++)
        sc->cand[pf->always[i] >> 6] |= 1ull << (pf->always[i] & 63);
    for (uint32_t p = 0; p < sc->npresent; p++) {
        uint32_t s = sc->present[p];
        if (s >= pf->nslots)
            continue;
        const struct sg_pf_slot *ps = &pf->slots[s];
        struct sg_slotval *sv = &sc->slots[s];
        if (use_hs && ps->hs_db) {
            uint32_t w0 = ps->hs_base >> 6, w1 = (ps->hs_base + ps->hs_nlit + ps->hs_nfc + 63) >> 6;
            memset(sc->lbits + w0, 0, (size_t)(w1 - w0) * sizeof(*sc->lbits));
            sc->npend = 0;
            int ok = slot_scan(sc, s, ps, sv) == 0;
            if (ok) {
                sv->hs_gen = sc->gen;
                for (uint32_t o = 0; o < sc->npend; o++)
                    pf_check(sc, &ps->other[sc->pend[o]], sv, 0);
                for (uint32_t o = 0; o < ps->nrest; o++)
                    pf_check(sc, &ps->other[ps->rest[o]], sv, 1);
            }
            sc->mv = NULL;
            if (ok)
                continue;
            /* scan error: fall through to the full check (idempotent) */
        } else {
            uint32_t n = 0;
            exact_lookup(sc, pf, s, sv, NULL, &n);
        }
        for (uint32_t o = 0; o < ps->nother; o++)
            pf_check(sc, &ps->other[o], sv, 1);
    }
}

int mw_sigma_match(const mw_sigma_ruleset_t *rs, mw_sigma_scratch_t *scratch, const mw_event_t *ev,
                   mw_detection_emit_fn emit, void *ctx)
{
    mw_sigma_scratch_t *own = NULL;
    int rc;
    if (!rs || !ev || !emit)
        return MW_EINVAL;
    if (!scratch) {
        if ((rc = mw_sigma_scratch_new(rs, &own)))
            return rc;
        scratch = own;
    }
    if ((rc = scratch_prepare(rs, scratch, ev)))
        goto out;
    prefilter(rs, scratch);
    /* candidates in load order: set bits of cand, or every rule */
    uint64_t w = 0;
    for (size_t i = 0, wi = 0; i < rs->nrules; i++) {
        if (!sg_disable_prefilter) {
            while (w == 0 && wi < scratch->ncand && wi * 64 < rs->nrules)
                w = scratch->cand[wi++];
            if (w == 0)
                break;
            i = (wi - 1) * 64 + (size_t)__builtin_ctzll(w);
            w &= w - 1;
            if (i >= rs->nrules)
                break;
        }
        const struct sg_rule *r = rs->rules[i];
        if (!sg_disable_prefilter && !gate_ok(scratch, r->gate))
            continue;
        uint32_t q = 0;
        while (q < r->nreq && scratch->slots[r->req[q]].gen == scratch->gen)
            q++;
        if (q < r->nreq)
            continue;
        if (rs->nulls == MW_SIGMA_NULLS_SQL ? eval3(scratch, r, r->root) != T3_T
                                            : !eval_node(scratch, r, r->root))
            continue;
        rc = emit(ctx, &r->det);
        if (rc == MW_ELIMIT) {
            rc = 0;
            break;
        }
        if (rc < 0)
            goto out;
        rc = 0;
    }
out:
    scratch->ev = NULL;
    mw_sigma_scratch_free(own);
    return rc;
}
