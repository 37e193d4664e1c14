/* SSH transport handshake parser for the exposure scanner (issue 5).
 *
 * Reads, per direction and incrementally, what the SSH transport layer sends
 * in clear before the first NEWKEYS (RFC 4253):
 *   - the identification string "SSH-protoversion-softwareversion" (RFC 4253,
 *     4.2), with the lines a server MAY send before it (skipped, capped);
 *     "SSH-1.99" is an SSH-2 capable server, "SSH-1.x" an SSH-1 peer (RFC 4253,
 *     5.1);
 *   - binary packets (RFC 4253, 6: uint32 packet_length, byte padding_length,
 *     payload, padding; no MAC before NEWKEYS), each capped at
 *     MW_SSH_MAX_PACKET;
 *   - SSH_MSG_KEXINIT (RFC 4253, 7.1): cookie and ten name-lists (RFC 4251, 5),
 *     of which the kex and host key lists are kept (MW_SSH_MAX_NAMES names
 *     each), first_kex_packet_follows, reserved.
 *
 * Nothing is buffered whole: the KEXINIT is parsed as it streams in, so a
 * direction holds at most its two kept name-lists (bounded by the packet cap)
 * and a 256-byte line. When both KEXINITs are in, the kex and host key
 * algorithms are negotiated as RFC 4253, 7.1 says (the first client algorithm
 * the server also lists), ignoring the pseudo-algorithms ext-info-c/-s (RFC
 * 8308, 2.1) and kex-strict-c/-s-v00@openssh.com. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mwrasp/exposure.h"

#define SSH_LINE_KEEP 256 /* bytes of a line kept (RFC 4253, 4.2: 255 incl. CR LF) */
#define SSH_MAX_LINE 1024 /* a longer line is not SSH */
/* Server lines before the identification string (RFC 4253, 4.2 sets no
 * limit; zeek's server-pre-banner-data.pcap has a 36-line cowsay). */
#define SSH_MAX_PRE_LINES 512
#define SSH_MAX_PRE_BYTES (32 * 1024)
#define SSH_MAX_PACKETS 64 /* packets read before NEWKEYS per direction */
#define SSH_GIVE_UP_PACKET (1u << 20) /* a packet_length this large: not SSH framing */
#define SSH_MSG_KEXINIT 20 /* RFC 4253, 12 */
#define SSH_MSG_NEWKEYS 21

enum {
    ST_LINE = 0, /* identification string (or server pre-banner lines) */
    ST_PKT_HDR, /* packet_length, padding_length, message number */
    ST_SKIP, /* rest of a packet we do not read */
    ST_KEX_COOKIE,
    ST_KEX_LISTLEN,
    ST_KEX_LIST,
    ST_KEX_TAIL, /* first_kex_packet_follows + reserved */
    ST_DONE,
};

/* A kept name-list: names NUL-separated in buf. */
typedef struct ssh_names {
    char *buf;
    size_t len, cap;
    unsigned n;
} ssh_names_t;

typedef struct ssh_dir {
    int st;
    int major; /* 0 none yet, 1 SSH-1 only, 2 SSH-2, 199 SSH-1.99 */
    char line[SSH_LINE_KEEP];
    size_t line_len, line_total;
    unsigned pre_lines;
    size_t pre_bytes;
    uint8_t hdr[6];
    size_t hdr_len;
    unsigned packets;
    uint64_t skip; /* ST_SKIP: bytes left */
    uint32_t pkt_left; /* KEXINIT: bytes of the packet after the message number */
    uint32_t payload_left; /* KEXINIT: payload bytes left */
    unsigned list_idx; /* 0..9 */
    uint8_t lenbuf[5];
    size_t lenbuf_len;
    uint32_t list_left;
    char name[MW_EXPO_MAX_NAME];
    size_t name_len;
    unsigned list_names;
    ssh_names_t cur[2]; /* being read: kex, host key */
    ssh_names_t kex, hostkey; /* committed at the end of a valid KEXINIT */
    int have_kexinit;
    unsigned long malformed;
} ssh_dir_t;

struct mw_ssh_parser {
    ssh_dir_t d[2];
    int negotiated;
};

static void names_free(ssh_names_t *n)
{
    free(n->buf);
    memset(n, 0, sizeof(*n));
}

