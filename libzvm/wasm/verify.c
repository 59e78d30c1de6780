/*
 * verify.c — the translator's invariants, checked on what it emitted (the checking build only:
 * -DZVM_CHECK_TRANSLATION, which `make SAN=1` and `make CHECK=1` turn on).
 *
 * The translator rewrites instructions after emitting them (a producer retargeted to a local,
 * a comparison fused into its branch, an address folded into a load).  Each rewrite is sound
 * only under conditions docs/Interpreter.md states; issue 12 was one that did not hold.  This
 * pass does not trust the translator: it re-reads the slot code of one function and follows,
 * for every frame slot, the type of the value in it — by abstract interpretation over the
 * code's control flow, to a fixed point — and checks that
 *
 *   - every slot an instruction reads holds a value on every path that reaches it (no read of
 *     a slot nothing wrote, or that a call clobbered), and of the type the instruction expects;
 *   - every slot a return hands back has the function's result type, every call argument the
 *     callee's parameter type, every global.set and table.set value the declared type;
 *   - every slot offset lies inside the frame and every branch lands on an instruction.
 *
 * Constants are written by const32/const64, which carry no type: their slots are "any" and
 * satisfy every read.  A type confusion through a constant is therefore not caught here (the
 * differential fuzzer covers values); everything computed is.
 */
#ifdef ZVM_CHECK_TRANSLATION

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/exec.h"
#include "wasm/opinfo.h"

enum { T_UNDEF = 0, T_CONFLICT = 0xfe, T_ANY = 0xff };

/* What a handler does, by layout (exec.h and the comments in interp.c give the layouts). */
enum kind {
    K_UNARY,
    K_SS,
    K_SI,
    K_LOAD,
    K_LOAD_ADD_SS,
    K_LOAD_ADD_SI,
    K_LOAD_IDX,
    K_LOAD_IDXK,
    K_STORE,
    K_STORE_K,
    K_STORE_ADD_SS,
    K_STORE_ADD_SI,
    K_STORE_IDX,
    K_BR_SS,
    K_BR_SI,
    K_COPY,
    K_CONST32,
    K_CONST64,
    K_BR,
    K_BR_IF,
    K_BR_TABLE,
    K_RET,
    K_UNREACHABLE,
    K_CALL,
    K_CALL_IMPORT,
    K_CALL_INDIRECT,
    K_SELECT,
    K_GLOBAL_GET,
    K_GLOBAL_SET,
    K_TABLE_GET,
    K_TABLE_SET,
    K_MEMORY_SIZE,
    K_MEMORY_GROW,
    K_REF_FUNC,
    K_MEMORY_INIT,
    K_SEGMENT_DROP,
    K_MEMORY_COPY,
    K_TABLE_INIT,
    K_TABLE_COPY,
    K_TABLE_GROW,
    K_TABLE_SIZE,
    K_TABLE_FILL,
    K_REF_IS_NULL,
    K_LEA,
    K_ZERO_LOCALS,
    K_RETURN_CALL,
    K_RETURN_CALL_IMPORT,
    K_RETURN_CALL_INDIRECT,
    K_TRY,
    K_CATCH,
    K_THROW,
    K_RETHROW,
};

struct hinfo {
    handler h;
    uint8_t kind;
    uint16_t op;                         /* for the numeric kinds: the opcode (256 + n for 0xFC n) */
};

struct verifier {
    const wasm_module *m;
    const struct code_func *cf;
    const cell *code;                    /* the function's first cell */
    uint32_t ncells, nslots;
    struct hinfo *table;
    size_t ntable;
    uint32_t *starts;                    /* cell index of each instruction */
    uint32_t ninstr;
    uint8_t *target;                     /* per instruction: some branch lands on it */
    uint8_t **states;                    /* at each instruction that is a branch target: slot types */
    uint8_t *queued;
    uint32_t *work;
    uint32_t nwork;
    char *msg;
    size_t msg_size;
    uint32_t at;                         /* the instruction being checked (for messages) */
    bool failed;
};

/* ---- the handler table ---- */

static int by_handler(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct hinfo *)a)->h, y = (uintptr_t)((const struct hinfo *)b)->h;
    return x < y ? -1 : x > y;
}

static void add(struct hinfo *t, size_t *n, handler h, enum kind k, uint32_t op)
{
    if (h)
        t[(*n)++] = (struct hinfo){ h, (uint8_t)k, (uint16_t)op };
}

