/*
 * memory.c — linear memories and the fault handler that makes their guard pages traps.
 *
 * A memory reserves MEMORY_RESERVE bytes of address space with PROT_NONE: every address a load
 * or store can form (a 32-bit index plus a 32-bit offset, plus the access size) falls inside.
 * The accessible part [0, size) is made readable and writable; growing is one mprotect and the
 * base never moves.  So the interpreter's loads and stores carry no bounds check: an access
 * past the size touches a PROT_NONE page, the kernel raises SIGSEGV, and on_fault, running on
 * an alternate stack, turns it into a ZVM_TRAP_MEMORY_OOB trap by siglongjmp to the entry of
 * the guest call (wasm_exec_call).  Faults that are not in a guest memory of the running call are
 * handed back to whatever handler was there before us.
 *
 * Built with ZVM_EXPLICIT_BOUNDS (the sanitizer build) the interpreter checks every access
 * and no handler is installed: ASan owns SIGSEGV there.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wasm/exec.h"

__thread struct exec *wasm_memory_guard_exec;

int wasm_memory_init_object(zvm_memory *mem, uint64_t min_pages, uint64_t max_pages, zvm_error *err)
{
    mem->base = mmap(NULL, MEMORY_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem->base == MAP_FAILED) {
        mem->base = NULL;
        snprintf(err->msg, sizeof err->msg, "cannot reserve address space for a linear memory: %s", strerror(errno));
        return -1;
    }
    mem->size = 0;
    mem->max_pages = max_pages;
    if (min_pages > max_pages || wasm_memory_grow_pages(mem, min_pages) < 0) {
        snprintf(err->msg, sizeof err->msg, "linear memory of %llu pages exceeds the limit of %llu pages",
                 (unsigned long long)min_pages, (unsigned long long)max_pages);
        munmap(mem->base, MEMORY_RESERVE);
        mem->base = NULL;
        return -1;
    }
    return 0;
}

void wasm_memory_release(zvm_memory *mem)
{
    if (mem->base)
        munmap(mem->base, MEMORY_RESERVE);
    mem->base = NULL;
}

int64_t wasm_memory_grow_pages(zvm_memory *mem, uint64_t delta)
{
    uint64_t old = mem->size / WASM_PAGE_SIZE;
    if (delta == 0)
        return (int64_t)old;
    if (delta > mem->max_pages || old + delta > mem->max_pages || old + delta > WASM_MAX_PAGES)
        return -1;
    uint64_t new_size = (old + delta) * WASM_PAGE_SIZE;
    if (mprotect(mem->base + mem->size, new_size - mem->size, PROT_READ | PROT_WRITE) != 0)
        return -1;
    mem->size = new_size;
    return (int64_t)old;
}

#ifdef ZVM_EXPLICIT_BOUNDS

void wasm_memory_guard_thread(void) {}

#else

static struct sigaction previous_segv, previous_bus;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool thread_has_altstack;

static void on_fault(int sig, siginfo_t *info, void *context)
{
    struct exec *x = wasm_memory_guard_exec;
    uint8_t *addr = info->si_addr;
    if (x && x->memory && x->memory->base && addr >= x->memory->base && addr < x->memory->base + MEMORY_RESERVE) {
        x->trap->kind = ZVM_TRAP_MEMORY_OOB;
        siglongjmp(*x->jmp, 1);
    }
    /* not ours: do what would have happened without us */
    struct sigaction *prev = sig == SIGBUS ? &previous_bus : &previous_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) {
            prev->sa_sigaction(sig, info, context);
            return;
        }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);                /* returning re-executes the access and dies of it */
}

/* Installs on_fault unless it is the handler already.  Checked at every entry into guest code,
 * since a host (or a test framework) may have replaced it since; whatever was there is kept and
 * called for faults that are not ours. */
static void install_handler(void)
{
    struct sigaction cur;
    if (sigaction(SIGSEGV, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault)
        return;
    pthread_mutex_lock(&install_lock);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    /* SA_NODEFER: we leave the handler by siglongjmp without restoring the mask (sigsetjmp(.., 0)
     * is cheap), so the signal must not stay blocked */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_segv, old_bus;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    if (old_segv.sa_sigaction != on_fault)
        previous_segv = old_segv;
    if (old_bus.sa_sigaction != on_fault)
        previous_bus = old_bus;
    pthread_mutex_unlock(&install_lock);
}

void wasm_memory_guard_thread(void)
{
    install_handler();
    if (thread_has_altstack)
        return;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) {
        thread_has_altstack = true;      /* someone (the host, a sanitizer) already set one */
        return;
    }
    size_t size = 64 * 1024;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return;                          /* faults will still be caught unless the stack itself overflowed */
    stack_t ss = { .ss_sp = stack, .ss_size = size, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) == 0)
        thread_has_altstack = true;
    else
        munmap(stack, size);
}

#endif
