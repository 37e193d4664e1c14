/* A minimal blocking HTTP/1.1 client (RFC 9112 subset) for the CLI: one
 * request per connection, plain http:// only. Everything read from the
 * network is bounded: headers by HDR_MAX, bodies by max_body. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <fcntl.h>

#include "mwrasp/api.h"

#define HDR_MAX (64u * 1024u)
#define DEFAULT_BODY_MAX (64u << 20)
#define URL_HOST_MAX 256
#define URL_PATH_MAX 8192

struct url {
    char host[URL_HOST_MAX];
    char port[8];
    char path[URL_PATH_MAX];
    int bracketed;
};

static int parse_url(const char *u, struct url *out)
{
    const char *p, *h_end;
    size_t hl;

    memset(out, 0, sizeof(*out));
    if (u == NULL || strncasecmp(u, "http://", 7) != 0)
        return MW_EINVAL;
    p = u + 7;
    if (*p == '[') {
        h_end = strchr(p, ']');
        if (h_end == NULL)
            return MW_EINVAL;
        p++;
        hl = (size_t)(h_end - p);
        h_end++;
        out->bracketed = 1;
    } else {
        hl = strcspn(p, ":/?#");
        h_end = p + hl;
    }
    if (hl == 0 || hl >= sizeof(out->host))
        return MW_EINVAL;
    memcpy(out->host, p, hl);
    out->host[hl] = '\0';
    p = h_end;
    if (*p == ':') {
        size_t pl = strspn(p + 1, "0123456789");
        if (pl == 0 || pl > 5)
            return MW_EINVAL;
        long port = strtol(p + 1, NULL, 10);
        if (port < 1 || port > 65535)
            return MW_EINVAL;
        snprintf(out->port, sizeof(out->port), "%ld", port);
        p += 1 + pl;
    } else {
        snprintf(out->port, sizeof(out->port), "80");
    }
    if (*p == '\0') {
        snprintf(out->path, sizeof(out->path), "/");
    } else if (*p == '/' || *p == '?') {
        size_t pl = strcspn(p, "#");
        if (pl + 2 >= sizeof(out->path))
            return MW_EINVAL;
        size_t o = 0;
        if (*p == '?')
            out->path[o++] = '/';
        memcpy(out->path + o, p, pl);
        out->path[o + pl] = '\0';
        for (size_t i = 0; out->path[i]; i++) {
            unsigned char c = (unsigned char)out->path[i];
            if (c <= 0x20 || c == 0x7f)
                return MW_EINVAL; /* no spaces or controls in a request line */
        }
    } else {
        return MW_EINVAL;
    }
    return 0;
}

static int connect_to(const struct url *u, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, rc, last = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            rc = poll(&pfd, 1, timeout_ms);
            if (rc == 1) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                rc = soerr ? -1 : 0;
                errno = soerr;
            } else {
                errno = rc == 0 ? ETIMEDOUT : errno;
                rc = -1;
            }
        }
        if (rc == 0) {
            fcntl(fd, F_SETFL, fl);
            break;
        }
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        const char *why = strerror(last ? last : ECONNREFUSED);
        snprintf(err, errlen, "%s", why);
        /* strerror capitalises: "Connection refused" -> "connection refused" */
        if (err[0] >= 'A' && err[0] <= 'Z')
            err[0] = (char)(err[0] - 'A' + 'a');
        return -1;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Case-insensitive header lookup in hdr[0..len) (after the status line).
 * Copies the trimmed value into val. */
static int find_header(const char *hdr, size_t len, const char *name, char *val, size_t vlen)
{
    size_t nl = strlen(name);
    const char *p = hdr, *end = hdr + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl = ll - nl - 1;
            while (vl > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl >= vlen)
                vl = vlen - 1;
            memcpy(val, v, vl);
            val[vl] = '\0';
            return 1;
        }
        p += ll + 1;
    }
    return 0;
}

/* Decodes a chunked body in place; returns the decoded length or -1. */
static long dechunk(char *b, size_t len)
{
    size_t in = 0, out = 0;

    for (;;) {
        const char *eol = memchr(b + in, '\n', len - in);
        if (eol == NULL)
            return -1;
        char *endp = NULL;
        unsigned long long sz = strtoull(b + in, &endp, 16);
        if (endp == b + in)
            return -1;
        in = (size_t)(eol - b) + 1;
        if (sz == 0)
            return (long)out;
        if (sz > len - in)
            return -1;
        memmove(b + out, b + in, (size_t)sz);
        out += (size_t)sz;
        in += (size_t)sz;
        if (in < len && b[in] == '\r')
            in++;
        if (in < len && b[in] == '\n')
            in++;
    }
}

