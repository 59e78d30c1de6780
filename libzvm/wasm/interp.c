/*
 * interp.c — the handlers of the translated code and the entry into guest code.
 *
 * Every handler takes (ip, fp, mem, x) and ends by tail-calling the next instruction's handler
 * (clang's musttail guarantees a jump, never a call), so the four stay in registers across the
 * whole run and a guest's wasm→wasm calls never grow the C stack.  A handler returns only when
 * the guest stops: 0 when the outermost function returned, 1 on a trap (x->trap says which,
 * x->fault_ip says where).
 *
 * Operands are byte offsets from fp (SLOT), so "local.get 3" is the operand 24, and the result
 * of an instruction is written straight where the next one reads it.  Layouts are given above
 * each group as [cell][cell]..., "a|b" meaning the two 32-bit halves of one cell.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/exec.h"

/* Not reformatted: the handlers are one-line rows of a table (the macros make them); unfolded, the table would hide. */
/* clang-format off */

#define HANDLER(name) static int name(const cell *ip, uint64_t *fp, uint8_t *mem, struct exec *x)
#define DISPATCH() __attribute__((musttail)) return ip->h(ip, fp, mem, x)
#define NEXT(n) do { ip += (n); DISPATCH(); } while (0)
#define SLOT(off) (*(uint64_t *)((char *)fp + (off)))
#define DST (ip[1].u32[0])
#define SRC (ip[1].u32[1])
#define OPB (ip[2].u32[0])
#define UNLIKELY(c) __builtin_expect(!!(c), 0)
#define INTERRUPTED() UNLIKELY(atomic_load_explicit(x->interrupted, memory_order_relaxed))

static int trap_at(struct exec *x, const cell *ip, enum zvm_trap_kind kind)
{
    x->fault_ip = ip;
    x->trap->kind = kind;
    return 1;
}
#define TRAP(kind) return trap_at(x, ip, kind)

/* ---- value representation: every slot is 64 bits; i32 and f32 live in the low half ---- */

static inline float f32_of(uint64_t v) { uint32_t u = (uint32_t)v; float f; memcpy(&f, &u, 4); return f; }
static inline double f64_of(uint64_t v) { double d; memcpy(&d, &v, 8); return d; }
static inline uint64_t bits_f32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline uint64_t bits_f64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

#define T_i uint32_t
#define T_I uint64_t
#define T_f float
#define T_F double
#define GET_i(v) ((uint32_t)(v))
#define GET_I(v) ((uint64_t)(v))
#define GET_f(v) f32_of(v)
#define GET_F(v) f64_of(v)
#define PUT_i(r) ((uint64_t)(uint32_t)(r))
#define PUT_I(r) ((uint64_t)(r))
#define PUT_f(r) bits_f32(r)
#define PUT_F(r) bits_f64(r)

