/*
 * translate.c — wasm function bodies → slot code (exec.h), once, on each function's first call.
 *
 * translate_body() reads a body instruction by instruction and hands each to its compile
 * function, found in COMPILE[], a table generated from opcodes.def: the numeric instructions by
 * their shape (unary, binary, load, store), every other one by name (compile_block,
 * compile_local_set, ...).  Control flow, calls, variables, tables and memory are compiled here;
 * the stack image and the emitter are in translate_stack.c, the superinstructions in
 * translate_fuse.c (translate.h tells the model).  With uniform 64-bit slots the translator needs
 * no types, only heights and arities.  Code after br, br_table, return and unreachable is skipped
 * up to the matching else/end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/translate.h"

typedef void (*compile_fn)(struct tr *t, uint32_t op);

/* ---- immediates (the body is valid: a read cannot fail, but a failure stops translation) ---- */

static uint32_t imm_u32(struct tr *t)
{
    uint32_t v = 0;
    wasm_read_u32(&t->r, &v);
    return v;
}

static uint8_t imm_byte(struct tr *t)
{
    uint8_t b = 0;
    wasm_read_u8(&t->r, &b);
    return b;
}

/* A block type: empty, one value type, or a type index (s33). */
static void imm_blocktype(struct tr *t, uint32_t *np, uint32_t *nr)
{
    uint8_t b = t->r.pos < t->r.end ? t->r.bytes[t->r.pos] : 0x40;
    *np = *nr = 0;
    if (b == 0x40) {
        t->r.pos++;
    } else if (b == ZVM_I32 || b == ZVM_I64 || b == ZVM_F32 || b == ZVM_F64 || b == ZVM_V128 || b == ZVM_FUNCREF ||
               b == ZVM_EXTERNREF) {
        t->r.pos++;
        *nr = 1;
    } else {
        int64_t idx = 0;
        if (wasm_read_s33(&t->r, &idx) && idx >= 0 && (uint64_t)idx < t->m->ntypes) {
            *np = t->m->types[idx].nparams;
            *nr = t->m->types[idx].nresults;
        }
    }
}

/* The opcode at the reader (one byte, or 256 + n for 0xFC n) and its table entry. */
static uint32_t read_opcode(struct tr *t, const wasm_op_info **info)
{
    uint32_t op = imm_byte(t);
    if (op == 0xfc)
        op = 256 + imm_u32(t);
    *info = op < 256 ? &wasm_ops[op] : op - 256 < WASM_FC_COUNT ? &wasm_fc_ops[op - 256] : &wasm_ops[0xff];
    return op;
}

/* Skips unreachable code up to (not including) the else or end that closes the current block. */
static void skip_dead(struct tr *t)
{
    uint32_t depth = 0;
    while (t->r.pos < t->r.end && !t->r.failed) {
        uint8_t b = t->r.bytes[t->r.pos];
        if ((b == 0x05 || b == 0x0b) && depth == 0)
            return;
        size_t at = t->r.pos;
        const wasm_op_info *info;
        uint32_t op = read_opcode(t, &info);
        if (op == 0x02 || op == 0x03 || op == 0x04)
            depth++;
        else if (op == 0x0b)
            depth--;
        wasm_skip_immediates(t->m, &t->r, info, at);
    }
}

/* After br, br_table, return, unreachable: the rest of the block is never reached. */
static void enter_dead_code(struct tr *t)
{
    struct ctrl *top = &t->ctrls[t->nctrl - 1];
    top->dead = true;
    wasm_tr_truncate(t, top->height);
    skip_dead(t);
}

static void push_ctrl(struct tr *t, uint8_t kind, uint32_t np, uint32_t nr)
{
    if (!wasm_tr_grow((void **)&t->ctrls, &t->ctrl_cap, t->nctrl + 1, sizeof(struct ctrl))) {
        t->oom = true;
        return;
    }
    t->ctrls[t->nctrl++] = (struct ctrl){ kind, false, t->sp - np, np, nr, (uint32_t)t->ncells, -1, -1 };
}

/* ---- branches and returns ---- */

/* The results of the function go to the frame's first slots; then ret. */
static void emit_return(struct tr *t)
{
    uint32_t n = t->nresults;
    /* Result i is written to slot i after results 0..i-1: a value reading a slot below i would
     * see it overwritten, so it goes to its entry's canonical slot first.  The stack image is
     * left alone (this may be one arm of a br_if; the other arm still sees the local). */
    for (uint32_t i = 0; i < n; i++)
        if (wasm_tr_reads_below(&t->stack[t->sp - n + i], i))
            wasm_tr_emit_move(t, CANON(t, t->sp - n + i), &t->stack[t->sp - n + i]);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = t->sp - n + i;
        struct val v = t->stack[e];
        if (wasm_tr_reads_below(&v, i))
            v = (struct val){ .kind = V_SLOT, .slot = CANON(t, e) };
        wasm_tr_emit_move(t, i, &v);
    }
    wasm_tr_emit(t, wasm_handlers.ret, 1);
}

