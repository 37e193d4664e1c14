/* mw_jsonl_parse: a single-pass JSON (RFC 8259) scanner that flattens one
 * object straight into event fields, without building a jansson tree: no
 * allocation per value, one scratch buffer per line at most. It accepts
 * exactly what jansson accepts by default (strict grammar, UTF-8 validated,
 * no \u0000, no lone surrogates, integers that fit in 64 bits, finite reals)
 * and gives the same field text as the jansson path in jsonl.c (both use
 * jtext.c); fuzz/fuzz_jsonl.c checks the two against each other.
 *
 * Duplicate keys: the first occurrence wins, later ones add no field. */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ingest/ingest_int.h"
#include "mwrasp/ingest.h"

enum { G_TIME, G_HOST, G_CAT, G__COUNT };
static const char *const time_keys[] = {JSON_TIME_KEYS};
static const char *const host_keys[] = {JSON_HOST_KEYS};
static const char *const cat_keys[] = {JSON_CATEGORY_KEYS};
#define NKEYS(a) ((int)(sizeof(a) / sizeof(a)[0]))
#define NO_RANK 1000

struct js {
    const char *s;
    size_t len, pos;
    mw_event_t *ev;
    char *err;
    size_t errlen;
    enum mw_reject *why;
    char *dec; /* decoded strings (escapes): len + 1 bytes, on the stack for a short line,
                * else allocated on first use */
    /* the special members seen so far: best rank (index in its key list) */
    int rank[G__COUNT];
    int64_t ts;
    const char *host; /* a field value in the event arena */
    size_t host_len;
    const char *cat;
    size_t cat_len;
    size_t cat_first_len; /* full length of cat_first's string (may exceed the copy) */
    /* Filter of the field names added so far (key_sig): a clear bit means
     * a new name, so that add() compares names only on a set bit. */
    uint64_t seen[8];
    /* While set, fields[0..nfields) have the keys of tl_pred's first
     * nfields entries, and seen[] is not kept (add() fills it in when the
     * prediction fails). */
    int pred_ok;
    /* The buffers below (5 KiB) are not zeroed per line: mw_jsonl_parse
     * clears the struct only up to JS_CLEAR (zeroing all of it was ~8 % of
     * the parse time). Each is written before it is read. */
    struct jt arr; /* compact text of the array being scanned (jt_init) */
    char cat_first[MW_EVENT_CATEGORY_MAX + 1]; /* first string of the category array kept */
    /* where dump_value captures the first string of an array, copied to
     * cat_first only if the member is kept (a later duplicate key must not
     * overwrite the category already taken from cat_first) */
    char cat_cap[MW_EVENT_CATEGORY_MAX + 1];
    char key[JSON_KEY_MAX + 1];
};
#define JS_CLEAR offsetof(struct js, arr)

/* The key sequence of the last event this thread parsed (interned keys,
 * which live until exit), as the prediction of the next one's: events of
 * one source repeat a few sequences. While every field added so far has
 * the predicted key at its index, a key equal to the next predicted one
 * is a new name (the predicted keys are distinct: they are one event's
 * fields, and the scanner adds no duplicate) and needs no intern lookup.
 * (Eight predictions, another taking over when the current one fails,
 * measured slower than one.) */
#define PRED_MAX 64
struct pred {
    uint32_t n;
    uint32_t len[PRED_MAX];
    const char *key[PRED_MAX];
};
static _Thread_local struct pred tl_pred;

/* ---- errors ---- */

