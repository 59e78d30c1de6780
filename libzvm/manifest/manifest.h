/*
 * manifest.h — a ZeroVM manifest (Version = 20130611), parsed and checked.
 *
 * The manifest is the whole description of a session: the program, its memory and time limits,
 * and the channels (host files, devices, FIFOs) that are its only I/O.  The rules are
 * man/zvm-manifest.5's: one `key = value` per line (a line is used only if it has exactly one
 * `=`), case-sensitive keys, blanks and CR stripped, integers in decimal, 0x hex or leading-0 octal
 * (at most INT64_MAX: beyond is "out of range");
 * Version, Program, Memory and Timeout required and single; Channel repeatable with exactly eight
 * fields.  Errors read "MANIFEST <line>: <message>" (line 0 when no single line is at fault).
 * Lines skipped (no '=', an unknown key) are warnings, with their line and, for a key one or
 * two letters off a known one, "did you mean"; a required key missing when such a near miss
 * was seen is reported at the near miss's line.
 *
 * The parser only reads text: it neither opens channels nor checks that Program exists (the
 * session does both, so a manifest can be checked on another machine).
 */
#ifndef ZVM_MANIFEST_H
#define ZVM_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"   /* zvm_error, enum zvm_exit_code */
#include "channel/channel.h"

#define ZVM_MANIFEST_VERSION 20130611
/* At most this many channels: 2014 ZeroVM's maximum.  Each holds a host file descriptor while
 * the session runs (the session raises its soft descriptor limit to fit, see session.c). */
#define ZVM_MANIFEST_MAX_CHANNELS 10914
/* The NAME of an alias /dev/NAME is a guest file name: at most NAME_MAX bytes. */
#define ZVM_MANIFEST_ALIAS_NAME_MAX 255

/* A line the parser skipped (2014 ZeroVM skipped them silently; zvm prints them on stderr). */
typedef struct zvm_manifest_warning {
    int line;
    char msg[200];
} zvm_manifest_warning;

typedef struct zvm_manifest {
    int64_t version;           /* always ZVM_MANIFEST_VERSION once parsed */
    char *program;             /* host path of the .wasm */
    uint64_t memory;           /* bytes: the most linear memory plus in-memory files may use */
    bool memory_etag;          /* the second field of Memory (kept for compatibility; unused) */
    int64_t timeout;           /* seconds of wall clock, >= 1 */
    char *node;                /* optional keys, NULL when absent */
    char *name_server;
    char *job;
    zvm_channel_spec *channels;   /* in the guest's order: stdin, stdout, stderr, then by alias */
    size_t nchannels;
    zvm_manifest_warning *warnings;
    size_t nwarnings;
} zvm_manifest;

/* Parses and checks size bytes of text.  Returns 0, or an exit code (ZVM_EXIT_MANIFEST, or
 * ZVM_EXIT_TOO_MANY) with "MANIFEST <line>: ..." in err; *out is then empty (nothing to free,
 * though zvm_manifest_free is harmless). */
int zvm_manifest_parse(const char *text, size_t size, zvm_manifest *out, zvm_error *err);

/* Reads the file at path and parses it.  A missing or unreadable file: ZVM_EXIT_NOENT /
 * ZVM_EXIT_IO with the path and the reason in err. */
int zvm_manifest_load(const char *path, zvm_manifest *out, zvm_error *err);

void zvm_manifest_free(zvm_manifest *m);

#endif
