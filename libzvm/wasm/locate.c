/*
 * locate.c — from an instruction pointer back to the module: which function, which byte of the
 * file.  The interpreter asks when a guest traps; the translator recorded the positions.
 */
#include "wasm/exec.h"

void wasm_code_locate(const struct code *c, const cell *ip, uint32_t *func_index, uint32_t *offset)
{
    *func_index = UINT32_MAX;
    *offset = 0;
    if (!c || ip < c->cells || ip >= c->cells + c->ncells)
        return;
    uint32_t at = (uint32_t)(ip - c->cells);
    uint32_t lo = 0, hi = c->nfuncs;             /* last function starting at or before at */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (c->funcs[mid].first_cell <= at)
            lo = mid;
        else
            hi = mid;
    }
    if (c->nfuncs)
        *func_index = c->funcs[lo].func_index;
    size_t plo = 0, phi = c->npos;
    while (phi - plo > 1) {
        size_t mid = (plo + phi) / 2;
        if (c->pos[mid].cell <= at)
            plo = mid;
        else
            phi = mid;
    }
    if (c->npos)
        *offset = c->pos[plo].offset;
}
