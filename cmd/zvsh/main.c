/*
 * zvsh — the ZeroVM shell: turns a command line and tar images into a manifest and nvram,
 * runs the session in this process through libzvm, and keeps the files when asked.
 *
 *   zvsh [--zvm-image PATH[,MOUNTPOINT[,ACCESS]]]... [--zvm-save-dir DIR] [--zvm-debug]
 *        [--zvm-trace] [--zvm-verbosity N] [--zvm-getrc] [--zvm-timeout N] [--zvm-memory N]
 *        [--zvm-overwrite] [--zvm-no-edit] COMMAND [ARGS...]
 *
 * Exit status: the guest's code | (zvm's code << 4), or zvm's code alone with --zvm-getrc.
 * zvsh's own errors (before any session runs) exit with zvm's codes: 22 a bad command line,
 * 2 a missing file, 5 an unreadable or unwritable host file, 17 a `wo` target it will not
 * replace.  SIGINT, SIGTERM, SIGHUP or SIGPIPE stop the session and exit 128+signal.
 *
 * Everything the session needs from the host is checked before it starts (checks.h), and
 * whatever the run made (the temporary directory, @files zvsh created, `wo` images that did not
 * exist) is removed again when it is interrupted.
 *
 * Without a save dir nothing goes through the host's file system that need not: the manifest
 * stays in memory and the nvram is an anonymous memory file the session reads by descriptor
 * (/dev/fd/N).  A temporary directory is made only to extract COMMAND from an image (boot.1):
 * creating and removing files on a disk file system cost a plain run a third of a millisecond.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"   /* enum zvm_exit_code */
#include "boot.h"
#include "checks.h"
#include "config.h"
#include "images.h"
#include "job.h"
#include "tty.h"
#include "session/session.h"
#include "version.h"

struct cli {
    char **image_specs;
    size_t nimage_specs;
    const char *save_dir;
    bool debug, trace, getrc, overwrite, no_edit, no_snapshot;
    const char *cache_dir;          /* --zvm-cache, else zvm_default_cache_dir() */
    int verbosity;
    long long timeout, memory;      /* -1: from the config */
    const char *command;
    char **args;                    /* everything after COMMAND */
    int nargs;
};

