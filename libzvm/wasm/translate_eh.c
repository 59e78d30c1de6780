/*
 * translate_eh.c — exception handling (the legacy proposal, as clang-19 emits it): try, catch,
 * catch_all, delegate, throw, rethrow.  docs/Interpreter.md "Exceptions" tells the design.
 *
 * A try block is compiled as a block whose body is a range of cells recorded in a side table
 * (code.tries), with its catch clauses (code.catches) pointing at their landing pads.  Nothing
 * runs at a throw site but the throw itself: the interpreter looks the thrower's position up in
 * the table, frame by frame, and resumes at the pad.
 *
 *   try        [try][rel to the first pad, 0 if none]   a no-op that tells the verifier (verify.c)
 *              body ... ; br end                          where exceptions of the body may land
 *   catch x    [catch][hidden|n][rel to the next pad|x]   the landing pad: the interpreter writes
 *              clause ... ; br end                          the exception's record index (for rethrow)
 *   catch_all  [catch][hidden|0][rel|CODE_CATCH_ALL]        to the hidden slot and its payload above
 *   end                                                    it, and resumes after the pad
 *
 * The hidden slot is the canonical slot of the try's height: the clause's stack image starts
 * with it (an entry the wasm code cannot see), then the payload.  So a clause's results sit one
 * slot above where the block wants them, and its end moves them down (wasm_tr_end_try).
 * Values below the try's height were settled at its entry like any block's, and the body never
 * writes them except on paths that leave it: at a pad they are as the try found them.
 */
#include "wasm/translate.h"

static bool grow_tables(struct tr *t, bool try_entry)
{
    bool ok = try_entry ? wasm_tr_grow((void **)&t->tries, &t->try_cap, t->ntries + 1, sizeof *t->tries)
                        : wasm_tr_grow((void **)&t->catches, &t->catch_cap, t->ncatches + 1, sizeof *t->catches);
    if (!ok)
        t->oom = true;
    return ok;
}

/* The try entry of the innermost try block (body, not clause) at or outside ctrl index i; -1 if none. */
static int32_t try_around(const struct tr *t, int64_t i)
{
    for (; i >= 0; i--)
        if (t->ctrls[i].kind == C_TRY)
            return t->ctrls[i].try_index;
    return -1;
}

void wasm_tr_compile_try(struct tr *t, uint32_t op)
{
    uint32_t np, nr, level = 0;
    wasm_tr_imm_blocktype(t, &np, &nr);
    wasm_tr_settle_for_block(t, np);
    for (uint32_t i = 0; i < t->nctrl; i++)
        level += t->ctrls[i].kind == C_TRY || t->ctrls[i].kind == C_CATCH;
    int32_t parent = try_around(t, (int64_t)t->nctrl - 1);
    uint32_t at = wasm_tr_emit(t, wasm_handlers.try_, 2);
    wasm_tr_clear_last(t);
    wasm_tr_push_ctrl(t, C_TRY, np, nr);
    if (t->oom || !grow_tables(t, true))
        return;
    struct ctrl *c = &t->ctrls[t->nctrl - 1];
    c->start = at;
    c->try_index = (int32_t)t->ntries;
    c->last_pad = -1;
    t->tries[t->ntries++] = (struct code_try){ at, at, parent, CODE_NO_DELEGATE, level, -1 };
}

/* The try's body ends here (its clauses, or its end, come next). */
static void close_body(struct tr *t, const struct ctrl *c)
{
    if (!t->oom)
        t->tries[c->try_index].end = (uint32_t)t->ncells;
}

/* A clause's values (results, or what a br to the block carries) are one slot above the block's:
 * move them down, and leave the image as the block's end expects it. */
static void move_clause_results(struct tr *t, const struct ctrl *c)
{
    wasm_tr_move_to_label(t, c, c->nresults);
    wasm_tr_truncate(t, c->height);
    for (uint32_t i = 0; i < c->nresults; i++)
        wasm_tr_push_canon(t);
}

void wasm_tr_end_try(struct tr *t, struct ctrl *c)
{
    if (c->kind == C_TRY)
        close_body(t, c);
    else if (!c->dead)
        move_clause_results(t, c);
}

