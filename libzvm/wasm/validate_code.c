/*
 * validate_code.c — function bodies: the algorithm of the spec's validation appendix, one
 * pass per function, with an operand stack of value types and a stack of control frames.
 *
 * The operand stack holds value types; UNKNOWN is the bottom type that popping from an
 * unreachable frame's empty stack yields (it matches every type).  Instructions whose typing
 * is fixed come from opcodes.def (their p1..p3 and r columns); the others ("X") are typed
 * here by hand.  Immediates are read and checked too, so that the translator after us may
 * assume a well-formed, well-typed body.
 */
#include "wasm/features.h"
#include "wasm/opinfo.h"
#include "wasm/reader.h"
#include "wasm/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN 0

/* Blocks nested deeper than this are refused.  The spec sets no limit, but every frame costs
 * memory here and in the translator, and a body of nothing but `block` would otherwise ask for
 * 20 frames per byte.  Generated code (a switch of N cases nests N blocks) stays far below. */
#define WASM_MAX_NESTING 100000u

/* ---- the validator's state ---- */

typedef struct ctrl {
    uint8_t opcode;                      /* block, loop, if, else, try, catch, catch_all; 0 for the function itself */
    bool unreachable;                    /* after br, return, unreachable...: the stack is polymorphic */
    uint8_t single;                      /* the result type of a one-value block type */
    uint32_t height;                     /* operand stack height at entry (after the parameters left) */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;     /* results NULL with nresults 1: the type is `single` */
} ctrl;

typedef struct validator {
    const wasm_module *m;
    uint32_t func;
    wasm_reader r;
    zvm_error read_err;                  /* the reader's "at byte 0x..: ..." before we prefix it */
    zvm_error *err;
    size_t op_at;                        /* offset of the instruction being checked */
    uint8_t *vals;
    uint32_t nvals, vals_cap;
    ctrl *ctrls;
    uint32_t nctrls, ctrls_cap;
    uint8_t *locals;                     /* parameters, then declared locals */
    uint32_t nlocals;
} validator;

static bool fail(validator *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(validator *v, const char *fmt, ...)
{
    int n = snprintf(v->err->msg, sizeof v->err->msg, "function %u at byte 0x%zx: ", v->func, v->op_at);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err->msg + n, sizeof v->err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

/* A read failed: the reader's message already names the byte; add the function. */
static bool read_failed(validator *v)
{
    snprintf(v->err->msg, sizeof v->err->msg, "function %u %s", v->func, v->read_err.msg);
    return false;
}

#define READ(call) \
    do { \
        if (!(call)) \
            return read_failed(v); \
    } while (0)

static const char *type_name(uint8_t t)
{
    return t == UNKNOWN ? "nothing" : zvm_valtype_name(t);
}

static bool is_num(uint8_t t)
{
    return t == ZVM_I32 || t == ZVM_I64 || t == ZVM_F32 || t == ZVM_F64 || t == UNKNOWN;
}

static bool is_ref(uint8_t t)
{
    return t == ZVM_FUNCREF || t == ZVM_EXTERNREF || t == UNKNOWN;
}

/* ---- operand stack ---- */

static bool push(validator *v, uint8_t t)
{
    if (v->nvals == v->vals_cap) {
        uint32_t cap = v->vals_cap ? v->vals_cap * 2 : 64;
        uint8_t *p = realloc(v->vals, cap);
        if (!p)
            return fail(v, "out of memory (operand stack of %u values)", cap);
        v->vals = p;
        v->vals_cap = cap;
    }
    v->vals[v->nvals++] = t;
    return true;
}

static bool pop_any(validator *v, uint8_t *out)
{
    const ctrl *c = &v->ctrls[v->nctrls - 1];
    if (v->nvals == c->height) {
        if (c->unreachable) {
            *out = UNKNOWN;
            return true;
        }
        return fail(v, "type mismatch: an operand is missing (the stack is empty)");
    }
    *out = v->vals[--v->nvals];
    return true;
}

/* Pops a value of type `want` (UNKNOWN: any); *got (if not NULL) receives what was there. */
static bool pop_expect(validator *v, uint8_t want, uint8_t *got)
{
    uint8_t t;
    if (!pop_any(v, &t))
        return false;
    if (t != want && t != UNKNOWN && want != UNKNOWN)
        return fail(v, "type mismatch: expected %s, found %s", type_name(want), type_name(t));
    if (got)
        *got = t;
    return true;
}

static bool pop_types(validator *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;)
        if (!pop_expect(v, types[i], NULL))
            return false;
    return true;
}

static bool push_types(validator *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!push(v, types[i]))
            return false;
    return true;
}

