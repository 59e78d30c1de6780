/* bundle.c — zpm bundle: zapp.yaml and the files its globs match, with the job as boot/system.map,
 * into a gzipped tar.  Deterministic: names sorted per glob, owner 0, mtime 0, no gzip timestamp,
 * so the same inputs give the same bytes. */
#include "zpm.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive_lib.h"

/* The files to bundle, by path relative to the project root, in the order they go in. */
typedef struct file_list {
    char **names;
    size_t count;
} file_list;

static bool listed(const file_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->names[i], name) == 0)
            return true;
    return false;
}

static void add_name(file_list *l, const char *name)
{
    char **grown = realloc(l->names, (l->count + 1) * sizeof *grown);
    if (!grown)
        return;
    l->names = grown;
    l->names[l->count++] = strdup(name);
}

static void free_list(file_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Adds rel (a file, or a directory's files recursively, sorted); returns how many it matched. */
static size_t add_path(file_list *l, const char *root, const char *rel, const char *skip)
{
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s/%s", root, rel);
    struct stat st;
    if (stat(full, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        struct dirent **entries;
        int n = scandir(full, &entries, NULL, by_name);
        size_t added = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(entries[i]->d_name, ".") && strcmp(entries[i]->d_name, "..")) {
                char sub[PATH_MAX];
                snprintf(sub, sizeof sub, "%s/%s", rel, entries[i]->d_name);
                added += add_path(l, root, sub, skip);
            }
            free(entries[i]);
        }
        free(n >= 0 ? entries : NULL);
        return added;
    }
    if (!S_ISREG(st.st_mode))
        return 0;
    /* The bundle itself, and what zpm writes, never go in twice. */
    if (strcmp(rel, "zapp.yaml") == 0 || strcmp(rel, "boot/system.map") == 0 || (skip && strcmp(rel, skip) == 0))
        return 1;
    if (!listed(l, rel))
        add_name(l, rel);
    return 1;
}

/* Expands the globs of one section; warns about each that matches nothing. */
static int expand_section(const zpm_zapp *z, const char *section, const char *root, const char *skip, file_list *l,
                          size_t *matched)
{
    json_t *patterns = json_object_get(z->doc, section);
    size_t i;
    json_t *p;
    json_array_foreach (patterns, i, p) {
        const char *pattern = json_string_value(p);
        char text[64];
        if (!pattern) {                             /* a number or boolean written as a name */
            if (json_is_integer(p))
                snprintf(text, sizeof text, "%lld", (long long)json_integer_value(p));
            else
                snprintf(text, sizeof text, "%s", json_is_true(p) ? "true" : "false");
            pattern = text;
        }
        if (pattern[0] == '/' || strncmp(pattern, "../", 3) == 0 || strstr(pattern, "/../")) {
            zpm_error("%s/zapp.yaml: %s: pattern '%s' leaves the project directory; use paths relative to it", root,
                      section, pattern);
            return -1;
        }
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/%s", root, pattern);
        glob_t g;
        size_t before = 0;
        if (glob(full, 0, NULL, &g) == 0) {
            for (size_t k = 0; k < g.gl_pathc; k++)
                before += add_path(l, root, g.gl_pathv[k] + strlen(root) + 1, skip);
            globfree(&g);
        }
        if (before == 0)
            zpm_warn("pattern '%s' in section '%s' matched no files", pattern, section);
        *matched += before;
    }
    return 0;
}

static int add_entry(struct archive *a, const char *name, const void *data, size_t size, int executable)
{
    struct archive_entry *e = zvm_archive.archive_entry_new();
    zvm_archive.archive_entry_set_pathname(e, name);
    zvm_archive.archive_entry_set_size(e, (la_int64_t)size);
    zvm_archive.archive_entry_set_filetype(e, AE_IFREG);
    zvm_archive.archive_entry_set_perm(e, executable ? 0755 : 0644);
    zvm_archive.archive_entry_set_mtime(e, 0, 0);
    zvm_archive.archive_entry_set_uid(e, 0);
    zvm_archive.archive_entry_set_gid(e, 0);
    int rc = zvm_archive.archive_write_header(a, e);
    if (rc == ARCHIVE_OK && size > 0 && zvm_archive.archive_write_data(a, data, size) != (la_ssize_t)size)
        rc = ARCHIVE_FATAL;
    zvm_archive.archive_entry_free(e);
    return rc == ARCHIVE_OK ? 0 : -1;
}

/* Writes the bundle to a temporary file beside `out` and renames it into place: a failed bundle
 * leaves no half-written NAME.zapp behind. */
static int write_bundle(const char *out, const char *root, const char *job_text, const file_list *files)
{
    zvm_error why;
    if (zvm_archive_load(&why) < 0) {
        zpm_error("cannot write %s: %s", out, why.msg);
        return -1;
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        zpm_error("cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    struct archive *a = zvm_archive.archive_write_new();
    zvm_archive.archive_write_set_format_pax_restricted(a);
    zvm_archive.archive_write_add_filter_gzip(a);
    zvm_archive.archive_write_set_filter_option(a, "gzip", "timestamp", NULL);   /* no mtime in the gzip header */
    int rc = zvm_archive.archive_write_open_fd(a, fd) == ARCHIVE_OK ? 0 : -1;
    char err[1024];
    if (rc == 0)
        rc = add_entry(a, "boot/system.map", job_text, strlen(job_text), 0);
    char path[PATH_MAX];
    for (size_t i = 0; rc == 0 && i <= files->count; i++) {
        const char *name = i == 0 ? "zapp.yaml" : files->names[i - 1];
        snprintf(path, sizeof path, "%s/%s", root, name);
        size_t size;
        char *data = zpm_read_file(path, &size, err, sizeof err);
        if (!data) {
            zpm_error("%s", err);
            rc = -1;
            break;
        }
        struct stat st;
        rc = add_entry(a, name, data, size, stat(path, &st) == 0 && (st.st_mode & 0111));
        free(data);
        if (rc != 0)
            zpm_error("cannot add %s to %s: %s", name, out, zvm_archive.archive_error_string(a));
    }
    if (rc == 0 && zvm_archive.archive_write_close(a) != ARCHIVE_OK) {
        zpm_error("cannot write %s: %s", out, zvm_archive.archive_error_string(a));
        rc = -1;
    }
    zvm_archive.archive_write_free(a);
    close(fd);
    if (rc == 0 && chmod(tmp, 0644) == 0 && rename(tmp, out) == 0)
        return 0;
    if (rc == 0)
        zpm_error("cannot write %s: %s", out, strerror(errno));
    unlink(tmp);
    return -1;
}

/* The directory holding zapp.yaml: the current one or the nearest above it. */
static int find_root(char *root, size_t size)
{
    if (!getcwd(root, size)) {
        zpm_error("cannot tell the current directory: %s", strerror(errno));
        return -1;
    }
    char start[PATH_MAX];
    snprintf(start, sizeof start, "%s", root);
    for (;;) {
        char probe[PATH_MAX + 16];
        snprintf(probe, sizeof probe, "%s/zapp.yaml", strcmp(root, "/") ? root : "");
        if (access(probe, F_OK) == 0)
            return 0;
        char *slash = strrchr(root, '/');
        if (!slash || slash == root) {
            if (strcmp(root, "/") == 0 || !slash)
                break;
            root[1] = '\0';
            continue;
        }
        *slash = '\0';
    }
    zpm_error("no zapp.yaml in %s or any directory above it; run 'zpm new' to start a project", start);
    return -1;
}

int zpm_cmd_bundle(int argc, char **argv)
{
    static const struct option longs[] = {
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *output = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'h': zpm_print_help("bundle"); return ZPM_OK;
        case ':': return zpm_usage_error("bundle", "%s needs a value", argv[optind - 1]);
        default: return zpm_usage_error("bundle", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return zpm_usage_error("bundle", "unexpected argument '%s'", argv[optind]);

    char root[PATH_MAX], yaml[PATH_MAX + 16], err[2048];
    if (find_root(root, sizeof root) != 0)
        return ZPM_FAIL;
    snprintf(yaml, sizeof yaml, "%s/zapp.yaml", root);
    zpm_zapp z;
    if (zpm_zapp_load(yaml, &z, err, sizeof err) != 0) {
        zpm_error("%s", err);
        return ZPM_FAIL;
    }
    char out[PATH_MAX + 256];
    if (output)
        snprintf(out, sizeof out, "%s", output);
    else
        snprintf(out, sizeof out, "%s/%s.zapp", root, z.name);
    /* The bundle's own name relative to root, so a glob like "*" does not swallow it. */
    char skip[PATH_MAX + 256];
    snprintf(skip, sizeof skip, "%s.zapp", z.name);

    int rc = ZPM_FAIL;
    file_list files = { 0 };
    size_t matched = 0;
    json_t *job = zpm_job_from_zapp(&z, err, sizeof err);
    if (!job) {
        zpm_error("%s: %s", yaml, err);
    } else if (expand_section(&z, "bundling", root, skip, &files, &matched) == 0 &&
               expand_section(&z, "ui", root, skip, &files, &matched) == 0) {
        if (matched == 0 &&
            (json_array_size(json_object_get(z.doc, "bundling")) + json_array_size(json_object_get(z.doc, "ui"))) > 0) {
            zpm_error("none of the patterns in the 'bundling' and 'ui' sections of %s matched a file", yaml);
        } else if (matched == 0) {
            zpm_error("%s lists no files to bundle: add your program's files to 'bundling'", yaml);
        } else {
            char *job_text = json_dumps(job, JSON_COMPACT);
            if (job_text && write_bundle(out, root, job_text, &files) == 0) {
                printf("created %s\n", out);
                rc = ZPM_OK;
            }
            free(job_text);
        }
    }
    json_decref(job);
    free_list(&files);
    zpm_zapp_free(&z);
    return rc;
}
