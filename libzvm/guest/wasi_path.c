/*
 * wasi_path.c — the path_* calls: every path is resolved in the guest's own tree, relative
 * to a directory descriptor (wasi-libc passes the preopened "/" as fd 3).
 */
#include <string.h>

#include "guest/guest_impl.h"
#include "guest/wasi_abi.h"

#define U32(i) ((uint32_t)a[i])
#define U64(i) ((uint64_t)a[i])

int32_t guest_set_times(zvm_guest *g, vfs_node *n, uint64_t atim, uint64_t mtim, uint32_t flags);

/* The directory of a descriptor and the guest's path string. */
static int32_t dir_and_path(zvm_guest *g, uint32_t fd, uint32_t ptr, uint32_t len, vfs_node **dir, const char **path)
{
    guest_fd *f = guest_fd_get(g, fd);
    if (!f)
        return WASI_EBADF;
    if (f->node->kind != VFS_DIR)
        return WASI_ENOTDIR;
    const uint8_t *p = guest_ptr(g, ptr, len);
    if (!p)
        return WASI_EFAULT;
    *dir = f->node;
    *path = (const char *)p;
    return 0;
}

static int32_t resolve(zvm_guest *g, uint32_t fd, uint32_t ptr, uint32_t len, bool follow, vfs_node **out)
{
    vfs_node *dir;
    const char *path;
    int32_t e = dir_and_path(g, fd, ptr, len, &dir, &path);
    return e ? e : vfs_resolve(&g->fs, dir, path, len, follow, out);
}

static int32_t resolve_parent(zvm_guest *g, uint32_t fd, uint32_t ptr, uint32_t len, vfs_node **parent,
                              char name[VFS_NAME_MAX + 1])
{
    vfs_node *dir;
    const char *path;
    int32_t e = dir_and_path(g, fd, ptr, len, &dir, &path);
    return e ? e : vfs_resolve_parent(&g->fs, dir, path, len, parent, name);
}

int32_t wasi_path_open(zvm_guest *g, const zvm_val *a)
{
    uint32_t fd = U32(0), dirflags = U32(1), path = U32(2), len = U32(3), oflags = U32(4), fdflags = U32(7);
    uint64_t base = U64(5), inheriting = U64(6);
    uint32_t result = U32(8);
    if (!guest_ptr(g, result, 4))
        return WASI_EFAULT;
    if (oflags & ~0xfu || fdflags & ~0x1fu)
        return WASI_EINVAL;
    bool follow = dirflags & WASI_LOOKUP_SYMLINK_FOLLOW;
    bool want_write = base & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE) ||
                      oflags & WASI_O_TRUNC;
    vfs_node *node = NULL;
    int32_t e;
    if (oflags & WASI_O_CREAT) {
        vfs_node *parent;
        char name[VFS_NAME_MAX + 1];
        if ((e = resolve_parent(g, fd, path, len, &parent, name)))
            return e;
        vfs_node *existing = vfs_lookup(parent, name);
        if (existing && oflags & WASI_O_EXCL)
            return WASI_EEXIST;
        if (existing && existing->kind == VFS_SYMLINK && follow) {
            if ((e = resolve(g, fd, path, len, true, &existing)))
                return e;   /* a dangling link: ENOENT */
        }
        if (existing) {
            node = existing;
        } else {
            if (oflags & WASI_O_DIRECTORY)
                return WASI_EINVAL;
            if ((e = vfs_create_file(&g->fs, parent, name, 0644, &node)))
                return e;
        }
    } else if ((e = resolve(g, fd, path, len, follow, &node))) {
        return e;
    }
    if (node->kind == VFS_SYMLINK)
        return WASI_ELOOP;            /* O_NOFOLLOW on a link */
    if (oflags & WASI_O_DIRECTORY && node->kind != VFS_DIR)
        return WASI_ENOTDIR;
    if (node->kind == VFS_DIR && want_write)
        return WASI_EISDIR;
    guest_channel *gc = guest_node_channel(node);
    if (gc) {
        if ((base & WASI_RIGHT_FD_READ && !zvm_channel_readable(gc->ch)) ||
            (base & WASI_RIGHT_FD_WRITE && !zvm_channel_writable(gc->ch)))
            return WASI_EACCES;                                  /* the manifest did not allow it */
    } else if (want_write && node->readonly) {
        return WASI_EROFS;
    }
    if (oflags & WASI_O_TRUNC && node->kind == VFS_FILE && (e = vfs_truncate(&g->fs, node, 0)))
        return e;
    uint32_t newfd;
    if ((e = guest_fd_alloc(g, node, base & guest_node_rights(node), inheriting, (uint16_t)fdflags, &newfd)))
        return e;
    put_u32(g->mem + result, newfd);
    return 0;
}

