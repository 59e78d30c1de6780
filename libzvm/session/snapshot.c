/*
 * snapshot.c — the session's snapshot cache (docs/Snapshots.md): finding a snapshot a session
 * may resume, and writing one when a guest calls zvm_fork().
 *
 * A snapshot is one file, <cache>/snapshots/<key>/<name>.snap.  The key is a SHA-256 of what
 * every run of the same program under the same setup shares: the engine build, the program's
 * and the images' file identity, the mounts, Memory, the nvram's clock and seed.  Under it sit
 * one file per set of values of the inputs the guest read before the fork (arguments,
 * environment, channel descriptions: guest_snapshot.c decides and checks them).  The file:
 *
 *     header (4 KiB): magic, sizes and offsets, checksums of the metadata and of memory
 *     metadata:       the engine's state (wasm/suspend.c), then the guest's
 *     memory:         linear memory at a 64 KiB boundary, zero pages left as holes
 *
 * A snapshot is written to a temporary name and renamed into place, so a reader sees a whole
 * file or none; it is verified (sizes, digests) before use and its engine state is checked
 * against the module; anything wrong makes the session run cold with a note, never fail.  The
 * cache holds at most cache_bytes: the least recently used snapshots go first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "digest/digest.h"
#include "session/internal.h"
#include "version.h"

#define SNAP_MAGIC "ZVMSNAP2"
#define SNAP_HEADER_SIZE 4096
#define SNAP_PAGE 65536                 /* memory starts at a wasm page boundary */
#define SNAP_PAGE_CHECK 4096            /* the unit of the memory checksum: what a hole is made of */
#define SNAP_MAX_META (256u << 20)
#define SNAP_DEFAULT_CACHE_BYTES (4ull << 30)

/* ---- the key ---- */

static void hash_str(digest_sha256_ctx *s, const char *str)
{
    digest_sha256_update(s, str ? str : "", str ? strlen(str) + 1 : 1);
}

static zvm_channel *channel_by_alias(const session_snapshot_setup *setup, const char *alias)
{
    for (size_t i = 0; i < setup->nchannels; i++)
        if (setup->channels[i] && strcmp(zvm_channel_alias(setup->channels[i]), alias) == 0)
            return setup->channels[i];
    return NULL;
}

static int compute_key(const session_snapshot_setup *setup, uint8_t key[DIGEST_SHA256_SIZE], char *why, size_t size)
{
    digest_sha256_ctx s;
    struct stat st;
    digest_sha256_init(&s);
    hash_str(&s, SNAP_MAGIC);
    session_cache_hash_engine(&s);
    session_cache_hash_identity(&s, setup->program);
    uint64_t numbers[3] = { setup->memory, (uint64_t)setup->nvram->time_seconds, setup->nvram->random_seed };
    digest_sha256_update(&s, numbers, sizeof numbers);
    for (size_t i = 0; i < setup->nvram->nfstab; i++) {
        const zvm_fstab_entry *fe = &setup->nvram->fstab[i];
        zvm_channel *ch = channel_by_alias(setup, fe->channel);
        hash_str(&s, fe->channel);
        hash_str(&s, fe->mountpoint);
        digest_sha256_update(&s, &fe->access, sizeof fe->access);
        if (!ch || fstat(zvm_channel_fd(ch), &st) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(why, size, "image %s is not a regular file", fe->channel);
            return -1;
        }
        session_cache_hash_identity(&s, &st);
    }
    digest_sha256_final(&s, key);
    return 0;
}

int session_snapshot_prepare(session_snapshot *ss, const session_snapshot_setup *setup)
{
    memset(ss, 0, sizeof *ss);
    ss->fd = -1;
    ss->cache_bytes = setup->cache_bytes ? setup->cache_bytes : SNAP_DEFAULT_CACHE_BYTES;
    if (!setup->cache_dir || !setup->cache_dir[0]) {
        snprintf(ss->note, sizeof ss->note, "snapshots off: no cache directory");
        return -1;
    }
    char top[PATH_MAX], key_hex[2 * DIGEST_SHA256_SIZE + 1];
    if (compute_key(setup, ss->key, ss->note, sizeof ss->note) != 0)
        return -1;
    digest_hex(ss->key, sizeof ss->key, key_hex);
    snprintf(top, sizeof top, "%s", setup->cache_dir);
    if (session_private_dir(top, ss->note, sizeof ss->note) != 0) {
        ss->warn = true;
        return -1;
    }
    snprintf(ss->cache, sizeof ss->cache, "%s", setup->cache_dir);
    snprintf(ss->top, sizeof ss->top, "%s/snapshots", setup->cache_dir);
    if (snprintf(ss->dir, sizeof ss->dir, "%s/%s", ss->top, key_hex) >= (int)sizeof ss->dir) {
        snprintf(ss->note, sizeof ss->note, "snapshots off: cache path too long");
        return -1;
    }
    ss->enabled = true;
    return 0;
}