static void usage(FILE *to)
{
    fprintf(
        to,
        "usage: zvsh [OPTIONS] COMMAND [ARGS...]\n"
        "Runs COMMAND (a member of an image, or a .wasm on the host) in a ZeroVM session.\n"
        "  --zvm-image PATH[,MOUNTPOINT[,ACCESS]]  mount a tar image (default /, ro; ACCESS ro or wo); repeatable\n"
        "  --zvm-save-dir DIR    write manifest.1, nvram.1 (and boot.1) into DIR and keep them\n"
        "  --zvm-debug           give the guest a /dev/debug channel writing to ./zvsh.log\n"
        "  --zvm-trace           trace the session and every host call into ./zvsh.trace.log\n"
        "  --zvm-verbosity N     verbosity of zvm's notes (stderr) and the guest's nvram [debug]\n"
        "  --zvm-getrc           exit with zvm's code alone instead of guest | zvm << 4\n"
        "  --zvm-timeout N       session Timeout in seconds (overrides zvsh.cfg)\n"
        "  --zvm-memory N        session Memory in bytes (overrides zvsh.cfg)\n"
        "  --zvm-overwrite       let a wo image replace an existing non-empty file\n"
        "  --zvm-no-edit         no line editing when stdin is a terminal (the guest reads the terminal itself)\n"
        "  --zvm-cache DIR       the cache for snapshots and extracted programs (default as zvm's --cache)\n"
        "  --zvm-no-snapshot     neither resume nor write a snapshot of the program (see zvm(1), zvm_fork)\n"
        "  -h, --help            this help;  --version  the version\n"
        "ARGS: @path becomes a channel /dev/<n>.<basename> (created empty if missing); @NAME=value sets\n"
        "an environment variable.  An image named without a '/' (python.tar, python) is looked for in\n"
        "the current directory, then in $ZVM_IMAGE_PATH or zvsh.cfg's [images] path or PREFIX/share/zvm/images.\n"
        "Config: /etc/zvsh.cfg, ~/.zvsh.cfg, ./zvsh.cfg (nearest wins).  Ctrl-C (SIGINT), SIGTERM, SIGHUP, SIGPIPE\n"
        "end the session: exit 128+signal.  See zvsh(1).\n");
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("zvsh: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* A non-negative integer option value, or -1. */
static long long number(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    return errno || end == s || *end || v < 0 ? -1 : v;
}

/* Options come before COMMAND; everything after it belongs to the guest.  Returns -1 to exit 0
 * (help, version), 0 to go on, or an exit code. */
static int parse_cli(int argc, char **argv, struct cli *cli)
{
    memset(cli, 0, sizeof *cli);
    cli->timeout = cli->memory = -1;
    cli->image_specs = calloc((size_t)argc, sizeof *cli->image_specs);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return -1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("zvsh %s\n", zvm_version());
            return -1;
        }
        if (strncmp(a, "--zvm-", 6) != 0)
            break;

        const char *name = a + 6, *value = NULL;
        char key[32];
        const char *eq = strchr(name, '=');
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - name) : (int)strlen(name), name);
        bool takes_value = strcmp(key, "image") == 0 || strcmp(key, "save-dir") == 0 || strcmp(key, "verbosity") == 0 ||
                           strcmp(key, "timeout") == 0 || strcmp(key, "memory") == 0 || strcmp(key, "cache") == 0;
        if (takes_value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return fail(ZVM_EXIT_USAGE, "option --zvm-%s needs a value; try 'zvsh --help'", key);
        } else if (eq) {
            return fail(ZVM_EXIT_USAGE, "option --zvm-%s takes no value; try 'zvsh --help'", key);
        }
        if (strcmp(key, "image") == 0)
            cli->image_specs[cli->nimage_specs++] = (char *)value;
        else if (strcmp(key, "save-dir") == 0)
            cli->save_dir = value;
        else if (strcmp(key, "debug") == 0)
            cli->debug = true;
        else if (strcmp(key, "trace") == 0)
            cli->trace = true;
        else if (strcmp(key, "getrc") == 0)
            cli->getrc = true;
        else if (strcmp(key, "overwrite") == 0)
            cli->overwrite = true;
        else if (strcmp(key, "no-edit") == 0)
            cli->no_edit = true;
        else if (strcmp(key, "no-snapshot") == 0)
            cli->no_snapshot = true;
        else if (strcmp(key, "cache") == 0)
            cli->cache_dir = value;
        else if (strcmp(key, "verbosity") == 0) {
            long long v = number(value);
            if (v < 0 || v > 9)
                return fail(ZVM_EXIT_USAGE, "--zvm-verbosity takes 0 to 9, not '%s'", value);
            cli->verbosity = (int)v;
        } else if (strcmp(key, "timeout") == 0) {
            if ((cli->timeout = number(value)) < 1)
                return fail(ZVM_EXIT_USAGE, "--zvm-timeout takes whole seconds >= 1, not '%s'", value);
        } else if (strcmp(key, "memory") == 0) {
            if ((cli->memory = number(value)) < 1)
                return fail(ZVM_EXIT_USAGE, "--zvm-memory takes a number of bytes >= 1, not '%s'", value);
        } else {
            return fail(ZVM_EXIT_USAGE, "unknown option '%s'; try 'zvsh --help'", a);
        }
    }
    if (i >= argc)
        return fail(ZVM_EXIT_USAGE, "no COMMAND given; try 'zvsh --help'");
    cli->command = argv[i];
    cli->args = argv + i + 1;
    cli->nargs = argc - i - 1;
    return 0;
}

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return strdup(path);
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *s = malloc(n);
    snprintf(s, n, "%s/%s", cwd, path);
    return s;
}

