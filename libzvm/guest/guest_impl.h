/*
 * guest_impl.h — the inside of a zvm_guest, shared by the files that serve its calls:
 * guest.c (life cycle, mounts, descriptors), guest_imports.c (binding imports to host
 * functions), wasi_fd.c, wasi_path.c, wasi_misc.c (wasi_snapshot_preview1), zvm_calls.c.
 *
 * Each call is a guest_impl: it reads its arguments (raw 64-bit cells), reaches guest
 * memory only through guest_ptr (bounds-checked: a bad pointer is EFAULT, never a host
 * fault), and returns its i32 result (a WASI errno, or a zvm call's value).
 */
#ifndef ZVM_GUEST_IMPL_H
#define ZVM_GUEST_IMPL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "guest/guest.h"
#include "guest/vfs.h"
#include "image/image.h"

/* Each clock_time_get (and each file time stamp it starts) moves the virtual clock by this. */
#define GUEST_CLOCK_STEP_NS 1000ull
/* The seed of random_get when there is no nvram. */
#define GUEST_DEFAULT_SEED 0x5a45524f564d2121ull   /* "ZEROVM!!" */
/* Descriptors a guest may hold at once. */
#define GUEST_MAX_FDS 1024

/* A channel as the guest sees it: its /dev node and what fstat reports. */
typedef struct guest_channel {
    zvm_channel *ch;
    uint32_t index;             /* in the guest's order, for the zvm calls */
    uint8_t filetype;           /* WASI filetype from [mapping] (or the host object's kind) */
    bool seekable;              /* random in a direction it supports: fd_seek works */
    vfs_node *node;
} guest_channel;

typedef struct guest_fd {
    bool used;
    vfs_node *node;             /* a directory, file, symlink-free node, or a device */
    uint64_t pos;
    uint16_t flags;             /* fdflags */
    uint64_t rights, inheriting;
    bool preopen;               /* fd 3: "/" */
} guest_fd;

typedef struct guest_wo_mount {
    char *mountpoint;
    guest_channel *channel;
} guest_wo_mount;

struct guest_binding;

/* Bytes the guest wrote to a channel before zvm_fork (guest_snapshot.c). */
struct guest_replay {
    uint32_t channel;
    int64_t offset;             /* -1 on a sequential channel */
    uint8_t *bytes;
    size_t size;
};

/* What a snapshot needs to know about the guest (guest_snapshot.c). */
struct guest_snapshot {
    bool forked;                /* zvm_fork was called: what the guest reads now is no dependency */
    bool watching;              /* a snapshot may still be saved: the session asked, no fork yet */
    uint32_t deps;              /* inputs read before the fork (DEP_* in guest_snapshot.c) */
    uint8_t *channel_seen;      /* per channel: what the guest saw of it before the fork */
    char unsavable[200];        /* why the state at the fork cannot be saved, or "" */
    uint64_t fs_changes_at_start;
    struct guest_replay *replay;
    size_t nreplay;
    uint64_t replay_bytes;
    vfs_node *dev;              /* the /dev directory */
    zvm_call *call;             /* the engine's view of the call being served */
    zvm_guest_fork_fn on_fork;
    void *on_fork_user;
};

struct zvm_guest {
    vfs fs;
    uint64_t mono_ns;           /* the virtual clock: ns since the start */
    uint64_t wall_base_ns;      /* realtime = wall_base_ns + mono_ns */
    uint64_t wall_ns;           /* realtime now, what file time stamps read */
    uint64_t rng[4];            /* xoshiro256** state */
    char **argv, **env;
    size_t argc, nenv;
    guest_channel *channels;
    size_t nchannels;
    guest_fd *fds;
    size_t nfds;
    zvm_image **images;
    size_t nimages;
    guest_wo_mount *wo;
    size_t nwo;
    uint64_t memory_limit;
    struct guest_binding *bindings;
    size_t nbindings;
    zvm_instance *instance;
    zvm_memory *memory;         /* the instance's exported memory: its growth shares memory_limit */
    FILE *trace;                /* zvm -T: one line per call, or NULL */
    /* the call being served */
    uint8_t *mem;
    uint64_t mem_size;
    bool exit_requested;
    int exit_code;
    char trap[200];             /* non-empty: the call ends the guest with this trap */
    struct guest_snapshot snap;
};

typedef int32_t (*guest_impl)(zvm_guest *g, const zvm_val *args);

/* Guest memory: a host pointer to [ptr, ptr+len) or NULL when any of it is outside. */
static inline uint8_t *guest_ptr(zvm_guest *g, uint64_t ptr, uint64_t len)
{
    if (!g->mem || ptr > g->mem_size || len > g->mem_size - ptr)
        return NULL;
    return g->mem + ptr;
}

static inline void put_u8(uint8_t *p, uint8_t v)
{
    p[0] = v;
}
static inline void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* Writes a u32/u64 result to guest memory; EFAULT when the pointer is bad. */
int32_t guest_store_u32(zvm_guest *g, uint64_t ptr, uint32_t v);
int32_t guest_store_u64(zvm_guest *g, uint64_t ptr, uint64_t v);

/* Descriptors. */
guest_fd *guest_fd_get(zvm_guest *g, uint64_t fd);          /* NULL if not open */
int32_t guest_fd_alloc(zvm_guest *g, vfs_node *node, uint64_t rights, uint64_t inheriting, uint16_t flags,
                       uint32_t *out);
