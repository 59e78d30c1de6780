/*
 * translate_fuse.c — the superinstructions: where the translator rewrites an instruction it has
 * already emitted (moves its write to a local, merges it into the branch or the load that
 * consumes its result, or takes it back into a deferred address).  Each rewrite goes through
 * wasm_tr_top_with_producer(); docs/Interpreter.md ("Invariants") says why each is then sound.
 */
#include <string.h>

#include "wasm/translate.h"

/* The top entry, if the instruction that computed it may still be rewritten: the entry is on
 * top, in its canonical slot, and its producer is the last instruction emitted.  NULL otherwise. */
const struct val *wasm_tr_top_with_producer(const struct tr *t)
{
    if (t->oom || t->sp == 0)
        return NULL;
    const struct val *v = &t->stack[t->sp - 1];
    if (v->kind != V_SLOT || v->slot != CANON(t, t->sp - 1) || v->producer < 0 || v->producer != t->last)
        return NULL;
    return v;
}

/* Takes back the last instruction (the producer of the top entry) so a fused one replaces it;
 * the replacement keeps its file offset, so a fault there still names the original. */
static void take_back_last(struct tr *t, uint32_t first_cell, unsigned ninstr)
{
    t->ncells = first_cell;
    t->npos -= ninstr;
    wasm_tr_clear_last(t);
}

/* ---- compare and branch ---- */

/* The fused compare-and-branch for the comparison that produced the top entry, or NULL. */
static handler fused_branch(const struct tr *t, const struct val *cond, bool negate, uint32_t *a, uint64_t *b,
                            bool *imm)
{
    const cell *old = &t->cells[cond->producer];
    uint32_t op = cond->producer_op;
    if (op == 0x45 || op == 0x50) {                /* eqz x  =  x == 0 */
        const struct br_handlers *bh = &wasm_branch_handlers[op == 0x45 ? 0x46 : 0x51];
        *a = old[1].u32[1];
        *b = 0;
        *imm = true;
        return negate ? bh->brn_si : bh->br_si;
    }
    if (op >= 256 || !wasm_branch_handlers[op].br_ss)
        return NULL;
    *imm = old[0].h == wasm_op_handlers[op].si;
    *a = old[1].u32[1];
    *b = *imm ? old[2].u64 : old[2].u32[0];
    return *imm ? (negate ? wasm_branch_handlers[op].brn_si : wasm_branch_handlers[op].br_si)
                : (negate ? wasm_branch_handlers[op].brn_ss : wasm_branch_handlers[op].br_ss);
}

/* Pops a condition and emits a branch taken when it is true (negate: when false), fused with
 * the comparison that produced it when it can.  Returns where the distance goes. */
struct branch_site wasm_tr_emit_cond_branch(struct tr *t, bool negate)
{
    const struct val *cond = wasm_tr_top_with_producer(t);
    uint32_t a;
    uint64_t b;
    bool imm;
    handler fused = cond ? fused_branch(t, cond, negate, &a, &b, &imm) : NULL;
    if (fused) {
        uint32_t offset = t->offset;
        t->offset = t->pos[t->npos - 1].offset;
        take_back_last(t, (uint32_t)cond->producer, 1);
        wasm_tr_pop(t);
        uint32_t i = wasm_tr_emit(t, fused, 3);
        t->offset = offset;
        wasm_tr_at(t, i + 1)->u32[0] = a;
        if (imm)
            wasm_tr_at(t, i + 2)->u64 = b;
        else
            wasm_tr_at(t, i + 2)->u32[0] = (uint32_t)b;
        return (struct branch_site){ i + 1, i, 1 };
    }
    uint32_t slot = wasm_tr_pop_slot(t);
    uint32_t i = wasm_tr_emit(t, negate ? wasm_handlers.br_unless : wasm_handlers.br_if, 2);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(slot);
    return (struct branch_site){ i + 1, i, 1 };
}

/* ---- loads and stores through computed addresses ---- */

/* A load whose address the previous instruction(s) computed: i32.add (slot or immediate), or
 * i32.shl by a constant then i32.add (an array element).  Those instructions are taken back and
 * one fused load does the arithmetic (interp.c LOAD).  Only temporaries they wrote disappear:
 * the results consumed by the load and nothing else. */
