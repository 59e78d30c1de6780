/*
 * instance.c — runtimes, modules, host objects, instantiation and exports (the wasm.h API
 * around the interpreter).
 *
 * Everything a runtime makes (functions, tables, memories, globals, instances) is linked in its
 * object list and freed with it: objects point at each other freely (a table holds functions of
 * several instances) and none outlives the runtime.  A module is reference-counted by its
 * instances, so the host may free it as soon as it has instantiated it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/exec.h"

static void *rt_alloc(zvm_runtime *rt, enum obj_kind kind, size_t size)
{
    struct obj *o = calloc(1, size);
    if (!o)
        return NULL;
    o->kind = kind;
    o->next = rt->objects;
    rt->objects = o;
    return o;
}

static int oom(zvm_error *err, const char *what)
{
    if (err)
        snprintf(err->msg, sizeof err->msg, "out of memory (%s)", what);
    return -1;
}

/* A new function object, registered so that references can name it by number. */
static zvm_func *new_func(zvm_runtime *rt)
{
    if (rt->nfunc_refs == rt->func_refs_cap) {
        if (rt->func_refs_cap >= UINT32_MAX / 2)
            return NULL;
        uint32_t cap = rt->func_refs_cap ? rt->func_refs_cap * 2 : 64;
        zvm_func **refs = realloc(rt->func_refs, cap * sizeof *refs);
        if (!refs)
            return NULL;
        rt->func_refs = refs;
        rt->func_refs_cap = cap;
    }
    zvm_func *f = rt_alloc(rt, OBJ_FUNC, sizeof *f);
    if (!f)
        return NULL;
    rt->func_refs[rt->nfunc_refs++] = f;
    f->ref = rt->nfunc_refs;
    return f;
}

/* ---- runtime ---- */

int zvm_runtime_new(const zvm_runtime_config *cfg, zvm_runtime **out, zvm_error *err)
{
    zvm_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return oom(err, "runtime");
    if (cfg)
        rt->cfg = *cfg;
    if (!rt->cfg.max_call_depth)
        rt->cfg.max_call_depth = 10000;
    if (!rt->cfg.value_stack_bytes)
        rt->cfg.value_stack_bytes = 8u << 20;
    if (!rt->cfg.memory_limit)
        rt->cfg.memory_limit = (uint64_t)WASM_MAX_PAGES * WASM_PAGE_SIZE;
    size_t nslots = rt->cfg.value_stack_bytes / 8;
    rt->stack = malloc(nslots * 8);
    /* one record more than the depth limit: a call handler saves the caller's fp in the next
     * record before it learns that the limit is reached, so that record must exist */
    rt->frames = malloc(((size_t)rt->cfg.max_call_depth + 1) * sizeof *rt->frames);
    if (!rt->stack || !rt->frames) {
        free(rt->stack);
        free(rt->frames);
        free(rt);
        return oom(err, "runtime stacks");
    }
    rt->stack_end = rt->stack + nslots;
    rt->stack_free = rt->stack;
    rt->frames_end = rt->frames + rt->cfg.max_call_depth;
    rt->frame_free = rt->frames;
    atomic_init(&rt->interrupted, 0);
    *out = rt;
    return 0;
}

static void free_object(struct obj *o)
{
    switch (o->kind) {
    case OBJ_FUNC: break;
    case OBJ_TABLE: free(((zvm_table *)o)->elems); break;
    case OBJ_MEMORY: wasm_memory_release((zvm_memory *)o); break;
    case OBJ_GLOBAL: break;
    case OBJ_INSTANCE: {
        zvm_instance *inst = (zvm_instance *)o;
        free(inst->funcs);
        free(inst->tables);
        free(inst->globals);
        free(inst->types);
        for (uint32_t i = 0; i < inst->nelems; i++)
            free(inst->elem_items[i]);
        free(inst->elem_items);
        free(inst->elem_sizes);
        free(inst->data_dropped);
        wasm_resume_point_free(inst->resume);
        zvm_module_free(inst->module);
        break;
    }
    }
    free(o);
}