/* ---- reading ---- */

/* The metadata's checksum (engine state, then guest state): against damage, like the memory's
 * (RATIONALE.md); 128 bits, since it also names the file. */
static void meta_checksum(const uint8_t *engine, size_t engine_size, const uint8_t *guest, size_t guest_size,
                          uint8_t out[16])
{
    uint8_t a[16], b[16];
    digest_checksum128(engine, engine_size, 1, a);
    digest_checksum128(guest, guest_size, 2, b);
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)(a[i] ^ (b[i] + i));
}

static uint64_t header_checksum(const struct snap_header *h)
{
    return digest_checksum64(h, offsetof(struct snap_header, header_checksum), 0);
}

/* The checksum of memory: of each 4 KiB page that is not all zero, with its index, combined so
 * that a hole and a page of zeros count the same (holes are how zero pages are stored). */
static uint64_t page_term(const uint8_t *page, uint64_t index)
{
    static const uint8_t zero[SNAP_PAGE_CHECK];
    uint64_t c = digest_checksum64(page, SNAP_PAGE_CHECK, 0);
    if (c == digest_checksum64(zero, sizeof zero, 0) && memcmp(page, zero, SNAP_PAGE_CHECK) == 0)
        return 0;
    return digest_checksum64(&c, sizeof c, index + 1);
}

static uint64_t memory_checksum(const uint8_t *mem, uint64_t size)
{
    uint64_t sum = 0;
    for (uint64_t at = 0; at < size; at += SNAP_PAGE_CHECK)
        sum += page_term(mem + at, at / SNAP_PAGE_CHECK);
    return sum;
}

/* The same over memory mapped from fd at offset: only the file's data extents are read (holes
 * are zero pages, which count nothing), so restoring touches no page the file does not hold. */
static uint64_t mapped_memory_checksum(const uint8_t *mem, uint64_t size, int fd, uint64_t offset)
{
    uint64_t sum = 0;
    for (uint64_t at = 0; at < size;) {
        off_t data = lseek(fd, (off_t)(offset + at), SEEK_DATA);
        if (data < 0)
            break;                       /* no data after at: the rest is holes */
        off_t hole = lseek(fd, data, SEEK_HOLE);
        uint64_t from = ((uint64_t)data - offset) / SNAP_PAGE_CHECK * SNAP_PAGE_CHECK;
        uint64_t to = hole < 0 ? size : (uint64_t)hole - offset;
        for (at = from; at < size && at < to; at += SNAP_PAGE_CHECK)
            sum += page_term(mem + at, at / SNAP_PAGE_CHECK);
    }
    return sum;
}

