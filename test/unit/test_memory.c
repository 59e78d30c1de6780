/* test_memory.c — linear memory: out-of-bounds accesses become traps (through the guard pages
 * and the fault handler in the normal build, through explicit checks in the SAN=1 build), the
 * process survives many of them, growth honours the module's maximum and the runtime's limit,
 * and the host's memory objects work.  Fixtures: x_memory.wat, x_import_memory.wat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wasm/wasm.h"

struct env {
    zvm_runtime *rt;
    zvm_module *m;
    zvm_instance *inst;
    uint8_t *bytes;
};

static void load_fixture(struct env *e, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "build/fixtures/%s.wasm", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    e->bytes = malloc((size_t)n);
    assert_int_equal(fread(e->bytes, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    zvm_error err;
    if (zvm_module_load(e->bytes, (size_t)n, &e->m, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
}

static void setup(struct env *e, uint64_t limit)
{
    memset(e, 0, sizeof *e);
    zvm_runtime_config cfg = { .memory_limit = limit };
    zvm_error err;
    assert_int_equal(zvm_runtime_new(&cfg, &e->rt, &err), 0);
    load_fixture(e, "x_memory");
    zvm_trap trap;
    if (zvm_instance_new(e->rt, e->m, NULL, 0, &e->inst, &trap, &err) != 0)
        fail_msg("instantiate: %s", err.msg);
}

static void teardown(struct env *e)
{
    zvm_runtime_free(e->rt);
    zvm_module_free(e->m);
    free(e->bytes);
}

static int call(struct env *e, const char *name, const zvm_val *args, zvm_val *res, zvm_trap *trap)
{
    zvm_extern x;
    assert_true(zvm_instance_export(e->inst, name, &x));
    return zvm_func_call(e->rt, x.u.func, args, res, trap);
}

static void test_in_bounds_and_unaligned(void **state)
{
    struct env e;
    setup(&e, 0);
    zvm_val args[2] = { 65533, 0xdeadbeef }, res[1];
    zvm_trap trap;
    assert_int_equal(call(&e, "store", (zvm_val[]){ 101, 0x11223344 }, NULL, &trap), 0);
    assert_int_equal(call(&e, "load", (zvm_val[]){ 101 }, res, &trap), 0);
    assert_int_equal(res[0], 0x11223344);
    assert_int_equal(call(&e, "load", (zvm_val[]){ 65532 }, res, &trap), 0);   /* last word */
    assert_int_equal(call(&e, "store", args, NULL, &trap), -1);                 /* straddles the end */
    assert_int_equal(trap.kind, ZVM_TRAP_MEMORY_OOB);
    uint64_t size;
    zvm_extern mem;
    assert_true(zvm_instance_export(e.inst, "mem", &mem));
    uint8_t *data = zvm_memory_data(mem.u.memory, &size);
    assert_int_equal(size, 65536);
    assert_int_equal(data[65533], 0);                                           /* nothing was written */
    teardown(&e);
}

