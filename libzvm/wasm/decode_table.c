/* decode_table.c — the table section (id 4): the module's own tables, after the imported ones. */
#include "wasm/decode.h"

bool wasm_decode_table_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n))
        return false;
    if (!(m->tables = wasm_decode_alloc(d, (size_t)m->ntable_imports + n, sizeof *m->tables)))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!wasm_decode_tabletype(d, &m->tables[m->ntable_imports + i]))
            return false;
    m->ntables = m->ntable_imports + n;
    return true;
}
