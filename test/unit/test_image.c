/* test_image.c — tar images: indexing in place, compressed images, bad archives, writing back. */
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
#include <unistd.h>

#include "image/image.h"

static char dir[64];

static void sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/zvm-test-image.XXXXXX");
    assert_non_null(mkdtemp(dir));
    sh("cd %s && mkdir -p src/lib/sub && printf 'hello world\\n' > src/hello.txt && "
       "head -c 70000 /dev/zero | tr '\\0' 'x' > src/lib/big && : > src/lib/empty && "
       "ln -s ../hello.txt src/lib/sub/link && ln src/hello.txt src/lib/hard && chmod 751 src/lib/sub && "
       "tar -C src --sort=name --owner=0 --group=0 -cf plain.tar . && gzip -c plain.tar > plain.tgz && "
       "head -c 2000 plain.tar > truncated.tar && printf 'not a tar at all' > junk.tar",
       dir);
    return 0;
}

static int teardown(void **state)
{
    sh("rm -rf %s", dir);
    return 0;
}

static int open_file(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

static const zvm_image_entry *find(const zvm_image *img, const char *path)
{
    for (size_t i = 0; i < zvm_image_count(img); i++)
        if (strcmp(zvm_image_entry_at(img, i)->path, path) == 0)
            return zvm_image_entry_at(img, i);
    return NULL;
}

static void check_content(const zvm_image *img)
{
    const zvm_image_entry *e = find(img, "hello.txt");
    assert_non_null(e);
    assert_int_equal(e->type, ZVM_IMAGE_FILE);
    assert_int_equal(e->size, 12);
    char buf[32] = { 0 };
    assert_int_equal(zvm_image_read(img, e, buf, sizeof buf, 0), 12);
    assert_string_equal(buf, "hello world\n");
    assert_int_equal(zvm_image_read(img, e, buf, 5, 6), 5);
    assert_memory_equal(buf, "world", 5);
    assert_int_equal(zvm_image_read(img, e, buf, 5, 12), 0);

    e = find(img, "lib/big");
    assert_non_null(e);
    assert_int_equal(e->size, 70000);
    char *big = malloc(70000);
    assert_int_equal(zvm_image_read(img, e, big, 70000, 0), 70000);
    for (int i = 0; i < 70000; i++)
        assert_int_equal(big[i], 'x');
    free(big);

    e = find(img, "lib/empty");
    assert_non_null(e);
    assert_int_equal(e->size, 0);
    e = find(img, "lib/sub");
    assert_non_null(e);
    assert_int_equal(e->type, ZVM_IMAGE_DIR);
    assert_int_equal(e->mode, 0751);
    e = find(img, "lib/sub/link");
    assert_non_null(e);
    assert_int_equal(e->type, ZVM_IMAGE_SYMLINK);
    assert_string_equal(e->link, "../hello.txt");
    /* GNU tar stores the second name of a hard-linked file as the link */
    const zvm_image_entry *h1 = find(img, "hello.txt"), *h2 = find(img, "lib/hard");
    assert_non_null(h2);
    assert_true(h1->type == ZVM_IMAGE_HARDLINK || h2->type == ZVM_IMAGE_HARDLINK);
    assert_null(find(img, ""));
}

static void test_plain_tar_is_indexed_in_place(void **state)
{
    int fd = open_file("plain.tar");
    zvm_image *img;
    zvm_error err;
    if (zvm_image_open(fd, "/dev/1.plain.tar", 0, &img, &err))
        fail_msg("%s", err.msg);
    assert_false(zvm_image_in_memory(img));
    check_content(img);
    /* the index did not move the descriptor */
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
    zvm_image_free(img);
    close(fd);
}

/* The index kept in a file: written by the first open, read by the next (the tar need not be
 * walked again: the index file is what is read, as a changed mtime on it shows nothing); a
 * damaged or foreign index is not used, and the image is still right. */
static void test_an_index_kept_in_a_file_is_reused_and_checked(void **state)
{
    char index[160];
    snprintf(index, sizeof index, "%s/plain.index", dir);
    unlink(index);
    int fd = open_file("plain.tar");
    zvm_image *img;
    zvm_error err;
    for (int round = 0; round < 4; round++) {
        if (round == 2)      /* damage the index: one byte of a path */
            sh("printf 'Q' | dd of=%s bs=1 seek=40 conv=notrunc status=none", index);
        if (round == 3)      /* an index of another tar */
            sh("cd %s && mkdir -p other && echo x > other/x && tar -C other -cf other.tar . && cp plain.index keep && "
               "rm plain.index",
               dir);
        if (zvm_image_open_cached(fd, "/dev/1.plain.tar", 0, index, &img, &err))
            fail_msg("round %d: %s", round, err.msg);
        check_content(img);
        zvm_image_free(img);
        struct stat st;
        assert_int_equal(stat(index, &st), 0);   /* there (again) after every round */
    }
    /* the index of plain.tar given for other.tar: sizes differ, so it is made anew */
    int other = open_file("other.tar");
    snprintf(index, sizeof index, "%s/keep", dir);
    assert_int_equal(zvm_image_open_cached(other, "/dev/1.other.tar", 0, index, &img, &err), 0);
    assert_null(find(img, "hello.txt"));
    assert_non_null(find(img, "x"));
    zvm_image_free(img);
    close(other);
    close(fd);
}

static void test_gzip_tar_is_inflated_once(void **state)
{
    int fd = open_file("plain.tgz");
    zvm_image *img;
    zvm_error err;
    assert_int_equal(zvm_image_open(fd, "/dev/1.plain.tgz", 0, &img, &err), 0);
    assert_true(zvm_image_in_memory(img));
    close(fd);                       /* served from memory now */
    check_content(img);
    zvm_image_free(img);
}

static void test_tar_from_a_pipe(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "cat %s/plain.tar", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    zvm_image *img;
    zvm_error err;
    assert_int_equal(zvm_image_open(fileno(p), "/dev/stdin", 0, &img, &err), 0);
    pclose(p);
    check_content(img);
    zvm_image_free(img);
}

static void expect_error(const char *file, const char *words)
{
    int fd = open_file(file);
    zvm_image *img = (void *)1;
    zvm_error err;
    assert_int_equal(zvm_image_open(fd, "/dev/1.bad.tar", 0, &img, &err), -1);
    assert_null(img);
    assert_non_null(strstr(err.msg, "/dev/1.bad.tar"));
    if (!strstr(err.msg, words))
        fail_msg("message '%s' lacks '%s'", err.msg, words);
    close(fd);
}

static void test_truncated_tar_is_an_error(void **state)
{
    expect_error("truncated.tar", "truncated");
}
static void test_junk_is_an_error(void **state)
{
    expect_error("junk.tar", "not a tar");
}

static void test_empty_file_is_an_error(void **state)
{
    sh("cd %s && : > empty.tar", dir);
    expect_error("empty.tar", "empty");
}

/* ---- writing ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    int fail_after;
} sink_buf;

static int64_t to_memory(void *user, const void *buf, size_t size)
{
    sink_buf *s = user;
    if (s->fail_after >= 0 && s->len + size > (size_t)s->fail_after)
        return -EDQUOT;
    if (s->len + size > s->cap) {
        s->cap = (s->len + size) * 2;
        s->buf = realloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, buf, size);
    s->len += size;
    return (int64_t)size;
}

static int write_sample(sink_buf *s, zvm_error *err)
{
    zvm_image_writer *w;
    if (zvm_image_writer_new(to_memory, s, "/dev/out.tar", &w, err) < 0)
        return -1;
    zvm_image_entry d = { .path = "out", .type = ZVM_IMAGE_DIR, .mode = 0755, .mtime = 7 };
    zvm_image_entry f = { .path = "out/a.txt", .type = ZVM_IMAGE_FILE, .mode = 0644, .mtime = 8, .size = 3 };
    zvm_image_entry l = { .path = "out/l", .type = ZVM_IMAGE_SYMLINK, .mode = 0777, .link = "a.txt" };
    if (zvm_image_writer_add(w, &d, NULL, err) < 0 || zvm_image_writer_add(w, &f, "abc", err) < 0 ||
        zvm_image_writer_add(w, &l, NULL, err) < 0) {
        zvm_image_writer_abort(w);
        return -1;
    }
    return zvm_image_writer_finish(w, err);
}

static void test_written_tar_reads_back_and_is_deterministic(void **state)
{
    sink_buf a = { .fail_after = -1 }, b = { .fail_after = -1 };
    zvm_error err;
    assert_int_equal(write_sample(&a, &err), 0);
    assert_int_equal(write_sample(&b, &err), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.buf, b.buf, a.len);
    assert_int_equal(a.len % 512, 0);

    char path[128];
    snprintf(path, sizeof path, "%s/written.tar", dir);
    FILE *f = fopen(path, "wb");
    fwrite(a.buf, 1, a.len, f);
    fclose(f);
    int fd = open(path, O_RDONLY);
    zvm_image *img;
    assert_int_equal(zvm_image_open(fd, "written", 0, &img, &err), 0);
    assert_int_equal(zvm_image_count(img), 3);
    const zvm_image_entry *e = find(img, "out/a.txt");
    char buf[4] = { 0 };
    assert_int_equal(zvm_image_read(img, e, buf, 3, 0), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(e->mtime, 8);
    assert_string_equal(find(img, "out/l")->link, "a.txt");
    zvm_image_free(img);
    close(fd);
    /* and GNU tar agrees, with owner 0/0 and no names */
    sh("tar -tvf %s | grep -q ' 0/0 .* out/a.txt$'", path);
    free(a.buf);
    free(b.buf);
}

