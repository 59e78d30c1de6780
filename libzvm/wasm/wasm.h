/*
 * wasm.h — the public face of libzvm's WebAssembly engine.
 *
 * The engine decodes, validates and translates a module once (zvm_module_load),
 * then instantiates it against imports the host supplies (zvm_instance_new) and
 * calls its exports (zvm_func_call).  Everything it owns lives in a runtime
 * (zvm_runtime): the call stack shared by all its instances, the limits, and the
 * interruption flag a timer may set.
 *
 * Errors are values: functions return 0 on success and -1 on failure, filling a
 * zvm_error (load/link problems) or a zvm_trap (a guest stopped running).  The
 * engine never prints and never exits.
 *
 * Values cross this API as raw 64-bit cells (zvm_val): an i32 zero-extended, an
 * f32 as its bit pattern in the low 32 bits, an f64 as its bit pattern, a funcref
 * as the function's reference number in its runtime (zvm_func_ref; never an
 * address), an externref as an opaque host word the engine never dereferences.
 * 0 is the null reference for both reference types.
 */
#ifndef ZVM_WASM_H
#define ZVM_WASM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"   /* zvm_error */

typedef uint64_t zvm_val;

enum zvm_valtype {
    ZVM_I32 = 0x7f,
    ZVM_I64 = 0x7e,
    ZVM_F32 = 0x7d,
    ZVM_F64 = 0x7c,
    ZVM_V128 = 0x7b,      /* decoded and refused by the validator for now */
    ZVM_FUNCREF = 0x70,
    ZVM_EXTERNREF = 0x6f,
};

/* "i32", "funcref" ...: for messages; "unknown" for a byte that is no value type. */
const char *zvm_valtype_name(uint8_t type);

enum zvm_extern_kind { ZVM_EXTERN_FUNC = 0, ZVM_EXTERN_TABLE = 1, ZVM_EXTERN_MEMORY = 2, ZVM_EXTERN_GLOBAL = 3 };

/* Why a guest stopped.  The message texts of the spec's traps are the spec test suite's. */
enum zvm_trap_kind {
    ZVM_TRAP_NONE = 0,
    ZVM_TRAP_UNREACHABLE,        /* "unreachable" */
    ZVM_TRAP_MEMORY_OOB,         /* "out of bounds memory access" */
    ZVM_TRAP_TABLE_OOB,          /* "out of bounds table access" */
    ZVM_TRAP_UNDEFINED_ELEMENT,  /* "undefined element" (call_indirect index past the table) */
    ZVM_TRAP_NULL_ELEMENT,       /* "uninitialized element" (call_indirect through null) */
    ZVM_TRAP_SIGNATURE,          /* "indirect call type mismatch" */
    ZVM_TRAP_DIV_ZERO,           /* "integer divide by zero" */
    ZVM_TRAP_INT_OVERFLOW,       /* "integer overflow" */
    ZVM_TRAP_BAD_CONVERSION,     /* "invalid conversion to integer" */
    ZVM_TRAP_STACK_EXHAUSTED,    /* "call stack exhausted" */
    ZVM_TRAP_INTERRUPTED,        /* "interrupted": zvm_runtime_interrupt was called (a timeout) */
    ZVM_TRAP_HOST,               /* a host function failed; msg says why */
    ZVM_TRAP_EXIT,               /* not an error: a host function asked to end the run (proc_exit) */
};

typedef struct zvm_trap {
    enum zvm_trap_kind kind;
    int exit_code;               /* for ZVM_TRAP_EXIT */
    uint32_t func_index;         /* function where it happened (module index space), UINT32_MAX if none */
    uint32_t offset;             /* byte offset of the instruction in the module file */
    const char *func_name;       /* from the name section, or NULL; owned by the module */
    char msg[256];               /* "out of bounds memory access", or the host's text */
} zvm_trap;

const char *zvm_trap_kind_message(enum zvm_trap_kind kind);

/* A function signature. */
typedef struct zvm_functype {
    uint32_t nparams, nresults;
    const uint8_t *params;       /* enum zvm_valtype each */
    const uint8_t *results;
} zvm_functype;

typedef struct zvm_runtime zvm_runtime;
typedef struct zvm_module zvm_module;
typedef struct zvm_instance zvm_instance;
typedef struct zvm_func zvm_func;
typedef struct zvm_table zvm_table;
typedef struct zvm_memory zvm_memory;
typedef struct zvm_global zvm_global;

typedef struct zvm_extern {
    enum zvm_extern_kind kind;
    union {
        zvm_func *func;
        zvm_table *table;
        zvm_memory *memory;
        zvm_global *global;
    } u;
} zvm_extern;

/* ---- runtime ---------------------------------------------------------- */

