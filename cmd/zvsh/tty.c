/* tty.c — the host-side line editor for a guest reading a terminal (see tty.h). */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "dynlib.h"

#define PROMPT_MAX 200           /* a longer unfinished line is output, not a prompt */
#define STOP_LOOK_MS 100         /* while editing, how often the stop flag is looked at */
#define HISTORY_SIZE 1000

/* libedit, loaded only when a session gets the editor (dynlib.h): a zvsh whose stdin is a pipe
 * or a file never maps it, nor libtinfo, libbsd and libmd behind it. */
/* clang-format off */
#define EDIT_FUNCTIONS(X, t) \
    X(t, el_init) \
    X(t, el_end) \
    X(t, el_set) \
    X(t, el_get) \
    X(t, el_gets) \
    X(t, el_source) \
    X(t, history_init) \
    X(t, history_end) \
    X(t, history)
/* clang-format on */
ZVM_DYNLIB_TABLE(edit_api, EDIT_FUNCTIONS);
static struct edit_api edit;
ZVM_DYNLIB_SYMS(edit_syms, edit, EDIT_FUNCTIONS);
static zvm_dynlib edit_lib = {
    .soname = "libedit.so.2",
    .needed_for = "line editing at a terminal",
    .package = "libedit2",
    .syms = edit_syms,
    .nsyms = sizeof edit_syms / sizeof edit_syms[0],
};

struct zvsh_tty {
    const volatile sig_atomic_t *stop;
    int saved[3];                /* zvsh's own fds 0, 1, 2 while pipes stand in for them; -1: not replaced */
    int term_in, term_out;       /* the terminal, for the editor and the relayed output */
    int to_guest;                /* write end of the guest's stdin; -1 once closed (end of input) */
    int from_guest;              /* read end of the guest's terminal output */
    char *pending;               /* finished lines the guest has not taken yet */
    size_t npending;
    char prompt[PROMPT_MAX + 1]; /* the last unfinished line of output: the guest's prompt */
    size_t nprompt;
    bool editing;                /* libedit has the terminal (raw mode) for a line */
    bool stopped;                /* the stop flag was seen: no more editing */
    struct termios mode;         /* the terminal's mode at start, put back at the end */
    struct termios quiet;        /* its mode between lines (see quiet_terminal) */
    bool have_mode;
    EditLine *el;
    History *hist;
    FILE *el_in, *el_out;
    pthread_t thread;
};

static void write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;      /* the terminal went away: nothing left to show it */
        buf += w;
        n -= (size_t)w;
    }
}

static char *prompt_of(EditLine *el)
{
    struct zvsh_tty *t;
    edit.el_get(el, EL_CLIENTDATA, &t);
    return t->prompt;
}

/* A prompt is printable text; anything else (escape sequences, a long line) is shown as output
 * only, and the editor starts with no prompt of its own. */
static bool usable_prompt(const struct zvsh_tty *t)
{
    if (t->nprompt == 0 || t->nprompt >= PROMPT_MAX)
        return false;
    for (size_t i = 0; i < t->nprompt; i++)
        if ((unsigned char)t->prompt[i] < 0x20 || t->prompt[i] == 0x7f)
            return false;
    return true;
}

/* Output from the guest: to the terminal as it is; its last unfinished line is the prompt. */
static void relay_output(struct zvsh_tty *t, const char *buf, size_t n)
{
    write_all(t->term_out, buf, n);
    const char *nl = memrchr(buf, '\n', n);
    if (nl) {
        t->nprompt = 0;
        n -= (size_t)(nl + 1 - buf);
        buf = nl + 1;
    }
    size_t room = PROMPT_MAX - t->nprompt, take = n < room ? n : room;
    memcpy(t->prompt + t->nprompt, buf, take);
    t->nprompt += take;
    if (take < n)
        t->nprompt = PROMPT_MAX;     /* too long to be a prompt */
    t->prompt[t->nprompt] = '\0';
    if (t->editing)
        edit.el_set(t->el, EL_REFRESH);   /* the line being edited, drawn again below it */
}

/* A key was pressed: libedit takes the terminal for a line, drawing the guest's prompt over
 * itself (a carriage return first, so the text the guest printed is written again in place). */
static void start_line(struct zvsh_tty *t)
{
    if (usable_prompt(t))
        write_all(t->term_out, "\r", 1);
    else
        t->prompt[0] = '\0';
    edit.el_set(t->el, EL_UNBUFFERED, 1);
    t->editing = true;
}

