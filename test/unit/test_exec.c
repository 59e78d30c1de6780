/* test_exec.c — the interpreter through the public API: host calls, traps and where they
 * happened, interruption, call depth, multi-value, call_indirect, calls across instances.
 * Fixtures: test/fixtures/x_exec.wat, x_spin_start.wat, x_callee.wat, x_caller.wat, x_exceptions.wat. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wasm/wasm.h"

static uint8_t *read_fixture(const char *name, size_t *size)
{
    char path[256];
    snprintf(path, sizeof path, "build/fixtures/%s.wasm", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

static zvm_module *load(const char *name, uint8_t **bytes_out)
{
    size_t size;
    uint8_t *bytes = read_fixture(name, &size);
    zvm_module *m;
    zvm_error err;
    int rc = zvm_module_load(bytes, size, &m, &err);
    if (rc != 0)
        fail_msg("%s: %s", name, err.msg);
    if (bytes_out)
        *bytes_out = bytes;
    else
        free(bytes);
    return m;
}

static int host_add(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    (*(int *)user)++;
    results[0] = (uint32_t)(args[0] + args[1]);
    return 0;
}

static int host_fail(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    if (args[0] == 0)
        return zvm_call_exit(call, 42);
    return zvm_call_trap(call, "host says no to %u", (unsigned)args[0]);
}

struct fixture {
    zvm_runtime *rt;
    zvm_module *m;
    zvm_instance *inst;
    uint8_t *bytes;
    int add_calls;
};

static struct fixture *setup_exec(const zvm_runtime_config *cfg)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    zvm_error err;
    assert_int_equal(zvm_runtime_new(cfg, &fx->rt, &err), 0);
    fx->m = load("x_exec", &fx->bytes);
    static const uint8_t ii[] = { ZVM_I32, ZVM_I32 }, i[] = { ZVM_I32 };
    zvm_functype t_add = { 2, 1, ii, i }, t_fail = { 1, 1, i, i };
    zvm_extern imports[2] = { { .kind = ZVM_EXTERN_FUNC }, { .kind = ZVM_EXTERN_FUNC } };
    assert_int_equal(zvm_func_new_host(fx->rt, &t_add, host_add, &fx->add_calls, &imports[0].u.func, &err), 0);
    assert_int_equal(zvm_func_new_host(fx->rt, &t_fail, host_fail, NULL, &imports[1].u.func, &err), 0);
    zvm_trap trap;
    if (zvm_instance_new(fx->rt, fx->m, imports, 2, &fx->inst, &trap, &err) != 0)
        fail_msg("instantiate: %s", err.msg);
    return fx;
}

static void teardown_exec(struct fixture *fx)
{
    zvm_runtime_free(fx->rt);
    zvm_module_free(fx->m);
    free(fx->bytes);
    free(fx);
}

static zvm_func *export_func(zvm_instance *inst, const char *name)
{
    zvm_extern e;
    assert_true(zvm_instance_export(inst, name, &e));
    assert_int_equal(e.kind, ZVM_EXTERN_FUNC);
    return e.u.func;
}

static void test_host_call(void **state)
{
    struct fixture *fx = setup_exec(NULL);
    zvm_val args[2] = { 20, 1 }, res[1];
    zvm_trap trap;
    assert_int_equal(zvm_func_call(fx->rt, export_func(fx->inst, "call_host"), args, res, &trap), 0);
    assert_int_equal(res[0], 42);
    assert_int_equal(fx->add_calls, 1);
    teardown_exec(fx);
}

static void test_host_trap_and_exit(void **state)
{
    struct fixture *fx = setup_exec(NULL);
    zvm_func *f = export_func(fx->inst, "call_fail");
    zvm_val args[1] = { 7 }, res[1];
    zvm_trap trap;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_HOST);
    assert_string_equal(trap.msg, "host says no to 7");
    args[0] = 0;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_EXIT);
    assert_int_equal(trap.exit_code, 42);
    teardown_exec(fx);
}

static void test_integer_traps_and_position(void **state)
{
    struct fixture *fx = setup_exec(NULL);
    zvm_func *f = export_func(fx->inst, "divide");
    zvm_val args[2] = { 7, 0 }, res[1];
    zvm_trap trap;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_DIV_ZERO);
    assert_string_equal(trap.msg, "integer divide by zero");
    assert_int_equal(trap.func_index, 6);               /* 2 imports, $sub, $three, 2 more, $divide */
    assert_int_equal(fx->bytes[trap.offset], 0x6d);     /* the offset names the i32.div_s itself */
    args[0] = 0x80000000u;
    args[1] = 0xffffffffu;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_INT_OVERFLOW);
    args[0] = (uint32_t)-7;
    args[1] = 2;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), 0);
    assert_int_equal(res[0], (uint32_t)-3);
    assert_int_equal(zvm_func_call(fx->rt, export_func(fx->inst, "unreachable"), NULL, NULL, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_UNREACHABLE);
    assert_int_equal(fx->bytes[trap.offset], 0x00);
    teardown_exec(fx);
}

