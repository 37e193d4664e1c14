/* The WebSocket stream GET /api/v1/stream (RFC 6455) on civetweb's
 * WebSocket handlers: threats as they are committed, metrics once per second,
 * heartbeats; per-client subscriptions with filters. docs/api.md section
 * "WebSocket stream" is the client's view, docs/internals/api.md the design.
 *
 * Threads. civetweb keeps one of its worker threads per connection for its
 * read loop; it calls ws_data() there. Every client also has a sender
 * thread of its own (64 KiB stack) that drains the client's bounded queue
 * into mg_websocket_write(): a client that does not read blocks only its own
 * sender. Publishers (the engine's writer thread through the threat hook,
 * the tick thread for metrics) only append to queues under the client's
 * mutex and never wait for a socket: a full queue drops the client (close
 * 1008). The hub's rwlock guards the client list: publishers read-lock it,
 * connect/close write-lock it.
 *
 * Life of a client: ws_connect() (civetweb worker, before the handshake)
 * checks capacity and the Authorization / X-API-Key headers and allocates
 * the client; ws_ready() starts its sender and sends "hello"; ws_data()
 * handles frames; ws_close() (civetweb, once the read loop is over) unlinks
 * it, stops and joins the sender (so the sender never touches the
 * connection after civetweb frees it) and frees it. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <civetweb.h>

#include "api/api_int.h"
#include "mwrasp/detect.h"
#include "mwrasp/log.h"
#include "mwrasp/metrics.h"

#define MOD "api"
#define WS_PATH "/api/v1/stream"
#define WS_SENDER_STACK (256u << 10)
#define WS_QUEUE_BYTES_MAX (8u << 20) /* bytes queued for one client, whatever api.ws_queue */
#define WS_MAX_TYPES 16 /* filter.type entries */
#define WS_MAX_HOSTS 64 /* filter.host entries */
#define WS_MAX_BAD 16 /* bad messages tolerated before close 1008 */
#define WS_SEND_BATCH (64u << 10) /* bytes of frames the sender writes at once */
#define WS_SEND_MSGS 256 /* messages the sender writes at once */
/* After our close frame, the time a client has to answer with its own
 * before its TCP connection is shut down (RFC 6455 section 7.1.1); and the
 * time after the decision to close when the frame could not even be written
 * (a client that does not read). */
#define WS_CLOSE_GRACE_NS 5000000000ULL
#define WS_UNSENT_GRACE_NS 15000000000ULL
#define WS_TOPIC_THREATS 1u
#define WS_TOPIC_RESPONSES 2u
#define WS_TOPIC_AGENTS 4u
#define WS_TOPIC_METRICS 8u

/* RFC 6455 section 7.4.1 close codes (1013: IANA registry) */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_BAD_DATA 1007
#define WS_CLOSE_POLICY 1008
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_INTERNAL 1011

static const char *const topic_names[] = {"threats", "responses", "agents", "metrics"};

/* One message, shared by every client it is queued for: a whole server
 * text frame (RFC 6455 section 5.2, unmasked, FIN set), so that the sender
 * writes it as it is, several at a time. */
struct ws_msg {
    _Atomic int ref;
    size_t len; /* frame bytes (header + payload) */
    char data[];
};

struct ws_client {
    struct mw_api_ws *hub;
    struct mg_connection *conn; /* valid until ws_close() returns */
    char peer[64];
    char raddr[48]; /* remote address and port, local port: to find the socket */
    int rport, lport;
    uint64_t closing_ns; /* when the close was decided (mono) */
    uint64_t close_sent_ns; /* when our close frame was written (0: not yet) */
    int shut; /* the socket has been shut down */
    int shut_now; /* to shut down in this pass (reap) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* queue (mu) */
    struct ws_msg **q;
    uint32_t qcap, qhead, qlen;
    size_t qbytes;
    /* state (mu) */
    int ready, authed, gone;
    int closing; /* a close was decided: nothing more is queued or sent but the close */
    int close_sent;
    uint16_t close_code;
    char close_reason[64];
    uint64_t opened_ns, ping_sent_ns, last_ping_ns;
    int ping_outstanding;
    int kick; /* messages queued without a wake-up (wake_marked) */
    char *sendbuf; /* sender: frames copied together for one write */
    /* subscription (mu) */
    uint32_t topics;
    uint32_t sev_mask; /* bit s set: severity s passes; 0 = all */
    char (*types)[MW_TYPE_MAX];
    int ntypes;
    char (*hosts)[MW_EVENT_HOST_MAX + 1];
    int nhosts;
    /* civetweb worker thread only */
    char *frag;
    size_t frag_len;
    int frag_op; /* opcode of the message being reassembled, 0 = none */
    int bad;
    /* sender */
    pthread_t sender;
    int sender_started;
    struct ws_client *prev, *next; /* hub list (hub->lock) */
};

enum ws_counter {
    C_CONNECTIONS, /* upgrades accepted */
    C_REFUSED_AUTH, /* 401/403 at the upgrade, or a failed auth message */
    C_REFUSED_FULL, /* 503: api.ws_max_clients reached */
    C_MSGS, /* messages written */
    C_BYTES,
    C_DROPPED_SLOW, /* clients closed 1008 because their queue was full */
    C_MSGS_DISCARDED, /* messages freed unsent with a dropped client */
    C_FRAME_TOO_BIG, /* close 1009 */
    C_FRAME_BINARY, /* close 1003 */
    C_FRAME_UTF8, /* close 1007 */
    C_BAD_MESSAGE, /* error message answered */
    C_PONG_TIMEOUT, /* close 1008 */
    C_AUTH_TIMEOUT, /* close 1008 */
    C__COUNT
};

struct mw_api_ws {
    struct mg_context *ctx;
    pthread_rwlock_t lock;
    struct ws_client *head;
    unsigned nclients; /* in the list (lock) */
    _Atomic unsigned reserved; /* slots taken, handshakes included */
    _Atomic unsigned want_threats, want_metrics; /* clients subscribed to these topics */
    struct mw_api_ws_opts o;
    _Atomic uint64_t c[C__COUNT];
    _Atomic uint64_t sev_created[6]; /* threats created by severity 1..5 */
    mw_detect_engine_t *engine;
    /* tick thread (metrics once per second) */
    pthread_t tick;
    int tick_started;
    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    int stop;
    uint64_t prev_in, prev_stored, prev_new, prev_lat[MW_LAT_BUCKETS], prev_lat_sum, prev_lat_count,
        prev_ns;
};

