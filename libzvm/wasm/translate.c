/*
 * translate.c — wasm function bodies → register/slot code (exec.h), once, at load.
 *
 * One pass per function over a VALID body (the validator is the security boundary), keeping a
 * compile-time image of the operand stack.  An entry of that image says where the value lives:
 *   - in its canonical slot: operand-stack height h lives in slot temp_base + h;
 *   - in a local's slot (local.get pushed nothing at run time: the local IS the operand);
 *   - as a constant (i32.const pushed nothing either: the constant becomes an immediate).
 * Instructions read their operands wherever they are and write their result to the canonical
 * slot of its height; a following local.set retargets that write to the local instead.
 * Lazy entries are made canonical ("materialised") only when they must be: before a write to
 * the local they name, at block boundaries and branches (where control flow merges and every
 * path must leave values in the same place), and as call arguments (which must be contiguous).
 *
 * With uniform 64-bit slots the translator needs no types, only heights and arities.  Code after
 * br, br_table, return and unreachable is skipped up to the matching else/end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/exec.h"

/* V_ADDR is a deferred i32.add that computes a memory address: x + k, x + y or x + (y << shift)
 * (form A_SI, A_SS, A_IDX; x in slot, y a local).  A load or store that consumes it does the
 * arithmetic itself; anything else makes it an instruction (materialize).  x is a local or the
 * entry's own canonical slot, y always a local: nothing else can change them meanwhile. */
enum { V_SLOT, V_CONST, V_ADDR };
enum { A_SI, A_SS, A_IDX, A_IDXK };     /* A_IDXK: x + k + (y << shift), y possibly a temporary */
struct val {
    uint8_t kind;
    uint32_t slot;                       /* V_SLOT; x of V_ADDR */
    uint64_t k;                          /* V_CONST; k of A_SI */
    uint32_t y;                          /* A_SS, A_IDX */
    uint8_t form, shift;                 /* V_ADDR */
    /* The instruction that computed this entry into its canonical slot (first cell, or -1) and
     * its opcode.  Fusions may rewrite that instruction (retarget its write, merge it into a
     * branch or a load) only while it is still the last one emitted AND this entry is still on
     * top: the tag lives on the entry, so a drop, a select or a block end that pops the entry
     * takes the permission with it (the bug of issue 12: a dropped value's producer was
     * retargeted onto the value below it). */
    int32_t producer;
    uint32_t producer_op;                /* opcode, 256 + n for 0xFC n */
    int32_t shl;                         /* i32.add only: the i32.shl (by a constant) that computed
                                            one of its operands, emitted just before it, or -1 */
};

enum { C_FUNC, C_BLOCK, C_LOOP, C_IF, C_ELSE };
struct ctrl {
    uint8_t kind;
    bool dead;                           /* the rest of this block is unreachable */
    uint32_t height;                     /* operand height below the block's parameters */
    uint32_t nparams, nresults;
    uint32_t start;                      /* loop: the cell its branches go to */
    int32_t patches;                     /* forward branches to the end: list in tr.patches */
    int32_t else_patch;                  /* if: the branch to the else arm */
};

struct patch {
    uint32_t cell;                       /* the cell holding the distance */
    uint8_t half;                        /* which 32-bit half */
    uint32_t base;                       /* the branch instruction's first cell */
    int32_t next;
};

struct tr {
    const wasm_module *m;
    struct code *code;
    cell *cells;
    size_t ncells, cap;
    struct code_pos *pos;
    size_t npos, poscap;
    struct val *stack;
    uint32_t sp, max_sp;
    size_t stack_cap;
    struct ctrl *ctrls;
    uint32_t nctrl;
    size_t ctrl_cap;
    struct patch *patches;
    uint32_t npatch;
    size_t patch_cap;
    uint32_t temp_base;                  /* slot of operand height 0 */
    uint32_t nresults;                   /* of the function */
    uint32_t nlocal_refs;                /* stack entries naming a local */
    int32_t last;                        /* first cell of the last instruction emitted, -1 after a label */
    int32_t prev;                        /* the same for the instruction just before it */
    uint32_t offset;                     /* file offset of the instruction being translated */
    const uint8_t *p, *end, *code_start;
    size_t code_offset;
    bool oom;
    cell dummy[4];                       /* where writes go once memory ran out (the result is discarded) */
};

/* ---- reading immediates (the body is valid: no bounds errors are possible but we still stop at end) ---- */