static void test_call_indirect(void **state)
{
    struct fixture *fx = setup_exec(NULL);
    zvm_func *f = export_func(fx->inst, "indirect");
    zvm_val args[3] = { 0, 10, 3 }, res[1];
    zvm_trap trap;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), 0);
    assert_int_equal(res[0], 7);
    args[0] = 1;                                         /* $three: another type */
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_SIGNATURE);
    args[0] = 2;                                         /* null entry */
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_NULL_ELEMENT);
    args[0] = 9;                                         /* past the table */
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_UNDEFINED_ELEMENT);
    teardown_exec(fx);
}

static void test_multi_value_and_loops(void **state)
{
    struct fixture *fx = setup_exec(NULL);
    zvm_val args[2] = { 0x1122334455667788u, 0x400921fb54442d18u }, res[2];
    zvm_trap trap;
    assert_int_equal(zvm_func_call(fx->rt, export_func(fx->inst, "swap"), args, res, &trap), 0);
    assert_int_equal(res[0], 0x400921fb54442d18u);
    assert_int_equal(res[1], 0x1122334455667788u);
    args[0] = 1000;
    assert_int_equal(zvm_func_call(fx->rt, export_func(fx->inst, "sum"), args, res, &trap), 0);
    assert_int_equal(res[0], 500500);
    teardown_exec(fx);
}

static void test_call_depth(void **state)
{
    zvm_runtime_config cfg = { .max_call_depth = 200 };
    struct fixture *fx = setup_exec(&cfg);
    zvm_func *f = export_func(fx->inst, "recurse");
    zvm_val args[1] = { 150 }, res[1];
    zvm_trap trap;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), 0);
    assert_int_equal(res[0], 150);
    args[0] = 100000;
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_STACK_EXHAUSTED);
    assert_string_equal(trap.msg, "call stack exhausted");
    assert_int_equal(trap.func_index, 9);
    args[0] = 10;                                        /* the runtime is still usable */
    assert_int_equal(zvm_func_call(fx->rt, f, args, res, &trap), 0);
    assert_int_equal(res[0], 10);
    teardown_exec(fx);
}

static void *interrupt_later(void *arg)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    zvm_runtime_interrupt(arg);
    return NULL;
}

static void test_interrupt_loop(void **state)
{
    struct fixture *fx = setup_exec(NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_later, fx->rt), 0);
    zvm_trap trap;
    assert_int_equal(zvm_func_call(fx->rt, export_func(fx->inst, "spin"), NULL, NULL, &trap), -1);
    pthread_join(th, NULL);
    assert_int_equal(trap.kind, ZVM_TRAP_INTERRUPTED);
    assert_int_equal(trap.func_index, 8);
    /* the flag stays until cleared */
    zvm_val args[1] = { 3 }, res[1];
    assert_int_equal(zvm_func_call(fx->rt, export_func(fx->inst, "recurse"), args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_INTERRUPTED);
    zvm_runtime_clear_interrupt(fx->rt);
    assert_int_equal(zvm_func_call(fx->rt, export_func(fx->inst, "recurse"), args, res, &trap), 0);
    teardown_exec(fx);
}