/* ---- control frames ---- */

static const uint8_t *end_types(const ctrl *c)
{
    return c->results ? c->results : &c->single;
}

/* What a branch to this frame carries: a loop's parameters, any other frame's results. */
static void label_types(const ctrl *c, const uint8_t **types, uint32_t *n)
{
    if (c->opcode == 0x03) {
        *types = c->params;
        *n = c->nparams;
    } else {
        *types = end_types(c);
        *n = c->nresults;
    }
}

static bool push_ctrl(validator *v, const ctrl *frame)
{
    if (v->nctrls == WASM_MAX_NESTING)
        return fail(v, "unsupported: blocks nested deeper than %u", WASM_MAX_NESTING);
    if (v->nctrls == v->ctrls_cap) {
        uint32_t cap = v->ctrls_cap ? v->ctrls_cap * 2 : 16;
        ctrl *p = realloc(v->ctrls, cap * sizeof *p);
        if (!p)
            return fail(v, "out of memory (%u nested blocks)", cap);
        v->ctrls = p;
        v->ctrls_cap = cap;
    }
    ctrl *c = &v->ctrls[v->nctrls++];
    *c = *frame;
    c->height = v->nvals;
    c->unreachable = false;
    return push_types(v, c->params, c->nparams);
}

static bool pop_ctrl(validator *v, ctrl *out)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    if (!pop_types(v, end_types(c), c->nresults))
        return false;
    if (v->nvals != c->height)
        return fail(v, "type mismatch: %u value(s) left on the stack at the end of the block", v->nvals - c->height);
    *out = *c;
    v->nctrls--;
    return true;
}

static void set_unreachable(validator *v)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = true;
}

/* ---- immediates that need the module ---- */

static bool valtype_byte(uint8_t b)
{
    return b == ZVM_I32 || b == ZVM_I64 || b == ZVM_F32 || b == ZVM_F64 || b == ZVM_V128 || b == ZVM_FUNCREF ||
           b == ZVM_EXTERNREF;
}

static bool refuse_v128(validator *v)
{
    return fail(v, "unsupported: v128 (SIMD) is not implemented by this engine");
}

/* blocktype: 0x40 (no values), a value type (one result), or a type index (s33). */
static bool read_blocktype(validator *v, ctrl *frame)
{
    memset(frame, 0, sizeof *frame);
    if (v->r.pos >= v->r.end)
        return fail(v, "unexpected end of section or function");
    uint8_t b = v->r.bytes[v->r.pos];
    if (b == 0x40) {
        v->r.pos++;
        return true;
    }
    if (valtype_byte(b)) {
        v->r.pos++;
        if (b == ZVM_V128)
            return refuse_v128(v);
        frame->single = b;
        frame->nresults = 1;
        return true;
    }
    int64_t index;
    READ(wasm_read_s33(&v->r, &index));
    if (index < 0 || index >= v->m->ntypes)
        return fail(v, "unknown type %lld", (long long)index);
    const zvm_functype *t = &v->m->types[index];
    frame->params = t->params;
    frame->nparams = t->nparams;
    frame->results = t->results;
    frame->nresults = t->nresults;
    return true;
}

static bool read_label(validator *v, uint32_t *depth)
{
    READ(wasm_read_u32(&v->r, depth));
    if (*depth >= v->nctrls)
        return fail(v, "unknown label %u", *depth);
    return true;
}

static bool need_memory(validator *v)
{
    if (v->m->nmemories == 0)
        return fail(v, "unknown memory 0");
    return true;
}

