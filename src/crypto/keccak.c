/* Keccak-f[1600] and the SHA-3 / SHAKE sponges, FIPS 202
 * (include/mwrasp/pqc.h, docs/internals/crypto.md section "Keccak").
 *
 * Lane i of the state is A[x][y] with i = x + 5y (FIPS 202 section 3.1.2);
 * lanes are little-endian 64-bit words, so byte j of the sponge's rate is
 * byte j % 8 of lane j / 8. Nothing here depends on the value of the data:
 * the only branches are on lengths and positions. */
#include <string.h>

#include "mwrasp/pqc.h"

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* Round constants RC[ir] of the iota step, FIPS 202 Algorithm 6, computed
 * from rc(t) (Algorithm 5) with w = 64. */
static const uint64_t rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

/* Keccak-p[1600, 24] = Keccak-f[1600], FIPS 202 Algorithm 7 and section 3.4.
 * One round: theta (Algorithm 1), rho (Algorithm 2, offsets of Table 2),
 * pi (Algorithm 3) fused as B[y][2x+3y] = ROT(A[x][y] ^ D[x], r[x][y]), then
 * chi (Algorithm 4) and iota (Algorithm 6). Variables aXY / bXY hold lane
 * A[X][Y] / B[X][Y]. */
void mw_keccak_f1600(uint64_t state[25])
{
    uint64_t a00, a10, a20, a30, a40, a01, a11, a21, a31, a41, a02, a12, a22, a32, a42, a03, a13,
        a23, a33, a43, a04, a14, a24, a34, a44;
    uint64_t b00, b10, b20, b30, b40, b01, b11, b21, b31, b41, b02, b12, b22, b32, b42, b03, b13,
        b23, b33, b43, b04, b14, b24, b34, b44;
    uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;

    a00 = state[0];
    a10 = state[1];
    a20 = state[2];
    a30 = state[3];
    a40 = state[4];
    a01 = state[5];
    a11 = state[6];
    a21 = state[7];
    a31 = state[8];
    a41 = state[9];
    a02 = state[10];
    a12 = state[11];
    a22 = state[12];
    a32 = state[13];
    a42 = state[14];
    a03 = state[15];
    a13 = state[16];
    a23 = state[17];
    a33 = state[18];
    a43 = state[19];
    a04 = state[20];
    a14 = state[21];
    a24 = state[22];
    a34 = state[23];
    a44 = state[24];
    for (int round = 0; round < 24; round++) {
        c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04;
        c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;
        c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24;
        c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;
        c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;
        d0 = c4 ^ ROL64(c1, 1);
        d1 = c0 ^ ROL64(c2, 1);
        d2 = c1 ^ ROL64(c3, 1);
        d3 = c2 ^ ROL64(c4, 1);
        d4 = c3 ^ ROL64(c0, 1);
        b00 = a00 ^ d0;
        b13 = ROL64(a01 ^ d0, 36);
        b21 = ROL64(a02 ^ d0, 3);
        b34 = ROL64(a03 ^ d0, 41);
        b42 = ROL64(a04 ^ d0, 18);
        b02 = ROL64(a10 ^ d1, 1);
        b10 = ROL64(a11 ^ d1, 44);
        b23 = ROL64(a12 ^ d1, 10);
        b31 = ROL64(a13 ^ d1, 45);
        b44 = ROL64(a14 ^ d1, 2);
        b04 = ROL64(a20 ^ d2, 62);
        b12 = ROL64(a21 ^ d2, 6);
        b20 = ROL64(a22 ^ d2, 43);
        b33 = ROL64(a23 ^ d2, 15);
        b41 = ROL64(a24 ^ d2, 61);
        b01 = ROL64(a30 ^ d3, 28);
        b14 = ROL64(a31 ^ d3, 55);
        b22 = ROL64(a32 ^ d3, 25);
        b30 = ROL64(a33 ^ d3, 21);
        b43 = ROL64(a34 ^ d3, 56);
        b03 = ROL64(a40 ^ d4, 27);
        b11 = ROL64(a41 ^ d4, 20);
        b24 = ROL64(a42 ^ d4, 39);
        b32 = ROL64(a43 ^ d4, 8);
        b40 = ROL64(a44 ^ d4, 14);
        a00 = b00 ^ (~b10 & b20);
        a10 = b10 ^ (~b20 & b30);
        a20 = b20 ^ (~b30 & b40);
        a30 = b30 ^ (~b40 & b00);
        a40 = b40 ^ (~b00 & b10);
        a01 = b01 ^ (~b11 & b21);
        a11 = b11 ^ (~b21 & b31);
        a21 = b21 ^ (~b31 & b41);
        a31 = b31 ^ (~b41 & b01);
        a41 = b41 ^ (~b01 & b11);
        a02 = b02 ^ (~b12 & b22);
        a12 = b12 ^ (~b22 & b32);
        a22 = b22 ^ (~b32 & b42);
        a32 = b32 ^ (~b42 & b02);
        a42 = b42 ^ (~b02 & b12);
        a03 = b03 ^ (~b13 & b23);
        a13 = b13 ^ (~b23 & b33);
        a23 = b23 ^ (~b33 & b43);
        a33 = b33 ^ (~b43 & b03);
        a43 = b43 ^ (~b03 & b13);
        a04 = b04 ^ (~b14 & b24);
        a14 = b14 ^ (~b24 & b34);
        a24 = b24 ^ (~b34 & b44);
        a34 = b34 ^ (~b44 & b04);
        a44 = b44 ^ (~b04 & b14);
        a00 ^= rc[round];
    }
    state[0] = a00;
    state[1] = a10;
    state[2] = a20;
    state[3] = a30;
    state[4] = a40;
    state[5] = a01;
    state[6] = a11;
    state[7] = a21;
    state[8] = a31;
    state[9] = a41;
    state[10] = a02;
    state[11] = a12;
    state[12] = a22;
    state[13] = a32;
    state[14] = a42;
    state[15] = a03;
    state[16] = a13;
    state[17] = a23;
    state[18] = a33;
    state[19] = a43;
    state[20] = a04;
    state[21] = a14;
    state[22] = a24;
    state[23] = a34;
    state[24] = a44;
}