/* unary [h][dst|a] */
#define UN(name, ta, tr, expr) \
    HANDLER(h_##name) { T_##ta a = GET_##ta(SLOT(SRC)); SLOT(DST) = PUT_##tr(expr); NEXT(2); }

/* binary: ss [h][dst|a][b], si [h][dst|a][immediate b] */
#define BIN(name, ta, tr, expr) \
    HANDLER(h_##name##_ss) { T_##ta a = GET_##ta(SLOT(SRC)); T_##ta b = GET_##ta(SLOT(OPB)); SLOT(DST) = PUT_##tr(expr); NEXT(3); } \
    HANDLER(h_##name##_si) { T_##ta a = GET_##ta(SLOT(SRC)); T_##ta b = GET_##ta(ip[2].u64); SLOT(DST) = PUT_##tr(expr); NEXT(3); }

/* a comparison fused with the branch that consumes it: [h][a|rel][b or immediate];
 * br_ jumps when the comparison holds, brn_ when it does not (the `if` form).  A taken branch
 * may be a loop's back edge, so it checks the interruption flag. */
#define CMP(name, ta, expr) \
    BIN(name, ta, i, expr) \
    HANDLER(h_##name##_br_ss) { T_##ta a = GET_##ta(SLOT(ip[1].u32[0])); T_##ta b = GET_##ta(SLOT(OPB)); \
        if (expr) { if (INTERRUPTED()) TRAP(ZVM_TRAP_INTERRUPTED); NEXT(ip[1].i32[1]); } NEXT(3); } \
    HANDLER(h_##name##_br_si) { T_##ta a = GET_##ta(SLOT(ip[1].u32[0])); T_##ta b = GET_##ta(ip[2].u64); \
        if (expr) { if (INTERRUPTED()) TRAP(ZVM_TRAP_INTERRUPTED); NEXT(ip[1].i32[1]); } NEXT(3); } \
    HANDLER(h_##name##_brn_ss) { T_##ta a = GET_##ta(SLOT(ip[1].u32[0])); T_##ta b = GET_##ta(SLOT(OPB)); \
        if (!(expr)) NEXT(ip[1].i32[1]); NEXT(3); } \
    HANDLER(h_##name##_brn_si) { T_##ta a = GET_##ta(SLOT(ip[1].u32[0])); T_##ta b = GET_##ta(ip[2].u64); \
        if (!(expr)) NEXT(ip[1].i32[1]); NEXT(3); }

#define S32(v) ((int32_t)(v))
#define S64(v) ((int64_t)(v))

/* ---- comparisons ---- */
UN(i32_eqz, i, i, a == 0)
CMP(i32_eq, i, a == b)
CMP(i32_ne, i, a != b)
CMP(i32_lt_s, i, S32(a) < S32(b))
CMP(i32_lt_u, i, a < b)
CMP(i32_gt_s, i, S32(a) > S32(b))
CMP(i32_gt_u, i, a > b)
CMP(i32_le_s, i, S32(a) <= S32(b))
CMP(i32_le_u, i, a <= b)
CMP(i32_ge_s, i, S32(a) >= S32(b))
CMP(i32_ge_u, i, a >= b)
UN(i64_eqz, I, i, a == 0)
CMP(i64_eq, I, a == b)
CMP(i64_ne, I, a != b)
CMP(i64_lt_s, I, S64(a) < S64(b))
CMP(i64_lt_u, I, a < b)
CMP(i64_gt_s, I, S64(a) > S64(b))
CMP(i64_gt_u, I, a > b)
CMP(i64_le_s, I, S64(a) <= S64(b))
CMP(i64_le_u, I, a <= b)
CMP(i64_ge_s, I, S64(a) >= S64(b))
CMP(i64_ge_u, I, a >= b)
BIN(f32_eq, f, i, a == b)
BIN(f32_ne, f, i, a != b)
BIN(f32_lt, f, i, a < b)
BIN(f32_gt, f, i, a > b)
BIN(f32_le, f, i, a <= b)
BIN(f32_ge, f, i, a >= b)
BIN(f64_eq, F, i, a == b)
BIN(f64_ne, F, i, a != b)
BIN(f64_lt, F, i, a < b)
BIN(f64_gt, F, i, a > b)
BIN(f64_le, F, i, a <= b)
BIN(f64_ge, F, i, a >= b)

/* ---- integer arithmetic ---- */
#define DIV_CHECK(b) ({ if (UNLIKELY((b) == 0)) TRAP(ZVM_TRAP_DIV_ZERO); })
UN(i32_clz, i, i, a ? __builtin_clz(a) : 32)
UN(i32_ctz, i, i, a ? __builtin_ctz(a) : 32)
UN(i32_popcnt, i, i, __builtin_popcount(a))
BIN(i32_add, i, i, a + b)
BIN(i32_sub, i, i, a - b)
BIN(i32_mul, i, i, a * b)
BIN(i32_div_s, i, i, ({ DIV_CHECK(b); if (UNLIKELY(a == 0x80000000u && b == 0xffffffffu)) TRAP(ZVM_TRAP_INT_OVERFLOW); S32(a) / S32(b); }))
BIN(i32_div_u, i, i, ({ DIV_CHECK(b); a / b; }))
BIN(i32_rem_s, i, i, ({ DIV_CHECK(b); b == 0xffffffffu ? 0 : S32(a) % S32(b); }))
BIN(i32_rem_u, i, i, ({ DIV_CHECK(b); a % b; }))
BIN(i32_and, i, i, a & b)
BIN(i32_or, i, i, a | b)
BIN(i32_xor, i, i, a ^ b)
BIN(i32_shl, i, i, a << (b & 31))
BIN(i32_shr_s, i, i, S32(a) >> (b & 31))
BIN(i32_shr_u, i, i, a >> (b & 31))
BIN(i32_rotl, i, i, (a << (b & 31)) | (a >> ((32 - b) & 31)))
BIN(i32_rotr, i, i, (a >> (b & 31)) | (a << ((32 - b) & 31)))
UN(i64_clz, I, I, a ? __builtin_clzll(a) : 64)
UN(i64_ctz, I, I, a ? __builtin_ctzll(a) : 64)
UN(i64_popcnt, I, I, __builtin_popcountll(a))
BIN(i64_add, I, I, a + b)
BIN(i64_sub, I, I, a - b)
BIN(i64_mul, I, I, a * b)
BIN(i64_div_s, I, I, ({ DIV_CHECK(b); if (UNLIKELY(a == 0x8000000000000000u && b == UINT64_MAX)) TRAP(ZVM_TRAP_INT_OVERFLOW); S64(a) / S64(b); }))
BIN(i64_div_u, I, I, ({ DIV_CHECK(b); a / b; }))
BIN(i64_rem_s, I, I, ({ DIV_CHECK(b); b == UINT64_MAX ? 0 : S64(a) % S64(b); }))
BIN(i64_rem_u, I, I, ({ DIV_CHECK(b); a % b; }))
BIN(i64_and, I, I, a & b)
BIN(i64_or, I, I, a | b)
BIN(i64_xor, I, I, a ^ b)
BIN(i64_shl, I, I, a << (b & 63))
BIN(i64_shr_s, I, I, S64(a) >> (b & 63))
BIN(i64_shr_u, I, I, a >> (b & 63))
BIN(i64_rotl, I, I, (a << (b & 63)) | (a >> ((64 - b) & 63)))
BIN(i64_rotr, I, I, (a >> (b & 63)) | (a << ((64 - b) & 63)))

/* ---- floats: sign operations work on the bits, so NaN payloads pass untouched ---- */
static inline float f32_min(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f32_of(bits_f32(a) | bits_f32(b));     /* min(-0, +0) = -0 */
    return a < b ? a : b;
}
static inline float f32_max(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f32_of(bits_f32(a) & bits_f32(b));
    return a > b ? a : b;
}
static inline double f64_min(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f64_of(bits_f64(a) | bits_f64(b));
    return a < b ? a : b;
}
static inline double f64_max(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f64_of(bits_f64(a) & bits_f64(b));
    return a > b ? a : b;
}

UN(f32_abs, i, i, a & 0x7fffffffu)
UN(f32_neg, i, i, a ^ 0x80000000u)
UN(f32_ceil, f, f, ceilf(a))
UN(f32_floor, f, f, floorf(a))
UN(f32_trunc, f, f, truncf(a))
UN(f32_nearest, f, f, __builtin_roundevenf(a))
UN(f32_sqrt, f, f, sqrtf(a))
BIN(f32_add, f, f, a + b)
BIN(f32_sub, f, f, a - b)
BIN(f32_mul, f, f, a * b)
BIN(f32_div, f, f, a / b)
BIN(f32_min, f, f, f32_min(a, b))
BIN(f32_max, f, f, f32_max(a, b))
BIN(f32_copysign, i, i, (a & 0x7fffffffu) | (b & 0x80000000u))
UN(f64_abs, I, I, a & 0x7fffffffffffffffu)
UN(f64_neg, I, I, a ^ 0x8000000000000000u)
UN(f64_ceil, F, F, ceil(a))
UN(f64_floor, F, F, floor(a))
UN(f64_trunc, F, F, trunc(a))
UN(f64_nearest, F, F, __builtin_roundeven(a))
UN(f64_sqrt, F, F, sqrt(a))
BIN(f64_add, F, F, a + b)
BIN(f64_sub, F, F, a - b)
BIN(f64_mul, F, F, a * b)
BIN(f64_div, F, F, a / b)
BIN(f64_min, F, F, f64_min(a, b))
BIN(f64_max, F, F, f64_max(a, b))
BIN(f64_copysign, I, I, (a & 0x7fffffffffffffffu) | (b & 0x8000000000000000u))

/* ---- conversions: a float outside (lo, hi) does not fit; NaN is its own trap ---- */
#define TRUNC(a, lo, hi, T) ({ if (UNLIKELY((a) != (a))) TRAP(ZVM_TRAP_BAD_CONVERSION); \
    if (UNLIKELY(!((a) > (lo) && (a) < (hi)))) TRAP(ZVM_TRAP_INT_OVERFLOW); (T)(a); })
#define SAT(a, lo, hi, T, tmin, tmax) ((a) != (a) ? (T)0 : !((a) > (lo)) ? (T)(tmin) : !((a) < (hi)) ? (T)(tmax) : (T)(a))

UN(i32_wrap_i64, I, i, a)
UN(i32_trunc_f32_s, f, i, TRUNC(a, -2147483904.0f, 2147483648.0f, int32_t))
UN(i32_trunc_f32_u, f, i, TRUNC(a, -1.0f, 4294967296.0f, uint32_t))
UN(i32_trunc_f64_s, F, i, TRUNC(a, -2147483649.0, 2147483648.0, int32_t))
UN(i32_trunc_f64_u, F, i, TRUNC(a, -1.0, 4294967296.0, uint32_t))
UN(i64_extend_i32_s, i, I, (int64_t)S32(a))
UN(i64_extend_i32_u, i, I, a)
UN(i64_trunc_f32_s, f, I, TRUNC(a, -9223373136366403584.0f, 9223372036854775808.0f, int64_t))
UN(i64_trunc_f32_u, f, I, TRUNC(a, -1.0f, 18446744073709551616.0f, uint64_t))
UN(i64_trunc_f64_s, F, I, TRUNC(a, -9223372036854777856.0, 9223372036854775808.0, int64_t))
UN(i64_trunc_f64_u, F, I, TRUNC(a, -1.0, 18446744073709551616.0, uint64_t))
UN(f32_convert_i32_s, i, f, (float)S32(a))
UN(f32_convert_i32_u, i, f, (float)a)
UN(f32_convert_i64_s, I, f, (float)S64(a))
UN(f32_convert_i64_u, I, f, (float)a)
UN(f32_demote_f64, F, f, (float)a)
UN(f64_convert_i32_s, i, F, (double)S32(a))
UN(f64_convert_i32_u, i, F, (double)a)
UN(f64_convert_i64_s, I, F, (double)S64(a))
UN(f64_convert_i64_u, I, F, (double)a)
UN(f64_promote_f32, f, F, (double)a)
UN(i32_reinterpret_f32, i, i, a)
UN(i64_reinterpret_f64, I, I, a)
UN(f32_reinterpret_i32, i, i, a)
UN(f64_reinterpret_i64, I, I, a)
UN(i32_extend8_s, i, i, (int32_t)(int8_t)a)
UN(i32_extend16_s, i, i, (int32_t)(int16_t)a)
UN(i64_extend8_s, I, I, (int64_t)(int8_t)a)
UN(i64_extend16_s, I, I, (int64_t)(int16_t)a)
UN(i64_extend32_s, I, I, (int64_t)(int32_t)a)
UN(i32_trunc_sat_f32_s, f, i, SAT(a, -2147483904.0f, 2147483648.0f, int32_t, INT32_MIN, INT32_MAX))
UN(i32_trunc_sat_f32_u, f, i, SAT(a, -1.0f, 4294967296.0f, uint32_t, 0, UINT32_MAX))
UN(i32_trunc_sat_f64_s, F, i, SAT(a, -2147483649.0, 2147483648.0, int32_t, INT32_MIN, INT32_MAX))
UN(i32_trunc_sat_f64_u, F, i, SAT(a, -1.0, 4294967296.0, uint32_t, 0, UINT32_MAX))
UN(i64_trunc_sat_f32_s, f, I, SAT(a, -9223373136366403584.0f, 9223372036854775808.0f, int64_t, INT64_MIN, INT64_MAX))
UN(i64_trunc_sat_f32_u, f, I, SAT(a, -1.0f, 18446744073709551616.0f, uint64_t, 0, UINT64_MAX))
UN(i64_trunc_sat_f64_s, F, I, SAT(a, -9223372036854777856.0, 9223372036854775808.0, int64_t, INT64_MIN, INT64_MAX))
UN(i64_trunc_sat_f64_u, F, I, SAT(a, -1.0, 18446744073709551616.0, uint64_t, 0, UINT64_MAX))

/* ---- memory: loads [h][dst|addr][offset], stores [h][addr|value][offset] ----
 * With guard pages the effective address (a 33-bit sum) always lands inside the reservation:
 * an access past the accessible size faults and the signal handler makes it a trap, using
 * fault_ip to say where.  The sanitizer build checks explicitly instead. */
#ifdef ZVM_EXPLICIT_BOUNDS
#define ACCESS(ea, n) ({ uint64_t ea_ = (ea); \
    if (UNLIKELY(ea_ + (n) > x->memory->size)) TRAP(ZVM_TRAP_MEMORY_OOB); mem + ea_; })