static bool read_zero_byte(validator *v)
{
    uint8_t b;
    size_t at = v->r.pos;
    READ(wasm_read_u8(&v->r, &b));
    if (b != 0) {
        v->op_at = at;
        return fail(v, "zero byte expected (multiple memories are not part of WebAssembly 2.0)");
    }
    return true;
}

static bool read_table(validator *v, uint32_t *index)
{
    READ(wasm_read_u32(&v->r, index));
    if (*index >= v->m->ntables)
        return fail(v, "unknown table %u", *index);
    return true;
}

static bool check_elem(validator *v, uint32_t index)
{
    if (index >= v->m->nelems)
        return fail(v, "unknown elem segment %u", index);
    return true;
}

static bool read_elem(validator *v, uint32_t *index)
{
    READ(wasm_read_u32(&v->r, index));
    return check_elem(v, *index);
}

static bool check_data(validator *v, uint32_t index)
{
    if (!v->m->has_datacount) {
        if (v->m->ndatas == 0)           /* no segments at all: what the text format's tests expect */
            return fail(v,
                        "unknown data segment %u: the module has none (and no data count section required "
                        "for memory.init and data.drop)",
                        index);
        return fail(v, "data count section required (for memory.init and data.drop)");
    }
    if (index >= v->m->datacount)
        return fail(v, "unknown data segment %u", index);
    return true;
}

static bool read_data(validator *v)
{
    uint32_t index;
    READ(wasm_read_u32(&v->r, &index));
    return check_data(v, index);
}

static bool read_memarg(validator *v, uint8_t op)
{
    uint32_t align, offset;
    READ(wasm_read_u32(&v->r, &align));
    READ(wasm_read_u32(&v->r, &offset));
    if (!need_memory(v))
        return false;
    unsigned natural = wasm_natural_align_plus1[op] - 1u;
    if (align > natural)
        return fail(v, "alignment must not be larger than natural (2^%u > %u bytes for %s)", align > 31 ? 31 : align,
                    1u << natural, wasm_ops[op].name);
    return true;
}

/* The immediates of an instruction typed by the tables. */
static bool read_table_immediates(validator *v, const wasm_op_info *info, uint8_t op)
{
    wasm_reader *r = &v->r;
    uint32_t a, b;
    switch (info->imm) {
    case WASM_IMM_NONE: return true;
    case WASM_IMM_MEMARG: return read_memarg(v, op);
    case WASM_IMM_MEMORY: return read_zero_byte(v) && need_memory(v);
    case WASM_IMM_MEMORY_COPY: return read_zero_byte(v) && read_zero_byte(v) && need_memory(v);
    case WASM_IMM_MEMORY_INIT:                /* the reference checks the memory, then the segment */
        READ(wasm_read_u32(r, &a));
        return read_zero_byte(v) && need_memory(v) && check_data(v, a);
    case WASM_IMM_DATA: return read_data(v);
    case WASM_IMM_ELEM: return read_elem(v, &a);
    case WASM_IMM_TABLE: return read_table(v, &a);
    case WASM_IMM_TABLE_INIT:                 /* elem then table in the binary; the table is checked first */
        READ(wasm_read_u32(r, &a));
        if (!read_table(v, &b) || !check_elem(v, a))
            return false;
        if (v->m->elems[a].elemtype != v->m->tables[b].elemtype)
            return fail(v, "type mismatch: table.init of %s elements into a %s table",
                        zvm_valtype_name(v->m->elems[a].elemtype), zvm_valtype_name(v->m->tables[b].elemtype));
        return true;
    case WASM_IMM_TABLE_COPY:
        if (!read_table(v, &a) || !read_table(v, &b))
            return false;
        if (v->m->tables[a].elemtype != v->m->tables[b].elemtype)
            return fail(v, "type mismatch: table.copy from a %s table to a %s table",
                        zvm_valtype_name(v->m->tables[b].elemtype), zvm_valtype_name(v->m->tables[a].elemtype));
        return true;
    case WASM_IMM_I32: {
        int32_t x;
        READ(wasm_read_s32(r, &x));
        return true;
    }
    case WASM_IMM_I64: {
        int64_t x;
        READ(wasm_read_s64(r, &x));
        return true;
    }
    case WASM_IMM_F32: {
        uint32_t x;
        READ(wasm_read_f32(r, &x));
        return true;
    }
    case WASM_IMM_F64: {
        uint64_t x;
        READ(wasm_read_f64(r, &x));
        return true;
    }
    }
    return fail(v, "internal error: %s has immediates the validator does not know", info->name);
}

