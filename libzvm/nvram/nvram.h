/*
 * nvram.h — the guest's boot settings, read from the /dev/nvram channel before _start.
 *
 * INI-like (man/zvm-manifest.5, NVRAM): [section] lines; records are key=value pairs separated by ',' or a
 * newline; '#' starts a comment; values unescape \x2c \x20 \x22 \x5c \x0a.  Sections: [args]
 * [env] [fstab] [mapping] [debug] [time] (and [random] seed=N, our addition).  Errors name the
 * line: "nvram 4: ...".
 */
#ifndef ZVM_NVRAM_H
#define ZVM_NVRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"   /* zvm_error */

enum zvm_fstab_access { ZVM_FSTAB_RO, ZVM_FSTAB_WO };
enum zvm_mapping_mode { ZVM_MAP_DEFAULT = 0, ZVM_MAP_CHAR, ZVM_MAP_FILE, ZVM_MAP_PIPE };

typedef struct zvm_fstab_entry {
    char *channel;             /* "/dev/1.python.tar" */
    char *mountpoint;          /* "/" */
    enum zvm_fstab_access access;
    bool removable;
} zvm_fstab_entry;

typedef struct zvm_mapping_entry {
    char *channel;             /* "/dev/stdin" */
    enum zvm_mapping_mode mode;
} zvm_mapping_entry;

/* The seed of random_get when nvram gives none: fixed, so that runs are reproducible. */
#define ZVM_NVRAM_DEFAULT_SEED UINT64_C(0x5a65726f564d2014)

typedef struct zvm_nvram {
    size_t argc;
    char **argv;               /* argv[0] is the program name */
    size_t nenv;
    char **env;                /* "NAME=value" */
    size_t nfstab;
    zvm_fstab_entry *fstab;
    size_t nmapping;
    zvm_mapping_entry *mapping;
    int verbosity;
    int64_t time_seconds;      /* [time] seconds= : where the virtual clock starts (default 0) */
    uint64_t random_seed;      /* [random] seed= : the seed of random_get (default fixed) */
} zvm_nvram;

/* Parses text of length size.  On error -1 and "nvram <line>: <what>" in err. */
int zvm_nvram_parse(const char *text, size_t size, zvm_nvram *out, zvm_error *err);
void zvm_nvram_free(zvm_nvram *nv);

#endif
