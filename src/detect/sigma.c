/* Sigma rulesets: loading files and directories, the field-slot table, the
 * per-rule arena, and the "sigma" detector (struct mw_detector_ops). The
 * compiler is in sigma_compile.c and sigma_cond.c, matching in
 * sigma_match.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "detect/sigma_internal.h"
#include "detect/sigma_pipeline.h"
#include "mwrasp/log.h"
#include "mwrasp/metrics.h"

#define SG_MAX_DIR_FILES 100000
#define SG_MAX_DIR_DEPTH 16
#define SG_PATH_MAX 4096

/* ---- arena -------------------------------------------------------------- */

struct sg_chunk {
    struct sg_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *sg_alloc(struct sg_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct sg_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        if (n > SG_ARENA_MAX || a->total + cap > SG_ARENA_MAX)
            return NULL;
        c = calloc(1, sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        a->total += cap;
        if (a->head && a->head->cap - a->head->used > 512) {
            /* keep the roomier chunk in front */
            c->next = a->head->next;
            a->head->next = c;
            c->used = n;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *sg_strndup(struct sg_arena *a, const char *s, size_t n)
{
    char *d = sg_alloc(a, n + 1);
    if (d)
        memcpy(d, s, n);
    return d;
}

void sg_arena_free(struct sg_arena *a)
{
    struct sg_chunk *c = a->head;
    while (c) {
        struct sg_chunk *nx = c->next;
        free(c);
        c = nx;
    }
    a->head = NULL;
    a->total = 0;
}

/* ---- field slots --------------------------------------------------------- */

static uint32_t fnv(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static uint32_t fnv_lower(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static int eq_nocase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

int32_t sg_fields_find_ci(const struct sg_fields *f, const char *name, size_t len)
{
    if (!f->htcap)
        return -1;
    uint32_t m = f->htcap - 1, i = fnv_lower(name, len) & m;
    for (;;) {
        int32_t s = f->ci_ht[i];
        if (s < 0)
            return -1;
        if (f->lens[s] == len && eq_nocase(f->names[s], name, len))
            return s;
        i = (i + 1) & m;
    }
}

/* Adds slot s to its case-insensitive group (ci_ht has room: same size as
 * ht, which is kept at most half full). */
static void ci_insert(struct sg_fields *f, uint32_t s)
{
    uint32_t m = f->htcap - 1, i = fnv_lower(f->names[s], f->lens[s]) & m;
    f->ci_next[s] = -1;
    for (;;) {
        int32_t h = f->ci_ht[i];
        if (h < 0) {
            f->ci_ht[i] = (int32_t)s;
            f->ci_head[s] = (int32_t)s;
            return;
        }
        if (f->lens[h] == f->lens[s] && eq_nocase(f->names[h], f->names[s], f->lens[s])) {
            int32_t t = h;
            while (f->ci_next[t] >= 0)
                t = f->ci_next[t];
            f->ci_next[t] = (int32_t)s;
            f->ci_head[s] = h;
            return;
        }
        i = (i + 1) & m;
    }
}

void sg_vfail_at(char *err, size_t errlen, const char *file, unsigned long line, const char *fmt,
                 va_list ap)
{
    int off = snprintf(err, errlen, "%s:%lu: ", file, line);
    if (off < 0 || (size_t)off >= errlen)
        return;
    vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
}

int32_t sg_fields_find(const struct sg_fields *f, const char *name, size_t len)
{
    if (!f->htcap)
        return -1;
    uint32_t m = f->htcap - 1, i = fnv(name, len) & m;
    for (;;) {
        int32_t s = f->ht[i];
        if (s < 0)
            return -1;
        if (f->lens[s] == len && memcmp(f->names[s], name, len) == 0)
            return s;
        i = (i + 1) & m;
    }
}

static int fields_rehash(struct sg_fields *f, uint32_t htcap)
{
    int32_t *ht = malloc(htcap * sizeof(*ht));
    if (!ht)
        return MW_ENOMEM;
    memset(ht, 0xff, htcap * sizeof(*ht));
    for (uint32_t s = 0; s < f->n; s++) {
        uint32_t i = fnv(f->names[s], f->lens[s]) & (htcap - 1);
        while (ht[i] >= 0)
            i = (i + 1) & (htcap - 1);
        ht[i] = (int32_t)s;
    }
    int32_t *ci = malloc(htcap * sizeof(*ci));
    if (!ci) {
        free(ht);
        return MW_ENOMEM;
    }
    memset(ci, 0xff, htcap * sizeof(*ci));
    free(f->ht);
    free(f->ci_ht);
    f->ht = ht;
    f->ci_ht = ci;
    f->htcap = htcap;
    for (uint32_t s = 0; s < f->n; s++)
        ci_insert(f, s);
    return 0;
}

int sg_fields_intern(struct sg_fields *f, const char *name, size_t len, uint32_t *slot)
{
    int32_t s = sg_fields_find(f, name, len);
    if (s >= 0) {
        *slot = (uint32_t)s;
        return 0;
    }
    if (f->n >= MW_SIGMA_MAX_FIELDS)
        return MW_ELIMIT;
    if (f->n == f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 32;
        char **nn = realloc(f->names, cap * sizeof(*nn));
        if (!nn)
            return MW_ENOMEM;
        f->names = nn;
        uint32_t *nl = realloc(f->lens, cap * sizeof(*nl));
        if (!nl)
            return MW_ENOMEM;
        f->lens = nl;
        int32_t *cn = realloc(f->ci_next, cap * sizeof(*cn));
        if (!cn)
            return MW_ENOMEM;
        f->ci_next = cn;
        int32_t *ch = realloc(f->ci_head, cap * sizeof(*ch));
        if (!ch)
            return MW_ENOMEM;
        f->ci_head = ch;
        f->cap = cap;
    }
    if ((f->n + 1) * 2 > f->htcap) {
        int rc = fields_rehash(f, f->htcap ? f->htcap * 2 : 64);
        if (rc)
            return rc;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return MW_ENOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    f->names[f->n] = copy;
    f->lens[f->n] = (uint32_t)len;
    uint32_t i = fnv(name, len) & (f->htcap - 1);
    while (f->ht[i] >= 0)
        i = (i + 1) & (f->htcap - 1);
    f->ht[i] = (int32_t)f->n;
    ci_insert(f, f->n);
    *slot = f->n++;
    static uint64_t uids; /* process-wide: a table's uid is never reused */
    f->uid = __atomic_add_fetch(&uids, 1, __ATOMIC_RELAXED);
    return 0;
}

/* ---- ruleset ------------------------------------------------------------ */

static void pf_free(struct sg_prefilter *pf);

mw_sigma_ruleset_t *mw_sigma_ruleset_new(void)
{
    return calloc(1, sizeof(mw_sigma_ruleset_t));
}

void mw_sigma_ruleset_free(mw_sigma_ruleset_t *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nrules; i++)
        sg_rule_free(rs->rules[i]);
    free(rs->rules);
    for (uint32_t i = 0; i < rs->fields.n; i++)
        free(rs->fields.names[i]);
    free(rs->fields.names);
    free(rs->fields.lens);
    free(rs->fields.ht);
    free(rs->fields.ci_ht);
    free(rs->fields.ci_next);
    free(rs->fields.ci_head);
    pf_free(&rs->pf);
    free(rs->gates);
    for (size_t i = 0; i < rs->nwarns; i++)
        free(rs->warns[i]);
    free(rs->warns);
    mw_sigma_pipeline_free(rs->pipeline);
    free(rs);
}

size_t mw_sigma_count(const mw_sigma_ruleset_t *rs)
{
    return rs ? rs->nrules : 0;
}

const char *mw_sigma_last_error(const mw_sigma_ruleset_t *rs)
{
    return rs ? rs->err : "";
}

/* Logs and counts the message already in rs->err. */
static void refuse(mw_sigma_ruleset_t *rs)
{
    if (rs->errfn)
        rs->errfn(rs->errctx, rs->err);
    else
        mw_error("sigma", "%s", rs->err);
    MW_INC(mw_metrics.rule_errors);
}

static int pf_grow_slots(struct sg_prefilter *pf, uint32_t n)
{
    if (n <= pf->nslots)
        return 0;
    struct sg_pf_slot *ns = realloc(pf->slots, n * sizeof(*ns));
    if (!ns)
        return MW_ENOMEM;
    memset(ns + pf->nslots, 0, (n - pf->nslots) * sizeof(*ns));
    pf->slots = ns;
    pf->nslots = n;
    return 0;
}

static int pf_exact_insert(struct sg_prefilter *pf, uint32_t slot, const struct sg_value *v,
                           uint32_t rule)
{
    if ((pf->htn + 1) * 2 > pf->htcap) {
        uint32_t cap = pf->htcap ? pf->htcap * 2 : 256;
        struct sg_pf_exact *ht = calloc(cap, sizeof(*ht));
        if (!ht)
            return MW_ENOMEM;
        for (uint32_t i = 0; i < pf->htcap; i++) {
            if (!pf->ht[i].used)
                continue;
            uint32_t j = (uint32_t)(pf->ht[i].hash ^ pf->ht[i].slot) & (cap - 1);
            while (ht[j].used)
                j = (j + 1) & (cap - 1);
            ht[j] = pf->ht[i];
        }
        free(pf->ht);
        pf->ht = ht;
        pf->htcap = cap;
    }
    uint64_t h = sg_hash64(v->s, v->len);
    uint32_t j = (uint32_t)(h ^ slot) & (pf->htcap - 1);
    while (pf->ht[j].used)
        j = (j + 1) & (pf->htcap - 1);
    pf->ht[j] = (struct sg_pf_exact){
        .slot = slot, .len = v->len, .rule = rule, .used = 1, .hash = h, .s = v->s};
    pf->htn++;
    pf->slots[slot].nexact++;
    if (v->len > pf->slots[slot].exact_maxlen)
        pf->slots[slot].exact_maxlen = v->len;
    return 0;
}

static int pf_other_add(struct sg_prefilter *pf, const struct sg_fcond *fc, uint32_t rule,
                        uint32_t gate)
{
    struct sg_pf_slot *ps = &pf->slots[fc->slot];
    if (ps->nother == ps->cap) {
        uint32_t cap = ps->cap ? ps->cap * 2 : 8;
        struct sg_pf_other *no = realloc(ps->other, cap * sizeof(*no));
        if (!no)
            return MW_ENOMEM;
        ps->other = no;
        ps->cap = cap;
    }
    struct sg_pf_other *o = &ps->other[ps->nother++];
    *o = (struct sg_pf_other){.fc = fc, .rule = rule, .has_bloom = 1, .gate = gate};
    o->bloom[0] = o->bloom[1] = o->bloom[2] = o->bloom[3] = ~0ull;
    for (uint32_t i = 0; i < fc->nvals; i++) {
        if ((fc->vals[i].op != SG_CONTAINS && fc->vals[i].op != SG_GLOB) || fc->vals[i].len < 2) {
            o->has_bloom = 0;
            break;
        }
        for (int k = 0; k < 4; k++)
            o->bloom[k] &= fc->vals[i].bloom[k];
    }
    return 0;
}

static int fcond_all_exact(const struct sg_fcond *fc)
{
    if (fc->all && fc->nvals > 1)
        return 0;
    for (uint32_t i = 0; i < fc->nvals; i++)
        if (fc->vals[i].op != SG_EXACT || fc->vals[i].cased)
            return 0; /* the exact table holds lowercased values */
    return 1;
}

/* Enters rule number idx into the prefilter. On failure the index may hold
 * part of the rule: harmless (it only marks the rule for evaluation), and
 * the rule is then not added. */
static int pf_add(struct sg_prefilter *pf, const struct sg_rule *r, uint32_t idx, uint32_t nslots)
{
    int rc = pf_grow_slots(pf, nslots);
    if (rc)
        return rc;
    if (r->nanchors == 0) {
        if (pf->nalways == pf->alwayscap) {
            uint32_t cap = pf->alwayscap ? pf->alwayscap * 2 : 16;
            uint32_t *na = realloc(pf->always, cap * sizeof(*na));
            if (!na)
                return MW_ENOMEM;
            pf->always = na;
            pf->alwayscap = cap;
        }
        pf->always[pf->nalways++] = idx;
        return 0;
    }
    for (uint32_t a = 0; a < r->nanchors; a++) {
        const struct sg_fcond *fc = r->anchors[a];
        if (fcond_all_exact(fc)) {
            for (uint32_t i = 0; i < fc->nvals; i++)
                if ((rc = pf_exact_insert(pf, fc->slot, &fc->vals[i], idx)))
                    return rc;
        } else if ((rc = pf_other_add(pf, fc, idx, r->gate))) {
            return rc;
        }
    }
    return 0;
}

static void pf_free(struct sg_prefilter *pf)
{
    sg_pf_hs_free(pf);
    for (uint32_t i = 0; i < pf->nslots; i++)
        free(pf->slots[i].other);
    free(pf->slots);
    free(pf->ht);
    free(pf->always);
}

/* ---- logsource gates ------------------------------------------------------
 * With a logsource pipeline every rule's condition is "(ORIGINAL) and
 * _mwrasp_logsource" (sigma_pipeline.c), and hundreds of rules share the
 * same few Channel / EventID selections. A selection that the root ANDs with
 * is a necessary condition of the rule (in SQL null mode too: a TRUE there
 * is TRUE in spec mode), so the matcher evaluates each distinct one at most
 * once per event and skips the anchors and the evaluation of every rule
 * whose gate is false. Only the pipeline's selection is used (it is the one
 * rules share); equal means the same compiled values in the same order. */

static int value_equal(const struct sg_value *a, const struct sg_value *b)
{
    if (a->op != b->op || a->cased != b->cased || a->cmp != b->cmp || a->len != b->len ||
        a->grp != b->grp || a->aux != b->aux)
        return 0;
    if (a->s != b->s && (!a->s || !b->s || memcmp(a->s, b->s, a->len) != 0))
        return 0;
    if (a->kinds != b->kinds && (!a->kinds || !b->kinds || memcmp(a->kinds, b->kinds, a->len) != 0))
        return 0;
    return 1;
}

static int fcond_equal(const struct sg_fcond *a, const struct sg_fcond *b)
{
    if (a->slot != b->slot || a->nvals != b->nvals || a->ngrp != b->ngrp || a->all != b->all ||
        a->has_null != b->has_null)
        return 0;
    for (uint32_t i = 0; i < a->nvals; i++)
        if (!value_equal(&a->vals[i], &b->vals[i]))
            return 0;
    return 1;
}

static int sel_equal(const struct sg_sel *a, const struct sg_sel *b)
{
    if (a->nmaps != b->nmaps || a->nkw || b->nkw)
        return 0;
    for (uint32_t m = 0; m < a->nmaps; m++) {
        if (a->maps[m].n != b->maps[m].n)
            return 0;
        for (uint32_t i = 0; i < a->maps[m].n; i++)
            if (!fcond_equal(&a->maps[m].conds[i], &b->maps[m].conds[i]))
                return 0;
    }
    return 1;
}

/* Sets r->gate (0 when the rule has none, or on memory failure: the rule is
 * then simply not gated). */
static void rule_gate(mw_sigma_ruleset_t *rs, struct sg_rule *r)
{
    r->gate = 0;
    if (r->root >= r->nnodes || r->nodes[r->root].op != SG_N_AND)
        return;
    const struct sg_node *root = &r->nodes[r->root];
    const struct sg_sel *sel = NULL;
    for (uint32_t i = 0; i < root->n && !sel; i++) {
        const struct sg_node *k = &r->nodes[root->kids[i]];
        const struct sg_sel *s = k->op == SG_N_SEL ? &r->sels[k->sel] : NULL;
        if (s && s->name && !strcmp(s->name, SG_PIPELINE_SEL) && !s->nkw && s->nmaps)
            sel = s;
    }
    if (!sel)
        return;
    for (uint32_t g = 0; g < rs->ngates; g++) {
        if (sel_equal(rs->gates[g], sel)) {
            r->gate = g + 1;
            return;
        }
    }
    if (rs->ngates >= SG_MAX_GATES)
        return;
    if (rs->ngates == rs->gatecap) {
        uint32_t cap = rs->gatecap ? rs->gatecap * 2 : 16;
        const struct sg_sel **ng = realloc(rs->gates, cap * sizeof(*ng));
        if (!ng)
            return;
        rs->gates = ng;
        rs->gatecap = cap;
    }
    rs->gates[rs->ngates++] = sel;
    r->gate = rs->ngates;
}

static int add_rule(mw_sigma_ruleset_t *rs, struct sg_rule *r)
{
    rule_gate(rs, r);
    int rc = pf_add(&rs->pf, r, (uint32_t)rs->nrules, rs->fields.n);
    if (rc)
        return rc;
    if (rs->nrules == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        struct sg_rule **nr = realloc(rs->rules, cap * sizeof(*nr));
        if (!nr)
            return MW_ENOMEM;
        rs->rules = nr;
        rs->cap = cap;
    }
    rs->rules[rs->nrules++] = r;
    return 0;
}

static int empty_doc(yaml_node_t *root)
{
    return root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0 &&
           root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* libyaml's scanner is quadratic in the nesting depth of flow collections
 * ("[[[[..." of 1 MiB takes an hour), so the text is pre-scanned and refused
 * past MW_SIGMA_MAX_DEPTH open '[' / '{'. The scan follows YAML closely
 * enough for this purpose: quotes and comments are skipped, and outside a
 * flow collection a bracket counts only where a value or list item can
 * start. Returns 0, or MW_ELIMIT with the 1-based position of the bracket. */
static int flow_depth_ok(const char *s, size_t len, unsigned long *line, unsigned long *col)
{
    size_t depth = 0, ln = 1, bol = 0;
    char prev = '\n'; /* last non-blank character on this line, '\n' = none */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\n') {
            ln++;
            bol = i + 1;
            prev = '\n';
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        int value_start = prev == '\n' || prev == ':' || prev == '-' || prev == '?' ||
                          (depth > 0 && (prev == '[' || prev == '{' || prev == ','));
        if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\n')) {
            while (i + 1 < len && s[i + 1] != '\n')
                i++;
            continue;
        }
        if ((c == '\'' || c == '"') && value_start) {
            char q = c;
            for (i++; i < len; i++) {
                if (s[i] == '\n') {
                    ln++;
                    bol = i + 1;
                } else if (q == '"' && s[i] == '\\' && i + 1 < len && s[i + 1] != '\n') {
                    i++;
                } else if (s[i] == q) {
                    if (q == '\'' && i + 1 < len && s[i + 1] == '\'')
                        i++;
                    else
                        break;
                }
            }
            prev = q;
            continue;
        }
        if ((c == '[' || c == '{') && (depth > 0 || value_start)) {
            if (++depth > MW_SIGMA_MAX_DEPTH) {
                *line = (unsigned long)ln;
                *col = (unsigned long)(i - bol + 1);
                return MW_ELIMIT;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
        prev = c;
    }
    return 0;
}

/* Returns 0 or the first error; *nbad counts refused rules. */
static int add_string(mw_sigma_ruleset_t *rs, const char *yaml, size_t len, const char *name,
                      size_t *nbad)
{
    yaml_parser_t parser;
    int first = 0, docno = 0;
    if (len > MW_SIGMA_MAX_FILE) {
        snprintf(rs->err, sizeof(rs->err), "%s:1: rule file larger than %u bytes", name,
                 MW_SIGMA_MAX_FILE);
        refuse(rs);
        (*nbad)++;
        return MW_ETOOBIG;
    }
    unsigned long dl, dc;
    if (flow_depth_ok(yaml, len, &dl, &dc) != 0) {
        snprintf(rs->err, sizeof(rs->err),
                 "%s:%lu:%lu: yaml error: '[' / '{' nested deeper than %d", name, dl, dc,
                 MW_SIGMA_MAX_DEPTH);
        refuse(rs);
        (*nbad)++;
        return MW_ELIMIT;
    }
    if (!yaml_parser_initialize(&parser))
        return MW_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    for (;;) {
        yaml_document_t doc;
        int rc = 0;
        if (!yaml_parser_load(&parser, &doc)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                rc = MW_ENOMEM;
                snprintf(rs->err, sizeof(rs->err), "%s: out of memory", name);
            } else {
                const yaml_mark_t *mk =
                    parser.error == YAML_READER_ERROR ? NULL : &parser.problem_mark;
                rc = MW_EPARSE;
                if (mk && parser.context)
                    snprintf(rs->err, sizeof(rs->err), "%s:%lu:%lu: yaml error: %s (%s, line %lu)",
                             name, (unsigned long)mk->line + 1, (unsigned long)mk->column + 1,
                             parser.problem ? parser.problem : "syntax error", parser.context,
                             (unsigned long)parser.context_mark.line + 1);
                else if (mk)
                    snprintf(rs->err, sizeof(rs->err), "%s:%lu:%lu: yaml error: %s", name,
                             (unsigned long)mk->line + 1, (unsigned long)mk->column + 1,
                             parser.problem ? parser.problem : "syntax error");
                else
                    snprintf(rs->err, sizeof(rs->err), "%s:1:1: yaml error: %s at byte offset %zu",
                             name, parser.problem ? parser.problem : "bad input",
                             parser.problem_offset);
            }
            refuse(rs);
            (*nbad)++;
            if (!first)
                first = rc;
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break; /* end of stream */
        }
        docno++;
        if (empty_doc(root)) {
            yaml_document_delete(&doc);
            continue;
        }
        struct sg_rule *r = NULL;
        if (rs->nrules >= MW_SIGMA_MAX_RULES) {
            snprintf(rs->err, sizeof(rs->err), "%s:%lu: more than %d rules loaded", name,
                     (unsigned long)root->start_mark.line + 1, MW_SIGMA_MAX_RULES);
            rc = MW_ELIMIT;
        } else {
            if (rs->pipeline)
                rc = sg_pipeline_apply(rs->pipeline, &doc, name, rs->err, sizeof(rs->err));
            if (!rc)
                rc = sg_compile_rule(rs, &doc, name, docno, &r, rs->err, sizeof(rs->err));
        }
        yaml_document_delete(&doc);
        if (!rc && (rc = add_rule(rs, r))) {
            sg_rule_free(r);
            snprintf(rs->err, sizeof(rs->err), "%s: out of memory", name);
        }
        if (rc) {
            refuse(rs);
            (*nbad)++;
            if (!first)
                first = rc;
            if (rc == MW_ENOMEM || rc == MW_ELIMIT)
                break;
        }
    }
    yaml_parser_delete(&parser);
    return first;
}

int mw_sigma_add_string(mw_sigma_ruleset_t *rs, const char *yaml, size_t len, const char *name)
{
    size_t nbad = 0;
    if (!rs || (!yaml && len))
        return MW_EINVAL;
    rs->err[0] = '\0';
    int rc = add_string(rs, yaml ? yaml : "", len, name ? name : "<string>", &nbad);
    sg_pf_hs_build(rs);
    return rc;
}

static int load_file(mw_sigma_ruleset_t *rs, const char *path, size_t *nbad)
{
    int rc = 0;
    char *buf = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(rs->err, sizeof(rs->err), "%s: cannot read: %s", path, strerror(errno));
        rc = MW_EIO;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(rs->err, sizeof(rs->err), "%s: not a regular file", path);
        rc = MW_EIO;
        goto fail;
    }
    if (st.st_size > (off_t)MW_SIGMA_MAX_FILE) {
        snprintf(rs->err, sizeof(rs->err), "%s:1: rule file larger than %u bytes", path,
                 MW_SIGMA_MAX_FILE);
        rc = MW_ETOOBIG;
        goto fail;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    buf = malloc(cap);
    if (!buf) {
        snprintf(rs->err, sizeof(rs->err), "%s: out of memory", path);
        rc = MW_ENOMEM;
        goto fail;
    }
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(rs->err, sizeof(rs->err), "%s: read: %s", path, strerror(errno));
            rc = MW_EIO;
            goto fail;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap) { /* grew while we read */
            snprintf(rs->err, sizeof(rs->err), "%s:1: rule file larger than %u bytes", path,
                     MW_SIGMA_MAX_FILE);
            rc = MW_ETOOBIG;
            goto fail;
        }
    }
    rc = add_string(rs, buf, n, path, nbad);
    goto out;
fail:
    refuse(rs);
    (*nbad)++;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

int mw_sigma_load_file(mw_sigma_ruleset_t *rs, const char *path)
{
    size_t nbad = 0;
    if (!rs || !path)
        return MW_EINVAL;
    rs->err[0] = '\0';
    int rc = load_file(rs, path, &nbad);
    sg_pf_hs_build(rs);
    return rc;
}

struct pathlist {
    char **v;
    size_t n, cap;
};

static int has_rule_ext(const char *name)
{
    size_t l = strlen(name);
    return (l > 4 && !strcmp(name + l - 4, ".yml")) || (l > 5 && !strcmp(name + l - 5, ".yaml"));
}

static int collect(const char *dir, int depth, struct pathlist *pl)
{
    int rc = 0;
    if (depth > SG_MAX_DIR_DEPTH)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return depth == 0 ? MW_EIO : 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[SG_PATH_MAX];
        int l = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (l < 0 || (size_t)l >= sizeof(path))
            continue;
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if ((rc = collect(path, depth + 1, pl)))
                break;
            continue;
        }
        if (!S_ISREG(st.st_mode) || !has_rule_ext(de->d_name))
            continue;
        if (pl->n == SG_MAX_DIR_FILES) {
            rc = MW_ELIMIT;
            break;
        }
        if (pl->n == pl->cap) {
            size_t cap = pl->cap ? pl->cap * 2 : 64;
            char **nv = realloc(pl->v, cap * sizeof(*nv));
            if (!nv) {
                rc = MW_ENOMEM;
                break;
            }
            pl->v = nv;
            pl->cap = cap;
        }
        if (!(pl->v[pl->n] = strdup(path))) {
            rc = MW_ENOMEM;
            break;
        }
        pl->n++;
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mw_sigma_load_dir(mw_sigma_ruleset_t *rs, const char *dir, size_t *nerr)
{
    struct pathlist pl = {0};
    size_t nbad = 0;
    int rc;
    if (!rs || !dir)
        return MW_EINVAL;
    rs->err[0] = '\0';
    rc = collect(dir, 0, &pl);
    if (rc) {
        snprintf(rs->err, sizeof(rs->err), "%s: %s", dir,
                 rc == MW_EIO ? "cannot open rules directory" : mw_strerror(rc));
        mw_error("sigma", "%s", rs->err);
        goto out;
    }
    qsort(pl.v, pl.n, sizeof(*pl.v), cmp_str);
    for (size_t i = 0; i < pl.n; i++) {
        int frc = load_file(rs, pl.v[i], &nbad);
        if (frc == MW_ENOMEM || (frc == MW_ELIMIT && rs->nrules >= MW_SIGMA_MAX_RULES)) {
            rc = frc;
            break;
        }
    }
out:
    for (size_t i = 0; i < pl.n; i++)
        free(pl.v[i]);
    free(pl.v);
    if (nerr)
        *nerr = nbad;
    sg_pf_hs_build(rs);
    return rc;
}

/* ---- the detector --------------------------------------------------------- */

static int det_create(const struct mw_config *cfg, void **state)
{
    size_t nerr = 0;
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    if (!rs)
        return MW_ENOMEM;
    int rc = 0;
    if (cfg->rules_pipeline[0]) {
        mw_sigma_pipeline_t *p = NULL;
        char perr[1024];
        if ((rc = mw_sigma_pipeline_load(cfg->rules_pipeline, &p, perr, sizeof(perr)))) {
            mw_error("sigma", "rules.pipeline: %s", perr);
            mw_sigma_ruleset_free(rs);
            return rc;
        }
        mw_sigma_ruleset_set_pipeline(rs, p);
    }
    /* rules.dir is a ':'-separated list of directories, loaded in order. */
    char dirs[sizeof cfg->rules_dir];
    memcpy(dirs, cfg->rules_dir, sizeof dirs);
    dirs[sizeof dirs - 1] = '\0';
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        size_t before = rs->nrules, errs = 0;
        rc = mw_sigma_load_dir(rs, d, &errs);
        if (rc) {
            mw_sigma_ruleset_free(rs);
            return rc;
        }
        nerr += errs;
        mw_info("sigma", "loaded %zu rules from %s (%zu refused)", rs->nrules - before, d, errs);
    }
    if (nerr)
        mw_warn("sigma", "%zu rules refused in all (see the errors above)", nerr);
    *state = rs;
    return 0;
}

static void det_destroy(void *state)
{
    mw_sigma_ruleset_free(state);
}

static int det_scratch_new(void *state, void **scratch)
{
    mw_sigma_scratch_t *s = NULL;
    int rc = mw_sigma_scratch_new(state, &s);
    if (!rc)
        *scratch = s;
    return rc;
}

static void det_scratch_free(void *scratch)
{
    mw_sigma_scratch_free(scratch);
}

static int det_match(void *state, void *scratch, const mw_event_t *ev, mw_detection_emit_fn emit,
                     void *ctx)
{
    return mw_sigma_match(state, scratch, ev, emit, ctx);
}

static size_t det_count(void *state)
{
    return mw_sigma_count(state);
}

const struct mw_detector_ops mw_detector_sigma = {
    .name = "sigma",
    .create = det_create,
    .destroy = det_destroy,
    .scratch_new = det_scratch_new,
    .scratch_free = det_scratch_free,
    .match = det_match,
    .count = det_count,
};