#define CNT(h, k) atomic_fetch_add_explicit(&(h)->c[k], 1, memory_order_relaxed)

/* ---- messages ----------------------------------------------------------- */

static struct ws_msg *msg_from_json(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(j);
    if (!text)
        return NULL;
    size_t n = strlen(text), h = n < 126 ? 2 : n < 65536 ? 4 : 10;
    struct ws_msg *m = malloc(sizeof *m + h + n);
    if (m) {
        unsigned char *f = (unsigned char *)m->data;
        atomic_init(&m->ref, 1);
        m->len = h + n;
        f[0] = 0x80 | MG_WEBSOCKET_OPCODE_TEXT;
        if (h == 2) {
            f[1] = (unsigned char)n;
        } else if (h == 4) {
            f[1] = 126;
            f[2] = (unsigned char)(n >> 8);
            f[3] = (unsigned char)n;
        } else {
            f[1] = 127;
            for (int i = 0; i < 8; i++)
                f[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        }
        memcpy(f + h, text, n);
    }
    free(text);
    return m;
}

static void msg_put(struct ws_msg *m)
{
    if (m && atomic_fetch_sub(&m->ref, 1) == 1)
        free(m);
}

/* ---- the queue (c->mu held) --------------------------------------------- */

static void queue_clear(struct ws_client *c)
{
    uint64_t n = c->qlen;
    while (c->qlen) {
        msg_put(c->q[c->qhead]);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    c->qbytes = 0;
    if (n)
        atomic_fetch_add(&c->hub->c[C_MSGS_DISCARDED], n);
}

/* Decides to close c with code/reason (first decision wins); the sender
 * sends the close frame. */
static void close_locked(struct ws_client *c, uint16_t code, const char *reason)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->closing_ns = mw_now_mono_ns();
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    queue_clear(c);
    pthread_cond_signal(&c->cv);
}

/* Queues m for c (a reference is taken) or, when the queue is full, drops
 * the client. Never blocks on the socket. With wake 0 the sender is not
 * signalled now but marked (c->kick) for wake_marked(). */
static void enqueue_locked(struct ws_client *c, struct ws_msg *m, int wake)
{
    if (c->closing || c->gone)
        return;
    if (c->qlen == c->qcap || c->qbytes + m->len > WS_QUEUE_BYTES_MAX) {
        CNT(c->hub, C_DROPPED_SLOW);
        mw_warn(MOD, "stream client %s dropped: its queue of %u messages is full (slow reader)",
                c->peer, c->qcap);
        close_locked(c, WS_CLOSE_POLICY, "slow consumer: send queue full");
        return;
    }
    atomic_fetch_add(&m->ref, 1);
    c->q[(c->qhead + c->qlen) % c->qcap] = m;
    c->qlen++;
    c->qbytes += m->len;
    if (c->qlen == 1 || (!wake && c->qlen == c->qcap / 2)) {
        /* deferred, but not beyond half the queue: a batch larger than the
         * queue must not drop a client that reads */
        if (wake || c->qlen > 1)
            pthread_cond_signal(&c->cv);
        else
            c->kick = 1;
    }
}

/* Sends one message to c alone (replies); m is consumed. */
static void reply(struct ws_client *c, json_t *j)
{
    struct ws_msg *m = msg_from_json(j);
    if (!m)
        return;
    pthread_mutex_lock(&c->mu);
    enqueue_locked(c, m, 1);
    pthread_mutex_unlock(&c->mu);
    msg_put(m);
}

static void reply_error(struct ws_client *c, const char *code, const char *msg)
{
    json_t *j = json_pack("{s:s,s:o}", "type", "error", "error", mw_api_error_json(code, msg));
    json_t *e = j ? json_object_get(j, "error") : NULL;
    /* mw_api_error_json gives {"error": {...}}: keep the inner object */
    if (e && json_object_get(e, "error"))
        json_object_set(j, "error", json_object_get(e, "error"));
    reply(c, j);
}

/* ---- the sender thread -------------------------------------------------- */

/* Writes our close frame; 1 if it was written whole. */
static int send_close(struct ws_client *c, uint16_t code, const char *reason)
{
    char buf[2 + 64];
    size_t rl = strnlen(reason, sizeof buf - 2 - 1);
    buf[0] = (char)(code >> 8);
    buf[1] = (char)(code & 0xff);
    memcpy(buf + 2, reason, rl);
    return mg_websocket_write(c->conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, buf, 2 + rl) > 0;
}

static void deadline_after(struct timespec *ts, uint64_t mono_ns)
{
    /* cv uses CLOCK_MONOTONIC */
    ts->tv_sec = (time_t)(mono_ns / 1000000000ULL);
    ts->tv_nsec = (long)(mono_ns % 1000000000ULL);
}

static void *sender_main(void *arg)
{
    struct ws_client *c = arg;
    struct mw_api_ws *h = c->hub;
    uint64_t ping_iv = (uint64_t)h->o.ping_interval_ns, pong_to = (uint64_t)h->o.pong_timeout_ns;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (c->gone)
            break;
        uint64_t now = mw_now_mono_ns();
        if (!c->closing && !c->authed && now >= c->opened_ns + (uint64_t)h->o.auth_timeout_ns) {
            CNT(h, C_AUTH_TIMEOUT);
            close_locked(c, WS_CLOSE_POLICY, "authentication timeout");
        }
        if (!c->closing && c->ping_outstanding && now >= c->ping_sent_ns + pong_to) {
            CNT(h, C_PONG_TIMEOUT);
            mw_info(MOD, "stream client %s closed: no pong within the timeout", c->peer);
            close_locked(c, WS_CLOSE_POLICY, "no pong");
        }
        if (c->closing) {
            if (!c->close_sent) {
                uint16_t code = c->close_code;
                char reason[64];
                memcpy(reason, c->close_reason, sizeof reason);
                c->close_sent = 1;
                pthread_mutex_unlock(&c->mu);
                int ok = send_close(c, code, reason);
                pthread_mutex_lock(&c->mu);
                if (ok)
                    c->close_sent_ns = mw_now_mono_ns();
                continue;
            }
            pthread_cond_wait(&c->cv, &c->mu); /* until ws_close() */
            continue;
        }
        if (c->qlen) {
            /* take what is queued (up to WS_SEND_BATCH bytes, at least one
             * message) and write it in one go under the connection lock */
            struct ws_msg *batch[WS_SEND_MSGS];
            size_t nb = 0, total = 0;
            while (c->qlen && nb < WS_SEND_MSGS &&
                   (nb == 0 || total + c->q[c->qhead]->len <= WS_SEND_BATCH)) {
                struct ws_msg *m = c->q[c->qhead];
                c->qhead = (c->qhead + 1) % c->qcap;
                c->qlen--;
                c->qbytes -= m->len;
                total += m->len;
                batch[nb++] = m;
            }
            pthread_mutex_unlock(&c->mu);
            if (nb > 1 && !c->sendbuf)
                c->sendbuf = malloc(WS_SEND_BATCH);
            int rc;
            mg_lock_connection(c->conn);
            if (nb > 1 && c->sendbuf) {
                size_t off = 0;
                for (size_t i = 0; i < nb; i++) {
                    memcpy(c->sendbuf + off, batch[i]->data, batch[i]->len);
                    off += batch[i]->len;
                }
                rc = mg_write(c->conn, c->sendbuf, total) == (int)total;
            } else {
                rc = 1;
                for (size_t i = 0; i < nb && rc; i++)
                    rc = mg_write(c->conn, batch[i]->data, batch[i]->len) == (int)batch[i]->len;
            }
            mg_unlock_connection(c->conn);
            if (rc > 0) {
                atomic_fetch_add_explicit(&h->c[C_MSGS], nb, memory_order_relaxed);
                atomic_fetch_add_explicit(&h->c[C_BYTES], total, memory_order_relaxed);
            }
            for (size_t i = 0; i < nb; i++)
                msg_put(batch[i]);
            pthread_mutex_lock(&c->mu);
            if (rc <= 0 && !c->closing) {
                /* the socket is broken: nothing more can be sent */
                queue_clear(c);
                c->closing = c->close_sent = 1;
            }
            continue;
        }
        if (c->ready && now >= c->last_ping_ns + ping_iv) {
            c->last_ping_ns = now;
            if (!c->ping_outstanding) {
                c->ping_outstanding = 1;
                c->ping_sent_ns = now;
            }
            pthread_mutex_unlock(&c->mu);
            mg_websocket_write(c->conn, MG_WEBSOCKET_OPCODE_PING, "mwrasp", 6);
            pthread_mutex_lock(&c->mu);
            continue;
        }
        /* sleep until the next ping, pong or auth deadline, or a signal */
        uint64_t next = c->last_ping_ns + ping_iv;
        if (c->ping_outstanding && c->ping_sent_ns + pong_to < next)
            next = c->ping_sent_ns + pong_to;
        if (!c->authed && c->opened_ns + (uint64_t)h->o.auth_timeout_ns < next)
            next = c->opened_ns + (uint64_t)h->o.auth_timeout_ns;
        struct timespec ts;
        deadline_after(&ts, next);
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- subscriptions ------------------------------------------------------ */

static int threat_passes(const struct ws_client *c, const mw_threat_t *t)
{
    if (!(c->topics & WS_TOPIC_THREATS) || !c->authed)
        return 0;
    if (c->sev_mask && (t->severity < 1 || t->severity > 5 || !(c->sev_mask & (1u << t->severity))))
        return 0;
    if (c->ntypes) {
        int ok = 0;
        for (int i = 0; i < c->ntypes && !ok; i++)
            ok = strcmp(c->types[i], t->type) == 0;
        if (!ok)
            return 0;
    }
    if (c->nhosts) {
        int ok = 0;
        for (int i = 0; i < c->nhosts && !ok; i++)
            ok = strcasecmp(c->hosts[i], t->host) == 0;
        if (!ok)
            return 0;
    }
    return 1;
}

/* Reads a filter list of strings into a new array of n entries of cap
 * bytes. 0, or -1 with err set. */
static int string_list(json_t *arr, const char *name, int max, size_t cap, void **out, int *n,
                       char *err, size_t errlen)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > (size_t)max) {
        snprintf(err, errlen, "filter.%s must be an array of 1..%d strings", name, max);
        return -1;
    }
    size_t k = json_array_size(arr);
    char *buf = calloc(k, cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        json_t *s = json_array_get(arr, i);
        size_t l = json_is_string(s) ? json_string_length(s) : 0;
        if (l == 0 || l >= cap || memchr(json_string_value(s), '\0', l)) {
            snprintf(err, errlen, "filter.%s[%zu] must be a string of 1..%zu bytes", name, i,
                     cap - 1);
            free(buf);
            return -1;
        }
        memcpy(buf + i * cap, json_string_value(s), l + 1);
    }
    *out = buf;
    *n = (int)k;
    return 0;
}

