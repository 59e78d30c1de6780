/*
 * wasi-missing.c — the two C library functions Lua calls that wasi-libc declares but does not
 * define (pkg/images/lua/Makefile links this into the lua image).  A zvm guest runs alone: there
 * is no shell to run a command in, and temporary files would have to live somewhere the
 * session's manifest names.  So, as C allows:
 *
 *   system(NULL) is 0 (no command processor: os.execute() is false), and system(cmd) fails
 *                with ENOSYS (os.execute(cmd) returns nil and the reason);
 *   tmpfile()    fails with ENOTSUP (io.tmpfile() returns nil and the reason).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int system(const char *command)
{
    if (command == NULL)
        return 0;
    errno = ENOSYS;
    return -1;
}

FILE *tmpfile(void)
{
    errno = ENOTSUP;
    return NULL;
}
