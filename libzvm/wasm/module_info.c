/*
 * module_info.c — what a host may ask of a loaded module before instantiating it, answered from
 * the decoder's tables: the binary is read once, by the decoder, and nobody re-walks it.
 */
#include <stdint.h>

#include "wasm/exec.h"

bool zvm_module_memory_limits(const zvm_module *m, uint32_t index, uint64_t *min_pages, uint64_t *max_pages)
{
    if (index >= m->w->nmemories)
        return false;
    *min_pages = m->w->memories[index].min;
    *max_pages = m->w->memories[index].max;
    return true;
}
