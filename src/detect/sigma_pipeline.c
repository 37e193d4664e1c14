/* Logsource pipelines: what a Sigma rule's logsource means in the events,
 * declared as data (pipelines/NAME.yml, format in docs/sigma-pipelines.md),
 * in the spirit of pySigma's processing pipelines (field name mapping plus
 * logsource conditions), reduced to what a YAML file can state.
 *
 * A pipeline is applied to each rule's YAML document before it is compiled
 * (sg_pipeline_apply, called from sigma.c): the compiler then sees an
 * ordinary rule whose selections use the renamed fields and whose condition
 * is "(ORIGINAL) and _mwrasp_logsource". Nothing in the compiler or the
 * matcher knows about pipelines. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "detect/sigma_internal.h"
#include "detect/sigma_pipeline.h"

struct pl_value {
    char *s;
    size_t len;
    yaml_scalar_style_t style; /* kept, so that null / numbers stay what they were */
};

struct pl_cond {
    char *field;
    struct pl_value *vals;
    size_t nvals;
};

struct pl_rename {
    char *from, *to;
};

struct pl_entry {
    char *product, *category, *service; /* NULL = any */
    char *unsupported; /* reason, or NULL */
    struct pl_cond *conds;
    size_t nconds;
    struct pl_rename *ren;
    size_t nren;
};

struct mw_sigma_pipeline {
    char *name;
    struct pl_entry *e;
    size_t n;
};

/* ---- freeing ------------------------------------------------------------- */

static void entry_free(struct pl_entry *e)
{
    free(e->product);
    free(e->category);
    free(e->service);
    free(e->unsupported);
    for (size_t i = 0; i < e->nconds; i++) {
        free(e->conds[i].field);
        for (size_t j = 0; j < e->conds[i].nvals; j++)
            free(e->conds[i].vals[j].s);
        free(e->conds[i].vals);
    }
    free(e->conds);
    for (size_t i = 0; i < e->nren; i++) {
        free(e->ren[i].from);
        free(e->ren[i].to);
    }
    free(e->ren);
}

void mw_sigma_pipeline_free(mw_sigma_pipeline_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        entry_free(&p->e[i]);
    free(p->e);
    free(p->name);
    free(p);
}

const char *mw_sigma_pipeline_name(const mw_sigma_pipeline_t *p)
{
    return p && p->name ? p->name : "";
}

void mw_sigma_ruleset_set_pipeline(mw_sigma_ruleset_t *rs, mw_sigma_pipeline_t *p)
{
    if (!rs) {
        mw_sigma_pipeline_free(p);
        return;
    }
    if (rs->pipeline != p)
        mw_sigma_pipeline_free(rs->pipeline);
    rs->pipeline = p;
}

void mw_sigma_ruleset_set_error_fn(mw_sigma_ruleset_t *rs, mw_sigma_error_fn fn, void *ctx)
{
    if (!rs)
        return;
    rs->errfn = fn;
    rs->errctx = fn ? ctx : NULL;
}

/* ---- loading -------------------------------------------------------------- */

struct lctx {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
};

static int lfail(struct lctx *c, const yaml_node_t *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int lfail(struct lctx *c, const yaml_node_t *n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sg_vfail_at(c->err, c->errlen, c->file, n ? (unsigned long)n->start_mark.line + 1 : 1ul, fmt,
                ap);
    va_end(ap);
    return code;
}

static int is_key(const yaml_node_t *k, const char *name)
{
    return k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(name) &&
           !memcmp(k->data.scalar.value, name, k->data.scalar.length);
}

/* A non-empty scalar of at most MW_SIGMA_PIPELINE_MAX_STR bytes, copied. */
static int dup_scalar(struct lctx *c, const yaml_node_t *n, const char *what, char **out)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
        return lfail(c, n, MW_EINVAL, "%s must be a non-empty string", what);
    if (n->data.scalar.length > MW_SIGMA_PIPELINE_MAX_STR)
        return lfail(c, n, MW_ELIMIT, "%s longer than %d bytes", what, MW_SIGMA_PIPELINE_MAX_STR);
    if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
        return lfail(c, n, MW_EINVAL, "NUL byte in %s", what);
    *out = strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    return *out ? 0 : lfail(c, n, MW_ENOMEM, "out of memory");
}

