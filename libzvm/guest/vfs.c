/*
 * vfs.c — the tree: nodes, directory entries, file contents and their memory budget.
 *
 * A node lives while a directory names it (nlink) or a descriptor holds it (opens); the
 * last of the two to go frees it and gives its bytes back to the budget.
 */
#include "guest/vfs.h"

#include <stdlib.h>
#include <string.h>

#include "guest/wasi_abi.h"

uint64_t vfs_now(const vfs *fs)
{
    return fs->clock ? *fs->clock : 0;
}

/* Takes n bytes of the budget for metadata; 0 when metadata is not counted (set-up). */
static int charge_for(vfs *fs, uint64_t n, uint32_t *charged)
{
    *charged = 0;
    if (!fs->count_metadata)
        return 0;
    if (fs->bytes + n > fs->capacity || fs->bytes + n < fs->bytes)
        return WASI_ENOSPC;
    fs->bytes += n;
    *charged = (uint32_t)n;
    return 0;
}

static vfs_node *new_node(vfs *fs, enum vfs_kind kind, uint32_t mode, int *e)
{
    uint32_t charged;
    if ((*e = charge_for(fs, VFS_NODE_COST, &charged)))
        return NULL;
    vfs_node *n = calloc(1, sizeof *n);
    if (!n) {
        fs->bytes -= charged;
        *e = WASI_ENOMEM;
        return NULL;
    }
    n->kind = kind;
    n->ino = fs->next_ino++;
    n->mode = mode;
    n->charge = charged;
    n->atim = n->mtim = n->ctim = vfs_now(fs);
    return n;
}

/* Frees a node nothing names or holds, and every such node below it.  Iterative: a guest can
 * nest directories deeper than the host stack would allow recursion. */
static void free_node(vfs *fs, vfs_node *n)
{
    vfs_node **todo = NULL;
    size_t count = 0, cap = 0;
    for (;;) {
        if (n->kind == VFS_DIR) {
            for (size_t i = 0; i < n->nentries; i++) {
                vfs_node *child = n->entries[i].node;
                fs->bytes -= n->entries[i].charge;
                free(n->entries[i].name);
                child->nlink--;
                if (child->kind == VFS_DIR)
                    child->parent = child;   /* orphaned; maybe kept by a descriptor */
                if (child->nlink || child->opens)
                    continue;
                if (count == cap) {
                    size_t more = cap ? cap * 2 : 16;
                    vfs_node **bigger = realloc(todo, more * sizeof *bigger);
                    if (!bigger)
                        continue;          /* out of memory: leak the subtree, never crash */
                    todo = bigger;
                    cap = more;
                }
                todo[count++] = child;
            }
            free(n->entries);
        }
        if (n->data)
            fs->bytes -= n->size;
        fs->bytes -= n->charge;
        free(n->data);
        free(n->target);
        free(n);
        if (count == 0)
            break;
        n = todo[--count];
    }
    free(todo);
}

/* Frees n if nothing names or holds it any more. */
static void maybe_free(vfs *fs, vfs_node *n)
{
    if (n->nlink == 0 && n->opens == 0)
        free_node(fs, n);
}

void vfs_open_node(vfs_node *n)
{
    n->opens++;
}

void vfs_close_node(vfs *fs, vfs_node *n)
{
    if (n->opens)
        n->opens--;
    maybe_free(fs, n);
}

void vfs_touch(vfs *fs, vfs_node *n)
{
    fs->changes++;                       /* every change to a file or directory comes through here */
    n->mtim = n->ctim = vfs_now(fs);
}

int vfs_init(vfs *fs, const uint64_t *clock)
{
    memset(fs, 0, sizeof *fs);
    fs->clock = clock;
    fs->next_ino = 1;
    fs->capacity = UINT64_MAX;
    int e;
    fs->root = new_node(fs, VFS_DIR, 0755, &e);
    if (!fs->root)
        return e;
    fs->root->parent = fs->root;
    fs->root->nlink = 1;
    return 0;
}

