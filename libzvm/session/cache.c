/*
 * cache.c — zvm's private cache directory (docs/Snapshots.md): where it is, that it is ours
 * alone, and what it remembers of files by their identity.
 *
 * A file's identity is its device, inode, size, modification time and change time: replaced or
 * rewritten, its ctime changes, and no one can set a ctime.  So "this engine validated the
 * program of identity I" or "zvsh checked the image of identity I" stays true as long as a file
 * of identity I exists, without hashing its contents on every run.  Only the user's own cache,
 * private (0700, owned by the user: checked), can vouch for such facts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/internal.h"
#include "version.h"

const char *zvm_default_cache_dir(char *buf, size_t size)
{
    const char *dir = getenv("ZVM_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (dir && dir[0])
        snprintf(buf, size, "%s", dir);
    else if (xdg && xdg[0] == '/')
        snprintf(buf, size, "%s/zvm", xdg);
    else if (home && home[0] == '/')
        snprintf(buf, size, "%s/.cache/zvm", home);
    else
        return NULL;
    return buf;
}

int session_private_dir(const char *path, char *why, size_t size)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {    /* mkdir -p, 0700 for what we make */
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            break;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
        snprintf(why, size, "cannot make %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, size, "%s is not a directory", path);
        return -1;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        snprintf(why, size, "%s is not private (owned by us, mode 0700)", path);
        return -1;
    }
    return 0;
}

/* ---- identities ---- */

/* The build of the running program (its ELF build id): what this engine knows (a translation's
 * cells, a validation) holds for this build only. */
static int build_id(struct dl_phdr_info *info, size_t size, void *user)
{
    digest_sha256_ctx *s = user;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *desc = p + sizeof *n + ((n->n_namesz + 3) & ~3u);
            if (n->n_type == NT_GNU_BUILD_ID && desc + n->n_descsz <= end) {
                digest_sha256_update(s, desc, n->n_descsz);
                return 1;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    return 1;                            /* the first object is the program itself */
}

void session_cache_hash_engine(digest_sha256_ctx *s)
{
    const char *version = zvm_version();
    digest_sha256_update(s, version, strlen(version) + 1);
    dl_iterate_phdr(build_id, s);
}

void session_cache_hash_identity(digest_sha256_ctx *s, const struct stat *st)
{
    uint64_t v[6] = { st->st_dev,
                      st->st_ino,
                      (uint64_t)st->st_size,
                      (uint64_t)st->st_mtim.tv_sec,
                      (uint64_t)st->st_mtim.tv_nsec,
                      (uint64_t)st->st_ctim.tv_sec * 1000000000u + st->st_ctim.tv_nsec };
    digest_sha256_update(s, v, sizeof v);
}

char *zvm_cache_path(const char *cache, const char *kind, const struct stat *id, const char *name, bool engine,
                     const char *suffix)
{
    char dir[PATH_MAX], why[PATH_MAX + 100], hex[2 * DIGEST_SHA256_SIZE + 1];
    if (!cache || !cache[0] || snprintf(dir, sizeof dir, "%s/%s", cache, kind) >= (int)sizeof dir ||
        session_private_dir(cache, why, sizeof why) != 0 || session_private_dir(dir, why, sizeof why) != 0)
        return NULL;
    digest_sha256_ctx s;
    uint8_t d[DIGEST_SHA256_SIZE];
    digest_sha256_init(&s);
    digest_sha256_update(&s, kind, strlen(kind) + 1);
    if (engine)
        session_cache_hash_engine(&s);
    session_cache_hash_identity(&s, id);
    if (name)
        digest_sha256_update(&s, name, strlen(name) + 1);
    digest_sha256_final(&s, d);
    digest_hex(d, sizeof d, hex);
    char *path = NULL;
    return asprintf(&path, "%s/%s%s", dir, hex, suffix ? suffix : "") < 0 ? NULL : path;
}

bool zvm_cache_has_mark(const char *cache, const char *kind, const struct stat *id)
{
    char *path = zvm_cache_path(cache, kind, id, NULL, true, NULL);
    struct stat st;
    bool marked = path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid();
    free(path);
    return marked;
}

void zvm_cache_mark(const char *cache, const char *kind, const struct stat *id)
{
    char *path = zvm_cache_path(cache, kind, id, NULL, true, NULL);
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd >= 0)
        close(fd);
    free(path);
}