static size_t map_len(const yaml_node_t *m)
{
    return (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
}

static int parse_value(struct lctx *c, const yaml_node_t *n, struct pl_value *v)
{
    if (n->type != YAML_SCALAR_NODE)
        return lfail(c, n, MW_EINVAL, "a condition value must be a string, number or null");
    if (n->data.scalar.length > MW_SIGMA_PIPELINE_MAX_STR)
        return lfail(c, n, MW_ELIMIT, "value longer than %d bytes", MW_SIGMA_PIPELINE_MAX_STR);
    v->s = strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    if (!v->s)
        return lfail(c, n, MW_ENOMEM, "out of memory");
    v->len = n->data.scalar.length;
    v->style = n->data.scalar.style;
    return 0;
}

static int parse_conds(struct lctx *c, const yaml_node_t *m, struct pl_entry *e)
{
    if (m->type != YAML_MAPPING_NODE || map_len(m) == 0)
        return lfail(c, m, MW_EINVAL, "'conditions' must be a non-empty map of field: value(s)");
    if (map_len(m) > MW_SIGMA_PIPELINE_MAX_FIELDS)
        return lfail(c, m, MW_ELIMIT, "more than %d conditions", MW_SIGMA_PIPELINE_MAX_FIELDS);
    e->conds = calloc(map_len(m), sizeof(*e->conds));
    if (!e->conds)
        return lfail(c, m, MW_ENOMEM, "out of memory");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        struct pl_cond *pc = &e->conds[e->nconds++];
        int rc = dup_scalar(c, k, "a condition's field name", &pc->field);
        if (rc)
            return rc;
        if (strchr(pc->field, '|'))
            return lfail(c, k, MW_EINVAL, "modifiers are not allowed in pipeline conditions ('%s')",
                         pc->field);
        if (!v)
            return lfail(c, k, MW_EINVAL, "malformed condition");
        if (v->type == YAML_SCALAR_NODE) {
            if (!(pc->vals = calloc(1, sizeof(*pc->vals))))
                return lfail(c, v, MW_ENOMEM, "out of memory");
            pc->nvals = 1;
            if ((rc = parse_value(c, v, &pc->vals[0])))
                return rc;
            continue;
        }
        size_t nv = v->type == YAML_SEQUENCE_NODE
                        ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                        : 0;
        if (nv == 0)
            return lfail(c, v, MW_EINVAL, "condition '%s' needs a value or a non-empty list",
                         pc->field);
        if (nv > MW_SIGMA_MAX_VALUES)
            return lfail(c, v, MW_ELIMIT, "more than %d values for '%s'", MW_SIGMA_MAX_VALUES,
                         pc->field);
        if (!(pc->vals = calloc(nv, sizeof(*pc->vals))))
            return lfail(c, v, MW_ENOMEM, "out of memory");
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            const yaml_node_t *x = yaml_document_get_node(c->doc, *it);
            if (!x)
                return lfail(c, v, MW_EINVAL, "malformed list");
            if ((rc = parse_value(c, x, &pc->vals[pc->nvals++])))
                return rc;
        }
    }
    return 0;
}

static int parse_renames(struct lctx *c, const yaml_node_t *m, struct pl_entry *e)
{
    if (m->type != YAML_MAPPING_NODE)
        return lfail(c, m, MW_EINVAL, "'fields' must be a map of rule field: event field");
    if (map_len(m) > MW_SIGMA_PIPELINE_MAX_FIELDS)
        return lfail(c, m, MW_ELIMIT, "more than %d field renames", MW_SIGMA_PIPELINE_MAX_FIELDS);
    if (map_len(m) == 0)
        return 0;
    e->ren = calloc(map_len(m), sizeof(*e->ren));
    if (!e->ren)
        return lfail(c, m, MW_ENOMEM, "out of memory");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        struct pl_rename *r = &e->ren[e->nren++];
        int rc = dup_scalar(c, k, "a field name", &r->from);
        if (!rc)
            rc = dup_scalar(c, v ? v : k, "a field name", &r->to);
        if (rc)
            return rc;
        if (strchr(r->from, '|') || strchr(r->to, '|'))
            return lfail(c, k, MW_EINVAL, "field names in 'fields' cannot hold '|'");
        for (size_t i = 0; i + 1 < e->nren; i++)
            if (!strcmp(e->ren[i].from, r->from))
                return lfail(c, k, MW_EINVAL, "field '%s' renamed twice", r->from);
    }
    return 0;
}