/* An unconditional branch to label depth l (values on top of the stack). */
static void emit_br(struct tr *t, uint32_t l)
{
    struct ctrl *c = &t->ctrls[t->nctrl - 1 - l];
    if (c->kind == C_FUNC) {
        emit_return(t);
        return;
    }
    wasm_tr_move_to_label(t, c, wasm_tr_label_arity(c));
    uint32_t i = wasm_tr_emit(t, c->kind == C_LOOP ? wasm_handlers.br_loop : wasm_handlers.br, 2);
    struct branch_site site = { i + 1, i, 0 };
    if (c->kind == C_LOOP)
        wasm_tr_set_rel(t, site, c->start);
    else
        wasm_tr_add_patch(t, &c->patches, site);
}

/* A branch already emitted (site) goes to label c: the loop's start, or the block's end later. */
static void branch_to_label(struct tr *t, struct ctrl *c, struct branch_site site)
{
    if (c->kind == C_LOOP)
        wasm_tr_set_rel(t, site, c->start);
    else
        wasm_tr_add_patch(t, &c->patches, site);
}

/* ---- control instructions ---- */

static void compile_unreachable(struct tr *t, uint32_t op)
{
    wasm_tr_emit(t, wasm_handlers.unreachable, 1);
    enter_dead_code(t);
}

static void compile_nop(struct tr *t, uint32_t op) {}

static void compile_block(struct tr *t, uint32_t op)
{
    uint32_t np, nr;
    imm_blocktype(t, &np, &nr);
    wasm_tr_settle_for_block(t, np);
    wasm_tr_clear_last(t);
    push_ctrl(t, op == 0x02 ? C_BLOCK : C_LOOP, np, nr);
}

static void compile_loop(struct tr *t, uint32_t op)
{
    compile_block(t, op);
}

static void compile_if_(struct tr *t, uint32_t op)
{
    uint32_t np, nr;
    imm_blocktype(t, &np, &nr);
    t->sp--;                                     /* the condition sits above the parameters */
    bool settled = wasm_tr_settled_for_block(t, np);
    t->sp++;
    if (!settled) {
        wasm_tr_need_slot(t, t->sp - 1);
        struct val cond = wasm_tr_pop(t);
        wasm_tr_settle_for_block(t, np);
        wasm_tr_push_entry(t, &cond);
    }
    struct branch_site site = wasm_tr_emit_cond_branch(t, true);
    push_ctrl(t, C_IF, np, nr);
    if (!t->oom)
        wasm_tr_add_patch(t, &t->ctrls[t->nctrl - 1].else_patch, site);
    wasm_tr_clear_last(t);
}

static void compile_else_(struct tr *t, uint32_t op)
{
    struct ctrl *c = &t->ctrls[t->nctrl - 1];
    if (!c->dead) {
        for (uint32_t i = t->sp - c->nresults; i < t->sp; i++)
            wasm_tr_materialize(t, i);
        uint32_t i = wasm_tr_emit(t, wasm_handlers.br, 2);
        wasm_tr_add_patch(t, &c->patches, (struct branch_site){ i + 1, i, 0 });
    }
    wasm_tr_resolve_patches(t, c->else_patch, (uint32_t)t->ncells);
    c->else_patch = -1;
    wasm_tr_truncate(t, c->height);
    for (uint32_t i = 0; i < c->nparams; i++)
        wasm_tr_push_canon(t);
    c->kind = C_ELSE;
    c->dead = false;
    wasm_tr_clear_last(t);
}

static void compile_end(struct tr *t, uint32_t op)
{
    struct ctrl *c = &t->ctrls[t->nctrl - 1];
    if (c->kind == C_FUNC) {
        if (!c->dead)
            emit_return(t);
        t->nctrl--;
        return;
    }
    if (!c->dead)
        for (uint32_t i = t->sp - c->nresults; i < t->sp; i++)
            wasm_tr_materialize(t, i);
    uint32_t here = (uint32_t)t->ncells;
    if (c->kind == C_IF)
        wasm_tr_resolve_patches(t, c->else_patch, here);
    wasm_tr_resolve_patches(t, c->patches, here);
    wasm_tr_truncate(t, c->height);
    uint32_t nr = c->nresults;
    t->nctrl--;
    for (uint32_t i = 0; i < nr; i++)
        wasm_tr_push_canon(t);
    wasm_tr_clear_last(t);
}

static void compile_br(struct tr *t, uint32_t op)
{
    emit_br(t, imm_u32(t));
    enter_dead_code(t);
}

static void compile_br_if(struct tr *t, uint32_t op)
{
    uint32_t l = imm_u32(t);
    struct ctrl *c = &t->ctrls[t->nctrl - 1 - l];
    uint32_t arity = wasm_tr_label_arity(c);
    t->sp--;                                     /* in_place looks below the condition */
    bool direct = c->kind != C_FUNC && wasm_tr_in_place(t, c, arity);
    t->sp++;
    if (direct) {                                /* the values are where the label wants them */
        branch_to_label(t, c, wasm_tr_emit_cond_branch(t, false));
    } else {                                     /* if not cond skip; move; br */
        struct branch_site skip = wasm_tr_emit_cond_branch(t, true);
        emit_br(t, l);
        wasm_tr_set_rel(t, skip, (uint32_t)t->ncells);
    }
    wasm_tr_clear_last(t);
}

