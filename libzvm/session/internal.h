/*
 * internal.h — the session's own parts, shared by its files and by nobody else:
 * program.c (read the .wasm, find its initial memory), timer.c (the Timeout), report.c.
 */
#ifndef ZVM_SESSION_INTERNAL_H
#define ZVM_SESSION_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "channel/channel.h"
#include "digest/digest.h"
#include "guest/guest.h"
#include "nvram/nvram.h"
#include "session/session.h"
#include "wasm/wasm.h"

/* Reads the program file whole, with its identity (*id, from the descriptor read) and whether
 * it stayed the same while it was read (*stable).  Returns 0, or ZVM_EXIT_NOENT / ZVM_EXIT_IO /
 * ZVM_EXIT_MEMORY with err naming the path. */
int session_read_program(const char *path, uint8_t **bytes, size_t *size, struct stat *id, bool *stable,
                         zvm_error *err);

/* The bytes of linear memory a loaded module asks for at instantiation (imported or defined
 * memory 0's minimum); 0 when it has no memory. */
uint64_t session_initial_memory(const zvm_module *m);

/* The Timeout: a thread that sleeps until the deadline, then interrupts the runtime (once one
 * is set) and wakes the session's thread out of any blocking system call (see timer.c).  What
 * the thread shares lives on the heap (timer.c's timer_thread), so stopping it need not wait for
 * it to exit: the session and the thread each let go of it, and the last one frees it. */
typedef struct session_timer {
    struct timer_thread *thread;   /* NULL when not running */
    struct timespec due;        /* the Timeout itself (CLOCK_MONOTONIC) */
    int signal;                 /* once stopped: the signal that stopped the session, 0 if none */
    bool fired;                 /* once stopped: whether it fired */
} session_timer;

/* Starts the clock for the calling thread's session; stop_flag may be NULL. */
int session_timer_start(session_timer *t, int64_t seconds, const volatile sig_atomic_t *stop_flag, zvm_error *err);
void session_timer_set_runtime(session_timer *t, zvm_runtime *rt);
bool session_timer_fired(session_timer *t);
/* The signal that stopped the session (it counts as fired too), or 0. */
int session_timer_signal(session_timer *t);
/* Milliseconds since the Timeout passed (negative before). */
int64_t session_timer_overrun_ms(const session_timer *t);
/* Stops the thread; returns whether the deadline passed. */
bool session_timer_stop(session_timer *t);

/* ---- snapshot.c: the snapshot cache (docs/Snapshots.md) ---- */

/* What a snapshot's key is made of. */
typedef struct session_snapshot_setup {
    const char *cache_dir;      /* the cache's top directory; NULL: snapshots off */
    uint64_t cache_bytes;       /* the most the snapshots may take; 0: the default (4 GiB) */
    const struct stat *program; /* the program file's identity, as read */
    uint64_t memory;            /* the manifest's Memory */
    const zvm_nvram *nvram;
    zvm_channel **channels;     /* the session's, in the manifest's order */
    size_t nchannels;
} session_snapshot_setup;

typedef struct session_snapshot {
    bool enabled;
    uint8_t key[DIGEST_SHA256_SIZE];
    char cache[PATH_MAX];       /* the cache directory */
    char top[PATH_MAX];         /* <cache>/snapshots */
    char dir[PATH_MAX + 80];    /* <cache>/snapshots/<key> */
    uint64_t cache_bytes;
    char note[PATH_MAX + 200];  /* why snapshots are off */
    bool warn;                  /* ... and a user should hear it (a cache given but unusable) */
    /* the snapshot found (session_snapshot_find) or written (session_snapshot_save) */
    char path[PATH_MAX + 200];
    int fd;
    struct snap_header {
        char magic[8];
        uint32_t header_size;
        uint32_t reserved;
        uint8_t key[DIGEST_SHA256_SIZE];
        uint64_t meta_offset, meta_size;
        uint64_t engine_size;            /* the metadata is the engine's state, then the guest's */
        uint64_t memory_offset, memory_size;
        uint64_t file_size;
        uint8_t meta_sum[16];            /* checksum of the engine's state, then of the guest's */
        uint64_t memory_checksum;
        uint64_t header_checksum;        /* of everything above */
    } header;
    uint8_t *meta;
} session_snapshot;

/* ---- cache.c: the cache directory ---- */

/* mkdir -p (0700 for what it makes); 0 when path is a directory owned by us that no one else
 * may use, else -1 with why (another user could plant snapshots in a shared one). */
int session_private_dir(const char *path, char *why, size_t size);
/* Hashes this engine (version, ELF build id), a file's identity. */
void session_cache_hash_engine(digest_sha256_ctx *s);
void session_cache_hash_identity(digest_sha256_ctx *s, const struct stat *st);

/* Computes the key and makes sure the cache directory is there and private; -1 with
 * ss->note saying why snapshots are off for this session. */
int session_snapshot_prepare(session_snapshot *ss, const session_snapshot_setup *setup);
/* Looks for a snapshot this guest may resume (every input it read before zvm_fork the same);
 * 0 when found (kept open), -1 when none.  Candidates that do not apply or are damaged (those
 * are removed) are told to note. */
int session_snapshot_find(session_snapshot *ss, zvm_guest *g, void (*note)(void *, const char *), void *user);
const uint8_t *session_snapshot_engine_state(const session_snapshot *ss, size_t *size);
const uint8_t *session_snapshot_guest_state(const session_snapshot *ss, size_t *size);
/* Maps the found snapshot's memory into mem (copy-on-write) and verifies it. */
int session_snapshot_map_memory(session_snapshot *ss, zvm_memory *mem, zvm_error *err);
void session_snapshot_close(session_snapshot *ss);
/* From inside zvm_fork(): writes this guest's snapshot; 0, or why it did not: 1 when the guest's
 * state cannot be saved (it read a channel...), -1 when the cache could not take it. */
int session_snapshot_save(session_snapshot *ss, zvm_guest *g, zvm_call *call, char *why, size_t size);

/* Fills the etag and accounting lines from the channels (before they are closed; NULL ones,
 * never opened, are skipped). */
void session_report_channels(zvm_report *r, zvm_channel *const *channels, size_t n);

#endif
