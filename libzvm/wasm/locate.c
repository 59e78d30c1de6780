/*
 * locate.c — from an instruction pointer back to the module: which function, which byte of the
 * file.  The interpreter asks when a guest traps, and snapshots when they record where each
 * frame returns to; the translator recorded the positions.
 */
#include "wasm/exec.h"

const struct code_func *wasm_code_locate(const struct code *c, const cell *ip, uint32_t *func_index, uint32_t *offset)
{
    *func_index = UINT32_MAX;
    *offset = 0;
    if (!c)
        return NULL;
    /* Each function's code is its own allocation, made when it first ran: a trap or a
     * snapshot is rare enough for a scan over the functions. */
    const struct code_func *cf = NULL;
    for (uint32_t f = 0; f < c->nfuncs && !cf; f++) {
        const struct code_func *g = &c->funcs[f];
        if (ip == g->lazy) {                     /* stopped before its first instruction */
            *func_index = g->func_index;
            *offset = g->body_offset;
            return g;
        }
        if (g->cells && ip >= g->cells && ip < g->cells + g->ncells)
            cf = g;
    }
    if (!cf)
        return NULL;
    *func_index = cf->func_index;
    uint32_t at = (uint32_t)(ip - cf->cells);
    uint32_t lo = 0, hi = cf->npos;              /* last instruction starting at or before at */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (cf->pos[mid].cell <= at)
            lo = mid;
        else
            hi = mid;
    }
    if (cf->npos)
        *offset = cf->pos[lo].offset;
    return cf;
}
