/* Classic pcap records read without libpcap's per-record fread
 * (docs/internals/exposure.md, "Captures", "Reading files").
 *
 * Why: libpcap reads a savefile with two freads per record (header, then
 * data copied into its buffer) on a stdio stream; on the shared captures
 * (~500 bytes a packet) stdio's bookkeeping, the kernel copy of read(2) and
 * the second copy were about a quarter of `mwrasp exposure scan`. Here the
 * file is read with pread(2) into a window of up to PF_WINDOW bytes and
 * each packet is handed out in place.
 *
 * libpcap still opens every file and parses the file header (magic,
 * version, link type and its DLT mapping, snapshot length); this reader
 * takes over only for a file whose header is the classic one (Wireshark's
 * pcap file format, draft-ietf-opsawg-pcap section 4: magic 0xA1B2C3D4
 * microseconds or 0xA1B23C4D nanoseconds, either byte order, version 2.4)
 * and only records it can deliver exactly as libpcap 1.10 would: a whole
 * 16-byte record header (section 5: seconds, sub-seconds, captured length,
 * original length) and captured length <= min(snapshot, 262144) bytes all
 * present. At the first record that is anything else (a cut header or
 * body at the end of the file, a captured length over the snapshot,
 * a read error) the stdio stream libpcap owns is positioned at that
 * record and pcap_next_ex reads the rest, so truncated and odd files end
 * with libpcap's own messages and behaviour. pcapng, stdin and pipes never
 * come here. Time stamps are built as libpcap 1.10 builds them (the 32-bit
 * fields sign-extended, or zero-extended in a byte-swapped file;
 * microseconds scaled by 1000 for nanosecond precision).
 * tests/unit/test_ingest_pcapfile.c and fuzz/fuzz_pcapfile.c compare this
 * reader with libpcap alone (mw_pcap_file_fast = 0). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/pcap_int.h"

#define PF_WINDOW (1u << 20) /* bytes read at a time, at most */
#define PF_MAX_CAPLEN 262144u /* libpcap's MAXIMUM_SNAPLEN */

int mw_pcap_file_fast = 1;

struct mw_pcap_fast {
    int fd; /* libpcap's stream's descriptor, read with pread only */
    int swapped; /* record headers in the other byte order */
    int nano; /* sub-second field in nanoseconds */
    uint32_t lim; /* largest captured length delivered here */
    uint8_t *buf;
    size_t cap; /* bytes of buf */
    size_t pos, end; /* unread bytes are buf[pos, end) */
    uint64_t buf_off; /* file offset of buf[0] */
    int eof; /* pread returned 0 */
    int rerr; /* pread failed: libpcap reads from here */
};

static uint32_t u32(const uint8_t *b, int swapped)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

int mw_pcap_fast_probe(const uint8_t hdr[24])
{
    uint32_t magic;
    memcpy(&magic, hdr, 4);
    int swapped;
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
        swapped = 0;
    else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
        swapped = 1;
    else
        return 0; /* pcapng, modified pcap formats, anything else */
    uint16_t maj, min;
    memcpy(&maj, hdr + 4, 2);
    memcpy(&min, hdr + 6, 2);
    if (swapped) {
        maj = __builtin_bswap16(maj);
        min = __builtin_bswap16(min);
    }
    /* 2.4 only: older versions may have caplen and len swapped (libpcap
     * fixes them up), newer ones are not defined */
    return maj == 2 && min == 4;
}

