/* Sigma prefilter, Hyperscan part: per field slot, one literal database of
 * the values of the slot's anchors (docs/internals/sigma-prefilter.md).
 *
 * It only prunes: an anchor (a field condition of which the rule needs at
 * least one to hold) whose values are all literals can hold only if one of
 * its literals occurs, ASCII-caseless, in the field's text. exact,
 * startswith, endswith and contains all imply that, cased or not, and so do
 * |all conditions (their first group needs a matching value); a glob's
 * literal is its longest run of literal bytes, which any text it matches
 * holds. On a hit the anchor is still confirmed by the evaluator
 * (fcond_match, after the scan), so the set of candidate rules is the same
 * as with the one-by-one check. Anchors with other values (null, re,
 * numbers, ...) or literals shorter than SG_HS_MIN_LIT stay on the
 * one-by-one check.
 *
 * Regexes: per slot, one more database of its |re values, compiled in
 * Hyperscan's prefilter mode (the matches it reports are a superset of the
 * pattern's), with PCRE2's i/m/s. A regex the scan of a value did not report
 * cannot match it; one it reported is confirmed by PCRE2. Our PCRE2 patterns
 * are UTF (PCRE2_MATCH_INVALID_UTF), without PCRE2_UCP. Hyperscan's UTF-8
 * mode would follow them on any valid UTF-8 text, but it compiles a
 * bounded repeat of '.' into a multi-byte automaton: over the SigmaHQ
 * regexes 3.7 s instead of 0.7 s (one pattern with .{2,128}: 1.4 s), and
 * HS_FLAG_UCP must not be used (it makes \W \S \D and [[:^alpha:]] miss
 * non-ASCII characters PCRE2 matches). So the databases are byte mode, hold
 * only patterns written in ASCII, and scan only ASCII values: on ASCII text a
 * pattern's UTF and byte semantics agree (one character is one byte; no
 * code point <= 0xFF folds to ASCII; escapes above 0xFF, e.g. \x{212a}, the
 * Kelvin sign that folds to k, are refused by byte-mode Hyperscan). Other
 * values go to PCRE2 alone, as do patterns Hyperscan rejects, that can match
 * an empty string, or whose PCRE2 options Hyperscan does not share ((*UCP),
 * (*CR), ...: PCRE2_INFO_ALLOPTIONS, PCRE2_INFO_NEWLINE). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_internal.h"
#include "mwrasp/log.h"

uint32_t sg_hs_min_anchors = 8;
uint32_t sg_hs_fid_min_vals = 4;
#define SG_HS_MIN_LIT 3 /* shorter literals hit too often to be worth it */

static int hs_warned;

static void warn_once(const char *what, const char *detail)
{
    if (__atomic_exchange_n(&hs_warned, 1, __ATOMIC_RELAXED))
        return;
    mw_warn("sigma", "Hyperscan prefilter not used (%s%s%s): rules are prefiltered one by one",
            what, detail ? ": " : "", detail ? detail : "");
}

/* The literal a value gets in the database (*s, *n), if any: the value of
 * an exact / contains / startswith / endswith, or the longest run of
 * literal bytes of a glob (kinds SG_K_LIT: any text the glob matches holds
 * it, in any case when the glob is not cased), of >= SG_HS_MIN_LIT bytes. */
static int lit_span(const struct sg_value *v, const char **s, size_t *n)
{
    *s = NULL; /* outputs set on every path */
    *n = 0;
    if (v->op == SG_EXACT || v->op == SG_CONTAINS || v->op == SG_STARTSWITH ||
        v->op == SG_ENDSWITH) {
        *s = v->s;
        *n = v->len;
        return v->len >= SG_HS_MIN_LIT;
    }
    if (v->op != SG_GLOB || !v->kinds)
        return 0;
    size_t best = 0, at = 0;
    for (size_t i = 0; i < v->len;) {
        size_t j = i;
        while (j < v->len && v->kinds[j] == SG_K_LIT)
            j++;
        if (j - i > best) {
            best = j - i;
            at = i;
        }
        i = j + 1;
    }
    *s = v->s + at;
    *n = best;
    return best >= SG_HS_MIN_LIT;
}