typedef struct zvm_runtime_config {
    uint32_t max_call_depth;     /* frames; 0 = default (10000) */
    size_t value_stack_bytes;    /* engine stack for locals and operands; 0 = default (8 MiB) */
    uint64_t memory_limit;       /* bytes any one linear memory may reach; 0 = 4 GiB */
} zvm_runtime_config;

int zvm_runtime_new(const zvm_runtime_config *cfg, zvm_runtime **out, zvm_error *err);
void zvm_runtime_free(zvm_runtime *rt);    /* frees every instance, function, memory... made in it */
/* Ask running code to stop with ZVM_TRAP_INTERRUPTED at its next function entry or loop
 * header.  Async-signal-safe and thread-safe.  Stays set until zvm_runtime_clear_interrupt. */
void zvm_runtime_interrupt(zvm_runtime *rt);
void zvm_runtime_clear_interrupt(zvm_runtime *rt);

/* ---- modules ---------------------------------------------------------- */

/* Decode and validate; each function is translated on its first call.  The bytes are not kept
 * (the module copies what it needs).
 * A malformed module: "at byte 0x1a2: ..."; an invalid one: "function 12 at byte 0x3f0: type mismatch ..." */
int zvm_module_load(const uint8_t *bytes, size_t size, zvm_module **out, zvm_error *err);
/* zvm_module_load with options:
 *   ZVM_LOAD_TAKE_BYTES  bytes is malloc'd and the module keeps it instead of a copy (it frees
 *                        it, even when loading fails): for large programs read just for this;
 *   ZVM_LOAD_VALIDATED   no validation: only for bytes this very build of the engine validated
 *                        before (zvm keeps that knowledge in its private cache, keyed by the
 *                        file's identity: docs/Snapshots.md).  The translator trusts validated
 *                        code: never pass bytes of unknown origin with it. */
enum { ZVM_LOAD_TAKE_BYTES = 1, ZVM_LOAD_VALIDATED = 2 };
int zvm_module_load_with(uint8_t *bytes, size_t size, unsigned flags, zvm_module **out, zvm_error *err);
/* Decode and validate only (no translation): what the fuzzers and wasm-validate-like checks use. */
int zvm_module_validate(const uint8_t *bytes, size_t size, zvm_error *err);
/* Translates every function now rather than on its first call (to pay or measure it up front).
 * A module is translated in place: one module must not run in two threads at once. */
int zvm_module_translate_all(zvm_module *m, zvm_error *err);
void zvm_module_free(zvm_module *m);

typedef struct zvm_import_desc {
    const char *module, *name;
    enum zvm_extern_kind kind;
    zvm_functype func;               /* ZVM_EXTERN_FUNC */
    uint8_t valtype;                 /* ZVM_EXTERN_GLOBAL: its type; ZVM_EXTERN_TABLE: its element type */
    bool mutable_;                   /* ZVM_EXTERN_GLOBAL */
    uint64_t min, max;               /* TABLE/MEMORY limits; max = UINT64_MAX when absent */
} zvm_import_desc;

typedef struct zvm_export_desc {
    const char *name;
    enum zvm_extern_kind kind;
    uint32_t index;
} zvm_export_desc;

uint32_t zvm_module_import_count(const zvm_module *m);
void zvm_module_import(const zvm_module *m, uint32_t i, zvm_import_desc *out);
uint32_t zvm_module_export_count(const zvm_module *m);
void zvm_module_export(const zvm_module *m, uint32_t i, zvm_export_desc *out);
/* Memory index of the module (imported memories first, then its own), as declared, in 64 KiB
 * pages; *max_pages = UINT64_MAX when it declares no maximum.  False when there is no such
 * memory.  What a host checks against its own limits before instantiating. */
bool zvm_module_memory_limits(const zvm_module *m, uint32_t index, uint64_t *min_pages, uint64_t *max_pages);

/* ---- host objects ----------------------------------------------------- */

/* What a host function sees of its call. */
typedef struct zvm_call zvm_call;

/* A host function: read args, write results, return 0; or return zvm_call_trap(...)/zvm_call_exit(...). */
typedef int (*zvm_host_fn)(zvm_call *call, void *user, const zvm_val *args, zvm_val *results);

/* Memory 0 of the calling instance (NULL if it has none); *size gets its current size in bytes.
 * The pointer stays valid until the guest runs again (memory.grow keeps the base on x86-64, but
 * do not rely on that). */