#else
#define ACCESS(ea, n) (x->fault_ip = ip, mem + (ea))
#endif
#define EA(n) ACCESS((uint64_t)(uint32_t)SLOT(ip[1].u32[IS_STORE ? 0 : 1]) + ip[2].u64, n)

/* A load is also fused with the address arithmetic that feeds it (the translator removes the
 * add, or the shift and the add, that computed the address):
 *   _add_ss [h][dst|x][y|offset]        address (x + y) mod 2^32
 *   _add_si [h][dst|x][k|offset]        address (x + k) mod 2^32
 *   _idx    [h][dst|x][y|offset][k]     address (x + (y << k)) mod 2^32: an array element
 *   _idxk   [h][dst|x][y|offset][k|c]   address (x + c + (y << k)) mod 2^32: an array in a struct */
#define IS_STORE 0
#define LOAD(name, T, conv) \
    HANDLER(h_##name) { T v; memcpy(&v, EA(sizeof(T)), sizeof(T)); SLOT(DST) = conv; NEXT(3); } \
    HANDLER(h_##name##_add_ss) { \
        uint64_t ea = (uint32_t)((uint32_t)SLOT(SRC) + (uint32_t)SLOT(ip[2].u32[0])) + (uint64_t)ip[2].u32[1]; \
        T v; memcpy(&v, ACCESS(ea, sizeof(T)), sizeof(T)); SLOT(DST) = conv; NEXT(3); } \
    HANDLER(h_##name##_add_si) { \
        uint64_t ea = (uint32_t)((uint32_t)SLOT(SRC) + ip[2].u32[0]) + (uint64_t)ip[2].u32[1]; \
        T v; memcpy(&v, ACCESS(ea, sizeof(T)), sizeof(T)); SLOT(DST) = conv; NEXT(3); } \
    HANDLER(h_##name##_idx) { \
        uint64_t ea = (uint32_t)((uint32_t)SLOT(SRC) + ((uint32_t)SLOT(ip[2].u32[0]) << ip[3].u32[0])) + (uint64_t)ip[2].u32[1]; \
        T v; memcpy(&v, ACCESS(ea, sizeof(T)), sizeof(T)); SLOT(DST) = conv; NEXT(4); } \
    HANDLER(h_##name##_idxk) { \
        uint64_t ea = (uint32_t)((uint32_t)SLOT(SRC) + ip[3].u32[1] + ((uint32_t)SLOT(ip[2].u32[0]) << ip[3].u32[0])) + (uint64_t)ip[2].u32[1]; \
        T v; memcpy(&v, ACCESS(ea, sizeof(T)), sizeof(T)); SLOT(DST) = conv; NEXT(4); }
LOAD(i32_load, uint32_t, v)
LOAD(i64_load, uint64_t, v)
LOAD(f32_load, uint32_t, v)
LOAD(f64_load, uint64_t, v)
LOAD(i32_load8_s, int8_t, (uint32_t)(int32_t)v)
LOAD(i32_load8_u, uint8_t, v)
LOAD(i32_load16_s, int16_t, (uint32_t)(int32_t)v)
LOAD(i32_load16_u, uint16_t, v)
LOAD(i64_load8_s, int8_t, (uint64_t)(int64_t)v)
LOAD(i64_load8_u, uint8_t, v)
LOAD(i64_load16_s, int16_t, (uint64_t)(int64_t)v)
LOAD(i64_load16_u, uint16_t, v)
LOAD(i64_load32_s, int32_t, (uint64_t)(int64_t)v)
LOAD(i64_load32_u, uint32_t, v)
#undef IS_STORE
#define IS_STORE 1
/* Stores come in the same fused forms (the translator defers an address computation until
 * it sees who consumes it), and with a constant value:
 *   _k      [h][addr|-][offset][k]
 *   _add_ss [h][x|value][y|offset]   _add_si [h][x|value][k|offset]   _idx [h][x|value][y|offset][shift] */
#define STORE(name, T) \
    HANDLER(h_##name) { T v = (T)SLOT(ip[1].u32[1]); memcpy(EA(sizeof(T)), &v, sizeof(T)); NEXT(3); } \
    HANDLER(h_##name##_k) { T v = (T)ip[3].u64; memcpy(EA(sizeof(T)), &v, sizeof(T)); NEXT(4); } \
    HANDLER(h_##name##_add_ss) { \
        uint64_t ea = (uint32_t)((uint32_t)SLOT(ip[1].u32[0]) + (uint32_t)SLOT(ip[2].u32[0])) + (uint64_t)ip[2].u32[1]; \
        T v = (T)SLOT(ip[1].u32[1]); memcpy(ACCESS(ea, sizeof(T)), &v, sizeof(T)); NEXT(3); } \
    HANDLER(h_##name##_add_si) { \
        uint64_t ea = (uint32_t)((uint32_t)SLOT(ip[1].u32[0]) + ip[2].u32[0]) + (uint64_t)ip[2].u32[1]; \
        T v = (T)SLOT(ip[1].u32[1]); memcpy(ACCESS(ea, sizeof(T)), &v, sizeof(T)); NEXT(3); } \
    HANDLER(h_##name##_idx) { \
        uint64_t ea = (uint32_t)((uint32_t)SLOT(ip[1].u32[0]) + ((uint32_t)SLOT(ip[2].u32[0]) << ip[3].u32[0])) + (uint64_t)ip[2].u32[1]; \
        T v = (T)SLOT(ip[1].u32[1]); memcpy(ACCESS(ea, sizeof(T)), &v, sizeof(T)); NEXT(4); }
STORE(i32_store, uint32_t)
STORE(i64_store, uint64_t)
STORE(f32_store, uint32_t)
STORE(f64_store, uint64_t)
STORE(i32_store8, uint8_t)
STORE(i32_store16, uint16_t)
STORE(i64_store8, uint8_t)
STORE(i64_store16, uint16_t)
STORE(i64_store32, uint32_t)
#undef IS_STORE

/* ---- the numeric table, generated from opcodes.def ---- */
#define ENTRY_NONE(id, p1, p2) ENTRY_NONE_##p1(id, p2)
#define ENTRY_NONE_X(id, p2) {0}
#define ENTRY_NONE__(id, p2) {0}
#define ENTRY_NONE_i(id, p2) ENTRY_ARITH_##p2(id)
#define ENTRY_NONE_I(id, p2) ENTRY_ARITH_##p2(id)
#define ENTRY_NONE_f(id, p2) ENTRY_ARITH_##p2(id)
#define ENTRY_NONE_F(id, p2) ENTRY_ARITH_##p2(id)
#define ENTRY_ARITH__(id) { .unary = h_##id }
#define ENTRY_ARITH_i(id) { .ss = h_##id##_ss, .si = h_##id##_si }
#define ENTRY_ARITH_I(id) ENTRY_ARITH_i(id)
#define ENTRY_ARITH_f(id) ENTRY_ARITH_i(id)
#define ENTRY_ARITH_F(id) ENTRY_ARITH_i(id)
#define ENTRY_MEMARG(id, p1, p2) ENTRY_MEMARG_##p2(id)
#define ENTRY_MEMARG__(id) { .load = h_##id, .load_add_ss = h_##id##_add_ss, .load_add_si = h_##id##_add_si, \
                             .load_idx = h_##id##_idx, .load_idxk = h_##id##_idxk }
#define ENTRY_MEMARG_i(id) { .store = h_##id, .store_k = h_##id##_k, .store_add_ss = h_##id##_add_ss, \
                             .store_add_si = h_##id##_add_si, .store_idx = h_##id##_idx }
#define ENTRY_MEMARG_I(id) ENTRY_MEMARG_i(id)
#define ENTRY_MEMARG_f(id) ENTRY_MEMARG_i(id)
#define ENTRY_MEMARG_F(id) ENTRY_MEMARG_i(id)
#define ENTRY_OTHER(id, p1, p2) {0}
#define ENTRY_BLOCKTYPE ENTRY_OTHER
#define ENTRY_LABEL ENTRY_OTHER
#define ENTRY_BR_TABLE ENTRY_OTHER
#define ENTRY_FUNC ENTRY_OTHER
#define ENTRY_CALL_INDIRECT ENTRY_OTHER
#define ENTRY_LOCAL ENTRY_OTHER
#define ENTRY_GLOBAL ENTRY_OTHER
#define ENTRY_TABLE ENTRY_OTHER
#define ENTRY_MEMORY ENTRY_OTHER
#define ENTRY_I32 ENTRY_OTHER
#define ENTRY_I64 ENTRY_OTHER
#define ENTRY_F32 ENTRY_OTHER
#define ENTRY_F64 ENTRY_OTHER
#define ENTRY_REFTYPE ENTRY_OTHER
#define ENTRY_SELECT_T ENTRY_OTHER
#define ENTRY_DATA ENTRY_OTHER
#define ENTRY_ELEM ENTRY_OTHER
#define ENTRY_MEMORY_INIT ENTRY_OTHER
#define ENTRY_MEMORY_COPY ENTRY_OTHER
#define ENTRY_TABLE_INIT ENTRY_OTHER
#define ENTRY_TABLE_COPY ENTRY_OTHER

const struct op_handlers wasm_op_handlers[256 + 32] = {
#define OP(code, ident, text, imm, p1, p2, p3, r) [code] = ENTRY_##imm(ident, p1, p2),
#define OP_FC(code, ident, text, imm, p1, p2, p3, r) [256 + (code)] = ENTRY_##imm(ident, p1, p2),
#include "wasm/opcodes.def"
#undef OP
#undef OP_FC
};

#define BR_ENTRY(code, id) [code] = { h_##id##_br_ss, h_##id##_br_si, h_##id##_brn_ss, h_##id##_brn_si },
const struct br_handlers wasm_branch_handlers[256] = {
    BR_ENTRY(0x46, i32_eq) BR_ENTRY(0x47, i32_ne) BR_ENTRY(0x48, i32_lt_s) BR_ENTRY(0x49, i32_lt_u)
    BR_ENTRY(0x4a, i32_gt_s) BR_ENTRY(0x4b, i32_gt_u) BR_ENTRY(0x4c, i32_le_s) BR_ENTRY(0x4d, i32_le_u)
    BR_ENTRY(0x4e, i32_ge_s) BR_ENTRY(0x4f, i32_ge_u)
    BR_ENTRY(0x51, i64_eq) BR_ENTRY(0x52, i64_ne) BR_ENTRY(0x53, i64_lt_s) BR_ENTRY(0x54, i64_lt_u)
    BR_ENTRY(0x55, i64_gt_s) BR_ENTRY(0x56, i64_gt_u) BR_ENTRY(0x57, i64_le_s) BR_ENTRY(0x58, i64_le_u)
    BR_ENTRY(0x59, i64_ge_s) BR_ENTRY(0x5a, i64_ge_u)
};

/* ---- moves and constants: copy [h][dst|src], const32 [h][dst|k], const64 [h][dst|-][k] ---- */
HANDLER(h_copy) { SLOT(DST) = SLOT(SRC); NEXT(2); }
HANDLER(h_const32) { SLOT(DST) = SRC; NEXT(2); }
HANDLER(h_const64) { SLOT(DST) = ip[2].u64; NEXT(3); }
/* lea [h][dst|x][y][shift]: x + (y << shift), a deferred array address nobody fused */
HANDLER(h_lea) { SLOT(DST) = (uint32_t)((uint32_t)SLOT(SRC) + ((uint32_t)SLOT(ip[2].u32[0]) << ip[3].u32[0])); NEXT(4); }
/* select [h][dst|cond][a|b] */
HANDLER(h_select) { SLOT(DST) = (uint32_t)SLOT(SRC) ? SLOT(ip[2].u32[0]) : SLOT(ip[2].u32[1]); NEXT(3); }

/* ---- branches: distances are in cells from the branch instruction ----
 * br [h][rel]; br_if / br_unless [h][cond|rel]; br_table [h][cond|n][rel 0]..[rel n] */
HANDLER(h_br) { NEXT(ip[1].i32[0]); }
HANDLER(h_br_loop)
{
    if (INTERRUPTED()) TRAP(ZVM_TRAP_INTERRUPTED);
    NEXT(ip[1].i32[0]);
}
HANDLER(h_br_if)
{
    if ((uint32_t)SLOT(ip[1].u32[0])) {
        if (INTERRUPTED()) TRAP(ZVM_TRAP_INTERRUPTED);
        NEXT(ip[1].i32[1]);
    }
    NEXT(2);
}
HANDLER(h_br_unless)
{
    if (!(uint32_t)SLOT(ip[1].u32[0])) NEXT(ip[1].i32[1]);
    NEXT(2);
}
HANDLER(h_br_table)
{
    uint32_t i = (uint32_t)SLOT(ip[1].u32[0]), n = ip[1].u32[1];
    if (i > n) i = n;
    if (INTERRUPTED()) TRAP(ZVM_TRAP_INTERRUPTED);
    NEXT(ip[2 + i].i32[0]);
}
HANDLER(h_unreachable) { TRAP(ZVM_TRAP_UNREACHABLE); }

/* ---- calls ---- */

static inline uint8_t *memory_base(const struct exec *x) { return x->memory ? x->memory->base : NULL; }

static inline void enter_instance(struct exec *x, zvm_instance *inst)
{
    x->inst = inst;
    x->funcs = inst->funcs;
    x->globals = inst->globals;
    x->memory = inst->memory;
}


/* Runs a host function with its arguments at args (the top of the caller's operand stack) and
 * puts its results there.  The runtime's free stack starts past them, for host code that calls
 * back into the guest.  The guest goes on at resume in frame fp (what a snapshot records). */
static int call_host(struct exec *x, zvm_func *f, uint64_t *args, const cell *ip, const cell *resume, uint64_t *fp)
{
    zvm_runtime *rt = x->rt;
    uint32_t np = f->type->nparams, nr = f->type->nresults;
    zvm_val small[8], *res = nr <= 8 ? small : calloc(nr, sizeof *res);
    if (!res) {
        snprintf(x->trap->msg, sizeof x->trap->msg, "out of memory calling a host function");
        return trap_at(x, ip, ZVM_TRAP_HOST);
    }
    uint64_t *saved_free = rt->stack_free;
    struct frame *saved_frame = rt->frame_free;
    rt->stack_free = args + (np > nr ? np : nr);
    rt->frame_free = x->frame;
    struct zvm_call call = { x, x->trap, x->inst, f, resume, fp, args };
    x->trap->kind = ZVM_TRAP_NONE;
    int rc = f->host(&call, f->user, args, res);
    rt->stack_free = saved_free;
    rt->frame_free = saved_frame;
    wasm_memory_guard_exec = x;
    if (rc == 0 && nr)
        memcpy(args, res, nr * sizeof *res);
    if (res != small)
        free(res);
    if (rc != 0) {
        if (x->trap->kind == ZVM_TRAP_NONE) {
            x->trap->kind = ZVM_TRAP_HOST;
            snprintf(x->trap->msg, sizeof x->trap->msg, "host function failed");
        }
        x->fault_ip = ip;
        return 1;
    }
    return 0;
}

/* The last step into a wasm function, for calls and tail calls alike: the callee's instance
 * becomes current (memory base included) and the interruption flag is checked at its entry.
 * Its first instruction, or NULL on a trap. */
static inline const cell *enter_callee(struct exec *x, zvm_func *f, uint8_t **memp)
{
    if (f->inst != x->inst) {
        enter_instance(x, f->inst);
        *memp = memory_base(x);
    }
    if (INTERRUPTED()) {
        trap_at(x, f->code->entry, ZVM_TRAP_INTERRUPTED);
        return NULL;
    }
    return f->code->entry;
}

/* Enters f with its arguments at nfp.  Returns the first instruction to run, with *fpp, *memp
 * and x switched to the callee, or NULL on a trap (host functions run here and return ret). */
static inline const cell *invoke(struct exec *x, zvm_func *f, const cell *ip, const cell *ret,
                                 uint64_t *fp, uint64_t **fpp, uint8_t **memp)
{
    uint64_t *nfp = *fpp;                /* the caller passes the callee's frame here */
    if (f->host) {
        if (call_host(x, f, nfp, ip, ret, fp))
            return NULL;
        *fpp = NULL;                     /* tells the caller: continue at ret in the same frame */
        return ret;
    }
    const struct code_func *cf = f->code;
    if (UNLIKELY(x->frame == x->frame_end || nfp + cf->frame_slots > x->stack_end)) {
        trap_at(x, ip, ZVM_TRAP_STACK_EXHAUSTED);
        return NULL;
    }
    x->frame->ret = ret;
    x->frame->fp = fp;
    x->frame->inst = x->inst;
    x->frame++;
    return enter_callee(x, f, memp);
}

/* call [h][code_func*][frame offset]: a function of the same module */
HANDLER(h_call)
{
    const struct code_func *cf = ip[1].ptr;
    uint64_t *nfp = (uint64_t *)((char *)fp + ip[2].u32[0]);
    struct frame *fr = x->frame;         /* locals: the stores below cannot alias them */
    zvm_instance *inst = x->inst;
    if (UNLIKELY(fr == x->frame_end || nfp + cf->frame_slots > x->stack_end))
        TRAP(ZVM_TRAP_STACK_EXHAUSTED);
    x->frame = fr + 1;
    fr->ret = ip + 3;
    fr->fp = fp;
    fr->inst = inst;
    fp = nfp;
    ip = cf->entry;
    if (INTERRUPTED()) TRAP(ZVM_TRAP_INTERRUPTED);
    DISPATCH();
}

/* call_import [h][func index|frame offset]: an imported function (host, or another instance's) */
HANDLER(h_call_import)
{
    zvm_func *f = x->funcs[ip[1].u32[0]];
    uint64_t *nfp = (uint64_t *)((char *)fp + ip[1].u32[1]);
    const cell *next = invoke(x, f, ip, ip + 2, fp, &nfp, &mem);
    if (!next) return 1;
    if (nfp) fp = nfp;
    ip = next;
    DISPATCH();
}

/* The function [h][type index|table index][element slot|...] names, checked: the element is in
 * the table, not null, a reference the runtime knows (a number, never an address: see
 * wasm_runtime_func_of_ref) and of the type.  NULL with the trap set otherwise. */
static inline zvm_func *indirect_callee(struct exec *x, const cell *ip, uint64_t *fp)
{
    zvm_table *t = x->inst->tables[ip[1].u32[1]];
    uint32_t i = (uint32_t)SLOT(ip[2].u32[0]);
    enum zvm_trap_kind why;
    zvm_func *f = NULL;
    if (UNLIKELY(i >= t->size))
        why = ZVM_TRAP_UNDEFINED_ELEMENT;
    else if (UNLIKELY(!t->elems[i]))
        why = ZVM_TRAP_NULL_ELEMENT;
    else if (UNLIKELY(!(f = wasm_runtime_func_of_ref(x->rt, t->elems[i])) ||
                      f->type != x->inst->types[ip[1].u32[0]]))
        why = ZVM_TRAP_SIGNATURE;
    else
        return f;
    trap_at(x, ip, why);
    return NULL;
}

/* call_indirect [h][type index|table index][element slot|frame offset] */
HANDLER(h_call_indirect)
{
    zvm_func *f = indirect_callee(x, ip, fp);
    if (UNLIKELY(!f)) return 1;
    uint64_t *nfp = (uint64_t *)((char *)fp + ip[2].u32[1]);
    const cell *next = invoke(x, f, ip, ip + 3, fp, &nfp, &mem);
    if (!next) return 1;
    if (nfp) fp = nfp;
    ip = next;
    DISPATCH();
}

/* ret [h]: the results are already in the frame's first slots */
HANDLER(h_ret)
{
    if (x->frame == x->frame_base)
        return 0;
    struct frame *fr = --x->frame;
    fp = fr->fp;
    ip = fr->ret;
    if (UNLIKELY(fr->inst != x->inst)) {
        enter_instance(x, fr->inst);
        mem = memory_base(x);
    }
    DISPATCH();
}

/* ---- tail calls: the callee takes over the caller's frame, and returns to the caller's caller ---- */

/* A ret, for a host function called in tail position to return through. */
static const cell ret_cell[1] = { { .h = h_ret } };

/* Replaces the current frame by a call of f whose arguments are at args: they move to the
 * frame's first slots and f runs in their place, so unbounded tail recursion takes constant
 * stack.  A host function is called, its results moved to the frame's first slots, and then we
 * return (ret_cell).  NULL on a trap. */
static inline const cell *tail_invoke(struct exec *x, zvm_func *f, const cell *ip, uint64_t *fp, uint64_t *args,
                                      uint8_t **memp)
{
    if (f->host) {
        if (call_host(x, f, args, ip, ret_cell, fp))
            return NULL;
        memmove(fp, args, f->type->nresults * sizeof *fp);
        return ret_cell;
    }
    const struct code_func *cf = f->code;
    if (UNLIKELY(fp + cf->frame_slots > x->stack_end)) {
        trap_at(x, ip, ZVM_TRAP_STACK_EXHAUSTED);
        return NULL;
    }
    memmove(fp, args, cf->nparams * sizeof *fp);
    return enter_callee(x, f, memp);
}

/* return_call [h][code_func*][arguments offset]: a function of the same module */
HANDLER(h_return_call)
{
    const struct code_func *cf = ip[1].ptr;
    uint64_t *args = (uint64_t *)((char *)fp + ip[2].u32[0]);
    if (UNLIKELY(fp + cf->frame_slots > x->stack_end)) TRAP(ZVM_TRAP_STACK_EXHAUSTED);
    memmove(fp, args, cf->nparams * sizeof *fp);
    ip = cf->entry;
    if (INTERRUPTED()) TRAP(ZVM_TRAP_INTERRUPTED);
    DISPATCH();
}

/* return_call_import [h][func index|arguments offset] */
HANDLER(h_return_call_import)
{
    zvm_func *f = x->funcs[ip[1].u32[0]];
    const cell *next = tail_invoke(x, f, ip, fp, (uint64_t *)((char *)fp + ip[1].u32[1]), &mem);
    if (!next) return 1;
    ip = next;
    DISPATCH();
}

/* return_call_indirect [h][type index|table index][element slot|arguments offset] */
HANDLER(h_return_call_indirect)
{
    zvm_func *f = indirect_callee(x, ip, fp);
    if (UNLIKELY(!f)) return 1;
    const cell *next = tail_invoke(x, f, ip, fp, (uint64_t *)((char *)fp + ip[2].u32[1]), &mem);
    if (!next) return 1;
    ip = next;
    DISPATCH();
}

/* translate [h][code_func*]: the entry of a function not yet translated (exec.h, code_func).
 * Translates it and goes on in it; the callers checked the stack against frame_slots while it
 * was 0, so the check is repeated with the real size. */
HANDLER(h_translate)
{
    struct code_func *cf = (struct code_func *)ip[1].ptr;
    zvm_error err;
    if (wasm_translate_function(x->inst->module->w, cf, &err) != 0) {
        snprintf(x->trap->msg, sizeof x->trap->msg, "%s", err.msg);
        TRAP(ZVM_TRAP_HOST);
    }
    if (UNLIKELY(fp + cf->frame_slots > x->stack_end))
        TRAP(ZVM_TRAP_STACK_EXHAUSTED);
    ip = cf->entry;
    DISPATCH();
}

/* zero_locals [h][first slot|count]: the first instruction of a function with declared locals */
HANDLER(h_zero_locals)
{
    uint64_t *p = (uint64_t *)((char *)fp + ip[1].u32[0]);
    switch (ip[1].u32[1]) {              /* few locals is the common case: no call to memset */
    default: memset(p, 0, ip[1].u32[1] * sizeof *p); break;
    case 8: p[7] = 0; __attribute__((fallthrough));
    case 7: p[6] = 0; __attribute__((fallthrough));
    case 6: p[5] = 0; __attribute__((fallthrough));
    case 5: p[4] = 0; __attribute__((fallthrough));
    case 4: p[3] = 0; __attribute__((fallthrough));
    case 3: p[2] = 0; __attribute__((fallthrough));
    case 2: p[1] = 0; __attribute__((fallthrough));
    case 1: p[0] = 0;
    }
    NEXT(2);
}

/* ---- variables and references ---- */
/* global.get [h][dst|index]; global.set [h][src|index]; ref.func [h][dst|index] */
HANDLER(h_global_get) { SLOT(DST) = x->globals[SRC]->value; NEXT(2); }
HANDLER(h_global_set) { x->globals[SRC]->value = SLOT(DST); NEXT(2); }
HANDLER(h_ref_func) { SLOT(DST) = x->funcs[SRC]->ref; NEXT(2); }

/* ---- memory size and bulk operations ---- */
/* memory.size [h][dst]; memory.grow [h][dst|delta] */
HANDLER(h_memory_size) { SLOT(DST) = x->memory->size / WASM_PAGE_SIZE; NEXT(2); }
HANDLER(h_memory_grow)
{
    int64_t old = wasm_memory_grow_pages(x->memory, (uint32_t)SLOT(SRC));
    SLOT(DST) = (uint32_t)old;
    mem = x->memory->base;
    NEXT(2);
}

/* memory.init [h][dst|src][n|segment] */
HANDLER(h_memory_init)
{
    uint64_t d = (uint32_t)SLOT(DST), s = (uint32_t)SLOT(SRC), n = (uint32_t)SLOT(ip[2].u32[0]);
    uint32_t seg = ip[2].u32[1];
    const wasm_data *data = &x->inst->module->w->datas[seg];
    uint64_t avail = x->inst->data_dropped[seg] ? 0 : data->size;
    if (s + n > avail || d + n > x->memory->size) TRAP(ZVM_TRAP_MEMORY_OOB);
    if (n) memcpy(x->memory->base + d, data->bytes + s, n);
    NEXT(3);
}
/* data.drop / elem.drop [h][segment] */
HANDLER(h_data_drop) { x->inst->data_dropped[ip[1].u32[0]] = true; NEXT(2); }
HANDLER(h_elem_drop) { x->inst->elem_sizes[ip[1].u32[0]] = 0; NEXT(2); }
/* memory.copy [h][dst|src][n]; memory.fill [h][dst|value][n] */
HANDLER(h_memory_copy)
{
    uint64_t d = (uint32_t)SLOT(DST), s = (uint32_t)SLOT(SRC), n = (uint32_t)SLOT(ip[2].u32[0]);
    if (s + n > x->memory->size || d + n > x->memory->size) TRAP(ZVM_TRAP_MEMORY_OOB);
    if (n) memmove(x->memory->base + d, x->memory->base + s, n);
    NEXT(3);
}
HANDLER(h_memory_fill)
{
    uint64_t d = (uint32_t)SLOT(DST), n = (uint32_t)SLOT(ip[2].u32[0]);
    if (d + n > x->memory->size) TRAP(ZVM_TRAP_MEMORY_OOB);
    if (n) memset(x->memory->base + d, (int)(uint8_t)SLOT(SRC), n);
    NEXT(3);
}

/* table.get [h][dst|index][table]; table.set [h][index|value][table] */
HANDLER(h_table_get)
{
    zvm_table *t = x->inst->tables[ip[2].u32[0]];
    uint32_t i = (uint32_t)SLOT(SRC);
    if (i >= t->size) TRAP(ZVM_TRAP_TABLE_OOB);
    SLOT(DST) = t->elems[i];
    NEXT(3);
}
HANDLER(h_table_set)
{
    zvm_table *t = x->inst->tables[ip[2].u32[0]];
    uint32_t i = (uint32_t)SLOT(DST);
    if (i >= t->size) TRAP(ZVM_TRAP_TABLE_OOB);
    t->elems[i] = SLOT(SRC);
    NEXT(3);
}
/* table.init [h][dst|src][n|segment][table] */
HANDLER(h_table_init)
{
    zvm_table *t = x->inst->tables[ip[3].u32[0]];
    uint32_t seg = ip[2].u32[1];
    uint64_t d = (uint32_t)SLOT(DST), s = (uint32_t)SLOT(SRC), n = (uint32_t)SLOT(ip[2].u32[0]);
    if (s + n > x->inst->elem_sizes[seg] || d + n > t->size) TRAP(ZVM_TRAP_TABLE_OOB);
    if (n) memcpy(t->elems + d, x->inst->elem_items[seg] + s, n * sizeof(zvm_val));
    NEXT(4);
}
/* table.copy [h][dst|src][n][dst table|src table] */
HANDLER(h_table_copy)
{
    zvm_table *td = x->inst->tables[ip[3].u32[0]], *ts = x->inst->tables[ip[3].u32[1]];
    uint64_t d = (uint32_t)SLOT(DST), s = (uint32_t)SLOT(SRC), n = (uint32_t)SLOT(ip[2].u32[0]);
    if (s + n > ts->size || d + n > td->size) TRAP(ZVM_TRAP_TABLE_OOB);
    if (n) memmove(td->elems + d, ts->elems + s, n * sizeof(zvm_val));
    NEXT(4);
}
/* table.grow [h][dst|init][n|table] (dst is also where init was) */
HANDLER(h_table_grow)
{
    zvm_table *t = x->inst->tables[ip[2].u32[1]];
    uint32_t old = t->size;
    int r = wasm_table_grow_by(t, (uint32_t)SLOT(ip[2].u32[0]), SLOT(SRC));
    SLOT(DST) = r == 0 ? old : UINT32_MAX;
    NEXT(3);
}
/* table.size [h][dst|table] */
HANDLER(h_table_size) { SLOT(DST) = x->inst->tables[SRC]->size; NEXT(2); }
/* table.fill [h][index|value][n|table] */
HANDLER(h_table_fill)
{
    zvm_table *t = x->inst->tables[ip[2].u32[1]];
    uint64_t i = (uint32_t)SLOT(DST), n = (uint32_t)SLOT(ip[2].u32[0]);
    if (i + n > t->size) TRAP(ZVM_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
        t->elems[i + k] = SLOT(SRC);
    NEXT(3);
}

const struct handlers wasm_handlers = {
    .copy = h_copy, .const32 = h_const32, .const64 = h_const64, .br = h_br, .br_loop = h_br_loop,
    .br_if = h_br_if, .br_unless = h_br_unless, .br_table = h_br_table, .ret = h_ret,
    .unreachable = h_unreachable, .call = h_call, .call_import = h_call_import,
    .call_indirect = h_call_indirect, .select = h_select, .global_get = h_global_get,
    .global_set = h_global_set, .table_get = h_table_get, .table_set = h_table_set,
    .memory_size = h_memory_size, .memory_grow = h_memory_grow, .ref_func = h_ref_func,
    .memory_init = h_memory_init, .data_drop = h_data_drop, .memory_copy = h_memory_copy,
    .memory_fill = h_memory_fill, .table_init = h_table_init, .elem_drop = h_elem_drop,
    .table_copy = h_table_copy, .table_grow = h_table_grow, .table_size = h_table_size,
    .table_fill = h_table_fill, .i64_eqz = h_i64_eqz, .lea = h_lea, .zero_locals = h_zero_locals,
    .return_call = h_return_call, .return_call_import = h_return_call_import,
    .return_call_indirect = h_return_call_indirect, .translate = h_translate,
};

/* ---- host-facing pieces ---- */


void wasm_exec_set_trap(zvm_trap *trap, enum zvm_trap_kind kind)
{
    trap->kind = kind;
    snprintf(trap->msg, sizeof trap->msg, "%s", zvm_trap_kind_message(kind));
}

uint8_t *zvm_call_memory(zvm_call *call, uint64_t *size)
{
    zvm_memory *mem = call->inst ? call->inst->memory : NULL;
    if (size)
        *size = mem ? mem->size : 0;
    return mem ? mem->base : NULL;
}

zvm_instance *zvm_call_instance(zvm_call *call) { return call->inst; }

int zvm_call_trap(zvm_call *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->trap->msg, sizeof call->trap->msg, fmt, ap);
    va_end(ap);
    call->trap->kind = ZVM_TRAP_HOST;
    return -1;
}

int zvm_call_exit(zvm_call *call, int code)
{
    call->trap->kind = ZVM_TRAP_EXIT;
    call->trap->exit_code = code;
    snprintf(call->trap->msg, sizeof call->trap->msg, "exit with code %d", code);
    return -1;
}

/* Fills the trap's position from the instruction that stopped. */
static void locate(zvm_trap *trap, zvm_instance *inst, const cell *ip)
{
    if (!ip || !inst)
        return;
    const wasm_module *w = inst->module->w;
    wasm_code_locate(w->code, ip, &trap->func_index, &trap->offset);
    if (trap->func_index != UINT32_MAX && w->func_names)
        trap->func_name = w->func_names[trap->func_index];
}

#define MAX_NESTING 100

void wasm_exec_init(struct exec *x, zvm_runtime *rt, zvm_instance *inst, zvm_trap *trap)
{
    *x = (struct exec){
        .rt = rt, .frame = rt->frame_free, .frame_base = rt->frame_free, .frame_end = rt->frames_end,
        .stack_end = rt->stack_end, .interrupted = &rt->interrupted, .trap = trap,
    };
    enter_instance(x, inst);
}

int wasm_exec_run(struct exec *x, const cell *ip, uint64_t *fp)
{
    zvm_runtime *rt = x->rt;
    zvm_trap *trap = x->trap;
    int rc;
    if (atomic_load_explicit(&rt->interrupted, memory_order_relaxed)) {
        rc = trap_at(x, ip, ZVM_TRAP_INTERRUPTED);
    } else {
        sigjmp_buf jb;
        struct exec *outer = wasm_memory_guard_exec;
        x->jmp = &jb;
        wasm_memory_guard_thread();
        wasm_memory_guard_exec = x;
        rt->nesting++;
        if (sigsetjmp(jb, 0) == 0)
            rc = ip->h(ip, fp, memory_base(x), x);
        else
            rc = 1;                      /* the fault handler set trap->kind */
        rt->nesting--;
        wasm_memory_guard_exec = outer;
    }
    if (rc) {
        if (trap->kind != ZVM_TRAP_HOST && trap->kind != ZVM_TRAP_EXIT)
            wasm_exec_set_trap(trap, trap->kind);
        locate(trap, x->inst, x->fault_ip);
        return -1;
    }
    return 0;
}

int wasm_exec_call(zvm_runtime *rt, zvm_func *f, const zvm_val *args, zvm_val *results, zvm_trap *trap)
{
    memset(trap, 0, sizeof *trap);
    trap->func_index = UINT32_MAX;
    if (f->host) {
        struct zvm_call call = { .trap = trap };
        zvm_val small[8], *res = f->type->nresults <= 8 ? small : calloc(f->type->nresults, sizeof *res);
        if (!res) {
            trap->kind = ZVM_TRAP_HOST;
            snprintf(trap->msg, sizeof trap->msg, "out of memory");
            return -1;
        }
        int rc = f->host(&call, f->user, args, res);
        if (rc == 0 && f->type->nresults)
            memcpy(results, res, f->type->nresults * sizeof *res);
        else if (trap->kind == ZVM_TRAP_NONE)
            wasm_exec_set_trap(trap, ZVM_TRAP_HOST);
        if (res != small)
            free(res);
        return rc == 0 ? 0 : -1;
    }

    const struct code_func *cf = f->code;
    uint64_t *fp = rt->stack_free;
    /* Host functions may call back into the guest, which may call them again: that recursion
     * is on the C stack, so it gets its own small bound. */
    if (rt->frame_free == rt->frames_end || (size_t)(rt->stack_end - fp) < cf->frame_slots ||
        rt->nesting >= MAX_NESTING) {
        wasm_exec_set_trap(trap, ZVM_TRAP_STACK_EXHAUSTED);
        trap->func_index = cf->func_index;
        return -1;
    }
    if (cf->nparams)
        memcpy(fp, args, cf->nparams * sizeof *args);

    struct exec x;
    wasm_exec_init(&x, rt, f->inst, trap);
    if (wasm_exec_run(&x, cf->entry, fp) != 0)
        return -1;
    if (cf->nresults)
        memcpy(results, fp, cf->nresults * sizeof *results);
    return 0;
}
/* clang-format on */
