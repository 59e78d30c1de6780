/*
 * linker.c — turns a module file into an instance: load, resolve imports, instantiate.
 *
 * Imports are resolved by module name: first the names given by (register "name" ...), the
 * most recent first, then the built-in "spectest" module.  An import nobody provides is the
 * runner's own "unknown import" link error; whether a provided object fits the import (kind,
 * type, limits) is for the engine to decide in zvm_instance_new, which is what we test.
 *
 * Guest code (the start function here, exported functions in commands.c) runs under a timer:
 * when it fires, the signal handler asks the runtime to stop the guest, so that an engine bug
 * which loops turns into one failed assertion rather than a hung test run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

/* The runtime the timer interrupts: set before the timer is armed, read by the handler. */
static zvm_runtime *volatile alarm_target;

static void on_alarm(int sig)
{
    (void)sig;
    if (alarm_target)
        zvm_runtime_interrupt(alarm_target);
}

void guard_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

void guard_begin(runner *r)
{
    if (r->timeout_seconds == 0)
        return;
    alarm_target = r->rt;
    alarm(r->timeout_seconds);
}

void guard_end(runner *r)
{
    if (r->timeout_seconds == 0)
        return;
    alarm(0);
    alarm_target = NULL;
    zvm_runtime_clear_interrupt(r->rt);
}

void name_instance(instance_name **list, const char *name, zvm_instance *inst)
{
    instance_name *n = malloc(sizeof *n);
    char *copy = strdup(name);
    if (!n || !copy) {
        free(n);
        free(copy);
        return;                 /* out of memory: the name stays unknown, later lookups fail */
    }
    n->name = copy;
    n->inst = inst;
    n->next = *list;
    *list = n;
}

zvm_instance *find_instance(const instance_name *list, const char *name)
{
    for (; list; list = list->next)
        if (strcmp(list->name, name) == 0)
            return list->inst;
    return NULL;
}

static bool resolve_import(const runner *r, const zvm_import_desc *d, zvm_extern *out)
{
    zvm_instance *inst = find_instance(r->registered, d->module);
    if (inst)
        return zvm_instance_export(inst, d->name, out);
    if (strcmp(d->module, "spectest") == 0)
        for (uint32_t i = 0; i < r->nspectest; i++)
            if (strcmp(r->spectest[i].name, d->name) == 0) {
                *out = r->spectest[i].ext;
                return true;
            }
    return false;
}

static uint8_t *read_module_file(const runner *r, const char *filename, size_t *size, zvm_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->dir, filename);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "cannot open %s", path);
        return NULL;
    }
    uint8_t *bytes = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        bytes = malloc(len ? (size_t)len : 1);
        if (bytes && fread(bytes, 1, (size_t)len, f) != (size_t)len) {
            free(bytes);
            bytes = NULL;
        }
    }
    fclose(f);
    if (!bytes)
        snprintf(err->msg, sizeof err->msg, "cannot read %s", path);
    *size = (size_t)len;
    return bytes;
}

static int keep_module(runner *r, zvm_module *m)
{
    if (r->nmodules == r->modules_cap) {
        uint32_t cap = r->modules_cap ? r->modules_cap * 2 : 16;
        zvm_module **bigger = realloc(r->modules, cap * sizeof *bigger);
        if (!bigger)
            return -1;
        r->modules = bigger;
        r->modules_cap = cap;
    }
    r->modules[r->nmodules++] = m;
    return 0;
}

int load_only(runner *r, const char *filename, zvm_error *err)
{
    size_t size;
    uint8_t *bytes = read_module_file(r, filename, &size, err);
    if (!bytes)
        return -2;
    zvm_module *m;
    int rc = zvm_module_load(bytes, size, &m, err);
    free(bytes);
    if (rc == 0)
        zvm_module_free(m);
    return rc;
}

load_result load_and_instantiate(runner *r, const char *filename)
{
    load_result res;
    memset(&res, 0, sizeof res);
    res.status = LOAD_FAILED;

    size_t size;
    uint8_t *bytes = read_module_file(r, filename, &size, &res.err);
    if (!bytes)
        return res;
    zvm_module *m;
    int rc = zvm_module_load(bytes, size, &m, &res.err);
    free(bytes);
    if (rc != 0)
        return res;
    if (keep_module(r, m) != 0) {
        zvm_module_free(m);
        snprintf(res.err.msg, sizeof res.err.msg, "out of memory");
        return res;
    }

    res.status = LINK_FAILED;
    uint32_t n = zvm_module_import_count(m);
    zvm_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports) {
        snprintf(res.err.msg, sizeof res.err.msg, "out of memory");
        return res;
    }
    for (uint32_t i = 0; i < n; i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        if (!resolve_import(r, &d, &imports[i])) {
            snprintf(res.err.msg, sizeof res.err.msg, "unknown import \"%s\" \"%s\" (by the runner)", d.module, d.name);
            free(imports);
            return res;
        }
    }

    guard_begin(r);
    rc = zvm_instance_new(r->rt, m, imports, n, &res.inst, &res.trap, &res.err);
    guard_end(r);
    free(imports);
    if (rc != 0) {
        if (res.trap.kind != ZVM_TRAP_NONE)
            res.status = START_TRAPPED;
        return res;
    }
    res.status = LOAD_OK;
    return res;
}
