/*
 * image_impl.h — the inside of a zvm_image, shared by image_read.c (indexing a tar) and
 * image_index.c (keeping that index in zvm's cache).  Private to libzvm/image.
 */
#ifndef ZVM_IMAGE_IMPL_H
#define ZVM_IMAGE_IMPL_H

#include "image/image.h"

struct zvm_image {
    char *name;
    uint64_t max_memory;       /* what mem may hold: the caller's limit */
    int fd;
    uint8_t *mem;              /* the uncompressed tar when held in memory, else NULL */
    uint64_t size;             /* bytes of the uncompressed tar */
    zvm_image_entry *entries;
    size_t count, cap;
};

/* "./a//b/./c/" -> "a/b/c" ("" for the root), or NULL with *why when the path cannot be a
 * guest path: a ".." part (it would escape), a part or the whole too long.  malloc'd. */
char *image_normalise_path(const char *in, const char **why);

#endif