static void count_topics(struct mw_api_ws *h, uint32_t old, uint32_t now)
{
    if ((old ^ now) & WS_TOPIC_THREATS)
        atomic_fetch_add(&h->want_threats, (now & WS_TOPIC_THREATS) ? 1u : (unsigned)-1);
    if ((old ^ now) & WS_TOPIC_METRICS)
        atomic_fetch_add(&h->want_metrics, (now & WS_TOPIC_METRICS) ? 1u : (unsigned)-1);
}

/* {"type":"subscribe","topics":[...],"filter":{...}}: validated as a whole
 * before anything changes. 0, or -1 with err set. */
static int handle_subscribe(struct ws_client *c, json_t *root, char *err, size_t errlen)
{
    uint32_t topics = 0, sev = 0;
    void *types = NULL, *hosts = NULL;
    int ntypes = 0, nhosts = 0;
    const char *k;
    json_t *v;

    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "type") && strcmp(k, "topics") && strcmp(k, "filter")) {
            snprintf(err, errlen, "unknown field '%.32s' (type, topics, filter)", k);
            goto fail;
        }
    }
    json_t *tl = json_object_get(root, "topics");
    if (!json_is_array(tl) || json_array_size(tl) == 0 || json_array_size(tl) > 4) {
        snprintf(err, errlen,
                 "topics must be an array of 1..4 of: threats, responses, agents, "
                 "metrics");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(tl); i++) {
        const char *name = json_string_value(json_array_get(tl, i));
        uint32_t bit = 0;
        for (unsigned b = 0; name && b < 4; b++)
            if (strcmp(name, topic_names[b]) == 0)
                bit = 1u << b;
        if (!bit) {
            snprintf(err, errlen,
                     "topics[%zu]: unknown topic (threats, responses, agents, metrics)", i);
            goto fail;
        }
        if (topics & bit) {
            snprintf(err, errlen, "topics[%zu]: '%s' given twice", i, name);
            goto fail;
        }
        topics |= bit;
    }
    json_t *f = json_object_get(root, "filter");
    if (f && !json_is_object(f)) {
        snprintf(err, errlen, "filter must be an object (severity, type, host)");
        goto fail;
    }
    json_object_foreach(f, k, v)
    {
        if (strcmp(k, "severity") == 0) {
            if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 5) {
                snprintf(err, errlen, "filter.severity must be an array of 1..5 integers 1..5");
                goto fail;
            }
            for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *s = json_array_get(v, i);
                json_int_t x = json_is_integer(s) ? json_integer_value(s) : 0;
                if (x < 1 || x > 5) {
                    snprintf(err, errlen,
                             "filter.severity[%zu] must be an integer 1 (critical) .. 5 (info)", i);
                    goto fail;
                }
                sev |= 1u << x;
            }
        } else if (strcmp(k, "type") == 0) {
            if (string_list(v, "type", WS_MAX_TYPES, MW_TYPE_MAX, &types, &ntypes, err, errlen))
                goto fail;
        } else if (strcmp(k, "host") == 0) {
            if (string_list(v, "host", WS_MAX_HOSTS, MW_EVENT_HOST_MAX + 1, &hosts, &nhosts, err,
                            errlen))
                goto fail;
        } else {
            snprintf(err, errlen, "unknown filter '%.32s' (severity, type, host)", k);
            goto fail;
        }
    }
    pthread_mutex_lock(&c->mu);
    count_topics(c->hub, c->topics, topics);
    c->topics = topics;
    c->sev_mask = sev;
    free(c->types);
    free(c->hosts);
    c->types = types;
    c->ntypes = ntypes;
    c->hosts = hosts;
    c->nhosts = nhosts;
    pthread_mutex_unlock(&c->mu);
    json_t *ack = json_pack("{s:s,s:[]}", "type", "subscribed", "topics");
    if (ack) {
        for (unsigned b = 0; b < 4; b++)
            if (topics & (1u << b))
                json_array_append_new(json_object_get(ack, "topics"), json_string(topic_names[b]));
        json_object_set(ack, "filter", f ? f : json_object_get(ack, "nope"));
        if (!f)
            json_object_set_new(ack, "filter", json_object());
    }
    reply(c, ack);
    return 0;
