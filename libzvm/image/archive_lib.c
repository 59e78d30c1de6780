/* archive_lib.c — libarchive's functions, looked up on first use (archive_lib.h). */
#include "image/archive_lib.h"

struct zvm_archive_api zvm_archive;

ZVM_DYNLIB_SYMS(archive_syms, zvm_archive, ZVM_ARCHIVE_FUNCTIONS);

static zvm_dynlib archive_lib = {
    .soname = ZVM_ARCHIVE_SONAME,
    .needed_for = "tar images",
    .package = ZVM_ARCHIVE_PACKAGE,
    .syms = archive_syms,
    .nsyms = sizeof archive_syms / sizeof archive_syms[0],
};

int zvm_archive_load(zvm_error *err)
{
    return zvm_dynlib_load(&archive_lib, err);
}
