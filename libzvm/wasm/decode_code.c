/*
 * decode_code.c — the code section (id 10): per function, its size, its locals and its body.
 *
 * Bodies are not walked here: the validator walks each one once, and the translator after it.
 * Decoding only sizes them, which keeps a 30 MB module's decode to a memory scan.
 */
#include "wasm/decode.h"

#include <stdlib.h>

/* Locals per function (not counting parameters).  The spec allows up to 2^32 - 1; an engine
 * that gives each a slot must stop far earlier.  Real code (clang, emscripten) stays in the
 * hundreds. */
#define WASM_MAX_LOCALS 50000u

static bool decode_locals(wasm_decoder *d, wasm_func *f, size_t body_end)
{
    wasm_reader *r = &d->r;
    size_t at = r->pos;
    uint32_t n;
    if (!wasm_read_count(r, body_end, &n) || !(f->runs = wasm_decode_alloc(d, n, sizeof *f->runs)))
        return false;
    f->nruns = n;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!wasm_read_u32(r, &f->runs[i].count) || !wasm_decode_valtype(d, &f->runs[i].type))
            return false;
        total += f->runs[i].count;
    }
    if (total > WASM_MAX_LOCALS)
        return wasm_reader_fail(r, at, "too many locals: %llu declared, at most %u supported",
                                (unsigned long long)total, WASM_MAX_LOCALS);
    f->nlocals = (uint32_t)total;
    return true;
}

bool wasm_decode_code_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    wasm_reader *r = &d->r;
    size_t at = r->pos;
    uint32_t n;
    if (!wasm_decode_count(d, &n))
        return false;
    d->has_code_section = true;
    if (n != d->nfunc_decls)
        return wasm_reader_fail(r, at, "function and code section have inconsistent lengths (%u functions, %u bodies)",
                                d->nfunc_decls, n);
    size_t input_end = r->end;
    for (uint32_t i = 0; i < n; i++) {
        wasm_func *f = &m->funcs[i];
        uint32_t size;
        if (!wasm_read_len(r, &size))
            return false;
        if (size > wasm_reader_left(r))
            return wasm_reader_fail(r, r->end, "unexpected end of section or function (function %u is cut short)",
                                    m->nfunc_imports + i);
        size_t body_end = r->pos + size;
        r->end = body_end;
        bool ok = decode_locals(d, f, body_end);
        r->end = input_end;
        if (!ok)
            return false;
        f->code = r->bytes + r->pos;
        f->code_offset = r->pos;
        f->code_size = body_end - r->pos;
        r->pos = body_end;
        /* The body must close with `end`.  As in the reference decoder, a body cut short by the
         * end of the input is "unexpected end"; one followed by more bytes lacks its END (and when
         * the next byte happens to be 0x0b, the reference decoder reads on and finds the section
         * too long). */
        if (f->code_size == 0 || f->code[f->code_size - 1] != 0x0b) {
            if (body_end == input_end)
                return wasm_reader_fail(r, body_end, "unexpected end of section or function");
            if (r->bytes[body_end] == 0x0b)  /* the reference decoder takes it for the END */
                return wasm_reader_fail(r, body_end, "section size mismatch: function %u lacks its final end",
                                        m->nfunc_imports + i);
            return wasm_reader_fail(r, body_end, "END opcode expected at the end of function %u", m->nfunc_imports + i);
        }
    }
    return true;
}
