/*
 * guest_imports.c — which calls exist, their signatures, and how the engine reaches them.
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

#define WASI "wasi_snapshot_preview1"

const guest_import guest_wasi_imports[] = {
    { "args_get", "ii", "i", wasi_args_get },
    { "args_sizes_get", "ii", "i", wasi_args_sizes_get },
    { "environ_get", "ii", "i", wasi_environ_get },
    { "environ_sizes_get", "ii", "i", wasi_environ_sizes_get },
    { "clock_res_get", "ii", "i", wasi_clock_res_get },
    { "clock_time_get", "iIi", "i", wasi_clock_time_get },
    { "fd_advise", "iIIi", "i", wasi_fd_advise },
    { "fd_allocate", "iII", "i", wasi_fd_allocate },
    { "fd_close", "i", "i", wasi_fd_close },
    { "fd_datasync", "i", "i", wasi_fd_datasync },
    { "fd_fdstat_get", "ii", "i", wasi_fd_fdstat_get },
    { "fd_fdstat_set_flags", "ii", "i", wasi_fd_fdstat_set_flags },
    { "fd_fdstat_set_rights", "iII", "i", wasi_fd_fdstat_set_rights },
    { "fd_filestat_get", "ii", "i", wasi_fd_filestat_get },
    { "fd_filestat_set_size", "iI", "i", wasi_fd_filestat_set_size },
    { "fd_filestat_set_times", "iIIi", "i", wasi_fd_filestat_set_times },
    { "fd_pread", "iiiIi", "i", wasi_fd_pread },
    { "fd_prestat_get", "ii", "i", wasi_fd_prestat_get },
    { "fd_prestat_dir_name", "iii", "i", wasi_fd_prestat_dir_name },
    { "fd_pwrite", "iiiIi", "i", wasi_fd_pwrite },
    { "fd_read", "iiii", "i", wasi_fd_read },
    { "fd_readdir", "iiiIi", "i", wasi_fd_readdir },
    { "fd_renumber", "ii", "i", wasi_fd_renumber },
    { "fd_seek", "iIii", "i", wasi_fd_seek },
    { "fd_sync", "i", "i", wasi_fd_sync },
    { "fd_tell", "ii", "i", wasi_fd_tell },
    { "fd_write", "iiii", "i", wasi_fd_write },
    { "path_create_directory", "iii", "i", wasi_path_create_directory },
    { "path_filestat_get", "iiiii", "i", wasi_path_filestat_get },
    { "path_filestat_set_times", "iiiiIIi", "i", wasi_path_filestat_set_times },
    { "path_link", "iiiiiii", "i", wasi_path_link },
    { "path_open", "iiiiiIIii", "i", wasi_path_open },
    { "path_readlink", "iiiiii", "i", wasi_path_readlink },
    { "path_remove_directory", "iii", "i", wasi_path_remove_directory },
    { "path_rename", "iiiiii", "i", wasi_path_rename },
    { "path_symlink", "iiiii", "i", wasi_path_symlink },
    { "path_unlink_file", "iii", "i", wasi_path_unlink_file },
    { "poll_oneoff", "iiii", "i", wasi_poll_oneoff },
    { "proc_exit", "i", "", wasi_proc_exit },
    { "proc_raise", "i", "i", wasi_proc_raise },
    { "sched_yield", "", "i", wasi_sched_yield },
    { "random_get", "ii", "i", wasi_random_get },
    { "sock_accept", "iii", "i", wasi_sock_accept },
    { "sock_recv", "iiiiii", "i", wasi_sock_recv },
    { "sock_send", "iiiii", "i", wasi_sock_send },
    { "sock_shutdown", "ii", "i", wasi_sock_shutdown },
    { NULL, NULL, NULL, NULL },
};

const guest_import guest_zvm_imports[] = {
    { "zvm_pread", "iiiI", "i", zvm_call_pread },
    { "zvm_pwrite", "iiiI", "i", zvm_call_pwrite },
    { "zvm_exit", "i", "", zvm_call_exit_ },
    { "zvm_channel_count", "", "i", zvm_call_channel_count },
    { "zvm_channel_info", "ii", "i", zvm_call_channel_info },
    { "zvm_channel_name", "iii", "i", zvm_call_channel_name },
    { NULL, NULL, NULL, NULL },
};

typedef struct guest_binding {
    zvm_guest *g;
    const guest_import *imp;
    uint8_t params[10], results[1];
} guest_binding;

static const guest_import *find_import(const char *module, const char *name)
{
    const guest_import *table = strcmp(module, WASI) == 0 ? guest_wasi_imports
                              : strcmp(module, "zvm") == 0 ? guest_zvm_imports : NULL;
    for (; table && table->name; table++)
        if (strcmp(table->name, name) == 0) return table;
    return NULL;
}

static int32_t run(zvm_guest *g, const guest_import *imp, uint8_t *mem, uint64_t mem_size, const zvm_val *args)
{
    g->mem = mem;
    g->mem_size = mem ? mem_size : 0;
    g->fs.capacity = g->memory_limit == 0 ? UINT64_MAX
                   : g->memory_limit > g->mem_size ? g->memory_limit - g->mem_size : 0;
    g->trap[0] = 0;
    return imp->fn(g, args);
}

int guest_dispatch(zvm_guest *g, const char *module, const char *name, uint8_t *mem, uint64_t mem_size,
                   const zvm_val *args, int32_t *result)
{
    const guest_import *imp = find_import(module, name);
    if (!imp) return -2;
    *result = run(g, imp, mem, mem_size, args);
    return g->exit_requested || g->trap[0] ? -1 : 0;
}

static int serve(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    guest_binding *b = user;
    zvm_guest *g = b->g;
    uint64_t size = 0;
    uint8_t *mem = zvm_call_memory(call, &size);
    int32_t r = run(g, b->imp, mem, size, args);
    if (g->exit_requested) return zvm_call_exit(call, g->exit_code);
    if (g->trap[0]) return zvm_call_trap(call, "%s", g->trap);
    if (b->imp->results[0]) results[0] = (uint32_t)r;
    return 0;
}

static void describe(char *out, size_t size, const uint8_t *params, uint32_t np, const uint8_t *results, uint32_t nr)
{
    size_t at = 0;
    at += (size_t)snprintf(out + at, size - at, "(");
    for (uint32_t i = 0; i < np && at < size; i++) {
        const char *t = params[i] == ZVM_I32 ? "i32" : params[i] == ZVM_I64 ? "i64" : params[i] == ZVM_F32 ? "f32"
                      : params[i] == ZVM_F64 ? "f64" : "ref";
        at += (size_t)snprintf(out + at, size - at, "%s%s", i ? " " : "", t);
    }
    if (at < size) at += (size_t)snprintf(out + at, size - at, ") -> (%s)", nr == 0 ? "" : results[0] == ZVM_I32 ? "i32" : "other");
}

int zvm_guest_imports(zvm_guest *g, zvm_runtime *rt, const zvm_module *m, zvm_extern *imports, zvm_error *err)
{
    uint32_t n = zvm_module_import_count(m);
    free(g->bindings);
    g->bindings = calloc(n ? n : 1, sizeof *g->bindings);
    g->nbindings = n;
    if (!g->bindings) { snprintf(err->msg, sizeof err->msg, "guest: out of memory"); return -1; }
    for (uint32_t i = 0; i < n; i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        const guest_import *imp = d.kind == ZVM_EXTERN_FUNC ? find_import(d.module, d.name) : NULL;
        if (!imp) {
            snprintf(err->msg, sizeof err->msg, "unknown import %s.%s: zvm serves functions of wasi_snapshot_preview1 "
                     "and zvm only; rebuild the program for wasm32-wasi (see zvm(1))", d.module, d.name);
            return -1;
        }
        guest_binding *b = &g->bindings[i];
        b->g = g;
        b->imp = imp;
        uint32_t np = (uint32_t)strlen(imp->params), nr = (uint32_t)strlen(imp->results);
        for (uint32_t k = 0; k < np; k++) b->params[k] = imp->params[k] == 'I' ? ZVM_I64 : ZVM_I32;
        if (nr) b->results[0] = ZVM_I32;
        bool same = d.func.nparams == np && d.func.nresults == nr &&
                    memcmp(d.func.params, b->params, np) == 0 && (nr == 0 || d.func.results[0] == ZVM_I32);
        if (!same) {
            char want[128], got[128];
            describe(want, sizeof want, b->params, np, b->results, nr);
            describe(got, sizeof got, d.func.params, d.func.nparams, d.func.results, d.func.nresults);
            snprintf(err->msg, sizeof err->msg, "import %s.%s has type %s, but zvm serves it as %s",
                     d.module, d.name, got, want);
            return -1;
        }
        zvm_functype type = { np, nr, b->params, b->results };
        zvm_func *f;
        if (zvm_func_new_host(rt, &type, serve, b, &f, err) < 0) return -1;
        imports[i] = (zvm_extern){ .kind = ZVM_EXTERN_FUNC, .u.func = f };
    }
    return 0;
}
