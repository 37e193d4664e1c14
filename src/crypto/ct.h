/* Constant-time test hooks for src/crypto (docs/internals/crypto.md, "Constant time").
 *
 * tests/integration/test_crypto_ct.sh runs keygen, decapsulation and signing under
 * valgrind memcheck with the secret inputs marked undefined
 * (VALGRIND_MAKE_MEM_UNDEFINED), so that any branch or memory index that depends
 * on a secret is reported as "conditional jump depends on uninitialised value" or
 * "use of uninitialised value". Values that are public by design but computed
 * from secrets (rho from the key-generation seed, the accept/reject decision of
 * ML-DSA's signing loop, ...) are declassified with MW_CT_DECLASSIFY at the one
 * place they become public; each call site says why the value is public.
 *
 * Outside valgrind the client request is a handful of no-op instructions. */
#ifndef MW_CRYPTO_CT_H
#define MW_CRYPTO_CT_H

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MW_CT_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef MW_CT_DECLASSIFY
#define MW_CT_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#endif
