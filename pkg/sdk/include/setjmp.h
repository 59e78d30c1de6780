/*
 * setjmp.h — setjmp/longjmp for zvm guests (zvm-cc).  Debian's wasi-libc has none: WebAssembly
 * has no way to save and restore a call stack, so clang lowers setjmp/longjmp to WebAssembly
 * exception handling (zvm-cc passes -mllvm -wasm-enable-sjlj), calling the small runtime in
 * zvm-cc's libzvm-setjmp.a (pkg/sdk/runtime/setjmp.c).  The calls are rewritten by name at
 * compile time, so setjmp and longjmp are declared here but never defined:
 * take neither's address.  A longjmp may only go to a setjmp whose function is still running
 * (as C requires); a longjmp across a function that was not compiled with zvm-cc's flags ends
 * the program with "uncaught exception".
 */
#ifndef ZVM_SETJMP_H
#define ZVM_SETJMP_H

#ifdef __cplusplus
extern "C" {
#endif

/* The first six words belong to the runtime (the ABI of LLVM's lowering); the rest gives the
 * size and alignment C code expects of a jmp_buf. */
typedef struct __jmp_buf_tag {
    unsigned long __jb[6];
    int __fl;
    unsigned long __ss[32];
} jmp_buf[1];
typedef jmp_buf sigjmp_buf;

int setjmp(jmp_buf env) __attribute__((__returns_twice__));
_Noreturn void longjmp(jmp_buf env, int val);

/* No signal masks in WASI: the POSIX variants are the plain ones. */
#define _setjmp(env) setjmp(env)
#define _longjmp(env, val) longjmp(env, val)
#define sigsetjmp(env, savemask) setjmp(env)
#define siglongjmp(env, val) longjmp(env, val)

#ifdef __cplusplus
}
#endif

#endif
