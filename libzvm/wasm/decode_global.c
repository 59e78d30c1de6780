/* decode_global.c — the global section (id 6): type and constant initialiser of each. */
#include "wasm/decode.h"

bool wasm_decode_global_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n) || !(m->globals = wasm_decode_alloc(d, n, sizeof *m->globals)))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!wasm_decode_globaltype(d, &m->globals[i].type) || !wasm_decode_const_expr(d, &m->globals[i].init))
            return false;
    m->nglobals = m->nglobal_imports + n;
    return true;
}
