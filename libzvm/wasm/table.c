/*
 * table.c — growing a table, which both instantiation (instance.c) and the table.grow
 * instruction (interp.c) do.
 */
#include <stdlib.h>

#include "wasm/exec.h"

int wasm_table_grow_by(zvm_table *t, uint32_t delta, zvm_val init)
{
    uint64_t n = (uint64_t)t->size + delta;
    if (n > t->max || n > WASM_TABLE_LIMIT)
        return -1;
    if (delta == 0)
        return 0;
    zvm_val *e = realloc(t->elems, n * sizeof *e);
    if (!e)
        return -1;
    for (uint64_t i = t->size; i < n; i++)
        e[i] = init;
    t->elems = e;
    t->size = (uint32_t)n;
    return 0;
}
