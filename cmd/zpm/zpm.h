/*
 * zpm.h — what the files of zpm share.  One file per job:
 *   main.c       the command table, help, version, exit codes
 *   options.c    the authentication options and their environment variables; retries
 *   zapp_yaml.c  zapp.yaml: YAML to a checked description, errors with line and column
 *   job.c        the description to ZeroCloud's job JSON (boot/system.map)
 *   bundle.c     zpm bundle: the deterministic .zapp (gzipped tar)
 *   zapp_file.c  reading a .zapp back (its members, its tar)
 *   new.c        zpm new: a project from a template
 *   render.c     {{ name }} substitution in templates
 *   deploy.c     zpm deploy
 *   execute.c    zpm execute, and the X-Nexe-* summary table
 *   auth_cmd.c   zpm auth
 *   progress.c   the upload progress bar on a terminal
 */
#ifndef ZPM_H
#define ZPM_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cluster/cluster.h"

/* Exit codes: 0 success, 1 failure, 2 usage error. */
enum { ZPM_OK = 0, ZPM_FAIL = 1, ZPM_USAGE = 2 };

/* Messages to stderr, prefixed "zpm: " (warnings "zpm: warning: "). */
void zpm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void zpm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, then "try 'zpm help COMMAND'"; returns ZPM_USAGE. */
int zpm_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- commands (argv[0] is the command's name) ---- */
int zpm_cmd_new(int argc, char **argv);
int zpm_cmd_bundle(int argc, char **argv);
int zpm_cmd_deploy(int argc, char **argv);
int zpm_cmd_execute(int argc, char **argv);
int zpm_cmd_auth(int argc, char **argv);
/* Prints a command's help; false if there is no such command. */
bool zpm_print_help(const char *command);

/* ---- authentication options (options.c) ---- */
typedef struct zpm_auth_args {
    zvm_auth_options flags;            /* given on the command line */
    const char *token, *storage_url;   /* --os-auth-token, --os-storage-url */
} zpm_auth_args;

/* The getopt_long options every cluster command takes; values start at 0x100. */
extern const struct option zpm_auth_long_options[];
#define ZPM_AUTH_OPTION_COUNT 20
/* out = own options (NULL-terminated) followed by the auth options; returns their number. */
size_t zpm_merge_options(struct option *out, size_t cap, const struct option *own);
/* Takes option `opt` (a value of zpm_auth_long_options) with its argument; false if not one. */
bool zpm_auth_take(zpm_auth_args *a, int opt, const char *arg);
/* Logs in (or takes a token and storage URL as given); fills sw's URL and token (malloc'd in *auth). */
int zpm_connect(const zpm_auth_args *a, bool allow_preauth, zvm_auth *auth, zvm_swift *sw);
/* ZPM_RETRIES (default 3) and ZPM_RETRY_DELAY_MS (default 500). */
void zpm_retry_policy(int *retries, long *delay_ms);

/* ---- zapp.yaml (zapp_yaml.c) ---- */
/* The checked zapp.yaml as JSON (mappings, sequences, typed scalars), plus the project's name. */
typedef struct zpm_zapp {
    json_t *doc;                       /* the whole document */
    const char *name;                  /* meta.name (inside doc) */
} zpm_zapp;

/* Parses and checks YAML text; on error fills err with "FILE:LINE:COLUMN: message". */
int zpm_zapp_parse(const char *text, size_t size, const char *file, zpm_zapp *out, char *err, size_t errsize);
int zpm_zapp_load(const char *path, zpm_zapp *out, char *err, size_t errsize);
void zpm_zapp_free(zpm_zapp *z);

/* ---- the job (job.c) ---- */
/* boot/system.map for a checked zapp: an array of groups as ZeroCloud expects. */
json_t *zpm_job_from_zapp(const zpm_zapp *z, char *err, size_t errsize);
/* Splits a command line as a POSIX shell would (quotes, backslashes); NULL with err on bad quoting. */
char **zpm_shell_split(const char *line, char *err, size_t errsize);
void zpm_strv_free(char **v);

/* ---- reading a .zapp (zapp_file.c) ---- */
typedef struct zpm_member {
    char *name;
    unsigned char *data;
    size_t size;
} zpm_member;

typedef struct zpm_zapp_file {
    unsigned char *tar;                /* the uncompressed tar, as deploy uploads it */
    size_t tar_size;
    zpm_member *members;               /* regular files, in archive order */
    size_t member_count;
} zpm_zapp_file;

int zpm_zapp_file_read(const char *path, zpm_zapp_file *out, char *err, size_t errsize);
const zpm_member *zpm_zapp_file_member(const zpm_zapp_file *z, const char *name);
void zpm_zapp_file_free(zpm_zapp_file *z);

/* ---- templates (render.c, new.c) ---- */
/* Replaces every "{{ key }}" of text with vars' value for key (vars: NULL-terminated key, value
 * pairs).  An unknown key is an error naming its line. */
char *zpm_render(const char *text, const char *const *vars, const char *file, char *err, size_t errsize);
/* The directory holding the zapp templates: $ZPM_TEMPLATE_DIR, else beside the executable. */
int zpm_template_dir(char *buf, size_t size);

/* ---- output helpers ---- */
/* The upload progress bar (progress.c): sw->progress when stderr is a terminal. */
void zpm_progress_attach(zvm_swift *sw, const char *label);
void zpm_progress_done(zvm_swift *sw);
/* POSTs a job and prints the answer (execute.c); returns the exit code. */
int zpm_execute_job(zvm_swift *sw, const char *content_type, const void *data, size_t size, const char *path,
                    bool summary);
/* X-Nexe-* headers as a table (execute.c); false when the response has none. */
bool zpm_print_summary(const zvm_http_response *resp);

/* Reads a whole file (NUL-terminated); NULL with err. */
char *zpm_read_file(const char *path, size_t *size, char *err, size_t errsize);

#endif
