/* decode_type.c — the type section (id 1): function types.  Parameter and result vectors point
 * into the module's copy of the bytes, which already holds them as one byte per type. */
#include "wasm/decode.h"

static bool decode_valtypes(wasm_decoder *d, uint32_t *n, const uint8_t **types)
{
    if (!wasm_decode_count(d, n))
        return false;
    *types = d->r.bytes + d->r.pos;
    for (uint32_t i = 0; i < *n; i++) {
        uint8_t t;
        if (!wasm_decode_valtype(d, &t))
            return false;
    }
    return true;
}

bool wasm_decode_type_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(m->types = wasm_decode_alloc(d, n, sizeof *m->types)))
        return false;
    m->ntypes = n;
    for (uint32_t i = 0; i < n; i++) {
        zvm_functype *t = &m->types[i];
        size_t at = d->r.pos;
        uint8_t form;
        if (!wasm_read_u8(&d->r, &form))
            return false;
        if (form != 0x60)
            return wasm_reader_fail(&d->r, at, "malformed function type 0x%02x (integer representation too long)",
                                    form);
        if (!decode_valtypes(d, &t->nparams, &t->params) || !decode_valtypes(d, &t->nresults, &t->results))
            return false;
    }
    return true;
}
