/*
 * translate.h — what the translator's three files share (private to them):
 *
 *   translate.c        the driver: one compile function per instruction, chosen from a table
 *                      generated from opcodes.def; control flow, calls, variables, tables
 *   translate_stack.c  emitting cells, and the compile-time image of the operand stack
 *   translate_fuse.c   the superinstructions: rewrites of instructions already emitted
 *
 * One pass per function over a VALID body (the validator is the security boundary), keeping a
 * compile-time image of the operand stack.  An entry of that image says where the value lives:
 *   - in its canonical slot: operand-stack height h lives in slot temp_base + h;
 *   - in a local's slot (local.get pushed nothing at run time: the local IS the operand);
 *   - as a constant (i32.const pushed nothing either: the constant becomes an immediate);
 *   - as a deferred address (an i32.add a load or store may fold into itself).
 * Instructions read their operands wherever they are and write their result to the canonical
 * slot of its height; a following local.set retargets that write to the local instead.
 * docs/Interpreter.md tells the whole story, and the invariants every rewrite relies on.
 */
#ifndef ZVM_WASM_TRANSLATE_H
#define ZVM_WASM_TRANSLATE_H

#include "wasm/exec.h"
#include "wasm/opinfo.h"
#include "wasm/reader.h"

/* Where a stack entry's value is. */
enum val_kind { V_SLOT, V_CONST, V_ADDR };
/* The forms of a deferred address (V_ADDR): x + k, x + y, x + (y << shift), and x + k + (y << shift)
 * (A_IDXK: only when the next instruction is the load that consumes it, so y may be a temporary). */
enum addr_form { A_SI, A_SS, A_IDX, A_IDXK };

struct val {
    uint8_t kind;                        /* enum val_kind */
    uint32_t slot;                       /* V_SLOT; x of V_ADDR */
    uint64_t k;                          /* V_CONST; k of A_SI and A_IDXK */
    uint32_t y;                          /* A_SS, A_IDX, A_IDXK */
    uint8_t form, shift;                 /* V_ADDR */
    /* The instruction that computed this entry into its canonical slot (first cell, or -1) and
     * its opcode.  Fusions may rewrite that instruction only through top_with_producer(): while
     * this entry is on top and the producer is still the last instruction emitted.  The tag lives
     * on the entry, so whatever pops the entry (drop, select, a block end) takes the permission
     * with it (issue 12: a dropped value's producer was retargeted onto the value below). */
    int32_t producer;
    uint32_t producer_op;                /* opcode, 256 + n for 0xFC n */
    int32_t shl;                         /* an i32.add only: the i32.shl by a constant emitted just
before it that computed one of its operands, or -1 */
};

/* C_TRY: a try's body; C_CATCH: one of its catch clauses (catch or catch_all; translate_eh.c) */
enum ctrl_kind { C_FUNC, C_BLOCK, C_LOOP, C_IF, C_ELSE, C_TRY, C_CATCH };

struct ctrl {
    uint8_t kind;                        /* enum ctrl_kind */
    bool dead;                           /* the rest of this block is unreachable */
    uint32_t height;                     /* operand height below the block's parameters */
    uint32_t nparams, nresults;
    uint32_t start;                      /* loop: the cell its branches go to; try: its try instruction */
    int32_t patches;                     /* forward branches to the end: a list in tr.patches */
    int32_t else_patch;                  /* if: the branch to the else arm */
    int32_t try_index;                   /* try, catch: its entry in tr.tries */
    int32_t last_pad;                    /* try, catch: the cell of the last clause's catch instruction, or -1 */
};

/* A branch distance to fill in once its target is known. */
struct patch {
    uint32_t cell;                       /* the cell holding the distance */
    uint8_t half;                        /* which 32-bit half */
    uint32_t base;                       /* the branch instruction's first cell */
    int32_t next;
};

/* Where a conditional branch's distance goes, for the caller to fill in or patch. */
struct branch_site {
    uint32_t cell, base;
    uint8_t half;
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
    struct code_try *tries;              /* exception handling (translate_eh.c): the module's try blocks */
    uint32_t ntries;
    size_t try_cap;
    struct code_catch *catches;
    uint32_t ncatches;
    size_t catch_cap;
    uint32_t temp_base;                  /* slot of operand height 0 */
    uint32_t nresults;                   /* of the function */
    uint32_t nlocal_refs;                /* stack entries naming a local */
    int32_t last;                        /* first cell of the last instruction emitted, -1 after a label */
    int32_t prev;                        /* the same for the instruction just before it */
    uint32_t offset;                     /* file offset of the instruction being translated */
    wasm_reader r;                       /* over the module's bytes, at the body's next byte */
    zvm_error read_err;
    bool oom;                            /* out of memory (or, impossibly, a body that reads wrong) */
    cell dummy[4];                       /* where writes go once memory ran out (the result is discarded) */
};

