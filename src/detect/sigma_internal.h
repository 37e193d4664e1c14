/* Private to src/detect/sigma*.c: the compiled form of a Sigma rule.
 *
 * A rule compiles to: named selections (each an OR of maps, a map an AND of
 * field conditions, a field condition an OR - or AND with |all - of values),
 * and a condition tree over the selections. Literals are lowercased at
 * compile time; field values are lowercased at most once per event (scratch
 * cache). Every field name used by a ruleset gets a slot number; an event is
 * resolved to slots once, so that rules read fields by index.
 *
 * Extending: a new modifier is a new enum sg_op (or flag) set in
 * sigma_compile.c (parse_modifiers) and handled in sigma_match.c
 * (value_match); a new condition construct is a new enum sg_nop parsed in
 * sigma_cond.c and evaluated in eval_node(). */
#ifndef MW_SIGMA_INTERNAL_H
#define MW_SIGMA_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mwrasp/detection.h"
#include "mwrasp/sigma.h"

/* ---- per-rule bump allocator (freed whole) ---- */
struct sg_chunk;
struct sg_arena {
    struct sg_chunk *head;
    size_t total; /* bytes allocated, capped at SG_ARENA_MAX */
};
#define SG_ARENA_MAX (64u << 20)
void *sg_alloc(struct sg_arena *a, size_t n); /* zeroed; NULL on failure/cap */
char *sg_strndup(struct sg_arena *a, const char *s, size_t n);
void sg_arena_free(struct sg_arena *a);

/* ---- values ---- */
enum sg_op {
    SG_EXACT = 0, /* whole value equal */
    SG_CONTAINS, /* substring */
    SG_STARTSWITH, /* prefix */
    SG_ENDSWITH, /* suffix */
    SG_GLOB, /* pattern with * and ? inside (kinds[] says which) */
    SG_NULL, /* field missing or empty (YAML null) */
    SG_ANY, /* pattern "*" alone: field present, any value */
    SG_RE, /* |re: PCRE2 search on the field's original text (aux: struct sg_re) */
    SG_CIDR, /* |cidr: the field's text is an address in the prefix (aux: struct sg_cidr) */
    SG_NUM, /* |lt |lte |gt |gte: numeric comparison (aux: double, cmp: enum sg_cmp) */
    SG_EXISTS, /* |exists: len 1 = must exist, 0 = must not (has_null then set) */
    SG_FIELDREF, /* |fieldref: compare with another field (aux: struct sg_fref) */
};

enum sg_cmp { SG_LT = 1, SG_LTE, SG_GT, SG_GTE };

/* Slot number of keyword conditions ('|all': [...] without a field name):
 * the values are searched in every field of the event. */
#define SG_SLOT_KW UINT32_MAX

#define SG_RE_I 1u /* |re|i: PCRE2_CASELESS */
#define SG_RE_M 2u /* |re|m: PCRE2_MULTILINE */
#define SG_RE_S 4u /* |re|s: PCRE2_DOTALL */
struct sg_re {
    void *code; /* pcre2_code_8 * */
    void *mctx; /* pcre2_match_context_8 *: match/depth/heap limits */
    struct sg_re *next; /* the rule's list, freed by sg_rule_free */
    uint32_t flags; /* SG_RE_I | SG_RE_M | SG_RE_S */
    /* 1 + the regex's id in the scan bitset (sigma_hs.c), or 0: PCRE2
     * only. Set at build when the regex's slot has a regex database that
     * holds it (compiled in Hyperscan's prefilter mode: it reports at least
     * every value PCRE2 matches). When the slot's regex scan of this
     * event's value did not report it, PCRE2 is not run: no match. */
    uint32_t hsid;
};

struct sg_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned bits;
    unsigned char addr[16];
};

struct sg_fref {
    uint32_t slot; /* the other field */
    uint8_t mode; /* SG_EXACT, SG_CONTAINS, SG_STARTSWITH, SG_ENDSWITH */
};

enum sg_kind { SG_K_LIT = 0, SG_K_STAR = 1, SG_K_QMARK = 2 };