bool wasm_tr_fuse_load(struct tr *t, uint32_t op, uint32_t offset)
{
    const struct val *addr = wasm_tr_top_with_producer(t);
    if (!addr || addr->producer_op != 0x6a)
        return false;
    uint32_t top = CANON(t, t->sp - 1);
    const cell *add = &t->cells[addr->producer];
    if (add[1].u32[0] != BYTES(top))
        return false;
    uint32_t x = add[1].u32[1], y = 0, shift = 0;
    uint32_t cut = (uint32_t)addr->producer, dropped = 1;
    handler h;
    if (add[0].h == wasm_op_handlers[0x6a].si) {
        h = wasm_op_handlers[op].load_add_si;
        y = (uint32_t)add[2].u64;
    } else {
        h = wasm_op_handlers[op].load_add_ss;
        y = add[2].u32[0];
        const cell *shl = addr->shl >= 0 && addr->shl == t->prev ? &t->cells[t->prev] : NULL;
        if (shl && shl[0].h == wasm_op_handlers[0x74].si && shl[1].u32[0] >= BYTES(t->temp_base) &&
            (shl[1].u32[0] == y || shl[1].u32[0] == x)) {
            if (shl[1].u32[0] == x)
                x = y;
            y = shl[1].u32[1];
            shift = (uint32_t)shl[2].u64 & 31;
            h = wasm_op_handlers[op].load_idx;
            cut = (uint32_t)t->prev;
            dropped = 2;
        }
    }
    wasm_tr_pop(t);
    take_back_last(t, cut, dropped);
    uint32_t i = wasm_tr_emit(t, h, dropped == 2 ? 4 : 3);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(top);
    wasm_tr_at(t, i + 1)->u32[1] = x;
    wasm_tr_at(t, i + 2)->u32[0] = y;
    wasm_tr_at(t, i + 2)->u32[1] = offset;
    if (dropped == 2)
        wasm_tr_at(t, i + 3)->u32[0] = shift;
    wasm_tr_push_canon(t);
    wasm_tr_set_producer(t, i, op);
    return true;
}

/* The i32.shl by a constant that computed the top entry, if it may still be taken back. */
static const cell *shl_of_top(const struct tr *t)
{
    const struct val *v = wasm_tr_top_with_producer(t);
    if (!v || v->producer_op != 0x74 || t->cells[v->producer].h != wasm_op_handlers[0x74].si)
        return NULL;
    return &t->cells[v->producer];
}

/* Before an i32.add of two slots: the i32.shl by a constant, emitted just before, that computed
 * one of its operands into a temporary (a load through the sum may take both back), or -1. */
int32_t wasm_tr_shl_operand(const struct tr *t)
{
    for (uint32_t e = t->sp - 2; e < t->sp; e++) {
        const struct val *v = &t->stack[e];
        if (v->kind == V_SLOT && v->slot == CANON(t, e) && v->producer >= 0 && v->producer == t->last &&
            v->producer_op == 0x74 && t->cells[v->producer].h == wasm_op_handlers[0x74].si)
            return v->producer;
    }
    return -1;
}

/* i32.add: deferred as an address (V_ADDR) when its operands allow: x is a local or the entry's
 * own canonical slot, y a local; nothing else can change them before the address is used. */
bool wasm_tr_defer_add(struct tr *t)
{
    uint32_t h = t->sp - 2;
    const struct val *a = &t->stack[h], *b = &t->stack[h + 1];
    const cell *shl = shl_of_top(t);             /* b = y << k, just computed */
    struct val v = { .kind = V_ADDR, .form = A_SI, .producer = -1, .shl = -1 };
    bool a_slot = a->kind == V_SLOT && (a->slot < t->temp_base || a->slot == CANON(t, h));
    bool b_local = b->kind == V_SLOT && b->slot < t->temp_base;
    bool load_next = t->r.pos < t->r.end && t->r.bytes[t->r.pos] >= 0x28 && t->r.bytes[t->r.pos] <= 0x35;
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
        v.slot = a->slot;                        /* x + (local << k): the shift is taken back */
        v.y = shl[1].u32[1] / 8;
        v.shift = (uint8_t)(shl[2].u64 & 31);
        v.form = A_IDX;
        take_back_last(t, (uint32_t)t->last, 1);
    } else if (a->kind == V_ADDR && a->form == A_SI && load_next && shl) {
        /* (x + k) + (y << s) and the next instruction is the load that consumes it: y may be a
         * temporary, nothing is pushed before the load reads it */
        v.slot = a->slot;
        v.k = a->k;
        v.y = shl[1].u32[1] / 8;
        v.shift = (uint8_t)(shl[2].u64 & 31);
        v.form = A_IDXK;
        take_back_last(t, (uint32_t)t->last, 1);
    } else {
        return false;
    }
    wasm_tr_pop(t);
    wasm_tr_pop(t);
    wasm_tr_push_entry(t, &v);
    return true;
}

