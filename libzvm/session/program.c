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
#include <sys/stat.h>
#include <unistd.h>

/* Larger programs are refused rather than read: CPython for WASI is about 25 MB. */
#define MAX_PROGRAM_BYTES (1024LL * 1024 * 1024)

int session_read_program(const char *path, uint8_t **bytes, size_t *size, zvm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err->msg, sizeof err->msg, "cannot open program %s: %s; check Program in the manifest", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? ZVM_EXIT_NOENT : ZVM_EXIT_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err->msg, sizeof err->msg, "program %s is not a regular file; Program names a .wasm file", path);
        close(fd);
        return ZVM_EXIT_IO;
    }
    if (st.st_size > MAX_PROGRAM_BYTES) {
        snprintf(err->msg, sizeof err->msg, "program %s is %lld bytes; zvm loads programs up to 1 GiB", path, (long long)st.st_size);
        close(fd);
        return ZVM_EXIT_MEMORY;
    }
    size_t want = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(want ? want : 1);
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
            snprintf(err->msg, sizeof err->msg, "cannot read program %s: %s", path, n < 0 ? strerror(errno) : "it shrank while being read");
            free(buf);
            close(fd);
            return ZVM_EXIT_IO;
        }
        got += (size_t)n;
    }
    close(fd);
    *bytes = buf;
    *size = want;
    return 0;
}

/* An unsigned LEB128 of at most 64 bits; false past the end. */
static bool leb(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

uint64_t session_initial_memory(const uint8_t *bytes, size_t size, const zvm_module *m)
{
    /* An imported memory: the engine tells its minimum (in pages). */
    for (uint32_t i = 0; i < zvm_module_import_count(m); i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        if (d.kind == ZVM_EXTERN_MEMORY)
            return d.min * 65536;
    }
    /* A defined one: the memory section of the (already validated) binary. */
    const uint8_t *p = bytes + 8, *end = bytes + size;
    while (size >= 8 && p < end) {
        uint8_t id = *p++;
        uint64_t len, count, flags, min;
        if (!leb(&p, end, &len) || len > (uint64_t)(end - p))
            return 0;
        if (id == 5) {
            const uint8_t *q = p;
            if (!leb(&q, p + len, &count) || count == 0 || !leb(&q, p + len, &flags) || !leb(&q, p + len, &min))
                return 0;
            return min * 65536;
        }
        p += len;
    }
    return 0;
}