static struct hinfo *build_table(size_t *count)
{
    struct hinfo *t = malloc((288 * 13 + 256 * 4 + 64) * sizeof *t);
    size_t n = 0;
    if (!t)
        return NULL;
    for (uint32_t op = 0; op < 256 + 32; op++) {
        const struct op_handlers *o = &wasm_op_handlers[op];
        add(t, &n, o->unary, K_UNARY, op);
        add(t, &n, o->ss, K_SS, op);
        add(t, &n, o->si, K_SI, op);
        add(t, &n, o->load, K_LOAD, op);
        add(t, &n, o->load_add_ss, K_LOAD_ADD_SS, op);
        add(t, &n, o->load_add_si, K_LOAD_ADD_SI, op);
        add(t, &n, o->load_idx, K_LOAD_IDX, op);
        add(t, &n, o->load_idxk, K_LOAD_IDXK, op);
        add(t, &n, o->store, K_STORE, op);
        add(t, &n, o->store_k, K_STORE_K, op);
        add(t, &n, o->store_add_ss, K_STORE_ADD_SS, op);
        add(t, &n, o->store_add_si, K_STORE_ADD_SI, op);
        add(t, &n, o->store_idx, K_STORE_IDX, op);
        if (op < 256) {
            add(t, &n, wasm_branch_handlers[op].br_ss, K_BR_SS, op);
            add(t, &n, wasm_branch_handlers[op].brn_ss, K_BR_SS, op);
            add(t, &n, wasm_branch_handlers[op].br_si, K_BR_SI, op);
            add(t, &n, wasm_branch_handlers[op].brn_si, K_BR_SI, op);
        }
    }
    add(t, &n, wasm_handlers.copy, K_COPY, 0);
    add(t, &n, wasm_handlers.const32, K_CONST32, 0);
    add(t, &n, wasm_handlers.const64, K_CONST64, 0);
    add(t, &n, wasm_handlers.br, K_BR, 0);
    add(t, &n, wasm_handlers.br_loop, K_BR, 0);
    add(t, &n, wasm_handlers.br_if, K_BR_IF, 0);
    add(t, &n, wasm_handlers.br_unless, K_BR_IF, 0);
    add(t, &n, wasm_handlers.br_table, K_BR_TABLE, 0);
    add(t, &n, wasm_handlers.ret, K_RET, 0);
    add(t, &n, wasm_handlers.unreachable, K_UNREACHABLE, 0);
    add(t, &n, wasm_handlers.call, K_CALL, 0);
    add(t, &n, wasm_handlers.call_import, K_CALL_IMPORT, 0);
    add(t, &n, wasm_handlers.call_indirect, K_CALL_INDIRECT, 0);
    add(t, &n, wasm_handlers.select, K_SELECT, 0);
    add(t, &n, wasm_handlers.global_get, K_GLOBAL_GET, 0);
    add(t, &n, wasm_handlers.global_set, K_GLOBAL_SET, 0);
    add(t, &n, wasm_handlers.table_get, K_TABLE_GET, 0);
    add(t, &n, wasm_handlers.table_set, K_TABLE_SET, 0);
    add(t, &n, wasm_handlers.memory_size, K_MEMORY_SIZE, 0);
    add(t, &n, wasm_handlers.memory_grow, K_MEMORY_GROW, 0);
    add(t, &n, wasm_handlers.ref_func, K_REF_FUNC, 0);
    add(t, &n, wasm_handlers.memory_init, K_MEMORY_INIT, 0);
    add(t, &n, wasm_handlers.data_drop, K_SEGMENT_DROP, 0);
    add(t, &n, wasm_handlers.elem_drop, K_SEGMENT_DROP, 0);
    add(t, &n, wasm_handlers.memory_copy, K_MEMORY_COPY, 0);
    add(t, &n, wasm_handlers.memory_fill, K_MEMORY_COPY, 0);
    add(t, &n, wasm_handlers.table_init, K_TABLE_INIT, 0);
    add(t, &n, wasm_handlers.table_copy, K_TABLE_COPY, 0);
    add(t, &n, wasm_handlers.table_grow, K_TABLE_GROW, 0);
    add(t, &n, wasm_handlers.table_size, K_TABLE_SIZE, 0);
    add(t, &n, wasm_handlers.table_fill, K_TABLE_FILL, 0);
    add(t, &n, wasm_handlers.i64_eqz, K_REF_IS_NULL, 0);
    add(t, &n, wasm_handlers.lea, K_LEA, 0);
    add(t, &n, wasm_handlers.zero_locals, K_ZERO_LOCALS, 0);
    add(t, &n, wasm_handlers.return_call, K_RETURN_CALL, 0);
    add(t, &n, wasm_handlers.return_call_import, K_RETURN_CALL_IMPORT, 0);
    add(t, &n, wasm_handlers.return_call_indirect, K_RETURN_CALL_INDIRECT, 0);
    add(t, &n, wasm_handlers.try_, K_TRY, 0);
    add(t, &n, wasm_handlers.catch_, K_CATCH, 0);
    add(t, &n, wasm_handlers.throw_, K_THROW, 0);
    add(t, &n, wasm_handlers.rethrow, K_RETHROW, 0);
    qsort(t, n, sizeof *t, by_handler);
    *count = n;
    return t;
}