static bool validate_by_table(validator *v, const wasm_op_info *info, uint8_t op)
{
    if (!read_table_immediates(v, info, op))
        return false;
    for (int i = 2; i >= 0; i--)
        if (info->pop[i] && !pop_expect(v, info->pop[i], NULL))
            return false;
    return !info->push || push(v, info->push);
}

/* ---- the instructions typed by hand ---- */

static bool validate_br_table(validator *v)
{
    uint32_t n, depth, arity;
    const uint8_t *types;
    if (!pop_expect(v, ZVM_I32, NULL))
        return false;
    READ(wasm_read_count(&v->r, v->r.end, &n));
    /* the default label comes last but sets the arity: find it, then come back */
    size_t targets = v->r.pos;
    for (uint32_t i = 0; i < n; i++)
        READ(wasm_read_u32(&v->r, &depth));
    size_t default_at = v->r.pos;
    if (!read_label(v, &depth))
        return false;
    const ctrl *dflt = &v->ctrls[v->nctrls - 1 - depth];
    label_types(dflt, &types, &arity);
    v->r.pos = targets;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t count;
        if (!read_label(v, &depth))
            return false;
        label_types(&v->ctrls[v->nctrls - 1 - depth], &types, &count);
        if (count != arity)
            return fail(v, "type mismatch: br_table targets carry %u and %u values", count, arity);
        /* check the types without consuming them: popping never overwrites, so restoring
         * the height puts back exactly what was there */
        uint32_t saved = v->nvals;
        if (!pop_types(v, types, count))
            return false;
        v->nvals = saved;
    }
    v->r.pos = default_at;
    READ(wasm_read_u32(&v->r, &depth));
    label_types(&v->ctrls[v->nctrls - 1 - depth], &types, &arity);
    if (!pop_types(v, types, arity))
        return false;
    set_unreachable(v);
    return true;
}

static bool validate_call(validator *v, const zvm_functype *t)
{
    return pop_types(v, t->params, t->nparams) && push_types(v, t->results, t->nresults);
}

/* return_call, return_call_indirect: the callee's results are the function's own (it returns
 * them for us), and nothing after the call is reached. */
static bool validate_tail_call(validator *v, const zvm_functype *t)
{
    const ctrl *fn = &v->ctrls[0];
    const uint8_t *mine = end_types(fn);
    if (t->nresults != fn->nresults || (t->nresults && memcmp(t->results, mine, t->nresults) != 0))
        return fail(v, "type mismatch: a tail call's callee returns %u value(s) of other types than the function's %u",
                    t->nresults, fn->nresults);
    if (!pop_types(v, t->params, t->nparams))
        return false;
    set_unreachable(v);
    return true;
}

static bool validate_select(validator *v, bool typed)
{
    uint8_t t1, t2;
    if (typed) {
        uint32_t n;
        READ(wasm_read_count(&v->r, v->r.end, &n));
        if (n != 1)
            return fail(v, "invalid result arity: typed select with %u types", n);
        uint8_t t;
        READ(wasm_read_u8(&v->r, &t));
        if (!valtype_byte(t))
            return fail(v, "malformed value type 0x%02x", t);
        if (t == ZVM_V128)
            return refuse_v128(v);
        return pop_expect(v, ZVM_I32, NULL) && pop_expect(v, t, NULL) && pop_expect(v, t, NULL) && push(v, t);
    }
    if (!pop_expect(v, ZVM_I32, NULL) || !pop_any(v, &t1) || !pop_any(v, &t2))
        return false;
    if (!is_num(t1) || !is_num(t2))
        return fail(v, "type mismatch: select without a type needs numeric operands (found %s and %s)", type_name(t2),
                    type_name(t1));
    if (t1 != t2 && t1 != UNKNOWN && t2 != UNKNOWN)
        return fail(v, "type mismatch: select between %s and %s", type_name(t2), type_name(t1));
    return push(v, t1 == UNKNOWN ? t2 : t1);
}

