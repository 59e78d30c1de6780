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
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - start);
        if (n == 0)
            break;
        if (n > VFS_NAME_MAX)
            return WASI_ENAMETOOLONG;
        char name[VFS_NAME_MAX + 1];
        memcpy(name, start, n);
        name[n] = 0;
        vfs_node *next = vfs_lookup(cur, name);
        if (!next) {
            bool ro = cur->readonly;
            cur->readonly = false;
            int e = vfs_mkdir(fs, cur, name, 0755, &next);
            cur->readonly = ro;
            if (e)
                return e;
        }
        if (next->kind != VFS_DIR)
            return WASI_ENOTDIR;
        cur = next;
    }
    if (out)
        *out = cur;
    return 0;
}

/* Adds a file or symlink at dir/name, replacing a non-directory already there (a later image
 * wins); never a channel, whose node the session holds. */
static int place(vfs *fs, vfs_node *dir, const char *name, vfs_node **out, enum vfs_kind kind, const char *target)
{
    vfs_node *old = vfs_lookup(dir, name);
    if (old && old->kind == VFS_DEVICE)
        return WASI_EPERM;
    if (old && old->kind == VFS_DIR)
        return WASI_EEXIST;
    bool ro = dir->readonly;
    dir->readonly = false;
    int e = 0;
    if (old) {
        old->readonly = false;
        e = vfs_unlink(fs, dir, name);
    }
    if (!e) {
        if (kind == VFS_FILE)
            e = vfs_create_file(fs, dir, name, 0644, out);
        else
            e = vfs_symlink(fs, dir, name, target, out);
    }
    dir->readonly = ro;
    return e;
}

/* Why a member could not be placed, in words (never a bare "out of memory" for a name clash). */
static const char *place_problem(int e)
{
    switch (e) {
    case WASI_EEXIST: return "a directory is already there";
    case WASI_EPERM: return "a channel is already there (a channel's path cannot be replaced by an image)";
    case WASI_ENOTDIR: return "a parent is not a directory";
    case WASI_ENAMETOOLONG: return "the path is too long";
    case WASI_ENOENT: return "a symlink with an empty target";
    default: return "out of memory";
    }
}

static int mount_error(zvm_error *err, const char *name, const char *path, const char *what)
{
    char short_name[ZVM_IMAGE_SHOW], short_path[ZVM_IMAGE_SHOW];
    snprintf(err->msg, sizeof err->msg, "image %s: cannot mount %s: %s", zvm_image_show(name, short_name),
             zvm_image_show(path, short_path), what);
    return -1;
}

/* The directory a member goes in (made, and marked like the image, as needed): "a/b" of
 * "a/b/c".  Returns 0 or a WASI errno. */
static int member_dir(vfs *fs, vfs_node *top, const char *path, bool readonly, vfs_node **out)
{
    const char *p = path, *slash;
    vfs_node *cur = top;
    char part[VFS_NAME_MAX + 1];
    while ((slash = strchr(p, '/'))) {
        size_t n = (size_t)(slash - p);
        if (n > VFS_NAME_MAX)
            return WASI_ENAMETOOLONG;
        memcpy(part, p, n);
        part[n] = 0;
        vfs_node *next = vfs_lookup(cur, part);
        if (!next) {
            bool ro = cur->readonly;
            cur->readonly = false;
            int r = vfs_mkdir(fs, cur, part, 0755, &next);
            cur->readonly = ro;
            if (r)
                return r;
            next->readonly = readonly;
        }
        if (next->kind != VFS_DIR)
            return WASI_ENOTDIR;
        cur = next;
        p = slash + 1;
    }
    *out = cur;
    return 0;
}

/* A hard link: another name for an earlier file of the image (under the same mount point). */
static int mount_hardlink(vfs *fs, const char *mountpoint, vfs_node *dir, const char *base, const zvm_image *img,
                          const zvm_image_entry *e, vfs_node **out)
{
    char path[VFS_PATH_MAX + 1];
    vfs_node *target;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", mountpoint, e->link) >= sizeof path)
        return WASI_ENAMETOOLONG;
    if (vfs_resolve(fs, fs->root, path, strlen(path), false, &target) || target->kind != VFS_FILE)
        return WASI_EBADF;
    vfs_node *old = vfs_lookup(dir, base);
    *out = target;
    if (old == target)
        return 0;
    if (old && old->kind == VFS_FILE && old->image == img && old->image_entry > e)
        return 0;   /* a later member of the path won */
    if (old && old->kind == VFS_DEVICE)
        return WASI_EPERM;
    if (old && old->kind == VFS_DIR)
        return WASI_EEXIST;
    bool ro = dir->readonly;
    dir->readonly = false;
    if (old) {
        old->readonly = false;
        vfs_unlink(fs, dir, base);
    }
    int r = vfs_link(fs, dir, base, target);
    dir->readonly = ro;
    return r;
}

