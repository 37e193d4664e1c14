/* Sigma rule compiler: one YAML document (libyaml document API) -> struct
 * sg_rule. Implements the subset of the Sigma specification (v2, "Sigma
 * rules" and "Sigma modifiers") documented in docs/internals/sigma.md;
 * anything else is refused with "FILE:LINE: ..." rather than silently
 * compiled into a rule that never fires. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "detect/sigma_internal.h"
#include "mwrasp/detect.h"

#define SG_BUDGET 100000 /* field conditions + values per rule (alias blow-up guard) */

struct cctx {
    mw_sigma_ruleset_t *rs;
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
    struct sg_rule *r;
    size_t budget;
};

static int fail(struct cctx *c, const yaml_node_t *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct cctx *c, const yaml_node_t *n, int code, const char *fmt, ...)
{
    va_list ap;
    int off = snprintf(c->err, c->errlen, "%s:%lu: ", c->file,
                       n ? (unsigned long)n->start_mark.line + 1 : 1ul);
    if (off < 0 || (size_t)off >= c->errlen)
        return code;
    va_start(ap, fmt);
    vsnprintf(c->err + off, c->errlen - (size_t)off, fmt, ap);
    va_end(ap);
    return code;
}

static yaml_node_t *node_at(struct cctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n)
{
    return n->data.scalar.length;
}

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = sval(n);
    size_t l = slen(n);
    return l == 0 || (l == 1 && s[0] == '~') ||
           (l == 4 && (!strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")));
}

static int key_is(const yaml_node_t *k, const char *name)
{
    return k->type == YAML_SCALAR_NODE && slen(k) == strlen(name) &&
           !memcmp(sval(k), name, slen(k));
}

/* Copies a scalar into the rule's arena (NULL for non-scalars). */
static const char *adup(struct cctx *c, const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    return sg_strndup(&c->r->arena, sval(n), slen(n));
}

/* ---- values ------------------------------------------------------------ */

enum { MOD_NONE = 0, MOD_CONTAINS, MOD_STARTSWITH, MOD_ENDSWITH };

/* Sigma string -> lowercased bytes + wildcard kinds, with the modifier's
 * implied wildcards added, then classified into the cheapest sg_op.
 * Escapes (Sigma spec): "\*", "\?", "\\" are literals; a lone "\" is
 * literal. */
static int compile_value(struct cctx *c, const yaml_node_t *n, int mod, struct sg_value *out)
{
    size_t len = slen(n);
    const char *s = sval(n);
    char *b = sg_alloc(&c->r->arena, len + 3);
    uint8_t *k = sg_alloc(&c->r->arena, len + 3);
    if (!b || !k)
        return fail(c, n, MW_ENOMEM, "out of memory");
    size_t o = 0;
    if (mod == MOD_CONTAINS || mod == MOD_ENDSWITH)
        k[o++] = SG_K_STAR;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\\' && i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
            b[o] = s[++i];
            k[o++] = SG_K_LIT;
        } else if (ch == '*') {
            if (o == 0 || k[o - 1] != SG_K_STAR)
                k[o++] = SG_K_STAR;
        } else if (ch == '?') {
            k[o++] = SG_K_QMARK;
        } else {
            b[o] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            k[o++] = SG_K_LIT;
        }
    }
    if ((mod == MOD_CONTAINS || mod == MOD_STARTSWITH) && (o == 0 || k[o - 1] != SG_K_STAR))
        k[o++] = SG_K_STAR;
    for (size_t i = 0; i < o; i++)
        if (k[i] != SG_K_LIT)
            b[i] = k[i] == SG_K_STAR ? '*' : '?';
    b[o] = '\0';

    size_t lo = 0, hi = o;
    int lead = o > 0 && k[0] == SG_K_STAR;
    if (lead)
        lo = 1;
    int trail = hi > lo && k[hi - 1] == SG_K_STAR;
    if (trail)
        hi--;
    int plain = 1;
    for (size_t i = lo; i < hi; i++)
        if (k[i] != SG_K_LIT)
            plain = 0;
    if (o == 1 && lead) { /* "*" alone */
        out->op = SG_ANY;
        out->s = b + 1;
        out->len = 0;
        return 0;
    }
    if (!plain) {
        out->op = SG_GLOB;
        out->s = b;
        out->kinds = k;
        out->len = (uint32_t)o;
        return 0;
    }
    out->s = b + lo;
    out->len = (uint32_t)(hi - lo);
    b[hi] = '\0'; /* literal part only; the pattern chars after it are no longer needed */
    out->op = lead && trail ? SG_CONTAINS : lead ? SG_ENDSWITH : trail ? SG_STARTSWITH : SG_EXACT;
    if (out->op == SG_CONTAINS)
        sg_bloom(out->s, out->len, out->bloom);
    return 0;
}

