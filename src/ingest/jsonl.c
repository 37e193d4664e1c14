/* mw_json_to_event: an already parsed jansson object (HTTP intake) flattened
 * into event fields with the same rules and the same text as the JSON-lines
 * scanner (jscan.c); both use jtext.c. Also the line format auto-detection
 * shared by replay and HTTP text intake. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "mwrasp/ingest.h"

#define JSON_STACKBUF 4096 /* raw text below this: no malloc */

struct jf {
    mw_event_t *ev;
    char *err;
    size_t errlen;
    enum mw_reject *why;
    char key[JSON_KEY_MAX + 1];
};

#define FAIL(f, w, code, ...) ingest_fail((f)->err, (f)->errlen, (f)->why, (w), (code), __VA_ARGS__)

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Depth of v counting itself (scalars are 0, [] and {} are 1); stops
 * counting once it passes limit. */
static int json_depth(const json_t *v, int limit)
{
    if (limit < 0)
        return 1;
    int max = 0;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            int d = json_depth(e, limit - 1);
            if (d > max)
                max = d;
            if (max > limit)
                break;
        }
        return max + 1;
    }
    if (json_is_object(v)) {
        const char *k;
        const json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            int d = json_depth(e, limit - 1);
            if (d > max)
                max = d;
            if (max > limit)
                break;
        }
        return max + 1;
    }
    return 0;
}

/* Adds f->key[0..klen) = val unless that key already exists (first wins,
 * as in jscan.c). */
static int add(struct jf *f, size_t klen, const char *val, size_t vlen)
{
    for (uint32_t i = 0; i < f->ev->nfields; i++) {
        const mw_field_t *x = &f->ev->fields[i];
        if (x->key_len == klen && memcmp(x->key, f->key, klen) == 0)
            return MW_OK;
    }
    int rc = mw_event_add_field(f->ev, f->key, klen, val, vlen);
    if (rc == MW_ELIMIT)
        return FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "more than %d fields", MW_EVENT_MAX_FIELDS);
    if (rc == MW_ETOOBIG)
        return FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "event larger than %u bytes",
                    (unsigned)MW_EVENT_MAX_BYTES);
    if (rc < 0)
        return FAIL(f, MW_REJ_LIMIT, rc, "cannot add field \"%.*s\": %s", (int)klen, f->key,
                    mw_strerror(rc));
    return MW_OK;
}

/* Compact JSON text of v, written as jscan.c writes it. */
static int dump(struct jt *b, const json_t *v)
{
    char buf[64];
    size_t n, i;
    const char *k;
    const json_t *e;
    int rc;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if ((rc = jt_put(b, "{", 1)) < 0)
            return rc;
        i = 0;
        json_object_foreach((json_t *)v, k, e)
        {
            if ((i++ && (rc = jt_put(b, ",", 1)) < 0) || (rc = jt_str(b, k, strlen(k))) < 0 ||
                (rc = jt_put(b, ":", 1)) < 0 || (rc = dump(b, e)) < 0)
                return rc;
        }
        return jt_put(b, "}", 1);
    case JSON_ARRAY:
        if ((rc = jt_put(b, "[", 1)) < 0)
            return rc;
        json_array_foreach(v, i, e)
        {
            if ((i && (rc = jt_put(b, ",", 1)) < 0) || (rc = dump(b, e)) < 0)
                return rc;
        }
        return jt_put(b, "]", 1);
    case JSON_STRING:
        return jt_str(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        n = jt_int_text(json_integer_value(v), buf, sizeof buf);
        return jt_put(b, buf, n);
    case JSON_REAL:
        n = jt_real_text(json_real_value(v), buf, sizeof buf);
        return jt_put(b, buf, n);
    case JSON_TRUE:
        return jt_put(b, "true", 4);
    case JSON_FALSE:
        return jt_put(b, "false", 5);
    default:
        return jt_put(b, "null", 4);
    }
}

static int add_compact(struct jf *f, size_t klen, const json_t *v)
{
    struct jt b;
    jt_init(&b);
    int rc = dump(&b, v);
    if (rc == MW_ENOMEM)
        rc = FAIL(f, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
    else if (rc < 0)
        rc = FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "event larger than %u bytes",
                  (unsigned)MW_EVENT_MAX_BYTES);
    else
        rc = add(f, klen, b.p, b.len);
    jt_free(&b);
    return rc;
}