/* All of size bytes read (or written) at offset, through EINTR and short transfers. */
static bool transfer_at(int fd, void *buf, size_t size, off_t offset, bool writing)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = writing ? pwrite(fd, (char *)buf + done, size - done, offset + (off_t)done)
                            : pread(fd, (char *)buf + done, size - done, offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

static bool read_at(int fd, void *buf, size_t size, off_t offset)
{
    return transfer_at(fd, buf, size, offset, false);
}

static bool write_at(int fd, const void *buf, size_t size, off_t offset)
{
    return transfer_at(fd, (void *)buf, size, offset, true);
}

/* Opens and verifies one candidate; 0 and ss filled when it is whole and the guest's inputs
 * match, else 1 (not for this session) or -1 (damaged: the caller removes it), why says. */
static int try_candidate(session_snapshot *ss, const char *path, zvm_guest *g, char *why, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct snap_header h;
    struct stat st;
    if (fd < 0)
        return 1;
    int rc = -1;
    uint8_t *meta = NULL;
    if (fstat(fd, &st) != 0 || !read_at(fd, &h, sizeof h, 0)) {
        snprintf(why, size, "truncated");
    } else if (memcmp(h.magic, SNAP_MAGIC, 8) != 0 || h.header_size != SNAP_HEADER_SIZE ||
               h.header_checksum != header_checksum(&h) || memcmp(h.key, ss->key, sizeof h.key) != 0) {
        snprintf(why, size, "damaged header");
    } else if ((uint64_t)st.st_size != h.file_size || h.meta_offset + h.meta_size > h.file_size ||
               h.memory_offset + h.memory_size > h.file_size || h.meta_size > SNAP_MAX_META ||
               h.engine_size > h.meta_size || h.memory_offset % SNAP_PAGE || h.memory_size % SNAP_PAGE) {
        snprintf(why, size, "truncated or damaged (sizes)");
    } else if (!(meta = malloc(h.meta_size ? h.meta_size : 1)) ||
               !read_at(fd, meta, h.meta_size, (off_t)h.meta_offset)) {
        snprintf(why, size, "cannot read its metadata");
    } else {
        uint8_t d[16];
        meta_checksum(meta, h.engine_size, meta + h.engine_size, h.meta_size - h.engine_size, d);
        zvm_error err;
        if (memcmp(d, h.meta_sum, sizeof d) != 0) {
            snprintf(why, size, "damaged metadata");
        } else if (zvm_guest_check(g, meta + h.engine_size, h.meta_size - h.engine_size, &err) != 0) {
            snprintf(why, size, "%s", err.msg);
            rc = 1;
        } else {
            rc = 0;
        }
    }
    if (rc != 0) {
        free(meta);
        close(fd);
        return rc;
    }
    ss->fd = fd;
    ss->header = h;
    ss->meta = meta;
    snprintf(ss->path, sizeof ss->path, "%s", path);
    return 0;
}

int session_snapshot_find(session_snapshot *ss, zvm_guest *g, void (*note)(void *, const char *), void *user)
{
    DIR *d = opendir(ss->dir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[PATH_MAX + 256], why[300];
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".snap") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", ss->dir, e->d_name);
        int rc = try_candidate(ss, path, g, why, sizeof why);
        if (rc == 0) {
            closedir(d);
            utimensat(AT_FDCWD, path, NULL, 0);   /* recently used: the last to be evicted */
            return 0;
        }
        char msg[PATH_MAX + 400];
        snprintf(msg, sizeof msg, "snapshot %s %s: %s", path, rc < 0 ? "is damaged, removed" : "does not apply", why);
        note(user, msg);
        if (rc < 0)
            unlink(path);
    }
    closedir(d);
    return -1;
}

const uint8_t *session_snapshot_engine_state(const session_snapshot *ss, size_t *size)
{
    *size = ss->header.engine_size;
    return ss->meta;
}

const uint8_t *session_snapshot_guest_state(const session_snapshot *ss, size_t *size)
{
    *size = ss->header.meta_size - ss->header.engine_size;
    return ss->meta + ss->header.engine_size;
}

int session_snapshot_map_memory(session_snapshot *ss, zvm_memory *mem, zvm_error *err)
{
    if (!mem)
        return ss->header.memory_size ? (snprintf(err->msg, sizeof err->msg, "the program has no memory"), -1) : 0;
    if (zvm_memory_map_file(mem, ss->fd, ss->header.memory_offset, ss->header.memory_size, err) != 0)
        return -1;
    uint64_t size;
    const uint8_t *base = zvm_memory_data(mem, &size);
    if (mapped_memory_checksum(base, size, ss->fd, ss->header.memory_offset) != ss->header.memory_checksum) {
        snprintf(err->msg, sizeof err->msg, "snapshot %s: its memory is damaged", ss->path);
        unlink(ss->path);
        return -1;
    }
    return 0;
}

void session_snapshot_close(session_snapshot *ss)
{
    if (ss->fd >= 0)
        close(ss->fd);
    ss->fd = -1;
    free(ss->meta);
    ss->meta = NULL;
}

/* ---- writing ---- */

/* Writes memory's non-zero pages; zero pages stay holes. */
static bool write_memory(int fd, const uint8_t *mem, uint64_t size, off_t offset)
{
    static const uint8_t zero[SNAP_PAGE_CHECK];
    for (uint64_t at = 0; at < size;) {
        if (memcmp(mem + at, zero, SNAP_PAGE_CHECK) == 0) {
            at += SNAP_PAGE_CHECK;
            continue;
        }
        uint64_t end = at + SNAP_PAGE_CHECK;
        while (end < size && memcmp(mem + end, zero, SNAP_PAGE_CHECK) != 0)
            end += SNAP_PAGE_CHECK;
        if (!write_at(fd, mem + at, end - at, offset + (off_t)at))
            return false;
        at = end;
    }
    return true;
}

struct cached_file {
    char path[PATH_MAX + 512];
    struct timespec used;                /* its mtime: written, or last used */
    off_t bytes;
};

