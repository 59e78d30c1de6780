/*
 * fuzz_run.c — libFuzzer target: decode + validate + translate + instantiate + run.
 *
 * Every import is satisfied by a stub (functions that trap, zeroed globals, fresh tables and
 * memories of the declared size), then every exported function is called with zero arguments.
 * A watchdog thread interrupts the runtime when one input has run longer than RUN_MS, so a
 * guest loop ends as ZVM_TRAP_INTERRUPTED instead of a libFuzzer timeout.  Memories are
 * limited to 64 MiB so the fuzzer's RSS limit measures leaks, not legitimate growth.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm/wasm.h"

#define RUN_MS 50

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static zvm_runtime *watched;             /* under watch_lock: the runtime may be freed once it is NULL */
static _Atomic long long deadline_ns;
static pthread_once_t watchdog_once = PTHREAD_ONCE_INIT;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *watchdog(void *arg)
{
    (void)arg;
    struct timespec tick = { 0, 5 * 1000 * 1000 };
    for (;;) {
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&watch_lock);
        if (watched && now_ns() > atomic_load(&deadline_ns))
            zvm_runtime_interrupt(watched);
        pthread_mutex_unlock(&watch_lock);
    }
    return NULL;
}

static void start_watchdog(void)
{
    pthread_t th;
    pthread_create(&th, NULL, watchdog, NULL);
    pthread_detach(th);
}

static int stub_trap(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    return zvm_call_trap(call, "stub import");
}

static int make_import(zvm_runtime *rt, const zvm_import_desc *d, zvm_extern *out)
{
    zvm_error err;
    out->kind = d->kind;
    switch (d->kind) {
    case ZVM_EXTERN_FUNC: return zvm_func_new_host(rt, &d->func, stub_trap, NULL, &out->u.func, &err);
    case ZVM_EXTERN_TABLE:
        if (d->min > 100000)
            return -1;
        return zvm_table_new(rt, d->valtype, (uint32_t)d->min, d->max, 0, &out->u.table, &err);
    case ZVM_EXTERN_MEMORY:
        if (d->min > 1024)
            return -1;
        return zvm_memory_new(rt, (uint32_t)d->min, d->max, &out->u.memory, &err);
    case ZVM_EXTERN_GLOBAL: return zvm_global_new(rt, d->valtype, d->mutable_, 0, &out->u.global, &err);
    case ZVM_EXTERN_TAG: return zvm_tag_new(rt, &d->func, &out->u.tag, &err);
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pthread_once(&watchdog_once, start_watchdog);
    zvm_error err;
    zvm_module *m;
    if (zvm_module_load(data, size, &m, &err) != 0)
        return 0;
    zvm_runtime_config cfg = { .max_call_depth = 2000, .value_stack_bytes = 1 << 20, .memory_limit = 64u << 20 };
    zvm_runtime *rt;
    if (zvm_runtime_new(&cfg, &rt, &err) != 0) {
        zvm_module_free(m);
        return 0;
    }
    uint32_t n = zvm_module_import_count(m);
    zvm_extern *imports = calloc(n + 1, sizeof *imports);
    bool ok = imports != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        ok = make_import(rt, &d, &imports[i]) == 0;
    }
    atomic_store(&deadline_ns, now_ns() + RUN_MS * 1000000LL);
    pthread_mutex_lock(&watch_lock);
    watched = rt;
    pthread_mutex_unlock(&watch_lock);
    zvm_instance *inst;
    zvm_trap trap;
    if (ok && zvm_instance_new(rt, m, imports, n, &inst, &trap, &err) == 0) {
        uint32_t ne = zvm_module_export_count(m);
        for (uint32_t i = 0; i < ne; i++) {
            zvm_export_desc e;
            zvm_module_export(m, i, &e);
            zvm_extern x;
            if (e.kind != ZVM_EXTERN_FUNC || !zvm_instance_export(inst, e.name, &x))
                continue;
            const zvm_functype *t = zvm_func_type(x.u.func);
            zvm_val *args = calloc(t->nparams + 1, sizeof *args), *res = calloc(t->nresults + 1, sizeof *res);
            if (args && res)
                zvm_func_call(rt, x.u.func, args, res, &trap);
            free(args);
            free(res);
            zvm_runtime_clear_interrupt(rt);
            atomic_store(&deadline_ns, now_ns() + RUN_MS * 1000000LL);
        }
    }
    pthread_mutex_lock(&watch_lock);
    watched = NULL;
    pthread_mutex_unlock(&watch_lock);
    free(imports);
    zvm_runtime_free(rt);
    zvm_module_free(m);
    return 0;
}
