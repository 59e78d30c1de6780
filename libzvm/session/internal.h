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
 * memory 0's minimum); 0 when it has no memory.  bytes must be the module that loaded. */
uint64_t session_initial_memory(const uint8_t *bytes, size_t size, const zvm_module *m);

/* The Timeout: a thread that sleeps until the deadline, then interrupts the runtime. */
typedef struct session_timer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct timespec deadline;   /* CLOCK_MONOTONIC */
    zvm_runtime *rt;
    bool stop, fired, running;
} session_timer;

int session_timer_start(session_timer *t, zvm_runtime *rt, int64_t seconds, zvm_error *err);
/* Stops the thread; returns whether the deadline passed and the runtime was interrupted. */
bool session_timer_stop(session_timer *t);

/* Fills the etag and accounting lines from the channels (before they are closed). */
void session_report_channels(zvm_report *r, zvm_channel *const *channels, size_t n);

#endif
