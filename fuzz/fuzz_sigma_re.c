/* libFuzzer differential harness for the regex prefilter (sigma_hs.c): the
 * input is FLAGS PATTERN '\n' VALUE (FLAGS one byte: bit 0 |i, bit 1 |m,
 * bit 2 |s). The pattern becomes a rule "F|re...: <pattern>" (YAML
 * double-quoted, every byte escaped); a pattern PCRE2 refuses is skipped.
 * The value is matched with the regex database (when Hyperscan took the
 * pattern) and without it (sg_disable_hs: PCRE2 alone): a regex PCRE2
 * matches must have been reported by the database, so both must agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma_internal.h"
#include "mwrasp/log.h"
#include "mwrasp/sigma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, const mw_detection_t *d)
{
    (void)d;
    ++*(int *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAXPAT = 256, MAXVAL = 1024 };
    if (size < 2)
        return 0;
    unsigned flags = data[0];
    const uint8_t *p = data + 1, *nl = memchr(p, '\n', size - 1);
    size_t plen = nl ? (size_t)(nl - p) : size - 1;
    if (plen == 0 || plen > MAXPAT)
        return 0;
    const uint8_t *val = nl ? nl + 1 : p + plen;
    size_t vlen = (size_t)(data + size - val);
    if (vlen > MAXVAL)
        vlen = MAXVAL;
    char yaml[160 + 4 * MAXPAT];
    int n = snprintf(yaml, sizeof yaml, "title: r\nid: r\ndetection:\n  s:\n    F|re%s%s%s: \"",
                     flags & 1 ? "|i" : "", flags & 2 ? "|m" : "", flags & 4 ? "|s" : "");
    if (n < 0)
        return 0;
    size_t yl = (size_t)n;
    for (size_t i = 0; i < plen; i++) { /* \xHH: YAML gives back the byte / code point */
        static const char hex[] = "0123456789abcdef";
        if (p[i] >= 0x80) { /* a raw byte keeps UTF-8 sequences intact */
            yaml[yl++] = (char)p[i];
            continue;
        }
        yaml[yl++] = '\\';
        yaml[yl++] = 'x';
        yaml[yl++] = hex[p[i] >> 4];
        yaml[yl++] = hex[p[i] & 15];
    }
    static const char tail[] = "\"\n  condition: s\n";
    memcpy(yaml + yl, tail, sizeof tail - 1);
    yl += sizeof tail - 1;
    mw_log_set_level((enum mw_log_level)(MW_LOG_ERROR + 1)); /* refusals are expected */
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    if (!rs)
        return 0;
    if (mw_sigma_add_string(rs, yaml, yl, "re.yml") != 0 || mw_sigma_count(rs) != 1) {
        mw_sigma_ruleset_free(rs);
        return 0;
    }
    mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, "{}", 2);
    if (!ev || mw_event_add_field(ev, "F", 1, (const char *)val, vlen))
        abort();
    int a = 0, b = 0;
    if (mw_sigma_match(rs, NULL, ev, count, &a))
        abort();
    sg_disable_hs = 1;
    if (mw_sigma_match(rs, NULL, ev, count, &b))
        abort();
    sg_disable_hs = 0;
    if (a != b) {
        fprintf(stderr, "regex %.*s flags %u: %d with Hyperscan, %d with PCRE2 alone\n", (int)plen,
                (const char *)p, flags & 7, a, b);
        abort();
    }
    mw_event_free(ev);
    mw_sigma_ruleset_free(rs);
    return 0;
}
