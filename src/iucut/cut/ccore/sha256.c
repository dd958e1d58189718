/*
 * sha256.c - SHA-256 (FIPS 180-4) for the iucut C core.
 *
 * Two block functions compute the same compression:
 *
 *   sha256_blocks_portable  plain C99, fully unrolled, used everywhere;
 *   sha256_blocks_shani     x86-64 SHA extensions (SHA-NI), used when the
 *                           CPU reports SHA, SSE4.1 and SSSE3.
 *
 * The SHA-NI path follows the public-domain SHA-NI sample code by Sean
 * Gulley (Intel) as published by Jeffrey Walton (noloader/SHA-Intrinsics):
 * the state is kept as the ABEF/CDGH register pair that SHA256RNDS2
 * expects, each 4-round group adds its round constants to the message
 * words, and SHA256MSG1/SHA256MSG2 build the message schedule alongside.
 *
 * SHA-NI is compiled with a function-level target attribute only, so the
 * file builds with the default flags of any GCC/Clang (no -msha) and the
 * instructions are executed only after a CPUID check.  The choice is made
 * once, on first use.  Define IU_SHA256_PORTABLE to compile the portable
 * path alone (used to test it on SHA-NI machines).
 */
#include "sha256.h"

#include <string.h>

#if !defined(IU_SHA256_PORTABLE) && defined(__x86_64__) && \
    (defined(__GNUC__) || defined(__clang__))
#define IU_SHA256_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#define IU_SHA256_ALIGN16 __attribute__((aligned(16)))
#else
#define IU_SHA256_HAVE_SHANI 0
#define IU_SHA256_ALIGN16
#endif

/* Process nblocks consecutive 64-byte blocks of data into state. */
typedef void (*sha256_blocks_fn)(uint32_t state[8], const uint8_t *data,
                                 size_t nblocks);

/* Round constants: first 32 bits of the fractional parts of the cube roots
 * of the first 64 primes.  Aligned so SHA-NI can load them four at a time. */
static const uint32_t K256[64] IU_SHA256_ALIGN16 = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
    0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
    0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* ---------------------------------------------------------------------- */
/* Byte order helpers (compilers turn these into single bswap'd moves).    */

static inline uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void store_be64(uint8_t *p, uint64_t v)
{
    store_be32(p, (uint32_t)(v >> 32));
    store_be32(p + 4, (uint32_t)v);
}

/* ---------------------------------------------------------------------- */
/* Portable block function.                                                */

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

/* One round.  Instead of shifting a..h every round, callers rotate the
 * argument names, so eight consecutive rounds need no register moves.
 * w is the schedule word for this round, k its round constant. */
#define ROUND(a, b, c, d, e, f, g, h, k, w)                                   \
    do {                                                                      \
        uint32_t t1_ = (h) + BSIG1(e) + CH(e, f, g) + (k) + (w);              \
        (d) += t1_;                                                           \
        (h) = t1_ + BSIG0(a) + MAJ(a, b, c);                                  \
    } while (0)

/* Expand the schedule in place: W[i] for i >= 16, kept in a 16-word ring. */
#define SCHED(i)                                                              \
    (W[(i)&15] += SSIG1(W[((i) + 14) & 15]) + W[((i) + 9) & 15] +             \
                  SSIG0(W[((i) + 1) & 15]))

