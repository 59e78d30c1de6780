/*
 * session.h — one ZeroVM session: a manifest run to its report.  zvm and zvsh both use it.
 *
 * A session goes through fixed stages, and the first one that fails decides the exit code:
 *   1. the manifest is parsed and checked                        (14 manifest, 23 too many channels)
 *   2. the program is read, decoded and validated                (2 missing, 8 invalid, 12 memory)
 *   3. /dev/nvram is opened, read and parsed, then the other channels are opened
 *      (a `wo` image's to a temporary file beside it)              (2 missing, 5 I/O, 14 bad nvram)
 *   4. the guest's file system is built (images mounted)         (5 corrupt image)
 *      -- with check_only (zvm -F) the session stops here, "ok" --
 *   5. the module is instantiated and _start runs                (4 trap or timeout)
 *   6. `wo` images are written back, each renamed into place only when its tar is complete
 *      (else removed, the previous file untouched); the channels closed, the etags and
 *      accounting collected.
 * Whatever happens, the report is filled: it is what zvm prints and what zvsh shows on failure.
 *
 * The Timeout covers stages 2 to 5.  At the deadline a timer thread interrupts the engine and
 * sends SIGURG to the thread running the session (a do-nothing handler is installed unless the
 * program has its own), so blocking reads of FIFOs and terminals return; run one session per
 * thread.
 *
 * A session can also be stopped from outside, by a signal (zvm and zvsh on SIGINT, SIGTERM, SIGHUP
 * and SIGPIPE): options->stop points at a flag a signal handler sets to the signal's number
 * (zvm_stop_on_signals below installs such handlers).  The timer thread looks at it every 50 ms
 * and stops the session as at the Timeout; the state then reads "stopped by SIGINT", the exit
 * code is 4, and no `wo` image is written back (its file stays as it was).
 *
 * The session never prints to stdout and never exits.  Warnings (skipped manifest lines, at any
 * verbosity) and progress notes (verbosity >= 2) go to options->log; a trace of every stage
 * and host call goes to options->trace.
 */
#ifndef ZVM_SESSION_H
#define ZVM_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base.h"                /* zvm_error, enum zvm_exit_code */
#include "manifest/manifest.h"   /* zvm_manifest */

typedef struct zvm_session_options {
    bool skip_validation;      /* -s: report validator state 2 (the engine still validates: it must) */
    bool check_only;           /* -F: check the manifest, validate the program, open the channels, stop */
    int verbosity;             /* -v N */
    FILE *log;                 /* warnings and notes; NULL: none */
    FILE *trace;               /* -T: one line per stage and per host call; NULL: none */
    const volatile sig_atomic_t *stop;   /* a signal number once the session must stop; NULL: none */
    const char *cache_dir;     /* the cache for snapshots (docs/Snapshots.md); NULL: none, so no snapshots */
    uint64_t cache_bytes;      /* the most its snapshots may take; 0: 4 GiB */
    bool no_snapshots;         /* never resume nor write a snapshot */
} zvm_session_options;

/* The seven lines of the report (man/zvm.1, REPORT), as values. */
typedef struct zvm_report {
    int validator_state;       /* 0 valid, 1 invalid, 2 not validated (-s, or failed before validation) */
    int daemon;                /* 1 when the session resumed a snapshot (2014's daemon mode), else 0 */
    int user_rc;               /* the guest's exit code, 0 if it never exited */
    char *etags;               /* "<alias> <md5hex> ..." of the etag channels, or "disable"; malloc'd */
    double sys_seconds, user_seconds;   /* CPU time of the session */
    int64_t local_reads, local_read_bytes, local_writes, local_write_bytes;
    int64_t net_reads, net_read_bytes, net_writes, net_write_bytes;
    char state[512];           /* "ok", or the reason: "session timeout", "MANIFEST 7: ...", a trap */
    int exit_code;             /* enum zvm_exit_code: 0, or the errno of the first failure */
} zvm_report;

/* Runs the manifest file at path.  Always fills *report (zvm_report_free it); returns its exit_code. */
int zvm_session_run_file(const char *path, const zvm_session_options *opt, zvm_report *report);

/* Runs manifest text (size bytes) — what zvsh uses, having written manifest.1 as well. */
int zvm_session_run_text(const char *text, size_t size, const zvm_session_options *opt, zvm_report *report);

/* Runs an already parsed manifest (not consumed: the caller frees it). */
int zvm_session_run(const zvm_manifest *m, const zvm_session_options *opt, zvm_report *report);

/* The report as the exact 7-line text (the last line empty), malloc'd; NULL only if out of memory. */
/* The cache directory zvm and zvsh use unless told otherwise: $ZVM_CACHE_DIR, else
 * $XDG_CACHE_HOME/zvm, else $HOME/.cache/zvm; NULL when none is known.  Written into buf. */
const char *zvm_default_cache_dir(char *buf, size_t size);
/* A file of the cache about a file of identity id (cache.c): <cache>/<kind>/<hex><suffix>, the
 * hex a SHA-256 of kind, this engine build (when engine is set), id and name (if any).  The
 * directories are made private; NULL when there is no usable cache.  malloc'd. */
char *zvm_cache_path(const char *cache, const char *kind, const struct stat *id, const char *name, bool engine,
                     const char *suffix);
/* Facts this engine build keeps about a file of identity id: an empty marker per (kind, id)
 * ("validated": the program is valid WebAssembly; "checked": zvsh read the image whole). */
bool zvm_cache_has_mark(const char *cache, const char *kind, const struct stat *id);
void zvm_cache_mark(const char *cache, const char *kind, const struct stat *id);

char *zvm_report_text(const zvm_report *report);

void zvm_report_free(zvm_report *report);

/* Catches SIGINT, SIGTERM, SIGHUP and SIGPIPE (without SA_RESTART, so blocking calls return EINTR):
 * the handler records the first one caught in a flag and does nothing else.  A signal already
 * ignored (nohup's SIGHUP, a background job's SIGINT) stays ignored.  Returns that flag,
 * for zvm_session_options.stop and for the caller to see which signal came (0: none yet). */
const volatile sig_atomic_t *zvm_stop_on_signals(void);
/* "SIGINT", "SIGTERM", "SIGHUP" or "SIGPIPE" (a constant string). */
const char *zvm_signal_name(int sig);

#endif
