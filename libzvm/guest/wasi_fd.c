/*
 * wasi_fd.c — the fd_* calls of wasi_snapshot_preview1.
 *
 * A descriptor names a vfs node.  Files and directories are served from memory (or a
 * read-only image); a device is a channel, and its I/O goes through zvm_channel_read and
 * zvm_channel_write, which apply the quotas.  One fd_read or fd_write is one channel
 * operation (one get or put) however many iovecs it carries, so quotas count calls as
 * the guest made them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest_impl.h"
#include "guest/wasi_abi.h"

#define U32(i) ((uint32_t)a[i])
#define U64(i) ((uint64_t)a[i])

/* Scatter/gather: at most this much goes through a host bounce buffer per call. */
#define BOUNCE_MAX (16u << 20)

/* The iovec array: checks it and every buffer it points to. */
static int32_t iovecs(zvm_guest *g, uint32_t ptr, uint32_t count, uint64_t *total)
{
    uint8_t *v = guest_ptr(g, ptr, (uint64_t)count * WASI_IOVEC_SIZE);
    if (!v)
        return WASI_EFAULT;
    *total = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t buf = get_u32(v + 8 * i), len = get_u32(v + 8 * i + 4);
        if (!guest_ptr(g, buf, len))
            return WASI_EFAULT;
        *total += len;
    }
    return 0;
}

/* How many iovecs have a non-zero length, and the index of the last such. */
static uint32_t nonempty(zvm_guest *g, uint32_t ptr, uint32_t count, uint32_t *which)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++)
        if (get_u32(g->mem + ptr + 8 * i + 4)) {
            n++;
            *which = i;
        }
    return n;
}

/* Copies between a host buffer and the iovecs (in: host -> guest). */
static void scatter(zvm_guest *g, uint32_t ptr, uint32_t count, uint8_t *host, uint64_t size, bool in)
{
    uint64_t done = 0;
    for (uint32_t i = 0; i < count && done < size; i++) {
        uint32_t buf = get_u32(g->mem + ptr + 8 * i), len = get_u32(g->mem + ptr + 8 * i + 4);
        uint64_t n = size - done < len ? size - done : len;
        if (in)
            memcpy(g->mem + buf, host + done, n);
        else
            memcpy(host + done, g->mem + buf, n);
        done += n;
    }
}

/* One transfer between a node and the iovecs.  offset < 0: a channel's own position. */
static int32_t transfer(zvm_guest *g, vfs_node *node, uint32_t iov, uint32_t count, int64_t offset, bool writing,
                        uint64_t *done)
{
    uint64_t total;
    int32_t e = iovecs(g, iov, count, &total);
    if (e)
        return e;
    *done = 0;
    uint32_t one = 0;
    uint32_t parts = nonempty(g, iov, count, &one);
    if (parts == 0 && !guest_node_channel(node))
        return 0;   /* a channel still says EDQUOT when spent */
    /* a single buffer goes straight to guest memory; several share a bounce buffer */
    uint8_t *bounce = NULL, *buf;
    uint64_t size;
    if (parts <= 1) {
        buf = parts ? g->mem + get_u32(g->mem + iov + 8 * one) : g->mem;
        size = parts ? get_u32(g->mem + iov + 8 * one + 4) : 0;
    } else {
        size = total < BOUNCE_MAX ? total : BOUNCE_MAX;
        buf = bounce = malloc(size);
        if (!bounce)
            return WASI_ENOMEM;
        if (writing)
            scatter(g, iov, count, bounce, size, false);
    }
    guest_channel *gc = guest_node_channel(node);
    if (gc) {
        int64_t r = guest_channel_io(g, gc, buf, size, offset, writing);
        if (r < 0)
            e = guest_wasi_errno(r);
        else
            *done = (uint64_t)r;
    } else if (writing) {
        e = vfs_write(&g->fs, node, buf, size, (uint64_t)offset, done);
    } else {
        e = vfs_read(&g->fs, node, buf, size, (uint64_t)offset, done);
    }
    if (!e && bounce && !writing)
        scatter(g, iov, count, bounce, *done, true);
    free(bounce);
    return e;
}

/* The offset a read (or write) on f uses: -1 for a channel's own sequential position. */
static int64_t channel_offset(guest_fd *f, bool writing)
{
    zvm_channel *ch = guest_node_channel(f->node)->ch;
    enum zvm_channel_type t = zvm_channel_type(ch);
    bool random = writing ? (t == ZVM_CH_SEQ_RND || t == ZVM_CH_RND_RND) : (t == ZVM_CH_RND_SEQ || t == ZVM_CH_RND_RND);
    return random ? (int64_t)f->pos : -1;
}

