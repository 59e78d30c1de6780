/*
 * fuzz_nvram.c — libFuzzer target: the nvram (boot settings) parser on arbitrary text.
 *
 * Every input must end in parsed settings or an error with a message; parsed settings must
 * be well formed (argv and env NULL-terminated at their counts, fstab and mapping entries
 * naming a channel), and freeing them must leak nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "nvram/nvram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zvm_nvram nv;
    zvm_error err = { { 0 } };
    if (zvm_nvram_parse((const char *)data, size, &nv, &err) != 0) {
        if (!err.msg[0])
            abort();   /* every failure says why */
        return 0;
    }
    for (size_t i = 0; i < nv.argc; i++)
        if (!nv.argv[i])
            abort();
    for (size_t i = 0; i < nv.nenv; i++)
        if (!nv.env[i] || !strchr(nv.env[i], '='))
            abort();
    for (size_t i = 0; i < nv.nfstab; i++)
        if (!nv.fstab[i].channel || !nv.fstab[i].mountpoint)
            abort();
    for (size_t i = 0; i < nv.nmapping; i++)
        if (!nv.mapping[i].channel)
            abort();
    zvm_nvram_free(&nv);
    return 0;
}
