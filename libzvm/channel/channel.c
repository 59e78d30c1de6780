/*
 * channel.c — a declared host file, device or FIFO, with quotas, accounting and an MD5 etag.
 *
 * Positions: sequential access uses the host descriptor's own file position (read/write), random
 * access uses pread/pwrite at the guest's offset and leaves that position alone.  So a sequential
 * channel on zvm's own stdout shares the shell's file position with the report zvm prints after
 * the run, and an append-write channel (type 1) simply starts with its position at the end.
 *
 * The std streams: a uri of /dev/stdin, /dev/stdout, /dev/stderr (or /dev/fd/N, /proc/self/fd/N)
 * is zvm's own descriptor, duplicated rather than reopened: reopening would truncate a file that
 * the shell opened with >> and would lose a socket's identity.
 */
#include "channel/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "channel/md5.h"
#include "channel/net.h"

/* Host reads and writes move at most this much per system call (Linux caps at ~2 GiB anyway). */
#define MAX_IO (1u << 30)

struct zvm_channel {
    char *alias, *uri;
    enum zvm_channel_type type;
    int64_t limits[4];
    bool readable, writable;
    int fd;                    /* -1 for a network channel */
    char kind;                 /* 'f' 'c' 'p' 's' */
    zvm_channel_stats stats;
    channel_md5 *md5;          /* NULL when etag is off */
    channel_net *net;          /* a tcp:// or tcp-listen:// channel; NULL for host objects */
    bool net_end_checked;      /* reader: the writer's digest was compared at the end */
    bool net_corrupt;          /* reader: ... and it differed */
    int64_t written_end;       /* the end of what this session wrote: a write-only channel's size */
};

bool zvm_channel_spec_readable(const zvm_channel_spec *spec)
{
    return spec->limits[ZVM_LIMIT_GETS] > 0 && spec->limits[ZVM_LIMIT_GET_SIZE] > 0;
}

bool zvm_channel_spec_writable(const zvm_channel_spec *spec)
{
    return spec->limits[ZVM_LIMIT_PUTS] > 0 && spec->limits[ZVM_LIMIT_PUT_SIZE] > 0;
}

static int open_fail(zvm_error *err, const zvm_channel_spec *spec, int errnum, const char *what)
{
    snprintf(err->msg, sizeof err->msg, "channel %s (%s, manifest line %d): %s", spec->alias, spec->uri, spec->line,
             what);
    return -errnum;
}