/* Sixteen rounds; R is either a plain schedule read or SCHED. */
#define ROUNDS16(base, R)                                                     \
    do {                                                                      \
        ROUND(a, b, c, d, e, f, g, h, K256[(base) + 0], R(0));                \
        ROUND(h, a, b, c, d, e, f, g, K256[(base) + 1], R(1));                \
        ROUND(g, h, a, b, c, d, e, f, K256[(base) + 2], R(2));                \
        ROUND(f, g, h, a, b, c, d, e, K256[(base) + 3], R(3));                \
        ROUND(e, f, g, h, a, b, c, d, K256[(base) + 4], R(4));                \
        ROUND(d, e, f, g, h, a, b, c, K256[(base) + 5], R(5));                \
        ROUND(c, d, e, f, g, h, a, b, K256[(base) + 6], R(6));                \
        ROUND(b, c, d, e, f, g, h, a, K256[(base) + 7], R(7));                \
        ROUND(a, b, c, d, e, f, g, h, K256[(base) + 8], R(8));                \
        ROUND(h, a, b, c, d, e, f, g, K256[(base) + 9], R(9));                \
        ROUND(g, h, a, b, c, d, e, f, K256[(base) + 10], R(10));              \
        ROUND(f, g, h, a, b, c, d, e, K256[(base) + 11], R(11));              \
        ROUND(e, f, g, h, a, b, c, d, K256[(base) + 12], R(12));              \
        ROUND(d, e, f, g, h, a, b, c, K256[(base) + 13], R(13));              \
        ROUND(c, d, e, f, g, h, a, b, K256[(base) + 14], R(14));              \
        ROUND(b, c, d, e, f, g, h, a, K256[(base) + 15], R(15));              \
    } while (0)

#define WREAD(i) W[i]

static void sha256_blocks_portable(uint32_t state[8], const uint8_t *data,
                                   size_t nblocks)
{
    uint32_t W[16];
    uint32_t a, b, c, d, e, f, g, h;
    int i, j;

    while (nblocks--) {
        for (i = 0; i < 16; i++)
            W[i] = load_be32(data + 4 * i);

        a = state[0]; b = state[1]; c = state[2]; d = state[3];
        e = state[4]; f = state[5]; g = state[6]; h = state[7];

        ROUNDS16(0, WREAD);
        for (j = 16; j < 64; j += 16)
            ROUNDS16(j, SCHED);

        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
        data += 64;
    }
}

#undef WREAD
#undef ROUNDS16
#undef SCHED
#undef ROUND

/* ---------------------------------------------------------------------- */
/* SHA-NI block function (x86-64, GCC/Clang).                              */

#if IU_SHA256_HAVE_SHANI

/* Rounds 4q..4q+1 on the low half of w + K, then 4q+2..4q+3 on the high
 * half.  They are split so message scheduling can be interleaved. */
#define SHANI_RNDS_LO(w, q)                                                   \
    msg = _mm_add_epi32((w), _mm_load_si128((const __m128i *)&K256[4 * (q)])); \
    st1 = _mm_sha256rnds2_epu32(st1, st0, msg)
#define SHANI_RNDS_HI()                                                       \
    msg = _mm_shuffle_epi32(msg, 0x0E);                                       \
    st0 = _mm_sha256rnds2_epu32(st0, st1, msg)

/* Finish the next message quad: wn holds MSG1(W[q-3], W[q-2]); add
 * W[q-1..q] words 1..4 (alignr) and apply MSG2 with W[q]. */
#define SHANI_MSG2(wn, wq, wp)                                                \
    wn = _mm_sha256msg2_epu32(_mm_add_epi32((wn), _mm_alignr_epi8((wq), (wp), 4)), (wq))
/* Start a later quad: wp (W[q-1]) becomes MSG1(W[q-1], W[q]). */
#define SHANI_MSG1(wp, wq) wp = _mm_sha256msg1_epu32((wp), (wq))

/* A steady-state quad q with message W[q] in wq, next quad wn, previous wp. */
#define SHANI_QUAD(q, wq, wn, wp)                                             \
    SHANI_RNDS_LO(wq, q);                                                     \
    SHANI_MSG2(wn, wq, wp);                                                   \
    SHANI_RNDS_HI();                                                          \
    SHANI_MSG1(wp, wq)

