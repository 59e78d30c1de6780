/*
 * zvsh — the ZeroVM shell: turns a command line and tar images into a manifest and nvram,
 * runs the session in this process through libzvm, and keeps the files when asked.
 *
 *   zvsh [--zvm-image PATH[,MOUNTPOINT[,ACCESS]]]... [--zvm-save-dir DIR] [--zvm-debug]
 *        [--zvm-trace] [--zvm-verbosity N] [--zvm-getrc] [--zvm-timeout N] [--zvm-memory N]
 *        COMMAND [ARGS...]
 *
 * Exit status: the guest's code | (zvm's code << 4), or zvm's code alone with --zvm-getrc.
 * zvsh's own errors (before any session runs) exit with zvm's codes: 22 a bad command line,
 * 2 a missing file, 5 an unreadable image or save dir.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"   /* enum zvm_exit_code */
#include "boot.h"
#include "config.h"
#include "job.h"
#include "session/session.h"
#include "version.h"

struct cli {
    char **image_specs;
    size_t nimage_specs;
    const char *save_dir;
    bool debug, trace, getrc;
    int verbosity;
    long long timeout, memory;      /* -1: from the config */
    const char *command;
    char **args;                    /* everything after COMMAND */
    int nargs;
};

static void usage(FILE *to)
{
    fprintf(to,
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
            "  -h, --help            this help;  --version  the version\n"
            "ARGS: @path becomes a channel /dev/<n>.<basename> (created empty if missing); @NAME=value sets\n"
            "an environment variable.  Config: /etc/zvsh.cfg, ~/.zvsh.cfg, ./zvsh.cfg (nearest wins). See zvsh(1).\n");
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
        if (strcmp(a, "--") == 0) { i++; break; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return -1; }
        if (strcmp(a, "--version") == 0) { printf("zvsh %s\n", zvm_version()); return -1; }
        if (strncmp(a, "--zvm-", 6) != 0) break;

        const char *name = a + 6, *value = NULL;
        char key[32];
        const char *eq = strchr(name, '=');
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - name) : (int)strlen(name), name);
        bool takes_value = strcmp(key, "image") == 0 || strcmp(key, "save-dir") == 0 ||
                           strcmp(key, "verbosity") == 0 || strcmp(key, "timeout") == 0 || strcmp(key, "memory") == 0;
        if (takes_value) {
            if (eq) value = eq + 1;
            else if (i + 1 < argc) value = argv[++i];
            else return fail(ZVM_EXIT_USAGE, "option --zvm-%s needs a value; try 'zvsh --help'", key);
        } else if (eq) {
            return fail(ZVM_EXIT_USAGE, "option --zvm-%s takes no value; try 'zvsh --help'", key);
        }
        if (strcmp(key, "image") == 0) cli->image_specs[cli->nimage_specs++] = (char *)value;
        else if (strcmp(key, "save-dir") == 0) cli->save_dir = value;
        else if (strcmp(key, "debug") == 0) cli->debug = true;
        else if (strcmp(key, "trace") == 0) cli->trace = true;
        else if (strcmp(key, "getrc") == 0) cli->getrc = true;
        else if (strcmp(key, "verbosity") == 0) {
            long long v = number(value);
            if (v < 0 || v > 9) return fail(ZVM_EXIT_USAGE, "--zvm-verbosity takes 0 to 9, not '%s'", value);
            cli->verbosity = (int)v;
        } else if (strcmp(key, "timeout") == 0) {
            if ((cli->timeout = number(value)) < 1) return fail(ZVM_EXIT_USAGE, "--zvm-timeout takes whole seconds >= 1, not '%s'", value);
        } else if (strcmp(key, "memory") == 0) {
            if ((cli->memory = number(value)) < 1) return fail(ZVM_EXIT_USAGE, "--zvm-memory takes a number of bytes >= 1, not '%s'", value);
        } else {
            return fail(ZVM_EXIT_USAGE, "unknown option '%s'; try 'zvsh --help'", a);
        }
    }
    if (i >= argc) return fail(ZVM_EXIT_USAGE, "no COMMAND given; try 'zvsh --help'");
    cli->command = argv[i];
    cli->args = argv + i + 1;
    cli->nargs = argc - i - 1;
    return 0;
}

static char *absolute(const char *path)
{
    if (path[0] == '/') return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return strdup(path);
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *s = malloc(n);
    snprintf(s, n, "%s/%s", cwd, path);
    return s;
}

