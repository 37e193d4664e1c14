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
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <pcre2.h>
#include <yaml.h>

#include "detect/sigma_internal.h"
#include "mwrasp/detect.h"
#include "mwrasp/log.h"

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
    va_start(ap, fmt);
    sg_vfail_at(c->err, c->errlen, c->file, n ? (unsigned long)n->start_mark.line + 1 : 1ul, fmt,
                ap);
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
enum { TR_WINDASH = 1, TR_UTF16LE, TR_UTF16BE, TR_UTF16, TR_BASE64, TR_BASE64OFF };
#define SG_MAX_TR 8
#define SG_MAX_EXPAND (2 * MW_SIGMA_MAX_VALUES) /* values per field condition, expanded */
#define SG_MAX_VARIANTS 3125 /* values one rule value expands to (windash: 5 dashes) */
#define SG_MAX_CONDS 256 /* conditions in a condition list */
#define SG_RE_MATCH_LIMIT 200000u /* pcre2_set_match_limit: backtracking steps */
#define SG_RE_DEPTH_LIMIT 5000u /* pcre2_set_depth_limit */
#define SG_RE_HEAP_LIMIT 4096u /* pcre2_set_heap_limit, KiB */

/* Modifiers of one field ("Field|mod1|mod2"), Sigma modifiers appendix. */
struct mods {
    int match; /* MOD_* */
    int all, cased, re, re_i, re_m, re_s, cidr, exists, fieldref, cmp;
    int ntr;
    int tr[SG_MAX_TR]; /* value transformations, in the order given */
};

/* A value being built: bytes and one enum sg_kind per byte (malloc'd). */
struct vb {
    char *b;
    uint8_t *k;
    size_t n;
};

struct vvec {
    struct sg_value *v;
    size_t n, cap;
};

static void vb_free(struct vb *v)
{
    free(v->b);
    free(v->k);
    v->b = NULL;
    v->k = NULL;
}

static int vb_alloc(struct vb *v, size_t n)
{
    v->b = malloc(n + 1);
    v->k = malloc(n + 1);
    v->n = 0;
    if (!v->b || !v->k) {
        vb_free(v);
        return MW_ENOMEM;
    }
    return 0;
}

/* Sigma string -> bytes + wildcard kinds. Escapes (Sigma spec, "Escaping"):
 * "\*", "\?", "\\" are literals; a lone "\" is literal; runs of '*' fold. */
static int vb_parse(const char *s, size_t len, struct vb *out)
{
    if (vb_alloc(out, len))
        return MW_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\\' && i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
            out->b[o] = s[++i];
            out->k[o++] = SG_K_LIT;
        } else if (ch == '*') {
            if (o == 0 || out->k[o - 1] != SG_K_STAR) {
                out->b[o] = '*';
                out->k[o++] = SG_K_STAR;
            }
        } else if (ch == '?') {
            out->b[o] = '?';
            out->k[o++] = SG_K_QMARK;
        } else {
            out->b[o] = ch;
            out->k[o++] = SG_K_LIT;
        }
    }
    out->n = o;
    return 0;
}

static int vb_plain(const struct vb *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->k[i] != SG_K_LIT)
            return 0;
    return 1;
}

/* bytes -> one sg_value with the match modifier's wildcards added,
 * classified into the cheapest sg_op; lowercased unless cased. */
static int finish_value(struct cctx *c, const struct vb *in, int mod, int cased,
                        struct sg_value *out)
{
    size_t len = in->n;
    char *b = sg_alloc(&c->r->arena, len + 3);
    uint8_t *k = sg_alloc(&c->r->arena, len + 3);
    if (!b || !k)
        return MW_ENOMEM;
    size_t o = 0;
    if (mod == MOD_CONTAINS || mod == MOD_ENDSWITH)
        k[o++] = SG_K_STAR;
    for (size_t i = 0; i < len; i++) {
        if (in->k[i] == SG_K_STAR && o > 0 && k[o - 1] == SG_K_STAR)
            continue;
        char ch = in->b[i];
        b[o] = (!cased && ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        k[o++] = in->k[i];
    }
    if ((mod == MOD_CONTAINS || mod == MOD_STARTSWITH) && (o == 0 || k[o - 1] != SG_K_STAR))
        k[o++] = SG_K_STAR;
    for (size_t i = 0; i < o; i++)
        if (k[i] != SG_K_LIT)
            b[i] = k[i] == SG_K_STAR ? '*' : '?';
    b[o] = '\0';
    out->cased = (uint8_t)cased;

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
        sg_bloom_glob(b, k, o, out->bloom);
        return 0;
    }
    out->s = b + lo;
    out->len = (uint32_t)(hi - lo);
    b[hi] = '\0'; /* literal part only; the pattern chars after it are no longer needed */
    out->op = lead && trail ? SG_CONTAINS : lead ? SG_ENDSWITH : trail ? SG_STARTSWITH : SG_EXACT;
    if (out->op == SG_CONTAINS) {
        if (cased) { /* the filter is always over lowercased bytes */
            char *low = malloc(out->len + 1);
            if (!low)
                return MW_ENOMEM;
            sg_lower(low, out->s, out->len);
            sg_bloom(low, out->len, out->bloom);
            free(low);
        } else {
            sg_bloom(out->s, out->len, out->bloom);
        }
    }
    return 0;
}