static void compile_br_table(struct tr *t, uint32_t op)
{
    uint32_t n = imm_u32(t);
    uint32_t *labels = n < UINT32_MAX ? malloc(((size_t)n + 1) * sizeof *labels) : NULL;
    if (!labels) {
        t->oom = true;
        return;
    }
    for (uint32_t k = 0; k <= n; k++)
        labels[k] = imm_u32(t);
    uint32_t cond = wasm_tr_pop_slot(t);
    uint32_t i = wasm_tr_emit(t, wasm_handlers.br_table, 2 + n + 1);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(cond);
    wasm_tr_at(t, i + 1)->u32[1] = n;
    for (uint32_t k = 0; k <= n; k++) {
        struct ctrl *c = &t->ctrls[t->nctrl - 1 - labels[k]];
        struct branch_site site = { i + 2 + k, i, 0 };
        if (c->kind != C_FUNC && wasm_tr_in_place(t, c, wasm_tr_label_arity(c))) {
            branch_to_label(t, c, site);
        } else {                                 /* a trampoline moves the values, then branches */
            wasm_tr_set_rel(t, site, (uint32_t)t->ncells);
            emit_br(t, labels[k]);
        }
    }
    free(labels);
    enter_dead_code(t);
}

static void compile_return_(struct tr *t, uint32_t op)
{
    emit_return(t);
    enter_dead_code(t);
}

/* ---- calls ---- */

/* After a call: its arguments are gone, its results are in their canonical slots. */
static void take_call_results(struct tr *t, const zvm_functype *ft)
{
    wasm_tr_truncate(t, t->sp - ft->nparams);
    for (uint32_t i = 0; i < ft->nresults; i++)
        wasm_tr_push_canon(t);
}

/* call and return_call: [h][code_func*][frame] for a function of this module, [h][index|frame]
 * for an import; the arguments are made contiguous at the frame.  Returns the callee's type. */
static const zvm_functype *emit_direct_call(struct tr *t, handler local, handler import)
{
    uint32_t f = imm_u32(t);
    const zvm_functype *ft = wasm_func_type(t->m, f);
    uint32_t n = ft->nparams;
    for (uint32_t i = t->sp - n; i < t->sp; i++)     /* arguments are contiguous */
        wasm_tr_materialize(t, i);
    uint32_t frame = BYTES(CANON(t, t->sp - n));
    if (f < t->m->nfunc_imports) {
        uint32_t i = wasm_tr_emit(t, import, 2);
        wasm_tr_at(t, i + 1)->u32[0] = f;
        wasm_tr_at(t, i + 1)->u32[1] = frame;
    } else {
        uint32_t i = wasm_tr_emit(t, local, 3);
        wasm_tr_at(t, i + 1)->ptr = &t->code->funcs[f - t->m->nfunc_imports];
        wasm_tr_at(t, i + 2)->u32[0] = frame;
    }
    return ft;
}

/* call_indirect and return_call_indirect: [h][type|table][element slot|frame]. */
static const zvm_functype *emit_indirect_call(struct tr *t, handler h)
{
    uint32_t type = imm_u32(t), table = imm_u32(t);
    const zvm_functype *ft = &t->m->types[type];
    uint32_t n = ft->nparams;
    /* the element index is above the arguments: materialising them cannot move it */
    uint32_t elem = wasm_tr_pop_slot(t);
    for (uint32_t i = t->sp - n; i < t->sp; i++)
        wasm_tr_materialize(t, i);
    uint32_t i = wasm_tr_emit(t, h, 3);
    wasm_tr_at(t, i + 1)->u32[0] = type;
    wasm_tr_at(t, i + 1)->u32[1] = table;
    wasm_tr_at(t, i + 2)->u32[0] = BYTES(elem);
    wasm_tr_at(t, i + 2)->u32[1] = BYTES(CANON(t, t->sp - n));
    return ft;
}

static void compile_call(struct tr *t, uint32_t op)
{
    take_call_results(t, emit_direct_call(t, wasm_handlers.call, wasm_handlers.call_import));
}

static void compile_call_indirect(struct tr *t, uint32_t op)
{
    take_call_results(t, emit_indirect_call(t, wasm_handlers.call_indirect));
}

/* Tail calls: the callee replaces this function's frame and returns its results for it. */
static void compile_return_call(struct tr *t, uint32_t op)
{
    emit_direct_call(t, wasm_handlers.return_call, wasm_handlers.return_call_import);
    enter_dead_code(t);
}

static void compile_return_call_indirect(struct tr *t, uint32_t op)
{
    emit_indirect_call(t, wasm_handlers.return_call_indirect);
    enter_dead_code(t);
}

/* ---- parametric ---- */

static void compile_drop(struct tr *t, uint32_t op)
{
    wasm_tr_pop(t);
}

