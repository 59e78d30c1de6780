/*
 * guest_snapshot.c — the guest's side of a snapshot (docs/Snapshots.md): what it saw of the
 * session before zvm_fork(), and its state outside linear memory.
 *
 * Before the fork, in a session that may save a snapshot (zvm_guest_on_fork), every call is
 * watched (guest_observe_call): reading the arguments, the
 * environment, a channel's description or the list of channels makes that input a dependency
 * of the snapshot; reading a channel's data, or changing the file system, makes the state
 * unsavable (a later session cannot be given the same bytes, nor do we save in-memory files);
 * what the guest wrote to channels is kept, to be written again by the session that resumes.
 * A resumed session must see the same values for every dependency (zvm_guest_check) — so what
 * the guest knew before the fork is true of the session that resumes it, and nothing one
 * session was given can reach another.
 *
 * The saved state is the virtual clock, the random generator, the descriptor table (each
 * descriptor named by what it opens: a channel by alias, a file or directory by path) and the
 * writes to replay.  The file system itself is not saved: it was not changed, so the resumed
 * session's own (the same images, mounted the same way) is the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "digest/digest.h"
#include "guest/guest_impl.h"

#define GUEST_STATE_MAGIC 0x31545347u     /* "GST1" */
/* What a guest may write to its channels before the fork: replayed by every resumed session. */
#define REPLAY_MAX (1u << 20)

enum { DEP_ARGS = 1, DEP_ENV = 2, DEP_CHANNEL_LIST = 4, DEP_CHANNEL_SIZES = 8 };
/* What the guest saw of one channel (snap.channel_seen): its description, and its size too. */
enum { SEEN_DESCRIPTION = 1, SEEN_SIZE = 2 };

/* The calls that tell a guest how large a channel is. */
static bool tells_size(const char *name)
{
    return strcmp(name, "fd_filestat_get") == 0 || strcmp(name, "fd_seek") == 0 ||
           strcmp(name, "zvm_channel_info") == 0;
}

static void unsavable(zvm_guest *g, const char *fmt, const char *what)
{
    if (!g->snap.unsavable[0])
        snprintf(g->snap.unsavable, sizeof g->snap.unsavable, fmt, what);
}

/* ---- watching the calls before the fork ---- */

static bool names_dev(zvm_guest *g, const zvm_val *a, size_t i)
{
    uint32_t len = (uint32_t)a[i + 1];
    const uint8_t *p = len <= VFS_PATH_MAX ? guest_ptr(g, (uint32_t)a[i], len) : NULL;
    return p && memmem(p, len, "dev", 3) != NULL;
}

void guest_observe_call(zvm_guest *g, const guest_import *imp, const zvm_val *a)
{
    const char *n = imp->name;
    if (strncmp(n, "args_", 5) == 0) {
        g->snap.deps |= DEP_ARGS;
    } else if (strncmp(n, "environ_", 8) == 0) {
        g->snap.deps |= DEP_ENV;
    } else if (strncmp(n, "zvm_channel_", 12) == 0) {
        g->snap.deps |= DEP_CHANNEL_LIST | (tells_size(n) ? DEP_CHANNEL_SIZES : 0);
    } else if (strncmp(n, "fd_", 3) == 0 || strncmp(n, "sock_", 5) == 0) {
        guest_fd *f = imp->params[0] ? guest_fd_get(g, (uint32_t)a[0]) : NULL;
        guest_channel *c = f ? guest_node_channel(f->node) : NULL;
        if (c)
            g->snap.channel_seen[c->index] |= SEEN_DESCRIPTION | (tells_size(n) ? SEEN_SIZE : 0);
        else if (f && f->node == g->snap.dev && strcmp(n, "fd_readdir") == 0)
            g->snap.deps |= DEP_CHANNEL_LIST;
    } else if (strncmp(n, "path_", 5) == 0) {
        /* Any path that may name /dev or a device in it: the channels' list is a dependency
         * (erring towards more dependencies is safe, fewer is not). */
        for (size_t i = 0; imp->params[i] && imp->params[i + 1]; i++)
            if (imp->params[i] == 'i' && imp->params[i + 1] == 'i' && names_dev(g, a, i))
                g->snap.deps |= DEP_CHANNEL_LIST | DEP_CHANNEL_SIZES;
    }
}

