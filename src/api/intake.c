/* POST /api/v1/events: one JSON object, a JSON array of objects, NDJSON, or
 * text lines (syslog or JSON per line). Every accepted event carries an ack
 * ticket; the answer (202) is given only once all of them are durable.
 *
 * Item numbering in errors: "index" counts items (array elements, or
 * non-blank lines) from 0; "line" is the 1-based line of the body where the
 * item starts, so a client that sent a file in batches maps errors back to
 * its own line numbers.
 *
 * Speed (docs/api.md, docs/benchmarks.md): NDJSON and text lines go
 * straight to the ingest scanners. A JSON array of objects is split here and
 * each one-line element read by the same scanner as an NDJSON line
 * (mw_jsonl_parse; elements over several lines by jansson, one by one); if
 * any element is refused, the whole body is read with jansson as before, so
 * errors and their wording do not depend on the path. Ack counts are added
 * ACK_BLOCK at a time (one lock per block, not per event). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "mwrasp/ingest.h"
#include "mwrasp/log.h"

#define ACK_BLOCK 64 /* ack tickets reserved at a time (one lock each time) */

/* Set to 0 to read every JSON array with jansson (the fuzz harness compares
 * both paths). */
int mw_api_fast_arrays = 1;

struct ictx {
    enum mw_source src;
    const char *peer;
    size_t max_line;
    mw_sink_t sink;
    mw_ack_t *ack;
    uint64_t reserved; /* ack counts added but not yet given to an event */
    uint64_t uncounted; /* submitted events not yet added to events_in */
    uint64_t submitted;
    uint64_t rejected;
    uint64_t items;
    int fatal; /* first submit error: stop and answer 503 */
    json_t *errors;
};

enum mw_api_body_kind mw_api_body_kind(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return MW_BODY_AUTO;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, "; \t");
    if ((n == 20 && strncasecmp(ct, "application/x-ndjson", n) == 0) ||
        (n == 18 && strncasecmp(ct, "application/ndjson", n) == 0) ||
        (n == 20 && strncasecmp(ct, "application/jsonlines", n) == 0) ||
        (n == 22 && strncasecmp(ct, "application/x-jsonlines", n) == 0))
        return MW_BODY_NDJSON;
    if (n == 10 && strncasecmp(ct, "text/plain", n) == 0)
        return MW_BODY_TEXT;
    return MW_BODY_AUTO;
}

static void add_error(struct ictx *c, uint64_t index, uint64_t line, enum mw_reject why,
                      const char *msg)
{
    c->rejected++;
    MW_INC(mw_metrics.events_rejected[c->src][why]);
    if (c->errors == NULL || json_array_size(c->errors) >= MW_API_ERRORS_MAX)
        return;
    json_t *e = json_object();
    if (e == NULL)
        return;
    json_object_set_new(e, "index", json_integer((json_int_t)index));
    json_object_set_new(e, "line", json_integer((json_int_t)line));
    json_object_set_new(e, "reason", json_string(mw_reject_name(why)));
    json_object_set_new(e, "message", mw_api_string_repaired(msg, strlen(msg)));
    json_array_append_new(c->errors, e);
}

/* Gives back the ack counts reserved but not used, and counts events_in.
 * Called before waiting on the ack (pending can only reach 0 after it). */
static void settle(struct ictx *c)
{
    for (; c->reserved > 0; c->reserved--)
        mw_ack_done(c->ack, 0);
    MW_ADD(mw_metrics.events_in[c->src], c->uncounted);
    c->uncounted = 0;
}

/* Submits ev (ownership passes to the sink on success, else freed here).
 * Ack counts are added ACK_BLOCK at a time, before any event of the block
 * can be completed by the writer. */
static void submit(struct ictx *c, mw_event_t *ev)
{
    int rc;

    if (c->reserved == 0) {
        MW_ADD(mw_metrics.events_in[c->src], c->uncounted);
        c->uncounted = 0;
        mw_ack_add(c->ack, ACK_BLOCK);
        c->reserved = ACK_BLOCK;
    }
    ev->ack = c->ack;
    c->reserved--;
    rc = c->sink.submit(c->sink.ctx, ev, MW_SUBMIT_BLOCK);
    if (rc != 0) {
        ev->ack = NULL;
        mw_event_free(ev);
        c->reserved++; /* nothing was queued: the count goes back */
        c->fatal = rc;
        return;
    }
    c->submitted++;
    c->uncounted++;
}

