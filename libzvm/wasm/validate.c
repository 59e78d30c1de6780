/*
 * validate.c — the module-level rules of the spec's validation chapter: types, imports,
 * limits, globals and constant expressions, exports, start, element and data segments; then
 * every function body (validate_code.c).  Also zvm_module_validate, decode + validate.
 *
 * What the decoder already enforced (section order, counts that agree, constant expressions
 * made of one constant instruction) is not checked again; see docs/Validation.md.
 */
#include "wasm/features.h"
#include "wasm/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(zvm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(zvm_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* V128 is decoded (it is a value type of 2.0) but the engine has no SIMD: refuse it early
 * and say so, rather than fail somewhere inside the translator. */
static int check_valtype(uint8_t t, zvm_error *err, const char *where, uint32_t index)
{
    if (t == ZVM_V128)
        return fail(err, "%s %u: unsupported: v128 (SIMD) is not implemented by this engine", where, index);
    return 0;
}

static int check_types(const wasm_module *m, zvm_error *err)
{
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const zvm_functype *t = &m->types[i];
        for (uint32_t k = 0; k < t->nparams; k++)
            if (check_valtype(t->params[k], err, "type", i))
                return -1;
        for (uint32_t k = 0; k < t->nresults; k++)
            if (check_valtype(t->results[k], err, "type", i))
                return -1;
    }
    return 0;
}

static int check_limits(const wasm_limits *l, uint64_t bound, const char *what, uint32_t index, zvm_error *err)
{
    if (bound && (l->min > bound || (l->max != UINT64_MAX && l->max > bound)))
        return fail(err, "%s %u: memory size must be at most 65536 pages (4GiB)", what, index);
    if (l->max != UINT64_MAX && l->min > l->max)
        return fail(err, "%s %u: size minimum must not be greater than maximum (%llu > %llu)", what, index,
                    (unsigned long long)l->min, (unsigned long long)l->max);
    return 0;
}

/* Tags (the exception-handling proposal): a known type with no results; its parameters are
 * the payload an exception of the tag carries. */
static int check_tags(const wasm_module *m, zvm_error *err)
{
    if (m->ntags && !(WASM_FEATURES_ENABLED & WASM_FEATURE_EXCEPTIONS))
        return fail(err, "tag %u: exception handling is not enabled in this engine", 0u);
    for (uint32_t i = 0; i < m->ntags; i++) {
        if (m->tag_types[i] >= m->ntypes)
            return fail(err, "tag %u: unknown type %u", i, m->tag_types[i]);
        if (m->types[m->tag_types[i]].nresults)
            return fail(err, "tag %u: non-empty tag result type (type %u returns %u value(s))", i, m->tag_types[i],
                        m->types[m->tag_types[i]].nresults);
    }
    return 0;
}

static int check_imports_and_spaces(const wasm_module *m, zvm_error *err)
{
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *im = &m->imports[i];
        if (im->kind == ZVM_EXTERN_FUNC && im->u.type_index >= m->ntypes)
            return fail(err, "import %u (\"%s\" \"%s\"): unknown type %u", i, im->module, im->name, im->u.type_index);
        if (im->kind == ZVM_EXTERN_GLOBAL && check_valtype(im->u.global.valtype, err, "import", i))
            return -1;
    }
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
        if (m->funcs[i].type_index >= m->ntypes)
            return fail(err, "function %u: unknown type %u", m->nfunc_imports + i, m->funcs[i].type_index);
    for (uint32_t i = 0; i < m->ntables; i++)
        if (check_limits(&m->tables[i].limits, 0, "table", i, err))
            return -1;
    if (check_tags(m, err))
        return -1;
    if (m->nmemories > 1)
        return fail(err, "multiple memories: %u declared, WebAssembly 2.0 allows one", m->nmemories);
    for (uint32_t i = 0; i < m->nmemories; i++)
        if (check_limits(&m->memories[i], WASM_MAX_PAGES, "memory", i, err))
            return -1;
    return 0;
}

/*
 * A constant expression (one instruction, as decoded) against the type it must have.  In 2.0,
 * global.get may only name an imported, immutable global, wherever the expression is.
 */
static int check_const_expr(const wasm_module *m, const wasm_const_expr *e, uint8_t want, zvm_error *err)
{
    uint8_t type;
    switch (e->opcode) {
    case 0x41: type = ZVM_I32; break;
    case 0x42: type = ZVM_I64; break;
    case 0x43: type = ZVM_F32; break;
    case 0x44: type = ZVM_F64; break;
    case 0xd0: type = e->reftype; break;
    case 0xd2:
        if (e->value >= m->nfuncs)
            return fail(err, "at byte 0x%zx: unknown function %llu", e->offset, (unsigned long long)e->value);
        type = ZVM_FUNCREF;
        break;
    case 0x23:
        if (e->value >= m->nglobal_imports)
            return fail(err,
                        "at byte 0x%zx: unknown global %llu (a constant expression may only read imported globals)",
                        e->offset, (unsigned long long)e->value);
        if (m->global_types[e->value].mutable_)
            return fail(err, "at byte 0x%zx: constant expression required (global %llu is mutable)", e->offset,
                        (unsigned long long)e->value);
        type = m->global_types[e->value].valtype;
        break;
    default: return fail(err, "at byte 0x%zx: constant expression required", e->offset);
    }
    if (type != want)
        return fail(err, "at byte 0x%zx: type mismatch: constant expression of type %s where %s is expected", e->offset,
                    zvm_valtype_name(type), zvm_valtype_name(want));
    return 0;
}