static void compile_select(struct tr *t, uint32_t op)
{
    uint32_t cond = wasm_tr_need_slot(t, t->sp - 1);
    uint32_t b = wasm_tr_need_slot(t, t->sp - 2);
    uint32_t a = wasm_tr_need_slot(t, t->sp - 3);
    wasm_tr_truncate(t, t->sp - 3);
    uint32_t i = wasm_tr_emit_result(t, wasm_handlers.select, 3, op);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(cond);
    wasm_tr_at(t, i + 2)->u32[0] = BYTES(a);
    wasm_tr_at(t, i + 2)->u32[1] = BYTES(b);
}

static void compile_select_t(struct tr *t, uint32_t op)
{
    uint32_t n = imm_u32(t);
    for (uint32_t k = 0; k < n && !t->r.failed; k++)
        imm_byte(t);
    compile_select(t, op);
}

/* ---- variables ---- */

static void compile_local_get(struct tr *t, uint32_t op)
{
    wasm_tr_push_slot(t, imm_u32(t));
}
static void compile_local_set(struct tr *t, uint32_t op)
{
    wasm_tr_local_set(t, imm_u32(t), false);
}
static void compile_local_tee(struct tr *t, uint32_t op)
{
    wasm_tr_local_set(t, imm_u32(t), true);
}

static void compile_global_get(struct tr *t, uint32_t op)
{
    uint32_t i = wasm_tr_emit_result(t, wasm_handlers.global_get, 2, op);
    wasm_tr_at(t, i + 1)->u32[1] = imm_u32(t);
}

static void compile_global_set(struct tr *t, uint32_t op)
{
    uint32_t src = wasm_tr_pop_slot(t);
    uint32_t i = wasm_tr_emit(t, wasm_handlers.global_set, 2);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(src);
    wasm_tr_at(t, i + 1)->u32[1] = imm_u32(t);
}

/* ---- numeric: by shape, from opcodes.def ---- */

static void compile_unary_with(struct tr *t, handler h, uint32_t op)
{
    uint32_t a = wasm_tr_pop_slot(t);
    uint32_t i = wasm_tr_emit_result(t, h, 2, op);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(a);
}

static void compile_unary(struct tr *t, uint32_t op)
{
    compile_unary_with(t, wasm_op_handlers[op].unary, op);
}

static bool commutative(uint32_t op)
{
    return (op >= 0x46 && op <= 0x47) || (op >= 0x51 && op <= 0x52) || op == 0x6a || op == 0x6c ||
           (op >= 0x71 && op <= 0x73) || op == 0x7c || op == 0x7e || (op >= 0x83 && op <= 0x85);
}

/* [h][dst|a][b]: slot and slot, or slot and immediate (a constant on the left of a commutative
 * operator moves to the right).  An i32.add may instead stay deferred as an address. */
static void compile_binary(struct tr *t, uint32_t op)
{
    if (op == 0x6a && wasm_tr_defer_add(t))
        return;
    const struct op_handlers *oh = &wasm_op_handlers[op];
    const struct val *a = &t->stack[t->sp - 2], *b = &t->stack[t->sp - 1];
    handler h;
    uint32_t sa, sb = 0;
    uint64_t k = 0;
    int32_t shl = -1;
    if (b->kind == V_CONST && a->kind == V_SLOT) {
        h = oh->si, sa = a->slot, k = b->k;
    } else if (commutative(op) && a->kind == V_CONST && b->kind == V_SLOT) {
        h = oh->si, sa = b->slot, k = a->k;
    } else {
        h = oh->ss;
        sa = wasm_tr_need_slot(t, t->sp - 2);
        sb = wasm_tr_need_slot(t, t->sp - 1);
        if (op == 0x6a)
            shl = wasm_tr_shl_operand(t);
    }
    wasm_tr_truncate(t, t->sp - 2);
    uint32_t i = wasm_tr_emit_result(t, h, 3, op);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(sa);
    if (h == oh->si)
        wasm_tr_at(t, i + 2)->u64 = k;
    else
        wasm_tr_at(t, i + 2)->u32[0] = BYTES(sb);
    if (!t->oom)
        t->stack[t->sp - 1].shl = shl;
}

static void compile_i32_const(struct tr *t, uint32_t op)
{
    int32_t v = 0;
    wasm_read_s32(&t->r, &v);
    wasm_tr_push_const(t, (uint32_t)v);
}

static void compile_i64_const(struct tr *t, uint32_t op)
{
    int64_t v = 0;
    wasm_read_s64(&t->r, &v);
    wasm_tr_push_const(t, (uint64_t)v);
}

static void compile_f32_const(struct tr *t, uint32_t op)
{
    uint32_t bits = 0;
    wasm_read_f32(&t->r, &bits);
    wasm_tr_push_const(t, bits);
}

static void compile_f64_const(struct tr *t, uint32_t op)
{
    uint64_t bits = 0;
    wasm_read_f64(&t->r, &bits);
    wasm_tr_push_const(t, bits);
}

/* ---- memory ---- */

