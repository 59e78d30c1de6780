/* auth_cmd.c — zpm auth: log in and print the token and storage URL as shell exports. */
#include "zpm.h"

#include <stdio.h>
#include <string.h>

/* Prints s in single quotes, each ' as '\'' — safe for eval whatever s holds. */
static void shell_quoted(const char *s)
{
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*s);
    }
    putchar('\'');
}

int zpm_cmd_auth(int argc, char **argv)
{
    static const struct option own[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    struct option longs[48];
    zpm_merge_options(longs, 48, own);
    zpm_auth_args a = { 0 };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hV:A:U:K:", longs, NULL)) != -1) {
        if (c == 'h') {
            zpm_print_help("auth");
            return ZPM_OK;
        }
        if (c == ':')
            return zpm_usage_error("auth", "%s needs a value", argv[optind - 1]);
        if (c == '?' || !zpm_auth_take(&a, c, optarg))
            return zpm_usage_error("auth", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return zpm_usage_error("auth", "unexpected argument '%s'", argv[optind]);
    if (a.token || a.storage_url)
        return zpm_usage_error("auth", "--os-auth-token and --os-storage-url are what auth prints, not takes");
    zvm_auth auth;
    zvm_swift sw;
    if (zpm_connect(&a, false, &auth, &sw) != 0)
        return ZPM_FAIL;
    fputs("export OS_AUTH_TOKEN=", stdout);
    shell_quoted(auth.token);
    fputs("\nexport OS_STORAGE_URL=", stdout);
    shell_quoted(auth.storage_url);
    putchar('\n');
    zvm_auth_free(&auth);
    return ZPM_OK;
}
