/*
 * setjmp.c — the runtime of clang's setjmp/longjmp lowering for WebAssembly (zvm-cc links it as
 * libzvm-setjmp.a; Debian's wasi-libc lacks it).  With -mllvm -wasm-enable-sjlj, LLVM's
 * WebAssemblyLowerEmscriptenEHSjLj pass rewrites, in each function that calls setjmp:
 *
 *   - setjmp(env)      into __wasm_setjmp(env, label, id): remember that env was set by this
 *                      invocation of the function (id: an address unique to it) at call site
 *                      `label`, and go on as if setjmp returned 0;
 *   - longjmp(env, v)  anywhere into __wasm_longjmp(env, v): throw the exception of tag
 *                      __c_longjmp with a pointer to {env, v};
 *   - every call in the function into try/catch __c_longjmp, whose handler asks
 *                      __wasm_setjmp_test(env, id) whether env belongs to this invocation: if so
 *                      (a nonzero label) it resumes after that setjmp with v as its value, else
 *                      it rethrows the exception to the callers.
 *
 * So a longjmp unwinds the wasm frames between it and its setjmp as an exception (the engine's
 * frame stack, nothing of the host's).  The first six words of a jmp_buf are ours (the ABI of
 * the pass): the invocation id, the label, and {env, v} for the throw.
 */
#include <stddef.h>
#include <stdint.h>

struct longjmp_arg {
    void *env;
    int val;
};

struct jmp_buf_impl {
    void *invocation;                    /* the function invocation that set it */
    uint32_t label;                      /* its setjmp call site there (never 0) */
    struct longjmp_arg arg;              /* what a longjmp to it throws */
};

_Static_assert(sizeof(struct jmp_buf_impl) <= 6 * sizeof(void *), "the ABI reserves six words of a jmp_buf");

void __wasm_setjmp(void *env, uint32_t label, void *invocation);
uint32_t __wasm_setjmp_test(void *env, void *invocation);
_Noreturn void __wasm_longjmp(void *env, int val);

void __wasm_setjmp(void *env, uint32_t label, void *invocation)
{
    struct jmp_buf_impl *jb = env;
    if (label == 0 || invocation == NULL)        /* the pass never passes these: a broken build */
        __builtin_trap();
    jb->invocation = invocation;
    jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *invocation)
{
    const struct jmp_buf_impl *jb = env;
    return jb->invocation == invocation ? jb->label : 0;
}

_Noreturn void __wasm_longjmp(void *env, int val)
{
    struct jmp_buf_impl *jb = env;
    jb->arg.env = env;
    jb->arg.val = val == 0 ? 1 : val;            /* C: longjmp(env, 0) makes setjmp return 1 */
    __builtin_wasm_throw(1, &jb->arg);           /* 1: the C longjmp tag, __c_longjmp */
}
