/*
 * decode_common.c — value types, limits, table and global types, constant expressions: the
 * pieces several sections share.
 */
#include "wasm/decode.h"

#include <stdlib.h>
#include <string.h>

bool wasm_decode_count(wasm_decoder *d, uint32_t *out)
{
    return wasm_read_count(&d->r, d->section_end, out);
}

void *wasm_decode_alloc(wasm_decoder *d, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        wasm_reader_fail(&d->r, d->r.pos, "out of memory (%zu items of %zu bytes)", n, size);
    return p;
}

char *wasm_decode_strdup(wasm_decoder *d, const uint8_t *s, uint32_t len)
{
    char *p = wasm_decode_alloc(d, (size_t)len + 1, 1);
    if (p)
        memcpy(p, s, len);
    return p;
}

bool wasm_decode_valtype(wasm_decoder *d, uint8_t *out)
{
    size_t at = d->r.pos;
    if (!wasm_read_u8(&d->r, out))
        return false;
    switch (*out) {
    case ZVM_I32:
    case ZVM_I64:
    case ZVM_F32:
    case ZVM_F64:
    case ZVM_V128:
    case ZVM_FUNCREF:
    case ZVM_EXTERNREF: return true;
    }
    return wasm_reader_fail(&d->r, at, "malformed value type 0x%02x", *out);
}

bool wasm_decode_reftype(wasm_decoder *d, uint8_t *out)
{
    size_t at = d->r.pos;
    if (!wasm_read_u8(&d->r, out))
        return false;
    if (*out == ZVM_FUNCREF || *out == ZVM_EXTERNREF)
        return true;
    return wasm_reader_fail(&d->r, at, "malformed reference type 0x%02x", *out);
}

bool wasm_decode_limits(wasm_decoder *d, wasm_limits *out)
{
    uint8_t flags;
    uint32_t min, max;
    /* 2.0 knows 0 (min) and 1 (min, max).  The reference decoder reads the flag as a 1-bit
     * LEB128 integer, hence its words for anything else; later suites say "malformed limits
     * flags", and our message carries both. */
    size_t at = d->r.pos;
    if (!wasm_read_u8(&d->r, &flags))
        return false;
    if ((flags & 0x7f) > 1)
        return wasm_reader_fail(&d->r, at, "malformed limits flags 0x%02x (integer too large)", flags);
    if (flags & 0x80)
        return wasm_reader_fail(&d->r, at + 1, "malformed limits flags 0x%02x (integer representation too long)",
                                flags);
    if (!wasm_read_u32(&d->r, &min))
        return false;
    out->min = min;
    out->max = UINT64_MAX;
    if (flags == 1) {
        if (!wasm_read_u32(&d->r, &max))
            return false;
        out->max = max;
    }
    return true;
}

bool wasm_decode_tabletype(wasm_decoder *d, wasm_tabletype *out)
{
    return wasm_decode_reftype(d, &out->elemtype) && wasm_decode_limits(d, &out->limits);
}

bool wasm_decode_globaltype(wasm_decoder *d, wasm_globaltype *out)
{
    uint8_t mut;
    if (!wasm_decode_valtype(d, &out->valtype))
        return false;
    size_t at = d->r.pos;
    if (!wasm_read_u8(&d->r, &mut))
        return false;
    if (mut > 1)
        return wasm_reader_fail(&d->r, at, "malformed mutability 0x%02x", mut);
    out->mutable_ = mut == 1;
    return true;
}

bool wasm_opcode_known(uint8_t op)
{
    switch (op) {
#define OP(code, ident, text, imm, p1, p2, p3, r) case code:
#define OP_FC(code, ident, text, imm, p1, p2, p3, r)
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
    case 0xfc: return true;
    }
    return false;
}

static bool is_const_opcode(uint8_t op)
{
    return op == 0x41 || op == 0x42 || op == 0x43 || op == 0x44 || op == 0xd0 || op == 0xd2 || op == 0x23;
}

/* Reads one constant instruction's immediates (op already read) into out. */
static bool read_const_instr(wasm_decoder *d, uint8_t op, wasm_const_expr *out)
{
    wasm_reader *r = &d->r;
    out->opcode = op;
    switch (op) {
    case 0x41: {
        int32_t v;
        if (!wasm_read_s32(r, &v))
            return false;
        out->value = (uint32_t)v;
        return true;
    }
    case 0x42: {
        int64_t v;
        if (!wasm_read_s64(r, &v))
            return false;
        out->value = (uint64_t)v;
        return true;
    }
    case 0x43: {
        uint32_t v;
        if (!wasm_read_f32(r, &v))
            return false;
        out->value = v;
        return true;
    }
    case 0x44: {
        uint64_t v;
        if (!wasm_read_f64(r, &v))
            return false;
        out->value = v;
        return true;
    }
    case 0xd0: return wasm_decode_reftype(d, &out->reftype);
    default: {
        uint32_t v;
        if (!wasm_read_u32(r, &v))
            return false;
        out->value = v;
        return true;
    }  /* ref.func, global.get */
    }
}

/*
 * A constant expression of 2.0 is one constant instruction and `end`.  Anything else is
 * rejected here already, with the validation chapter's words: any non-constant instruction
 * is "constant expression required" (the reference validator looks at every instruction
 * before typing), an empty expression or one leaving several values is "type mismatch".
 * What needs the module's context (which globals, the types) is the validator's job.
 */
bool wasm_decode_const_expr(wasm_decoder *d, wasm_const_expr *out)
{
    wasm_reader *r = &d->r;
    memset(out, 0, sizeof *out);
    out->offset = r->pos;
    for (uint32_t n = 0;; n++) {
        size_t at = r->pos;
        uint8_t op;
        wasm_const_expr extra;
        if (!wasm_read_u8(r, &op))
            return false;
        if (op == 0x0b) {
            if (n == 1)
                return true;
            return wasm_reader_fail(r, out->offset,
                                    n ? "type mismatch: a constant expression leaves one value, not %u"
                                      : "type mismatch: empty constant expression (%u values)",
                                    n);
        }
        if (!wasm_opcode_known(op))
            return wasm_reader_fail(r, at, "illegal opcode 0x%02x", op);
        if (!is_const_opcode(op))
            return wasm_reader_fail(r, at, "constant expression required (opcode 0x%02x)", op);
        if (!read_const_instr(d, op, n == 0 ? out : &extra))
            return false;
    }
}