static int jfail(struct js *j, enum mw_reject w, int code, const char *what)
{
    size_t line = 1, col = 1;
    size_t at = j->pos < j->len ? j->pos : j->len;
    for (size_t i = 0; i < at; i++) {
        if (j->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    const char *kind = w == MW_REJ_UTF8 ? "invalid UTF-8 in JSON" : "invalid JSON";
    if (at >= j->len)
        return ingest_fail(j->err, j->errlen, j->why, w, code,
                           "%s at line %zu, column %zu: %s near end of input", kind, line, col,
                           what);
    return ingest_fail(j->err, j->errlen, j->why, w, code, "%s at line %zu, column %zu: %s", kind,
                       line, col, what);
}

static int syntax(struct js *j, const char *what)
{
    return jfail(j, MW_REJ_PARSE, MW_EPARSE, what);
}

static int depth_limit(struct js *j)
{
    return ingest_fail(j->err, j->errlen, j->why, MW_REJ_LIMIT, MW_ELIMIT,
                       "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
}

static int nomem(struct js *j)
{
    return ingest_fail(j->err, j->errlen, j->why, MW_REJ_LIMIT, MW_ENOMEM, "out of memory");
}

static int toobig(struct js *j, int rc)
{
    if (rc == MW_ENOMEM)
        return nomem(j);
    return ingest_fail(j->err, j->errlen, j->why, MW_REJ_LIMIT, MW_ELIMIT,
                       "event larger than %u bytes", (unsigned)MW_EVENT_MAX_BYTES);
}

/* ---- lexing ---- */

/* Inlined at every use: most calls find no whitespace or one space, and a
 * byte above ' ' ends the loop on its first test. */
static inline __attribute__((always_inline)) void ws(struct js *j)
{
    while (j->pos < j->len) {
        unsigned char c = (unsigned char)j->s[j->pos];
        if (c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r'))
            break;
        j->pos++;
    }
}

static int peek(const struct js *j)
{
    return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

/* Length of the valid UTF-8 sequence (RFC 3629) starting at s, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    }
    return n;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Bytes a string body cannot copy as they are: '"', '\\', control bytes
 * (< 0x20) and non-ASCII (>= 0x80, validated as UTF-8). */
static int special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Index of the first special byte in s[i..len), or len.
 *
 * x86-64 (SSE2 is part of its baseline): sixteen bytes per step. A byte is
 * special when it equals '"' or '\\', or is below 0x20 as a signed byte
 * (which takes in 0x80..0xFF too); the lowest set bit of the mask is the
 * first special byte.
 *
 * Elsewhere, and for the last bytes: eight at a time on little-endian
 * machines: a word's mask has the high bit of each byte that is '"' or
 * '\\' (zero after the xor), below 0x20 or above 0x7F. Borrows can flag a
 * byte after a real hit, never before one, so the lowest flagged byte is the
 * first special one. */
static inline __attribute__((always_inline)) size_t plain_run(const unsigned char *s, size_t i,
                                                              size_t len)
{
#if defined(__SSE2__)
    const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'), vc = _mm_set1_epi8(0x20);
    while (len - i >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vb)),
                                 _mm_cmplt_epi8(x, vc));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
        i += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (len - i >= 8) {
        uint64_t x, q, b;
        memcpy(&x, s + i, 8);
        q = x ^ (ONES * '"');
        b = x ^ (ONES * '\\');
        uint64_t m = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x) | x;
        m &= HIGHS;
        if (m)
            return i + (size_t)__builtin_ctzll(m) / 8;
        i += 8;
    }
#endif
    while (i < len && !special(s[i]))
        i++;
    return i;
}

/* The character an escape \e stands for, 0 for \u or an invalid one. */
static char simple_escape(char e)
{
    switch (e) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '/':
        return '/';
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return 0;
    }
}

static __attribute__((noinline)) int string_slow(struct js *j, size_t i, const char **out,
                                                 size_t *n);

/* A string at j->pos (the opening quote). Sets *out and *n to the decoded
 * bytes, in the input when there is no escape, else in j->dec (valid until
 * the next string). Decoded text is never longer than its source.
 * Inlined where strings are read: the common string, plain bytes up to its
 * closing quote, takes one plain_run; anything else goes on in string_slow
 * from the first special byte. */
static inline __attribute__((always_inline)) int string(struct js *j, const char **out, size_t *n)
{
    const unsigned char *s = (const unsigned char *)j->s;
    size_t i = plain_run(s, j->pos + 1, j->len);
    if (i < j->len && s[i] == '"') {
        *out = j->s + j->pos + 1;
        *n = i - j->pos - 1;
        j->pos = i + 1;
        return MW_OK;
    }
    return string_slow(j, i, out, n);
}

/* string() from i, the first byte of the string body at or after j->pos + 1
 * that plain_run stopped at (or the end of the input). */
static __attribute__((noinline)) int string_slow(struct js *j, size_t i, const char **out,
                                                 size_t *n)
{
    const unsigned char *s = (const unsigned char *)j->s;
    j->pos++;
    /* Fast path: no escapes. */
    for (;;) {
        i = plain_run(s, i, j->len);
        if (i >= j->len)
            break;
        unsigned char c = s[i];
        if (c == '"') {
            *out = j->s + j->pos;
            *n = i - j->pos;
            j->pos = i + 1;
            return MW_OK;
        }
        if (c == '\\')
            break;
        if (c < 0x20) {
            j->pos = i;
            return syntax(j, "control character in string");
        }
        size_t k = utf8_seq(s + i, j->len - i);
        if (!k) {
            j->pos = i;
            return jfail(j, MW_REJ_UTF8, MW_EUTF8, "invalid UTF-8 sequence in string");
        }
        i += k;
    }
    if (i >= j->len) {
        j->pos = i;
        return syntax(j, "unterminated string");
    }
    /* Slow path: decode into j->dec, copying the runs between escapes. */
    if (!j->dec && !(j->dec = malloc(j->len + 1)))
        return nomem(j);
    size_t o = i - j->pos;
    memcpy(j->dec, j->s + j->pos, o);
    while (i < j->len) {
#if defined(__SSE2__)
        /* Scan and copy in one: each 16-byte block is stored whole (dec has
         * len + 1 bytes and o < i, so the store fits); the bytes after a
         * special one are overwritten by what follows. */
        const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'), vc = _mm_set1_epi8(0x20);
        unsigned bits = 0;
        while (j->len - i >= 16 && o + 16 <= j->len + 1) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            _mm_storeu_si128((__m128i *)(void *)(j->dec + o), x);
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vb)),
                                     _mm_cmplt_epi8(x, vc));
            bits = (unsigned)_mm_movemask_epi8(m);
            if (bits) {
                size_t k = (size_t)__builtin_ctz(bits);
                i += k;
                o += k;
                break;
            }
            i += 16;
            o += 16;
        }
        if (!bits)