fail:
    free(types);
    free(hosts);
    return -1;
}

/* ---- civetweb handlers -------------------------------------------------- */

static void client_free(struct ws_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    queue_clear(c);
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->q);
    free(c->types);
    free(c->hosts);
    free(c->frag);
    free(c->sendbuf);
    free(c);
}

/* Answers the upgrade request with an HTTP error (before the handshake). */
static void refuse(const struct mg_connection *cconn, int status, const char *code, const char *msg)
{
    struct mg_connection *conn = (struct mg_connection *)cconn;
    json_t *j = mw_api_error_json(code, msg);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (status >= 500)
        MW_INC(mw_metrics.api_errors_5xx);
    else
        MW_INC(mw_metrics.api_errors_4xx);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n%s",
              status,
              status == 401   ? "Unauthorized"
              : status == 403 ? "Forbidden"
                              : "Service Unavailable",
              text ? strlen(text) : 0,
              status == 401   ? "WWW-Authenticate: Bearer realm=\"mwrasp\"\r\n"
              : status == 503 ? "Retry-After: 5\r\n"
                              : "",
              text ? text : "");
    free(text);
}

static int ws_connect(const struct mg_connection *conn, void *cbdata)
{
    struct mw_api_ws *h = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct ws_client *c = NULL;
    int authed = 0;

    MW_INC(mw_metrics.api_requests);
    const char *authz = mg_get_header(conn, "Authorization");
    const char *xkey = mg_get_header(conn, "X-API-Key");
    if (h->o.auth == NULL) {
        authed = 1;
    } else if (authz || xkey) {
        char why[96] = "";
        int rc = h->o.auth(h->o.auth_ctx, authz, xkey, ri->remote_addr, why, sizeof why);
        if (rc != 0) {
            CNT(h, C_REFUSED_AUTH);
            refuse(conn, rc == 403 ? 403 : 401, rc == 403 ? "forbidden" : "unauthorized",
                   why[0] ? why : "invalid credentials");
            return 1;
        }
        authed = 1;
    }
    if (atomic_fetch_add(&h->reserved, 1) >= h->o.max_clients) {
        atomic_fetch_sub(&h->reserved, 1);
        CNT(h, C_REFUSED_FULL);
        refuse(conn, 503, "too_many_clients",
               "the stream has api.ws_max_clients clients already; try again later");
        return 1;
    }
    c = calloc(1, sizeof *c);
    if (c)
        c->q = calloc(h->o.queue, sizeof *c->q);
    if (!c || !c->q) {
        if (c)
            free(c);
        atomic_fetch_sub(&h->reserved, 1);
        refuse(conn, 503, "unavailable", "out of memory");
        return 1;
    }
    c->hub = h;
    c->conn = (struct mg_connection *)conn;
    c->qcap = h->o.queue;
    c->authed = authed;
    c->opened_ns = c->last_ping_ns = mw_now_mono_ns();
    snprintf(c->peer, sizeof c->peer, "%s:%d", ri->remote_addr, ri->remote_port);
    snprintf(c->raddr, sizeof c->raddr, "%s", ri->remote_addr);
    c->rport = ri->remote_port;
    c->lport = ri->server_port;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    mg_set_user_connection_data(conn, c);
    return 0;
}