/* catch x (0x07) and catch_all (0x19) */
void wasm_tr_compile_catch(struct tr *t, uint32_t op)
{
    uint32_t tag = op == 0x07 ? wasm_tr_imm_u32(t) : CODE_CATCH_ALL;
    struct ctrl *c = &t->ctrls[t->nctrl - 1];
    wasm_tr_end_try(t, c);
    if (!c->dead) {                              /* the body or the previous clause ends: to the end */
        if (c->kind == C_TRY)
            for (uint32_t i = t->sp - c->nresults; i < t->sp; i++)
                wasm_tr_materialize(t, i);
        uint32_t i = wasm_tr_emit(t, wasm_handlers.br, 2);
        wasm_tr_add_patch(t, &c->patches, (struct branch_site){ i + 1, i, 0 });
    }
    wasm_tr_truncate(t, c->height);
    uint32_t n = tag == CODE_CATCH_ALL ? 0 : t->m->types[t->m->tag_types[tag]].nparams;
    uint32_t pad = wasm_tr_emit(t, wasm_handlers.catch_, 3);
    wasm_tr_at(t, pad + 1)->u32[0] = BYTES(CANON(t, c->height));
    wasm_tr_at(t, pad + 1)->u32[1] = n;
    wasm_tr_at(t, pad + 2)->u32[1] = tag;
    /* chain the pads for the verifier: the try instruction names the first, each pad the next */
    uint32_t from = c->last_pad < 0 ? c->start : (uint32_t)c->last_pad;
    wasm_tr_at(t, from + 1 + (c->last_pad >= 0))->u32[0] = pad - from;
    if (t->oom || !grow_tables(t, false))
        return;
    struct code_try *try = &t->tries[c->try_index];
    if (c->last_pad < 0) {
        try->first_catch = (int32_t)t->ncatches;
    } else {
        int32_t k = try->first_catch;
        while (t->catches[k].next >= 0)
            k = t->catches[k].next;
        t->catches[k].next = (int32_t)t->ncatches;
    }
    t->catches[t->ncatches++] = (struct code_catch){ tag, pad, -1 };
    c->last_pad = (int32_t)pad;
    for (uint32_t i = 0; i <= n; i++)            /* the hidden slot, then the payload */
        wasm_tr_push_canon(t);
    c->kind = C_CATCH;
    c->dead = false;
    wasm_tr_clear_last(t);
}

/* delegate l: the body's exceptions go to the handlers of label l (counted outside the try): the
 * innermost try body at or around that label; none there means the caller. */
void wasm_tr_compile_delegate(struct tr *t, uint32_t op)
{
    uint32_t l = wasm_tr_imm_u32(t);
    const struct ctrl *c = &t->ctrls[t->nctrl - 1];
    if (!t->oom)
        t->tries[c->try_index].delegate = try_around(t, (int64_t)t->nctrl - 2 - l);
    wasm_tr_compile_end(t, 0x0b);
}

/* throw x [throw][x|payload]: the payload is the top of the stack, made contiguous */
void wasm_tr_compile_throw(struct tr *t, uint32_t op)
{
    uint32_t tag = wasm_tr_imm_u32(t);
    uint32_t n = t->m->types[t->m->tag_types[tag]].nparams;
    for (uint32_t i = t->sp - n; i < t->sp; i++)
        wasm_tr_materialize(t, i);
    uint32_t i = wasm_tr_emit(t, wasm_handlers.throw_, 2);
    wasm_tr_at(t, i + 1)->u32[0] = tag;
    wasm_tr_at(t, i + 1)->u32[1] = BYTES(CANON(t, t->sp - n));
    wasm_tr_enter_dead_code(t);
}

/* rethrow l [rethrow][hidden slot of clause l] */
void wasm_tr_compile_rethrow(struct tr *t, uint32_t op)
{
    const struct ctrl *c = &t->ctrls[t->nctrl - 1 - wasm_tr_imm_u32(t)];
    uint32_t i = wasm_tr_emit(t, wasm_handlers.rethrow, 2);
    wasm_tr_at(t, i + 1)->u32[0] = BYTES(CANON(t, c->height));
    wasm_tr_enter_dead_code(t);
}
