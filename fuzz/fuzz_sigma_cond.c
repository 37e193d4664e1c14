/* libFuzzer harness for the Sigma condition parser: the input is the text of
 * a `condition` over a fixed set of selections (sel1, sel2, filter_a,
 * filter_b, keywords), so the fuzzer spends its time on condition syntax
 * (and/or/not, parentheses, `1 of`/`all of`, wildcards, `them`) rather than
 * on YAML. A condition must compile or be refused with a "NAME:LINE" message,
 * and a compiled rule must evaluate identically with and without the
 * prefilter. */
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

#define COND_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "title: F\nid: f\nlogsource: {product: t}\ndetection:\n"
                               "  sel1:\n    EventID: 4625\n"
                               "  sel2:\n    CommandLine|contains: ' -enc '\n"
                               "  filter_a:\n    User|endswith: '$'\n"
                               "  filter_b:\n    Image: null\n"
                               "  keywords:\n    - mimikatz\n"
                               "  condition: '";
    static char yaml[sizeof head + 2 * COND_MAX + 8];
    if (size > COND_MAX)
        return 0;
    size_t n = sizeof head - 1;
    memcpy(yaml, head, n);
    for (size_t i = 0; i < size; i++) {
        char c = (char)data[i];
        if ((unsigned char)c < 0x20 || c == 0x7f)
            c = ' '; /* one line: no control characters in a single-quoted scalar */
        if (c == '\'')
            yaml[n++] = '\''; /* YAML single-quote escape */
        yaml[n++] = c;
    }
    yaml[n++] = '\'';
    yaml[n++] = '\n';

    mw_log_set_level((enum mw_log_level)(MW_LOG_ERROR + 1)); /* refusals are expected */
    mw_sigma_ruleset_t *rs = mw_sigma_ruleset_new();
    if (!rs)
        return 0;
    int rc = mw_sigma_add_string(rs, yaml, n, "cond.yml");
    if (rc != 0 && rc != MW_ENOMEM && strncmp(mw_sigma_last_error(rs), "cond.yml:", 9) != 0)
        abort(); /* a refusal must name file and line */
    if (rc == 0 && mw_sigma_count(rs) == 1) {
        static const char *const kv[][2] = {{"EventID", "4625"},
                                            {"CommandLine", "x -enc y"},
                                            {"User", "host$"},
                                            {"msg", "mimikatz"}};
        for (unsigned mask = 0; mask < 16; mask++) {
            mw_event_t *ev = mw_event_new(MW_SRC_REPLAY, "", 0);
            if (!ev)
                break;
            for (unsigned k = 0; k < 4; k++)
                if ((mask >> k) & 1u)
                    (void)mw_event_add_field(ev, kv[k][0], strlen(kv[k][0]), kv[k][1],
                                             strlen(kv[k][1]));
            int a = 0, b = 0;
            int r1 = mw_sigma_match(rs, NULL, ev, count, &a);
            sg_disable_prefilter = 1;
            int r2 = mw_sigma_match(rs, NULL, ev, count, &b);
            sg_disable_prefilter = 0;
            mw_event_free(ev);
            if (r1 != r2 || a != b)
                abort(); /* the prefilter changed the answer */
        }
    }
    mw_sigma_ruleset_free(rs);
    return 0;
}
