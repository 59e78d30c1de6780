/*
 * zvm-fuzz-exec — runs a module the way the differential fuzzer compares engines: instantiate it
 * with binaryen's fuzzing imports (fuzzing-support.log-i32/i64/f32/f64 print their argument),
 * then call every exported function in export order with zero arguments, printing what happened.
 * test/fuzz/v8-fuzz-exec.mjs prints the same lines for node's V8; test/fuzz/diff.py compares them.
 *
 *   zvm-fuzz-exec FILE.wasm        the log (below) on stdout
 *   zvm-fuzz-exec -s FILE.wasm     the exported functions' signatures, "NAME\tPARAMS\tRESULTS"
 *                                  (letters i I f F r e), for the V8 driver to pass zeros of the
 *                                  right types
 *   zvm-fuzz-exec -r K FILE.wasm   the same log, but at the K-th logging call the guest is saved
 *                                  (zvm_call_save_state and its memory), stopped, and resumed in
 *                                  a new runtime, which runs everything after: a correct
 *                                  suspend/resume (docs/Snapshots.md) leaves the log unchanged
 *
 * The log, one line each:  "invalid" | "link-error" | "start-trap" | "call NAME", then for each
 * call its "log TYPE VALUE" lines and "result V..." | "trap" | "exhausted".  i32 and i64 are
 * signed decimal; f32 and f64 their bits in hex, or "nan" (NaN payloads are not deterministic
 * across engines: the spec lets them differ); references "null" or "ref".
 * A run is bounded: the runtime is interrupted after 10 s ("trap" then, and the log says
 * "timeout" after it, which diff.py treats as inconclusive).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasm/wasm.h"
#include "read_file.h"

static zvm_runtime *g_rt;                /* for the alarm handler only */

/* -r K: where to suspend, and what was saved there. */
static struct {
    long at;                             /* the logging call to suspend at (1-based); 0: never */
    long calls;
    bool saved;
    uint8_t *state;
    size_t size;
    int memory_fd;
    uint64_t memory_size;
    bool memory_exported;                /* the new instance can only be given an exported memory */
} g_suspend;

static void on_alarm(int sig)
{
    (void)sig;
    if (g_rt)
        zvm_runtime_interrupt(g_rt);
}