/* ---- selections -------------------------------------------------------- */

static int parse_modifiers(struct cctx *c, const yaml_node_t *key, const char *mods, size_t mlen,
                           int *mod, int *all)
{
    *mod = MOD_NONE;
    *all = 0;
    size_t i = 0;
    while (i < mlen) {
        size_t j = i;
        while (j < mlen && mods[j] != '|')
            j++;
        const char *m = mods + i;
        size_t l = j - i;
        int nm = -1;
        if (l == 8 && !memcmp(m, "contains", 8))
            nm = MOD_CONTAINS;
        else if (l == 10 && !memcmp(m, "startswith", 10))
            nm = MOD_STARTSWITH;
        else if (l == 8 && !memcmp(m, "endswith", 8))
            nm = MOD_ENDSWITH;
        else if (l == 3 && !memcmp(m, "all", 3)) {
            if (*all)
                return fail(c, key, MW_EINVAL, "modifier 'all' given twice in '%s'", sval(key));
            *all = 1;
        } else {
            return fail(c, key, MW_EINVAL, "unsupported modifier '%.*s' in '%s'", (int)l, m,
                        sval(key));
        }
        if (nm >= 0) {
            if (*mod != MOD_NONE)
                return fail(c, key, MW_EINVAL, "conflicting modifiers in '%s'", sval(key));
            *mod = nm;
        }
        i = j + 1;
    }
    if (mlen > 0 && mods[mlen - 1] == '|')
        return fail(c, key, MW_EINVAL, "empty modifier in '%s'", sval(key));
    return 0;
}

static int compile_fcond(struct cctx *c, const yaml_node_t *key, const yaml_node_t *val,
                         struct sg_fcond *fc)
{
    if (key->type != YAML_SCALAR_NODE)
        return fail(c, key, MW_EINVAL, "field name must be a string");
    const char *ks = sval(key);
    size_t kl = slen(key);
    const char *bar = memchr(ks, '|', kl);
    size_t fl = bar ? (size_t)(bar - ks) : kl;
    if (fl == 0)
        return fail(c, key, MW_EINVAL,
                    "keyword modifiers without a field name ('%s') are not supported", ks);
    if (fl > 255)
        return fail(c, key, MW_EINVAL, "field name longer than 255 bytes");
    if (memchr(ks, '\0', kl))
        return fail(c, key, MW_EINVAL, "NUL byte in field name");
    int mod, all, rc;
    rc = bar ? parse_modifiers(c, key, bar + 1, kl - fl - 1, &mod, &all)
             : (mod = MOD_NONE, all = 0, 0);
    if (rc)
        return rc;
    rc = sg_fields_intern(&c->rs->fields, ks, fl, &fc->slot);
    if (rc)
        return fail(c, key, rc, "%s",
                    rc == MW_ELIMIT ? "too many distinct field names" : "out of memory");
    fc->all = (uint8_t)all;