static int lit_ok(const struct sg_value *v)
{
    const char *s;
    size_t n;
    return lit_span(v, &s, &n);
}

static int anchor_ok(const struct sg_fcond *fc)
{
    if (fc->nvals == 0 || fc->has_null)
        return 0;
    for (uint32_t i = 0; i < fc->nvals; i++)
        if (!lit_ok(&fc->vals[i]))
            return 0;
    return 1;
}

static unsigned char lc(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static uint64_t ci_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ lc((unsigned char)s[i])) * 1099511628211ull;
    return h;
}

static int ci_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
            return 0;
    return 1;
}

/* Distinct literals (ASCII-caseless) of one slot and (literal, anchor) pairs. */
struct lits {
    const char **s;
    size_t *len;
    uint32_t n, cap;
    int32_t *ht; /* -1 empty */
    uint32_t htcap;
    uint32_t (*pair)[2];
    uint32_t npair, paircap;
    uint32_t (*fpair)[2]; /* (literal, field condition) */
    uint32_t nfpair, fpaircap;
    uint32_t nfc; /* field conditions made only of this slot's literals */
};

static void lits_free(struct lits *l)
{
    free(l->s);
    free(l->len);
    free(l->ht);
    free(l->pair);
    free(l->fpair);
}

/* Literal id of s (added if new), or -1 on memory failure. */
static int64_t lits_intern(struct lits *l, const char *s, size_t n)
{
    if ((l->n + 1) * 2 > l->htcap) {
        uint32_t cap = l->htcap ? l->htcap * 2 : 64;
        int32_t *ht = malloc(cap * sizeof(*ht));
        if (!ht)
            return -1;
        for (uint32_t i = 0; i < cap; i++)
            ht[i] = -1;
        for (uint32_t i = 0; i < l->n; i++) {
            uint32_t j = (uint32_t)ci_hash(l->s[i], l->len[i]) & (cap - 1);
            while (ht[j] >= 0)
                j = (j + 1) & (cap - 1);
            ht[j] = (int32_t)i;
        }
        free(l->ht);
        l->ht = ht;
        l->htcap = cap;
    }
    uint32_t j = (uint32_t)ci_hash(s, n) & (l->htcap - 1);
    for (; l->ht[j] >= 0; j = (j + 1) & (l->htcap - 1)) {
        int32_t i = l->ht[j];
        if (l->len[i] == n && ci_eq(l->s[i], s, n))
            return i;
    }
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 64;
        const char **ns = realloc(l->s, cap * sizeof(*ns));
        if (!ns)
            return -1;
        l->s = ns;
        size_t *nl = realloc(l->len, cap * sizeof(*nl));
        if (!nl)
            return -1;
        l->len = nl;
        l->cap = cap;
    }
    l->s[l->n] = s;
    l->len[l->n] = n;
    l->ht[j] = (int32_t)l->n;
    return l->n++;
}

static int pairs_add(uint32_t (**arr)[2], uint32_t *n, uint32_t *cap, uint32_t a, uint32_t b)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 64;
        uint32_t(*np)[2] = realloc(*arr, nc * sizeof(*np));
        if (!np)
            return MW_ENOMEM;
        *arr = np;
        *cap = nc;
    }
    (*arr)[*n][0] = a;
    (*arr)[*n][1] = b;
    (*n)++;
    return 0;
}

static int lits_pair(struct lits *l, uint32_t lit, uint32_t anc)
{
    if (l->npair == l->paircap) {
        uint32_t cap = l->paircap ? l->paircap * 2 : 64;
        uint32_t(*np)[2] = realloc(l->pair, cap * sizeof(*np));
        if (!np)
            return MW_ENOMEM;
        l->pair = np;
        l->paircap = cap;
    }
    l->pair[l->npair][0] = lit;
    l->pair[l->npair][1] = anc;
    l->npair++;
    return 0;
}

