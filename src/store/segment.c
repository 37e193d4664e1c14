/* Packed raw-event segments: the encoding of event_segments.data
 * (docs/internals/store.md, "Segment encoding").
 *
 *   blob   := version:u8 (= 1) record{n}
 *   record := ts_ns:i64le ingest_ns:i64le
 *             source_len:u8 source[source_len]      (mw_source_name)
 *             host_len:u8 host[host_len]            (<= MW_EVENT_HOST_MAX)
 *             category_len:u8 category[category_len] (<= MW_EVENT_CATEGORY_MAX)
 *             raw_len:u32le raw[raw_len]            (< MW_EVENT_MAX_BYTES)
 *
 * The event ids are not in the blob: the i-th record is event first_id + i
 * (first_id and n are columns of the row). The decoder treats the blob as
 * untrusted: every length is checked against what is left before it is
 * used, and a blob that is not exactly n well-formed records is corrupt. */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define REC_FIXED (8 + 8 + 1 + 1 + 1 + 4) /* a record with empty strings */
#define SOURCE_MAX 32 /* longest source name the decoder accepts */

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_i64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;

    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t get_i64(const uint8_t *p)
{
    uint64_t u = 0;

    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
    return (int64_t)u;
}

void mw_seg_buf_reset(struct mw_seg_buf *b)
{
    b->len = 0;
}

void mw_seg_buf_free(struct mw_seg_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Makes room for `more` bytes (cap: MW_SEG_BUF_MAX). */
static int reserve(struct mw_seg_buf *b, size_t more)
{
    size_t want, cap;
    uint8_t *p;

    if (more > MW_SEG_BUF_MAX || b->len > MW_SEG_BUF_MAX - more)
        return MW_ETOOBIG;
    want = b->len + more;
    if (want <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64 * 1024;
    while (cap < want)
        cap *= 2;
    if (cap > MW_SEG_BUF_MAX)
        cap = MW_SEG_BUF_MAX;
    p = realloc(b->data, cap);
    if (!p)
        return MW_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int mw_seg_append(struct mw_seg_buf *b, int64_t ts_ns, int64_t ingest_ns, const char *source,
                  const char *host, const char *category, const void *raw, size_t raw_len)
{
    size_t sl, hl, cl, need;
    uint8_t *p;
    int rc;

    if (!b || !source || (!raw && raw_len))
        return MW_EINVAL;
    if (!host)
        host = "";
    if (!category)
        category = "";
    /* The core caps host and category; longer ones (a caller bug) are cut
     * rather than failing the whole batch. */
    sl = strnlen(source, SOURCE_MAX + 1);
    hl = strnlen(host, MW_EVENT_HOST_MAX);
    cl = strnlen(category, MW_EVENT_CATEGORY_MAX);
    if (sl > SOURCE_MAX || raw_len >= MW_EVENT_MAX_BYTES)
        return MW_EINVAL;
    need = REC_FIXED + sl + hl + cl + raw_len + (b->len == 0 ? 1 : 0);
    rc = reserve(b, need);
    if (rc)
        return rc;
    p = b->data + b->len;
    if (b->len == 0)
        *p++ = MW_SEG_VERSION;
    put_i64(p, ts_ns);
    put_i64(p + 8, ingest_ns);
    p += 16;
    *p++ = (uint8_t)sl;
    memcpy(p, source, sl);
    p += sl;
    *p++ = (uint8_t)hl;
    memcpy(p, host, hl);
    p += hl;
    *p++ = (uint8_t)cl;
    memcpy(p, category, cl);
    p += cl;
    put_u32(p, (uint32_t)raw_len);
    p += 4;
    if (raw_len)
        memcpy(p, raw, raw_len);
    b->len += need;
    return 0;
}

int mw_seg_reader_init(struct mw_seg_reader *r, const void *data, size_t len, uint64_t n)
{
    const uint8_t *p = data;

    if (!r)
        return MW_EINVAL;
    /* Every record takes at least REC_FIXED bytes: n is bounded by len. */
    if (!p || len < 1 || p[0] != MW_SEG_VERSION || n == 0 || n > (len - 1) / REC_FIXED)
        return MW_EIO;
    r->p = p + 1;
    r->left = len - 1;
    r->n = n;
    r->i = 0;
    return 0;
}

/* Takes a u8-length-prefixed string of at most max bytes. */
static int take_str8(struct mw_seg_reader *r, size_t max, const char **s, size_t *len)
{
    size_t l;

    if (r->left < 1)
        return MW_EIO;
    l = r->p[0];
    if (l > max || l > r->left - 1)
        return MW_EIO;
    *s = (const char *)(r->p + 1);
    *len = l;
    r->p += 1 + l;
    r->left -= 1 + l;
    return 0;
}

int mw_seg_next(struct mw_seg_reader *r, struct mw_seg_event *ev)
{
    struct mw_seg_event e;
    size_t rl;

    if (!r || !ev)
        return MW_EINVAL;
    if (r->i >= r->n)
        return MW_ENOTFOUND;
    if (r->left < 16)
        return MW_EIO;
    e.ts_ns = get_i64(r->p);
    e.ingest_ns = get_i64(r->p + 8);
    r->p += 16;
    r->left -= 16;
    if (take_str8(r, SOURCE_MAX, &e.source, &e.source_len) ||
        take_str8(r, MW_EVENT_HOST_MAX, &e.host, &e.host_len) ||
        take_str8(r, MW_EVENT_CATEGORY_MAX, &e.category, &e.category_len))
        return MW_EIO;
    if (r->left < 4)
        return MW_EIO;
    rl = get_u32(r->p);
    r->p += 4;
    r->left -= 4;
    if (rl >= MW_EVENT_MAX_BYTES || rl > r->left)
        return MW_EIO;
    e.raw = (const char *)r->p;
    e.raw_len = rl;
    r->p += rl;
    r->left -= rl;
    r->i++;
    /* The last record must end the blob exactly. */
    if (r->i == r->n && r->left != 0)
        return MW_EIO;
    *ev = e;
    return 0;
}

int mw_seg_decode_at(const void *data, size_t len, uint64_t n, uint64_t index,
                     struct mw_seg_event *out)
{
    struct mw_seg_reader r;
    struct mw_seg_event e, want = {0};
    int rc;

    if (!out)
        return MW_EINVAL;
    rc = mw_seg_reader_init(&r, data, len, n);
    if (rc)
        return rc;
    if (index >= n)
        return MW_ENOTFOUND;
    /* The whole blob is checked, not only the records up to index. */
    for (uint64_t i = 0; i < n; i++) {
        rc = mw_seg_next(&r, &e);
        if (rc)
            return rc == MW_ENOTFOUND ? MW_EIO : rc;
        if (i == index)
            want = e;
    }
    *out = want;
    return 0;
}
