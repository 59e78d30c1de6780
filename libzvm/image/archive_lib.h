/*
 * archive_lib.h — libarchive, loaded on first use (dynlib.h): only sessions that mount or write
 * a tar image, zvsh reading one and zpm's bundles need it, so a plain session never maps it
 * and the dozen libraries behind it.
 *
 * Call zvm_archive_load first; then zvm_archive.NAME is libarchive's NAME, with its own type:
 *     if (zvm_archive_load(err) < 0) return -1;
 *     struct archive *a = zvm_archive.archive_read_new();
 * Used by libzvm/image, cmd/zvsh/boot.c and cmd/zpm (bundles); nothing links -larchive.
 */
#ifndef ZVM_ARCHIVE_LIB_H
#define ZVM_ARCHIVE_LIB_H

#include <archive.h>
#include <archive_entry.h>

#include "base.h"
#include "dynlib.h"

/* libarchive 3's soname since 2011 (3.0); Debian's package of it. */
#define ZVM_ARCHIVE_SONAME "libarchive.so.13"
#define ZVM_ARCHIVE_PACKAGE "libarchive13"

/* clang-format off */
#define ZVM_ARCHIVE_FUNCTIONS(X, t) \
    X(t, archive_entry_clear) \
    X(t, archive_entry_filetype) \
    X(t, archive_entry_free) \
    X(t, archive_entry_hardlink) \
    X(t, archive_entry_mtime) \
    X(t, archive_entry_new) \
    X(t, archive_entry_pathname) \
    X(t, archive_entry_perm) \
    X(t, archive_entry_set_filetype) \
    X(t, archive_entry_set_gid) \
    X(t, archive_entry_set_hardlink) \
    X(t, archive_entry_set_mtime) \
    X(t, archive_entry_set_pathname) \
    X(t, archive_entry_set_perm) \
    X(t, archive_entry_set_size) \
    X(t, archive_entry_set_symlink) \
    X(t, archive_entry_set_uid) \
    X(t, archive_entry_size) \
    X(t, archive_entry_symlink) \
    X(t, archive_errno) \
    X(t, archive_error_string) \
    X(t, archive_filter_code) \
    X(t, archive_filter_count) \
    X(t, archive_read_data) \
    X(t, archive_read_data_block) \
    X(t, archive_read_free) \
    X(t, archive_read_new) \
    X(t, archive_read_next_header) \
    X(t, archive_read_open_filename) \
    X(t, archive_read_open_memory) \
    X(t, archive_read_support_filter_all) \
    X(t, archive_read_support_filter_gzip) \
    X(t, archive_read_support_format_gnutar) \
    X(t, archive_read_support_format_raw) \
    X(t, archive_read_support_format_tar) \
    X(t, archive_set_error) \
    X(t, archive_write_add_filter_gzip) \
    X(t, archive_write_add_filter_none) \
    X(t, archive_write_close) \
    X(t, archive_write_data) \
    X(t, archive_write_free) \
    X(t, archive_write_header) \
    X(t, archive_write_new) \
    X(t, archive_write_open2) \
    X(t, archive_write_open_fd) \
    X(t, archive_write_set_bytes_in_last_block) \
    X(t, archive_write_set_filter_option) \
    X(t, archive_write_set_format_pax_restricted)
/* clang-format on */

ZVM_DYNLIB_TABLE(zvm_archive_api, ZVM_ARCHIVE_FUNCTIONS);

/* Filled by zvm_archive_load; every member NULL before. */
extern struct zvm_archive_api zvm_archive;

/* Loads libarchive once: 0, or -1 with err ("cannot load libarchive.so.13 (needed for tar
 * images): ...; install Debian's libarchive13 package"). */
int zvm_archive_load(zvm_error *err);

#endif