static void slot_hs_free(struct sg_pf_slot *ps)
{
    hs_free_database(ps->hs_db);
    hs_free_database(ps->re_db);
    ps->re_db = NULL;
    ps->re_n = ps->re_base = 0;
    free(ps->hs_off);
    free(ps->hs_anc);
    free(ps->rest);
    free(ps->fc_off);
    free(ps->fc_ids);
    ps->hs_db = NULL;
    ps->hs_off = ps->hs_anc = ps->rest = ps->fc_off = ps->fc_ids = NULL;
    ps->nrest = 0;
    ps->hs_base = ps->hs_nlit = ps->hs_nfc = 0;
}

/* Calls fn on every value of every field condition and keyword list of the
 * ruleset (slot SG_SLOT_KW for keywords); stops at the first error. */
typedef int (*val_fn)(void *ctx, uint32_t slot, struct sg_value *v);

static int walk_values(mw_sigma_ruleset_t *rs, val_fn fn, void *ctx)
{
    int rc;
    for (size_t r = 0; r < rs->nrules; r++) {
        const struct sg_rule *rule = rs->rules[r];
        for (uint32_t s = 0; s < rule->nsels; s++) {
            const struct sg_sel *sel = &rule->sels[s];
            for (uint32_t m = 0; m < sel->nmaps; m++)
                for (uint32_t c = 0; c < sel->maps[m].n; c++) {
                    struct sg_fcond *fc = &sel->maps[m].conds[c];
                    for (uint32_t i = 0; i < fc->nvals; i++)
                        if ((rc = fn(ctx, fc->slot, &fc->vals[i])))
                            return rc;
                }
            for (uint32_t k = 0; k < sel->nkw; k++)
                if ((rc = fn(ctx, SG_SLOT_KW, &sel->kw[k])))
                    return rc;
        }
    }
    return 0;
}

static int val_reset(void *ctx, uint32_t slot, struct sg_value *v)
{
    (void)ctx;
    (void)slot;
    v->lit = 0;
    if (v->op == SG_RE && v->aux)
        ((struct sg_re *)(uintptr_t)v->aux)->hsid = 0; /* the rule's, writable */
    return 0;
}

/* ---- regexes ---- */
#define SG_HS_MAX_RE 4096 /* regexes in one slot's database; more: PCRE2 only */

struct rex_ent {
    struct sg_re *re;
    const struct sg_value *v;
    uint32_t id; /* 1 + local id in the slot's regex database, or 0 */
};
/* The |re values of one slot. */
struct rex {
    struct rex_ent *e;
    uint32_t n, cap;
};

/* Why regexes stayed PCRE2 only (for the load message). */
struct rex_why {
    uint32_t rejected, empty, options, other;
};

static int rex_add(struct rex *x, struct sg_re *re, const struct sg_value *v)
{
    if (x->n == x->cap) {
        uint32_t cap = x->cap ? x->cap * 2 : 16;
        struct rex_ent *ne = realloc(x->e, cap * sizeof(*ne));
        if (!ne)
            return MW_ENOMEM;
        x->e = ne;
        x->cap = cap;
    }
    x->e[x->n++] = (struct rex_ent){.re = re, .v = v};
    return 0;
}

static unsigned re_hs_flags(uint32_t f)
{
    unsigned hf = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH; /* byte mode: ASCII values */
    if (f & SG_RE_I)
        hf |= HS_FLAG_CASELESS;
    if (f & SG_RE_M)
        hf |= HS_FLAG_MULTILINE;
    if (f & SG_RE_S)
        hf |= HS_FLAG_DOTALL;
    return hf;
}

/* Same pattern and flags: one entry of the database. */
static int rex_cmp(const void *a, const void *b)
{
    const struct rex_ent *x = a, *y = b;
    if (x->re->flags != y->re->flags)
        return x->re->flags < y->re->flags ? -1 : 1;
    if (x->v->len != y->v->len)
        return x->v->len < y->v->len ? -1 : 1;
    return memcmp(x->v->s, y->v->s, x->v->len);
}

