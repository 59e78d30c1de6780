/* decode_function.c — the function section (id 3): the type index of each defined function.
 * Bodies come later, in the code section, which must have as many entries. */
#include "wasm/decode.h"

bool wasm_decode_function_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(m->funcs = wasm_decode_alloc(d, n, sizeof *m->funcs)))
        return false;
    d->has_function_section = true;
    d->nfunc_decls = n;
    m->nfuncs = m->nfunc_imports + n;
    for (uint32_t i = 0; i < n; i++)
        if (!wasm_read_u32(&d->r, &m->funcs[i].type_index))
            return false;
    return true;
}