/* Appends one name (len bytes, no NUL). Bounded by the caller's caps:
 * MW_SSH_MAX_NAMES names of < MW_EXPO_MAX_NAME bytes. */
static int names_add(ssh_names_t *n, const char *s, size_t len)
{
    if (n->len + len + 1 > n->cap) {
        size_t cap = n->cap ? n->cap : 256;
        while (cap < n->len + len + 1)
            cap *= 2;
        char *b = realloc(n->buf, cap);
        if (!b)
            return MW_ENOMEM;
        n->buf = b;
        n->cap = cap;
    }
    memcpy(n->buf + n->len, s, len);
    n->buf[n->len + len] = '\0';
    n->len += len + 1;
    n->n++;
    return 0;
}

int mw_ssh_parser_new(mw_ssh_parser_t **out)
{
    mw_ssh_parser_t *p = calloc(1, sizeof(*p));
    if (!p)
        return MW_ENOMEM;
    *out = p;
    return 0;
}

void mw_ssh_parser_free(mw_ssh_parser_t *p)
{
    if (!p)
        return;
    for (int i = 0; i < 2; i++) {
        names_free(&p->d[i].cur[0]);
        names_free(&p->d[i].cur[1]);
        names_free(&p->d[i].kex);
        names_free(&p->d[i].hostkey);
    }
    free(p);
}

/* Pseudo-algorithms that signal extensions, never a key exchange: RFC 8308,
 * 2.1 (ext-info-c, ext-info-s) and OpenSSH's strict kex (kex-strict-c-v00@
 * openssh.com, kex-strict-s-v00@openssh.com). */
static int kex_pseudo(const char *name)
{
    return strcmp(name, "ext-info-c") == 0 || strcmp(name, "ext-info-s") == 0 ||
           strncmp(name, "kex-strict-", 11) == 0;
}

static int names_has(const ssh_names_t *n, const char *name)
{
    for (size_t off = 0; off < n->len;) {
        const char *s = n->buf + off;
        size_t l = strlen(s);
        if (strcmp(s, name) == 0)
            return 1;
        off += l + 1;
    }
    return 0;
}

/* RFC 4253, 7.1: "the first algorithm on the client's name-list that is also
 * supported by the server". Returns NULL when there is none. */
static const char *negotiate(const ssh_names_t *client, const ssh_names_t *server, int kex)
{
    for (size_t off = 0; off < client->len;) {
        const char *s = client->buf + off;
        off += strlen(s) + 1;
        if (kex && kex_pseudo(s))
            continue;
        if (names_has(server, s))
            return s;
    }
    return NULL;
}

