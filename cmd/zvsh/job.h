/*
 * job.h — what one zvsh invocation asks for, turned into the manifest and nvram texts that
 * zvm reads (man/zvm-manifest.5, man/zvsh.1).  Channels are numbered in one 1-based sequence shared by the
 * config's [fstab] images, then the @file arguments, then the --zvm-image images:
 *   zvsh --zvm-image python.tar python @hello.py  →  /dev/1.hello.py, /dev/2.python.tar
 */
#ifndef ZVSH_JOB_H
#define ZVSH_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct zvsh_image {
    char *path;                /* absolute host path of the tar */
    char *mountpoint;          /* "/" by default */
    bool write_back;           /* access "wo": the mountpoint is tarred back into the file at exit */
};

struct zvsh_job {
    const struct zvsh_config *cfg;
    const char *dir;           /* where boot.1 (and with a save dir manifest.1, nvram.1) go; NULL: none */
    const char *nvram_uri;     /* the nvram channel's host side: DIR/nvram.1, or /dev/fd/N (main.c) */
    const char *program;       /* absolute path of the .wasm to run */
    const char *argv0;         /* the guest's argv[0] */
    char **args;               /* the guest's arguments, @ forms already resolved */
    size_t nargs;
    struct zvsh_image *images; /* every mounted image: the config's, then --zvm-image's */
    size_t nimages, nconfig_images;
    char **files;              /* the @file arguments' absolute paths, in order */
    size_t nfiles;
    bool debug;                /* a /dev/debug channel to ./zvsh.log */
    const char *cache_dir;     /* zvm's cache (programs extracted, images checked), or NULL */
    int verbosity;
};

/* Escapes an nvram value: , space " \ and newline become \x2c \x20 \x22 \x5c \x0a. malloc'd. */
char *zvsh_nvram_escape(const char *s);
/* The channel alias of the n-th numbered channel for host path: "/dev/<n>.<basename>". malloc'd. */
char *zvsh_channel_alias(size_t n, const char *path);

/* The two texts, malloc'd.  NULL on out-of-memory only. */
char *zvsh_job_manifest(const struct zvsh_job *job);
char *zvsh_job_nvram(const struct zvsh_job *job);

#endif