#endif
        {
            size_t e = plain_run(s, i, j->len);
            memcpy(j->dec + o, s + i, e - i);
            o += e - i;
            i = e;
        }
        if (i >= j->len)
            break;
        unsigned char c = s[i];
        if (c == '"') {
            *out = j->dec;
            *n = o;
            j->pos = i + 1;
            return MW_OK;
        }
        if (c < 0x20) {
            j->pos = i;
            return syntax(j, "control character in string");
        }
        if (c >= 0x80) {
            size_t k = utf8_seq(s + i, j->len - i);
            if (!k) {
                j->pos = i;
                return jfail(j, MW_REJ_UTF8, MW_EUTF8, "invalid UTF-8 sequence in string");
            }
            memcpy(j->dec + o, s + i, k);
            o += k;
            i += k;
            continue;
        }
        /* a backslash */
        if (i + 1 >= j->len) {
            j->pos = i + 1;
            return syntax(j, "unterminated string");
        }
        char esc = simple_escape((char)s[i + 1]);
        if (esc) {
            j->dec[o++] = esc;
            i += 2;
            continue;
        }
        unsigned cp, lo;
        if (s[i + 1] != 'u' || i + 6 > j->len || !hex4(j->s + i + 2, &cp)) {
            j->pos = i;
            return syntax(j, "invalid escape");
        }
        if (cp == 0) {
            j->pos = i;
            return syntax(j, "\\u0000 is not allowed");
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            j->pos = i;
            return syntax(j, "invalid Unicode escape (lone low surrogate)");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 12 > j->len || s[i + 6] != '\\' || s[i + 7] != 'u' ||
                !hex4(j->s + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                j->pos = i;
                return syntax(j, "invalid Unicode escape (high surrogate without low)");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        o += put_utf8(j->dec + o, cp);
        i += 6;
    }
    j->pos = i;
    return syntax(j, "unterminated string");
}

