/*
 * session.c — runs a manifest to its report, stage by stage (see session.h for the stages and
 * their exit codes).  Each stage is one function that returns 0 or the exit code of its failure,
 * having written the reason into the report's state; the first failure ends the run, and the
 * cleanup at the end undoes whatever the stages before it built.
 */
#include "session/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/guest.h"
#include "image/image.h"   /* zvm_image_show */
#include "nvram/nvram.h"
#include "session/internal.h"

/* Programs from this size on are validated once per file (the cache remembers): below it,
 * validating (about 270 MB/s) costs less than asking the cache. */
#define VALIDATED_MARK_BYTES (64 * 1024)
/* Bigger nvram than this is not boot settings. */
#define MAX_NVRAM_BYTES (16 * 1024 * 1024)
/* The engine's linear memories are 32-bit: Memory above 4 GiB can only go to in-memory files. */
#define MAX_LINEAR_MEMORY (4ULL * 1024 * 1024 * 1024)

typedef struct session {
    const zvm_manifest *m;
    const zvm_session_options *opt;
    zvm_report *r;
    zvm_module *module;
    zvm_channel **channels;    /* in the manifest's (the guest's) order; NULL where not opened */
    char **wo_temp;            /* per channel: the temporary file a `wo` image is written to, or NULL */
    zvm_nvram nvram;
    zvm_runtime *rt;
    zvm_guest *guest;
    session_timer timer;       /* the Timeout, running from the start of the session */
    bool past_due;             /* stage 6 began after the Timeout (the timer may not have fired yet) */
    session_snapshot snap;     /* the snapshot cache: one to resume, or where zvm_fork writes one */
    bool resume;               /* a snapshot was found: resume it instead of running _start */
    struct stat program_id;    /* the program file's identity as it was read */
    bool program_stable;       /* ... and it did not change while it was read */
} session;

/* What a network channel was waiting for when the session stopped ("" when none was). */
static const char *network_wait(session *s)
{
    static _Thread_local char buf[300];
    for (size_t i = 0; s->channels && i < s->m->nchannels; i++) {
        const char *why = s->channels[i] ? zvm_channel_problem(s->channels[i]) : "";
        if (*why) {
            snprintf(buf, sizeof buf, "channel %s: %s", zvm_channel_alias(s->channels[i]), why);
            return buf;
        }
    }
    return "";
}

/* Records the failure (the report keeps the first one) and returns its exit code.  Once the
 * Timeout has passed, whatever stopped the session (an interrupted read, a trap) is the timeout;
 * once a stop signal came, it is the signal. */
static int failed(session *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failed(session *s, int code, const char *fmt, ...)
{
    if (s->r->exit_code == 0 && (session_timer_fired(&s->timer) || s->past_due)) {
        int sig = session_timer_signal(&s->timer);
        const char *why = network_wait(s);
        if (sig)
            snprintf(s->r->state, sizeof s->r->state, "stopped by %s", zvm_signal_name(sig));
        else
            snprintf(s->r->state, sizeof s->r->state, "session timeout%s%s%s", *why ? " (" : "", why, *why ? ")" : "");
        s->r->exit_code = code = ZVM_EXIT_TRAP;
    } else if (s->r->exit_code == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->r->state, sizeof s->r->state, fmt, ap);
        va_end(ap);
        s->r->exit_code = code;
    }
    if (s->opt->trace)
        fprintf(s->opt->trace, "zvm: failed (exit %d): %s\n", code, s->r->state);
    return code;
}

