/*
 * digest.h — the hashes libzvm computes itself: SHA-256, for the keys and dependencies of the
 * snapshot cache (where a collision could hand one session's state to another, so the hash must
 * be cryptographic), and a fast 64-bit checksum that detects damage in large snapshot files.
 * Own code rather than libcrypto's, so a plain session loads no crypto library.
 */
#ifndef ZVM_DIGEST_H
#define ZVM_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA256_SIZE 32

typedef struct digest_sha256_ctx {
    uint32_t h[8];
    uint64_t length;             /* bytes hashed so far */
    uint8_t block[64];
    size_t used;                 /* bytes in block */
} digest_sha256_ctx;

void digest_sha256_init(digest_sha256_ctx *s);
void digest_sha256_update(digest_sha256_ctx *s, const void *data, size_t size);
void digest_sha256_final(digest_sha256_ctx *s, uint8_t out[DIGEST_SHA256_SIZE]);
/* Convenience: the digest of one buffer. */
void digest_sha256(const void *data, size_t size, uint8_t out[DIGEST_SHA256_SIZE]);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void digest_hex(const uint8_t *bytes, size_t n, char *out);

/* A 64-bit checksum of size bytes (a multiple of 8 is fastest), several GB/s: it catches a
 * damaged or truncated file, not a forger (the snapshot cache's RATIONALE entry says why that
 * is enough where it is used). */
uint64_t digest_checksum64(const void *data, size_t size, uint64_t seed);
/* Two of them with different seeds: 128 bits, where a name made from a checksum must not
 * collide by chance. */
void digest_checksum128(const void *data, size_t size, uint64_t seed, uint8_t out[16]);

#endif
