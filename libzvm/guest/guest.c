/*
 * guest.c — a guest's life: its file system and descriptors are built from the channels
 * and nvram before it runs, and its `wo` mounts are written back as tar when it is done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest_impl.h"
#include "guest/wasi_abi.h"

/* ---- small shared helpers ------------------------------------------------ */

int32_t guest_store_u32(zvm_guest *g, uint64_t ptr, uint32_t v)
{
    uint8_t *p = guest_ptr(g, ptr, 4);
    if (!p)
        return WASI_EFAULT;
    put_u32(p, v);
    return 0;
}

int32_t guest_store_u64(zvm_guest *g, uint64_t ptr, uint64_t v)
{
    uint8_t *p = guest_ptr(g, ptr, 8);
    if (!p)
        return WASI_EFAULT;
    put_u64(p, v);
    return 0;
}

int32_t guest_wasi_errno(int64_t host)
{
    switch ((int)-host) {
    case EDQUOT: return WASI_EDQUOT;
    case ESPIPE: return WASI_ESPIPE;
    case EBADF: return WASI_EBADF;
    case EINVAL: return WASI_EINVAL;
    case EAGAIN: return WASI_EAGAIN;
    case EPIPE: return WASI_EPIPE;
    case ENOSPC: return WASI_ENOSPC;
    case EFBIG: return WASI_EFBIG;
    case EFAULT: return WASI_EFAULT;
    case EACCES: return WASI_EACCES;
    case EPERM: return WASI_EPERM;
    case ENOMEM: return WASI_ENOMEM;
    case EINTR: return WASI_EINTR;
    case ECONNRESET: return WASI_ECONNRESET;
    default: return WASI_EIO;
    }
}

uint8_t guest_node_filetype(const vfs_node *n)
{
    switch (n->kind) {
    case VFS_DIR: return WASI_FILETYPE_DIRECTORY;
    case VFS_FILE: return WASI_FILETYPE_REGULAR_FILE;
    case VFS_SYMLINK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case VFS_DEVICE: return guest_node_channel(n)->filetype;
    }
    return WASI_FILETYPE_UNKNOWN;
}

#define FILE_ONLY_RIGHTS \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_ALLOCATE | \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE | WASI_RIGHT_FD_DATASYNC)
#define DIR_ONLY_RIGHTS \
    (WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE | \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN | WASI_RIGHT_PATH_READLINK | \
     WASI_RIGHT_PATH_RENAME_SOURCE | WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET | \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK | \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE)

uint64_t guest_node_rights(const vfs_node *n)
{
    guest_channel *gc = guest_node_channel(n);
    if (n->kind == VFS_DIR)
        return WASI_RIGHTS_ALL & ~FILE_ONLY_RIGHTS & ~(WASI_RIGHT_SOCK_ACCEPT | WASI_RIGHT_SOCK_SHUTDOWN);
    if (!gc)
        return WASI_RIGHTS_ALL & ~DIR_ONLY_RIGHTS & ~(WASI_RIGHT_SOCK_ACCEPT | WASI_RIGHT_SOCK_SHUTDOWN);
    uint64_t r = WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_ADVISE |
                 WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE;
    if (zvm_channel_readable(gc->ch))
        r |= WASI_RIGHT_FD_READ;
    if (zvm_channel_writable(gc->ch))
        r |= WASI_RIGHT_FD_WRITE;
    if (gc->seekable)
        r |= WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL;
    return r;
}

void guest_fill_filestat(zvm_guest *g, const vfs_node *n, uint8_t *p)
{
    memset(p, 0, WASI_FILESTAT_SIZE);
    guest_channel *gc = guest_node_channel(n);
    uint64_t size = n->kind == VFS_DIR ? n->nentries : n->size;
    if (gc) {
        int64_t s = zvm_channel_size(gc->ch);
        size = s > 0 ? (uint64_t)s : 0;
    }
    put_u64(p, 1);                              /* dev: one file system */
    put_u64(p + 8, n->ino);
    put_u8(p + 16, guest_node_filetype(n));
    put_u64(p + 24, n->nlink ? n->nlink : 1);
    put_u64(p + 32, size);
    put_u64(p + 40, n->atim);
    put_u64(p + 48, n->mtim);
    put_u64(p + 56, n->ctim);
}