static int parse_entry(struct lctx *c, const yaml_node_t *m, struct pl_entry *e)
{
    int rc = 0;
    if (m->type != YAML_MAPPING_NODE)
        return lfail(c, m, MW_EINVAL, "a logsource entry must be a map");
    const yaml_node_t *conds = NULL, *fields = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        char **dst = NULL;
        if (!k || !v)
            return lfail(c, m, MW_EINVAL, "malformed entry");
        if (is_key(k, "product"))
            dst = &e->product;
        else if (is_key(k, "category"))
            dst = &e->category;
        else if (is_key(k, "service"))
            dst = &e->service;
        else if (is_key(k, "unsupported"))
            dst = &e->unsupported;
        else if (is_key(k, "conditions"))
            conds = v;
        else if (is_key(k, "fields"))
            fields = v;
        else
            return lfail(c, k, MW_EINVAL,
                         "unknown key '%s' in a logsource entry (product, category, service, "
                         "conditions, fields, unsupported)",
                         k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?");
        if (dst) {
            if (*dst)
                return lfail(c, k, MW_EINVAL, "duplicate key");
            if ((rc = dup_scalar(c, v, (const char *)k->data.scalar.value, dst)))
                return rc;
        }
    }
    if (!e->product && !e->category && !e->service)
        return lfail(c, m, MW_EINVAL, "a logsource entry needs product, category or service");
    if (e->unsupported && (conds || fields))
        return lfail(c, m, MW_EINVAL, "an 'unsupported' entry cannot have conditions or fields");
    if (conds && (rc = parse_conds(c, conds, e)))
        return rc;
    if (fields && (rc = parse_renames(c, fields, e)))
        return rc;
    return 0;
}

static int parse_pipeline(struct lctx *c, mw_sigma_pipeline_t *p)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return lfail(c, root, MW_EINVAL, "a pipeline must be a YAML map with 'logsources'");
    const yaml_node_t *ls = NULL;
    int rc;
    for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top;
         q++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, q->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, q->value);
        if (!k || !v)
            return lfail(c, root, MW_EINVAL, "malformed pipeline");
        if (is_key(k, "name")) {
            free(p->name);
            p->name = NULL;
            if ((rc = dup_scalar(c, v, "name", &p->name)))
                return rc;
        } else if (is_key(k, "logsources")) {
            ls = v;
        } else if (!is_key(k, "description")) {
            return lfail(c, k, MW_EINVAL, "unknown key '%s' (name, description, logsources)",
                         k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?");
        }
    }
    if (!ls || ls->type != YAML_SEQUENCE_NODE)
        return lfail(c, ls ? ls : root, MW_EINVAL, "'logsources' must be a list of entries");
    size_t n = (size_t)(ls->data.sequence.items.top - ls->data.sequence.items.start);
    if (n > MW_SIGMA_PIPELINE_MAX_ENTRIES)
        return lfail(c, ls, MW_ELIMIT, "more than %d logsource entries",
                     MW_SIGMA_PIPELINE_MAX_ENTRIES);
    if (n && !(p->e = calloc(n, sizeof(*p->e))))
        return lfail(c, ls, MW_ENOMEM, "out of memory");
    for (yaml_node_item_t *it = ls->data.sequence.items.start; it < ls->data.sequence.items.top;
         it++) {
        const yaml_node_t *m = yaml_document_get_node(c->doc, *it);
        if (!m)
            return lfail(c, ls, MW_EINVAL, "malformed list");
        if ((rc = parse_entry(c, m, &p->e[p->n++])))
            return rc;
    }
    return 0;
}

/* Reads a whole file of at most MW_SIGMA_MAX_FILE bytes. */
static int read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
    int rc = 0;
    char *buf = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 fd < 0 || errno ? strerror(errno) : "not a regular file");
        rc = MW_EIO;
        goto out;
    }
    if (st.st_size > (off_t)MW_SIGMA_MAX_FILE) {
        snprintf(err, errlen, "%s:1: pipeline file larger than %u bytes", path, MW_SIGMA_MAX_FILE);
        rc = MW_ETOOBIG;
        goto out;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    if (!(buf = malloc(cap))) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = MW_ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
            rc = MW_EIO;
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            snprintf(err, errlen, "%s:1: pipeline file larger than %u bytes", path,
                     MW_SIGMA_MAX_FILE);
            rc = MW_ETOOBIG;
            goto out;
        }
    }
    *out = buf;
    *outlen = n;
    buf = NULL;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* NAME -> path: $MWRASP_PIPELINES/NAME.yml, then pipelines/NAME.yml. */