/* One scalar as a keyword / plain value (no transformations). */
static int compile_value(struct cctx *c, const yaml_node_t *n, int mod, struct sg_value *out)
{
    struct vb v;
    if (slen(n) > MW_SIGMA_MAX_VALUE_LEN)
        return fail(c, n, MW_ETOOBIG, "value longer than %u bytes", MW_SIGMA_MAX_VALUE_LEN);
    if (vb_parse(sval(n), slen(n), &v))
        return fail(c, n, MW_ENOMEM, "out of memory");
    int rc = finish_value(c, &v, mod, 0, out);
    vb_free(&v);
    return rc ? fail(c, n, rc, "out of memory") : 0;
}

/* windash (pySigma SigmaWindowsDashModifier): a '-' or '/' at \B[-/]\b -
 * not preceded by a word character and followed by one - becomes each of
 * '-', '/', en dash, em dash, horizontal bar. */
static const char *const dashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};

static int is_wordc(const struct vb *v, size_t i)
{
    unsigned char ch = (unsigned char)v->b[i];
    return v->k[i] == SG_K_LIT && (ch >= 0x80 || ch == '_' || (ch >= '0' && ch <= '9') ||
                                   ((ch | 32) >= 'a' && (ch | 32) <= 'z'));
}

static int windash_pos(const struct vb *v, size_t i)
{
    return v->k[i] == SG_K_LIT && (v->b[i] == '-' || v->b[i] == '/') &&
           (i == 0 || !is_wordc(v, i - 1)) && i + 1 < v->n && is_wordc(v, i + 1);
}

/* Appends to out[] every variant of in; *nout is bounded by cap. */
static int tr_windash(const struct vb *in, struct vb *out, size_t *nout, size_t cap)
{
    size_t d = 0, total = 1;
    for (size_t i = 0; i < in->n; i++)
        if (windash_pos(in, i)) {
            d++;
            total *= 5;
            if (total > cap)
                return MW_ELIMIT;
        }
    if (*nout + total > cap)
        return MW_ELIMIT;
    for (size_t var = 0; var < total; var++) {
        struct vb *o = &out[(*nout)++];
        if (vb_alloc(o, in->n + 2 * d))
            return MW_ENOMEM;
        size_t x = var;
        for (size_t i = 0; i < in->n; i++) {
            if (windash_pos(in, i)) {
                const char *rep = dashes[x % 5];
                x /= 5;
                for (size_t j = 0; rep[j]; j++) {
                    o->b[o->n] = rep[j];
                    o->k[o->n++] = SG_K_LIT;
                }
            } else {
                o->b[o->n] = in->b[i];
                o->k[o->n++] = in->k[i];
            }
        }
    }
    return 0;
}

