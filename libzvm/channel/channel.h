/*
 * channel.h — a ZeroVM channel: one declared host file, device or FIFO the guest may use, with
 * its direction, access type, quotas, accounting and optional MD5 etag.
 *
 * The manifest declares channels (Channel = uri,alias,type,etag,gets,get_size,puts,put_size);
 * the session opens them before the guest runs and closes them after.  All guest I/O goes
 * through zvm_channel_read/zvm_channel_write, which apply the quota rules of man/zvm-manifest.5:
 * a call past the count limit, or with no bytes left, fails with -EDQUOT; a call that would
 * pass the byte limit is clipped to what is left.
 *
 * A uri tcp://HOST:PORT/TOKEN or tcp-listen://HOST:PORT/TOKEN (tcp-listen://fd:N/TOKEN: a socket
 * zvm inherited, already listening) is a network channel: a one-way stream to another session,
 * framed, token-checked, with the writer's MD5 checked by the reader at the end when both keep
 * an etag (net.h).
 */
#ifndef ZVM_CHANNEL_H
#define ZVM_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "base.h"   /* zvm_error */

enum zvm_channel_type {
    ZVM_CH_SEQ_SEQ = 0,    /* sequential read, sequential write */
    ZVM_CH_RND_SEQ = 1,    /* random read, sequential (append) write */
    ZVM_CH_SEQ_RND = 2,    /* sequential read, random write */
    ZVM_CH_RND_RND = 3,    /* random read, random write */
};

enum zvm_channel_limit { ZVM_LIMIT_GETS, ZVM_LIMIT_GET_SIZE, ZVM_LIMIT_PUTS, ZVM_LIMIT_PUT_SIZE };

typedef struct zvm_channel zvm_channel;

/* What the manifest says of one channel (filled by the manifest parser). */
typedef struct zvm_channel_spec {
    char *uri;                 /* absolute host path, or a network endpoint (tcp://, tcp-listen://) */
    char *alias;               /* the guest's name, "/dev/stdin" ... */
    enum zvm_channel_type type;
    bool etag;
    int64_t limits[4];         /* gets, get_size, puts, put_size */
    int line;                  /* manifest line, for messages */
} zvm_channel_spec;

/* A channel's direction follows from its quotas: readable iff gets and get_size are both
 * non-zero, writable iff puts and put_size both are.  The manifest parser refuses a channel
 * that is neither; zvm_channel_open opens the host side accordingly. */
bool zvm_channel_spec_readable(const zvm_channel_spec *spec);
bool zvm_channel_spec_writable(const zvm_channel_spec *spec);

/* Whether a uri names a network endpoint (tcp:..., tcp-listen://...) rather than a host path. */
bool zvm_channel_uri_is_network(const char *uri);
/* NULL when a network uri is well formed, else what is wrong with it (static text). */
const char *zvm_channel_network_uri_problem(const char *uri);

/* Opens the host side.  Write channels on regular files are created/truncated (never
 * preallocated; a channel that is also readable is created but not truncated).  Directories are
 * refused.  /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd/N are zvm's own descriptors, duplicated.
 * Returns 0, or -errno (-ENOENT a missing read channel, -EISDIR a directory, ...) with err
 * naming the alias, the uri and the manifest line.  A network channel's listener binds here; the
 * connection itself is made at the first transfer (so sessions may start in any order). */
int zvm_channel_open(const zvm_channel_spec *spec, zvm_channel **out, zvm_error *err);
void zvm_channel_close(zvm_channel *ch);

const char *zvm_channel_alias(const zvm_channel *ch);
enum zvm_channel_type zvm_channel_type(const zvm_channel *ch);
bool zvm_channel_readable(const zvm_channel *ch);
bool zvm_channel_writable(const zvm_channel *ch);
int64_t zvm_channel_limit(const zvm_channel *ch, enum zvm_channel_limit which);
/* The host object's size in bytes (regular files; 0 for devices and pipes); for a channel the
 * guest may only write, the end of what this session wrote (the host file's size is not shown). */
int64_t zvm_channel_size(const zvm_channel *ch);
/* The host file descriptor (read-only images are indexed and read through it); -1 for a network channel. */
int zvm_channel_fd(const zvm_channel *ch);
/* What the host object is: 'f' regular file, 'c' character device, 'p' FIFO/pipe, 's' socket. */
char zvm_channel_kind(const zvm_channel *ch);

/* A zero-byte call transfers nothing and is not counted (but still fails when the quota is spent).
 * Reads up to size bytes.  offset < 0: sequential (at the channel's own position); offset >= 0
 * only on random-read channels (else -ESPIPE).  Returns bytes read (0 at end), or -errno:
 * -EBADF not readable, -EDQUOT quota, -EIO host failure.  Counts one get and the bytes. */
int64_t zvm_channel_read(zvm_channel *ch, void *buf, uint64_t size, int64_t offset);
/* Writes; same rules (random write channels take offset >= 0; sequential ones append). */
int64_t zvm_channel_write(zvm_channel *ch, const void *buf, uint64_t size, int64_t offset);

/* Network channels: every wait (connect, accept, read, write) ends with -ETIMEDOUT at this
 * CLOCK_MONOTONIC time (the session's Timeout); NULL: no limit.  Host channels ignore it. */
void zvm_channel_set_deadline(zvm_channel *ch, const struct timespec *deadline);
/* A network channel's end, when the session ended well: a writer connects if it never did and
 * sends the end frame with the MD5 (a writer that stops without it makes its reader fail with EIO
 * rather than see a clean end of file).  Fails (-errno, err filled) when the stream broke on
 * either side, even if the guest ignored the error; 0 for host channels. */
int zvm_channel_finish(zvm_channel *ch, zvm_error *err);
/* A network channel's end when the session failed: a writer closes without the end frame (after
 * one connect attempt if it never connected), so its reader fails at once with EIO. */
void zvm_channel_abort(zvm_channel *ch);
/* Why the last network transfer failed ("" if none did, and for host channels). */
const char *zvm_channel_problem(const zvm_channel *ch);

/* Accounting and etag, read by the report. */
typedef struct zvm_channel_stats {
    int64_t gets, get_bytes, puts, put_bytes;
    bool network;              /* a network channel: counts as network in the report */
} zvm_channel_stats;
void zvm_channel_get_stats(const zvm_channel *ch, zvm_channel_stats *out);
/* 32 hex digits + NUL of the MD5 of every byte through the channel; false if etag is off. */
bool zvm_channel_etag(zvm_channel *ch, char out[33]);

#endif