/* The descriptor number when uri names one of zvm's own (/dev/stdout, /dev/fd/1 ...), else -1. */
static int own_descriptor(const char *uri)
{
    static const char *const std[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
    for (int i = 0; i < 3; i++)
        if (strcmp(uri, std[i]) == 0)
            return i;
    const char *num = NULL;
    if (strncmp(uri, "/dev/fd/", 8) == 0)
        num = uri + 8;
    else if (strncmp(uri, "/proc/self/fd/", 14) == 0)
        num = uri + 14;
    if (!num || *num < '0' || *num > '9')
        return -1;
    char *end;
    long n = strtol(num, &end, 10);
    return *end == '\0' && n <= INT_MAX ? (int)n : -1;
}

static char kind_of(mode_t mode)
{
    if (S_ISREG(mode))
        return 'f';
    if (S_ISCHR(mode))
        return 'c';
    if (S_ISFIFO(mode))
        return 'p';
    if (S_ISSOCK(mode))
        return 's';
    return '?';
}

/* Opens or duplicates the host object; returns the descriptor or -errno with err filled. */
static int open_host(const zvm_channel_spec *spec, bool readable, bool writable, zvm_error *err)
{
    char what[300];
    int own = own_descriptor(spec->uri);
    if (own >= 0) {
        int fd = fcntl(own, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            snprintf(what, sizeof what, "zvm's descriptor %d is not open: %s", own, strerror(errno));
            return open_fail(err, spec, EBADF, what);
        }
        return fd;
    }
    struct stat st;
    bool exists = stat(spec->uri, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return open_fail(err, spec, EISDIR, "is a directory; a channel is a file, a character device or a FIFO");
    if (exists && S_ISBLK(st.st_mode))
        return open_fail(err, spec, EINVAL, "is a block device; a channel is a file, a character device or a FIFO");
    if (!exists && errno != ENOENT) {
        snprintf(what, sizeof what, "cannot stat: %s", strerror(errno));
        return open_fail(err, spec, errno, what);
    }
    if (!exists && !writable)
        return open_fail(err, spec, ENOENT, "does not exist (a read channel needs an existing file)");

    int flags = O_CLOEXEC | O_NOCTTY | (readable && writable ? O_RDWR : writable ? O_WRONLY : O_RDONLY);
    /* Only regular files are created or truncated: and never when the guest may read them. */
    if (writable && (!exists || S_ISREG(st.st_mode)))
        flags |= O_CREAT | (readable ? 0 : O_TRUNC);
    int fd = open(spec->uri, flags, 0666);
    if (fd < 0) {
        int e = errno;
        snprintf(what, sizeof what, "cannot open for %s: %s",
                 readable && writable ? "reading and writing"
                 : writable           ? "writing"
                                      : "reading",
                 strerror(e));
        return open_fail(err, spec, e, what);
    }
    return fd;
}

/* A network channel is a one-way stream: sequential, and read or written, not both. */
static int open_network(const zvm_channel_spec *spec, bool readable, bool writable, channel_net **net, zvm_error *err)
{
    const char *problem = zvm_channel_network_uri_problem(spec->uri);
    if (problem)
        return open_fail(err, spec, EINVAL, problem);
    if (readable == writable || spec->type != ZVM_CH_SEQ_SEQ)
        return open_fail(
            err, spec, EINVAL,
            "a network channel is type 0 and either read or written (set gets/get_size or puts/put_size to 0)");
    char why[300];
    int rc = channel_net_open(spec->uri, writable, net, why, sizeof why);
    return rc ? open_fail(err, spec, -rc, why) : 0;
}

/* Opens the host object (fd, kind) or the network endpoint (net). */
static int open_endpoint(const zvm_channel_spec *spec, bool readable, bool writable, int *fd, char *kind,
                         channel_net **net, zvm_error *err)
{
    if (zvm_channel_uri_is_network(spec->uri)) {
        *fd = -1;
        *kind = 's';
        return open_network(spec, readable, writable, net, err);
    }
    *fd = open_host(spec, readable, writable, err);
    if (*fd < 0)
        return *fd;
    struct stat st;
    if (fstat(*fd, &st) != 0) {
        int e = errno;
        close(*fd);
        return open_fail(err, spec, e, "cannot stat the opened object");
    }
    /* Append writes (type 1) start at the end of what a read-write file already holds. */
    if (S_ISREG(st.st_mode) && writable && spec->type == ZVM_CH_RND_SEQ && own_descriptor(spec->uri) < 0)
        lseek(*fd, 0, SEEK_END);
    *kind = kind_of(st.st_mode);
    return 0;
}

static channel_md5 *md5_new(void)
{
    channel_md5 *md5 = malloc(sizeof *md5);
    if (md5)
        channel_md5_init(md5);
    return md5;
}

int zvm_channel_open(const zvm_channel_spec *spec, zvm_channel **out, zvm_error *err)
{
    bool readable = zvm_channel_spec_readable(spec), writable = zvm_channel_spec_writable(spec);
    if (!readable && !writable)
        return open_fail(err, spec, EINVAL, "can be neither read nor written (all of its limits are 0)");

    int fd;
    char kind;
    channel_net *net = NULL;
    int rc = open_endpoint(spec, readable, writable, &fd, &kind, &net, err);
    if (rc)
        return rc;
    zvm_channel *ch = calloc(1, sizeof *ch);
    bool want_md5 = spec->etag;
    if (ch) {
        ch->fd = fd;
        ch->net = net;
        ch->alias = strdup(spec->alias);
        ch->uri = strdup(spec->uri);
        ch->md5 = want_md5 ? md5_new() : NULL;
    }
    if (!ch || !ch->alias || !ch->uri || (want_md5 && !ch->md5)) {
        if (ch)
            zvm_channel_close(ch);
        else {
            if (fd >= 0)
                close(fd);
            channel_net_close(net);
        }
        return open_fail(err, spec, ENOMEM, "out of memory");
    }
    ch->type = spec->type;
    memcpy(ch->limits, spec->limits, sizeof ch->limits);
    ch->readable = readable;
    ch->writable = writable;
    ch->kind = kind;
    ch->stats.network = net != NULL;
    *out = ch;
    return 0;
}

void zvm_channel_close(zvm_channel *ch)
{
    if (!ch)
        return;
    if (ch->fd >= 0)
        close(ch->fd);
    channel_net_close(ch->net);
    free(ch->md5);
    free(ch->alias);
    free(ch->uri);
    free(ch);
}

const char *zvm_channel_alias(const zvm_channel *ch)
{
    return ch->alias;
}
enum zvm_channel_type zvm_channel_type(const zvm_channel *ch)
{
    return ch->type;
}
bool zvm_channel_readable(const zvm_channel *ch)
{
    return ch->readable;
}
bool zvm_channel_writable(const zvm_channel *ch)
{
    return ch->writable;
}
int64_t zvm_channel_limit(const zvm_channel *ch, enum zvm_channel_limit which)
{
    return ch->limits[which];
}
int zvm_channel_fd(const zvm_channel *ch)
{
    return ch->fd;
}
char zvm_channel_kind(const zvm_channel *ch)
{
    return ch->kind;
}

int64_t zvm_channel_size(const zvm_channel *ch)
{
    /* A channel the guest may only write shows it only what it wrote: what the host file held
     * before is none of its business, and the guest's run must not depend on it (the same
     * inputs, the same outputs; and a snapshot's dependencies stay the same from run to run). */
    if (!ch->readable)
        return ch->written_end;
    struct stat st;
    if (ch->kind != 'f' || fstat(ch->fd, &st) != 0)
        return 0;
    return st.st_size;
}

/* How many of size bytes the quota lets through now: -EDQUOT when the count is used up or no
 * bytes are left, else size clipped to the bytes left. */
static int64_t quota_allows(int64_t calls, int64_t call_limit, int64_t bytes, int64_t byte_limit, uint64_t size)
{
    if (calls >= call_limit || bytes >= byte_limit)
        return -EDQUOT;
    uint64_t left = (uint64_t)(byte_limit - bytes);
    if (size > left)
        size = left;
    return size > MAX_IO ? MAX_IO : (int64_t)size;
}

static bool channel_net_stream_intact(zvm_channel *ch);

/* A host errno as the guest should see it: the meaningful ones pass, the rest are -EIO. */
static int64_t guest_errno(int e)
{
    switch (e) {
    case ESPIPE:
    case EPIPE:
    case ENOSPC:
    case EFBIG:
    case EAGAIN:
    case EINVAL:
    case EINTR: return -e;
    default: return -EIO;
    }
}

int64_t zvm_channel_read(zvm_channel *ch, void *buf, uint64_t size, int64_t offset)
{
    if (!ch->readable)
        return -EBADF;
    if (offset >= 0 && ch->type != ZVM_CH_RND_SEQ && ch->type != ZVM_CH_RND_RND)
        return -ESPIPE;
    int64_t n = quota_allows(ch->stats.gets, ch->limits[ZVM_LIMIT_GETS], ch->stats.get_bytes,
                             ch->limits[ZVM_LIMIT_GET_SIZE], size);
    if (n < 0 || size == 0)
        return n < 0 ? n : 0;   /* a zero-byte call transfers nothing and is not counted */
    /* No retry on EINTR: only the session's Timeout interrupts a read, and it must end it. */
    ssize_t got;
    if (ch->net) {
        got = channel_net_read(ch->net, buf, (size_t)n);
        if (got < 0)
            return guest_errno(-(int)got);
    } else {
        got = offset >= 0 ? pread(ch->fd, buf, (size_t)n, offset) : read(ch->fd, buf, (size_t)n);
        if (got < 0)
            return guest_errno(errno);
    }
    ch->stats.gets++;
    ch->stats.get_bytes += got;
    if (ch->md5 && got > 0)
        channel_md5_update(ch->md5, buf, (size_t)got);
    if (ch->net && got == 0 && !channel_net_stream_intact(ch))
        return -EIO;
    return got;
}

/* write(2) of all n bytes (pipes and sockets may take less at a time).  SIGPIPE is blocked for the
 * call and a pending one consumed, so a reader that went away is -EPIPE for the guest and never
 * kills the host. */
static ssize_t write_all(zvm_channel *ch, const char *buf, size_t n, int64_t offset)
{
    bool may_sigpipe = ch->kind == 'p' || ch->kind == 's';
    sigset_t pipe_set, old;
    if (may_sigpipe) {
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    }
    size_t done = 0;
    int e = 0;
    while (done < n) {
        ssize_t w = offset >= 0 ? pwrite(ch->fd, buf + done, n - done, offset + (int64_t)done)
                                : write(ch->fd, buf + done, n - done);
        if (w <= 0) {   /* EINTR included: see zvm_channel_read */
            e = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    if (may_sigpipe) {
        if (e == EPIPE) {
            const struct timespec zero = { 0, 0 };
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                ;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (done == 0 && e != 0) {
        errno = e;
        return -1;
    }
    return (ssize_t)done;
}

int64_t zvm_channel_write(zvm_channel *ch, const void *buf, uint64_t size, int64_t offset)
{
    if (!ch->writable)
        return -EBADF;
    if (offset >= 0 && ch->type != ZVM_CH_SEQ_RND && ch->type != ZVM_CH_RND_RND)
        return -ESPIPE;
    int64_t n = quota_allows(ch->stats.puts, ch->limits[ZVM_LIMIT_PUTS], ch->stats.put_bytes,
                             ch->limits[ZVM_LIMIT_PUT_SIZE], size);
    if (n < 0 || size == 0)
        return n < 0 ? n : 0;
    ssize_t put;
    if (ch->net) {
        put = channel_net_write(ch->net, buf, (size_t)n);
        if (put < 0)
            return guest_errno(-(int)put);
    } else {
        put = write_all(ch, buf, (size_t)n, offset);
        if (put < 0)
            return guest_errno(errno);
    }
    ch->stats.puts++;
    ch->stats.put_bytes += put;
    int64_t end = (offset >= 0 ? offset : ch->written_end) + put;
    if (end > ch->written_end)
        ch->written_end = end;
    if (ch->md5 && put > 0)
        channel_md5_update(ch->md5, buf, (size_t)put);
    return put;
}

void zvm_channel_get_stats(const zvm_channel *ch, zvm_channel_stats *out)
{
    *out = ch->stats;
}

/* The MD5 of the bytes so far (it can be asked for mid-run: the digest keeps going). */
static bool md5_so_far(zvm_channel *ch, unsigned char digest[16])
{
    if (!ch->md5)
        return false;
    channel_md5_digest(ch->md5, digest);
    return true;
}

/* At the reader's end of stream: does what arrived hash to what the writer sent? */
static bool channel_net_stream_intact(zvm_channel *ch)
{
    if (ch->net_end_checked)
        return true;
    ch->net_end_checked = true;
    const unsigned char *theirs = channel_net_peer_md5(ch->net);
    unsigned char digest[16];
    if (!theirs || !ch->md5)   /* one of the two ends keeps no digest: nothing to compare */
        return true;
    ch->net_corrupt = !md5_so_far(ch, digest) || memcmp(digest, theirs, 16) != 0;
    return !ch->net_corrupt;
}

void zvm_channel_set_deadline(zvm_channel *ch, const struct timespec *deadline)
{
    if (ch->net)
        channel_net_set_deadline(ch->net, deadline);
}

int zvm_channel_finish(zvm_channel *ch, zvm_error *err)
{
    unsigned char digest[16];
    if (!ch->net)
        return 0;
    int rc = zvm_channel_problem(ch)[0] ? -EIO
             : !ch->writable            ? 0
             : !ch->md5                 ? channel_net_finish(ch->net, NULL)
             : md5_so_far(ch, digest)   ? channel_net_finish(ch->net, digest)
                                        : -ENOMEM;
    if (rc)
        snprintf(err->msg, sizeof err->msg, "channel %s (%s): %s", ch->alias, ch->uri,
                 rc == -ENOMEM ? "out of memory" : zvm_channel_problem(ch));
    return rc;
}

void zvm_channel_abort(zvm_channel *ch)
{
    if (ch->net)
        channel_net_abort(ch->net);
}

const char *zvm_channel_problem(const zvm_channel *ch)
{
    if (ch->net_corrupt)
        return "the stream's MD5 differs from the one its writer sent (corrupted in transit)";
    return ch->net ? channel_net_error(ch->net) : "";
}

bool zvm_channel_etag(zvm_channel *ch, char out[33])
{
    unsigned char digest[16];
    if (!md5_so_far(ch, digest))
        return false;
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    return true;
}
