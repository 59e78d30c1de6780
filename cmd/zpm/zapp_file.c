/* zapp_file.c — a .zapp read back: the uncompressed tar (what deploy uploads) and its files. */
#include "zpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/archive_lib.h"

/* Appends what remains of the current entry (or raw stream) to *data. */
static int slurp(struct archive *a, unsigned char **data, size_t *size)
{
    unsigned char chunk[65536];
    la_ssize_t n;
    while ((n = zvm_archive.archive_read_data(a, chunk, sizeof chunk)) > 0) {
        unsigned char *grown = realloc(*data, *size + (size_t)n + 1);
        if (!grown)
            return -1;
        memcpy(grown + *size, chunk, (size_t)n);
        *data = grown;
        *size += (size_t)n;
        (*data)[*size] = '\0';
    }
    return n < 0 ? -1 : 0;
}

int zpm_zapp_file_read(const char *path, zpm_zapp_file *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof *out);
    zvm_error why;
    if (zvm_archive_load(&why) < 0) {
        snprintf(err, errsize, "cannot read %s: %s", path, why.msg);
        return -1;
    }
    /* 1. gunzip the whole file: the "raw" format hands the decompressed stream as one entry. */
    struct archive *a = zvm_archive.archive_read_new();
    zvm_archive.archive_read_support_filter_gzip(a);
    zvm_archive.archive_read_support_format_raw(a);
    struct archive_entry *e;
    if (zvm_archive.archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
        zvm_archive.archive_read_next_header(a, &e) != ARCHIVE_OK || zvm_archive.archive_filter_count(a) < 2 ||
        slurp(a, &out->tar, &out->tar_size) != 0) {
        snprintf(err, errsize, "%s is not a .zapp (a gzipped tar made by 'zpm bundle'): %s", path,
                 zvm_archive.archive_filter_count(a) < 2 && zvm_archive.archive_errno(a) == 0
                     ? "not gzip-compressed"
                     : zvm_archive.archive_error_string(a));
        zvm_archive.archive_read_free(a);
        zpm_zapp_file_free(out);
        return -1;
    }
    zvm_archive.archive_read_free(a);

    /* 2. the tar's regular files */
    a = zvm_archive.archive_read_new();
    zvm_archive.archive_read_support_format_tar(a);
    int rc = zvm_archive.archive_read_open_memory(a, out->tar, out->tar_size);
    while (rc == ARCHIVE_OK && (rc = zvm_archive.archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (zvm_archive.archive_entry_filetype(e) != AE_IFREG)
            continue;
        zpm_member *grown = realloc(out->members, (out->member_count + 1) * sizeof *grown);
        if (!grown) {
            rc = ARCHIVE_FATAL;
            break;
        }
        out->members = grown;
        zpm_member *m = &out->members[out->member_count++];
        const char *name = zvm_archive.archive_entry_pathname(e);
        if (strncmp(name, "./", 2) == 0)
            name += 2;
        m->name = strdup(name);
        m->data = NULL;
        m->size = 0;
        if (slurp(a, &m->data, &m->size) != 0)
            rc = ARCHIVE_FATAL;
        if (!m->data)
            m->data = (unsigned char *)strdup("");
    }
    if (rc != ARCHIVE_EOF) {
        snprintf(err, errsize, "%s: a damaged tar inside: %s", path, zvm_archive.archive_error_string(a));
        zvm_archive.archive_read_free(a);
        zpm_zapp_file_free(out);
        return -1;
    }
    zvm_archive.archive_read_free(a);
    return 0;
}

const zpm_member *zpm_zapp_file_member(const zpm_zapp_file *z, const char *name)
{
    for (size_t i = 0; i < z->member_count; i++)
        if (strcmp(z->members[i].name, name) == 0)
            return &z->members[i];
    return NULL;
}

void zpm_zapp_file_free(zpm_zapp_file *z)
{
    for (size_t i = 0; i < z->member_count; i++) {
        free(z->members[i].name);
        free(z->members[i].data);
    }
    free(z->members);
    free(z->tar);
    memset(z, 0, sizeof *z);
}