static uint64_t rd_uleb(struct tr *t)
{
    uint64_t v = 0;
    unsigned shift = 0;
    while (t->p < t->end) {
        uint8_t b = *t->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static int64_t rd_sleb(struct tr *t)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    while (t->p < t->end) {
        b = *t->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

static uint32_t rd_u32(struct tr *t) { return (uint32_t)rd_uleb(t); }
static uint8_t rd_byte(struct tr *t) { return t->p < t->end ? *t->p++ : 0x0b; }

static uint64_t rd_fixed(struct tr *t, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n && t->p < t->end; i++)
        v |= (uint64_t)*t->p++ << (8 * i);
    return v;
}

/* A block type: empty, one value type, or a type index (s33). */
static void rd_blocktype(struct tr *t, uint32_t *np, uint32_t *nr)
{
    uint8_t b = t->p < t->end ? *t->p : 0x40;
    if (b == 0x40) { t->p++; *np = 0; *nr = 0; return; }
    if (b == ZVM_I32 || b == ZVM_I64 || b == ZVM_F32 || b == ZVM_F64 || b == ZVM_V128 ||
        b == ZVM_FUNCREF || b == ZVM_EXTERNREF) { t->p++; *np = 0; *nr = 1; return; }
    int64_t idx = rd_sleb(t);
    const zvm_functype *ft = &t->m->types[idx];
    *np = ft->nparams;
    *nr = ft->nresults;
}

/* The immediate kinds of opcodes.def, to skip unreachable code. */
enum imm { IMM_NONE, IMM_BLOCKTYPE, IMM_LABEL, IMM_BR_TABLE, IMM_FUNC, IMM_CALL_INDIRECT, IMM_LOCAL,
    IMM_GLOBAL, IMM_TABLE, IMM_MEMARG, IMM_MEMORY, IMM_I32, IMM_I64, IMM_F32, IMM_F64, IMM_REFTYPE,
    IMM_SELECT_T, IMM_DATA, IMM_ELEM, IMM_MEMORY_INIT, IMM_MEMORY_COPY, IMM_TABLE_INIT, IMM_TABLE_COPY };

static const uint8_t IMM_OF[256 + 32] = {
#define OP(code, ident, text, imm, p1, p2, p3, r) [code] = IMM_##imm,
#define OP_FC(code, ident, text, imm, p1, p2, p3, r) [256 + (code)] = IMM_##imm,
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
};

static void skip_imm(struct tr *t, enum imm k)
{
    uint32_t n;
    switch (k) {
    case IMM_NONE: break;
    case IMM_BLOCKTYPE: { uint32_t a, b; rd_blocktype(t, &a, &b); break; }
    case IMM_BR_TABLE: n = rd_u32(t); for (uint32_t i = 0; i <= n; i++) rd_uleb(t); break;
    case IMM_CALL_INDIRECT: case IMM_MEMARG: case IMM_TABLE_INIT: case IMM_TABLE_COPY:
        rd_uleb(t); rd_uleb(t); break;
    case IMM_F32: rd_fixed(t, 4); break;
    case IMM_F64: rd_fixed(t, 8); break;
    case IMM_REFTYPE: rd_byte(t); break;
    case IMM_SELECT_T: n = rd_u32(t); for (uint32_t i = 0; i < n; i++) rd_byte(t); break;
    case IMM_MEMORY_INIT: rd_uleb(t); rd_byte(t); break;
    case IMM_MEMORY_COPY: rd_byte(t); rd_byte(t); break;
    default: rd_uleb(t); break;      /* one LEB: label, func, local, global, table, memory, i32, i64, data, elem */
    }
}

/* Skips unreachable code up to (not including) the else or end that closes the current block. */
static void skip_dead(struct tr *t)
{
    uint32_t depth = 0;
    while (t->p < t->end) {
        uint8_t op = *t->p;
        if ((op == 0x05 && depth == 0) || (op == 0x0b && depth == 0))
            return;
        t->p++;
        if (op == 0x02 || op == 0x03 || op == 0x04)
            depth++;
        else if (op == 0x0b)
            depth--;
        if (op == 0xfc) {
            uint32_t sub = rd_u32(t);
            skip_imm(t, sub < 32 ? IMM_OF[256 + sub] : IMM_NONE);
        } else {
            skip_imm(t, IMM_OF[op]);
        }
    }
}

/* ---- emitting ---- */

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* Appends an instruction of n cells (zeroed) and returns the index of its first cell. */
static uint32_t emit(struct tr *t, handler h, unsigned n)
{
    if (t->oom || !grow((void **)&t->cells, &t->cap, t->ncells + n, sizeof(cell)) ||
        !grow((void **)&t->pos, &t->poscap, t->npos + 1, sizeof(struct code_pos))) {
        t->oom = true;
        return 0;
    }
    uint32_t first = (uint32_t)t->ncells;
    t->prev = t->last;
    t->last = (int32_t)first;
    memset(&t->cells[first], 0, n * sizeof(cell));
    t->cells[first].h = h;
    t->ncells += n;
    t->pos[t->npos++] = (struct code_pos){ first, t->offset };
    return first;
}

/* The cell to write operand i into (a scratch cell once out of memory: translation fails anyway). */
static cell *at(struct tr *t, size_t i)
{
    return t->oom ? t->dummy : &t->cells[i];
}

#define BYTES(slot) ((uint32_t)(slot) * 8u)
#define CANON(t, h) ((t)->temp_base + (h))

static void emit_copy(struct tr *t, uint32_t dst, uint32_t src)
{
    uint32_t i = emit(t, H.copy, 2);
    at(t, i + 1)->u32[0] = BYTES(dst);
    at(t, i + 1)->u32[1] = BYTES(src);
}

static void emit_const(struct tr *t, uint32_t dst, uint64_t k)
{
    if (k >> 32 == 0) {
        uint32_t i = emit(t, H.const32, 2);
        at(t, i + 1)->u32[0] = BYTES(dst);
        at(t, i + 1)->u32[1] = (uint32_t)k;
    } else {
        uint32_t i = emit(t, H.const64, 3);
        at(t, i + 1)->u32[0] = BYTES(dst);
        at(t, i + 2)->u64 = k;
    }
}

/* Moves value v into slot dst (if it is not there already). */
static void emit_move(struct tr *t, uint32_t dst, const struct val *v)
{
    if (v->kind == V_CONST) {
        emit_const(t, dst, v->k);
    } else if (v->kind == V_ADDR) {
        handler h = v->form == A_SI ? OPS[0x6a].si : v->form == A_SS ? OPS[0x6a].ss : H.lea;
        uint32_t i = emit(t, h, v->form >= A_IDX ? 4 : 3);
        at(t, i + 1)->u32[0] = BYTES(dst);
        at(t, i + 1)->u32[1] = BYTES(v->slot);
        if (v->form == A_SI)
            at(t, i + 2)->u64 = (uint32_t)v->k;
        else
            at(t, i + 2)->u32[0] = BYTES(v->y);
        if (v->form >= A_IDX)
            at(t, i + 3)->u32[0] = v->shift;
        if (v->form == A_IDXK) {                    /* then + k, in place */
            uint32_t j = emit(t, OPS[0x6a].si, 3);
            at(t, j + 1)->u32[0] = BYTES(dst);
            at(t, j + 1)->u32[1] = BYTES(dst);
            at(t, j + 2)->u64 = (uint32_t)v->k;
        }
    } else if (v->slot != dst) {
        emit_copy(t, dst, v->slot);
    }
}

/* Forgets the producers: at labels (control flow merges there, so no instruction before them
 * may be rewritten), and when instructions were taken back. */
static void clear_last(struct tr *t)
{
    t->last = -1;
    t->prev = -1;
}

/* Records that the instruction at cell i computed the top entry (just pushed) into its slot. */
static void set_last(struct tr *t, uint32_t i, uint32_t op)
{
    struct val *v = &t->stack[t->sp - 1];
    v->producer = (int32_t)i;
    v->producer_op = op;
}

/* The top entry, if the instruction that computed it may still be rewritten: it is the last
 * instruction emitted, and the entry sits in its canonical slot.  NULL otherwise. */
static const struct val *top_with_producer(const struct tr *t)
{
    if (t->oom || t->sp == 0)
        return NULL;
    const struct val *v = &t->stack[t->sp - 1];
    if (v->kind != V_SLOT || v->slot != CANON(t, t->sp - 1) || v->producer < 0 || v->producer != t->last)
        return NULL;
    return v;
}

/* ---- the operand stack image ---- */

static bool is_local_ref(const struct tr *t, const struct val *v)
{
    if (v->kind == V_ADDR)
        return v->slot < t->temp_base || (v->form != A_SI && v->y < t->temp_base);
    return v->kind == V_SLOT && v->slot < t->temp_base;
}

/* Does the value read a slot below `limit`? */
static bool reads_below(const struct val *v, uint32_t limit)
{
    if (v->kind == V_ADDR)
        return v->slot < limit || (v->form != A_SI && v->y < limit);
    return v->kind == V_SLOT && v->slot < limit;
}

/* Does the value read local `slot`? */
static bool names_local(const struct val *v, uint32_t slot)
{
    if (v->kind == V_ADDR)
        return v->slot == slot || (v->form != A_SI && v->y == slot);
    return v->kind == V_SLOT && v->slot == slot;
}

static void push_canon(struct tr *t)
{
    if (!grow((void **)&t->stack, &t->stack_cap, t->sp + 1, sizeof(struct val))) {
        t->oom = true;
        return;
    }
    t->stack[t->sp] = (struct val){ .kind = V_SLOT, .slot = CANON(t, t->sp), .producer = -1, .shl = -1 };
    t->sp++;
    if (t->sp > t->max_sp)
        t->max_sp = t->sp;
}

static void push_slot(struct tr *t, uint32_t slot)
{
    push_canon(t);
    if (t->oom)
        return;
    t->stack[t->sp - 1].slot = slot;
    if (slot < t->temp_base)
        t->nlocal_refs++;
}

static void push_const(struct tr *t, uint64_t k)
{
    push_canon(t);
    if (t->oom)
        return;
    t->stack[t->sp - 1] = (struct val){ .kind = V_CONST, .k = k, .producer = -1, .shl = -1 };
}

static struct val pop(struct tr *t)
{
    struct val v = t->stack[--t->sp];
    if (is_local_ref(t, &v))
        t->nlocal_refs--;
    return v;
}

static void truncate_stack(struct tr *t, uint32_t h)
{
    while (t->sp > h)
        pop(t);
}

/* Makes stack entry i live in its canonical slot. */
static void materialize(struct tr *t, uint32_t i)
{
    struct val *v = &t->stack[i];
    uint32_t canon = CANON(t, i);
    if (v->kind == V_SLOT && v->slot == canon)
        return;
    struct val old = *v;
    if (is_local_ref(t, &old))
        t->nlocal_refs--;
    *v = (struct val){ .kind = V_SLOT, .slot = canon, .producer = -1, .shl = -1 };
    emit_move(t, canon, &old);
}

/* Entry i must be a slot (a constant or a deferred address goes to its canonical slot). */
static uint32_t need_slot(struct tr *t, uint32_t i)
{
    if (t->stack[i].kind != V_SLOT)
        materialize(t, i);
    return t->stack[i].slot;
}

/* Before a write to local `slot`: entries that name it take their value now. */
static void protect_local(struct tr *t, uint32_t slot, uint32_t below)
{
    if (t->nlocal_refs == 0)
        return;
    for (uint32_t i = 0; i < below; i++)
        if (names_local(&t->stack[i], slot))
            materialize(t, i);
}

/* At a block entry: no entry may name a local (the block may write it on one path only), and
 * the block's parameters sit in their canonical slots (every path into the block agrees). */
static void settle_for_block(struct tr *t, uint32_t nparams)
{
    if (t->nlocal_refs)
        for (uint32_t i = 0; i < t->sp; i++)
            if (is_local_ref(t, &t->stack[i]))
                materialize(t, i);
    for (uint32_t i = t->sp - nparams; i < t->sp; i++)
        materialize(t, i);
}

static bool settled_for_block(const struct tr *t, uint32_t nparams)
{
    if (t->nlocal_refs)
        return false;
    for (uint32_t i = t->sp - nparams; i < t->sp; i++)
        if (t->stack[i].kind != V_SLOT || t->stack[i].slot != CANON(t, i))
            return false;
    return true;
}

/* ---- branches ---- */

static void add_patch(struct tr *t, int32_t *list, uint32_t cell_index, uint8_t half, uint32_t base)
{
    if (!grow((void **)&t->patches, &t->patch_cap, t->npatch + 1, sizeof(struct patch))) {
        t->oom = true;
        return;
    }
    t->patches[t->npatch] = (struct patch){ cell_index, half, base, *list };
    *list = (int32_t)t->npatch++;
}

static void set_rel(struct tr *t, uint32_t cell_index, uint8_t half, uint32_t base, uint32_t target)
{
    if (t->oom)
        return;
    at(t, cell_index)->i32[half] = (int32_t)(target - base);
}

static void resolve_patches(struct tr *t, int32_t list, uint32_t target)
{
    for (int32_t i = list; i >= 0; i = t->patches[i].next)
        set_rel(t, t->patches[i].cell, t->patches[i].half, t->patches[i].base, target);
}

static uint32_t label_arity(const struct ctrl *c)
{
    return c->kind == C_LOOP ? c->nparams : c->nresults;
}

/* Do the top n values already sit where label c wants them? */
static bool in_place(const struct tr *t, const struct ctrl *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct val *v = &t->stack[t->sp - n + i];
        if (v->kind != V_SLOT || v->slot != CANON(t, c->height + i))
            return false;
    }
    return true;
}

/* Copies the top n values to label c's result slots.  Ascending order is safe: a source is
 * never below its destination (sources are at or above their canonical height). */
static void move_to_label(struct tr *t, const struct ctrl *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        emit_move(t, CANON(t, c->height + i), &t->stack[t->sp - n + i]);
}

/* The results of the function go to the frame's first slots; then ret. */
static void emit_return(struct tr *t)
{
    uint32_t n = t->nresults;
    /* Result i is written to slot i after results 0..i-1: a value reading a slot below i would
     * see it overwritten, so it goes to its entry's canonical slot first.  The stack image is left alone (this may be one arm of
     * a br_if; the other arm still sees the local). */
    for (uint32_t i = 0; i < n; i++)
        if (reads_below(&t->stack[t->sp - n + i], i))
            emit_move(t, CANON(t, t->sp - n + i), &t->stack[t->sp - n + i]);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = t->sp - n + i;
        struct val v = t->stack[e];
        if (reads_below(&v, i))
            v = (struct val){ .kind = V_SLOT, .slot = CANON(t, e) };
        emit_move(t, i, &v);
    }
    emit(t, H.ret, 1);
}