static void test_fault_reports_position(void **state)
{
    struct env e;
    setup(&e, 0);
    zvm_val res[1];
    zvm_trap trap;
    assert_int_equal(call(&e, "load", (zvm_val[]){ 65533 }, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_MEMORY_OOB);
    assert_string_equal(trap.msg, "out of bounds memory access");
    assert_int_equal(trap.func_index, 0);
    assert_int_equal(e.bytes[trap.offset], 0x28);                               /* i32.load */
    /* a 64-bit effective address far past 4 GiB still lands in the reservation */
    assert_int_equal(call(&e, "load_far", (zvm_val[]){ 0xfffffff0u }, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_MEMORY_OOB);
    assert_int_equal(e.bytes[trap.offset], 0x29);                               /* i64.load */
    teardown(&e);
}

static void test_survives_many_faults(void **state)
{
    struct env e;
    setup(&e, 0);
    zvm_val res[1];
    zvm_trap trap;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(call(&e, "load", (zvm_val[]){ 0x10000u + (uint32_t)i * 4099 }, res, &trap), -1);
        assert_int_equal(trap.kind, ZVM_TRAP_MEMORY_OOB);
    }
    assert_int_equal(call(&e, "load", (zvm_val[]){ 0 }, res, &trap), 0);
    teardown(&e);
}

static void test_grow_to_module_maximum(void **state)
{
    struct env e;
    setup(&e, 0);
    zvm_val res[1];
    zvm_trap trap;
    assert_int_equal(call(&e, "grow", (zvm_val[]){ 2 }, res, &trap), 0);
    assert_int_equal(res[0], 1);
    assert_int_equal(call(&e, "store", (zvm_val[]){ 3 * 65536 - 4, 9 }, NULL, &trap), 0);
    assert_int_equal(call(&e, "grow", (zvm_val[]){ 2 }, res, &trap), 0);          /* max is 4 */
    assert_int_equal(res[0], 0xffffffffu);
    assert_int_equal(call(&e, "grow", (zvm_val[]){ 1 }, res, &trap), 0);
    assert_int_equal(res[0], 3);
    assert_int_equal(call(&e, "size", NULL, res, &trap), 0);
    assert_int_equal(res[0], 4);
    assert_int_equal(call(&e, "store", (zvm_val[]){ 4 * 65536 - 4, 9 }, NULL, &trap), 0);
    assert_int_equal(call(&e, "store", (zvm_val[]){ 4 * 65536 - 3, 9 }, NULL, &trap), -1);
    teardown(&e);
}

static void test_runtime_memory_limit(void **state)
{
    struct env e;
    setup(&e, 2 * 65536);
    zvm_val res[1];
    zvm_trap trap;
    assert_int_equal(call(&e, "grow", (zvm_val[]){ 2 }, res, &trap), 0);
    assert_int_equal(res[0], 0xffffffffu);
    assert_int_equal(call(&e, "grow", (zvm_val[]){ 1 }, res, &trap), 0);
    assert_int_equal(res[0], 1);
    zvm_memory *mem;
    zvm_error err;
    assert_int_equal(zvm_memory_new(e.rt, 3, UINT64_MAX, &mem, &err), -1);       /* above the limit */
    teardown(&e);

    /* a module whose minimum is above the limit does not instantiate */
    zvm_runtime_config cfg = { .memory_limit = 65536 / 2 };
    struct env f;
    memset(&f, 0, sizeof f);
    assert_int_equal(zvm_runtime_new(&cfg, &f.rt, &err), 0);
    load_fixture(&f, "x_memory");
    zvm_instance *inst;
    assert_int_equal(zvm_instance_new(f.rt, f.m, NULL, 0, &inst, &trap, &err), -1);
    assert_non_null(strstr(err.msg, "limit"));
    teardown(&f);
}

static void test_bulk_fill_bounds(void **state)
{
    struct env e;
    setup(&e, 0);
    zvm_trap trap;
    assert_int_equal(call(&e, "fill", (zvm_val[]){ 65000, 0xab, 536 }, NULL, &trap), 0);
    assert_int_equal(call(&e, "fill", (zvm_val[]){ 65000, 0xcd, 537 }, NULL, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_MEMORY_OOB);
    zvm_extern mem;
    assert_true(zvm_instance_export(e.inst, "mem", &mem));
    uint8_t *data = zvm_memory_data(mem.u.memory, NULL);
    assert_int_equal(data[65535], 0xab);                                        /* no partial fill */
    teardown(&e);
}

static void test_host_memory(void **state)
{
    struct env e;
    memset(&e, 0, sizeof e);
    zvm_error err;
    zvm_trap trap;
    assert_int_equal(zvm_runtime_new(NULL, &e.rt, &err), 0);
    load_fixture(&e, "x_import_memory");
    zvm_extern imp = { .kind = ZVM_EXTERN_MEMORY };
    assert_int_equal(zvm_memory_new(e.rt, 1, 3, &imp.u.memory, &err), 0);
    uint8_t *data = zvm_memory_data(imp.u.memory, NULL);
    data[10] = 77;
    assert_int_equal(zvm_instance_new(e.rt, e.m, &imp, 1, &e.inst, &trap, &err), 0);
    zvm_val res[1];
    assert_int_equal(call(&e, "get", (zvm_val[]){ 10 }, res, &trap), 0);
    assert_int_equal(res[0], 77);
    assert_int_equal(zvm_memory_grow(imp.u.memory, 1), 1);
    assert_int_equal(zvm_memory_pages(imp.u.memory), 2);
    assert_int_equal(call(&e, "put", (zvm_val[]){ 70000, 5 }, NULL, &trap), 0);   /* the guest sees the growth */
    data = zvm_memory_data(imp.u.memory, NULL);
    assert_int_equal(data[70000], 5);
    assert_int_equal(zvm_memory_grow(imp.u.memory, 2), -1);
    teardown(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_bounds_and_unaligned),
        cmocka_unit_test(test_fault_reports_position),
        cmocka_unit_test(test_survives_many_faults),
        cmocka_unit_test(test_grow_to_module_maximum),
        cmocka_unit_test(test_runtime_memory_limit),
        cmocka_unit_test(test_bulk_fill_bounds),
        cmocka_unit_test(test_host_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