static void take_object(struct ictx *c, const json_t *obj, uint64_t line)
{
    mw_event_t *ev = NULL;
    enum mw_reject why = MW_REJ_PARSE;
    char err[256] = "";
    uint64_t index = c->items++;

    if (!json_is_object(obj)) {
        add_error(c, index, line, MW_REJ_PARSE, "item is not a JSON object");
        return;
    }
    if (mw_json_to_event(obj, c->src, &ev, &why, err, sizeof(err)) != 0) {
        add_error(c, index, line, why, err[0] ? err : "event refused");
        return;
    }
    submit(c, ev);
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    }
    return 1;
}

/* NDJSON or text: one item per non-blank line. */
static void take_lines(struct ictx *c, const char *body, size_t len, int text)
{
    size_t pos = 0;
    uint64_t line = 0;

    while (pos < len && !c->fatal) {
        const char *s = body + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (is_blank(s, n))
            continue;
        if (n > c->max_line) {
            char msg[96];
            snprintf(msg, sizeof(msg), "line longer than %zu bytes", c->max_line);
            add_error(c, c->items++, line, MW_REJ_TOO_LARGE, msg);
            continue;
        }
        mw_event_t *ev = NULL;
        enum mw_reject why = MW_REJ_PARSE;
        char err[256] = "";
        uint64_t index = c->items++;
        int rc;
        if (text)
            rc = mw_ingest_parse_line(s, n, c->src, c->peer, &ev, &why, err, sizeof(err));
        else
            rc = mw_jsonl_parse(s, n, c->src, &ev, &why, err, sizeof(err));
        if (rc != 0) {
            add_error(c, index, line, why, err[0] ? err : "event refused");
            continue;
        }
        submit(c, ev);
    }
}

/* Walks a body already known to be a valid JSON array and yields the line
 * each top-level element starts on, one call per element, in order. */
struct elem_scan {
    const char *p;
    size_t len, pos;
    uint64_t line;
};

static void scan_init(struct elem_scan *s, const char *p, size_t len)
{
    s->p = p;
    s->len = len;
    s->pos = 0;
    s->line = 1;
    while (s->pos < len && s->p[s->pos] != '[') {
        if (s->p[s->pos] == '\n')
            s->line++;
        s->pos++;
    }
    if (s->pos < len)
        s->pos++; /* past '[' */
}

static uint64_t scan_next(struct elem_scan *s)
{
    uint64_t at;
    int depth = 0, in_str = 0;

    while (s->pos < s->len) {
        char ch = s->p[s->pos];
        if (ch == '\n')
            s->line++;
        else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != ',')
            break;
        s->pos++;
    }
    at = s->line;
    while (s->pos < s->len) {
        char ch = s->p[s->pos];
        if (in_str) {
            if (ch == '\\')
                s->pos++; /* the escaped byte is never a newline in valid JSON */
            else if (ch == '"') {
                in_str = 0;
                if (depth == 0) {
                    s->pos++;
                    break;
                }
            }
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                break; /* end of the outer array */
            if (--depth == 0) {
                s->pos++;
                break;
            }
        } else if (depth == 0 &&
                   (ch == ',' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')) {
            break;
        } else if (ch == '\n') {
            s->line++;
        }
        s->pos++;
    }
    return at;
}

static uint64_t first_line(const char *body, size_t len)
{
    uint64_t line = 1;
    for (size_t i = 0; i < len; i++) {
        if (body[i] == '\n')
            line++;
        else if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r')
            break;
    }
    return line;
}

/* ---- JSON arrays without jansson --------------------------------------- */

static int json_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Length of the object that starts at p[0] == '{' (up to its closing
 * bracket), or 0 if it does not close within n bytes. Only finds the end:
 * the element is validated by the parser it is given to. *nl is set if the
 * element holds a newline outside strings (inside one it is invalid JSON,
 * which the scanner refuses). */
static size_t object_len(const char *p, size_t n, int *nl)
{
    size_t depth = 0, i = 0;

    while (i < n) {
        char ch = p[i];
        if (ch == '"') {
            /* to the closing quote: one not preceded by an odd number of
             * backslashes */
            for (;;) {
                const char *q = memchr(p + i + 1, '"', n - i - 1);
                size_t bs = 0;
                if (q == NULL)
                    return 0;
                i = (size_t)(q - p);
                while (p[i - 1 - bs] == '\\')
                    bs++; /* stops at the opening quote at the latest */
                if (bs % 2 == 0)
                    break;
            }
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                return 0;
            if (--depth == 0)
                return i + 1;
        } else if (ch == '\n') {
            *nl = 1;
        }
        i++;
    }
    return 0;
}

