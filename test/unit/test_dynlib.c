/* test_dynlib.c — libraries loaded on first use (libzvm/dynlib.h): all of a table's functions or
 * none, the error naming the library, what needs it and the package, a failure remembered, and
 * libarchive's table (archive_lib.h) usable once loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "dynlib.h"
#include "image/archive_lib.h"

/* libm's fmax and hypot, through a table as zvsh's tty.c and archive_lib.c make theirs. */
#define MATH_FUNCTIONS(X, t) X(t, fmax) X(t, hypot)
ZVM_DYNLIB_TABLE(math_api, MATH_FUNCTIONS);
static struct math_api math_fns;
ZVM_DYNLIB_SYMS(math_syms, math_fns, MATH_FUNCTIONS);

static void test_loads_and_calls(void **state)
{
    zvm_dynlib lib = { .soname = "libm.so.6",
                       .needed_for = "a test",
                       .package = "libc6",
                       .syms = math_syms,
                       .nsyms = sizeof math_syms / sizeof math_syms[0] };
    zvm_error err = { { 0 } };
    assert_int_equal(zvm_dynlib_load(&lib, &err), 0);
    assert_non_null(math_fns.fmax);
    assert_true(math_fns.fmax(2.0, 3.0) == 3.0);
    assert_true(math_fns.hypot(3.0, 4.0) == 5.0);
    assert_int_equal(zvm_dynlib_load(&lib, &err), 0);   /* once loaded, loaded */
}

static void test_missing_library_names_what_and_package(void **state)
{
    static void *slot;
    static const zvm_dynlib_sym syms[] = { { "anything", &slot } };
    zvm_dynlib lib = {
        .soname = "libzvm-no-such-library.so.9", .needed_for = "flying", .package = "wings", .syms = syms, .nsyms = 1
    };
    zvm_error err = { { 0 } };
    assert_int_equal(zvm_dynlib_load(&lib, &err), -1);
    assert_non_null(strstr(err.msg, "cannot load libzvm-no-such-library.so.9 (needed for flying): "));
    assert_non_null(strstr(err.msg, "; install Debian's wings package"));
    assert_null(slot);
    zvm_error again = { { 0 } };
    assert_int_equal(zvm_dynlib_load(&lib, &again), -1);   /* not tried again: the same answer */
    assert_string_equal(again.msg, err.msg);
}

/* A library without one of the functions fills no slot at all. */
static void test_all_or_nothing(void **state)
{
    static void *first, *second;
    static const zvm_dynlib_sym syms[] = { { "cbrt", &first }, { "zvm_no_such_function", &second } };
    zvm_dynlib lib = { .soname = "libm.so.6", .needed_for = "a test", .package = "libc6", .syms = syms, .nsyms = 2 };
    zvm_error err = { { 0 } };
    assert_int_equal(zvm_dynlib_load(&lib, &err), -1);
    assert_non_null(strstr(err.msg, "it has no function zvm_no_such_function"));
    assert_null(first);
    assert_null(second);
}

/* libarchive's table: every function the project calls is there, and one works. */
static void test_libarchive_table(void **state)
{
    zvm_error err = { { 0 } };
    assert_int_equal(zvm_archive_load(&err), 0);
    struct archive *a = zvm_archive.archive_read_new();
    assert_non_null(a);
    assert_int_equal(zvm_archive.archive_read_support_format_tar(a), ARCHIVE_OK);
    assert_int_equal(zvm_archive.archive_read_free(a), ARCHIVE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_and_calls),
        cmocka_unit_test(test_missing_library_names_what_and_package),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_libarchive_table),
    };
    return cmocka_run_group_tests_name("dynlib", tests, NULL, NULL);
}
