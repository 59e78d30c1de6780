/*
 * tty.h — line editing and history for a guest reading a terminal, on the host side (as rlwrap
 * does): the guest cannot drive a terminal itself, so without this, arrow keys reach it as
 * escape sequences.
 *
 * When zvsh's stdin is a terminal (and stdout or stderr is too), zvsh_tty_start puts pipes in
 * place of fd 0 and of the terminal among fds 1 and 2, before the session opens its channels.
 * A thread relays the guest's output to the terminal, remembering the last unfinished line (the
 * guest's prompt, ">>> "); when a key is pressed it edits a line with libedit, showing that
 * prompt, and sends the finished line (with its newline) to the guest's stdin.  Ctrl-D on an
 * empty line closes the guest's stdin (end of input).  The guest still sees its std streams as
 * a terminal ([mapping] in nvram is written from zvsh's own streams), and a guest whose stdin
 * is a pipe or a file never meets the editor.  History lasts for the session.
 */
#ifndef ZVSH_TTY_H
#define ZVSH_TTY_H

#include <signal.h>

struct zvsh_tty;

/* NULL (and nothing changed) when stdin is not a terminal, no output is one, zvsh is not in
 * the terminal's foreground (a background job), or the pipes or the thread cannot be made; the
 * session then reads the terminal directly, as before.
 * stop: the session's stop flag (a set flag ends editing). */
struct zvsh_tty *zvsh_tty_start(const volatile sig_atomic_t *stop);

/* Puts fds 0, 1, 2 back, relays what the guest wrote to its end, restores the terminal's mode
 * and frees everything.  NULL does nothing. */
void zvsh_tty_stop(struct zvsh_tty *tty);

#endif