static int32_t rw(zvm_guest *g, const zvm_val *a, bool writing, bool positioned)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    if (!(f->rights & (writing ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ)))
        return WASI_EBADF;
    uint32_t result_ptr = positioned ? U32(4) : U32(3);
    if (!guest_ptr(g, result_ptr, 4))
        return WASI_EFAULT;
    vfs_node *n = f->node;
    if (n->kind == VFS_DIR)
        return WASI_EISDIR;
    int64_t offset;
    if (n->kind == VFS_DEVICE) {
        offset = channel_offset(f, writing);
        if (positioned) {
            if (offset < 0)
                return WASI_ESPIPE;
            offset = (int64_t)U64(3);
        }
        if (offset < -1)
            return WASI_EINVAL;
    } else if (positioned) {
        offset = (int64_t)U64(3);
        if (offset < 0)
            return WASI_EINVAL;
    } else {
        if (writing && (f->flags & WASI_FDFLAG_APPEND))
            f->pos = n->size;
        offset = (int64_t)f->pos;
    }
    uint64_t done;
    int32_t e = transfer(g, n, U32(1), U32(2), offset, writing, &done);
    if (e)
        return e;
    if (!positioned && (n->kind != VFS_DEVICE || offset >= 0))
        f->pos += done;
    put_u32(g->mem + result_ptr, (uint32_t)done);
    return 0;
}

int32_t wasi_fd_read(zvm_guest *g, const zvm_val *a)
{
    return rw(g, a, false, false);
}
int32_t wasi_fd_write(zvm_guest *g, const zvm_val *a)
{
    return rw(g, a, true, false);
}
int32_t wasi_fd_pread(zvm_guest *g, const zvm_val *a)
{
    return rw(g, a, false, true);
}
int32_t wasi_fd_pwrite(zvm_guest *g, const zvm_val *a)
{
    return rw(g, a, true, true);
}

int32_t wasi_fd_seek(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    if (!guest_ptr(g, U32(3), 8))
        return WASI_EFAULT;
    guest_channel *gc = guest_node_channel(f->node);
    if (gc && !gc->seekable)
        return WASI_ESPIPE;
    int64_t delta = (int64_t)U64(1), base;
    switch (U32(2)) {
    case WASI_WHENCE_SET: base = 0; break;
    case WASI_WHENCE_CUR: base = (int64_t)f->pos; break;
    case WASI_WHENCE_END: base = gc ? zvm_channel_size(gc->ch) : (int64_t)f->node->size; break;
    default: return WASI_EINVAL;
    }
    int64_t pos;
    if (__builtin_add_overflow(base, delta, &pos) || pos < 0)
        return WASI_EINVAL;
    f->pos = (uint64_t)pos;
    return guest_store_u64(g, U32(3), f->pos);
}

int32_t wasi_fd_tell(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    guest_channel *gc = guest_node_channel(f->node);
    if (gc && !gc->seekable)
        return WASI_ESPIPE;
    return guest_store_u64(g, U32(1), f->pos);
}

int32_t wasi_fd_close(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    guest_fd_release(g, f);
    return 0;
}

/* Data is in memory or already handed to the host: there is nothing to flush. */
static int32_t valid_fd(zvm_guest *g, uint32_t fd)
{
    return guest_fd_get(g, fd) ? 0 : WASI_EBADF;
}
int32_t wasi_fd_sync(zvm_guest *g, const zvm_val *a)
{
    return valid_fd(g, U32(0));
}
int32_t wasi_fd_datasync(zvm_guest *g, const zvm_val *a)
{
    return valid_fd(g, U32(0));
}

int32_t wasi_fd_advise(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    if (U32(3) > 5)
        return WASI_EINVAL;          /* normal .. noreuse */
    if (f->node->kind == VFS_DIR)
        return WASI_EISDIR;
    return 0;
}

int32_t wasi_fd_allocate(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    uint64_t end;
    if (__builtin_add_overflow(U64(1), U64(2), &end) || (int64_t)end < 0)
        return WASI_EFBIG;
    if (f->node->kind == VFS_DIR)
        return WASI_EISDIR;
    if (f->node->kind == VFS_DEVICE)
        return guest_node_channel(f->node)->seekable ? WASI_ENOTSUP : WASI_ESPIPE;
    if (!(f->rights & WASI_RIGHT_FD_WRITE))
        return WASI_EBADF;
    if (end <= f->node->size)
        return 0;
    return vfs_truncate(&g->fs, f->node, end);
}

int32_t wasi_fd_fdstat_get(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    uint8_t *p = guest_ptr(g, U32(1), WASI_FDSTAT_SIZE);
    if (!p)
        return WASI_EFAULT;
    memset(p, 0, WASI_FDSTAT_SIZE);
    put_u8(p, guest_node_filetype(f->node));
    put_u16(p + 2, f->flags);
    put_u64(p + 8, f->rights);
    put_u64(p + 16, f->inheriting);
    return 0;
}

int32_t wasi_fd_fdstat_set_flags(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    uint32_t flags = U32(1);
    if (flags & ~0x1fu)
        return WASI_EINVAL;
    f->flags = (uint16_t)flags;
    return 0;
}

int32_t wasi_fd_fdstat_set_rights(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    uint64_t base = U64(1), inheriting = U64(2);
    if ((base & ~f->rights) || (inheriting & ~f->inheriting))
        return WASI_ENOTCAPABLE;   /* rights only shrink */
    f->rights = base;
    f->inheriting = inheriting;
    return 0;
}

