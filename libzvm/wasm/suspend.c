/*
 * suspend.c — a running guest as data, and back: the engine's part of a snapshot
 * (docs/Snapshots.md).
 *
 * zvm_call_save_state(), called by a host function, writes down what the engine holds of the
 * calling instance: its own globals, tables, dropped segments, memory size, the numbering of
 * the runtime's functions, and the whole call stack.  Code addresses are written as (function,
 * cell) and frames as slot offsets, never as host addresses, so the state means the same in
 * another process; translation is deterministic, so a cell of a function is the same
 * instruction there.  Linear memory is left to the caller, who maps it (zvm_memory_map_file).
 *
 * zvm_instance_resume() takes such a state into a fresh instance of the same module
 * (zvm_instance_new_unstarted, with the same imports made in the same order) and runs from
 * where the host function was called, as if it had just returned.  Before anything runs it
 * checks the state against the module as strictly as the interpreter needs: every frame must
 * return just after a call instruction, from the function that call names (or one with the same
 * results, which a tail call may have put there), at the frame offset that call passes; every
 * frame must fit the value stack.  So a damaged or forged state can make
 * the guest compute something else, never make the interpreter jump into the middle of an
 * instruction or outside the guest's own slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bytes.h"
#include "wasm/exec.h"

#define STATE_MAGIC 0x31534d56u           /* "VMS1" */

/* ---- the numbering of functions ---- */

/* Where the function a reference number names sits in inst's function index space, or
 * UINT32_MAX: what must match between the saving and the resuming runtime for every number in
 * the guest's slots, globals and tables to mean the same function. */
static uint32_t func_position(const zvm_instance *inst, const zvm_func *f)
{
    const wasm_module *w = inst->module->w;
    if (f->inst == inst && f->code)
        return w->nfunc_imports + (uint32_t)(f->code - ((const struct code *)w->code)->funcs);
    for (uint32_t i = 0; i < w->nfunc_imports; i++)
        if (inst->funcs[i] == f)
            return i;
    return UINT32_MAX;
}

/* ---- code addresses ---- */

/* A code address as (function position in the module's defined functions, cell). */
static int code_address(const zvm_instance *inst, const cell *ip, uint32_t *func, uint32_t *at)
{
    const struct code *code = inst->module->w->code;
    uint32_t index, offset;
    const struct code_func *cf = wasm_code_locate(code, ip, &index, &offset);
    if (!cf || !cf->cells)
        return -1;
    *func = (uint32_t)(cf - code->funcs);
    *at = (uint32_t)(ip - cf->cells);
    return 0;
}

static int refuse(zvm_error *err, const char *why)
{
    snprintf(err->msg, sizeof err->msg, "%s", why);
    return -1;
}

