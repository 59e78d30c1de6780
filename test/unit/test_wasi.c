/* test_wasi.c — WASI preview1 and the zvm calls, served over real channels and a fake guest memory. */
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
#include <unistd.h>

#include "guest/guest_impl.h"
#include "guest/wasi_abi.h"

#define MEM_SIZE 65536
static uint8_t mem[MEM_SIZE];
static char dir[64];
static zvm_channel *chans[6];
static zvm_guest *g;
static zvm_nvram nv;

enum { STDIN, STDOUT, STDERR, DATA, IMG, OUT };

static void sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static char *file(const char *name)
{
    static char path[8][128];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static zvm_channel *open_channel(const char *name, const char *alias, enum zvm_channel_type type, int64_t gets,
                                 int64_t get_size, int64_t puts, int64_t put_size)
{
    zvm_channel_spec spec = {
        .uri = file(name), .alias = (char *)alias, .type = type, .limits = { gets, get_size, puts, put_size }, .line = 1
    };
    zvm_channel *ch;
    zvm_error err;
    if (zvm_channel_open(&spec, &ch, &err) != 0)
        fail_msg("%s", err.msg);
    return ch;
}

static char *args[] = { "prog", "a1" }, *env[] = { "K=V" };
static zvm_fstab_entry fstab[] = {
    { "/dev/img.tar", "/img", ZVM_FSTAB_RO, false },
    { "/dev/out.tar", "/out", ZVM_FSTAB_WO, false },
};
static zvm_mapping_entry mapping[] = { { "/dev/stdout", ZVM_MAP_CHAR } };

static int setup(void **state)
{
    strcpy(dir, "/tmp/zvm-test-wasi.XXXXXX");
    assert_non_null(mkdtemp(dir));
    sh("cd %s && printf 'line1\\nline2\\n' > in && printf 0123456789 > data && mkdir s && "
       "printf 'image file' > s/x && tar -C s -cf img.tar .",
       dir);
    chans[STDIN] = open_channel("in", "/dev/stdin", ZVM_CH_SEQ_SEQ, 100, 1000, 0, 0);
    chans[STDOUT] = open_channel("out", "/dev/stdout", ZVM_CH_SEQ_SEQ, 0, 0, 3, 12);
    chans[STDERR] = open_channel("err", "/dev/stderr", ZVM_CH_SEQ_SEQ, 0, 0, 100, 1000);
    chans[DATA] = open_channel("data", "/dev/data", ZVM_CH_RND_RND, 100, 1000, 100, 1000);
    chans[IMG] = open_channel("img.tar", "/dev/img.tar", ZVM_CH_RND_SEQ, 100, 1 << 20, 0, 0);
    chans[OUT] = open_channel("out.tar", "/dev/out.tar", ZVM_CH_SEQ_SEQ, 0, 0, 1000, 1 << 20);
    nv = (zvm_nvram){ .argc = 2,
                      .argv = args,
                      .nenv = 1,
                      .env = env,
                      .nfstab = 2,
                      .fstab = fstab,
                      .nmapping = 1,
                      .mapping = mapping,
                      .time_seconds = 100,
                      .random_seed = 42 };
    zvm_guest_config cfg = { .channels = chans, .nchannels = 6, .nvram = &nv, .memory_limit = 0 };
    zvm_error err;
    if (zvm_guest_new(&cfg, &g, &err) != 0)
        fail_msg("%s", err.msg);
    memset(mem, 0, sizeof mem);
    return 0;
}

static int teardown(void **state)
{
    zvm_guest_free(g);
    for (int i = 0; i < 6; i++)
        zvm_channel_close(chans[i]);
    sh("rm -rf %s", dir);
    return 0;
}

/* Calls module.name with n arguments; returns its i32 result. */
static int32_t call(const char *module, const char *name, int n, ...)
{
    zvm_val a[10] = { 0 };
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        a[i] = va_arg(ap, uint64_t);
    va_end(ap);
    int32_t r;
    int rc = guest_dispatch(g, module, name, mem, MEM_SIZE, a, &r);
    if (rc != 0)
        fail_msg("%s.%s ended the guest or is unknown (%d)", module, name, rc);
    return r;
}
#define WASI(name, ...) call("wasi_snapshot_preview1", #name, ARGC(__VA_ARGS__), __VA_ARGS__)
#define ZVM(name, ...) call("zvm", #name, ARGC(__VA_ARGS__), __VA_ARGS__)
#define ARGC(...) ARGC_(__VA_ARGS__, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define ARGC_(a, b, c, d, e, f, g_, h, i, n, ...) n
#define A(x) ((uint64_t)(x))

/* Guest memory layout for the tests: strings at 1000, iovecs at 2000, results at 3000, data at 4096. */
static uint32_t str(const char *s)
{
    strcpy((char *)mem + 1000, s);
    return (uint32_t)strlen(s);
}
static void iov(int i, uint32_t buf, uint32_t len)
{
    put_u32(mem + 2000 + 8 * i, buf);
    put_u32(mem + 2004 + 8 * i, len);
}
static uint32_t r32(uint32_t at)
{
    return get_u32(mem + at);
}
static uint64_t r64(uint32_t at)
{
    return get_u64(mem + at);
}

static char *slurp(const char *name)
{
    static char buf[4096];
    FILE *f = fopen(file(name), "rb");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static uint32_t open_path(const char *path, uint32_t oflags, uint64_t rights)
{
    uint32_t len = str(path);
    int32_t e = WASI(path_open, A(3), A(1), A(1000), A(len), A(oflags), rights, A(WASI_RIGHTS_ALL), A(0), A(3000));
    if (e)
        fail_msg("path_open %s: %d", path, e);
    return r32(3000);
}

static void test_args_and_environ(void **state)
{
    assert_int_equal(WASI(args_sizes_get, A(3000), A(3004)), 0);
    assert_int_equal(r32(3000), 2);
    assert_int_equal(r32(3004), 8);
    assert_int_equal(WASI(args_get, A(3100), A(4096)), 0);
    assert_string_equal((char *)mem + r32(3100), "prog");
    assert_string_equal((char *)mem + r32(3104), "a1");
    assert_int_equal(WASI(environ_sizes_get, A(3000), A(3004)), 0);
    assert_int_equal(r32(3000), 1);
    assert_int_equal(WASI(environ_get, A(3100), A(4096)), 0);
    assert_string_equal((char *)mem + r32(3100), "K=V");
    assert_int_equal(WASI(args_get, A(MEM_SIZE - 4), A(4096)), WASI_EFAULT);
}

static void test_clocks_are_virtual_and_random_is_seeded(void **state)
{
    assert_int_equal(WASI(clock_time_get, A(WASI_CLOCK_REALTIME), A(0), A(3000)), 0);
    uint64_t t1 = r64(3000);
    assert_int_equal(t1, 100 * 1000000000ull + GUEST_CLOCK_STEP_NS);
    assert_int_equal(WASI(clock_time_get, A(WASI_CLOCK_MONOTONIC), A(0), A(3000)), 0);
    assert_int_equal(r64(3000), 2 * GUEST_CLOCK_STEP_NS);
    assert_int_equal(WASI(clock_res_get, A(WASI_CLOCK_MONOTONIC), A(3000)), 0);
    assert_int_equal(r64(3000), GUEST_CLOCK_STEP_NS);
    assert_int_equal(WASI(clock_time_get, A(9), A(0), A(3000)), WASI_EINVAL);
    assert_int_equal(WASI(clock_time_get, A(0), A(0), A(MEM_SIZE)), WASI_EFAULT);

    assert_int_equal(WASI(random_get, A(4096), A(13)), 0);
    uint8_t first[13];
    memcpy(first, mem + 4096, 13);
    /* a second guest with the same seed draws the same bytes */
    zvm_guest *saved = g;
    zvm_guest_config cfg = { .channels = chans, .nchannels = 4, .nvram = NULL };
    nv.nfstab = 0;
    cfg.nvram = &nv;
    zvm_error err;
    assert_int_equal(zvm_guest_new(&cfg, &g, &err), 0);
    assert_int_equal(WASI(random_get, A(5000), A(13)), 0);
    assert_memory_equal(mem + 5000, first, 13);
    zvm_guest_free(g);
    g = saved;
    nv.nfstab = 2;
    assert_int_equal(WASI(random_get, A(MEM_SIZE - 2), A(13)), WASI_EFAULT);
}

static void test_std_channels_count_quotas(void **state)
{
    memcpy(mem + 4096, "hello", 5);
    iov(0, 4096, 5);
    assert_int_equal(WASI(fd_write, A(1), A(2000), A(1), A(3000)), 0);
    assert_int_equal(r32(3000), 5);
    /* two iovecs: still one put */
    iov(0, 4096, 3);
    iov(1, 4099, 2);
    assert_int_equal(WASI(fd_write, A(1), A(2000), A(2), A(3000)), 0);
    assert_int_equal(r32(3000), 5);
    /* 2 bytes left of put_size 12: clipped */
    iov(0, 4096, 5);
    assert_int_equal(WASI(fd_write, A(1), A(2000), A(1), A(3000)), 0);
    assert_int_equal(r32(3000), 2);
    assert_int_equal(WASI(fd_write, A(1), A(2000), A(1), A(3000)), WASI_EDQUOT);
    assert_string_equal(slurp("out"), "hellohellohe");
    /* stdin reads */
    iov(0, 4096, 3);
    iov(1, 5000, 100);
    assert_int_equal(WASI(fd_read, A(0), A(2000), A(2), A(3000)), 0);
    assert_int_equal(r32(3000), 12);
    assert_memory_equal(mem + 4096, "lin", 3);
    assert_memory_equal(mem + 5000, "e1\nline2\n", 9);
    assert_int_equal(WASI(fd_write, A(0), A(2000), A(1), A(3000)), WASI_EBADF);
    /* an iovec outside memory */
    iov(0, MEM_SIZE - 2, 5);
    assert_int_equal(WASI(fd_read, A(0), A(2000), A(1), A(3000)), WASI_EFAULT);
    assert_int_equal(WASI(fd_read, A(0), A(MEM_SIZE), A(1), A(3000)), WASI_EFAULT);
}

static void test_sequential_channels_do_not_seek(void **state)
{
    assert_int_equal(WASI(fd_seek, A(0), A(0), A(WASI_WHENCE_SET), A(3000)), WASI_ESPIPE);
    assert_int_equal(WASI(fd_tell, A(1), A(3000)), WASI_ESPIPE);
    iov(0, 4096, 4);
    assert_int_equal(WASI(fd_pread, A(0), A(2000), A(1), A(0), A(3000)), WASI_ESPIPE);
    /* a random channel opened by its /dev name seeks and preads */
    uint32_t fd =
        open_path("/dev/data", 0, WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
    assert_true(fd >= 4);
    assert_int_equal(WASI(fd_seek, A(fd), A(-3), A(WASI_WHENCE_END), A(3000)), 0);
    assert_int_equal(r64(3000), 7);
    assert_int_equal(WASI(fd_read, A(fd), A(2000), A(1), A(3000)), 0);
    assert_int_equal(r32(3000), 3);
    assert_memory_equal(mem + 4096, "789", 3);
    assert_int_equal(WASI(fd_pread, A(fd), A(2000), A(1), A(2), A(3000)), 0);
    assert_memory_equal(mem + 4096, "2345", 4);
    memcpy(mem + 4096, "AB", 2);
    iov(0, 4096, 2);
    assert_int_equal(WASI(fd_pwrite, A(fd), A(2000), A(1), A(0), A(3000)), 0);
    assert_string_equal(slurp("data"), "AB23456789");
    /* fstat: mapping says stdout is a character device; data is a regular file of 10 bytes */
    assert_int_equal(WASI(fd_filestat_get, A(fd), A(3000)), 0);
    assert_int_equal(mem[3016], WASI_FILETYPE_REGULAR_FILE);
    assert_int_equal(r64(3032), 10);
    assert_int_equal(WASI(fd_fdstat_get, A(1), A(3000)), 0);
    assert_int_equal(mem[3000], WASI_FILETYPE_CHARACTER_DEVICE);
    assert_int_equal(r64(3008) & (WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL), 0);   /* isatty() holds */
    /* a read-only channel cannot be opened for writing */
    uint32_t len = str("/dev/stdin");
    assert_int_equal(WASI(path_open, A(3), A(1), A(1000), A(len), A(0), A(WASI_RIGHT_FD_WRITE), A(0), A(0), A(3000)),
                     WASI_EACCES);
    assert_int_equal(WASI(fd_close, A(fd)), 0);
    assert_int_equal(WASI(fd_close, A(fd)), WASI_EBADF);
}

static void test_files_in_memory(void **state)
{
    uint32_t fd = open_path("tmp/f", WASI_O_CREAT | WASI_O_TRUNC, WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE);
    memcpy(mem + 4096, "abcdef", 6);
    iov(0, 4096, 2);
    iov(1, 4098, 4);
    assert_int_equal(WASI(fd_write, A(fd), A(2000), A(2), A(3000)), 0);
    assert_int_equal(r32(3000), 6);
    assert_int_equal(WASI(fd_tell, A(fd), A(3000)), 0);
    assert_int_equal(r64(3000), 6);
    assert_int_equal(WASI(fd_seek, A(fd), A(1), A(WASI_WHENCE_SET), A(3000)), 0);
    iov(0, 5000, 10);
    assert_int_equal(WASI(fd_read, A(fd), A(2000), A(1), A(3000)), 0);
    assert_int_equal(r32(3000), 5);
    assert_memory_equal(mem + 5000, "bcdef", 5);
    assert_int_equal(WASI(fd_seek, A(fd), A(-10), A(WASI_WHENCE_CUR), A(3000)), WASI_EINVAL);
    assert_int_equal(WASI(fd_filestat_set_size, A(fd), A(2)), 0);
    assert_int_equal(WASI(fd_filestat_get, A(fd), A(3000)), 0);
    assert_int_equal(r64(3032), 2);
    assert_int_equal(mem[3016], WASI_FILETYPE_REGULAR_FILE);
    assert_int_equal(WASI(fd_allocate, A(fd), A(0), A(100)), 0);
    assert_int_equal(WASI(fd_filestat_get, A(fd), A(3000)), 0);
    assert_int_equal(r64(3032), 100);
    assert_int_equal(WASI(fd_filestat_set_times, A(fd), A(5), A(6), A(WASI_FST_ATIM | WASI_FST_MTIM)), 0);
    assert_int_equal(WASI(fd_filestat_get, A(fd), A(3000)), 0);
    assert_int_equal(r64(3040), 5);
    assert_int_equal(r64(3048), 6);
    assert_int_equal(WASI(fd_filestat_set_times, A(fd), A(5), A(6), A(WASI_FST_ATIM | WASI_FST_ATIM_NOW)), WASI_EINVAL);
    assert_int_equal(WASI(fd_sync, A(fd)), 0);
    assert_int_equal(WASI(fd_datasync, A(fd)), 0);
    assert_int_equal(WASI(fd_advise, A(fd), A(0), A(0), A(1)), 0);
    assert_int_equal(WASI(fd_fdstat_set_flags, A(fd), A(WASI_FDFLAG_APPEND)), 0);
    assert_int_equal(WASI(fd_fdstat_set_rights, A(fd), A(WASI_RIGHT_FD_READ), A(0)), 0);
    assert_int_equal(WASI(fd_fdstat_set_rights, A(fd), A(WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE), A(0)),
                     WASI_ENOTCAPABLE);
    iov(0, 4096, 1);
    assert_int_equal(WASI(fd_write, A(fd), A(2000), A(1), A(3000)), WASI_EBADF);     /* the right is gone */
    /* renumber onto an open fd */
    uint32_t fd2 = open_path("tmp", WASI_O_DIRECTORY, WASI_RIGHT_FD_READDIR);
    assert_int_equal(WASI(fd_renumber, A(fd), A(fd2)), 0);
    assert_int_equal(WASI(fd_fdstat_get, A(fd), A(3000)), WASI_EBADF);
    assert_int_equal(WASI(fd_fdstat_get, A(fd2), A(3000)), 0);
    assert_int_equal(mem[3000], WASI_FILETYPE_REGULAR_FILE);

    /* directories, links, rename, readdir */
    uint32_t len = str("tmp/d");
    assert_int_equal(WASI(path_create_directory, A(3), A(1000), A(len)), 0);
    assert_int_equal(WASI(path_create_directory, A(3), A(1000), A(len)), WASI_EEXIST);
    strcpy((char *)mem + 1100, "tmp/d/link");
    strcpy((char *)mem + 1200, "../f");
    assert_int_equal(WASI(path_symlink, A(1200), A(4), A(3), A(1100), A(10)), 0);
    assert_int_equal(WASI(path_readlink, A(3), A(1100), A(10), A(5000), A(100), A(3000)), 0);
    assert_int_equal(r32(3000), 4);
    assert_memory_equal(mem + 5000, "../f", 4);
    assert_int_equal(WASI(path_filestat_get, A(3), A(WASI_LOOKUP_SYMLINK_FOLLOW), A(1100), A(10), A(3000)), 0);
    assert_int_equal(r64(3032), 100);
    assert_int_equal(WASI(path_filestat_get, A(3), A(0), A(1100), A(10), A(3000)), 0);
    assert_int_equal(mem[3016], WASI_FILETYPE_SYMBOLIC_LINK);
    strcpy((char *)mem + 1300, "tmp/f");
    strcpy((char *)mem + 1400, "tmp/hard");
    assert_int_equal(WASI(path_link, A(3), A(0), A(1300), A(5), A(3), A(1400), A(8)), 0);
    assert_int_equal(WASI(path_filestat_get, A(3), A(0), A(1400), A(8), A(3000)), 0);
    assert_int_equal(r64(3024), 2);                                      /* nlink */
    assert_int_equal(WASI(path_filestat_set_times, A(3), A(0), A(1400), A(8), A(0), A(0), A(WASI_FST_MTIM_NOW)), 0);
    strcpy((char *)mem + 1500, "tmp/g");
    assert_int_equal(WASI(path_rename, A(3), A(1300), A(5), A(3), A(1500), A(5)), 0);
    assert_int_equal(WASI(path_unlink_file, A(3), A(1400), A(8)), 0);
    assert_int_equal(WASI(path_remove_directory, A(3), A(1000), A(5)), WASI_ENOTEMPTY);
    assert_int_equal(WASI(path_unlink_file, A(3), A(1100), A(10)), 0);
    assert_int_equal(WASI(path_remove_directory, A(3), A(1000), A(5)), 0);
    uint32_t d = open_path("tmp", WASI_O_DIRECTORY, WASI_RIGHT_FD_READDIR);
    assert_int_equal(WASI(fd_readdir, A(d), A(6000), A(1000), A(0), A(3000)), 0);
    /* ".", "..", "g" */
    uint32_t used = r32(3000);
    assert_int_equal(used, 3 * 24 + 1 + 2 + 1);
    assert_int_equal(r32(6000 + 16), 1);
    assert_memory_equal(mem + 6000 + 24, ".", 1);
    assert_memory_equal(mem + 6000 + 3 * 24 + 3, "g", 1);
    assert_int_equal(mem[6000 + 2 * 24 + 3 + 20], WASI_FILETYPE_REGULAR_FILE);
    /* from cookie 2, into a buffer too small: it is filled, and says so */
    assert_int_equal(WASI(fd_readdir, A(d), A(6000), A(10), A(2), A(3000)), 0);
    assert_int_equal(r32(3000), 10);
    assert_int_equal(WASI(fd_readdir, A(fd2), A(6000), A(100), A(0), A(3000)), WASI_ENOTDIR);
}

static void test_read_only_image_and_memory_budget(void **state)
{
    uint32_t fd = open_path("img/x", 0, WASI_RIGHT_FD_READ);
    iov(0, 4096, 100);
    assert_int_equal(WASI(fd_read, A(fd), A(2000), A(1), A(3000)), 0);
    assert_int_equal(r32(3000), 10);
    assert_memory_equal(mem + 4096, "image file", 10);
    uint32_t len = str("img/x");
    assert_int_equal(WASI(path_open, A(3), A(0), A(1000), A(len), A(0), A(WASI_RIGHT_FD_WRITE), A(0), A(0), A(3000)),
                     WASI_EROFS);
    len = str("img/new");
    assert_int_equal(
        WASI(path_open, A(3), A(0), A(1000), A(len), A(WASI_O_CREAT), A(WASI_RIGHT_FD_WRITE), A(0), A(0), A(3000)),
        WASI_EROFS);
    len = str("img/x");
    assert_int_equal(WASI(path_unlink_file, A(3), A(1000), A(len)), WASI_EROFS);
    len = str("dev/new");
    assert_int_equal(WASI(path_create_directory, A(3), A(1000), A(len)), WASI_EROFS);
    len = str("../../etc/passwd");
    assert_int_equal(WASI(path_open, A(3), A(0), A(1000), A(len), A(0), A(WASI_RIGHT_FD_READ), A(0), A(0), A(3000)),
                     WASI_ENOENT);
    /* linear memory (64 KiB) + files may not pass Memory */
    uint32_t f = open_path("tmp/big", WASI_O_CREAT, WASI_RIGHT_FD_WRITE);
    g->memory_limit = MEM_SIZE + g->fs.bytes + 100;        /* 100 bytes left for files */
    iov(0, 4096, 80);
    assert_int_equal(WASI(fd_write, A(f), A(2000), A(1), A(3000)), 0);
    assert_int_equal(WASI(fd_write, A(f), A(2000), A(1), A(3000)), WASI_ENOSPC);
    assert_int_equal(WASI(fd_filestat_set_size, A(f), A(0)), 0);
    assert_int_equal(WASI(fd_seek, A(f), A(0), A(WASI_WHENCE_SET), A(3000)), 0);
    assert_int_equal(WASI(fd_write, A(f), A(2000), A(1), A(3000)), 0);
}

static void test_preopen_poll_sockets_and_exit(void **state)
{
    assert_int_equal(WASI(fd_prestat_get, A(3), A(3000)), 0);
    assert_int_equal(mem[3000], WASI_PREOPENTYPE_DIR);
    assert_int_equal(r32(3004), 1);
    assert_int_equal(WASI(fd_prestat_dir_name, A(3), A(3100), A(1)), 0);
    assert_int_equal(mem[3100], '/');
    assert_int_equal(WASI(fd_prestat_get, A(4), A(3000)), WASI_EBADF);
    assert_int_equal(WASI(fd_prestat_get, A(0), A(3000)), WASI_EBADF);

    /* a relative clock subscription of 2 s: the clock jumps, no host time passes */
    uint8_t *s = mem + 8000;
    put_u64(s, 77);
    s[8] = WASI_EVENTTYPE_CLOCK;
    put_u32(s + 16, WASI_CLOCK_MONOTONIC);
    put_u64(s + 24, 2000000000ull);
    assert_int_equal(WASI(poll_oneoff, A(8000), A(9000), A(1), A(3000)), 0);
    assert_int_equal(r32(3000), 1);
    assert_int_equal(r64(9000), 77);
    assert_int_equal(g->mono_ns, 2000000000ull);
    /* with an fd subscription beside it, only the fd fires and the clock stays */
    s = mem + 8000 + 48;
    put_u64(s, 78);
    s[8] = WASI_EVENTTYPE_FD_WRITE;
    put_u32(s + 16, 1);
    assert_int_equal(WASI(poll_oneoff, A(8000), A(9000), A(2), A(3000)), 0);
    assert_int_equal(r32(3000), 1);
    assert_int_equal(r64(9000), 78);
    assert_int_equal(mem[9010], WASI_EVENTTYPE_FD_WRITE);
    assert_int_equal(g->mono_ns, 2000000000ull);
    assert_int_equal(WASI(poll_oneoff, A(8000), A(9000), A(0), A(3000)), WASI_EINVAL);

    assert_int_equal(WASI(sched_yield, A(0)), 0);
    assert_int_equal(WASI(sock_accept, A(1), A(0), A(3000)), WASI_ENOTSUP);
    assert_int_equal(WASI(sock_recv, A(1), A(0), A(0), A(0), A(3000), A(3004)), WASI_ENOTSUP);
    assert_int_equal(WASI(sock_send, A(1), A(0), A(0), A(0), A(3000)), WASI_ENOTSUP);
    assert_int_equal(WASI(sock_shutdown, A(99), A(0)), WASI_EBADF);

    zvm_val a[1] = { 6 };
    int32_t r;
    assert_int_equal(guest_dispatch(g, "wasi_snapshot_preview1", "proc_raise", mem, MEM_SIZE, a, &r), -1);
    assert_non_null(strstr(g->trap, "signal 6"));
    assert_int_equal(guest_dispatch(g, "wasi_snapshot_preview1", "proc_exit", mem, MEM_SIZE, a, &r), -1);
    assert_true(g->exit_requested);
    assert_int_equal(g->exit_code, 6);
    assert_int_equal(guest_dispatch(g, "wasi_snapshot_preview1", "no_such_call", mem, MEM_SIZE, a, &r), -2);
}

static void test_zvm_calls(void **state)
{
    assert_int_equal(ZVM(zvm_channel_count, A(0)), 6);
    assert_int_equal(ZVM(zvm_channel_info, A(DATA), A(3000)), 0);
    assert_int_equal(r64(3000), 100);            /* gets */
    assert_int_equal(r64(3024), 1000);           /* put_size */
    assert_int_equal(r64(3032), 10);             /* size */
    assert_int_equal(r32(3040), ZVM_CH_RND_RND);
    assert_int_equal(r32(3044), 3);              /* readable | writable */
    assert_int_equal(r32(3048), 9);              /* strlen("/dev/data") */
    assert_int_equal(ZVM(zvm_channel_name, A(DATA), A(3100), A(64)), 9);
    assert_string_equal((char *)mem + 3100, "/dev/data");
    assert_int_equal(ZVM(zvm_channel_info, A(6), A(3000)), -EBADF);
    assert_int_equal(ZVM(zvm_channel_info, A(0), A(MEM_SIZE - 8)), -EFAULT);
    assert_int_equal(ZVM(zvm_pread, A(DATA), A(4096), A(4), A(6)), 4);
    assert_memory_equal(mem + 4096, "6789", 4);
    memcpy(mem + 4096, "zz", 2);
    assert_int_equal(ZVM(zvm_pwrite, A(DATA), A(4096), A(2), A(8)), 2);
    assert_string_equal(slurp("data"), "01234567zz");
    assert_int_equal(ZVM(zvm_pwrite, A(STDOUT), A(4096), A(2), A(12345)),
                     2);   /* offset of a sequential channel: ignored */
    assert_int_equal(ZVM(zvm_pread, A(STDOUT), A(4096), A(2), A(0)), -EBADF);
    assert_int_equal(ZVM(zvm_pwrite, A(STDOUT), A(4096), A(20), A(0)), 10);      /* clipped to put_size 12 */
    assert_int_equal(ZVM(zvm_pwrite, A(STDOUT), A(4096), A(1), A(0)), -EDQUOT);
    assert_int_equal(ZVM(zvm_pread, A(DATA), A(MEM_SIZE - 1), A(4), A(0)), -EFAULT);
}

static void test_wo_mount_becomes_a_tar(void **state)
{
    uint32_t fd = open_path("out/a.txt", WASI_O_CREAT, WASI_RIGHT_FD_WRITE);
    memcpy(mem + 4096, "written", 7);
    iov(0, 4096, 7);
    assert_int_equal(WASI(fd_write, A(fd), A(2000), A(1), A(3000)), 0);
    uint32_t len = str("out/sub");
    assert_int_equal(WASI(path_create_directory, A(3), A(1000), A(len)), 0);
    zvm_error err;
    if (zvm_guest_finish(g, &err) != 0)
        fail_msg("%s", err.msg);
    sh("tar -tf %s > %s && tar -xOf %s a.txt > %s", file("out.tar"), file("list"), file("out.tar"), file("a"));
    assert_string_equal(slurp("list"), "a.txt\nsub/\n");
    assert_string_equal(slurp("a"), "written");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_args_and_environ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clocks_are_virtual_and_random_is_seeded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_std_channels_count_quotas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential_channels_do_not_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_in_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_image_and_memory_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preopen_poll_sockets_and_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zvm_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wo_mount_becomes_a_tar, setup, teardown),
    };
    return cmocka_run_group_tests_name("wasi", tests, NULL, NULL);
}