/* Every interpretation of handler h (a handler may serve several opcodes: i64.eqz and
 * ref.is_null share one).  Returns how many, *first the first. */
static size_t lookup(const struct verifier *v, handler h, const struct hinfo **first)
{
    size_t lo = 0, hi = v->ntable;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((uintptr_t)v->table[mid].h < (uintptr_t)h)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    while (lo + n < v->ntable && v->table[lo + n].h == h)
        n++;
    *first = &v->table[lo];
    return n;
}

static const wasm_op_info *op_info(uint32_t op)
{
    return op < 256 ? &wasm_ops[op] : &wasm_fc_ops[op - 256];
}

static uint32_t length(const struct hinfo *hi, const cell *c)
{
    switch (hi->kind) {
    case K_UNARY:
    case K_COPY:
    case K_CONST32:
    case K_BR:
    case K_BR_IF:
    case K_CALL_IMPORT:
    case K_GLOBAL_GET:
    case K_GLOBAL_SET:
    case K_MEMORY_SIZE:
    case K_MEMORY_GROW:
    case K_REF_FUNC:
    case K_SEGMENT_DROP:
    case K_TABLE_SIZE:
    case K_REF_IS_NULL:
    case K_ZERO_LOCALS:
    case K_RETURN_CALL_IMPORT:
    case K_TRY:
    case K_THROW:
    case K_RETHROW: return 2;
    case K_RET:
    case K_UNREACHABLE: return 1;
    case K_LOAD_IDX:
    case K_LOAD_IDXK:
    case K_STORE_K:
    case K_STORE_IDX:
    case K_TABLE_INIT:
    case K_TABLE_COPY:
    case K_LEA: return 4;
    case K_BR_TABLE: return 2 + c[1].u32[1] + 1;
    default: return 3;
    }
}

/* ---- slot types ---- */

static void fail(struct verifier *v, const char *fmt, uint32_t a, uint8_t got, uint8_t want)
{
    if (v->failed)
        return;
    v->failed = true;
    char what[96];
    snprintf(what, sizeof what, fmt, a);
    const char *g = got == T_UNDEF      ? "nothing (never written, or clobbered by a call)"
                    : got == T_CONFLICT ? "different types on different paths"
                                        : zvm_valtype_name(got);
    snprintf(v->msg, v->msg_size, "translator invariant broken: function %u, cell %u: %s holds %s, %s expected",
             v->cf->func_index, v->starts[v->at], what, g, want == T_ANY ? "a value" : zvm_valtype_name(want));
}

static uint32_t slot_of(struct verifier *v, uint32_t byte_offset)
{
    uint32_t s = byte_offset / 8;
    if (byte_offset % 8 || s >= v->nslots) {
        fail(v, "slot offset %u", byte_offset, T_UNDEF, T_ANY);
        return 0;
    }
    return s;
}

/* A read of the slot at byte offset off, expecting type want (T_ANY: any value). */
static uint8_t rd(struct verifier *v, uint8_t *st, uint32_t off, uint8_t want)
{
    uint32_t s = slot_of(v, off);
    uint8_t got = st[s];
    bool ok = got != T_UNDEF && got != T_CONFLICT && (want == T_ANY || got == T_ANY || got == want);
    if (!ok)
        fail(v, "slot %u", s, got, want);
    return got;
}

