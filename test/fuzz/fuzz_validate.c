/*
 * fuzz_validate.c — libFuzzer target: any bytes through decode + validate.
 *
 * The decoder and validator are the security boundary (the translator assumes what they
 * accept), so besides "no crash, no leak, no undefined behaviour" this target checks what
 * callers rely on: a refusal always comes with a message naming where, and an accepted
 * module's index spaces are consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/module.h"

static void check_accepted(const uint8_t *data, size_t size)
{
    wasm_module *m;
    zvm_error err;
    if (wasm_decode(data, size, &m, &err) != 0)
        abort();                         /* validate accepted what decode now refuses */
    if (wasm_validate(m, &err) != 0)
        abort();
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (m->func_type[i] >= m->ntypes)
            abort();
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++) {
        const wasm_func *f = &m->funcs[i];
        if (f->code < m->bytes || f->code + f->code_size > m->bytes + m->size || f->code[f->code_size - 1] != 0x0b)
            abort();
    }
    if (m->nmemories > 1)
        abort();
    wasm_module_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zvm_error err;
    memset(&err, 0, sizeof err);
    if (zvm_module_validate(data, size, &err) == 0) {
        check_accepted(data, size);
        return 0;
    }
    if (!strstr(err.msg, ": "))
        abort();                         /* a refusal must say where, then what */
    return 0;
}
