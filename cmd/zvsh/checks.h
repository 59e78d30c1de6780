/*
 * checks.h — what zvsh checks on the host before a session starts, so that a mistake is
 * reported in the user's words (the host path they typed, what to do) instead of as a failed
 * session naming a guest path.  Each returns 0, or zvsh's exit code with the message in err.
 */
#ifndef ZVSH_CHECKS_H
#define ZVSH_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

/* The exit code of a `wo` target zvsh refuses to replace (EEXIST). */
#define ZVSH_EXIT_EXISTS 17

/* zvm will be able to write host file `path` (created if absent): probed by opening it for
 * writing without truncating, and removing it again if the probe created it.  5 if not. */
int zvsh_check_writable(const char *what, const char *path, char *err, size_t errsize);

/* A `wo` image's target: writable, not a directory, and not an existing non-empty file unless
 * overwrite (--zvm-overwrite): its old contents would be replaced by the session's tar. */
int zvsh_check_wo_target(const char *path, bool overwrite, char *err, size_t errsize);

/* An @path argument's host file: an existing file, device or FIFO; or, as 2014 zvsh did, a new
 * empty file so the guest can write it (*created is then true and a note goes to stderr).
 * A directory, or a file that cannot be created, is an error. */
int zvsh_prepare_file_arg(const char *arg, const char *path, bool *created, char *err, size_t errsize);

#endif