void zvm_runtime_free(zvm_runtime *rt)
{
    if (!rt)
        return;
    for (struct obj *o = rt->objects, *next; o; o = next) {
        next = o->next;
        free_object(o);
    }
    for (uint32_t i = 0; i < rt->ntypes; i++)
        free((void *)rt->types[i]);
    free(rt->types);
    free(rt->func_refs);
    free(rt->stack);
    free(rt->frames);
    free(rt);
}

void zvm_runtime_interrupt(zvm_runtime *rt)
{
    atomic_store_explicit(&rt->interrupted, 1, memory_order_relaxed);
}
void zvm_runtime_clear_interrupt(zvm_runtime *rt)
{
    atomic_store_explicit(&rt->interrupted, 0, memory_order_relaxed);
}

static bool same_type(const zvm_functype *a, const zvm_functype *b)
{
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           (a->nparams == 0 || memcmp(a->params, b->params, a->nparams) == 0) &&
           (a->nresults == 0 || memcmp(a->results, b->results, a->nresults) == 0);
}

/* One copy of each function type per runtime: call_indirect compares pointers. */
const zvm_functype *wasm_runtime_intern_type(zvm_runtime *rt, const zvm_functype *t)
{
    for (uint32_t i = 0; i < rt->ntypes; i++)
        if (same_type(rt->types[i], t))
            return rt->types[i];
    if (rt->ntypes == rt->types_cap) {
        uint32_t cap = rt->types_cap ? rt->types_cap * 2 : 16;
        const zvm_functype **n = realloc(rt->types, cap * sizeof *n);
        if (!n)
            return NULL;
        rt->types = n;
        rt->types_cap = cap;
    }
    zvm_functype *c = malloc(sizeof *c + t->nparams + t->nresults);
    if (!c)
        return NULL;
    uint8_t *bytes = (uint8_t *)(c + 1);
    if (t->nparams)
        memcpy(bytes, t->params, t->nparams);
    if (t->nresults)
        memcpy(bytes + t->nparams, t->results, t->nresults);
    *c = (zvm_functype){ t->nparams, t->nresults, bytes, bytes + t->nparams };
    rt->types[rt->ntypes++] = c;
    return c;
}

/* ---- modules ---- */

int zvm_module_load_with(uint8_t *bytes, size_t size, unsigned flags, zvm_module **out, zvm_error *err)
{
    wasm_module *w;
    if ((flags & ZVM_LOAD_TAKE_BYTES ? wasm_decode_owned(bytes, size, &w, err) : wasm_decode(bytes, size, &w, err)) !=
        0)
        return -1;
    if ((!(flags & ZVM_LOAD_VALIDATED) && wasm_validate(w, err) != 0) || wasm_translate_module(w, err) != 0) {
        wasm_module_free(w);
        return -1;
    }
    zvm_module *m = calloc(1, sizeof *m);
    if (!m) {
        wasm_module_free(w);
        return oom(err, "module");
    }
    m->w = w;
    m->refs = 1;
    *out = m;
    return 0;
}

int zvm_module_load(const uint8_t *bytes, size_t size, zvm_module **out, zvm_error *err)
{
    return zvm_module_load_with((uint8_t *)bytes, size, 0, out, err);
}

int zvm_module_translate_all(zvm_module *m, zvm_error *err)
{
    struct code *code = m->w->code;
    for (uint32_t f = 0; f < code->nfuncs; f++)
        if (wasm_translate_function(m->w, &code->funcs[f], err) != 0)
            return -1;
    return 0;
}

void zvm_module_free(zvm_module *m)
{
    if (!m || --m->refs > 0)
        return;
    wasm_module_free(m->w);
    free(m);
}

uint32_t zvm_module_import_count(const zvm_module *m)
{
    return m->w->nimports;
}

