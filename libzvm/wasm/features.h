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
};

/* What this build implements: the one switch. */
#define WASM_FEATURES_ENABLED (WASM_FEATURE_TAIL_CALL)

/* The proposal one-byte opcode op belongs to if it is not enabled, else 0. */
static inline uint32_t wasm_feature_missing(uint8_t op)
{
    uint32_t needs = op == 0x12 || op == 0x13 ? WASM_FEATURE_TAIL_CALL : 0;
    return needs & ~(uint32_t)WASM_FEATURES_ENABLED;
}

#endif
