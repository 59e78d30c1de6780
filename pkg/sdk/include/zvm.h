/*
 * zvm.h — ZeroVM's own calls, for C guests of zvm (build with zvm-cc).
 *
 * A guest normally needs none of this: its channels are files under /dev (/dev/stdin,
 * /dev/1.data.csv ...) that stdio opens, reads and writes, with the manifest's quotas.
 * These calls reach the channels directly, as ZeroVM's zvm_pread/zvm_pwrite did, and tell
 * a guest which channels it has.  They are imports of the wasm module "zvm"; a guest that
 * uses them runs only under zvm.
 *
 * Channels are numbered in the guest's order: 0 stdin, 1 stdout, 2 stderr, then the rest
 * sorted by alias.  Every call returns a negative errno on failure: -EBADF (no such channel,
 * or the wrong direction), -EFAULT (a buffer outside memory), -EINVAL (a negative offset on
 * a random channel), -EDQUOT (a quota is spent: -122), -ESPIPE, -EIO.
 */
#ifndef ZVM_H
#define ZVM_H

#include <stdint.h>
#include <string.h>

#define ZVM_IMPORT(name) __attribute__((import_module("zvm"), import_name(#name)))

/* Access types of the manifest's Channel lines. */
enum zvm_access_type {
    ZVM_SEQ_READ_SEQ_WRITE = 0,
    ZVM_RND_READ_SEQ_WRITE = 1,
    ZVM_SEQ_READ_RND_WRITE = 2,
    ZVM_RND_READ_RND_WRITE = 3,
};

#define ZVM_CHANNEL_READABLE 1
#define ZVM_CHANNEL_WRITABLE 2

/* What zvm_channel_info fills (56 bytes, the same on every guest). */
struct zvm_channel_info {
    int64_t gets, get_size, puts, put_size;   /* the manifest's limits */
    int64_t size;                              /* bytes of the host file (0 for devices, pipes) */
    int32_t type;                              /* enum zvm_access_type */
    int32_t flags;                             /* ZVM_CHANNEL_READABLE | ZVM_CHANNEL_WRITABLE */
    uint32_t name_len;                         /* strlen of the alias */
    uint32_t reserved;
};

/* Reads up to size bytes from channel ch.  offset is used on random-read channels and ignored
 * on sequential ones (which read on from where they are).  Returns bytes read (0 at the end). */
ZVM_IMPORT(zvm_pread) int32_t zvm_pread(int32_t ch, void *buf, int32_t size, int64_t offset);
/* Writes up to size bytes; a write that would pass put_size is clipped to what is left. */
ZVM_IMPORT(zvm_pwrite) int32_t zvm_pwrite(int32_t ch, const void *buf, int32_t size, int64_t offset);
/* Ends the guest now with this exit code (the report's "user return code"). */
ZVM_IMPORT(zvm_exit) _Noreturn void zvm_exit(int32_t code);
/* How many channels the manifest gave. */
ZVM_IMPORT(zvm_channel_count) int32_t zvm_channel_count(void);
/* Fills *info for channel ch.  Returns 0. */
ZVM_IMPORT(zvm_channel_info) int32_t zvm_channel_info(int32_t ch, struct zvm_channel_info *info);
/* Copies the alias of channel ch ("/dev/stdin") into buf, with its NUL when size allows.
 * Returns the alias length (without the NUL), like snprintf. */
ZVM_IMPORT(zvm_channel_name) int32_t zvm_channel_name(int32_t ch, char *buf, uint32_t size);

/* The snapshot point (2014's daemon mode, done as a snapshot: docs/Snapshots.md).  A guest
 * calls it once it has initialised itself and before it reads anything a session may change
 * (arguments, channels).  zvm saves the whole guest as it is here; a later session of the same
 * program whose inputs read so far are the same resumes from here instead of starting.
 * Returns 0 in a session that ran up to here, 1 in a session that resumed from a snapshot
 * taken here, -EALREADY (-114) when called again.  Nothing else differs: a guest that does not
 * print what it returned gives the same output either way. */
ZVM_IMPORT(zvm_fork) int32_t zvm_fork(void);

/* The number of the channel with this alias, or -1. */
static inline int32_t zvm_channel_find(const char *alias)
{
    char name[256];
    int32_t n = zvm_channel_count();
    for (int32_t i = 0; i < n; i++) {
        int32_t len = zvm_channel_name(i, name, sizeof name);
        if (len >= 0 && (uint32_t)len < sizeof name && strcmp(name, alias) == 0)
            return i;
    }
    return -1;
}

#endif