void zvm_module_import(const zvm_module *m, uint32_t i, zvm_import_desc *out)
{
    const wasm_import *im = &m->w->imports[i];
    memset(out, 0, sizeof *out);
    out->module = im->module;
    out->name = im->name;
    out->kind = im->kind;
    switch (im->kind) {
    case ZVM_EXTERN_FUNC: out->func = m->w->types[im->u.type_index]; break;
    case ZVM_EXTERN_TABLE:
        out->valtype = im->u.table.elemtype;
        out->min = im->u.table.limits.min;
        out->max = im->u.table.limits.max;
        break;
    case ZVM_EXTERN_MEMORY:
        out->min = im->u.memory.min;
        out->max = im->u.memory.max;
        break;
    case ZVM_EXTERN_GLOBAL:
        out->valtype = im->u.global.valtype;
        out->mutable_ = im->u.global.mutable_;
        break;
    }
}

uint32_t zvm_module_export_count(const zvm_module *m)
{
    return m->w->nexports;
}

void zvm_module_export(const zvm_module *m, uint32_t i, zvm_export_desc *out)
{
    const wasm_export *e = &m->w->exports[i];
    out->name = e->name;
    out->kind = e->kind;
    out->index = e->index;
}

/* ---- host objects ---- */

int zvm_func_new_host(zvm_runtime *rt, const zvm_functype *type, zvm_host_fn fn, void *user, zvm_func **out,
                      zvm_error *err)
{
    const zvm_functype *t = wasm_runtime_intern_type(rt, type);
    zvm_func *f = t ? new_func(rt) : NULL;
    if (!f)
        return oom(err, "host function");
    f->type = t;
    f->host = fn;
    f->user = user;
    *out = f;
    return 0;
}

static uint64_t limit_pages(const zvm_runtime *rt)
{
    uint64_t p = rt->cfg.memory_limit / WASM_PAGE_SIZE;
    return p < WASM_MAX_PAGES ? p : WASM_MAX_PAGES;
}

int zvm_memory_new(zvm_runtime *rt, uint32_t min_pages, uint64_t max_pages, zvm_memory **out, zvm_error *err)
{
    zvm_memory *mem = rt_alloc(rt, OBJ_MEMORY, sizeof *mem);
    if (!mem)
        return oom(err, "memory");
    uint64_t cap = limit_pages(rt);
    mem->declared_max = max_pages;
    if (wasm_memory_init_object(mem, min_pages, max_pages < cap ? max_pages : cap, err) != 0)
        return -1;
    *out = mem;
    return 0;
}

void zvm_memory_set_limit(zvm_memory *mem, uint64_t bytes)
{
    uint64_t pages = bytes / WASM_PAGE_SIZE, current = mem->size / WASM_PAGE_SIZE;
    if (pages > mem->declared_max)
        pages = mem->declared_max;
    if (pages > WASM_MAX_PAGES)
        pages = WASM_MAX_PAGES;
    mem->max_pages = pages > current ? pages : current;
}

int zvm_table_new(zvm_runtime *rt, uint8_t elemtype, uint32_t min, uint64_t max, zvm_val init, zvm_table **out,
                  zvm_error *err)
{
    if (min > WASM_TABLE_LIMIT) {
        snprintf(err->msg, sizeof err->msg, "table of %u elements exceeds the engine's limit of %u", min,
                 WASM_TABLE_LIMIT);
        return -1;
    }
    zvm_table *t = rt_alloc(rt, OBJ_TABLE, sizeof *t);
    if (!t || !(t->elems = malloc((min ? min : 1) * sizeof(zvm_val))))
        return oom(err, "table");
    t->elemtype = elemtype;
    t->size = min;
    t->max = max;
    for (uint32_t i = 0; i < min; i++)
        t->elems[i] = init;
    *out = t;
    return 0;
}

int zvm_global_new(zvm_runtime *rt, uint8_t valtype, bool mutable_, zvm_val value, zvm_global **out, zvm_error *err)
{
    zvm_global *g = rt_alloc(rt, OBJ_GLOBAL, sizeof *g);
    if (!g)
        return oom(err, "global");
    g->valtype = valtype;
    g->mutable_ = mutable_;
    g->value = value;
    *out = g;
    return 0;
}

/* ---- instances ---- */

static bool limits_match(uint64_t have_min, uint64_t have_max, uint64_t want_min, uint64_t want_max)
{
    if (have_min < want_min)
        return false;
    if (want_max == UINT64_MAX)
        return true;
    return have_max != UINT64_MAX && have_max <= want_max;
}

