/*
 * validate.h — what validate.c (module-level rules) and validate_code.c (function bodies)
 * share.  Private to libzvm/wasm.
 */
#ifndef ZVM_WASM_VALIDATE_H
#define ZVM_WASM_VALIDATE_H

#include "wasm/module.h"

/* validate_code.c: the body of defined function `index` (module index space), every rule of
 * the spec's instruction typing.  "function N at byte 0x..: <spec message>: <detail>" */
int wasm_validate_function(const wasm_module *m, uint32_t index, zvm_error *err);

/* "i32", "funcref", ...: for messages. */
const char *wasm_valtype_name(uint8_t type);

#endif
