/*
 * sha256.h - SHA-256 (FIPS 180-4) for the iucut C core.
 *
 * A small self-contained implementation: portable C99 everywhere, plus an
 * x86-64 SHA-NI block function selected at run time when the CPU has the
 * SHA extensions (see sha256.c).  Both paths produce identical digests.
 *
 * Usage:
 *     iu_sha256_ctx c;
 *     iu_sha256_init(&c);
 *     iu_sha256_update(&c, data, len);      (any number of times)
 *     iu_sha256_final(&c, digest);          (c must be re-initialised to reuse)
 *
 * A context is plain data with no hidden allocation; it may be copied to
 * fork a running hash.  Contexts are independent, so different threads may
 * hash concurrently with their own contexts.
 */
#ifndef IU_SHA256_H
#define IU_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t h[8];     /* chaining state */
    uint64_t len;      /* total bytes fed so far */
    uint8_t  buf[64];  /* partial block */
    size_t   nbuf;     /* bytes used in buf, always < 64 between calls */
} iu_sha256_ctx;

void iu_sha256_init(iu_sha256_ctx *ctx);
void iu_sha256_update(iu_sha256_ctx *ctx, const void *data, size_t len);
void iu_sha256_final(iu_sha256_ctx *ctx, uint8_t out[32]);

/* lower-case hex of a digest into out[0..63] (no NUL written) */
void iu_sha256_hex(const uint8_t digest[32], char out[64]);

/* 1 when the SHA-NI path is in use (for tests/diagnostics) */
int iu_sha256_accelerated(void);

#ifdef __cplusplus
}
#endif

#endif /* IU_SHA256_H */