/* A step of the session: into the trace file, and on the log with verbosity 2 or more. */
static void trace(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(session *s, const char *fmt, ...)
{
    FILE *to[2] = { s->opt->trace, s->opt->verbosity >= 2 ? s->opt->log : NULL };
    for (int i = 0; i < 2; i++) {
        if (!to[i])
            continue;
        va_list ap;
        va_start(ap, fmt);
        fputs("zvm: ", to[i]);
        vfprintf(to[i], fmt, ap);
        fputc('\n', to[i]);
        va_end(ap);
    }
}

static void note(session *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(session *s, int level, const char *fmt, ...)
{
    if (!s->opt->log || s->opt->verbosity < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("zvm: ", s->opt->log);
    vfprintf(s->opt->log, fmt, ap);
    fputc('\n', s->opt->log);
    va_end(ap);
}

/* Stage 2: read, decode and validate the program; check its initial memory against Memory. */
static int load_program(session *s)
{
    zvm_error err;
    uint8_t *bytes;
    size_t size;
    int rc = session_read_program(s->m->program, &bytes, &size, &s->program_id, &s->program_stable, &err);
    if (rc)
        return failed(s, rc, "%s", err.msg);
    /* A program this engine validated before, unchanged since, is not validated again; a small
     * one validates faster than the cache is asked. */
    const char *cache =
        s->opt->no_snapshots || !s->program_stable || size < VALIDATED_MARK_BYTES ? NULL : s->opt->cache_dir;
    bool known = cache && zvm_cache_has_mark(cache, "validated", &s->program_id);
    rc = zvm_module_load_with(bytes, size, ZVM_LOAD_TAKE_BYTES | (known ? ZVM_LOAD_VALIDATED : 0), &s->module, &err);
    if (rc == 0 && !known && cache)
        zvm_cache_mark(cache, "validated", &s->program_id);
    if (rc != 0) {
        s->r->validator_state = 1;
        return failed(s, ZVM_EXIT_INVALID, "program %s is not valid WebAssembly: %s", s->m->program, err.msg);
    }
    s->r->validator_state = s->opt->skip_validation ? 2 : 0;
    if (known)
        trace(s, "program %s: validated before (the cache knows this file)", s->m->program);
    trace(s, "program %s: %zu bytes, valid", s->m->program, size);
    uint64_t initial = session_initial_memory(s->module);
    if (initial > s->m->memory)
        return failed(s, ZVM_EXIT_MEMORY, "program %s needs %llu bytes of memory at start; Memory allows %llu",
                      s->m->program, (unsigned long long)initial, (unsigned long long)s->m->memory);
    return 0;
}

/* Each channel holds a host descriptor: raise the soft limit to fit them (and what zvm itself
 * needs besides), as far as the hard limit allows.  2014's 10,914 channels pass the usual soft
 * limit of 1024, but not the usual hard one. */
#define SPARE_DESCRIPTORS 64

static int fit_descriptor_limit(session *s)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)s->m->nchannels + SPARE_DESCRIPTORS;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        return failed(s, ZVM_EXIT_TOO_MANY,
                      "%zu channels need about %llu host descriptors, but the hard limit is %llu; "
                      "raise it (ulimit -Hn) or use fewer channels",
                      s->m->nchannels, (unsigned long long)want, (unsigned long long)rl.rlim_max);
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return failed(s, ZVM_EXIT_TOO_MANY, "%zu channels need about %llu host descriptors: cannot raise the limit: %s",
                      s->m->nchannels, (unsigned long long)want, strerror(errno));
    return 0;
}

/* Is channel i mounted as a `wo` image by nvram's [fstab]? */
static bool is_wo_image(const session *s, size_t i)
{
    for (size_t j = 0; j < s->nvram.nfstab; j++)
        if (s->nvram.fstab[j].access == ZVM_FSTAB_WO && strcmp(s->nvram.fstab[j].channel, s->m->channels[i].alias) == 0)
            return true;
    return false;
}

/* A `wo` image on a regular (or not yet existing) file is written to a new file beside it and
 * renamed into place only once the tar is complete (settle_wo_images): a session that fails
 * half way leaves the previous file as it was and no partial tar.  Returns the temporary path
 * (malloc'd, the file created empty), NULL when the channel is written in place (a device, a
 * pipe, or a channel the guest may also read), or NULL with *e set when no file can be made. */
static char *wo_temporary(const zvm_channel_spec *spec, int *e)
{
    struct stat st;
    *e = 0;
    if (zvm_channel_spec_readable(spec) || (stat(spec->uri, &st) == 0 && !S_ISREG(st.st_mode)))
        return NULL;
    const char *slash = strrchr(spec->uri, '/');
    char *temp = NULL;
    if (asprintf(&temp, "%.*s/.zvm-wo-XXXXXX", (int)(slash - spec->uri), spec->uri) < 0) {
        *e = ENOMEM;
        return NULL;
    }
    int fd = mkostemp(temp, O_CLOEXEC);
    if (fd < 0) {
        *e = errno;
        free(temp);
        return NULL;
    }
    mode_t mask = umask(0);   /* mkstemp makes 0600; the tar gets what creating it would give */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    close(fd);
    return temp;
}

/* Opens channel i (a `wo` image to its temporary file). */
static int open_channel(session *s, size_t i)
{
    const zvm_channel_spec *spec = &s->m->channels[i];
    zvm_channel_spec redirected = *spec;
    zvm_error err;
    int e = 0;
    if (is_wo_image(s, i) && (s->wo_temp[i] = wo_temporary(spec, &e)))
        redirected.uri = s->wo_temp[i];
    char short_alias[ZVM_IMAGE_SHOW], short_uri[ZVM_IMAGE_SHOW];
    if (e)
        return failed(s, ZVM_EXIT_IO, "channel %s: cannot make a temporary file beside %s for its tar: %s",
                      zvm_image_show(spec->alias, short_alias), zvm_image_show(spec->uri, short_uri), strerror(e));
    int rc = zvm_channel_open(&redirected, &s->channels[i], &err);
    if (rc == -ENOENT)
        return failed(s, ZVM_EXIT_NOENT, "%s", err.msg);
    if (rc == -EISDIR || rc == -EINVAL || rc == -ENOTSUP)   /* the manifest named the wrong kind of thing */
        return failed(s, ZVM_EXIT_MANIFEST, "MANIFEST %d: %s", spec->line, err.msg);
    if (rc != 0)
        return failed(s, ZVM_EXIT_IO, "%s", err.msg);
    zvm_channel_set_deadline(s->channels[i], &s->timer.due);
    trace(s, "channel %s: %s opened (%c, type %d, %s%s)", spec->alias, redirected.uri, zvm_channel_kind(s->channels[i]),
          (int)spec->type, zvm_channel_readable(s->channels[i]) ? "r" : "",
          zvm_channel_writable(s->channels[i]) ? "w" : "");
    return 0;
}

/* Where /dev/nvram is among the channels, or nchannels. */
static size_t nvram_index(const session *s)
{
    for (size_t i = 0; i < s->m->nchannels; i++)
        if (strcmp(s->m->channels[i].alias, "/dev/nvram") == 0)
            return i;
    return s->m->nchannels;
}

/* Stage 3a: open /dev/nvram first (its [fstab] says which channels are `wo` images). */
static int open_nvram_channel(session *s)
{
    if (fit_descriptor_limit(s))
        return s->r->exit_code;
    s->channels = calloc(s->m->nchannels ? s->m->nchannels : 1, sizeof *s->channels);
    s->wo_temp = calloc(s->m->nchannels ? s->m->nchannels : 1, sizeof *s->wo_temp);
    if (!s->channels || !s->wo_temp)
        return failed(s, ZVM_EXIT_MEMORY, "out of memory opening channels");
    size_t nv = nvram_index(s);
    return nv < s->m->nchannels ? open_channel(s, nv) : 0;
}

/* Stage 3c: open every other channel, in the guest's order. */
static int open_channels(session *s)
{
    size_t nv = nvram_index(s);
    for (size_t i = 0; i < s->m->nchannels; i++)
        if (i != nv && open_channel(s, i))
            return s->r->exit_code;
    return 0;
}

/* After the write-back: each `wo` image's complete tar renamed into place, or, when the session
 * wrote none (it failed before the guest existed, -F, a failed write-back), removed. */
static void settle_wo_images(session *s, bool written)
{
    for (size_t i = 0; s->wo_temp && i < s->m->nchannels; i++) {
        if (!s->wo_temp[i])
            continue;
        const zvm_channel_spec *spec = &s->m->channels[i];
        char short_alias[ZVM_IMAGE_SHOW], short_uri[ZVM_IMAGE_SHOW];
        if (written && rename(s->wo_temp[i], spec->uri) != 0) {
            failed(s, ZVM_EXIT_IO, "image %s: cannot put its tar in place at %s: %s",
                   zvm_image_show(spec->alias, short_alias), zvm_image_show(spec->uri, short_uri), strerror(errno));
            written = false;
        }
        if (!written)
            unlink(s->wo_temp[i]);
        trace(s, "image %s: %s", spec->alias,
              written ? "tar renamed into place" : "no tar written, previous file kept");
        free(s->wo_temp[i]);
    }
    free(s->wo_temp);
    s->wo_temp = NULL;
}

/* Reads all of the nvram channel: zvm's own read, outside the guest's quotas. */
static int read_nvram_text(zvm_channel *ch, char **text, size_t *size)
{
    int fd = zvm_channel_fd(ch);
    bool file = zvm_channel_kind(ch) == 'f';
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *bigger = cap >= MAX_NVRAM_BYTES ? NULL : realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                return cap >= MAX_NVRAM_BYTES ? -EFBIG : -ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = file ? pread(fd, buf + n, cap - n, (off_t)n) : read(fd, buf + n, cap - n);
        if (got < 0) {   /* EINTR too: only the Timeout interrupts zvm's reads */
            int e = errno;
            free(buf);
            return -e;
        }
        if (got == 0) {
            *text = buf;
            *size = n;
            return 0;
        }
        n += (size_t)got;
    }
    return -ENOMEM;
}