static bool validate_fc(validator *v)
{
    uint32_t sub, table;
    READ(wasm_read_u32(&v->r, &sub));
    if (sub >= WASM_FC_COUNT || !wasm_fc_ops[sub].known)
        return fail(v, "illegal opcode 0xfc %u", sub);
    const wasm_op_info *info = &wasm_fc_ops[sub];
    if (!info->by_hand)
        return validate_by_table(v, info, 0);
    if (!read_table(v, &table))
        return false;
    uint8_t t = v->m->tables[table].elemtype;
    if (sub == 0x0f)                     /* table.grow: init value, delta → old size */
        return pop_expect(v, ZVM_I32, NULL) && pop_expect(v, t, NULL) && push(v, ZVM_I32);
    /* table.fill: index, value, count */
    return pop_expect(v, ZVM_I32, NULL) && pop_expect(v, t, NULL) && pop_expect(v, ZVM_I32, NULL);
}

/* ---- exception handling (the legacy proposal, as clang-19 emits it) ----
 * try is a block whose body may end in catch clauses (each a block of its own, entered with the
 * tag's payload on the stack, carrying the try's results), or in `delegate l`, which hands the
 * body's exceptions to label l (counted outside the try).  rethrow names an enclosing catch. */

static bool read_tag(validator *v, uint32_t *x)
{
    READ(wasm_read_u32(&v->r, x));
    if (*x >= v->m->ntags)
        return fail(v, "unknown tag %u", *x);
    return true;
}

static const zvm_functype *tag_type(const validator *v, uint32_t x)
{
    return &v->m->types[v->m->tag_types[x]];
}

/* catch x (op 0x07) and catch_all (0x19): end the try body or the previous catch. */
static bool validate_catch(validator *v, uint8_t op)
{
    ctrl frame;
    uint32_t x = 0;
    uint8_t top = v->ctrls[v->nctrls - 1].opcode;
    if (op == 0x07 && !read_tag(v, &x))
        return false;
    if (top != 0x06 && top != 0x07)
        return fail(v, "%s without a matching try (or after catch_all)", op == 0x07 ? "catch" : "catch_all");
    if (!pop_ctrl(v, &frame))
        return false;
    frame.opcode = op;
    frame.nparams = 0;                   /* the payload, not the try's parameters, starts the clause */
    frame.params = NULL;
    if (!push_ctrl(v, &frame))
        return false;
    return op == 0x19 || push_types(v, tag_type(v, x)->params, tag_type(v, x)->nparams);
}

/* delegate l: ends a try that has no catch clause; l is counted from outside the try. */
static bool validate_delegate(validator *v)
{
    ctrl frame;
    uint32_t l;
    if (v->ctrls[v->nctrls - 1].opcode != 0x06)
        return fail(v, "delegate without a matching try (or after a catch clause)");
    if (!pop_ctrl(v, &frame))
        return false;
    READ(wasm_read_u32(&v->r, &l));
    if (l >= v->nctrls)
        return fail(v, "unknown label %u", l);
    return push_types(v, end_types(&frame), frame.nresults);
}

static bool validate_throw(validator *v)
{
    uint32_t x;
    if (!read_tag(v, &x) || !pop_types(v, tag_type(v, x)->params, tag_type(v, x)->nparams))
        return false;
    set_unreachable(v);
    return true;
}

static bool validate_rethrow(validator *v)
{
    uint32_t l;
    if (!read_label(v, &l))
        return false;
    uint8_t op = v->ctrls[v->nctrls - 1 - l].opcode;
    if (op != 0x07 && op != 0x19)
        return fail(v, "invalid rethrow label: label %u is not a catch clause", l);
    set_unreachable(v);
    return true;
}