static int check_globals(const wasm_module *m, zvm_error *err)
{
    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports; i++) {
        const wasm_global *g = &m->globals[i];
        if (check_valtype(g->type.valtype, err, "global", m->nglobal_imports + i) ||
            check_const_expr(m, &g->init, g->type.valtype, err))
            return -1;
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    const wasm_export *x = *(const wasm_export *const *)a, *y = *(const wasm_export *const *)b;
    uint32_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int check_exports(const wasm_module *m, zvm_error *err)
{
    static const char *const kinds[] = { "function", "table", "memory", "global", "tag" };
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_export *ex = &m->exports[i];
        uint32_t limit = ex->kind == ZVM_EXTERN_FUNC     ? m->nfuncs
                         : ex->kind == ZVM_EXTERN_TABLE  ? m->ntables
                         : ex->kind == ZVM_EXTERN_MEMORY ? m->nmemories
                         : ex->kind == ZVM_EXTERN_TAG    ? m->ntags
                                                         : m->nglobals;
        if (ex->index >= limit)
            return fail(err, "export %u (\"%s\"): unknown %s %u", i, ex->name, kinds[ex->kind], ex->index);
    }
    /* unique names (compared as bytes: a name may hold NULs): sort pointers, compare neighbours */
    if (m->nexports < 2)
        return 0;
    const wasm_export **sorted = malloc(m->nexports * sizeof *sorted);
    if (!sorted)
        return fail(err, "exports: out of memory checking %u names", m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, compare_names);
    int rc = 0;
    for (uint32_t i = 1; i < m->nexports && rc == 0; i++)
        if (compare_names(&sorted[i - 1], &sorted[i]) == 0)
            rc = fail(err, "export %u (\"%s\"): duplicate export name", (uint32_t)(sorted[i] - m->exports),
                      sorted[i]->name);
    free(sorted);
    return rc;
}

static int check_start(const wasm_module *m, zvm_error *err)
{
    if (!m->has_start)
        return 0;
    if (m->start >= m->nfuncs)
        return fail(err, "start: unknown function %u", m->start);
    const zvm_functype *t = wasm_func_type(m, m->start);
    if (t->nparams || t->nresults)
        return fail(err,
                    "start: start function %u must take no parameters and return nothing (it takes %u, returns %u)",
                    m->start, t->nparams, t->nresults);
    return 0;
}

static int check_elems(const wasm_module *m, zvm_error *err)
{
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem *e = &m->elems[i];
        if (e->mode == WASM_SEG_ACTIVE) {
            if (e->table >= m->ntables)
                return fail(err, "element segment %u: unknown table %u", i, e->table);
            if (m->tables[e->table].elemtype != e->elemtype)
                return fail(err, "element segment %u: type mismatch: %s elements for a %s table", i,
                            zvm_valtype_name(e->elemtype), zvm_valtype_name(m->tables[e->table].elemtype));
            if (check_const_expr(m, &e->offset, ZVM_I32, err))
                return -1;
        }
        for (uint32_t k = 0; k < e->count; k++)
            if (check_const_expr(m, &e->items[k], e->elemtype, err))
                return -1;
    }
    return 0;
}

static int check_datas(const wasm_module *m, zvm_error *err)
{
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wasm_data *d = &m->datas[i];
        if (d->mode != WASM_SEG_ACTIVE)
            continue;
        if (d->memory >= m->nmemories)
            return fail(err, "data segment %u: unknown memory %u", i, d->memory);
        if (check_const_expr(m, &d->offset, ZVM_I32, err))
            return -1;
    }
    return 0;
}

int wasm_validate(const wasm_module *m, zvm_error *err)
{
    /* the reference validator's order, so that a module with several faults names the same one;
     * and as it decodes every body before validating, a malformed body comes first of all */
    if (check_types(m, err) || check_imports_and_spaces(m, err) || check_globals(m, err) || check_elems(m, err) ||
        check_datas(m, err)) {
        wasm_scan_functions(m, 0, err);
        return -1;
    }
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        if (wasm_validate_function(m, i, err)) {
            wasm_scan_functions(m, i, err);
            return -1;
        }
    if (check_start(m, err) || check_exports(m, err)) {
        /* every body has been read: none is malformed */
        return -1;
    }
    return 0;
}

int zvm_module_validate(const uint8_t *bytes, size_t size, zvm_error *err)
{
    wasm_module *m;
    if (wasm_decode(bytes, size, &m, err))
        return -1;
    int rc = wasm_validate(m, err);
    wasm_module_free(m);
    return rc;
}
