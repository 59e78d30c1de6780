/*
 * image_write.c — a `wo` mount written back as a tar, byte for byte the same on every run.
 *
 * pax "restricted" format: plain ustar headers unless a name or size needs an extension.
 * Owner 0:0 with no names, and the modes and times the caller gives: nothing of the host
 * (its user, its clock) leaks into the archive.
 */
#include "image/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/archive_lib.h"

struct zvm_image_writer {
    struct archive *a;
    struct archive_entry *entry;
    zvm_image_sink sink;
    void *user;
    char *name;
    int sink_errno;            /* the first failure of the sink */
};

static la_ssize_t write_cb(struct archive *a, void *cookie, const void *buf, size_t size)
{
    zvm_image_writer *w = cookie;
    size_t done = 0;
    while (done < size) {
        int64_t r = w->sink(w->user, (const uint8_t *)buf + done, size - done);
        if (r <= 0) {
            w->sink_errno = r < 0 ? (int)-r : EIO;
            zvm_archive.archive_set_error(a, w->sink_errno, "%s", strerror(w->sink_errno));
            return -1;
        }
        done += (size_t)r;
    }
    return (la_ssize_t)size;
}

static int fail(zvm_error *err, zvm_image_writer *w, const char *what)
{
    const char *why = w->sink_errno ? strerror(w->sink_errno) : zvm_archive.archive_error_string(w->a);
    snprintf(err->msg, sizeof err->msg, "image %s: cannot write the tar: %s%s%s", w->name, what, why ? ": " : "",
             why ? why : "");
    return -1;
}

void zvm_image_writer_abort(zvm_image_writer *w)
{
    if (!w)
        return;
    if (w->a)
        zvm_archive.archive_write_free(w->a);
    if (w->entry)
        zvm_archive.archive_entry_free(w->entry);
    free(w->name);
    free(w);
}

int zvm_image_writer_new(zvm_image_sink sink, void *user, const char *name, zvm_image_writer **out, zvm_error *err)
{
    *out = NULL;
    if (zvm_image_library(name, err) < 0)
        return -1;
    zvm_image_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->name = strdup(name)) || !(w->a = zvm_archive.archive_write_new()) ||
        !(w->entry = zvm_archive.archive_entry_new())) {
        zvm_image_writer_abort(w);
        snprintf(err->msg, sizeof err->msg, "image %s: out of memory", name);
        return -1;
    }
    w->sink = sink;
    w->user = user;
    if (zvm_archive.archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        zvm_archive.archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
        zvm_archive.archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
        zvm_archive.archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
        fail(err, w, "setting up");
        zvm_image_writer_abort(w);
        return -1;
    }
    *out = w;
    return 0;
}

int zvm_image_writer_add(zvm_image_writer *w, const zvm_image_entry *e, const void *data, zvm_error *err)
{
    struct archive_entry *ae = w->entry;
    zvm_archive.archive_entry_clear(ae);
    zvm_archive.archive_entry_set_pathname(ae, e->path);
    zvm_archive.archive_entry_set_perm(ae, e->mode & 07777);
    zvm_archive.archive_entry_set_mtime(ae, e->mtime, 0);
    zvm_archive.archive_entry_set_uid(ae, 0);
    zvm_archive.archive_entry_set_gid(ae, 0);
    switch (e->type) {
    case ZVM_IMAGE_DIR: zvm_archive.archive_entry_set_filetype(ae, AE_IFDIR); break;
    case ZVM_IMAGE_SYMLINK:
        zvm_archive.archive_entry_set_filetype(ae, AE_IFLNK);
        zvm_archive.archive_entry_set_symlink(ae, e->link);
        break;
    case ZVM_IMAGE_HARDLINK:
        zvm_archive.archive_entry_set_filetype(ae, AE_IFREG);
        zvm_archive.archive_entry_set_hardlink(ae, e->link);
        break;
    case ZVM_IMAGE_FILE:
        zvm_archive.archive_entry_set_filetype(ae, AE_IFREG);
        zvm_archive.archive_entry_set_size(ae, (la_int64_t)e->size);
        break;
    }
    if (zvm_archive.archive_write_header(w->a, ae) < ARCHIVE_WARN)
        return fail(err, w, e->path);
    if (e->type == ZVM_IMAGE_FILE && e->size) {
        la_ssize_t r = zvm_archive.archive_write_data(w->a, data, e->size);
        if (r < 0 || (uint64_t)r != e->size)
            return fail(err, w, e->path);
    }
    return 0;
}

int zvm_image_writer_finish(zvm_image_writer *w, zvm_error *err)
{
    int rc = 0;
    if (zvm_archive.archive_write_close(w->a) != ARCHIVE_OK)
        rc = fail(err, w, "closing");
    zvm_image_writer_abort(w);
    return rc;
}
