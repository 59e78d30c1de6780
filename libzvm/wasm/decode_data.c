/*
 * decode_data.c — the data section (id 11), in its three forms:
 *   0  expr vec(byte)             active, memory 0
 *   1  vec(byte)                  passive
 *   2  memidx expr vec(byte)      active
 * The bytes stay in the module's copy of the input.  The count must agree with the data count
 * section when there is one (checked in decode.c, once both are known).
 */
#include "wasm/decode.h"

bool wasm_decode_data_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(m->datas = wasm_decode_alloc(d, n, sizeof *m->datas)))
        return false;
    m->ndatas = n;
    for (uint32_t i = 0; i < n; i++) {
        wasm_data *seg = &m->datas[i];
        size_t at = d->r.pos;
        uint32_t flags;
        if (!wasm_read_u32(&d->r, &flags))
            return false;
        if (flags > 2)
            return wasm_reader_fail(&d->r, at, "malformed data segment kind %u", flags);
        seg->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
        if (flags == 2 && !wasm_read_u32(&d->r, &seg->memory))
            return false;
        if (flags != 1 && !wasm_decode_const_expr(d, &seg->offset))
            return false;
        if (!wasm_read_len(&d->r, &seg->size) || !wasm_read_bytes(&d->r, seg->size, &seg->bytes))
            return false;
    }
    return true;
}
