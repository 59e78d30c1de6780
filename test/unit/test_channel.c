/* test_channel.c — channels on real host files, devices, FIFOs and pipes: direction, types,
 * quotas (counted and clipped exactly), accounting and the MD5 etag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel/channel.h"

static char dir[64];

static int make_dir(void **state)
{
    strcpy(dir, "/tmp/test_channel.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path(const char *name)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *name)
{
    static char buf[4096];
    FILE *f = fopen(path(name), "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static zvm_channel_spec spec(const char *uri, int type, bool etag, int64_t gets, int64_t gsize, int64_t puts,
                             int64_t psize)
{
    static char uri_buf[128];
    snprintf(uri_buf, sizeof uri_buf, "%s", uri);
    return (zvm_channel_spec){ .uri = uri_buf,
                               .alias = "/dev/test",
                               .type = (enum zvm_channel_type)type,
                               .etag = etag,
                               .limits = { gets, gsize, puts, psize },
                               .line = 9 };
}

static zvm_channel *open_ok(zvm_channel_spec s)
{
    zvm_channel *ch = NULL;
    zvm_error err;
    int rc = zvm_channel_open(&s, &ch, &err);
    if (rc != 0)
        fail_msg("open %s: %s", s.uri, err.msg);
    return ch;
}

static void test_read_quota_counts_and_clips(void **state)
{
    write_file("in", "0123456789abcdef");
    zvm_channel *ch = open_ok(spec(path("in"), 0, false, 3, 10, 0, 0));
    char buf[32];
    assert_true(zvm_channel_readable(ch));
    assert_false(zvm_channel_writable(ch));
    assert_int_equal(zvm_channel_kind(ch), 'f');
    assert_int_equal(zvm_channel_size(ch), 16);
    assert_int_equal(zvm_channel_read(ch, buf, 4, -1), 4);        /* get 1: 4 bytes */
    assert_memory_equal(buf, "0123", 4);
    assert_int_equal(zvm_channel_read(ch, buf, 32, -1), 6);       /* get 2: clipped to the 6 left */
    assert_memory_equal(buf, "456789", 6);
    assert_int_equal(zvm_channel_read(ch, buf, 1, -1), -EDQUOT);  /* no bytes left */
    assert_int_equal(zvm_channel_write(ch, buf, 1, -1), -EBADF);
    zvm_channel_stats st;
    zvm_channel_get_stats(ch, &st);
    assert_int_equal(st.gets, 2);
    assert_int_equal(st.get_bytes, 10);
    assert_int_equal(st.puts, 0);
    assert_false(st.network);
    zvm_channel_close(ch);

    ch = open_ok(spec(path("in"), 0, false, 2, 100, 0, 0));
    assert_int_equal(zvm_channel_read(ch, buf, 1, -1), 1);
    assert_int_equal(zvm_channel_read(ch, buf, 0, -1), 0);         /* zero bytes: not counted */
    assert_int_equal(zvm_channel_read(ch, buf, 1, -1), 1);
    assert_int_equal(zvm_channel_read(ch, buf, 1, -1), -EDQUOT);   /* count limit */
    assert_int_equal(zvm_channel_read(ch, buf, 0, -1), -EDQUOT);
    zvm_channel_close(ch);
}

static void test_end_of_file_counts_a_get(void **state)
{
    write_file("small", "ab");
    zvm_channel *ch = open_ok(spec(path("small"), 0, false, 10, 100, 0, 0));
    char buf[8];
    assert_int_equal(zvm_channel_read(ch, buf, 8, -1), 2);
    assert_int_equal(zvm_channel_read(ch, buf, 8, -1), 0);
    zvm_channel_stats st;
    zvm_channel_get_stats(ch, &st);
    assert_int_equal(st.gets, 2);
    assert_int_equal(st.get_bytes, 2);
    zvm_channel_close(ch);
}

