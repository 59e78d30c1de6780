/*
 * decode_name.c — the "name" custom section: the module's name (subsection 0) and function
 * names (subsection 1), kept for trap messages.  Other subsections are skipped.
 *
 * The spec lets an engine ignore a malformed name section, and we do: this reader writes its
 * failures nowhere, and on any failure the names read so far are dropped.
 */
#include "wasm/decode.h"

#include <stdlib.h>

static void drop_names(wasm_module *m)
{
    if (m->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free((char *)m->func_names[i]);
    free(m->func_names);
    free((char *)m->module_name);
    m->func_names = NULL;
    m->module_name = NULL;
}

static bool read_str(wasm_reader *r, char **out)
{
    const uint8_t *s;
    uint32_t len;
    if (!wasm_read_name(r, &s, &len))
        return false;
    char *p = malloc((size_t)len + 1);
    if (!p)
        return false;
    for (uint32_t i = 0; i < len; i++)
        p[i] = (char)s[i];
    p[len] = 0;
    *out = p;
    return true;
}

static bool decode_function_names(wasm_module *m, wasm_reader *r)
{
    uint32_t n;
    if (!wasm_read_count(r, r->end, &n))
        return false;
    if (!m->func_names && !(m->func_names = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *m->func_names)))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t index;
        char *name;
        if (!wasm_read_u32(r, &index) || !read_str(r, &name))
            return false;
        if (index >= m->nfuncs || m->func_names[index]) {  /* out of range or twice: malformed */
            free(name);
            return false;
        }
        m->func_names[index] = name;
    }
    return true;
}

static bool decode_names(wasm_module *m, wasm_reader *r)
{
    while (r->pos < r->end) {
        uint8_t id;
        uint32_t size;
        if (!wasm_read_u8(r, &id) || !wasm_read_len(r, &size) || size > wasm_reader_left(r))
            return false;
        size_t sub_end = r->pos + size, outer_end = r->end;
        r->end = sub_end;
        bool ok = true;
        if (id == 0 && !m->module_name) {
            char *name;
            ok = read_str(r, &name);
            if (ok)
                m->module_name = name;
        } else if (id == 1) {
            ok = decode_function_names(m, r);
        } else {
            r->pos = sub_end;
        }
        r->end = outer_end;
        if (!ok || r->pos != sub_end)
            return false;
    }
    return true;
}

void wasm_decode_name_section(wasm_decoder *d, size_t start, size_t end)
{
    wasm_module *m = d->m;
    if (m->module_name || m->func_names)
        return;                          /* only the first name section counts */
    wasm_reader r;
    wasm_reader_init(&r, d->r.bytes, end, NULL);
    r.pos = start;
    if (!decode_names(m, &r))
        drop_names(m);
}
