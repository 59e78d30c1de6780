/*
 * vfs_mount.c — building the tree before the guest runs: directories, images, devices; and
 * walking it afterwards (a `wo` mount becomes a tar).
 */
#include "guest/vfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/wasi_abi.h"

/* mkdir -p from the root, ignoring read-only marks (we are the ones setting them up). */
int vfs_mkdirs(vfs *fs, const char *path, vfs_node **out)
{
    vfs_node *cur = fs->root;
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        const char *start = p;
        while (*p && *p != '/') p++;
        size_t n = (size_t)(p - start);
        if (n == 0) break;
        if (n > VFS_NAME_MAX) return WASI_ENAMETOOLONG;
        char name[VFS_NAME_MAX + 1];
        memcpy(name, start, n);
        name[n] = 0;
        vfs_node *next = vfs_lookup(cur, name);
        if (!next) {
            bool ro = cur->readonly;
            cur->readonly = false;
            int e = vfs_mkdir(fs, cur, name, 0755, &next);
            cur->readonly = ro;
            if (e) return e;
        }
        if (next->kind != VFS_DIR) return WASI_ENOTDIR;
        cur = next;
    }
    if (out) *out = cur;
    return 0;
}

/* Adds a file or symlink at dir/name, replacing a non-directory already there (a later image wins). */
static int place(vfs *fs, vfs_node *dir, const char *name, vfs_node **out, enum vfs_kind kind, const char *target)
{
    bool ro = dir->readonly;
    dir->readonly = false;
    vfs_node *old = vfs_lookup(dir, name);
    int e = 0;
    if (old && old->kind != VFS_DIR) {
        old->readonly = false;
        e = vfs_unlink(fs, dir, name);
    } else if (old) {
        e = WASI_EEXIST;
    }
    if (!e) {
        if (kind == VFS_FILE) e = vfs_create_file(fs, dir, name, 0644, out);
        else e = vfs_symlink(fs, dir, name, target, out);
    }
    dir->readonly = ro;
    return e;
}

static int mount_error(zvm_error *err, const char *name, const char *path, const char *what)
{
    snprintf(err->msg, sizeof err->msg, "image %s: cannot mount %s: %s", name, path, what);
    return -1;
}

