/*
 * timer.c — the Timeout.  A thread sleeps on a condition variable until the deadline (monotonic
 * clock, so a changed wall clock does not matter), then asks the engine to stop the guest; the
 * engine checks at every function entry and loop header, so a runaway guest stops within
 * microseconds of the deadline, start function included.
 */
#include "session/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Far enough for any real job, near enough that the arithmetic cannot overflow. */
#define MAX_TIMEOUT_SECONDS (100LL * 365 * 24 * 3600)

static void *timer_main(void *arg)
{
    session_timer *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        int rc = pthread_cond_timedwait(&t->wake, &t->lock, &t->deadline);
        if (rc == ETIMEDOUT && !t->stop) {
            t->fired = true;
            zvm_runtime_interrupt(t->rt);
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int session_timer_start(session_timer *t, zvm_runtime *rt, int64_t seconds, zvm_error *err)
{
    memset(t, 0, sizeof *t);
    t->rt = rt;
    clock_gettime(CLOCK_MONOTONIC, &t->deadline);
    t->deadline.tv_sec += seconds > MAX_TIMEOUT_SECONDS ? MAX_TIMEOUT_SECONDS : seconds;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&t->lock, NULL);
    int rc = pthread_create(&t->thread, NULL, timer_main, t);
    if (rc != 0) {
        snprintf(err->msg, sizeof err->msg, "cannot start the Timeout timer thread: %s", strerror(rc));
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        return -1;
    }
    t->running = true;
    return 0;
}

bool session_timer_stop(session_timer *t)
{
    if (!t->running)
        return false;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    t->running = false;
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    return t->fired;
}