/* An unconditional branch to label depth l (values on top of the stack). */
static void emit_br(struct tr *t, uint32_t l)
{
    struct ctrl *c = &t->ctrls[t->nctrl - 1 - l];
    if (c->kind == C_FUNC) {
        emit_return(t);
        return;
    }
    move_to_label(t, c, label_arity(c));
    if (c->kind == C_LOOP) {
        uint32_t i = emit(t, H.br_loop, 2);
        set_rel(t, i + 1, 0, i, c->start);
    } else {
        uint32_t i = emit(t, H.br, 2);
        add_patch(t, &c->patches, i + 1, 0, i);
    }
}

/* Pops a condition and emits a branch taken when it is true (negate: when false), fused with
 * the comparison that produced it when it can.  Returns where the distance goes via *cell/half/base. */
static void emit_cond_branch(struct tr *t, bool negate, uint32_t *cell_out, uint8_t *half_out, uint32_t *base_out)
{
    const struct val *cond = top_with_producer(t);
    if (cond) {
        uint32_t li = (uint32_t)cond->producer, op = cond->producer_op;
        const cell *old = &t->cells[li];
        handler fused = NULL;
        uint32_t a = 0;
        uint64_t b = 0;
        bool imm = false;
        if (op == 0x45 || op == 0x50) {              /* eqz x  =  x == 0 */
            const struct br_handlers *bh = &BR_OPS[op == 0x45 ? 0x46 : 0x51];
            fused = negate ? bh->brn_si : bh->br_si;
            a = old[1].u32[1];
            imm = true;
        } else if (op < 256 && BR_OPS[op].br_ss) {
            imm = old[0].h == OPS[op].si;
            fused = imm ? (negate ? BR_OPS[op].brn_si : BR_OPS[op].br_si)
                        : (negate ? BR_OPS[op].brn_ss : BR_OPS[op].br_ss);
            a = old[1].u32[1];
            b = imm ? old[2].u64 : old[2].u32[0];
        }
        if (fused) {
            uint32_t offset = t->offset;
            t->offset = t->pos[t->npos - 1].offset;  /* a fault there still names the comparison */
            t->ncells = li;
            t->npos--;
            clear_last(t);
            pop(t);
            uint32_t i = emit(t, fused, 3);
            t->offset = offset;
            at(t, i + 1)->u32[0] = a;
            if (imm)
                at(t, i + 2)->u64 = b;
            else
                at(t, i + 2)->u32[0] = (uint32_t)b;
            *cell_out = i + 1; *half_out = 1; *base_out = i;
            return;
        }
    }
    uint32_t slot = need_slot(t, t->sp - 1);
    pop(t);
    uint32_t i = emit(t, negate ? H.br_unless : H.br_if, 2);
    at(t, i + 1)->u32[0] = BYTES(slot);
    *cell_out = i + 1; *half_out = 1; *base_out = i;
}