/* UTF-8 -> UTF-16 (LE, BE, or BOM + LE). MW_EINVAL on invalid UTF-8. */
static int tr_utf16(const struct vb *in, int how, struct vb *o)
{
    if (vb_alloc(o, in->n * 4 + 2))
        return MW_ENOMEM;
    const unsigned char *s = (const unsigned char *)in->b;
    int be = how == TR_UTF16BE;
    if (how == TR_UTF16) {
        o->b[o->n++] = (char)0xff;
        o->b[o->n++] = (char)0xfe;
    }
    for (size_t i = 0; i < in->n;) {
        uint32_t cp;
        size_t l;
        if (s[i] < 0x80)
            cp = s[i], l = 1;
        else if ((s[i] & 0xe0) == 0xc0)
            cp = s[i] & 0x1f, l = 2;
        else if ((s[i] & 0xf0) == 0xe0)
            cp = s[i] & 0x0f, l = 3;
        else if ((s[i] & 0xf8) == 0xf0)
            cp = s[i] & 0x07, l = 4;
        else
            return MW_EINVAL;
        if (i + l > in->n)
            return MW_EINVAL;
        for (size_t j = 1; j < l; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return MW_EINVAL;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((l == 2 && cp < 0x80) || (l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return MW_EINVAL;
        i += l;
        uint32_t units[2];
        int nu = 1;
        units[0] = cp;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = 0xd800 | (cp >> 10);
            units[1] = 0xdc00 | (cp & 0x3ff);
            nu = 2;
        }
        for (int u = 0; u < nu; u++) {
            char lo = (char)(units[u] & 0xff), hi = (char)(units[u] >> 8);
            o->b[o->n++] = be ? hi : lo;
            o->b[o->n++] = be ? lo : hi;
        }
    }
    memset(o->k, SG_K_LIT, o->n);
    return 0;
}

static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 base64 with padding, of pre[0..npre) followed by in's bytes,
 * then cut to [from, len - cut). */
static int b64(const struct vb *in, size_t npre, size_t from, size_t cut, struct vb *o)
{
    size_t n = npre + in->n, outlen = 4 * ((n + 2) / 3);
    if (vb_alloc(o, outlen))
        return MW_ENOMEM;
    uint32_t acc = 0;
    size_t got = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = i < npre ? ' ' : (unsigned char)in->b[i - npre];
        acc = (acc << 8) | ch;
        if (++got == 3) {
            o->b[w++] = b64tab[(acc >> 18) & 63];
            o->b[w++] = b64tab[(acc >> 12) & 63];
            o->b[w++] = b64tab[(acc >> 6) & 63];
            o->b[w++] = b64tab[acc & 63];
            acc = 0;
            got = 0;
        }
    }
    if (got == 1) {
        acc <<= 16;
        o->b[w++] = b64tab[(acc >> 18) & 63];
        o->b[w++] = b64tab[(acc >> 12) & 63];
        o->b[w++] = '=';
        o->b[w++] = '=';
    } else if (got == 2) {
        acc <<= 8;
        o->b[w++] = b64tab[(acc >> 18) & 63];
        o->b[w++] = b64tab[(acc >> 12) & 63];
        o->b[w++] = b64tab[(acc >> 6) & 63];
        o->b[w++] = '=';
    }
    if (from + cut > w)
        from = cut = 0;
    memmove(o->b, o->b + from, w - from - cut);
    o->n = w - from - cut;
    memset(o->k, SG_K_LIT, o->n);
    return 0;
}

/* base64offset (pySigma SigmaBase64OffsetModifier): for shifts i = 0..2,
 * base64(" " * i + value)[start[i] : end[(len + i) % 3]] with start =
 * (0, 2, 3), end = (none, -3, -2): the part that does not depend on the
 * bytes around the value. */
static int tr_b64off(const struct vb *in, struct vb *out, size_t *nout, size_t cap)
{
    static const size_t start[3] = {0, 2, 3}, endcut[3] = {0, 3, 2};
    if (*nout + 3 > cap)
        return MW_ELIMIT;
    for (size_t i = 0; i < 3; i++) {
        int rc = b64(in, i, start[i], endcut[(in->n + i) % 3], &out[*nout]);
        if (rc)
            return rc;
        (*nout)++;
    }
    return 0;
}

static int vvec_push(struct vvec *vv, struct sg_value **out)
{
    if (vv->n == SG_MAX_EXPAND)
        return MW_ELIMIT;
    if (vv->n == vv->cap) {
        size_t cap = vv->cap ? vv->cap * 2 : 8;
        struct sg_value *nv = realloc(vv->v, cap * sizeof(*nv));
        if (!nv)
            return MW_ENOMEM;
        vv->v = nv;
        vv->cap = cap;
    }
    *out = &vv->v[vv->n++];
    memset(*out, 0, sizeof(**out));
    return 0;
}

static const char *tr_name(int tr)
{
    switch (tr) {
    case TR_WINDASH:
        return "windash";
    case TR_UTF16LE:
        return "utf16le";
    case TR_UTF16BE:
        return "utf16be";
    case TR_UTF16:
        return "utf16";
    case TR_BASE64:
        return "base64";
    default:
        return "base64offset";
    }
}

/* A string value through the transformations, then the match modifier. */
static int compile_string(struct cctx *c, const yaml_node_t *n, const struct mods *m, uint32_t grp,
                          struct vvec *vv)
{
    struct vb one[1];
    size_t ncap = m->ntr ? SG_MAX_VARIANTS : 1;
    struct vb *cur = m->ntr ? calloc(ncap, sizeof(*cur)) : one;
    struct vb *nxt = m->ntr ? calloc(ncap, sizeof(*nxt)) : NULL;
    size_t ncur = 0, nnxt = 0;
    int rc = 0;
    if (!cur || (m->ntr && !nxt)) {
        rc = fail(c, n, MW_ENOMEM, "out of memory");
        goto out;
    }
    if (vb_parse(sval(n), slen(n), &cur[0])) {
        rc = fail(c, n, MW_ENOMEM, "out of memory");
        goto out;
    }
    ncur = 1;
    for (int t = 0; t < m->ntr; t++) {
        nnxt = 0;
        for (size_t i = 0; i < ncur && !rc; i++) {
            if (m->tr[t] != TR_WINDASH && !vb_plain(&cur[i])) {
                rc = fail(c, n, MW_EINVAL, "wildcards cannot be combined with '%s' in '%s'",
                          tr_name(m->tr[t]), sval(n));
                break;
            }
            switch (m->tr[t]) {
            case TR_WINDASH:
                rc = tr_windash(&cur[i], nxt, &nnxt, ncap);
                break;
            case TR_BASE64OFF:
                rc = tr_b64off(&cur[i], nxt, &nnxt, ncap);
                break;
            case TR_BASE64:
                rc = b64(&cur[i], 0, 0, 0, &nxt[nnxt]);
                nnxt += rc == 0;
                break;
            default:
                rc = tr_utf16(&cur[i], m->tr[t], &nxt[nnxt]);
                nnxt++; /* freed below even when partial */
                break;
            }
            if (rc == MW_ELIMIT)
                rc = fail(c, n, MW_ELIMIT, "'%s' expands to more than %d values", sval(n),
                          SG_MAX_VARIANTS);
            else if (rc == MW_EINVAL)
                rc = fail(c, n, MW_EINVAL, "'%s' is not valid UTF-8", sval(n));
            else if (rc == MW_ENOMEM)
                rc = fail(c, n, MW_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < ncur; i++)
            vb_free(&cur[i]);
        struct vb *tmp = cur;
        cur = nxt;
        nxt = tmp;
        ncur = nnxt;
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < ncur; i++) {
        struct sg_value *v;
        if ((rc = vvec_push(vv, &v))) {
            rc = fail(c, n, rc,
                      rc == MW_ELIMIT ? "field condition expands to too many values"
                                      : "out of memory");
            goto out;
        }
        v->grp = grp;
        if ((rc = finish_value(c, &cur[i], m->match, m->cased, v))) {
            rc = fail(c, n, rc, "out of memory");
            goto out;
        }
    }
out:
    if (cur)
        for (size_t i = 0; i < ncur; i++)
            vb_free(&cur[i]);
    if (cur != one)
        free(cur);
    free(nxt);
    return rc;
}

static int compile_re(struct cctx *c, const yaml_node_t *n, const struct mods *m,
                      struct sg_value *v)
{
    uint32_t opts = PCRE2_MATCH_INVALID_UTF;
    if (m->re_i)
        opts |= PCRE2_CASELESS;
    if (m->re_m)
        opts |= PCRE2_MULTILINE;
    if (m->re_s)
        opts |= PCRE2_DOTALL;
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)sval(n), slen(n), opts, &ec, &eoff, NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", ec);
        return fail(c, n, MW_EINVAL, "invalid regular expression '%s' at offset %lu: %s", sval(n),
                    (unsigned long)eoff, (const char *)msg);
    }
    struct sg_re *re = sg_alloc(&c->r->arena, sizeof(*re));
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    if (!re || !mctx) {
        pcre2_code_free(code);
        pcre2_match_context_free(mctx);
        return fail(c, n, MW_ENOMEM, "out of memory");
    }
    pcre2_set_match_limit(mctx, SG_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(mctx, SG_RE_DEPTH_LIMIT);
    pcre2_set_heap_limit(mctx, SG_RE_HEAP_LIMIT);
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* interpreter if JIT is unavailable */
    re->code = code;
    re->mctx = mctx;
    re->flags = (m->re_i ? SG_RE_I : 0) | (m->re_m ? SG_RE_M : 0) | (m->re_s ? SG_RE_S : 0);
    re->next = c->r->res;
    c->r->res = re;
    v->op = SG_RE;
    v->aux = re;
    v->cased = 1;
    v->s = adup(c, n);
    v->len = (uint32_t)slen(n);
    return v->s ? 0 : fail(c, n, MW_ENOMEM, "out of memory");
}

static int compile_cidr(struct cctx *c, const yaml_node_t *n, struct sg_value *v)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *s = sval(n);
    size_t l = slen(n);
    if (l == 0 || l >= sizeof buf)
        return fail(c, n, MW_EINVAL, "invalid CIDR '%s'", s);
    memcpy(buf, s, l);
    buf[l] = '\0';
    struct sg_cidr *cd = sg_alloc(&c->r->arena, sizeof(*cd));
    if (!cd)
        return fail(c, n, MW_ENOMEM, "out of memory");
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        char *end = NULL;
        *slash = '\0';
        if (slash[1] < '0' || slash[1] > '9')
            return fail(c, n, MW_EINVAL, "invalid CIDR '%s'", s);
        bits = strtol(slash + 1, &end, 10);
        if (*end)
            return fail(c, n, MW_EINVAL, "invalid CIDR '%s'", s);
    }
    if (inet_pton(AF_INET, buf, cd->addr) == 1) {
        cd->family = AF_INET;
        if (bits < 0)
            bits = 32;
        if (bits > 32)
            return fail(c, n, MW_EINVAL, "invalid CIDR '%s': prefix longer than 32", s);
    } else if (inet_pton(AF_INET6, buf, cd->addr) == 1) {
        cd->family = AF_INET6;
        if (bits < 0)
            bits = 128;
        if (bits > 128)
            return fail(c, n, MW_EINVAL, "invalid CIDR '%s': prefix longer than 128", s);
    } else {
        return fail(c, n, MW_EINVAL, "invalid CIDR '%s'", s);
    }
    cd->bits = (unsigned)bits;
    v->op = SG_CIDR;
    v->aux = cd;
    v->s = adup(c, n);
    v->len = (uint32_t)l;
    return v->s ? 0 : fail(c, n, MW_ENOMEM, "out of memory");
}