/* A load or store through a deferred address: the fused handler for its form. */
uint32_t wasm_tr_emit_fused_access(struct tr *t, const struct op_handlers *oh, bool store, const struct val *addr,
                                   uint32_t first, uint32_t offset)
{
    handler h = addr->form == A_SI    ? (store ? oh->store_add_si : oh->load_add_si)
                : addr->form == A_SS  ? (store ? oh->store_add_ss : oh->load_add_ss)
                : addr->form == A_IDX ? (store ? oh->store_idx : oh->load_idx)
                                      : oh->load_idxk;
    uint32_t i = wasm_tr_emit(t, h, addr->form >= A_IDX ? 4 : 3);
    wasm_tr_at(t, i + 1)->u32[0] = store ? BYTES(addr->slot) : first;
    wasm_tr_at(t, i + 1)->u32[1] = store ? first : BYTES(addr->slot);
    wasm_tr_at(t, i + 2)->u32[0] = addr->form == A_SI ? (uint32_t)addr->k : BYTES(addr->y);
    wasm_tr_at(t, i + 2)->u32[1] = offset;
    if (addr->form >= A_IDX)
        wasm_tr_at(t, i + 3)->u32[0] = addr->shift;
    if (addr->form == A_IDXK)
        wasm_tr_at(t, i + 3)->u32[1] = (uint32_t)addr->k;
    return i;
}

/* ---- local.set / local.tee: the producer writes the local directly ---- */

static bool names_local_below_top(const struct tr *t, uint32_t local)
{
    if (t->nlocal_refs)
        for (uint32_t i = 0; i + 1 < t->sp; i++)
            if (wasm_tr_names_local(&t->stack[i], local))
                return true;
    return false;
}

/* Entries below still read the old value of the local: hold the producer back, let them take
 * the old value first, then put it back.  It reads only its operands (locals, or temporaries
 * above the entries being materialised), so the order change is invisible. */
static void hold_producer_back(struct tr *t, uint32_t local)
{
    cell held[8];
    size_t len = t->ncells - (size_t)t->last;
    memcpy(held, &t->cells[t->last], len * sizeof(cell));
    uint32_t offset = t->offset, held_offset = t->pos[t->npos - 1].offset;
    take_back_last(t, (uint32_t)t->last, 1);
    wasm_tr_protect_local(t, local, t->sp - 1);
    t->offset = held_offset;
    uint32_t i = wasm_tr_emit(t, held[0].h, (unsigned)len);
    t->offset = offset;
    for (size_t k = 1; k < len; k++)
        *wasm_tr_at(t, i + k) = held[k];
    wasm_tr_set_producer(t, i, t->stack[t->sp - 1].producer_op);
}

void wasm_tr_local_set(struct tr *t, uint32_t local, bool tee)
{
    bool others = names_local_below_top(t, local);
    bool producer = wasm_tr_top_with_producer(t) && t->ncells - (size_t)t->last <= 8;
    if (producer) {
        if (others)
            hold_producer_back(t, local);
        wasm_tr_at(t, (size_t)t->last + 1)->u32[0] = BYTES(local);   /* the producer writes the local */
        wasm_tr_clear_last(t);
    } else {
        wasm_tr_protect_local(t, local, t->sp - 1);
        struct val v = t->stack[t->sp - 1];
        wasm_tr_emit_move(t, local, &v);
    }
    wasm_tr_pop(t);
    if (tee)
        wasm_tr_push_slot(t, local);
}