/* A ro image: found (images.h), a regular file, a whole tar archive (read once per file identity:
 * the cache remembers it).  Its absolute path, or NULL. */
static char *read_only_image(const struct zvsh_job *job, const char *name, int *rc)
{
    char err[3072];
    char *found = zvsh_find_image(name, job->cfg, err, sizeof err);
    if (!found) {
        *rc = fail(ZVM_EXIT_NOENT, "%s", err);
        return NULL;
    }
    struct stat st;
    char *path = absolute(found);
    free(found);
    if (stat(path, &st) != 0)
        *rc = fail(ZVM_EXIT_NOENT, "image %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        *rc = fail(ZVM_EXIT_IO, "image %s is not a regular file (a tar archive is needed)", path);
    else if (job->cache_dir && zvm_cache_has_mark(job->cache_dir, "checked", &st))
        ;                                    /* this very file was read whole before */
    else if (zvsh_check_image(path, err, sizeof err) != 0)
        *rc = fail(ZVM_EXIT_IO, "%s", err);
    else if (job->cache_dir)
        zvm_cache_mark(job->cache_dir, "checked", &st);
    if (*rc) {
        free(path);
        return NULL;
    }
    return path;
}

/* "PATH[,MOUNTPOINT[,ACCESS]]" or the config's "PATH = MOUNTPOINT ACCESS". */
static int add_image(struct zvsh_job *job, bool overwrite, const char *path, const char *mountpoint,
                     const char *access_)
{
    struct zvsh_image *im = &job->images[job->nimages];
    if (!*path)
        return fail(ZVM_EXIT_USAGE, "an image needs a path: --zvm-image PATH[,MOUNTPOINT[,ACCESS]]");
    if (access_ && *access_ && strcmp(access_, "ro") != 0 && strcmp(access_, "wo") != 0)
        return fail(ZVM_EXIT_USAGE, "image %s: access must be ro or wo, not '%s'", path, access_);
    im->write_back = access_ && strcmp(access_, "wo") == 0;
    if (mountpoint && *mountpoint && mountpoint[0] != '/')
        return fail(ZVM_EXIT_USAGE, "image %s: the mount point must be absolute, not '%s'", path, mountpoint);
    int rc = 0;
    if (im->write_back) {
        char err[PATH_MAX + 256];
        im->path = absolute(path);
        if ((rc = zvsh_check_wo_target(im->path, overwrite, err, sizeof err))) {
            free(im->path);
            return fail(rc, "%s", err);
        }
    } else if (!(im->path = read_only_image(job, path, &rc))) {
        return rc;
    }
    im->mountpoint = strdup(mountpoint && *mountpoint ? mountpoint : "/");
    job->nimages++;
    return 0;
}

static int add_image_spec(struct zvsh_job *job, bool overwrite, const char *spec)
{
    char *copy = strdup(spec), *parts[3] = { copy, NULL, NULL }, *p = copy;
    for (int k = 1; k < 3 && (p = strchr(p, ',')); k++) {
        *p++ = '\0';
        parts[k] = p;
    }
    if (p && strchr(p, ',')) {
        free(copy);
        return fail(ZVM_EXIT_USAGE, "--zvm-image takes PATH[,MOUNTPOINT[,ACCESS]], not '%s'", spec);
    }
    int rc = add_image(job, overwrite, parts[0], parts[1], parts[2]);
    free(copy);
    return rc;
}

static int add_config_image(struct zvsh_job *job, bool overwrite, const char *path, const char *value)
{
    char mp[PATH_MAX] = "", acc[16] = "";
    if (sscanf(value, "%4095s %15s", mp, acc) < 1)
        return fail(ZVM_EXIT_USAGE, "zvsh.cfg [fstab] %s: expected '= MOUNTPOINT ro|wo'", path);
    return add_image(job, overwrite, path, mp, acc);
}

/* --zvm-debug and --zvm-trace write ./zvsh.log and ./zvsh.trace.log: writable, said before the run. */
static int check_log_files(const struct cli *cli)
{
    const char *what[2] = { "--zvm-debug", "--zvm-trace" }, *name[2] = { "zvsh.log", "zvsh.trace.log" };
    bool wanted[2] = { cli->debug, cli->trace };
    for (int i = 0; i < 2; i++) {
        if (!wanted[i])
            continue;
        char err[PATH_MAX + 256], *path = absolute(name[i]);
        int rc = zvsh_check_writable(what[i], path, err, sizeof err);
        free(path);
        if (rc)
            return fail(rc, "%s (run it from a directory you can write to)", err);
    }
    return 0;
}

/* Creates (or reuses) the directory the session files go into. */
static char *prepare_dir(const char *save_dir)
{
    if (!save_dir) {
        const char *tmp = getenv("TMPDIR");
        char templ[PATH_MAX];
        snprintf(templ, sizeof templ, "%s/zvsh.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(templ)) {
            fail(ZVM_EXIT_IO, "cannot make a temporary directory in %s: %s", tmp ? tmp : "/tmp", strerror(errno));
            return NULL;
        }
        return strdup(templ);
    }
    if (mkdir(save_dir, 0755) != 0 && errno != EEXIST) {
        fail(ZVM_EXIT_IO, "cannot create save dir %s: %s", save_dir, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(save_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fail(ZVM_EXIT_IO, "save dir %s is not a directory", save_dir);
        return NULL;
    }
    if (access(save_dir, W_OK | X_OK) != 0) {
        fail(ZVM_EXIT_IO, "save dir %s is not writable: %s", save_dir, strerror(errno));
        return NULL;
    }
    return absolute(save_dir);
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0)
        return fail(ZVM_EXIT_IO, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

static void remove_dir(const char *dir)
{
    const char *names[] = { "manifest.1", "nvram.1", "boot.1" };
    char path[PATH_MAX];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Where member of the image at path is kept once extracted: <cache>/programs/<key>.wasm, the
 * key naming the image file by identity (replaced or changed, its ctime changes) and the
 * member.  So a program is extracted once, not on every run, and keeps one identity: what
 * snapshots are keyed by.  NULL (extract to boot.1) when there is no private cache. */
static char *cached_member(const char *cache, const char *path, const char *member)
{
    struct stat st;
    return cache && stat(path, &st) == 0 ? zvm_cache_path(cache, "programs", &st, member, false, ".wasm") : NULL;
}

/* Extracts member into the program cache (once: a later run finds it there).  1 found, 0 not
 * a member, -1 error; *program set when found. */
static int extract_cached(const char *image, const char *member, const char *cached, char **program, char *err,
                          size_t size)
{
    struct stat st;
    if (stat(cached, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
        /* not touched to mark it used: that would change its ctime, so its identity, so every
         * snapshot's key (the cache's bound goes by when it was extracted) */
        *program = strdup(cached);
        return 1;
    }
    /* written under a hidden name (eviction passes those by), then renamed into place */
    char tmp[PATH_MAX + 16];
    const char *base = strrchr(cached, '/');
    snprintf(tmp, sizeof tmp, "%.*s/.%s.%d", (int)(base - cached), cached, base + 1, (int)getpid());
    int r = zvsh_extract_member(image, member, tmp, err, size);
    if (r == 1 && rename(tmp, cached) != 0)
        r = 0;                            /* the cache did not take it: extract as before */
    unlink(tmp);
    if (r == 1)
        *program = strdup(cached);
    return r;
}

/* COMMAND is a member of an image (the first that has it wins), or a .wasm on the host.  A
 * member the cache cannot keep is extracted as boot.1 into the session directory, *dir, made
 * then if it is not there yet (a run whose program comes from the cache makes none). */
static int find_program(struct zvsh_job *job, char **dir, const char *cache, const char *command, char **program)
{
    char boot[PATH_MAX], err[512];
    for (size_t i = 0; i < job->nimages; i++) {
        if (job->images[i].write_back)
            continue;
        char *cached = cached_member(cache, job->images[i].path, command);
        int r = cached ? extract_cached(job->images[i].path, command, cached, program, err, sizeof err) : 0;
        free(cached);
        if (r == 1)
            return 0;
        if (r == 0 && !*dir && !(*dir = prepare_dir(NULL)))
            return ZVM_EXIT_IO;
        job->dir = *dir;
        snprintf(boot, sizeof boot, "%s/boot.1", *dir);
        r = r < 0 ? r : zvsh_extract_member(job->images[i].path, command, boot, err, sizeof err);
        if (r < 0)
            return fail(ZVM_EXIT_IO, "%s", err);
        if (r == 1) {
            *program = strdup(boot);
            return 0;
        }
    }
    struct stat st;
    if (stat(command, &st) == 0 && S_ISREG(st.st_mode)) {
        *program = absolute(command);
        return 0;
    }
    if (job->nimages == 0)
        return fail(ZVM_EXIT_NOENT, "%s: no such program (not a file; no --zvm-image given to look in)", command);
    fprintf(stderr, "zvsh: %s: not a member of", command);
    for (size_t i = 0; i < job->nimages; i++)
        fprintf(stderr, "%s %s", i ? "," : "", job->images[i].path);
    fprintf(stderr, " and not a file\n");
    return ZVM_EXIT_NOENT;
}

/* What one run made on the host, to take down at the end (or when stopped). */
struct run {
    const struct cli *cli;
    char *dir;                      /* the session files' directory, once made (NULL: none needed) */
    int nvram_fd;                   /* the nvram's memory file, or -1 */
    char nvram_uri[PATH_MAX];
    const char **made;              /* host files that did not exist before the run (not owned) */
    size_t nmade;
};

/* @NAME=value sets an environment variable; @path becomes a channel; others pass unchanged. */
static int resolve_args(struct zvsh_job *job, struct zvsh_config *cfg, const struct cli *cli, struct run *run)
{
    job->args = calloc((size_t)cli->nargs + 1, sizeof *job->args);
    job->files = calloc((size_t)cli->nargs + 1, sizeof *job->files);
    for (int i = 0; i < cli->nargs; i++) {
        const char *a = cli->args[i];
        if (a[0] != '@' || a[1] == '\0') {
            job->args[job->nargs++] = strdup(a);
            continue;
        }
        const char *eq = strchr(a + 1, '=');
        size_t namelen = eq ? (size_t)(eq - a - 1) : 0;
        if (eq && namelen > 0 && strspn(a + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == namelen) {
            char *name = strndup(a + 1, namelen);
            zvsh_config_set_env(cfg, name, eq + 1);
            free(name);
            continue;
        }
        char err[PATH_MAX + 256], *path = absolute(a + 1);
        bool created;
        int rc = zvsh_prepare_file_arg(a, path, &created, err, sizeof err);
        if (rc) {
            free(path);
            return fail(rc, "%s", err);
        }
        job->files[job->nfiles++] = path;
        job->args[job->nargs++] = zvsh_channel_alias(job->nconfig_images + job->nfiles, path);
        if (created)
            run->made[run->nmade++] = path;
    }
    return 0;
}

/* `wo` images whose files do not exist yet: the session makes them. */
static void note_new_wo_images(const struct zvsh_job *job, struct run *run)
{
    struct stat st;
    for (size_t i = 0; i < job->nimages; i++)
        if (job->images[i].write_back && stat(job->images[i].path, &st) != 0)
            run->made[run->nmade++] = job->images[i].path;
}

/* The nvram where the session reads it: nvram.1 in the save dir (kept: zvm re-runs the saved
 * manifest), else a memory file the manifest names by descriptor, /dev/fd/N (the session
 * duplicates it; it never touches a disk and needs no removing).  A host without memfd_create
 * gets nvram.1 in a temporary directory instead. */
static int place_nvram(struct run *r, const char *nvram)
{
    if (!r->cli->save_dir) {
        size_t n = strlen(nvram), done = 0;
        int fd = memfd_create("zvsh-nvram", MFD_CLOEXEC);
        while (fd >= 0 && done < n) {
            ssize_t w = write(fd, nvram + done, n - done);
            if (w <= 0) {
                close(fd);
                fd = -1;
            } else {
                done += (size_t)w;
            }
        }
        if (fd >= 0) {
            r->nvram_fd = fd;
            snprintf(r->nvram_uri, sizeof r->nvram_uri, "/dev/fd/%d", fd);
            return 0;
        }
        if (!r->dir && !(r->dir = prepare_dir(NULL)))
            return ZVM_EXIT_IO;
    }
    snprintf(r->nvram_uri, sizeof r->nvram_uri, "%s/nvram.1", r->dir);
    return write_text(r->dir, "nvram.1", nvram);
}

/* Removes the temporary directory (not a --zvm-save-dir); when the run did not finish, also the
 * files it made: a stopped run leaves nothing of its own behind. */
static void take_down(struct run *r, bool finished)
{
    if (r->dir && !r->cli->save_dir)
        remove_dir(r->dir);
    if (r->nvram_fd >= 0)
        close(r->nvram_fd);
    r->nvram_fd = -1;
    for (size_t i = 0; !finished && i < r->nmade; i++)
        unlink(r->made[i]);
}

/* A stop signal came: one line, everything zvsh made removed, exit 128+signal. */
static int stopped(struct run *r, int sig, bool during_session)
{
    take_down(r, false);
    fprintf(stderr, "zvsh: %s: %s; nothing written back, temporary files removed\n", zvm_signal_name(sig),
            during_session ? "session stopped" : "stopped before the session started");
    return 128 + sig;
}

/* Runs the manifest (the text manifest.1 holds), with a line editor on the terminal when stdin
 * is one. */
static int run_session(const struct cli *cli, const char *manifest, const volatile sig_atomic_t *stop,
                       zvm_report *report)
{
    zvm_session_options opt = { .verbosity = cli->verbosity,
                                .log = stderr,
                                .stop = stop,
                                .cache_dir = cli->cache_dir,
                                .no_snapshots = cli->no_snapshot };
    if (cli->trace && !(opt.trace = fopen("zvsh.trace.log", "w")))
        fprintf(stderr, "zvsh: cannot write zvsh.trace.log (%s); running without a trace\n", strerror(errno));
    fflush(stdout);
    struct zvsh_tty *tty = NULL;
    if (!cli->no_edit && isatty(0))
        tty = zvsh_tty_start(stop);
    int zvm_rc = zvm_session_run_text(manifest, strlen(manifest), &opt, report);
    zvsh_tty_stop(tty);
    if (opt.trace)
        fclose(opt.trace);
    return zvm_rc;
}

/* The config's [fstab] images, then --zvm-image's, each found and checked (see add_image). */
static int add_images(struct zvsh_job *job, const struct zvsh_config *cfg, const struct cli *cli)
{
    int rc = 0;
    job->images = calloc(cfg->nfstab + cli->nimage_specs + 1, sizeof *job->images);
    for (size_t i = 0; i < cfg->nfstab && rc == 0; i++)
        rc = add_config_image(job, cli->overwrite, cfg->fstab[i].key, cfg->fstab[i].value);
    job->nconfig_images = job->nimages;
    for (size_t i = 0; i < cli->nimage_specs && rc == 0; i++)
        rc = add_image_spec(job, cli->overwrite, cli->image_specs[i]);
    return rc;
}

/* After the session: zvsh's exit status, with the report on stderr when zvm failed. */
static int session_status(struct run *r, int zvm_rc, zvm_report *report, int sig)
{
    if (sig && zvm_rc != 0)
        return stopped(r, sig, true);
    if (zvm_rc != 0) {
        char *text = zvm_report_text(report);
        if (text)
            fputs(text, stderr);
        free(text);
        fprintf(stderr, "ERROR: ZeroVM return code is %d\n", zvm_rc);
    }
    take_down(r, true);
    if (sig) {
        fprintf(stderr, "zvsh: %s came after the session ended; its outputs are complete\n", zvm_signal_name(sig));
        return 128 + sig;
    }
    return r->cli->getrc ? zvm_rc : ((report->user_rc | (zvm_rc << 4)) & 0xff);
}

int main(int argc, char **argv)
{
    struct cli cli;
    int rc = parse_cli(argc, argv, &cli);
    char cache[PATH_MAX];
    if (!cli.cache_dir)
        cli.cache_dir = zvm_default_cache_dir(cache, sizeof cache);
    if (rc)
        return rc < 0 ? 0 : rc;
    /* From here on a Ctrl-C, SIGTERM, SIGHUP or SIGPIPE only sets this flag: zvsh stops at the
     * next step (the session within 50 ms) and removes what it made. */
    const volatile sig_atomic_t *stop = zvm_stop_on_signals();

    struct zvsh_config cfg;
    char err[1024];
    if (zvsh_config_load(&cfg, err, sizeof err) != 0)
        return fail(ZVM_EXIT_USAGE, "%s", err);
    if (cli.timeout > 0)
        cfg.timeout = cli.timeout;
    if (cli.memory > 0)
        cfg.memory = cli.memory;

    struct zvsh_job job = {
        .cfg = &cfg, .debug = cli.debug, .verbosity = cli.verbosity, .cache_dir = cli.no_snapshot ? NULL : cli.cache_dir
    };
    if ((rc = add_images(&job, &cfg, &cli)) || (rc = check_log_files(&cli)))
        return rc;
    struct run run = { .cli = &cli,
                       .made = calloc((size_t)cli.nargs + job.nimages + 1, sizeof *run.made),
                       .nvram_fd = -1 };
    note_new_wo_images(&job, &run);
    if ((rc = resolve_args(&job, &cfg, &cli, &run))) {
        take_down(&run, false);
        return rc;
    }

    /* a directory only for what must be a file: the saved files, or COMMAND from an image when
     * the cache does not keep it (find_program makes it then) */
    if (cli.save_dir && !(run.dir = prepare_dir(cli.save_dir))) {
        take_down(&run, false);
        return ZVM_EXIT_IO;
    }
    job.dir = run.dir;
    char *program = NULL;
    if ((rc = find_program(&job, &run.dir, cli.no_snapshot ? NULL : cli.cache_dir, cli.command, &program))) {
        take_down(&run, false);
        return rc;
    }
    job.program = program;
    const char *slash = strrchr(cli.command, '/');
    job.argv0 = slash ? slash + 1 : cli.command;

    char *nvram = zvsh_job_nvram(&job), *manifest = NULL;
    if (nvram && (rc = place_nvram(&run, nvram)) == 0) {
        job.nvram_uri = run.nvram_uri;
        manifest = zvsh_job_manifest(&job);
    }
    if (rc || !nvram || !manifest) {
        take_down(&run, false);
        return rc ? rc : fail(ZVM_EXIT_IO, "out of memory");
    }
    if (cli.save_dir && (rc = write_text(run.dir, "manifest.1", manifest))) {
        take_down(&run, false);
        return rc;
    }
    if (*stop)
        return stopped(&run, *stop, false);

    zvm_report report;
    int zvm_rc = run_session(&cli, manifest, stop, &report);
    int status = session_status(&run, zvm_rc, &report, *stop);
    zvm_report_free(&report);
    free(run.made);
    free(manifest);
    free(nvram);
    free(program);
    free(run.dir);
    zvsh_config_free(&cfg);
    return status;
}