/* 1 if s[0..n) has no NUL (hs takes C strings) and no byte >= 0x80. */
static int ascii_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == 0 || (unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* 1 if Hyperscan can prefilter the regex of e on ASCII values with PCRE2's
 * semantics: the pattern is ASCII text, PCRE2 compiled it with only our
 * options and LF newlines, Hyperscan accepts it in prefilter mode, and it
 * cannot match an empty string (that would hit every value). */
static int re_eligible(const struct rex_ent *e, struct rex_why *why)
{
    /* PCRE2_ANCHORED: PCRE2 adds it to a pattern anchored by its structure
     * (^..., (^a|^b)); the pattern says so to Hyperscan too */
    const uint32_t ours = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_CASELESS | PCRE2_MULTILINE |
                          PCRE2_DOTALL | PCRE2_ANCHORED;
    uint32_t nl = 0, opts = 0;
    if (!e->v->s || !ascii_text(e->v->s, e->v->len) ||
        pcre2_pattern_info(e->re->code, PCRE2_INFO_NEWLINE, &nl) != 0 || nl != PCRE2_NEWLINE_LF ||
        pcre2_pattern_info(e->re->code, PCRE2_INFO_ALLOPTIONS, &opts) != 0 || (opts & ~ours)) {
        why->options++;
        return 0;
    }
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_expression_info(e->v->s, re_hs_flags(e->re->flags), &info, &cerr) != HS_SUCCESS) {
        hs_free_compile_error(cerr);
        why->rejected++;
        return 0;
    }
    int ok = info && info->min_width > 0;
    free(info); /* malloc'ed: no hs allocator is set */
    if (!ok)
        why->empty++;
    return ok;
}

static int compile_exprs(const char **ex, const unsigned *fl, const unsigned *ids, uint32_t n,
                         hs_database_t **db)
{
    hs_compile_error_t *cerr = NULL;
    if (hs_compile_multi(ex, fl, ids, n, HS_MODE_BLOCK, NULL, db, &cerr) == HS_SUCCESS)
        return 0;
    hs_free_compile_error(cerr);
    *db = NULL;
    return -1;
}

/* The regex database of one slot: distinct (pattern, flags) that pass
 * re_eligible, at most SG_HS_MAX_RE. If the joint compile fails, each is
 * compiled alone and the ones that fail stay PCRE2 only. Sets e->id;
 * *db NULL and *nout 0 when none is left. 0 or MW_ENOMEM. */
static int compile_res(struct rex *x, struct rex_why *why, hs_database_t **db, uint32_t *nout)
{
    *db = NULL;
    *nout = 0;
    if (x->n == 0)
        return 0;
    qsort(x->e, x->n, sizeof(*x->e), rex_cmp);
    const char **ex = malloc(x->n * sizeof(*ex));
    unsigned *fl = malloc(x->n * sizeof(*fl));
    unsigned *ids = malloc(x->n * sizeof(*ids));
    uint32_t *first = malloc(x->n * sizeof(*first)); /* entry of each expression */
    int rc = 0;
    if (!ex || !fl || !ids || !first) {
        rc = MW_ENOMEM;
        goto out;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < x->n;) {
        uint32_t j = i + 1;
        while (j < x->n && rex_cmp(&x->e[i], &x->e[j]) == 0)
            j++;
        if (n < SG_HS_MAX_RE && re_eligible(&x->e[i], why)) {
            ex[n] = x->e[i].v->s;
            fl[n] = re_hs_flags(x->e[i].re->flags);
            ids[n] = n;
            first[n++] = i;
        } else if (n >= SG_HS_MAX_RE) {
            why->other++;
        }
        i = j;
    }
    if (n && compile_exprs(ex, fl, ids, n, db)) {
        uint32_t k = 0; /* keep the ones that compile alone */
        for (uint32_t i = 0; i < n; i++) {
            hs_database_t *one = NULL;
            if (compile_exprs(&ex[i], &fl[i], &ids[i], 1, &one)) {
                why->rejected++;
                continue;
            }
            hs_free_database(one);
            ex[k] = ex[i];
            fl[k] = fl[i];
            ids[k] = k;
            first[k++] = first[i];
        }
        n = k;
        if (n && compile_exprs(ex, fl, ids, n, db)) {
            why->other += n;
            n = 0;
        }
    }
    for (uint32_t i = 0; i < x->n; i++)
        x->e[i].id = 0;
    for (uint32_t k = 0; k < n; k++) /* the entry and its duplicates */
        for (uint32_t i = first[k]; i < x->n && rex_cmp(&x->e[first[k]], &x->e[i]) == 0; i++)
            x->e[i].id = k + 1;
    *nout = n;
out:
    free(ex);
    free(fl);
    free(ids);
    free(first);
    return rc;
}

