/* images.c — the image search path (see images.h). */
#include "images.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The search path and where it came from ("ZVM_IMAGE_PATH", "zvsh.cfg [images] path", "default"). */
static const char *search_path(const struct zvsh_config *cfg, char *buf, size_t size, const char **source)
{
    const char *env = getenv("ZVM_IMAGE_PATH");
    if (env && *env) {
        *source = "$ZVM_IMAGE_PATH";
        return env;
    }
    if (cfg->image_path && *cfg->image_path) {
        *source = "zvsh.cfg [images] path";
        return cfg->image_path;
    }
    *source = "the default, beside zvsh";
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return "";
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    char *up = strrchr(exe, '/');   /* PREFIX/bin -> PREFIX */
    if (up)
        *up = '\0';
    snprintf(buf, size, "%s/share/zvm/images", up ? exe : ".");
    return buf;
}

/* Appends "where" to the list of places looked at (for the message when nothing is found). */
static void looked(char *list, size_t size, const char *where)
{
    size_t len = strlen(list);
    if (len + 4 < size)
        snprintf(list + len, size - len, "%s%s", len ? ", " : "", where);
}

/* dir/name, then dir/name.tar when name has no .tar ending. */
static char *try_dir(const char *dir, size_t dirlen, const char *name, char *list, size_t listsize)
{
    size_t nlen = strlen(name);
    bool add_tar = nlen < 4 || strcmp(name + nlen - 4, ".tar") != 0;
    for (int k = 0; k < (add_tar ? 2 : 1); k++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%.*s/%s%s", (int)dirlen, dir, name, k ? ".tar" : "");
        if (is_file(path))
            return strdup(path);
        looked(list, listsize, path);
    }
    return NULL;
}

char *zvsh_find_image(const char *name, const struct zvsh_config *cfg, char *err, size_t errsize)
{
    if (strchr(name, '/') || is_file(name))
        return strdup(name);
    char list[2048] = "", buf[PATH_MAX];
    looked(list, sizeof list, name);
    const char *source, *path = search_path(cfg, buf, sizeof buf, &source);
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char *found = len ? try_dir(p, len, name, list, sizeof list) : NULL;
        if (found)
            return found;
        p += len;
        if (*p == ':')
            p++;
    }
    snprintf(err, errsize, "image %s: not found; looked for %s (search path %s, from %s; see IMAGES in zvsh(1))", name,
             list, *path ? path : "empty", source);
    return NULL;
}