static int check_import(zvm_runtime *rt, const wasm_module *w, uint32_t i, const zvm_extern *ext, zvm_error *err)
{
    const wasm_import *im = &w->imports[i];
    const char *why = NULL;
    if (ext->kind != im->kind) {
        why = "wrong kind of object";
    } else {
        switch (im->kind) {
        case ZVM_EXTERN_FUNC:
            if (!ext->u.func)
                why = "no function";
            else if (ext->u.func->type != wasm_runtime_intern_type(rt, &w->types[im->u.type_index]))
                why = "function type differs";
            break;
        case ZVM_EXTERN_TABLE: {
            const zvm_table *t = ext->u.table;
            if (!t || t->elemtype != im->u.table.elemtype)
                why = "table element type differs";
            else if (!limits_match(t->size, t->max, im->u.table.limits.min, im->u.table.limits.max))
                why = "table limits do not fit";
            break;
        }
        case ZVM_EXTERN_MEMORY: {
            const zvm_memory *mem = ext->u.memory;
            if (!mem ||
                !limits_match(mem->size / WASM_PAGE_SIZE, mem->declared_max, im->u.memory.min, im->u.memory.max))
                why = "memory limits do not fit";
            break;
        }
        case ZVM_EXTERN_GLOBAL: {
            const zvm_global *g = ext->u.global;
            if (!g || g->valtype != im->u.global.valtype || g->mutable_ != im->u.global.mutable_)
                why = "global type differs";
            break;
        }
        }
    }
    if (why) {
        snprintf(err->msg, sizeof err->msg, "incompatible import type: import %u \"%s\" \"%s\": %s", i, im->module,
                 im->name, why);
        return -1;
    }
    return 0;
}

static zvm_val eval_const(const zvm_instance *inst, const wasm_const_expr *e)
{
    switch (e->opcode) {
    case 0x23: return inst->globals[e->value]->value;
    case 0xd2: return inst->funcs[e->value]->ref;
    case 0xd0: return 0;
    case 0x41: return (uint32_t)e->value;
    default: return e->value;
    }
}

static int init_failed(zvm_trap *trap, zvm_error *err, enum zvm_trap_kind kind)
{
    if (trap) {
        wasm_exec_set_trap(trap, kind);
        trap->func_index = UINT32_MAX;
    }
    snprintf(err->msg, sizeof err->msg, "%s", zvm_trap_kind_message(kind));
    return -1;
}

/* Makes the instance's objects (functions, tables, memory, globals, evaluated segments) without
 * initialising them from the segments or running the start function; *out is set once they
 * exist, so a failure later still lets the runtime free everything. */
