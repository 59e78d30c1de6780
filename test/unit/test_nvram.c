/* test_nvram.c — the nvram sections, escapes and the errors that name their line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nvram/nvram.h"

static int parse(const char *text, zvm_nvram *nv, zvm_error *err)
{
    memset(nv, 0, sizeof *nv);
    err->msg[0] = '\0';
    return zvm_nvram_parse(text, strlen(text), nv, err);
}

static void expect_error(const char *text, const char *prefix, const char *part)
{
    zvm_nvram nv;
    zvm_error err;
    int rc = parse(text, &nv, &err);
    if (rc != -1 || strncmp(err.msg, prefix, strlen(prefix)) != 0 || !strstr(err.msg, part))
        fail_msg("got rc %d \"%s\"; wanted \"%s...%s...\"", rc, err.msg, prefix, part);
    assert_int_equal(nv.argc, 0);
    assert_null(nv.argv);
}

static void test_empty_gives_defaults(void **state)
{
    zvm_nvram nv;
    zvm_error err;
    assert_int_equal(parse("", &nv, &err), 0);
    assert_int_equal(nv.argc, 0);
    assert_int_equal(nv.nenv, 0);
    assert_int_equal(nv.time_seconds, 0);
    assert_int_equal(nv.random_seed, ZVM_NVRAM_DEFAULT_SEED);
    zvm_nvram_free(&nv);
}

static void test_all_sections(void **state)
{
    zvm_nvram nv;
    zvm_error err;
    const char *text = "# boot settings\r\n"
                       "[args]\n"
                       "args = python  -c print(1\\x2c\\x202)  a\\x5cb\n"
                       "[env]\n"
                       "name=HOME, value=/\n"
                       "name = LANG , value = C.UTF-8\n"
                       "name=EMPTY, value=\n"
                       "name=Q, value=\\x22x\\x0ay\\x22\n"
                       "[fstab]\n"
                       "channel=/dev/1.python.tar, mountpoint=/, access=ro, removable=no\n"
                       "channel=/dev/2.out.tar, mountpoint=/out, access=wo\n"
                       "[mapping]\n"
                       "channel=/dev/stdin, mode=pipe\n"
                       "channel=/dev/stdout, mode=char\n"
                       "channel=/dev/1.data, mode=file\n"
                       "[debug]\nverbosity=2\n"
                       "[time]\nseconds=0x10\n"
                       "[random]\nseed=42\n";
    assert_int_equal(parse(text, &nv, &err), 0);
    assert_int_equal(nv.argc, 4);
    assert_string_equal(nv.argv[0], "python");
    assert_string_equal(nv.argv[1], "-c");
    assert_string_equal(nv.argv[2], "print(1, 2)");
    assert_string_equal(nv.argv[3], "a\\b");
    assert_null(nv.argv[4]);
    assert_int_equal(nv.nenv, 4);
    assert_string_equal(nv.env[0], "HOME=/");
    assert_string_equal(nv.env[1], "LANG=C.UTF-8");
    assert_string_equal(nv.env[2], "EMPTY=");
    assert_string_equal(nv.env[3], "Q=\"x\ny\"");
    assert_int_equal(nv.nfstab, 2);
    assert_string_equal(nv.fstab[0].channel, "/dev/1.python.tar");
    assert_string_equal(nv.fstab[0].mountpoint, "/");
    assert_int_equal(nv.fstab[0].access, ZVM_FSTAB_RO);
    assert_false(nv.fstab[0].removable);
    assert_int_equal(nv.fstab[1].access, ZVM_FSTAB_WO);
    assert_int_equal(nv.nmapping, 3);
    assert_int_equal(nv.mapping[0].mode, ZVM_MAP_PIPE);
    assert_int_equal(nv.mapping[1].mode, ZVM_MAP_CHAR);
    assert_int_equal(nv.mapping[2].mode, ZVM_MAP_FILE);
    assert_string_equal(nv.mapping[2].channel, "/dev/1.data");
    assert_int_equal(nv.verbosity, 2);
    assert_int_equal(nv.time_seconds, 16);
    assert_int_equal(nv.random_seed, 42);
    zvm_nvram_free(&nv);
}

static void test_errors_name_the_line(void **state)
{
    expect_error("args=x\n", "nvram 1:", "before any [section]");
    expect_error("[args]\n[bogus]\n", "nvram 2:", "unknown section [bogus]");
    expect_error("[args\n", "nvram 1:", "closing ']'");
    expect_error("\n\n[env]\nname=A\n", "nvram 4:", "needs value=");
    expect_error("[env]\nvalue=1\n", "nvram 2:", "needs name=");
    expect_error("[env]\nname=A, value=1, colour=red\n", "nvram 2:", "unknown key 'colour' in [env]");
    expect_error("[env]\nname=A, name=B, value=1\n", "nvram 2:", "given twice");
    expect_error("[env]\nname=A=B, value=1\n", "nvram 2:", "contains '='");
    expect_error("[env]\nname=A value=1\n", "nvram 2:", "needs value=");
    expect_error("[env]\nname=A,,value=1\n", "nvram 2:", "empty field");
    expect_error("[env]\njunk\n", "nvram 2:", "not key=value");
    expect_error("[env]\nname=A, value=\\xZZ\n", "nvram 2:", "bad escape");
    expect_error("[env]\nname=A, value=\\x0\n", "nvram 2:", "bad escape");
    expect_error("[env]\nname=A, value=\\x00\n", "nvram 2:", "\\x00");
    expect_error("[fstab]\nchannel=/dev/t, mountpoint=/, access=rw\n", "nvram 2:", "access 'rw' must be ro or wo");
    expect_error("[fstab]\nchannel=/dev/t, mountpoint=rel\n", "nvram 2:", "absolute guest path");
    expect_error("[fstab]\nmountpoint=/\n", "nvram 2:", "needs channel=");
    expect_error("[fstab]\nchannel=/dev/t, mountpoint=/, removable=maybe\n", "nvram 2:", "removable");
    expect_error("[mapping]\nchannel=/dev/stdin, mode=block\n", "nvram 2:", "mode 'block'");
    expect_error("[time]\nseconds=-1\n", "nvram 2:", "seconds '-1'");
    expect_error("[time]\nseconds=soon\n", "nvram 2:", "seconds 'soon'");
    expect_error("[debug]\nlevel=1\n", "nvram 2:", "needs verbosity=");
    expect_error("[args]\nargs=a\nargs=b\n", "nvram 3:", "[args] given twice");
    expect_error("[args]\nargs=a, more=1\n", "nvram 2:", "unknown key 'more'");
}

static void test_trailing_comma_and_comments(void **state)
{
    zvm_nvram nv;
    zvm_error err;
    assert_int_equal(parse("[env]\n  # note\nname=A, value=1,\n", &nv, &err), 0);
    assert_int_equal(nv.nenv, 1);
    assert_string_equal(nv.env[0], "A=1");
    zvm_nvram_free(&nv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_gives_defaults),
        cmocka_unit_test(test_all_sections),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_trailing_comma_and_comments),
    };
    return cmocka_run_group_tests_name("nvram", tests, NULL, NULL);
}