/* Calls fn on every field condition on a field (not keywords). */
typedef int (*fc_fn)(void *ctx, struct sg_fcond *fc);

static int walk_fconds(mw_sigma_ruleset_t *rs, fc_fn fn, void *ctx)
{
    int rc;
    for (size_t r = 0; r < rs->nrules; r++) {
        const struct sg_rule *rule = rs->rules[r];
        for (uint32_t s = 0; s < rule->nsels; s++) {
            const struct sg_sel *sel = &rule->sels[s];
            for (uint32_t m = 0; m < sel->nmaps; m++)
                for (uint32_t c = 0; c < sel->maps[m].n; c++)
                    if (sel->maps[m].conds[c].slot != SG_SLOT_KW &&
                        (rc = fn(ctx, &sel->maps[m].conds[c])))
                        return rc;
        }
    }
    return 0;
}

static int fc_reset(void *ctx, struct sg_fcond *fc)
{
    (void)ctx;
    fc->fid = 0;
    return 0;
}

/* Build state: one literal set per slot, plus one for the keywords. */
struct hsb {
    struct sg_prefilter *pf;
    struct lits *l; /* nslots + 1 entries; [nslots] = keywords */
    uint32_t *nvals; /* literal values per slot (sizing pass) */
    uint8_t *on; /* slot gets a database */
    int pass; /* 0: count, 1: intern (v->lit = local id + 1), 2: globalize */
    struct rex *rx; /* nslots entries: each slot's |re values (pass 0) */
    struct rex_why why;
};

static uint32_t hsb_index(const struct hsb *b, uint32_t slot)
{
    return slot == SG_SLOT_KW ? b->pf->nslots : slot < b->pf->nslots ? slot : UINT32_MAX;
}

static int val_pass(void *ctx, uint32_t slot, struct sg_value *v)
{
    struct hsb *b = ctx;
    uint32_t i = hsb_index(b, slot);
    if (b->pass == 0 && v->op == SG_RE && v->aux && slot < b->pf->nslots)
        return rex_add(&b->rx[slot], (struct sg_re *)(uintptr_t)v->aux, v);
    if (i == UINT32_MAX || !lit_ok(v))
        return 0;
    if (b->pass == 0) {
        b->nvals[i]++;
        return 0;
    }
    if (!b->on[i])
        return 0;
    if (b->pass == 1) {
        const char *ls;
        size_t ln;
        lit_span(v, &ls, &ln); /* true: lit_ok */
        int64_t id = lits_intern(&b->l[i], ls, ln);
        if (id < 0)
            return MW_ENOMEM;
        v->lit = (uint32_t)id + 1;
        return 0;
    }
    uint32_t base = i == b->pf->nslots ? b->pf->kw_base : b->pf->slots[i].hs_base;
    v->lit += base;
    return 0;
}

/* Field conditions all of whose values have literal ids (after pass 1: local
 * ids): pass 3 gives them a local id and (literal, condition) pairs; pass 4
 * makes fc->fid global (1 + id). */
static int fc_pass(void *ctx, struct sg_fcond *fc)
{
    struct hsb *b = ctx;
    uint32_t i = hsb_index(b, fc->slot);
    if (i == UINT32_MAX || !b->on[i] || fc->nvals == 0)
        return 0;
    if (b->pass == 3 && fc->nvals < sg_hs_fid_min_vals)
        return 0; /* no id: its few values' literal bits are tested one by one */
    if (b->pass == 4) {
        if (fc->fid)
            fc->fid += b->pf->slots[i].hs_base + b->pf->slots[i].hs_nlit;
        return 0;
    }
    for (uint32_t k = 0; k < fc->nvals; k++)
        if (!fc->vals[k].lit)
            return 0;
    struct lits *l = &b->l[i];
    uint32_t id = l->nfc++;
    for (uint32_t k = 0; k < fc->nvals; k++)
        if (pairs_add(&l->fpair, &l->nfpair, &l->fpaircap, fc->vals[k].lit - 1, id))
            return MW_ENOMEM;
    fc->fid = id + 1;
    return 0;
}