static int resolve(const char *arg, char *path, size_t plen, char *err, size_t errlen)
{
    size_t l = strlen(arg);
    if (strchr(arg, '/') || (l > 4 && !strcmp(arg + l - 4, ".yml")) ||
        (l > 5 && !strcmp(arg + l - 5, ".yaml"))) {
        if (l >= plen) {
            snprintf(err, errlen, "%.64s...: path too long", arg);
            return MW_EINVAL;
        }
        memcpy(path, arg, l + 1);
        return 0;
    }
    for (size_t i = 0; i < l; i++) {
        char ch = arg[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.')) {
            snprintf(err, errlen, "'%.64s': a pipeline name is letters, digits, '-', '_', '.'",
                     arg);
            return MW_EINVAL;
        }
    }
    if (l == 0 || l > 128) {
        snprintf(err, errlen, "pipeline name must be 1..128 characters");
        return MW_EINVAL;
    }
    const char *env = getenv("MWRASP_PIPELINES");
    const char *dirs[2] = {env && env[0] ? env : NULL, "pipelines"};
    for (int i = 0; i < 2; i++) {
        if (!dirs[i])
            continue;
        int w = snprintf(path, plen, "%s/%s.yml", dirs[i], arg);
        if (w > 0 && (size_t)w < plen && access(path, R_OK) == 0)
            return 0;
    }
    snprintf(err, errlen, "%s: no such pipeline (looked for %s%s%s.yml and pipelines/%s.yml)", arg,
             env && env[0] ? env : "", env && env[0] ? "/" : "", env && env[0] ? arg : "", arg);
    if (!(env && env[0]))
        snprintf(err, errlen, "%s: no such pipeline (looked for pipelines/%s.yml)", arg, arg);
    return MW_ENOTFOUND;
}

int mw_sigma_pipeline_load(const char *name_or_path, mw_sigma_pipeline_t **out, char *err,
                           size_t errlen)
{
    char path[4096];
    char *buf = NULL;
    size_t len = 0;
    mw_sigma_pipeline_t *p = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    int have_parser = 0, have_doc = 0, rc;
    if (!name_or_path || !out || !err || errlen == 0)
        return MW_EINVAL;
    err[0] = '\0';
    if ((rc = resolve(name_or_path, path, sizeof(path), err, errlen)))
        goto out;
    if ((rc = read_file(path, &buf, &len, err, errlen)))
        goto out;
    if (!(p = calloc(1, sizeof(*p)))) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = MW_ENOMEM;
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = MW_ENOMEM;
        goto out;
    }
    have_parser = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu:%lu: yaml error: %s", path,
                 (unsigned long)parser.problem_mark.line + 1,
                 (unsigned long)parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "syntax error");
        rc = parser.error == YAML_MEMORY_ERROR ? MW_ENOMEM : MW_EPARSE;
        goto out;
    }
    have_doc = 1;
    struct lctx c = {.doc = &doc, .file = path, .err = err, .errlen = errlen};
    if ((rc = parse_pipeline(&c, p)))
        goto out;
    if (!p->name) {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t bl = strcspn(b, ".");
        if (!(p->name = strndup(b, bl ? bl : strlen(b)))) {
            rc = MW_ENOMEM;
            goto out;
        }
    }
    *out = p;
    p = NULL;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    mw_sigma_pipeline_free(p);
    free(buf);
    return rc;
}

/* ---- applying to a rule ------------------------------------------------------ */

