/* JSON-lines parser: one JSON object per line, decoded with jansson (which
 * rejects invalid UTF-8, NUL bytes and NUL escapes), then flattened into
 * event fields with dotted keys. Also the line format auto-detection shared
 * by replay and HTTP text intake. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "mwrasp/ingest.h"

#define JSON_MAX_DEPTH 32 /* nesting levels of objects and arrays */
#define JSON_KEY_MAX 1023 /* flattened key length */
#define JSON_STACKBUF 4096 /* compact text of arrays/raw below this: no malloc */

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

/* Shortest "%.Ng" text that reads back as the same double, with ".0"
 * appended when it would otherwise look like an integer (as jansson does). */
static size_t real_text(double d, char *buf, size_t cap)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, d);
        if (n < 0 || (size_t)n >= cap)
            return 0;
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".eEn") && (size_t)n + 2 < cap) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return (size_t)n;
}

static int add(struct jf *f, size_t klen, const char *val, size_t vlen)
{
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

/* Compact JSON text of v (arrays, nulls) as a field. */
static int add_compact(struct jf *f, size_t klen, const json_t *v)
{
    char stackbuf[JSON_STACKBUF];
    size_t n = json_dumpb(v, stackbuf, sizeof stackbuf, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0)
        return FAIL(f, MW_REJ_LIMIT, MW_ENOMEM, "cannot encode field \"%.*s\"", (int)klen, f->key);
    if (n <= sizeof stackbuf)
        return add(f, klen, stackbuf, n);
    if (n >= MW_EVENT_MAX_BYTES)
        return FAIL(f, MW_REJ_LIMIT, MW_ELIMIT, "event larger than %u bytes",
                    (unsigned)MW_EVENT_MAX_BYTES);
    char *heap = malloc(n);
    if (!heap)
        return FAIL(f, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
    size_t m = json_dumpb(v, heap, n, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = m == n ? add(f, klen, heap, n)
                    : FAIL(f, MW_REJ_LIMIT, MW_ENOMEM, "cannot encode field \"%.*s\"", (int)klen,
                           f->key);
    free(heap);
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
        if (nk == 0)
            continue; /* {"": ...}: no name to give it; raw keeps it */
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
            n = (size_t)snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            rc = add(f, nk, buf, n);
            break;
        case JSON_REAL:
            n = real_text(json_real_value(v), buf, sizeof buf);
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

/* Member at a dotted path: the literal key first ("host.name"), then nested
 * objects ({"host":{"name":...}}), trying every split of the path. */
static const json_t *jget(const json_t *o, const char *path, size_t len)
{
    if (!json_is_object(o))
        return NULL;
    const json_t *v = json_object_getn(o, path, len);
    if (v)
        return v;
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '.')
            continue;
        const json_t *sub = json_object_getn(o, path, i);
        if (json_is_object(sub) && (v = jget(sub, path + i + 1, len - i - 1)))
            return v;
    }
    return NULL;
}

static const json_t *jget_s(const json_t *o, const char *path)
{
    return jget(o, path, strlen(path));
}

/* Event time from a string (RFC 3339) or a number (epoch seconds, ms, us or
 * ns, told apart by magnitude). 0 if not usable. */
static int json_time(const json_t *v, int64_t *ns)
{
    if (json_is_string(v)) {
        /* Years outside 1678..2261 do not fit in int64 ns: refuse them
         * before the conversion. */
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int y = 0;
        for (size_t i = 0; i < 4; i++) {
            if (i >= n || s[i] < '0' || s[i] > '9')
                return 0;
            y = y * 10 + (s[i] - '0');
        }
        if (y < 1678 || y > 2261)
            return 0;
        return mw_time_parse_rfc3339(s, n, ns) == MW_OK;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i <= 0)
            return 0;
        if (i < 100000000000LL) /* seconds */
            *ns = (int64_t)i * 1000000000LL;
        else if (i < 100000000000000LL) /* ms */
            *ns = (int64_t)i * 1000000LL;
        else if (i < 100000000000000000LL) /* us */
            *ns = (int64_t)i * 1000LL;
        else
            *ns = (int64_t)i;
        return 1;
    }
    if (!json_is_real(v))
        return 0;
    double d = json_number_value(v);
    if (!isfinite(d) || d <= 0)
        return 0;
    if (d < 1e11)
        d *= 1e9; /* seconds */
    else if (d < 1e14)
        d *= 1e6; /* ms */
    else if (d < 1e17)
        d *= 1e3; /* us */
    if (d >= 9.2e18)
        return 0;
    *ns = (int64_t)d;
    return 1;
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

    static const char *const ts_keys[] = {"@timestamp", "timestamp", "TimeCreated",
                                          "TimeCreated.SystemTime"};
    for (size_t i = 0; i < sizeof ts_keys / sizeof ts_keys[0]; i++) {
        int64_t ns;
        if (json_time(jget_s(obj, ts_keys[i]), &ns)) {
            f.ev->ts_ns = ns;
            break;
        }
    }

    static const char *const host_keys[] = {"host.name", "host", "hostname", "Computer"};
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

    static const char *const cat_keys[] = {"event.category", "category"};
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

int mw_jsonl_parse(const char *line, size_t len, enum mw_source src, mw_event_t **out,
                   enum mw_reject *why, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!line || len == 0)
        return ingest_fail(err, errlen, why, MW_REJ_PARSE, MW_EPARSE, "empty JSON line");
    if (len >= MW_EVENT_MAX_BYTES)
        return ingest_fail(err, errlen, why, MW_REJ_TOO_LARGE, MW_ETOOBIG,
                           "JSON line of %zu bytes exceeds %u", len,
                           (unsigned)MW_EVENT_MAX_BYTES - 1);
    json_error_t jerr;
    json_t *obj = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
    if (!obj) {
        enum json_error_code c = json_error_code(&jerr);
        if (c == json_error_invalid_utf8)
            return ingest_fail(err, errlen, why, MW_REJ_UTF8, MW_EUTF8,
                               "invalid UTF-8 in JSON at line %d, column %d: %s", jerr.line,
                               jerr.column, jerr.text);
        if (c == json_error_stack_overflow)
            return ingest_fail(err, errlen, why, MW_REJ_LIMIT, MW_ELIMIT,
                               "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
        if (c == json_error_out_of_memory)
            return ingest_fail(err, errlen, why, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
        return ingest_fail(err, errlen, why, MW_REJ_PARSE, MW_EPARSE,
                           "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                           jerr.text);
    }
    int rc = build(obj, src, line, len, out, why, err, errlen);
    json_decref(obj);
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
