/* decode_tag.c — the tag section (id 13, from the exception-handling proposal; it sits between
 * the memory and the global sections) and the tag type that imports share with it: an
 * attribute byte (0: an exception, the only kind there is) and a type index.  That the type
 * exists and returns nothing is a validation rule (validate.c). */
#include "wasm/decode.h"

bool wasm_decode_tagtype(wasm_decoder *d, uint32_t *type_index)
{
    uint8_t attribute;
    size_t at = d->r.pos;
    if (!wasm_read_u8(&d->r, &attribute))
        return false;
    if (attribute != 0)
        return wasm_reader_fail(&d->r, at, "malformed tag attribute 0x%02x (0 expected)", attribute);
    return wasm_read_u32(&d->r, type_index);
}

bool wasm_decode_tag_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n))
        return false;
    /* the imported tags' types go first; build_index_spaces fills them in */
    if (!(m->tag_types = wasm_decode_alloc(d, (size_t)m->ntag_imports + n, sizeof *m->tag_types)))
        return false;
    m->ntags = m->ntag_imports + n;
    for (uint32_t i = 0; i < n; i++)
        if (!wasm_decode_tagtype(d, &m->tag_types[m->ntag_imports + i]))
            return false;
    return true;
}
