/*
 * image_read.c — indexing a tar image once and reading its files in place.
 *
 * How we learn where a file's bytes are: libarchive, reading a tar from one memory block
 * with no decompression filter, hands out data blocks that point straight into that block
 * (it has no reason to copy).  So we map the tar, let libarchive walk it, and turn each
 * data pointer into an offset.  If a block ever points elsewhere, or an entry's blocks are
 * not contiguous (sparse files), we refuse the image rather than guess.
 */
#include "image/image_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive_lib.h"

const char *zvm_image_show(const char *s, char buf[ZVM_IMAGE_SHOW])
{
    size_t n = strlen(s), keep = (ZVM_IMAGE_SHOW - 4) / 2;
    if (n < ZVM_IMAGE_SHOW)
        memcpy(buf, s, n + 1);
    else
        snprintf(buf, ZVM_IMAGE_SHOW, "%.*s...%s", (int)keep, s, s + n - keep);
    return buf;
}

static const char *const CANNOT_HOLD = "the guest's file system cannot hold it: fix or leave out that member";
static const char *const NOT_VALID = "check that the channel holds a valid tar archive";

/* "image NAME: WHAT: DETAIL; ADVICE", the name and the detail cut so the rest always fits
 * (WHAT names at most one member, cut too). */
static int fail_with(zvm_error *err, const char *name, const char *what, const char *detail, const char *advice)
{
    char short_name[ZVM_IMAGE_SHOW];   /* the detail is our reason or libarchive's: 200 bytes always fit */
    snprintf(err->msg, sizeof err->msg, "image %s: %s%s%.200s; %s", zvm_image_show(name, short_name), what,
             detail ? ": " : "", detail ? detail : "", advice);
    return -1;
}

static int fail(zvm_error *err, const char *name, const char *what, const char *detail)
{
    return fail_with(err, name, what, detail, NOT_VALID);
}

/* An image that would hold more than its limit in memory. */
static int too_big(zvm_error *err, const zvm_image *img, const char *how)
{
    char what[160];
    snprintf(what, sizeof what, "%s more than %llu bytes, its limit (the session's Memory)", how,
             (unsigned long long)img->max_memory);
    return fail_with(
        err, img->name, what, NULL,
        "a compressed or piped image is held in memory: raise Memory, or give it as an uncompressed tar file");
}

char *image_normalise_path(const char *in, const char **why)
{
    size_t n = strlen(in);
    char *out = malloc(n + 1);
    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    size_t o = 0;
    const char *p = in;
    *why = NULL;
    while (*p && !*why) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        if (len == 0 || (len == 1 && start[0] == '.'))
            continue;
        if (len == 2 && start[0] == '.' && start[1] == '.')
            *why = "path has '..' in it";
        else if (len > ZVM_IMAGE_NAME_MAX)
            *why = "a name in the path is longer than 255 bytes";
        if (o)
            out[o++] = '/';
        memcpy(out + o, start, len);
        o += len;
    }
    out[o] = 0;
    if (!*why && o > ZVM_IMAGE_PATH_MAX)
        *why = "path longer than 4096 bytes";
    if (*why) {
        free(out);
        return NULL;
    }
    return out;
}

static void free_entries(zvm_image *img)
{
    for (size_t i = 0; i < img->count; i++) {
        free(img->entries[i].path);
        free(img->entries[i].link);
    }
    free(img->entries);
    img->entries = NULL;
    img->count = img->cap = 0;
}

void zvm_image_free(zvm_image *img)
{
    if (!img)
        return;
    free_entries(img);
    free(img->mem);
    free(img->name);
    free(img);
}

/* The next size of a buffer that grows by doubling but never past limit; 0 when it is there. */
static size_t grow_within(size_t cap, uint64_t limit)
{
    if (cap >= limit)
        return 0;
    return cap * 2 < limit ? cap * 2 : (size_t)limit;
}

/* Reads everything from a descriptor that cannot be mapped (a pipe), at most limit bytes
 * (-EFBIG beyond). */
static int slurp_fd(int fd, uint64_t limit, uint8_t **out, uint64_t *size)
{
    size_t cap = limit < (1 << 16) ? (size_t)limit : 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (n == cap) {
            size_t more = grow_within(cap, limit);
            if (!more) {   /* full: one more byte means too big */
                ssize_t r = read(fd, buf + n, 1);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r == 0)
                    break;
                free(buf);
                return r < 0 ? -errno : -EFBIG;
            }
            uint8_t *bigger = realloc(buf, more + 1);
            if (!bigger) {
                free(buf);
                return -ENOMEM;
            }
            buf = bigger;
            cap = more;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *size = n;
    return 0;
}

