/* job.c — writes the manifest and nvram of a zvsh invocation (see job.h). */
#include "job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A growing string; every append is checked once, at the end, through `failed`. */
struct text {
    char *s;
    size_t len, cap;
    bool failed;
};

static void append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->failed || n < 0) {
        t->failed = true;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += n;
}

static char *finish(struct text *t)
{
    if (t->failed) {
        free(t->s);
        return NULL;
    }
    return t->s ? t->s : strdup("");
}

char *zvsh_nvram_escape(const char *s)
{
    struct text t = { 0 };
    append(&t, "%s", "");
    for (; *s; s++) {
        switch (*s) {
        case ',': append(&t, "\\x2c"); break;
        case ' ': append(&t, "\\x20"); break;
        case '"': append(&t, "\\x22"); break;
        case '\\': append(&t, "\\x5c"); break;
        case '\n': append(&t, "\\x0a"); break;
        default: append(&t, "%c", *s);
        }
    }
    return finish(&t);
}

char *zvsh_channel_alias(size_t n, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    struct text t = { 0 };
    append(&t, "/dev/%zu.%s", n, base);
    return finish(&t);
}

/* What fstat should say of a std stream: a terminal is a char device, a FIFO a pipe, else a file. */
static const char *stream_mode(int fd)
{
    struct stat st;
    if (isatty(fd))
        return "char";
    if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return "pipe";
    return "file";
}

/* The host path that gives the guest zvsh's own stream fd. */
static const char *stream_uri(int fd, const char *name)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? name : "/dev/null";
}

/* A ro image is read at random; a wo image is only written (the tar zvm writes back at exit). */
static void append_image_channel(struct text *t, const struct zvsh_config *c, size_t n, const struct zvsh_image *im)
{
    char *alias = zvsh_channel_alias(n, im->path);
    if (im->write_back)
        append(t, "Channel = %s,%s,0,0,0,0,%lld,%lld\n", im->path, alias, (long long)c->writes, (long long)c->wbytes);
    else
        append(t, "Channel = %s,%s,3,0,%lld,%lld,0,0\n", im->path, alias, (long long)c->reads, (long long)c->rbytes);
    free(alias);
}

char *zvsh_job_manifest(const struct zvsh_job *job)
{
    const struct zvsh_config *c = job->cfg;
    struct text t = { 0 };
    append(&t, "Version = %lld\n", (long long)c->version);
    append(&t, "Program = %s\n", job->program);
    append(&t, "Memory = %lld,0\n", (long long)c->memory);
    append(&t, "Timeout = %lld\n", (long long)c->timeout);
    append(&t, "Node = %lld\n", (long long)c->node);
    append(&t, "Channel = %s,/dev/stdin,0,0,%lld,%lld,0,0\n", stream_uri(0, "/dev/stdin"), (long long)c->reads,
           (long long)c->rbytes);
    append(&t, "Channel = %s,/dev/stdout,0,0,0,0,%lld,%lld\n", stream_uri(1, "/dev/stdout"), (long long)c->writes,
           (long long)c->wbytes);
    append(&t, "Channel = %s,/dev/stderr,0,0,0,0,%lld,%lld\n", stream_uri(2, "/dev/stderr"), (long long)c->writes,
           (long long)c->wbytes);
    /* nvram is read by zvm before _start; the guest may read it too, never write it */
    append(&t, "Channel = %s,/dev/nvram,3,0,%lld,%lld,0,0\n", job->nvram_uri, (long long)c->reads,
           (long long)c->rbytes);

    size_t n = 0;
    for (size_t i = 0; i < job->nconfig_images; i++)
        append_image_channel(&t, c, ++n, &job->images[i]);
    /* @files: random access both ways when the file is writable, as 2014 zvsh did */
    for (size_t i = 0; i < job->nfiles; i++) {
        char *alias = zvsh_channel_alias(++n, job->files[i]);
        if (access(job->files[i], W_OK) == 0)
            append(&t, "Channel = %s,%s,3,0,%lld,%lld,%lld,%lld\n", job->files[i], alias, (long long)c->reads,
                   (long long)c->rbytes, (long long)c->writes, (long long)c->wbytes);
        else
            append(&t, "Channel = %s,%s,3,0,%lld,%lld,0,0\n", job->files[i], alias, (long long)c->reads,
                   (long long)c->rbytes);
        free(alias);
    }
    for (size_t i = job->nconfig_images; i < job->nimages; i++)
        append_image_channel(&t, c, ++n, &job->images[i]);
    if (job->debug) {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, ".");
        append(&t, "Channel = %s/zvsh.log,/dev/debug,0,0,0,0,%lld,%lld\n", cwd, (long long)c->writes,
               (long long)c->wbytes);
    }
    return finish(&t);
}

static void append_fstab(struct text *t, size_t n, const struct zvsh_image *im)
{
    char *alias = zvsh_channel_alias(n, im->path);
    char *mp = zvsh_nvram_escape(im->mountpoint);
    append(t, "channel=%s,mountpoint=%s,access=%s,removable=no\n", alias, mp, im->write_back ? "wo" : "ro");
    free(alias);
    free(mp);
}

char *zvsh_job_nvram(const struct zvsh_job *job)
{
    struct text t = { 0 };
    char *a0 = zvsh_nvram_escape(job->argv0);
    append(&t, "[args]\nargs = %s", a0);
    free(a0);
    for (size_t i = 0; i < job->nargs; i++) {
        char *a = zvsh_nvram_escape(job->args[i]);
        append(&t, " %s", a);
        free(a);
    }
    append(&t, "\n");

    if (job->cfg->nenv) {
        append(&t, "[env]\n");
        for (size_t i = 0; i < job->cfg->nenv; i++) {
            char *k = zvsh_nvram_escape(job->cfg->env[i].key), *v = zvsh_nvram_escape(job->cfg->env[i].value);
            append(&t, "name=%s,value=%s\n", k, v);
            free(k);
            free(v);
        }
    }
    if (job->nimages) {
        append(&t, "[fstab]\n");
        size_t n = 0;
        for (size_t i = 0; i < job->nconfig_images; i++)
            append_fstab(&t, ++n, &job->images[i]);
        n += job->nfiles;
        for (size_t i = job->nconfig_images; i < job->nimages; i++)
            append_fstab(&t, ++n, &job->images[i]);
    }
    append(&t, "[mapping]\nchannel=/dev/stdin,mode=%s\nchannel=/dev/stdout,mode=%s\nchannel=/dev/stderr,mode=%s\n",
           stream_mode(0), stream_mode(1), stream_mode(2));
    if (job->verbosity > 0)
        append(&t, "[debug]\nverbosity=%d\n", job->verbosity);
    return finish(&t);
}
