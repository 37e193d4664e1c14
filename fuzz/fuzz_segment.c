/* libFuzzer harness for the store's segment decoder (src/store/segment.c):
 * event_segments.data is read back from disk and treated as untrusted.
 * Input: two bytes of record count n (little-endian), then the blob.
 * Besides "no crash, no overread, no UB" it checks the decoder's promises:
 * every record lies inside the blob, a blob that decodes is exactly n
 * records, decode_at agrees with the reader, and a decoded blob whose
 * strings hold no NUL re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const void *p, size_t len, const uint8_t *blob, size_t blen)
{
    const uint8_t *q = p;

    return q >= blob && q <= blob + blen && len <= (size_t)(blob + blen - q);
}

static int has_nul(const char *p, size_t len)
{
    return len && memchr(p, '\0', len) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mw_seg_reader r;
    struct mw_seg_event e, mid, at;
    struct mw_seg_buf b = {0};
    const uint8_t *blob;
    uint64_t n, got = 0;
    size_t blen;
    int rc, reencode = 1;
    char src[40];

    if (size < 2)
        return 0;
    n = (uint64_t)data[0] | (uint64_t)data[1] << 8;
    /* A copy of exactly blen bytes, so ASan catches any read past it. */
    blen = size - 2;
    blob = malloc(blen ? blen : 1);
    if (!blob)
        return 0;
    memcpy((void *)blob, data + 2, blen);
    memset(&mid, 0, sizeof mid);

    rc = mw_seg_reader_init(&r, blob, blen, n);
    while (rc == 0 && (rc = mw_seg_next(&r, &e)) == 0) {
        if (!inside(e.source, e.source_len, blob, blen) ||
            !inside(e.host, e.host_len, blob, blen) ||
            !inside(e.category, e.category_len, blob, blen) ||
            !inside(e.raw, e.raw_len, blob, blen) || e.host_len > MW_EVENT_HOST_MAX ||
            e.category_len > MW_EVENT_CATEGORY_MAX || e.raw_len >= MW_EVENT_MAX_BYTES ||
            e.source_len >= sizeof src)
            abort();
        if (got == n / 2)
            mid = e;
        got++;
        if (has_nul(e.source, e.source_len) || has_nul(e.host, e.host_len) ||
            has_nul(e.category, e.category_len))
            reencode = 0;
        if (reencode) {
            memcpy(src, e.source, e.source_len);
            src[e.source_len] = '\0';
            char host[MW_EVENT_HOST_MAX + 1], cat[MW_EVENT_CATEGORY_MAX + 1];
            memcpy(host, e.host, e.host_len);
            host[e.host_len] = '\0';
            memcpy(cat, e.category, e.category_len);
            cat[e.category_len] = '\0';
            if (mw_seg_append(&b, e.ts_ns, e.ingest_ns, src, host, cat, e.raw_len ? e.raw : NULL,
                              e.raw_len) != 0)
                abort();
        }
    }
    if (rc == MW_ENOTFOUND) { /* the whole blob decoded */
        if (got != n || mw_seg_decode_at(blob, blen, n, n / 2, &at) != 0 ||
            memcmp(&at, &mid, sizeof at) != 0)
            abort();
        if (reencode && (b.len != blen || memcmp(b.data, blob, blen) != 0))
            abort();
    } else {
        if (rc != MW_EIO || got > n)
            abort();
        memset(&at, 0x5a, sizeof at);
        mid = at;
        if (mw_seg_decode_at(blob, blen, n, 0, &at) != MW_EIO || memcmp(&at, &mid, sizeof at) != 0)
            abort();
    }
    mw_seg_buf_free(&b);
    free((void *)blob);
    return 0;
}
