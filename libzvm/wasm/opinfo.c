/* opinfo.c — the instruction tables of opinfo.h, generated from opcodes.def. */
#include "wasm/opinfo.h"

#include "wasm/wasm.h"

#define T__ 0
#define T_X 0
#define T_i ZVM_I32
#define T_I ZVM_I64
#define T_f ZVM_F32
#define T_F ZVM_F64
#define HAND__ false
#define HAND_i false
#define HAND_I false
#define HAND_f false
#define HAND_F false
#define HAND_X true
#define OP_INFO(imm, p1, p2, p3, r, text) { true, HAND_##p1, WASM_IMM_##imm, { T_##p1, T_##p2, T_##p3 }, T_##r, text }

const wasm_op_info wasm_ops[256] = {
#define OP(code, ident, text, imm, p1, p2, p3, r) [code] = OP_INFO(imm, p1, p2, p3, r, text),
#define OP_FC(code, ident, text, imm, p1, p2, p3, r)
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
};

const wasm_op_info wasm_fc_ops[WASM_FC_COUNT] = {
#define OP(code, ident, text, imm, p1, p2, p3, r)
#define OP_FC(code, ident, text, imm, p1, p2, p3, r) [code] = OP_INFO(imm, p1, p2, p3, r, text),
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
};

enum {
#define OP(code, ident, text, imm, p1, p2, p3, r) OPCODE_##ident = code,
#define OP_FC(code, ident, text, imm, p1, p2, p3, r)
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
};

const uint8_t wasm_natural_align_plus1[256] = {
#define OP(code, ident, text, imm, p1, p2, p3, r)
#define OP_FC(code, ident, text, imm, p1, p2, p3, r)
#define ACCESS_ALIGN(ident, n) [OPCODE_##ident] = (n) + 1,
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
#undef ACCESS_ALIGN
};
