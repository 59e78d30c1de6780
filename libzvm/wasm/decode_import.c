/* decode_import.c — the import section (id 2).  Imports come first in each index space, so the
 * index-space arrays are sized later (decode_function.c and friends add the module's own). */
#include "wasm/decode.h"

bool wasm_decode_import_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(m->imports = wasm_decode_alloc(d, n, sizeof *m->imports)))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        wasm_import *im = &m->imports[i];
        const uint8_t *s;
        uint32_t len;
        uint8_t kind;
        if (!wasm_read_name(&d->r, &s, &len) || !(im->module = wasm_decode_strdup(d, s, len)))
            return false;
        m->nimports = i + 1;             /* from here on, wasm_module_free frees this entry's names */
        im->module_len = len;
        if (!wasm_read_name(&d->r, &s, &len) || !(im->name = wasm_decode_strdup(d, s, len)))
            return false;
        im->name_len = len;
        size_t at = d->r.pos;
        if (!wasm_read_u8(&d->r, &kind))
            return false;
        im->kind = kind;
        switch (kind) {
        case ZVM_EXTERN_FUNC:
            if (!wasm_read_u32(&d->r, &im->u.type_index))
                return false;
            m->nfunc_imports++;
            break;
        case ZVM_EXTERN_TABLE:
            if (!wasm_decode_tabletype(d, &im->u.table))
                return false;
            m->ntable_imports++;
            break;
        case ZVM_EXTERN_MEMORY:
            if (!wasm_decode_limits(d, &im->u.memory))
                return false;
            m->nmemory_imports++;
            break;
        case ZVM_EXTERN_GLOBAL:
            if (!wasm_decode_globaltype(d, &im->u.global))
                return false;
            m->nglobal_imports++;
            break;
        case ZVM_EXTERN_TAG:
            if (!wasm_decode_tagtype(d, &im->u.tag_type))
                return false;
            m->ntag_imports++;
            break;
        default: return wasm_reader_fail(&d->r, at, "malformed import kind 0x%02x", kind);
        }
    }
    return true;
}