static int build_instance(zvm_runtime *rt, const zvm_module *cm, const zvm_extern *imports, uint32_t nimports,
                          zvm_instance **out, zvm_trap *trap, zvm_error *err)
{
    zvm_module *m = (zvm_module *)cm;
    const wasm_module *w = m->w;
    zvm_trap scratch;
    if (!trap)
        trap = &scratch;
    memset(trap, 0, sizeof *trap);
    trap->func_index = UINT32_MAX;
    if (nimports != w->nimports) {
        snprintf(err->msg, sizeof err->msg, "the module has %u imports, %u were given", w->nimports, nimports);
        return -1;
    }
    for (uint32_t i = 0; i < nimports; i++)
        if (check_import(rt, w, i, &imports[i], err) != 0)
            return -1;

    zvm_instance *inst = rt_alloc(rt, OBJ_INSTANCE, sizeof *inst);
    if (!inst)
        return oom(err, "instance");
    m->refs++;
    inst->module = m;
    inst->rt = rt;
    inst->funcs = calloc(w->nfuncs + 1, sizeof *inst->funcs);
    inst->tables = calloc(w->ntables + 1, sizeof *inst->tables);
    inst->globals = calloc(w->nglobals + 1, sizeof *inst->globals);
    inst->types = calloc(w->ntypes + 1, sizeof *inst->types);
    inst->nelems = w->nelems;
    inst->elem_items = calloc(w->nelems + 1, sizeof *inst->elem_items);
    inst->elem_sizes = calloc(w->nelems + 1, sizeof *inst->elem_sizes);
    inst->data_dropped = calloc(w->ndatas + 1, sizeof *inst->data_dropped);
    if (!inst->funcs || !inst->tables || !inst->globals || !inst->types || !inst->elem_items || !inst->elem_sizes ||
        !inst->data_dropped)
        return oom(err, "instance");
    for (uint32_t i = 0; i < w->ntypes; i++)
        if (!(inst->types[i] = wasm_runtime_intern_type(rt, &w->types[i])))
            return oom(err, "types");

    /* imports first in every index space, then the module's own objects */
    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < nimports; i++) {
        switch (imports[i].kind) {
        case ZVM_EXTERN_FUNC: inst->funcs[fi++] = imports[i].u.func; break;
        case ZVM_EXTERN_TABLE: inst->tables[ti++] = imports[i].u.table; break;
        case ZVM_EXTERN_MEMORY:
            mi++;
            inst->memory = imports[i].u.memory;
            break;
        case ZVM_EXTERN_GLOBAL: inst->globals[gi++] = imports[i].u.global; break;
        }
    }
    const struct code *code = w->code;
    for (uint32_t i = w->nfunc_imports; i < w->nfuncs; i++) {
        zvm_func *f = new_func(rt);
        if (!f)
            return oom(err, "functions");
        f->type = inst->types[w->func_type[i]];
        f->inst = inst;
        f->code = &code->funcs[i - w->nfunc_imports];
        inst->funcs[i] = f;
    }
    for (uint32_t i = w->ntable_imports; i < w->ntables; i++) {
        const wasm_tabletype *tt = &w->tables[i];
        if (tt->limits.min > UINT32_MAX) {
            snprintf(err->msg, sizeof err->msg, "table %u is too large", i);
            return -1;
        }
        if (zvm_table_new(rt, tt->elemtype, (uint32_t)tt->limits.min, tt->limits.max, 0, &inst->tables[i], err) != 0)
            return -1;
    }
    if (w->nmemories > w->nmemory_imports) {
        const wasm_limits *l = &w->memories[w->nmemory_imports];
        if (l->min > WASM_MAX_PAGES || zvm_memory_new(rt, (uint32_t)l->min, l->max, &inst->memory, err) != 0) {
            if (l->min > WASM_MAX_PAGES)
                snprintf(err->msg, sizeof err->msg, "memory of %llu pages is too large", (unsigned long long)l->min);
            return -1;
        }
    }
    (void)mi;
    for (uint32_t i = w->nglobal_imports; i < w->nglobals; i++) {
        const wasm_global *g = &w->globals[i - w->nglobal_imports];
        if (zvm_global_new(rt, g->type.valtype, g->type.mutable_, eval_const(inst, &g->init), &inst->globals[i], err) !=
            0)
            return -1;
    }
    /* element segments: evaluated once, kept for table.init */
    for (uint32_t i = 0; i < w->nelems; i++) {
        const wasm_elem *e = &w->elems[i];
        inst->elem_items[i] = malloc((e->count ? e->count : 1) * sizeof(zvm_val));
        if (!inst->elem_items[i])
            return oom(err, "element segments");
        for (uint32_t k = 0; k < e->count; k++)
            inst->elem_items[i][k] = eval_const(inst, &e->items[k]);
        inst->elem_sizes[i] = e->mode == WASM_SEG_PASSIVE ? e->count : 0;
    }
    *out = inst;
    return 0;
}