int zvm_call_save_state(zvm_call *call, uint8_t **state, size_t *size, zvm_error *err)
{
    struct exec *x = call->x;
    if (!x || !call->resume)
        return refuse(err, "not called by guest code");
    zvm_runtime *rt = x->rt;
    zvm_instance *inst = call->inst;
    const wasm_module *w = inst->module->w;
    if (rt->nesting != 1 || x->frame_base != rt->frames)
        return refuse(err, "called while a host function is calling back into the guest");
    for (const struct frame *fr = x->frame_base; fr < x->frame; fr++)
        if (fr->inst != inst)
            return refuse(err, "the call stack crosses instances");
    if (x->inst != inst)
        return refuse(err, "the call stack crosses instances");
    uint32_t cur_func, cur_cell;
    if (code_address(inst, call->resume, &cur_func, &cur_cell) != 0)
        return refuse(err, "called in tail position (return_call): there is no frame to resume in");

    bytes_out o = { 0 };
    bytes_put32(&o, STATE_MAGIC);
    /* the numbering of functions */
    bytes_put32(&o, rt->nfunc_refs);
    for (uint32_t i = 0; i < rt->nfunc_refs; i++)
        bytes_put32(&o, func_position(inst, rt->func_refs[i]));
    /* globals, tables, segments, memory */
    bytes_put32(&o, w->nglobals - w->nglobal_imports);
    for (uint32_t i = w->nglobal_imports; i < w->nglobals; i++)
        bytes_put64(&o, inst->globals[i]->value);
    bytes_put32(&o, w->ntables - w->ntable_imports);
    for (uint32_t i = w->ntable_imports; i < w->ntables; i++) {
        const zvm_table *t = inst->tables[i];
        bytes_put32(&o, t->size);
        bytes_put(&o, t->elems, (size_t)t->size * sizeof *t->elems);
    }
    bytes_put32(&o, w->nelems);
    for (uint32_t i = 0; i < w->nelems; i++)
        bytes_put32(&o, inst->elem_sizes[i]);
    bytes_put32(&o, w->ndatas);
    for (uint32_t i = 0; i < w->ndatas; i++)
        bytes_put32(&o, inst->data_dropped[i]);
    bytes_put64(&o, inst->memory ? inst->memory->size : 0);
    /* the call stack: the callers' frames, then where the host call returns to */
    uint64_t *base = x->frame > x->frame_base ? x->frame_base[0].fp : call->fp;
    uint32_t nframes = (uint32_t)(x->frame - x->frame_base);
    bytes_put32(&o, nframes);
    for (const struct frame *fr = x->frame_base; fr < x->frame; fr++) {
        uint32_t func, at;
        if (code_address(inst, fr->ret, &func, &at) != 0) {
            free(o.p);
            return refuse(err, "a frame returns outside the module's code");
        }
        bytes_put32(&o, func);
        bytes_put32(&o, at);
        bytes_put32(&o, (uint32_t)(fr->fp - base));
    }
    bytes_put32(&o, cur_func);
    bytes_put32(&o, cur_cell);
    bytes_put32(&o, (uint32_t)(call->fp - base));
    bytes_put32(&o, (uint32_t)(call->args - base));
    /* the value stack up to the end of the highest frame */
    const struct code *code = w->code;
    uint64_t *top = call->fp + code->funcs[cur_func].frame_slots;
    for (const struct frame *fr = x->frame_base; fr < x->frame; fr++) {
        uint32_t func, at;
        code_address(inst, fr->ret, &func, &at);
        uint64_t *end = fr->fp + code->funcs[func].frame_slots;
        if (end > top)
            top = end;
    }
    bytes_put32(&o, (uint32_t)(top - base));
    bytes_put(&o, base, (size_t)(top - base) * sizeof *base);
    if (o.oom) {
        free(o.p);
        return refuse(err, "out of memory saving the guest's state");
    }
    *state = o.p;
    *size = o.n;
    return 0;
}

/* ---- resuming ---- */

/* The call instruction that ends just before cell at of cf: its first cell, or NULL. */
static const cell *call_before(const struct code_func *cf, uint32_t at)
{
    if (at == 0 || at >= cf->ncells || cf->npos == 0)
        return NULL;
    uint32_t lo = 0, hi = cf->npos;              /* the last instruction starting before at */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (cf->pos[mid].cell < at)
            lo = mid;
        else
            hi = mid;
    }
    if (cf->pos[lo].cell >= at || lo + 1 >= cf->npos || cf->pos[lo + 1].cell != at)
        return NULL;                             /* at must be where the next instruction starts */
    const cell *c = cf->cells + cf->pos[lo].cell;
    uint32_t len = at - cf->pos[lo].cell;
    if ((c->h == wasm_handlers.call && len == 3) || (c->h == wasm_handlers.call_import && len == 2) ||
        (c->h == wasm_handlers.call_indirect && len == 3))
        return c;
    return NULL;
}

/* What the call at c passes: the callee's frame offset in slots, and whether callee (a
 * function of inst, or a host function for the last frame) is what it may call. */
/* Whether a function of type t returns what the caller of one of type want expects. */
static bool same_results(const zvm_functype *t, const zvm_functype *want)
{
    return t->nresults == want->nresults && memcmp(t->results, want->results, t->nresults) == 0;
}

/* What the call at c passes: the callee's frame offset in slots, and whether callee may be
 * running in that frame: the function the call names, or, since the function it named may
 * have tail-called another (return_call runs the callee in the caller's frame), any function
 * that returns the same results (which tail calls must).  For call_indirect, the results of its
 * type.  The host function of the last frame must be the one named. */
static bool call_reaches(const zvm_instance *inst, const cell *c, const zvm_func *callee, uint32_t *frame_offset)
{
    const zvm_func *named = NULL;
    const zvm_functype *want;
    if (c->h == wasm_handlers.call) {
        *frame_offset = c[2].u32[0] / 8;
        const struct code_func *cf = c[1].ptr;
        named = inst->funcs[cf->func_index];
        want = named->type;
    } else if (c->h == wasm_handlers.call_import) {
        *frame_offset = c[1].u32[1] / 8;
        named = inst->funcs[c[1].u32[0]];
        want = named->type;
    } else {
        *frame_offset = c[2].u32[1] / 8;
        want = inst->types[c[1].u32[0]];
    }
    if (callee->host)
        return callee == named;
    return callee == named || same_results(callee->type, want);
}

struct saved_frame {
    uint32_t func, at, fp;
};

