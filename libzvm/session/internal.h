/*
 * internal.h — the session's own parts, shared by its files and by nobody else:
 * program.c (read the .wasm, find its initial memory), timer.c (the Timeout), report.c.
 */
#ifndef ZVM_SESSION_INTERNAL_H
#define ZVM_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel/channel.h"
#include "session/session.h"
#include "wasm/wasm.h"

/* Reads the program file whole.  Returns 0, or ZVM_EXIT_NOENT / ZVM_EXIT_IO / ZVM_EXIT_MEMORY
 * with err naming the path. */
int session_read_program(const char *path, uint8_t **bytes, size_t *size, zvm_error *err);

/* The bytes of linear memory a loaded module asks for at instantiation (imported or defined
 * memory 0's minimum); 0 when it has no memory. */
uint64_t session_initial_memory(const zvm_module *m);

/* The Timeout: a thread that sleeps until the deadline, then interrupts the runtime (once one
 * is set) and wakes the session's thread out of any blocking system call (see timer.c). */
typedef struct session_timer {
    pthread_t thread;
    pthread_t target;           /* the session's thread */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct timespec deadline;   /* CLOCK_MONOTONIC; moves on by 50 ms per resent signal */
    struct timespec due;        /* the Timeout itself */
    zvm_runtime *rt;            /* NULL until the runtime exists */
    bool stop, fired, running;
} session_timer;

/* Starts the clock for the calling thread's session. */
int session_timer_start(session_timer *t, int64_t seconds, zvm_error *err);
void session_timer_set_runtime(session_timer *t, zvm_runtime *rt);
bool session_timer_fired(session_timer *t);
/* Milliseconds since the Timeout passed (negative before). */
int64_t session_timer_overrun_ms(const session_timer *t);
/* Stops the thread; returns whether the deadline passed. */
bool session_timer_stop(session_timer *t);

/* Fills the etag and accounting lines from the channels (before they are closed; NULL ones,
 * never opened, are skipped). */
void session_report_channels(zvm_report *r, zvm_channel *const *channels, size_t n);

#endif