int mw_http_request(const char *url, const char *method, const char *headers, const char *body,
                    size_t body_len, int timeout_ms, size_t max_body, struct mw_http_response *out,
                    char *err, size_t errlen)
{
    struct url u;
    char *req = NULL, *buf = NULL;
    size_t cap, len = 0, alloc = 65536, hdr_len = 0;
    long long want = -1;
    int fd = -1, rc = MW_EIO, status = 0, chunked = 0;
    char tmp[64];
    struct mw_http_response r;

    memset(&r, 0, sizeof(r));
    if (timeout_ms <= 0)
        timeout_ms = 30000;
    if (max_body == 0)
        max_body = DEFAULT_BODY_MAX;
    cap = max_body + HDR_MAX;
    if (parse_url(url, &u) != 0) {
        snprintf(err, errlen, "invalid URL '%s' (expected http://HOST:PORT)", url ? url : "");
        return MW_EINVAL;
    }
    fd = connect_to(&u, timeout_ms, err, errlen);
    if (fd < 0)
        return MW_EIO;

    int n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: mwrasp/0.1\r\n"
                     "Accept: */*\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n",
                     method, u.path, u.bracketed ? "[" : "", u.host, u.bracketed ? "]" : "", u.port,
                     body_len, headers ? headers : "");
    if (n < 0) {
        req = NULL;
        rc = MW_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (send_all(fd, req, (size_t)n) != 0 || (body_len && send_all(fd, body, body_len) != 0)) {
        /* the server may have answered early (e.g. 413) and closed: try to read it */
        if (errno != EPIPE && errno != ECONNRESET) {
            snprintf(err, errlen, "send failed: %s", strerror(errno));
            goto out;
        }
    }
    buf = malloc(alloc);
    if (buf == NULL) {
        rc = MW_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (;;) {
        if (len + 1 >= alloc) {
            size_t na = alloc * 2 > cap + 1 ? cap + 1 : alloc * 2;
            if (na <= alloc) {
                rc = MW_ETOOBIG;
                snprintf(err, errlen, "response larger than %zu bytes", max_body);
                goto out;
            }
            char *nb = realloc(buf, na);
            if (nb == NULL) {
                rc = MW_ENOMEM;
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            buf = nb;
            alloc = na;
        }
        ssize_t got = recv(fd, buf + len, alloc - 1 - len, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "%s",
                     errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for the answer"
                                                             : strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        buf[len] = '\0';
        if (hdr_len == 0) {
            char *e = strstr(buf, "\r\n\r\n");
            if (e == NULL) {
                if (len > HDR_MAX) {
                    snprintf(err, errlen, "response headers too large");
                    goto out;
                }
                continue;
            }
            hdr_len = (size_t)(e - buf) + 4;
            if (sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 || status > 599) {
                snprintf(err, errlen, "malformed HTTP status line");
                goto out;
            }
            if (find_header(buf, hdr_len, "Transfer-Encoding", tmp, sizeof(tmp)) &&
                strcasestr(tmp, "chunked"))
                chunked = 1;
            else if (find_header(buf, hdr_len, "Content-Length", tmp, sizeof(tmp))) {
                char *endp = NULL;
                want = strtoll(tmp, &endp, 10);
                if (endp == tmp || *endp != '\0' || want < 0) {
                    snprintf(err, errlen, "malformed Content-Length");
                    goto out;
                }
                if ((unsigned long long)want > max_body) {
                    rc = MW_ETOOBIG;
                    snprintf(err, errlen, "response larger than %zu bytes", max_body);
                    goto out;
                }
            }
            if (strcasecmp(method, "HEAD") == 0 || status == 204 || status == 304)
                want = 0;
        }
        if (hdr_len && want >= 0 && len - hdr_len >= (size_t)want)
            break;
    }
    if (hdr_len == 0) {
        snprintf(err, errlen, "connection closed before a complete answer");
        goto out;
    }
    size_t blen = len - hdr_len;
    if (want >= 0) {
        if (blen < (size_t)want) {
            snprintf(err, errlen, "answer truncated");
            goto out;
        }
        blen = (size_t)want;
    } else if (chunked) {
        long d = dechunk(buf + hdr_len, blen);
        if (d < 0) {
            snprintf(err, errlen, "malformed chunked answer");
            goto out;
        }
        blen = (size_t)d;
    }
    if (blen > max_body) {
        rc = MW_ETOOBIG;
        snprintf(err, errlen, "response larger than %zu bytes", max_body);
        goto out;
    }
    r.body = malloc(blen + 1);
    if (r.body == NULL) {
        rc = MW_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(r.body, buf + hdr_len, blen);
    r.body[blen] = '\0';
    r.body_len = blen;
    r.status = status;
    if (!find_header(buf, hdr_len, "Content-Type", r.content_type, sizeof(r.content_type)))
        r.content_type[0] = '\0';
    *out = r;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(req);
    free(buf);
    return rc;
}

void mw_http_response_clear(struct mw_http_response *r)
{
    if (r == NULL)
        return;
    free(r->body);
    memset(r, 0, sizeof(*r));
}