/* Puts one member into the tree. */
static int mount_member(vfs *fs, const char *mountpoint, vfs_node *top, const zvm_image *img, const zvm_image_entry *e,
                        bool readonly, const char *name, zvm_error *err)
{
    vfs_node *dir, *n = NULL;
    const char *slash = strrchr(e->path, '/');
    const char *base = slash ? slash + 1 : e->path;
    if (strlen(mountpoint) + 1 + strlen(e->path) > VFS_PATH_MAX)   /* the guest could not name it */
        return mount_error(err, name, e->path, "the path with its mount point is longer than 4096 bytes");
    int r = member_dir(fs, top, e->path, readonly, &dir);
    if (r)
        return mount_error(err, name, e->path, r == WASI_ENOTDIR ? "a parent is not a directory" : place_problem(r));
    bool existed = false;
    switch (e->type) {
    case ZVM_IMAGE_DIR:
        n = vfs_lookup(dir, base);
        if (n && n->kind != VFS_DIR)
            return mount_error(err, name, e->path,
                               n->kind == VFS_DEVICE ? place_problem(WASI_EPERM) : "a file is already there");
        if (!n) {
            bool ro = dir->readonly;
            dir->readonly = false;
            r = vfs_mkdir(fs, dir, base, e->mode, &n);
            dir->readonly = ro;
            if (!r)
                n->readonly = readonly;
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
    case ZVM_IMAGE_SYMLINK: r = place(fs, dir, base, &n, VFS_SYMLINK, e->link); break;
    case ZVM_IMAGE_HARDLINK:
        r = mount_hardlink(fs, mountpoint, dir, base, img, e, &n);
        if (r == WASI_EBADF)
            return mount_error(err, name, e->path, "its hard link target is not an earlier file of the image");
        break;
    }
    if (r)
        return mount_error(err, name, e->path, place_problem(r));
    if (existed)
        return 0;
    n->mode = e->mode;
    n->atim = n->mtim = n->ctim = (uint64_t)(e->mtime > 0 ? e->mtime : 0) * 1000000000ull;
    n->readonly = readonly;
    return 0;
}

/* Path order with '/' before every other byte: a directory's members come right after it, and
 * each directory's names arrive sorted, so every insertion appends (mounting a million members
 * in reverse order would otherwise move the directory's entries a million times). */
static int tree_order(const void *a, const void *b)
{
    const zvm_image_entry *x = *(const zvm_image_entry *const *)a, *y = *(const zvm_image_entry *const *)b;
    const unsigned char *p = (const unsigned char *)x->path, *q = (const unsigned char *)y->path;
    while (*p && *p == *q)
        p++, q++;
    if (*p != *q) {
        int cp = *p == '/' ? 1 : *p ? *p + 1 : 0, cq = *q == '/' ? 1 : *q ? *q + 1 : 0;
        return cp - cq;
    }
    return x < y ? -1 : x > y;   /* the same path: in the image's order, so the later member wins */
}

int vfs_mount_image(vfs *fs, const char *mountpoint, const zvm_image *img, bool readonly, const char *name,
                    zvm_error *err)
{
    vfs_node *top;
    if (vfs_mkdirs(fs, mountpoint, &top))
        return mount_error(err, name, mountpoint, "the mount point is not a directory");
    size_t count = zvm_image_count(img), nlinks = 0;
    const zvm_image_entry **order = malloc((count ? count : 1) * sizeof *order);
    if (!order)
        return mount_error(err, name, mountpoint, "out of memory");
    /* hard links last, in the image's order: their targets are earlier members, wherever they sort */
    for (size_t i = 0; i < count; i++)
        if (zvm_image_entry_at(img, i)->type != ZVM_IMAGE_HARDLINK)
            order[i - nlinks] = zvm_image_entry_at(img, i);
        else
            nlinks++;
    qsort(order, count - nlinks, sizeof *order, tree_order);
    for (size_t i = 0, j = count - nlinks; i < count; i++)
        if (zvm_image_entry_at(img, i)->type == ZVM_IMAGE_HARDLINK)
            order[j++] = zvm_image_entry_at(img, i);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = mount_member(fs, mountpoint, top, img, order[i], readonly, name, err);
    free(order);
    if (rc == 0 && readonly)
        top->readonly = true;
    return rc;
}

int vfs_add_device(vfs *fs, const char *abs_path, void *device, vfs_node **out)
{
    const char *slash = strrchr(abs_path, '/');
    if (!slash || !slash[1])
        return WASI_EINVAL;
    char dirpath[VFS_PATH_MAX + 1];
    size_t dn = (size_t)(slash - abs_path);
    if (dn > VFS_PATH_MAX || strlen(slash + 1) > VFS_NAME_MAX)
        return WASI_ENAMETOOLONG;
    memcpy(dirpath, abs_path, dn);
    dirpath[dn] = 0;
    vfs_node *dir, *n;
    int e = vfs_mkdirs(fs, dirpath, &dir);
    if (e)
        return e;
    if (vfs_lookup(dir, slash + 1))
        return WASI_EEXIST;
    bool ro = dir->readonly;
    dir->readonly = false;
    e = vfs_create_file(fs, dir, slash + 1, 0666, &n);
    dir->readonly = ro;
    if (e)
        return e;
    n->kind = VFS_DEVICE;
    n->device = device;
    if (out)
        *out = n;
    return 0;
}

static int walk(vfs_node *dir, char *path, size_t len, vfs_walk_fn fn, void *user)
{
    for (size_t i = 0; i < dir->nentries; i++) {
        const char *name = dir->entries[i].name;
        size_t n = strlen(name);
        if (len + 1 + n > VFS_PATH_MAX)
            return WASI_ENAMETOOLONG;
        size_t at = len;
        if (len)
            path[at++] = '/';
        memcpy(path + at, name, n + 1);
        vfs_node *child = dir->entries[i].node;
        int r = fn(user, path, child);
        if (!r && child->kind == VFS_DIR)
            r = walk(child, path, at + n, fn, user);
        path[len] = 0;
        if (r)
            return r;
    }
    return 0;
}

int vfs_walk(vfs_node *dir, vfs_walk_fn fn, void *user)
{
    char path[VFS_PATH_MAX + 1] = "";
    return walk(dir, path, 0, fn, user);
}
