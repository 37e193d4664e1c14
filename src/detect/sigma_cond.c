/* Sigma condition expressions (Sigma specification, "Condition"):
 *
 *   expr    := and ( "or" and )*
 *   and     := unary ( "and" unary )*
 *   unary   := "not" unary | primary
 *   primary := "(" expr ")" | quant "of" ( PATTERN | "them" ) | NAME
 *   quant   := "all" | N (N >= 1; Sigma itself uses "1")
 *
 * Precedence: not > and > or. PATTERN is a selection name with '*'
 * wildcards; "them" is every selection whose name does not start with '_'.
 * Keywords are case-insensitive; selection names are case-sensitive. AND
 * and OR are n-ary nodes, so the tree depth is bounded by the nesting of
 * parentheses and "not" (MW_SIGMA_MAX_DEPTH). A list of conditions is their
 * OR. Aggregations ("| count() ...") and "near" are refused. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/sigma_internal.h"
#include "detect/sigma_pipeline.h"

#define SG_MAX_TOKENS 65536

enum tk { T_LP, T_RP, T_WORD, T_END };

struct tok {
    uint8_t t;
    uint32_t off, len;
};

struct pctx {
    struct sg_rule *r;
    const char *s; /* current condition string */
    uint32_t line;
    const char *file;
    char *err;
    size_t errlen;
    struct tok *toks;
    size_t ntoks, pos;
    size_t nodecap;
};

static int perr(struct pctx *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct pctx *p, int code, const char *fmt, ...)
{
    va_list ap;
    int off = snprintf(p->err, p->errlen, "%s:%u: condition: ", p->file, p->line);
    if (off < 0 || (size_t)off >= p->errlen)
        return code;
    va_start(ap, fmt);
    vsnprintf(p->err + off, p->errlen - (size_t)off, fmt, ap);
    va_end(ap);
    return code;
}

static int is_word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '*' || c == '?' || c >= 0x80;
}

static int tokenize(struct pctx *p)
{
    const char *s = p->s;
    size_t n = 0, i = 0;
    struct tok *t = NULL;
    for (int pass = 0; pass < 2; pass++) {
        n = 0;
        i = 0;
        for (;;) {
            while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
                i++;
            if (!s[i])
                break;
            unsigned char c = (unsigned char)s[i];
            struct tok k = {.off = (uint32_t)i, .len = 1};
            if (c == '(')
                k.t = T_LP, i++;
            else if (c == ')')
                k.t = T_RP, i++;
            else if (c == '|')
                return perr(p, MW_EINVAL,
                            "aggregations ('| count() ...') are not supported (column %zu)", i + 1);
            else if (is_word_char(c)) {
                size_t j = i;
                while (s[j] && is_word_char((unsigned char)s[j]))
                    j++;
                k.t = T_WORD;
                k.len = (uint32_t)(j - i);
                i = j;
            } else {
                return perr(p, MW_EINVAL, "unexpected character '%c' at column %zu", c, i + 1);
            }
            if (n >= SG_MAX_TOKENS)
                return perr(p, MW_ELIMIT, "more than %d tokens", SG_MAX_TOKENS);
            if (t)
                t[n] = k;
            n++;
        }
        if (pass == 0) {
            t = malloc((n + 1) * sizeof(*t));
            if (!t)
                return perr(p, MW_ENOMEM, "out of memory");
        }
    }
    t[n].t = T_END;
    t[n].off = (uint32_t)i;
    t[n].len = 0;
    p->toks = t;
    p->ntoks = n;
    p->pos = 0;
    return 0;
}

static int word_is(struct pctx *p, const struct tok *t, const char *kw)
{
    return t->t == T_WORD && t->len == strlen(kw) && !strncasecmp(p->s + t->off, kw, t->len);
}

