/* boot.c — reads a tar image with libarchive to find and extract the program. */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image/archive_lib.h"

static const char *strip_prefix(const char *p)
{
    for (;;) {
        if (p[0] == '.' && p[1] == '/')
            p += 2;
        else if (p[0] == '/')
            p++;
        else
            return p;
    }
}

static int copy_data(struct archive *a, const char *out_path, char *err, size_t errsize)
{
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errsize, "cannot write %s: %s", out_path, strerror(errno));
        return -1;
    }
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = zvm_archive.archive_read_data(a, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) {
            snprintf(err, errsize, "cannot write %s: %s", out_path, strerror(errno));
            close(fd);
            return -1;
        }
    if (close(fd) != 0 || n < 0) {
        snprintf(err, errsize, "cannot extract the program to %s: %s", out_path,
                 n < 0 ? zvm_archive.archive_error_string(a) : strerror(errno));
        return -1;
    }
    return 1;
}

/* The image opened as zvm mounts it: a tar, compressed or not.  NULL with err on failure. */
static struct archive *open_image(const char *image_path, char *err, size_t errsize)
{
    zvm_error why;
    if (zvm_archive_load(&why) < 0) {
        snprintf(err, errsize, "cannot read image %s: %s", image_path, why.msg);
        return NULL;
    }
    struct archive *a = zvm_archive.archive_read_new();
    zvm_archive.archive_read_support_filter_all(a);
    zvm_archive.archive_read_support_format_tar(a);
    zvm_archive.archive_read_support_format_gnutar(a);
    if (zvm_archive.archive_read_open_filename(a, image_path, 1 << 16) != ARCHIVE_OK) {
        snprintf(err, errsize, "image %s is not a readable tar archive: %s", image_path,
                 zvm_archive.archive_error_string(a));
        zvm_archive.archive_read_free(a);
        return NULL;
    }
    return a;
}

int zvsh_check_image(const char *image_path, char *err, size_t errsize)
{
    struct archive *a = open_image(image_path, err, errsize);
    if (!a)
        return -1;
    struct archive_entry *e;
    int r, n = 0;
    while ((r = zvm_archive.archive_read_next_header(a, &e)) == ARCHIVE_OK)
        n++;
    if (r != ARCHIVE_EOF)
        snprintf(err, errsize,
                 "image %s is not a complete tar archive: %s (after %d member headers); check the file, "
                 "or make it again with tar",
                 image_path, zvm_archive.archive_error_string(a) ? zvm_archive.archive_error_string(a) : "unreadable",
                 n);
    zvm_archive.archive_read_free(a);
    return r == ARCHIVE_EOF ? 0 : -1;
}

int zvsh_extract_member(const char *image_path, const char *name, const char *out_path, char *err, size_t errsize)
{
    struct archive *a = open_image(image_path, err, errsize);
    if (!a)
        return -1;
    int rc = 0;
    const char *want = strip_prefix(name);
    struct archive_entry *e;
    int r;
    while ((r = zvm_archive.archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (zvm_archive.archive_entry_filetype(e) == AE_IFREG &&
            strcmp(strip_prefix(zvm_archive.archive_entry_pathname(e)), want) == 0) {
            rc = copy_data(a, out_path, err, errsize);
            break;
        }
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_EOF) {
        snprintf(err, errsize, "image %s is not a readable tar archive: %s", image_path,
                 zvm_archive.archive_error_string(a));
        rc = -1;
    }
    zvm_archive.archive_read_free(a);
    return rc;
}