struct sg_value {
    uint64_t bloom[4]; /* SG_CONTAINS: bigram filter of lowercase(s) (sg_bloom); SG_GLOB:
                          of its literal runs (sg_bloom_glob) */
    const char *s; /* literal bytes (NUL-terminated), lowercased unless cased */
    const uint8_t *kinds; /* SG_GLOB only: one enum sg_kind per byte of s */
    const void *aux; /* op-specific data (see enum sg_op) */
    uint32_t len;
    uint32_t grp; /* index of the rule value this one was expanded from */
    uint8_t op; /* enum sg_op */
    uint8_t cased; /* |cased (and |re): compare with the field's original bytes */
    uint8_t cmp; /* SG_NUM: enum sg_cmp */
    /* 1 + the value's literal id in the prefilter's Hyperscan databases
     * (sigma_hs.c), or 0: exact/contains/startswith/endswith values of >= 3
     * bytes, and globs by their longest literal run of >= 3 bytes, on a
     * slot (or the keywords) with a database. When the scan of this
     * event's field did not report it, the value cannot match. */
    uint32_t lit;
};

struct sg_fcond {
    uint32_t slot; /* field slot in the ruleset, or SG_SLOT_KW */
    uint32_t nvals;
    struct sg_value *vals; /* expanded values; equal grp are contiguous */
    uint32_t ngrp; /* rule values before expansion (windash, base64offset) */
    uint8_t all; /* |all: every group must have a matching value */
    uint8_t has_null; /* a null value: missing field matches */
    /* 1 + the condition's id in the scan bitset (sigma_hs.c), or 0: every
     * value has a literal id; the scan sets the bit when one of them is
     * found. Present field, bit clear: no value can match. */
    uint32_t fid;
};

struct sg_map {
    uint32_t n;
    struct sg_fcond *conds;
};

struct sg_sel {
    const char *name;
    uint32_t line;
    uint32_t nmaps; /* OR of maps */
    struct sg_map *maps;
    uint32_t nkw; /* keywords: OR of values, matched in the raw event */
    struct sg_value *kw;
};

/* ---- condition tree ---- */
enum sg_nop { SG_N_SEL, SG_N_AND, SG_N_OR, SG_N_NOT, SG_N_OF };

struct sg_node {
    uint8_t op;
    uint32_t sel; /* SEL: selection index */
    uint32_t k; /* OF: how many selections must match */
    uint32_t n; /* AND/OR/NOT: children; OF: selections */
    uint32_t *kids; /* AND/OR/NOT: node indexes; OF: selection indexes */
};

struct sg_rule {
    struct sg_arena arena;
    mw_detection_t det;
    const char *status, *description, *file;
    const char *ls_product, *ls_category, *ls_service; /* logsource, may be NULL */
    uint32_t line;
    uint32_t nsels;
    struct sg_sel *sels;
    uint32_t nnodes;
    struct sg_node *nodes;
    uint32_t root;
    uint32_t nreq; /* slots that must be present for the condition to hold */
    uint32_t *req;
    uint8_t uses_raw; /* keywords: searches every field of the event */
    struct sg_re *res; /* compiled regexes, freed with the rule */
    /* Prefilter: the condition can hold only if one of these field
     * conditions holds (0 anchors = no prefilter, evaluate always). */
    uint32_t nanchors;
    const struct sg_fcond **anchors;
    /* 1 + index in the ruleset's gates[] of a selection the root ANDs with
     * (the logsource pipeline's: sigma.c, rule_gate), or 0. Rules with equal
     * gate selections share the index, so the gate is evaluated at most once
     * per event for all of them; when it is false the rule cannot match. */
    uint32_t gate;
};

/* ---- field slots (name -> index), owned by the ruleset ---- */
struct sg_fields {
    char **names;
    uint32_t *lens;
    uint32_t n, cap;
    int32_t *ht; /* open addressing, -1 empty */
    uint32_t htcap;
    /* Case-insensitive groups: slots whose names differ only in ASCII case
     * ("TargetFilename", "TargetFileName"). ci_ht (htcap buckets, keyed by
     * the lowercased name) holds each group's first slot; ci_next chains
     * the group; ci_head[s] is the first slot of s's group. */
    int32_t *ci_ht;
    int32_t *ci_next;
    int32_t *ci_head;
    /* Changes (to a value never used before in the process) whenever a
     * slot is added, 0 while empty: scratches cache name -> slot lookups
     * under it (sigma_match.c, key_slots). */
    uint64_t uid;
};

/* ---- prefilter index (Suricata-style): which rules to evaluate ----
 * A rule whose anchors are all exact values is entered once per value in
 * a hash table keyed by (slot, value); a rule with other anchors is listed
 * under each anchor's slot; a rule without anchors is always evaluated.
 * Per event: look up each present field's value, run the other anchors of
 * present slots, evaluate only the marked rules (in load order). */