static void wr(struct verifier *v, uint8_t *st, uint32_t off, uint8_t type)
{
    st[slot_of(v, off)] = type;
}

static uint8_t meet(uint8_t a, uint8_t b)
{
    if (a == b)
        return a;
    if (a == T_UNDEF || b == T_UNDEF)
        return T_UNDEF;
    if (a == T_ANY)
        return b;
    if (b == T_ANY)
        return a;
    return T_CONFLICT;
}

static bool is_ref(uint8_t t)
{
    return t == ZVM_FUNCREF || t == ZVM_EXTERNREF || t == T_ANY;
}

/* ---- control flow ---- */

static int64_t instr_at(const struct verifier *v, int64_t cell_index)
{
    uint32_t lo = 0, hi = v->ninstr;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v->starts[mid] < cell_index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->ninstr && v->starts[lo] == cell_index ? lo : -1;
}

/* Merges state st into the state at the instruction `cell_index` cells from the function start. */
static void flow_to(struct verifier *v, const uint8_t *st, int64_t cell_index)
{
    int64_t i = instr_at(v, cell_index);
    if (i < 0) {
        fail(v, "a branch to cell %u", (uint32_t)cell_index, T_UNDEF, T_ANY);
        return;
    }
    uint8_t **slot = &v->states[i];
    bool changed = false;
    if (!*slot) {
        *slot = malloc(v->nslots ? v->nslots : 1);
        if (!*slot) {
            v->failed = true;
            snprintf(v->msg, v->msg_size, "out of memory verifying the translation");
            return;
        }
        memcpy(*slot, st, v->nslots);
        changed = true;
    } else {
        for (uint32_t s = 0; s < v->nslots; s++) {
            uint8_t m = meet((*slot)[s], st[s]);
            if (m != (*slot)[s]) {
                (*slot)[s] = m;
                changed = true;
            }
        }
    }
    if (changed && !v->queued[i]) {
        v->queued[i] = 1;
        v->work[v->nwork++] = (uint32_t)i;
    }
}

static const zvm_functype *call_type(struct verifier *v, const struct hinfo *hi, const cell *c, uint32_t *frame)
{
    if (hi->kind == K_CALL || hi->kind == K_RETURN_CALL) {
        *frame = c[2].u32[0];
        return wasm_func_type(v->m, ((const struct code_func *)c[1].ptr)->func_index);
    }
    if (hi->kind == K_CALL_IMPORT || hi->kind == K_RETURN_CALL_IMPORT) {
        *frame = c[1].u32[1];
        return wasm_func_type(v->m, c[1].u32[0]);
    }
    *frame = c[2].u32[1];
    return &v->m->types[c[1].u32[0]];
}

/* Checks one instruction under interpretation hi and applies its effect to st; the branch
 * targets get st merged in.  Returns false when control cannot fall through. */