static void print_value(uint8_t type, zvm_val v)
{
    switch (type) {
    case ZVM_I32: printf("%" PRId32, (int32_t)(uint32_t)v); break;
    case ZVM_I64: printf("%" PRId64, (int64_t)v); break;
    case ZVM_F32:
        if (((uint32_t)v & 0x7f800000u) == 0x7f800000u && ((uint32_t)v & 0x007fffffu))
            printf("nan");
        else
            printf("0x%08" PRIx32, (uint32_t)v);
        break;
    case ZVM_F64:
        if ((v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (v & 0x000fffffffffffffull))
            printf("nan");
        else
            printf("0x%016" PRIx64, v);
        break;
    default: printf(v ? "ref" : "null"); break;
    }
}

static int host_log(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    uint8_t type = (uint8_t)(uintptr_t)user;
    printf("log %s ", zvm_valtype_name(type));
    print_value(type, args[0]);
    printf("\n");
    if (g_suspend.at && ++g_suspend.calls >= g_suspend.at && !g_suspend.saved) {
        zvm_error err;
        uint8_t *mem = zvm_call_memory(call, &g_suspend.memory_size);
        if (mem && !g_suspend.memory_exported)
            return 0;
        if (zvm_call_save_state(call, &g_suspend.state, &g_suspend.size, &err) != 0)
            return 0;                    /* not from here (a tail call...): the next log may do */
        if (mem && pwrite(g_suspend.memory_fd, mem, g_suspend.memory_size, 0) != (ssize_t)g_suspend.memory_size)
            exit(2);
        g_suspend.saved = true;
        return zvm_call_trap(call, "suspended");
    }
    return 0;
}

static char type_letter(uint8_t t)
{
    switch (t) {
    case ZVM_I32: return 'i';
    case ZVM_I64: return 'I';
    case ZVM_F32: return 'f';
    case ZVM_F64: return 'F';
    case ZVM_FUNCREF: return 'r';
    case ZVM_EXTERNREF: return 'e';
    default: return '?';
    }
}

/* Export i if it is a function: its name in *name, the function returned; NULL otherwise. */
static zvm_func *exported_func(const zvm_module *m, zvm_instance *inst, uint32_t i, const char **name)
{
    zvm_export_desc d;
    zvm_module_export(m, i, &d);
    zvm_extern e;
    if (d.kind != ZVM_EXTERN_FUNC || !zvm_instance_export(inst, d.name, &e))
        return NULL;
    *name = d.name;
    return e.u.func;
}

static void print_signatures(const zvm_module *m, zvm_instance *inst)
{
    for (uint32_t i = 0; i < zvm_module_export_count(m); i++) {
        const char *name;
        zvm_func *f = exported_func(m, inst, i, &name);
        if (!f)
            continue;
        const zvm_functype *t = zvm_func_type(f);
        printf("%s\t", name);
        for (uint32_t k = 0; k < t->nparams; k++)
            putchar(type_letter(t->params[k]));
        putchar('\t');
        for (uint32_t k = 0; k < t->nresults; k++)
            putchar(type_letter(t->results[k]));
        putchar('\n');
    }
}

/* Links the fuzzing imports; anything else is a link error (binaryen's -ttf makes only these). */
static int link_imports(zvm_runtime *rt, const zvm_module *m, zvm_extern *imports)
{
    static const uint8_t types[] = { ZVM_I32, ZVM_I64, ZVM_F32, ZVM_F64 };
    static const char *names[] = { "log-i32", "log-i64", "log-f32", "log-f64" };
    for (uint32_t i = 0; i < zvm_module_import_count(m); i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        if (d.kind != ZVM_EXTERN_FUNC || strcmp(d.module, "fuzzing-support") != 0)
            return -1;
        int k = 0;
        while (k < 4 && strcmp(d.name, names[k]) != 0)
            k++;
        if (k == 4 || d.func.nparams != 1 || d.func.params[0] != types[k] || d.func.nresults != 0)
            return -1;
        zvm_functype ft = { 1, 0, &types[k], NULL };
        zvm_error err;
        imports[i].kind = ZVM_EXTERN_FUNC;
        if (zvm_func_new_host(rt, &ft, host_log, (void *)(uintptr_t)types[k], &imports[i].u.func, &err) != 0)
            return -1;
    }
    return 0;
}

/* The suspended guest, resumed in a new runtime (which replaces *rt and *inst): its call's
 * results in res.  0, or -1 (the resume trapped: *trap), or -2 (the state was refused). */
static int resume_elsewhere(zvm_runtime **rt, const zvm_module *m, zvm_instance **inst, zvm_val *res, zvm_trap *trap)
{
    zvm_runtime *nrt;
    zvm_instance *ninst;
    zvm_error err;
    zvm_runtime_config cfg = { 0 };
    uint32_t nimports = zvm_module_import_count(m);
    zvm_extern *imports = calloc(nimports + 1, sizeof *imports), mem;
    if (!imports || zvm_runtime_new(&cfg, &nrt, &err) != 0 || link_imports(nrt, m, imports) != 0 ||
        zvm_instance_new_unstarted(nrt, m, imports, nimports, &ninst, &err) != 0)
        exit(2);
    free(imports);
    zvm_runtime_free(*rt);               /* the old instance's objects go with its runtime */
    *rt = g_rt = nrt;
    *inst = ninst;
    bool has_memory = false;                 /* memory 0, exported (host_log checked) */
    for (uint32_t i = 0; !has_memory && i < zvm_module_export_count(m); i++) {
        zvm_export_desc d;
        zvm_module_export(m, i, &d);
        has_memory = d.kind == ZVM_EXTERN_MEMORY && zvm_instance_export(ninst, d.name, &mem);
    }
    if (g_suspend.memory_size &&
        (!has_memory || zvm_memory_map_file(mem.u.memory, g_suspend.memory_fd, 0, g_suspend.memory_size, &err) != 0))
        return -2;
    if (zvm_instance_restore(ninst, g_suspend.state, g_suspend.size, &err) != 0) {
        fprintf(stderr, "zvm-fuzz-exec: the saved state was refused: %s\n", err.msg);
        return -2;
    }
    return zvm_instance_resume(ninst, NULL, res, trap);
}

static void call_exports(zvm_runtime *rt, const zvm_module *m, zvm_instance *inst)
{
    for (uint32_t i = 0; i < zvm_module_export_count(m); i++) {
        const char *name;
        zvm_func *f = exported_func(m, inst, i, &name);
        if (!f)
            continue;
        const zvm_functype *t = zvm_func_type(f);
        zvm_val *args = calloc(t->nparams + 1, sizeof *args), *res = calloc(t->nresults + 1, sizeof *res);
        if (!args || !res) {
            printf("out of memory\n");
            exit(2);
        }
        printf("call %s\n", name);
        fflush(stdout);
        zvm_trap trap;
        int rc = zvm_func_call(rt, f, args, res, &trap);
        if (rc != 0 && g_suspend.saved && g_suspend.state && strcmp(trap.msg, "suspended") == 0) {
            rc = resume_elsewhere(&rt, m, &inst, res, &trap);
            fprintf(stderr, "zvm-fuzz-exec: suspended at log %ld, resumed in a new runtime\n", g_suspend.calls);
            f = exported_func(m, inst, i, &name);    /* the old runtime's objects are gone */
            t = zvm_func_type(f);
            free(g_suspend.state);
            g_suspend.state = NULL;
            if (rc == -2) {
                printf("resume-refused\n");
                exit(0);
            }
        }
        if (rc != 0) {
            if (trap.kind == ZVM_TRAP_STACK_EXHAUSTED)
                printf("exhausted\n");
            else if (trap.kind == ZVM_TRAP_INTERRUPTED)
                printf("trap\ntimeout\n");
            else
                printf("trap\n");
        } else {
            printf("result");
            for (uint32_t k = 0; k < t->nresults; k++) {
                putchar(' ');
                print_value(t->results[k], res[k]);
            }
            printf("\n");
        }
        free(args);
        free(res);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    bool signatures = argc == 3 && strcmp(argv[1], "-s") == 0;
    if (argc == 4 && strcmp(argv[1], "-r") == 0) {
        char path[] = "/tmp/zvm-fuzz-exec-XXXXXX";
        g_suspend.at = atol(argv[2]);
        g_suspend.memory_fd = mkstemp(path);
        unlink(path);
    } else if (argc != 2 && !signatures) {
        fprintf(stderr, "usage: zvm-fuzz-exec [-s | -r K] FILE.wasm\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    size_t size;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        fprintf(stderr, "zvm-fuzz-exec: cannot read %s\n", path);
        return 2;
    }
    zvm_error err;
    zvm_module *m;
    if (zvm_module_load(bytes, size, &m, &err) != 0) {
        printf("invalid\n");
        fprintf(stderr, "%s\n", err.msg);
        free(bytes);
        return 0;
    }
    free(bytes);
    zvm_runtime_config cfg = { 0 };
    if (zvm_runtime_new(&cfg, &g_rt, &err) != 0) {
        fprintf(stderr, "zvm-fuzz-exec: %s\n", err.msg);
        return 2;
    }
    uint32_t nimports = zvm_module_import_count(m);
    zvm_extern *imports = calloc(nimports + 1, sizeof *imports);
    zvm_instance *inst = NULL;
    zvm_trap trap;
    signal(SIGALRM, on_alarm);
    alarm(10);
    if (!imports || link_imports(g_rt, m, imports) != 0) {
        printf("link-error\n");
    } else if (zvm_instance_new(g_rt, m, imports, nimports, &inst, &trap, &err) != 0) {
        printf(trap.kind != ZVM_TRAP_NONE ? "start-trap\n" : "link-error\n");
    } else if (signatures) {
        print_signatures(m, inst);
    } else {
        for (uint32_t i = 0; i < zvm_module_export_count(m); i++) {
            zvm_export_desc d;
            zvm_module_export(m, i, &d);
            g_suspend.memory_exported |= d.kind == ZVM_EXTERN_MEMORY;
        }
        call_exports(g_rt, m, inst);
    }
    free(imports);
    zvm_module_free(m);
    zvm_runtime_free(g_rt);
    return 0;
}