static bool validate_instr(validator *v, uint8_t op)
{
    const wasm_module *m = v->m;
    ctrl frame, *top = &v->ctrls[v->nctrls - 1];
    const uint8_t *types;
    uint32_t x, n;
    uint8_t t;
    if (wasm_feature_missing(op))
        return fail(v, "illegal opcode 0x%02x (its proposal is not enabled in this engine)", op);
    switch (op) {
    case 0x00: /* unreachable */ set_unreachable(v); return true;
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06:                     /* block, loop, if, try */
        if (!read_blocktype(v, &frame))
            return false;
        if (op == 0x04 && !pop_expect(v, ZVM_I32, NULL))
            return false;
        if (!pop_types(v, frame.params, frame.nparams))
            return false;
        frame.opcode = op;
        return push_ctrl(v, &frame);
    case 0x05:                                           /* else */
        if (top->opcode != 0x04)
            return fail(v, "END opcode expected: else without a matching if");
        if (!pop_ctrl(v, &frame))
            return false;
        frame.opcode = 0x05;
        return push_ctrl(v, &frame);
    case 0x0b:                                           /* end */
        if (!pop_ctrl(v, &frame))
            return false;
        if (frame.opcode == 0x04) {                      /* an if without else passes its parameters on */
            const uint8_t *results = end_types(&frame);
            bool same = frame.nparams == frame.nresults;
            for (uint32_t i = 0; same && i < frame.nparams; i++)
                same = frame.params[i] == results[i];
            if (!same)
                return fail(v, "type mismatch: an if without else must leave what it takes");
        }
        return v->nctrls == 0 || push_types(v, end_types(&frame), frame.nresults);
    case 0x07:
    case 0x19: return validate_catch(v, op);
    case 0x08: return validate_throw(v);
    case 0x09: return validate_rethrow(v);
    case 0x18: return validate_delegate(v);
    case 0x0c:                                           /* br */
        if (!read_label(v, &x))
            return false;
        label_types(&v->ctrls[v->nctrls - 1 - x], &types, &n);
        if (!pop_types(v, types, n))
            return false;
        set_unreachable(v);
        return true;
    case 0x0d:                                           /* br_if */
        if (!read_label(v, &x) || !pop_expect(v, ZVM_I32, NULL))
            return false;
        label_types(&v->ctrls[v->nctrls - 1 - x], &types, &n);
        return pop_types(v, types, n) && push_types(v, types, n);
    case 0x0e: return validate_br_table(v);
    case 0x0f:                                           /* return */
        if (!pop_types(v, end_types(&v->ctrls[0]), v->ctrls[0].nresults))
            return false;
        set_unreachable(v);
        return true;
    case 0x10:                                           /* call */
        READ(wasm_read_u32(&v->r, &x));
        if (x >= m->nfuncs)
            return fail(v, "unknown function %u", x);
        return validate_call(v, wasm_func_type(m, x));
    case 0x12:                                           /* return_call */
        READ(wasm_read_u32(&v->r, &x));
        if (x >= m->nfuncs)
            return fail(v, "unknown function %u", x);
        return validate_tail_call(v, wasm_func_type(m, x));
    case 0x11:
    case 0x13: {                              /* call_indirect, return_call_indirect */
        uint32_t table;
        READ(wasm_read_u32(&v->r, &x));
        READ(wasm_read_u32(&v->r, &table));
        if (table >= m->ntables)
            return fail(v, "unknown table %u", table);
        if (m->tables[table].elemtype != ZVM_FUNCREF)
            return fail(v, "type mismatch: call_indirect through table %u of %s", table,
                        zvm_valtype_name(m->tables[table].elemtype));
        if (x >= m->ntypes)
            return fail(v, "unknown type %u", x);
        if (!pop_expect(v, ZVM_I32, NULL))
            return false;
        return op == 0x11 ? validate_call(v, &m->types[x]) : validate_tail_call(v, &m->types[x]);
    }
    case 0x1a: /* drop */ return pop_any(v, &t);
    case 0x1b:
    case 0x1c: return validate_select(v, op == 0x1c);
    case 0x20:
    case 0x21:
    case 0x22:                     /* local.get, local.set, local.tee */
        READ(wasm_read_u32(&v->r, &x));
        if (x >= v->nlocals)
            return fail(v, "unknown local %u", x);
        t = v->locals[x];
        if (op == 0x20)
            return push(v, t);
        return pop_expect(v, t, NULL) && (op == 0x21 || push(v, t));
    case 0x23:
    case 0x24:                                /* global.get, global.set */
        READ(wasm_read_u32(&v->r, &x));
        if (x >= m->nglobals)
            return fail(v, "unknown global %u", x);
        if (op == 0x23)
            return push(v, m->global_types[x].valtype);
        if (!m->global_types[x].mutable_)
            return fail(v, "global is immutable: global.set %u", x);
        return pop_expect(v, m->global_types[x].valtype, NULL);
    case 0x25:
    case 0x26:                                /* table.get, table.set */
        if (!read_table(v, &x))
            return false;
        t = m->tables[x].elemtype;
        if (op == 0x25)
            return pop_expect(v, ZVM_I32, NULL) && push(v, t);
        return pop_expect(v, t, NULL) && pop_expect(v, ZVM_I32, NULL);
    case 0xd0:                                           /* ref.null */
        READ(wasm_read_u8(&v->r, &t));
        if (t != ZVM_FUNCREF && t != ZVM_EXTERNREF)
            return fail(v, "malformed reference type 0x%02x", t);
        return push(v, t);
    case 0xd1:                                           /* ref.is_null */
        if (!pop_any(v, &t))
            return false;
        if (!is_ref(t))
            return fail(v, "type mismatch: ref.is_null of %s", type_name(t));
        return push(v, ZVM_I32);
    case 0xd2:                                           /* ref.func */
        READ(wasm_read_u32(&v->r, &x));
        if (x >= m->nfuncs)
            return fail(v, "unknown function %u", x);
        if (!m->declared_refs[x])
            return fail(v, "undeclared function reference: function %u is not named outside function bodies", x);
        return push(v, ZVM_FUNCREF);
    case 0xfc: return validate_fc(v);
    case 0xfd: return refuse_v128(v);
    }
    if (!wasm_ops[op].known || wasm_ops[op].by_hand)
        return fail(v, "illegal opcode 0x%02x", op);
    return validate_by_table(v, &wasm_ops[op], op);
}