/* ---- descriptors ----------------------------------------------------------- */

guest_fd *guest_fd_get(zvm_guest *g, uint64_t fd)
{
    return fd < g->nfds && g->fds[fd].used ? &g->fds[fd] : NULL;
}

int32_t guest_fd_alloc(zvm_guest *g, vfs_node *node, uint64_t rights, uint64_t inheriting, uint16_t flags,
                       uint32_t *out)
{
    size_t fd = 0;
    while (fd < g->nfds && g->fds[fd].used)
        fd++;
    if (fd == g->nfds) {
        if (g->nfds >= GUEST_MAX_FDS)
            return WASI_EMFILE;
        size_t n = g->nfds ? g->nfds * 2 : 8;
        if (n > GUEST_MAX_FDS)
            n = GUEST_MAX_FDS;
        guest_fd *bigger = realloc(g->fds, n * sizeof *bigger);
        if (!bigger)
            return WASI_ENOMEM;
        memset(bigger + g->nfds, 0, (n - g->nfds) * sizeof *bigger);
        g->fds = bigger;
        g->nfds = n;
    }
    g->fds[fd] = (guest_fd){ .used = true, .node = node, .rights = rights, .inheriting = inheriting, .flags = flags };
    vfs_open_node(node);
    *out = (uint32_t)fd;
    return 0;
}

void guest_fd_release(zvm_guest *g, guest_fd *f)
{
    vfs_node *n = f->node;
    memset(f, 0, sizeof *f);
    if (n)
        vfs_close_node(&g->fs, n);
}

/* ---- building a guest ---------------------------------------------------------- */

/* The message fmt with a and b, each cut to fit so that the reason after them is never lost. */
static int fail(zvm_error *err, const char *fmt, const char *a, const char *b)
{
    char short_a[ZVM_IMAGE_SHOW], short_b[ZVM_IMAGE_SHOW];
    snprintf(err->msg, sizeof err->msg, fmt, zvm_image_show(a, short_a), zvm_image_show(b, short_b));
    return -1;
}

static char **copy_list(char **list, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(list[i])))
            return out;   /* freed by the caller, NULL-terminated */
    return out;
}

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* What fstat reports for a channel: its [mapping], else what the host object is. */
static uint8_t channel_filetype(const zvm_nvram *nv, zvm_channel *ch)
{
    enum zvm_mapping_mode mode = ZVM_MAP_DEFAULT;
    for (size_t i = 0; nv && i < nv->nmapping; i++)
        if (strcmp(nv->mapping[i].channel, zvm_channel_alias(ch)) == 0)
            mode = nv->mapping[i].mode;
    if (mode == ZVM_MAP_DEFAULT) {
        switch (zvm_channel_kind(ch)) {
        case 'f': mode = ZVM_MAP_FILE; break;
        case 'c': mode = ZVM_MAP_CHAR; break;
        case 's': return WASI_FILETYPE_SOCKET_STREAM;
        default: mode = ZVM_MAP_PIPE; break;
        }
    }
    switch (mode) {
    case ZVM_MAP_CHAR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case ZVM_MAP_FILE: return WASI_FILETYPE_REGULAR_FILE;
    default: return WASI_FILETYPE_UNKNOWN;    /* a pipe: WASI preview1 has no such type */
    }
}

static bool channel_seekable(zvm_channel *ch)
{
    enum zvm_channel_type t = zvm_channel_type(ch);
    bool rnd_read = t == ZVM_CH_RND_SEQ || t == ZVM_CH_RND_RND, rnd_write = t == ZVM_CH_SEQ_RND || t == ZVM_CH_RND_RND;
    return (zvm_channel_readable(ch) && rnd_read) || (zvm_channel_writable(ch) && rnd_write);
}

guest_channel *guest_find_channel(zvm_guest *g, const char *alias)
{
    for (size_t i = 0; i < g->nchannels; i++)
        if (strcmp(zvm_channel_alias(g->channels[i].ch), alias) == 0)
            return &g->channels[i];
    return NULL;
}

