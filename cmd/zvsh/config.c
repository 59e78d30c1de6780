/* config.c — reads zvsh.cfg files (see config.h for the order and the sections). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static void set_pair(struct zvsh_pair **list, size_t *n, const char *key, const char *value)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i].key, key) == 0) {
            free((*list)[i].value);
            (*list)[i].value = strdup(value);
            return;
        }
    *list = realloc(*list, (*n + 1) * sizeof **list);
    (*list)[*n].key = strdup(key);
    (*list)[*n].value = strdup(value);
    (*n)++;
}

void zvsh_config_set_env(struct zvsh_config *cfg, const char *name, const char *value)
{
    set_pair(&cfg->env, &cfg->nenv, name, value);
}

/* Integers as the manifest takes them: decimal, 0x hex, leading-0 octal.  "4294967296, 0" (the
 * Memory key with its etag flag) reads as its first number. */
static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    while (isspace((unsigned char)*end))
        end++;
    if (*end == ',')
        end = "";
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int read_file(struct zvsh_config *cfg, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;              /* a config file is optional */
    char line[4096], section[64] = "";
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1] != '\0') {
                snprintf(err, errsize, "%s:%d: a section line must read [name]", path, lineno);
                rc = -1;
                break;
            }
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errsize, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        int64_t *slot = NULL;
        if (strcmp(section, "manifest") == 0) {
            if (strcmp(key, "Version") == 0)
                slot = &cfg->version;
            else if (strcmp(key, "Memory") == 0)
                slot = &cfg->memory;
            else if (strcmp(key, "Node") == 0)
                slot = &cfg->node;
            else if (strcmp(key, "Timeout") == 0)
                slot = &cfg->timeout;
        } else if (strcmp(section, "limits") == 0) {
            if (strcmp(key, "reads") == 0)
                slot = &cfg->reads;
            else if (strcmp(key, "rbytes") == 0)
                slot = &cfg->rbytes;
            else if (strcmp(key, "writes") == 0)
                slot = &cfg->writes;
            else if (strcmp(key, "wbytes") == 0)
                slot = &cfg->wbytes;
        } else if (strcmp(section, "env") == 0) {
            set_pair(&cfg->env, &cfg->nenv, key, value);
            continue;
        } else if (strcmp(section, "fstab") == 0) {
            set_pair(&cfg->fstab, &cfg->nfstab, key, value);
            continue;
        } else if (strcmp(section, "images") == 0) {
            if (strcmp(key, "path") != 0) {
                snprintf(err, errsize, "%s:%d: unknown key '%s' in [images] (only 'path = DIR:DIR...')", path, lineno,
                         key);
                rc = -1;
            } else {
                free(cfg->image_path);
                cfg->image_path = strdup(value);
            }
            continue;
        } else {
            continue;              /* other sections (2014's [zvapp]) are not ours */
        }
        if (!slot) {
            snprintf(err, errsize, "%s:%d: unknown key '%s' in [%s]", path, lineno, key, section);
            rc = -1;
        } else if (parse_int(value, slot) != 0) {
            snprintf(err, errsize, "%s:%d: '%s' is not a non-negative integer", path, lineno, value);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

int zvsh_config_load(struct zvsh_config *cfg, char *err, size_t errsize)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->version = 20130611;
    cfg->memory = 4294967296LL;
    cfg->node = 1;
    cfg->timeout = 50;
    cfg->reads = cfg->rbytes = cfg->writes = cfg->wbytes = 4294967296LL;

    const char *only = getenv("ZVSH_CONFIG");
    if (only)
        return read_file(cfg, only, err, errsize);

    char home_cfg[4096] = "";
    const char *home = getenv("HOME");
    if (home)
        snprintf(home_cfg, sizeof home_cfg, "%s/.zvsh.cfg", home);
    const char *paths[] = { "/etc/zvsh.cfg", home_cfg, "zvsh.cfg" };
    for (size_t i = 0; i < 3; i++)
        if (*paths[i] && read_file(cfg, paths[i], err, errsize) != 0)
            return -1;
    return 0;
}

void zvsh_config_free(struct zvsh_config *cfg)
{
    for (size_t i = 0; i < cfg->nenv; i++) {
        free(cfg->env[i].key);
        free(cfg->env[i].value);
    }
    for (size_t i = 0; i < cfg->nfstab; i++) {
        free(cfg->fstab[i].key);
        free(cfg->fstab[i].value);
    }
    free(cfg->env);
    free(cfg->fstab);
    free(cfg->image_path);
}
