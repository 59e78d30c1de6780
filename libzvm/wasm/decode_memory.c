/* decode_memory.c — the memory section (id 5).  More than one memory is decoded and left to the
 * validator to refuse ("multiple memories"), as the spec's chapters divide the work. */
#include "wasm/decode.h"

bool wasm_decode_memory_section(wasm_decoder *d)
{
    wasm_module *m = d->m;
    uint32_t n;
    if (!wasm_decode_count(d, &n))
        return false;
    if (!(m->memories = wasm_decode_alloc(d, (size_t)m->nmemory_imports + n, sizeof *m->memories)))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!wasm_decode_limits(d, &m->memories[m->nmemory_imports + i]))
            return false;
    m->nmemories = m->nmemory_imports + n;
    return true;
}