static int add_channels(zvm_guest *g, const zvm_guest_config *cfg, zvm_error *err)
{
    g->channels = calloc(cfg->nchannels ? cfg->nchannels : 1, sizeof *g->channels);
    if (!g->channels)
        return fail(err, "guest: out of memory%s%s", "", "");
    for (size_t i = 0; i < cfg->nchannels; i++) {
        guest_channel *c = &g->channels[g->nchannels++];
        c->ch = cfg->channels[i];
        c->index = (uint32_t)i;
        c->filetype = channel_filetype(cfg->nvram, c->ch);
        c->seekable = channel_seekable(c->ch);
        const char *alias = zvm_channel_alias(c->ch);
        char path[VFS_PATH_MAX + 1];
        snprintf(path, sizeof path, "%s%s", alias[0] == '/' ? "" : "/dev/", alias);
        int e = vfs_add_device(&g->fs, path, c, &c->node);
        if (e == WASI_EEXIST)
            return fail(err, "channel %s: the guest path %s is taken twice; give the channels distinct aliases", alias,
                        path);
        if (e)
            return fail(err, "channel %s: cannot appear at %s (a parent is not a directory, or the name is too long)",
                        alias, path);
    }
    return 0;
}

/* What the next image may hold in memory: the session's Memory, less what the images before it
 * hold (1 byte when that is spent, so a further in-memory image fails rather than gets the default). */
static uint64_t images_allowance(const zvm_guest *g)
{
    if (g->memory_limit == 0)
        return 0;                  /* no Memory given: the image layer's own cap */
    uint64_t held = 0;
    for (size_t i = 0; i < g->nimages; i++)
        held += zvm_image_memory(g->images[i]);
    return held < g->memory_limit ? g->memory_limit - held : 1;
}

static int mount_fstab(zvm_guest *g, const zvm_guest_config *cfg, const zvm_nvram *nv, zvm_error *err)
{
    for (size_t i = 0; nv && i < nv->nfstab; i++) {
        const zvm_fstab_entry *fe = &nv->fstab[i];
        guest_channel *c = guest_find_channel(g, fe->channel);
        if (!c)
            return fail(err, "nvram [fstab]: no channel %s in the manifest (for mountpoint %s)", fe->channel,
                        fe->mountpoint);
        if (fe->mountpoint[0] != '/')
            return fail(err, "nvram [fstab]: mountpoint %s of %s must be an absolute path", fe->mountpoint,
                        fe->channel);
        if (fe->access == ZVM_FSTAB_RO) {
            if (!zvm_channel_readable(c->ch))
                return fail(err, "nvram [fstab]: image %s is mounted ro at %s but its channel is not readable",
                            fe->channel, fe->mountpoint);
            zvm_image **more = realloc(g->images, (g->nimages + 1) * sizeof *more);
            if (!more)
                return fail(err, "guest: out of memory%s%s", "", "");
            g->images = more;
            const char *index = cfg->image_index ? cfg->image_index[c->index] : NULL;
            if (zvm_image_open_cached(zvm_channel_fd(c->ch), fe->channel, images_allowance(g), index,
                                      &g->images[g->nimages], err) < 0)
                return -1;
            g->nimages++;
            if (vfs_mount_image(&g->fs, fe->mountpoint, g->images[g->nimages - 1], true, fe->channel, err) < 0)
                return -1;
        } else {
            if (!zvm_channel_writable(c->ch))
                return fail(err, "nvram [fstab]: image %s is mounted wo at %s but its channel is not writable",
                            fe->channel, fe->mountpoint);
            if (zvm_image_library(fe->channel, err) < 0)
                return -1;
            guest_wo_mount *more = realloc(g->wo, (g->nwo + 1) * sizeof *more);
            if (!more)
                return fail(err, "guest: out of memory%s%s", "", "");
            g->wo = more;
            g->wo[g->nwo] = (guest_wo_mount){ strdup(fe->mountpoint), c };
            if (!g->wo[g->nwo++].mountpoint || vfs_mkdirs(&g->fs, fe->mountpoint, NULL))
                return fail(err, "nvram [fstab]: cannot make mountpoint %s for %s (a file is in the way)",
                            fe->mountpoint, fe->channel);
        }
    }
    return 0;
}

