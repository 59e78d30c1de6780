/*
 * image.h — tar images: the guest's read-only file systems, and the tar a `wo` mount becomes.
 *
 * Reading: zvm_image_open indexes a tar once, through libarchive, without extracting anything
 * to disk.  An uncompressed tar on a regular file is mapped only while it is indexed; its
 * files are later read with pread on the same descriptor, at the offset the index recorded.
 * A compressed tar (gzip, xz, zstd, bzip2...) or one on a pipe is read into memory once and
 * served from there: at most max_memory bytes of it (the session's Memory), counted as they
 * are inflated, before they are allocated, so a small archive of zeros cannot take the host's
 * memory.  A corrupt or truncated tar is an error that names the image.
 *
 * What the guest's file system could not hold is refused when the image is indexed, with the
 * member's name: ".." in a path, a name part over ZVM_IMAGE_NAME_MAX bytes, a path over
 * ZVM_IMAGE_PATH_MAX, a symlink with an empty target, a sparse member.  A leading '/' is
 * dropped (members are always relative to the mount point, as tar extracts them).
 *
 * Writing: zvm_image_writer makes a tar with deterministic content (the order the caller
 * adds entries in, uid/gid 0, no user or group names, the times it is given) and hands its
 * bytes to a sink (the session's channel write).
 */
#ifndef ZVM_IMAGE_H
#define ZVM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"   /* zvm_error */

enum zvm_image_type {
    ZVM_IMAGE_FILE,
    ZVM_IMAGE_DIR,
    ZVM_IMAGE_SYMLINK,
    ZVM_IMAGE_HARDLINK,        /* another name for the file at `link` (an earlier entry) */
};

/* A member's path as the guest's file system takes it: name parts and whole path. */
#define ZVM_IMAGE_NAME_MAX 255
#define ZVM_IMAGE_PATH_MAX 4096
/* The most an image may hold in memory when the caller sets no lower limit. */
#define ZVM_IMAGE_MAX_MEMORY (4ull << 30)

/* For messages: s, cut in the middle to fit ZVM_IMAGE_SHOW bytes (NUL included), so that a
 * long name leaves room for the reason after it.  Returns buf. */
#define ZVM_IMAGE_SHOW 72
const char *zvm_image_show(const char *s, char buf[ZVM_IMAGE_SHOW]);

typedef struct zvm_image_entry {
    char *path;                /* normalised: relative, no "." or empty parts, no trailing '/' */
    enum zvm_image_type type;
    uint32_t mode;             /* permission bits (07777) */
    int64_t mtime;             /* seconds */
    uint64_t offset;           /* FILE: where its bytes start in the uncompressed tar */
    uint64_t size;             /* FILE: its length */
    char *link;                /* SYMLINK: the target as stored; HARDLINK: normalised path */
} zvm_image_entry;

typedef struct zvm_image zvm_image;

/* libarchive, which reading and writing images need, is loaded on first use (archive_lib.h):
 * 0, or -1 with err ("image NAME: cannot load libarchive.so.13 ...").  zvm_image_open and
 * zvm_image_writer_new call it; a session calls it early for a `wo` image, so a missing
 * library fails it before the guest runs rather than after. */
int zvm_image_library(const char *name, zvm_error *err);

/* Indexes the tar readable on fd (not closed, not moved: only pread is used).  name is how
 * errors call the image ("/dev/1.python.tar").  max_memory: the most bytes the image may
 * hold in memory if it must be (compressed, or on a pipe); 0 or above ZVM_IMAGE_MAX_MEMORY
 * means ZVM_IMAGE_MAX_MEMORY.  Entries the guest could not use are refused (see above). */
int zvm_image_open(int fd, const char *name, uint64_t max_memory, zvm_image **out, zvm_error *err);
/* The same, with the index kept in the file index_path names (image_index.c): taken from there
 * when it holds this tar's, else made and written there.  index_path NULL: zvm_image_open. */
int zvm_image_open_cached(int fd, const char *name, uint64_t max_memory, const char *index_path, zvm_image **out,
                          zvm_error *err);
void zvm_image_free(zvm_image *img);

size_t zvm_image_count(const zvm_image *img);
const zvm_image_entry *zvm_image_entry_at(const zvm_image *img, size_t i);
/* Reads up to size bytes of a FILE entry from offset.  Returns bytes read (0 past its end)
 * or -errno (-EIO when the host file changed under us). */
int64_t zvm_image_read(const zvm_image *img, const zvm_image_entry *e, void *buf, uint64_t size, uint64_t offset);
/* True when the image's bytes live in memory (compressed or not seekable). */
int zvm_image_in_memory(const zvm_image *img);
/* The bytes of the image held in memory (0 when it is read in place). */
uint64_t zvm_image_memory(const zvm_image *img);

/* ---- writing ---------------------------------------------------------- */

/* Takes size bytes; returns how many it took (> 0) or -errno. */
typedef int64_t (*zvm_image_sink)(void *user, const void *buf, size_t size);
typedef struct zvm_image_writer zvm_image_writer;

int zvm_image_writer_new(zvm_image_sink sink, void *user, const char *name, zvm_image_writer **out, zvm_error *err);
/* Adds one entry (path as in the index; FILE: data holds e->size bytes).  The archive is
 * written in the order of the calls: callers sort for determinism. */
int zvm_image_writer_add(zvm_image_writer *w, const zvm_image_entry *e, const void *data, zvm_error *err);
/* Writes the end of the archive and frees the writer (also on failure). */
int zvm_image_writer_finish(zvm_image_writer *w, zvm_error *err);
/* Frees without finishing (after an error elsewhere). */
void zvm_image_writer_abort(zvm_image_writer *w);

#endif
