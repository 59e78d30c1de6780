/*
 * module.h — a decoded module, as the decoder builds it and the validator, the translator and
 * instantiation read it.  Private to libzvm/wasm.
 *
 * Index spaces follow the spec: imported functions (tables, memories, globals) come first, then
 * the module's own.  The module keeps a private copy of the input bytes; code bodies, data
 * segments and names point into it, so nothing is copied twice.
 */
#ifndef ZVM_WASM_MODULE_H
#define ZVM_WASM_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/wasm.h"

#define WASM_PAGE_SIZE 65536u
#define WASM_MAX_PAGES 65536u            /* 4 GiB of 32-bit memory */

typedef struct wasm_limits {
    uint64_t min;
    uint64_t max;                        /* UINT64_MAX when absent */
} wasm_limits;

typedef struct wasm_tabletype {
    uint8_t elemtype;                    /* ZVM_FUNCREF or ZVM_EXTERNREF */
    wasm_limits limits;
} wasm_tabletype;

typedef struct wasm_globaltype {
    uint8_t valtype;
    bool mutable_;
} wasm_globaltype;

/* A constant expression of WebAssembly 2.0: exactly one instruction before `end`. */
typedef struct wasm_const_expr {
    /* 0x41 i32.const, 0x42, 0x43, 0x44, 0xd0 ref.null, 0xd2 ref.func, 0x23 global.get */
    uint8_t opcode;
    uint8_t reftype;                     /* for ref.null */
    uint64_t value;                      /* constant bits, or the function / global index */
    size_t offset;                       /* file offset of the instruction, for messages */
} wasm_const_expr;

typedef struct wasm_import {
    const char *module, *name;           /* NUL-terminated copies (a name may hold NULs too: */
    uint32_t module_len, name_len;       /*   these are the lengths in bytes) */
    enum zvm_extern_kind kind;
    union {
        uint32_t type_index;             /* FUNC */
        wasm_tabletype table;            /* TABLE */
        wasm_limits memory;              /* MEMORY (pages) */
        wasm_globaltype global;          /* GLOBAL */
    } u;
} wasm_import;

typedef struct wasm_local_run {          /* the locals vector as written: count × type */
    uint32_t count;
    uint8_t type;
} wasm_local_run;

typedef struct wasm_func {               /* a function the module defines */
    uint32_t type_index;
    uint32_t nlocals;                    /* declared locals, not counting parameters */
    uint32_t nruns;
    wasm_local_run *runs;
    const uint8_t *code;                 /* the expression after the locals, through its final `end` */
    size_t code_size;
    size_t code_offset;                  /* file offset of code[0], for messages and traps */
} wasm_func;

typedef struct wasm_global {             /* a global the module defines */
    wasm_globaltype type;
    wasm_const_expr init;
} wasm_global;

typedef struct wasm_export {
    const char *name;                    /* NUL-terminated copy */
    uint32_t name_len;                   /* its length in bytes (it may hold NULs) */
    enum zvm_extern_kind kind;
    uint32_t index;
} wasm_export;

enum wasm_segment_mode { WASM_SEG_ACTIVE, WASM_SEG_PASSIVE, WASM_SEG_DECLARATIVE };

typedef struct wasm_elem {
    enum wasm_segment_mode mode;
    uint8_t elemtype;                    /* ZVM_FUNCREF or ZVM_EXTERNREF */
    uint32_t table;                      /* active only */
    wasm_const_expr offset;              /* active only */
    uint32_t count;
    wasm_const_expr *items;              /* ref.func / ref.null / global.get each */
} wasm_elem;

typedef struct wasm_data {
    enum wasm_segment_mode mode;         /* ACTIVE or PASSIVE */
    uint32_t memory;
    wasm_const_expr offset;
    const uint8_t *bytes;
    uint32_t size;
} wasm_data;

typedef struct wasm_module {
    uint8_t *bytes;                      /* private copy of the input */
    size_t size;

    uint32_t ntypes;
    zvm_functype *types;

    uint32_t nimports;
    wasm_import *imports;

    /* index spaces */
    uint32_t nfuncs, nfunc_imports;      /* nfuncs counts imports too */
    uint32_t *func_type;                 /* type index of every function, imports first */
    wasm_func *funcs;                    /* the nfuncs - nfunc_imports defined ones */

    uint32_t ntables, ntable_imports;
    wasm_tabletype *tables;              /* all of them, imports first */

    uint32_t nmemories, nmemory_imports;
    wasm_limits *memories;               /* all of them (at most one in 2.0) */

    uint32_t nglobals, nglobal_imports;
    wasm_globaltype *global_types;       /* all of them, imports first */
    wasm_global *globals;                /* the defined ones */

    uint32_t nexports;
    wasm_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    wasm_elem *elems;

    bool has_datacount;
    uint32_t datacount;
    uint32_t ndatas;
    wasm_data *datas;

    /* functions referenced outside function bodies (exports, elements, globals): the only ones
     * ref.func may name inside a body (spec "C.refs") */
    bool *declared_refs;                 /* nfuncs entries */

    /* the name custom section (malformed name sections are ignored, as the spec allows) */
    const char *module_name;
    const char **func_names;             /* nfuncs entries, NULL where unnamed */

    /* translation, owned by the back end: wasm_module_free calls code_free(code) when set */
    void *code;
    void (*code_free)(void *code);
} wasm_module;

/* decode.c: bytes → module.  Malformed input: -1 with "at byte 0x..: ..." in err. */
int wasm_decode(const uint8_t *bytes, size_t size, wasm_module **out, zvm_error *err);
/* The same, keeping bytes (malloc'd) as the module's own copy: freed with it, or now on failure. */
int wasm_decode_owned(uint8_t *bytes, size_t size, wasm_module **out, zvm_error *err);
/* validate.c: every rule of the spec's validation chapter.  "function N at byte 0x..: ..." */
int wasm_validate(const wasm_module *m, zvm_error *err);
/* decode.c: frees everything, including the translation (m->code_free). */
void wasm_module_free(wasm_module *m);

static inline const zvm_functype *wasm_func_type(const wasm_module *m, uint32_t func_index)
{
    return &m->types[m->func_type[func_index]];
}

#endif
