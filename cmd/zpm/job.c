/* job.c — from a checked zapp.yaml to ZeroCloud's job description (boot/system.map):
 * one object per execution group, with `path`, `args` and `env` gathered under `exec`. */
#include "zpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void zpm_strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* A growing string. */
typedef struct buf {
    char *s;
    size_t len, cap;
} buf;

static int put(buf *b, char c)
{
    if (b->len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char *s = realloc(b->s, cap);
        if (!s)
            return -1;
        b->s = s;
        b->cap = cap;
    }
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
    return 0;
}

char **zpm_shell_split(const char *line, char *err, size_t errsize)
{
    size_t count = 0;
    char **argv = calloc(1, sizeof *argv);
    const char *p = line;
    while (argv) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            return argv;
        buf word = { 0 };
        put(&word, '\0');
        word.len = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'') {
                const char *close = strchr(p + 1, '\'');
                if (!close)
                    goto unterminated;
                for (p++; p < close; p++)
                    put(&word, *p);
                p++;
            } else if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                    if (*p == '\\' && p[1] && strchr("\\\"$`\n", p[1]))
                        p++;
                    put(&word, *p);
                }
                if (*p != '"')
                    goto unterminated;
                p++;
            } else if (*p == '\\') {
                if (!p[1]) {
                    snprintf(err, errsize, "a backslash ends the command line: nothing to escape");
                    free(word.s);
                    zpm_strv_free(argv);
                    return NULL;
                }
                put(&word, p[1]);
                p += 2;
            } else {
                put(&word, *p++);
            }
            continue;
        unterminated:
            snprintf(err, errsize, "unterminated %s quote in '%s'", *p == '\'' ? "single" : "double", line);
            free(word.s);
            zpm_strv_free(argv);
            return NULL;
        }
        char **grown = realloc(argv, (count + 2) * sizeof *argv);
        if (!grown) {
            free(word.s);
            break;
        }
        argv = grown;
        argv[count++] = word.s;
        argv[count] = NULL;
    }
    zpm_strv_free(argv);
    snprintf(err, errsize, "out of memory");
    return NULL;
}

/* A scalar's text: strings as they are, numbers and booleans as YAML wrote them. */
static char *text_of(const json_t *v)
{
    char tmp[64];
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v))
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(tmp, sizeof tmp, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(tmp, sizeof tmp, "%s", json_is_true(v) ? "true" : "false");
    else
        tmp[0] = '\0';
    return strdup(tmp);
}

/* ZeroVM's nvram escaping of one argument: backslash, quote, comma, space, newline as \xHH. */
static void escape_arg(buf *b, const char *arg)
{
    for (const char *p = arg; *p; p++) {
        if (strchr("\\\", \n", *p)) {
            char hex[5];
            snprintf(hex, sizeof hex, "\\x%02x", (unsigned char)*p);
            for (char *h = hex; *h; h++)
                put(b, *h);
        } else {
            put(b, *p);
        }
    }
}

/* The program's name as ZeroCloud wants it: "python" for file://python:python, the object path
 * after the container for swift://account/container/dir/obj. */
static char *exec_name(const char *path)
{
    if (strncmp(path, "file://", 7) == 0)
        return strdup(strrchr(path, ':') + 1);
    const char *p = path + 8;                      /* swift:// */
    for (int slashes = 0; *p && slashes < 2; p++)
        slashes += *p == '/';
    return *p ? strdup(p) : NULL;
}

static json_t *group_to_job(const json_t *group, char *err, size_t errsize)
{
    json_t *out = json_object();
    json_t *exec = json_object();
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *)group, key, value) {
        if (strcmp(key, "path") == 0) {
            char *path = text_of(value);
            json_object_set_new(exec, "path", json_string(path));
            char *name = exec_name(path);
            if (name)
                json_object_set_new(exec, "name", json_string(name));
            free(name);
            free(path);
            json_object_set(out, "exec", exec);
        } else if (strcmp(key, "args") == 0 || strcmp(key, "env") == 0) {
            continue;                              /* gathered below, under exec */
        } else {
            json_object_set(out, key, value);
        }
    }
    /* args: split as a shell would, each word escaped as nvram wants, joined by spaces. */
    json_t *args = json_object_get(group, "args");
    char *line = args && !json_is_null(args) ? text_of(args) : strdup("");
    char **argv = zpm_shell_split(line, err, errsize);
    free(line);
    if (!argv) {
        json_decref(exec);
        json_decref(out);
        return NULL;
    }
    buf joined = { 0 };
    put(&joined, '\0');
    joined.len = 0;
    for (char **a = argv; *a; a++) {
        if (a != argv)
            put(&joined, ' ');
        escape_arg(&joined, *a);
    }
    zpm_strv_free(argv);
    json_object_set_new(exec, "args", json_string(joined.s));
    free(joined.s);
    json_t *env = json_object_get(group, "env");
    if (json_is_object(env)) {
        json_t *strings = json_object();
        json_object_foreach (env, key, value) {
            char *t = text_of(value);
            json_object_set_new(strings, key, json_string(t));
            free(t);
        }
        json_object_set_new(exec, "env", strings);
    }
    json_decref(exec);
    return out;
}

json_t *zpm_job_from_zapp(const zpm_zapp *z, char *err, size_t errsize)
{
    json_t *groups = json_object_get(json_object_get(z->doc, "execution"), "groups");
    json_t *job = json_array();
    size_t i;
    json_t *group;
    json_array_foreach (groups, i, group) {
        json_t *g = group_to_job(group, err, errsize);
        if (!g) {
            json_decref(job);
            return NULL;
        }
        json_array_append_new(job, g);
    }
    return job;
}
