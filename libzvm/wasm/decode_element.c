/*
 * decode_element.c — the element section (id 9), in its eight forms.  The flags field's bits:
 * bit 0 passive or declarative (else active), bit 1 with bit 0 declarative, without it an
 * explicit table index, bit 2 items as expressions (else function indices).
 *
 *   0  expr vec(funcidx)                     active, table 0
 *   1  elemkind vec(funcidx)                 passive
 *   2  tableidx expr elemkind vec(funcidx)   active
 *   3  elemkind vec(funcidx)                 declarative
 *   4  expr vec(expr)                        active, table 0, funcref
 *   5  reftype vec(expr)                     passive
 *   6  tableidx expr reftype vec(expr)       active
 *   7  reftype vec(expr)                     declarative
 *
 * Function indices are kept as ref.func expressions, so that every segment has one shape.
 */
#include "wasm/decode.h"

static bool decode_elemkind(wasm_decoder *d, uint8_t *out)
{
    size_t at = d->r.pos;
    uint8_t kind;
    if (!wasm_read_u8(&d->r, &kind))
        return false;
    if (kind != 0x00)
        return wasm_reader_fail(&d->r, at, "malformed element kind 0x%02x", kind);
    *out = ZVM_FUNCREF;
    return true;
}

static bool decode_segment(wasm_decoder *d, wasm_elem *e)
{
    size_t at = d->r.pos;
    uint32_t flags;
    if (!wasm_read_u32(&d->r, &flags))
        return false;
    if (flags > 7)
        return wasm_reader_fail(&d->r, at, "malformed elements segment kind %u", flags);
    bool exprs = flags & 4;
    e->elemtype = ZVM_FUNCREF;
    if (flags & 1)
        e->mode = (flags & 2) ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE;
    else {
        e->mode = WASM_SEG_ACTIVE;
        if ((flags & 2) && !wasm_read_u32(&d->r, &e->table))
            return false;
        if (!wasm_decode_const_expr(d, &e->offset))
            return false;
    }
    if (flags & 3) {                     /* forms that name the element type */
        if (!(exprs ? wasm_decode_reftype(d, &e->elemtype) : decode_elemkind(d, &e->elemtype)))
            return false;
    }
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(e->items = wasm_decode_alloc(d, n, sizeof *e->items)))
        return false;
    e->count = n;
    for (uint32_t i = 0; i < n; i++) {
        wasm_const_expr *item = &e->items[i];
        if (exprs) {
            if (!wasm_decode_const_expr(d, item))
                return false;
        } else {
            uint32_t func;
            item->offset = d->r.pos;
            if (!wasm_read_u32(&d->r, &func))
                return false;
            item->opcode = 0xd2;
            item->value = func;
        }
    }
    return true;
}

bool wasm_decode_element_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(m->elems = wasm_decode_alloc(d, n, sizeof *m->elems)))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        m->nelems = i + 1;               /* wasm_module_free frees this segment's items */
        if (!decode_segment(d, &m->elems[i]))
            return false;
    }
    return true;
}
