/*
 * script.c — reads the JSON command list that wast2json wrote.
 *
 * wabt 1.0.32 writes the result types of "action" and "assert_exhaustion" commands with
 * more than one result without commas between the objects ([{"type": "i32"}{"type": "f32"}]),
 * which no JSON parser accepts.  We put the missing commas back before parsing: a '{' that
 * follows a '}' (blanks between them allowed), outside strings, is always this quirk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = len;
    return buf;
}

/* Returns a copy of text[0..size) with a ',' inserted between every "}{" outside strings. */
static char *insert_missing_commas(const char *text, size_t size, size_t *out_size)
{
    char *out = malloc(size * 2 + 1);      /* at worst one comma per character */
    if (!out)
        return NULL;
    size_t n = 0;
    bool in_string = false, after_close = false;
    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\' && i + 1 < size)
                out[n++] = text[i++];
            else if (c == '"')
                in_string = false;
            out[n++] = text[i];
            continue;
        }
        if (c == '{' && after_close)
            out[n++] = ',';
        if (c == '"')
            in_string = true;
        if (c == '}')
            after_close = true;
        else if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            after_close = false;
        out[n++] = c;
    }
    out[n] = '\0';
    *out_size = n;
    return out;
}

json_t *script_load(const char *path, char *why, size_t why_size)
{
    size_t size, fixed_size;
    char *text = read_file(path, &size);
    if (!text) {
        snprintf(why, why_size, "cannot read %s (run wast2json on the .wast first)", path);
        return NULL;
    }
    char *fixed = insert_missing_commas(text, size, &fixed_size);
    free(text);
    if (!fixed) {
        snprintf(why, why_size, "out of memory reading %s", path);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(fixed, fixed_size, JSON_ALLOW_NUL, &jerr);
    free(fixed);
    if (!root) {
        snprintf(why, why_size, "%s:%d:%d: not JSON: %s", path, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_array(json_object_get(root, "commands"))) {
        snprintf(why, why_size, "%s: no \"commands\" list (is it a wast2json file?)", path);
        json_decref(root);
        return NULL;
    }
    return root;
}
