/* decode_start.c — the start section (id 8): one function index. */
#include "wasm/decode.h"

bool wasm_decode_start_section(wasm_decoder *d)
{
    d->m->has_start = true;
    return wasm_read_u32(&d->r, &d->m->start);
}