int vfs_mount_image(vfs *fs, const char *mountpoint, const zvm_image *img, bool readonly, const char *name, zvm_error *err)
{
    vfs_node *top;
    if (vfs_mkdirs(fs, mountpoint, &top)) return mount_error(err, name, mountpoint, "the mount point is not a directory");
    char path[VFS_PATH_MAX + 1];
    for (size_t i = 0; i < zvm_image_count(img); i++) {
        const zvm_image_entry *e = zvm_image_entry_at(img, i);
        /* its directory: created (and marked like the image) as needed */
        const char *slash = strrchr(e->path, '/');
        const char *base = slash ? slash + 1 : e->path;
        vfs_node *dir = top;
        if (slash) {
            size_t dn = (size_t)(slash - e->path);
            if (dn > VFS_PATH_MAX) return mount_error(err, name, e->path, "path too long");
            memcpy(path, e->path, dn);
            path[dn] = 0;
            vfs_node *cur = top;
            char *p = path;
            while (*p) {
                char *s = strchr(p, '/');
                if (s) *s = 0;
                vfs_node *next = vfs_lookup(cur, p);
                if (!next) {
                    bool ro = cur->readonly;
                    cur->readonly = false;
                    int r = vfs_mkdir(fs, cur, p, 0755, &next);
                    cur->readonly = ro;
                    if (r) return mount_error(err, name, e->path, "cannot make its directory");
                    next->readonly = readonly;
                }
                if (next->kind != VFS_DIR) return mount_error(err, name, e->path, "a parent is not a directory");
                cur = next;
                if (!s) break;
                p = s + 1;
            }
            dir = cur;
        }
        vfs_node *n = NULL;
        bool existed = false;
        int r = 0;
        switch (e->type) {
        case ZVM_IMAGE_DIR:
            n = vfs_lookup(dir, base);
            if (n && n->kind != VFS_DIR) return mount_error(err, name, e->path, "a file is already there");
            if (!n) {
                bool ro = dir->readonly;
                dir->readonly = false;
                r = vfs_mkdir(fs, dir, base, e->mode, &n);
                dir->readonly = ro;
                if (!r) n->readonly = readonly;
            } else if (!n->readonly) {
                existed = true;        /* /tmp, /dev, a mount point: they keep their own state */
            }                          /* else an image made it first (its entry comes late): take its mode */
            break;
        case ZVM_IMAGE_FILE:
            r = place(fs, dir, base, &n, VFS_FILE, NULL);
            if (!r) {
                n->image = img;
                n->image_entry = e;
                n->size = e->size;
            }
            break;
        case ZVM_IMAGE_SYMLINK:
            r = place(fs, dir, base, &n, VFS_SYMLINK, e->link);
            break;
        case ZVM_IMAGE_HARDLINK: {
            vfs_node *target;
            snprintf(path, sizeof path, "%s/%s", mountpoint, e->link);
            if (vfs_resolve(fs, fs->root, path, strlen(path), false, &target) || target->kind != VFS_FILE)
                return mount_error(err, name, e->path, "its hard link target is not an earlier file of the image");
            vfs_node *old = vfs_lookup(dir, base);
            if (old == target) continue;
            if (old) { old->readonly = false; bool ro = dir->readonly; dir->readonly = false; vfs_unlink(fs, dir, base); dir->readonly = ro; }
            bool ro = dir->readonly;
            dir->readonly = false;
            r = vfs_link(fs, dir, base, target);
            dir->readonly = ro;
            n = target;
            break;
        }
        }
        if (r) return mount_error(err, name, e->path, r == WASI_EEXIST ? "a directory is already there" : "out of memory");
        if (existed) continue;
        n->mode = e->mode;
        n->atim = n->mtim = n->ctim = (uint64_t)(e->mtime > 0 ? e->mtime : 0) * 1000000000ull;
        n->readonly = readonly;
    }
    if (readonly) top->readonly = true;
    return 0;
}

int vfs_add_device(vfs *fs, const char *abs_path, void *device, vfs_node **out)
{
    const char *slash = strrchr(abs_path, '/');
    if (!slash || !slash[1]) return WASI_EINVAL;
    char dirpath[VFS_PATH_MAX + 1];
    size_t dn = (size_t)(slash - abs_path);
    if (dn > VFS_PATH_MAX || strlen(slash + 1) > VFS_NAME_MAX) return WASI_ENAMETOOLONG;
    memcpy(dirpath, abs_path, dn);
    dirpath[dn] = 0;
    vfs_node *dir, *n;
    int e = vfs_mkdirs(fs, dirpath, &dir);
    if (e) return e;
    if (vfs_lookup(dir, slash + 1)) return WASI_EEXIST;
    bool ro = dir->readonly;
    dir->readonly = false;
    e = vfs_create_file(fs, dir, slash + 1, 0666, &n);
    dir->readonly = ro;
    if (e) return e;
    n->kind = VFS_DEVICE;
    n->device = device;
    if (out) *out = n;
    return 0;
}

static int walk(vfs_node *dir, char *path, size_t len, vfs_walk_fn fn, void *user)
{
    for (size_t i = 0; i < dir->nentries; i++) {
        const char *name = dir->entries[i].name;
        size_t n = strlen(name);
        if (len + 1 + n > VFS_PATH_MAX) return WASI_ENAMETOOLONG;
        size_t at = len;
        if (len) path[at++] = '/';
        memcpy(path + at, name, n + 1);
        vfs_node *child = dir->entries[i].node;
        int r = fn(user, path, child);
        if (!r && child->kind == VFS_DIR) r = walk(child, path, at + n, fn, user);
        path[len] = 0;
        if (r) return r;
    }
    return 0;
}

int vfs_walk(vfs_node *dir, vfs_walk_fn fn, void *user)
{
    char path[VFS_PATH_MAX + 1] = "";
    return walk(dir, path, 0, fn, user);
}