void vfs_destroy(vfs *fs)
{
    if (!fs->root)
        return;
    fs->root->nlink = 0;
    fs->root->opens = 0;
    free_node(fs, fs->root);
    fs->root = NULL;
}

/* ---- directory entries ------------------------------------------------- */

/* Index of name in dir, or where it would go (*found says which). */
static size_t find_slot(const vfs_node *dir, const char *name, bool *found)
{
    size_t lo = 0, hi = dir->nentries;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(dir->entries[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

vfs_node *vfs_lookup(vfs_node *dir, const char *name)
{
    if (dir->kind != VFS_DIR)
        return NULL;
    if (strcmp(name, ".") == 0)
        return dir;
    if (strcmp(name, "..") == 0)
        return dir->parent;
    bool found;
    size_t i = find_slot(dir, name, &found);
    return found ? dir->entries[i].node : NULL;
}

static bool is_dot(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* Adds name -> node to dir (the name must be free).  force: no budget check (undoing a rename). */
static int add_entry(vfs *fs, vfs_node *dir, const char *name, vfs_node *node, bool force)
{
    bool found;
    size_t i = find_slot(dir, name, &found);
    if (found)
        return WASI_EEXIST;
    uint32_t charged = 0;
    if (!force) {
        int e = charge_for(fs, VFS_ENTRY_COST + strlen(name), &charged);
        if (e)
            return e;
    }
    if (dir->nentries == dir->cap) {
        size_t cap = dir->cap ? dir->cap * 2 : 8;
        vfs_dirent *bigger = realloc(dir->entries, cap * sizeof *bigger);
        if (!bigger) {
            fs->bytes -= charged;
            return WASI_ENOMEM;
        }
        dir->entries = bigger;
        dir->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) {
        fs->bytes -= charged;
        return WASI_ENOMEM;
    }
    memmove(&dir->entries[i + 1], &dir->entries[i], (dir->nentries - i) * sizeof *dir->entries);
    dir->entries[i] = (vfs_dirent){ copy, node, charged };
    dir->nentries++;
    node->nlink++;
    if (node->kind == VFS_DIR)
        node->parent = dir;
    vfs_touch(fs, dir);
    return 0;
}

/* Removes the entry at i of dir without freeing its node. */
static vfs_node *take_entry(vfs *fs, vfs_node *dir, size_t i)
{
    vfs_node *node = dir->entries[i].node;
    fs->bytes -= dir->entries[i].charge;
    free(dir->entries[i].name);
    memmove(&dir->entries[i], &dir->entries[i + 1], (dir->nentries - i - 1) * sizeof *dir->entries);
    dir->nentries--;
    node->nlink--;
    vfs_touch(fs, dir);
    return node;
}

static int check_new_name(vfs_node *dir, const char *name)
{
    if (dir->kind != VFS_DIR)
        return WASI_ENOTDIR;
    if (!name[0])
        return WASI_ENOENT;
    if (is_dot(name) || vfs_lookup(dir, name))
        return WASI_EEXIST;
    if (dir->readonly)
        return WASI_EROFS;
    if (dir->nlink == 0)
        return WASI_ENOENT;   /* a removed directory takes no new names */
    return 0;
}

static int create(vfs *fs, vfs_node *dir, const char *name, enum vfs_kind kind, uint32_t mode, vfs_node **out)
{
    int e = check_new_name(dir, name);
    if (e)
        return e;
    vfs_node *n = new_node(fs, kind, mode, &e);
    if (!n)
        return e;
    if ((e = add_entry(fs, dir, name, n, false))) {
        free_node(fs, n);
        return e;
    }
    if (out)
        *out = n;
    return 0;
}

int vfs_mkdir(vfs *fs, vfs_node *dir, const char *name, uint32_t mode, vfs_node **out)
{
    return create(fs, dir, name, VFS_DIR, mode, out);
}

int vfs_create_file(vfs *fs, vfs_node *dir, const char *name, uint32_t mode, vfs_node **out)
{
    return create(fs, dir, name, VFS_FILE, mode, out);
}

int vfs_symlink(vfs *fs, vfs_node *dir, const char *name, const char *target, vfs_node **out)
{
    if (!target[0])
        return WASI_ENOENT;
    int e = check_new_name(dir, name);
    if (e)
        return e;
    vfs_node *n = new_node(fs, VFS_SYMLINK, 0777, &e);
    if (!n)
        return e;
    if (!(n->target = strdup(target))) {
        free_node(fs, n);
        return WASI_ENOMEM;
    }
    n->size = strlen(target);
    if ((e = add_entry(fs, dir, name, n, false))) {
        free_node(fs, n);
        return e;
    }
    if (out)
        *out = n;
    return 0;
}

int vfs_link(vfs *fs, vfs_node *dir, const char *name, vfs_node *node)
{
    if (node->kind == VFS_DIR)
        return WASI_EPERM;
    if (node->kind == VFS_DEVICE)
        return WASI_EPERM;
    if (node->nlink == 0)
        return WASI_ENOENT;
    int e = check_new_name(dir, name);
    if (e)
        return e;
    if ((e = add_entry(fs, dir, name, node, false)))
        return e;
    node->ctim = vfs_now(fs);
    return 0;
}

int vfs_unlink(vfs *fs, vfs_node *dir, const char *name)
{
    if (dir->kind != VFS_DIR)
        return WASI_ENOTDIR;
    if (is_dot(name))
        return WASI_EISDIR;
    bool found;
    size_t i = find_slot(dir, name, &found);
    if (!found)
        return WASI_ENOENT;
    vfs_node *n = dir->entries[i].node;
    if (n->kind == VFS_DIR)
        return WASI_EISDIR;
    if (dir->readonly || n->readonly)
        return WASI_EROFS;
    if (n->kind == VFS_DEVICE)
        return WASI_EPERM;
    take_entry(fs, dir, i);
    n->ctim = vfs_now(fs);
    maybe_free(fs, n);
    return 0;
}

int vfs_rmdir(vfs *fs, vfs_node *dir, const char *name)
{
    if (dir->kind != VFS_DIR)
        return WASI_ENOTDIR;
    if (strcmp(name, ".") == 0)
        return WASI_EINVAL;
    if (strcmp(name, "..") == 0)
        return WASI_ENOTEMPTY;
    bool found;
    size_t i = find_slot(dir, name, &found);
    if (!found)
        return WASI_ENOENT;
    vfs_node *n = dir->entries[i].node;
    if (n->kind != VFS_DIR)
        return WASI_ENOTDIR;
    if (n->nentries)
        return WASI_ENOTEMPTY;
    if (dir->readonly || n->readonly)
        return WASI_EROFS;
    take_entry(fs, dir, i);
    n->parent = n;          /* ".." of a removed directory leads nowhere else */
    maybe_free(fs, n);
    return 0;
}

/* Is a inside (or equal to) directory d? */
static bool within(vfs_node *a, vfs_node *d)
{
    for (;;) {
        if (a == d)
            return true;
        if (a->parent == a)
            return false;
        a = a->parent;
    }
}

int vfs_rename(vfs *fs, vfs_node *from, const char *old_name, vfs_node *to, const char *new_name)
{
    if (from->kind != VFS_DIR || to->kind != VFS_DIR)
        return WASI_ENOTDIR;
    if (is_dot(old_name) || is_dot(new_name))
        return WASI_EBUSY;
    if (!new_name[0])
        return WASI_ENOENT;
    bool found;
    size_t i = find_slot(from, old_name, &found);
    if (!found)
        return WASI_ENOENT;
    vfs_node *n = from->entries[i].node;
    vfs_node *victim = vfs_lookup(to, new_name);
    if (victim == n)
        return 0;
    if (from->readonly || to->readonly || n->readonly)
        return WASI_EROFS;
    if (n->kind == VFS_DEVICE)
        return WASI_EPERM;
    if (n->kind == VFS_DIR && within(to, n))
        return WASI_EINVAL;
    if (to->nlink == 0)
        return WASI_ENOENT;
    if (victim) {
        if (victim->readonly)
            return WASI_EROFS;
        if (victim->kind == VFS_DEVICE)
            return WASI_EPERM;
        if (n->kind == VFS_DIR && victim->kind != VFS_DIR)
            return WASI_ENOTDIR;
        if (n->kind != VFS_DIR && victim->kind == VFS_DIR)
            return WASI_EISDIR;
        if (victim->kind == VFS_DIR && victim->nentries)
            return WASI_ENOTEMPTY;
    }
    /* Take the source out first; its slot moves if we insert into the same directory. */
    n->nlink++;                       /* hold it while it has no name */
    take_entry(fs, from, i);
    if (victim) {
        int e = victim->kind == VFS_DIR ? vfs_rmdir(fs, to, new_name) : vfs_unlink(fs, to, new_name);
        if (e) {
            add_entry(fs, from, old_name, n, true);
            n->nlink--;
            return e;
        }
    }
    int e = add_entry(fs, to, new_name, n, false);
    n->nlink--;
    if (e) {
        add_entry(fs, from, old_name, n, true);
        n->nlink--;
        return e;
    }
    n->ctim = vfs_now(fs);
    return 0;
}

/* ---- file contents ----------------------------------------------------- */

/* Makes room for size bytes in an in-memory file, within the budget. */
static int reserve(vfs *fs, vfs_node *f, uint64_t size)
{
    if (size > f->size) {
        uint64_t more = size - f->size;
        if (fs->bytes + more > fs->capacity || fs->bytes + more < fs->bytes)
            return WASI_ENOSPC;
    }
    if (size > f->data_cap) {
        uint64_t cap = f->data_cap ? f->data_cap : 256;
        while (cap < size)
            cap = cap * 2 > cap ? cap * 2 : size;
        if (cap > fs->capacity && size <= fs->capacity)
            cap = size;   /* never hold much more than allowed */
        uint8_t *bigger = realloc(f->data, cap);
        if (!bigger)
            return WASI_ENOSPC;
        f->data = bigger;
        f->data_cap = cap;
    }
    return 0;
}

/* Sets the length of an in-memory file, zero-filling growth. */
static int set_size(vfs *fs, vfs_node *f, uint64_t size)
{
    int e = reserve(fs, f, size);
    if (e)
        return e;
    if (size > f->size)
        memset(f->data + f->size, 0, size - f->size);
    fs->bytes = fs->bytes - f->size + size;
    f->size = size;
    return 0;
}

int vfs_read(vfs *fs, vfs_node *f, void *buf, uint64_t size, uint64_t offset, uint64_t *done)
{
    *done = 0;
    if (f->kind == VFS_DIR)
        return WASI_EISDIR;
    if (f->kind != VFS_FILE)
        return WASI_EINVAL;
    if (f->image_entry) {
        int64_t r = zvm_image_read(f->image, f->image_entry, buf, size, offset);
        if (r < 0)
            return WASI_EIO;
        *done = (uint64_t)r;
        return 0;
    }
    if (offset >= f->size)
        return 0;
    uint64_t n = f->size - offset < size ? f->size - offset : size;
    memcpy(buf, f->data + offset, n);
    *done = n;
    return 0;
}

/* 0 when f is a file whose bytes may change, else why not. */
static int writable_file(const vfs_node *f)
{
    if (f->kind == VFS_DIR)
        return WASI_EISDIR;
    if (f->kind != VFS_FILE)
        return WASI_EINVAL;
    return f->readonly || f->image_entry ? WASI_EROFS : 0;
}

int vfs_write(vfs *fs, vfs_node *f, const void *buf, uint64_t size, uint64_t offset, uint64_t *done)
{
    *done = 0;
    int e = writable_file(f);
    if (e)
        return e;
    if (size == 0)
        return 0;
    if (offset + size < offset)
        return WASI_EFBIG;
    if (offset + size > f->size && (e = set_size(fs, f, offset + size)))
        return e;
    memcpy(f->data + offset, buf, size);
    *done = size;
    vfs_touch(fs, f);
    return 0;
}

int vfs_truncate(vfs *fs, vfs_node *f, uint64_t size)
{
    int e = writable_file(f);
    if (e || (e = set_size(fs, f, size)))
        return e;
    vfs_touch(fs, f);
    return 0;
}