static bool collect_locals(validator *v, const wasm_func *f, const zvm_functype *type)
{
    size_t n = (size_t)type->nparams + f->nlocals;
    if (n > UINT32_MAX)
        return fail(v, "too many locals");
    if (!(v->locals = malloc(n ? n : 1)))
        return fail(v, "out of memory (%zu locals)", n);
    memcpy(v->locals, type->params, type->nparams);
    size_t k = type->nparams;
    for (uint32_t i = 0; i < f->nruns; i++) {
        if (f->runs[i].type == ZVM_V128)
            return refuse_v128(v);
        memset(v->locals + k, f->runs[i].type, f->runs[i].count);
        k += f->runs[i].count;
    }
    v->nlocals = (uint32_t)n;
    return true;
}

static bool validate_body(validator *v, const wasm_func *f, const zvm_functype *type)
{
    v->op_at = f->code_offset;
    if (!collect_locals(v, f, type))
        return false;
    ctrl frame = { .opcode = 0, .results = type->results, .nresults = type->nresults };
    if (type->nresults == 1) {
        frame.results = NULL;
        frame.single = type->results[0];
    }
    if (!push_ctrl(v, &frame))
        return false;
    while (v->nctrls > 0) {
        uint8_t op;
        v->op_at = v->r.pos;
        READ(wasm_read_u8(&v->r, &op));
        if (!validate_instr(v, op))
            return false;
    }
    if (v->r.pos != v->r.end) {
        v->op_at = v->r.pos;
        return fail(v, "section size mismatch: %zu byte(s) after the function's final end", v->r.end - v->r.pos);
    }
    return true;
}

int wasm_validate_function(const wasm_module *m, uint32_t index, zvm_error *err)
{
    const wasm_func *f = &m->funcs[index - m->nfunc_imports];
    validator v = { .m = m, .func = index, .err = err };
    wasm_reader_init(&v.r, m->bytes, f->code_offset + f->code_size, &v.read_err);
    v.r.pos = f->code_offset;
    bool ok = validate_body(&v, f, wasm_func_type(m, index));
    free(v.vals);
    free(v.ctrls);
    free(v.locals);
    return ok ? 0 : -1;
}