static bool step(struct verifier *v, const struct hinfo *hi, const cell *c, uint8_t *st)
{
    const wasm_op_info *oi = op_info(hi->op);
    const uint8_t I32 = ZVM_I32;
    int64_t here = c - v->code;
    switch (hi->kind) {
    case K_UNARY:
        rd(v, st, c[1].u32[1], oi->pop[0]);
        wr(v, st, c[1].u32[0], oi->push);
        return true;
    case K_SS:
        rd(v, st, c[1].u32[1], oi->pop[0]);
        rd(v, st, c[2].u32[0], oi->pop[1]);
        wr(v, st, c[1].u32[0], oi->push);
        return true;
    case K_SI:
        rd(v, st, c[1].u32[1], oi->pop[0]);
        wr(v, st, c[1].u32[0], oi->push);
        return true;
    case K_LOAD:
    case K_LOAD_ADD_SI:
        rd(v, st, c[1].u32[1], I32);
        wr(v, st, c[1].u32[0], oi->push);
        return true;
    case K_LOAD_ADD_SS:
    case K_LOAD_IDX:
    case K_LOAD_IDXK:
        rd(v, st, c[1].u32[1], I32);
        rd(v, st, c[2].u32[0], I32);
        wr(v, st, c[1].u32[0], oi->push);
        return true;
    case K_STORE:
    case K_STORE_ADD_SI:
        rd(v, st, c[1].u32[0], I32);
        rd(v, st, c[1].u32[1], oi->pop[1]);
        return true;
    case K_STORE_K: rd(v, st, c[1].u32[0], I32); return true;
    case K_STORE_ADD_SS:
    case K_STORE_IDX:
        rd(v, st, c[1].u32[0], I32);
        rd(v, st, c[2].u32[0], I32);
        rd(v, st, c[1].u32[1], oi->pop[1]);
        return true;
    case K_BR_SS:
    case K_BR_SI: {
        uint8_t t = oi->pop[0];
        rd(v, st, c[1].u32[0], t);
        if (hi->kind == K_BR_SS)
            rd(v, st, c[2].u32[0], t);
        flow_to(v, st, here + c[1].i32[1]);
        return true;
    }
    case K_COPY: wr(v, st, c[1].u32[0], rd(v, st, c[1].u32[1], T_ANY)); return true;
    case K_CONST32:
    case K_CONST64: wr(v, st, c[1].u32[0], T_ANY); return true;
    case K_BR: flow_to(v, st, here + c[1].i32[0]); return false;
    case K_BR_IF:
        rd(v, st, c[1].u32[0], I32);
        flow_to(v, st, here + c[1].i32[1]);
        return true;
    case K_BR_TABLE:
        rd(v, st, c[1].u32[0], I32);
        for (uint32_t k = 0; k <= c[1].u32[1]; k++)
            flow_to(v, st, here + c[2 + k].i32[0]);
        return false;
    case K_RET:
        for (uint32_t r = 0; r < v->cf->nresults; r++)
            rd(v, st, 8 * r, wasm_func_type(v->m, v->cf->func_index)->results[r]);
        return false;
    case K_UNREACHABLE: return false;
    case K_RETURN_CALL:
    case K_RETURN_CALL_IMPORT:
    case K_RETURN_CALL_INDIRECT: {
        uint32_t frame;                          /* the arguments, then our caller gets the results */
        const zvm_functype *ft = call_type(v, hi, c, &frame);
        if (hi->kind == K_RETURN_CALL_INDIRECT)
            rd(v, st, c[2].u32[0], I32);
        for (uint32_t p = 0; p < ft->nparams; p++)
            rd(v, st, frame + 8 * p, ft->params[p]);
        return false;
    }
    case K_CALL:
    case K_CALL_IMPORT:
    case K_CALL_INDIRECT: {
        uint32_t frame;
        const zvm_functype *ft = call_type(v, hi, c, &frame);
        if (hi->kind == K_CALL_INDIRECT)
            rd(v, st, c[2].u32[0], I32);
        for (uint32_t p = 0; p < ft->nparams; p++)
            rd(v, st, frame + 8 * p, ft->params[p]);
        if (frame % 8 || frame / 8 > v->nslots)             /* the callee's frame may start at the end */
            fail(v, "a call's frame at offset %u", frame, T_UNDEF, T_ANY);
        for (uint32_t s = frame / 8; s < v->nslots; s++)         /* the callee's frame: clobbered */
            st[s] = T_UNDEF;
        for (uint32_t r = 0; r < ft->nresults; r++)
            wr(v, st, frame + 8 * r, ft->results[r]);
        return true;
    }
    case K_SELECT: {
        rd(v, st, c[1].u32[1], I32);
        uint8_t a = rd(v, st, c[2].u32[0], T_ANY), b = rd(v, st, c[2].u32[1], T_ANY);
        uint8_t t = meet(a, b);
        if (t == T_CONFLICT)
            fail(v, "select's second operand, slot %u,", c[2].u32[1] / 8, b, a);
        wr(v, st, c[1].u32[0], t);
        return true;
    }
    case K_GLOBAL_GET: wr(v, st, c[1].u32[0], v->m->global_types[c[1].u32[1]].valtype); return true;
    case K_GLOBAL_SET: rd(v, st, c[1].u32[0], v->m->global_types[c[1].u32[1]].valtype); return true;
    case K_TABLE_GET:
        rd(v, st, c[1].u32[1], I32);
        wr(v, st, c[1].u32[0], v->m->tables[c[2].u32[0]].elemtype);
        return true;
    case K_TABLE_SET:
        rd(v, st, c[1].u32[0], I32);
        rd(v, st, c[1].u32[1], v->m->tables[c[2].u32[0]].elemtype);
        return true;
    case K_MEMORY_SIZE:
    case K_TABLE_SIZE: wr(v, st, c[1].u32[0], I32); return true;
    case K_MEMORY_GROW:
        rd(v, st, c[1].u32[1], I32);
        wr(v, st, c[1].u32[0], I32);
        return true;
    case K_REF_FUNC: wr(v, st, c[1].u32[0], ZVM_FUNCREF); return true;
    case K_MEMORY_INIT:
    case K_MEMORY_COPY:
    case K_TABLE_INIT:
    case K_TABLE_COPY:
        rd(v, st, c[1].u32[0], I32);
        rd(v, st, c[1].u32[1], I32);
        rd(v, st, c[2].u32[0], I32);
        return true;
    case K_SEGMENT_DROP: return true;
    case K_TABLE_GROW:
        rd(v, st, c[1].u32[1], v->m->tables[c[2].u32[1]].elemtype);
        rd(v, st, c[2].u32[0], I32);
        wr(v, st, c[1].u32[0], I32);
        return true;
    case K_TABLE_FILL:
        rd(v, st, c[1].u32[0], I32);
        rd(v, st, c[1].u32[1], v->m->tables[c[2].u32[1]].elemtype);
        rd(v, st, c[2].u32[0], I32);
        return true;
    case K_REF_IS_NULL: {
        uint8_t t = rd(v, st, c[1].u32[1], T_ANY);
        if (!is_ref(t) && t != ZVM_I64)
            fail(v, "ref.is_null's operand, slot %u,", c[1].u32[1] / 8, t, ZVM_FUNCREF);
        wr(v, st, c[1].u32[0], I32);
        return true;
    }
    case K_LEA:
        rd(v, st, c[1].u32[1], I32);
        rd(v, st, c[2].u32[0], I32);
        wr(v, st, c[1].u32[0], I32);
        return true;
    case K_ZERO_LOCALS: {
        uint32_t first = slot_of(v, c[1].u32[0]);
        for (uint32_t s = first; s < first + c[1].u32[1] && s < v->nslots; s++)
            st[s] = T_ANY;
        return true;
    }
    /* Exceptions (translate_eh.c): the landing pads of a try are reached from its entry, where
     * the slots below the try's height are as its clauses will find them; each pad passes that
     * state on to the next before it writes the hidden slot (a record index) and the payload. */
    case K_TRY:
        if (c[1].u32[0])
            flow_to(v, st, here + c[1].u32[0]);
        return true;
    case K_CATCH: {
        if (c[2].u32[0])
            flow_to(v, st, here + c[2].u32[0]);
        wr(v, st, c[1].u32[0], ZVM_I64);
        uint32_t tag = c[2].u32[1];
        const zvm_functype *tt = tag == CODE_CATCH_ALL ? NULL : &v->m->types[v->m->tag_types[tag]];
        if ((tt ? tt->nparams : 0) != c[1].u32[1])
            fail(v, "a catch clause's payload of %u values", c[1].u32[1], T_UNDEF, T_ANY);
        for (uint32_t p = 0; tt && p < tt->nparams; p++)
            wr(v, st, c[1].u32[0] + 8 * (p + 1), tt->params[p]);
        return true;
    }
    case K_THROW: {
        const zvm_functype *tt = &v->m->types[v->m->tag_types[c[1].u32[0]]];
        for (uint32_t p = 0; p < tt->nparams; p++)
            rd(v, st, c[1].u32[1] + 8 * p, tt->params[p]);
        return false;
    }
    case K_RETHROW: rd(v, st, c[1].u32[0], ZVM_I64); return false;
    }
    return true;
}