/* [h][dst|addr][offset], or fused with the address arithmetic that computed addr. */
static void compile_load(struct tr *t, uint32_t op)
{
    imm_u32(t);                                  /* alignment: a hint */
    uint32_t offset = imm_u32(t);
    struct val addr = t->stack[t->sp - 1];
    if (addr.kind == V_ADDR) {
        wasm_tr_pop(t);
        uint32_t i = wasm_tr_emit_fused_access(t, &wasm_op_handlers[op], false, &addr, BYTES(CANON(t, t->sp)), offset);
        wasm_tr_push_canon(t);
        wasm_tr_set_producer(t, i, op);
        return;
    }
    if (wasm_tr_fuse_load(t, op, offset))
        return;
    uint32_t a = wasm_tr_pop_slot(t);
    uint32_t i = wasm_tr_emit_result(t, wasm_op_handlers[op].load, 3, op);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(a);
    wasm_tr_at(t, i + 2)->u64 = offset;
}

/* [h][addr|value][offset]; with a constant value [h][addr|-][offset][k]; or fused. */
static void compile_store(struct tr *t, uint32_t op)
{
    imm_u32(t);
    uint32_t offset = imm_u32(t);
    struct val addr = t->stack[t->sp - 2], value = t->stack[t->sp - 1];
    if (addr.kind == V_ADDR && addr.form != A_IDXK) {
        uint32_t sv = wasm_tr_need_slot(t, t->sp - 1);
        wasm_tr_truncate(t, t->sp - 2);
        wasm_tr_emit_fused_access(t, &wasm_op_handlers[op], true, &addr, BYTES(sv), offset);
        return;
    }
    uint32_t sa = wasm_tr_need_slot(t, t->sp - 2);
    if (value.kind == V_CONST) {
        wasm_tr_truncate(t, t->sp - 2);
        uint32_t i = wasm_tr_emit(t, wasm_op_handlers[op].store_k, 4);
        wasm_tr_at(t, i + 1)->u32[0] = BYTES(sa);
        wasm_tr_at(t, i + 2)->u64 = offset;
        wasm_tr_at(t, i + 3)->u64 = value.k;
        return;
    }
    uint32_t sv = wasm_tr_need_slot(t, t->sp - 1);
    wasm_tr_truncate(t, t->sp - 2);
    uint32_t i = wasm_tr_emit(t, wasm_op_handlers[op].store, 3);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(sa);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(sv);
    wasm_tr_at(t, i + 2)->u64 = offset;
}

static void compile_memory_size(struct tr *t, uint32_t op)
{
    imm_byte(t);
    wasm_tr_emit_result(t, wasm_handlers.memory_size, 2, op);
}

static void compile_memory_grow(struct tr *t, uint32_t op)
{
    imm_byte(t);
    compile_unary_with(t, wasm_handlers.memory_grow, op);
}

/* Pops k operands (made slots) and emits h with them packed as [h][s0|s1][s2|-]...; returns
 * the first cell, for the caller to add the immediates. */
static uint32_t emit_with_operands(struct tr *t, handler h, unsigned ncells, unsigned k)
{
    uint32_t slots[3];
    for (unsigned j = 0; j < k; j++)
        slots[j] = wasm_tr_need_slot(t, t->sp - k + j);
    wasm_tr_truncate(t, t->sp - k);
    uint32_t i = wasm_tr_emit(t, h, ncells);
    for (unsigned j = 0; j < k; j++)
        wasm_tr_at(t, i + 1 + j / 2)->u32[j % 2] = BYTES(slots[j]);
    return i;
}

static void compile_memory_init(struct tr *t, uint32_t op)     /* [h][dst|src][n|segment] */
{
    uint32_t seg = imm_u32(t);
    imm_byte(t);
    uint32_t i = emit_with_operands(t, wasm_handlers.memory_init, 3, 3);
    wasm_tr_at(t, i + 2)->u32[1] = seg;
}

static void compile_data_drop(struct tr *t, uint32_t op)
{
    uint32_t i = wasm_tr_emit(t, wasm_handlers.data_drop, 2);
    wasm_tr_at(t, i + 1)->u32[0] = imm_u32(t);
}

static void compile_memory_copy(struct tr *t, uint32_t op)     /* [h][dst|src][n] */
{
    imm_byte(t);
    imm_byte(t);
    emit_with_operands(t, wasm_handlers.memory_copy, 3, 3);
}

static void compile_memory_fill(struct tr *t, uint32_t op)     /* [h][dst|value][n] */
{
    imm_byte(t);
    emit_with_operands(t, wasm_handlers.memory_fill, 3, 3);
}

/* ---- references and tables ---- */

static void compile_ref_null(struct tr *t, uint32_t op)
{
    imm_byte(t);
    wasm_tr_push_const(t, 0);
}

static void compile_ref_is_null(struct tr *t, uint32_t op)
{
    compile_unary_with(t, wasm_handlers.i64_eqz, op);
}

static void compile_ref_func(struct tr *t, uint32_t op)
{
    uint32_t i = wasm_tr_emit_result(t, wasm_handlers.ref_func, 2, op);
    wasm_tr_at(t, i + 1)->u32[1] = imm_u32(t);
}