/* A number at j->pos, by the RFC 8259 grammar. Integers must fit in a
 * long long, reals must be finite (as jansson requires). */
static int number(struct js *j, int *is_int, long long *iv, double *dv)
{
    const char *s = j->s;
    size_t i = j->pos, start = j->pos;
    int neg = 0, frac = 0;
    if (s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= j->len || s[i] < '0' || s[i] > '9') {
        j->pos = i;
        return syntax(j, "invalid number");
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < j->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < j->len && s[i] == '.') {
        frac = 1;
        i++;
        if (i >= j->len || s[i] < '0' || s[i] > '9') {
            j->pos = i;
            return syntax(j, "invalid number (digit expected after '.')");
        }
        while (i < j->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < j->len && (s[i] == 'e' || s[i] == 'E')) {
        frac = 1;
        i++;
        if (i < j->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= j->len || s[i] < '0' || s[i] > '9') {
            j->pos = i;
            return syntax(j, "invalid number (digit expected in exponent)");
        }
        while (i < j->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    size_t n = i - start;
    if (!frac) {
        unsigned long long v = 0, max = neg ? 9223372036854775808ull : 9223372036854775807ull;
        size_t k = start + (size_t)neg;
        /* up to 18 digits cannot overflow: no check per digit */
        if (i - k <= 18) {
            for (; k < i; k++)
                v = v * 10 + (unsigned)(s[k] - '0');
        }
        for (; k < i; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (v > (max - d) / 10) {
                j->pos = start;
                return syntax(j, neg ? "too big negative integer" : "too big integer");
            }
            v = v * 10 + d;
        }
        *is_int = 1;
        *iv = neg ? (long long)(0 - v) : (long long)v;
    } else {
        char stackbuf[64];
        char *t = stackbuf;
        if (n >= sizeof stackbuf) {
            if (!j->dec && !(j->dec = malloc(j->len + 1)))
                return nomem(j);
            t = j->dec;
        }
        memcpy(t, s + start, n);
        t[n] = '\0';
        errno = 0;
        double d = strtod(t, NULL);
        if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
            j->pos = start;
            return syntax(j, "real number overflow");
        }
        *is_int = 0;
        *dv = d;
    }
    j->pos = i;
    return MW_OK;
}

/* Field text of the number just scanned, j->s[start..j->pos). An integer's
 * own digits are already its canonical text (the grammar allows no '+', no
 * leading zero, no fraction or exponent in an integer) except "-0", which
 * jansson reads as 0; anything else is formatted into buf (jtext.c). */
static const char *number_text(const struct js *j, size_t start, int is_int, long long iv,
                               double dv, char *buf, size_t cap, size_t *n)
{
    if (is_int && (iv != 0 || j->s[start] != '-')) {
        *n = j->pos - start;
        return j->s + start;
    }
    *n = is_int ? jt_int_text(iv, buf, cap) : jt_real_text(dv, buf, cap);
    return buf;
}

/* true / false / null at j->pos. */
static int literal(struct js *j, const char **text, size_t *n)
{
    static const char *const lits[] = {"true", "false", "null"};
    *text = NULL; /* outputs set on every path */
    *n = 0;
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (j->len - j->pos >= l && memcmp(j->s + j->pos, lits[k], l) == 0) {
            j->pos += l;
            *text = lits[k];
            *n = l;
            return MW_OK;
        }
    }
    return syntax(j, "invalid token");
}

/* ---- compact text (values inside arrays) ---- */

/* dump_value flags: capture this value if it is a string / capture the
 * first element of this array if it is a string (ECS event.category). */
#define CAP_SELF 1
#define CAP_FIRST 2
static int dump_value(struct js *j, int depth, int capture);

static int put(struct js *j, const char *s, size_t n)
{
    int rc = jt_put(&j->arr, s, n);
    return rc < 0 ? toobig(j, rc) : MW_OK;
}

/* Value at j->pos (not whitespace) into j->arr, depth = its container's. */
static int dump_value(struct js *j, int depth, int capture)
{
    int c = peek(j), rc;
    if (c == '{' || c == '[') {
        if (depth + 1 > JSON_MAX_DEPTH)
            return depth_limit(j);
        char close = c == '{' ? '}' : ']';
        j->pos++;
        if ((rc = put(j, c == '{' ? "{" : "[", 1)) < 0)
            return rc;
        ws(j);
        if (peek(j) == close) {
            j->pos++;
            return put(j, &close, 1);
        }
        for (int idx = 0;; idx++) {
            if (c == '{') {
                if (peek(j) != '"')
                    return syntax(j, "string or '}' expected");
                const char *k;
                size_t kl;
                if ((rc = string(j, &k, &kl)) < 0)
                    return rc;
                int r = jt_str(&j->arr, k, kl);
                if (r < 0)
                    return toobig(j, r);
                ws(j);
                if (peek(j) != ':')
                    return syntax(j, "':' expected");
                j->pos++;
                ws(j);
                if ((rc = put(j, ":", 1)) < 0)
                    return rc;
            }
            int child = (capture & CAP_FIRST) && idx == 0 && c == '[' ? CAP_SELF : 0;
            if ((rc = dump_value(j, depth + 1, child)) < 0)
                return rc;
            ws(j);
            if (peek(j) == ',') {
                j->pos++;
                ws(j);
                if ((rc = put(j, ",", 1)) < 0)
                    return rc;
                continue;
            }
            if (peek(j) == close) {
                j->pos++;
                return put(j, &close, 1);
            }
            return syntax(j, c == '{' ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    if (c == '"') {
        const char *v;
        size_t n;
        if ((rc = string(j, &v, &n)) < 0)
            return rc;
        if (capture & CAP_SELF) {
            size_t m = n < sizeof j->cat_cap ? n : sizeof j->cat_cap - 1;
            memcpy(j->cat_cap, v, m);
            j->cat_first_len = n;
        }
        int r = jt_str(&j->arr, v, n);
        return r < 0 ? toobig(j, r) : MW_OK;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        int is_int;
        long long iv = 0;
        double dv = 0;
        size_t start = j->pos;
        if ((rc = number(j, &is_int, &iv, &dv)) < 0)
            return rc;
        char buf[64];
        size_t n;
        const char *t = number_text(j, start, is_int, iv, dv, buf, sizeof buf, &n);
        return put(j, t, n);
    }
    const char *t;
    size_t n;
    if ((rc = literal(j, &t, &n)) < 0)
        return rc;
    return put(j, t, n);
}

/* ---- fields ---- */

static int key_rank(const char *k, size_t n, const char *const *keys, int nkeys)
{
    for (int i = 0; i < nkeys; i++) {
        /* first byte before strlen: most member names fail there */
        if (keys[i][0] == k[0] && strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
            return i;
    }
    return NO_RANK;
}

/* Filter of the special member names (the time, host and category keys):
 * one bit per name, at (length * 7 + first byte) mod 256. A name whose bit
 * is clear is none of them, so most members skip key_rank. Built once. */
static uint64_t special_bits[4];
static pthread_once_t special_once = PTHREAD_ONCE_INIT;

static unsigned special_bit(const char *k, size_t n)
{
    return (unsigned)(n * 7u + (unsigned char)k[0]) & 255u;
}

static void special_add(const char *const *keys, int nkeys)
{
    for (int i = 0; i < nkeys; i++) {
        unsigned b = special_bit(keys[i], strlen(keys[i]));
        special_bits[b >> 6] |= 1ull << (b & 63);
    }
}

static void special_init(void)
{
    special_add(time_keys, NKEYS(time_keys));
    special_add(host_keys, NKEYS(host_keys));
    special_add(cat_keys, NKEYS(cat_keys));
}

static int special_maybe(const char *k, size_t n)
{
    unsigned b = special_bit(k, n);
    return (special_bits[b >> 6] >> (b & 63)) & 1;
}

/* Bit of a field name in js.seen: its length and three of its bytes. */
static unsigned key_sig(const char *k, size_t nk)
{
    unsigned h = (unsigned)nk * 0x9e37u ^ (unsigned char)k[0] * 0x3bu ^
                 (unsigned char)k[nk - 1] * 0x2c1bu ^ (unsigned char)k[nk / 2] * 0x61u;
    return (h ^ h >> 9) & 511u;
}

/* memcmp(a, b, n) == 0 without a call for the short names that most keys
 * are: overlapping loads that stay inside a[0..n) and b[0..n). */
static inline __attribute__((always_inline)) int key_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x0, y0, x1, y1;
        memcpy(&x0, a, 8);
        memcpy(&y0, b, 8);
        memcpy(&x1, a + n - 8, 8);
        memcpy(&y1, b + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

/* memcpy(d, s, n) for non-overlapping buffers, without a call for short
 * names: overlapping loads and stores inside s[0..n) and d[0..n). */
static inline __attribute__((always_inline)) void key_copy(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x0, x1;
        memcpy(&x0, s, 8);
        memcpy(&x1, s + n - 8, 8);
        memcpy(d, &x0, 8);
        memcpy(d + n - 8, &x1, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t x0, x1;
        memcpy(&x0, s, 4);
        memcpy(&x1, s + n - 4, 4);
        memcpy(d, &x0, 4);
        memcpy(d + n - 4, &x1, 4);
    } else {
        memcpy(d, s, n);
    }
}

static int add_error(struct js *j, int rc)
{
    if (rc == MW_ELIMIT)
        return ingest_fail(j->err, j->errlen, j->why, MW_REJ_LIMIT, MW_ELIMIT,
                           "more than %d fields", MW_EVENT_MAX_FIELDS);
    return toobig(j, rc);
}

/* Adds j->key[0..nk) = v unless that key already exists (first wins).
 * *added tells which; *val the stored copy. */
static int add(struct js *j, size_t nk, const char *v, size_t vn, const char **val)
{
    mw_event_t *ev = j->ev;
    if (j->pred_ok) {
        const struct pred *p = &tl_pred;
        uint32_t i = ev->nfields;
        if (i < p->n && p->len[i] == nk && key_eq(p->key[i], j->key, nk)) {
            int rc = mw_event_add_field_interned(ev, p->key[i], nk, v, vn);
            if (rc < 0)
                return add_error(j, rc);
            *val = ev->fields[i].val;
            return MW_OK;
        }
        j->pred_ok = 0;
        for (uint32_t f = 0; f < i; f++) {
            unsigned s = key_sig(ev->fields[f].key, ev->fields[f].key_len);
            j->seen[s >> 6] |= 1ull << (s & 63);
        }
    }
    char k0 = j->key[0], kl = j->key[nk - 1];
    unsigned sig = key_sig(j->key, nk);
    uint64_t bit = 1ull << (sig & 63);
    int maybe = (j->seen[sig >> 6] & bit) != 0;
    for (uint32_t i = 0; maybe && i < ev->nfields; i++) {
        const mw_field_t *f = &ev->fields[i];
        /* first and last bytes before memcmp: most names differ there */
        if (f->key_len == nk && f->key[0] == k0 && f->key[nk - 1] == kl &&
            memcmp(f->key, j->key, nk) == 0) {
            *val = NULL;
            return MW_OK;
        }
    }
    int rc = mw_event_add_field(ev, j->key, nk, v, vn);
    if (rc < 0)
        return add_error(j, rc);
    j->seen[sig >> 6] |= bit;
    *val = ev->fields[ev->nfields - 1].val;
    return MW_OK;
}

static int object(struct js *j, size_t klen, int depth);

/* The value of member j->key[0..nk) at j->pos, in an object at depth. */
static int member(struct js *j, size_t nk, int depth)
{
    int c = peek(j), rc;
    const char *stored = NULL;
    if (c == '{') {
        if (depth + 1 > JSON_MAX_DEPTH)
            return depth_limit(j);
        j->pos++;
        return object(j, nk, depth + 1);
    }
    /* Special members: time, host, category (ranks: lower wins). */
    int tr = NO_RANK, hr = NO_RANK, cr = NO_RANK;
    if (special_maybe(j->key, nk)) {
        tr = key_rank(j->key, nk, time_keys, NKEYS(time_keys));
        hr = key_rank(j->key, nk, host_keys, NKEYS(host_keys));
        cr = key_rank(j->key, nk, cat_keys, NKEYS(cat_keys));
    }
    if (c == '[') {
        j->arr.len = 0;
        int capture = cr < j->rank[G_CAT];
        j->cat_first_len = (size_t)-1;
        if ((rc = dump_value(j, depth, capture ? CAP_FIRST : 0)) < 0)
            return rc;
        if ((rc = add(j, nk, j->arr.p, j->arr.len, &stored)) < 0)
            return rc;
        if (stored && capture && j->cat_first_len != (size_t)-1) {
            size_t m =
                j->cat_first_len < sizeof j->cat_first ? j->cat_first_len : sizeof j->cat_first - 1;
            memcpy(j->cat_first, j->cat_cap, m);
            j->rank[G_CAT] = cr;
            j->cat = j->cat_first;
            j->cat_len = j->cat_first_len;
        }
        return MW_OK;
    }
    if (c == '"') {
        const char *v;
        size_t n;
        if ((rc = string(j, &v, &n)) < 0)
            return rc;
        if ((rc = add(j, nk, v, n, &stored)) < 0)
            return rc;
        if (!stored)
            return MW_OK;
        int64_t ts;
        if (tr < j->rank[G_TIME] && jt_time_str(stored, n, &ts)) {
            j->rank[G_TIME] = tr;
            j->ts = ts;
        }
        if (hr < j->rank[G_HOST]) {
            j->rank[G_HOST] = hr;
            j->host = stored;
            j->host_len = n;
        }
        if (cr < j->rank[G_CAT]) {
            j->rank[G_CAT] = cr;
            j->cat = stored;
            j->cat_len = n;
        }
        return MW_OK;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        int is_int;
        long long iv = 0;
        double dv = 0;
        size_t start = j->pos;
        if ((rc = number(j, &is_int, &iv, &dv)) < 0)
            return rc;
        char buf[64];
        size_t n;
        const char *t = number_text(j, start, is_int, iv, dv, buf, sizeof buf, &n);
        if ((rc = add(j, nk, t, n, &stored)) < 0)
            return rc;
        int64_t ts;
        if (stored && tr < j->rank[G_TIME] &&
            (is_int ? jt_time_int(iv, &ts) : jt_time_real(dv, &ts))) {
            j->rank[G_TIME] = tr;
            j->ts = ts;
        }
        return MW_OK;
    }
    if (c == 't' || c == 'f' || c == 'n') {
        const char *t;
        size_t n;
        if ((rc = literal(j, &t, &n)) < 0)
            return rc;
        return add(j, nk, t, n, &stored);
    }
    return syntax(j, "invalid token");
}

/* Members of an object whose '{' was consumed; key prefix j->key[0..klen). */
static int object(struct js *j, size_t klen, int depth)
{
    int rc;
    const char *stored;
    ws(j);
    if (peek(j) == '}') {
        j->pos++;
        return klen ? add(j, klen, "{}", 2, &stored) : MW_OK;
    }
    for (;;) {
        if (peek(j) != '"')
            return syntax(j, "string or '}' expected");
        const char *k;
        size_t kl;
        if ((rc = string(j, &k, &kl)) < 0)
            return rc;
        size_t nk = klen + (klen ? 1 : 0) + kl;
        if (nk > JSON_KEY_MAX)
            return ingest_fail(j->err, j->errlen, j->why, MW_REJ_LIMIT, MW_ELIMIT,
                               "field name longer than %d bytes", JSON_KEY_MAX);
        if (klen)
            j->key[klen] = '.';
        key_copy(j->key + nk - kl, k, kl); /* k is in the input or j->dec */
        ws(j);
        if (peek(j) != ':')
            return syntax(j, "':' expected");
        j->pos++;
        ws(j);
        if (nk == 0) {
            /* {"": ...}: no name to give it (raw keeps it); scan and drop. */
            j->arr.len = 0;
            rc = dump_value(j, depth, 0);
        } else {
            rc = member(j, nk, depth);
        }
        if (rc < 0)
            return rc;
        ws(j);
        if (peek(j) == ',') {
            j->pos++;
            ws(j);
            continue;
        }
        if (peek(j) == '}') {
            j->pos++;
            return MW_OK;
        }
        return syntax(j, "',' or '}' expected");
    }
}

static const char *start_name(int c)
{
    switch (c) {
    case '[':
        return "an array";
    case '"':
        return "a string";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    default:
        return (c == '-' || (c >= '0' && c <= '9')) ? "a number" : NULL;
    }
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
    pthread_once(&special_once, special_init);
    struct js j;
    memset(&j, 0, JS_CLEAR);
    j.s = line;
    j.len = len;
    j.err = err;
    j.errlen = errlen;
    j.why = why;
    j.pred_ok = 1;
    /* Decoded strings of a typical line fit on the stack: no malloc per line
     * for the first escape. */
    char decbuf[4096];
    if (len + 1 <= sizeof decbuf)
        j.dec = decbuf;
    int rc;
    for (int g = 0; g < G__COUNT; g++)
        j.rank[g] = NO_RANK;
    jt_init(&j.arr);
    ws(&j);
    if (peek(&j) != '{') {
        const char *what = start_name(peek(&j));
        if (what)
            return ingest_fail(err, errlen, why, MW_REJ_PARSE, MW_EPARSE,
                               "expected a JSON object, got %s", what);
        return syntax(&j, "'{' expected");
    }
    j.pos++;
    j.ev = mw_event_new(src, line, len);
    if (!j.ev)
        return nomem(&j);
    if ((rc = object(&j, 0, 1)) < 0)
        goto out;
    ws(&j);
    if (j.pos != j.len) {
        rc = syntax(&j, "end of input expected");
        goto out;
    }
    if (j.rank[G_TIME] != NO_RANK)
        j.ev->ts_ns = j.ts;
    if (j.rank[G_HOST] != NO_RANK) {
        if (j.host_len > MW_EVENT_HOST_MAX) {
            rc = ingest_fail(err, errlen, why, MW_REJ_LIMIT, MW_ELIMIT,
                             "\"%s\" longer than %d bytes", host_keys[j.rank[G_HOST]],
                             MW_EVENT_HOST_MAX);
            goto out;
        }
        if ((rc = mw_event_set_host(j.ev, j.host, j.host_len)) < 0) {
            rc = toobig(&j, rc);
            goto out;
        }
    }
    if (j.rank[G_CAT] != NO_RANK) {
        if (j.cat_len > MW_EVENT_CATEGORY_MAX) {
            rc = ingest_fail(err, errlen, why, MW_REJ_LIMIT, MW_ELIMIT,
                             "\"%s\" longer than %d bytes", cat_keys[j.rank[G_CAT]],
                             MW_EVENT_CATEGORY_MAX);
            goto out;
        }
        if ((rc = mw_event_set_category(j.ev, j.cat, j.cat_len)) < 0) {
            rc = toobig(&j, rc);
            goto out;
        }
    }
    if ((!j.pred_ok || j.ev->nfields != tl_pred.n) && !j.ev->keys_copied) {
        /* a new key sequence (of interned keys): the next event's prediction */
        uint32_t n = j.ev->nfields < PRED_MAX ? j.ev->nfields : PRED_MAX;
        for (uint32_t f = 0; f < n; f++) {
            tl_pred.key[f] = j.ev->fields[f].key;
            tl_pred.len[f] = j.ev->fields[f].key_len;
        }
        tl_pred.n = n;
    }
    *out = j.ev;
    j.ev = NULL;
    rc = MW_OK;
out:
    mw_event_free(j.ev);
    jt_free(&j.arr);
    if (j.dec != decbuf)
        free(j.dec);
    return rc;
}