__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks_shani(uint32_t state[8], const uint8_t *data,
                                size_t nblocks)
{
    /* Byte shuffle that turns four big-endian words into native order. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL,
                                         0x0405060700010203LL);
    __m128i st0, st1, abef_save, cdgh_save, msg, tmp;
    __m128i m0, m1, m2, m3;

    /* state[] is A..H; SHA256RNDS2 wants ABEF and CDGH (high to low). */
    tmp = _mm_loadu_si128((const __m128i *)&state[0]); /* DCBA */
    st1 = _mm_loadu_si128((const __m128i *)&state[4]); /* HGFE */
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                /* CDAB */
    st1 = _mm_shuffle_epi32(st1, 0x1B);                /* EFGH */
    st0 = _mm_alignr_epi8(tmp, st1, 8);                /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);             /* CDGH */

    while (nblocks--) {
        abef_save = st0;
        cdgh_save = st1;

        m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), bswap);
        m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), bswap);
        m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), bswap);
        m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), bswap);

        /* Rounds 0-15: message words straight from the block. */
        SHANI_RNDS_LO(m0, 0);
        SHANI_RNDS_HI();

        SHANI_RNDS_LO(m1, 1);
        SHANI_RNDS_HI();
        SHANI_MSG1(m0, m1);

        SHANI_RNDS_LO(m2, 2);
        SHANI_RNDS_HI();
        SHANI_MSG1(m1, m2);

        SHANI_QUAD(3, m3, m0, m2);

        /* Rounds 16-51: the schedule runs one to three quads ahead. */
        SHANI_QUAD(4, m0, m1, m3);
        SHANI_QUAD(5, m1, m2, m0);
        SHANI_QUAD(6, m2, m3, m1);
        SHANI_QUAD(7, m3, m0, m2);
        SHANI_QUAD(8, m0, m1, m3);
        SHANI_QUAD(9, m1, m2, m0);
        SHANI_QUAD(10, m2, m3, m1);
        SHANI_QUAD(11, m3, m0, m2);
        SHANI_QUAD(12, m0, m1, m3);

        /* Rounds 52-63: finish the last two quads of the schedule. */
        SHANI_RNDS_LO(m1, 13);
        SHANI_MSG2(m2, m1, m0);
        SHANI_RNDS_HI();

        SHANI_RNDS_LO(m2, 14);
        SHANI_MSG2(m3, m2, m1);
        SHANI_RNDS_HI();

        SHANI_RNDS_LO(m3, 15);
        SHANI_RNDS_HI();

        st0 = _mm_add_epi32(st0, abef_save);
        st1 = _mm_add_epi32(st1, cdgh_save);
        data += 64;
    }

    /* Back from ABEF/CDGH to A..H. */
    tmp = _mm_shuffle_epi32(st0, 0x1B);    /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);    /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0); /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);    /* HGFE */
    _mm_storeu_si128((__m128i *)&state[0], st0);
    _mm_storeu_si128((__m128i *)&state[4], st1);
}

#undef SHANI_QUAD
#undef SHANI_MSG1
#undef SHANI_MSG2
#undef SHANI_RNDS_HI
#undef SHANI_RNDS_LO

/* CPUID.1:ECX bit 9 = SSSE3, bit 19 = SSE4.1; CPUID.(7,0):EBX bit 29 = SHA.
 * Queried directly rather than via __builtin_cpu_supports("sha"), which
 * GCC < 11 and older Clang reject at compile time.  SHA-NI uses only XMM
 * state, which every x86-64 OS saves, so no XGETBV check is needed. */
static int sha256_cpu_has_shani(void)
{
    unsigned int eax, ebx, ecx, edx;

    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid(1, eax, ebx, ecx, edx);
    if (!(ecx & (1u << 9)) || !(ecx & (1u << 19)))
        return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    return (ebx & (1u << 29)) != 0;
}

/* The selected block function; NULL until first use.  Concurrent first
 * uses may both probe the CPU, but they store the same value, and the
 * relaxed atomics keep that race well defined. */
static sha256_blocks_fn sha256_blocks_selected;