int32_t wasi_path_create_directory(zvm_guest *g, const zvm_val *a)
{
    vfs_node *parent;
    char name[VFS_NAME_MAX + 1];
    int32_t e = resolve_parent(g, U32(0), U32(1), U32(2), &parent, name);
    return e ? e : vfs_mkdir(&g->fs, parent, name, 0755, NULL);
}

int32_t wasi_path_remove_directory(zvm_guest *g, const zvm_val *a)
{
    vfs_node *parent;
    char name[VFS_NAME_MAX + 1];
    int32_t e = resolve_parent(g, U32(0), U32(1), U32(2), &parent, name);
    return e ? e : vfs_rmdir(&g->fs, parent, name);
}

int32_t wasi_path_unlink_file(zvm_guest *g, const zvm_val *a)
{
    vfs_node *parent;
    char name[VFS_NAME_MAX + 1];
    int32_t e = resolve_parent(g, U32(0), U32(1), U32(2), &parent, name);
    if (e)
        return e;
    const uint8_t *p = g->mem + U32(1);
    vfs_node *n = vfs_lookup(parent, name);
    if (n && n->kind != VFS_DIR && U32(2) && p[U32(2) - 1] == '/')
        return WASI_ENOTDIR;   /* "file/" */
    return vfs_unlink(&g->fs, parent, name);
}

int32_t wasi_path_filestat_get(zvm_guest *g, const zvm_val *a)
{
    uint8_t *out = guest_ptr(g, U32(4), WASI_FILESTAT_SIZE);
    if (!out)
        return WASI_EFAULT;
    vfs_node *n;
    int32_t e = resolve(g, U32(0), U32(2), U32(3), U32(1) & WASI_LOOKUP_SYMLINK_FOLLOW, &n);
    if (e)
        return e;
    guest_fill_filestat(g, n, out);
    return 0;
}

int32_t wasi_path_filestat_set_times(zvm_guest *g, const zvm_val *a)
{
    vfs_node *n;
    int32_t e = resolve(g, U32(0), U32(2), U32(3), U32(1) & WASI_LOOKUP_SYMLINK_FOLLOW, &n);
    return e ? e : guest_set_times(g, n, U64(4), U64(5), U32(6));
}

int32_t wasi_path_link(zvm_guest *g, const zvm_val *a)
{
    vfs_node *target, *parent;
    char name[VFS_NAME_MAX + 1];
    int32_t e = resolve(g, U32(0), U32(2), U32(3), U32(1) & WASI_LOOKUP_SYMLINK_FOLLOW, &target);
    if (e)
        return e;
    if ((e = resolve_parent(g, U32(4), U32(5), U32(6), &parent, name)))
        return e;
    return vfs_link(&g->fs, parent, name, target);
}

int32_t wasi_path_readlink(zvm_guest *g, const zvm_val *a)
{
    uint8_t *buf = guest_ptr(g, U32(3), U32(4));
    if (!buf || !guest_ptr(g, U32(5), 4))
        return WASI_EFAULT;
    vfs_node *n;
    int32_t e = resolve(g, U32(0), U32(1), U32(2), false, &n);
    if (e)
        return e;
    if (n->kind != VFS_SYMLINK)
        return WASI_EINVAL;
    size_t len = strlen(n->target);
    uint32_t copy = len < U32(4) ? (uint32_t)len : U32(4);    /* truncated like readlink(2) */
    memcpy(buf, n->target, copy);
    put_u32(g->mem + U32(5), copy);
    return 0;
}

int32_t wasi_path_rename(zvm_guest *g, const zvm_val *a)
{
    vfs_node *from, *to;
    char old_name[VFS_NAME_MAX + 1], new_name[VFS_NAME_MAX + 1];
    int32_t e = resolve_parent(g, U32(0), U32(1), U32(2), &from, old_name);
    if (e)
        return e;
    if ((e = resolve_parent(g, U32(3), U32(4), U32(5), &to, new_name)))
        return e;
    return vfs_rename(&g->fs, from, old_name, to, new_name);
}

int32_t wasi_path_symlink(zvm_guest *g, const zvm_val *a)
{
    const uint8_t *target = guest_ptr(g, U32(0), U32(1));
    if (!target)
        return WASI_EFAULT;
    if (U32(1) > VFS_PATH_MAX)
        return WASI_ENAMETOOLONG;
    if (memchr(target, 0, U32(1)))
        return WASI_EINVAL;
    char copy[VFS_PATH_MAX + 1];
    memcpy(copy, target, U32(1));
    copy[U32(1)] = 0;
    vfs_node *parent;
    char name[VFS_NAME_MAX + 1];
    int32_t e = resolve_parent(g, U32(2), U32(3), U32(4), &parent, name);
    return e ? e : vfs_symlink(&g->fs, parent, name, copy, NULL);
}
