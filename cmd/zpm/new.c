/* new.c — zpm new: a project directory from a template (share/zapp/templates/NAME), never
 * overwriting anything. */
#include "zpm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The templates live in share/zapp/templates: installed as PREFIX/share/zvm/zapp/templates
 * beside PREFIX/bin/zpm, or in the source tree beside build/zpm (or build/asan/zpm). */
int zpm_template_dir(char *buf, size_t size)
{
    const char *env = getenv("ZPM_TEMPLATE_DIR");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *dir = dirname(exe);
    static const char *const candidates[] = {
        "../share/zvm/zapp/templates",
        "../share/zapp/templates",
        "../../share/zapp/templates",
    };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        char probe[PATH_MAX + 64];
        snprintf(probe, sizeof probe, "%s/%s/python", dir, candidates[i]);
        struct stat st;
        if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(buf, size, "%s/%s", dir, candidates[i]);
            return 0;
        }
    }
    return -1;
}

/* The template's files (zapp.yaml first), then the UI's when asked. */
typedef struct plan {
    char *src[64];
    char *dst[64];
    size_t count;
} plan;

static int collect(plan *p, const char *dir, bool zapp_first)
{
    struct dirent **entries;
    int n = scandir(dir, &entries, NULL, alphasort);
    if (n < 0)
        return -1;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const char *name = entries[i]->d_name;
            bool is_zapp = strcmp(name, "zapp.yaml") == 0;
            if (name[0] == '.' || (pass == 0) != is_zapp || p->count == 64)
                continue;
            if (!zapp_first && is_zapp)
                continue;
            char src[PATH_MAX + 256];
            snprintf(src, sizeof src, "%s/%s", dir, name);
            p->src[p->count] = strdup(src);
            p->dst[p->count++] = strdup(name);
        }
    for (int i = 0; i < n; i++)
        free(entries[i]);
    free(entries);
    return 0;
}

static void list_templates(const char *dir)
{
    struct dirent **entries;
    int n = scandir(dir, &entries, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (entries[i]->d_name[0] != '.' && strcmp(entries[i]->d_name, "ui") != 0)
            printf("%s\n", entries[i]->d_name);
        free(entries[i]);
    }
    if (n >= 0)
        free(entries);
}

/* For a double-quoted YAML scalar. */
static void yaml_quote(char *out, size_t size, const char *s)
{
    size_t len = 0;
    for (; *s && len + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[len++] = '\\';
        out[len++] = *s;
    }
    out[len] = '\0';
}

static int write_new_file(const char *path, const char *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        zpm_error("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            zpm_error("cannot write %s: %s", path, strerror(errno));
            close(fd);
            unlink(path);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd) == 0 ? 0 : -1;
}

static int mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int zpm_cmd_new(int argc, char **argv)
{
    static const struct option longs[] = {
        { "template", required_argument, NULL, 't' },
        { "with-ui", no_argument, NULL, 'u' },
        { "list", no_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *template = "python";
    bool with_ui = false, list = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":t:lh", longs, NULL)) != -1) {
        switch (c) {
        case 't': template = optarg; break;
        case 'u': with_ui = true; break;
        case 'l': list = true; break;
        case 'h': zpm_print_help("new"); return ZPM_OK;
        case ':': return zpm_usage_error("new", "%s needs a value", argv[optind - 1]);
        default: return zpm_usage_error("new", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return zpm_usage_error("new", "give one directory at most (got '%s' and '%s')", argv[optind], argv[optind + 1]);
    const char *dir = optind < argc ? argv[optind] : ".";

    char templates[PATH_MAX];
    if (zpm_template_dir(templates, sizeof templates) != 0) {
        zpm_error("cannot find the zapp templates (share/zvm/zapp/templates beside the zpm binary); "
                  "set ZPM_TEMPLATE_DIR to their directory");
        return ZPM_FAIL;
    }
    if (list) {
        list_templates(templates);
        return ZPM_OK;
    }
    char tdir[PATH_MAX + 256];
    snprintf(tdir, sizeof tdir, "%s/%s", templates, template);
    struct stat st;
    if (strchr(template, '/') || strcmp(template, "ui") == 0 || stat(tdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        zpm_error("no template '%s' (see 'zpm new --list')", template);
        return ZPM_USAGE;
    }
    plan p = { 0 };
    char uidir[PATH_MAX + 16];
    snprintf(uidir, sizeof uidir, "%s/ui", templates);
    if (collect(&p, tdir, true) != 0 || (with_ui && collect(&p, uidir, false) != 0) || p.count == 0 ||
        strcmp(p.dst[0], "zapp.yaml") != 0) {
        zpm_error("template '%s' in %s is incomplete (it needs a zapp.yaml)", template, templates);
        return ZPM_FAIL;
    }

    int rc = ZPM_FAIL;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        zpm_error("%s exists and is not a directory", dir);
        goto out;
    }
    /* Nothing is written unless every file can be. */
    for (size_t i = 0; i < p.count; i++) {
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, p.dst[i]);
        if (access(path, F_OK) == 0) {
            zpm_error("%s already exists; zpm new never overwrites a file: remove it or choose another "
                      "directory",
                      path);
            goto out;
        }
    }
    if (mkdirs(dir) != 0) {
        zpm_error("cannot create directory %s: %s", dir, strerror(errno));
        goto out;
    }
    char real[PATH_MAX], quoted[PATH_MAX * 2];
    if (!realpath(dir, real)) {
        zpm_error("cannot resolve %s: %s", dir, strerror(errno));
        goto out;
    }
    char *base = strrchr(real, '/');
    base = base && base[1] ? base + 1 : real;
    yaml_quote(quoted, sizeof quoted, base);
    const char *ui = with_ui ? "ui:\n  - index.html.tmpl\n  - style.css\n  - zerocloud.js\n" : "";
    const char *vars[] = { "name", quoted, "ui", ui, NULL };

    for (size_t i = 0; i < p.count; i++) {
        char err[1024], path[PATH_MAX + 256];
        size_t size;
        char *text = zpm_read_file(p.src[i], &size, err, sizeof err);
        if (!text) {
            zpm_error("%s", err);
            goto out;
        }
        if (i == 0) {                          /* zapp.yaml is the only file rendered now */
            char *rendered = zpm_render(text, vars, p.src[i], err, sizeof err);
            free(text);
            if (!rendered) {
                zpm_error("%s", err);
                goto out;
            }
            text = rendered;
            size = strlen(text);
        }
        snprintf(path, sizeof path, "%s/%s", dir, p.dst[i]);
        int w = write_new_file(path, text, size);
        free(text);
        if (w != 0)
            goto out;
        printf("created %s\n", path);
    }
    rc = ZPM_OK;
out:
    for (size_t i = 0; i < p.count; i++) {
        free(p.src[i]);
        free(p.dst[i]);
    }
    return rc;
}