static void ws_ready(struct mg_connection *conn, void *cbdata)
{
    struct mw_api_ws *h = cbdata;
    struct ws_client *c = mg_get_user_connection_data(conn);
    pthread_attr_t at;

    if (!c)
        return;
    pthread_rwlock_wrlock(&h->lock);
    c->next = h->head;
    if (h->head)
        h->head->prev = c;
    h->head = c;
    h->nclients++;
    pthread_rwlock_unlock(&h->lock);
    CNT(h, C_CONNECTIONS);

    pthread_mutex_lock(&c->mu);
    c->ready = 1;
    pthread_mutex_unlock(&c->mu);
    reply(c, json_pack("{s:s,s:i,s:b,s:[ssss],s:f,s:I}", "type", "hello", "version", 1,
                       "authenticated", c->authed, "topics", topic_names[0], topic_names[1],
                       topic_names[2], topic_names[3], "ping_interval_s",
                       (double)h->o.ping_interval_ns / 1e9, "max_message",
                       (json_int_t)h->o.max_frame));
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, WS_SENDER_STACK);
    if (pthread_create(&c->sender, &at, sender_main, c) == 0) {
        c->sender_started = 1;
    } else {
        mw_error(MOD, "stream: cannot start a sender thread; closing %s", c->peer);
        pthread_mutex_lock(&c->mu);
        c->closing = c->close_sent = 1;
        pthread_mutex_unlock(&c->mu);
        send_close(c, WS_CLOSE_INTERNAL, "no sender thread");
    }
    pthread_attr_destroy(&at);
}

/* Closes from the worker thread (bad input): the close frame goes out now,
 * the sender stops, and returning 0 from ws_data ends civetweb's read loop. */
static int close_now(struct ws_client *c, uint16_t code, const char *reason)
{
    pthread_mutex_lock(&c->mu);
    int send = !c->close_sent;
    if (!c->closing)
        close_locked(c, code, reason);
    c->close_sent = 1;
    code = c->close_code;
    char r[64];
    memcpy(r, c->close_reason, sizeof r);
    pthread_mutex_unlock(&c->mu);
    if (send && send_close(c, code, r)) {
        pthread_mutex_lock(&c->mu);
        c->close_sent_ns = mw_now_mono_ns();
        pthread_mutex_unlock(&c->mu);
    }
    return 0;
}

static int bad_message(struct ws_client *c, const char *code, const char *msg)
{
    CNT(c->hub, C_BAD_MESSAGE);
    if (++c->bad > WS_MAX_BAD)
        return close_now(c, WS_CLOSE_POLICY, "too many bad messages");
    reply_error(c, code, msg);
    return 1;
}

static int handle_auth(struct ws_client *c, json_t *root)
{
    struct mw_api_ws *h = c->hub;
    json_t *k = json_object_get(root, "key");
    const char *key = json_string_value(k);
    char why[96] = "";
    const char *kk;
    json_t *v;

    json_object_foreach(root, kk, v)
    {
        if (strcmp(kk, "type") && strcmp(kk, "key")) {
            CNT(h, C_REFUSED_AUTH);
            return close_now(c, WS_CLOSE_POLICY, "bad auth message");
        }
    }
    if (!key || json_string_length(k) == 0 || json_string_length(k) > MW_JWT_MAX) {
        CNT(h, C_REFUSED_AUTH);
        return close_now(c, WS_CLOSE_POLICY, "bad auth message");
    }
    /* "Bearer <key or JWT>", as the Authorization header */
    size_t kl = json_string_length(k);
    char *hdr = malloc(kl + 8);
    if (!hdr)
        return close_now(c, WS_CLOSE_INTERNAL, "out of memory");
    memcpy(hdr, "Bearer ", 7);
    memcpy(hdr + 7, key, kl + 1);
    int rc = h->o.auth ? h->o.auth(h->o.auth_ctx, hdr, NULL, c->peer, why, sizeof why) : 0;
    free(hdr);
    if (rc != 0) {
        CNT(h, C_REFUSED_AUTH);
        return close_now(c, WS_CLOSE_POLICY,
                         rc == 403 ? "forbidden: role too low" : "authentication failed");
    }
    pthread_mutex_lock(&c->mu);
    c->authed = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    reply(c, json_pack("{s:s}", "type", "authenticated"));
    return 1;
}

/* One complete text message. Returns 1 to keep the connection. */
static int handle_message(struct ws_client *c, const char *data, size_t len)
{
    json_error_t je;
    char err[160];

    if (mw_utf8_valid(data, len) != 1) {
        CNT(c->hub, C_FRAME_UTF8);
        return close_now(c, WS_CLOSE_BAD_DATA, "text message is not UTF-8");
    }
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        if (!c->authed) {
            CNT(c->hub, C_REFUSED_AUTH);
            return close_now(c, WS_CLOSE_POLICY, "authenticate first");
        }
        return bad_message(c, "bad_message", "a message is one JSON object with a \"type\"");
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    int keep = 1;
    if (type && strcmp(type, "auth") == 0) {
        if (c->authed)
            keep = bad_message(c, "bad_message", "already authenticated");
        else
            keep = handle_auth(c, root);
    } else if (!c->authed) {
        CNT(c->hub, C_REFUSED_AUTH);
        keep = close_now(c, WS_CLOSE_POLICY, "authenticate first");
    } else if (type && strcmp(type, "subscribe") == 0) {
        if (handle_subscribe(c, root, err, sizeof err) != 0)
            keep = bad_message(c, "bad_subscription", err);
    } else if (type && strcmp(type, "unsubscribe") == 0 && json_object_size(root) == 1) {
        pthread_mutex_lock(&c->mu);
        count_topics(c->hub, c->topics, 0);
        c->topics = 0;
        pthread_mutex_unlock(&c->mu);
        reply(c, json_pack("{s:s,s:[]}", "type", "subscribed", "topics"));
    } else if (type && strcmp(type, "ping") == 0) {
        reply(c, json_pack("{s:s,s:I}", "type", "pong", "ts_ns", (json_int_t)mw_now_realtime_ns()));
    } else {
        keep = bad_message(c, "bad_message",
                           "unknown message type (auth, subscribe, unsubscribe, "
                           "ping)");
    }
    json_decref(root);
    return keep;
}