void guest_observe_channel_io(zvm_guest *g, guest_channel *c, const void *buf, int64_t offset, int64_t done,
                              bool writing)
{
    if (!writing) {
        unsavable(g, "it read channel %s before zvm_fork", zvm_channel_alias(c->ch));
        return;
    }
    if (done <= 0)
        return;
    if (g->snap.replay_bytes + (uint64_t)done > REPLAY_MAX) {
        unsavable(g, "it wrote more than 1 MiB to %s before zvm_fork", zvm_channel_alias(c->ch));
        return;
    }
    struct guest_replay *r = realloc(g->snap.replay, (g->snap.nreplay + 1) * sizeof *r);
    uint8_t *copy = malloc((size_t)done);
    if (!r || !copy) {
        free(copy);
        if (r)
            g->snap.replay = r;
        unsavable(g, "out of memory keeping what it wrote to %s", zvm_channel_alias(c->ch));
        return;
    }
    memcpy(copy, buf, (size_t)done);
    g->snap.replay = r;
    r[g->snap.nreplay++] = (struct guest_replay){ c->index, offset, copy, (size_t)done };
    g->snap.replay_bytes += (uint64_t)done;
}

/* ---- the dependencies' values ---- */

static void hash_list(digest_sha256_ctx *s, char **list, size_t n)
{
    uint64_t count = n;
    digest_sha256_update(s, &count, sizeof count);
    for (size_t i = 0; i < n; i++)
        digest_sha256_update(s, list[i], strlen(list[i]) + 1);
}

/* Everything the guest can learn about a channel without reading its data; its size (which a
 * written file's is not, from one run to the next) only if the guest asked for it. */
static void hash_channel(digest_sha256_ctx *s, const guest_channel *c, bool with_size)
{
    const char *alias = zvm_channel_alias(c->ch);
    int64_t v[8] = { c->index,
                     c->filetype,
                     c->seekable,
                     zvm_channel_type(c->ch),
                     zvm_channel_readable(c->ch),
                     zvm_channel_writable(c->ch),
                     with_size ? zvm_channel_size(c->ch) : -1,
                     0 };
    digest_sha256_update(s, alias, strlen(alias) + 1);
    digest_sha256_update(s, v, sizeof v);
    for (int i = 0; i < 4; i++) {
        int64_t limit = zvm_channel_limit(c->ch, (enum zvm_channel_limit)i);
        digest_sha256_update(s, &limit, sizeof limit);
    }
}

static void dep_value(const zvm_guest *g, int dep, uint8_t out[DIGEST_SHA256_SIZE])
{
    digest_sha256_ctx s;
    digest_sha256_init(&s);
    if (dep == DEP_ARGS)
        hash_list(&s, g->argv, g->argc);
    else if (dep == DEP_ENV)
        hash_list(&s, g->env, g->nenv);
    else
        for (size_t i = 0; i < g->nchannels; i++)
            hash_channel(&s, &g->channels[i], dep == DEP_CHANNEL_SIZES);
    digest_sha256_final(&s, out);
}

static void channel_value(const guest_channel *c, uint8_t seen, uint8_t out[DIGEST_SHA256_SIZE])
{
    digest_sha256_ctx s;
    digest_sha256_init(&s);
    hash_channel(&s, c, seen & SEEN_SIZE);
    digest_sha256_final(&s, out);
}

/* ---- descriptors by name ---- */

struct find_node {
    const vfs_node *node;
    char *path;
};

static int find_node(void *user, const char *path, vfs_node *node)
{
    struct find_node *f = user;
    if (node != f->node)
        return 0;
    f->path = strdup(path);
    return 1;
}

/* The path from / of an image file or directory (NULL if none names it). */
static char *node_path(zvm_guest *g, const vfs_node *n)
{
    if (n == g->fs.root)
        return strdup("");
    struct find_node f = { n, NULL };
    vfs_walk(g->fs.root, find_node, &f);
    return f.path;
}

enum { FD_CHANNEL = 1, FD_PATH = 2 };

static int save_fd(zvm_guest *g, bytes_out *o, uint32_t fd, const guest_fd *f, zvm_error *err)
{
    guest_channel *c = guest_node_channel(f->node);
    char *path = c ? NULL : node_path(g, f->node);
    if (!c && !path) {
        snprintf(err->msg, sizeof err->msg, "descriptor %u names a file no path leads to", fd);
        return -1;
    }
    bytes_put32(o, fd);
    bytes_put32(o, c ? FD_CHANNEL : FD_PATH);
    bytes_put_str(o, c ? zvm_channel_alias(c->ch) : path);
    bytes_put64(o, f->pos);
    bytes_put32(o, f->flags);
    bytes_put32(o, f->preopen);
    bytes_put64(o, f->rights);
    bytes_put64(o, f->inheriting);
    free(path);
    return 0;
}

/* ---- saving ---- */