/* One array element as an event: single-line elements through the
 * JSON-lines scanner (raw = the element as sent, as for an NDJSON line);
 * elements spread over lines through jansson (raw = their compact text, so
 * that raw stays one line). 0 or an error (the caller falls back). */
static int element_event(const struct ictx *c, const char *s, size_t n, int nl, mw_event_t **ev)
{
    enum mw_reject why;
    json_error_t jerr;
    json_t *o;
    int rc;

    if (!nl)
        return mw_jsonl_parse(s, n, c->src, ev, &why, NULL, 0);
    o = json_loadb(s, n, 0, &jerr);
    rc = json_is_object(o) ? mw_json_to_event(o, c->src, ev, &why, NULL, 0) : MW_EPARSE;
    json_decref(o);
    return rc;
}

/* A body that is a JSON array of objects every one of which parses: all its
 * events are built first, then submitted in order; returns 1. Anything else
 * (another shape, an element refused, out of memory): returns 0 with
 * nothing submitted or counted, and the caller reads the body with jansson,
 * which gives the errors (and their wording) it always gave. */
static int fast_array(struct ictx *c, const char *body, size_t len)
{
    mw_event_t **evs = NULL;
    size_t n = 0, cap = 0, pos = 0;
    int ok = 0;

    while (pos < len && json_ws(body[pos]))
        pos++;
    if (pos == len || body[pos] != '[')
        return 0;
    pos++;
    for (;;) {
        mw_event_t *ev = NULL;
        size_t elen;
        int nl = 0;
        while (pos < len && json_ws(body[pos]))
            pos++;
        if (pos == len || body[pos] != '{')
            goto out; /* not an object (or "[]"): jansson says what it is */
        elen = object_len(body + pos, len - pos, &nl);
        if (elen == 0 || element_event(c, body + pos, elen, nl, &ev) != 0)
            goto out;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            mw_event_t **nv = realloc(evs, nc * sizeof(*nv));
            if (nv == NULL) {
                mw_event_free(ev);
                goto out;
            }
            evs = nv;
            cap = nc;
        }
        evs[n++] = ev;
        pos += elen;
        while (pos < len && json_ws(body[pos]))
            pos++;
        if (pos < len && body[pos] == ',') {
            pos++;
            continue;
        }
        if (pos < len && body[pos] == ']') {
            pos++;
            break;
        }
        goto out;
    }
    while (pos < len && json_ws(body[pos]))
        pos++;
    if (pos != len)
        goto out;
    ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (c->fatal) {
            mw_event_free(evs[i]);
            continue;
        }
        c->items++;
        submit(c, evs[i]);
    }
    n = 0;
out:
    for (size_t i = 0; i < n; i++)
        mw_event_free(evs[i]);
    free(evs);
    return ok;
}

/* After a timeout the writer may still complete events that point at the
 * ack: it is handed to a detached thread that frees it once they are done. */
static void *ack_reaper(void *arg)
{
    mw_ack_t *ack = arg;
    while (mw_ack_wait(ack, 1000) == MW_EAGAIN) {
    }
    mw_ack_destroy(ack);
    free(ack);
    return NULL;
}

static void release_ack(mw_ack_t *ack, int pending)
{
    pthread_t t;
    pthread_attr_t at;

    if (!pending) {
        mw_ack_destroy(ack);
        free(ack);
        return;
    }
    if (pthread_attr_init(&at) == 0) {
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &at, ack_reaper, ack);
        pthread_attr_destroy(&at);
        if (rc == 0)
            return;
    }
    ack_reaper(ack); /* no thread: wait here */
}

static void set_error(struct mw_api_intake_result *r, int status, const char *code, const char *msg)
{
    r->status = status;
    json_decref(r->body);
    r->body = mw_api_error_json(code, msg);
}

void mw_api_intake_result_clear(struct mw_api_intake_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->body);
    memset(r, 0, sizeof(*r));
}

int mw_api_intake(const char *body, size_t len, enum mw_api_body_kind kind, enum mw_source src,
                  const char *peer, size_t max_line, mw_sink_t sink, int timeout_ms,
                  struct mw_api_intake_result *r)
{
    struct ictx c;
    json_t *root = NULL;
    json_error_t jerr;
    int waited = 0, wrc = 0;
    char msg[512];

