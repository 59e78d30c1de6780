/*
 * decode.c — bytes → wasm_module: the preamble, the sections in their order, custom sections,
 * and what can only be checked once every section is read (function and code counts, the data
 * count, the index spaces).  One file per section does the rest (decode_*.c).
 */
#include "wasm/decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    SEC_CUSTOM = 0,
    SEC_TYPE,
    SEC_IMPORT,
    SEC_FUNCTION,
    SEC_TABLE,
    SEC_MEMORY,
    SEC_GLOBAL,
    SEC_EXPORT,
    SEC_START,
    SEC_ELEMENT,
    SEC_CODE,
    SEC_DATA,
    SEC_DATACOUNT,
    SEC_LAST = SEC_DATACOUNT
};

/* Where each section id may appear: the data count section sits between element and code. */
static int section_rank(uint8_t id)
{
    static const int rank[] = {
        [SEC_TYPE] = 1,    [SEC_IMPORT] = 2,     [SEC_FUNCTION] = 3, [SEC_TABLE] = 4,
        [SEC_MEMORY] = 5,  [SEC_GLOBAL] = 6,     [SEC_EXPORT] = 7,   [SEC_START] = 8,
        [SEC_ELEMENT] = 9, [SEC_DATACOUNT] = 10, [SEC_CODE] = 11,    [SEC_DATA] = 12,
    };
    return rank[id];
}

static bool decode_custom_section(wasm_decoder *d)
{
    wasm_reader *r = &d->r;
    const uint8_t *name;
    uint32_t len;
    size_t input_end = r->end;
    r->end = d->section_end;             /* a custom section's name must fit in it */
    bool ok = wasm_read_name(r, &name, &len);
    r->end = input_end;
    if (!ok)
        return false;
    if (len == 4 && memcmp(name, "name", 4) == 0 && !d->has_name_section) {
        d->has_name_section = true;
        d->name_start = r->pos;
        d->name_end = d->section_end;
    }
    r->pos = d->section_end;             /* custom contents are opaque */
    return true;
}

static bool decode_section(wasm_decoder *d, uint8_t id)
{
    switch (id) {
    case SEC_CUSTOM: return decode_custom_section(d);
    case SEC_TYPE: return wasm_decode_type_section(d);
    case SEC_IMPORT: return wasm_decode_import_section(d);
    case SEC_FUNCTION: return wasm_decode_function_section(d);
    case SEC_TABLE: return wasm_decode_table_section(d);
    case SEC_MEMORY: return wasm_decode_memory_section(d);
    case SEC_GLOBAL: return wasm_decode_global_section(d);
    case SEC_EXPORT: return wasm_decode_export_section(d);
    case SEC_START: return wasm_decode_start_section(d);
    case SEC_ELEMENT: return wasm_decode_element_section(d);
    case SEC_CODE: return wasm_decode_code_section(d);
    case SEC_DATA: return wasm_decode_data_section(d);
    case SEC_DATACOUNT: return wasm_decode_datacount_section(d);
    }
    return false;
}

static bool decode_preamble(wasm_decoder *d)
{
    wasm_reader *r = &d->r;
    const uint8_t *p;
    /* as the reference decoder: a short read is "unexpected end" before any comparison */
    if (!wasm_read_bytes(r, 4, &p))
        return false;
    if (memcmp(p, "\0asm", 4) != 0)
        return wasm_reader_fail(r, 0, "magic header not detected");
    if (!wasm_read_bytes(r, 4, &p))
        return false;
    if (memcmp(p, "\1\0\0\0", 4) != 0)
        return wasm_reader_fail(r, 4, "unknown binary version");
    return true;
}

/* Index spaces: imports first, then the module's own.  The table and memory sections already
 * made room for the imports; fill them in (or make the arrays when there was no section). */
static bool build_index_spaces(wasm_decoder *d)
{
    wasm_module *m = d->m;
    if (!m->tables) {
        if (!(m->tables = wasm_decode_alloc(d, m->ntable_imports, sizeof *m->tables)))
            return false;
        m->ntables = m->ntable_imports;
    }
    if (!m->memories) {
        if (!(m->memories = wasm_decode_alloc(d, m->nmemory_imports, sizeof *m->memories)))
            return false;
        m->nmemories = m->nmemory_imports;
    }
    if (!m->globals)
        m->nglobals = m->nglobal_imports;
    m->nfuncs = m->nfunc_imports + d->nfunc_decls;
    if (!(m->func_type = wasm_decode_alloc(d, m->nfuncs, sizeof *m->func_type)) ||
        !(m->global_types = wasm_decode_alloc(d, m->nglobals, sizeof *m->global_types)))
        return false;
    uint32_t f = 0, t = 0, mem = 0, g = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *im = &m->imports[i];
        switch (im->kind) {
        case ZVM_EXTERN_FUNC: m->func_type[f++] = im->u.type_index; break;
        case ZVM_EXTERN_TABLE: m->tables[t++] = im->u.table; break;
        case ZVM_EXTERN_MEMORY: m->memories[mem++] = im->u.memory; break;
        case ZVM_EXTERN_GLOBAL: m->global_types[g++] = im->u.global; break;
        }
    }
    for (uint32_t i = 0; i < d->nfunc_decls; i++)
        m->func_type[f++] = m->funcs[i].type_index;
    for (uint32_t i = 0; g < m->nglobals; i++)
        m->global_types[g++] = m->globals[i].type;
    return true;
}

