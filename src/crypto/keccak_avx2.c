/* Keccak-f[1600] on four states at once with AVX2 (docs/internals/crypto.md,
 * section "AVX2"): 64-bit lane i of the four states sits in one 256-bit
 * register, so every step of FIPS 202 Algorithm 7 (theta, rho, pi, chi,
 * iota; sections 3.2.1-3.2.5) is the scalar step of keccak.c done on four
 * lanes. Same round structure, same rotation offsets (Table 2), same round
 * constants (Algorithm 6). No branch or index on the data. */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#include "crypto/dispatch.h"

#define AVX2 __attribute__((target("avx2")))

/* RC[ir], FIPS 202 Algorithm 6 (same table as keccak.c). */
static const uint64_t rc_x4[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

#define XOR(a, b) _mm256_xor_si256((a), (b))
#define ANDNOT(a, b) _mm256_andnot_si256((a), (b)) /* ~a & b */
#define ROL(x, n) _mm256_or_si256(_mm256_slli_epi64((x), (n)), _mm256_srli_epi64((x), 64 - (n)))

AVX2 void mw_keccakx4_f1600_avx2(uint64_t s[100])
{
    __m256i a00, a10, a20, a30, a40, a01, a11, a21, a31, a41, a02, a12, a22, a32, a42, a03, a13,
        a23, a33, a43, a04, a14, a24, a34, a44;
    __m256i b00, b10, b20, b30, b40, b01, b11, b21, b31, b41, b02, b12, b22, b32, b42, b03, b13,
        b23, b33, b43, b04, b14, b24, b34, b44;
    __m256i c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
#define LD(i) _mm256_loadu_si256((const __m256i *)(s + 4 * (i)))
#define ST(i, v) _mm256_storeu_si256((__m256i *)(s + 4 * (i)), (v))
    a00 = LD(0);
    a10 = LD(1);
    a20 = LD(2);
    a30 = LD(3);
    a40 = LD(4);
    a01 = LD(5);
    a11 = LD(6);
    a21 = LD(7);
    a31 = LD(8);
    a41 = LD(9);
    a02 = LD(10);
    a12 = LD(11);
    a22 = LD(12);
    a32 = LD(13);
    a42 = LD(14);
    a03 = LD(15);
    a13 = LD(16);
    a23 = LD(17);
    a33 = LD(18);
    a43 = LD(19);
    a04 = LD(20);
    a14 = LD(21);
    a24 = LD(22);
    a34 = LD(23);
    a44 = LD(24);
    for (int round = 0; round < 24; round++) {
        c0 = XOR(XOR(XOR(a00, a01), XOR(a02, a03)), a04);
        c1 = XOR(XOR(XOR(a10, a11), XOR(a12, a13)), a14);
        c2 = XOR(XOR(XOR(a20, a21), XOR(a22, a23)), a24);
        c3 = XOR(XOR(XOR(a30, a31), XOR(a32, a33)), a34);
        c4 = XOR(XOR(XOR(a40, a41), XOR(a42, a43)), a44);
        d0 = XOR(c4, ROL(c1, 1));
        d1 = XOR(c0, ROL(c2, 1));
        d2 = XOR(c1, ROL(c3, 1));
        d3 = XOR(c2, ROL(c4, 1));
        d4 = XOR(c3, ROL(c0, 1));
        b00 = XOR(a00, d0);
        b13 = ROL(XOR(a01, d0), 36);
        b21 = ROL(XOR(a02, d0), 3);
        b34 = ROL(XOR(a03, d0), 41);
        b42 = ROL(XOR(a04, d0), 18);
        b02 = ROL(XOR(a10, d1), 1);
        b10 = ROL(XOR(a11, d1), 44);
        b23 = ROL(XOR(a12, d1), 10);
        b31 = ROL(XOR(a13, d1), 45);
        b44 = ROL(XOR(a14, d1), 2);
        b04 = ROL(XOR(a20, d2), 62);
        b12 = ROL(XOR(a21, d2), 6);
        b20 = ROL(XOR(a22, d2), 43);
        b33 = ROL(XOR(a23, d2), 15);
        b41 = ROL(XOR(a24, d2), 61);
        b01 = ROL(XOR(a30, d3), 28);
        b14 = ROL(XOR(a31, d3), 55);
        b22 = ROL(XOR(a32, d3), 25);
        b30 = ROL(XOR(a33, d3), 21);
        b43 = ROL(XOR(a34, d3), 56);
        b03 = ROL(XOR(a40, d4), 27);
        b11 = ROL(XOR(a41, d4), 20);
        b24 = ROL(XOR(a42, d4), 39);
        b32 = ROL(XOR(a43, d4), 8);
        b40 = ROL(XOR(a44, d4), 14);
        a00 = XOR(b00, ANDNOT(b10, b20));
        a10 = XOR(b10, ANDNOT(b20, b30));
        a20 = XOR(b20, ANDNOT(b30, b40));
        a30 = XOR(b30, ANDNOT(b40, b00));
        a40 = XOR(b40, ANDNOT(b00, b10));
        a01 = XOR(b01, ANDNOT(b11, b21));
        a11 = XOR(b11, ANDNOT(b21, b31));
        a21 = XOR(b21, ANDNOT(b31, b41));
        a31 = XOR(b31, ANDNOT(b41, b01));
        a41 = XOR(b41, ANDNOT(b01, b11));
        a02 = XOR(b02, ANDNOT(b12, b22));
        a12 = XOR(b12, ANDNOT(b22, b32));
        a22 = XOR(b22, ANDNOT(b32, b42));
        a32 = XOR(b32, ANDNOT(b42, b02));
        a42 = XOR(b42, ANDNOT(b02, b12));
        a03 = XOR(b03, ANDNOT(b13, b23));
        a13 = XOR(b13, ANDNOT(b23, b33));
        a23 = XOR(b23, ANDNOT(b33, b43));
        a33 = XOR(b33, ANDNOT(b43, b03));
        a43 = XOR(b43, ANDNOT(b03, b13));
        a04 = XOR(b04, ANDNOT(b14, b24));
        a14 = XOR(b14, ANDNOT(b24, b34));
        a24 = XOR(b24, ANDNOT(b34, b44));
        a34 = XOR(b34, ANDNOT(b44, b04));
        a44 = XOR(b44, ANDNOT(b04, b14));
        a00 = XOR(a00, _mm256_set1_epi64x((long long)rc_x4[round]));
    }
    ST(0, a00);
    ST(1, a10);
    ST(2, a20);
    ST(3, a30);
    ST(4, a40);
    ST(5, a01);
    ST(6, a11);
    ST(7, a21);
    ST(8, a31);
    ST(9, a41);
    ST(10, a02);
    ST(11, a12);
    ST(12, a22);
    ST(13, a32);
    ST(14, a42);
    ST(15, a03);
    ST(16, a13);
    ST(17, a23);
    ST(18, a33);
    ST(19, a43);
    ST(20, a04);
    ST(21, a14);
    ST(22, a24);
    ST(23, a34);
    ST(24, a44);
#undef LD
#undef ST
}

#endif