/* Decimal number as Sigma/YAML writes it: [+-]digits[.digits][e[+-]digits].
 * Shared with matching (sg_parse_num). */
static int compile_num(struct cctx *c, const yaml_node_t *n, int cmp, struct sg_value *v)
{
    double *d = sg_alloc(&c->r->arena, sizeof(*d));
    if (!d)
        return fail(c, n, MW_ENOMEM, "out of memory");
    if (sg_parse_num(sval(n), slen(n), d))
        return fail(c, n, MW_EINVAL, "'%s' is not a number (lt/lte/gt/gte)", sval(n));
    v->op = SG_NUM;
    v->aux = d;
    v->cmp = (uint8_t)cmp;
    v->s = adup(c, n);
    v->len = (uint32_t)slen(n);
    return v->s ? 0 : fail(c, n, MW_ENOMEM, "out of memory");
}

static int compile_fieldref(struct cctx *c, const yaml_node_t *n, const struct mods *m,
                            struct sg_value *v)
{
    if (slen(n) == 0 || slen(n) > 255 || memchr(sval(n), '\0', slen(n)))
        return fail(c, n, MW_EINVAL, "fieldref needs a field name, not '%s'", sval(n));
    struct sg_fref *fr = sg_alloc(&c->r->arena, sizeof(*fr));
    if (!fr)
        return fail(c, n, MW_ENOMEM, "out of memory");
    int rc = sg_fields_intern(&c->rs->fields, sval(n), slen(n), &fr->slot);
    if (rc)
        return fail(c, n, rc, "%s",
                    rc == MW_ELIMIT ? "too many distinct field names" : "out of memory");
    fr->mode = m->match == MOD_CONTAINS     ? SG_CONTAINS
               : m->match == MOD_STARTSWITH ? SG_STARTSWITH
               : m->match == MOD_ENDSWITH   ? SG_ENDSWITH
                                            : SG_EXACT;
    v->op = SG_FIELDREF;
    v->aux = fr;
    v->cased = (uint8_t)m->cased;
    v->s = adup(c, n);
    v->len = (uint32_t)slen(n);
    return v->s ? 0 : fail(c, n, MW_ENOMEM, "out of memory");
}

