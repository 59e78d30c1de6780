/*
 * nvram.c — parses the guest's boot settings (the /dev/nvram channel), as ZeroVM's zrt read them.
 *
 *   [args]
 *   args = python hello.py          argv, split at blanks; \x20 keeps a blank inside one argument
 *   [env]
 *   name=HOME, value=/              one variable per line
 *   [fstab]
 *   channel=/dev/1.python.tar, mountpoint=/, access=ro, removable=no
 *   [mapping]
 *   channel=/dev/stdin, mode=pipe
 *   [debug]  verbosity=N     [time]  seconds=N     [random]  seed=N
 *
 * A line in a section is one record: key=value pairs separated by ','.  A ',' or a newline
 * inside a value is written \x2c or \x0a; any \xHH is decoded.  '#' starts a comment line.
 * Anything we do not understand is an error naming its line: a boot setting silently ignored
 * is a guest that silently misbehaves.
 */
#include "nvram/nvram.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum section { SEC_NONE, SEC_ARGS, SEC_ENV, SEC_FSTAB, SEC_MAPPING, SEC_DEBUG, SEC_TIME, SEC_RANDOM };

static const char *const section_names[] = {
    [SEC_ARGS] = "args",   [SEC_ENV] = "env",   [SEC_FSTAB] = "fstab",   [SEC_MAPPING] = "mapping",
    [SEC_DEBUG] = "debug", [SEC_TIME] = "time", [SEC_RANDOM] = "random",
};

#define MAX_PAIRS 8

/* One record: up to MAX_PAIRS key=value pairs, keys and values unescaped and NUL-terminated. */
typedef struct record {
    size_t n;
    char *key[MAX_PAIRS];
    char *value[MAX_PAIRS];
    bool used[MAX_PAIRS];
} record;

static int fail(zvm_error *err, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(zvm_error *err, int line, const char *fmt, ...)
{
    int n = snprintf(err->msg, sizeof err->msg, "nvram %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks in place at both ends of [*p, *p + *n). */
static void trim(const char **p, size_t *n)
{
    while (*n > 0 && is_blank(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*p)[*n - 1]))
        (*n)--;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A copy of s[0..n) with \xHH decoded; NULL with *why set when malformed or out of memory. */
static char *unescape(const char *s, size_t n, const char **why)
{
    char *out = malloc(n + 1), *o = out;
    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'x') {
            int hi = i + 2 < n ? hex_digit(s[i + 2]) : -1, lo = i + 3 < n ? hex_digit(s[i + 3]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "bad escape: write \\xHH with two hex digits";
                free(out);
                return NULL;
            }
            if (hi == 0 && lo == 0) {
                *why = "\\x00 is not allowed in a value";
                free(out);
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 3;
        } else if (s[i] == '\0') {
            *why = "contains a NUL byte";
            free(out);
            return NULL;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static void record_free(record *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->key[i]);
        free(r->value[i]);
    }
    r->n = 0;
}

/* Splits a record line into its key=value pairs. */
static int record_parse(const char *p, size_t n, int line, record *r, zvm_error *err)
{
    const char *end = p + n;
    memset(r, 0, sizeof *r);
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *pair = p;
        size_t len = (size_t)(stop - p);
        p = stop + 1;
        trim(&pair, &len);
        if (len == 0) {
            if (!comma && r->n > 0)
                break;   /* a trailing comma */
            record_free(r);
            return fail(err, line, "empty field; records are key=value pairs separated by ','");
        }
        const char *eq = memchr(pair, '=', len);
        if (!eq) {
            record_free(r);
            return fail(err, line, "'%.*s' is not key=value", (int)(len > 60 ? 60 : len), pair);
        }
        if (r->n == MAX_PAIRS) {
            record_free(r);
            return fail(err, line, "more than %d key=value pairs in one record", MAX_PAIRS);
        }
        const char *k = pair, *v = eq + 1;
        size_t kn = (size_t)(eq - pair), vn = (size_t)(pair + len - v);
        trim(&k, &kn);
        trim(&v, &vn);
        if (kn == 0) {
            record_free(r);
            return fail(err, line, "a pair with no key before '='");
        }
        const char *why = NULL;
        r->key[r->n] = unescape(k, kn, &why);
        r->value[r->n] = r->key[r->n] ? unescape(v, vn, &why) : NULL;
        r->n++;
        if (why) {
            record_free(r);
            return fail(err, line, "%s", why);
        }
        for (size_t j = 0; j + 1 < r->n; j++)
            if (strcmp(r->key[j], r->key[r->n - 1]) == 0) {
                int rc = fail(err, line, "key '%s' given twice in one record", r->key[j]);
                record_free(r);
                return rc;
            }
        if (!comma)
            break;
    }
    return 0;
}

/* The value of key in r (marking it used), or NULL. */
static const char *record_get(record *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->key[i], key) == 0) {
            r->used[i] = true;
            return r->value[i];
        }
    return NULL;
}

