/*
 * zvm-spec — runs a WebAssembly spec script, converted by wabt's wast2json, against libzvm.
 *
 *   zvm-spec [-v] [-t SECONDS] FILE.json
 *
 * Prints one line per failed command ("file.wast:LINE: command: expected ..., got ...") and
 * ends with "N passed, M failed" (", K skipped" when some were).  Exit status 0 only when
 * nothing failed; 2 when the script could not be run at all.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: zvm-spec [-v] [-t SECONDS] FILE.json\n"
                "  runs the commands wast2json wrote for a .wast script against libzvm\n"
                "  -v          also print the engine's messages and the spectest prints\n"
                "  -t SECONDS  stop any one call or instantiation after SECONDS (default 20, 0 = never)\n");
}

static void free_names(instance_name *n)
{
    while (n) {
        instance_name *next = n->next;
        free(n->name);
        free(n);
        n = next;
    }
}

static int run_script(runner *r, const char *path)
{
    char why[512];
    json_t *root = script_load(path, why, sizeof why);
    if (!root) {
        fprintf(stderr, "zvm-spec: %s\n", why);
        return 2;
    }
    char *path_copy = strdup(path);
    if (!path_copy) {
        json_decref(root);
        fprintf(stderr, "zvm-spec: out of memory\n");
        return 2;
    }
    r->dir = dirname(path_copy);
    const char *source = json_string_value(json_object_get(root, "source_filename"));
    r->source = source ? source : path;

    zvm_error err;
    if (zvm_runtime_new(NULL, &r->rt, &err) != 0 || spectest_init(r, &err) != 0) {
        fprintf(stderr, "zvm-spec: cannot set up the runtime: %s\n", err.msg);
        if (r->rt)
            zvm_runtime_free(r->rt);
        free(path_copy);
        json_decref(root);
        return 2;
    }

    const json_t *commands = json_object_get(root, "commands");
    for (size_t i = 0; i < json_array_size(commands); i++)
        run_command(r, json_array_get(commands, i));

    if (r->skipped)
        printf("%u passed, %u failed, %u skipped\n", r->passed, r->failed, r->skipped);
    else
        printf("%u passed, %u failed\n", r->passed, r->failed);

    zvm_runtime_free(r->rt);
    for (uint32_t i = 0; i < r->nmodules; i++)
        zvm_module_free(r->modules[i]);
    free(r->modules);
    free_names(r->defined);
    free_names(r->registered);
    free(path_copy);
    json_decref(root);
    return r->failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.timeout_seconds = 20;

    int opt;
    while ((opt = getopt(argc, argv, "vt:h")) != -1) {
        switch (opt) {
        case 'v': r.verbose = true; break;
        case 't': {
            char *end;
            long t = strtol(optarg, &end, 10);
            if (*end || t < 0 || t > 86400) {
                fprintf(stderr, "zvm-spec: -t wants a number of seconds (0..86400), not \"%s\"\n", optarg);
                return 2;
            }
            r.timeout_seconds = (unsigned)t;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    /* Failure lines and the tally interleave with nothing else; keep them in order when piped. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    guard_install();
    return run_script(&r, argv[optind]);
}