/* The instruction at index i under the first of its interpretations that checks; its effect. */
static bool check_instruction(struct verifier *v, uint32_t i, uint8_t *st)
{
    const cell *c = v->code + v->starts[i];
    const struct hinfo *first;
    size_t n = lookup(v, c[0].h, &first);
    v->at = i;
    if (n == 1)
        return step(v, first, c, st);
    uint8_t *trial = malloc(v->nslots ? v->nslots : 1);
    if (!trial) {
        v->failed = true;
        return false;
    }
    for (size_t k = 0; k < n; k++) {          /* several opcodes share this handler */
        memcpy(trial, st, v->nslots);
        v->failed = false;
        bool falls = step(v, &first[k], c, trial);
        if (!v->failed || k + 1 == n) {
            memcpy(st, trial, v->nslots);
            free(trial);
            return falls;
        }
    }
    free(trial);
    return false;
}

static int decode(struct verifier *v)
{
    v->starts = malloc((v->ncells + 1) * sizeof *v->starts);
    if (!v->starts)
        return -1;
    for (uint32_t at = 0; at < v->ncells;) {
        const struct hinfo *hi;
        if (lookup(v, v->code[at].h, &hi) == 0) {
            snprintf(v->msg, v->msg_size, "translator invariant broken: function %u, cell %u: unknown handler",
                     v->cf->func_index, at);
            return -1;
        }
        v->starts[v->ninstr++] = at;
        at += length(hi, &v->code[at]);
    }
    v->target = calloc(v->ninstr + 1, 1);
    if (!v->target)
        return -1;
    for (uint32_t i = 0; i < v->ninstr; i++) {     /* where branches land: merge points */
        const cell *c = v->code + v->starts[i];
        const struct hinfo *hi;
        lookup(v, c[0].h, &hi);
        int64_t here = v->starts[i], t = -1;
        if (hi->kind == K_BR)
            t = here + c[1].i32[0];
        else if (hi->kind == K_TRY && c[1].u32[0])
            t = here + c[1].u32[0];
        else if (hi->kind == K_CATCH && c[2].u32[0])
            t = here + c[2].u32[0];
        else if (hi->kind == K_BR_IF || hi->kind == K_BR_SS || hi->kind == K_BR_SI)
            t = here + c[1].i32[1];
        else if (hi->kind == K_BR_TABLE)
            for (uint32_t k = 0; k <= c[1].u32[1]; k++)
                if ((t = instr_at(v, here + c[2 + k].i32[0])) >= 0)
                    v->target[t] = 1;
        if (hi->kind != K_BR_TABLE && t >= 0 && (t = instr_at(v, t)) >= 0)
            v->target[t] = 1;
    }
    return 0;
}

