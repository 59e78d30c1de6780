/*
 * fuzz_image.c — libFuzzer target: a tar image (plain or compressed) indexed, mounted into a
 * guest file system, every file read back, and the tree written out as a tar again.
 *
 * The input is handed over as a memory file (a regular file: indexed in place) and, when
 * its first byte is odd, through a pipe (read into memory).  The image's memory limit is
 * 1 MiB, so a bomb must be refused, not inflated.  Whatever the input, the answer is an index
 * or a message, and a mounted image must read back within the sizes its index gives.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest/vfs.h"
#include "image/image.h"

#define LIMIT (1u << 20)

static int64_t discard(void *user, const void *buf, size_t size)
{
    (void)user;
    (void)buf;
    return (int64_t)size;
}

static int write_node(void *user, const char *path, vfs_node *n)
{
    zvm_image_writer *w = user;
    zvm_error err;
    zvm_image_entry e = { .path = (char *)path, .mode = n->mode };
    if (n->kind == VFS_DIR)
        e.type = ZVM_IMAGE_DIR;
    else if (n->kind == VFS_SYMLINK) {
        e.type = ZVM_IMAGE_SYMLINK;
        e.link = n->target;
    } else if (n->kind == VFS_FILE && !n->image_entry) {
        e.type = ZVM_IMAGE_FILE;
        e.size = n->size;
    } else
        return 0;   /* image files were read back already */
    zvm_image_writer_add(w, &e, n->data, &err);   /* a name too long for tar is an answer too */
    return 0;
}

static void read_all(zvm_image *img)
{
    static uint8_t buf[4096];
    for (size_t i = 0; i < zvm_image_count(img); i++) {
        const zvm_image_entry *e = zvm_image_entry_at(img, i);
        if (!e->path || (e->type == ZVM_IMAGE_SYMLINK && (!e->link || !e->link[0])))
            abort();
        if (e->type != ZVM_IMAGE_FILE)
            continue;
        for (uint64_t off = 0; off < e->size; off += sizeof buf)
            if (zvm_image_read(img, e, buf, sizeof buf, off) <= 0)
                abort();
    }
}

static void mount_and_walk(zvm_image *img)
{
    vfs fs;
    zvm_error err;
    if (vfs_init(&fs, NULL))
        return;
    vfs_mkdirs(&fs, "/dev", NULL);
    if (vfs_mount_image(&fs, "/", img, true, "/dev/fuzz.tar", &err) < 0 && !err.msg[0])
        abort();
    zvm_image_writer *w;
    if (zvm_image_writer_new(discard, NULL, "/dev/out.tar", &w, &err) == 0) {
        vfs_walk(fs.root, write_node, w);
        zvm_image_writer_finish(w, &err);
    }
    vfs_destroy(&fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = -1, pipefd[2] = { -1, -1 };
    bool piped = size > 0 && (data[0] & 1) && size < 60000;   /* a pipe holds 64 KiB unread */
    if (piped) {
        if (pipe(pipefd) < 0)
            return 0;
        if (write(pipefd[1], data, size) != (ssize_t)size)
            abort();
        close(pipefd[1]);
        fd = pipefd[0];
    } else {
        fd = memfd_create("fuzz-image", MFD_CLOEXEC);
        if (fd < 0)
            return 0;
        if (size && write(fd, data, size) != (ssize_t)size)
            abort();
    }
    zvm_image *img;
    zvm_error err = { { 0 } };
    if (zvm_image_open(fd, "/dev/fuzz.tar", LIMIT, &img, &err) == 0) {
        if (zvm_image_memory(img) > LIMIT)
            abort();
        read_all(img);
        mount_and_walk(img);
        zvm_image_free(img);
    } else if (!err.msg[0]) {
        abort();   /* every failure says why */
    }
    close(fd);
    return 0;
}
