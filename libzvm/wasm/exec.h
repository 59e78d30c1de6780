/*
 * exec.h — the engine's back end: the translated code, the runtime objects and the state of a
 * running call.  Private to libzvm/wasm (translate.c, interp.c, instance.c, memory.c).
 *
 * The shape (docs/Interpreter.md tells the why):
 *   - every defined function is translated once, on its first call, into an array of 64-bit
 *     cells; an instruction is a handler pointer followed by its operands: slot byte offsets
 *     (relative to the frame pointer), immediates and branch distances;
 *   - a frame is a window of 64-bit slots on the runtime's value stack: parameters, then
 *     locals, then the operand stack.  A call's arguments are already in place at the top of
 *     the caller's operand stack: they become the callee's first slots, and its results come
 *     back in the same place;
 *   - handlers end with a guaranteed tail call to the next handler, so the interpreter state
 *     (ip, fp, memory base, exec) stays in registers and no C stack grows with guest calls.
 */
#ifndef ZVM_WASM_EXEC_H
#define ZVM_WASM_EXEC_H

#include <setjmp.h>
#include <stdlib.h>
#include <stdatomic.h>

#include "wasm/module.h"

union cell;
struct exec;

/* Every handler has this signature; it returns only when the guest stops (0 done, 1 trap). */
typedef int (*handler)(const union cell *ip, uint64_t *fp, uint8_t *mem, struct exec *x);

typedef union cell {
    handler h;
    const void *ptr;
    uint64_t u64;
    int64_t i64;
    uint32_t u32[2];
    int32_t i32[2];
} cell;

/* Where each instruction came from: cell index → byte offset in the module file. */
struct code_pos {
    uint32_t cell;
    uint32_t offset;
};

/* A try block (exception handling, docs/Interpreter.md "Exceptions"): the cells of its body, and
 * where an exception thrown there goes.  A function's tries are in code_func.tries, in the order
 * of their `try` (so sorted by start); cells count from the function's first. */
struct code_try {
    uint32_t start, end;                 /* cells [start, end) of the body (not its catch clauses) */
    int32_t parent;                      /* the innermost try whose body holds this try, -1 if none */
    /* try..delegate: the try its exceptions go to (-1: the caller); CODE_NO_DELEGATE otherwise */
    int32_t delegate;
    uint32_t level;                      /* tries enclosing this one (bodies or clauses) in the function */
    int32_t first_catch;                 /* its clauses in order, a list in code_func.catches; -1 if none */
};
#define CODE_NO_DELEGATE (-2)
#define CODE_CATCH_ALL UINT32_MAX
/* A catch clause: the tag it catches (CODE_CATCH_ALL for catch_all) and its landing pad. */
struct code_catch {
    uint32_t tag;                        /* tag index in the module */
    uint32_t pad;                        /* cell of its catch instruction */
    int32_t next;                        /* the try's next clause, -1 after the last */
};

/* A function of the module and, once it was first called, its translation.  Until then entry
 * points at lazy, a one-instruction program [translate][this] that translates the function
 * and continues in it: a session pays only for the functions it runs (docs/Interpreter.md,
 * "Lazy translation"). */
struct code_func {
    const cell *entry;                   /* cells, or lazy until translated */
    uint32_t func_index;                 /* in the module's index space */
    uint32_t nparams, nlocals, nresults;
    uint32_t frame_slots;                /* params + locals + deepest operand stack; 0 until translated */
    uint32_t body_offset;                /* of its body in the module file */
    cell *cells;                         /* the translation (NULL until then) */
    uint32_t ncells;
    uint32_t npos;
    struct code_pos *pos;                /* sorted by cell */
    struct code_try *tries;              /* exception handling: its try blocks (NULL if none) */
    uint32_t ntries, ncatches;
    struct code_catch *catches;
    cell lazy[2];
};