static const char *scalar_of(yaml_document_t *doc, int id)
{
    yaml_node_t *n = yaml_document_get_node(doc, id);
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int ls_eq(const char *want, const char *have)
{
    return !want || (have && !strcasecmp(want, have));
}

/* The node id of key in mapping node id m, 0 if absent. */
static int map_get(yaml_document_t *doc, int m, const char *key)
{
    yaml_node_t *n = yaml_document_get_node(doc, m);
    if (!n || n->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
        if (is_key(yaml_document_get_node(doc, p->key), key))
            return p->value;
    return 0;
}

/* A new scalar node with the marks of node id like (0 = none). Node
 * pointers into doc are invalid after this call (the node array may move). */
static int add_scalar(yaml_document_t *doc, const char *s, size_t len, yaml_scalar_style_t style,
                      int like)
{
    int id = yaml_document_add_scalar(doc, NULL, (const yaml_char_t *)s, (int)len, style);
    yaml_node_t *l = like ? yaml_document_get_node(doc, like) : NULL;
    yaml_node_t *n = id ? yaml_document_get_node(doc, id) : NULL;
    if (n && l) {
        n->start_mark = l->start_mark;
        n->end_mark = l->end_mark;
    }
    return id;
}

/* Renames the field part of every key of mapping node m. */
static int rename_keys(yaml_document_t *doc, int m, const struct pl_entry *e)
{
    yaml_node_t *n = yaml_document_get_node(doc, m);
    if (!n || n->type != YAML_MAPPING_NODE)
        return 0;
    size_t np = map_len(n);
    for (size_t i = 0; i < np; i++) {
        n = yaml_document_get_node(doc, m); /* may have moved */
        int kid = n->data.mapping.pairs.start[i].key;
        yaml_node_t *k = yaml_document_get_node(doc, kid);
        if (!k || k->type != YAML_SCALAR_NODE)
            continue;
        const char *ks = (const char *)k->data.scalar.value;
        size_t kl = k->data.scalar.length;
        const char *bar = memchr(ks, '|', kl);
        size_t fl = bar ? (size_t)(bar - ks) : kl;
        const struct pl_rename *r = NULL;
        for (size_t j = 0; j < e->nren && !r; j++)
            if (strlen(e->ren[j].from) == fl && !memcmp(e->ren[j].from, ks, fl))
                r = &e->ren[j];
        if (!r)
            continue;
        size_t tl = strlen(r->to), nl = tl + (kl - fl);
        char *s = malloc(nl + 1);
        if (!s)
            return MW_ENOMEM;
        memcpy(s, r->to, tl);
        memcpy(s + tl, ks + fl, kl - fl);
        s[nl] = '\0';
        int id = add_scalar(doc, s, nl, k->data.scalar.style, kid);
        free(s);
        if (!id)
            return MW_ENOMEM;
        n = yaml_document_get_node(doc, m);
        n->data.mapping.pairs.start[i].key = id;
    }
    return 0;
}

static int add_cond_selection(yaml_document_t *doc, int det, int like, const struct pl_entry *e)
{
    int m = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    if (!m)
        return MW_ENOMEM;
    for (size_t i = 0; i < e->nconds; i++) {
        const struct pl_cond *pc = &e->conds[i];
        int k = add_scalar(doc, pc->field, strlen(pc->field), YAML_PLAIN_SCALAR_STYLE, like), v;
        if (!k)
            return MW_ENOMEM;
        if (pc->nvals == 1) {
            v = add_scalar(doc, pc->vals[0].s, pc->vals[0].len, pc->vals[0].style, like);
        } else {
            v = yaml_document_add_sequence(doc, NULL, YAML_FLOW_SEQUENCE_STYLE);
            for (size_t j = 0; v && j < pc->nvals; j++) {
                int x = add_scalar(doc, pc->vals[j].s, pc->vals[j].len, pc->vals[j].style, like);
                if (!x || !yaml_document_append_sequence_item(doc, v, x))
                    return MW_ENOMEM;
            }
        }
        if (!v || !yaml_document_append_mapping_pair(doc, m, k, v))
            return MW_ENOMEM;
    }
    int k =
        add_scalar(doc, SG_PIPELINE_SEL, strlen(SG_PIPELINE_SEL), YAML_PLAIN_SCALAR_STYLE, like);
    if (!k || !yaml_document_append_mapping_pair(doc, det, k, m))
        return MW_ENOMEM;
    return 0;
}

/* "(" cond ") and " SG_PIPELINE_SEL as a new scalar, or 0. */
static int wrap_condition(yaml_document_t *doc, int cid)
{
    yaml_node_t *c = yaml_document_get_node(doc, cid);
    if (!c || c->type != YAML_SCALAR_NODE)
        return 0;
    size_t l = c->data.scalar.length, nl = l + sizeof(SG_PIPELINE_SEL) - 1 + 7;
    char *s = malloc(nl + 1);
    if (!s)
        return 0;
    snprintf(s, nl + 1, "(%s) and %s", (const char *)c->data.scalar.value, SG_PIPELINE_SEL);
    int id = add_scalar(doc, s, strlen(s), YAML_PLAIN_SCALAR_STYLE, cid);
    free(s);
    return id;
}

int sg_pipeline_apply(const mw_sigma_pipeline_t *p, yaml_document_t *doc, const char *file,
                      char *err, size_t errlen)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!p || !root || root->type != YAML_MAPPING_NODE)
        return 0;
    int rootid = (int)(root - doc->nodes.start) + 1;
    int ls = map_get(doc, rootid, "logsource");
    const char *product = ls ? scalar_of(doc, map_get(doc, ls, "product")) : NULL;
    const char *category = ls ? scalar_of(doc, map_get(doc, ls, "category")) : NULL;
    const char *service = ls ? scalar_of(doc, map_get(doc, ls, "service")) : NULL;
    const struct pl_entry *e = NULL;
    for (size_t i = 0; i < p->n && !e; i++)
        if (ls_eq(p->e[i].product, product) && ls_eq(p->e[i].category, category) &&
            ls_eq(p->e[i].service, service))
            e = &p->e[i];
    if (!e)
        return 0;
    unsigned long line = ls ? (unsigned long)yaml_document_get_node(doc, ls)->start_mark.line + 1
                            : (unsigned long)root->start_mark.line + 1;
    if (e->unsupported) {
        snprintf(err, errlen, "%s:%lu: logsource %s%s%s%s%s%s not supported by pipeline '%s': %s",
                 file, line, product ? "product:" : "", product ? product : "",
                 category ? " category:" : "", category ? category : "", service ? " service:" : "",
                 service ? service : "", p->name, e->unsupported);
        return MW_EINVAL;
    }
    int det = map_get(doc, rootid, "detection");
    yaml_node_t *dn = det ? yaml_document_get_node(doc, det) : NULL;
    if (!dn || dn->type != YAML_MAPPING_NODE)
        return 0; /* the compiler says what is wrong */
    int rc = 0, cond_pair = -1;
    size_t np = map_len(dn);
    for (size_t i = 0; i < np; i++) {
        dn = yaml_document_get_node(doc, det);
        yaml_node_pair_t pr = dn->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(doc, pr.key);
        if (is_key(k, "condition")) {
            cond_pair = (int)i;
            continue;
        }
        if (is_key(k, SG_PIPELINE_SEL) && e->nconds) {
            snprintf(err, errlen, "%s:%lu: selection name '%s' is reserved for the pipeline", file,
                     (unsigned long)k->start_mark.line + 1, SG_PIPELINE_SEL);
            return MW_EINVAL;
        }
        if (!e->nren)
            continue;
        yaml_node_t *v = yaml_document_get_node(doc, pr.value);
        if (v && v->type == YAML_MAPPING_NODE) {
            rc = rename_keys(doc, pr.value, e);
        } else if (v && v->type == YAML_SEQUENCE_NODE) {
            size_t ni = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
            for (size_t j = 0; j < ni && !rc; j++) {
                v = yaml_document_get_node(doc, pr.value);
                rc = rename_keys(doc, v->data.sequence.items.start[j], e);
            }
        }
        if (rc) {
            snprintf(err, errlen, "%s: out of memory", file);
            return rc;
        }
    }
    if (!e->nconds || cond_pair < 0)
        return 0; /* no condition: the compiler refuses the rule */
    dn = yaml_document_get_node(doc, det);
    int cid = dn->data.mapping.pairs.start[cond_pair].value;
    yaml_node_t *cn = yaml_document_get_node(doc, cid);
    int newc = 0;
    if (cn && cn->type == YAML_SCALAR_NODE) {
        newc = wrap_condition(doc, cid);
    } else if (cn && cn->type == YAML_SEQUENCE_NODE) {
        size_t ni = (size_t)(cn->data.sequence.items.top - cn->data.sequence.items.start);
        newc = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
        for (size_t j = 0; newc && j < ni; j++) {
            cn = yaml_document_get_node(doc, cid);
            int item = cn->data.sequence.items.start[j];
            yaml_node_t *in = yaml_document_get_node(doc, item);
            int w = in && in->type == YAML_SCALAR_NODE ? wrap_condition(doc, item) : item;
            if (!w || !yaml_document_append_sequence_item(doc, newc, w))
                newc = 0;
        }
    } else {
        return 0;
    }
    if (!newc || add_cond_selection(doc, det, cid, e)) {
        snprintf(err, errlen, "%s: out of memory", file);
        return MW_ENOMEM;
    }
    dn = yaml_document_get_node(doc, det);
    dn->data.mapping.pairs.start[cond_pair].value = newc;
    return 0;
}