int zvm_guest_save(zvm_guest *g, uint8_t **blob, size_t *size, zvm_error *err)
{
    if (g->fs.changes != g->snap.fs_changes_at_start)
        unsavable(g, "%s", "it changed the file system before zvm_fork");
    if (g->snap.unsavable[0]) {
        snprintf(err->msg, sizeof err->msg, "%s", g->snap.unsavable);
        return -1;
    }
    bytes_out o = { 0 };
    bytes_put32(&o, GUEST_STATE_MAGIC);
    bytes_put32(&o, g->snap.deps);
    for (int dep = DEP_ARGS; dep <= DEP_CHANNEL_SIZES; dep <<= 1)
        if (g->snap.deps & dep) {
            uint8_t v[DIGEST_SHA256_SIZE];
            dep_value(g, dep, v);
            bytes_put(&o, v, sizeof v);
        }
    uint32_t seen = 0;
    for (size_t i = 0; i < g->nchannels; i++)
        seen += g->snap.channel_seen[i] != 0;
    bytes_put32(&o, seen);
    for (size_t i = 0; i < g->nchannels; i++)
        if (g->snap.channel_seen[i]) {
            uint8_t v[DIGEST_SHA256_SIZE];
            channel_value(&g->channels[i], g->snap.channel_seen[i], v);
            bytes_put_str(&o, zvm_channel_alias(g->channels[i].ch));
            bytes_put32(&o, g->snap.channel_seen[i]);
            bytes_put(&o, v, sizeof v);
        }
    bytes_put64(&o, g->mono_ns);
    bytes_put64(&o, g->wall_ns);
    bytes_put(&o, g->rng, sizeof g->rng);
    uint32_t used = 0;
    for (size_t i = 0; i < g->nfds; i++)
        used += g->fds[i].used;
    bytes_put32(&o, used);
    for (size_t i = 0; i < g->nfds; i++)
        if (g->fds[i].used && save_fd(g, &o, (uint32_t)i, &g->fds[i], err) != 0) {
            free(o.p);
            return -1;
        }
    bytes_put32(&o, (uint32_t)g->snap.nreplay);
    for (size_t i = 0; i < g->snap.nreplay; i++) {
        bytes_put_str(&o, zvm_channel_alias(g->channels[g->snap.replay[i].channel].ch));
        bytes_put64(&o, (uint64_t)g->snap.replay[i].offset);
        bytes_put64(&o, g->snap.replay[i].size);
        bytes_put(&o, g->snap.replay[i].bytes, g->snap.replay[i].size);
    }
    if (o.oom) {
        free(o.p);
        snprintf(err->msg, sizeof err->msg, "out of memory saving the guest's state");
        return -1;
    }
    *blob = o.p;
    *size = o.n;
    return 0;
}

/* ---- checking and restoring ---- */

static int differs(zvm_error *err, const char *what)
{
    snprintf(err->msg, sizeof err->msg, "%s", what);
    return 1;
}

int zvm_guest_check(zvm_guest *g, const uint8_t *blob, size_t size, zvm_error *err)
{
    bytes_in in = { blob, size, 0, false };
    if (bytes_get32(&in) != GUEST_STATE_MAGIC)
        return differs(err, "not a guest state");
    uint32_t deps = bytes_get32(&in);
    static const char *names[] = { "the arguments differ", "the environment differs", "the list of channels differs",
                                   "the channels' sizes differ" };
    for (int dep = DEP_ARGS, k = 0; dep <= DEP_CHANNEL_SIZES; dep <<= 1, k++) {
        if (!(deps & dep))
            continue;
        uint8_t v[DIGEST_SHA256_SIZE];
        const uint8_t *saved = bytes_take(&in, sizeof v);
        dep_value(g, dep, v);
        if (saved && memcmp(saved, v, sizeof v) != 0) {
            snprintf(err->msg, sizeof err->msg, "%s from what the guest read before zvm_fork", names[k]);
            return 1;
        }
    }
    uint32_t seen = bytes_get32(&in);
    for (uint32_t i = 0; i < seen && !in.bad; i++) {
        char alias[256];
        uint8_t v[DIGEST_SHA256_SIZE];
        bytes_get_str(&in, alias, sizeof alias);
        uint8_t what = (uint8_t)bytes_get32(&in);
        const uint8_t *saved = bytes_take(&in, sizeof v);
        guest_channel *c = guest_find_channel(g, alias);
        if (!saved)
            break;
        if (!c) {
            snprintf(err->msg, sizeof err->msg, "channel %s, which the guest looked at before zvm_fork, is missing",
                     alias);
            return 1;
        }
        channel_value(c, what, v);
        if (memcmp(saved, v, sizeof v) != 0) {
            snprintf(err->msg, sizeof err->msg, "channel %s is not what the guest saw before zvm_fork", alias);
            return 1;
        }
    }
    return in.bad ? differs(err, "the guest state is truncated") : 0;
}