static void end_line(struct zvsh_tty *t)
{
    if (!t->editing)
        return;
    edit.el_set(t->el, EL_UNBUFFERED, 0);
    tcsetattr(t->term_in, TCSANOW, &t->quiet);   /* libedit's "cooked" mode echoes: not between lines */
    t->editing = false;
    t->nprompt = 0;
    t->prompt[0] = '\0';
}

static void queue_input(struct zvsh_tty *t, const char *s, size_t n)
{
    char *more = realloc(t->pending, t->npending + n);
    if (!more)
        return;                    /* out of memory: the line is lost, the session goes on */
    memcpy(more + t->npending, s, n);
    t->pending = more;
    t->npending += n;
}

static void close_input(struct zvsh_tty *t)
{
    if (t->to_guest >= 0)
        close(t->to_guest);
    t->to_guest = -1;
    t->npending = 0;
}

/* One key through libedit: a finished line goes to the guest (and the history); Ctrl-D on an
 * empty line, or the terminal's end, closes the guest's stdin. */
static void edit_key(struct zvsh_tty *t)
{
    if (!t->editing)
        start_line(t);
    int count = 0;
    const char *line = edit.el_gets(t->el, &count);
    if (!line || count <= 0) {
        end_line(t);
        close_input(t);
        return;
    }
    if (count == 1 && line[0] == (char)t->mode.c_cc[VEOF]) {   /* Ctrl-D on an empty line */
        char redraw[PROMPT_MAX + 8];                            /* the prompt again, without "^D" */
        int n = snprintf(redraw, sizeof redraw, "\r%s\033[K", t->prompt);
        end_line(t);
        write_all(t->term_out, redraw, (size_t)n);
        close_input(t);
        return;
    }
    if (line[count - 1] != '\n')
        return;       /* still editing */
    if (count > 1) {
        HistEvent ev;
        char *entry = strndup(line, (size_t)count - 1);
        if (entry)
            edit.history(t->hist, &ev, H_ENTER, entry);
        free(entry);
    }
    queue_input(t, line, (size_t)count);
    end_line(t);
}

static void feed_guest(struct zvsh_tty *t)
{
    ssize_t w = write(t->to_guest, t->pending, t->npending);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (w <= 0) {
        close_input(t);
        return;
    }   /* the guest's stdin is gone */
    memmove(t->pending, t->pending + w, t->npending - (size_t)w);
    t->npending -= (size_t)w;
}

/* The relay: guest output to the terminal, keys to libedit, lines to the guest, until the
 * output pipe's last writer is gone (zvsh_tty_stop). */
static void *relay_main(void *arg)
{
    struct zvsh_tty *t = arg;
    char buf[4096];
    for (;;) {
        struct pollfd p[3] = {
            { .fd = t->from_guest, .events = POLLIN },
            { .fd = t->to_guest >= 0 && !t->stopped ? t->term_in : -1, .events = POLLIN },
            { .fd = t->npending ? t->to_guest : -1, .events = POLLOUT },
        };
        int r = poll(p, 3, t->editing ? STOP_LOOK_MS : -1);
        /* Stopped: no more editing, and zvsh's message on a line of its own.  The guest's stdin
         * stays open: at its end Python would print a line of its own before it is stopped. */
        if (*t->stop && !t->stopped) {
            t->stopped = true;
            if (t->editing || t->nprompt)
                write_all(t->term_out, "\n", 1);
            end_line(t);
        }
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (p[0].revents) {
            ssize_t n = read(t->from_guest, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
            if (n > 0)
                relay_output(t, buf, (size_t)n);
        }
        if (p[1].revents && t->to_guest >= 0 && !t->stopped)
            edit_key(t);
        if (p[2].revents && t->to_guest >= 0)
            feed_guest(t);
    }
    end_line(t);
    return NULL;
}

/* fd (0, 1 or 2) now reads or writes the pipe end `end`; zvsh's own is kept in saved[fd]. */
static bool stand_in(struct zvsh_tty *t, int fd, int end)
{
    t->saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    return t->saved[fd] >= 0 && dup2(end, fd) == fd;
}

static void put_back(struct zvsh_tty *t)
{
    fflush(stdout);
    fflush(stderr);
    for (int fd = 0; fd < 3; fd++)
        if (t->saved[fd] >= 0) {
            dup2(t->saved[fd], fd);
            close(t->saved[fd]);
            t->saved[fd] = -1;
        }
}

/* For the whole session the terminal neither echoes nor gathers lines itself: keys typed while
 * the guest is busy are not echoed out of place nor edited by the kernel, and libedit shows
 * them when it reads them.  Ctrl-C and the other signal keys still work (ISIG stays).  Set
 * after el_init, which puts the terminal in libedit's own idea of a cooked mode. */
static bool quiet_terminal(struct zvsh_tty *t)
{
    t->quiet = t->mode;
    t->quiet.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL);
    t->quiet.c_cc[VMIN] = 1;
    t->quiet.c_cc[VTIME] = 0;
    return tcsetattr(t->term_in, TCSANOW, &t->quiet) == 0;
}

