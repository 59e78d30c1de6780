/*
 * test_module_info.c — what a host asks of a loaded module before instantiating it
 * (zvm_module_memory_limits): the decoder's answer, for imported, defined and absent memories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wasm/wasm.h"

#define HEADER 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00

static zvm_module *load(const uint8_t *bytes, size_t size)
{
    zvm_module *m = NULL;
    zvm_error err = { { 0 } };
    if (zvm_module_load(bytes, size, &m, &err) != 0)
        fail_msg("load failed: %s", err.msg);
    return m;
}

#define LOAD(...) \
    ({ \
        static const uint8_t b_[] = { __VA_ARGS__ }; \
        load(b_, sizeof b_); \
    })

static void test_no_memory(void **state)
{
    zvm_module *m = LOAD(HEADER);
    uint64_t min = 7, max = 7;
    assert_false(zvm_module_memory_limits(m, 0, &min, &max));
    assert_int_equal(min, 7);   /* untouched */
    zvm_module_free(m);
}

static void test_defined_memory(void **state)
{
    /* (memory 2 5) */
    zvm_module *m = LOAD(HEADER, 0x05, 0x04, 0x01, 0x01, 0x02, 0x05);
    uint64_t min, max;
    assert_true(zvm_module_memory_limits(m, 0, &min, &max));
    assert_int_equal(min, 2);
    assert_int_equal(max, 5);
    assert_false(zvm_module_memory_limits(m, 1, &min, &max));
    zvm_module_free(m);
}

static void test_imported_memory(void **state)
{
    /* (import "env" "memory" (memory 300)): a minimum above 127 takes two LEB128 bytes */
    zvm_module *m =
        LOAD(HEADER, 0x02, 0x10, 0x01, 0x03, 'e', 'n', 'v', 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0xac, 0x02);
    uint64_t min, max;
    assert_true(zvm_module_memory_limits(m, 0, &min, &max));
    assert_int_equal(min, 300);
    assert_true(max == UINT64_MAX);
    zvm_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_memory),
        cmocka_unit_test(test_defined_memory),
        cmocka_unit_test(test_imported_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
