/* test_manifest.c — the manifest rules of man/zvm-manifest.5, one test per rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"

#define STD_CHANNELS \
    "Channel = /dev/stdin,/dev/stdin,0,0,10,100,0,0\n" \
    "Channel = /dev/stdout,/dev/stdout,0,0,0,0,10,100\n" \
    "Channel = /dev/stderr,/dev/stderr,0,0,0,0,10,100\n"
#define HEAD "Version = 20130611\nProgram = /tmp/p.wasm\nMemory = 1048576,0\nTimeout = 5\n"

/* Parses text; returns the exit code and leaves the message in err. */
static int parse(const char *text, zvm_manifest *m, zvm_error *err)
{
    memset(m, 0, sizeof *m);
    err->msg[0] = '\0';
    return zvm_manifest_parse(text, strlen(text), m, err);
}

/* Expects a failure with this code and a message starting with prefix and containing part. */
static void expect_error(const char *text, int code, const char *prefix, const char *part)
{
    zvm_manifest m;
    zvm_error err;
    int rc = parse(text, &m, &err);
    if (rc != code || strncmp(err.msg, prefix, strlen(prefix)) != 0 || !strstr(err.msg, part))
        fail_msg("got rc %d \"%s\"; wanted rc %d \"%s...%s...\"", rc, err.msg, code, prefix, part);
    assert_int_equal(m.nchannels, 0);
    assert_null(m.program);
}

static void test_minimal_manifest(void **state)
{
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(parse(HEAD STD_CHANNELS, &m, &err), 0);
    assert_int_equal(m.version, 20130611);
    assert_string_equal(m.program, "/tmp/p.wasm");
    assert_int_equal(m.memory, 1048576);
    assert_false(m.memory_etag);
    assert_int_equal(m.timeout, 5);
    assert_int_equal(m.nchannels, 3);
    assert_null(m.node);
    assert_int_equal(m.nwarnings, 0);
    assert_true(zvm_channel_spec_readable(&m.channels[0]));
    assert_false(zvm_channel_spec_writable(&m.channels[0]));
    assert_true(zvm_channel_spec_writable(&m.channels[1]));
    assert_int_equal(m.channels[1].limits[ZVM_LIMIT_PUT_SIZE], 100);
    assert_int_equal(m.channels[1].line, 6);
    zvm_manifest_free(&m);
}

static void test_blanks_cr_and_number_bases(void **state)
{
    zvm_manifest m;
    zvm_error err;
    const char *text = "  Version\t=  20130611 \r\n"
                       "Program=/a b/p.wasm\r\n"
                       "Memory = 0x100000 , 1\r\n"
                       "Timeout = 010\r\n"
                       "Node = 3\r\nNameServer = udp:1.2.3.4:5\r\nJob = j1\r\n"
                       "Channel = /dev/null , /dev/data , 3 , 1 , 0x10 , 0x20 , 010 , 0\r\n" STD_CHANNELS;
    assert_int_equal(parse(text, &m, &err), 0);
    assert_string_equal(m.program, "/a b/p.wasm");
    assert_int_equal(m.memory, 0x100000);
    assert_true(m.memory_etag);
    assert_int_equal(m.timeout, 8);
    assert_string_equal(m.node, "3");
    assert_string_equal(m.name_server, "udp:1.2.3.4:5");
    assert_string_equal(m.job, "j1");
    const zvm_channel_spec *d = &m.channels[3];
    assert_string_equal(d->uri, "/dev/null");
    assert_string_equal(d->alias, "/dev/data");
    assert_int_equal(d->type, ZVM_CH_RND_RND);
    assert_true(d->etag);
    assert_int_equal(d->limits[0], 16);
    assert_int_equal(d->limits[1], 32);
    assert_int_equal(d->limits[2], 8);
    assert_int_equal(d->limits[3], 0);
    assert_true(zvm_channel_spec_readable(d));
    assert_false(zvm_channel_spec_writable(d));
    zvm_manifest_free(&m);
}