static int is_reserved(struct pctx *p, const struct tok *t)
{
    return word_is(p, t, "and") || word_is(p, t, "or") || word_is(p, t, "not") ||
           word_is(p, t, "of") || word_is(p, t, "them") || word_is(p, t, "near");
}

static int new_node(struct pctx *p, uint8_t op, uint32_t *out)
{
    struct sg_rule *r = p->r;
    if (r->nnodes == p->nodecap)
        return perr(p, MW_ELIMIT, "too complex");
    struct sg_node *n = &r->nodes[r->nnodes];
    memset(n, 0, sizeof(*n));
    n->op = op;
    *out = r->nnodes++;
    return 0;
}

/* Copies kids into the arena and sets them on node idx. */
static int set_kids(struct pctx *p, uint32_t idx, const uint32_t *kids, size_t n)
{
    uint32_t *k = sg_alloc(&p->r->arena, n * sizeof(*k));
    if (!k)
        return perr(p, MW_ENOMEM, "out of memory");
    memcpy(k, kids, n * sizeof(*k));
    p->r->nodes[idx].kids = k;
    p->r->nodes[idx].n = (uint32_t)n;
    return 0;
}

/* Glob over selection names ('*' any run, '?' one char). */
static int name_match(const char *pat, size_t plen, const char *name)
{
    size_t pi = 0, ni = 0, star = (size_t)-1, mark = 0, nl = strlen(name);
    while (ni < nl) {
        if (pi < plen && (pat[pi] == '?' || pat[pi] == name[ni])) {
            pi++;
            ni++;
        } else if (pi < plen && pat[pi] == '*') {
            star = pi++;
            mark = ni;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            ni = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

static int parse_or(struct pctx *p, int depth, uint32_t *out);

static int parse_primary(struct pctx *p, int depth, uint32_t *out)
{
    struct sg_rule *r = p->r;
    struct tok *t = &p->toks[p->pos];
    int rc;
    if (t->t == T_LP) {
        p->pos++;
        if ((rc = parse_or(p, depth + 1, out)))
            return rc;
        if (p->toks[p->pos].t != T_RP)
            return perr(p, MW_EINVAL, "expected ')' at column %u", p->toks[p->pos].off + 1);
        p->pos++;
        return 0;
    }
    if (t->t != T_WORD)
        return perr(p, MW_EINVAL, "expected a selection name at column %u%s", t->off + 1,
                    t->t == T_END ? " (end of condition)" : "");
    /* quantifier: "all of X" / "N of X" */
    struct tok *nx = &p->toks[p->pos + (t->t == T_END ? 0 : 1)];
    if (word_is(p, nx, "of")) {
        uint32_t k = 0; /* 0 = all */
        if (!word_is(p, t, "all")) {
            unsigned long v = 0;
            for (uint32_t i = 0; i < t->len; i++) {
                char c = p->s[t->off + i];
                if (c < '0' || c > '9' || v > 100000)
                    return perr(p, MW_EINVAL, "'%.*s of' must be '1 of', 'N of' or 'all of'",
                                (int)t->len, p->s + t->off);
                v = v * 10 + (unsigned long)(c - '0');
            }
            if (v == 0)
                return perr(p, MW_EINVAL, "'0 of' is not allowed");
            k = (uint32_t)v;
        }
        struct tok *pt = &p->toks[p->pos + 2];
        if (pt->t != T_WORD || (is_reserved(p, pt) && !word_is(p, pt, "them")))
            return perr(p, MW_EINVAL,
                        "expected a selection pattern or 'them' after 'of' at "
                        "column %u",
                        pt->off + 1);
        int them = word_is(p, pt, "them");
        uint32_t sels[MW_SIGMA_MAX_SELECTIONS];
        size_t ns = 0;
        for (uint32_t i = 0; i < r->nsels; i++) {
            const char *nm = r->sels[i].name;
            if (them ? nm[0] != '_' : name_match(p->s + pt->off, pt->len, nm))
                sels[ns++] = i;
        }
        if (ns == 0)
            return perr(p, MW_EINVAL, "'%.*s' matches no selection", (int)pt->len, p->s + pt->off);
        if ((rc = new_node(p, SG_N_OF, out)) || (rc = set_kids(p, *out, sels, ns)))
            return rc;
        /* "N of" with N > count can never match; keep it (Sigma semantics) */
        r->nodes[*out].k = k ? k : (uint32_t)ns;
        p->pos += 3;
        return 0;
    }
    if (is_reserved(p, t) || word_is(p, t, "all"))
        return perr(p, MW_EINVAL, "unexpected '%.*s' at column %u", (int)t->len, p->s + t->off,
                    t->off + 1);
    for (uint32_t i = 0; i < r->nsels; i++) {
        if (strlen(r->sels[i].name) == t->len && !memcmp(r->sels[i].name, p->s + t->off, t->len)) {
            if ((rc = new_node(p, SG_N_SEL, out)))
                return rc;
            r->nodes[*out].sel = i;
            p->pos++;
            return 0;
        }
    }
    if (memchr(p->s + t->off, '*', t->len))
        return perr(p, MW_EINVAL, "pattern '%.*s' needs '1 of' or 'all of'", (int)t->len,
                    p->s + t->off);
    return perr(p, MW_EINVAL, "unknown selection '%.*s'", (int)t->len, p->s + t->off);
}

static int parse_unary(struct pctx *p, int depth, uint32_t *out)
{
    if (depth > MW_SIGMA_MAX_DEPTH)
        return perr(p, MW_ELIMIT, "nested deeper than %d", MW_SIGMA_MAX_DEPTH);
    if (word_is(p, &p->toks[p->pos], "not")) {
        uint32_t kid = 0; /* set by parse_unary when it returns 0 */
        int rc;
        p->pos++;
        if ((rc = parse_unary(p, depth + 1, &kid)) || (rc = new_node(p, SG_N_NOT, out)) ||
            (rc = set_kids(p, *out, &kid, 1)))
            return rc;
        return 0;
    }
    return parse_primary(p, depth, out);
}

/* One n-ary level: parses sub (unary for "and", and-level for "or"). */
static int parse_nary(struct pctx *p, int depth, const char *kw, uint8_t op, uint32_t *out)
{
    uint32_t *kids = NULL, first;
    size_t n = 0, cap = 0;
    int rc = op == SG_N_OR ? parse_nary(p, depth, "and", SG_N_AND, &first)
                           : parse_unary(p, depth, &first);
    if (rc)
        return rc;
    if (!word_is(p, &p->toks[p->pos], kw)) {
        *out = first;
        return 0;
    }
    for (;;) {
        uint32_t kid;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            uint32_t *nk = realloc(kids, cap * sizeof(*kids));
            if (!nk) {
                rc = perr(p, MW_ENOMEM, "out of memory");
                goto out;
            }
            kids = nk;
        }
        if (n == 0) {
            kids[n++] = first;
            continue;
        }
        if (!word_is(p, &p->toks[p->pos], kw))
            break;
        p->pos++;
        rc = op == SG_N_OR ? parse_nary(p, depth, "and", SG_N_AND, &kid)
                           : parse_unary(p, depth, &kid);
        if (rc)
            goto out;
        kids[n++] = kid;
    }
    if ((rc = new_node(p, op, out)) || (rc = set_kids(p, *out, kids, n)))
        goto out;
out:
    free(kids);
    return rc;
}

static int parse_or(struct pctx *p, int depth, uint32_t *out)
{
    if (depth > MW_SIGMA_MAX_DEPTH)
        return perr(p, MW_ELIMIT, "nested deeper than %d", MW_SIGMA_MAX_DEPTH);
    return parse_nary(p, depth, "or", SG_N_OR, out);
}

int sg_parse_condition(struct sg_rule *r, const char *const *conds, const uint32_t *lines,
                       size_t nconds, const char *file, char *err, size_t errlen)
{
    struct pctx p = {.r = r, .file = file, .err = err, .errlen = errlen};
    uint32_t *roots = NULL;
    int rc = 0;
    size_t total = 0;
    /* node bound: one per token, plus one OR over the list */
    for (size_t i = 0; i < nconds; i++)
        total += strlen(conds[i]) + 1;
    if (total > SG_MAX_TOKENS * 4) {
        p.line = lines[0];
        return perr(&p, MW_ELIMIT, "condition longer than %d bytes", SG_MAX_TOKENS * 4);
    }
    p.nodecap = total + 1;
    r->nodes = sg_alloc(&r->arena, p.nodecap * sizeof(*r->nodes));
    roots = malloc(nconds * sizeof(*roots));
    if (!r->nodes || !roots) {
        p.line = lines[0];
        rc = perr(&p, MW_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nconds; i++) {
        p.s = conds[i];
        p.line = lines[i];
        free(p.toks);
        p.toks = NULL;
        if ((rc = tokenize(&p)))
            goto out;
        if (p.ntoks == 0) {
            rc = perr(&p, MW_EINVAL, "empty condition");
            goto out;
        }
        if ((rc = parse_or(&p, 0, &roots[i])))
            goto out;
        struct tok *t = &p.toks[p.pos];
        if (t->t != T_END) {
            rc = word_is(&p, t, "near") ? perr(&p, MW_EINVAL, "'near' is not supported")
                                        : perr(&p, MW_EINVAL, "unexpected '%.*s' at column %u",
                                               (int)t->len, p.s + t->off, t->off + 1);
            goto out;
        }
    }
    if (nconds == 1) {
        r->root = roots[0];
    } else if ((rc = new_node(&p, SG_N_OR, &r->root)) ||
               (rc = set_kids(&p, r->root, roots, nconds))) {
        goto out;
    }
out:
    free(p.toks);
    free(roots);
    return rc;
}

/* ---- required fields ---------------------------------------------------- */

struct slotset {
    uint32_t *v;
    size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int set_from(struct slotset *s, const uint32_t *v, size_t n)
{
    s->v = malloc((n ? n : 1) * sizeof(*s->v));
    if (!s->v)
        return MW_ENOMEM;
    if (n)
        memcpy(s->v, v, n * sizeof(*v));
    qsort(s->v, n, sizeof(*s->v), cmp_u32);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (o == 0 || s->v[o - 1] != s->v[i])
            s->v[o++] = s->v[i];
    s->n = o;
    return 0;
}

/* a := a union b (b freed) or a intersect b. a->v NULL means "universe"
 * for intersection (first operand). */
static int set_merge(struct slotset *a, struct slotset *b, int is_union)
{
    if (!a->v) {
        *a = *b;
        b->v = NULL;
        return 0;
    }
    uint32_t *m = malloc((a->n + b->n + 1) * sizeof(*m));
    if (!m) {
        free(b->v);
        b->v = NULL;
        return MW_ENOMEM;
    }
    size_t i = 0, j = 0, o = 0;
    while (i < a->n || j < b->n) {
        if (j == b->n || (i < a->n && a->v[i] < b->v[j])) {
            if (is_union)
                m[o++] = a->v[i];
            i++;
        } else if (i == a->n || b->v[j] < a->v[i]) {
            if (is_union)
                m[o++] = b->v[j];
            j++;
        } else {
            m[o++] = a->v[i];
            i++;
            j++;
        }
    }
    free(a->v);
    free(b->v);
    b->v = NULL;
    a->v = m;
    a->n = o;
    return 0;
}

static int req_sel(const struct sg_sel *s, struct slotset *out)
{
    out->v = NULL;
    out->n = 0;
    if (s->nkw || s->nmaps == 0)
        return set_from(out, NULL, 0);
    for (uint32_t m = 0; m < s->nmaps; m++) {
        uint32_t tmp[1024];
        size_t n = 0;
        for (uint32_t i = 0; i < s->maps[m].n && n < 1024; i++)
            if (!s->maps[m].conds[i].has_null && s->maps[m].conds[i].slot != SG_SLOT_KW)
                tmp[n++] = s->maps[m].conds[i].slot;
        struct slotset ms;
        if (set_from(&ms, tmp, n) || set_merge(out, &ms, 0)) {
            free(out->v);
            out->v = NULL;
            return MW_ENOMEM;
        }
    }
    return 0;
}

static int req_node(const struct sg_rule *r, uint32_t idx, struct slotset *out)
{
    const struct sg_node *nd = &r->nodes[idx];
    out->v = NULL;
    out->n = 0;
    int rc = 0;
    switch (nd->op) {
    case SG_N_SEL:
        return req_sel(&r->sels[nd->sel], out);
    case SG_N_NOT:
        return set_from(out, NULL, 0);
    case SG_N_AND:
    case SG_N_OR:
    case SG_N_OF: {
        int is_union = nd->op == SG_N_AND || (nd->op == SG_N_OF && nd->k >= nd->n);
        if (is_union && (rc = set_from(out, NULL, 0)))
            return rc;
        for (uint32_t i = 0; i < nd->n; i++) {
            struct slotset k;
            rc = nd->op == SG_N_OF ? req_sel(&r->sels[nd->kids[i]], &k)
                                   : req_node(r, nd->kids[i], &k);
            if (rc || (rc = set_merge(out, &k, is_union))) {
                free(out->v);
                out->v = NULL;
                return rc ? rc : MW_ENOMEM;
            }
        }
        return 0;
    }
    }
    return set_from(out, NULL, 0);
}

int sg_compute_required(struct sg_rule *r)
{
    struct slotset s;
    int rc = req_node(r, r->root, &s);
    if (rc)
        return rc;
    r->req = sg_alloc(&r->arena, (s.n ? s.n : 1) * sizeof(*r->req));
    if (!r->req) {
        free(s.v);
        return MW_ENOMEM;
    }
    memcpy(r->req, s.v, s.n * sizeof(*s.v));
    r->nreq = (uint32_t)s.n;
    free(s.v);
    return 0;
}

/* ---- prefilter anchors ----------------------------------------------------
 * A set of field conditions such that, if the node holds, at least one of
 * them holds. AND needs only one child's set (the smallest), OR and "N of"
 * need the union, NOT and keywords give no set (the rule is then always
 * evaluated). A map contributes its most selective field condition. */

#define SG_MAX_ANCHORS 16

struct aset {
    int none; /* no usable set */
    int logsource; /* the logsource pipeline's selection (sigma_pipeline.h) */
    uint32_t n;
    int score; /* lowest score in the set */
    const struct sg_fcond *a[SG_MAX_ANCHORS];
};

static int fcond_score(const struct sg_fcond *fc)
{
    static const int base[] = {
        [SG_EXACT] = 5, [SG_STARTSWITH] = 4, [SG_ENDSWITH] = 4, [SG_CONTAINS] = 3,
        [SG_GLOB] = 2,  [SG_NULL] = 0,       [SG_ANY] = 0,      [SG_RE] = 1,
        [SG_CIDR] = 1,  [SG_NUM] = 0,        [SG_EXISTS] = 0,   [SG_FIELDREF] = 0};
    if (fc->has_null || fc->slot == SG_SLOT_KW)
        return -1;
    int worst = 1000;
    for (uint32_t i = 0; i < fc->nvals; i++) {
        const struct sg_value *v = &fc->vals[i];
        int sc = base[v->op] * 100 + (v->len > 40 ? 40 : (int)v->len);
        if (base[v->op] == 0 || (v->op != SG_EXACT && v->len == 0))
            sc = 0;
        if (sc < worst)
            worst = sc;
    }
    return fc->all ? worst + 50 : worst - (int)fc->nvals;
}

static void aset_add(struct aset *s, const struct sg_fcond *fc, int score)
{
    if (s->none)
        return;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->a[i] == fc)
            return;
    if (s->n == SG_MAX_ANCHORS) {
        s->none = 1;
        return;
    }
    if (s->n == 0 || score < s->score)
        s->score = score;
    s->a[s->n++] = fc;
}

static void aset_union(struct aset *s, const struct aset *o)
{
    if (o->none) {
        s->none = 1;
        return;
    }
    for (uint32_t i = 0; i < o->n && !s->none; i++)
        aset_add(s, o->a[i], fcond_score(o->a[i]));
}

/* The logsource selection (Channel, EventID) holds for most events of its
 * kind, so an AND prefers any other child's set to it. */
static int aset_better(const struct aset *a, const struct aset *b)
{
    if (a->none || a->n == 0)
        return 0;
    if (b->none || b->n == 0)
        return 1;
    if (a->logsource != b->logsource)
        return b->logsource;
    return a->n < b->n || (a->n == b->n && a->score > b->score);
}

static void anchors_sel(const struct sg_sel *sel, struct aset *out)
{
    memset(out, 0, sizeof(*out));
    if (sel->nkw || sel->nmaps == 0) {
        out->none = 1;
        return;
    }
    for (uint32_t m = 0; m < sel->nmaps && !out->none; m++) {
        const struct sg_fcond *best = NULL;
        int bs = 0;
        for (uint32_t i = 0; i < sel->maps[m].n; i++) {
            int sc = fcond_score(&sel->maps[m].conds[i]);
            if (sc > 0 && (!best || sc > bs)) {
                best = &sel->maps[m].conds[i];
                bs = sc;
            }
        }
        if (!best)
            out->none = 1;
        else
            aset_add(out, best, bs);
    }
}

static void anchors_node(const struct sg_rule *r, uint32_t idx, struct aset *out)
{
    const struct sg_node *nd = &r->nodes[idx];
    struct aset k;
    memset(out, 0, sizeof(*out));
    switch (nd->op) {
    case SG_N_SEL:
        anchors_sel(&r->sels[nd->sel], out);
        out->logsource = r->sels[nd->sel].name && !strcmp(r->sels[nd->sel].name, SG_PIPELINE_SEL);
        return;
    case SG_N_AND:
    case SG_N_OF:
        if (nd->op == SG_N_AND || nd->k >= nd->n) { /* every child must hold: pick one */
            out->none = 1;
            for (uint32_t i = 0; i < nd->n; i++) {
                if (nd->op == SG_N_AND)
                    anchors_node(r, nd->kids[i], &k);
                else
                    anchors_sel(&r->sels[nd->kids[i]], &k);
                if (aset_better(&k, out))
                    *out = k;
            }
            return;
        }
        for (uint32_t i = 0; i < nd->n && !out->none; i++) {
            anchors_sel(&r->sels[nd->kids[i]], &k);
            aset_union(out, &k);
        }
        return;
    case SG_N_OR:
        for (uint32_t i = 0; i < nd->n && !out->none; i++) {
            anchors_node(r, nd->kids[i], &k);
            aset_union(out, &k);
        }
        return;
    default: /* NOT */
        out->none = 1;
        return;
    }
}

int sg_compute_anchors(struct sg_rule *r)
{
    struct aset s;
    anchors_node(r, r->root, &s);
    if (s.none || s.n == 0)
        return 0;
    r->anchors = sg_alloc(&r->arena, s.n * sizeof(*r->anchors));
    if (!r->anchors)
        return MW_ENOMEM;
    memcpy(r->anchors, s.a, s.n * sizeof(*s.a));
    r->nanchors = s.n;
    return 0;
}
