/*
 * opinfo.h — what the validator knows of each instruction, generated from opcodes.def: its
 * immediates, and for instructions with fixed types what they pop and push.  Private to
 * libzvm/wasm.
 */
#ifndef ZVM_WASM_OPINFO_H
#define ZVM_WASM_OPINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wasm_imm_kind {
    WASM_IMM_NONE,
    WASM_IMM_BLOCKTYPE,
    WASM_IMM_LABEL,
    WASM_IMM_BR_TABLE,
    WASM_IMM_FUNC,
    WASM_IMM_CALL_INDIRECT,
    WASM_IMM_LOCAL,
    WASM_IMM_GLOBAL,
    WASM_IMM_TABLE,
    WASM_IMM_MEMARG,
    WASM_IMM_MEMORY,
    WASM_IMM_I32,
    WASM_IMM_I64,
    WASM_IMM_F32,
    WASM_IMM_F64,
    WASM_IMM_REFTYPE,
    WASM_IMM_SELECT_T,
    WASM_IMM_DATA,
    WASM_IMM_ELEM,
    WASM_IMM_MEMORY_INIT,
    WASM_IMM_MEMORY_COPY,
    WASM_IMM_TABLE_INIT,
    WASM_IMM_TABLE_COPY,
    WASM_IMM_TAG,
};

typedef struct wasm_op_info {
    bool known;
    bool by_hand;                        /* "X" in opcodes.def: typed by hand in validate_code.c */
    uint8_t imm;                         /* enum wasm_imm_kind */
    uint8_t pop[3];                      /* operand types in push order (p1 p2 p3); 0 where none */
    uint8_t push;                        /* the value type pushed, 0 if none */
    const char *name;
} wasm_op_info;

#define WASM_FC_COUNT 0x12               /* 0xFC sub-opcodes 0 .. 0x11 */

extern const wasm_op_info wasm_ops[256];
extern const wasm_op_info wasm_fc_ops[WASM_FC_COUNT];
struct wasm_module;
struct wasm_reader;
/* validate_scan.c: reads past the immediates of the instruction at op_at (info is its entry),
 * checking them as the binary format asks; false with the reader's error set.  The validator's
 * scan and the translator's skipping of dead code share it. */
bool wasm_skip_immediates(const struct wasm_module *m, struct wasm_reader *r, const wasm_op_info *info, size_t op_at);

/* log2 of each memory access's natural alignment, + 1 (0: not a memory access) */
extern const uint8_t wasm_natural_align_plus1[256];

#endif