int32_t wasi_fd_filestat_get(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    uint8_t *p = guest_ptr(g, U32(1), WASI_FILESTAT_SIZE);
    if (!p)
        return WASI_EFAULT;
    guest_fill_filestat(g, f->node, p);
    return 0;
}

int32_t wasi_fd_filestat_set_size(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    if (f->node->kind == VFS_DIR)
        return WASI_EISDIR;
    if (f->node->kind == VFS_DEVICE)
        return WASI_EINVAL;     /* a channel's size is the host's */
    if (!(f->rights & WASI_RIGHT_FD_WRITE))
        return WASI_EBADF;
    if ((int64_t)U64(1) < 0)
        return WASI_EFBIG;
    return vfs_truncate(&g->fs, f->node, U64(1));
}

/* Shared with path_filestat_set_times. */
int32_t guest_set_times(zvm_guest *g, vfs_node *n, uint64_t atim, uint64_t mtim, uint32_t flags);
int32_t guest_set_times(zvm_guest *g, vfs_node *n, uint64_t atim, uint64_t mtim, uint32_t flags)
{
    if (flags & ~0xfu)
        return WASI_EINVAL;
    if ((flags & WASI_FST_ATIM && flags & WASI_FST_ATIM_NOW) || (flags & WASI_FST_MTIM && flags & WASI_FST_MTIM_NOW))
        return WASI_EINVAL;
    if (n->readonly)
        return WASI_EROFS;
    uint64_t now = vfs_now(&g->fs);
    if (flags & WASI_FST_ATIM)
        n->atim = atim;
    if (flags & WASI_FST_ATIM_NOW)
        n->atim = now;
    if (flags & WASI_FST_MTIM)
        n->mtim = mtim;
    if (flags & WASI_FST_MTIM_NOW)
        n->mtim = now;
    if (flags) {
        n->ctim = now;
        g->fs.changes++;
    }
    return 0;
}

int32_t wasi_fd_filestat_set_times(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    return guest_set_times(g, f->node, U64(1), U64(2), U32(3));
}

int32_t wasi_fd_prestat_get(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f || !f->preopen)
        return WASI_EBADF;
    uint8_t *p = guest_ptr(g, U32(1), WASI_PRESTAT_SIZE);
    if (!p)
        return WASI_EFAULT;
    memset(p, 0, WASI_PRESTAT_SIZE);
    put_u8(p, WASI_PREOPENTYPE_DIR);
    put_u32(p + 4, 1);                 /* strlen("/") */
    return 0;
}

int32_t wasi_fd_prestat_dir_name(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f || !f->preopen)
        return WASI_EBADF;
    if (U32(2) < 1)
        return WASI_ENAMETOOLONG;
    uint8_t *p = guest_ptr(g, U32(1), 1);
    if (!p)
        return WASI_EFAULT;
    p[0] = '/';
    return 0;
}

int32_t wasi_fd_readdir(zvm_guest *g, const zvm_val *a)
{
    guest_fd *f = guest_fd_get(g, U32(0));
    if (!f)
        return WASI_EBADF;
    vfs_node *dir = f->node;
    if (dir->kind != VFS_DIR)
        return WASI_ENOTDIR;
    uint32_t len = U32(2);
    uint8_t *buf = guest_ptr(g, U32(1), len);
    if (!buf || !guest_ptr(g, U32(4), 4))
        return WASI_EFAULT;
    /* cookie 0 is ".", 1 "..", 2 + i the i-th entry in name order */
    uint64_t used = 0;
    for (uint64_t cookie = U64(3); cookie < dir->nentries + 2 && used < len; cookie++) {
        const char *name = cookie == 0 ? "." : cookie == 1 ? ".." : dir->entries[cookie - 2].name;
        const vfs_node *n = cookie == 0 ? dir : cookie == 1 ? dir->parent : dir->entries[cookie - 2].node;
        uint8_t ent[WASI_DIRENT_SIZE] = { 0 };
        size_t namelen = strlen(name);
        put_u64(ent, cookie + 1);
        put_u64(ent + 8, n->ino);
        put_u32(ent + 16, (uint32_t)namelen);
        put_u8(ent + 20, guest_node_filetype(n));
        /* as much as fits: a full buffer tells the guest to call again from d_next */
        uint64_t n1 = len - used < WASI_DIRENT_SIZE ? len - used : WASI_DIRENT_SIZE;
        memcpy(buf + used, ent, n1);
        used += n1;
        uint64_t n2 = len - used < namelen ? len - used : namelen;
        memcpy(buf + used, name, n2);
        used += n2;
    }
    put_u32(g->mem + U32(4), (uint32_t)used);
    return 0;
}

int32_t wasi_fd_renumber(zvm_guest *g, const zvm_val *a)
{
    guest_fd *from = guest_fd_get(g, U32(0)), *to = guest_fd_get(g, U32(1));
    if (!from || !to)
        return WASI_EBADF;
    if (from == to)
        return 0;
    guest_fd moved = *from;
    from->used = false;
    from->node = NULL;
    guest_fd_release(g, to);
    *to = moved;
    return 0;
}