/* The translation of a module (wasm_module.code). */
struct tr_scratch;
struct code {
    struct code_func *funcs;             /* one per defined function, in index order */
    uint32_t nfuncs;
    struct code_func **eh_funcs;         /* the translated ones that have a try block (exn.c) */
    uint32_t neh_funcs, eh_funcs_cap;
    struct tr_scratch *scratch;          /* the translator's work buffers, kept from one function to the next */
};

/* Prepares m->code: every function waits for its first call to be translated. */
int wasm_translate_module(wasm_module *m, zvm_error *err);
/* Translates one function now (if it was not yet); 0, or -1 with err set. */
int wasm_translate_function(const wasm_module *m, struct code_func *cf, zvm_error *err);
#ifdef ZVM_CHECK_TRANSLATION
/* verify.c: checks the translation of one function (docs/Interpreter.md, "Invariants"). */
int wasm_verify_function(const wasm_module *m, const struct code_func *cf, const cell *code, uint32_t ncells, char *msg,
                         size_t msg_size);
#endif
/* locate.c: the translated function ip is in (NULL if none), and the file offset of its instruction. */
const struct code_func *wasm_code_locate(const struct code *c, const cell *ip, uint32_t *func_index, uint32_t *offset);

/* ---- runtime objects -------------------------------------------------- */

enum obj_kind { OBJ_FUNC, OBJ_TABLE, OBJ_MEMORY, OBJ_GLOBAL, OBJ_INSTANCE, OBJ_TAG };

struct obj {                             /* every runtime object starts with this: the runtime frees them */
    struct obj *next;
    enum obj_kind kind;
};

struct zvm_module {
    wasm_module *w;
    int refs;                            /* the module and each instance made from it */
};

struct zvm_func {
    struct obj hdr;
    uint32_t ref;                        /* its reference number: 1 + its index in rt->func_refs */
    const zvm_functype *type;            /* interned in the runtime: equal types, equal pointers */
    zvm_instance *inst;                  /* NULL for a host function */
    const struct code_func *code;        /* wasm functions */
    zvm_host_fn host;                    /* host functions */
    void *user;
};

struct zvm_table {
    struct obj hdr;
    uint8_t elemtype;
    uint32_t size;
    uint64_t max;
    zvm_val *elems;
};

struct zvm_memory {
    struct obj hdr;
    uint8_t *base;                       /* reservation of MEMORY_RESERVE bytes */
    uint64_t size;                       /* bytes accessible */
    uint64_t max_pages;                  /* min(declared maximum, runtime limit) */
    uint64_t declared_max;               /* the maximum its type says (import matching); UINT64_MAX if none */
};

struct zvm_global {
    struct obj hdr;
    uint8_t valtype;
    bool mutable_;
    zvm_val value;
};

/* An exception tag: its identity is the object (an imported tag is the exporter's). */
struct zvm_tag {
    struct obj hdr;
    const zvm_functype *type;            /* interned; the parameters are the payload */
    uint32_t index;                      /* in the instance that defined it, for messages */
    const char *name;                    /* its first export name there (owned by the module), or NULL */
};

struct zvm_instance {
    struct obj hdr;
    zvm_module *module;
    zvm_runtime *rt;
    zvm_func **funcs;
    zvm_table **tables;
    zvm_memory *memory;                  /* memory 0 or NULL */
    zvm_global **globals;
    zvm_tag **tags;
    const zvm_functype **types;          /* the module's types, interned */
    uint32_t nelems;
    uint32_t *elem_sizes;                /* 0 once dropped */
    zvm_val **elem_items;                /* evaluated element segments */
    bool *data_dropped;
    struct resume_point *resume;         /* a restored call stack waiting for zvm_instance_resume */
};

struct frame {
    const cell *ret;
    uint64_t *fp;
    zvm_instance *inst;
};