/* C.refs: functions named outside function bodies, which ref.func in a body may then name. */
static bool collect_declared_refs(wasm_decoder *d)
{
    wasm_module *m = d->m;
    if (!(m->declared_refs = wasm_decode_alloc(d, m->nfuncs, sizeof *m->declared_refs)))
        return false;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == ZVM_EXTERN_FUNC && m->exports[i].index < m->nfuncs)
            m->declared_refs[m->exports[i].index] = true;
    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports; i++) {
        const wasm_const_expr *e = &m->globals[i].init;
        if (e->opcode == 0xd2 && e->value < m->nfuncs)
            m->declared_refs[e->value] = true;
    }
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++) {
            const wasm_const_expr *e = &m->elems[i].items[k];
            if (e->opcode == 0xd2 && e->value < m->nfuncs)
                m->declared_refs[e->value] = true;
        }
    return true;
}

static bool decode_module(wasm_decoder *d)
{
    wasm_reader *r = &d->r;
    wasm_module *m = d->m;
    int last_rank = 0;
    if (!decode_preamble(d))
        return false;
    while (r->pos < r->end) {
        size_t at = r->pos;
        uint8_t id;
        uint32_t size;
        if (!wasm_read_u8(r, &id))
            return false;
        if (id > SEC_LAST)
            return wasm_reader_fail(r, at, "malformed section id %u", id);
        if (!wasm_read_len(r, &size))
            return false;
        if (size > wasm_reader_left(r))
            return wasm_reader_fail(r, r->end, "unexpected end of section or function (section %u is cut short)", id);
        if (id != SEC_CUSTOM) {
            if (section_rank(id) <= last_rank)
                return wasm_reader_fail(
                    r, at, "unexpected content after last section (section %u out of order or repeated)", id);
            last_rank = section_rank(id);
        }
        d->section_start = r->pos;
        d->section_end = r->pos + size;
        if (!decode_section(d, id))
            return false;
        if (r->pos != d->section_end)
            return wasm_reader_fail(r, d->section_start,
                                    "section size mismatch (section %u declares %u bytes, uses %zu)", id, size,
                                    r->pos - d->section_start);
    }
    if (d->nfunc_decls && !d->has_code_section)
        return wasm_reader_fail(r, r->pos,
                                "function and code section have inconsistent lengths (%u functions, no code section)",
                                d->nfunc_decls);
    if (m->has_datacount && m->datacount != m->ndatas)
        return wasm_reader_fail(r, r->pos, "data count and data section have inconsistent lengths (%u and %u)",
                                m->datacount, m->ndatas);
    if (!build_index_spaces(d) || !collect_declared_refs(d))
        return false;
    if (d->has_name_section)
        wasm_decode_name_section(d, d->name_start, d->name_end);
    return true;
}

int wasm_decode(const uint8_t *bytes, size_t size, wasm_module **out, zvm_error *err)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        *out = NULL;
        snprintf(err->msg, sizeof err->msg, "at byte 0x0: out of memory copying a %zu-byte module", size);
        return -1;
    }
    memcpy(copy, bytes, size);
    return wasm_decode_owned(copy, size, out, err);
}

int wasm_decode_owned(uint8_t *bytes, size_t size, wasm_module **out, zvm_error *err)
{
    *out = NULL;
    wasm_module *m = calloc(1, sizeof *m);
    if (!m) {
        free(bytes);
        snprintf(err->msg, sizeof err->msg, "at byte 0x0: out of memory decoding a %zu-byte module", size);
        return -1;
    }
    m->bytes = bytes;
    m->size = size;
    wasm_decoder d = { .m = m };
    wasm_reader_init(&d.r, m->bytes, size, err);
    if (!decode_module(&d)) {
        wasm_module_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void wasm_module_free(wasm_module *m)
{
    if (!m)
        return;
    if (m->code && m->code_free)
        m->code_free(m->code);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free((char *)m->imports[i].module);
        free((char *)m->imports[i].name);
    }
    free(m->imports);
    free(m->types);
    if (m->funcs)
        for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
            free(m->funcs[i].runs);
    free(m->funcs);
    free(m->func_type);
    free(m->tables);
    free(m->memories);
    free(m->global_types);
    free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++)
        free((char *)m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->declared_refs);
    if (m->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free((char *)m->func_names[i]);
    free(m->func_names);
    free((char *)m->module_name);
    free(m->bytes);
    free(m);
}