/* A load whose address the previous instruction(s) computed: i32.add (slot or immediate), or
 * i32.shl by a constant then i32.add (an array element).  Those instructions are taken back and
 * one fused load does the arithmetic (interp.c LOAD).  Only temporaries they wrote disappear:
 * the results consumed by the load and nothing else. */
static bool fuse_load(struct tr *t, uint32_t op, uint32_t offset)
{
    const struct val *addr = top_with_producer(t);
    if (!addr || addr->producer_op != 0x6a)
        return false;
    uint32_t top = CANON(t, t->sp - 1);
    const cell *add = &t->cells[addr->producer];
    if (add[1].u32[0] != BYTES(top))
        return false;
    uint32_t x = add[1].u32[1], y = 0, shift = 0;
    uint32_t cut = (uint32_t)t->last, dropped = 1;
    handler h;
    if (add[0].h == OPS[0x6a].si) {
        h = OPS[op].load_add_si;
        y = (uint32_t)add[2].u64;
    } else {
        h = OPS[op].load_add_ss;
        y = add[2].u32[0];
        const cell *shl = addr->shl >= 0 && addr->shl == t->prev ? &t->cells[t->prev] : NULL;
        if (shl && shl[0].h == OPS[0x74].si && shl[1].u32[0] >= BYTES(t->temp_base) &&
            (shl[1].u32[0] == y || shl[1].u32[0] == x)) {
            if (shl[1].u32[0] == x)
                x = y;
            y = shl[1].u32[1];
            shift = (uint32_t)shl[2].u64 & 31;
            h = OPS[op].load_idx;
            cut = (uint32_t)t->prev;
            dropped = 2;
        }
    }
    pop(t);
    t->ncells = cut;
    t->npos -= dropped;
    clear_last(t);
    uint32_t i = emit(t, h, dropped == 2 ? 4 : 3);
    at(t, i + 1)->u32[0] = BYTES(top);
    at(t, i + 1)->u32[1] = x;
    at(t, i + 2)->u32[0] = y;
    at(t, i + 2)->u32[1] = offset;
    if (dropped == 2)
        at(t, i + 3)->u32[0] = shift;
    push_canon(t);
    set_last(t, i, op);
    return true;
}

/* The i32.shl by a constant that computed the top entry, if it may still be taken back. */
static const cell *shl_of_top(const struct tr *t)
{
    const struct val *v = top_with_producer(t);
    if (!v || v->producer_op != 0x74 || t->cells[v->producer].h != OPS[0x74].si)
        return NULL;
    return &t->cells[v->producer];
}

/* i32.add: deferred as an address (V_ADDR) when its operands allow; see struct val. */
static bool defer_add(struct tr *t)
{
    uint32_t h = t->sp - 2;
    struct val *a = &t->stack[h], *b = &t->stack[h + 1];
    const cell *shl = shl_of_top(t);           /* b = y << k, just computed */
    struct val v = { .kind = V_ADDR, .form = A_SI };
    bool a_slot = a->kind == V_SLOT && (a->slot < t->temp_base || a->slot == CANON(t, h));
    bool b_local = b->kind == V_SLOT && b->slot < t->temp_base;
    if (a_slot && b->kind == V_CONST) {
        v.slot = a->slot;
        v.k = (uint32_t)b->k;
    } else if (b_local && a->kind == V_CONST) {
        v.slot = b->slot;
        v.k = (uint32_t)a->k;
    } else if (a_slot && b_local) {
        v.slot = a->slot;
        v.y = b->slot;
        v.form = A_SS;
    } else if (a_slot && shl && shl[1].u32[1] < BYTES(t->temp_base)) {
        /* x + (local << k): the shift is taken back */
        v.slot = a->slot;
        v.y = shl[1].u32[1] / 8;
        v.shift = (uint8_t)(shl[2].u64 & 31);
        v.form = A_IDX;
        t->ncells = (size_t)t->last;
        t->npos--;
        clear_last(t);
    } else if (a->kind == V_ADDR && a->form == A_SI && t->p < t->end && *t->p >= 0x28 && *t->p <= 0x35 && shl) {
        /* (x + k) + (y << s) and the next instruction is the load that consumes it: y may be a
         * temporary, nothing is pushed before the load reads it */
        v.slot = a->slot;
        v.k = a->k;
        v.y = shl[1].u32[1] / 8;
        v.shift = (uint8_t)(shl[2].u64 & 31);
        v.form = A_IDXK;
        t->ncells = (size_t)t->last;
        t->npos--;
        clear_last(t);
    } else {
        return false;
    }
    pop(t);
    pop(t);
    push_canon(t);
    if (t->oom)
        return true;
    t->stack[h] = v;
    if (is_local_ref(t, &v))
        t->nlocal_refs++;
    return true;
}

/* A load or store through a deferred address: the fused handler for its form. */
static uint32_t emit_fused_access(struct tr *t, const struct op_handlers *oh, bool store, const struct val *addr,
                                  uint32_t first, uint32_t offset)
{
    handler h = addr->form == A_SI ? (store ? oh->store_add_si : oh->load_add_si)
              : addr->form == A_SS ? (store ? oh->store_add_ss : oh->load_add_ss)
              : addr->form == A_IDX ? (store ? oh->store_idx : oh->load_idx) : oh->load_idxk;
    uint32_t i = emit(t, h, addr->form >= A_IDX ? 4 : 3);
    at(t, i + 1)->u32[0] = store ? BYTES(addr->slot) : first;
    at(t, i + 1)->u32[1] = store ? first : BYTES(addr->slot);
    at(t, i + 2)->u32[0] = addr->form == A_SI ? (uint32_t)addr->k : BYTES(addr->y);
    at(t, i + 2)->u32[1] = offset;
    if (addr->form >= A_IDX)
        at(t, i + 3)->u32[0] = addr->shift;
    if (addr->form == A_IDXK)
        at(t, i + 3)->u32[1] = (uint32_t)addr->k;
    return i;
}

