/* test_vfs.c — the guest's in-memory tree: paths (.., symlinks, escapes), changes, budget, mounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/vfs.h"
#include "guest/wasi_abi.h"
#include "image/image.h"

static uint64_t clock_ns = 5;

typedef struct {
    vfs fs;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(vfs_init(&f->fs, &clock_ns), 0);
    /* /a/b/file, /a/up -> .., /a/abs -> /a/b, /loop1 <-> /loop2, /dangling -> nowhere */
    vfs *fs = &f->fs;
    vfs_node *a, *b, *file;
    assert_int_equal(vfs_mkdir(fs, fs->root, "a", 0755, &a), 0);
    assert_int_equal(vfs_mkdir(fs, a, "b", 0755, &b), 0);
    assert_int_equal(vfs_create_file(fs, b, "file", 0644, &file), 0);
    uint64_t done;
    assert_int_equal(vfs_write(fs, file, "data", 4, 0, &done), 0);
    assert_int_equal(vfs_symlink(fs, a, "up", "..", NULL), 0);
    assert_int_equal(vfs_symlink(fs, a, "abs", "/a/b", NULL), 0);
    assert_int_equal(vfs_symlink(fs, fs->root, "loop1", "loop2", NULL), 0);
    assert_int_equal(vfs_symlink(fs, fs->root, "loop2", "loop1", NULL), 0);
    assert_int_equal(vfs_symlink(fs, fs->root, "dangling", "nowhere", NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    vfs_destroy(&f->fs);
    free(f);
    return 0;
}

static int resolve(vfs *fs, const char *path, bool follow, vfs_node **out)
{
    return vfs_resolve(fs, fs->root, path, strlen(path), follow, out);
}

static vfs_node *must(vfs *fs, const char *path)
{
    vfs_node *n = NULL;
    int e = resolve(fs, path, true, &n);
    if (e)
        fail_msg("%s: errno %d", path, e);
    return n;
}

static void test_paths_resolve(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    vfs_node *file = must(fs, "/a/b/file");
    assert_int_equal(file->kind, VFS_FILE);
    assert_ptr_equal(must(fs, "a/b/file"), file);
    assert_ptr_equal(must(fs, "a//b/./file"), file);
    assert_ptr_equal(must(fs, "a/b/../b/file"), file);
    assert_ptr_equal(must(fs, "a/abs/file"), file);           /* absolute symlink, from our root */
    assert_ptr_equal(must(fs, "a/up/a/b/file"), file);        /* relative symlink to .. */
    assert_ptr_equal(must(fs, "a/b/"), must(fs, "a/b"));
    vfs_node *n;
    assert_int_equal(resolve(fs, "a/b/file/", true, &n), WASI_ENOTDIR);
    assert_int_equal(resolve(fs, "a/b/file/x", true, &n), WASI_ENOTDIR);
    assert_int_equal(resolve(fs, "a/nope", true, &n), WASI_ENOENT);
    assert_int_equal(resolve(fs, "", true, &n), WASI_ENOENT);
    assert_int_equal(vfs_resolve(fs, fs->root, "a\0b", 3, true, &n), WASI_EINVAL);
}

static void test_dotdot_cannot_escape_the_root(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    assert_ptr_equal(must(fs, ".."), fs->root);
    assert_ptr_equal(must(fs, "/../../.."), fs->root);
    assert_ptr_equal(must(fs, "../../a/b/file"), must(fs, "/a/b/file"));
    assert_ptr_equal(must(fs, "a/up/a/up/../../.."), fs->root);
    /* a host path means nothing: /etc/passwd is just missing here */
    vfs_node *n;
    assert_int_equal(resolve(fs, "/../etc/passwd", true, &n), WASI_ENOENT);
}

static void test_symlink_rules(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    vfs_node *n;
    assert_int_equal(resolve(fs, "loop1", true, &n), WASI_ELOOP);
    assert_int_equal(resolve(fs, "loop1", false, &n), 0);       /* the link itself */
    assert_int_equal(n->kind, VFS_SYMLINK);
    assert_int_equal(resolve(fs, "loop1/", false, &n), WASI_ELOOP);   /* a trailing slash follows */
    assert_int_equal(resolve(fs, "dangling", true, &n), WASI_ENOENT);
    assert_int_equal(resolve(fs, "dangling", false, &n), 0);
    char name[VFS_NAME_MAX + 1];
    vfs_node *parent;
    assert_int_equal(vfs_resolve_parent(fs, fs->root, "a/abs/newfile", 13, &parent, name), 0);
    assert_ptr_equal(parent, must(fs, "/a/b"));
    assert_string_equal(name, "newfile");
    assert_int_equal(vfs_resolve_parent(fs, fs->root, "a/b/file/x", 10, &parent, name), WASI_ENOTDIR);
    assert_int_equal(vfs_resolve_parent(fs, fs->root, "/", 1, &parent, name), 0);
    assert_string_equal(name, ".");
}

static void test_create_remove_rename(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    vfs_node *a = must(fs, "/a"), *b = must(fs, "/a/b"), *d;
    assert_int_equal(vfs_mkdir(fs, a, "b", 0755, NULL), WASI_EEXIST);
    assert_int_equal(vfs_mkdir(fs, a, ".", 0755, NULL), WASI_EEXIST);
    assert_int_equal(vfs_rmdir(fs, a, "b"), WASI_ENOTEMPTY);
    assert_int_equal(vfs_unlink(fs, a, "b"), WASI_EISDIR);
    assert_int_equal(vfs_rmdir(fs, b, "file"), WASI_ENOTDIR);
    assert_int_equal(vfs_mkdir(fs, a, "d", 0700, &d), 0);
    /* a directory cannot move into itself */
    assert_int_equal(vfs_rename(fs, fs->root, "a", d, "x"), WASI_EINVAL);
    /* file over file replaces; file over directory is refused */
    vfs_node *f2;
    assert_int_equal(vfs_create_file(fs, a, "f2", 0644, &f2), 0);
    assert_int_equal(vfs_rename(fs, a, "f2", b, "file"), 0);
    assert_ptr_equal(must(fs, "/a/b/file"), f2);
    assert_null(vfs_lookup(a, "f2"));
    assert_int_equal(vfs_rename(fs, b, "file", a, "d"), WASI_EISDIR);
    /* directory over an empty directory */
    vfs_node *e;
    assert_int_equal(vfs_mkdir(fs, a, "e", 0755, &e), 0);
    assert_int_equal(vfs_rename(fs, a, "d", a, "e"), 0);
    assert_ptr_equal(must(fs, "/a/e"), d);
    assert_ptr_equal(must(fs, "/a/e/.."), a);
    assert_int_equal(vfs_rmdir(fs, a, "e"), 0);
    assert_int_equal(vfs_rename(fs, a, "nothing", a, "x"), WASI_ENOENT);
}

static void test_hard_links_and_open_unlinked_files(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    vfs_node *b = must(fs, "/a/b"), *file = must(fs, "/a/b/file");
    assert_int_equal(vfs_link(fs, fs->root, "other", file), 0);
    assert_int_equal(file->nlink, 2);
    assert_int_equal(vfs_link(fs, fs->root, "dirlink", b), WASI_EPERM);
    vfs_open_node(file);
    assert_int_equal(vfs_unlink(fs, b, "file"), 0);
    assert_int_equal(vfs_unlink(fs, fs->root, "other"), 0);
    assert_int_equal(file->nlink, 0);
    uint64_t before = fs->bytes, done;
    char buf[8] = { 0 };
    assert_int_equal(vfs_read(fs, file, buf, 8, 0, &done), 0);   /* still readable while open */
    assert_int_equal(done, 4);
    assert_string_equal(buf, "data");
    vfs_close_node(fs, file);                                     /* freed now */
    assert_int_equal(fs->bytes, before - 4);
}

static void test_file_contents_and_budget(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    vfs_node *f;
    assert_int_equal(vfs_create_file(fs, fs->root, "big", 0644, &f), 0);
    fs->capacity = fs->bytes + 100;
    uint64_t done;
    assert_int_equal(vfs_write(fs, f, "xy", 2, 10, &done), 0);   /* a hole reads as zeros */
    assert_int_equal(f->size, 12);
    char buf[12];
    assert_int_equal(vfs_read(fs, f, buf, 12, 0, &done), 0);
    assert_int_equal(buf[0], 0);
    assert_memory_equal(buf + 10, "xy", 2);
    char chunk[200] = { 0 };
    assert_int_equal(vfs_write(fs, f, chunk, 200, 0, &done), WASI_ENOSPC);
    assert_int_equal(vfs_truncate(fs, f, 90), 0);
    assert_int_equal(vfs_truncate(fs, f, 200), WASI_ENOSPC);
    assert_int_equal(vfs_truncate(fs, f, 0), 0);
    assert_int_equal(vfs_write(fs, f, chunk, 100, 0, &done), 0);   /* what was freed is usable again */
    assert_int_equal(vfs_read(fs, must(fs, "/a/b"), buf, 1, 0, &done), WASI_EISDIR);
}

static void test_metadata_costs_once_the_guest_runs(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    fs->count_metadata = true;
    fs->capacity = fs->bytes + 10 * (VFS_NODE_COST + VFS_ENTRY_COST + 8);
    char name[32];
    int made = 0, e = 0;
    while (!e && made < 1000) {
        snprintf(name, sizeof name, "d%07d", made);
        if (!(e = vfs_mkdir(fs, fs->root, name, 0755, NULL)))
            made++;
    }
    assert_int_equal(e, WASI_ENOSPC);
    assert_int_equal(made, 10);
    assert_int_equal(vfs_rmdir(fs, fs->root, "d0000000"), 0);      /* removing gives the room back */
    assert_int_equal(vfs_mkdir(fs, fs->root, "again00", 0755, NULL), 0);
    assert_int_equal(vfs_create_file(fs, fs->root, "nomore", 0644, NULL), WASI_ENOSPC);
}

static void test_deep_nesting_is_freed_without_recursion(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    vfs_node *d = fs->root;
    for (int i = 0; i < 200000; i++)
        assert_int_equal(vfs_mkdir(fs, d, "n", 0755, &d), 0);
    vfs_node *top = must(fs, "/n");
    vfs_open_node(top);            /* held by a descriptor: removing its tree later frees the rest */
    vfs_destroy(fs);               /* 200000 levels: a recursive free would overflow the stack */
    assert_int_equal(top->nlink, 0);
    vfs_close_node(fs, top);
    assert_int_equal(vfs_init(fs, &clock_ns), 0);
}

static int collect(void *user, const char *path, vfs_node *node)
{
    char *out = user;
    strcat(out, path);
    strcat(out, node->kind == VFS_DIR ? "/ " : " ");
    return 0;
}

static void test_walk_is_in_name_order(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    char out[512] = "";
    assert_int_equal(vfs_walk(fs->root, collect, out), 0);
    assert_string_equal(out, "a/ a/abs a/b/ a/b/file a/up dangling loop1 loop2 ");
}

static void test_ro_image_mount(void **state)
{
    vfs *fs = &((fixture *)*state)->fs;
    char dir[] = "/tmp/zvm-test-vfs.XXXXXX", cmd[512], tarpath[128];
    assert_non_null(mkdtemp(dir));
    /* lib/ is listed after its file, as some tars do: its own mode must still win */
    snprintf(cmd, sizeof cmd,
             "cd %s && mkdir -p s/lib s/tmp && echo hi > s/lib/x.py && ln -s lib/x.py s/l && "
             "ln s/lib/x.py s/hard && chmod 700 s/lib && "
             "tar -C s --no-recursion -cf img.tar tmp lib/x.py lib l hard",
             dir);
    assert_int_equal(system(cmd), 0);
    snprintf(tarpath, sizeof tarpath, "%s/img.tar", dir);
    int fd = open(tarpath, O_RDONLY);
    zvm_image *img;
    zvm_error err;
    assert_int_equal(zvm_image_open(fd, "/dev/img.tar", 0, &img, &err), 0);
    vfs_node *tmp;
    assert_int_equal(vfs_mkdirs(fs, "/tmp", &tmp), 0);
    assert_int_equal(vfs_mount_image(fs, "/", img, true, "/dev/img.tar", &err), 0);

    vfs_node *x = must(fs, "/l"), *lib = must(fs, "/lib");
    assert_int_equal(lib->mode, 0700);
    assert_ptr_equal(x, must(fs, "/hard"));
    assert_int_equal(x->nlink, 2);
    char buf[8] = { 0 };
    uint64_t done;
    assert_int_equal(vfs_read(fs, x, buf, 8, 0, &done), 0);
    assert_string_equal(buf, "hi\n");
    assert_int_equal(vfs_write(fs, x, "no", 2, 0, &done), WASI_EROFS);
    assert_int_equal(vfs_truncate(fs, x, 0), WASI_EROFS);
    assert_int_equal(vfs_create_file(fs, lib, "new", 0644, NULL), WASI_EROFS);
    assert_int_equal(vfs_create_file(fs, fs->root, "new", 0644, NULL), WASI_EROFS);
    assert_int_equal(vfs_unlink(fs, lib, "x.py"), WASI_EROFS);
    assert_int_equal(vfs_rename(fs, lib, "x.py", tmp, "x.py"), WASI_EROFS);
    /* /tmp existed before the mount: it stays writable */
    assert_ptr_equal(must(fs, "/tmp"), tmp);
    assert_int_equal(vfs_create_file(fs, tmp, "ok", 0644, NULL), 0);

    /* a device added after the mount */
    vfs_node *dev;
    assert_int_equal(vfs_add_device(fs, "/dev/1.data.csv", (void *)0x1, &dev), 0);
    assert_ptr_equal(must(fs, "/dev/1.data.csv"), dev);
    assert_int_equal(dev->kind, VFS_DEVICE);
    assert_int_equal(vfs_add_device(fs, "/dev/1.data.csv", (void *)0x1, NULL), WASI_EEXIST);
    vfs_destroy(fs);
    assert_int_equal(vfs_init(fs, &clock_ns), 0);
    zvm_image_free(img);
    close(fd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paths_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotdot_cannot_escape_the_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_remove_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hard_links_and_open_unlinked_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_contents_and_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_is_in_name_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_costs_once_the_guest_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_is_freed_without_recursion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ro_image_mount, setup, teardown),
    };
    return cmocka_run_group_tests_name("vfs", tests, NULL, NULL);
}