int zvm_guest_new(const zvm_guest_config *cfg, zvm_guest **out, zvm_error *err)
{
    *out = NULL;
    zvm_guest *g = calloc(1, sizeof *g);
    if (!g || vfs_init(&g->fs, &g->wall_ns)) {
        free(g);
        return fail(err, "guest: out of memory%s%s", "", "");
    }
    const zvm_nvram *nv = cfg->nvram;
    g->memory_limit = cfg->memory_limit;
    g->trace = cfg->trace;
    int64_t seconds = nv ? nv->time_seconds : 0;
    g->wall_base_ns = seconds > 0 ? (uint64_t)seconds * 1000000000ull : 0;
    g->wall_ns = g->wall_base_ns;
    uint64_t seed = nv ? nv->random_seed : GUEST_DEFAULT_SEED;
    for (int i = 0; i < 4; i++)
        g->rng[i] = splitmix64(&seed);
    g->argc = nv ? nv->argc : 0;
    g->nenv = nv ? nv->nenv : 0;
    g->argv = copy_list(nv ? nv->argv : NULL, g->argc);
    g->env = copy_list(nv ? nv->env : NULL, g->nenv);
    if (!g->argv || !g->env || (g->argc && !g->argv[g->argc - 1]) || (g->nenv && !g->env[g->nenv - 1])) {
        zvm_guest_free(g);
        return fail(err, "guest: out of memory%s%s", "", "");
    }
    vfs_node *dev, *root = g->fs.root;
    int rc = vfs_mkdirs(&g->fs, "/tmp", NULL) || vfs_mkdirs(&g->fs, "/dev", &dev)
                 ? fail(err, "guest: out of memory%s%s", "", "")
                 : 0;
    if (!rc)
        rc = add_channels(g, cfg, err);
    if (!rc)
        rc = mount_fstab(g, cfg, nv, err);
    if (rc) {
        zvm_guest_free(g);
        return -1;
    }
    dev->readonly = true;                       /* devices come from the manifest only */
    g->snap.dev = dev;
    g->snap.channel_seen = calloc(g->nchannels ? g->nchannels : 1, sizeof *g->snap.channel_seen);
    g->fs.count_metadata = true;                /* from here on the guest's own nodes cost */

    /* fds 0, 1, 2: the std channels (closed if the manifest has fewer); fd 3: "/", the
     * directory wasi-libc finds by scanning preopens from 3 up */
    g->nfds = 8;
    if (!(g->fds = calloc(g->nfds, sizeof *g->fds))) {
        zvm_guest_free(g);
        return fail(err, "guest: out of memory%s%s", "", "");
    }
    for (size_t i = 0; i < 3 && i < g->nchannels; i++) {
        vfs_node *n = g->channels[i].node;
        g->fds[i] = (guest_fd){ .used = true, .node = n, .rights = guest_node_rights(n) };
        vfs_open_node(n);
    }
    g->fds[3] = (guest_fd){
        .used = true, .node = root, .preopen = true, .rights = guest_node_rights(root), .inheriting = WASI_RIGHTS_ALL
    };
    vfs_open_node(root);
    if (!g->snap.channel_seen) {
        zvm_guest_free(g);
        return fail(err, "guest: out of memory%s%s", "", "");
    }
    g->snap.fs_changes_at_start = g->fs.changes;
    *out = g;
    return 0;
}

void zvm_guest_bind(zvm_guest *g, zvm_instance *inst)
{
    zvm_extern e;
    g->instance = inst;
    if (zvm_instance_export(inst, "memory", &e) && e.kind == ZVM_EXTERN_MEMORY) {
        g->memory = e.u.memory;
        guest_share_memory_limit(g);
    }
}

void zvm_guest_free(zvm_guest *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nfds; i++)
        if (g->fds[i].used)
            guest_fd_release(g, &g->fds[i]);
    free(g->fds);
    vfs_destroy(&g->fs);
    for (size_t i = 0; i < g->nimages; i++)
        zvm_image_free(g->images[i]);
    free(g->images);
    for (size_t i = 0; i < g->nwo; i++)
        free(g->wo[i].mountpoint);
    free(g->wo);
    free(g->channels);
    free_list(g->argv);
    free_list(g->env);
    free(g->bindings);
    free(g->snap.channel_seen);
    for (size_t i = 0; i < g->snap.nreplay; i++)
        free(g->snap.replay[i].bytes);
    free(g->snap.replay);
    free(g);
}

