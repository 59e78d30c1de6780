/*
 * translate_stack.c — the translator's two data structures: the cells it emits, and its
 * compile-time image of the operand stack (translate.h says what an entry can be).
 */
#include <stdlib.h>
#include <string.h>

#include "wasm/translate.h"

/* ---- emitting ---- */

bool wasm_tr_grow(void **p, size_t *cap, size_t need, size_t size)
{
    return wasm_grow(p, cap, need, size);
}

/* Appends an instruction of n cells (zeroed) and returns the index of its first cell.  It
 * becomes t->last: the only instruction a fusion may still rewrite. */
uint32_t wasm_tr_emit(struct tr *t, handler h, unsigned n)
{
    if (t->oom || !wasm_tr_grow((void **)&t->cells, &t->cap, t->ncells + n, sizeof(cell)) ||
        !wasm_tr_grow((void **)&t->pos, &t->poscap, t->npos + 1, sizeof(struct code_pos))) {
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
cell *wasm_tr_at(struct tr *t, size_t i)
{
    return t->oom ? t->dummy : &t->cells[i];
}

static void emit_copy(struct tr *t, uint32_t dst, uint32_t src)
{
    uint32_t i = wasm_tr_emit(t, wasm_handlers.copy, 2);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(dst);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(src);
}

void wasm_tr_emit_const(struct tr *t, uint32_t dst, uint64_t k)
{
    if (k >> 32 == 0) {
        uint32_t i = wasm_tr_emit(t, wasm_handlers.const32, 2);
        wasm_tr_at(t, i + 1)->u32[0] = BYTES(dst);
        wasm_tr_at(t, i + 1)->u32[1] = (uint32_t)k;
    } else {
        uint32_t i = wasm_tr_emit(t, wasm_handlers.const64, 3);
        wasm_tr_at(t, i + 1)->u32[0] = BYTES(dst);
        wasm_tr_at(t, i + 2)->u64 = k;
    }
}

/* A deferred address computed into dst after all: i32.add, or lea (+ k in place). */
static void emit_address(struct tr *t, uint32_t dst, const struct val *v)
{
    handler h = v->form == A_SI   ? wasm_op_handlers[0x6a].si
                : v->form == A_SS ? wasm_op_handlers[0x6a].ss
                                  : wasm_handlers.lea;
    uint32_t i = wasm_tr_emit(t, h, v->form >= A_IDX ? 4 : 3);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(dst);
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(v->slot);
    if (v->form == A_SI)
        wasm_tr_at(t, i + 2)->u64 = (uint32_t)v->k;
    else
        wasm_tr_at(t, i + 2)->u32[0] = BYTES(v->y);
    if (v->form >= A_IDX)
        wasm_tr_at(t, i + 3)->u32[0] = v->shift;
    if (v->form == A_IDXK) {
        uint32_t j = wasm_tr_emit(t, wasm_op_handlers[0x6a].si, 3);
        wasm_tr_at(t, j + 1)->u32[0] = BYTES(dst);
        wasm_tr_at(t, j + 1)->u32[1] = BYTES(dst);
        wasm_tr_at(t, j + 2)->u64 = (uint32_t)v->k;
    }
}

/* Moves value v into slot dst (if it is not there already). */
void wasm_tr_emit_move(struct tr *t, uint32_t dst, const struct val *v)
{
    if (v->kind == V_CONST)
        wasm_tr_emit_const(t, dst, v->k);
    else if (v->kind == V_ADDR)
        emit_address(t, dst, v);
    else if (v->slot != dst)
        emit_copy(t, dst, v->slot);
}

uint32_t wasm_tr_emit_result(struct tr *t, handler h, unsigned ncells, uint32_t op)
{
    uint32_t i = wasm_tr_emit(t, h, ncells);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(CANON(t, t->sp));
    wasm_tr_push_canon(t);
    wasm_tr_set_producer(t, i, op);
    return i;
}

/* Forgets the producers: at labels (control flow merges there, so no instruction before them
 * may be rewritten), and when instructions were taken back. */
void wasm_tr_clear_last(struct tr *t)
{
    t->last = -1;
    t->prev = -1;
}

/* Records that the instruction at first_cell computed the top entry (just pushed) into its slot. */
void wasm_tr_set_producer(struct tr *t, uint32_t first_cell, uint32_t op)
{
    if (t->oom)
        return;
    struct val *v = &t->stack[t->sp - 1];
    v->producer = (int32_t)first_cell;
    v->producer_op = op;
}

/* ---- the operand stack image ---- */

bool wasm_tr_is_local_ref(const struct tr *t, const struct val *v)
{
    if (v->kind == V_ADDR)
        return v->slot < t->temp_base || (v->form != A_SI && v->y < t->temp_base);
    return v->kind == V_SLOT && v->slot < t->temp_base;
}

/* Does the value read a slot below `limit`? */
bool wasm_tr_reads_below(const struct val *v, uint32_t limit)
{
    if (v->kind == V_ADDR)
        return v->slot < limit || (v->form != A_SI && v->y < limit);
    return v->kind == V_SLOT && v->slot < limit;
}

/* Does the value read local `slot`? */
bool wasm_tr_names_local(const struct val *v, uint32_t slot)
{
    if (v->kind == V_ADDR)
        return v->slot == slot || (v->form != A_SI && v->y == slot);
    return v->kind == V_SLOT && v->slot == slot;
}

/* Pushes an entry as it is (its producer tag included). */
void wasm_tr_push_entry(struct tr *t, const struct val *v)
{
    if (!wasm_tr_grow((void **)&t->stack, &t->stack_cap, t->sp + 1, sizeof(struct val))) {
        t->oom = true;
        return;
    }
    t->stack[t->sp++] = *v;
    if (t->sp > t->max_sp)
        t->max_sp = t->sp;
    if (wasm_tr_is_local_ref(t, v))
        t->nlocal_refs++;
}

void wasm_tr_push_canon(struct tr *t)
{
    wasm_tr_push_entry(t, &(struct val){ .kind = V_SLOT, .slot = CANON(t, t->sp), .producer = -1, .shl = -1 });
}

void wasm_tr_push_slot(struct tr *t, uint32_t slot)
{
    wasm_tr_push_entry(t, &(struct val){ .kind = V_SLOT, .slot = slot, .producer = -1, .shl = -1 });
}

void wasm_tr_push_const(struct tr *t, uint64_t k)
{
    wasm_tr_push_entry(t, &(struct val){ .kind = V_CONST, .k = k, .producer = -1, .shl = -1 });
}

struct val wasm_tr_pop(struct tr *t)
{
    struct val v = t->stack[--t->sp];
    if (wasm_tr_is_local_ref(t, &v))
        t->nlocal_refs--;
    return v;
}

void wasm_tr_truncate(struct tr *t, uint32_t height)
{
    while (t->sp > height)
        wasm_tr_pop(t);
}

/* Makes stack entry i live in its canonical slot. */
void wasm_tr_materialize(struct tr *t, uint32_t i)
{
    struct val *v = &t->stack[i];
    uint32_t canon = CANON(t, i);
    if (v->kind == V_SLOT && v->slot == canon)
        return;
    struct val old = *v;
    if (wasm_tr_is_local_ref(t, &old))
        t->nlocal_refs--;
    *v = (struct val){ .kind = V_SLOT, .slot = canon, .producer = -1, .shl = -1 };
    wasm_tr_emit_move(t, canon, &old);
}

/* Entry i must be a slot (a constant or a deferred address goes to its canonical slot). */
uint32_t wasm_tr_need_slot(struct tr *t, uint32_t i)
{
    if (t->stack[i].kind != V_SLOT)
        wasm_tr_materialize(t, i);
    return t->stack[i].slot;
}

/* The top entry as a slot, popped. */
uint32_t wasm_tr_pop_slot(struct tr *t)
{
    uint32_t s = wasm_tr_need_slot(t, t->sp - 1);
    wasm_tr_pop(t);
    return s;
}

/* Before a write to local `slot`: entries below `below` that name it take their value now. */
void wasm_tr_protect_local(struct tr *t, uint32_t slot, uint32_t below)
{
    if (t->nlocal_refs == 0)
        return;
    for (uint32_t i = 0; i < below; i++)
        if (wasm_tr_names_local(&t->stack[i], slot))
            wasm_tr_materialize(t, i);
}

/* At a block entry: no entry may name a local (the block may write it on one path only), and
 * the block's parameters sit in their canonical slots (every path into the block agrees). */
void wasm_tr_settle_for_block(struct tr *t, uint32_t nparams)
{
    if (t->nlocal_refs)
        for (uint32_t i = 0; i < t->sp; i++)
            if (wasm_tr_is_local_ref(t, &t->stack[i]))
                wasm_tr_materialize(t, i);
    for (uint32_t i = t->sp - nparams; i < t->sp; i++)
        wasm_tr_materialize(t, i);
}

bool wasm_tr_settled_for_block(const struct tr *t, uint32_t nparams)
{
    if (t->nlocal_refs)
        return false;
    for (uint32_t i = t->sp - nparams; i < t->sp; i++)
        if (t->stack[i].kind != V_SLOT || t->stack[i].slot != CANON(t, i))
            return false;
    return true;
}

/* ---- branches ---- */

void wasm_tr_add_patch(struct tr *t, int32_t *list, struct branch_site site)
{
    if (!wasm_tr_grow((void **)&t->patches, &t->patch_cap, t->npatch + 1, sizeof(struct patch))) {
        t->oom = true;
        return;
    }
    t->patches[t->npatch] = (struct patch){ site.cell, site.half, site.base, *list };
    *list = (int32_t)t->npatch++;
}

void wasm_tr_set_rel(struct tr *t, struct branch_site site, uint32_t target)
{
    if (t->oom)
        return;
    wasm_tr_at(t, site.cell)->i32[site.half] = (int32_t)(target - site.base);
}

void wasm_tr_resolve_patches(struct tr *t, int32_t list, uint32_t target)
{
    for (int32_t i = list; i >= 0; i = t->patches[i].next) {
        const struct patch *p = &t->patches[i];
        wasm_tr_set_rel(t, (struct branch_site){ p->cell, p->base, p->half }, target);
    }
}

uint32_t wasm_tr_label_arity(const struct ctrl *c)
{
    return c->kind == C_LOOP ? c->nparams : c->nresults;
}

/* Do the top n values already sit where label c wants them? */
bool wasm_tr_in_place(const struct tr *t, const struct ctrl *c, uint32_t n)
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
void wasm_tr_move_to_label(struct tr *t, const struct ctrl *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        wasm_tr_emit_move(t, CANON(t, c->height + i), &t->stack[t->sp - n + i]);
}