struct zvm_runtime {
    zvm_runtime_config cfg;
    _Atomic int interrupted;
    struct obj *objects;
    uint64_t *stack, *stack_end, *stack_free;   /* the value stack; stack_free: where the next entry starts */
    struct frame *frames, *frames_end, *frame_free;
    unsigned nesting;                    /* entries into guest code active now (host functions calling back) */
    const zvm_functype **types;          /* interned function types */
    uint32_t ntypes, types_cap;
    /* Every function made in the runtime, in order: a funcref value is 1 + an index here (0 is
     * null), never a host address, so a value of the wrong type reaching a call_indirect can
     * only name one of these (then its type is checked) or be refused.  RATIONALE.md tells why. */
    zvm_func **func_refs;
    uint32_t nfunc_refs, func_refs_cap;
    struct exn_store *exns;              /* exceptions thrown or caught (exn.c), made at the first throw */
};

/* The state of one entry into guest code (zvm_func_call); lives on the C stack. */
struct exec {
    zvm_runtime *rt;
    zvm_instance *inst;
    zvm_func **funcs;
    zvm_global **globals;
    zvm_memory *memory;
    struct frame *frame, *frame_base, *frame_end;
    uint64_t *stack_end;
    _Atomic int *interrupted;
    const cell *fault_ip;                /* the memory access running now (for faults) */
    zvm_trap *trap;
    sigjmp_buf *jmp;
};

/* exn.c: the exceptions of a runtime (docs/Interpreter.md "Exceptions").  An exception is a
 * record in the runtime's store (its tag and a copy of its payload); the guest sees only the
 * record's index (in the catch clause's hidden slot, for rethrow), never an address. */
struct exn_key {                         /* whose catch clause holds a caught exception */
    uint32_t nesting, depth, level;      /* entry into the guest, frame, try level in the function */
};
/* A new exception in flight (thrown, or rethrown from record `from` when tag is NULL):
 * 0, or -1 if out of memory. */
int wasm_exn_throw(zvm_runtime *rt, const zvm_tag *tag, const void *payload, uint64_t from);
/* The exception in flight: its tag. */
const zvm_tag *wasm_exn_tag(const zvm_runtime *rt);
/* Is record `index` a caught exception (what a rethrow may name)? */
bool wasm_exn_valid(const zvm_runtime *rt, uint64_t index);
/* The exception in flight is caught by the clause of key k: exceptions caught by clauses that
 * have ended are dropped; its payload goes to payload[], and its record index is returned. */
uint64_t wasm_exn_catch(zvm_runtime *rt, struct exn_key k, uint64_t *payload);
/* Function cf (translated, with try blocks) joins the functions an exception may stop in:
 * 0, or -1 if out of memory. */
int wasm_exn_note_function(struct code *c, struct code_func *cf);
/* The function with try blocks whose code holds ip, or NULL: unwinding looks at no other. */
const struct code_func *wasm_exn_func_at(const struct code *c, const cell *ip);
/* Snapshots (suspend.c): the caught exceptions of the entry into the guest being saved (tags as
 * positions in inst), and back (checked against inst; installed into the store with install). */
struct bytes_out;
struct bytes_in;
int wasm_exn_save(const zvm_runtime *rt, const zvm_instance *inst, struct bytes_out *o);
int wasm_exn_restore(zvm_runtime *rt, const zvm_instance *inst, struct bytes_in *in, bool install);
/* The outermost entry into the guest ended: nothing is in flight or caught any more. */
void wasm_exn_reset(zvm_runtime *rt);
void wasm_exn_free(zvm_runtime *rt);
/* The clause of translated function cf that catches an exception of tag (as inst names tags)
 * thrown at its cell `at`, or NULL; *level gets its try's level. */
const struct code_catch *wasm_exn_find_catch(const struct code_func *cf, uint32_t at, const zvm_instance *inst,
                                             const zvm_tag *tag, uint32_t *level);

/* Makes *p (of *cap items of size bytes) hold at least need items, doubling; false when out of
 * memory (*p is then as it was). */