/* Is the tar at base compressed?  1 yes, 0 no, -1 not readable as any archive we know. */
static int is_compressed(const uint8_t *base, uint64_t size, char *why, size_t whylen)
{
    struct archive *a = zvm_archive.archive_read_new();
    zvm_archive.archive_read_support_filter_all(a);
    zvm_archive.archive_read_support_format_tar(a);
    zvm_archive.archive_read_support_format_raw(a);
    struct archive_entry *e;
    int r = zvm_archive.archive_read_open_memory(a, base, size);
    if (r == ARCHIVE_OK)
        r = zvm_archive.archive_read_next_header(a, &e);
    int result;
    if (r < ARCHIVE_WARN && r != ARCHIVE_EOF) {
        snprintf(why, whylen, "%s",
                 zvm_archive.archive_error_string(a) ? zvm_archive.archive_error_string(a) : "unreadable");
        result = -1;
    } else {
        result = zvm_archive.archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE;
    }
    zvm_archive.archive_read_free(a);
    return result;
}

/* Inflates a compressed tar into memory: at most img->max_memory bytes, checked before the
 * buffer grows, so a bomb costs no more than the limit. */
static int decompress(zvm_image *img, const uint8_t *base, uint64_t size, zvm_error *err)
{
    struct archive *a = zvm_archive.archive_read_new();
    zvm_archive.archive_read_support_filter_all(a);
    zvm_archive.archive_read_support_format_raw(a);
    struct archive_entry *e;
    int r = zvm_archive.archive_read_open_memory(a, base, size);
    if (r == ARCHIVE_OK)
        r = zvm_archive.archive_read_next_header(a, &e);
    if (r < ARCHIVE_WARN) {
        fail(err, img->name, "cannot decompress", zvm_archive.archive_error_string(a));
        zvm_archive.archive_read_free(a);
        return -1;
    }
    uint64_t first = size < img->max_memory / 4 ? size * 4 + 4096 : img->max_memory;
    size_t cap = (size_t)(first < img->max_memory ? first : img->max_memory), n = 0;
    uint8_t *buf = malloc(cap);
    int rc =
        buf ? 0 : fail_with(err, img->name, "out of memory inflating it", NULL, "raise the host's memory or Memory");
    while (rc == 0) {
        if (n == cap) {
            size_t more = grow_within(cap, img->max_memory);
            uint8_t probe, *bigger = more ? realloc(buf, more) : NULL;
            la_ssize_t extra = more ? 0 : zvm_archive.archive_read_data(a, &probe, 1);
            if (!more && extra == 0)
                break;   /* exactly at the limit */
            if (!more && extra < 0) {
                rc = fail(err, img->name, "corrupt compressed data", zvm_archive.archive_error_string(a));
                break;
            }
            if (!more) {
                rc = too_big(err, img, "inflates to");
                break;
            }
            if (!bigger) {
                rc = fail_with(err, img->name, "out of memory inflating it", NULL, "raise the host's memory or Memory");
                break;
            }
            buf = bigger;
            cap = more;
        }
        la_ssize_t got = zvm_archive.archive_read_data(a, buf + n, cap - n);
        if (got < 0)
            rc = fail(err, img->name, "corrupt compressed data", zvm_archive.archive_error_string(a));
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    zvm_archive.archive_read_free(a);
    if (rc) {
        free(buf);
        return rc;
    }
    img->mem = buf;
    img->size = n;
    return 0;
}

/* "image NAME: member PATH: WHY; ADVICE" with both names cut to fit. */
static int member_fail(zvm_error *err, const char *name, const char *path, const char *why, const char *advice)
{
    char what[ZVM_IMAGE_SHOW + 48], short_path[ZVM_IMAGE_SHOW];
    snprintf(what, sizeof what, "%smember %s", advice == NOT_VALID ? "corrupt or truncated tar at " : "",
             zvm_image_show(path, short_path));
    return fail_with(err, name, what, why, advice);
}

static int add_entry(zvm_image *img, const zvm_image_entry *e)
{
    if (img->count == img->cap) {
        size_t cap = img->cap ? img->cap * 2 : 64;
        zvm_image_entry *bigger = realloc(img->entries, cap * sizeof *bigger);
        if (!bigger)
            return -1;
        img->entries = bigger;
        img->cap = cap;
    }
    img->entries[img->count++] = *e;
    return 0;
}

/* Where the data of the current entry lies in base; checks it is one contiguous run. */
static int locate_data(struct archive *a, const uint8_t *base, uint64_t size, uint64_t expect, uint64_t *offset,
                       const char **why)
{
    const void *block;
    size_t len;
    la_int64_t off;
    uint64_t seen = 0;
    int r;
    *offset = 0;
    while ((r = zvm_archive.archive_read_data_block(a, &block, &len, &off)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (len == 0)
            continue;
        const uint8_t *p = block;
        if (p < base || p + len > base + size) {
            *why = "data not in place (unsupported tar variant)";
            return -1;
        }
        if (seen == 0)
            *offset = (uint64_t)(p - base);
        if ((uint64_t)off != seen || (uint64_t)(p - base) != *offset + seen) {
            *why = "sparse or split file (not supported in images)";
            return -1;
        }
        seen += len;
    }
    if (r != ARCHIVE_EOF) {
        *why = zvm_archive.archive_error_string(a) ? zvm_archive.archive_error_string(a) : "unreadable data";
        return -1;
    }
    if (seen != expect) {
        *why = "file shorter than its header says (truncated tar)";
        return -1;
    }
    return 0;
}

static int index_tar(zvm_image *img, const uint8_t *base, uint64_t size, zvm_error *err)
{
    struct archive *a = zvm_archive.archive_read_new();
    zvm_archive.archive_read_support_format_tar(a);
    int r = zvm_archive.archive_read_open_memory(a, base, size);
    struct archive_entry *ae;
    int rc = 0;
    int headers = 0;
    while (r == ARCHIVE_OK && ((r = zvm_archive.archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
        headers++;
        const char *raw = zvm_archive.archive_entry_pathname(ae);
        if (!raw) {
            rc = fail(err, img->name, "entry without a name", NULL);
            break;
        }
        zvm_image_entry e = { 0 };
        const char *why;
        e.path = image_normalise_path(raw, &why);
        if (!e.path) {
            rc = member_fail(err, img->name, raw, why, CANNOT_HOLD);
            break;
        }
        if (!e.path[0]) {
            free(e.path);
            r = ARCHIVE_OK;
            continue;
        }   /* "./": the root itself */
        e.mode = (uint32_t)zvm_archive.archive_entry_perm(ae) & 07777;
        e.mtime = zvm_archive.archive_entry_mtime(ae);
        const char *hard = zvm_archive.archive_entry_hardlink(ae);
        mode_t ft = zvm_archive.archive_entry_filetype(ae);
        if (hard) {
            e.type = ZVM_IMAGE_HARDLINK;
            e.link = image_normalise_path(hard, &why);
            if (!e.link || !e.link[0]) {
                char reason[ZVM_IMAGE_SHOW + 64], short_link[ZVM_IMAGE_SHOW];
                snprintf(reason, sizeof reason, "its hard link target %s: %s", zvm_image_show(hard, short_link),
                         why ? why : "the image's root is not a file");
                rc = member_fail(err, img->name, e.path, reason, CANNOT_HOLD);
                free(e.path);
                free(e.link);
                break;
            }
        } else if (ft == AE_IFDIR) {
            e.type = ZVM_IMAGE_DIR;
        } else if (ft == AE_IFLNK) {
            e.type = ZVM_IMAGE_SYMLINK;
            const char *target = zvm_archive.archive_entry_symlink(ae);
            if (!target || !target[0]) {
                rc = member_fail(err, img->name, e.path, "a symlink with an empty target", CANNOT_HOLD);
                free(e.path);
                break;
            }
            if (strlen(target) > ZVM_IMAGE_PATH_MAX) {
                rc = member_fail(err, img->name, e.path, "a symlink target longer than 4096 bytes", CANNOT_HOLD);
                free(e.path);
                break;
            }
            e.link = strdup(target);
        } else if (ft == AE_IFREG) {
            e.type = ZVM_IMAGE_FILE;
            e.size = (uint64_t)zvm_archive.archive_entry_size(ae);
            const char *why = NULL;
            if (e.size && locate_data(a, base, size, e.size, &e.offset, &why) < 0) {
                rc = member_fail(err, img->name, e.path, why, NOT_VALID);
                free(e.path);
                break;
            }
        } else {
            free(e.path);   /* devices and FIFOs mean nothing inside the sandbox */
            r = ARCHIVE_OK;
            continue;
        }
        if ((e.type == ZVM_IMAGE_SYMLINK && !e.link) || add_entry(img, &e) < 0) {
            free(e.path);
            free(e.link);
            rc = fail_with(err, img->name, "out of memory indexing it", NULL, "raise the host's memory");
            break;
        }
        r = ARCHIVE_OK;
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = fail(err, img->name, headers ? "corrupt or truncated tar" : "not a tar archive",
                  zvm_archive.archive_error_string(a));
    zvm_archive.archive_read_free(a);
    return rc;
}

int zvm_image_library(const char *name, zvm_error *err)
{
    zvm_error why;
    if (zvm_archive_load(&why) == 0)
        return 0;
    char short_name[ZVM_IMAGE_SHOW];
    snprintf(err->msg, sizeof err->msg, "image %s: %s", zvm_image_show(name, short_name), why.msg);
    return -1;
}

int zvm_image_open(int fd, const char *name, uint64_t max_memory, zvm_image **out, zvm_error *err)
{
    *out = NULL;
    if (zvm_image_library(name, err) < 0)
        return -1;
    zvm_image *img = calloc(1, sizeof *img);
    if (!img || !(img->name = strdup(name))) {
        free(img);
        return fail_with(err, name, "out of memory", NULL, "raise the host's memory");
    }
    img->fd = fd;
    img->max_memory = max_memory && max_memory < ZVM_IMAGE_MAX_MEMORY ? max_memory : ZVM_IMAGE_MAX_MEMORY;

    struct stat st;
    if (fstat(fd, &st) < 0) {
        fail(err, name, "cannot stat the channel", strerror(errno));
        goto bad;
    }
    uint8_t *base = NULL, *mapped = NULL;
    uint64_t size = 0;
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
        if (size == 0) {
            fail(err, name, "empty file, not a tar archive", NULL);
            goto bad;
        }
        mapped = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (mapped == MAP_FAILED) {
            fail(err, name, "cannot map the channel", strerror(errno));
            goto bad;
        }
        base = mapped;
    } else {
        int r = slurp_fd(fd, img->max_memory, &img->mem, &size);
        if (r == -EFBIG) {
            too_big(err, img, "is read from a pipe and holds");
            goto bad;
        }
        if (r < 0) {
            fail(err, name, "cannot read the channel", strerror(-r));
            goto bad;
        }
        if (size == 0) {
            fail(err, name, "empty, not a tar archive", NULL);
            goto bad;
        }
        base = img->mem;
    }
    img->size = size;

    char why[256];
    int compressed = is_compressed(base, size, why, sizeof why);
    int rc = 0;
    if (compressed < 0) {
        rc = fail(err, name, "not a tar archive", why);
    } else if (compressed) {
        uint8_t *packed_copy = img->mem;   /* a slurped pipe: freed once inflated */
        img->mem = NULL;
        rc = decompress(img, base, size, err);
        free(packed_copy);
        if (rc == 0)
            rc = index_tar(img, img->mem, img->size, err);
    } else {
        rc = index_tar(img, base, size, err);
    }
    if (mapped)
        munmap(mapped, size);
    if (rc < 0)
        goto bad;
    *out = img;
    return 0;
bad:
    zvm_image_free(img);
    return -1;
}

size_t zvm_image_count(const zvm_image *img)
{
    return img->count;
}
const zvm_image_entry *zvm_image_entry_at(const zvm_image *img, size_t i)
{
    return i < img->count ? &img->entries[i] : NULL;
}
int zvm_image_in_memory(const zvm_image *img)
{
    return img->mem != NULL;
}
uint64_t zvm_image_memory(const zvm_image *img)
{
    return img->mem ? img->size : 0;
}

int64_t zvm_image_read(const zvm_image *img, const zvm_image_entry *e, void *buf, uint64_t size, uint64_t offset)
{
    if (e->type != ZVM_IMAGE_FILE)
        return -EINVAL;
    if (offset >= e->size)
        return 0;
    if (size > e->size - offset)
        size = e->size - offset;
    if (img->mem) {
        memcpy(buf, img->mem + e->offset + offset, size);
        return (int64_t)size;
    }
    uint64_t done = 0;
    while (done < size) {
        ssize_t r = pread(img->fd, (uint8_t *)buf + done, size - done, (off_t)(e->offset + offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -EIO;
        if (r == 0)
            return -EIO;          /* the host file shrank since we indexed it */
        done += (uint64_t)r;
    }
    return (int64_t)done;
}