static sha256_blocks_fn sha256_blocks_impl(void)
{
    sha256_blocks_fn fn =
        __atomic_load_n(&sha256_blocks_selected, __ATOMIC_RELAXED);

    if (fn == NULL) {
        fn = sha256_cpu_has_shani() ? sha256_blocks_shani
                                    : sha256_blocks_portable;
        __atomic_store_n(&sha256_blocks_selected, fn, __ATOMIC_RELAXED);
    }
    return fn;
}

int iu_sha256_accelerated(void)
{
    return sha256_blocks_impl() == sha256_blocks_shani;
}

#else /* !IU_SHA256_HAVE_SHANI */

static sha256_blocks_fn sha256_blocks_impl(void)
{
    return sha256_blocks_portable;
}

int iu_sha256_accelerated(void)
{
    return 0;
}

#endif /* IU_SHA256_HAVE_SHANI */

/* ---------------------------------------------------------------------- */
/* Streaming interface.                                                    */

void iu_sha256_init(iu_sha256_ctx *ctx)
{
    /* First 32 bits of the fractional parts of the square roots of the
     * first eight primes. */
    ctx->h[0] = 0x6a09e667;
    ctx->h[1] = 0xbb67ae85;
    ctx->h[2] = 0x3c6ef372;
    ctx->h[3] = 0xa54ff53a;
    ctx->h[4] = 0x510e527f;
    ctx->h[5] = 0x9b05688c;
    ctx->h[6] = 0x1f83d9ab;
    ctx->h[7] = 0x5be0cd19;
    ctx->len = 0;
    ctx->nbuf = 0;
}

void iu_sha256_update(iu_sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    sha256_blocks_fn blocks;
    size_t n;

    if (len == 0)
        return; /* also keeps memcpy away from a NULL data pointer */
    ctx->len += len;

    /* Short input that does not complete the buffered block. */
    if (ctx->nbuf + len < 64) {
        memcpy(ctx->buf + ctx->nbuf, p, len);
        ctx->nbuf += len;
        return;
    }

    blocks = sha256_blocks_impl();

    /* Complete and compress the buffered partial block. */
    if (ctx->nbuf) {
        n = 64 - ctx->nbuf;
        memcpy(ctx->buf + ctx->nbuf, p, n);
        blocks(ctx->h, ctx->buf, 1);
        ctx->nbuf = 0;
        p += n;
        len -= n;
    }

    /* Whole blocks straight from the caller's memory. */
    n = len / 64;
    if (n) {
        blocks(ctx->h, p, n);
        p += n * 64;
        len -= n * 64;
    }

    /* Keep the tail. */
    if (len) {
        memcpy(ctx->buf, p, len);
        ctx->nbuf = len;
    }
}

void iu_sha256_final(iu_sha256_ctx *ctx, uint8_t out[32])
{
    sha256_blocks_fn blocks = sha256_blocks_impl();
    uint64_t bits = ctx->len << 3;
    size_t n = ctx->nbuf;
    int i;

    /* Padding: 0x80, zeros, then the 64-bit big-endian bit length, ending
     * on a block boundary (one extra block when fewer than 9 bytes remain). */
    ctx->buf[n++] = 0x80;
    if (n > 56) {
        memset(ctx->buf + n, 0, 64 - n);
        blocks(ctx->h, ctx->buf, 1);
        n = 0;
    }
    memset(ctx->buf + n, 0, 56 - n);
    store_be64(ctx->buf + 56, bits);
    blocks(ctx->h, ctx->buf, 1);

    for (i = 0; i < 8; i++)
        store_be32(out + 4 * i, ctx->h[i]);
}

void iu_sha256_hex(const uint8_t digest[32], char out[64])
{
    static const char hexdigits[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    int i;

    for (i = 0; i < 32; i++) {
        out[2 * i] = hexdigits[digest[i] >> 4];
        out[2 * i + 1] = hexdigits[digest[i] & 15];
    }
}