static void compile_table_get(struct tr *t, uint32_t op)       /* [h][dst|index][table] */
{
    uint32_t table = imm_u32(t);
    uint32_t index = wasm_tr_pop_slot(t);
    uint32_t i = wasm_tr_emit_result(t, wasm_handlers.table_get, 3, op);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(index);
    wasm_tr_at(t, i + 2)->u32[0] = table;
}

static void compile_table_set(struct tr *t, uint32_t op)       /* [h][index|value][table] */
{
    uint32_t table = imm_u32(t);
    uint32_t i = emit_with_operands(t, wasm_handlers.table_set, 3, 2);
    wasm_tr_at(t, i + 2)->u32[0] = table;
}

static void compile_table_init(struct tr *t, uint32_t op)      /* [h][dst|src][n|segment][table] */
{
    uint32_t seg = imm_u32(t), table = imm_u32(t);
    uint32_t i = emit_with_operands(t, wasm_handlers.table_init, 4, 3);
    wasm_tr_at(t, i + 2)->u32[1] = seg;
    wasm_tr_at(t, i + 3)->u32[0] = table;
}

static void compile_elem_drop(struct tr *t, uint32_t op)
{
    uint32_t i = wasm_tr_emit(t, wasm_handlers.elem_drop, 2);
    wasm_tr_at(t, i + 1)->u32[0] = imm_u32(t);
}

static void compile_table_copy(struct tr *t, uint32_t op)      /* [h][dst|src][n][dst table|src table] */
{
    uint32_t dst = imm_u32(t), src = imm_u32(t);
    uint32_t i = emit_with_operands(t, wasm_handlers.table_copy, 4, 3);
    wasm_tr_at(t, i + 3)->u32[0] = dst;
    wasm_tr_at(t, i + 3)->u32[1] = src;
}

static void compile_table_grow(struct tr *t, uint32_t op)      /* [h][dst|init][n|table]: init, n -> old */
{
    uint32_t table = imm_u32(t);
    uint32_t init = wasm_tr_need_slot(t, t->sp - 2);
    uint32_t n = wasm_tr_need_slot(t, t->sp - 1);
    wasm_tr_truncate(t, t->sp - 2);
    uint32_t i = wasm_tr_emit_result(t, wasm_handlers.table_grow, 3, op);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(init);
    wasm_tr_at(t, i + 2)->u32[0] = BYTES(n);
    wasm_tr_at(t, i + 2)->u32[1] = table;
}

static void compile_table_size(struct tr *t, uint32_t op)
{
    uint32_t i = wasm_tr_emit_result(t, wasm_handlers.table_size, 2, op);
    wasm_tr_at(t, i + 1)->u32[1] = imm_u32(t);
}

static void compile_table_fill(struct tr *t, uint32_t op)      /* [h][index|value][n|table] */
{
    uint32_t table = imm_u32(t);
    uint32_t i = emit_with_operands(t, wasm_handlers.table_fill, 3, 3);
    wasm_tr_at(t, i + 2)->u32[1] = table;
}

/* ---- the table: one compile function per instruction, generated from opcodes.def ---- */

#define COMPILER(imm, ident, p1, p2) COMPILER_##imm(ident, p1, p2)
#define COMPILER_NONE(ident, p1, p2) COMPILER_NONE_##p1(ident, p2)
#define COMPILER_NONE_X(ident, p2) compile_##ident
#define COMPILER_NONE__(ident, p2) compile_##ident
#define COMPILER_NONE_i(ident, p2) COMPILER_ARITH_##p2
#define COMPILER_NONE_I(ident, p2) COMPILER_ARITH_##p2
#define COMPILER_NONE_f(ident, p2) COMPILER_ARITH_##p2
#define COMPILER_NONE_F(ident, p2) COMPILER_ARITH_##p2
#define COMPILER_ARITH__ compile_unary
#define COMPILER_ARITH_i compile_binary
#define COMPILER_ARITH_I compile_binary
#define COMPILER_ARITH_f compile_binary
#define COMPILER_ARITH_F compile_binary
#define COMPILER_MEMARG(ident, p1, p2) COMPILER_MEMARG_##p2
#define COMPILER_MEMARG__ compile_load
#define COMPILER_MEMARG_i compile_store
#define COMPILER_MEMARG_I compile_store
#define COMPILER_MEMARG_f compile_store
#define COMPILER_MEMARG_F compile_store
#define COMPILER_BY_NAME(ident, p1, p2) compile_##ident
#define COMPILER_BLOCKTYPE COMPILER_BY_NAME
#define COMPILER_LABEL COMPILER_BY_NAME
#define COMPILER_BR_TABLE COMPILER_BY_NAME
#define COMPILER_FUNC COMPILER_BY_NAME
#define COMPILER_CALL_INDIRECT COMPILER_BY_NAME
#define COMPILER_LOCAL COMPILER_BY_NAME
#define COMPILER_GLOBAL COMPILER_BY_NAME
#define COMPILER_TABLE COMPILER_BY_NAME
#define COMPILER_MEMORY COMPILER_BY_NAME
#define COMPILER_I32 COMPILER_BY_NAME
#define COMPILER_I64 COMPILER_BY_NAME
#define COMPILER_F32 COMPILER_BY_NAME
#define COMPILER_F64 COMPILER_BY_NAME
#define COMPILER_REFTYPE COMPILER_BY_NAME
#define COMPILER_SELECT_T COMPILER_BY_NAME
#define COMPILER_DATA COMPILER_BY_NAME
#define COMPILER_ELEM COMPILER_BY_NAME
#define COMPILER_MEMORY_INIT COMPILER_BY_NAME
#define COMPILER_MEMORY_COPY COMPILER_BY_NAME
#define COMPILER_TABLE_INIT COMPILER_BY_NAME
#define COMPILER_TABLE_COPY COMPILER_BY_NAME