/* Adds the members of object o under the key prefix f->key[0..klen). */
static int flatten(struct jf *f, const json_t *o, size_t klen, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "JSON nested deeper than %d levels",
                    JSON_MAX_DEPTH);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        size_t kl = strlen(k); /* jansson refuses NUL bytes in keys */
        size_t nk = klen + (klen ? 1 : 0) + kl;
        if (nk > JSON_KEY_MAX)
            return FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "field name longer than %d bytes",
                        JSON_KEY_MAX);
        if (klen)
            f->key[klen] = '.';
        memcpy(f->key + nk - kl, k, kl);
        f->key[nk] = '\0';
        if (nk == 0) {
            /* {"": ...}: no name to give it; raw keeps it. */
            if (depth + json_depth(v, JSON_MAX_DEPTH) > JSON_MAX_DEPTH)
                return FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "JSON nested deeper than %d levels",
                            JSON_MAX_DEPTH);
            continue;
        }
        int rc = MW_OK;
        char buf[64];
        size_t n;
        switch (json_typeof(v)) {
        case JSON_OBJECT:
            if (json_object_size(v) == 0)
                rc = add(f, nk, "{}", 2);
            else
                rc = flatten(f, v, nk, depth + 1);
            break;
        case JSON_STRING:
            rc = add(f, nk, json_string_value(v), json_string_length(v));
            break;
        case JSON_INTEGER:
            n = jt_int_text(json_integer_value(v), buf, sizeof buf);
            rc = add(f, nk, buf, n);
            break;
        case JSON_REAL:
            n = jt_real_text(json_real_value(v), buf, sizeof buf);
            rc = add(f, nk, buf, n);
            break;
        case JSON_TRUE:
            rc = add(f, nk, "true", 4);
            break;
        case JSON_FALSE:
            rc = add(f, nk, "false", 5);
            break;
        case JSON_ARRAY:
            if (depth + json_depth(v, JSON_MAX_DEPTH) > JSON_MAX_DEPTH)
                return FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "JSON nested deeper than %d levels",
                            JSON_MAX_DEPTH);
            rc = add_compact(f, nk, v);
            break;
        default:
            rc = add(f, nk, "null", 4);
            break;
        }
        if (rc < 0)
            return rc;
    }
    return MW_OK;
}

/* Member at a dotted path, the first in document order among the members
 * that flatten to that path: a literal key ("host.name") or nested objects
 * ({"host":{"name":...}}), whichever comes first. This is the member the
 * flattened field of that name holds (first wins), and what the JSON-lines
 * scanner picks. jansson (>= 2.8) iterates objects in insertion order. */
static const json_t *jget(const json_t *o, const char *path, size_t len)
{
    if (!json_is_object(o))
        return NULL;
    const char *k;
    size_t kl;
    json_t *v;
    json_object_keylen_foreach((json_t *)o, k, kl, v)
    {
        if (kl == len && memcmp(k, path, len) == 0)
            return v;
        if (kl < len && path[kl] == '.' && memcmp(k, path, kl) == 0 && json_is_object(v)) {
            const json_t *r = jget(v, path + kl + 1, len - kl - 1);
            if (r)
                return r;
        }
    }
    return NULL;
}

static const json_t *jget_s(const json_t *o, const char *path)
{
    return jget(o, path, strlen(path));
}

static int json_time(const json_t *v, int64_t *ns)
{
    if (json_is_string(v))
        return jt_time_str(json_string_value(v), json_string_length(v), ns);
    if (json_is_integer(v))
        return jt_time_int(json_integer_value(v), ns);
    if (json_is_real(v))
        return jt_time_real(json_real_value(v), ns);
    return 0;
}