static bool make_editor(struct zvsh_tty *t)
{
    t->el_in = fdopen(t->term_in, "r");
    t->el_out = fdopen(dup(t->term_out), "w");
    if (!t->el_in || !t->el_out)
        return false;
    t->el = edit.el_init("zvsh", t->el_in, t->el_out, t->el_out);
    t->hist = edit.history_init();
    if (!t->el || !t->hist)
        return false;
    HistEvent ev;
    edit.history(t->hist, &ev, H_SETSIZE, HISTORY_SIZE);
    edit.el_set(t->el, EL_CLIENTDATA, t);
    edit.el_set(t->el, EL_PROMPT, prompt_of);
    edit.el_set(t->el, EL_EDITOR, "emacs");
    edit.el_set(t->el, EL_SIGNAL, 0);          /* zvsh's own handlers stay: a signal stops the session */
    edit.el_set(t->el, EL_HIST, edit.history, t->hist);
    edit.el_source(t->el, NULL);               /* the user's ~/.editrc, as every libedit program */
    return true;
}

static void free_tty(struct zvsh_tty *t)
{
    put_back(t);
    if (t->el)
        edit.el_end(t->el);
    if (t->have_mode)
        tcsetattr(t->term_in, TCSANOW, &t->mode);   /* the terminal as it was */
    if (t->hist)
        edit.history_end(t->hist);
    if (t->el_in)
        fclose(t->el_in);
    else if (t->term_in >= 0)
        close(t->term_in);
    if (t->el_out)
        fclose(t->el_out);
    if (t->term_out >= 0)
        close(t->term_out);
    if (t->to_guest >= 0)
        close(t->to_guest);
    if (t->from_guest >= 0)
        close(t->from_guest);
    free(t->pending);
    free(t);
}

/* The relay thread takes no stop signal: they go to the session's thread, whose blocking
 * calls they interrupt; a guest's closed stdin is EPIPE here, never a signal. */
static bool start_relay(struct zvsh_tty *t)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    bool ok = pthread_create(&t->thread, NULL, relay_main, t) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

struct zvsh_tty *zvsh_tty_start(const volatile sig_atomic_t *stop)
{
    int out_fd = isatty(2) ? 2 : isatty(1) ? 1 : -1;
    /* a background job (zvsh ... &) must not touch the terminal's mode: it would be stopped */
    if (!isatty(0) || out_fd < 0 || tcgetpgrp(0) != getpgrp())
        return NULL;
    zvm_error err;
    if (zvm_dynlib_load(&edit_lib, &err) < 0) {
        fprintf(stderr, "zvsh: no line editing: %s\n", err.msg);
        return NULL;
    }
    struct zvsh_tty *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->stop = stop;
    t->saved[0] = t->saved[1] = t->saved[2] = -1;
    t->term_in = fcntl(0, F_DUPFD_CLOEXEC, 3);
    t->term_out = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
    t->to_guest = t->from_guest = -1;
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    bool ok = t->term_in >= 0 && t->term_out >= 0 && (t->have_mode = tcgetattr(t->term_in, &t->mode) == 0) &&
              pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 && make_editor(t) && quiet_terminal(t);
    t->to_guest = in[1];
    t->from_guest = out[0];
    if (ok)
        fcntl(t->to_guest, F_SETFL, O_NONBLOCK);
    ok = ok && stand_in(t, 0, in[0]);
    for (int fd = 1; ok && fd <= 2; fd++)
        if (isatty(fd))
            ok = stand_in(t, fd, out[1]);
    if (in[0] >= 0)
        close(in[0]);
    if (out[1] >= 0)
        close(out[1]);
    if (!ok || !start_relay(t)) {
        free_tty(t);
        return NULL;
    }
    return t;
}

void zvsh_tty_stop(struct zvsh_tty *tty)
{
    if (!tty)
        return;
    put_back(tty);            /* the output pipe's last writers gone: the relay drains it and ends */
    pthread_join(tty->thread, NULL);
    free_tty(tty);
}
