/*
 * program.c — the session's view of its program file: read it, and find how much linear memory
 * it asks for at instantiation, so that "more than Memory" is exit 12 before anything runs.
 */
#include "session/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger programs are refused rather than read: CPython for WASI is about 25 MB. */
#define MAX_PROGRAM_BYTES (1024LL * 1024 * 1024)

/* Whether two stats name the same file with the same contents (ctime moves on any change). */
static bool same_identity(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The buffer a program is read into.  A large one is 2 MiB-aligned and marked for transparent
 * huge pages, so the kernel fills it in a few faults rather than one per 4 KiB page (python.wasm
 * took 1,900, a sixth of a resumed session).  free() takes it either way. */
static uint8_t *program_buffer(size_t size)
{
    const size_t huge = (size_t)2 << 20;
    if (size < huge)
        return malloc(size ? size : 1);
    size_t rounded = (size + huge - 1) / huge * huge;
    uint8_t *p = aligned_alloc(huge, rounded);
    if (p)
        madvise(p, rounded, MADV_HUGEPAGE);   /* a hint: without it, pages as usual */
    return p;
}

int session_read_program(const char *path, uint8_t **bytes, size_t *size, struct stat *id, bool *stable, zvm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err->msg, sizeof err->msg, "cannot open program %s: %s; check Program in the manifest", path,
                 strerror(e));
        return e == ENOENT || e == ENOTDIR ? ZVM_EXIT_NOENT : ZVM_EXIT_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err->msg, sizeof err->msg, "program %s is not a regular file; Program names a .wasm file", path);
        close(fd);
        return ZVM_EXIT_IO;
    }
    if (st.st_size > MAX_PROGRAM_BYTES) {
        snprintf(err->msg, sizeof err->msg, "program %s is %lld bytes; zvm loads programs up to 1 GiB", path,
                 (long long)st.st_size);
        close(fd);
        return ZVM_EXIT_MEMORY;
    }
    size_t want = (size_t)st.st_size, got = 0;
    uint8_t *buf = program_buffer(want);
    if (!buf) {
        snprintf(err->msg, sizeof err->msg, "out of memory reading program %s", path);
        close(fd);
        return ZVM_EXIT_MEMORY;
    }
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err->msg, sizeof err->msg, "cannot read program %s: %s", path,
                     n < 0 ? strerror(errno) : "it shrank while being read");
            free(buf);
            close(fd);
            return ZVM_EXIT_IO;
        }
        got += (size_t)n;
    }
    struct stat after;
    *id = st;
    *stable = fstat(fd, &after) == 0 && same_identity(&st, &after);   /* not changed while we read it */
    close(fd);
    *bytes = buf;
    *size = want;
    return 0;
}

uint64_t session_initial_memory(const zvm_module *m)
{
    uint64_t min_pages, max_pages;
    if (!zvm_module_memory_limits(m, 0, &min_pages, &max_pages))
        return 0;
    return min_pages * 65536;
}
