/*
 * reader.c — LEB128, bytes and names, with the binary format's error rules.
 *
 * The LEB128 rules follow the spec's reference decoder: an N-bit integer takes at most
 * ceil(N/7) bytes ("integer representation too long" at the byte after), and in the last byte
 * the bits beyond N must be zero for unsigned or copies of the sign bit for signed integers
 * ("integer too large" at that byte).
 */
#include "wasm/reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wasm_reader_init(wasm_reader *r, const uint8_t *bytes, size_t size, zvm_error *err)
{
    r->bytes = bytes;
    r->pos = 0;
    r->end = size;
    r->err = err;
    r->failed = false;
}

bool wasm_reader_fail(wasm_reader *r, size_t at, const char *fmt, ...)
{
    if (r->failed)
        return false;
    r->failed = true;
    if (r->err) {
        int n = snprintf(r->err->msg, sizeof r->err->msg, "at byte 0x%zx: ", at);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err->msg + n, sizeof r->err->msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool unexpected_end(wasm_reader *r)
{
    return wasm_reader_fail(r, r->pos, "unexpected end of section or function");
}

bool wasm_read_u8_slow(wasm_reader *r, uint8_t *out)
{
    if (r->pos >= r->end)
        return unexpected_end(r);
    *out = r->bytes[r->pos++];
    return true;
}

/* Reads a LEB128 integer of `bits` bits (signed or not) into *out (sign-extended to 64 bits). */
static bool read_leb(wasm_reader *r, int bits, bool is_signed, uint64_t *out)
{
    uint64_t value = 0;
    unsigned shift = 0;
    int left = bits;                     /* value bits still to come, as in the reference decoder */
    uint8_t b;
    for (;;) {
        if (left <= 0)
            return wasm_reader_fail(r, r->pos, "integer representation too long");
        if (!wasm_read_u8(r, &b))
            return false;
        if (left < 7) {
            uint8_t mask = is_signed ? (uint8_t)((0x7f << (left - 1)) & 0x7f) : (uint8_t)((0x7f << left) & 0x7f);
            uint8_t high = b & mask;
            if (is_signed ? (high != 0 && high != mask) : high != 0)
                return wasm_reader_fail(r, r->pos - 1, "integer too large");
        }
        value |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        left -= 7;
        if (!(b & 0x80))
            break;
    }
    if (is_signed && shift < 64 && (b & 0x40))
        value |= ~(uint64_t)0 << shift;
    *out = value;
    return true;
}

bool wasm_read_uN(wasm_reader *r, int bits, uint64_t *out)
{
    return read_leb(r, bits, false, out);
}

bool wasm_read_u32_slow(wasm_reader *r, uint32_t *out)
{
    uint64_t v;
    if (!read_leb(r, 32, false, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

bool wasm_read_s32(wasm_reader *r, int32_t *out)
{
    uint64_t v;
    if (!read_leb(r, 32, true, &v))
        return false;
    *out = (int32_t)(uint32_t)v;
    return true;
}

bool wasm_read_s33(wasm_reader *r, int64_t *out)
{
    uint64_t v;
    if (!read_leb(r, 33, true, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

bool wasm_read_s64(wasm_reader *r, int64_t *out)
{
    uint64_t v;
    if (!read_leb(r, 64, true, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

bool wasm_read_bytes(wasm_reader *r, size_t n, const uint8_t **out)
{
    if (n > wasm_reader_left(r)) {
        r->pos = r->end;
        return unexpected_end(r);
    }
    *out = r->bytes + r->pos;
    r->pos += n;
    return true;
}

bool wasm_read_f32(wasm_reader *r, uint32_t *bits)
{
    const uint8_t *p;
    if (!wasm_read_bytes(r, 4, &p))
        return false;
    *bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return true;
}

bool wasm_read_f64(wasm_reader *r, uint64_t *bits)
{
    const uint8_t *p;
    if (!wasm_read_bytes(r, 8, &p))
        return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    *bits = v;
    return true;
}

bool wasm_read_len(wasm_reader *r, uint32_t *out)
{
    size_t start = r->pos;
    if (!wasm_read_u32(r, out))
        return false;
    if (*out > r->end - start)
        return wasm_reader_fail(r, start, "length out of bounds");
    return true;
}

bool wasm_read_count(wasm_reader *r, size_t limit, uint32_t *out)
{
    /* As in the reference decoder, a count is "out of bounds" only when it exceeds the bytes
     * left counted from its own first byte; past that, running out is "unexpected end". */
    size_t start = r->pos;
    if (!wasm_read_u32(r, out))
        return false;
    if (*out > r->end - start)
        return wasm_reader_fail(r, start, "length out of bounds");
    if (r->pos > limit || *out > limit - r->pos)
        return wasm_reader_fail(r, limit, "unexpected end of section or function (%u items cannot fit)", *out);
    return true;
}

bool wasm_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else
            return false;
        if (n > len - i - 1)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

bool wasm_read_name(wasm_reader *r, const uint8_t **out, uint32_t *len)
{
    if (!wasm_read_len(r, len))
        return false;
    size_t start = r->pos;
    if (!wasm_read_bytes(r, *len, out))
        return false;
    if (!wasm_utf8_valid(*out, *len))
        return wasm_reader_fail(r, start, "malformed UTF-8 encoding");
    return true;
}