/* CSR of (literal -> field conditions) pairs over nlit literals. */
static int csr(uint32_t (*pair)[2], uint32_t npair, uint32_t nlit, uint32_t **off_out,
               uint32_t **ids_out)
{
    uint32_t *off = calloc((size_t)nlit + 1, sizeof(*off));
    uint32_t *ids = malloc(((size_t)npair + 1) * sizeof(*ids));
    if (!off || !ids) {
        free(off);
        free(ids);
        return MW_ENOMEM;
    }
    for (uint32_t p = 0; p < npair; p++)
        off[pair[p][0] + 1]++;
    for (uint32_t i = 0; i < nlit; i++)
        off[i + 1] += off[i];
    for (uint32_t p = 0; p < npair; p++)
        ids[off[pair[p][0]]++] = pair[p][1];
    for (uint32_t i = nlit; i > 0; i--)
        off[i] = off[i - 1];
    off[0] = 0;
    *off_out = off;
    *ids_out = ids;
    return 0;
}

static int compile_lits(const struct lits *l, hs_database_t **db)
{
    unsigned *flags = malloc(((size_t)l->n + 1) * sizeof(*flags));
    unsigned *ids = malloc(((size_t)l->n + 1) * sizeof(*ids));
    int rc = 0;
    if (!flags || !ids) {
        rc = MW_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < l->n; i++) {
        flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
        ids[i] = i;
    }
    hs_compile_error_t *cerr = NULL;
    if (hs_compile_lit_multi(l->s, flags, ids, l->len, l->n, HS_MODE_BLOCK, NULL, db, &cerr) !=
        HS_SUCCESS) {
        warn_once("compile error", cerr && cerr->message ? cerr->message : NULL);
        hs_free_compile_error(cerr);
        rc = MW_EINVAL;
    }
out:
    free(flags);
    free(ids);
    return rc;
}

/* Anchors of slot ps: literal-only ones get (literal, anchor) pairs in l
 * (interned first), the others go to rest[]. */
static int slot_anchors(struct sg_pf_slot *ps, struct lits *l)
{
    ps->rest = malloc(((size_t)ps->nother + 1) * sizeof(*ps->rest));
    if (!ps->rest)
        return MW_ENOMEM;
    for (uint32_t a = 0; a < ps->nother; a++) {
        const struct sg_fcond *fc = ps->other[a].fc;
        if (!anchor_ok(fc)) {
            ps->rest[ps->nrest++] = a;
            continue;
        }
        for (uint32_t i = 0; i < fc->nvals; i++) {
            const char *ls;
            size_t ln;
            lit_span(&fc->vals[i], &ls, &ln); /* true: anchor_ok */
            int64_t id = lits_intern(l, ls, ln);
            if (id < 0 || lits_pair(l, (uint32_t)id, a))
                return MW_ENOMEM;
        }
    }
    return 0;
}

/* Literal -> anchors in CSR form (hs_off over every literal of the slot,
 * empty for literals no anchor has), then the database. */
static int slot_finish(struct sg_pf_slot *ps, const struct lits *l)
{
    ps->hs_off = calloc((size_t)l->n + 1, sizeof(*ps->hs_off));
    ps->hs_anc = malloc(((size_t)l->npair + 1) * sizeof(*ps->hs_anc));
    if (!ps->hs_off || !ps->hs_anc)
        return MW_ENOMEM;
    for (uint32_t p = 0; p < l->npair; p++)
        ps->hs_off[l->pair[p][0] + 1]++;
    for (uint32_t i = 0; i < l->n; i++)
        ps->hs_off[i + 1] += ps->hs_off[i];
    /* Stable fill (anchors in list order per literal): hs_off[i] is used as
     * the cursor, then restored. */
    for (uint32_t p = 0; p < l->npair; p++)
        ps->hs_anc[ps->hs_off[l->pair[p][0]]++] = l->pair[p][1];
    for (uint32_t i = l->n; i > 0; i--)
        ps->hs_off[i] = ps->hs_off[i - 1];
    ps->hs_off[0] = 0;
    hs_database_t *db = NULL;
    int rc = compile_lits(l, &db);
    ps->hs_db = db;
    return rc;
}