    const yaml_node_t *items[MW_SIGMA_MAX_VALUES];
    size_t nitems = 0;
    if (val->type == YAML_SCALAR_NODE) {
        items[nitems++] = val;
    } else if (val->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = val->data.sequence.items.start;
             it < val->data.sequence.items.top; it++) {
            if (nitems == MW_SIGMA_MAX_VALUES)
                return fail(c, val, MW_ELIMIT, "more than %d values for field '%.*s'",
                            MW_SIGMA_MAX_VALUES, (int)fl, ks);
            const yaml_node_t *v = node_at(c, *it);
            if (!v || v->type != YAML_SCALAR_NODE)
                return fail(c, v ? v : val, MW_EINVAL,
                            "value of field '%.*s' must be a string, number or null", (int)fl, ks);
            items[nitems++] = v;
        }
        if (nitems == 0)
            return fail(c, val, MW_EINVAL, "empty value list for field '%.*s'", (int)fl, ks);
    } else {
        return fail(c, val, MW_EINVAL, "a map as the value of field '%.*s' is not supported",
                    (int)fl, ks);
    }
    if (c->budget + nitems > SG_BUDGET)
        return fail(c, val, MW_ELIMIT, "rule too large");
    c->budget += nitems;
    fc->vals = sg_alloc(&c->r->arena, nitems * sizeof(*fc->vals));
    if (!fc->vals)
        return fail(c, val, MW_ENOMEM, "out of memory");
    fc->nvals = (uint32_t)nitems;
    for (size_t i = 0; i < nitems; i++) {
        if (is_null(items[i])) {
            if (mod != MOD_NONE)
                return fail(c, items[i], MW_EINVAL, "null value with a modifier in '%s'", ks);
            fc->vals[i].op = SG_NULL;
            fc->vals[i].s = "";
            fc->has_null = 1;
            continue;
        }
        rc = compile_value(c, items[i], mod, &fc->vals[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int compile_map(struct cctx *c, const yaml_node_t *m, struct sg_map *out)
{
    size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
    if (n == 0)
        return fail(c, m, MW_EINVAL, "empty selection map");
    if (c->budget + n > SG_BUDGET)
        return fail(c, m, MW_ELIMIT, "rule too large");
    c->budget += n;
    out->conds = sg_alloc(&c->r->arena, n * sizeof(*out->conds));
    if (!out->conds)
        return fail(c, m, MW_ENOMEM, "out of memory");
    out->n = (uint32_t)n;
    size_t i = 0;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
         p++, i++) {
        const yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (!k || !v)
            return fail(c, m, MW_EINVAL, "malformed selection");
        int rc = compile_fcond(c, k, v, &out->conds[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int compile_selection(struct cctx *c, const yaml_node_t *key, const yaml_node_t *v,
                             struct sg_sel *sel)
{
    sel->name = adup(c, key);
    sel->line = (uint32_t)key->start_mark.line + 1;
    if (!sel->name)
        return fail(c, key, MW_ENOMEM, "out of memory");
    if (v->type == YAML_MAPPING_NODE) {
        sel->maps = sg_alloc(&c->r->arena, sizeof(*sel->maps));
        if (!sel->maps)
            return fail(c, v, MW_ENOMEM, "out of memory");
        sel->nmaps = 1;
        return compile_map(c, v, sel->maps);
    }
    if (v->type == YAML_SCALAR_NODE) {
        if (is_null(v))
            return fail(c, v, MW_EINVAL, "selection '%s' is empty", sel->name);
        sel->kw = sg_alloc(&c->r->arena, sizeof(*sel->kw));
        if (!sel->kw)
            return fail(c, v, MW_ENOMEM, "out of memory");
        sel->nkw = 1;
        c->r->uses_raw = 1;
        return compile_value(c, v, MOD_CONTAINS, sel->kw);
    }
    /* sequence: all maps (OR of maps) or all strings (keywords) */
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0)
        return fail(c, v, MW_EINVAL, "selection '%s' is an empty list", sel->name);
    if (n > MW_SIGMA_MAX_VALUES)
        return fail(c, v, MW_ELIMIT, "selection '%s' has more than %d items", sel->name,
                    MW_SIGMA_MAX_VALUES);
    if (c->budget + n > SG_BUDGET)
        return fail(c, v, MW_ELIMIT, "rule too large");
    c->budget += n;
    const yaml_node_t *first = node_at(c, v->data.sequence.items.start[0]);
    int maps = first && first->type == YAML_MAPPING_NODE;
    if (maps)
        sel->maps = sg_alloc(&c->r->arena, n * sizeof(*sel->maps));
    else
        sel->kw = sg_alloc(&c->r->arena, n * sizeof(*sel->kw));
    if (!sel->maps && !sel->kw)
        return fail(c, v, MW_ENOMEM, "out of memory");
    size_t i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++, i++) {
        const yaml_node_t *e = node_at(c, *it);
        if (!e)
            return fail(c, v, MW_EINVAL, "malformed selection");
        int rc;
        if (maps) {
            if (e->type != YAML_MAPPING_NODE)
                return fail(c, e, MW_EINVAL,
                            "selection '%s' mixes maps and other items in one list", sel->name);
            rc = compile_map(c, e, &sel->maps[i]);
            sel->nmaps = (uint32_t)i + 1;
        } else {
            if (e->type != YAML_SCALAR_NODE || is_null(e))
                return fail(c, e, MW_EINVAL,
                            "keyword list '%s' must hold only strings (nested or mixed lists "
                            "are not supported)",
                            sel->name);
            rc = compile_value(c, e, MOD_CONTAINS, &sel->kw[i]);
            sel->nkw = (uint32_t)i + 1;
            c->r->uses_raw = 1;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- metadata ---------------------------------------------------------- */

static const char *const tactics[] = {
    "reconnaissance",
    "resource_development",
    "initial_access",
    "execution",
    "persistence",
    "privilege_escalation",
    "defense_evasion",
    "credential_access",
    "discovery",
    "lateral_movement",
    "collection",
    "command_and_control",
    "exfiltration",
    "impact",
    NULL,
};

/* First ATT&CK tactic tag ("attack.credential_access") -> "credential-access". */
static void threat_type_from_tags(struct cctx *c, const yaml_node_t *tags, char *out, size_t n)
{
    snprintf(out, n, "unknown");
    if (!tags || tags->type != YAML_SEQUENCE_NODE)
        return;
    for (yaml_node_item_t *it = tags->data.sequence.items.start; it < tags->data.sequence.items.top;
         it++) {
        const yaml_node_t *t = node_at(c, *it);
        if (!t || t->type != YAML_SCALAR_NODE || slen(t) <= 7 ||
            strncasecmp(sval(t), "attack.", 7) != 0)
            continue;
        const char *name = sval(t) + 7;
        for (size_t i = 0; tactics[i]; i++) {
            if (strcasecmp(name, tactics[i]) != 0)
                continue;
            size_t j = 0;
            for (; tactics[i][j] && j + 1 < n; j++)
                out[j] = tactics[i][j] == '_' ? '-' : tactics[i][j];
            out[j] = '\0';
            return;
        }
    }
}

static int parse_confidence(struct cctx *c, const yaml_node_t *v, double *out)
{
    if (v->type != YAML_SCALAR_NODE)
        return fail(c, v, MW_EINVAL, "mwrasp.confidence must be a number");
    char *end = NULL;
    double d = strtod(sval(v), &end);
    if (end == sval(v) || *end != '\0' || !(d >= 0.0 && d <= 1.0))
        return fail(c, v, MW_EINVAL, "mwrasp.confidence must be a number in [0, 1], not '%s'",
                    sval(v));
    *out = d;
    return 0;
}

static void base_id(const char *file, int docno, char *out, size_t n)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t l = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot != b)
        l = (size_t)(dot - b);
    if (docno > 1)
        snprintf(out, n, "%.*s#%d", (int)l, b, docno);
    else
        snprintf(out, n, "%.*s", (int)l, b);
}

/* ---- the rule ---------------------------------------------------------- */

static int compile_detection(struct cctx *c, const yaml_node_t *det)
{
    struct sg_rule *r = c->r;
    if (det->type != YAML_MAPPING_NODE)
        return fail(c, det, MW_EINVAL, "'detection' must be a map");
    size_t n = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
    r->sels = sg_alloc(&r->arena, (n ? n : 1) * sizeof(*r->sels));
    if (!r->sels)
        return fail(c, det, MW_ENOMEM, "out of memory");
    const yaml_node_t *cond = NULL;
    for (yaml_node_pair_t *p = det->data.mapping.pairs.start; p < det->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE || slen(k) == 0)
            return fail(c, k ? k : det, MW_EINVAL, "selection names must be strings");
        if (key_is(k, "condition")) {
            if (cond)
                return fail(c, k, MW_EINVAL, "duplicate 'condition'");
            cond = v;
            continue;
        }
        if (key_is(k, "timeframe"))
            return fail(c, k, MW_EINVAL, "'timeframe' (correlation/aggregation) is not supported");
        for (uint32_t i = 0; i < r->nsels; i++)
            if (!strcmp(r->sels[i].name, sval(k)))
                return fail(c, k, MW_EINVAL, "duplicate selection '%s'", sval(k));
        if (r->nsels == MW_SIGMA_MAX_SELECTIONS)
            return fail(c, k, MW_ELIMIT, "more than %d selections", MW_SIGMA_MAX_SELECTIONS);
        int rc = compile_selection(c, k, v, &r->sels[r->nsels]);
        if (rc)
            return rc;
        r->nsels++;
    }
    if (!cond)
        return fail(c, det, MW_EINVAL, "'detection' has no 'condition'");
    if (r->nsels == 0)
        return fail(c, det, MW_EINVAL, "'detection' has no selections");

    const char *strs[MW_SIGMA_MAX_VALUES];
    uint32_t lines[MW_SIGMA_MAX_VALUES];
    size_t ns = 0;
    if (cond->type == YAML_SCALAR_NODE && !is_null(cond)) {
        strs[0] = sval(cond);
        lines[0] = (uint32_t)cond->start_mark.line + 1;
        ns = 1;
    } else if (cond->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = cond->data.sequence.items.start;
             it < cond->data.sequence.items.top; it++) {
            const yaml_node_t *e = node_at(c, *it);
            if (!e || e->type != YAML_SCALAR_NODE || is_null(e))
                return fail(c, e ? e : cond, MW_EINVAL, "'condition' list must hold strings");
            if (ns == MW_SIGMA_MAX_VALUES)
                return fail(c, cond, MW_ELIMIT, "too many conditions");
            strs[ns] = sval(e);
            lines[ns++] = (uint32_t)e->start_mark.line + 1;
        }
    }
    if (ns == 0)
        return fail(c, cond, MW_EINVAL, "'condition' must be a non-empty string or list");
    int rc = sg_parse_condition(r, strs, lines, ns, c->file, c->err, c->errlen);
    if (rc)
        return rc;
    rc = sg_compute_required(r);
    if (!rc)
        rc = sg_compute_anchors(r);
    if (rc)
        return fail(c, det, rc, "out of memory");
    return 0;
}

int sg_compile_rule(mw_sigma_ruleset_t *rs, yaml_document_t *doc, const char *file, int docno,
                    struct sg_rule **rule, char *err, size_t errlen)
{
    struct cctx c = {.rs = rs, .doc = doc, .file = file, .err = err, .errlen = errlen};
    int rc = 0;
    struct sg_rule *r = calloc(1, sizeof(*r));
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!r)
        return fail(&c, root, MW_ENOMEM, "out of memory");
    c.r = r;
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = fail(&c, root, MW_EINVAL, "a rule must be a YAML map");
        goto out;
    }
    r->line = (uint32_t)root->start_mark.line + 1;
    r->file = sg_strndup(&r->arena, file, strlen(file));
    const yaml_node_t *title = NULL, *id = NULL, *level = NULL, *tags = NULL, *det = NULL;
    double confidence = MW_SIGMA_DEFAULT_CONFIDENCE;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = node_at(&c, p->key), *v = node_at(&c, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE) {
            rc = fail(&c, k ? k : root, MW_EINVAL, "rule keys must be strings");
            goto out;
        }
        if (key_is(k, "title"))
            title = v;
        else if (key_is(k, "id"))
            id = v;
        else if (key_is(k, "level"))
            level = v;
        else if (key_is(k, "tags"))
            tags = v;
        else if (key_is(k, "detection"))
            det = v;
        else if (key_is(k, "status"))
            r->status = adup(&c, v);
        else if (key_is(k, "description"))
            r->description = adup(&c, v);
        else if (key_is(k, "action")) {
            rc = fail(&c, k, MW_EINVAL, "rule collections ('action: %s') are not supported",
                      v->type == YAML_SCALAR_NODE ? sval(v) : "?");
            goto out;
        } else if (key_is(k, "correlation")) {
            rc = fail(&c, k, MW_EINVAL, "correlation rules are not supported");
            goto out;
        } else if (key_is(k, "logsource")) {
            if (v->type != YAML_MAPPING_NODE) {
                rc = fail(&c, v, MW_EINVAL, "'logsource' must be a map");
                goto out;
            }
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
                 q++) {
                const yaml_node_t *lk = node_at(&c, q->key), *lv = node_at(&c, q->value);
                if (!lk || !lv)
                    continue;
                if (key_is(lk, "product"))
                    r->ls_product = adup(&c, lv);
                else if (key_is(lk, "category"))
                    r->ls_category = adup(&c, lv);
                else if (key_is(lk, "service"))
                    r->ls_service = adup(&c, lv);
            }
        } else if (key_is(k, "mwrasp.confidence")) {
            if ((rc = parse_confidence(&c, v, &confidence)))
                goto out;
        } else if (key_is(k, "mwrasp") && v->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
                 q++) {
                const yaml_node_t *mk = node_at(&c, q->key), *mv = node_at(&c, q->value);
                if (mk && mv && key_is(mk, "confidence") &&
                    (rc = parse_confidence(&c, mv, &confidence)))
                    goto out;
            }
        }
        /* other keys (author, date, references, falsepositives, ...) are kept
         * out of the compiled form: they do not change matching */
    }
    if (!title || title->type != YAML_SCALAR_NODE || slen(title) == 0) {
        rc = fail(&c, title ? title : root, MW_EINVAL, "rule has no 'title'");
        goto out;
    }
    if (!det) {
        rc = fail(&c, root, MW_EINVAL, "rule has no 'detection'");
        goto out;
    }
    mw_detection_t *d = &r->det;
    snprintf(d->detector, sizeof(d->detector), "sigma");
    snprintf(d->threat_class, sizeof(d->threat_class), "signature");
    snprintf(d->title, sizeof(d->title), "%s", sval(title));
    if (id) {
        if (id->type != YAML_SCALAR_NODE || slen(id) == 0 || slen(id) >= MW_RULE_ID_MAX) {
            rc =
                fail(&c, id, MW_EINVAL, "'id' must be a string of 1..%d bytes", MW_RULE_ID_MAX - 1);
            goto out;
        }
        snprintf(d->rule_id, sizeof(d->rule_id), "%s", sval(id));
    } else {
        base_id(file, docno, d->rule_id, sizeof(d->rule_id));
    }
    d->severity = 3;
    if (level) {
        if (level->type != YAML_SCALAR_NODE || mw_severity_from_level(sval(level), &d->severity)) {
            rc = fail(&c, level, MW_EINVAL,
                      "unknown level '%s' (informational, low, medium, high, critical)",
                      level->type == YAML_SCALAR_NODE ? sval(level) : "?");
            goto out;
        }
    }
    if (tags && tags->type != YAML_SEQUENCE_NODE) {
        rc = fail(&c, tags, MW_EINVAL, "'tags' must be a list");
        goto out;
    }
    threat_type_from_tags(&c, tags, d->type, sizeof(d->type));
    d->confidence = confidence;
    if ((rc = compile_detection(&c, det)))
        goto out;
    *rule = r;
    r = NULL;
out:
    sg_rule_free(r);
    return rc;
}

void sg_rule_free(struct sg_rule *r)
{
    if (!r)
        return;
    sg_arena_free(&r->arena);
    free(r);
}
