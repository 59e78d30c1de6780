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

#include <openssl/evp.h>

/* Host reads and writes move at most this much per system call (Linux caps at ~2 GiB anyway). */
#define MAX_IO (1u << 30)

struct zvm_channel {
    char *alias, *uri;
    enum zvm_channel_type type;
    int64_t limits[4];
    bool readable, writable;
    int fd;
    char kind;                 /* 'f' 'c' 'p' 's' */
    zvm_channel_stats stats;
    EVP_MD_CTX *md5;           /* NULL when etag is off */
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
    snprintf(err->msg, sizeof err->msg, "channel %s (%s, manifest line %d): %s", spec->alias, spec->uri, spec->line, what);
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
        snprintf(what, sizeof what, "cannot open for %s: %s", readable && writable ? "reading and writing" : writable ? "writing" : "reading",
                 strerror(e));
        return open_fail(err, spec, e, what);
    }
    return fd;
}

int zvm_channel_open(const zvm_channel_spec *spec, zvm_channel **out, zvm_error *err)
{
    if (strncmp(spec->uri, "tcp:", 4) == 0)
        return open_fail(err, spec, ENOTSUP, "tcp: channels are not supported yet");
    bool readable = zvm_channel_spec_readable(spec), writable = zvm_channel_spec_writable(spec);
    if (!readable && !writable)
        return open_fail(err, spec, EINVAL, "can be neither read nor written (all of its limits are 0)");

    int fd = open_host(spec, readable, writable, err);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return open_fail(err, spec, e, "cannot stat the opened object");
    }
    /* Append writes (type 1) start at the end of what a read-write file already holds. */
    if (S_ISREG(st.st_mode) && writable && spec->type == ZVM_CH_RND_SEQ && own_descriptor(spec->uri) < 0)
        lseek(fd, 0, SEEK_END);

    zvm_channel *ch = calloc(1, sizeof *ch);
    if (ch) {
        ch->alias = strdup(spec->alias);
        ch->uri = strdup(spec->uri);
        if (spec->etag && (ch->md5 = EVP_MD_CTX_new()) != NULL && !EVP_DigestInit_ex(ch->md5, EVP_md5(), NULL)) {
            EVP_MD_CTX_free(ch->md5);
            ch->md5 = NULL;
        }
    }
    if (!ch || !ch->alias || !ch->uri || (spec->etag && !ch->md5)) {
        close(fd);
        if (ch) {
            ch->fd = -1;
            zvm_channel_close(ch);
        }
        return open_fail(err, spec, ENOMEM, "out of memory");
    }
    ch->type = spec->type;
    memcpy(ch->limits, spec->limits, sizeof ch->limits);
    ch->readable = readable;
    ch->writable = writable;
    ch->fd = fd;
    ch->kind = kind_of(st.st_mode);
    *out = ch;
    return 0;
}

void zvm_channel_close(zvm_channel *ch)
{
    if (!ch)
        return;
    if (ch->fd >= 0)
        close(ch->fd);
    EVP_MD_CTX_free(ch->md5);
    free(ch->alias);
    free(ch->uri);
    free(ch);
}

const char *zvm_channel_alias(const zvm_channel *ch) { return ch->alias; }
enum zvm_channel_type zvm_channel_type(const zvm_channel *ch) { return ch->type; }
bool zvm_channel_readable(const zvm_channel *ch) { return ch->readable; }
bool zvm_channel_writable(const zvm_channel *ch) { return ch->writable; }
int64_t zvm_channel_limit(const zvm_channel *ch, enum zvm_channel_limit which) { return ch->limits[which]; }
int zvm_channel_fd(const zvm_channel *ch) { return ch->fd; }
char zvm_channel_kind(const zvm_channel *ch) { return ch->kind; }

int64_t zvm_channel_size(const zvm_channel *ch)
{
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

/* A host errno as the guest should see it: the meaningful ones pass, the rest are -EIO. */
static int64_t guest_errno(int e)
{
    switch (e) {
    case ESPIPE: case EPIPE: case ENOSPC: case EFBIG: case EAGAIN: case EINVAL: case EINTR:
        return -e;
    default:
        return -EIO;
    }
}

int64_t zvm_channel_read(zvm_channel *ch, void *buf, uint64_t size, int64_t offset)
{
    if (!ch->readable)
        return -EBADF;
    if (offset >= 0 && ch->type != ZVM_CH_RND_SEQ && ch->type != ZVM_CH_RND_RND)
        return -ESPIPE;
    int64_t n = quota_allows(ch->stats.gets, ch->limits[ZVM_LIMIT_GETS], ch->stats.get_bytes, ch->limits[ZVM_LIMIT_GET_SIZE], size);
    if (n < 0 || size == 0)
        return n < 0 ? n : 0;   /* a zero-byte call transfers nothing and is not counted */
    /* No retry on EINTR: only the session's Timeout interrupts a read, and it must end it. */
    ssize_t got = offset >= 0 ? pread(ch->fd, buf, (size_t)n, offset) : read(ch->fd, buf, (size_t)n);
    if (got < 0)
        return guest_errno(errno);
    ch->stats.gets++;
    ch->stats.get_bytes += got;
    if (ch->md5 && got > 0)
        EVP_DigestUpdate(ch->md5, buf, (size_t)got);
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
        ssize_t w = offset >= 0 ? pwrite(ch->fd, buf + done, n - done, offset + (int64_t)done) : write(ch->fd, buf + done, n - done);
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
    int64_t n = quota_allows(ch->stats.puts, ch->limits[ZVM_LIMIT_PUTS], ch->stats.put_bytes, ch->limits[ZVM_LIMIT_PUT_SIZE], size);
    if (n < 0 || size == 0)
        return n < 0 ? n : 0;
    ssize_t put = write_all(ch, buf, (size_t)n, offset);
    if (put < 0)
        return guest_errno(errno);
    ch->stats.puts++;
    ch->stats.put_bytes += put;
    if (ch->md5 && put > 0)
        EVP_DigestUpdate(ch->md5, buf, (size_t)put);
    return put;
}

void zvm_channel_get_stats(const zvm_channel *ch, zvm_channel_stats *out)
{
    *out = ch->stats;
}

bool zvm_channel_etag(zvm_channel *ch, char out[33])
{
    if (!ch->md5)
        return false;
    /* Finish a copy, so the etag can be asked for mid-run and the digest keeps going. */
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    bool ok = copy && EVP_MD_CTX_copy_ex(copy, ch->md5) && EVP_DigestFinal_ex(copy, digest, &len) && len == 16;
    EVP_MD_CTX_free(copy);
    if (!ok)
        return false;
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    return true;
}
