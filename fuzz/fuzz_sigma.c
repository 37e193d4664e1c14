/* libFuzzer harness for the Sigma rule compiler and matcher: any bytes as a
 * rule file must either compile or be refused with a "NAME:LINE..." message
 * (never crash, leak or hang), and a compiled rule must evaluate on events
 * without error, with the prefilter giving the same result as evaluating
 * every rule (sg_disable_prefilter) and as without its Hyperscan databases
 * (sg_disable_hs; every literal anchor gets one here), and as a scratch kept
 * across inputs answers from its scan memo (twice: the second time from the
 * entry the first left, whatever ruleset build made earlier entries). A last
 * event gives every field the input's first 256 bytes, so that fuzzed |re
 * rules also meet arbitrary (non-ASCII, invalid UTF-8) values with and
 * without their Hyperscan regex database. */
#include <stdint.h>
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
    static const char *const kv[][2] = {
        {"EventID", "4625"},
        {"LogonType", "3"},
        {"Image", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"},
        {"CommandLine", "powershell.exe -nop -w hidden -enc SQBFAFgA sekurlsa::"},
        {"TargetUserName", "admin"},
        {"message", "Failed password for invalid user pi from 198.51.100.23"},
        {"TargetFilename", "C:\\Users\\bob\\AppData\\Local\\Temp\\a.hta"},
    };
    mw_log_set_level((enum mw_log_level)(MW_LOG_ERROR + 1)); /* refusals are expected */
    sg_hs_min_anchors = 1; /* any literal anchor: a Hyperscan database */
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    if (!rs)
        return 0;
    int rc = mw_sigma_add_string(rs, (const char *)data, size, "fuzz.yml");
    const char *err = mw_sigma_last_error(rs);
    if (rc != 0 && strncmp(err, "fuzz.yml:", 9) != 0 && rc != MW_ENOMEM)
        abort();
    /* events: all fields, then each field alone (missing-field paths), then
     * every field with the input as its value */
    const size_t nkv = sizeof kv / sizeof kv[0];
    for (size_t only = 0; only <= nkv + 1; only++) {
        mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, (const char *)data, size > 512 ? 512 : size);
        if (!ev)
            break;
        for (size_t i = 0; i < nkv; i++) {
            const char *v = only > nkv ? (const char *)data : kv[i][1];
            size_t vl = only > nkv ? (size > 256 ? 256 : size) : strlen(kv[i][1]);
            if ((only == 0 || only > nkv || i == only - 1) &&
                mw_event_add_field(ev, kv[i][0], strlen(kv[i][0]), v, vl))
                abort();
        }
        int a = 0, b = 0;
        if (mw_sigma_match(rs, NULL, ev, count, &a))
            abort();
        sg_disable_prefilter = 1;
        if (mw_sigma_match(rs, NULL, ev, count, &b))
            abort();
        sg_disable_prefilter = 0;
        int c = 0; /* without the Hyperscan databases */
        sg_disable_hs = 1;
        if (mw_sigma_match(rs, NULL, ev, count, &c))
            abort();
        sg_disable_hs = 0;
        static mw_sigma_scratch_t *kept; /* lives across inputs: its memo too */
        if (!kept && mw_sigma_scratch_new(rs, &kept))
            abort();
        for (int k = 0; k < 2; k++) {
            int d = 0;
            if (mw_sigma_match(rs, kept, ev, count, &d) || d != a)
                abort();
        }
        if (a != b || a != c)
            abort();
        mw_event_free(ev);
    }
    mw_sigma_ruleset_free(rs);
    return 0;
}
