/* decode_datacount.c — the data count section (id 12): the number of data segments, announced
 * before the code so that a one-pass validator can check memory.init and data.drop. */
#include "wasm/decode.h"

bool wasm_decode_datacount_section(wasm_decoder *d)
{
    d->m->has_datacount = true;
    return wasm_read_u32(&d->r, &d->m->datacount);
}