static const compile_fn COMPILE[256 + WASM_FC_COUNT] = {
#define OP(code, ident, text, imm, p1, p2, p3, r) [code] = COMPILER(imm, ident, p1, p2),
#define OP_FC(code, ident, text, imm, p1, p2, p3, r) [256 + (code)] = COMPILER(imm, ident, p1, p2),
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
};

/* ---- one function ---- */

/* Declared locals start at zero (parameters arrive set).  Compilers often set a local first
 * thing anyway: a scan of the straight-line start of the body finds locals written before any
 * read, which need no zeroing.  The rest are zeroed in runs. */
static void zero_locals(struct tr *t, const struct code_func *cf)
{
    uint32_t n = cf->nlocals, np = cf->nparams;
    if (n == 0)
        return;
    uint8_t *state = calloc(n, 1);               /* 0 unknown, 1 written first, 2 read first */
    if (!state) {
        t->oom = true;
        return;
    }
    size_t saved = t->r.pos;
    for (unsigned k = 0; k < 64 && t->r.pos < t->r.end && !t->r.failed; k++) {
        size_t at = t->r.pos;
        const wasm_op_info *info;
        uint32_t op = read_opcode(t, &info);
        if (op == 0x20 || op == 0x21 || op == 0x22) {
            uint32_t l = imm_u32(t);
            if (l >= np && l - np < n && state[l - np] == 0)
                state[l - np] = op == 0x20 ? 2 : 1;
        } else if ((op >= 0x02 && op <= 0x11) || op == 0x00) {
            break;                               /* control flow: the straight line ends */
        } else {
            wasm_skip_immediates(t->m, &t->r, info, at);
        }
    }
    t->r.pos = saved;
    for (uint32_t i = 0; i < n;) {
        if (state[i] == 1) {
            i++;
            continue;
        }
        uint32_t run = 1;
        while (i + run < n && state[i + run] != 1)
            run++;
        if (run <= 2) {
            for (uint32_t j = 0; j < run; j++)
                wasm_tr_emit_const(t, np + i + j, 0);
        } else {
            uint32_t c = wasm_tr_emit(t, wasm_handlers.zero_locals, 2);
            wasm_tr_at(t, c + 1)->u32[0] = BYTES(np + i);
            wasm_tr_at(t, c + 1)->u32[1] = run;
        }
        i += run;
    }
    free(state);
}

static void translate_body(struct tr *t, struct code_func *cf, const wasm_func *wf)
{
    wasm_reader_init(&t->r, t->m->bytes, wf->code_offset + wf->code_size, &t->read_err);
    t->r.pos = wf->code_offset;
    t->sp = t->max_sp = 0;
    t->nctrl = 0;
    t->npatch = 0;
    t->nlocal_refs = 0;
    wasm_tr_clear_last(t);
    t->temp_base = cf->nparams + cf->nlocals;
    t->nresults = cf->nresults;
    t->offset = (uint32_t)wf->code_offset;
    push_ctrl(t, C_FUNC, 0, cf->nresults);
    zero_locals(t, cf);
    while (t->nctrl > 0 && t->r.pos < t->r.end && !t->oom && !t->r.failed) {
        t->offset = (uint32_t)t->r.pos;
        const wasm_op_info *info;
        uint32_t op = read_opcode(t, &info);
        compile_fn compile = op < 256 + WASM_FC_COUNT ? COMPILE[op] : NULL;
        if (!compile) {                          /* cannot happen in a valid module */
            t->r.failed = true;
            break;
        }
        compile(t, op);
    }
}

/* ---- one function, on its first call ---- */

/* The work buffers that outlive one function's translation (a session translates hundreds). */
struct tr_scratch {
    struct val *stack;
    size_t stack_cap;
    struct ctrl *ctrls;
    size_t ctrl_cap;
    struct patch *patches;
    size_t patch_cap;
};

static void take_scratch(struct tr *t, struct tr_scratch *s)
{
    if (!s)
        return;
    t->stack = s->stack;
    t->stack_cap = s->stack_cap;
    t->ctrls = s->ctrls;
    t->ctrl_cap = s->ctrl_cap;
    t->patches = s->patches;
    t->patch_cap = s->patch_cap;
}

/* Gives the buffers back to the module's scratch (or frees them without one), and frees the
 * cells and positions unless they went to the function. */
