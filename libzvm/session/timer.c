/*
 * timer.c — the Timeout.  A thread sleeps on a condition variable until the deadline (monotonic
 * clock, so a changed wall clock does not matter), then stops the session two ways:
 *   - it asks the engine to stop the guest (zvm_runtime_interrupt); the engine checks at every
 *     function entry and loop header, so running wasm stops within microseconds;
 *   - it sends SIGURG to the session's thread, whose handler does nothing: that only makes a
 *     blocking system call (reading a FIFO or a terminal that never delivers, opening a FIFO
 *     nobody writes) return EINTR, which the channels pass up instead of retrying.
 * It repeats the signal every 50 ms until the session stops, in case the first one arrived while
 * the thread was not inside a system call.
 *
 * A stop flag (session.h, options->stop) makes the thread also wake every 50 ms to look at it: a
 * signal handler cannot signal a condition variable, and 50 ms is prompt for a person or a
 * supervisor.  A set flag fires the timer early, the same two ways, and remembers the signal.
 *
 * Start-up: the thread is detached and has a small stack.  What it shares with the session is a
 * heap block both hold a reference to; stopping the timer marks it stopped under the lock (after
 * which the thread touches neither the runtime nor the session's thread) and lets go, so the
 * session does not wait for the thread to wake up and exit.
 */
#include "session/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Far enough for any real job, near enough that the arithmetic cannot overflow. */
#define MAX_TIMEOUT_SECONDS (100LL * 365 * 24 * 3600)
#define RESEND_NS (50 * 1000 * 1000)
#define STOP_POLL_NS (50 * 1000 * 1000)
/* The thread only waits, compares times and sends signals; glibc puts its TLS on this stack too. */
#define THREAD_STACK (64 * 1024)

struct timer_thread {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t target;           /* the session's thread */
    struct timespec deadline;   /* CLOCK_MONOTONIC; moves on by 50 ms per resent signal */
    zvm_runtime *rt;            /* NULL until the runtime exists */
    const volatile sig_atomic_t *stop_flag;   /* options->stop: watched every 50 ms; NULL: none */
    int signal;                 /* the signal that stopped the session, 0 if none */
    bool stop, fired;
    int refs;                   /* the session's and the thread's: the last to let go frees it */
};

static void wake_up(int sig)
{
    (void)sig;   /* its only job is to interrupt a blocking system call */
}

/* Installs the do-nothing SIGURG handler (no SA_RESTART), unless the program has its own. */
static void install_wake_handler(void)
{
    struct sigaction old;
    if (sigaction(SIGURG, NULL, &old) != 0 || old.sa_handler == wake_up)
        return;
    if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
        return;
    struct sigaction sa = { .sa_handler = wake_up };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGURG, &sa, NULL);
}

static void add_ns(struct timespec *ts, long ns)
{
    ts->tv_nsec += ns;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* True (once) when a signal handler has set the stop flag; it remembers the signal. */
static bool stop_flag_set(struct timer_thread *t)
{
    if (!t->stop_flag || !*t->stop_flag || t->signal)
        return false;
    t->signal = *t->stop_flag;
    return true;
}

/* Until the deadline, or until the next look at the stop flag if that comes first.  Returns
 * true when it is time to fire (the deadline passed, or the flag is set). */
static bool wait_for_deadline(struct timer_thread *t)
{
    if (stop_flag_set(t))
        return true;
    struct timespec until = t->deadline;
    if (t->stop_flag && !t->fired) {
        struct timespec look;
        clock_gettime(CLOCK_MONOTONIC, &look);
        add_ns(&look, STOP_POLL_NS);
        if (before(&look, &until))
            until = look;
    }
    int rc = pthread_cond_timedwait(&t->wake, &t->lock, &until);
    if (t->stop)
        return false;
    if (stop_flag_set(t))
        return true;
    return rc == ETIMEDOUT && !before(&until, &t->deadline);
}

/* Called with t->lock held, which it releases; frees t when nobody else holds it. */
static void let_go(struct timer_thread *t)
{
    bool last = --t->refs == 0;
    pthread_mutex_unlock(&t->lock);
    if (!last)
        return;
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static void *timer_main(void *arg)
{
    struct timer_thread *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        if (!wait_for_deadline(t))
            continue;
        if (!t->fired && t->rt)
            zvm_runtime_interrupt(t->rt);
        if (!t->fired)   /* from now on, resend every 50 ms */
            clock_gettime(CLOCK_MONOTONIC, &t->deadline);
        t->fired = true;
        pthread_kill(t->target, SIGURG);
        add_ns(&t->deadline, RESEND_NS);
    }
    let_go(t);
    return NULL;
}

/* A detached thread with a small stack running timer_main; 0 or an errno. */
static int start_thread(struct timer_thread *t)
{
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0)
        return rc;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_attr_setstacksize(&attr, THREAD_STACK) != 0)
        pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
    pthread_t thread;
    rc = pthread_create(&thread, &attr, timer_main, t);
    pthread_attr_destroy(&attr);
    return rc;
}

int session_timer_start(session_timer *t, int64_t seconds, const volatile sig_atomic_t *stop_flag, zvm_error *err)
{
    memset(t, 0, sizeof *t);
    struct timer_thread *th = calloc(1, sizeof *th);
    if (!th) {
        snprintf(err->msg, sizeof err->msg, "cannot start the Timeout timer thread: out of memory");
        return -1;
    }
    th->target = pthread_self();
    th->stop_flag = stop_flag;
    th->refs = 2;
    install_wake_handler();
    clock_gettime(CLOCK_MONOTONIC, &th->deadline);
    th->deadline.tv_sec += seconds > MAX_TIMEOUT_SECONDS ? MAX_TIMEOUT_SECONDS : seconds;
    t->due = th->deadline;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&th->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&th->lock, NULL);
    int rc = start_thread(th);
    if (rc != 0) {
        snprintf(err->msg, sizeof err->msg, "cannot start the Timeout timer thread: %s", strerror(rc));
        pthread_cond_destroy(&th->wake);
        pthread_mutex_destroy(&th->lock);
        free(th);
        return -1;
    }
    t->thread = th;
    return 0;
}

void session_timer_set_runtime(session_timer *t, zvm_runtime *rt)
{
    struct timer_thread *th = t->thread;
    if (!th)
        return;
    pthread_mutex_lock(&th->lock);
    th->rt = rt;
    if (th->fired && rt)
        zvm_runtime_interrupt(rt);
    pthread_mutex_unlock(&th->lock);
}

bool session_timer_fired(session_timer *t)
{
    struct timer_thread *th = t->thread;
    if (!th)
        return t->fired;
    pthread_mutex_lock(&th->lock);
    bool fired = th->fired;
    pthread_mutex_unlock(&th->lock);
    return fired;
}

int session_timer_signal(session_timer *t)
{
    struct timer_thread *th = t->thread;
    if (!th)
        return t->signal;
    pthread_mutex_lock(&th->lock);
    int sig = th->signal;
    pthread_mutex_unlock(&th->lock);
    return sig;
}

int64_t session_timer_overrun_ms(const session_timer *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->due.tv_sec) * 1000 + (now.tv_nsec - t->due.tv_nsec) / 1000000;
}

bool session_timer_stop(session_timer *t)
{
    struct timer_thread *th = t->thread;
    if (!th)
        return t->fired;
    pthread_mutex_lock(&th->lock);
    th->stop = true;   /* from here on the thread touches neither the runtime nor our thread */
    t->fired = th->fired;
    t->signal = th->signal;
    pthread_cond_signal(&th->wake);
    let_go(th);
    t->thread = NULL;
    return t->fired;
}