int zvm_instance_new(zvm_runtime *rt, const zvm_module *cm, const zvm_extern *imports, uint32_t nimports,
                     zvm_instance **out, zvm_trap *trap, zvm_error *err)
{
    zvm_trap scratch;
    if (!trap)
        trap = &scratch;
    if (build_instance(rt, cm, imports, nimports, out, trap, err) != 0)
        return -1;
    zvm_instance *inst = *out;
    const wasm_module *w = inst->module->w;

    /* initialisation in the spec's order: active element segments, active data segments, start */
    for (uint32_t i = 0; i < w->nelems; i++) {
        const wasm_elem *e = &w->elems[i];
        if (e->mode != WASM_SEG_ACTIVE)
            continue;
        zvm_table *t = inst->tables[e->table];
        uint64_t off = (uint32_t)eval_const(inst, &e->offset);
        if (off + e->count > t->size)
            return init_failed(trap, err, ZVM_TRAP_TABLE_OOB);
        if (e->count)
            memcpy(t->elems + off, inst->elem_items[i], e->count * sizeof(zvm_val));
    }
    for (uint32_t i = 0; i < w->ndatas; i++) {
        const wasm_data *d = &w->datas[i];
        if (d->mode != WASM_SEG_ACTIVE)
            continue;
        inst->data_dropped[i] = true;
        uint64_t off = (uint32_t)eval_const(inst, &d->offset);
        if (!inst->memory || off + d->size > inst->memory->size)
            return init_failed(trap, err, ZVM_TRAP_MEMORY_OOB);
        if (d->size)
            memcpy(inst->memory->base + off, d->bytes, d->size);
    }
    if (w->has_start) {
        if (wasm_exec_call(rt, inst->funcs[w->start], NULL, NULL, trap) != 0) {
            snprintf(err->msg, sizeof err->msg, "start function: %s", trap->msg);
            return -1;
        }
    }
    return 0;
}

int zvm_instance_new_unstarted(zvm_runtime *rt, const zvm_module *m, const zvm_extern *imports, uint32_t nimports,
                               zvm_instance **out, zvm_error *err)
{
    zvm_trap trap;
    return build_instance(rt, m, imports, nimports, out, &trap, err);
}

bool zvm_instance_export(const zvm_instance *inst, const char *name, zvm_extern *out)
{
    const wasm_module *w = inst->module->w;
    for (uint32_t i = 0; i < w->nexports; i++) {
        const wasm_export *e = &w->exports[i];
        if (strcmp(e->name, name) != 0)
            continue;
        out->kind = e->kind;
        switch (e->kind) {
        case ZVM_EXTERN_FUNC: out->u.func = inst->funcs[e->index]; break;
        case ZVM_EXTERN_TABLE: out->u.table = inst->tables[e->index]; break;
        case ZVM_EXTERN_MEMORY: out->u.memory = inst->memory; break;
        case ZVM_EXTERN_GLOBAL: out->u.global = inst->globals[e->index]; break;
        }
        return true;
    }
    return false;
}

/* ---- using objects ---- */

const zvm_functype *zvm_func_type(const zvm_func *f)
{
    return f->type;
}
zvm_val zvm_func_ref(const zvm_func *f)
{
    return f ? f->ref : 0;
}
zvm_func *zvm_ref_func(const zvm_runtime *rt, zvm_val ref)
{
    return wasm_runtime_func_of_ref(rt, ref);
}

int zvm_func_call(zvm_runtime *rt, zvm_func *f, const zvm_val *args, zvm_val *results, zvm_trap *trap)
{
    zvm_trap scratch;
    return wasm_exec_call(rt, f, args, results, trap ? trap : &scratch);
}

uint8_t *zvm_memory_data(zvm_memory *mem, uint64_t *size)
{
    if (size)
        *size = mem->size;
    return mem->base;
}

uint32_t zvm_memory_pages(const zvm_memory *mem)
{
    return (uint32_t)(mem->size / WASM_PAGE_SIZE);
}
int64_t zvm_memory_grow(zvm_memory *mem, uint32_t delta)
{
    return wasm_memory_grow_pages(mem, delta);
}

uint8_t zvm_global_type(const zvm_global *g)
{
    return g->valtype;
}
zvm_val zvm_global_get(const zvm_global *g)
{
    return g->value;
}
void zvm_global_set(zvm_global *g, zvm_val v)
{
    g->value = v;
}

uint32_t zvm_table_size(const zvm_table *t)
{
    return t->size;
}

int zvm_table_get(const zvm_table *t, uint32_t i, zvm_val *out)
{
    if (i >= t->size)
        return -1;
    *out = t->elems[i];
    return 0;
}