static void test_sink_failure_is_reported(void **state)
{
    sink_buf s = { .fail_after = 100 };
    zvm_error err;
    assert_int_equal(write_sample(&s, &err), -1);
    assert_non_null(strstr(err.msg, "/dev/out.tar"));
    assert_non_null(strstr(err.msg, strerror(EDQUOT)));
    free(s.buf);
}

static void test_dotdot_entries_are_refused(void **state)
{
    sink_buf s = { .fail_after = -1 };
    zvm_error err;
    zvm_image_writer *w;
    assert_int_equal(zvm_image_writer_new(to_memory, &s, "x", &w, &err), 0);
    zvm_image_entry f = { .path = "../escape", .type = ZVM_IMAGE_FILE, .mode = 0644, .size = 1 };
    assert_int_equal(zvm_image_writer_add(w, &f, "z", &err), 0);
    assert_int_equal(zvm_image_writer_finish(w, &err), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/dotdot.tar", dir);
    FILE *fp = fopen(path, "wb");
    fwrite(s.buf, 1, s.len, fp);
    fclose(fp);
    free(s.buf);
    expect_error("dotdot.tar", "'..'");
}

/* A file's size, for limits that must hold exactly. */
static uint64_t size_of(const char *name)
{
    int fd = open_file(name);
    off_t n = lseek(fd, 0, SEEK_END);
    close(fd);
    return (uint64_t)n;
}

static void test_inflating_stops_at_the_limit(void **state)
{
    uint64_t inflated = size_of("plain.tar");   /* what plain.tgz inflates to */
    zvm_image *img;
    zvm_error err;
    int fd = open_file("plain.tgz");
    assert_int_equal(zvm_image_open(fd, "/dev/1.plain.tgz", inflated - 1, &img, &err), -1);
    char want[128];
    snprintf(want, sizeof want, "image /dev/1.plain.tgz: inflates to more than %llu bytes",
             (unsigned long long)inflated - 1);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("got '%s'", err.msg);
    assert_int_equal(zvm_image_open(fd, "/dev/1.plain.tgz", inflated, &img, &err), 0); /* exactly the limit is fine */
    assert_int_equal(zvm_image_memory(img), inflated);
    check_content(img);
    zvm_image_free(img);
    close(fd);
}

static void test_a_pipe_stops_at_the_limit(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "cat %s/plain.tar", dir);
    FILE *p = popen(cmd, "r");
    zvm_image *img;
    zvm_error err;
    assert_int_equal(zvm_image_open(fileno(p), "/dev/stdin", 1000, &img, &err), -1);
    pclose(p);
    assert_non_null(
        strstr(err.msg, "is read from a pipe and holds more than 1000 bytes, its limit (the session's Memory)"));
}