static void set_str(char *dst, size_t cap, const char *src)
{
    size_t l = strlen(src);
    if (l >= cap)
        l = cap - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

/* SSH-1 decides when the server speaks only 1.x or the client speaks 1.x
 * (RFC 4253, 5.1: a 1.99 server also speaks SSH-2). */
static int is_ssh1(const mw_ssh_parser_t *p)
{
    return p->d[0].major == 1 || p->d[1].major == 1;
}

static void update_version(mw_ssh_parser_t *p, mw_expo_session_t *s)
{
    if (is_ssh1(p)) {
        set_str(s->version, sizeof(s->version), "SSH-1");
        /* SSH-1 has no key exchange negotiation: the client sends the
         * session key encrypted with the server's RSA keys. */
        set_str(s->selected_kex, sizeof(s->selected_kex), "ssh1-rsa-session-key");
        s->host_key_alg[0] = '\0';
    } else if (p->d[0].major || p->d[1].major) {
        set_str(s->version, sizeof(s->version), "SSH-2");
    }
}

static void finish_kexinit(mw_ssh_parser_t *p, mw_expo_session_t *s, int dir)
{
    ssh_dir_t *d = &p->d[dir];
    names_free(&d->kex);
    names_free(&d->hostkey);
    d->kex = d->cur[0];
    d->hostkey = d->cur[1];
    memset(&d->cur, 0, sizeof(d->cur));
    d->have_kexinit = 1;
    s->seen |= dir == 0 ? MW_EXPO_SEEN_CLIENT_HELLO : MW_EXPO_SEEN_SERVER_HELLO;
    if (dir == 0) {
        s->client_offered_pq = 0;
        for (size_t off = 0; off < d->kex.len && !s->client_offered_pq;) {
            const char *n = d->kex.buf + off;
            off += strlen(n) + 1;
            mw_expo_class_t c = mw_expo_ssh_kex_class(n);
            if (c == MW_EXPO_PQ_HYBRID || c == MW_EXPO_PQ_ONLY)
                s->client_offered_pq = 1;
        }
    }
    if (p->d[0].have_kexinit && p->d[1].have_kexinit && !is_ssh1(p)) {
        const char *k = negotiate(&p->d[0].kex, &p->d[1].kex, 1);
        const char *h = negotiate(&p->d[0].hostkey, &p->d[1].hostkey, 0);
        set_str(s->selected_kex, sizeof(s->selected_kex), k ? k : "");
        set_str(s->host_key_alg, sizeof(s->host_key_alg), h ? h : "");
        p->negotiated = 1;
    }
}

/* Counts a malformed packet; while the session is still unknown, the
 * reason says what was wrong. */
static void mark_malformed(ssh_dir_t *d, mw_expo_session_t *s, const char *why)
{
    d->malformed++;
    mw_expo_classify(s);
    if (s->cls == MW_EXPO_UNKNOWN) {
        char r[sizeof(s->reason)];
        /* A 1.99 server whose first packet is no SSH-2 packet most likely
         * went on in SSH-1 with a client we did not see. */
        int ssh1_hint = d->major == 199 && d->packets == 0;
        snprintf(r, sizeof(r), "malformed SSH %s data: %s%s", d->major ? "packet" : "banner", why,
                 ssh1_hint ? " (SSH-1 framing after an SSH-1.99 banner?)" : "");
        set_str(s->reason, sizeof(s->reason), r);
    }
}

/* A KEXINIT that breaks a cap or its own lengths is dropped whole; the
 * packet's remaining bytes are skipped. */
static void kexinit_abort(ssh_dir_t *d, mw_expo_session_t *s, const char *why)
{
    names_free(&d->cur[0]);
    names_free(&d->cur[1]);
    d->skip = d->pkt_left;
    d->st = ST_SKIP;
    mark_malformed(d, s, why);
}

/* Keeps printable US-ASCII (RFC 4251, 6: names are printable US-ASCII;
 * RFC 4253, 4.2: the identification string is US-ASCII). */
static void sanitize_copy(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[len] = '\0';
}

/* One complete line of the identification phase (without CR LF). Returns 0
 * on a pre-banner line, 1 when the identification string was read, negative
 * when this is not SSH. RFC 4253, 4.2. */
static int end_line(mw_ssh_parser_t *p, mw_expo_session_t *s, int dir)
{
    ssh_dir_t *d = &p->d[dir];
    size_t n = d->line_len;
    if (n > 0 && d->line[n - 1] == '\r')
        n--;
    if (n < 4 || memcmp(d->line, "SSH-", 4) != 0) {
        if (dir == 0) {
            set_str(s->reason, sizeof(s->reason), "not SSH: no client identification string");
            return MW_EPARSE;
        }
        if (++d->pre_lines > SSH_MAX_PRE_LINES) {
            set_str(s->reason, sizeof(s->reason),
                    "not SSH: too many server lines before the identification string");
            return MW_EPARSE;
        }
        return 0;
    }
    /* protoversion: between "SSH-" and the next '-' (RFC 4253, 4.2). */
    const char *v = d->line + 4;
    size_t vl = 0;
    while (4 + vl < n && v[vl] != '-' && v[vl] != ' ')
        vl++;
    int major;
    if (vl == 4 && memcmp(v, "1.99", 4) == 0)
        major = 199;
    else if (vl >= 1 && v[0] == '2' && (vl == 1 || v[1] == '.'))
        major = 2;
    else if (vl >= 1 && v[0] == '1' && (vl == 1 || v[1] == '.'))
        major = 1;
    else {
        set_str(s->reason, sizeof(s->reason), "not SSH: unknown protocol version");
        return MW_EPARSE;
    }
    if (dir == 0 && major == 199)
        major = 2; /* a client saying 1.99 speaks SSH-2 */
    d->major = major;
    char *banner = dir == 0 ? s->client_banner : s->server_banner;
    sanitize_copy(banner, MW_EXPO_MAX_NAME, d->line, n);
    s->seen |= dir == 0 ? MW_EXPO_SEEN_CLIENT_BANNER : MW_EXPO_SEEN_SERVER_BANNER;
    update_version(p, s);
    mw_expo_classify(s);
    return 1;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* One name of a name-list is complete (RFC 4251, 5: comma-separated, no
 * empty names; we skip empty ones rather than fail). */
static int end_name(ssh_dir_t *d, mw_expo_session_t *s)
{
    if (d->name_len == 0)
        return 0;
    if (++d->list_names > MW_SSH_MAX_NAMES) {
        kexinit_abort(d, s, "KEXINIT name-list longer than MW_SSH_MAX_NAMES");
        return 1;
    }
    if (d->list_idx < 2) {
        char tmp[MW_EXPO_MAX_NAME];
        sanitize_copy(tmp, sizeof(tmp), d->name, d->name_len);
        if (names_add(&d->cur[d->list_idx], tmp, strlen(tmp)) != 0) {
            kexinit_abort(d, s, "out of memory");
            return 1;
        }
    }
    d->name_len = 0;
    return 0;
}

static int feed_dir(mw_ssh_parser_t *p, mw_expo_session_t *s, int dir, const uint8_t *data,
                    size_t len)
{
    ssh_dir_t *d = &p->d[dir];
    size_t i = 0;
    while (i < len) {
        if (d->st == ST_DONE || (d->major && is_ssh1(p)))
            return 1;
        switch (d->st) {
        case ST_LINE: {
            uint8_t c = data[i++];
            if (d->line_len < SSH_LINE_KEEP)
                d->line[d->line_len++] = (char)c;
            d->line_total++;
            if (dir == 1 && d->major == 0)
                d->pre_bytes++;
            /* The client must start with "SSH-" at once. */
            if (dir == 0 && d->line_total <= 4 && c != (uint8_t) "SSH-"[d->line_total - 1]) {
                set_str(s->reason, sizeof(s->reason), "not SSH: no client identification string");
                return MW_EPARSE;
            }
            if (c == '\n') {
                if (d->line_total <= SSH_LINE_KEEP)
                    d->line_len--; /* drop the LF kept above */
                int r = end_line(p, s, dir);
                d->line_len = d->line_total = 0;
                if (r < 0)
                    return r;
                if (r == 1) {
                    if (is_ssh1(p))
                        return 1;
                    d->st = ST_PKT_HDR;
                    d->hdr_len = 0;
                }
            } else if (d->line_total > SSH_MAX_LINE || d->pre_bytes > SSH_MAX_PRE_BYTES) {
                set_str(s->reason, sizeof(s->reason), "not SSH: line too long");
                return MW_EPARSE;
            }
            break;
        }
        case ST_PKT_HDR: {
            d->hdr[d->hdr_len++] = data[i++];
            if (d->hdr_len == 4) {
                uint32_t plen = be32(d->hdr);
                if (plen > MW_SSH_MAX_PACKET) {
                    /* RFC 4253, 6.1: 35000 bytes is what every
                     * implementation must handle; more is skipped. */
                    d->skip = plen;
                    d->st = ST_SKIP;
                    d->hdr_len = 0;
                    mark_malformed(d, s, "packet_length exceeds MW_SSH_MAX_PACKET");
                    if (plen >= SSH_GIVE_UP_PACKET)
                        return MW_ETOOBIG;
                }
            } else if (d->hdr_len == 6) {
                uint32_t plen = be32(d->hdr);
                uint8_t padlen = d->hdr[4];
                d->hdr_len = 0;
                /* RFC 4253, 6: payload length = packet_length -
                 * padding_length - 1; a message number needs >= 1 byte. */
                if (plen < 2 || (uint32_t)padlen + 2 > plen) {
                    set_str(s->reason, sizeof(s->reason),
                            "malformed SSH packet: padding_length exceeds packet_length");
                    d->malformed++;
                    return MW_EPARSE;
                }
                if (++d->packets > SSH_MAX_PACKETS) {
                    d->st = ST_DONE;
                    return 1;
                }
                uint8_t msg = d->hdr[5];
                uint32_t rest = plen - 2;
                if (msg == SSH_MSG_NEWKEYS) {
                    d->st = ST_DONE; /* encrypted from here on */
                    return 1;
                }
                if (msg == SSH_MSG_KEXINIT && !d->have_kexinit) {
                    d->pkt_left = rest;
                    d->payload_left = plen - padlen - 2;
                    d->st = ST_KEX_COOKIE;
                    d->lenbuf_len = 0;
                    d->list_idx = 0;
                } else {
                    d->skip = rest;
                    d->st = ST_SKIP;
                }
            }
            break;
        }
        case ST_SKIP: {
            size_t take = len - i;
            if ((uint64_t)take > d->skip)
                take = (size_t)d->skip;
            i += take;
            d->skip -= take;
            if (d->skip == 0) {
                d->st = ST_PKT_HDR;
                d->hdr_len = 0;
            }
            break;
        }
        case ST_KEX_COOKIE: {
            /* byte[16] cookie (RFC 4253, 7.1). */
            size_t want = 16 - d->lenbuf_len;
            size_t take = len - i < want ? len - i : want;
            if (want > d->payload_left) {
                kexinit_abort(d, s, "KEXINIT shorter than its cookie");
                break;
            }
            i += take;
            d->lenbuf_len += take;
            d->payload_left -= (uint32_t)take;
            d->pkt_left -= (uint32_t)take;
            if (d->lenbuf_len == 16) {
                d->lenbuf_len = 0;
                d->st = ST_KEX_LISTLEN;
            }
            break;
        }
        case ST_KEX_LISTLEN: {
            if (d->payload_left == 0) {
                kexinit_abort(d, s, "KEXINIT truncated in a name-list length");
                break;
            }
            d->lenbuf[d->lenbuf_len++] = data[i++];
            d->payload_left--;
            d->pkt_left--;
            if (d->lenbuf_len == 4) {
                d->lenbuf_len = 0;
                d->list_left = be32(d->lenbuf);
                if (d->list_left > d->payload_left) {
                    kexinit_abort(d, s, "KEXINIT name-list longer than the packet");
                    break;
                }
                d->name_len = 0;
                d->list_names = 0;
                d->st = ST_KEX_LIST; /* an empty list ends in that state */
            }
            break;
        }
        case ST_KEX_LIST: {
            /* A run of name bytes up to the next ',' at a time; bounded by
             * list_left, itself checked against payload_left. */
            while (i < len && d->list_left > 0 && d->st == ST_KEX_LIST) {
                size_t avail = len - i < d->list_left ? len - i : d->list_left;
                const uint8_t *comma = memchr(data + i, ',', avail);
                size_t run = comma ? (size_t)(comma - (data + i)) : avail;
                if (d->name_len + run >= MW_EXPO_MAX_NAME) {
                    kexinit_abort(d, s, "KEXINIT algorithm name too long");
                    break;
                }
                memcpy(d->name + d->name_len, data + i, run);
                d->name_len += run;
                size_t used = run + (comma ? 1 : 0);
                i += used;
                d->list_left -= (uint32_t)used;
                d->payload_left -= (uint32_t)used;
                d->pkt_left -= (uint32_t)used;
                if (comma && end_name(d, s))
                    break;
            }
            if (d->st != ST_KEX_LIST)
                break;
            if (d->list_left == 0) {
                if (end_name(d, s))
                    break;
                if (++d->list_idx == 10) {
                    d->st = ST_KEX_TAIL;
                    d->lenbuf_len = 0;
                } else {
                    d->st = ST_KEX_LISTLEN;
                }
            }
            break;
        }
        case ST_KEX_TAIL: {
            /* boolean first_kex_packet_follows, uint32 0 (reserved). */
            if (d->payload_left == 0) {
                kexinit_abort(d, s, "KEXINIT truncated before first_kex_packet_follows");
                break;
            }
            d->lenbuf[d->lenbuf_len++] = data[i++];
            d->payload_left--;
            d->pkt_left--;
            if (d->lenbuf_len == 5) {
                finish_kexinit(p, s, dir);
                mw_expo_classify(s);
                d->st = ST_DONE;
                return 1;
            }
            break;
        }
        default:
            return 1;
        }
    }
    return d->st == ST_DONE ? 1 : 0;
}

int mw_ssh_parser_feed(mw_ssh_parser_t *p, mw_expo_session_t *s, int dir, const uint8_t *data,
                       size_t len)
{
    if (!p || !s || (dir != 0 && dir != 1) || (!data && len))
        return MW_EINVAL;
    s->proto = MW_EXPO_SSH;
    return feed_dir(p, s, dir, data, len);
}