static void test_interrupt_start_function(void **state)
{
    zvm_runtime *rt;
    zvm_error err;
    assert_int_equal(zvm_runtime_new(NULL, &rt, &err), 0);
    zvm_module *m = load("x_spin_start", NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_later, rt), 0);
    zvm_instance *inst;
    zvm_trap trap;
    assert_int_equal(zvm_instance_new(rt, m, NULL, 0, &inst, &trap, &err), -1);
    pthread_join(th, NULL);
    assert_int_equal(trap.kind, ZVM_TRAP_INTERRUPTED);
    zvm_module_free(m);
    zvm_runtime_free(rt);
}

static void test_cross_instance(void **state)
{
    zvm_runtime *rt;
    zvm_error err;
    zvm_trap trap;
    assert_int_equal(zvm_runtime_new(NULL, &rt, &err), 0);
    zvm_module *callee = load("x_callee", NULL), *caller = load("x_caller", NULL);
    zvm_instance *a, *b;
    assert_int_equal(zvm_instance_new(rt, callee, NULL, 0, &a, &trap, &err), 0);
    zvm_extern imp;
    assert_true(zvm_instance_export(a, "peek", &imp));
    assert_int_equal(zvm_instance_new(rt, caller, &imp, 1, &b, &trap, &err), 0);
    zvm_module_free(callee);                             /* instances keep their module alive */
    zvm_module_free(caller);
    zvm_val args[1] = { 0 }, res[1];
    /* callee's memory is zero at 0, its global becomes 8; caller's memory holds 5 */
    assert_int_equal(zvm_func_call(rt, export_func(b, "run"), args, res, &trap), 0);
    assert_int_equal(res[0], 8 + 5);
    args[0] = 70000;                                     /* faults in the callee's memory */
    assert_int_equal(zvm_func_call(rt, export_func(b, "run"), args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_MEMORY_OOB);
    assert_int_equal(trap.func_index, 0);                /* the callee's function 0 */
    args[0] = 0;
    assert_int_equal(zvm_func_call(rt, export_func(b, "run"), args, res, &trap), 0);
    assert_int_equal(res[0], 10 + 5);
    zvm_runtime_free(rt);
}

static void test_link_errors(void **state)
{
    zvm_runtime *rt;
    zvm_error err;
    zvm_trap trap;
    assert_int_equal(zvm_runtime_new(NULL, &rt, &err), 0);
    zvm_module *caller = load("x_caller", NULL);
    static const uint8_t i[] = { ZVM_I32 };
    zvm_functype wrong = { 1, 0, i, NULL };
    zvm_extern imp = { .kind = ZVM_EXTERN_FUNC };
    assert_int_equal(zvm_func_new_host(rt, &wrong, host_add, NULL, &imp.u.func, &err), 0);
    zvm_instance *b;
    assert_int_equal(zvm_instance_new(rt, caller, &imp, 1, &b, &trap, &err), -1);
    assert_non_null(strstr(err.msg, "incompatible import type"));
    assert_int_equal(zvm_instance_new(rt, caller, NULL, 0, &b, &trap, &err), -1);
    assert_int_equal(zvm_module_import_count(caller), 1);
    zvm_import_desc d;
    zvm_module_import(caller, 0, &d);
    assert_string_equal(d.module, "callee");
    assert_string_equal(d.name, "peek");
    assert_int_equal(d.func.nparams, 1);
    zvm_module_free(caller);
    zvm_runtime_free(rt);
}

struct reenter {
    zvm_runtime *rt;
    zvm_func *target;
};

/* Calls the guest back: the target's result + 1, or a trap saying why the call failed. */
static int host_reenter(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    struct reenter *r = user;
    zvm_val res[1];
    zvm_trap trap;
    if (zvm_func_call(r->rt, r->target, args, res, &trap) != 0)
        return zvm_call_trap(call, "callback: %s", trap.msg);
    results[0] = (uint32_t)(res[0] + 1);
    return 0;
}

static void test_host_calls_back(void **state)
{
    zvm_runtime *rt;
    zvm_error err;
    zvm_trap trap;
    assert_int_equal(zvm_runtime_new(NULL, &rt, &err), 0);
    zvm_module *m = load("x_reenter", NULL);
    static const uint8_t i[] = { ZVM_I32 };
    zvm_functype t = { 1, 1, i, i };
    struct reenter r = { rt, NULL };
    zvm_extern imp = { .kind = ZVM_EXTERN_FUNC };
    assert_int_equal(zvm_func_new_host(rt, &t, host_reenter, &r, &imp.u.func, &err), 0);
    zvm_instance *inst;
    assert_int_equal(zvm_instance_new(rt, m, &imp, 1, &inst, &trap, &err), 0);
    r.target = export_func(inst, "inner");
    zvm_val args[1] = { 5 }, res[1];
    assert_int_equal(zvm_func_call(rt, export_func(inst, "outer"), args, res, &trap), 0);
    assert_int_equal(res[0], 50 + 1 + 7);
    /* endless guest -> host -> guest recursion ends in a trap, not a crash */
    r.target = export_func(inst, "outer");
    assert_int_equal(zvm_func_call(rt, export_func(inst, "outer"), args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_HOST);
    assert_non_null(strstr(trap.msg, "callback: "));        /* nested 100 deep, innermost "call stack exhausted" */
    r.target = export_func(inst, "inner");                /* and the runtime still works */
    assert_int_equal(zvm_func_call(rt, export_func(inst, "outer"), args, res, &trap), 0);
    assert_int_equal(res[0], 58);
    zvm_module_free(m);
    zvm_runtime_free(rt);
}

/* The host makes a tag (zvm_tag_new) and the guest catches it by identity; an exception does not
 * cross a host function (the guest's catch_all does not see it: the host gets a trap); an
 * exception nobody catches ends the call with ZVM_TRAP_UNCAUGHT_EXCEPTION, named and located. */
static void test_exceptions_and_the_host(void **state)
{
    zvm_runtime *rt;
    zvm_error err;
    zvm_trap trap;
    assert_int_equal(zvm_runtime_new(NULL, &rt, &err), 0);
    zvm_module *m = load("x_exceptions", NULL);
    static const uint8_t i[] = { ZVM_I32 };
    zvm_functype t_tag = { 1, 0, i, NULL }, t_cb = { 1, 1, i, i }, t_bad = { 1, 1, i, i };
    zvm_tag *bad;
    assert_int_equal(zvm_tag_new(rt, &t_bad, &bad, &err), -1);       /* a tag's type has no results */
    assert_non_null(strstr(err.msg, "no results"));
    zvm_extern imp[2] = { { .kind = ZVM_EXTERN_TAG }, { .kind = ZVM_EXTERN_FUNC } };
    assert_int_equal(zvm_tag_new(rt, &t_tag, &imp[0].u.tag, &err), 0);
    struct reenter r = { rt, NULL };
    assert_int_equal(zvm_func_new_host(rt, &t_cb, host_reenter, &r, &imp[1].u.func, &err), 0);
    zvm_import_desc d;
    zvm_module_import(m, 0, &d);
    assert_int_equal(d.kind, ZVM_EXTERN_TAG);
    assert_int_equal(d.func.nparams, 1);
    zvm_instance *inst;
    assert_int_equal(zvm_instance_new(rt, m, imp, 2, &inst, &trap, &err), 0);
    r.target = export_func(inst, "throw_host_tag");
    zvm_val args[1] = { 5 }, res[1];
    assert_int_equal(zvm_func_call(rt, export_func(inst, "catch_host_tag"), args, res, &trap), 0);
    assert_int_equal(res[0], 1005);
    /* through the host: its callback ends with the uncaught exception, the host fails the call */
    assert_int_equal(zvm_func_call(rt, export_func(inst, "through_host"), args, res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_HOST);
    assert_non_null(strstr(trap.msg, "callback: uncaught exception (tag 0)"));
    /* uncaught: the tag's export name, the function and offset of the throw */
    assert_int_equal(zvm_func_call(rt, export_func(inst, "throw_own"), NULL, NULL, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_UNCAUGHT_EXCEPTION);
    assert_string_equal(trap.msg, "uncaught exception (tag \"own\")");
    assert_int_equal(trap.func_index, 2);                  /* after the imported cb */
    assert_true(trap.offset > 0);
    zvm_extern e;
    assert_true(zvm_instance_export(inst, "own", &e));
    assert_int_equal(e.kind, ZVM_EXTERN_TAG);
    /* the runtime still works after all that */
    assert_int_equal(zvm_func_call(rt, export_func(inst, "catch_host_tag"), args, res, &trap), 0);
    assert_int_equal(res[0], 1005);
    zvm_module_free(m);
    zvm_runtime_free(rt);
}

/* A funcref is a number the runtime checks, never an address (issue 12): a number that names no
 * function, put in a table by whatever means, traps at call_indirect instead of being jumped to,
 * and the references the guest sees are small numbers, not host pointers. */
static void test_references_are_checked_numbers(void **state)
{
    zvm_runtime *rt;
    zvm_error err;
    zvm_trap trap;
    assert_int_equal(zvm_runtime_new(NULL, &rt, &err), 0);
    zvm_module *m = load("x_refs", NULL);
    zvm_table *table;
    assert_int_equal(zvm_table_new(rt, ZVM_FUNCREF, 4, 4, 0x4141414141414141ull, &table, &err), 0);
    zvm_extern imp = { .kind = ZVM_EXTERN_TABLE, .u.table = table };
    zvm_instance *inst;
    assert_int_equal(zvm_instance_new(rt, m, &imp, 1, &inst, &trap, &err), 0);
    zvm_extern call, ref, set, seven;
    assert_true(zvm_instance_export(inst, "call", &call));
    assert_true(zvm_instance_export(inst, "ref", &ref));
    assert_true(zvm_instance_export(inst, "set", &set));
    assert_true(zvm_instance_export(inst, "seven", &seven));

    zvm_val arg = 0, res = 0;
    assert_int_equal(zvm_func_call(rt, call.u.func, &arg, &res, &trap), -1);
    assert_int_equal(trap.kind, ZVM_TRAP_SIGNATURE);

    assert_int_equal(zvm_func_call(rt, ref.u.func, NULL, &res, &trap), 0);
    assert_int_equal(res, zvm_func_ref(seven.u.func));
    assert_ptr_equal(zvm_ref_func(rt, res), seven.u.func);
    assert_true(res < 1000);                       /* a number in the runtime, not an address */
    assert_null(zvm_ref_func(rt, 0));
    assert_null(zvm_ref_func(rt, 0x4141414141414141ull));
    assert_null(zvm_ref_func(rt, (zvm_val)(uintptr_t)seven.u.func));

    zvm_val args[2] = { 1, res };
    assert_int_equal(zvm_func_call(rt, set.u.func, args, NULL, &trap), 0);
    arg = 1;
    assert_int_equal(zvm_func_call(rt, call.u.func, &arg, &res, &trap), 0);
    assert_int_equal(res, 7);
    zvm_module_free(m);
    zvm_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_call),
        cmocka_unit_test(test_host_trap_and_exit),
        cmocka_unit_test(test_integer_traps_and_position),
        cmocka_unit_test(test_call_indirect),
        cmocka_unit_test(test_multi_value_and_loops),
        cmocka_unit_test(test_call_depth),
        cmocka_unit_test(test_interrupt_loop),
        cmocka_unit_test(test_interrupt_start_function),
        cmocka_unit_test(test_cross_instance),
        cmocka_unit_test(test_link_errors),
        cmocka_unit_test(test_host_calls_back),
        cmocka_unit_test(test_exceptions_and_the_host),
        cmocka_unit_test(test_references_are_checked_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