void sg_pf_hs_free(struct sg_prefilter *pf)
{
    for (uint32_t i = 0; i < pf->nslots; i++)
        slot_hs_free(&pf->slots[i]);
    hs_free_database(pf->kw_db);
    pf->kw_db = NULL;
    pf->kw_base = pf->kw_nlit = pf->kw_minlen = pf->nlits = 0;
    pf->hs_id = 0;
}

static uint32_t align64(uint32_t n)
{
    return (n + 63u) & ~63u;
}

/* A slot gets a database from sg_hs_min_anchors literal-only anchors (the
 * prefilter's use), or from 4x that many literal values in conditions (the
 * evaluator's use: a literal the scan did not find is not compared). The
 * keywords get one from sg_hs_min_anchors literal values. Every literal
 * value of a slot with a database gets v->lit = 1 + its global id. */
static int build(mw_sigma_ruleset_t *rs, struct hsb *b)
{
    struct sg_prefilter *pf = b->pf;
    uint32_t n = pf->nslots + 1;
    int rc;
    b->pass = 0;
    if ((rc = walk_values(rs, val_pass, b)))
        return rc;
    int any = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nok = 0;
        if (i < pf->nslots)
            for (uint32_t a = 0; a < pf->slots[i].nother; a++)
                nok += (uint32_t)anchor_ok(pf->slots[i].other[a].fc);
        uint32_t min = sg_hs_min_anchors ? sg_hs_min_anchors : 1;
        b->on[i] = (nok > 0 && nok >= min) || (b->nvals[i] > 0 && b->nvals[i] >= 4 * min) ||
                   (i == pf->nslots && b->nvals[i] >= min && b->nvals[i] > 0);
        any |= b->on[i] | (i < pf->nslots && b->rx[i].n > 0);
    }
    if (!any)
        return 0;
    if (hs_valid_platform() != HS_SUCCESS) {
        warn_once("this CPU lacks the instructions Hyperscan needs", NULL);
        return MW_EINVAL;
    }
    for (uint32_t i = 0; i < pf->nslots; i++)
        if (b->on[i] && (rc = slot_anchors(&pf->slots[i], &b->l[i])))
            return rc;
    b->pass = 1;
    if ((rc = walk_values(rs, val_pass, b)))
        return rc;
    b->pass = 3;
    if ((rc = walk_fconds(rs, fc_pass, b)))
        return rc;
    for (uint32_t i = 0; i < pf->nslots; i++) {
        hs_database_t *db = NULL;
        if ((rc = compile_res(&b->rx[i], &b->why, &db, &pf->slots[i].re_n)))
            return rc;
        pf->slots[i].re_db = db;
    }
    uint32_t base = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nre = i < pf->nslots ? pf->slots[i].re_n : 0;
        if (!b->on[i] && !nre)
            continue;
        if ((uint64_t)base + b->l[i].n + b->l[i].nfc + nre + 64 > UINT32_MAX / 2)
            return MW_ELIMIT;
        if (nre) { /* the regexes' range, before the literals' */
            pf->slots[i].re_base = base;
            base = align64(base + nre);
            if (!b->on[i])
                continue;
        }
        if (i < pf->nslots) {
            struct sg_pf_slot *ps = &pf->slots[i];
            ps->hs_base = base;
            ps->hs_nlit = b->l[i].n;
            ps->hs_nfc = b->l[i].nfc;
            if ((rc = slot_finish(ps, &b->l[i])) ||
                (rc = csr(b->l[i].fpair, b->l[i].nfpair, b->l[i].n, &ps->fc_off, &ps->fc_ids)))
                return rc;
        } else {
            pf->kw_base = base;
            pf->kw_nlit = b->l[i].n;
            hs_database_t *db = NULL;
            rc = compile_lits(&b->l[i], &db);
            pf->kw_db = db;
            if (rc)
                return rc;
            size_t mn = b->l[i].n ? b->l[i].len[0] : 0;
            for (uint32_t j = 1; j < b->l[i].n; j++)
                if (b->l[i].len[j] < mn)
                    mn = b->l[i].len[j];
            pf->kw_minlen = mn <= UINT32_MAX ? (uint32_t)mn : UINT32_MAX;
        }
        base = align64(base + b->l[i].n + b->l[i].nfc); /* nfc = 0 for the keywords */
    }
    pf->nlits = base;
    b->pass = 2;
    if ((rc = walk_values(rs, val_pass, b)))
        return rc;
    b->pass = 4;
    if ((rc = walk_fconds(rs, fc_pass, b)))
        return rc;
    for (uint32_t i = 0; i < pf->nslots; i++) {
        const struct sg_pf_slot *ps = &pf->slots[i];
        for (uint32_t k = 0; k < b->rx[i].n; k++) {
            const struct rex_ent *e = &b->rx[i].e[k];
            e->re->hsid = e->id && ps->re_db ? ps->re_base + e->id : 0;
        }
    }
    return 0;
}

