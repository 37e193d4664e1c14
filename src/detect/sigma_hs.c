/* Sigma prefilter, Hyperscan part: per field slot, one literal database of
 * the values of the slot's anchors (docs/internals/sigma-prefilter.md).
 *
 * It only prunes: an anchor (a field condition of which the rule needs at
 * least one to hold) whose values are all literals can hold only if one of
 * its literals occurs, ASCII-caseless, in the field's text. exact,
 * startswith, endswith and contains all imply that, cased or not, and so do
 * |all conditions (their first group needs a matching value). On a hit the
 * anchor is still confirmed by the evaluator (fcond_match), so the set of
 * candidate rules is the same as with the one-by-one check. Anchors with
 * other values (globs, null, re, numbers, ...) or literals shorter than
 * SG_HS_MIN_LIT stay on the one-by-one check. */
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_internal.h"
#include "mwrasp/log.h"

uint32_t sg_hs_min_anchors = 8;
#define SG_HS_MIN_LIT 3 /* shorter literals hit too often to be worth it */

static int hs_warned;

static void warn_once(const char *what, const char *detail)
{
    if (__atomic_exchange_n(&hs_warned, 1, __ATOMIC_RELAXED))
        return;
    mw_warn("sigma", "Hyperscan prefilter not used (%s%s%s): rules are prefiltered one by one",
            what, detail ? ": " : "", detail ? detail : "");
}

static int lit_ok(const struct sg_value *v)
{
    return (v->op == SG_EXACT || v->op == SG_CONTAINS || v->op == SG_STARTSWITH ||
            v->op == SG_ENDSWITH) &&
           v->len >= SG_HS_MIN_LIT;
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
};

static void lits_free(struct lits *l)
{
    free(l->s);
    free(l->len);
    free(l->ht);
    free(l->pair);
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
    free(ps->hs_off);
    free(ps->hs_anc);
    free(ps->rest);
    ps->hs_db = NULL;
    ps->hs_off = ps->hs_anc = ps->rest = NULL;
    ps->nrest = 0;
}

void sg_pf_hs_free(struct sg_prefilter *pf)
{
    for (uint32_t i = 0; i < pf->nslots; i++)
        slot_hs_free(&pf->slots[i]);
    pf->hs_id = 0;
}

/* Builds slot ps's database. 0 (also when the slot is too small: no
 * database), MW_ENOMEM, or MW_EINVAL when Hyperscan refused (logged). */
static int slot_hs_build(struct sg_pf_slot *ps)
{
    struct lits l = {0};
    unsigned *flags = NULL, *ids = NULL;
    int rc = 0;
    uint32_t nok = 0;
    for (uint32_t a = 0; a < ps->nother; a++)
        nok += (uint32_t)anchor_ok(ps->other[a].fc);
    if (nok == 0 || nok < sg_hs_min_anchors)
        return 0;
    ps->rest = malloc((ps->nother - nok + 1) * sizeof(*ps->rest));
    if (!ps->rest)
        goto nomem;
    for (uint32_t a = 0; a < ps->nother; a++) {
        const struct sg_fcond *fc = ps->other[a].fc;
        if (!anchor_ok(fc)) {
            ps->rest[ps->nrest++] = a;
            continue;
        }
        for (uint32_t i = 0; i < fc->nvals; i++) {
            int64_t id = lits_intern(&l, fc->vals[i].s, fc->vals[i].len);
            if (id < 0 || lits_pair(&l, (uint32_t)id, a))
                goto nomem;
        }
    }
    ps->hs_off = calloc((size_t)l.n + 1, sizeof(*ps->hs_off));
    ps->hs_anc = malloc(((size_t)l.npair + 1) * sizeof(*ps->hs_anc));
    flags = malloc((size_t)l.n * sizeof(*flags));
    ids = malloc((size_t)l.n * sizeof(*ids));
    if (!ps->hs_off || !ps->hs_anc || !flags || !ids)
        goto nomem;
    for (uint32_t p = 0; p < l.npair; p++)
        ps->hs_off[l.pair[p][0] + 1]++;
    for (uint32_t i = 0; i < l.n; i++) {
        ps->hs_off[i + 1] += ps->hs_off[i];
        flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
        ids[i] = i;
    }
    /* Stable fill (anchors in list order per literal): hs_off[i] is used as
     * the cursor, then restored. */
    for (uint32_t p = 0; p < l.npair; p++)
        ps->hs_anc[ps->hs_off[l.pair[p][0]]++] = l.pair[p][1];
    for (uint32_t i = l.n; i > 0; i--)
        ps->hs_off[i] = ps->hs_off[i - 1];
    ps->hs_off[0] = 0;
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_compile_lit_multi(l.s, flags, ids, l.len, l.n, HS_MODE_BLOCK, NULL, &db, &cerr) !=
        HS_SUCCESS) {
        warn_once("compile error", cerr && cerr->message ? cerr->message : NULL);
        hs_free_compile_error(cerr);
        rc = MW_EINVAL;
        goto out;
    }
    ps->hs_db = db;
    goto out;
nomem:
    rc = MW_ENOMEM;
out:
    if (rc)
        slot_hs_free(ps);
    free(flags);
    free(ids);
    lits_free(&l);
    return rc;
}

void sg_pf_hs_build(mw_sigma_ruleset_t *rs)
{
    static uint64_t next_id;
    struct sg_prefilter *pf = &rs->pf;
    sg_pf_hs_free(pf);
    int any = 0;
    for (uint32_t i = 0; i < pf->nslots; i++)
        any |= pf->slots[i].nother >= sg_hs_min_anchors && pf->slots[i].nother > 0;
    if (!any)
        return;
    if (hs_valid_platform() != HS_SUCCESS) {
        warn_once("this CPU lacks the instructions Hyperscan needs", NULL);
        return;
    }
    int built = 0;
    for (uint32_t i = 0; i < pf->nslots; i++) {
        int rc = slot_hs_build(&pf->slots[i]);
        if (rc == MW_ENOMEM)
            warn_once("out of memory", NULL);
        if (rc) {
            sg_pf_hs_free(pf);
            return;
        }
        built |= pf->slots[i].hs_db != NULL;
    }
    if (built)
        pf->hs_id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
}
