/*
 * reader.h — a cursor over the bytes of a module: LEB128 integers, raw bytes and UTF-8 names,
 * each checked the way the binary format chapter of the spec asks.
 *
 * Every read returns true on success.  On failure it fills the reader's zvm_error with
 * "at byte 0x<offset>: <spec message>" (the first failure wins: later ones do not overwrite it)
 * and returns false, so callers simply propagate false.  Private to libzvm/wasm.
 */
#ifndef ZVM_WASM_READER_H
#define ZVM_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/wasm.h"

typedef struct wasm_reader {
    const uint8_t *bytes;                /* the whole module: offsets in messages are into it */
    size_t pos;                          /* next byte to read */
    size_t end;                          /* reads stop here: the input, a section or a body */
    zvm_error *err;                      /* where failures go (may be NULL: then only false) */
    bool failed;
} wasm_reader;

void wasm_reader_init(wasm_reader *r, const uint8_t *bytes, size_t size, zvm_error *err);

/* Records "at byte 0x<at>: <message>" unless an earlier failure is recorded; returns false. */
bool wasm_reader_fail(wasm_reader *r, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline size_t wasm_reader_left(const wasm_reader *r)
{
    return r->end - r->pos;
}

bool wasm_read_u8_slow(wasm_reader *r, uint8_t *out);
bool wasm_read_u32_slow(wasm_reader *r, uint32_t *out);

/* The common cases inline (a byte; a one-byte LEB128): validation reads mostly these. */
static inline bool wasm_read_u8(wasm_reader *r, uint8_t *out)
{
    if (r->pos < r->end) {
        *out = r->bytes[r->pos++];
        return true;
    }
    return wasm_read_u8_slow(r, out);
}

static inline bool wasm_read_u32(wasm_reader *r, uint32_t *out)
{
    if (r->pos < r->end && r->bytes[r->pos] < 0x80) {
        *out = r->bytes[r->pos++];
        return true;
    }
    return wasm_read_u32_slow(r, out);
}

bool wasm_read_uN(wasm_reader *r, int bits, uint64_t *out);  /* an unsigned LEB128 of `bits` bits */
bool wasm_read_s32(wasm_reader *r, int32_t *out);
bool wasm_read_s33(wasm_reader *r, int64_t *out);  /* block types */
bool wasm_read_s64(wasm_reader *r, int64_t *out);
bool wasm_read_f32(wasm_reader *r, uint32_t *bits);
bool wasm_read_f64(wasm_reader *r, uint64_t *bits);
bool wasm_read_bytes(wasm_reader *r, size_t n, const uint8_t **out);

/* A u32 length.  As in the reference decoder, it is "out of bounds" when larger than the
 * bytes left counted from the length's own first byte; it may still be up to 5 bytes too
 * long for what follows it, which callers that do not read those bytes must check. */
bool wasm_read_len(wasm_reader *r, uint32_t *out);

/* The element count of a vector whose items take at least one byte each: besides the length
 * rule, there must be at least that many bytes before `limit` (the end of the section), so that
 * no one allocates for items that cannot be there. */
bool wasm_read_count(wasm_reader *r, size_t limit, uint32_t *out);

/* A name: a length, then that many bytes of valid UTF-8 ("malformed UTF-8 encoding"). */
bool wasm_read_name(wasm_reader *r, const uint8_t **out, uint32_t *len);

/* Is s[0..len) well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)? */
bool wasm_utf8_valid(const uint8_t *s, size_t len);

#endif
