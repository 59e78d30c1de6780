/* deploy.c — zpm deploy TARGET ZAPP: the tar, the UI files and the job into a Swift container.
 * The job (boot/system.map) goes last: until it is there, nothing is presented as deployed, and
 * on a failure the objects this run uploaded are removed again. */
#include "zpm.h"

#include <fnmatch.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What this run has uploaded, to take back on failure. */
typedef struct uploads {
    char *names[256];
    size_t count;
} uploads;

static const char *content_type_for(const char *name)
{
    static const char *const types[][2] = {
        { ".html", "text/html; charset=utf-8" },
        { ".htm", "text/html; charset=utf-8" },
        { ".css", "text/css" },
        { ".js", "application/javascript" },
        { ".json", "application/json" },
        { ".png", "image/png" },
        { ".jpg", "image/jpeg" },
        { ".jpeg", "image/jpeg" },
        { ".gif", "image/gif" },
        { ".svg", "image/svg+xml" },
        { ".ico", "image/x-icon" },
        { ".txt", "text/plain; charset=utf-8" },
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

/* Text safe inside HTML. */
static char *html_escape(const char *s)
{
    size_t size = strlen(s) * 6 + 1, n = 0;
    char *out = malloc(size);
    for (; out && *s; s++) {
        const char *rep = *s == '<'    ? "&lt;"
                          : *s == '>'  ? "&gt;"
                          : *s == '&'  ? "&amp;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\'' ? "&#39;"
                                       : NULL;
        if (rep) {
            memcpy(out + n, rep, strlen(rep));
            n += strlen(rep);
        } else {
            out[n++] = *s;
        }
    }
    if (out)
        out[n] = '\0';
    return out;
}

static char *object_name(const char *prefix, const char *name)
{
    size_t size = strlen(prefix) + strlen(name) + 2;
    char *out = malloc(size);
    if (out)
        snprintf(out, size, "%s%s%s", prefix, *prefix ? "/" : "", name);
    return out;
}

static int upload(zvm_swift *sw, uploads *done, const char *container, const char *object, const char *type,
                  const void *data, size_t size)
{
    zvm_cluster_error err;
    char label[256];
    snprintf(label, sizeof label, "%s/%s", container, object);
    zpm_progress_attach(sw, label);
    int rc = zvm_swift_put_object(sw, container, object, type, data, size, NULL, &err);
    zpm_progress_done(sw);
    if (rc != 0) {
        zpm_error("%s", err.msg);
        return -1;
    }
    if (done->count < sizeof done->names / sizeof done->names[0])
        done->names[done->count++] = strdup(object);
    return 0;
}

static void take_back(zvm_swift *sw, uploads *done, const char *container)
{
    size_t removed = 0;
    for (size_t i = 0; i < done->count; i++) {
        zvm_cluster_error err;
        if (zvm_swift_delete_object(sw, container, done->names[i], &err) == 0)
            removed++;
        else
            zpm_warn("could not remove %s/%s: %s", container, done->names[i], err.msg);
    }
    if (done->count)
        zpm_error("deploy failed: removed the %zu object%s it had uploaded; the app is not deployed", removed,
                  removed == 1 ? "" : "s");
    else
        zpm_error("deploy failed; the app is not deployed");
}

/* The settings the web page gets: where to log in and where Swift is — never a secret. */
static char *auth_settings(const zvm_auth *auth, const zpm_auth_args *a)
{
    const char *version = auth->version[0] ? auth->version : NULL;
    const char *v1 = a->flags.auth_url ? a->flags.auth_url : getenv("ST_AUTH");
    const char *v3 = a->flags.os_auth_url ? a->flags.os_auth_url : getenv("OS_AUTH_URL");
    if (!version)
        version = v1 && *v1 ? "1.0" : v3 && *v3 ? "3" : "0.0";
    const char *auth_url = strcmp(version, "1.0") == 0 ? v1 : strcmp(version, "3") == 0 ? v3 : NULL;
    json_t *o = json_pack("{s:s, s:s, s:s}", "version", version, "authUrl", auth_url ? auth_url : "", "storageUrl",
                          auth->storage_url);
    /* JSON_ESCAPE_SLASH: "</script>" cannot appear inside the page's script. */
    char *text = json_dumps(o, JSON_COMPACT | JSON_ESCAPE_SLASH);
    json_decref(o);
    return text;
}

static bool is_ui_file(const zpm_zapp *z, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get(z->doc, "ui"), i, p)
        if (json_is_string(p) && fnmatch(json_string_value(p), name, 0) == 0)
            return true;
    return false;
}

/* One deploy's destination and what it has uploaded so far. */
typedef struct deployment {
    zvm_swift sw;
    const char *target;                /* CONTAINER[/PREFIX] as given */
    char *container;                   /* malloc'd */
    const char *prefix;                /* inside container's allocation, "" when none */
    const char *zapp_path;
    uploads done;
} deployment;

/* Creates the container, or checks that it is empty (unless forced). */
static int prepare_container(deployment *d, bool force)
{
    zvm_cluster_error err;
    long long count;
    if (zvm_swift_container_objects(&d->sw, d->container, &count, &err) != 0 ||
        (count < 0 && zvm_swift_put_container(&d->sw, d->container, &err) != 0)) {
        zpm_error("%s", err.msg);
        return -1;
    }
    if (count > 0 && !force) {
        zpm_error("container '%s' is not empty (%lld object%s): deploying over other objects can mix two apps; "
                  "use --force to deploy anyway, or another container",
                  d->container, count, count == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

/* Uploads the files the ui globs match, each NAME.tmpl rendered and uploaded as NAME. */
static int upload_ui(deployment *d, const zpm_zapp_file *zf, const zpm_zapp *z, const char *const *vars,
                     bool *has_index)
{
    for (size_t i = 0; i < zf->member_count; i++) {
        const zpm_member *m = &zf->members[i];
        /* The job goes last, as itself; zapp.yaml is no page, even under a glob like "*". */
        if (!is_ui_file(z, m->name) || strcmp(m->name, "boot/system.map") == 0 || strcmp(m->name, "zapp.yaml") == 0)
            continue;
        char *name = strdup(m->name), *body = NULL, err[2048];
        size_t nlen = strlen(name);
        const void *data = m->data;
        size_t size = m->size;
        if (nlen > 5 && strcmp(name + nlen - 5, ".tmpl") == 0) {
            name[nlen - 5] = '\0';
            char where[1200];
            snprintf(where, sizeof where, "%s:%s", d->zapp_path, m->name);
            body = zpm_render((const char *)m->data, vars, where, err, sizeof err);
            if (!body) {
                zpm_error("%s", err);
                free(name);
                return -1;
            }
            data = body;
            size = strlen(body);
        }
        *has_index |= strcmp(name, "index.html") == 0;
        char *object = object_name(d->prefix, name);
        int rc = upload(&d->sw, &d->done, d->container, object, content_type_for(name), data, size);
        free(object);
        free(body);
        free(name);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Uploads the job with an image device pointing at the uploaded tar; returns its text. */
static char *upload_job(deployment *d, json_t *job, const char *image_url)
{
    size_t i;
    json_t *group;
    json_array_foreach (job, i, group) {
        json_t *devices = json_object_get(group, "devices");
        if (!json_is_array(devices)) {
            devices = json_array();
            json_object_set_new(group, "devices", devices);
        }
        json_array_append_new(devices, json_pack("{s:s, s:s}", "name", "image", "path", image_url));
    }
    char *text = json_dumps(job, JSON_COMPACT);
    char *object = object_name(d->prefix, "boot/system.map");
    if (text && upload(&d->sw, &d->done, d->container, object, "application/json", text, strlen(text)) != 0) {
        free(text);
        text = NULL;
    }
    free(object);
    return text;
}

/* Uploads the tar, the UI and the job, in that order; on failure takes back what it uploaded. */
static char *deploy(deployment *d, const zpm_zapp_file *zf, const zpm_zapp *z, json_t *job, const zvm_auth *auth,
                    const zpm_auth_args *a, bool *has_index)
{
    /* 1. the tar itself, uncompressed, as ZeroCloud mounts it (the image device) */
    char *base = strdup(d->zapp_path);
    char *tar_object = object_name(d->prefix, basename(base));
    char *image_url = zvm_swift_url(d->sw.storage_url, d->container, tar_object);
    free(base);
    int ok = upload(&d->sw, &d->done, d->container, tar_object, "application/x-tar", zf->tar, zf->tar_size) == 0;
    free(tar_object);

    /* 2. the UI files */
    char *settings = auth_settings(auth, a);
    json_t *description = json_object_get(json_object_get(z->doc, "help"), "description");
    char *name_html = html_escape(z->name);
    char *desc_html = html_escape(json_is_string(description) ? json_string_value(description) : "");
    const char *vars[] = { "name",      name_html, "description", desc_html,         "auth_opts", settings,
                           "container", d->target, "storage_url", d->sw.storage_url, NULL };
    ok = ok && upload_ui(d, zf, z, vars, has_index) == 0;
    free(settings);
    free(name_html);
    free(desc_html);

    /* 3. the job: now the app is deployed */
    char *job_text = ok ? upload_job(d, job, image_url) : NULL;
    free(image_url);
    if (!job_text)
        take_back(&d->sw, &d->done, d->container);
    return job_text;
}

int zpm_cmd_deploy(int argc, char **argv)
{
    static const struct option own[] = {
        { "force", no_argument, NULL, 'f' },
        { "execute", no_argument, NULL, 'e' },
        { "summary", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct option longs[48];
    zpm_merge_options(longs, 48, own);
    zpm_auth_args a = { 0 };
    bool force = false, execute = false, summary = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":feshV:A:U:K:", longs, NULL)) != -1) {
        switch (c) {
        case 'f': force = true; break;
        case 'e': execute = true; break;
        case 's': summary = true; break;
        case 'h': zpm_print_help("deploy"); return ZPM_OK;
        case ':': return zpm_usage_error("deploy", "%s needs a value", argv[optind - 1]);
        default:
            if (c == '?' || !zpm_auth_take(&a, c, optarg))
                return zpm_usage_error("deploy", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return zpm_usage_error("deploy", "give a TARGET container and a ZAPP file (got %d argument%s)", argc - optind,
                               argc - optind == 1 ? "" : "s");
    if (summary && !execute)
        return zpm_usage_error("deploy", "--summary goes with --execute");
    deployment d = { .target = argv[optind], .zapp_path = argv[optind + 1] };
    if (!*d.target || d.target[0] == '/')
        return zpm_usage_error("deploy", "TARGET is a container name, optionally CONTAINER/PREFIX");

    /* The bundle is read and checked before logging in. */
    char err[2048];
    zpm_zapp_file zf;
    if (zpm_zapp_file_read(d.zapp_path, &zf, err, sizeof err) != 0) {
        zpm_error("%s", err);
        return ZPM_FAIL;
    }
    const zpm_member *yaml = zpm_zapp_file_member(&zf, "zapp.yaml");
    const zpm_member *map = zpm_zapp_file_member(&zf, "boot/system.map");
    zpm_zapp z = { 0 };
    json_t *job = NULL;
    json_error_t jerr;
    int rc = ZPM_FAIL;
    char yaml_name[1024];
    snprintf(yaml_name, sizeof yaml_name, "%s:zapp.yaml", d.zapp_path);
    if (!yaml || !map) {
        zpm_error("%s has no %s: was it made by 'zpm bundle'?", d.zapp_path, yaml ? "boot/system.map" : "zapp.yaml");
        goto out;
    }
    if (zpm_zapp_parse((const char *)yaml->data, yaml->size, yaml_name, &z, err, sizeof err) != 0) {
        zpm_error("%s", err);
        goto out;
    }
    job = json_loadb((const char *)map->data, map->size, 0, &jerr);
    if (!json_is_array(job)) {
        zpm_error("%s: boot/system.map is not a JSON list of groups (%s); bundle again", d.zapp_path,
                  job ? "not a list" : jerr.text);
        goto out;
    }

    /* CONTAINER[/PREFIX]: the prefix without trailing slashes */
    d.container = strdup(d.target);
    char *prefix = strchr(d.container, '/');
    if (prefix) {
        *prefix++ = '\0';
        for (size_t n = strlen(prefix); n > 0 && prefix[n - 1] == '/'; n--)
            prefix[n - 1] = '\0';
    }
    d.prefix = prefix ? prefix : "";

    zvm_auth auth;
    if (zpm_connect(&a, true, &auth, &d.sw) != 0)
        goto out;
    bool has_index = false;
    char *job_text = prepare_container(&d, force) == 0 ? deploy(&d, &zf, &z, job, &auth, &a, &has_index) : NULL;
    if (job_text) {
        size_t tlen = strlen(d.target);
        while (tlen > 1 && d.target[tlen - 1] == '/')
            tlen--;
        printf("app deployed to\n  %s/%.*s/%s\n", d.sw.storage_url, (int)tlen, d.target, has_index ? "index.html" : "");
        rc = ZPM_OK;
        if (execute) {
            fflush(stdout);
            rc = zpm_execute_job(&d.sw, "application/json", job_text, strlen(job_text), NULL, summary);
        }
        free(job_text);
    }
    for (size_t i = 0; i < d.done.count; i++)
        free(d.done.names[i]);
    zvm_auth_free(&auth);
out:
    free(d.container);
    json_decref(job);
    zpm_zapp_free(&z);
    zpm_zapp_file_free(&zf);
    return rc;
}
