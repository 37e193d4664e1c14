/* Ingest internals shared by the files of src/ingest/ (not a public header). */
#ifndef MWRASP_INGEST_INT_H
#define MWRASP_INGEST_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "mwrasp/ingest.h"

/* Formats a reason into err (if err && errlen) and sets *why. Returns code,
 * so that a parser can `return ingest_fail(...)`. */
static inline int ingest_fail(char *err, size_t errlen, enum mw_reject *why, enum mw_reject w,
                              int code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static inline int ingest_fail(char *err, size_t errlen, enum mw_reject *why, enum mw_reject w,
                              int code, const char *fmt, ...)
{
    if (why)
        *why = w;
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- JSON text helpers (jtext.c), shared by jscan.c and jsonl.c ---- */

#define JSON_MAX_DEPTH 32 /* nesting levels of objects and arrays */
#define JSON_KEY_MAX 1023 /* flattened key length */

/* A growable byte buffer that starts on the stack and never exceeds
 * MW_EVENT_MAX_BYTES (jt_put returns MW_ETOOBIG then, MW_ENOMEM on
 * allocation failure). */
struct jt {
    char *p;
    size_t len, cap;
    char stack[4096];
};
void jt_init(struct jt *b);
void jt_free(struct jt *b);
int jt_put(struct jt *b, const char *s, size_t n);
/* Appends s[0..n) as a compact JSON string: quotes, \" \\ \b \f \n \r \t,
 * other control bytes as \u00xx, everything else verbatim. */
int jt_str(struct jt *b, const char *s, size_t n);
/* Number text: integers in decimal, reals as the shortest %.15g..%.17g that
 * reads back to the same double, with ".0" added to integral values.
 * Return the length (0 if cap is too small; 32 bytes is always enough). */
size_t jt_int_text(long long v, char *buf, size_t cap);
size_t jt_real_text(double d, char *buf, size_t cap);
/* Event time from a JSON value: an RFC 3339 string (years 1678..2261), or a
 * number of seconds, ms, us or ns since the epoch (told apart by size).
 * 1 and *ns on success, 0 if the value is not usable. */
int jt_time_str(const char *s, size_t n, int64_t *ns);
int jt_time_int(long long i, int64_t *ns);
int jt_time_real(double d, int64_t *ns);

/* Special members, in order of precedence within each group. */
#define JSON_TIME_KEYS "@timestamp", "timestamp", "TimeCreated", "TimeCreated.SystemTime"
#define JSON_HOST_KEYS "host.name", "host", "hostname", "Computer"
#define JSON_CATEGORY_KEYS "event.category", "category"

#endif