/* "PATH[,MOUNTPOINT[,ACCESS]]" or the config's "PATH = MOUNTPOINT ACCESS". */
static int add_image(struct zvsh_job *job, const char *path, const char *mountpoint, const char *access_)
{
    struct zvsh_image *im = &job->images[job->nimages];
    if (!*path) return fail(ZVM_EXIT_USAGE, "an image needs a path: --zvm-image PATH[,MOUNTPOINT[,ACCESS]]");
    if (access_ && *access_ && strcmp(access_, "ro") != 0 && strcmp(access_, "wo") != 0)
        return fail(ZVM_EXIT_USAGE, "image %s: access must be ro or wo, not '%s'", path, access_);
    im->write_back = access_ && strcmp(access_, "wo") == 0;
    if (mountpoint && *mountpoint && mountpoint[0] != '/')
        return fail(ZVM_EXIT_USAGE, "image %s: the mount point must be absolute, not '%s'", path, mountpoint);
    struct stat st;
    if (!im->write_back) {
        if (stat(path, &st) != 0) return fail(ZVM_EXIT_NOENT, "image %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode)) return fail(ZVM_EXIT_IO, "image %s is not a regular file (a tar archive is needed)", path);
    }
    im->path = absolute(path);
    im->mountpoint = strdup(mountpoint && *mountpoint ? mountpoint : "/");
    job->nimages++;
    return 0;
}

static int add_image_spec(struct zvsh_job *job, const char *spec)
{
    char *copy = strdup(spec), *parts[3] = {copy, NULL, NULL}, *p = copy;
    for (int k = 1; k < 3 && (p = strchr(p, ',')); k++) { *p++ = '\0'; parts[k] = p; }
    if (p && strchr(p, ',')) { free(copy); return fail(ZVM_EXIT_USAGE, "--zvm-image takes PATH[,MOUNTPOINT[,ACCESS]], not '%s'", spec); }
    int rc = add_image(job, parts[0], parts[1], parts[2]);
    free(copy);
    return rc;
}

static int add_config_image(struct zvsh_job *job, const char *path, const char *value)
{
    char mp[PATH_MAX] = "", acc[16] = "";
    if (sscanf(value, "%4095s %15s", mp, acc) < 1) return fail(ZVM_EXIT_USAGE, "zvsh.cfg [fstab] %s: expected '= MOUNTPOINT ro|wo'", path);
    return add_image(job, path, mp, acc);
}

/* Creates (or reuses) the directory the session files go into. */
static char *prepare_dir(const char *save_dir)
{
    if (!save_dir) {
        const char *tmp = getenv("TMPDIR");
        char templ[PATH_MAX];
        snprintf(templ, sizeof templ, "%s/zvsh.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(templ)) { fail(ZVM_EXIT_IO, "cannot make a temporary directory in %s: %s", tmp ? tmp : "/tmp", strerror(errno)); return NULL; }
        return strdup(templ);
    }
    if (mkdir(save_dir, 0755) != 0 && errno != EEXIST) {
        fail(ZVM_EXIT_IO, "cannot create save dir %s: %s", save_dir, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(save_dir, &st) != 0 || !S_ISDIR(st.st_mode)) { fail(ZVM_EXIT_IO, "save dir %s is not a directory", save_dir); return NULL; }
    if (access(save_dir, W_OK | X_OK) != 0) { fail(ZVM_EXIT_IO, "save dir %s is not writable: %s", save_dir, strerror(errno)); return NULL; }
    return absolute(save_dir);
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0) return fail(ZVM_EXIT_IO, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

static void remove_dir(const char *dir)
{
    const char *names[] = {"manifest.1", "nvram.1", "boot.1"};
    char path[PATH_MAX];
    for (size_t i = 0; i < 3; i++) { snprintf(path, sizeof path, "%s/%s", dir, names[i]); unlink(path); }
    rmdir(dir);
}

/* COMMAND is a member of an image (the first that has it wins), or a .wasm on the host. */
static int find_program(struct zvsh_job *job, const char *command, char **program)
{
    char boot[PATH_MAX], err[512];
    snprintf(boot, sizeof boot, "%s/boot.1", job->dir);
    for (size_t i = 0; i < job->nimages; i++) {
        if (job->images[i].write_back) continue;
        int r = zvsh_extract_member(job->images[i].path, command, boot, err, sizeof err);
        if (r < 0) return fail(ZVM_EXIT_IO, "%s", err);
        if (r == 1) { *program = strdup(boot); return 0; }
    }
    struct stat st;
    if (stat(command, &st) == 0 && S_ISREG(st.st_mode)) { *program = absolute(command); return 0; }
    if (job->nimages == 0)
        return fail(ZVM_EXIT_NOENT, "%s: no such program (not a file; no --zvm-image given to look in)", command);
    fprintf(stderr, "zvsh: %s: not a member of", command);
    for (size_t i = 0; i < job->nimages; i++) fprintf(stderr, "%s %s", i ? "," : "", job->images[i].path);
    fprintf(stderr, " and not a file\n");
    return ZVM_EXIT_NOENT;
}

/* @NAME=value sets an environment variable; @path becomes a channel; others pass unchanged. */
static int resolve_args(struct zvsh_job *job, struct zvsh_config *cfg, struct cli *cli)
{
    job->args = calloc((size_t)cli->nargs + 1, sizeof *job->args);
    job->files = calloc((size_t)cli->nargs + 1, sizeof *job->files);
    for (int i = 0; i < cli->nargs; i++) {
        const char *a = cli->args[i];
        if (a[0] != '@' || a[1] == '\0') { job->args[job->nargs++] = strdup(a); continue; }
        const char *eq = strchr(a + 1, '=');
        size_t namelen = eq ? (size_t)(eq - a - 1) : 0;
        if (eq && namelen > 0 && strspn(a + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == namelen) {
            char *name = strndup(a + 1, namelen);
            zvsh_config_set_env(cfg, name, eq + 1);
            free(name);
            continue;
        }
        const char *path = a + 1;
        struct stat st;
        if (stat(path, &st) != 0) {
            /* as 2014 zvsh did: a missing file is created empty, so the guest can write to it */
            FILE *f = fopen(path, "w");
            if (!f) return fail(ZVM_EXIT_IO, "argument %s: cannot create %s: %s", a, path, strerror(errno));
            fclose(f);
        } else if (S_ISDIR(st.st_mode)) {
            return fail(ZVM_EXIT_USAGE, "argument %s: %s is a directory; a channel must be a file, device or FIFO", a, path);
        }
        job->files[job->nfiles++] = absolute(path);
        job->args[job->nargs++] = zvsh_channel_alias(job->nconfig_images + job->nfiles, path);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli;
    int rc = parse_cli(argc, argv, &cli);
    if (rc) return rc < 0 ? 0 : rc;

    struct zvsh_config cfg;
    char err[1024];
    if (zvsh_config_load(&cfg, err, sizeof err) != 0) return fail(ZVM_EXIT_USAGE, "%s", err);
    if (cli.timeout > 0) cfg.timeout = cli.timeout;
    if (cli.memory > 0) cfg.memory = cli.memory;

    struct zvsh_job job = {.cfg = &cfg, .debug = cli.debug, .verbosity = cli.verbosity};
    job.images = calloc(cfg.nfstab + cli.nimage_specs + 1, sizeof *job.images);
    for (size_t i = 0; i < cfg.nfstab && rc == 0; i++) rc = add_config_image(&job, cfg.fstab[i].key, cfg.fstab[i].value);
    job.nconfig_images = job.nimages;
    for (size_t i = 0; i < cli.nimage_specs && rc == 0; i++) rc = add_image_spec(&job, cli.image_specs[i]);
    if (rc) return rc;
    if ((rc = resolve_args(&job, &cfg, &cli))) return rc;

    char *dir = prepare_dir(cli.save_dir);
    if (!dir) return ZVM_EXIT_IO;
    job.dir = dir;
    char *program = NULL;
    if ((rc = find_program(&job, cli.command, &program))) {
        if (!cli.save_dir) remove_dir(dir);
        return rc;
    }
    job.program = program;
    const char *slash = strrchr(cli.command, '/');
    job.argv0 = slash ? slash + 1 : cli.command;

    char *manifest = zvsh_job_manifest(&job), *nvram = zvsh_job_nvram(&job);
    if (!manifest || !nvram) return fail(ZVM_EXIT_IO, "out of memory");
    if ((rc = write_text(dir, "manifest.1", manifest)) || (rc = write_text(dir, "nvram.1", nvram))) {
        if (!cli.save_dir) remove_dir(dir);
        return rc;
    }

    zvm_session_options opt = {.verbosity = cli.verbosity, .log = stderr};
    if (cli.trace && !(opt.trace = fopen("zvsh.trace.log", "w")))
        fprintf(stderr, "zvsh: cannot write zvsh.trace.log (%s); running without a trace\n", strerror(errno));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/manifest.1", dir);
    fflush(stdout);
    zvm_report report;
    int zvm_rc = zvm_session_run_file(path, &opt, &report);
    if (opt.trace) fclose(opt.trace);
    if (zvm_rc != 0) {
        char *text = zvm_report_text(&report);
        if (text) fputs(text, stderr);
        free(text);
        fprintf(stderr, "ERROR: ZeroVM return code is %d\n", zvm_rc);
    }
    int status = cli.getrc ? zvm_rc : (report.user_rc | (zvm_rc << 4));
    zvm_report_free(&report);
    if (!cli.save_dir) remove_dir(dir);
    free(manifest);
    free(nvram);
    free(program);
    free(dir);
    zvsh_config_free(&cfg);
    return status & 0xff;
}