/* Stage 3b: /dev/nvram, if declared; and the defaults when it is not (argv[0] = the program). */
static int read_nvram(session *s)
{
    size_t at = nvram_index(s);
    zvm_channel *nv = at < s->m->nchannels ? s->channels[at] : NULL;
    zvm_error err;
    if (nv && zvm_channel_readable(nv)) {
        char *text;
        size_t size;
        int rc = read_nvram_text(nv, &text, &size);
        if (rc == -EFBIG)
            return failed(s, ZVM_EXIT_MANIFEST, "nvram is larger than %d bytes; it holds boot settings only",
                          MAX_NVRAM_BYTES);
        if (rc != 0)
            return failed(s, ZVM_EXIT_IO, "cannot read /dev/nvram: %s", strerror(-rc));
        rc = zvm_nvram_parse(text, size, &s->nvram, &err);
        free(text);
        if (rc != 0)
            return failed(s, ZVM_EXIT_MANIFEST, "%s", err.msg);
        trace(s, "nvram: %zu bytes, %zu args, %zu env, %zu fstab, %zu mapping", size, s->nvram.argc, s->nvram.nenv,
              s->nvram.nfstab, s->nvram.nmapping);
    } else {
        zvm_nvram_parse("", 0, &s->nvram, &err);
    }
    if (s->nvram.argc == 0) {
        const char *slash = strrchr(s->m->program, '/');
        char **argv = malloc(2 * sizeof *argv);
        char *name = strdup(slash ? slash + 1 : s->m->program);
        if (!argv || !name) {
            free(argv);
            free(name);
            return failed(s, ZVM_EXIT_MEMORY, "out of memory");
        }
        argv[0] = name;
        argv[1] = NULL;
        free(s->nvram.argv);
        s->nvram.argv = argv;
        s->nvram.argc = 1;
    }
    return 0;
}