static void op_load(struct tr *t, uint32_t op, uint32_t offset)
{
    struct val addr = t->stack[t->sp - 1];
    if (addr.kind == V_ADDR) {
        pop(t);
        uint32_t i = emit_fused_access(t, &OPS[op], false, &addr, BYTES(CANON(t, t->sp)), offset);
        push_canon(t);
        set_last(t, i, op);
        return;
    }
    if (fuse_load(t, op, offset))
        return;
    uint32_t s = need_slot(t, t->sp - 1);
    pop(t);
    uint32_t i = emit(t, OPS[op].load, 3);
    at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
    at(t, i + 1)->u32[1] = BYTES(s);
    at(t, i + 2)->u64 = offset;
    push_canon(t);
    set_last(t, i, op);
}

static void op_store(struct tr *t, uint32_t op, uint32_t offset)
{
    struct val addr = t->stack[t->sp - 2], value = t->stack[t->sp - 1];
    if (addr.kind == V_ADDR && addr.form != A_IDXK) {
        uint32_t sv = need_slot(t, t->sp - 1);
        pop(t);
        pop(t);
        emit_fused_access(t, &OPS[op], true, &addr, BYTES(sv), offset);
        return;
    }
    uint32_t sa = need_slot(t, t->sp - 2);
    if (value.kind == V_CONST) {
        pop(t);
        pop(t);
        uint32_t i = emit(t, OPS[op].store_k, 4);
        at(t, i + 1)->u32[0] = BYTES(sa);
        at(t, i + 2)->u64 = offset;
        at(t, i + 3)->u64 = value.k;
        return;
    }
    uint32_t sv = need_slot(t, t->sp - 1);
    pop(t);
    pop(t);
    uint32_t i = emit(t, OPS[op].store, 3);
    at(t, i + 1)->u32[0] = BYTES(sa);
    at(t, i + 1)->u32[1] = BYTES(sv);
    at(t, i + 2)->u64 = offset;
}

static void push_ctrl(struct tr *t, uint8_t kind, uint32_t np, uint32_t nr)
{
    if (!grow((void **)&t->ctrls, &t->ctrl_cap, t->nctrl + 1, sizeof(struct ctrl))) {
        t->oom = true;
        return;
    }
    t->ctrls[t->nctrl++] = (struct ctrl){ kind, false, t->sp - np, np, nr, (uint32_t)t->ncells, -1, -1 };
}

/* ---- one function ---- */

/* Before an i32.add of two slots: the i32.shl by a constant, emitted just before, that computed
 * one of its operands into a temporary (a load through the sum may take both back), or -1. */
static int32_t shl_operand(const struct tr *t)
{
    for (uint32_t e = t->sp - 2; e < t->sp; e++) {
        const struct val *v = &t->stack[e];
        if (v->kind == V_SLOT && v->slot == CANON(t, e) && v->producer >= 0 && v->producer == t->last &&
            v->producer_op == 0x74 && t->cells[v->producer].h == OPS[0x74].si)
            return v->producer;
    }
    return -1;
}

static void op_binary(struct tr *t, uint32_t op)
{
    const struct op_handlers *oh = &OPS[op];
    struct val *a = &t->stack[t->sp - 2], *b = &t->stack[t->sp - 1];
    bool commutative = (op >= 0x46 && op <= 0x47) || (op >= 0x51 && op <= 0x52) || op == 0x6a ||
                       op == 0x6c || (op >= 0x71 && op <= 0x73) || op == 0x7c || op == 0x7e ||
                       (op >= 0x83 && op <= 0x85);
    uint32_t i, sa;
    int32_t shl = -1;
    if (b->kind == V_CONST && a->kind == V_SLOT) {
        i = emit(t, oh->si, 3);
        sa = a->slot;
        at(t, i + 2)->u64 = b->k;
    } else if (commutative && a->kind == V_CONST && b->kind == V_SLOT) {
        i = emit(t, oh->si, 3);
        sa = b->slot;
        at(t, i + 2)->u64 = a->k;
    } else {
        sa = need_slot(t, t->sp - 2);
        uint32_t sb = need_slot(t, t->sp - 1);
        if (op == 0x6a)
            shl = shl_operand(t);
        i = emit(t, oh->ss, 3);
        at(t, i + 2)->u32[0] = BYTES(sb);
    }
    pop(t);
    pop(t);
    at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
    at(t, i + 1)->u32[1] = BYTES(sa);
    push_canon(t);
    set_last(t, i, op);
    if (!t->oom)
        t->stack[t->sp - 1].shl = shl;
}

static void op_unary(struct tr *t, handler h, uint32_t op)
{
    uint32_t sa = need_slot(t, t->sp - 1);
    pop(t);
    uint32_t i = emit(t, h, 2);
    at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
    at(t, i + 1)->u32[1] = BYTES(sa);
    push_canon(t);
    set_last(t, i, op);
}

/* local.set / local.tee */
static void op_local_set(struct tr *t, uint32_t local, bool tee)
{
    struct val v = t->stack[t->sp - 1];
    bool others = false;
    if (t->nlocal_refs)
        for (uint32_t i = 0; i + 1 < t->sp; i++)
            if (names_local(&t->stack[i], local))
                others = true;
    bool producer = top_with_producer(t) && t->ncells - (size_t)t->last <= 8;
    if (producer && others) {
        /* Entries below still read the old value: hold the producer back, let them take the
         * old value first, then put it back.  It reads only its operands (locals, or temps
         * above the entries being materialised), so the order change is invisible. */
        cell held[8];
        size_t len = t->ncells - (size_t)t->last;
        memcpy(held, &t->cells[t->last], len * sizeof(cell));
        uint32_t offset = t->offset, held_offset = t->pos[t->npos - 1].offset;
        t->ncells = (size_t)t->last;
        t->npos--;
        clear_last(t);
        protect_local(t, local, t->sp - 1);
        t->offset = held_offset;
        uint32_t i = emit(t, held[0].h, (unsigned)len);
        t->offset = offset;
        for (size_t k = 1; k < len; k++)
            *at(t, i + k) = held[k];
        others = false;
    }
    if (!others && producer) {
        at(t, t->last + 1)->u32[0] = BYTES(local);   /* the producer writes the local directly */
        clear_last(t);
    } else {
        protect_local(t, local, t->sp - 1);
        v = t->stack[t->sp - 1];
        emit_move(t, local, &v);
    }
    pop(t);
    if (tee)
        push_slot(t, local);
}