void mw_pcap_fast_open(mw_pcap_t *p, int fd, const uint8_t hdr[24], uint64_t file_size)
{
    if (!mw_pcap_file_fast || !p || !p->pc || fd < 0 || !mw_pcap_fast_probe(hdr))
        return;
    uint32_t magic;
    memcpy(&magic, hdr, 4);
    int swapped = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    if (swapped != (pcap_is_swapped(p->pc) == 1))
        return; /* not what libpcap read: leave it to libpcap */
    int dlt = pcap_datalink(p->pc);
    /* link types whose pseudo-header libpcap rewrites (byte-swapped files:
     * PFLOG 117, LINUX_SLL 113, LINUX_SLL2 276, USB_LINUX 189, NFLOG 239;
     * always: USB_LINUX_MMAPPED 220): libpcap reads those */
    if (dlt == 220 ||
        (swapped && (dlt == 117 || dlt == 113 || dlt == 276 || dlt == 189 || dlt == 239)))
        return;
    int snap = pcap_snapshot(p->pc);
    if (snap <= 0)
        return;
    struct mw_pcap_fast *f = calloc(1, sizeof *f);
    if (!f)
        return;
    f->fd = fd;
    f->swapped = swapped;
    f->nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    f->lim = (uint32_t)snap < PF_MAX_CAPLEN ? (uint32_t)snap : PF_MAX_CAPLEN;
    f->cap = file_size > 24 && file_size - 24 < PF_WINDOW ? (size_t)(file_size - 24) : PF_WINDOW;
    if (f->cap < 4096)
        f->cap = 4096; /* the file may have grown since its size was read */
    f->buf = malloc(f->cap);
    if (!f->buf) {
        free(f);
        return;
    }
    f->buf_off = 24; /* records start after the file header */
    p->fast = f;
}

void mw_pcap_fast_free(mw_pcap_t *p)
{
    if (!p || !p->fast)
        return;
    free(p->fast->buf);
    free(p->fast);
    p->fast = NULL;
}

/* Makes `need` unread bytes available if the file has them. */
static int have(struct mw_pcap_fast *f, size_t need)
{
    if (f->end - f->pos >= need)
        return 1;
    if (f->eof || f->rerr || need > f->cap)
        return 0;
    if (f->pos) { /* keep the unread tail, at the start */
        memmove(f->buf, f->buf + f->pos, f->end - f->pos);
        f->buf_off += f->pos;
        f->end -= f->pos;
        f->pos = 0;
    }
    while (f->end < f->cap) {
        ssize_t r = pread(f->fd, f->buf + f->end, f->cap - f->end, (off_t)(f->buf_off + f->end));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            f->rerr = 1;
            break;
        }
        if (r == 0) {
            f->eof = 1;
            break;
        }
        f->end += (size_t)r;
    }
    return f->end - f->pos >= need;
}

/* libpcap reads the rest of the file, from the record at `pos`. */
static int hand_over(mw_pcap_t *p)
{
    struct mw_pcap_fast *f = p->fast;
    uint64_t off = f->buf_off + f->pos;
    FILE *s = pcap_file(p->pc);
    mw_pcap_fast_free(p);
    if (!s || off > (uint64_t)INT64_MAX || fseeko(s, (off_t)off, SEEK_SET) != 0) {
        snprintf(p->err, sizeof p->err, "cannot seek the capture to offset %llu",
                 (unsigned long long)off);
        return MW_EIO;
    }
    return MW_EAGAIN;
}

int mw_pcap_fast_next(mw_pcap_t *p, struct mw_pcap_rec *rec)
{
    struct mw_pcap_fast *f = p->fast;
    if (!have(f, 16)) {
        if (f->end == f->pos && f->eof && !f->rerr)
            return 0; /* the end of the file, at a record boundary */
        return hand_over(p);
    }
    const uint8_t *h = f->buf + f->pos;
    uint32_t caplen = u32(h + 8, f->swapped);
    if (caplen > f->lim || !have(f, 16 + (size_t)caplen))
        return hand_over(p);
    h = f->buf + f->pos; /* have() may have moved the bytes */
    /* libpcap 1.10: tv_sec and tv_usec from the 32-bit fields, sign-extended
     * in the host's byte order but zero-extended when it swaps them (its
     * SWAPLONG yields an unsigned value); the sub-second value times 1000
     * when the file has microseconds */
    uint32_t s32 = u32(h, f->swapped), f32 = u32(h + 4, f->swapped);
    int64_t sec = f->swapped ? (int64_t)s32 : (int64_t)(int32_t)s32;
    int64_t frac = f->swapped ? (int64_t)f32 : (int64_t)(int32_t)f32;
    if (!f->nano)
        frac *= 1000;
    rec->ts_ns = (uint64_t)sec * 1000000000ull + (uint64_t)frac;
    rec->caplen = caplen;
    rec->len = u32(h + 12, f->swapped);
    rec->data = h + 16;
    f->pos += 16 + (size_t)caplen;
    return 1;
}
