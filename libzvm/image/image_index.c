/*
 * image_index.c — an image's index kept in zvm's cache, so that a tar read in place is walked
 * once per file rather than on every session (python.tar: 1,400 members in 31 MB).
 *
 * The caller names the index file; zvm keys it by the tar file's identity (device, inode,
 * size, times: docs/Snapshots.md), so an index is only ever used for the very file it
 * describes.  It holds the entries as zvm_image_open made them, then a 128-bit checksum of all of
 * it (against damage: the cache is private; every path and offset is checked besides).
 * Loading checks the digest, that every path is a normalised guest path and that every file
 * lies inside the tar; anything else and the tar is indexed again (and the index rewritten).
 * Only plain tars read in place are indexed this way: a compressed or piped one is held in
 * memory anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "digest/digest.h"
#include "image/image_impl.h"

#define INDEX_MAGIC 0x3258444956455a56ull   /* "VZEVIDX2" */

static int write_index(const zvm_image *img, const char *path)
{
    bytes_out o = { 0 };
    bytes_put64(&o, INDEX_MAGIC);
    bytes_put64(&o, img->size);
    bytes_put64(&o, img->count);
    for (size_t i = 0; i < img->count; i++) {
        const zvm_image_entry *e = &img->entries[i];
        bytes_put32(&o, e->type);
        bytes_put32(&o, e->mode);
        bytes_put64(&o, (uint64_t)e->mtime);
        bytes_put64(&o, e->offset);
        bytes_put64(&o, e->size);
        bytes_put_str(&o, e->path);
        bytes_put32(&o, e->link != NULL);
        bytes_put_str(&o, e->link ? e->link : "");
    }
    uint8_t d[16];
    if (o.oom)
        return -1;
    digest_checksum128(o.p, o.n, 0, d);
    bytes_put(&o, d, sizeof d);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && !o.oom && write(fd, o.p, o.n) == (ssize_t)o.n;
    if (fd >= 0 && (close(fd) != 0 || !ok || rename(tmp, path) != 0)) {
        unlink(tmp);
        ok = false;
    }
    free(o.p);
    return ok ? 0 : -1;
}

/* A copy of a path read from the index, if it is one the indexer could have made. */
static char *checked_path(const char *raw)
{
    const char *why;
    char *p = image_normalise_path(raw, &why);
    if (p && strcmp(p, raw) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

/* Reads the index at path into img (whose size is the tar's): 0, or -1 when it is missing,
 * damaged, or not for this tar. */
static int read_index(zvm_image *img, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 16 || st.st_size > (1 << 30)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n);
    bool whole = buf && read(fd, buf, n) == (ssize_t)n;
    close(fd);
    uint8_t d[16];
    if (whole)
        digest_checksum128(buf, n - sizeof d, 0, d);
    if (!whole || memcmp(d, buf + n - sizeof d, sizeof d) != 0) {
        free(buf);
        return -1;
    }
    bytes_in in = { buf, n - sizeof d, 0, false };
    uint64_t count = 0;
    if (bytes_get64(&in) != INDEX_MAGIC || bytes_get64(&in) != img->size || (count = bytes_get64(&in)) > n / 16 ||
        !(img->entries = calloc(count ? count : 1, sizeof *img->entries))) {
        free(buf);
        return -1;
    }
    img->cap = count;
    char raw[ZVM_IMAGE_PATH_MAX + 1], link[ZVM_IMAGE_PATH_MAX + 1];
    for (; img->count < count && !in.bad; img->count++) {
        zvm_image_entry *e = &img->entries[img->count];
        e->type = (enum zvm_image_type)bytes_get32(&in);
        e->mode = bytes_get32(&in) & 07777;
        e->mtime = (int64_t)bytes_get64(&in);
        e->offset = bytes_get64(&in);
        e->size = bytes_get64(&in);
        bool has_link = bytes_get_str(&in, raw, sizeof raw) && bytes_get32(&in);
        bytes_get_str(&in, link, sizeof link);
        if (in.bad || !(e->path = checked_path(raw)) || (has_link && !(e->link = strdup(link))) ||
            (e->type == ZVM_IMAGE_FILE && (e->offset > img->size || e->size > img->size - e->offset)))
            in.bad = true;
    }
    free(buf);
    return in.bad || in.at != in.n ? -1 : 0;
}

int zvm_image_open_cached(int fd, const char *name, uint64_t max_memory, const char *index_path, zvm_image **out,
                          zvm_error *err)
{
    struct stat st;
    if (!index_path || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return zvm_image_open(fd, name, max_memory, out, err);
    zvm_image *img = calloc(1, sizeof *img);
    if (img && (img->name = strdup(name))) {
        img->fd = fd;
        img->max_memory = max_memory && max_memory < ZVM_IMAGE_MAX_MEMORY ? max_memory : ZVM_IMAGE_MAX_MEMORY;
        img->size = (uint64_t)st.st_size;
        if (read_index(img, index_path) == 0) {
            *out = img;
            return 0;
        }
    }
    zvm_image_free(img);
    if (zvm_image_open(fd, name, max_memory, out, err) != 0)
        return -1;
    if (!zvm_image_in_memory(*out))
        write_index(*out, index_path);   /* best effort: without it, the next session indexes again */
    return 0;
}