static inline bool wasm_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* What a host function sees of its call (wasm.h: zvm_call). */
struct zvm_call {
    struct exec *x;                      /* NULL when the host called the host function directly */
    zvm_trap *trap;
    zvm_instance *inst;
    zvm_func *callee;                    /* the host function */
    const cell *resume;                  /* where the guest goes on when it returns */
    uint64_t *fp;                        /* in this frame */
    uint64_t *args;                      /* where its arguments are and its results go */
};

/* interp.c */
/* An entry into inst's code on rt, not yet running. */
void wasm_exec_init(struct exec *x, zvm_runtime *rt, zvm_instance *inst, zvm_trap *trap);
/* Runs from ip in frame fp until the outermost frame returns (0) or a trap (-1, x->trap located). */
int wasm_exec_run(struct exec *x, const cell *ip, uint64_t *fp);
int wasm_exec_call(zvm_runtime *rt, zvm_func *f, const zvm_val *args, zvm_val *results, zvm_trap *trap);
void wasm_exec_set_trap(zvm_trap *trap, enum zvm_trap_kind kind);

/* The handlers the translator emits by name; the numeric ones come from tables below. */
struct handlers {
    handler copy, const32, const64, br, br_loop, br_if, br_unless, br_if_loop, br_table, ret, unreachable, call,
        call_import, call_indirect, select, global_get, global_set, table_get, table_set, memory_size, memory_grow,
        ref_func, memory_init, data_drop, memory_copy, memory_fill, table_init, elem_drop, table_copy, table_grow,
        table_size, table_fill, i64_eqz, lea, zero_locals, return_call, return_call_import, return_call_indirect,
        translate, try_, catch_, throw_, rethrow;
};
extern const struct handlers wasm_handlers;

/* Per opcode (one byte, or 0xFC sub-opcode + 256): the numeric handlers.
 * unary [h][dst|a]; binary ss [h][dst|a][b], si [h][dst|a][imm]; loads [h][dst|addr][offset];
 * stores [h][addr|val][offset]. */
struct op_handlers {
    handler unary, ss, si, load, store;
    handler load_add_ss, load_add_si, load_idx, load_idxk; /* loads fused with their address arithmetic (interp.c) */
    handler store_k, store_add_ss, store_add_si, store_idx;
};
extern const struct op_handlers wasm_op_handlers[256 + 32];
/* The integer comparisons fused with a conditional branch: [h][a|rel][b or immediate]. */
struct br_handlers {
    handler br_ss, br_si, brn_ss, brn_si;
};
extern const struct br_handlers wasm_branch_handlers[256];

/* memory.c */
#define MEMORY_RESERVE ((uint64_t)8 << 30 | (uint64_t)1 << 16) /* 4 GiB index + 4 GiB offset + slack */
int wasm_memory_init_object(zvm_memory *mem, uint64_t min_pages, uint64_t max_pages, zvm_error *err);
void wasm_memory_release(zvm_memory *mem);
int64_t wasm_memory_grow_pages(zvm_memory *mem, uint64_t delta);
/* Installs the fault handler (once per process) and an alternate signal stack (once per thread). */
void wasm_memory_guard_thread(void);
/* The entry that a fault in guest memory returns to, for this thread. */
extern __thread struct exec *wasm_memory_guard_exec;

/* instance.c */
const zvm_functype *wasm_runtime_intern_type(zvm_runtime *rt, const zvm_functype *t);
/* The function a reference value names, or NULL for null and for any number that names none. */
static inline zvm_func *wasm_runtime_func_of_ref(const zvm_runtime *rt, uint64_t ref)
{
    return ref - 1 < rt->nfunc_refs ? rt->func_refs[ref - 1] : NULL;
}
/* suspend.c */
struct resume_point;
void wasm_resume_point_free(struct resume_point *p);
/* table.c */
#define WASM_TABLE_LIMIT 10000000u /* elements one table may hold: a guest cannot make us allocate more */
int wasm_table_grow_by(zvm_table *t, uint32_t delta, zvm_val init);

#endif
