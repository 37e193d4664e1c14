/* Synthetic events for the benchmarks; see evgen.h. */
#include "evgen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NHOSTS 400

static const char *const linux_roles[] = {"web", "api", "db", "cache", "worker", "bastion"};
static const char *const win_roles[] = {"WS", "WS", "WS", "SRV", "DC"};
static const char *const users[] = {
    "alice", "bob",    "carol", "dave",   "erin",  "frank", "grace",  "heidi",  "ivan",   "judy",
    "niaj",  "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "deploy", "backup"};
static const char *const paths[] = {"/",
                                    "/index.html",
                                    "/api/v2/orders?page=3&limit=50",
                                    "/static/js/app.4f9c2a.js",
                                    "/api/v2/users/me",
                                    "/login",
                                    "/healthz",
                                    "/images/products/8812-large.webp",
                                    "/api/v2/search?q=wireless+headphones&sort=price",
                                    "/favicon.ico"};
static const char *const agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "curl/7.88.1",
    "kube-probe/1.28",
    "Go-http-client/1.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"};
static const char *const images[][2] = {
    {"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe",
     "\\\"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe\\\" "
     "--type=renderer --lang=en-US --renderer-client-id=%u"},
    {"C:\\\\Windows\\\\System32\\\\svchost.exe",
     "C:\\\\Windows\\\\system32\\\\svchost.exe -k netsvcs -p -s Schedule %u"},
    {"C:\\\\Program Files\\\\Microsoft Office\\\\root\\\\Office16\\\\OUTLOOK.EXE",
     "\\\"C:\\\\Program Files\\\\Microsoft Office\\\\root\\\\Office16\\\\OUTLOOK.EXE\\\" "
     "/recycle /id:%u"},
    {"C:\\\\Windows\\\\System32\\\\notepad.exe",
     "\\\"C:\\\\Windows\\\\system32\\\\notepad.exe\\\" C:\\\\Users\\\\Public\\\\notes-%u.txt"},
    {"C:\\\\Windows\\\\System32\\\\conhost.exe",
     "\\\\??\\\\C:\\\\Windows\\\\system32\\\\conhost.exe 0xffffffff -ForceV1 %u"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rnd(struct evgen *g)
{
    /* xorshift64* (Vigna, "An experimental exploration of Marsaglia's
     * xorshift generators, scrambled", 2016). */
    uint64_t x = g->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    g->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd_below(struct evgen *g, uint32_t n)
{
    return (uint32_t)((rnd(g) >> 32) % n);
}

void evgen_init(struct evgen *g, uint64_t seed, uint32_t nrules)
{
    struct timespec ts;
    memset(g, 0, sizeof(*g));
    g->rng = seed ? seed * 0x9E3779B97F4A7C15ULL : 0x853C49E6748FEA9BULL;
    if (!g->rng)
        g->rng = 1;
    clock_gettime(CLOCK_REALTIME, &ts);
    g->base_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    g->nrules = nrules;
}

/* Appends formatted text; on overflow marks the buffer full (len = cap). */
struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->len >= b->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->len = b->cap;
    else
        b->len += (size_t)n;
}

static void fmt_rfc3339(int64_t ns, char *out, size_t cap)
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((ns / 1000000) % 1000));
}

static void fmt_rfc3164(int64_t ns, char *out, size_t cap)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, cap, "%s %2d %02d:%02d:%02d", mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