    memset(r, 0, sizeof(*r));
    memset(&c, 0, sizeof(c));
    c.src = src;
    c.peer = peer;
    c.max_line = max_line ? max_line : MW_EVENT_DEFAULT_MAX_LINE;
    c.sink = sink;
    c.errors = json_array();
    c.ack = malloc(sizeof(*c.ack));
    if (c.errors == NULL || c.ack == NULL) {
        free(c.ack);
        json_decref(c.errors);
        set_error(r, 500, "internal", "out of memory");
        return r->body ? 0 : MW_ENOMEM;
    }
    mw_ack_init(c.ack);

    if (is_blank(body, len) && memchr(body, '\n', len) == NULL) {
        MW_INC(mw_metrics.api_bad_body);
        set_error(r, 400, "empty_body", "the request body is empty");
        goto done;
    }
    if (kind == MW_BODY_TEXT) {
        take_lines(&c, body, len, 1);
    } else if (kind == MW_BODY_NDJSON) {
        take_lines(&c, body, len, 0);
    } else if (mw_api_fast_arrays && fast_array(&c, body, len)) {
        /* every element read and submitted */
    } else {
        root = json_loadb(body, len, 0, &jerr);
        if (root == NULL) {
            if (json_error_code(&jerr) == json_error_end_of_input_expected &&
                memchr(body, '\n', len) != NULL) {
                take_lines(&c, body, len, 0); /* NDJSON without its content type */
            } else {
                MW_INC(mw_metrics.api_bad_body);
                snprintf(msg, sizeof(msg), "body is not valid JSON: %s at line %d column %d",
                         jerr.text, jerr.line, jerr.column);
                if (json_error_code(&jerr) == json_error_invalid_utf8) {
                    /* the body's events are refused for their encoding */
                    MW_INC(mw_metrics.events_rejected[c.src][MW_REJ_UTF8]);
                    set_error(r, 400, "invalid_utf8", msg);
                } else {
                    set_error(r, 400, "invalid_json", msg);
                }
                goto done;
            }
        } else if (json_is_array(root)) {
            struct elem_scan sc;
            scan_init(&sc, body, len);
            for (size_t i = 0; i < json_array_size(root) && !c.fatal; i++) {
                uint64_t line = scan_next(&sc);
                take_object(&c, json_array_get(root, i), line);
            }
        } else {
            take_object(&c, root, first_line(body, len));
        }
    }

    /* wait for everything submitted to be durable */
    settle(&c);
    wrc = mw_ack_wait(c.ack, timeout_ms);
    waited = 1;
    if (c.fatal) {
        snprintf(msg, sizeof(msg), "the daemon is not accepting events: %s", mw_strerror(c.fatal));
        set_error(r, 503, "unavailable", msg);
    } else if (wrc == MW_EAGAIN) {
        snprintf(msg, sizeof(msg), "events were not stored within %d ms", timeout_ms);
        set_error(r, 503, "timeout", msg);
    } else if (wrc != 0) {
        snprintf(msg, sizeof(msg), "events could not be stored: %s", mw_strerror(wrc));
        set_error(r, 500, "store_error", msg);
    } else if (c.submitted == 0 && c.rejected == 0) {
        MW_INC(mw_metrics.api_bad_body);
        set_error(r, 400, "empty_body", "the request body holds no events");
    } else if (c.submitted == 0) {
        const char *first = "";
        json_t *e0 = json_array_get(c.errors, 0);
        if (e0)
            first = json_string_value(json_object_get(e0, "message"));
        snprintf(msg, sizeof(msg), "no event accepted (%llu rejected); first error: %s",
                 (unsigned long long)c.rejected, first ? first : "");
        set_error(r, 400, "no_valid_events", msg);
    } else {
        r->status = 202;
        r->body = json_object();
    }
    r->accepted = (wrc == 0 && !c.fatal) ? c.submitted : 0;
    r->rejected = c.rejected;
    if (r->body) {
        json_object_set_new(r->body, "accepted", json_integer((json_int_t)r->accepted));
        json_object_set_new(r->body, "rejected", json_integer((json_int_t)c.rejected));
        json_object_set(r->body, "errors", c.errors);
    }
done:
    settle(&c);
    if (!waited)
        wrc = mw_ack_wait(c.ack, 0);
    release_ack(c.ack, wrc == MW_EAGAIN);
    json_decref(c.errors);
    json_decref(root);
    if (r->body == NULL) {
        r->status = 500;
        return MW_ENOMEM;
    }
    return 0;
}
