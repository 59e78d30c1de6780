/*
 * zvm-run — a tiny driver for the engine alone: loads a wasm32-wasi command, gives it a minimal
 * WASI (fd_write to stdout/stderr, proc_exit, args, empty environment, clocks, random) and calls
 * _start.  Imports it does not know trap when called.  For measuring the interpreter and
 * debugging it, not a product (zvm is the product).
 *
 *   zvm-run [-t] [-i N] FILE.wasm [ARGS...]
 *     -t    print load (decode+validate+translate) and run times to stderr
 *     -i N  call _start N times in fresh instances (timing)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wasm/wasm.h"
#include "read_file.h"

static int g_argc;
static char **g_argv;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Guest memory access with bounds checks: the guest gives us pointers. */
static uint8_t *guest(zvm_call *call, uint32_t ptr, uint32_t len)
{
    uint64_t size;
    uint8_t *mem = zvm_call_memory(call, &size);
    if (!mem || (uint64_t)ptr + len > size)
        return NULL;
    return mem + ptr;
}

#define ERRNO_BADF 8
#define ERRNO_FAULT 21
#define ERRNO_INVAL 28
#define ERRNO_NOSYS 52

static int wasi_fd_write(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    uint32_t fd = (uint32_t)a[0], iovs = (uint32_t)a[1], n = (uint32_t)a[2], nwritten = (uint32_t)a[3];
    if (fd != 1 && fd != 2) {
        r[0] = ERRNO_BADF;
        return 0;
    }
    uint8_t *iov = guest(call, iovs, n * 8);
    uint8_t *out = guest(call, nwritten, 4);
    if (!iov || !out) {
        r[0] = ERRNO_FAULT;
        return 0;
    }
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p, len;
        memcpy(&p, iov + 8 * i, 4);
        memcpy(&len, iov + 8 * i + 4, 4);
        uint8_t *b = guest(call, p, len);
        if (!b) {
            r[0] = ERRNO_FAULT;
            return 0;
        }
        fwrite(b, 1, len, fd == 1 ? stdout : stderr);
        total += len;
    }
    memcpy(out, &total, 4);
    r[0] = 0;
    return 0;
}

static int wasi_proc_exit(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    return zvm_call_exit(call, (int)(uint32_t)a[0]);
}

static int wasi_args_sizes_get(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    uint32_t count = (uint32_t)g_argc, bytes = 0;
    for (int i = 0; i < g_argc; i++)
        bytes += (uint32_t)strlen(g_argv[i]) + 1;
    uint8_t *pc = guest(call, (uint32_t)a[0], 4), *pb = guest(call, (uint32_t)a[1], 4);
    if (!pc || !pb) {
        r[0] = ERRNO_FAULT;
        return 0;
    }
    memcpy(pc, &count, 4);
    memcpy(pb, &bytes, 4);
    r[0] = 0;
    return 0;
}

static int wasi_args_get(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    uint32_t argv = (uint32_t)a[0], buf = (uint32_t)a[1];
    for (int i = 0; i < g_argc; i++) {
        uint32_t len = (uint32_t)strlen(g_argv[i]) + 1;
        uint8_t *pp = guest(call, argv + 4 * (uint32_t)i, 4), *pb = guest(call, buf, len);
        if (!pp || !pb) {
            r[0] = ERRNO_FAULT;
            return 0;
        }
        memcpy(pp, &buf, 4);
        memcpy(pb, g_argv[i], len);
        buf += len;
    }
    r[0] = 0;
    return 0;
}

static int wasi_environ_sizes_get(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    uint8_t *pc = guest(call, (uint32_t)a[0], 4), *pb = guest(call, (uint32_t)a[1], 4);
    if (!pc || !pb) {
        r[0] = ERRNO_FAULT;
        return 0;
    }
    memset(pc, 0, 4);
    memset(pb, 0, 4);
    r[0] = 0;
    return 0;
}

static int wasi_environ_get(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    r[0] = 0;
    return 0;
}

