/* mwrasp exposure scan: the quantum-exposure scanner over capture files and
 * Zeek logs (docs/exposure.md), offline, no daemon. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mwrasp/exposure.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 64

static const char scan_help[] =
    "usage: mwrasp exposure scan [FILE...] [--zeek LOG...] [--json | --table | --cbom]\n"
    "                            [--output FILE] [--stats] [--repeat N]\n"
    "\n"
    "Finds the TLS, QUIC and SSH handshakes in capture files (pcap, pcapng) and\n"
    "says which key exchanges a quantum computer could break (classical), which\n"
    "are post-quantum (pq-hybrid, pq-only), and which were not seen whole (unknown).\n"
    "Protocols are recognised by their bytes, on any port.\n"
    "\n"
    "  --zeek          the FILEs that follow are Zeek ssl.log / ssh.log files\n"
    "                  (TSV, zeek-cut or JSON lines)\n"
    "  --pcap          the FILEs that follow are captures again (the default)\n"
    "  --json          one JSON object per session (the default)\n"
    "  --table         one line per service (server address:port + SNI)\n"
    "  --cbom          a CycloneDX 1.6 cryptography bill of materials (JSON)\n"
    "  -o, --output F  write there instead of stdout\n"
    "  --stats         a summary on stderr: files, packets, flows, sessions per class,\n"
    "                  malformed input counted\n"
    "  --repeat N      scan the files N times (benchmarks; 1..1000000)\n"
    "  -h, --help      this help\n"
    "\n"
    "A file that cannot be read is reported (FILE: why) and the others are scanned;\n"
    "the exit status is then 1. Usage errors: 64.\n";

static const char exposure_help[] =
    "usage: mwrasp exposure scan ... (mwrasp exposure scan --help)\n";

enum { OUT_JSON, OUT_TABLE, OUT_CBOM };

struct ctx {
    FILE *out;
    int fmt;
    int write_err;
};

static void on_session(void *vctx, const char *label, const mw_expo_session_t *s)
{
    struct ctx *c = vctx;
    if (c->fmt == OUT_JSON && !c->write_err && mw_expo_write_json(c->out, label, s) != MW_OK)
        c->write_err = 1;
}

struct zctx {
    mw_expo_scan_t *sc;
    const char *label;
};

static int on_zeek(void *vctx, const mw_zeek_record_t *r)
{
    struct zctx *z = vctx;
    mw_expo_scan_add_session(z->sc, z->label, &r->s);
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct input {
    const char *path;
    int zeek;
    uint64_t size;
};

int mw_cmd_exposure(int argc, char **argv);

int mw_cmd_exposure(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(argc < 2 ? exposure_help : scan_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "scan") != 0) {
        fprintf(stderr, "mwrasp: exposure: unknown command '%s'\n%s", argv[1], exposure_help);
        return EXIT_USAGE;
    }
    struct input *in = calloc((size_t)argc, sizeof *in);
    size_t n_in = 0;
    const char *outpath = NULL;
    int fmt = OUT_JSON, stats = 0, zeek = 0, rc = EXIT_USAGE;
    unsigned long repeat = 1;
    mw_expo_scan_t *sc = NULL;
    FILE *out = stdout;
    struct ctx c = {0};
    if (!in) {
        fprintf(stderr, "mwrasp: out of memory\n");
        return EXIT_FAILED;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            fmt = OUT_JSON;
        } else if (strcmp(a, "--table") == 0) {
            fmt = OUT_TABLE;
        } else if (strcmp(a, "--cbom") == 0) {
            fmt = OUT_CBOM;
        } else if (strcmp(a, "--stats") == 0) {
            stats = 1;
        } else if (strcmp(a, "--zeek") == 0) {
            zeek = 1;
        } else if (strcmp(a, "--pcap") == 0) {
            zeek = 0;
        } else if (strcmp(a, "--output") == 0 || strcmp(a, "-o") == 0) {
            if (++i >= argc)
                goto usage;
            outpath = argv[i];
        } else if (strcmp(a, "--repeat") == 0) {
            char *end = NULL;
            if (++i >= argc)
                goto usage;
            errno = 0;
            repeat = strtoul(argv[i], &end, 10);
            if (errno || !end || *end || repeat < 1 || repeat > 1000000 || argv[i][0] == '-') {
                fprintf(stderr, "mwrasp: exposure scan: --repeat must be 1..1000000\n");
                goto out;
            }
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(scan_help, stdout);
            rc = 0;
            goto out;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "mwrasp: exposure scan: unknown option '%s'\n", a);
            goto usage;
        } else {
            struct stat stt;
            in[n_in].path = a;
            in[n_in].zeek = zeek;
            in[n_in].size = stat(a, &stt) == 0 ? (uint64_t)stt.st_size : 0;
            n_in++;
        }
    }
    if (n_in == 0)
        goto usage;
    if (outpath) {
        out = fopen(outpath, "w");
        if (!out) {
            fprintf(stderr, "mwrasp: exposure scan: cannot write %s: %s\n", outpath,
                    strerror(errno));
            rc = EXIT_FAILED;
            out = stdout;
            goto out;
        }
    }
    c.out = out;
    c.fmt = fmt;
    if (mw_expo_scan_new(on_session, &c, &sc) != MW_OK) {
        fprintf(stderr, "mwrasp: out of memory\n");
        rc = EXIT_FAILED;
        goto out;
    }
    int tty = isatty(STDERR_FILENO);
    double t0 = now_s(), last = t0;
    uint64_t done_bytes = 0, total = (uint64_t)n_in * repeat;
    unsigned long failed = 0, zeek_bad = 0, done = 0, zeek_files = 0;
    for (unsigned long r = 0; r < repeat; r++) {
        for (size_t i = 0; i < n_in; i++) {
            char err[512];
            int frc;
            if (in[i].zeek) {
                unsigned long bad = 0;
                zeek_files++;
                struct zctx z = {sc, in[i].path};
                frc = mw_zeek_read(in[i].path, on_zeek, &z, &bad, stderr);
                zeek_bad += bad;
                if (frc != MW_OK)
                    snprintf(err, sizeof err, "%s: %s", in[i].path, mw_strerror(frc));
            } else {
                frc = mw_expo_scan_file(sc, in[i].path, in[i].path, err, sizeof err);
            }
            if (frc != MW_OK) {
                if (tty)
                    fputs("\r\033[K", stderr);
                if (r == 0) /* once per file, not once per repetition */
                    fprintf(stderr, "mwrasp: exposure scan: %s\n", err[0] ? err : in[i].path);
                failed++;
            }
            done++;
            done_bytes += in[i].size;
            double t = now_s();
            if (tty && (t - last >= 0.5 || done == total)) {
                last = t;
                fprintf(stderr, "\r\033[Kexposure scan: %lu/%" PRIu64 " files, %.1f MB/s", done,
                        total, t > t0 ? (double)done_bytes / 1e6 / (t - t0) : 0.0);
                if (done == total)
                    fputc('\n', stderr);
                fflush(stderr);
            }
        }
    }
    double el = now_s() - t0;
    if (fmt == OUT_TABLE && mw_expo_write_table(out, sc) != MW_OK)
        c.write_err = 1;
    if (fmt == OUT_CBOM && mw_expo_write_cbom(out, sc) != MW_OK)
        c.write_err = 1;
    if (fflush(out) != 0 || ferror(out))
        c.write_err = 1;
    if (stats) {
        const mw_expo_scan_stats_t *st = mw_expo_scan_stats(sc);
        const mw_pcap_stats_t *p = &st->pcap;
        fprintf(stderr,
                "files: %" PRIu64 " captures (%" PRIu64 " failed), %lu Zeek logs"
                " (%lu bad lines)\n"
                "packets: %" PRIu64 " (%" PRIu64 " bytes, %.1f MB/s, %.3f s)\n"
                "flows: %" PRIu64 " (%" PRIu64 " evicted), no TLS/QUIC/SSH: %" PRIu64 "\n"
                "sessions: %" PRIu64 " classical, %" PRIu64 " pq-hybrid, %" PRIu64
                " pq-only, %" PRIu64 " unknown\n"
                "services: %zu (%" PRIu64 " sessions over the cap)\n"
                "malformed: tls %" PRIu64 ", quic %" PRIu64 ", ssh %" PRIu64 ", capture %" PRIu64
                " (link %" PRIu64 ", snaplen %" PRIu64 ", read errors %" PRIu64
                "), tcp gaps %" PRIu64 ", ip fragments %" PRIu64 "\n",
                st->files, st->files_failed, zeek_files, zeek_bad, p->packets, p->bytes,
                el > 0 ? (double)p->bytes / 1e6 / el : 0.0, el, st->flows, p->flows_evicted,
                st->not_detected, st->sessions[MW_EXPO_CLASSICAL], st->sessions[MW_EXPO_PQ_HYBRID],
                st->sessions[MW_EXPO_PQ_ONLY], st->sessions[MW_EXPO_UNKNOWN],
                mw_expo_scan_service_count(sc), st->services_dropped, st->tls_malformed,
                st->quic_malformed, st->ssh_errors, p->skipped_malformed, p->skipped_link,
                p->skipped_snaplen, p->read_errors, p->tcp_gaps, p->ip_fragments);
    }
    if (c.write_err) {
        fprintf(stderr, "mwrasp: exposure scan: writing %s failed\n", outpath ? outpath : "stdout");
        rc = EXIT_FAILED;
    } else {
        rc = failed ? EXIT_FAILED : 0;
    }
    goto out;
usage:
    fputs(scan_help, stderr);
    rc = EXIT_USAGE;
out:
    mw_expo_scan_free(sc);
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "mwrasp: exposure scan: writing %s failed\n", outpath);
        rc = EXIT_FAILED;
    }
    free(in);
    return rc;
}
