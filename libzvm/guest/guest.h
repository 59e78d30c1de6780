/*
 * guest.h — what the guest sees: WASI preview1 and ZeroVM's own `zvm` calls, over an in-memory
 * file system into which read-only tar images are mounted and where every channel appears as
 * /dev/<alias>.  This is what ZeroVM's in-sandbox library "zrt" did; here the host serves it.
 *
 * The session makes a guest from its open channels and nvram, asks it for the module's imports,
 * instantiates, runs _start, then finishes the guest (wo images are written back).
 */
#ifndef ZVM_GUEST_H
#define ZVM_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "channel/channel.h"
#include "nvram/nvram.h"
#include "wasm/wasm.h"

typedef struct zvm_guest zvm_guest;

typedef struct zvm_guest_config {
    zvm_channel **channels;    /* in the guest's order: stdin, stdout, stderr, then by alias */
    size_t nchannels;
    const zvm_nvram *nvram;    /* args, env, fstab, mapping, time, seed; may be NULL */
    uint64_t memory_limit;     /* the manifest's Memory: linear memory + in-memory files share it */
    FILE *trace;               /* zvm -T: if set, one line per host call: "name(args) = result" */
    char *const *image_index;  /* per channel: where its image's index is kept (zvm's cache), or NULL */
} zvm_guest_config;

/* Builds the file system: mounts the fstab images (indexed in place, never extracted), makes
 * /dev/<alias> for every channel, /tmp.  Errors name the image or channel. */
int zvm_guest_new(const zvm_guest_config *cfg, zvm_guest **out, zvm_error *err);

/* Fills imports[i] for every import of m (wasi_snapshot_preview1.*, zvm.*), creating host
 * functions in rt.  An import we do not serve: -1, "unknown import module.name (type ...)". */
int zvm_guest_imports(zvm_guest *g, zvm_runtime *rt, const zvm_module *m, zvm_extern *imports, zvm_error *err);

/* Called after instantiation with the instance (for its exported memory). */
void zvm_guest_bind(zvm_guest *g, zvm_instance *inst);

/* ---- snapshots (docs/Snapshots.md) ---- */

/* What the guest's zvm_fork() does: the session's function, called from inside that call with
 * the engine's view of it (for zvm_call_save_state); its result is zvm_fork's.  Without one,
 * zvm_fork() returns 0 and does nothing else. */
typedef int32_t (*zvm_guest_fork_fn)(void *user, zvm_guest *g, zvm_call *call);
void zvm_guest_on_fork(zvm_guest *g, zvm_guest_fork_fn fn, void *user);
/* The guest's state outside linear memory and what it read before the fork, as a malloc'd
 * blob; -1 with the reason when it cannot be saved (it read a channel, changed files...). */
int zvm_guest_save(zvm_guest *g, uint8_t **blob, size_t *size, zvm_error *err);
/* 0 when this guest's session gives the same values for everything the saved guest read
 * before the fork; 1 (err says what differs) when not. */
int zvm_guest_check(zvm_guest *g, const uint8_t *blob, size_t size, zvm_error *err);
/* Checks, then takes the saved state into this (new, not yet run) guest: clock, random
 * state, descriptors; writes again what the guest wrote before the fork.  0, or 1 as above. */
int zvm_guest_restore(zvm_guest *g, const uint8_t *blob, size_t size, zvm_error *err);

/* After the run: writes `wo` images back into their channels as tar.  err on failure. */
int zvm_guest_finish(zvm_guest *g, zvm_error *err);
void zvm_guest_free(zvm_guest *g);

#endif