static int bad_state(zvm_error *err, const char *what)
{
    snprintf(err->msg, sizeof err->msg, "the saved state does not fit the module: %s", what);
    return -1;
}

/* Restores globals, tables, segment flags; checks the numbering and the memory size. */
static int restore_objects(zvm_instance *inst, bytes_in *in, zvm_error *err)
{
    zvm_runtime *rt = inst->rt;
    const wasm_module *w = inst->module->w;
    if (bytes_get32(in) != STATE_MAGIC)
        return bad_state(err, "not an engine state");
    uint32_t nrefs = bytes_get32(in);
    if (nrefs != rt->nfunc_refs)
        return bad_state(err, "a different number of functions");
    for (uint32_t i = 0; i < nrefs && !in->bad; i++)
        if (bytes_get32(in) != func_position(inst, rt->func_refs[i]))
            return bad_state(err, "functions numbered differently");
    if (bytes_get32(in) != w->nglobals - w->nglobal_imports)
        return bad_state(err, "globals");
    for (uint32_t i = w->nglobal_imports; i < w->nglobals; i++)
        inst->globals[i]->value = bytes_get64(in);
    if (bytes_get32(in) != w->ntables - w->ntable_imports)
        return bad_state(err, "tables");
    for (uint32_t i = w->ntable_imports; i < w->ntables && !in->bad; i++) {
        zvm_table *t = inst->tables[i];
        uint32_t size = bytes_get32(in);
        if (size < t->size || wasm_table_grow_by(t, size - t->size, 0) != 0 ||
            in->n - in->at < (size_t)size * sizeof *t->elems)
            return bad_state(err, "a table's size");
        memcpy(t->elems, in->p + in->at, (size_t)size * sizeof *t->elems);
        in->at += (size_t)size * sizeof *t->elems;
    }
    if (bytes_get32(in) != w->nelems)
        return bad_state(err, "element segments");
    for (uint32_t i = 0; i < w->nelems; i++) {
        uint32_t n = bytes_get32(in);
        if (n != 0 && n != inst->elem_sizes[i])
            return bad_state(err, "an element segment");
        inst->elem_sizes[i] = n;
    }
    if (bytes_get32(in) != w->ndatas)
        return bad_state(err, "data segments");
    for (uint32_t i = 0; i < w->ndatas; i++)
        inst->data_dropped[i] = bytes_get32(in) != 0;
    if (bytes_get64(in) != (inst->memory ? inst->memory->size : 0))
        return bad_state(err, "the memory's size");
    return in->bad ? bad_state(err, "truncated") : 0;
}

/* Reads the frames and checks them against the code (see the top of the file). */
static int check_frames(zvm_instance *inst, struct saved_frame *f, uint32_t n, uint32_t args, uint32_t nslots,
                        zvm_error *err)
{
    const wasm_module *w = inst->module->w;
    struct code *code = w->code;
    for (uint32_t i = 0; i <= n; i++) {
        if (f[i].func >= code->nfuncs)
            return bad_state(err, "a frame in no function");
        struct code_func *cf = &code->funcs[f[i].func];
        if (wasm_translate_function(w, cf, err) != 0)
            return -1;
        if ((uint64_t)f[i].fp + cf->frame_slots > nslots)
            return bad_state(err, "a frame past the saved stack");
    }
    if (f[0].fp != 0)
        return bad_state(err, "the first frame");
    for (uint32_t i = 0; i <= n; i++) {
        const cell *c = call_before(&code->funcs[f[i].func], f[i].at);
        if (!c)
            return bad_state(err, "a frame that does not return after a call");
        const zvm_func *callee = i < n ? inst->funcs[w->nfunc_imports + f[i + 1].func] : NULL;
        uint32_t callee_fp = i < n ? f[i + 1].fp : args;
        if (i == n) {                            /* the host call: its function is the import named */
            if (c->h != wasm_handlers.call_import)
                return bad_state(err, "the suspended call is not a host call");
            callee = inst->funcs[c[1].u32[0]];
            if (!callee->host)
                return bad_state(err, "the suspended call is not a host call");
        }
        uint32_t offset;
        if (!call_reaches(inst, c, callee, &offset) || f[i].fp + offset != callee_fp)
            return bad_state(err, "a frame that its caller did not call");
    }
    return 0;
}

/* A checked call stack, waiting to run. */
struct resume_point {
    uint32_t nframes;                            /* callers; frames[nframes] is where the host call returns */
    struct saved_frame *frames;
    uint32_t args;                               /* slot of the host call's arguments and results */
    uint32_t nslots;
    uint64_t *slots;
};

void wasm_resume_point_free(struct resume_point *p)
{
    if (!p)
        return;
    free(p->frames);
    free(p->slots);
    free(p);
}