/* One rule value (a YAML scalar) -> one or more sg_values of group grp. */
static int compile_item(struct cctx *c, const yaml_node_t *n, const struct mods *m, uint32_t grp,
                        struct vvec *vv)
{
    if (slen(n) > MW_SIGMA_MAX_VALUE_LEN)
        return fail(c, n, MW_ETOOBIG, "value longer than %u bytes", MW_SIGMA_MAX_VALUE_LEN);
    if (!m->re && !m->cidr && !m->cmp && !m->exists && !m->fieldref)
        return compile_string(c, n, m, grp, vv);
    struct sg_value *v;
    int rc = vvec_push(vv, &v);
    if (rc)
        return fail(c, n, rc, rc == MW_ELIMIT ? "too many values" : "out of memory");
    v->grp = grp;
    if (m->re)
        return compile_re(c, n, m, v);
    if (m->cidr)
        return compile_cidr(c, n, v);
    if (m->cmp)
        return compile_num(c, n, m->cmp, v);
    if (m->fieldref)
        return compile_fieldref(c, n, m, v);
    /* exists */
    const char *s = sval(n);
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcasecmp(s, "true"))
        v->len = 1;
    else if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcasecmp(s, "false"))
        v->len = 0;
    else
        return fail(c, n, MW_EINVAL, "'exists' takes true or false, not '%s'", s);
    v->op = SG_EXISTS;
    v->s = "";
    return 0;
}

