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

/* validate_scan.c: reads the bodies of functions from..nfuncs-1 for binary-format faults
 * only; false (and err set) at the first.  Used to report the malformed part of a module that
 * is also invalid, as the reference interpreter does. */
bool wasm_scan_functions(const wasm_module *m, uint32_t from, zvm_error *err);

#endif
