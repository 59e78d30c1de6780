/*
 * vfs.h — the guest's file system: one in-memory tree rooted at "/".
 *
 * Nodes are directories, files, symbolic links and devices (a device is a channel; the
 * vfs keeps it as an opaque pointer and leaves its I/O to the WASI layer).  A file's bytes
 * live in memory, or in a read-only tar image (index entry + image).  Mounting an image
 * merges its entries into the tree; what an `ro` image brings is read-only (EROFS).
 *
 * Everything returns a WASI errno (0 = success), because the only user is the WASI layer.
 * In-memory file bytes (and, once the guest runs, what its nodes and names cost) are counted;
 * growing past the capacity the caller sets fails with ENOSPC (the guest's Memory is shared by
 * its linear memory and its files).
 */
#ifndef ZVM_GUEST_VFS_H
#define ZVM_GUEST_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"
#include "wasm/wasm.h"

#define VFS_MAX_SYMLINKS 40     /* resolutions per lookup before ELOOP, as Linux */
#define VFS_NAME_MAX 255
#define VFS_PATH_MAX 4096
/* What a node and a name cost the budget once the guest runs (about what the host spends). */
#define VFS_NODE_COST 160
#define VFS_ENTRY_COST 32

enum vfs_kind { VFS_DIR, VFS_FILE, VFS_SYMLINK, VFS_DEVICE };

typedef struct vfs vfs;
typedef struct vfs_node vfs_node;

typedef struct vfs_dirent {
    char *name;
    vfs_node *node;
    uint32_t charge;            /* bytes of the budget this name holds */
} vfs_dirent;

struct vfs_node {
    enum vfs_kind kind;
    uint64_t ino;
    uint32_t mode;              /* permission bits, for stat and tar */
    uint32_t nlink;             /* directory entries naming it */
    uint32_t opens;             /* descriptors holding it */
    bool readonly;              /* brought by a read-only image, or /dev */
    uint32_t charge;            /* bytes of the budget the node itself holds */
    uint64_t atim, mtim, ctim;  /* nanoseconds */
    vfs_node *parent;           /* directories: the one holding it (root: itself) */
    /* VFS_DIR: entries sorted by name */
    vfs_dirent *entries;
    size_t nentries, cap;
    /* VFS_FILE: in memory, or in an image */
    uint8_t *data;
    uint64_t size, data_cap;
    const zvm_image *image;
    const zvm_image_entry *image_entry;
    /* VFS_SYMLINK */
    char *target;
    /* VFS_DEVICE */
    void *device;
};

struct vfs {
    vfs_node *root;
    uint64_t next_ino;
    uint64_t bytes;             /* in-memory file bytes, and the metadata the guest made */
    uint64_t capacity;          /* what bytes may reach (set by the caller before writes) */
    bool count_metadata;        /* once the guest runs, nodes and names cost too (empty files fill no memory) */
    const uint64_t *clock;      /* where "now" for timestamps is read (virtual ns), or NULL */
    uint64_t changes;           /* counts every change to the tree or a file (snapshots need none) */
};

int vfs_init(vfs *fs, const uint64_t *clock);
void vfs_destroy(vfs *fs);

/* Looks path up from dir ("/..." from the root).  follow: resolve a final symlink too. */
int vfs_resolve(vfs *fs, vfs_node *dir, const char *path, size_t len, bool follow, vfs_node **out);
/* Resolves everything but the last part: *parent is the directory, name its last part
 * (NUL-terminated, at most VFS_NAME_MAX).  "a/b/" gives "a" and "b". */
int vfs_resolve_parent(vfs *fs, vfs_node *dir, const char *path, size_t len, vfs_node **parent,
                       char name[VFS_NAME_MAX + 1]);
vfs_node *vfs_lookup(vfs_node *dir, const char *name);   /* "." and ".." included */

/* Creating: each fails with EEXIST if name is taken, EROFS in a read-only directory. */
int vfs_mkdir(vfs *fs, vfs_node *dir, const char *name, uint32_t mode, vfs_node **out);
int vfs_create_file(vfs *fs, vfs_node *dir, const char *name, uint32_t mode, vfs_node **out);
int vfs_symlink(vfs *fs, vfs_node *dir, const char *name, const char *target, vfs_node **out);
int vfs_link(vfs *fs, vfs_node *dir, const char *name, vfs_node *node);
int vfs_unlink(vfs *fs, vfs_node *dir, const char *name);     /* not directories: EISDIR */
int vfs_rmdir(vfs *fs, vfs_node *dir, const char *name);      /* empty directories only */
int vfs_rename(vfs *fs, vfs_node *from, const char *old_name, vfs_node *to, const char *new_name);

/* File contents. */
int vfs_read(vfs *fs, vfs_node *file, void *buf, uint64_t size, uint64_t offset, uint64_t *done);
int vfs_write(vfs *fs, vfs_node *file, const void *buf, uint64_t size, uint64_t offset, uint64_t *done);
int vfs_truncate(vfs *fs, vfs_node *file, uint64_t size);

/* Descriptors keep nodes alive after unlink. */
void vfs_open_node(vfs_node *n);
void vfs_close_node(vfs *fs, vfs_node *n);
void vfs_touch(vfs *fs, vfs_node *n);    /* mtim = ctim = now */
uint64_t vfs_now(const vfs *fs);

/* Setting up (zvm_guest_new): mkdir -p, mounts, devices.  err names what failed. */
int vfs_mkdirs(vfs *fs, const char *abs_path, vfs_node **out);
int vfs_mount_image(vfs *fs, const char *mountpoint, const zvm_image *img, bool readonly, const char *name,
                    zvm_error *err);
int vfs_add_device(vfs *fs, const char *abs_path, void *device, vfs_node **out);

/* Walks the tree under dir in name order (directories before their contents), calling fn
 * with each node's path relative to dir.  Stops at the first non-zero return. */
typedef int (*vfs_walk_fn)(void *user, const char *path, vfs_node *node);
int vfs_walk(vfs_node *dir, vfs_walk_fn fn, void *user);

#endif