struct sg_pf_exact {
    uint32_t slot, len, rule, used;
    uint64_t hash;
    const char *s;
};
struct sg_pf_other {
    uint64_t bloom[4]; /* bits every value of fc needs (all-contains fconds) */
    const struct sg_fcond *fc;
    uint32_t rule;
    uint32_t has_bloom;
    uint32_t gate; /* the rule's sg_rule.gate: checked before fc */
};
struct sg_pf_slot {
    uint32_t nexact; /* exact entries for this slot */
    uint32_t exact_maxlen; /* the longest of them: a longer value has none */
    uint32_t nother, cap;
    struct sg_pf_other *other;
    /* Hyperscan (sigma_hs.c), built after loading when the slot has at
     * least sg_hs_min_anchors anchors made only of literals: one literal
     * database of their values (caseless, as plain substrings: a necessary
     * condition for exact/startswith/endswith/contains, cased or not). A
     * hit on literal i confirms anchors hs_anc[hs_off[i]..hs_off[i+1]) with
     * the evaluator; the anchors in rest[] are checked one by one. */
    void *hs_db; /* hs_database_t *, or NULL: every anchor checked one by one */
    uint32_t *hs_off, *hs_anc;
    uint32_t nrest;
    uint32_t *rest;
    /* Every literal value of the slot's field conditions (not only the
     * anchors') is in the database: literal i of the slot has global id
     * hs_base + i (scratch bitset), i < hs_nlit. */
    uint32_t hs_base, hs_nlit;
    /* Field conditions with an id (sg_fcond.fid): hs_base + hs_nlit + j,
     * j < hs_nfc; literal i sets those of fc_ids[fc_off[i]..fc_off[i+1]). */
    uint32_t hs_nfc;
    uint32_t *fc_off, *fc_ids;
    /* Regexes (sigma_hs.c): one prefilter-mode database of the slot's |re
     * values that Hyperscan accepts (hs_compile_multi, single match), or
     * NULL. Regex j has the id re_base + j, j < re_n (sg_re.hsid = 1 +
     * that), in a range of its own (64-aligned). Byte mode, ASCII patterns,
     * scanned only on ASCII values (sigma_hs.c says why), and only when a
     * regex of the slot is first evaluated in an event (sigma_match.c,
     * re_scan). */
    void *re_db; /* hs_database_t * */
    uint32_t re_base;
    uint32_t re_n;
};
struct sg_prefilter {
    struct sg_pf_exact *ht;
    uint32_t htcap, htn;
    struct sg_pf_slot *slots;
    uint32_t nslots;
    uint32_t *always;
    uint32_t nalways, alwayscap;
    uint64_t hs_id; /* != 0: some database was built; unique per build */
    void *kw_db; /* hs_database_t * of the keyword literals, or NULL */
    uint32_t kw_base, kw_nlit; /* their global ids: kw_base + i */
    /* bytes of the shortest keyword literal (0: no database): a field value
     * shorter than that holds none of them, and is not scanned */
    uint32_t kw_minlen;
    uint32_t nlits; /* global ids < nlits (each database's range 64-aligned) */
    /* |re values on fields at the last build: in a regex database, and
     * PCRE2 only (rejected by Hyperscan, can match an empty string,
     * keywords, options Hyperscan does not share, or no database). */
    uint32_t re_hs, re_pcre;
};

struct mw_sigma_ruleset {
    struct sg_rule **rules;
    size_t nrules, cap;
    struct sg_fields fields;
    struct sg_prefilter pf;
    uint8_t has_kw; /* some rule has keywords: scratch sizes for every field */
    uint8_t nulls; /* enum mw_sigma_nulls (sigma_match.c) */
    char **warns; /* loaded-but-reported rules ("FILE:LINE: ..."), nwarns <= MW_SIGMA_MAX_RULES */
    size_t nwarns, warncap;
    char err[1024];
    mw_sigma_pipeline_t *pipeline; /* owned; applied to rules as they load (sigma_pipeline.c) */
    mw_sigma_error_fn errfn; /* refusals go here instead of the log when set */
    void *errctx;
    /* Distinct gate selections (sg_rule.gate), each one rule's own; at most
     * SG_MAX_GATES (further rules get no gate). */
    const struct sg_sel **gates;
    uint32_t ngates, gatecap;
};
#define SG_MAX_GATES 4096

/* Hash of n bytes (prefilter keys), eight bytes at a time: each word (the
 * last one zero-padded) is mixed by a multiply and an xor-shift, the
 * length goes into the seed, and a final avalanche spreads the high bits
 * into the low ones used for table indexes. Only ever compared within one
 * process. */
