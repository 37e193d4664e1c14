/* Ingest internals shared by the files of src/ingest/ (not a public header). */
#ifndef MWRASP_INGEST_INT_H
#define MWRASP_INGEST_INT_H

#include <stdarg.h>
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

#endif