static int by_use(const void *a, const void *b)
{
    const struct timespec *x = &((const struct cached_file *)a)->used, *y = &((const struct cached_file *)b)->used;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? -1 : 1;
    return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

struct cached_files {
    struct cached_file *files;
    size_t n, cap;
    uint64_t total;
};

/* Adds the files of dir (not the hidden ones: files being written). */
static void collect(struct cached_files *c, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (c->n == c->cap) {
            struct cached_file *more = realloc(c->files, (c->cap ? c->cap * 2 : 64) * sizeof *more);
            if (!more)
                break;
            c->files = more;
            c->cap = c->cap ? c->cap * 2 : 64;
        }
        struct cached_file *f = &c->files[c->n];
        snprintf(f->path, sizeof f->path, "%s/%s", dir, e->d_name);
        if (lstat(f->path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        f->used = st.st_mtim;
        f->bytes = st.st_blocks * 512;
        c->total += (uint64_t)f->bytes;
        c->n++;
    }
    if (d)
        closedir(d);
}

/* Keeps the cache under its bound: removes the least recently used snapshots (a use touches
 * one) and the programs zvsh extracted, by when they were extracted (a program is never
 * touched: that would change its identity, which the snapshots' keys hold). */
static void evict(const session_snapshot *ss)
{
    struct cached_files c = { 0 };
    char dir[PATH_MAX + 256];
    DIR *top = opendir(ss->top);
    struct dirent *k;
    while (top && (k = readdir(top)))
        if (k->d_name[0] != '.') {
            snprintf(dir, sizeof dir, "%s/%s", ss->top, k->d_name);
            collect(&c, dir);
        }
    if (top)
        closedir(top);
    snprintf(dir, sizeof dir, "%s/programs", ss->cache);
    collect(&c, dir);
    qsort(c.files, c.n, sizeof *c.files, by_use);
    for (size_t i = 0; i < c.n && c.total > ss->cache_bytes; i++)
        if (unlink(c.files[i].path) == 0)
            c.total -= (uint64_t)c.files[i].bytes;
    free(c.files);
}

int session_snapshot_save(session_snapshot *ss, zvm_guest *g, zvm_call *call, char *why, size_t size)
{
    zvm_error err;
    uint8_t *engine = NULL, *guest = NULL;
    size_t engine_size, guest_size;
    if (zvm_guest_save(g, &guest, &guest_size, &err) != 0 ||
        zvm_call_save_state(call, &engine, &engine_size, &err) != 0) {
        snprintf(why, size, "%s", err.msg);
        free(guest);
        return 1;
    }
    uint64_t mem_size = 0;
    const uint8_t *mem = zvm_call_memory(call, &mem_size);
    struct snap_header h = { .header_size = SNAP_HEADER_SIZE };
    memcpy(h.magic, SNAP_MAGIC, 8);
    memcpy(h.key, ss->key, sizeof h.key);
    h.meta_offset = SNAP_HEADER_SIZE;
    h.engine_size = engine_size;
    h.meta_size = engine_size + guest_size;
    h.memory_offset = (h.meta_offset + h.meta_size + SNAP_PAGE - 1) / SNAP_PAGE * SNAP_PAGE;
    h.memory_size = mem ? mem_size : 0;
    h.file_size = h.memory_offset + h.memory_size;
    h.memory_checksum = mem ? memory_checksum(mem, mem_size) : 0;
    meta_checksum(engine, engine_size, guest, guest_size, h.meta_sum);
    h.header_checksum = header_checksum(&h);

    char name[2 * DIGEST_SHA256_SIZE + 1], tmp[PATH_MAX + 64], final[PATH_MAX + 128];
    digest_hex(h.meta_sum, sizeof h.meta_sum, name);
    snprintf(tmp, sizeof tmp, "%s/.tmp.XXXXXX", ss->dir);
    snprintf(final, sizeof final, "%s/%s.snap", ss->dir, name);
    int fd = -1, rc = -1;
    if (session_private_dir(ss->top, why, size) != 0 || session_private_dir(ss->dir, why, size) != 0) {
        /* why says */
    } else if ((fd = mkstemp(tmp)) < 0) {
        snprintf(why, size, "cannot create a file in %s: %s", ss->dir, strerror(errno));
    } else if (ftruncate(fd, (off_t)h.file_size) != 0 || !write_at(fd, &h, sizeof h, 0) ||
               !write_at(fd, engine, engine_size, (off_t)h.meta_offset) ||
               !write_at(fd, guest, guest_size, (off_t)(h.meta_offset + engine_size)) ||
               (mem && !write_memory(fd, mem, mem_size, (off_t)h.memory_offset))) {
        snprintf(why, size, "cannot write %s: %s", tmp, errno ? strerror(errno) : "short write");
    } else if (close(fd) != 0 || (fd = -1, rename(tmp, final) != 0)) {
        snprintf(why, size, "cannot put %s in place: %s", final, strerror(errno));
    } else {
        snprintf(ss->path, sizeof ss->path, "%s", final);
        rc = 0;
    }
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    free(engine);
    free(guest);
    if (rc == 0)
        evict(ss);
    return rc;
}
