/*
 * runner.h — the pieces of zvm-spec, the runner for wabt's wast2json command lists.
 *
 * A .wast script becomes, through wast2json, a JSON list of commands and one .wasm file per
 * module.  zvm-spec plays that list against libzvm's public API (wasm.h) and nothing else:
 *   script.c    reads the JSON (working around a wast2json 1.0.32 quirk)
 *   values.c    parses, compares and prints the values of arguments and expectations
 *   spectest.c  the "spectest" host module the scripts import from
 *   linker.c    named and registered instances, import resolution, instantiation
 *   commands.c  one function per command type: the assertions
 *   main.c      the command line, the loop over commands, the tally
 */
#ifndef ZVM_SPEC_RUNNER_H
#define ZVM_SPEC_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "wasm/wasm.h"

/* ---- values -------------------------------------------------------------- */

/* How an expected result is matched. */
enum expect_kind {
    EXPECT_BITS,            /* exactly these bits (numbers, ref.extern N, ref.null) */
    EXPECT_NAN_CANONICAL,   /* a NaN with only the quiet bit set in its payload, either sign */
    EXPECT_NAN_ARITHMETIC,  /* a NaN with the quiet bit set, any payload, either sign */
    EXPECT_NON_NULL,        /* "(ref.func)": any non-null funcref */
};

typedef struct spec_value {
    uint8_t type;           /* enum zvm_valtype */
    enum expect_kind kind;
    zvm_val bits;
} spec_value;

/* Parses {"type": ..., "value": ...} into *out.  Returns 0; 1 for a type this runner does not
 * support (v128: the caller skips the command); -1 for a malformed value.  why says which. */
int value_parse(const json_t *obj, spec_value *out, char *why, size_t why_size);
bool value_matches(const spec_value *expected, uint8_t type, zvm_val got);
/* "i32:0x0000002a", "f32:1.5 (0x3fc00000)", "externref:7", "funcref:null" ... */
void value_format(uint8_t type, zvm_val bits, char *buf, size_t size);
void expect_format(const spec_value *expected, char *buf, size_t size);

/* An externref "ref.extern N" crosses the API as the host word N + 1, because 0 is null. */
zvm_val extern_ref(uint64_t n);

/* ---- the runner's state -------------------------------------------------- */

/* An instance known by a name: "$M" from (module $M ...), or "m" from (register "m"). */
typedef struct instance_name {
    char *name;
    zvm_instance *inst;
    struct instance_name *next;     /* most recent first: a later definition shadows */
} instance_name;

/* One export of the spectest host module. */
typedef struct host_export {
    const char *name;
    zvm_extern ext;
} host_export;

enum { SPECTEST_EXPORTS = 13, SPECTEST_PRINTS = 7 };

/* What a spectest print function needs to know when called: its name and parameter types,
 * and whether the runner is verbose.  Its user word points at one of these. */
typedef struct print_binding {
    const char *name;
    uint8_t nparams;
    const uint8_t *params;
    const bool *verbose;
} print_binding;

typedef struct runner {
    const char *dir;                /* where the JSON and its .wasm files are */
    const char *source;             /* the .wast file name, for messages */
    bool verbose;
    unsigned timeout_seconds;       /* per action or instantiation; 0 = none */

    zvm_runtime *rt;                /* one per script: every instance lives here */
    host_export spectest[SPECTEST_EXPORTS];
    uint32_t nspectest;
    print_binding prints[SPECTEST_PRINTS];

    zvm_instance *current;          /* the last module defined, the target of unnamed actions */
    instance_name *defined;         /* "$name" -> instance */
    instance_name *registered;      /* "as" -> instance */
    zvm_module **modules;           /* kept until the runtime is freed: instances use them */
    uint32_t nmodules, modules_cap;

    unsigned passed, failed, skipped;
} runner;

/* spectest.c */
int spectest_init(runner *r, zvm_error *err);

/* linker.c */
typedef enum { LOAD_OK, LOAD_FAILED, LINK_FAILED, START_TRAPPED } load_status;
typedef struct load_result {
    load_status status;
    zvm_instance *inst;
    zvm_error err;
    zvm_trap trap;
} load_result;

/* Reads DIR/filename, loads it, resolves its imports and instantiates it. */
load_result load_and_instantiate(runner *r, const char *filename);
/* Reads DIR/filename and only loads (decode + validate + translate) it. */
int load_only(runner *r, const char *filename, zvm_error *err);
void name_instance(instance_name **list, const char *name, zvm_instance *inst);
zvm_instance *find_instance(const instance_name *list, const char *name);
/* The timer around guest code: install the SIGALRM handler once, then arm and disarm it. */
void guard_install(void);
void guard_begin(runner *r);
void guard_end(runner *r);

/* commands.c: runs one command; counts it as passed, failed or skipped. */
void run_command(runner *r, const json_t *cmd);
/* Prints "file:line: command: message" and counts a failure. */
void report_failure(runner *r, int line, const char *command, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* script.c */
json_t *script_load(const char *path, char *why, size_t why_size);

#endif
