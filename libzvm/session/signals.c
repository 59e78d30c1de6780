/*
 * signals.c — the stop flag zvm and zvsh hand to their session (session.h).  A signal handler may
 * only do async-signal-safe things, so it records the signal and leaves the rest to the timer
 * thread, which looks at the flag every 50 ms (timer.c).  This flag is the library's only mutable
 * global besides the tables of libraries loaded on first use (dynlib.h): a signal handler has
 * nowhere else to put what it saw.
 */
#include "session/session.h"

static volatile sig_atomic_t stop_signal;

static void record_signal(int sig)
{
    if (stop_signal == 0)
        stop_signal = sig;
}

const volatile sig_atomic_t *zvm_stop_on_signals(void)
{
    static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
    struct sigaction sa = { .sa_handler = record_signal };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++) {
        struct sigaction old;
        /* one ignored when the program started stays ignored: nohup's SIGHUP, a background
         * job's SIGINT */
        if (sigaction(caught[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(caught[i], &sa, NULL);
    }
    return &stop_signal;
}

const char *zvm_signal_name(int sig)
{
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGPIPE: return "SIGPIPE";
    default: return "a signal zvm does not catch";
    }
}