int zvm_instance_restore(zvm_instance *inst, const uint8_t *state, size_t size, zvm_error *err)
{
    zvm_runtime *rt = inst->rt;
    bytes_in in = { state, size, 0, false };
    if (inst->resume)
        return refuse(err, "the instance was restored already");
    if (restore_objects(inst, &in, err) != 0)
        return -1;
    uint32_t n = bytes_get32(&in);
    if (in.bad || n > rt->cfg.max_call_depth)
        return bad_state(err, "too many frames");
    struct resume_point *p = calloc(1, sizeof *p);
    if (!p || !(p->frames = malloc(((size_t)n + 1) * sizeof *p->frames))) {
        free(p);
        return refuse(err, "out of memory resuming");
    }
    p->nframes = n;
    for (uint32_t i = 0; i <= n; i++) {
        p->frames[i].func = bytes_get32(&in);
        p->frames[i].at = bytes_get32(&in);
        p->frames[i].fp = bytes_get32(&in);
    }
    p->args = bytes_get32(&in);
    p->nslots = bytes_get32(&in);
    if (in.bad || p->nslots > (size_t)(rt->stack_end - rt->stack) || in.n - in.at != (size_t)p->nslots * 8) {
        wasm_resume_point_free(p);
        return bad_state(err, "the saved stack");
    }
    if (check_frames(inst, p->frames, n, p->args, p->nslots, err) != 0) {
        wasm_resume_point_free(p);
        return -1;
    }
    if (!(p->slots = malloc(((size_t)p->nslots ? p->nslots : 1) * 8))) {
        wasm_resume_point_free(p);
        return refuse(err, "out of memory resuming");
    }
    memcpy(p->slots, in.p + in.at, (size_t)p->nslots * 8);
    inst->resume = p;
    return 0;
}

int zvm_instance_resume(zvm_instance *inst, const zvm_val *results, zvm_val *outer_results, zvm_trap *trap)
{
    zvm_runtime *rt = inst->rt;
    struct resume_point *p = inst->resume;
    memset(trap, 0, sizeof *trap);
    trap->func_index = UINT32_MAX;
    if (!p || rt->nesting != 0 || rt->frame_free != rt->frames) {
        trap->kind = ZVM_TRAP_HOST;
        snprintf(trap->msg, sizeof trap->msg, "nothing to resume");
        return -1;
    }
    inst->resume = NULL;
    const struct code *code = inst->module->w->code;
    uint64_t *base = rt->stack;
    memcpy(base, p->slots, (size_t)p->nslots * 8);
    const struct saved_frame *f = p->frames;
    uint32_t n = p->nframes;
    const zvm_func *host = inst->funcs[call_before(&code->funcs[f[n].func], f[n].at)[1].u32[0]];
    if (host->type->nresults)
        memcpy(base + p->args, results, host->type->nresults * sizeof *results);
    struct exec x;
    wasm_exec_init(&x, rt, inst, trap);
    for (uint32_t i = 0; i < n; i++) {
        x.frame[i].ret = code->funcs[f[i].func].cells + f[i].at;
        x.frame[i].fp = base + f[i].fp;
        x.frame[i].inst = inst;
    }
    x.frame += n;
    const cell *ip = code->funcs[f[n].func].cells + f[n].at;
    uint64_t *fp = base + f[n].fp;
    uint32_t nresults = code->funcs[f[0].func].nresults;   /* of the outermost function */
    wasm_resume_point_free(p);
    if (wasm_exec_run(&x, ip, fp) != 0)
        return -1;
    if (outer_results && nresults)
        memcpy(outer_results, base, nresults * sizeof *outer_results);
    return 0;
}

/* ---- linear memory from a file ---- */

int zvm_memory_map_file(zvm_memory *mem, int fd, uint64_t offset, uint64_t bytes, zvm_error *err)
{
    if (bytes % WASM_PAGE_SIZE || offset % WASM_PAGE_SIZE || bytes / WASM_PAGE_SIZE > mem->max_pages)
        return refuse(err, "saved memory larger than the memory's limit");
    if (bytes < mem->size)
        return refuse(err, "saved memory smaller than the memory's minimum");
    /* Copy-on-write over the file: restoring costs the page faults of what the guest touches. */
    if (bytes &&
        mmap(mem->base, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, (off_t)offset) == MAP_FAILED) {
        snprintf(err->msg, sizeof err->msg, "cannot map the saved memory");
        /* the reservation's part may be unmapped now: make it inaccessible again */
        mmap(mem->base, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
        mem->size = 0;
        return -1;
    }
    mem->size = bytes;
    return 0;
}