static int ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    struct mw_api_ws *h = cbdata;
    struct ws_client *c = mg_get_user_connection_data(conn);
    int op = bits & 0x0f, fin = (bits & 0x80) != 0;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    int closing = c->closing;
    if (op == MG_WEBSOCKET_OPCODE_PONG)
        c->ping_outstanding = 0;
    pthread_mutex_unlock(&c->mu);
    if (op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (closing)
        return 0; /* anything after our close frame ends the connection */
    if (op == MG_WEBSOCKET_OPCODE_PONG || op == MG_WEBSOCKET_OPCODE_PING)
        return 1; /* civetweb answers pings itself */
    if (op == MG_WEBSOCKET_OPCODE_TEXT || op == MG_WEBSOCKET_OPCODE_BINARY) {
        if (c->frag_op) {
            CNT(h, C_BAD_MESSAGE);
            return close_now(c, 1002, "new message inside a fragmented one");
        }
        c->frag_op = op;
        c->frag_len = 0;
    } else if (op != MG_WEBSOCKET_OPCODE_CONTINUATION || !c->frag_op) {
        CNT(h, C_BAD_MESSAGE);
        return close_now(c, 1002, "unexpected opcode");
    }
    if (len > h->o.max_frame || c->frag_len + len > h->o.max_frame) {
        CNT(h, C_FRAME_TOO_BIG);
        mw_info(MOD, "stream client %s: message over api.ws_max_frame (%zu bytes): close 1009",
                c->peer, (size_t)h->o.max_frame);
        return close_now(c, WS_CLOSE_TOO_BIG, "message too big");
    }
    if (c->frag_op == MG_WEBSOCKET_OPCODE_BINARY) {
        CNT(h, C_FRAME_BINARY);
        return close_now(c, WS_CLOSE_UNSUPPORTED, "binary messages are not accepted");
    }
    const char *msg = data;
    size_t mlen = len;
    if (!fin || c->frag_len) {
        if (!c->frag && !(c->frag = malloc(h->o.max_frame)))
            return close_now(c, WS_CLOSE_INTERNAL, "out of memory");
        memcpy(c->frag + c->frag_len, data, len);
        c->frag_len += len;
        if (!fin)
            return 1;
        msg = c->frag;
        mlen = c->frag_len;
    }
    c->frag_op = 0;
    c->frag_len = 0;
    return handle_message(c, msg, mlen);
}

static void ws_close(const struct mg_connection *conn, void *cbdata)
{
    struct mw_api_ws *h = cbdata;
    struct ws_client *c = mg_get_user_connection_data(conn);

    if (!c)
        return;
    mg_set_user_connection_data(conn, NULL);
    pthread_rwlock_wrlock(&h->lock);
    if (c->ready) {
        if (c->prev)
            c->prev->next = c->next;
        else
            h->head = c->next;
        if (c->next)
            c->next->prev = c->prev;
        h->nclients--;
    }
    pthread_rwlock_unlock(&h->lock);
    pthread_mutex_lock(&c->mu);
    count_topics(h, c->topics, 0);
    c->topics = 0;
    c->gone = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->sender_started)
        pthread_join(c->sender, NULL);
    client_free(c);
    atomic_fetch_sub(&h->reserved, 1);
}

/* ---- publishing --------------------------------------------------------- */