static void free_verifier(struct verifier *v)
{
    if (v->states)
        for (uint32_t i = 0; i < v->ninstr; i++)
            free(v->states[i]);
    free(v->states);
    free(v->queued);
    free(v->target);
    free(v->work);
    free(v->starts);
    free(v->table);
}

int wasm_verify_function(const wasm_module *m, const struct code_func *cf, const cell *code, uint32_t ncells, char *msg,
                         size_t msg_size)
{
    struct verifier v = {
        .m = m, .cf = cf, .code = code, .ncells = ncells, .nslots = cf->frame_slots, .msg = msg, .msg_size = msg_size
    };
    v.table = build_table(&v.ntable);
    if (!v.table || decode(&v) != 0) {
        int failed_decode = v.table != NULL;
        free_verifier(&v);
        if (!failed_decode)
            snprintf(msg, msg_size, "out of memory verifying the translation");
        return -1;
    }
    v.states = calloc(v.ninstr + 1, sizeof *v.states);
    v.queued = calloc(v.ninstr + 1, 1);
    v.work = malloc((v.ninstr + 1) * sizeof *v.work);
    uint8_t *st = malloc(v.nslots ? v.nslots : 1);
    if (!v.states || !v.queued || !v.work || !st) {
        free(st);
        free_verifier(&v);
        snprintf(msg, msg_size, "out of memory verifying the translation");
        return -1;
    }
    /* at entry: the parameters hold their types, everything else nothing yet */
    const zvm_functype *ft = wasm_func_type(m, cf->func_index);
    memset(st, T_UNDEF, v.nslots);
    for (uint32_t p = 0; p < ft->nparams && p < v.nslots; p++)
        st[p] = ft->params[p];
    if (v.ninstr)
        flow_to(&v, st, 0);
    while (v.nwork && !v.failed) {
        uint32_t i = v.work[--v.nwork];
        v.queued[i] = 0;
        memcpy(st, v.states[i], v.nslots);
        for (;;) {
            bool falls = check_instruction(&v, i, st);
            if (v.failed || !falls)
                break;
            if (++i >= v.ninstr) {
                v.at = i - 1;
                fail(&v, "the end of the code (cell %u)", v.ncells, T_UNDEF, T_ANY);
                break;
            }
            if (v.target[i]) {
                flow_to(&v, st, v.starts[i]);
                break;
            }
        }
    }
    free(st);
    int rc = v.failed ? -1 : 0;
    free_verifier(&v);
    return rc;
}

#endif