static int re_count(void *ctx, uint32_t slot, struct sg_value *v)
{
    struct sg_prefilter *pf = ctx;
    if (v->op != SG_RE)
        return 0;
    if (slot != SG_SLOT_KW && v->aux && ((const struct sg_re *)v->aux)->hsid)
        pf->re_hs++;
    else
        pf->re_pcre++;
    return 0;
}

void mw_sigma_regex_counts(const mw_sigma_ruleset_t *rs, size_t *in_hs, size_t *pcre_only)
{
    if (in_hs)
        *in_hs = rs ? rs->pf.re_hs : 0;
    if (pcre_only)
        *pcre_only = rs ? rs->pf.re_pcre : 0;
}

void sg_pf_hs_build(mw_sigma_ruleset_t *rs)
{
    static uint64_t next_id;
    struct sg_prefilter *pf = &rs->pf;
    sg_pf_hs_free(pf);
    walk_values(rs, val_reset, NULL);
    walk_fconds(rs, fc_reset, NULL);
    uint32_t n = pf->nslots + 1;
    struct hsb b = {.pf = pf};
    b.l = calloc(n, sizeof(*b.l));
    b.nvals = calloc(n, sizeof(*b.nvals));
    b.on = calloc(n, sizeof(*b.on));
    b.rx = calloc(n, sizeof(*b.rx));
    int rc = b.l && b.nvals && b.on && b.rx ? build(rs, &b) : MW_ENOMEM;
    if (rc == MW_ENOMEM)
        warn_once("out of memory", NULL);
    else if (rc == MW_ELIMIT)
        warn_once("too many literals", NULL);
    if (rc) {
        sg_pf_hs_free(pf);
        walk_values(rs, val_reset, NULL);
        walk_fconds(rs, fc_reset, NULL);
    } else if (pf->nlits) {
        pf->hs_id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    }
    pf->re_hs = pf->re_pcre = 0;
    walk_values(rs, re_count, pf);
    if (pf->re_hs + pf->re_pcre && !rs->errfn) /* tools with an errfn print the counts */
        mw_info("sigma",
                "regexes: %u prefiltered by Hyperscan, %u PCRE2 only (Hyperscan rejects %u, "
                "%u can match empty, %u with other PCRE2 options, %u other; distinct per field)",
                pf->re_hs, pf->re_pcre, b.why.rejected, b.why.empty, b.why.options, b.why.other);
    for (uint32_t i = 0; b.l && i < n; i++)
        lits_free(&b.l[i]);
    for (uint32_t i = 0; b.rx && i < n; i++)
        free(b.rx[i].e);
    free(b.rx);
    free(b.l);
    free(b.nvals);
    free(b.on);
}