/* Stage 4: the runtime and the guest's file system (images mounted, /dev/<alias> made). */
/* Per channel: where the cache keeps the index of the image it holds (a regular file the
 * nvram mounts), or NULL.  NULL when there is no cache.  Freed with free_image_index. */
static char **image_index_paths(session *s)
{
    const char *cache = s->opt->no_snapshots ? NULL : s->opt->cache_dir;
    char **paths = cache && s->nvram.nfstab ? calloc(s->m->nchannels + 1, sizeof *paths) : NULL;
    for (size_t i = 0; paths && i < s->nvram.nfstab; i++)
        for (size_t k = 0; k < s->m->nchannels; k++) {
            struct stat st;
            zvm_channel *ch = s->channels[k];
            if (ch && !paths[k] && strcmp(zvm_channel_alias(ch), s->nvram.fstab[i].channel) == 0 &&
                fstat(zvm_channel_fd(ch), &st) == 0 && S_ISREG(st.st_mode))
                paths[k] = zvm_cache_path(cache, "index", &st, NULL, true, NULL);
        }
    return paths;
}

static void free_image_index(char **paths, size_t n)
{
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

static int make_guest(session *s)
{
    zvm_error err;
    zvm_runtime_config cfg = { .memory_limit = s->m->memory < MAX_LINEAR_MEMORY ? s->m->memory : MAX_LINEAR_MEMORY };
    if (zvm_runtime_new(&cfg, &s->rt, &err) != 0)
        return failed(s, ZVM_EXIT_MEMORY, "cannot make the runtime: %s", err.msg);
    session_timer_set_runtime(&s->timer, s->rt);
    zvm_guest_config gcfg = {
        .channels = s->channels,
        .nchannels = s->m->nchannels,
        .nvram = &s->nvram,
        .memory_limit = s->m->memory,
        .trace = s->opt->trace,
        .image_index = image_index_paths(s),
    };
    int rc = zvm_guest_new(&gcfg, &s->guest, &err);
    free_image_index((char **)gcfg.image_index, s->m->nchannels);
    return rc != 0 ? failed(s, ZVM_EXIT_IO, "%s", err.msg) : 0;
}

/* ---- snapshots (docs/Snapshots.md) ---- */

static void snapshot_note(void *user, const char *msg)
{
    note(user, 1, "%s", msg);
}

/* The guest called zvm_fork() in a session with a usable cache (find_snapshot registers this
 * only then): a cold session writes its snapshot (a failure is a note, never the session's
 * failure).  zvm_fork() returns 0 here, 1 in a session that resumes. */
static int32_t on_fork(void *user, zvm_guest *g, zvm_call *call)
{
    session *s = user;
    char why[PATH_MAX + 300];
    int rc = session_snapshot_save(&s->snap, g, call, why, sizeof why);
    if (rc != 0)        /* the cache failing is a warning; the guest's own doing, a note */
        note(s, rc < 0 ? 0 : 1, "zvm_fork: no snapshot saved: %s%s", why, rc < 0 ? "; running on without" : "");
    else
        note(s, 1, "zvm_fork: snapshot saved: %s", s->snap.path);
    return 0;
}

/* Before stage 5: is there a snapshot this session may resume?  Nothing here can fail the
 * session: without one it runs cold. */
/* Whether the program imports zvm_fork: only such a guest can have a snapshot. */
static bool has_snapshot_point(const zvm_module *m)
{
    for (uint32_t i = 0; i < zvm_module_import_count(m); i++) {
        zvm_import_desc d;
        zvm_module_import(m, i, &d);
        if (d.kind == ZVM_EXTERN_FUNC && strcmp(d.module, "zvm") == 0 && strcmp(d.name, "zvm_fork") == 0)
            return true;
    }
    return false;
}

static void find_snapshot(session *s)
{
    s->snap.fd = -1;
    if (s->opt->no_snapshots || s->opt->check_only || !has_snapshot_point(s->module))
        return;
    if (!s->program_stable) {
        trace(s, "snapshots off: the program changed while it was read");
        return;
    }
    session_snapshot_setup setup = {
        .cache_dir = s->opt->cache_dir,
        .cache_bytes = s->opt->cache_bytes,
        .program = &s->program_id,
        .memory = s->m->memory,
        .nvram = &s->nvram,
        .channels = s->channels,
        .nchannels = s->m->nchannels,
    };
    if (session_snapshot_prepare(&s->snap, &setup) != 0) {
        if (s->snap.warn)
            note(s, 0, "snapshot cache unusable, no snapshots this session: %s", s->snap.note);
        else
            trace(s, "%s", s->snap.note);
        return;
    }
    zvm_guest_on_fork(s->guest, on_fork, s);
    s->resume = session_snapshot_find(&s->snap, s->guest, snapshot_note, s) == 0;
    if (s->resume)
        note(s, 1, "resuming snapshot %s", s->snap.path);
}

/* Instantiates without starting and takes the snapshot's state in: memory, the engine's
 * objects and call stack, the guest's descriptors and clock.  0, or -1 with why (nothing has
 * run; the caller starts over cold). */
static int restore_snapshot(session *s, zvm_extern *imports, uint32_t nimports, zvm_instance **inst, zvm_error *err)
{
    size_t engine_size, guest_size;
    const uint8_t *engine = session_snapshot_engine_state(&s->snap, &engine_size);
    const uint8_t *guest = session_snapshot_guest_state(&s->snap, &guest_size);
    zvm_extern mem = { 0 };
    if (zvm_instance_new_unstarted(s->rt, s->module, imports, nimports, inst, err) != 0)
        return -1;
    zvm_instance_export(*inst, "memory", &mem);
    if (session_snapshot_map_memory(&s->snap, mem.kind == ZVM_EXTERN_MEMORY ? mem.u.memory : NULL, err) != 0 ||
        zvm_instance_restore(*inst, engine, engine_size, err) != 0)
        return -1;
    zvm_guest_bind(s->guest, *inst);
    return zvm_guest_restore(s->guest, guest, guest_size, err) == 0 ? 0 : -1;
}

/* A snapshot that could not be taken in: a new runtime and guest, for a cold run. */
static int start_over_cold(session *s, const zvm_error *why)
{
    note(s, 0, "snapshot %s cannot be resumed (%s): running cold", s->snap.path, why->msg);
    unlink(s->snap.path);
    session_snapshot_close(&s->snap);
    s->resume = false;
    zvm_runtime_free(s->rt);
    zvm_guest_free(s->guest);
    s->rt = NULL;
    s->guest = NULL;
    session_timer_set_runtime(&s->timer, NULL);
    int rc = make_guest(s);
    if (rc == 0 && s->snap.enabled)
        zvm_guest_on_fork(s->guest, on_fork, s);
    return rc;
}

/* "out of bounds memory access in function 12 (parse) at byte 0x3f0" */
static void describe_trap(const zvm_trap *t, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s", t->msg[0] ? t->msg : zvm_trap_kind_message(t->kind));
    if (t->func_index != UINT32_MAX && n >= 0 && (size_t)n < size) {
        if (t->func_name)
            snprintf(buf + n, size - (size_t)n, " in function %u (%s) at byte 0x%x", t->func_index, t->func_name,
                     t->offset);
        else
            snprintf(buf + n, size - (size_t)n, " in function %u at byte 0x%x", t->func_index, t->offset);
    }
}

/* What a stopped guest means for the report: an exit is a user return code, the rest traps.
 * A guest still running at the deadline timed out, however it then ended (failed() says so). */
static int guest_stopped(session *s, const zvm_trap *trap)
{
    if (trap->kind == ZVM_TRAP_EXIT) {
        s->r->user_rc = trap->exit_code;
        trace(s, "guest exited with %d", trap->exit_code);
        return session_timer_fired(&s->timer) ? failed(s, ZVM_EXIT_TRAP, "session timeout") : 0;
    }
    char where[400];
    describe_trap(trap, where, sizeof where);
    return failed(s, ZVM_EXIT_TRAP, "trap: %s", where);
}

/* After a guest stopped: how long after the Timeout, if it ran into it (for -T and -v 2). */
static void trace_overrun(session *s)
{
    if (session_timer_fired(&s->timer))
        trace(s, "guest stopped %lld ms after the Timeout", (long long)session_timer_overrun_ms(&s->timer));
}

/* How the guest's first run ended: an exit, a trap, the Timeout, or returning. */
static int guest_ran(session *s, int called, const zvm_trap *trap, const char *what)
{
    trace_overrun(s);
    if (called != 0)
        return guest_stopped(s, trap);
    if (session_timer_fired(&s->timer))
        return failed(s, ZVM_EXIT_TRAP, "session timeout");
    trace(s, "%s returned", what);
    return 0;
}

/* Links the guest's calls to the module's imports (into a new array). */
static int link_imports(session *s, zvm_extern **imports, uint32_t *nimports)
{
    zvm_error err;
    *nimports = zvm_module_import_count(s->module);
    *imports = calloc(*nimports ? *nimports : 1, sizeof **imports);
    if (!*imports)
        return failed(s, ZVM_EXIT_MEMORY, "out of memory");
    if (zvm_guest_imports(s->guest, s->rt, s->module, *imports, &err) != 0)
        return failed(s, ZVM_EXIT_INVALID, "program %s cannot run here: %s", s->m->program, err.msg);
    return 0;
}

/* Stage 5, resuming: the snapshot's state in, then on from its zvm_fork() (which returns 1). */
static int resume_guest(session *s, zvm_extern *imports, uint32_t nimports, bool *cold)
{
    zvm_error err;
    zvm_instance *inst = NULL;
    if (restore_snapshot(s, imports, nimports, &inst, &err) != 0) {
        *cold = true;
        return start_over_cold(s, &err);
    }
    s->r->daemon = 1;
    trace(s, "resume %s", s->snap.path);
    zvm_val forked[1] = { 1 };
    zvm_trap trap;
    return guest_ran(s, zvm_instance_resume(inst, forked, NULL, &trap), &trap, "_start (resumed)");
}

/* Stage 5, cold: instantiate (start function included) and run _start. */
static int start_guest(session *s, zvm_extern *imports, uint32_t nimports)
{
    zvm_error err;
    zvm_trap trap = { 0 };
    zvm_instance *inst = NULL;
    zvm_extern start;
    trace(s, "instantiate (Timeout %lld s)", (long long)s->m->timeout);
    if (zvm_instance_new(s->rt, s->module, imports, nimports, &inst, &trap, &err) != 0) {
        trace_overrun(s);
        if (trap.kind != ZVM_TRAP_NONE)
            return guest_stopped(s, &trap);
        return failed(s, ZVM_EXIT_INVALID, "program %s cannot be instantiated: %s", s->m->program, err.msg);
    }
    if (!zvm_instance_export(inst, "_start", &start) || start.kind != ZVM_EXTERN_FUNC)
        return failed(s, ZVM_EXIT_INVALID, "program %s exports no _start function; build it as a WASI command (zvm-cc)",
                      s->m->program);
    zvm_guest_bind(s->guest, inst);
    trace(s, "call _start");
    zvm_val no_values[1] = { 0 };   /* _start takes and returns nothing */
    return guest_ran(s, zvm_func_call(s->rt, start.u.func, no_values, no_values, &trap), &trap, "_start");
}

/* Stage 5: link, then resume a snapshot or start cold. */
static int run_guest(session *s)
{
    zvm_extern *imports = NULL;
    uint32_t nimports = 0;
    int rc = link_imports(s, &imports, &nimports);
    if (rc == 0 && s->opt->check_only) {
        trace(s, "-F: checked, not run");
    } else if (rc == 0 && s->resume) {
        bool cold = false;
        rc = resume_guest(s, imports, nimports, &cold);
        if (cold && rc == 0) {
            free(imports);
            imports = NULL;
            if ((rc = link_imports(s, &imports, &nimports)) == 0)
                rc = start_guest(s, imports, nimports);
        }
    } else if (rc == 0) {
        rc = start_guest(s, imports, nimports);
    }
    free(imports);
    return rc;
}

/* A stop signal, whenever it came before the write-back: the session ends as stopped by it,
 * even if the guest had finished (a signal seen first by the session's own thread). */
static bool stopped_by_signal(session *s)
{
    if (s->opt->stop && *s->opt->stop && !session_timer_signal(&s->timer))
        s->timer.signal = *s->opt->stop;
    if (!session_timer_signal(&s->timer))
        return false;
    s->timer.fired = true;
    failed(s, ZVM_EXIT_TRAP, "stopped");
    return true;
}

/* The network streams' end: with their end frame only when the session ended ok and the guest
 * returned 0, else aborted, so a reader never takes a partial stream for a whole one.  A stream
 * that broke fails the session even if the guest shrugged the error off. */
static void end_streams(session *s)
{
    zvm_error err;
    s->past_due = session_timer_overrun_ms(&s->timer) >= 0;
    const char *broken = network_wait(s);
    if (*broken)
        failed(s, ZVM_EXIT_PEER, "%s", broken);
    for (size_t i = 0; s->channels && i < s->m->nchannels; i++) {
        if (!s->channels[i])
            continue;
        if (s->r->exit_code != 0 || s->r->user_rc != 0)
            zvm_channel_abort(s->channels[i]);
        else if (zvm_channel_finish(s->channels[i], &err) != 0)
            failed(s, ZVM_EXIT_PEER, "%s", err.msg);
    }
}

/* Stage 6: write `wo` images back (even after a trap: what the guest wrote up to then stays),
 * each into place only if complete; never after a stop signal (half of what the guest meant to
 * write is worse than none: the previous file stays); then end the network streams (end_streams). */
static void finish_guest(session *s)
{
    zvm_error err;
    bool stopped = stopped_by_signal(s);
    bool written = s->guest && !s->opt->check_only && !stopped;
    if (stopped)
        trace(s, "stopped by %s: no wo image written back", zvm_signal_name(session_timer_signal(&s->timer)));
    if (written && zvm_guest_finish(s->guest, &err) != 0) {
        failed(s, ZVM_EXIT_IO, "%s", err.msg);
        written = false;
    }
    settle_wo_images(s, written);
    if (!s->opt->check_only)
        end_streams(s);
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Collects the channels' accounting, then takes everything down: the instance and host
 * functions (with the runtime), the guest, then the channels it used. */
static void cleanup(session *s)
{
    if (s->channels)
        session_report_channels(s->r, s->channels, s->m->nchannels);
    if (s->rt)
        zvm_runtime_free(s->rt);
    if (s->guest)
        zvm_guest_free(s->guest);
    for (size_t i = 0; s->channels && i < s->m->nchannels; i++)
        if (s->channels[i])
            zvm_channel_close(s->channels[i]);
    free(s->channels);
    if (s->module)
        zvm_module_free(s->module);
    zvm_nvram_free(&s->nvram);
    session_snapshot_close(&s->snap);
}

static void report_init(zvm_report *r)
{
    memset(r, 0, sizeof *r);
    r->validator_state = 2;
    strcpy(r->state, "ok");
}

int zvm_session_run(const zvm_manifest *m, const zvm_session_options *opt, zvm_report *report)
{
    static const zvm_session_options no_options;
    struct rusage before, after;
    getrusage(RUSAGE_THREAD, &before);
    report_init(report);
    session s = { .m = m, .opt = opt ? opt : &no_options, .r = report, .snap = { .fd = -1 } };
    for (size_t i = 0; i < m->nwarnings; i++)   /* always: a skipped line is usually a mistake */
        note(&s, 0, "manifest line %d: %s", m->warnings[i].line, m->warnings[i].msg);
    trace(&s, "manifest: program %s, Memory %llu, Timeout %lld, %zu channels", m->program,
          (unsigned long long)m->memory, (long long)m->timeout, m->nchannels);

    zvm_error err;
    if (session_timer_start(&s.timer, m->timeout, s.opt->stop, &err) != 0)
        failed(&s, ZVM_EXIT_IO, "%s", err.msg);
    else if (load_program(&s) == 0 && open_nvram_channel(&s) == 0 && read_nvram(&s) == 0 && open_channels(&s) == 0 &&
             make_guest(&s) == 0) {
        find_snapshot(&s);
        run_guest(&s);
    }
    session_timer_stop(&s.timer);
    finish_guest(&s);
    cleanup(&s);

    getrusage(RUSAGE_THREAD, &after);
    report->sys_seconds = seconds(after.ru_stime) - seconds(before.ru_stime);
    report->user_seconds = seconds(after.ru_utime) - seconds(before.ru_utime);
    note(&s, 2, "session %s (exit %d)", report->state, report->exit_code);
    if (s.opt->trace)
        fflush(s.opt->trace);
    return report->exit_code;
}

/* A manifest that did not parse still gets a full report. */
static int manifest_failed(int code, const zvm_error *err, const zvm_session_options *opt, zvm_report *report)
{
    report_init(report);
    snprintf(report->state, sizeof report->state, "%s", err->msg);
    report->exit_code = code;
    if (opt && opt->trace) {
        fprintf(opt->trace, "zvm: failed (exit %d): %s\n", code, err->msg);
        fflush(opt->trace);
    }
    return code;
}

int zvm_session_run_text(const char *text, size_t size, const zvm_session_options *opt, zvm_report *report)
{
    zvm_manifest m;
    zvm_error err;
    int rc = zvm_manifest_parse(text, size, &m, &err);
    if (rc != 0)
        return manifest_failed(rc, &err, opt, report);
    rc = zvm_session_run(&m, opt, report);
    zvm_manifest_free(&m);
    return rc;
}

int zvm_session_run_file(const char *path, const zvm_session_options *opt, zvm_report *report)
{
    zvm_manifest m;
    zvm_error err;
    int rc = zvm_manifest_load(path, &m, &err);
    if (rc != 0)
        return manifest_failed(rc, &err, opt, report);
    rc = zvm_session_run(&m, opt, report);
    zvm_manifest_free(&m);
    return rc;
}
