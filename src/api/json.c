/* JSON shaping for the API: threats, stored events, errors, metrics.
 * Every string put into a response is valid UTF-8 (jansson refuses
 * anything else), so bytes we did not check ourselves go through
 * mw_api_string_repaired(). */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "mwrasp/detect.h"

#define REPAIR_OUT_MAX (1u << 20)

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if invalid
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (len >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (len < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (len < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && s[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

json_t *mw_api_string_repaired(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    json_t *j = NULL;
    char *buf = NULL;
    size_t o = 0, i = 0, cap;

    if (s == NULL)
        return json_string("");
    if (len <= REPAIR_OUT_MAX && mw_utf8_valid(s, len))
        return json_stringn(s, len);
    /* worst case every byte becomes U+FFFD (3 bytes) */
    cap = (len > REPAIR_OUT_MAX ? REPAIR_OUT_MAX : len) * 3 + 4;
    buf = malloc(cap);
    if (buf == NULL)
        goto out;
    while (i < len && o + 4 <= REPAIR_OUT_MAX) {
        size_t n = utf8_seq(u + i, len - i);
        if (n == 0) {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            i += 1;
        } else {
            memcpy(buf + o, s + i, n);
            o += n;
            i += n;
        }
    }
    j = json_stringn(buf, o);
out:
    free(buf);
    return j;
}

json_t *mw_api_error_json(const char *code, const char *message)
{
    json_t *inner = json_object();
    json_t *outer = json_object();

    if (inner == NULL || outer == NULL)
        goto fail;
    if (json_object_set_new(inner, "code", json_string(code ? code : "error")) != 0)
        goto fail;
    if (json_object_set_new(
            inner, "message",
            mw_api_string_repaired(message ? message : "", message ? strlen(message) : 0)) != 0)
        goto fail;
    if (json_object_set_new(outer, "error", inner) != 0) {
        inner = NULL; /* consumed even on failure */
        goto fail;
    }
    return outer;
fail:
    json_decref(inner);
    json_decref(outer);
    return NULL;
}

static json_t *id_string(uint64_t id)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)id);
    return json_string(buf);
}

static json_t *time_string(int64_t ns)
{
    char buf[48];
    mw_time_format_rfc3339(ns, buf, sizeof(buf));
    return json_string(buf);
}

/* Fixed-size char arrays from the store: bounded strlen, repaired. */
static json_t *fixed_string(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return mw_api_string_repaired(s, n);
}

/* "a,b,c" (at most cap bytes) -> ["a","b","c"]; "" -> []. */
static json_t *tags_array(const char *s, size_t cap)
{
    json_t *a = json_array();
    size_t n = strnlen(s, cap), i = 0;
    while (a && i < n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (j > i && json_array_append_new(a, mw_api_string_repaired(s + i, j - i)) != 0) {
            json_decref(a);
            return NULL;
        }
        i = j + 1;
    }
    return a;
}

json_t *mw_api_threat_json(const mw_threat_t *t)
{
    json_t *o = json_object();
    const char *sev_name = mw_severity_name(t->severity);
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= json_object_set_new(o, "id", id_string(t->id));
    bad |= json_object_set_new(o, "rule_id", fixed_string(t->rule_id, sizeof(t->rule_id)));
    bad |= json_object_set_new(o, "detector", fixed_string(t->detector, sizeof(t->detector)));
    bad |= json_object_set_new(o, "title", fixed_string(t->title, sizeof(t->title)));
    bad |= json_object_set_new(o, "type", fixed_string(t->type, sizeof(t->type)));
    bad |= json_object_set_new(o, "class", fixed_string(t->threat_class, sizeof(t->threat_class)));
    bad |= json_object_set_new(o, "tags", tags_array(t->tags, sizeof(t->tags)));
    bad |= json_object_set_new(o, "host", fixed_string(t->host, sizeof(t->host)));
    bad |= json_object_set_new(o, "severity", json_integer(t->severity));
    bad |= json_object_set_new(o, "severity_name", json_string(sev_name ? sev_name : "unknown"));
    bad |= json_object_set_new(o, "confidence", json_real(t->confidence));
    bad |= json_object_set_new(o, "first_seen", time_string(t->first_seen_ns));
    bad |= json_object_set_new(o, "last_seen", time_string(t->last_seen_ns));
    bad |= json_object_set_new(o, "count", json_integer((json_int_t)t->count));
    const char *st =
        (t->status >= 0 && t->status < MW_THREAT__COUNT) ? mw_threat_status_name(t->status) : NULL;
    bad |= json_object_set_new(o, "status", json_string(st ? st : "unknown"));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *mw_api_event_json(const mw_stored_event_t *e)
{
    json_t *o = json_object();
    const char *src = mw_source_name(e->source);
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= json_object_set_new(o, "id", id_string(e->id));
    bad |= json_object_set_new(o, "ts", time_string(e->ts_ns));
    bad |= json_object_set_new(o, "ingest_ts", time_string(e->ingest_ns));
    bad |= json_object_set_new(o, "source", json_string(src ? src : "unknown"));
    bad |= json_object_set_new(
        o, "host", mw_api_string_repaired(e->host ? e->host : "", e->host ? strlen(e->host) : 0));
    bad |= json_object_set_new(o, "category",
                               mw_api_string_repaired(e->category ? e->category : "",
                                                      e->category ? strlen(e->category) : 0));
    bad |= json_object_set_new(
        o, "raw", mw_api_string_repaired(e->raw ? e->raw : "", e->raw ? e->raw_len : 0));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *per_source(_Atomic uint64_t *arr)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    for (int s = 0; s < MW_SRC__COUNT; s++) {
        if (json_object_set_new(o, mw_source_name((enum mw_source)s),
                                json_integer((json_int_t)MW_GET(arr[s]))) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *mw_api_metrics_json(int have_depth, uint64_t ring_depth)
{
    struct mw_metrics *m = &mw_metrics;
    json_t *o = json_object();
    json_t *rej = json_object();
    json_t *lat = json_object();
    json_t *buckets = json_array();
    int bad = 0;

    if (o == NULL || rej == NULL || lat == NULL || buckets == NULL)
        goto fail;
    for (int s = 0; s < MW_SRC__COUNT; s++) {
        json_t *r = json_object();
        if (r == NULL)
            goto fail;
        for (int k = 0; k < MW_REJ__COUNT; k++)
            bad |= json_object_set_new(r, mw_reject_name((enum mw_reject)k),
                                       json_integer((json_int_t)MW_GET(m->events_rejected[s][k])));
        bad |= json_object_set_new(rej, mw_source_name((enum mw_source)s), r);
    }
    for (int b = 0; b < MW_LAT_BUCKETS; b++) {
        json_t *e = json_object();
        if (e == NULL)
            goto fail;
        if (b < MW_LAT_BUCKETS - 1)
            bad |= json_object_set_new(e, "le", json_real(mw_lat_bounds[b]));
        else
            bad |= json_object_set_new(e, "le", json_string("+Inf"));
        bad |= json_object_set_new(e, "count", json_integer((json_int_t)MW_GET(m->lat_bucket[b])));
        bad |= json_array_append_new(buckets, e);
    }
    bad |= json_object_set_new(lat, "buckets", buckets);
    buckets = NULL;
    bad |= json_object_set_new(lat, "sum_seconds", json_real((double)MW_GET(m->lat_sum_ns) / 1e9));
    bad |= json_object_set_new(lat, "count", json_integer((json_int_t)MW_GET(m->lat_count)));

    bad |= json_object_set_new(o, "events_in", per_source(m->events_in));
    bad |= json_object_set_new(o, "events_dropped", per_source(m->events_dropped));
    bad |= json_object_set_new(o, "events_rejected", rej);
    rej = NULL;
    bad |= json_object_set_new(o, "utf8_repaired", per_source(m->utf8_repaired));
#define SCALAR(name) bad |= json_object_set_new(o, #name, json_integer((json_int_t)MW_GET(m->name)))
    SCALAR(events_stored);
    SCALAR(events_expired);
    SCALAR(detections);
    SCALAR(threats_new);
    SCALAR(threats_folded);
    SCALAR(store_errors);
    SCALAR(store_batches);
    SCALAR(rules_loaded);
    SCALAR(rule_errors);
    SCALAR(rule_reloads);
    SCALAR(api_requests);
    SCALAR(api_errors_4xx);
    SCALAR(api_errors_5xx);
    SCALAR(api_bad_body);
#undef SCALAR
    bad |= json_object_set_new(o, "latency", lat);
    lat = NULL;
    if (have_depth)
        bad |= json_object_set_new(o, "ring_depth", json_integer((json_int_t)ring_depth));
    if (bad)
        goto fail;
    return o;
fail:
    json_decref(o);
    json_decref(rej);
    json_decref(lat);
    json_decref(buckets);
    return NULL;
}