/* Reopens one saved descriptor on the resumed session's own nodes. */
static int restore_fd(zvm_guest *g, bytes_in *in, zvm_error *err)
{
    uint32_t fd = bytes_get32(in), kind = bytes_get32(in);
    char name[VFS_PATH_MAX + 1];
    bytes_get_str(in, name, sizeof name);
    guest_fd f = { .used = true };
    f.pos = bytes_get64(in);
    f.flags = (uint16_t)bytes_get32(in);
    f.preopen = bytes_get32(in) != 0;
    f.rights = bytes_get64(in);
    f.inheriting = bytes_get64(in);
    if (in->bad || fd >= GUEST_MAX_FDS)
        return differs(err, "the guest state is truncated");
    if (kind == FD_CHANNEL) {
        guest_channel *c = guest_find_channel(g, name);
        if (!c)
            return differs(err, "a channel open at zvm_fork is missing");
        f.node = c->node;
    } else if (!name[0]) {
        f.node = g->fs.root;
    } else if (vfs_resolve(&g->fs, g->fs.root, name, strlen(name), false, &f.node) != 0) {
        snprintf(err->msg, sizeof err->msg, "/%s, open at zvm_fork, is missing", name);
        return 1;
    }
    if ((f.rights & ~guest_node_rights(f.node)) != 0)
        return differs(err, "a descriptor with rights its file does not allow");
    if (fd >= g->nfds) {
        guest_fd *more = realloc(g->fds, (fd + 1) * sizeof *more);
        if (!more)
            return differs(err, "out of memory");
        memset(more + g->nfds, 0, (fd + 1 - g->nfds) * sizeof *more);
        g->fds = more;
        g->nfds = fd + 1;
    }
    if (g->fds[fd].used)
        return differs(err, "a descriptor saved twice");
    vfs_open_node(f.node);
    g->fds[fd] = f;
    return 0;
}

int zvm_guest_restore(zvm_guest *g, const uint8_t *blob, size_t size, zvm_error *err)
{
    int rc = zvm_guest_check(g, blob, size, err);
    if (rc != 0)
        return rc;
    bytes_in in = { blob, size, 0, false };
    bytes_get32(&in);
    uint32_t deps = bytes_get32(&in);
    for (int dep = DEP_ARGS; dep <= DEP_CHANNEL_SIZES; dep <<= 1)
        if (deps & dep)
            bytes_take(&in, DIGEST_SHA256_SIZE);
    uint32_t seen = bytes_get32(&in);
    char alias[256];
    for (uint32_t i = 0; i < seen && !in.bad; i++) {
        bytes_get_str(&in, alias, sizeof alias);
        bytes_get32(&in);
        bytes_take(&in, DIGEST_SHA256_SIZE);
    }
    g->mono_ns = bytes_get64(&in);
    g->wall_ns = bytes_get64(&in);
    const uint8_t *rng = bytes_take(&in, sizeof g->rng);
    if (rng)
        memcpy(g->rng, rng, sizeof g->rng);
    for (size_t i = 0; i < g->nfds; i++)
        if (g->fds[i].used)
            guest_fd_release(g, &g->fds[i]);
    uint32_t nfds = bytes_get32(&in);
    for (uint32_t i = 0; i < nfds && !in.bad; i++)
        if ((rc = restore_fd(g, &in, err)) != 0)
            return rc;
    uint32_t nreplay = bytes_get32(&in);
    for (uint32_t i = 0; i < nreplay && !in.bad; i++) {
        bytes_get_str(&in, alias, sizeof alias);
        int64_t offset = (int64_t)bytes_get64(&in);
        uint64_t n = bytes_get64(&in);
        const uint8_t *bytes = n <= REPLAY_MAX ? bytes_take(&in, (size_t)n) : NULL;
        guest_channel *c = guest_find_channel(g, alias);
        if (!bytes || !c)
            return differs(err, "the guest state's writes are damaged");
        /* what the guest wrote before the fork, written again: the quotas count it as then */
        zvm_channel_write(c->ch, bytes, n, offset);
    }
    if (in.bad)
        return differs(err, "the guest state is truncated");
    g->snap.forked = true;
    g->snap.watching = false;
    return 0;
}

/* ---- zvm_fork ---- */

void zvm_guest_on_fork(zvm_guest *g, zvm_guest_fork_fn fn, void *user)
{
    g->snap.on_fork = fn;
    g->snap.on_fork_user = user;
    g->snap.watching = fn && !g->snap.forked;    /* a session without snapshots pays nothing for them */
}

int32_t zvm_call_fork(zvm_guest *g, const zvm_val *a)
{
    (void)a;
    if (g->snap.forked)
        return -EALREADY;
    int32_t r = g->snap.on_fork ? g->snap.on_fork(g->snap.on_fork_user, g, g->snap.call) : 0;
    g->snap.forked = true;
    g->snap.watching = false;
    return r;
}