static void test_write_creates_truncates_and_keeps_data_to_the_limit(void **state)
{
    write_file("out", "old contents that must vanish");
    zvm_channel *ch = open_ok(spec(path("out"), 0, false, 0, 0, 3, 10));
    assert_int_equal(zvm_channel_size(ch), 0);
    assert_int_equal(zvm_channel_write(ch, "hello", 5, -1), 5);
    assert_int_equal(zvm_channel_write(ch, " world!", 7, -1), 5);       /* clipped */
    assert_int_equal(zvm_channel_write(ch, "x", 1, -1), -EDQUOT);
    assert_int_equal(zvm_channel_read(ch, (char[4]){ 0 }, 1, -1), -EBADF);
    zvm_channel_close(ch);
    assert_string_equal(read_file("out"), "hello worl");

    ch = open_ok(spec(path("new"), 0, false, 0, 0, 1, 10));             /* created */
    assert_int_equal(zvm_channel_write(ch, "a", 1, -1), 1);
    assert_int_equal(zvm_channel_write(ch, "b", 1, -1), -EDQUOT);        /* count limit */
    zvm_channel_close(ch);
    assert_string_equal(read_file("new"), "a");
}

static void test_sequential_channels_refuse_offsets(void **state)
{
    write_file("seq", "abcdef");
    zvm_channel *ch = open_ok(spec(path("seq"), 0, false, 10, 100, 0, 0));
    char buf[8];
    assert_int_equal(zvm_channel_read(ch, buf, 2, 3), -ESPIPE);
    zvm_channel_close(ch);
    ch = open_ok(spec(path("seqw"), 1, false, 0, 0, 10, 100));            /* type 1: append write */
    assert_int_equal(zvm_channel_write(ch, "x", 1, 0), -ESPIPE);
    zvm_channel_close(ch);
}

static void test_random_read_and_write(void **state)
{
    write_file("rnd", "abcdefgh");
    zvm_channel *ch = open_ok(spec(path("rnd"), 3, false, 10, 100, 10, 100));
    char buf[8] = { 0 };
    assert_int_equal(zvm_channel_read(ch, buf, 3, 4), 3);
    assert_memory_equal(buf, "efg", 3);
    assert_int_equal(zvm_channel_write(ch, "XY", 2, 1), 2);
    assert_int_equal(zvm_channel_read(ch, buf, 8, -1), 8);     /* sequential still works, from 0 */
    assert_memory_equal(buf, "aXYdefgh", 8);
    assert_int_equal(zvm_channel_read(ch, buf, 8, 100), 0);    /* past the end */
    zvm_channel_close(ch);
    assert_string_equal(read_file("rnd"), "aXYdefgh");         /* read-write: not truncated */
}

static void test_append_write_starts_at_the_end(void **state)
{
    write_file("app", "1234");
    zvm_channel *ch = open_ok(spec(path("app"), 1, false, 10, 100, 10, 100));
    char buf[4];
    assert_int_equal(zvm_channel_write(ch, "56", 2, -1), 2);
    assert_int_equal(zvm_channel_read(ch, buf, 2, 0), 2);
    assert_memory_equal(buf, "12", 2);
    assert_int_equal(zvm_channel_write(ch, "7", 1, -1), 1);
    zvm_channel_close(ch);
    assert_string_equal(read_file("app"), "1234567");
}

static void test_etag_is_md5_of_every_byte(void **state)
{
    write_file("abc", "abc");
    zvm_channel *ch = open_ok(spec(path("abc"), 0, true, 10, 100, 0, 0));
    char buf[8], tag[33];
    assert_true(zvm_channel_etag(ch, tag));
    assert_string_equal(tag, "d41d8cd98f00b204e9800998ecf8427e");   /* MD5 of nothing */
    assert_int_equal(zvm_channel_read(ch, buf, 1, -1), 1);
    assert_int_equal(zvm_channel_read(ch, buf, 8, -1), 2);
    assert_true(zvm_channel_etag(ch, tag));
    assert_string_equal(tag, "900150983cd24fb0d6963f7d28e17f72");   /* MD5("abc") */
    zvm_channel_close(ch);

    ch = open_ok(spec(path("w"), 0, true, 0, 0, 10, 2));
    assert_int_equal(zvm_channel_write(ch, "abc", 3, -1), 2);       /* only what passed counts */
    assert_true(zvm_channel_etag(ch, tag));
    assert_string_equal(tag, "187ef4436122d1cc2f40dc2b92f0eba0");   /* MD5("ab") */
    zvm_channel_close(ch);

    ch = open_ok(spec(path("abc"), 0, false, 10, 100, 0, 0));
    assert_false(zvm_channel_etag(ch, tag));
    zvm_channel_close(ch);
}