/* ---- finishing: wo mounts become tar ----------------------------------------- */

typedef struct wo_writer {
    zvm_guest *g;
    guest_channel *c;
    int64_t offset;             /* random-write channels take explicit offsets */
    zvm_image_writer *w;
    zvm_error *err;
    struct {
        vfs_node *node;
        char *path;
    } *seen;   /* hard links: the first path of each file */
    size_t nseen;
} wo_writer;

static int64_t wo_sink(void *user, const void *buf, size_t size)
{
    wo_writer *s = user;
    int64_t r = zvm_channel_write(s->c->ch, buf, size, s->offset);
    if (r > 0 && s->offset >= 0)
        s->offset += r;
    return r;
}

static int wo_add(void *user, const char *path, vfs_node *n)
{
    wo_writer *s = user;
    zvm_image_entry e = { .path = (char *)path, .mode = n->mode, .mtime = (int64_t)(n->mtim / 1000000000ull) };
    uint8_t *data = NULL;
    switch (n->kind) {
    case VFS_DEVICE: return 0;                         /* channels are not files */
    case VFS_DIR: e.type = ZVM_IMAGE_DIR; break;
    case VFS_SYMLINK:
        e.type = ZVM_IMAGE_SYMLINK;
        e.link = n->target;
        break;
    case VFS_FILE:
        for (size_t i = 0; i < s->nseen; i++)
            if (s->seen[i].node == n) {
                e.type = ZVM_IMAGE_HARDLINK;
                e.link = s->seen[i].path;
            }
        if (e.type == ZVM_IMAGE_HARDLINK)
            break;
        e.type = ZVM_IMAGE_FILE;
        e.size = n->size;
        if (n->image_entry) {
            data = malloc(n->size ? n->size : 1);
            uint64_t done;
            if (!data || vfs_read(&s->g->fs, n, data, n->size, 0, &done) || done != n->size) {
                free(data);
                return fail(s->err, "image %s: cannot read %s to write it back", zvm_channel_alias(s->c->ch), path);
            }
        }
        if (n->nlink > 1) {
            void *more = realloc(s->seen, (s->nseen + 1) * sizeof *s->seen);
            if (!more) {
                free(data);
                return fail(s->err, "image %s: out of memory at %s", zvm_channel_alias(s->c->ch), path);
            }
            s->seen = more;
            s->seen[s->nseen].node = n;
            s->seen[s->nseen++].path = strdup(path);
        }
        break;
    }
    int r = zvm_image_writer_add(s->w, &e, data ? data : n->data, s->err);
    free(data);
    return r;
}

int zvm_guest_finish(zvm_guest *g, zvm_error *err)
{
    for (size_t i = 0; i < g->nwo; i++) {
        guest_wo_mount *m = &g->wo[i];
        vfs_node *top;
        if (vfs_resolve(&g->fs, g->fs.root, m->mountpoint, strlen(m->mountpoint), true, &top) || top->kind != VFS_DIR)
            return fail(err, "image %s: its mountpoint %s is gone (the guest removed it)",
                        zvm_channel_alias(m->channel->ch), m->mountpoint);
        enum zvm_channel_type t = zvm_channel_type(m->channel->ch);
        wo_writer s = {
            .g = g, .c = m->channel, .err = err, .offset = t == ZVM_CH_SEQ_RND || t == ZVM_CH_RND_RND ? 0 : -1
        };
        if (zvm_image_writer_new(wo_sink, &s, zvm_channel_alias(m->channel->ch), &s.w, err) < 0)
            return -1;
        int r = vfs_walk(top, wo_add, &s);
        if (r > 0)
            fail(err, "image %s: a path under %s is too long for the tar", zvm_channel_alias(m->channel->ch),
                 m->mountpoint);
        for (size_t j = 0; j < s.nseen; j++)
            free(s.seen[j].path);
        free(s.seen);
        if (r) {
            zvm_image_writer_abort(s.w);
            return -1;
        }
        if (zvm_image_writer_finish(s.w, err) < 0)
            return -1;
    }
    return 0;
}
