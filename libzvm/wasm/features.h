/*
 * features.h — the WebAssembly proposals beyond 2.0 the engine implements, switchable in one
 * place.  An instruction of a proposal that is switched off is an illegal opcode to the
 * validator (validate_code.c asks wasm_feature_missing), so no other part of the engine needs
 * to know: the translator and interpreter only ever see validated code.  Private to libzvm/wasm.
 */
#ifndef ZVM_WASM_FEATURES_H
#define ZVM_WASM_FEATURES_H

#include <stdint.h>

enum wasm_feature {
    WASM_FEATURE_TAIL_CALL = 1u << 0,    /* return_call, return_call_indirect */
    /* exception handling in the form clang-19 emits (-fwasm-exceptions, -wasm-enable-sjlj): try,
     * catch, throw, rethrow, delegate, catch_all and the tag section */
    WASM_FEATURE_EXCEPTIONS = 1u << 1,
};

/* What this build implements: the one switch. */
#define WASM_FEATURES_ENABLED (WASM_FEATURE_TAIL_CALL | WASM_FEATURE_EXCEPTIONS)

/* The proposal one-byte opcode op belongs to if it is not enabled, else 0. */
static inline uint32_t wasm_feature_missing(uint8_t op)
{
    uint32_t needs = op == 0x12 || op == 0x13                                 ? WASM_FEATURE_TAIL_CALL
                     : (op >= 0x06 && op <= 0x09) || op == 0x18 || op == 0x19 ? WASM_FEATURE_EXCEPTIONS
                                                                              : 0;
    return needs & ~(uint32_t)WASM_FEATURES_ENABLED;
}

#endif