static void op_call(struct tr *t, uint32_t f)
{
    const zvm_functype *ft = wasm_func_type(t->m, f);
    uint32_t n = ft->nparams;
    for (uint32_t i = t->sp - n; i < t->sp; i++)
        materialize(t, i);
    uint32_t frame = BYTES(CANON(t, t->sp - n));
    if (f < t->m->nfunc_imports) {
        uint32_t i = emit(t, H.call_import, 2);
        at(t, i + 1)->u32[0] = f;
        at(t, i + 1)->u32[1] = frame;
    } else {
        uint32_t i = emit(t, H.call, 3);
        at(t, i + 1)->ptr = &t->code->funcs[f - t->m->nfunc_imports];
        at(t, i + 2)->u32[0] = frame;
    }
    truncate_stack(t, t->sp - n);
    for (uint32_t i = 0; i < ft->nresults; i++)
        push_canon(t);
}

static void op_call_indirect(struct tr *t, uint32_t type, uint32_t table)
{
    const zvm_functype *ft = &t->m->types[type];
    uint32_t n = ft->nparams;
    uint32_t elem = need_slot(t, t->sp - 1);
    struct val ev = pop(t);
    for (uint32_t i = t->sp - n; i < t->sp; i++)
        materialize(t, i);
    /* the element index was above the arguments: materialising them cannot have moved it,
     * unless it named a local, which they do not write */
    (void)ev;
    uint32_t i = emit(t, H.call_indirect, 3);
    at(t, i + 1)->u32[0] = type;
    at(t, i + 1)->u32[1] = table;
    at(t, i + 2)->u32[0] = BYTES(elem);
    at(t, i + 2)->u32[1] = BYTES(CANON(t, t->sp - n));
    truncate_stack(t, t->sp - n);
    for (uint32_t k = 0; k < ft->nresults; k++)
        push_canon(t);
}

/* Generic: pops k operands (made slots), emits h with them packed as [h][s0|s1][s2|x]..., returns the index. */
static uint32_t op_operands(struct tr *t, handler h, unsigned ncells, unsigned k, uint32_t *slots)
{
    for (unsigned j = 0; j < k; j++)
        slots[j] = need_slot(t, t->sp - k + j);
    for (unsigned j = 0; j < k; j++)
        pop(t);
    uint32_t i = emit(t, h, ncells);
    for (unsigned j = 0; j < k; j++)
        at(t, i + 1 + j / 2)->u32[j % 2] = BYTES(slots[j]);
    return i;
}

static void op_block_end(struct tr *t)
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
            materialize(t, i);
    uint32_t here = (uint32_t)t->ncells;
    if (c->kind == C_IF)
        resolve_patches(t, c->else_patch, here);
    resolve_patches(t, c->patches, here);
    truncate_stack(t, c->height);
    uint32_t nr = c->nresults;
    t->nctrl--;
    for (uint32_t i = 0; i < nr; i++)
        push_canon(t);
    clear_last(t);
}

static void op_else(struct tr *t)
{
    struct ctrl *c = &t->ctrls[t->nctrl - 1];
    if (!c->dead) {
        for (uint32_t i = t->sp - c->nresults; i < t->sp; i++)
            materialize(t, i);
        uint32_t i = emit(t, H.br, 2);
        add_patch(t, &c->patches, i + 1, 0, i);
    }
    resolve_patches(t, c->else_patch, (uint32_t)t->ncells);
    c->else_patch = -1;
    truncate_stack(t, c->height);
    for (uint32_t i = 0; i < c->nparams; i++)
        push_canon(t);
    c->kind = C_ELSE;
    c->dead = false;
    clear_last(t);
}

static void op_br_table(struct tr *t)
{
    uint32_t n = rd_u32(t);
    uint32_t *labels = malloc((n + 1) * sizeof *labels);
    if (!labels) { t->oom = true; return; }
    for (uint32_t k = 0; k <= n; k++)
        labels[k] = rd_u32(t);
    uint32_t cond = need_slot(t, t->sp - 1);
    pop(t);
    uint32_t i = emit(t, H.br_table, 2 + n + 1);
    if (!t->oom) {
        at(t, i + 1)->u32[0] = BYTES(cond);
        at(t, i + 1)->u32[1] = n;
    }
    for (uint32_t k = 0; k <= n; k++) {
        struct ctrl *c = &t->ctrls[t->nctrl - 1 - labels[k]];
        uint32_t arity = label_arity(c);
        if (c->kind != C_FUNC && in_place(t, c, arity)) {
            if (c->kind == C_LOOP)
                set_rel(t, i + 2 + k, 0, i, c->start);
            else
                add_patch(t, &c->patches, i + 2 + k, 0, i);
        } else {                                    /* a stub moves the values, then branches */
            set_rel(t, i + 2 + k, 0, i, (uint32_t)t->ncells);
            emit_br(t, labels[k]);
        }
    }
    free(labels);
}

static void op_br_if(struct tr *t, uint32_t l)
{
    /* the condition is popped first; the values stay on the stack when not taken */
    struct ctrl *c = &t->ctrls[t->nctrl - 1 - l];
    uint32_t arity = label_arity(c);
    uint32_t cell_i, base;
    uint8_t half;
    /* in_place looks below the condition */
    t->sp--;
    bool direct = c->kind != C_FUNC && in_place(t, c, arity);
    t->sp++;
    if (direct) {
        emit_cond_branch(t, false, &cell_i, &half, &base);
        if (c->kind == C_LOOP)
            set_rel(t, cell_i, half, base, c->start);
        else
            add_patch(t, &c->patches, cell_i, half, base);
    } else {                                        /* if not cond skip; move; br */
        emit_cond_branch(t, true, &cell_i, &half, &base);
        emit_br(t, l);
        set_rel(t, cell_i, half, base, (uint32_t)t->ncells);
    }
    clear_last(t);
}

/* Declared locals start at zero (parameters arrive set).  Compilers often set a local first
 * thing anyway: a scan of the straight-line start of the body finds locals written before any
 * read, which need no zeroing.  The rest are zeroed in runs. */
static void zero_locals(struct tr *t, const struct code_func *cf)
{
    uint32_t n = cf->nlocals, np = cf->nparams;
    if (n == 0)
        return;
    uint8_t *state = calloc(n, 1);          /* 0 unknown, 1 written first, 2 read first */
    if (!state) {
        t->oom = true;
        return;
    }
    const uint8_t *saved = t->p;
    for (unsigned k = 0; k < 64 && t->p < t->end; k++) {
        uint32_t op = *t->p++;
        if (op == 0x20 || op == 0x21 || op == 0x22) {
            uint32_t l = rd_u32(t);
            if (l >= np && l - np < n && state[l - np] == 0)
                state[l - np] = op == 0x20 ? 2 : 1;
        } else if ((op >= 0x02 && op <= 0x11) || op == 0x00) {
            break;                               /* control flow: the straight line ends */
        } else if (op == 0xfc) {
            uint32_t sub = rd_u32(t);
            skip_imm(t, sub < 32 ? IMM_OF[256 + sub] : IMM_NONE);
        } else {
            skip_imm(t, IMM_OF[op]);
        }
    }
    t->p = saved;
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
                emit_const(t, np + i + j, 0);
        } else {
            uint32_t c = emit(t, H.zero_locals, 2);
            at(t, c + 1)->u32[0] = BYTES(np + i);
            at(t, c + 1)->u32[1] = run;
        }
        i += run;
    }
    free(state);
}