/* ---- selections -------------------------------------------------------- */

static int parse_modifiers(struct cctx *c, const yaml_node_t *key, const char *mods, size_t mlen,
                           struct mods *m)
{
    memset(m, 0, sizeof(*m));
    const char *ks = sval(key);
    size_t i = 0;
    if (mlen > 0 && mods[mlen - 1] == '|')
        return fail(c, key, MW_EINVAL, "empty modifier in '%s'", ks);
    while (i < mlen) {
        size_t j = i;
        while (j < mlen && mods[j] != '|')
            j++;
        const char *w = mods + i;
        size_t l = j - i;
#define IS(name) (l == sizeof(name) - 1 && !memcmp(w, name, l))
        int nm = -1, *flag = NULL, tr = 0;
        if (IS("contains"))
            nm = MOD_CONTAINS;
        else if (IS("startswith"))
            nm = MOD_STARTSWITH;
        else if (IS("endswith"))
            nm = MOD_ENDSWITH;
        else if (IS("all"))
            flag = &m->all;
        else if (IS("cased"))
            flag = &m->cased;
        else if (IS("re"))
            flag = &m->re;
        else if (IS("i") || IS("m") || IS("s")) {
            if (!m->re)
                return fail(c, key, MW_EINVAL, "modifier '%.*s' must follow 're' in '%s'", (int)l,
                            w, ks);
            flag = IS("i") ? &m->re_i : IS("m") ? &m->re_m : &m->re_s;
        } else if (IS("cidr"))
            flag = &m->cidr;
        else if (IS("exists"))
            flag = &m->exists;
        else if (IS("fieldref"))
            flag = &m->fieldref;
        else if (IS("lt") || IS("lte") || IS("gt") || IS("gte")) {
            if (m->cmp)
                return fail(c, key, MW_EINVAL, "conflicting modifiers in '%s'", ks);
            m->cmp = IS("lt") ? SG_LT : IS("lte") ? SG_LTE : IS("gt") ? SG_GT : SG_GTE;
        } else if (IS("windash"))
            tr = TR_WINDASH;
        else if (IS("utf16le") || IS("wide"))
            tr = TR_UTF16LE;
        else if (IS("utf16be"))
            tr = TR_UTF16BE;
        else if (IS("utf16"))
            tr = TR_UTF16;
        else if (IS("base64"))
            tr = TR_BASE64;
        else if (IS("base64offset"))
            tr = TR_BASE64OFF;
        else if (IS("expand"))
            return fail(c, key, MW_EINVAL,
                        "modifier 'expand' (placeholders) is not supported in '%s'", ks);
        else
            return fail(c, key, MW_EINVAL, "unsupported modifier '%.*s' in '%s'", (int)l, w, ks);
#undef IS
        if (flag) {
            if (*flag)
                return fail(c, key, MW_EINVAL, "modifier '%.*s' given twice in '%s'", (int)l, w,
                            ks);
            *flag = 1;
        }
        if (tr) {
            if (m->ntr == SG_MAX_TR)
                return fail(c, key, MW_EINVAL, "too many modifiers in '%s'", ks);
            m->tr[m->ntr++] = tr;
        }
        if (nm >= 0) {
            if (m->match != MOD_NONE)
                return fail(c, key, MW_EINVAL, "conflicting modifiers in '%s'", ks);
            m->match = nm;
        }
        i = j + 1;
    }
    /* combinations that have no meaning (pySigma refuses them too) */
    int special = !!m->re + !!m->cidr + !!m->exists + !!m->fieldref + !!m->cmp;
    if (special > 1 || (special && m->ntr) ||
        ((m->re || m->cidr || m->exists || m->cmp) && m->match != MOD_NONE) ||
        (m->exists && (m->all || m->cased)))
        return fail(c, key, MW_EINVAL, "conflicting modifiers in '%s'", ks);
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
    if (fl > 255)
        return fail(c, key, MW_EINVAL, "field name longer than 255 bytes");
    if (memchr(ks, '\0', kl))
        return fail(c, key, MW_EINVAL, "NUL byte in field name");
    struct mods m;
    int rc;
    if (bar)
        rc = parse_modifiers(c, key, bar + 1, kl - fl - 1, &m);
    else
        rc = (memset(&m, 0, sizeof m), 0);
    if (rc)
        return rc;
    if (fl == 0) {
        /* keywords with modifiers ('|all': [...]): searched in every field */
        if (m.cidr || m.exists || m.fieldref || m.cmp)
            return fail(c, key, MW_EINVAL, "'%s' needs a field name", ks);
        if (m.match == MOD_NONE && !m.re)
            m.match = MOD_CONTAINS;
        fc->slot = SG_SLOT_KW;
        c->r->uses_raw = 1;
    } else {
        rc = sg_fields_intern(&c->rs->fields, ks, fl, &fc->slot);
        if (rc)
            return fail(c, key, rc, "%s",
                        rc == MW_ELIMIT ? "too many distinct field names" : "out of memory");
    }
    fc->all = (uint8_t)m.all;