/* After a section took what it knows: any key left over, or given twice, is an error. */
static int record_check_used(const record *r, enum section sec, int line, zvm_error *err)
{
    for (size_t i = 0; i < r->n; i++)
        if (!r->used[i])
            return fail(err, line, "unknown key '%s' in [%s]", r->key[i], section_names[sec]);
    return 0;
}

static bool parse_int(const char *s, int64_t *out)
{
    const char *digits = s[0] == '-' ? s + 1 : s;
    if (*digits < '0' || *digits > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static int require(const char *value, const char *key, enum section sec, int line, zvm_error *err)
{
    if (!value)
        return fail(err, line, "[%s] record needs %s=", section_names[sec], key);
    if (!*value)
        return fail(err, line, "[%s] %s is empty", section_names[sec], key);
    return 0;
}

/* Appends one element to a growing array of element size sz. */
static void *grow(void *array, size_t count, size_t sz)
{
    return realloc(array, (count + 1) * sz);
}

/* [args] args=...: the value is split at blanks before unescaping, since a blank inside one
 * argument is written \x20 and a blank between two is a real blank.  raw is the record's line. */
static int take_args(zvm_nvram *nv, record *r, const char *raw, size_t n, int line, zvm_error *err)
{
    int rc = require(record_get(r, "args"), "args", SEC_ARGS, line, err);
    if (rc)
        return rc;
    if (nv->argv)
        return fail(err, line, "[args] given twice; put every argument on one args= line");
    if (r->n != 1)
        return 0;   /* record_check_used names the extra key */
    const char *v = (const char *)memchr(raw, '=', n) + 1;
    const char *end = raw + n;
    while (v < end) {
        while (v < end && is_blank(*v))
            v++;
        if (v == end)
            break;
        const char *w = v;
        while (v < end && !is_blank(*v))
            v++;
        const char *why = NULL;
        char *arg = unescape(w, (size_t)(v - w), &why);
        char **argv = arg ? grow(nv->argv, nv->argc + 1, sizeof *argv) : NULL;
        if (!argv) {
            free(arg);
            return fail(err, line, "%s", why ? why : "out of memory");
        }
        nv->argv = argv;
        nv->argv[nv->argc++] = arg;
        nv->argv[nv->argc] = NULL;
    }
    return 0;
}

static int take_env(zvm_nvram *nv, record *r, int line, zvm_error *err)
{
    const char *name = record_get(r, "name"), *value = record_get(r, "value");
    int rc = require(name, "name", SEC_ENV, line, err);
    if (rc)
        return rc;
    if (!value)
        return fail(err, line, "[env] record needs value= (it may be empty)");
    if (strchr(name, '='))
        return fail(err, line, "[env] name '%s' contains '='", name);
    char *entry = malloc(strlen(name) + strlen(value) + 2);
    char **env = entry ? grow(nv->env, nv->nenv, sizeof *env) : NULL;
    if (!env) {
        free(entry);
        return fail(err, line, "out of memory");
    }
    sprintf(entry, "%s=%s", name, value);
    nv->env = env;
    nv->env[nv->nenv++] = entry;
    return 0;
}

static int take_fstab(zvm_nvram *nv, record *r, int line, zvm_error *err)
{
    const char *channel = record_get(r, "channel"), *mountpoint = record_get(r, "mountpoint");
    const char *access = record_get(r, "access"), *removable = record_get(r, "removable");
    int rc;
    if ((rc = require(channel, "channel", SEC_FSTAB, line, err)) ||
        (rc = require(mountpoint, "mountpoint", SEC_FSTAB, line, err)))
        return rc;
    if (mountpoint[0] != '/')
        return fail(err, line, "[fstab] mountpoint '%s' must be an absolute guest path", mountpoint);
    zvm_fstab_entry e = { .access = ZVM_FSTAB_RO, .removable = false };
    if (access && strcmp(access, "ro") == 0)
        e.access = ZVM_FSTAB_RO;
    else if (access && strcmp(access, "wo") == 0)
        e.access = ZVM_FSTAB_WO;
    else if (access)
        return fail(err, line, "[fstab] access '%s' must be ro or wo", access);
    if (removable && strcmp(removable, "yes") == 0)
        e.removable = true;
    else if (removable && strcmp(removable, "no") != 0)
        return fail(err, line, "[fstab] removable '%s' must be yes or no", removable);
    e.channel = strdup(channel);
    e.mountpoint = strdup(mountpoint);
    zvm_fstab_entry *fs = e.channel && e.mountpoint ? grow(nv->fstab, nv->nfstab, sizeof *fs) : NULL;
    if (!fs) {
        free(e.channel);
        free(e.mountpoint);
        return fail(err, line, "out of memory");
    }
    nv->fstab = fs;
    nv->fstab[nv->nfstab++] = e;
    return 0;
}

static int take_mapping(zvm_nvram *nv, record *r, int line, zvm_error *err)
{
    const char *channel = record_get(r, "channel"), *mode = record_get(r, "mode");
    int rc;
    if ((rc = require(channel, "channel", SEC_MAPPING, line, err)) ||
        (rc = require(mode, "mode", SEC_MAPPING, line, err)))
        return rc;
    zvm_mapping_entry e = { 0 };
    if (strcmp(mode, "char") == 0)
        e.mode = ZVM_MAP_CHAR;
    else if (strcmp(mode, "file") == 0)
        e.mode = ZVM_MAP_FILE;
    else if (strcmp(mode, "pipe") == 0)
        e.mode = ZVM_MAP_PIPE;
    else
        return fail(err, line, "[mapping] mode '%s' must be char, file or pipe", mode);
    e.channel = strdup(channel);
    zvm_mapping_entry *map = e.channel ? grow(nv->mapping, nv->nmapping, sizeof *map) : NULL;
    if (!map) {
        free(e.channel);
        return fail(err, line, "out of memory");
    }
    nv->mapping = map;
    nv->mapping[nv->nmapping++] = e;
    return 0;
}

/* [debug] verbosity=, [time] seconds=, [random] seed=: one number each. */
static int take_number(record *r, enum section sec, const char *key, int64_t min, int64_t *out, int line,
                       zvm_error *err)
{
    const char *value = record_get(r, key);
    int rc = require(value, key, sec, line, err);
    if (rc)
        return rc;
    if (!parse_int(value, out) || *out < min)
        return fail(err, line, "[%s] %s '%s' must be a whole number, %lld or more", section_names[sec], key, value,
                    (long long)min);
    return 0;
}

static int parse_section_line(const char *p, size_t n, int line, enum section *sec, zvm_error *err)
{
    if (p[n - 1] != ']')
        return fail(err, line, "section header '%.*s' lacks its closing ']'", (int)(n > 60 ? 60 : n), p);
    const char *name = p + 1;
    size_t len = n - 2;
    trim(&name, &len);
    for (int s = SEC_ARGS; s <= SEC_RANDOM; s++)
        if (strlen(section_names[s]) == len && memcmp(section_names[s], name, len) == 0) {
            *sec = (enum section)s;
            return 0;
        }
    return fail(err, line, "unknown section [%.*s]; known: [args] [env] [fstab] [mapping] [debug] [time] [random]",
                (int)(len > 40 ? 40 : len), name);
}

static int parse_record_line(zvm_nvram *nv, enum section sec, const char *p, size_t n, int line, zvm_error *err)
{
    if (sec == SEC_NONE)
        return fail(err, line, "a record before any [section]");
    record r;
    int rc = record_parse(p, n, line, &r, err);
    if (rc)
        return rc;
    int64_t v = 0;
    switch (sec) {
    case SEC_ARGS: rc = take_args(nv, &r, p, n, line, err); break;
    case SEC_ENV: rc = take_env(nv, &r, line, err); break;
    case SEC_FSTAB: rc = take_fstab(nv, &r, line, err); break;
    case SEC_MAPPING: rc = take_mapping(nv, &r, line, err); break;
    case SEC_DEBUG:
        if ((rc = take_number(&r, sec, "verbosity", 0, &v, line, err)) == 0)
            nv->verbosity = v > 100 ? 100 : (int)v;
        break;
    case SEC_TIME:
        if ((rc = take_number(&r, sec, "seconds", 0, &v, line, err)) == 0)
            nv->time_seconds = v;
        break;
    case SEC_RANDOM:
        if ((rc = take_number(&r, sec, "seed", 0, &v, line, err)) == 0)
            nv->random_seed = (uint64_t)v;
        break;
    case SEC_NONE: break;
    }
    if (rc == 0)
        rc = record_check_used(&r, sec, line, err);
    record_free(&r);
    return rc;
}

int zvm_nvram_parse(const char *text, size_t size, zvm_nvram *out, zvm_error *err)
{
    zvm_nvram nv = { .random_seed = ZVM_NVRAM_DEFAULT_SEED };
    enum section sec = SEC_NONE;
    const char *p = text, *end = text + size;
    int line = 0, rc = 0;
    while (p < end && rc == 0) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p;
        size_t n = (size_t)((nl ? nl : end) - p);
        p = nl ? nl + 1 : end;
        trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        if (s[0] == '[')
            rc = parse_section_line(s, n, line, &sec, err);
        else
            rc = parse_record_line(&nv, sec, s, n, line, err);
    }
    if (rc != 0) {
        zvm_nvram_free(&nv);
        return -1;
    }
    *out = nv;
    return 0;
}

void zvm_nvram_free(zvm_nvram *nv)
{
    for (size_t i = 0; i < nv->argc; i++)
        free(nv->argv[i]);
    free(nv->argv);
    for (size_t i = 0; i < nv->nenv; i++)
        free(nv->env[i]);
    free(nv->env);
    for (size_t i = 0; i < nv->nfstab; i++) {
        free(nv->fstab[i].channel);
        free(nv->fstab[i].mountpoint);
    }
    free(nv->fstab);
    for (size_t i = 0; i < nv->nmapping; i++)
        free(nv->mapping[i].channel);
    free(nv->mapping);
    memset(nv, 0, sizeof *nv);
}