#define BYTES(slot) ((uint32_t)(slot) * 8u)
#define CANON(t, h) ((t)->temp_base + (h))

/* ---- translate_stack.c: emitting ---- */
bool wasm_tr_grow(void **p, size_t *cap, size_t need, size_t size);
uint32_t wasm_tr_emit(struct tr *t, handler h, unsigned ncells);
cell *wasm_tr_at(struct tr *t, size_t i);
void wasm_tr_emit_const(struct tr *t, uint32_t dst, uint64_t k);
void wasm_tr_emit_move(struct tr *t, uint32_t dst, const struct val *v);
/* An instruction whose only result goes to the canonical slot of the next height:
 * emits it ([h][dst|a]...), pushes the result, records it as the result's producer. */
uint32_t wasm_tr_emit_result(struct tr *t, handler h, unsigned ncells, uint32_t op);
void wasm_tr_clear_last(struct tr *t);
void wasm_tr_set_producer(struct tr *t, uint32_t first_cell, uint32_t op);

/* ---- translate_stack.c: the operand stack image ---- */
bool wasm_tr_is_local_ref(const struct tr *t, const struct val *v);
bool wasm_tr_reads_below(const struct val *v, uint32_t limit);
bool wasm_tr_names_local(const struct val *v, uint32_t slot);
void wasm_tr_push_canon(struct tr *t);
void wasm_tr_push_slot(struct tr *t, uint32_t slot);
void wasm_tr_push_const(struct tr *t, uint64_t k);
void wasm_tr_push_entry(struct tr *t, const struct val *v);
struct val wasm_tr_pop(struct tr *t);
void wasm_tr_truncate(struct tr *t, uint32_t height);
void wasm_tr_materialize(struct tr *t, uint32_t i);
uint32_t wasm_tr_need_slot(struct tr *t, uint32_t i);
uint32_t wasm_tr_pop_slot(struct tr *t);
void wasm_tr_protect_local(struct tr *t, uint32_t slot, uint32_t below);
void wasm_tr_settle_for_block(struct tr *t, uint32_t nparams);
bool wasm_tr_settled_for_block(const struct tr *t, uint32_t nparams);

/* ---- translate_stack.c: branches ---- */
void wasm_tr_add_patch(struct tr *t, int32_t *list, struct branch_site site);
void wasm_tr_set_rel(struct tr *t, struct branch_site site, uint32_t target);
void wasm_tr_resolve_patches(struct tr *t, int32_t list, uint32_t target);
uint32_t wasm_tr_label_arity(const struct ctrl *c);
bool wasm_tr_in_place(const struct tr *t, const struct ctrl *c, uint32_t n);
void wasm_tr_move_to_label(struct tr *t, const struct ctrl *c, uint32_t n);

/* ---- translate.c, for translate_eh.c ---- */
uint32_t wasm_tr_imm_u32(struct tr *t);
void wasm_tr_imm_blocktype(struct tr *t, uint32_t *np, uint32_t *nr);
void wasm_tr_push_ctrl(struct tr *t, uint8_t kind, uint32_t np, uint32_t nr);
void wasm_tr_enter_dead_code(struct tr *t);
void wasm_tr_compile_end(struct tr *t, uint32_t op);

/* ---- translate_eh.c: exception handling ---- */
void wasm_tr_compile_try(struct tr *t, uint32_t op);
void wasm_tr_compile_catch(struct tr *t, uint32_t op);
void wasm_tr_compile_throw(struct tr *t, uint32_t op);
void wasm_tr_compile_rethrow(struct tr *t, uint32_t op);
void wasm_tr_compile_delegate(struct tr *t, uint32_t op);
/* At the end of a try or catch block, before the block's own end: closes the try's body, or
 * moves a catch clause's results to the block's slots (the clause has a hidden slot below them). */
void wasm_tr_end_try(struct tr *t, struct ctrl *c);

/* ---- translate_fuse.c: superinstructions ---- */
const struct val *wasm_tr_top_with_producer(const struct tr *t);
struct branch_site wasm_tr_emit_cond_branch(struct tr *t, bool negate);
bool wasm_tr_fuse_load(struct tr *t, uint32_t op, uint32_t offset);
bool wasm_tr_defer_add(struct tr *t);
int32_t wasm_tr_shl_operand(const struct tr *t);
uint32_t wasm_tr_emit_fused_access(struct tr *t, const struct op_handlers *oh, bool store, const struct val *addr,
                                   uint32_t first, uint32_t offset);
void wasm_tr_local_set(struct tr *t, uint32_t local, bool tee);

#endif
