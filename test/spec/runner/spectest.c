/*
 * spectest.c — the "spectest" host module every spec script may import from.
 *
 * Its contents are fixed by the spec test suite's conventions: print functions of a few
 * signatures, four immutable globals of value 666 (666.6 for floats), a funcref table of
 * 10..20 elements and a memory of 1..2 pages.  One set per script, shared by all its modules.
 * The print functions print their arguments only with -v, so that the normal output stays
 * one line per failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runner.h"

typedef struct print_sig {
    const char *name;
    uint8_t nparams;
    uint8_t params[2];
} print_sig;

static const print_sig print_sigs[SPECTEST_PRINTS] = {
    { "print", 0, { 0 } },
    { "print_i32", 1, { ZVM_I32 } },
    { "print_i64", 1, { ZVM_I64 } },
    { "print_f32", 1, { ZVM_F32 } },
    { "print_f64", 1, { ZVM_F64 } },
    { "print_i32_f32", 2, { ZVM_I32, ZVM_F32 } },
    { "print_f64_f64", 2, { ZVM_F64, ZVM_F64 } },
};

static int host_print(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    const print_binding *p = user;
    if (!*p->verbose)
        return 0;
    printf("called host spectest.%s(", p->name);
    for (uint8_t i = 0; i < p->nparams; i++) {
        char buf[96];
        value_format(p->params[i], args[i], buf, sizeof buf);
        printf("%s%s", i ? ", " : "", buf);
    }
    printf(")\n");
    return 0;
}

static void add(runner *r, const char *name, enum zvm_extern_kind kind, void *object)
{
    host_export *e = &r->spectest[r->nspectest++];
    e->name = name;
    e->ext.kind = kind;
    switch (kind) {
    case ZVM_EXTERN_FUNC: e->ext.u.func = object; break;
    case ZVM_EXTERN_TABLE: e->ext.u.table = object; break;
    case ZVM_EXTERN_MEMORY: e->ext.u.memory = object; break;
    case ZVM_EXTERN_GLOBAL: e->ext.u.global = object; break;
    case ZVM_EXTERN_TAG: e->ext.u.tag = object; break;
    }
}

int spectest_init(runner *r, zvm_error *err)
{
    r->nspectest = 0;
    for (size_t i = 0; i < SPECTEST_PRINTS; i++) {
        print_binding *p = &r->prints[i];
        p->name = print_sigs[i].name;
        p->nparams = print_sigs[i].nparams;
        p->params = print_sigs[i].params;
        p->verbose = &r->verbose;
        zvm_functype type = { p->nparams, 0, p->params, NULL };
        zvm_func *f;
        if (zvm_func_new_host(r->rt, &type, host_print, p, &f, err) != 0)
            return -1;
        add(r, print_sigs[i].name, ZVM_EXTERN_FUNC, f);
    }

    float f32 = 666.6f;
    double f64 = 666.6;
    uint32_t f32_bits;
    uint64_t f64_bits;
    memcpy(&f32_bits, &f32, sizeof f32_bits);
    memcpy(&f64_bits, &f64, sizeof f64_bits);
    const struct {
        const char *name;
        uint8_t type;
        zvm_val value;
    } globals[] = {
        { "global_i32", ZVM_I32, 666 },
        { "global_i64", ZVM_I64, 666 },
        { "global_f32", ZVM_F32, f32_bits },
        { "global_f64", ZVM_F64, f64_bits },
    };
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        zvm_global *g;
        if (zvm_global_new(r->rt, globals[i].type, false, globals[i].value, &g, err) != 0)
            return -1;
        add(r, globals[i].name, ZVM_EXTERN_GLOBAL, g);
    }

    zvm_table *table;
    if (zvm_table_new(r->rt, ZVM_FUNCREF, 10, 20, 0, &table, err) != 0)
        return -1;
    add(r, "table", ZVM_EXTERN_TABLE, table);

    zvm_memory *memory;
    if (zvm_memory_new(r->rt, 1, 2, &memory, err) != 0)
        return -1;
    add(r, "memory", ZVM_EXTERN_MEMORY, memory);
    return 0;
}