static int wasi_clock_time_get(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    struct timespec ts;
    clock_gettime((uint32_t)a[0] == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint8_t *p = guest(call, (uint32_t)a[2], 8);
    if (!p) {
        r[0] = ERRNO_FAULT;
        return 0;
    }
    memcpy(p, &t, 8);
    r[0] = 0;
    return 0;
}

static int wasi_random_get(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    uint8_t *p = guest(call, (uint32_t)a[0], (uint32_t)a[1]);
    if (!p) {
        r[0] = ERRNO_FAULT;
        return 0;
    }
    for (uint32_t i = 0; i < (uint32_t)a[1]; i++)
        p[i] = (uint8_t)rand();
    r[0] = 0;
    return 0;
}

static int wasi_fd_fdstat_get(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    uint32_t fd = (uint32_t)a[0];
    uint8_t *p = guest(call, (uint32_t)a[1], 24);
    if (fd > 2) {
        r[0] = ERRNO_BADF;
        return 0;
    }
    if (!p) {
        r[0] = ERRNO_FAULT;
        return 0;
    }
    memset(p, 0, 24);
    p[0] = 2;                            /* character device */
    r[0] = 0;
    return 0;
}

static int wasi_badf(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    r[0] = ERRNO_BADF;
    return 0;
}

static int unknown_import(zvm_call *call, void *user, const zvm_val *a, zvm_val *r)
{
    return zvm_call_trap(call, "zvm-run does not provide the import %s", (const char *)user);
}

struct wasi_fn {
    const char *name;
    zvm_host_fn fn;
};

static const struct wasi_fn WASI[] = {
    { "fd_write", wasi_fd_write },
    { "proc_exit", wasi_proc_exit },
    { "args_sizes_get", wasi_args_sizes_get },
    { "args_get", wasi_args_get },
    { "environ_sizes_get", wasi_environ_sizes_get },
    { "environ_get", wasi_environ_get },
    { "clock_time_get", wasi_clock_time_get },
    { "random_get", wasi_random_get },
    { "fd_fdstat_get", wasi_fd_fdstat_get },
    { "fd_close", wasi_badf },
    { "fd_seek", wasi_badf },
    { "fd_read", wasi_badf },
    { "fd_prestat_get", wasi_badf },
    { "fd_prestat_dir_name", wasi_badf },
};

static int run_once(zvm_module *m, bool timing, int *exit_code)
{
    zvm_error err;
    zvm_runtime *rt;
    if (zvm_runtime_new(NULL, &rt, &err) != 0) {
        fprintf(stderr, "zvm-run: %s\n", err.msg);
        return 2;
    }
    uint32_t n = zvm_module_import_count(m);
    zvm_extern *imports = calloc(n + 1, sizeof *imports);
    for (uint32_t i = 0; i < n; i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        if (d.kind != ZVM_EXTERN_FUNC) {
            fprintf(stderr, "zvm-run: import %s.%s is not a function: not supported\n", d.module, d.name);
            return 2;
        }
        zvm_host_fn fn = unknown_import;
        if (strcmp(d.module, "wasi_snapshot_preview1") == 0)
            for (size_t k = 0; k < sizeof WASI / sizeof WASI[0]; k++)
                if (strcmp(WASI[k].name, d.name) == 0)
                    fn = WASI[k].fn;
        imports[i].kind = ZVM_EXTERN_FUNC;
        if (zvm_func_new_host(rt, &d.func, fn, (void *)d.name, &imports[i].u.func, &err) != 0) {
            fprintf(stderr, "zvm-run: %s\n", err.msg);
            return 2;
        }
    }
    zvm_instance *inst;
    zvm_trap trap;
    int rc = 0;
    if (zvm_instance_new(rt, m, imports, n, &inst, &trap, &err) != 0) {
        fprintf(stderr, "zvm-run: %s\n", err.msg);
        rc = 2;
        goto out;
    }
    zvm_extern start;
    if (!zvm_instance_export(inst, "_start", &start) || start.kind != ZVM_EXTERN_FUNC) {
        fprintf(stderr, "zvm-run: no _start export\n");
        rc = 2;
        goto out;
    }
    double t0 = now();
    if (zvm_func_call(rt, start.u.func, NULL, NULL, &trap) != 0) {
        if (trap.kind == ZVM_TRAP_EXIT) {
            *exit_code = trap.exit_code;
        } else {
            fprintf(stderr, "zvm-run: trap: %s in function %u (%s) at byte 0x%x\n", trap.msg, trap.func_index,
                    trap.func_name ? trap.func_name : "?", trap.offset);
            rc = 3;
        }
    }
    if (timing)
        fprintf(stderr, "zvm-run: run %.3f s\n", now() - t0);
out:
    fflush(stdout);
    free(imports);
    zvm_runtime_free(rt);
    return rc;
}

int main(int argc, char **argv)
{
    bool timing = false;
    int iterations = 1, opt;
    while ((opt = getopt(argc, argv, "+ti:")) != -1) {
        if (opt == 't')
            timing = true;
        else if (opt == 'i')
            iterations = atoi(optarg);
        else {
            fprintf(stderr, "usage: zvm-run [-t] [-i N] FILE.wasm [ARGS...]\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: zvm-run [-t] [-i N] FILE.wasm [ARGS...]\n");
        return 2;
    }
    size_t size;
    uint8_t *bytes = read_file(argv[optind], &size);
    if (!bytes) {
        fprintf(stderr, "zvm-run: %s: %s\n", argv[optind], strerror(errno));
        return 2;
    }
    g_argc = argc - optind;
    g_argv = argv + optind;
    zvm_error err;
    zvm_module *m;
    double t0 = now();
    if (zvm_module_load(bytes, size, &m, &err) != 0) {
        fprintf(stderr, "zvm-run: %s: %s\n", argv[optind], err.msg);
        return 2;
    }
    if (timing)
        fprintf(stderr, "zvm-run: load %.3f s (%.1f MB/s)\n", now() - t0, size / 1e6 / (now() - t0));
    free(bytes);
    int exit_code = 0, rc = 0;
    for (int i = 0; i < iterations && rc == 0; i++)
        rc = run_once(m, timing, &exit_code);
    zvm_module_free(m);
    return rc ? rc : exit_code;
}