static void test_open_errors(void **state)
{
    zvm_channel *ch = NULL;
    zvm_error err;
    zvm_channel_spec s = spec(dir, 0, false, 1, 1, 0, 0);
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -EISDIR);
    assert_non_null(strstr(err.msg, "directory"));
    assert_non_null(strstr(err.msg, "/dev/test"));
    assert_non_null(strstr(err.msg, "line 9"));
    s = spec(path("missing"), 0, false, 1, 1, 0, 0);
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "does not exist"));
    s = spec(path("nodir/x"), 0, false, 0, 0, 1, 1);
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -ENOENT);
    s = spec("tcp:localhost:80", 0, false, 1, 1, 0, 0);
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "tcp://HOST:PORT/TOKEN"));
    s = spec("/dev/null", 0, false, 0, 1, 1, 0);
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -EINVAL);
    assert_null(ch);
}

static void test_char_devices(void **state)
{
    zvm_channel *ch = open_ok(spec("/dev/zero", 0, false, 5, 1000, 0, 0));
    char buf[16];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(zvm_channel_kind(ch), 'c');
    assert_int_equal(zvm_channel_size(ch), 0);
    assert_int_equal(zvm_channel_read(ch, buf, 16, -1), 16);
    assert_int_equal(buf[15], 0);
    zvm_channel_close(ch);
    ch = open_ok(spec("/dev/null", 0, false, 0, 0, 5, 1000));
    assert_int_equal(zvm_channel_write(ch, "abc", 3, -1), 3);
    zvm_channel_close(ch);
}

static void test_fifo(void **state)
{
    assert_int_equal(mkfifo(path("fifo"), 0600), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path("fifo"), O_WRONLY);
        ssize_t n = write(fd, "through a fifo", 14);
        _exit(n == 14 ? 0 : 1);
    }
    zvm_channel *ch = open_ok(spec(path("fifo"), 0, false, 10, 100, 0, 0));
    assert_int_equal(zvm_channel_kind(ch), 'p');
    char buf[32];
    int64_t got = 0, n;
    while ((n = zvm_channel_read(ch, buf + got, sizeof buf - (size_t)got, -1)) > 0)
        got += n;
    assert_int_equal(got, 14);
    assert_memory_equal(buf, "through a fifo", 14);
    assert_int_equal(zvm_channel_read(ch, buf, 1, 0), -ESPIPE);
    zvm_channel_close(ch);
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
}

static void test_broken_pipe_is_an_error_not_a_death(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    char uri[32];
    snprintf(uri, sizeof uri, "/dev/fd/%d", p[1]);
    zvm_channel *ch = open_ok(spec(uri, 0, false, 0, 0, 10, 100));
    assert_int_equal(zvm_channel_kind(ch), 'p');
    assert_int_equal(zvm_channel_write(ch, "lost", 4, -1), -EPIPE);   /* and we are still alive */
    zvm_channel_stats st;
    zvm_channel_get_stats(ch, &st);
    assert_int_equal(st.puts, 0);
    zvm_channel_close(ch);
    close(p[1]);
}

static void test_own_descriptors_are_shared_not_reopened(void **state)
{
    /* a file opened for append: a duplicated descriptor keeps appending */
    write_file("log", "kept\n");
    int fd = open(path("log"), O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    char uri[32];
    snprintf(uri, sizeof uri, "/proc/self/fd/%d", fd);
    zvm_channel *ch = open_ok(spec(uri, 0, false, 0, 0, 10, 100));
    assert_int_equal(zvm_channel_write(ch, "more\n", 5, -1), 5);
    zvm_channel_close(ch);
    close(fd);
    assert_string_equal(read_file("log"), "kept\nmore\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_quota_counts_and_clips),
        cmocka_unit_test(test_end_of_file_counts_a_get),
        cmocka_unit_test(test_write_creates_truncates_and_keeps_data_to_the_limit),
        cmocka_unit_test(test_sequential_channels_refuse_offsets),
        cmocka_unit_test(test_random_read_and_write),
        cmocka_unit_test(test_append_write_starts_at_the_end),
        cmocka_unit_test(test_etag_is_md5_of_every_byte),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_char_devices),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_broken_pipe_is_an_error_not_a_death),
        cmocka_unit_test(test_own_descriptors_are_shared_not_reopened),
    };
    return cmocka_run_group_tests_name("channel", tests, make_dir, remove_dir);
}