void guest_fd_release(zvm_guest *g, guest_fd *f);           /* closes it */
/* The channel with this alias, or NULL. */
guest_channel *guest_find_channel(zvm_guest *g, const char *alias);
/* The channel behind a device node (NULL for other nodes). */
static inline guest_channel *guest_node_channel(const vfs_node *n)
{
    return n && n->kind == VFS_DEVICE ? (guest_channel *)n->device : NULL;
}
uint8_t guest_node_filetype(const vfs_node *n);
/* The rights a descriptor on node may have at most. */
uint64_t guest_node_rights(const vfs_node *n);
/* A host -errno (from a channel) as a WASI errno. */
int32_t guest_wasi_errno(int64_t host_negative_errno);
/* Advances the virtual clock by ns. */
void guest_clock_advance(zvm_guest *g, uint64_t ns);
/* Fills a 64-byte filestat for node. */
void guest_fill_filestat(zvm_guest *g, const vfs_node *n, uint8_t *out);

/* Serves one import by name with memory mem (tests call this directly; the engine's host
 * functions go through it too).  Returns 0 and the i32 result in *result, or -1 when the
 * call ended the guest (g->exit_requested or g->trap says how), or -2 for an unknown name. */
int guest_dispatch(zvm_guest *g, const char *module, const char *name, uint8_t *mem, uint64_t mem_size,
                   const zvm_val *args, int32_t *result);

/* A call by module and name, or NULL. */
typedef struct guest_import guest_import;
const guest_import *guest_find_import(const char *module, const char *name);
/* Runs one call with the caller's memory (sets the file budget from it first). */
int32_t guest_run(zvm_guest *g, const guest_import *imp, uint8_t *mem, uint64_t mem_size, const zvm_val *args);

/* guest_snapshot.c: watching what the guest sees before zvm_fork. */
void guest_observe_call(zvm_guest *g, const guest_import *imp, const zvm_val *args);
void guest_observe_channel_io(zvm_guest *g, guest_channel *c, const void *buf, int64_t offset, int64_t done,
                              bool writing);
/* A channel transfer for the guest (wasi_fd.c, zvm_calls.c): zvm_channel_read/write, watched. */
static inline int64_t guest_channel_io(zvm_guest *g, guest_channel *c, void *buf, uint64_t size, int64_t offset,
                                       bool writing)
{
    int64_t r = writing ? zvm_channel_write(c->ch, buf, size, offset) : zvm_channel_read(c->ch, buf, size, offset);
    if (g->snap.watching)
        guest_observe_channel_io(g, c, buf, offset, r, writing);
    return r;
}

/* The tables of calls, each ending with a NULL name. */
struct guest_import {
    const char *name;
    const char *params;         /* one letter per parameter: i = i32, I = i64 */
    const char *results;        /* "" or "i" */
    guest_impl fn;
};
extern const guest_import guest_wasi_imports[];
extern const guest_import guest_zvm_imports[];

/* The calls, by file. */
#define DECLARE(name) int32_t name(zvm_guest *g, const zvm_val *a)
DECLARE(zvm_call_fork);
DECLARE(wasi_args_get);
DECLARE(wasi_args_sizes_get);
DECLARE(wasi_environ_get);
DECLARE(wasi_environ_sizes_get);
DECLARE(wasi_clock_res_get);
DECLARE(wasi_clock_time_get);
DECLARE(wasi_poll_oneoff);
DECLARE(wasi_proc_exit);
DECLARE(wasi_proc_raise);
DECLARE(wasi_sched_yield);
DECLARE(wasi_random_get);
DECLARE(wasi_sock_accept);
DECLARE(wasi_sock_recv);
DECLARE(wasi_sock_send);
DECLARE(wasi_sock_shutdown);
DECLARE(wasi_fd_advise);
DECLARE(wasi_fd_allocate);
DECLARE(wasi_fd_close);
DECLARE(wasi_fd_datasync);
DECLARE(wasi_fd_fdstat_get);
DECLARE(wasi_fd_fdstat_set_flags);
DECLARE(wasi_fd_fdstat_set_rights);
DECLARE(wasi_fd_filestat_get);
DECLARE(wasi_fd_filestat_set_size);
DECLARE(wasi_fd_filestat_set_times);
DECLARE(wasi_fd_pread);
DECLARE(wasi_fd_prestat_get);
DECLARE(wasi_fd_prestat_dir_name);
DECLARE(wasi_fd_pwrite);
DECLARE(wasi_fd_read);
DECLARE(wasi_fd_readdir);
DECLARE(wasi_fd_renumber);
DECLARE(wasi_fd_seek);
DECLARE(wasi_fd_sync);
DECLARE(wasi_fd_tell);
DECLARE(wasi_fd_write);
DECLARE(wasi_path_create_directory);
DECLARE(wasi_path_filestat_get);
DECLARE(wasi_path_filestat_set_times);
DECLARE(wasi_path_link);
DECLARE(wasi_path_open);
DECLARE(wasi_path_readlink);
DECLARE(wasi_path_remove_directory);
DECLARE(wasi_path_rename);
DECLARE(wasi_path_symlink);
DECLARE(wasi_path_unlink_file);
DECLARE(zvm_call_pread);
DECLARE(zvm_call_pwrite);
DECLARE(zvm_call_exit_);
DECLARE(zvm_call_channel_count);
DECLARE(zvm_call_channel_info);
DECLARE(zvm_call_channel_name);
#undef DECLARE

void guest_share_memory_limit(zvm_guest *g);

#endif