/* Wakes the senders of clients given messages without a wake-up. */
static void wake_marked(struct mw_api_ws *h)
{
    pthread_rwlock_rdlock(&h->lock);
    for (struct ws_client *c = h->head; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (c->kick) {
            c->kick = 0;
            pthread_cond_signal(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_rwlock_unlock(&h->lock);
}

static void publish_threat(mw_api_ws_t *h, const mw_threat_t *t, int created, int wake)
{
    if (created && t->severity >= 1 && t->severity <= 5)
        atomic_fetch_add_explicit(&h->sev_created[t->severity], 1, memory_order_relaxed);
    if (atomic_load(&h->want_threats) == 0)
        return;
    struct ws_msg *m = NULL;
    int64_t pub = mw_now_realtime_ns();
    pthread_rwlock_rdlock(&h->lock);
    for (struct ws_client *c = h->head; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (threat_passes(c, t)) {
            if (!m)
                m = msg_from_json(json_pack("{s:s,s:s,s:I,s:o}", "type", "threat", "event",
                                            created ? "created" : "updated", "published_ns",
                                            (json_int_t)pub, "threat", mw_api_threat_json(t)));
            if (m)
                enqueue_locked(c, m, wake);
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_rwlock_unlock(&h->lock);
    msg_put(m);
}

void mw_api_ws_publish_threat(mw_api_ws_t *h, const mw_threat_t *t, int created)
{
    if (h && t)
        publish_threat(h, t, created, 1);
}

/* The engine's threat hook: the senders are woken once per committed batch
 * (at MW_THREAT_BATCH_END), so that each writes the batch's threats at once. */
static void threat_hook(void *ctx, const struct mw_threat *t, enum mw_threat_change what)
{
    struct mw_api_ws *h = ctx;
    /* Before anything is published or acknowledged: a GET /api/v1/threats
     * that follows must not be answered from the read cache. */
    mw_api_readcache_invalidate(h->o.readcache);
    if (what == MW_THREAT_BATCH_END) {
        if (atomic_load(&h->want_threats) > 0)
            wake_marked(h);
        return;
    }
    if (t)
        publish_threat(h, t, what == MW_THREAT_CREATED, 0);
}

static void publish_metrics(struct mw_api_ws *h)
{
    uint64_t now = mw_now_mono_ns();
    uint64_t in = 0, lat[MW_LAT_BUCKETS], lat_n = 0, lat_sum;
    for (int s = 0; s < MW_SRC__COUNT; s++)
        in += MW_GET(mw_metrics.events_in[s]);
    uint64_t stored = MW_GET(mw_metrics.events_stored), tnew = MW_GET(mw_metrics.threats_new);
    for (int i = 0; i < MW_LAT_BUCKETS; i++)
        lat[i] = MW_GET(mw_metrics.lat_bucket[i]);
    lat_sum = MW_GET(mw_metrics.lat_sum_ns);
    uint64_t lat_count = MW_GET(mw_metrics.lat_count);
    double dt = h->prev_ns ? (double)(now - h->prev_ns) / 1e9 : 0;

    if (h->prev_ns && dt > 0 && atomic_load(&h->want_metrics) > 0) {
        uint64_t d[MW_LAT_BUCKETS];
        for (int i = 0; i < MW_LAT_BUCKETS; i++) {
            d[i] = lat[i] - h->prev_lat[i];
            lat_n += d[i];
        }
        json_t *lj = json_object();
        if (lj && lat_n) {
            /* p50 / p99: upper bound of the bucket holding that rank */
            double q[2] = {0.5, 0.99};
            const char *qn[2] = {"p50_ms", "p99_ms"};
            for (int k = 0; k < 2; k++) {
                uint64_t rank = (uint64_t)(q[k] * (double)lat_n + 0.999999), acc = 0;
                int b = 0;
                while (b < MW_LAT_BUCKETS - 1 && (acc += d[b]) < rank)
                    b++;
                if (b >= MW_LAT_BUCKETS - 1)
                    json_object_set_new(lj, qn[k], json_null());
                else
                    json_object_set_new(lj, qn[k], json_real(mw_lat_bounds[b] * 1e3));
            }
            uint64_t dc = lat_count - h->prev_lat_count;
            json_object_set_new(
                lj, "mean_ms",
                dc ? json_real((double)(lat_sum - h->prev_lat_sum) / (double)dc / 1e6)
                   : json_null());
            json_object_set_new(lj, "count", json_integer((json_int_t)lat_n));
        } else if (lj) {
            json_object_set_new(lj, "count", json_integer(0));
        }
        json_t *sev = json_object();
        for (int s = 1; s <= 5 && sev; s++)
            json_object_set_new(sev, mw_severity_name(s),
                                json_integer((json_int_t)atomic_load(&h->sev_created[s])));
        struct ws_msg *m = msg_from_json(
            json_pack("{s:s,s:I,s:f,s:f,s:f,s:f,s:o,s:o,s:I}", "type", "metrics", "published_ns",
                      (json_int_t)mw_now_realtime_ns(), "interval_s", dt, "events_in_per_s",
                      (double)(in - h->prev_in) / dt, "events_stored_per_s",
                      (double)(stored - h->prev_stored) / dt, "threats_new_per_s",
                      (double)(tnew - h->prev_new) / dt, "threats_created_by_severity", sev,
                      "detection_latency", lj, "ring_depth",
                      (json_int_t)(h->engine ? mw_detect_engine_depth(h->engine) : 0)));
        if (m) {
            pthread_rwlock_rdlock(&h->lock);
            for (struct ws_client *c = h->head; c; c = c->next) {
                pthread_mutex_lock(&c->mu);
                if (c->authed && (c->topics & WS_TOPIC_METRICS))
                    enqueue_locked(c, m, 1);
                pthread_mutex_unlock(&c->mu);
            }
            pthread_rwlock_unlock(&h->lock);
            msg_put(m);
        }
    }
    h->prev_ns = now;
    h->prev_in = in;
    h->prev_stored = stored;
    h->prev_new = tnew;
    memcpy(h->prev_lat, lat, sizeof lat);
    h->prev_lat_sum = lat_sum;
    h->prev_lat_count = lat_count;
}

/* civetweb gives no way to end a WebSocket connection from outside its read
 * loop, which waits for the client's next frame. A client that ignores our
 * close frame (or never reads, so that the frame cannot even be written)
 * would hold its thread and slot for ever. So its socket is found among the
 * process's descriptors by its two endpoints and shut down: civetweb's read
 * returns 0, a blocked write fails, ws_close() runs. Linux (/proc/self/fd).
 * One pass over the descriptors shuts down every client marked c->shut_now
 * (hub lock held by the caller). Returns how many were found. */
static int shutdown_marked(struct mw_api_ws *h)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int found = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        struct stat st;
        struct sockaddr_storage la, ra;
        socklen_t ll = sizeof la, rl = sizeof ra;
        char text[INET6_ADDRSTRLEN];
        int lp, rp;

        if (*end || fd < 0 || fd == dirfd(d) || fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        if (getsockname((int)fd, (struct sockaddr *)&la, &ll) != 0 ||
            getpeername((int)fd, (struct sockaddr *)&ra, &rl) != 0 || la.ss_family != ra.ss_family)
            continue;
        if (ra.ss_family == AF_INET) {
            lp = ntohs(((struct sockaddr_in *)&la)->sin_port);
            rp = ntohs(((struct sockaddr_in *)&ra)->sin_port);
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ra)->sin_addr, text, sizeof text);
        } else if (ra.ss_family == AF_INET6) {
            lp = ntohs(((struct sockaddr_in6 *)&la)->sin6_port);
            rp = ntohs(((struct sockaddr_in6 *)&ra)->sin6_port);
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ra)->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        for (struct ws_client *c = h->head; c; c = c->next)
            if (c->shut_now && c->lport == lp && c->rport == rp && strcmp(c->raddr, text) == 0) {
                shutdown((int)fd, SHUT_RDWR);
                c->shut_now = 0;
                found++;
                break;
            }
    }
    closedir(d);
    return found;
}

/* Shuts down the connections of clients that are still there
 * WS_CLOSE_GRACE_NS after our close frame, or WS_UNSENT_GRACE_NS after the
 * decision when the frame could not be written (all closed clients when all
 * is set). */
static void reap(struct mw_api_ws *h, int all)
{
    uint64_t now = mw_now_mono_ns();
    int n = 0;
    pthread_rwlock_rdlock(&h->lock);
    for (struct ws_client *c = h->head; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        c->shut_now = c->closing && !c->gone && !c->shut &&
                      (all || (c->close_sent_ns && now - c->close_sent_ns > WS_CLOSE_GRACE_NS) ||
                       now - c->closing_ns > WS_UNSENT_GRACE_NS);
        if (c->shut_now) {
            c->shut = 1;
            n++;
            if (!all)
                mw_info(MOD, "stream client %s did not finish the closing handshake: shut down",
                        c->peer);
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (n)
        shutdown_marked(h);
    pthread_rwlock_unlock(&h->lock);
}

static void *tick_main(void *arg)
{
    struct mw_api_ws *h = arg;
    pthread_mutex_lock(&h->tick_mu);
    uint64_t next = mw_now_mono_ns() + 1000000000ULL;
    while (!h->stop) {
        struct timespec ts;
        deadline_after(&ts, next);
        pthread_cond_timedwait(&h->tick_cv, &h->tick_mu, &ts);
        if (h->stop)
            break;
        if (mw_now_mono_ns() < next)
            continue;
        next += 1000000000ULL;
        pthread_mutex_unlock(&h->tick_mu);
        publish_metrics(h);
        reap(h, 0);
        pthread_mutex_lock(&h->tick_mu);
    }
    pthread_mutex_unlock(&h->tick_mu);
    return NULL;
}

/* ---- life --------------------------------------------------------------- */

int mw_api_ws_start(struct mg_context *ctx, const struct mw_api_ws_opts *o,
                    mw_detect_engine_t *engine, mw_api_ws_t **out)
{
    struct mw_api_ws *h = calloc(1, sizeof *h);
    if (!h)
        return MW_ENOMEM;
    h->ctx = ctx;
    h->o = *o;
    h->engine = engine;
    pthread_rwlock_init(&h->lock, NULL);
    pthread_mutex_init(&h->tick_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->tick_cv, &ca);
    pthread_condattr_destroy(&ca);
    publish_metrics(h); /* first snapshot */
    if (pthread_create(&h->tick, NULL, tick_main, h) != 0) {
        mw_api_ws_stop(h);
        return MW_ENOMEM;
    }
    h->tick_started = 1;
    mg_set_websocket_handler(ctx, WS_PATH, ws_connect, ws_ready, ws_data, ws_close, h);
    if (engine)
        mw_detect_engine_set_threat_hook(engine, threat_hook, h);
    *out = h;
    return 0;
}

void mw_api_ws_detach(mw_api_ws_t *h)
{
    if (!h)
        return;
    if (h->engine)
        mw_detect_engine_set_threat_hook(h->engine, NULL, NULL);
    pthread_mutex_lock(&h->tick_mu);
    h->stop = 1;
    pthread_cond_signal(&h->tick_cv);
    pthread_mutex_unlock(&h->tick_mu);
    if (h->tick_started)
        pthread_join(h->tick, NULL);
    h->tick_started = 0;
    /* tell every client we are going away, give the close frames 200 ms,
     * then shut the sockets down (a client that does not read would
     * otherwise hold mg_stop up until its write times out); civetweb's
     * mg_stop then ends the read loops and ws_close frees the clients */
    pthread_rwlock_rdlock(&h->lock);
    int n = 0;
    for (struct ws_client *c = h->head; c; c = c->next, n++) {
        pthread_mutex_lock(&c->mu);
        close_locked(c, WS_CLOSE_GOING_AWAY, "server shutting down");
        pthread_mutex_unlock(&c->mu);
    }
    pthread_rwlock_unlock(&h->lock);
    if (n) {
        struct timespec ts = {0, 200000000L};
        nanosleep(&ts, NULL);
        reap(h, 1);
    }
}

void mw_api_ws_stop(mw_api_ws_t *h)
{
    if (!h)
        return;
    mw_api_ws_detach(h);
    pthread_rwlock_destroy(&h->lock);
    pthread_mutex_destroy(&h->tick_mu);
    pthread_cond_destroy(&h->tick_cv);
    free(h);
}

char *mw_api_ws_metrics(mw_api_ws_t *h)
{
    if (!h)
        return NULL;
    static const struct {
        int k;
        const char *name, *help, *label;
    } rows[] = {
        {C_CONNECTIONS, "mwrasp_ws_connections_total", "WebSocket stream upgrades accepted.", NULL},
        {C_REFUSED_AUTH, "mwrasp_ws_refused_total",
         "WebSocket stream clients refused (auth: bad or missing credentials; full: "
         "api.ws_max_clients reached).",
         "reason=\"auth\""},
        {C_REFUSED_FULL, "mwrasp_ws_refused_total", NULL, "reason=\"full\""},
        {C_MSGS, "mwrasp_ws_messages_sent_total", "Messages written to stream clients.", NULL},
        {C_BYTES, "mwrasp_ws_bytes_sent_total", "Payload bytes written to stream clients.", NULL},
        {C_DROPPED_SLOW, "mwrasp_ws_dropped_slow_clients_total",
         "Stream clients closed (1008) because their send queue was full.", NULL},
        {C_MSGS_DISCARDED, "mwrasp_ws_messages_discarded_total",
         "Queued messages freed unsent when their client was closed.", NULL},
        {C_FRAME_TOO_BIG, "mwrasp_ws_bad_frames_total",
         "Stream clients closed for bad frames (too_large 1009, binary 1003, utf8 1007).",
         "reason=\"too_large\""},
        {C_FRAME_BINARY, "mwrasp_ws_bad_frames_total", NULL, "reason=\"binary\""},
        {C_FRAME_UTF8, "mwrasp_ws_bad_frames_total", NULL, "reason=\"utf8\""},
        {C_BAD_MESSAGE, "mwrasp_ws_bad_messages_total",
         "Stream client messages refused (bad JSON, unknown type, bad subscription).", NULL},
        {C_PONG_TIMEOUT, "mwrasp_ws_timeouts_total",
         "Stream clients closed (1008) for a missed pong or no authentication in time.",
         "reason=\"pong\""},
        {C_AUTH_TIMEOUT, "mwrasp_ws_timeouts_total", NULL, "reason=\"auth\""},
    };
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    pthread_rwlock_rdlock(&h->lock);
    unsigned nc = h->nclients;
    pthread_rwlock_unlock(&h->lock);
    n += (size_t)snprintf(s + n, cap - n,
                          "# HELP mwrasp_ws_clients WebSocket stream clients connected.\n"
                          "# TYPE mwrasp_ws_clients gauge\nmwrasp_ws_clients %u\n"
                          "# HELP mwrasp_ws_max_clients api.ws_max_clients.\n"
                          "# TYPE mwrasp_ws_max_clients gauge\nmwrasp_ws_max_clients %u\n",
                          nc, h->o.max_clients);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && n < cap; i++) {
        if (rows[i].help)
            n += (size_t)snprintf(s + n, cap - n, "# HELP %s %s\n# TYPE %s counter\n", rows[i].name,
                                  rows[i].help, rows[i].name);
        if (n >= cap)
            break;
        n += (size_t)snprintf(s + n, cap - n, "%s%s%s%s %llu\n", rows[i].name,
                              rows[i].label ? "{" : "", rows[i].label ? rows[i].label : "",
                              rows[i].label ? "}" : "",
                              (unsigned long long)atomic_load(&h->c[rows[i].k]));
    }
    if (n >= cap)
        s[cap - 1] = '\0';
    return s;
}

unsigned mw_api_ws_threads(const struct mw_config *cfg)
{
    return cfg->ws_max_clients;
}
