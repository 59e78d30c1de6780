/* decode_export.c — the export section (id 7).  Unique names and valid indices are validation
 * rules (validate.c). */
#include "wasm/decode.h"

bool wasm_decode_export_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(m->exports = wasm_decode_alloc(d, n, sizeof *m->exports)))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        wasm_export *ex = &m->exports[i];
        const uint8_t *s;
        uint32_t len;
        uint8_t kind;
        if (!wasm_read_name(&d->r, &s, &len) || !(ex->name = wasm_decode_strdup(d, s, len)))
            return false;
        m->nexports = i + 1;
        ex->name_len = len;
        size_t at = d->r.pos;
        if (!wasm_read_u8(&d->r, &kind))
            return false;
        if (kind > ZVM_EXTERN_TAG)
            return wasm_reader_fail(&d->r, at, "malformed export kind 0x%02x", kind);
        ex->kind = kind;
        if (!wasm_read_u32(&d->r, &ex->index))
            return false;
    }
    return true;
}
