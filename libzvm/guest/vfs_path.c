/*
 * vfs_path.c — turning a guest path into a node.
 *
 * The whole tree is the sandbox, so there is nothing to escape to: ".." of the root is the
 * root (as in a chroot), and absolute paths and absolute symlink targets start at our "/".
 * Symlinks are followed iteratively, at most VFS_MAX_SYMLINKS per lookup (then ELOOP).
 */
#include "guest/vfs.h"

#include <stdlib.h>
#include <string.h>

#include "guest/wasi_abi.h"

/* The next part of a path at *p: returns its length (0 at the end) and moves *p past it. */
static size_t next_part(const char **p, const char *end, const char **part)
{
    while (*p < end && **p == '/')
        (*p)++;
    *part = *p;
    while (*p < end && **p != '/')
        (*p)++;
    return (size_t)(*p - *part);
}

static bool only_slashes(const char *p, const char *end)
{
    while (p < end && *p == '/')
        p++;
    return p == end;
}

/* Why a guest's path cannot be looked up at all (empty, too long, a NUL in it), or 0. */
static int path_problem(const char *path, size_t len)
{
    if (len == 0)
        return WASI_ENOENT;
    if (len > VFS_PATH_MAX)
        return WASI_ENAMETOOLONG;
    return memchr(path, 0, len) ? WASI_EINVAL : 0;
}

/*
 * The walk keeps the path still to resolve in a buffer; a symlink's target is spliced in
 * front of what remains, so "a/link/b" with link -> "x/y" continues as "x/y/b".
 */
int vfs_resolve(vfs *fs, vfs_node *dir, const char *path, size_t len, bool follow, vfs_node **out)
{
    int e = path_problem(path, len);
    if (e)
        return e;
    char *buf = malloc(len + 1);
    if (!buf)
        return WASI_ENOMEM;
    memcpy(buf, path, len);
    buf[len] = 0;
    bool want_dir = path[len - 1] == '/';      /* "name/" must be a directory (and is followed) */
    const char *p = buf, *end = buf + len;
    vfs_node *cur = buf[0] == '/' ? fs->root : dir;
    int links = 0;
    for (;;) {
        const char *part;
        size_t n = next_part(&p, end, &part);
        if (n == 0)
            break;
        if (n > VFS_NAME_MAX) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        if (cur->kind != VFS_DIR) {
            e = WASI_ENOTDIR;
            break;
        }
        char name[VFS_NAME_MAX + 1];
        memcpy(name, part, n);
        name[n] = 0;
        vfs_node *next = vfs_lookup(cur, name);
        if (!next) {
            e = WASI_ENOENT;
            break;
        }
        bool last = only_slashes(p, end);
        if (next->kind == VFS_SYMLINK && (!last || follow || want_dir)) {
            if (++links > VFS_MAX_SYMLINKS) {
                e = WASI_ELOOP;
                break;
            }
            size_t tlen = strlen(next->target), rest = (size_t)(end - p);
            if (tlen + 1 + rest > VFS_PATH_MAX) {
                e = WASI_ENAMETOOLONG;
                break;
            }
            char *spliced = malloc(tlen + 1 + rest + 1);
            if (!spliced) {
                e = WASI_ENOMEM;
                break;
            }
            memcpy(spliced, next->target, tlen);
            spliced[tlen] = '/';
            memcpy(spliced + tlen + 1, p, rest);
            spliced[tlen + 1 + rest] = 0;
            if (next->target[0] == '/')
                cur = fs->root;
            free(buf);
            buf = spliced;
            p = buf;
            end = buf + tlen + 1 + rest;
            continue;
        }
        cur = next;
    }
    free(buf);
    if (!e && want_dir && cur->kind != VFS_DIR)
        e = WASI_ENOTDIR;
    if (!e)
        *out = cur;
    return e;
}

int vfs_resolve_parent(vfs *fs, vfs_node *dir, const char *path, size_t len, vfs_node **parent,
                       char name[VFS_NAME_MAX + 1])
{
    int e = path_problem(path, len);
    if (e)
        return e;
    size_t stop = len;
    while (stop > 0 && path[stop - 1] == '/')
        stop--;
    if (stop == 0) {                         /* "/" itself: its "." */
        *parent = fs->root;
        strcpy(name, ".");
        return 0;
    }
    size_t start = stop;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (stop - start > VFS_NAME_MAX)
        return WASI_ENAMETOOLONG;
    memcpy(name, path + start, stop - start);
    name[stop - start] = 0;
    if (start == 0) {
        *parent = dir;
    } else {
        int e = vfs_resolve(fs, dir, path, start, true, parent);
        if (e)
            return e;
    }
    return (*parent)->kind == VFS_DIR ? 0 : WASI_ENOTDIR;
}
