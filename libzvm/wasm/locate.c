/*
 * locate.c — from an instruction pointer back to the module: which function, which byte of the
 * file.  The interpreter asks when a guest traps, and when an exception looks for its handler;
 * the translator recorded the positions.
 */
#include "wasm/exec.h"

const struct code_func *wasm_code_func_at(const struct code *c, const cell *ip)
{
    if (!c || !c->nfuncs || ip < c->cells || ip >= c->cells + c->ncells)
        return NULL;
    uint32_t at = (uint32_t)(ip - c->cells);
    uint32_t lo = 0, hi = c->nfuncs;             /* last function starting at or before at */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (c->funcs[mid].first_cell <= at)
            lo = mid;
        else
            hi = mid;
    }
    return &c->funcs[lo];
}

void wasm_code_locate(const struct code *c, const cell *ip, uint32_t *func_index, uint32_t *offset)
{
    *func_index = UINT32_MAX;
    *offset = 0;
    const struct code_func *cf = wasm_code_func_at(c, ip);
    if (!cf)
        return;
    uint32_t at = (uint32_t)(ip - c->cells);
    *func_index = cf->func_index;
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