    const yaml_node_t *one[1], **items = one;
    size_t nitems = 0;
    struct vvec vv = {0};
    if (val->type == YAML_SCALAR_NODE) {
        items[nitems++] = val;
    } else if (val->type == YAML_SEQUENCE_NODE) {
        size_t cnt = (size_t)(val->data.sequence.items.top - val->data.sequence.items.start);
        if (cnt > MW_SIGMA_MAX_VALUES)
            return fail(c, val, MW_ELIMIT, "more than %d values for field '%.*s'",
                        MW_SIGMA_MAX_VALUES, (int)fl, ks);
        if (cnt == 0)
            return fail(c, val, MW_EINVAL, "empty value list for field '%.*s'", (int)fl, ks);
        if (!(items = malloc(cnt * sizeof(*items))))
            return fail(c, val, MW_ENOMEM, "out of memory");
        for (yaml_node_item_t *it = val->data.sequence.items.start;
             it < val->data.sequence.items.top; it++) {
            const yaml_node_t *v = node_at(c, *it);
            if (!v || v->type != YAML_SCALAR_NODE) {
                rc = fail(c, v ? v : val, MW_EINVAL,
                          "value of field '%.*s' must be a string, number or null", (int)fl, ks);
                goto out;
            }
            items[nitems++] = v;
        }
    } else {
        return fail(c, val, MW_EINVAL, "a map as the value of field '%.*s' is not supported",
                    (int)fl, ks);
    }
    if (m.exists && nitems != 1) {
        rc = fail(c, val, MW_EINVAL, "'exists' takes one value (true or false) in '%s'", ks);
        goto out;
    }
    for (size_t i = 0; i < nitems; i++) {
        if (is_null(items[i])) {
            if (bar) {
                rc = fail(c, items[i], MW_EINVAL, "null value with a modifier in '%s'", ks);
                goto out;
            }
            struct sg_value *v;
            if ((rc = vvec_push(&vv, &v))) {
                rc = fail(c, items[i], rc, "out of memory");
                goto out;
            }
            v->op = SG_NULL;
            v->s = "";
            v->grp = (uint32_t)i;
            fc->has_null = 1;
            continue;
        }
        if ((rc = compile_item(c, items[i], &m, (uint32_t)i, &vv)))
            goto out;
    }
    if (m.exists && vv.v[0].len == 0)
        fc->has_null = 1; /* exists: false - a missing field matches */
    if (c->budget + vv.n > SG_BUDGET) {
        rc = fail(c, val, MW_ELIMIT, "rule too large");
        goto out;
    }
    c->budget += vv.n;
    fc->vals = sg_alloc(&c->r->arena, vv.n * sizeof(*fc->vals));
    if (!fc->vals) {
        rc = fail(c, val, MW_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(fc->vals, vv.v, vv.n * sizeof(*fc->vals));
    fc->nvals = (uint32_t)vv.n;
    fc->ngrp = (uint32_t)nitems;
out:
    free(vv.v);
    if (items != one)
        free(items);
    return rc;
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

/* All tags, comma-separated, in rule order; a tag that does not fit whole
 * (or holds a comma) is left out. */
static void tags_text(struct cctx *c, const yaml_node_t *tags, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    if (!tags || tags->type != YAML_SEQUENCE_NODE)
        return;
    for (yaml_node_item_t *it = tags->data.sequence.items.start; it < tags->data.sequence.items.top;
         it++) {
        const yaml_node_t *t = node_at(c, *it);
        if (!t || t->type != YAML_SCALAR_NODE || slen(t) == 0 || memchr(sval(t), ',', slen(t)))
            continue;
        size_t need = slen(t) + (len ? 1 : 0);
        if (len + need + 1 > n)
            continue;
        if (len)
            out[len++] = ',';
        memcpy(out + len, sval(t), slen(t));
        len += slen(t);
        out[len] = '\0';
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

/* A rule that loads but is reported: logged, kept in rs->warns. */
static int warn_rule(struct cctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int warn_rule(struct cctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    int off = snprintf(msg, sizeof msg, "%s:%lu: ", c->file,
                       n ? (unsigned long)n->start_mark.line + 1 : 1ul);
    if (off < 0 || (size_t)off >= sizeof msg)
        off = 0;
    va_start(ap, fmt);
    vsnprintf(msg + off, sizeof msg - (size_t)off, fmt, ap);
    va_end(ap);
    mw_sigma_ruleset_t *rs = c->rs;
    if (!rs->errfn) /* a tool with an error function prints the warnings itself */
        mw_warn("sigma", "%s", msg);
    if (rs->nwarns >= MW_SIGMA_MAX_RULES)
        return 0; /* logged only */
    if (rs->nwarns == rs->warncap) {
        size_t cap = rs->warncap ? rs->warncap * 2 : 16;
        char **nw = realloc(rs->warns, cap * sizeof(*nw));
        if (!nw)
            return fail(c, n, MW_ENOMEM, "out of memory");
        rs->warns = nw;
        rs->warncap = cap;
    }
    if (!(rs->warns[rs->nwarns] = strdup(msg)))
        return fail(c, n, MW_ENOMEM, "out of memory");
    rs->nwarns++;
    return 0;
}

size_t mw_sigma_warning_count(const mw_sigma_ruleset_t *rs)
{
    return rs ? rs->nwarns : 0;
}

const char *mw_sigma_warning(const mw_sigma_ruleset_t *rs, size_t i)
{
    return rs && i < rs->nwarns ? rs->warns[i] : NULL;
}

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

    const char *strs[SG_MAX_CONDS];
    uint32_t lines[SG_MAX_CONDS];
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
            if (ns == SG_MAX_CONDS)
                return fail(c, cond, MW_ELIMIT, "more than %d conditions", SG_MAX_CONDS);
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
    tags_text(&c, tags, d->tags, sizeof(d->tags));
    d->confidence = confidence;
    if ((rc = compile_detection(&c, det)))
        goto out;
    if (r->uses_raw)
        rs->has_kw = 1;
    if (r->status && (!strcmp(r->status, "deprecated") || !strcmp(r->status, "unsupported")) &&
        (rc = warn_rule(&c, root, "rule '%s' has status '%s' (loaded)", d->rule_id, r->status)))
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
    for (struct sg_re *re = r->res; re; re = re->next) {
        pcre2_code_free(re->code);
        pcre2_match_context_free(re->mctx);
    }
    sg_arena_free(&r->arena);
    free(r);
}
