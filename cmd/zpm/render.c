/* render.c — the templates' one construct: "{{ key }}" is replaced by the value given for key. */
#include "zpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *lookup(const char *const *vars, const char *key, size_t len)
{
    for (const char *const *v = vars; v && v[0]; v += 2)
        if (strlen(v[0]) == len && strncmp(v[0], key, len) == 0)
            return v[1];
    return NULL;
}

char *zpm_render(const char *text, const char *const *vars, const char *file, char *err, size_t errsize)
{
    size_t cap = strlen(text) + 1, len = 0;
    char *out = malloc(cap);
    int line = 1;
    const char *p = text;
    while (out && *p) {
        const char *open = strstr(p, "{{");
        const char *copy_end = open ? open : p + strlen(p);
        const char *value = NULL;
        const char *after = copy_end;
        if (open) {
            const char *close = strstr(open + 2, "}}");
            if (!close) {
                for (const char *q = p; q < open; q++)
                    line += *q == '\n';
                snprintf(err, errsize, "%s:%d: '{{' without its '}}'", file, line);
                free(out);
                return NULL;
            }
            const char *k = open + 2, *kend = close;
            while (k < kend && (*k == ' ' || *k == '\t'))
                k++;
            while (kend > k && (kend[-1] == ' ' || kend[-1] == '\t'))
                kend--;
            value = lookup(vars, k, (size_t)(kend - k));
            if (!value) {
                for (const char *q = p; q < open; q++)
                    line += *q == '\n';
                char known[512] = "";
                for (const char *const *v = vars; v && v[0]; v += 2) {
                    size_t n = strlen(known);
                    snprintf(known + n, sizeof known - n, "%s%s", n ? ", " : "", v[0]);
                }
                snprintf(err, errsize, "%s:%d: unknown template variable '%.*s' (known: %s)", file, line,
                         (int)(kend - k), k, known);
                free(out);
                return NULL;
            }
            after = close + 2;
        }
        size_t chunk = (size_t)(copy_end - p), vlen = value ? strlen(value) : 0;
        if (len + chunk + vlen + 1 > cap) {
            cap = (len + chunk + vlen + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                out = NULL;
                break;
            }
            out = grown;
        }
        memcpy(out + len, p, chunk);
        len += chunk;
        memcpy(out + len, value ? value : "", vlen);
        len += vlen;
        for (const char *q = p; q < after; q++)
            line += *q == '\n';
        p = after;
    }
    if (!out) {
        snprintf(err, errsize, "%s: out of memory", file);
        return NULL;
    }
    out[len] = '\0';
    return out;
}