/* Common Log Format date: "25/Nov/2026:21:30:30 +0000". */
static void fmt_clf(int64_t ns, char *out, size_t cap)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, cap, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, mon[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void ip_internal(struct evgen *g, char *out, size_t cap)
{
    snprintf(out, cap, "10.%u.%u.%u", rnd_below(g, 40), rnd_below(g, 256), 1 + rnd_below(g, 254));
}

/* The bench rule set (scripts/gen-bench-rules.sh): besides its main
 * detection, rule i has an indicator selection that fires on the token
 * "bench-ioc-NNNN" (i in four digits) in a Security 4688 CommandLine or in a
 * syslog message. Hits aim at those, one rule each. */
static void bench_token(struct evgen *g, char *out, size_t cap)
{
    uint32_t i = g->nrules ? rnd_below(g, g->nrules) : 0;
    snprintf(out, cap, "bench-ioc-%04u", i);
}

static void gen_syslog(struct evgen *g, int hit, struct sbuf *b)
{
    char ts[80], ip[32], tok[48];
    int64_t ns = g->base_ns + (int64_t)g->seq * 1000000; /* 1 ms apart */
    uint32_t h = rnd_below(g, NHOSTS);
    const char *role = linux_roles[h % NELEM(linux_roles)];
    uint32_t pid = 300 + rnd_below(g, 60000);
    uint32_t kind = rnd_below(g, 6);
    int rfc5424 = rnd_below(g, 2);
    char host[64];

    snprintf(host, sizeof(host), "%s-%03u.prod.example.com", role, h);
    memcpy(g->host, host, sizeof(g->host));
    ip_internal(g, ip, sizeof(ip));
    if (hit) /* bench rules if any (exactly one rule fires), else the bundled ones */
        kind = g->nrules ? 101 : 100;
    if (rfc5424)
        fmt_rfc3339(ns, ts, sizeof(ts));
    else
        fmt_rfc3164(ns, ts, sizeof(ts));

    /* header: app name and priority depend on the kind */
    const char *app = "sshd";
    int pri = 86; /* authpriv.info */
    switch (kind) {
    case 1:
        app = "nginx";
        pri = 22 * 8 + 6;
        break;
    case 2:
        app = "sudo";
        pri = 85;
        break;
    case 3:
        app = "kernel";
        pri = 4;
        break;
    case 4:
        app = "systemd";
        pri = 30;
        break;
    case 5:
        app = "app";
        pri = 134;
        break;
    case 101:
        app = "bench";
        pri = 132;
        break;
    default:
        break;
    }
    if (rfc5424) {
        sb_printf(b, "<%d>1 %s %s %s %u - ", pri, ts, host, app, pid);
        if (kind == 5)
            sb_printf(b, "[meta@32473 sequenceId=\"%llu\" env=\"prod\" region=\"eu-west-1\"] ",
                      (unsigned long long)g->seq);
        else if (rnd_below(g, 3))
            sb_printf(b, "[origin ip=\"%s\" software=\"rsyslogd\" swVersion=\"8.2302.0\"] ", ip);
        else
            sb_printf(b, "- ");
    } else if (kind == 3) {
        sb_printf(b, "<%d>%s %s %s: ", pri, ts, host, app);
    } else {
        sb_printf(b, "<%d>%s %s %s[%u]: ", pri, ts, host, app, pid);
    }

    switch (kind) {
    case 0:
        sb_printf(b,
                  "Accepted publickey for %s from %s port %u ssh2: ED25519 "
                  "SHA256:%016llx%016llx%08x",
                  users[rnd_below(g, NELEM(users))], ip, 32768 + rnd_below(g, 28000),
                  (unsigned long long)rnd(g), (unsigned long long)rnd(g),
                  (unsigned)rnd_below(g, 0xffffffffu));
        break;
    case 1:
        fmt_clf(ns, ts, sizeof(ts));
        sb_printf(b, "%s - - [%s] \"GET %s HTTP/1.1\" %u %u \"-\" \"%s\" rt=0.%03u", ip, ts,
                  paths[rnd_below(g, NELEM(paths))], rnd_below(g, 10) ? 200 : 404,
                  200 + rnd_below(g, 90000), agents[rnd_below(g, NELEM(agents))],
                  rnd_below(g, 1000));
        break;
    case 2: {
        const char *u = users[rnd_below(g, NELEM(users))];
        sb_printf(b,
                  "%s : TTY=pts/%u ; PWD=/home/%s/releases/%u ; USER=root ; "
                  "COMMAND=/usr/bin/systemctl restart app-%u.service",
                  u, rnd_below(g, 8), u, rnd_below(g, 400), rnd_below(g, 40));
        break;
    }
    case 3:
        sb_printf(b,
                  "[%u.%06u] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:%02x:%02x:%02x:fa:16:3e:%02x:"
                  "%02x:%02x:08:00 SRC=%s DST=10.0.0.%u LEN=60 TOS=0x00 PREC=0x00 TTL=%u "
                  "ID=%u DF PROTO=TCP SPT=%u DPT=%u WINDOW=64240 RES=0x00 SYN URGP=0",
                  rnd_below(g, 900000), rnd_below(g, 1000000), rnd_below(g, 256), rnd_below(g, 256),
                  rnd_below(g, 256), rnd_below(g, 256), rnd_below(g, 256), rnd_below(g, 256), ip,
                  1 + rnd_below(g, 254), 40 + rnd_below(g, 24), rnd_below(g, 65535),
                  1024 + rnd_below(g, 64000), rnd_below(g, 2) ? 22 : 3389);
        break;
    case 4:
        sb_printf(b,
                  "Started Session %u of User %s. (unit session-%u.scope, invocation "
                  "%016llx%016llx)",
                  rnd_below(g, 90000), users[rnd_below(g, NELEM(users))], rnd_below(g, 90000),
                  (unsigned long long)rnd(g), (unsigned long long)rnd(g));
        break;
    case 5:
        sb_printf(b,
                  "order %u processed for customer %u in %u ms (items=%u, total=%u.%02u EUR, "
                  "payment=card, warehouse=%s)",
                  rnd_below(g, 10000000), rnd_below(g, 1000000), 3 + rnd_below(g, 400),
                  1 + rnd_below(g, 12), rnd_below(g, 900), rnd_below(g, 100),
                  rnd_below(g, 2) ? "AMS-2" : "FRA-1");
        break;
    case 100: /* bundled rules: SSH password spraying */
        sb_printf(b, "Failed password for invalid user %s from 203.0.113.%u port %u ssh2",
                  users[rnd_below(g, NELEM(users))], 1 + rnd_below(g, 254),
                  32768 + rnd_below(g, 28000));
        break;
    default: /* 101: bench rules */
        bench_token(g, tok, sizeof(tok));
        sb_printf(b,
                  "suspicious download of /tmp/.cache/%s.bin from %s by uid=%u, sha256=%016llx"
                  "%016llx",
                  tok, ip, 1000 + rnd_below(g, 50), (unsigned long long)rnd(g),
                  (unsigned long long)rnd(g));
        break;
    }
}

static void gen_json(struct evgen *g, int hit, struct sbuf *b)
{
    char ts[80], ip[32], host[64], tok[48];
    int64_t ns = g->base_ns + (int64_t)g->seq * 1000000;
    uint32_t h = rnd_below(g, NHOSTS);
    const char *role = win_roles[h % NELEM(win_roles)];
    const char *u = users[rnd_below(g, NELEM(users))];
    uint32_t kind = rnd_below(g, 3);

    if (hit) /* bench rules if any (exactly one rule fires), else the bundled ones */
        kind = g->nrules ? 101 : 100;
    fmt_rfc3339(ns, ts, sizeof(ts));
    snprintf(host, sizeof(host), "%s-%03u.corp.example.com", role, h);
    memcpy(g->host, host, sizeof(g->host));
    ip_internal(g, ip, sizeof(ip));
    sb_printf(b, "{\"@timestamp\":\"%s\",\"host.name\":\"%s\",\"Computer\":\"%s\",", ts, host,
              host);
    switch (kind) {
    case 0:
        sb_printf(b,
                  "\"EventID\":4624,\"Channel\":\"Security\",\"TargetUserName\":\"%s\","
                  "\"TargetDomainName\":\"CORP\",\"LogonType\":%u,\"IpAddress\":\"%s\","
                  "\"IpPort\":\"%u\",\"LogonProcessName\":\"Kerberos\","
                  "\"AuthenticationPackageName\":\"Kerberos\"}",
                  u, rnd_below(g, 2) ? 3 : 10, ip, 49152 + rnd_below(g, 16000));
        break;
    case 1:
    case 2: {
        uint32_t k = rnd_below(g, NELEM(images));
        char cmd[400];
        snprintf(cmd, sizeof(cmd), images[k][1], rnd_below(g, 100000));
        sb_printf(b,
                  "\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
                  "\"Image\":\"%s\",\"CommandLine\":\"%s\",\"User\":\"CORP\\\\%s\","
                  "\"ProcessId\":%u,\"ParentImage\":\"C:\\\\Windows\\\\explorer.exe\"}",
                  images[k][0], cmd, u, 500 + rnd_below(g, 60000));
        break;
    }
    case 100: /* bundled rules: encoded PowerShell */
        sb_printf(b,
                  "\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
                  "\"Image\":\"C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\"
                  "powershell.exe\",\"CommandLine\":\"powershell.exe -nop -w hidden -enc "
                  "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0"
                  "ACkA%04x\",\"User\":\"CORP\\\\%s\",\"ProcessId\":%u,"
                  "\"ParentImage\":\"C:\\\\Windows\\\\explorer.exe\"}",
                  rnd_below(g, 0xffff), u, 500 + rnd_below(g, 60000));
        break;
    default: /* 101: bench rules */
        bench_token(g, tok, sizeof(tok));
        sb_printf(b,
                  "\"EventID\":4688,\"Channel\":\"Security\",\"NewProcessName\":"
                  "\"C:\\\\Users\\\\%s\\\\AppData\\\\Local\\\\Temp\\\\upd.exe\",\"CommandLine\":"
                  "\"upd.exe --fetch %s --quiet\",\"SubjectUserName\":\"%s\"}",
                  u, tok, u);
        break;
    }
}

size_t evgen_next(struct evgen *g, enum evgen_format fmt, int hit, char *buf, size_t cap)
{
    struct sbuf b = {buf, 0, cap};
    if (cap == 0)
        return 0;
    if (fmt == EVGEN_JSON)
        gen_json(g, hit, &b);
    else
        gen_syslog(g, hit, &b);
    g->seq++;
    if (b.len >= cap) {
        buf[0] = '\0';
        return 0;
    }
    return b.len;
}

int evpool_build(struct evpool *p, struct evgen *g, enum evgen_format fmt, size_t n,
                 double hit_ratio)
{
    char tmp[EVGEN_MAX];
    size_t cap = n * 512 + 1, used = 0;
    memset(p, 0, sizeof(*p));
    if (n == 0)
        return -1;
    p->data = malloc(cap);
    p->off = malloc((n + 1) * sizeof(size_t));
    p->hit = malloc(n);
    if (!p->data || !p->off || !p->hit)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        /* hit when floor((i+1)*r) > floor(i*r): exactly round(n*r) hits, spread evenly */
        int hit = (uint64_t)((double)(i + 1) * hit_ratio) > (uint64_t)((double)i * hit_ratio);
        size_t len = evgen_next(g, fmt, hit, tmp, sizeof(tmp));
        if (len == 0)
            goto fail;
        if (used + len + 1 > cap) {
            size_t ncap = cap * 2;
            char *nd = realloc(p->data, ncap);
            if (!nd)
                goto fail;
            p->data = nd;
            cap = ncap;
        }
        p->off[i] = used;
        p->hit[i] = (unsigned char)hit;
        memcpy(p->data + used, tmp, len);
        p->data[used + len] = '\n';
        used += len + 1;
        p->hits += (size_t)hit;
    }
    p->off[n] = used;
    p->n = n;
    return 0;
fail:
    evpool_free(p);
    return -1;
}

void evpool_free(struct evpool *p)
{
    free(p->data);
    free(p->off);
    free(p->hit);
    memset(p, 0, sizeof(*p));
}