uint8_t *zvm_call_memory(zvm_call *call, uint64_t *size);
zvm_instance *zvm_call_instance(zvm_call *call);
int zvm_call_trap(zvm_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int zvm_call_exit(zvm_call *call, int code);

int zvm_func_new_host(zvm_runtime *rt, const zvm_functype *type, zvm_host_fn fn, void *user, zvm_func **out,
                      zvm_error *err);
int zvm_memory_new(zvm_runtime *rt, uint32_t min_pages, uint64_t max_pages, zvm_memory **out, zvm_error *err);
int zvm_table_new(zvm_runtime *rt, uint8_t elemtype, uint32_t min, uint64_t max, zvm_val init, zvm_table **out,
                  zvm_error *err);
int zvm_global_new(zvm_runtime *rt, uint8_t valtype, bool mutable_, zvm_val value, zvm_global **out, zvm_error *err);

/* ---- instances -------------------------------------------------------- */

/* imports[i] satisfies zvm_module_import(m, i).  Link errors ("unknown import", "incompatible
 * import type") go to err; a trap while initialising or in the start function goes to trap.
 * Returns 0, or -1 with err->msg set (and trap->kind != ZVM_TRAP_NONE when a trap caused it). */
int zvm_instance_new(zvm_runtime *rt, const zvm_module *m, const zvm_extern *imports, uint32_t nimports,
                     zvm_instance **out, zvm_trap *trap, zvm_error *err);
bool zvm_instance_export(const zvm_instance *inst, const char *name, zvm_extern *out);

/* ---- using objects ---------------------------------------------------- */

const zvm_functype *zvm_func_type(const zvm_func *f);
/* A funcref value and back: the number that names f in its runtime (0 for NULL); the function
 * a number names, or NULL for null and for a number that names no function of rt. */
zvm_val zvm_func_ref(const zvm_func *f);
zvm_func *zvm_ref_func(const zvm_runtime *rt, zvm_val ref);
/* Calls f; args and results per its type.  On a trap returns -1 and fills *trap. */
int zvm_func_call(zvm_runtime *rt, zvm_func *f, const zvm_val *args, zvm_val *results, zvm_trap *trap);

uint8_t *zvm_memory_data(zvm_memory *mem, uint64_t *size);
uint32_t zvm_memory_pages(const zvm_memory *mem);
/* Grows by delta pages; returns the old size in pages, or -1 (limit or maximum reached). */
int64_t zvm_memory_grow(zvm_memory *mem, uint32_t delta);
/* Moves the most bytes mem may grow to (never past its declared maximum nor 4 GiB, never below
 * its current size).  For a host whose limit is shared with other uses: zvm gives the guest's
 * in-memory files and its linear memory one Memory budget, and lowers this as files grow. */
void zvm_memory_set_limit(zvm_memory *mem, uint64_t bytes);

uint8_t zvm_global_type(const zvm_global *g);

/* ---- suspending and resuming (snapshots: docs/Snapshots.md) ------------ */

/* Like zvm_instance_new, but without initialising tables and memory from the segments and
 * without the start function: an instance to resume a saved state in. */
int zvm_instance_new_unstarted(zvm_runtime *rt, const zvm_module *m, const zvm_extern *imports, uint32_t nimports,
                               zvm_instance **out, zvm_error *err);
/* From a host function called by guest code: the engine's state of the calling instance
 * (globals, tables, segments, memory size, the call stack) as a malloc'd blob without host
 * addresses.  Linear memory is not in it (zvm_call_memory: the caller saves it).  Fails when
 * the guest could not be resumed from here: a host function calling back into the guest, a
 * call in tail position, a call stack that crosses instances. */
int zvm_call_save_state(zvm_call *call, uint8_t **state, size_t *size, zvm_error *err);
/* Maps bytes of fd at offset (page-aligned) as mem's contents, copy-on-write; mem's size
 * becomes bytes (within its limit, not below its size). */
int zvm_memory_map_file(zvm_memory *mem, int fd, uint64_t offset, uint64_t bytes, zvm_error *err);
/* Takes a saved state into inst (made by zvm_instance_new_unstarted from the same module, in a
 * runtime with the same imports made in the same order, its memory already restored): checks
 * it against the module and restores globals, tables and segments.  Nothing runs yet.  -1
 * with err when the state does not fit. */
int zvm_instance_restore(zvm_instance *inst, const uint8_t *state, size_t size, zvm_error *err);
/* Runs a restored instance on from where its state was saved, the host function it was in
 * returning results.  Returns like zvm_func_call when the outermost function returns, with its
 * results in outer_results (may be NULL when it has none). */
int zvm_instance_resume(zvm_instance *inst, const zvm_val *results, zvm_val *outer_results, zvm_trap *trap);
zvm_val zvm_global_get(const zvm_global *g);
void zvm_global_set(zvm_global *g, zvm_val v);

uint32_t zvm_table_size(const zvm_table *t);
int zvm_table_get(const zvm_table *t, uint32_t i, zvm_val *out);

#endif