static void test_guest_order(void **state)
{
    zvm_manifest m;
    zvm_error err;
    const char *text = HEAD "Channel = /dev/null,/dev/zz,0,0,1,1,0,0\n"
                            "Channel = /dev/stderr,/dev/stderr,0,0,0,0,1,1\n"
                            "Channel = /dev/null,/dev/aa,0,0,1,1,0,0\n"
                            "Channel = /dev/stdout,/dev/stdout,0,0,0,0,1,1\n"
                            "Channel = /dev/null,/dev/mm,0,0,1,1,0,0\n"
                            "Channel = /dev/stdin,/dev/stdin,0,0,1,1,0,0\n";
    assert_int_equal(parse(text, &m, &err), 0);
    const char *want[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/aa", "/dev/mm", "/dev/zz" };
    assert_int_equal(m.nchannels, 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(m.channels[i].alias, want[i]);
    zvm_manifest_free(&m);
}

static void test_skipped_lines_are_warnings(void **state)
{
    zvm_manifest m;
    zvm_error err;
    const char *text = HEAD "# a comment\n\nno equals sign here\nA = b = c\nprogram = /x\n" STD_CHANNELS;
    assert_int_equal(parse(text, &m, &err), 0);
    assert_int_equal(m.nwarnings, 3);
    assert_int_equal(m.warnings[0].line, 7);
    assert_non_null(strstr(m.warnings[0].msg, "no '='"));
    assert_int_equal(m.warnings[1].line, 8);
    assert_non_null(strstr(m.warnings[1].msg, "more than one '='"));
    assert_int_equal(m.warnings[2].line, 9);
    assert_non_null(strstr(m.warnings[2].msg, "unknown key 'program'"));
    zvm_manifest_free(&m);
}

static void test_required_keys(void **state)
{
    expect_error("Program = /p\nMemory = 1,0\nTimeout = 1\n" STD_CHANNELS, ZVM_EXIT_MANIFEST,
                 "MANIFEST 0:", "no Version");
    expect_error("Version = 20130611\nMemory = 1,0\nTimeout = 1\n" STD_CHANNELS, ZVM_EXIT_MANIFEST,
                 "MANIFEST 0:", "no Program");
    expect_error("Version = 20130611\nProgram = /p\nTimeout = 1\n" STD_CHANNELS, ZVM_EXIT_MANIFEST,
                 "MANIFEST 0:", "no Memory");
    expect_error("Version = 20130611\nProgram = /p\nMemory = 1,0\n" STD_CHANNELS, ZVM_EXIT_MANIFEST,
                 "MANIFEST 0:", "no Timeout");
    expect_error("", ZVM_EXIT_MANIFEST, "MANIFEST 0:", "no Version");
}

static void test_duplicate_keys(void **state)
{
    expect_error(HEAD "Timeout = 3\n" STD_CHANNELS, ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "Timeout given twice (first on line 4)");
    expect_error(HEAD "Program = /q\n" STD_CHANNELS, ZVM_EXIT_MANIFEST, "MANIFEST 5:", "Program given twice");
    expect_error(HEAD "Node = 1\nNode = 2\n" STD_CHANNELS, ZVM_EXIT_MANIFEST, "MANIFEST 6:", "Node given twice");
}

static void test_bad_values(void **state)
{
    expect_error("Version = 20130612\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "Version is '20130612'");
    expect_error("Version = 20130611\nTimeout = 0\n", ZVM_EXIT_MANIFEST, "MANIFEST 2:", "Timeout '0'");
    expect_error("Version = 20130611\nTimeout = 5s\n", ZVM_EXIT_MANIFEST, "MANIFEST 2:", "Timeout '5s'");
    expect_error("Version = 20130611\nTimeout = +5\n", ZVM_EXIT_MANIFEST, "MANIFEST 2:", "Timeout '+5'");
    expect_error("Memory = 08,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "Memory size '08'");
    expect_error("Memory = 1024\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "<bytes>,<etag 0|1>");
    expect_error("Memory = 1024,2\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "Memory etag '2'");
    expect_error("Memory = 99999999999999999999,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "Memory size");
    expect_error("Program = \n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "Program is empty");
}

static void test_channel_fields(void **state)
{
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,1,1,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "has 7 fields, needs exactly 8");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,1,1,0,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "has 9 fields");
    expect_error(HEAD "Channel = tmp/f,/dev/x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "not an absolute path");
    expect_error(HEAD "Channel = tcp:host:80,/dev/x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "needed a name service");
    expect_error(HEAD "Channel = tcp://host:80,/dev/x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "no /TOKEN after the port");
    expect_error(HEAD "Channel = tcp://host:99999/t,/dev/x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "1 to 65535");
    expect_error(HEAD "Channel = tcp://host/t,/dev/x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "no :PORT");
    expect_error(HEAD "Channel = tcp-listen://[::1:80/t,/dev/x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "closing ']'");
    expect_error(HEAD "Channel = tcp://h:1/a b,/dev/x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "the token may hold only");
    expect_error(HEAD "Channel = tcp://h:1/t,/dev/x,1,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "must be type 0");
    expect_error(HEAD "Channel = tcp://h:1/t,/dev/x,0,0,1,1,1,1\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "either read or written");
    expect_error(HEAD "Channel = tcp://h:1/t,/dev/nvram,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "not /dev/nvram");
    expect_error(HEAD "Channel = /dev/null,x,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "must be /dev/NAME");
    expect_error(HEAD "Channel = /dev/null,/dev/a/b,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "no further '/'");
    expect_error(HEAD "Channel = /dev/null,/dev/in/a/b,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "no further '/'");
    expect_error(HEAD "Channel = /dev/null,/dev/in/,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "no further '/'");
    expect_error(HEAD "Channel = /dev/null,/dev/a b,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "blanks");
    expect_error(HEAD "Channel = /dev/null,/dev/x,4,0,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "type '4'");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,2,1,1,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "etag '2'");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,-1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "channel gets '-1' must be 0 or more");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,1,1x,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "get_size '1x' is not a number");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "gets '' is not a number");
}

static void test_channel_direction(void **state)
{
    /* a zero in either limit of a pair makes that direction off */
    expect_error(HEAD "Channel = /dev/null,/dev/x,1,0,0,5,5,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "neither read nor written");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,1,1,1,1\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:", "type 0");
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(parse(HEAD STD_CHANNELS "Channel = /tmp/f,/dev/x,3,0,1,1,1,1\n", &m, &err), 0);
    assert_true(zvm_channel_spec_readable(&m.channels[3]));
    assert_true(zvm_channel_spec_writable(&m.channels[3]));
    zvm_manifest_free(&m);
}

static void test_std_channels_and_aliases(void **state)
{
    expect_error(HEAD "Channel = /dev/stdout,/dev/stdout,0,0,0,0,1,1\nChannel = /dev/stderr,/dev/stderr,0,0,0,0,1,1\n",
                 ZVM_EXIT_MANIFEST, "MANIFEST 0:", "no /dev/stdin channel");
    expect_error(HEAD "Channel = /dev/stdin,/dev/stdin,0,0,1,1,0,0\nChannel = /dev/stderr,/dev/stderr,0,0,0,0,1,1\n",
                 ZVM_EXIT_MANIFEST, "MANIFEST 0:", "no /dev/stdout channel");
    expect_error(HEAD STD_CHANNELS "Channel = /dev/null,/dev/x,0,0,1,1,0,0\nChannel = /dev/zero,/dev/x,0,0,1,1,0,0\n",
                 ZVM_EXIT_MANIFEST, "MANIFEST 9:", "/dev/x used twice (first on line 8)");
    expect_error(HEAD STD_CHANNELS "Channel = /dev/null,/dev/stdin,0,0,1,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 8:", "/dev/stdin used twice (first on line 5)");
    expect_error(HEAD, ZVM_EXIT_MANIFEST,
                 "MANIFEST 0:", "no /dev/stdin channel");   /* no channels at all (found by fuzz_manifest) */
}

static void test_too_many_channels(void **state)
{
    size_t size = 200 + (ZVM_MANIFEST_MAX_CHANNELS + 1) * 64;
    char *text = malloc(size), *p = text;
    p += sprintf(p, "%s", HEAD STD_CHANNELS);
    for (int i = 0; i < ZVM_MANIFEST_MAX_CHANNELS - 3; i++)
        p += sprintf(p, "Channel = /dev/null,/dev/c%d,0,0,1,1,0,0\n", i);
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(parse(text, &m, &err), 0);   /* exactly the maximum is fine */
    assert_int_equal(m.nchannels, ZVM_MANIFEST_MAX_CHANNELS);
    zvm_manifest_free(&m);
    sprintf(p, "Channel = /dev/null,/dev/one-more,0,0,1,1,0,0\n");
    char line[32];
    snprintf(line, sizeof line, "MANIFEST %d:", 4 + ZVM_MANIFEST_MAX_CHANNELS + 1);
    expect_error(text, ZVM_EXIT_TOO_MANY, line, "more than 10914 channels");
    free(text);
}

static void test_unknown_keys_did_you_mean(void **state)
{
    zvm_manifest m;
    zvm_error err;
    const char *text = HEAD "Nod = 3\nmemory = 5,0\nNameServr = x\nColour = blue\n" STD_CHANNELS;
    assert_int_equal(parse(text, &m, &err), 0);
    assert_int_equal(m.nwarnings, 4);
    assert_int_equal(m.warnings[0].line, 5);
    assert_string_equal(m.warnings[0].msg, "unknown key 'Nod' skipped; did you mean Node?");
    assert_string_equal(m.warnings[1].msg,
                        "unknown key 'memory' skipped; did you mean Memory? (keys are case-sensitive)");
    assert_string_equal(m.warnings[2].msg, "unknown key 'NameServr' skipped; did you mean NameServer?");
    assert_int_equal(m.warnings[3].line, 8);
    assert_non_null(strstr(m.warnings[3].msg, "unknown key 'Colour' skipped (the keys are Version, Program"));
    zvm_manifest_free(&m);
}

static void test_misspelt_required_key_points_at_its_line(void **state)
{
    expect_error("Version = 20130611\nProgram = /p\nMemory = 1,0\n\nTimout = 10\n" STD_CHANNELS, ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "no Timeout key, and 'Timout' on this line looks like a misspelling of it");
    expect_error("Version = 20130611\nPrgram = /p\nProgam = /q\nMemory = 1,0\nTimeout = 1\n" STD_CHANNELS,
                 ZVM_EXIT_MANIFEST, "MANIFEST 2:", "no Program key, and 'Prgram'");
    expect_error("VERSION = 20130611\nProgram = /p\nMemory = 1,0\nTimeout = 1\n" STD_CHANNELS, ZVM_EXIT_MANIFEST,
                 "MANIFEST 1:", "write it 'Version'");
}

static void test_numbers_out_of_range(void **state)
{
    expect_error("Memory = 18446744073709551615,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:",
                 "Memory size '18446744073709551615' is out of range: the most is 9223372036854775807 bytes");
    expect_error("Memory = 0x8000000000000000,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "out of range");
    expect_error("Memory = 0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 1:", "Memory size '0' must be a number of bytes above 0");
    expect_error("Timeout = 99999999999999999999999999999999999999999999999999999999999999999999999\n",
                 ZVM_EXIT_MANIFEST, "MANIFEST 1:", "out of range: the most is 9223372036854775807 seconds");
    expect_error("Timeout = 1e3\n", ZVM_EXIT_MANIFEST, "MANIFEST 1:", "Timeout '1e3' is not a number");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,1,9223372036854775808,0,0\n", ZVM_EXIT_MANIFEST, "MANIFEST 5:",
                 "channel get_size '9223372036854775808' is out of range: the most is 9223372036854775807 bytes");
    expect_error(HEAD "Channel = /dev/null,/dev/x,0,0,99999999999999999999,1,0,0\n", ZVM_EXIT_MANIFEST,
                 "MANIFEST 5:", "calls");
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(
        parse("Version = 20130611\nProgram = /p\nMemory = 9223372036854775807,0\nTimeout = 1\n" STD_CHANNELS, &m, &err),
        0);
    assert_int_equal(m.memory, INT64_MAX);
    zvm_manifest_free(&m);
}

static void test_alias_length(void **state)
{
    char name[301], text[1024];
    memset(name, 'a', 300);
    name[300] = '\0';
    snprintf(text, sizeof text, HEAD STD_CHANNELS "Channel = /dev/null,/dev/%s,0,0,1,1,0,0\n", name);
    expect_error(text, ZVM_EXIT_MANIFEST,
                 "MANIFEST 8:", "is too long: the NAME after /dev/ is a guest file name, at most 255 bytes");
    name[255] = '\0';   /* exactly the longest name */
    snprintf(text, sizeof text, HEAD STD_CHANNELS "Channel = /dev/null,/dev/%s,0,0,1,1,0,0\n", name);
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(parse(text, &m, &err), 0);
    zvm_manifest_free(&m);
}

static void test_nul_byte(void **state)
{
    zvm_manifest m;
    zvm_error err;
    const char text[] = "Version = 2013\0"
                        "611\n";
    assert_int_equal(zvm_manifest_parse(text, sizeof text - 1, &m, &err), ZVM_EXIT_MANIFEST);
    assert_non_null(strstr(err.msg, "NUL"));
}

static void test_load_missing_file(void **state)
{
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(zvm_manifest_load("/nonexistent/manifest", &m, &err), ZVM_EXIT_NOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/manifest"));
    assert_int_equal(zvm_manifest_load("/tmp", &m, &err), ZVM_EXIT_IO);
    assert_non_null(strstr(err.msg, "not a regular file"));
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/test_manifest.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(HEAD STD_CHANNELS, f);
    fclose(f);
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(zvm_manifest_load(path, &m, &err), 0);
    assert_int_equal(m.nchannels, 3);
    zvm_manifest_free(&m);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_manifest),
        cmocka_unit_test(test_blanks_cr_and_number_bases),
        cmocka_unit_test(test_guest_order),
        cmocka_unit_test(test_skipped_lines_are_warnings),
        cmocka_unit_test(test_required_keys),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_channel_fields),
        cmocka_unit_test(test_channel_direction),
        cmocka_unit_test(test_std_channels_and_aliases),
        cmocka_unit_test(test_too_many_channels),
        cmocka_unit_test(test_unknown_keys_did_you_mean),
        cmocka_unit_test(test_misspelt_required_key_points_at_its_line),
        cmocka_unit_test(test_numbers_out_of_range),
        cmocka_unit_test(test_alias_length),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
