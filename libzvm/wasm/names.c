/*
 * names.c — the public API's small functions that name things for messages: value types and
 * trap kinds.  Every part of the engine (and its users) may call them; they call nothing.
 */
#include "wasm/wasm.h"

const char *zvm_valtype_name(uint8_t type)
{
    switch (type) {
    case ZVM_I32: return "i32";
    case ZVM_I64: return "i64";
    case ZVM_F32: return "f32";
    case ZVM_F64: return "f64";
    case ZVM_V128: return "v128";
    case ZVM_FUNCREF: return "funcref";
    case ZVM_EXTERNREF: return "externref";
    }
    return "unknown";
}

const char *zvm_trap_kind_message(enum zvm_trap_kind kind)
{
    switch (kind) {
    case ZVM_TRAP_NONE: return "no trap";
    case ZVM_TRAP_UNREACHABLE: return "unreachable";
    case ZVM_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case ZVM_TRAP_TABLE_OOB: return "out of bounds table access";
    case ZVM_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case ZVM_TRAP_NULL_ELEMENT: return "uninitialized element";
    case ZVM_TRAP_SIGNATURE: return "indirect call type mismatch";
    case ZVM_TRAP_DIV_ZERO: return "integer divide by zero";
    case ZVM_TRAP_INT_OVERFLOW: return "integer overflow";
    case ZVM_TRAP_BAD_CONVERSION: return "invalid conversion to integer";
    case ZVM_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case ZVM_TRAP_INTERRUPTED: return "interrupted";
    case ZVM_TRAP_HOST: return "host function failed";
    case ZVM_TRAP_EXIT: return "exit";
    case ZVM_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    }
    return "unknown trap";
}
