/*
 * base.h — the terms every part of libzvm shares: the error a function fills when it fails,
 * and the exit codes a session (and each command built on it) ends with.
 *
 * Every subsystem may include this header and nothing here includes another: it is the bottom
 * of the layering (cmd -> session -> guest -> channel/manifest/nvram/image -> wasm, and all of
 * them -> base.h), so a parser or a channel need not include the WebAssembly engine to report
 * an error.  Not to be confused with pkg/sdk/include/zvm.h, the header guest programs include.
 */
#ifndef ZVM_BASE_H
#define ZVM_BASE_H

/* Why an operation failed: one line, already naming where (manifest line, channel alias, byte
 * offset, import) and, where the user can act, what to do.  Functions that fill it return -1 or
 * an exit code; a caller prints msg as it is. */
typedef struct zvm_error {
    char msg[512];
} zvm_error;

/* A session's exit codes (man/zvm.1): the errno value that names the first failure (ENOENT 2,
 * EIO 5, ...).  zvm exits with them; zvsh uses them for its own errors and reports them shifted
 * left by four next to the guest's code. */
enum zvm_exit_code {
    ZVM_EXIT_OK = 0,
    ZVM_EXIT_NOENT = 2,        /* a missing file: the manifest, the program, a channel's host path */
    ZVM_EXIT_TRAP = 4,         /* the guest trapped or ran out of time */
    ZVM_EXIT_IO = 5,           /* a channel or image could not be opened, read or written */
    ZVM_EXIT_INVALID = 8,      /* the program is not valid WebAssembly */
    ZVM_EXIT_MEMORY = 12,      /* the program needs more memory than Memory allows */
    ZVM_EXIT_MANIFEST = 14,    /* the manifest breaks a rule */
    ZVM_EXIT_USAGE = 22,       /* a bad command line (zvm) or bad options */
    ZVM_EXIT_TOO_MANY = 23,    /* more channels than ZVM_MANIFEST_MAX_CHANNELS */
    ZVM_EXIT_PEER = 32,        /* EPIPE: a network channel's peer failed, went away or never came */
};

#endif
