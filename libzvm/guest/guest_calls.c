/*
 * guest_calls.c — the calls the guest may import, with their signatures, and the one way
 * any of them is run (the engine's host functions and the unit tests both come through here).
 */
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
    { "zvm_fork", "", "i", zvm_call_fork },
    { NULL, NULL, NULL, NULL },
};

const guest_import *guest_find_import(const char *module, const char *name)
{
    const guest_import *table = strcmp(module, WASI) == 0    ? guest_wasi_imports
                                : strcmp(module, "zvm") == 0 ? guest_zvm_imports
                                                             : NULL;
    for (; table && table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

int32_t guest_run(zvm_guest *g, const guest_import *imp, uint8_t *mem, uint64_t mem_size, const zvm_val *args)
{
    g->mem = mem;
    g->mem_size = mem ? mem_size : 0;
    g->fs.capacity = g->memory_limit == 0            ? UINT64_MAX
                     : g->memory_limit > g->mem_size ? g->memory_limit - g->mem_size
                                                     : 0;
    g->trap[0] = 0;
    if (g->snap.watching)
        guest_observe_call(g, imp, args);
    int32_t rc = imp->fn(g, args);
    guest_share_memory_limit(g);
    return rc;
}

/* Memory is one budget for linear memory and in-memory files: what the files hold is what
 * memory.grow can no longer take (the files' side is fs.capacity, set before each call). */
void guest_share_memory_limit(zvm_guest *g)
{
    if (g->memory && g->memory_limit)
        zvm_memory_set_limit(g->memory, g->memory_limit > g->fs.bytes ? g->memory_limit - g->fs.bytes : 0);
}

int guest_dispatch(zvm_guest *g, const char *module, const char *name, uint8_t *mem, uint64_t mem_size,
                   const zvm_val *args, int32_t *result)
{
    const guest_import *imp = guest_find_import(module, name);
    if (!imp)
        return -2;
    *result = guest_run(g, imp, mem, mem_size, args);
    return g->exit_requested || g->trap[0] ? -1 : 0;
}