static void test_long_names_are_cut_in_the_middle(void **state)
{
    char name[301], buf[ZVM_IMAGE_SHOW];
    memset(name, 'a', 300);
    name[0] = '<';
    name[299] = '>';
    name[300] = 0;
    zvm_image_show(name, buf);
    assert_true(strlen(buf) < ZVM_IMAGE_SHOW);
    assert_int_equal(buf[0], '<');
    assert_int_equal(buf[strlen(buf) - 1], '>');
    assert_non_null(strstr(buf, "..."));
    assert_string_equal(zvm_image_show("short", buf), "short");
}

static void test_a_name_over_255_bytes_is_refused_with_its_reason(void **state)
{
    sink_buf s = { .fail_after = -1 };
    zvm_error err;
    zvm_image_writer *w;
    char name[301];
    memset(name, 'n', 300);
    name[300] = 0;
    assert_int_equal(zvm_image_writer_new(to_memory, &s, "x", &w, &err), 0);
    zvm_image_entry f = { .path = name, .type = ZVM_IMAGE_FILE, .mode = 0644, .size = 1 };
    assert_int_equal(zvm_image_writer_add(w, &f, "z", &err), 0);
    assert_int_equal(zvm_image_writer_finish(w, &err), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/longname.tar", dir);
    FILE *fp = fopen(path, "wb");
    fwrite(s.buf, 1, s.len, fp);
    fclose(fp);
    free(s.buf);
    expect_error("longname.tar", "a name in the path is longer than 255 bytes; the guest's file system cannot hold it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_tar_is_indexed_in_place),
        cmocka_unit_test(test_gzip_tar_is_inflated_once),
        cmocka_unit_test(test_tar_from_a_pipe),
        cmocka_unit_test(test_truncated_tar_is_an_error),
        cmocka_unit_test(test_junk_is_an_error),
        cmocka_unit_test(test_empty_file_is_an_error),
        cmocka_unit_test(test_written_tar_reads_back_and_is_deterministic),
        cmocka_unit_test(test_sink_failure_is_reported),
        cmocka_unit_test(test_dotdot_entries_are_refused),
        cmocka_unit_test(test_inflating_stops_at_the_limit),
        cmocka_unit_test(test_a_pipe_stops_at_the_limit),
        cmocka_unit_test(test_an_index_kept_in_a_file_is_reused_and_checked),
        cmocka_unit_test(test_long_names_are_cut_in_the_middle),
        cmocka_unit_test(test_a_name_over_255_bytes_is_refused_with_its_reason),
    };
    return cmocka_run_group_tests_name("image", tests, setup, teardown);
}
