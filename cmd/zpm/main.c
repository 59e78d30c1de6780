/* zpm — create, bundle, deploy and execute ZeroVM applications (.zapp) on a ZeroCloud (Swift). */
#include "zpm.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "version.h"

void zpm_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("zpm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void zpm_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("zpm: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int zpm_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "zpm%s%s: ", command ? " " : "", command ? command : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'zpm help%s%s'\n", command ? " " : "", command ? command : "");
    va_end(ap);
    return ZPM_USAGE;
}

char *zpm_read_file(const char *path, size_t *size, char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        snprintf(err, errsize, "cannot read %s: %s", path, buf ? strerror(EIO) : "out of memory");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (size)
        *size = len;
    return buf;
}

#define AUTH_HELP \
    "Authentication (the command line first, then the environment):\n" \
    "  auth 1.0 (Swift tempauth)  -A, --auth URL   -U, --user USER   -K, --key KEY\n" \
    "                             or ST_AUTH, ST_USER, ST_KEY\n" \
    "  auth 3 (Keystone)          --os-auth-url URL --os-username NAME --os-password PW\n" \
    "                             --os-project-name NAME [--os-user-domain-name D]\n" \
    "                             [--os-project-domain-name D] [--os-region-name R]\n" \
    "                             or OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME,\n" \
    "                             OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_REGION_NAME\n" \
    "                             (the domains default to \"Default\")\n" \
    "  -V, --auth-version 1.0|3   instead of choosing from what is given (1.0 when both are)\n" \
    "  --os-auth-token T --os-storage-url URL, or OS_AUTH_TOKEN and OS_STORAGE_URL (as printed\n" \
    "                             by 'zpm auth'): used as they are, without logging in, unless\n" \
    "                             credentials are given on the command line\n"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *help;
} command;

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const command commands[] = {
    { "new", zpm_cmd_new, "create a zapp project (zapp.yaml and a template's files)",
      "usage: zpm new [DIR] [--template NAME] [--with-ui]\n"
      "Creates DIR (default: the current directory) if needed and writes zapp.yaml, whose meta.name\n"
      "is DIR's name, with the template's files. Never overwrites: an existing file is an error.\n"
      "  -t, --template NAME   the project template (default: python; see 'zpm new --list')\n"
      "  -l, --list            list the templates and exit\n"
      "      --with-ui         add a web UI (index.html.tmpl, style.css, zerocloud.js)\n" },
    { "bundle", zpm_cmd_bundle, "check zapp.yaml and write NAME.zapp",
      "usage: zpm bundle [--output FILE]\n"
      "Finds zapp.yaml in the current directory or above, checks it, and writes NAME.zapp beside it:\n"
      "a gzipped tar holding boot/system.map (the job), zapp.yaml and the files matched by the\n"
      "'bundling' and 'ui' globs. The same inputs give a byte-identical bundle.\n"
      "  -o, --output FILE   write the bundle there instead\n" },
    { "deploy", zpm_cmd_deploy, "upload a zapp to a Swift container",
      "usage: zpm deploy TARGET ZAPP [--force] [--execute [--summary]] [auth options]\n"
      "Uploads ZAPP into the container TARGET (CONTAINER or CONTAINER/PREFIX, created if needed):\n"
      "the tar (application/x-tar), the UI files (*.tmpl rendered) and boot/system.map with an\n"
      "'image' device pointing at the uploaded tar. A non-empty container needs --force.\n"
      "  -f, --force      deploy into a container that already holds objects\n"
      "  -e, --execute    run the job once deployed (as 'zpm execute --container TARGET')\n"
      "  -s, --summary    with --execute: print the X-Nexe-* headers as a table\n" AUTH_HELP },
    { "execute", zpm_cmd_execute, "run a zapp on ZeroCloud",
      "usage: zpm execute ZAPP [--summary] [auth options]\n"
      "       zpm execute --container CONTAINER [--summary] [auth options]\n"
      "POSTs the job to the storage URL with 'X-Zerovm-Execute: 1.0': the whole ZAPP as\n"
      "application/x-gzip, or the boot/system.map deployed in CONTAINER as application/json.\n"
      "Prints the response body; an HTTP error is shown with its status and body (exit 1).\n"
      "  -c, --container C   run the job deployed in container C (by 'zpm deploy')\n"
      "  -s, --summary       print the X-Nexe-* response headers as a table first\n" AUTH_HELP },
    { "auth", zpm_cmd_auth, "log in and print the token and storage URL for a shell",
      "usage: zpm auth [auth options]\n"
      "Logs in and prints 'export OS_AUTH_TOKEN=...' and 'export OS_STORAGE_URL=...', so that\n"
      "eval \"$(zpm auth)\" prepares a shell for curl and for later zpm commands.\n" AUTH_HELP },
    { "version", cmd_version, "print zpm's version", "usage: zpm version\n" },
    { "help", cmd_help, "list the commands, or explain one", "usage: zpm help [COMMAND]\n" },
};
static const size_t command_count = sizeof commands / sizeof commands[0];

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < command_count; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

bool zpm_print_help(const char *name)
{
    const command *c = find_command(name);
    if (!c)
        return false;
    fputs(c->help, stdout);
    return true;
}

/* Where the whole manual is, told the way that works here: "man zpm" when make install put it
 * beside this zpm (PREFIX/bin/zpm, PREFIX/share/man/man1/zpm.1), "man -l .../man/zpm.1" when
 * this zpm runs from a build tree (build/zpm beside man/), else the manual's name alone. */
static void print_manual_pointer(FILE *out)
{
    char exe[PATH_MAX], page[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        snprintf(page, sizeof page, "%s/../share/man/man1/zpm.1", exe);
        if (access(page, R_OK) == 0) {
            fprintf(out, "'man zpm' has it all.\n");
            return;
        }
        snprintf(page, sizeof page, "%s/../man/zpm.1", exe);
        char real[PATH_MAX];
        if (access(page, R_OK) == 0 && realpath(page, real)) {
            fprintf(out, "'man -l %s' has it all.\n", real);
            return;
        }
    }
    fprintf(out, "The zpm(1) manual (man/zpm.1 in zvm's sources; 'man zpm' after make install) has it all.\n");
}

static void print_overview(FILE *out)
{
    fprintf(out, "usage: zpm COMMAND [ARGS...]\n\nCommands:\n");
    for (size_t i = 0; i < command_count; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'zpm help COMMAND' or 'zpm COMMAND --help' explains one.  ");
    print_manual_pointer(out);
    fprintf(out, "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        zpm_print_help("version");
        return ZPM_OK;
    }
    if (argc > 1)
        return zpm_usage_error("version", "unexpected argument '%s'", argv[1]);
    printf("zpm %s\n", zvm_version());
    return ZPM_OK;
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 2)
        return zpm_usage_error("help", "give at most one command");
    if (argc == 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0) {
        if (!zpm_print_help(argv[1]))
            return zpm_usage_error(NULL, "no command '%s'", argv[1]);
        return ZPM_OK;
    }
    print_overview(stdout);
    return ZPM_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return ZPM_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_overview(stdout);
        return ZPM_OK;
    }
    const command *c = find_command(argv[1]);
    if (!c)
        return zpm_usage_error(NULL, "no command '%s'", argv[1]);
    return c->run(argc - 1, argv + 1);
}