static inline uint64_t load64_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void keccak_init(mw_keccak_t *k, unsigned rate, uint8_t dsep)
{
    memset(k->s, 0, sizeof k->s);
    k->rate = rate;
    k->pos = 0;
    k->dsep = dsep;
    k->squeezing = 0;
}

/* SHAKE128: r = 1344 bits; SHAKE256, SHA3-256: r = 1088; SHA3-512: r = 576
 * (FIPS 202 sections 6.1, 6.2). SHA3 appends the bits 01, SHAKE 1111
 * (section 6), followed by the first 1 of pad10*1 (Algorithm 9): the
 * domain byte is 0x06 or 0x1f. */
void mw_shake128_init(mw_keccak_t *k)
{
    keccak_init(k, 168, 0x1f);
}

void mw_shake256_init(mw_keccak_t *k)
{
    keccak_init(k, 136, 0x1f);
}

void mw_sha3_256_init(mw_keccak_t *k)
{
    keccak_init(k, 136, 0x06);
}

void mw_sha3_512_init(mw_keccak_t *k)
{
    keccak_init(k, 72, 0x06);
}

/* SPONGE absorbing phase, FIPS 202 Algorithm 8 steps 5-6, one block at a
 * time: a block is permuted as soon as it is full, so pos < rate between
 * calls. */
void mw_keccak_absorb(mw_keccak_t *k, const uint8_t *in, size_t len)
{
    if (k->squeezing || k->rate == 0 || k->rate > 200 || k->pos >= k->rate)
        return;
    const unsigned rate = k->rate;
    /* Finish a partial block byte by byte. */
    while (len > 0 && k->pos != 0) {
        k->s[k->pos / 8] ^= (uint64_t)*in++ << (8 * (k->pos % 8));
        len--;
        if (++k->pos == rate) {
            mw_keccak_f1600(k->s);
            k->pos = 0;
        }
    }
    if (len == 0)
        return;
    /* Whole blocks, a lane at a time (every rate is a multiple of 8). */
    while (len >= rate) {
        for (unsigned i = 0; i < rate / 8; i++)
            k->s[i] ^= load64_le(in + 8 * i);
        mw_keccak_f1600(k->s);
        in += rate;
        len -= rate;
    }
    for (size_t i = 0; i < len; i++)
        k->s[i / 8] ^= (uint64_t)in[i] << (8 * (i % 8));
    k->pos = (unsigned)len; /* was 0: len < rate */
}

/* SPONGE squeezing phase, FIPS 202 Algorithm 8 steps 7-10. The first call
 * applies the domain bits and pad10*1 (Algorithm 9) after the message. */
void mw_keccak_squeeze(mw_keccak_t *k, uint8_t *out, size_t len)
{
    if (k->rate == 0 || k->rate > 200 || k->rate % 8 != 0 || k->pos > k->rate) {
        if (len > 0)
            memset(out, 0, len);
        return;
    }
    const unsigned rate = k->rate;
    if (!k->squeezing) {
        k->s[k->pos / 8] ^= (uint64_t)k->dsep << (8 * (k->pos % 8));
        k->s[(rate - 1) / 8] ^= (uint64_t)0x80 << (8 * ((rate - 1) % 8));
        mw_keccak_f1600(k->s);
        k->pos = 0;
        k->squeezing = 1;
    }
    while (len > 0) {
        if (k->pos == rate) {
            mw_keccak_f1600(k->s);
            k->pos = 0;
        }
        if (k->pos == 0 && len >= rate) {
            for (unsigned i = 0; i < rate / 8; i++)
                store64_le(out + 8 * i, k->s[i]);
            out += rate;
            len -= rate;
            k->pos = rate;
            continue;
        }
        size_t n = rate - k->pos;
        if (n > len)
            n = len;
        for (size_t i = 0; i < n; i++, k->pos++)
            out[i] = (uint8_t)(k->s[k->pos / 8] >> (8 * (k->pos % 8)));
        out += n;
        len -= n;
    }
}

void mw_keccak_wipe(mw_keccak_t *k)
{
    explicit_bzero(k, sizeof *k);
}

static void oneshot(mw_keccak_t *k, uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    mw_keccak_absorb(k, in, inlen);
    mw_keccak_squeeze(k, out, outlen);
    mw_keccak_wipe(k);
}

void mw_sha3_256(uint8_t out[32], const uint8_t *in, size_t len)
{
    mw_keccak_t k;
    mw_sha3_256_init(&k);
    oneshot(&k, out, 32, in, len);
}

void mw_sha3_512(uint8_t out[64], const uint8_t *in, size_t len)
{
    mw_keccak_t k;
    mw_sha3_512_init(&k);
    oneshot(&k, out, 64, in, len);
}

void mw_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    mw_keccak_t k;
    mw_shake128_init(&k);
    oneshot(&k, out, outlen, in, inlen);
}

void mw_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    mw_keccak_t k;
    mw_shake256_init(&k);
    oneshot(&k, out, outlen, in, inlen);
}