static void free_work(struct tr *t)
{
    free(t->cells);
    free(t->pos);
    struct tr_scratch *s = t->code->scratch;
    if (s) {
        *s = (struct tr_scratch){ t->stack, t->stack_cap, t->ctrls, t->ctrl_cap, t->patches, t->patch_cap };
        return;
    }
    free(t->stack);
    free(t->ctrls);
    free(t->patches);
}

/* Why a translation that was tried failed (into err); -1. */
static int translation_failed(const struct tr *t, const struct code_func *cf, const wasm_func *wf, zvm_error *err)
{
    if (t->oom)
        snprintf(err->msg, sizeof err->msg, "out of memory translating function %u", cf->func_index);
    else if (t->r.failed)
        snprintf(err->msg, sizeof err->msg,
                 "function %u at byte 0x%x: the translator misread a validated body "
                 "(an engine bug: please report it with the module)",
                 cf->func_index, t->offset);
    else
        snprintf(err->msg, sizeof err->msg, "function %u at byte 0x%zx: too large for the engine", cf->func_index,
                 wf->code_offset);
    return -1;
}

int wasm_translate_function(const wasm_module *m, struct code_func *cf, zvm_error *err)
{
    if (cf->cells)
        return 0;
    const wasm_func *wf = &m->funcs[cf->func_index - m->nfunc_imports];
    struct tr t = { .m = m, .code = m->code };
    take_scratch(&t, t.code->scratch);
    wasm_tr_grow((void **)&t.cells, &t.cap, wf->code_size + 16, sizeof(cell));
    wasm_tr_grow((void **)&t.pos, &t.poscap, wf->code_size / 2 + 16, sizeof(struct code_pos));
    translate_body(&t, cf, wf);
    uint32_t slots = t.temp_base + t.max_sp;
    slots = slots > cf->nresults ? slots : cf->nresults;
    if (t.oom || t.r.failed || slots > (1u << 25) || t.ncells > (1u << 30)) {
        translation_failed(&t, cf, wf, err);
        free_work(&t);
        return -1;
    }
    cf->frame_slots = slots;                     /* what the verifier checks the code against */
#ifdef ZVM_CHECK_TRANSLATION
    if (wasm_verify_function(m, cf, t.cells, (uint32_t)t.ncells, err->msg, sizeof err->msg) != 0) {
        free_work(&t);
        return -1;
    }
#endif
    /* the buffers were sized for the worst case: give the rest back */
    cell *cells = realloc(t.cells, t.ncells * sizeof(cell));
    struct code_pos *pos = realloc(t.pos, (t.npos ? t.npos : 1) * sizeof(struct code_pos));
    cf->cells = cells ? cells : t.cells;
    cf->ncells = (uint32_t)t.ncells;
    cf->pos = pos ? pos : t.pos;
    cf->npos = (uint32_t)t.npos;
    cf->entry = cf->cells;
    t.cells = NULL;
    t.pos = NULL;
    free_work(&t);
    return 0;
}

/* ---- the module ---- */

static void code_free(void *p)
{
    struct code *c = p;
    if (!c)
        return;
    for (uint32_t f = 0; f < c->nfuncs; f++) {
        free(c->funcs[f].cells);
        free(c->funcs[f].pos);
    }
    if (c->scratch) {
        free(c->scratch->stack);
        free(c->scratch->ctrls);
        free(c->scratch->patches);
        free(c->scratch);
    }
    free(c->funcs);
    free(c);
}

int wasm_translate_module(wasm_module *m, zvm_error *err)
{
    struct code *code = calloc(1, sizeof *code);
    uint32_t n = m->nfuncs - m->nfunc_imports;
    if (code)
        code->funcs = calloc(n ? n : 1, sizeof *code->funcs);
    if (!code || !code->funcs) {
        free(code);
        snprintf(err->msg, sizeof err->msg, "out of memory preparing the module's code");
        return -1;
    }
    code->nfuncs = n;
    code->scratch = calloc(1, sizeof *code->scratch);    /* without it, each translation allocates its own */
    for (uint32_t f = 0; f < n; f++) {
        const wasm_func *wf = &m->funcs[f];
        const zvm_functype *ft = &m->types[wf->type_index];
        struct code_func *cf = &code->funcs[f];
        cf->func_index = m->nfunc_imports + f;
        cf->nparams = ft->nparams;
        cf->nlocals = wf->nlocals;
        cf->nresults = ft->nresults;
        cf->body_offset = (uint32_t)wf->code_offset;
        if ((uint64_t)ft->nparams + wf->nlocals > (1u << 24)) {
            snprintf(err->msg, sizeof err->msg, "function %u at byte 0x%zx: too many locals (%u) for the engine",
                     cf->func_index, wf->code_offset, wf->nlocals);
            code_free(code);
            return -1;
        }
        cf->lazy[0].h = wasm_handlers.translate;
        cf->lazy[1].ptr = cf;
        cf->entry = cf->lazy;
    }
    m->code = code;
    m->code_free = code_free;
    return 0;
}
