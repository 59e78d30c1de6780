/*
 * fuzz_restore.c — libFuzzer target: the engine's check of a saved state (wasm/suspend.c).
 *
 * At start it runs test/fixtures/x_suspend.wasm (build/fixtures, made by make fixtures) and
 * saves its state at the bottom of a recursion: a valid state.  Each input is a damage to that
 * state — two bytes choose where it is cut, then each three bytes (offset, xor) flip bits — so
 * every input is close to valid, where a checker's mistakes hide.  The damaged state is
 * restored into a fresh instance and, if accepted, resumed: refusing it is fine, running it is
 * fine (a value changed is a different computation), a crash or a sanitizer report is a
 * finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasm/wasm.h"

static uint8_t *module_bytes, *valid;
static size_t module_size, valid_size;
static int memory_fd = -1;
static bool saving;

static int host_save(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    if (saving) {
        zvm_error err;
        uint64_t size;
        uint8_t *mem = zvm_call_memory(call, &size);
        if (zvm_call_save_state(call, &valid, &valid_size, &err) != 0 ||
            pwrite(memory_fd, mem, size, 0) != (ssize_t)size)
            abort();
        saving = false;
    }
    results[0] = 1;
    return 0;
}

/* A runtime with x_suspend instantiated (started or not); NULL on failure. */
static zvm_runtime *world(bool unstarted, zvm_module **m, zvm_instance **inst)
{
    zvm_runtime *rt;
    zvm_error err;
    static const uint8_t i32[] = { ZVM_I32 };
    zvm_functype t = { 0, 1, NULL, i32 };
    zvm_extern imports[2] = { { .kind = ZVM_EXTERN_FUNC }, { .kind = ZVM_EXTERN_FUNC } };
    if (zvm_runtime_new(NULL, &rt, &err) != 0)
        return NULL;
    if (zvm_module_load(module_bytes, module_size, m, &err) != 0 ||
        zvm_func_new_host(rt, &t, host_save, NULL, &imports[0].u.func, &err) != 0 ||
        zvm_func_new_host(rt, &t, host_save, NULL, &imports[1].u.func, &err) != 0 ||
        (unstarted ? zvm_instance_new_unstarted(rt, *m, imports, 2, inst, &err)
                   : zvm_instance_new(rt, *m, imports, 2, inst, NULL, &err)) != 0)
        abort();
    return rt;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FILE *f = fopen("../fixtures/x_suspend.wasm", "rb");
    if (!f)
        f = fopen("build/fixtures/x_suspend.wasm", "rb");
    if (!f) {
        fprintf(stderr, "fuzz_restore: build/fixtures/x_suspend.wasm is missing (make fixtures)\n");
        exit(1);
    }
    module_bytes = malloc(1 << 16);
    module_size = fread(module_bytes, 1, 1 << 16, f);
    fclose(f);
    char path[] = "/tmp/zvm-fuzz-restore-XXXXXX";
    memory_fd = mkstemp(path);
    unlink(path);
    zvm_module *m;
    zvm_instance *inst;
    zvm_runtime *rt = world(false, &m, &inst);
    zvm_extern run;
    zvm_val n = 7;
    zvm_trap trap;
    saving = true;
    if (!zvm_instance_export(inst, "run", &run) || zvm_func_call(rt, run.u.func, &n, NULL, &trap) != 0 || !valid)
        abort();
    zvm_runtime_free(rt);
    zvm_module_free(m);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *state = malloc(valid_size);
    memcpy(state, valid, valid_size);
    size_t keep = valid_size;
    if (size >= 2) {
        keep = ((size_t)data[0] << 8 | data[1]) % (valid_size + 1);
        data += 2;
        size -= 2;
    }
    for (; size >= 3; data += 3, size -= 3) {
        size_t at = ((size_t)data[0] << 8 | data[1]) % valid_size;
        state[at] ^= data[2];
    }
    zvm_module *m;
    zvm_instance *inst;
    zvm_runtime *rt = world(true, &m, &inst);
    zvm_extern mem;
    zvm_error err;
    if (zvm_instance_export(inst, "memory", &mem) &&
        zvm_memory_map_file(mem.u.memory, memory_fd, 0, 65536, &err) == 0 &&
        zvm_instance_restore(inst, state, keep, &err) == 0) {
        zvm_val one = 1;
        zvm_trap trap;
        zvm_instance_resume(inst, &one, NULL, &trap);
    }
    zvm_runtime_free(rt);
    zvm_module_free(m);
    free(state);
    return 0;
}