static void translate_body(struct tr *t, struct code_func *cf, const wasm_func *wf)
{
    t->p = wf->code;
    t->end = wf->code + wf->code_size;
    t->code_start = wf->code;
    t->code_offset = wf->code_offset;
    t->sp = t->max_sp = 0;
    t->nctrl = 0;
    t->npatch = 0;
    t->nlocal_refs = 0;
    clear_last(t);
    t->temp_base = cf->nparams + cf->nlocals;
    t->nresults = cf->nresults;
    t->offset = (uint32_t)wf->code_offset;
    push_ctrl(t, C_FUNC, 0, cf->nresults);
    cf->first_cell = (uint32_t)t->ncells;
    zero_locals(t, cf);

    while (t->nctrl > 0 && t->p < t->end && !t->oom) {
        t->offset = (uint32_t)(t->code_offset + (size_t)(t->p - t->code_start));
        uint32_t op = *t->p++;
        if (op == 0xfc)
            op = 256 + rd_u32(t);
        struct ctrl *top = &t->ctrls[t->nctrl - 1];
        uint32_t np, nr, a, b, i, s[3];
        switch (op) {
        case 0x00:
            emit(t, H.unreachable, 1);
            goto dead;
        case 0x01:
            break;
        case 0x02: case 0x03:
            rd_blocktype(t, &np, &nr);
            settle_for_block(t, np);
            clear_last(t);
            push_ctrl(t, op == 0x02 ? C_BLOCK : C_LOOP, np, nr);
            break;
        case 0x04: {
            rd_blocktype(t, &np, &nr);
            uint32_t cell_i, base;
            uint8_t half;
            t->sp--;                                /* the condition sits above the parameters */
            bool settled = settled_for_block(t, np);
            t->sp++;
            if (!settled) {
                need_slot(t, t->sp - 1);
                struct val cond = pop(t);
                settle_for_block(t, np);
                if (is_local_ref(t, &cond))
                    t->nlocal_refs++;
                t->stack[t->sp++] = cond;
            }
            emit_cond_branch(t, true, &cell_i, &half, &base);
            push_ctrl(t, C_IF, np, nr);
            if (!t->oom) {
                t->ctrls[t->nctrl - 1].else_patch = -1;
                add_patch(t, &t->ctrls[t->nctrl - 1].else_patch, cell_i, half, base);
            }
            clear_last(t);
            break;
        }
        case 0x05:
            op_else(t);
            break;
        case 0x0b:
            op_block_end(t);
            break;
        case 0x0c:
            emit_br(t, rd_u32(t));
            goto dead;
        case 0x0d:
            op_br_if(t, rd_u32(t));
            break;
        case 0x0e:
            op_br_table(t);
            goto dead;
        case 0x0f:
            emit_return(t);
            goto dead;
        case 0x10:
            op_call(t, rd_u32(t));
            break;
        case 0x11:
            a = rd_u32(t);
            b = rd_u32(t);
            op_call_indirect(t, a, b);
            break;
        case 0x1a:
            pop(t);
            break;
        case 0x1c:
            a = rd_u32(t);
            for (uint32_t k = 0; k < a; k++)
                rd_byte(t);
            __attribute__((fallthrough));
        case 0x1b: {
            uint32_t cs = need_slot(t, t->sp - 1);
            uint32_t sb = need_slot(t, t->sp - 2);
            uint32_t sa = need_slot(t, t->sp - 3);
            pop(t); pop(t); pop(t);
            i = emit(t, H.select, 3);
            at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
            at(t, i + 1)->u32[1] = BYTES(cs);
            at(t, i + 2)->u32[0] = BYTES(sa);
            at(t, i + 2)->u32[1] = BYTES(sb);
            push_canon(t);
            set_last(t, i, op);
            break;
        }
        case 0x20:
            push_slot(t, rd_u32(t));
            break;
        case 0x21: case 0x22:
            op_local_set(t, rd_u32(t), op == 0x22);
            break;
        case 0x23:
            i = emit(t, H.global_get, 2);
            at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
            at(t, i + 1)->u32[1] = rd_u32(t);
            push_canon(t);
            set_last(t, i, op);
            break;
        case 0x24:
            a = need_slot(t, t->sp - 1);
            pop(t);
            i = emit(t, H.global_set, 2);
            at(t, i + 1)->u32[0] = BYTES(a);
            at(t, i + 1)->u32[1] = rd_u32(t);
            break;
        case 0x25:
            a = rd_u32(t);
            i = op_operands(t, H.table_get, 3, 1, s);
            at(t, i + 1)->u32[1] = BYTES(s[0]);
            at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
            at(t, i + 2)->u32[0] = a;
            push_canon(t);
            set_last(t, i, op);
            break;
        case 0x26:
            a = rd_u32(t);
            i = op_operands(t, H.table_set, 3, 2, s);
            at(t, i + 2)->u32[0] = a;
            break;
        case 0x28: case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: case 0x2f:
        case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35:
            rd_u32(t);
            op_load(t, op, rd_u32(t));
            break;
        case 0x36: case 0x37: case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c: case 0x3d: case 0x3e:
            rd_u32(t);
            op_store(t, op, rd_u32(t));
            break;
        case 0x3f:
            rd_u32(t);
            i = emit(t, H.memory_size, 2);
            at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
            push_canon(t);
            set_last(t, i, op);
            break;
        case 0x40:
            rd_u32(t);
            op_unary(t, H.memory_grow, op);
            break;
        case 0x41: push_const(t, (uint32_t)rd_sleb(t)); break;
        case 0x42: push_const(t, (uint64_t)rd_sleb(t)); break;
        case 0x43: push_const(t, rd_fixed(t, 4)); break;
        case 0x44: push_const(t, rd_fixed(t, 8)); break;
        case 0xd0: rd_byte(t); push_const(t, 0); break;
        case 0xd1: op_unary(t, H.i64_eqz, op); break;
        case 0xd2:
            i = emit(t, H.ref_func, 2);
            at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
            at(t, i + 1)->u32[1] = rd_u32(t);
            push_canon(t);
            set_last(t, i, op);
            break;
        case 256 + 0x08:                            /* memory.init seg 0 */
            a = rd_u32(t);
            rd_byte(t);
            i = op_operands(t, H.memory_init, 3, 3, s);
            at(t, i + 2)->u32[1] = a;
            break;
        case 256 + 0x09: case 256 + 0x0d:           /* data.drop, elem.drop */
            i = emit(t, op == 256 + 0x09 ? H.data_drop : H.elem_drop, 2);
            at(t, i + 1)->u32[0] = rd_u32(t);
            break;
        case 256 + 0x0a:
            rd_byte(t); rd_byte(t);
            op_operands(t, H.memory_copy, 3, 3, s);
            break;
        case 256 + 0x0b:
            rd_byte(t);
            op_operands(t, H.memory_fill, 3, 3, s);
            break;
        case 256 + 0x0c:                            /* table.init elem table */
            a = rd_u32(t);
            b = rd_u32(t);
            i = op_operands(t, H.table_init, 4, 3, s);
            at(t, i + 2)->u32[1] = a;
            at(t, i + 3)->u32[0] = b;
            break;
        case 256 + 0x0e:                            /* table.copy dst src */
            a = rd_u32(t);
            b = rd_u32(t);
            i = op_operands(t, H.table_copy, 4, 3, s);
            at(t, i + 3)->u32[0] = a;
            at(t, i + 3)->u32[1] = b;
            break;
        case 256 + 0x0f:                            /* table.grow: init n -> old */
            a = rd_u32(t);
            i = op_operands(t, H.table_grow, 3, 2, s);
            at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
            at(t, i + 1)->u32[1] = BYTES(s[0]);
            at(t, i + 2)->u32[0] = BYTES(s[1]);
            at(t, i + 2)->u32[1] = a;
            push_canon(t);
            set_last(t, i, op);
            break;
        case 256 + 0x10:
            i = emit(t, H.table_size, 2);
            at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
            at(t, i + 1)->u32[1] = rd_u32(t);
            push_canon(t);
            set_last(t, i, op);
            break;
        case 256 + 0x11:                            /* table.fill: i val n */
            a = rd_u32(t);
            i = op_operands(t, H.table_fill, 3, 3, s);
            at(t, i + 2)->u32[1] = a;
            break;
        case 0x6a:
            if (!defer_add(t))
                op_binary(t, op);
            break;
        default:
            if (op < 256 + 32 && OPS[op].unary)
                op_unary(t, OPS[op].unary, op);
            else if (op < 256 + 32 && OPS[op].ss)
                op_binary(t, op);
            else
                t->oom = true;                      /* cannot happen in a valid module */
            break;
        }
        continue;
    dead:
        top = &t->ctrls[t->nctrl - 1];
        top->dead = true;
        truncate_stack(t, top->height);
        skip_dead(t);
    }
    uint32_t slots = t->temp_base + t->max_sp;
    cf->frame_slots = slots > cf->nresults ? slots : cf->nresults;
}