static inline uint64_t sg_hash64(const char *s, size_t n)
{
    const uint64_t k = 0xff51afd7ed558ccdull;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    if (i < n) {
        w = 0;
        memcpy(&w, s + i, n - i);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 32);
}

/* Slot of a field name, adding it if new. MW_ELIMIT / MW_ENOMEM. */
int sg_fields_intern(struct sg_fields *f, const char *name, size_t len, uint32_t *slot);
/* Slot of a field name, or -1. */
int32_t sg_fields_find(const struct sg_fields *f, const char *name, size_t len);

/* Writes "FILE:LINE: <fmt ...>" into err[errlen] (truncated to fit): the one
 * shape of every rule and pipeline error message. */
void sg_vfail_at(char *err, size_t errlen, const char *file, unsigned long line, const char *fmt,
                 va_list ap);
/* First slot of the case-insensitive group of name (ASCII), or -1. */
int32_t sg_fields_find_ci(const struct sg_fields *f, const char *name, size_t len);

/* Compiles one YAML document (sigma_compile.c). On failure *rule is
 * untouched, err gets "FILE:LINE: ..." and a negative MW_E* is returned. */
struct yaml_document_s;
int sg_compile_rule(mw_sigma_ruleset_t *rs, struct yaml_document_s *doc, const char *file,
                    int docno, struct sg_rule **rule, char *err, size_t errlen);
void sg_rule_free(struct sg_rule *r);

/* Parses a condition expression into r->nodes/r->root (sigma_cond.c).
 * line/file are for messages. */
int sg_parse_condition(struct sg_rule *r, const char *const *conds, const uint32_t *lines,
                       size_t nconds, const char *file, char *err, size_t errlen);

/* Required slots computed from the condition tree (sigma_cond.c). */
int sg_compute_required(struct sg_rule *r);

/* Anchors for the prefilter, from the condition tree (sigma_cond.c). */
int sg_compute_anchors(struct sg_rule *r);

/* (Re)builds the prefilter's Hyperscan databases after rules were added
 * (sigma_hs.c). On any failure (no Hyperscan support on this CPU, compile
 * error, memory) the slots keep the one-by-one check, logged once per
 * process; never fails. */
void sg_pf_hs_build(mw_sigma_ruleset_t *rs);
void sg_pf_hs_free(struct sg_prefilter *pf);
/* Test knobs (not thread-safe): a slot gets a database from this many
 * literal-only anchors (read at build); sg_disable_hs makes prefilter()
 * ignore the databases (read per event). */
extern uint32_t sg_hs_min_anchors;
/* A field condition gets a condition bit (sg_fcond.fid) from this many
 * values (read at build): the scan sets the bits of every condition of
 * each literal it finds, frequent literals belong to hundreds of
 * conditions, and for a condition of one or two values the bit saves
 * nothing over testing their literal bits. */
extern uint32_t sg_hs_fid_min_vals;
extern int sg_disable_hs;
/* Test knobs of the scan memo (sigma_match.c, read per event): when set,
 * sg_disable_memo scans every value; sg_memo_hash_mask is and-ed into the
 * memo's hashes (0 makes every value of a slot collide, so that only the
 * full comparison of the value tells entries apart). */
extern int sg_disable_memo;
/* Test knob (sigma_match.c): while sg_count_re is set, every PCRE2 match
 * call adds one to sg_re_calls, so tests can see the regex scan spare them. */
extern int sg_count_re;
extern uint64_t sg_re_calls;
extern uint64_t sg_memo_hash_mask;

/* 256-bit bigram filter: out has every bit of s's byte pairs set
 * (sigma_match.c). A substring's bits are a subset of the text's. */
void sg_bloom(const char *s, size_t n, uint64_t out[4]);
/* The same filter for a glob: the ASCII-lowercased pairs of adjacent
 * literal bytes (kinds[i] == SG_K_LIT), so a subset of the filter of any
 * text the glob matches, cased or not. */
void sg_bloom_glob(const char *s, const uint8_t *kinds, size_t n, uint64_t out[4]);

/* Test knob (sigma_match.c): when set, every rule is evaluated, so tests
 * can check that the prefilter never changes a result. Not thread-safe. */
extern int sg_disable_prefilter;

/* Strict decimal number ([+-]digits[.digits][(e|E)[+-]digits], nothing
 * else) of s[0..n) into *out: 0, or -1 if s is not one (sigma_match.c). */
int sg_parse_num(const char *s, size_t n, double *out);

/* ASCII lowercase copy (sigma_match.c). */
void sg_lower(char *dst, const char *src, size_t n);

#endif
