/*
 * guest_imports.c — how the engine reaches the guest's calls (guest_calls.c lists them).
 *
 * Every import becomes one host function whose user data is a binding (guest + call);
 * the trampoline fetches the caller's memory, sets the file budget (Memory minus the
 * linear memory as it is now), runs the call, and turns proc_exit / zvm_exit into the
 * engine's exit and a raised signal into a trap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest_impl.h"

typedef struct guest_binding {
    zvm_guest *g;
    const guest_import *imp;
    uint8_t params[10], results[1];
} guest_binding;

/* zvm -T: "fd_write(1, 1024, 1, 1020) = 0", arguments in decimal as the guest passed them. */
static void trace_call(FILE *out, const guest_import *imp, const zvm_val *args, int32_t r, const zvm_guest *g)
{
    fprintf(out, "%s(", imp->name);
    for (size_t i = 0; imp->params[i]; i++) {
        if (imp->params[i] == 'I')
            fprintf(out, "%s%lld", i ? ", " : "", (long long)args[i]);
        else
            fprintf(out, "%s%u", i ? ", " : "", (uint32_t)args[i]);
    }
    if (g->exit_requested)
        fprintf(out, ") exits %d\n", g->exit_code);
    else if (g->trap[0])
        fprintf(out, ") traps: %s\n", g->trap);
    else if (imp->results[0])
        fprintf(out, ") = %d\n", r);
    else
        fprintf(out, ")\n");
}

static int serve(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    guest_binding *b = user;
    zvm_guest *g = b->g;
    uint64_t size = 0;
    uint8_t *mem = zvm_call_memory(call, &size);
    g->snap.call = call;
    int32_t r = guest_run(g, b->imp, mem, size, args);
    g->snap.call = NULL;
    if (g->trace)
        trace_call(g->trace, b->imp, args, r, g);
    if (g->exit_requested)
        return zvm_call_exit(call, g->exit_code);
    if (g->trap[0])
        return zvm_call_trap(call, "%s", g->trap);
    if (b->imp->results[0])
        results[0] = (uint32_t)r;
    return 0;
}

static void describe(char *out, size_t size, const uint8_t *params, uint32_t np, const uint8_t *results, uint32_t nr)
{
    size_t at = 0;
    at += (size_t)snprintf(out + at, size - at, "(");
    for (uint32_t i = 0; i < np && at < size; i++) {
        const char *t = params[i] == ZVM_I32   ? "i32"
                        : params[i] == ZVM_I64 ? "i64"
                        : params[i] == ZVM_F32 ? "f32"
                        : params[i] == ZVM_F64 ? "f64"
                                               : "ref";
        at += (size_t)snprintf(out + at, size - at, "%s%s", i ? " " : "", t);
    }
    if (at < size)
        at += (size_t)snprintf(out + at, size - at, ") -> (%s)",
                               nr == 0                 ? ""
                               : results[0] == ZVM_I32 ? "i32"
                                                       : "other");
}

int zvm_guest_imports(zvm_guest *g, zvm_runtime *rt, const zvm_module *m, zvm_extern *imports, zvm_error *err)
{
    uint32_t n = zvm_module_import_count(m);
    free(g->bindings);
    g->bindings = calloc(n ? n : 1, sizeof *g->bindings);
    g->nbindings = n;
    if (!g->bindings) {
        snprintf(err->msg, sizeof err->msg, "guest: out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        const guest_import *imp = d.kind == ZVM_EXTERN_FUNC ? guest_find_import(d.module, d.name) : NULL;
        if (!imp) {
            snprintf(err->msg, sizeof err->msg,
                     "unknown import %s.%s: zvm serves functions of wasi_snapshot_preview1 "
                     "and zvm only; rebuild the program for wasm32-wasi (see zvm(1))",
                     d.module, d.name);
            return -1;
        }
        guest_binding *b = &g->bindings[i];
        b->g = g;
        b->imp = imp;
        uint32_t np = (uint32_t)strlen(imp->params), nr = (uint32_t)strlen(imp->results);
        for (uint32_t k = 0; k < np; k++)
            b->params[k] = imp->params[k] == 'I' ? ZVM_I64 : ZVM_I32;
        if (nr)
            b->results[0] = ZVM_I32;
        bool same = d.func.nparams == np && d.func.nresults == nr && memcmp(d.func.params, b->params, np) == 0 &&
                    (nr == 0 || d.func.results[0] == ZVM_I32);
        if (!same) {
            char want[128], got[128];
            describe(want, sizeof want, b->params, np, b->results, nr);
            describe(got, sizeof got, d.func.params, d.func.nparams, d.func.results, d.func.nresults);
            snprintf(err->msg, sizeof err->msg, "import %s.%s has type %s, but zvm serves it as %s", d.module, d.name,
                     got, want);
            return -1;
        }
        zvm_functype type = { np, nr, b->params, b->results };
        zvm_func *f;
        if (zvm_func_new_host(rt, &type, serve, b, &f, err) < 0)
            return -1;
        imports[i] = (zvm_extern){ .kind = ZVM_EXTERN_FUNC, .u.func = f };
    }
    return 0;
}