void code_locate(const struct code *c, const cell *ip, uint32_t *func_index, uint32_t *offset)
{
    *func_index = UINT32_MAX;
    *offset = 0;
    if (!c || ip < c->cells || ip >= c->cells + c->ncells)
        return;
    uint32_t at = (uint32_t)(ip - c->cells);
    uint32_t lo = 0, hi = c->nfuncs;             /* last function starting at or before at */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (c->funcs[mid].first_cell <= at) lo = mid; else hi = mid;
    }
    if (c->nfuncs)
        *func_index = c->funcs[lo].func_index;
    size_t plo = 0, phi = c->npos;
    while (phi - plo > 1) {
        size_t mid = (plo + phi) / 2;
        if (c->pos[mid].cell <= at) plo = mid; else phi = mid;
    }
    if (c->npos)
        *offset = c->pos[plo].offset;
}

static void code_free(void *p)
{
    struct code *c = p;
    if (!c)
        return;
    free(c->cells);
    free(c->funcs);
    free(c->pos);
    free(c);
}

int translate_module(wasm_module *m, zvm_error *err)
{
    struct code *code = calloc(1, sizeof *code);
    uint32_t n = m->nfuncs - m->nfunc_imports;
    if (code)
        code->funcs = calloc(n ? n : 1, sizeof *code->funcs);
    if (!code || !code->funcs) {
        free(code);
        snprintf(err->msg, sizeof err->msg, "out of memory translating the module");
        return -1;
    }
    code->nfuncs = n;
    struct tr t = { .m = m, .code = code };
    size_t total = 0;
    for (uint32_t f = 0; f < n; f++)
        total += m->funcs[f].code_size;
    grow((void **)&t.cells, &t.cap, total + 16, sizeof(cell));
    grow((void **)&t.pos, &t.poscap, total / 2 + 16, sizeof(struct code_pos));
    for (uint32_t f = 0; f < n; f++)             /* calls name functions translated later */
        code->funcs[f].func_index = m->nfunc_imports + f;
    for (uint32_t f = 0; f < n && !t.oom; f++) {
        const wasm_func *wf = &m->funcs[f];
        const zvm_functype *ft = &m->types[wf->type_index];
        struct code_func *cf = &code->funcs[f];
        cf->func_index = m->nfunc_imports + f;
        cf->nparams = ft->nparams;
        cf->nlocals = wf->nlocals;
        cf->nresults = ft->nresults;
        if ((uint64_t)ft->nparams + wf->nlocals > (1u << 24)) {
            snprintf(err->msg, sizeof err->msg, "function %u at byte 0x%zx: too many locals (%u) for the engine",
                     cf->func_index, wf->code_offset, wf->nlocals);
            goto fail;
        }
        translate_body(&t, cf, wf);
#ifdef ZVM_CHECK_TRANSLATION
        if (!t.oom && code_verify_function(m, cf, t.cells + cf->first_cell, (uint32_t)(t.ncells - cf->first_cell),
                                           err->msg, sizeof err->msg) != 0)
            goto fail;
#endif
        if ((uint64_t)cf->frame_slots > (1u << 25) || t.ncells > (1u << 30)) {
            snprintf(err->msg, sizeof err->msg, "function %u at byte 0x%zx: too large for the engine",
                     cf->func_index, wf->code_offset);
            goto fail;
        }
    }
    if (t.oom) {
        snprintf(err->msg, sizeof err->msg, "out of memory translating the module");
        goto fail;
    }
    /* the buffers were sized for the worst case: give the rest back */
    cell *cells = realloc(t.cells, (t.ncells ? t.ncells : 1) * sizeof(cell));
    struct code_pos *pos = realloc(t.pos, (t.npos ? t.npos : 1) * sizeof(struct code_pos));
    if (cells)
        t.cells = cells;
    if (pos)
        t.pos = pos;
    code->cells = t.cells;
    code->ncells = t.ncells;
    code->pos = t.pos;
    code->npos = t.npos;
    for (uint32_t f = 0; f < n; f++)
        code->funcs[f].entry = code->cells + code->funcs[f].first_cell;
    free(t.stack);
    free(t.ctrls);
    free(t.patches);
    m->code = code;
    m->code_free = code_free;
    return 0;
fail:
    free(t.cells);
    free(t.pos);
    free(t.stack);
    free(t.ctrls);
    free(t.patches);
    free(code->funcs);
    free(code);
    return -1;
}
