/* File replay: one event per line (JSON if the first non-blank byte is '{',
 * else syslog), read with large read()s, submitted with MW_SUBMIT_BLOCK. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"
#include "mwrasp/ingest.h"

#define REPLAY_CHUNK (1u << 20)
#define PROGRESS_EVERY 256 /* lines between clock checks */

struct rp {
    const char *name;
    enum mw_source src;
    size_t max_line;
    mw_sink_t sink;
    struct mw_replay_stats st;
    FILE *errors;
    uint64_t lineno;
};

static void report(struct rp *r, uint64_t lineno, enum mw_reject why, const char *reason)
{
    r->st.lines++;
    r->st.rejected++;
    MW_INC(mw_metrics.events_rejected[r->src][(unsigned)why < MW_REJ__COUNT ? why : 0]);
    if (r->errors)
        fprintf(r->errors, "%s:%" PRIu64 ": %s\n", r->name, lineno, reason);
}

/* One line without its LF. Returns 0, or the sink's error to stop. */
static int line(struct rp *r, const char *s, size_t len, uint64_t lineno)
{
    if (len && s[len - 1] == '\r')
        len--;
    size_t k = 0;
    while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
        k++;
    if (k == len)
        return MW_OK; /* blank */
    if (len > r->max_line) {
        char err[128];
        snprintf(err, sizeof err, "line of %zu bytes exceeds max_line %zu", len, r->max_line);
        report(r, lineno, MW_REJ_TOO_LARGE, err);
        return MW_OK;
    }
    mw_event_t *ev = NULL;
    enum mw_reject why = MW_REJ_PARSE;
    char err[256];
    int rc = mw_ingest_parse_line(s, len, r->src, NULL, &ev, &why, err, sizeof err);
    if (rc < 0) {
        report(r, lineno, why, err);
        return MW_OK;
    }
    rc = r->sink.submit(r->sink.ctx, ev, MW_SUBMIT_BLOCK);
    if (rc < 0) {
        mw_event_free(ev);
        if (r->errors)
            fprintf(r->errors, "%s:%" PRIu64 ": not submitted: %s\n", r->name, lineno,
                    mw_strerror(rc));
        return rc;
    }
    r->st.lines++;
    r->st.accepted++;
    MW_INC(mw_metrics.events_in[r->src]);
    return MW_OK;
}

int mw_replay_file(const char *path, enum mw_source src, size_t max_line, mw_sink_t sink,
                   struct mw_replay_stats *stats, FILE *errors, FILE *progress)
{
    if (!path || !sink.submit || (unsigned)src >= MW_SRC__COUNT)
        return MW_EINVAL;
    struct rp r = {.name = path, .src = src, .sink = sink, .errors = errors};
    r.max_line = max_line ? max_line : MW_EVENT_DEFAULT_MAX_LINE;
    if (r.max_line >= MW_EVENT_MAX_BYTES)
        r.max_line = MW_EVENT_MAX_BYTES - 1;
    int fd = 0, own_fd = 0;
    int rc = MW_OK;
    char *buf = NULL;
    if (strcmp(path, "-") == 0) {
        r.name = "<stdin>";
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errors)
                fprintf(errors, "%s: cannot open: %s\n", path, strerror(errno));
            return MW_EIO;
        }
        own_fd = 1;
    }
    size_t cap = r.max_line + 2 + REPLAY_CHUNK;
    buf = malloc(cap);
    if (!buf) {
        rc = MW_ENOMEM;
        goto out;
    }
    size_t start = 0, end = 0, scanned = 0;
    int skipping = 0; /* inside a line already refused as too long */
    uint64_t lineno = 1; /* number of the line starting at buf[start] */
    uint64_t skip_line = 0; /* its number, while skipping */
    uint64_t last_progress = mw_now_mono_ns();
    uint64_t since_check = 0;
    for (;;) {
        if (start > 0 && start == end) {
            start = end = scanned = 0;
        } else if (start > 0 && cap - end < REPLAY_CHUNK / 2) {
            memmove(buf, buf + start, end - start);
            end -= start;
            start = 0;
        }
        ssize_t n = read(fd, buf + end, cap - end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errors)
                fprintf(errors, "%s: read error: %s\n", r.name, strerror(errno));
            rc = MW_EIO;
            goto out;
        }
        int eof = n == 0;
        end += (size_t)n;
        for (;;) {
            size_t avail = end - start;
            char *b = buf + start;
            size_t from = scanned < avail ? scanned : avail;
            char *nl = memchr(b + from, '\n', avail - from);
            if (skipping) {
                if (!nl) {
                    start = end;
                    scanned = 0;
                    break;
                }
                start += (size_t)(nl - b) + 1;
                scanned = 0;
                skipping = 0;
                lineno = skip_line + 1;
                continue;
            }
            if (!nl) {
                if (avail > r.max_line + 1) { /* +1: the CR of a CRLF */
                    char err[128];
                    snprintf(err, sizeof err, "line longer than max_line %zu", r.max_line);
                    report(&r, lineno, MW_REJ_TOO_LARGE, err);
                    skipping = 1;
                    skip_line = lineno;
                    start = end;
                    scanned = 0;
                    break;
                }
                if (eof && avail) {
                    rc = line(&r, b, avail, lineno);
                    start = end;
                    if (rc < 0)
                        goto out;
                }
                scanned = avail;
                break;
            }
            rc = line(&r, b, (size_t)(nl - b), lineno);
            if (rc < 0)
                goto out;
            start += (size_t)(nl - b) + 1;
            scanned = 0;
            lineno++;
            if (progress && ++since_check >= PROGRESS_EVERY) {
                since_check = 0;
                uint64_t now = mw_now_mono_ns();
                if (now - last_progress >= 1000000000ull) {
                    last_progress = now;
                    fprintf(progress,
                            "replay: %" PRIu64 " lines, %" PRIu64 " accepted, %" PRIu64
                            " rejected\n",
                            r.st.lines, r.st.accepted, r.st.rejected);
                    fflush(progress);
                }
            }
        }
        if (eof)
            break;
    }
    rc = MW_OK;
out:
    if (stats)
        *stats = r.st; /* filled also when stopped early: what was done */
    free(buf);
    if (own_fd)
        close(fd);
    return rc;
}
