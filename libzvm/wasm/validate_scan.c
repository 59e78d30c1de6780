/*
 * validate_scan.c — function bodies read as the binary format chapter alone would:
 * instructions, immediates and block nesting, no types.
 *
 * The spec's reference interpreter decodes every body before it validates anything, so when a
 * module is both malformed (inside some body) and invalid, it reports the malformed part.  Our
 * validator reads each body once, typing as it goes; when it refuses a module, wasm_validate
 * scans the bodies it has not finished with this, and reports a binary-format fault first if
 * there is one.  Only refusals pay for it.
 */
#include "wasm/opinfo.h"
#include "wasm/reader.h"
#include "wasm/validate.h"

#include <stdio.h>
#include <string.h>

static bool skip_u32s(wasm_reader *r, int n)
{
    uint32_t x;
    for (int i = 0; i < n; i++)
        if (!wasm_read_u32(r, &x))
            return false;
    return true;
}

static bool zero_byte(wasm_reader *r)
{
    uint8_t b;
    size_t at = r->pos;
    if (!wasm_read_u8(r, &b))
        return false;
    return b == 0 || wasm_reader_fail(r, at, "zero byte expected");
}

static bool is_valtype(uint8_t b)
{
    return b == ZVM_I32 || b == ZVM_I64 || b == ZVM_F32 || b == ZVM_F64 || b == ZVM_V128 || b == ZVM_FUNCREF ||
           b == ZVM_EXTERNREF;
}

bool wasm_skip_immediates(const wasm_module *m, wasm_reader *r, const wasm_op_info *info, size_t op_at)
{
    uint32_t n;
    uint8_t b;
    switch (info->imm) {
    case WASM_IMM_NONE: return true;
    case WASM_IMM_BLOCKTYPE:
        if (r->pos < r->end && (r->bytes[r->pos] == 0x40 || is_valtype(r->bytes[r->pos]))) {
            r->pos++;
            return true;
        }
        {
            int64_t x;
            return wasm_read_s33(r, &x);
        }
    case WASM_IMM_LABEL:
    case WASM_IMM_FUNC:
    case WASM_IMM_LOCAL:
    case WASM_IMM_GLOBAL:
    case WASM_IMM_TABLE:
    case WASM_IMM_ELEM:
    case WASM_IMM_TAG: return skip_u32s(r, 1);
    case WASM_IMM_CALL_INDIRECT:
    case WASM_IMM_MEMARG:
    case WASM_IMM_TABLE_INIT:
    case WASM_IMM_TABLE_COPY: return skip_u32s(r, 2);
    case WASM_IMM_BR_TABLE:              /* n labels, then the default */
        if (!wasm_read_count(r, r->end, &n))
            return false;
        for (uint32_t i = 0; i <= n; i++)
            if (!skip_u32s(r, 1))
                return false;
        return true;
    case WASM_IMM_MEMORY: return zero_byte(r);
    case WASM_IMM_MEMORY_COPY: return zero_byte(r) && zero_byte(r);
    case WASM_IMM_DATA:
    case WASM_IMM_MEMORY_INIT:
        /* (with no data segments at all, the validator's "unknown data segment" says more) */
        if (!m->has_datacount && m->ndatas > 0)
            return wasm_reader_fail(r, op_at, "data count section required");
        return skip_u32s(r, 1) && (info->imm == WASM_IMM_DATA || zero_byte(r));
    case WASM_IMM_I32: {
        int32_t x;
        return wasm_read_s32(r, &x);
    }
    case WASM_IMM_I64: {
        int64_t x;
        return wasm_read_s64(r, &x);
    }
    case WASM_IMM_F32: {
        uint32_t x;
        return wasm_read_f32(r, &x);
    }
    case WASM_IMM_F64: {
        uint64_t x;
        return wasm_read_f64(r, &x);
    }
    case WASM_IMM_REFTYPE:
        if (!wasm_read_u8(r, &b))
            return false;
        return b == ZVM_FUNCREF || b == ZVM_EXTERNREF || wasm_reader_fail(r, r->pos - 1, "malformed reference type");
    case WASM_IMM_SELECT_T:
        if (!wasm_read_count(r, r->end, &n))
            return false;
        for (uint32_t i = 0; i < n; i++) {
            if (!wasm_read_u8(r, &b))
                return false;
            if (!is_valtype(b))
                return wasm_reader_fail(r, r->pos - 1, "malformed value type");
        }
        return true;
    }
    return true;
}

/* 0: well-formed (or SIMD, which we do not read); -1: malformed, with the message in err. */
static int scan_function(const wasm_module *m, uint32_t index, zvm_error *err)
{
    const wasm_func *f = &m->funcs[index - m->nfunc_imports];
    zvm_error read_err;
    wasm_reader r;
    wasm_reader_init(&r, m->bytes, f->code_offset + f->code_size, &read_err);
    r.pos = f->code_offset;
    uint32_t depth = 1;
    while (depth > 0) {
        size_t at = r.pos;
        uint8_t op;
        const wasm_op_info *info;
        if (!wasm_read_u8(&r, &op))
            goto malformed;
        if (op == 0xfd)
            return 0;                    /* SIMD: the validator refuses it anyway */
        if (op == 0xfc) {
            uint32_t sub;
            if (!wasm_read_u32(&r, &sub))
                goto malformed;
            if (sub >= WASM_FC_COUNT || !wasm_fc_ops[sub].known) {
                wasm_reader_fail(&r, at, "illegal opcode 0xfc %u", sub);
                goto malformed;
            }
            info = &wasm_fc_ops[sub];
        } else {
            info = &wasm_ops[op];
            if (!info->known) {
                wasm_reader_fail(&r, at, "illegal opcode 0x%02x", op);
                goto malformed;
            }
        }
        if (op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06)
            depth++;
        else if (op == 0x0b || op == 0x18)   /* end; delegate ends its try */
            depth--;
        if (!wasm_skip_immediates(m, &r, info, at))
            goto malformed;
    }
    if (r.pos != r.end) {
        wasm_reader_fail(&r, r.pos, "section size mismatch: bytes after the function's final end");
        goto malformed;
    }
    return 0;
malformed:
    snprintf(err->msg, sizeof err->msg, "function %u %s", index, read_err.msg);
    return -1;
}

bool wasm_scan_functions(const wasm_module *m, uint32_t from, zvm_error *err)
{
    for (uint32_t i = from < m->nfunc_imports ? m->nfunc_imports : from; i < m->nfuncs; i++)
        if (scan_function(m, i, err))
            return false;
    return true;
}
