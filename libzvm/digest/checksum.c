/*
 * checksum.c — digest_checksum64: four independent multiply-rotate lanes over 8-byte words
 * (the shape of xxHash64's inner loop), so the loop runs at memory speed.  For damage, not for
 * forgery: digest.h.
 */
#include <string.h>

#include "digest/digest.h"

#define P1 0x9e3779b185ebca87ull
#define P2 0xc2b2ae3d27d4eb4full

static uint64_t rotl(uint64_t x, int n)
{
    return x << n | x >> (64 - n);
}

static uint64_t round64(uint64_t acc, uint64_t word)
{
    return rotl(acc + word * P2, 31) * P1;
}

void digest_checksum128(const void *data, size_t size, uint64_t seed, uint8_t out[16])
{
    uint64_t a = digest_checksum64(data, size, seed), b = digest_checksum64(data, size, seed ^ P1);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

uint64_t digest_checksum64(const void *data, size_t size, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t lane[4] = { seed + P1 + P2, seed + P2, seed, seed - P1 };
    size_t i = 0;
    for (; i + 32 <= size; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            lane[k] = round64(lane[k], w);
        }
    uint64_t h = rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18) + size;
    for (; i < size; i++)
        h = rotl(h ^ (p[i] * P1), 11) * P2;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    return h;
}
