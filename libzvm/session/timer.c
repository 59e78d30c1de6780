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
 */
#include "session/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Far enough for any real job, near enough that the arithmetic cannot overflow. */
#define MAX_TIMEOUT_SECONDS (100LL * 365 * 24 * 3600)
#define RESEND_NS (50 * 1000 * 1000)
#define STOP_POLL_NS (50 * 1000 * 1000)

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
static bool stop_flag_set(session_timer *t)
{
    if (!t->stop_flag || !*t->stop_flag || t->signal)
        return false;
    t->signal = *t->stop_flag;
    return true;
}

/* Until the deadline, or until the next look at the stop flag if that comes first.  Returns
 * true when it is time to fire (the deadline passed, or the flag is set). */
static bool wait_for_deadline(session_timer *t)
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

static void *timer_main(void *arg)
{
    session_timer *t = arg;
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
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int session_timer_start(session_timer *t, int64_t seconds, const volatile sig_atomic_t *stop_flag, zvm_error *err)
{
    memset(t, 0, sizeof *t);
    t->target = pthread_self();
    t->stop_flag = stop_flag;
    install_wake_handler();
    clock_gettime(CLOCK_MONOTONIC, &t->deadline);
    t->deadline.tv_sec += seconds > MAX_TIMEOUT_SECONDS ? MAX_TIMEOUT_SECONDS : seconds;
    t->due = t->deadline;
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

void session_timer_set_runtime(session_timer *t, zvm_runtime *rt)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->lock);
    t->rt = rt;
    if (t->fired && rt)
        zvm_runtime_interrupt(rt);
    pthread_mutex_unlock(&t->lock);
}

bool session_timer_fired(session_timer *t)
{
    if (!t->running)
        return t->fired;
    pthread_mutex_lock(&t->lock);
    bool fired = t->fired;
    pthread_mutex_unlock(&t->lock);
    return fired;
}

int session_timer_signal(session_timer *t)
{
    if (!t->running)
        return t->signal;
    pthread_mutex_lock(&t->lock);
    int sig = t->signal;
    pthread_mutex_unlock(&t->lock);
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
    if (!t->running)
        return t->fired;
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