static int build(const json_t *obj, enum mw_source src, const char *raw, size_t rawlen,
                 mw_event_t **out, enum mw_reject *why, char *err, size_t errlen)
{
    struct jf f = {.err = err, .errlen = errlen, .why = why};
    int rc;
    if (!json_is_object(obj))
        return FAIL(&f, MW_REJ_PARSE, MW_EPARSE, "expected a JSON object, got %s",
                    obj ? type_name(obj) : "nothing");
    if (rawlen >= MW_EVENT_MAX_BYTES)
        return FAIL(&f, MW_REJ_TOO_LARGE, MW_ETOOBIG, "JSON text of %zu bytes exceeds %u", rawlen,
                    (unsigned)MW_EVENT_MAX_BYTES - 1);
    f.ev = mw_event_new(src, raw, rawlen);
    if (!f.ev)
        return FAIL(&f, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
    f.key[0] = '\0';
    if ((rc = flatten(&f, obj, 0, 1)) < 0)
        goto out;

    static const char *const ts_keys[] = {JSON_TIME_KEYS};
    for (size_t i = 0; i < sizeof ts_keys / sizeof ts_keys[0]; i++) {
        int64_t ns;
        if (json_time(jget_s(obj, ts_keys[i]), &ns)) {
            f.ev->ts_ns = ns;
            break;
        }
    }

    static const char *const host_keys[] = {JSON_HOST_KEYS};
    for (size_t i = 0; i < sizeof host_keys / sizeof host_keys[0]; i++) {
        const json_t *h = jget_s(obj, host_keys[i]);
        if (!json_is_string(h))
            continue;
        size_t hl = json_string_length(h);
        if (hl > MW_EVENT_HOST_MAX) {
            rc = FAIL(&f, MW_REJ_LIMIT, MW_ELIMIT, "\"%s\" longer than %d bytes", host_keys[i],
                      MW_EVENT_HOST_MAX);
            goto out;
        }
        if ((rc = mw_event_set_host(f.ev, json_string_value(h), hl)) < 0) {
            rc = FAIL(&f, MW_REJ_LIMIT, rc, "cannot set host: %s", mw_strerror(rc));
            goto out;
        }
        break;
    }

    static const char *const cat_keys[] = {JSON_CATEGORY_KEYS};
    for (size_t i = 0; i < sizeof cat_keys / sizeof cat_keys[0]; i++) {
        const json_t *c = jget_s(obj, cat_keys[i]);
        if (json_is_array(c)) /* ECS: event.category is an array */
            c = json_array_get(c, 0);
        if (!json_is_string(c))
            continue;
        size_t cl = json_string_length(c);
        if (cl > MW_EVENT_CATEGORY_MAX) {
            rc = FAIL(&f, MW_REJ_LIMIT, MW_ELIMIT, "\"%s\" longer than %d bytes", cat_keys[i],
                      MW_EVENT_CATEGORY_MAX);
            goto out;
        }
        if ((rc = mw_event_set_category(f.ev, json_string_value(c), cl)) < 0) {
            rc = FAIL(&f, MW_REJ_LIMIT, rc, "cannot set category: %s", mw_strerror(rc));
            goto out;
        }
        break;
    }
    *out = f.ev;
    f.ev = NULL;
    rc = MW_OK;
out:
    mw_event_free(f.ev);
    return rc;
}

int mw_json_to_event(const struct json_t *obj, enum mw_source src, mw_event_t **out,
                     enum mw_reject *why, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!json_is_object(obj))
        return ingest_fail(err, errlen, why, MW_REJ_PARSE, MW_EPARSE,
                           "expected a JSON object, got %s", obj ? type_name(obj) : "nothing");
    char stackbuf[JSON_STACKBUF];
    char *heap = NULL;
    const char *raw = stackbuf;
    size_t n = json_dumpb(obj, stackbuf, sizeof stackbuf, JSON_COMPACT);
    if (n == 0)
        return ingest_fail(err, errlen, why, MW_REJ_LIMIT, MW_ENOMEM, "cannot encode JSON");
    if (n > sizeof stackbuf) {
        if (n >= MW_EVENT_MAX_BYTES)
            return ingest_fail(err, errlen, why, MW_REJ_TOO_LARGE, MW_ETOOBIG,
                               "JSON text of %zu bytes exceeds %u", n,
                               (unsigned)MW_EVENT_MAX_BYTES - 1);
        heap = malloc(n);
        if (!heap)
            return ingest_fail(err, errlen, why, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
        if (json_dumpb(obj, heap, n, JSON_COMPACT) != n) {
            free(heap);
            return ingest_fail(err, errlen, why, MW_REJ_LIMIT, MW_ENOMEM, "cannot encode JSON");
        }
        raw = heap;
    }
    int rc = build(obj, src, raw, n, out, why, err, errlen);
    free(heap);
    return rc;
}

int mw_ingest_parse_line(const char *line, size_t len, enum mw_source src, const char *peer,
                         mw_event_t **out, enum mw_reject *why, char *err, size_t errlen)
{
    size_t i = 0;
    while (line && i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (!line || i == len) {
        if (err && errlen)
            err[0] = '\0';
        return ingest_fail(err, errlen, why, MW_REJ_PARSE, MW_EPARSE, "empty line");
    }
    if (line[i] == '{')
        return mw_jsonl_parse(line, len, src, out, why, err, errlen);
    return mw_syslog_parse(line, len, src, peer, out, why, err, errlen);
}
