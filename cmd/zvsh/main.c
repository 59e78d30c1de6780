/* zvsh — placeholder entry point until its issue lands: answers --version and --help only. */
#include <stdio.h>
#include <string.h>

#include "version.h"

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("zvsh %s\n", zvm_version());
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: zvsh --version | --help\n(not built yet: see the project's issues)\n");
        return 0;
    }
    fprintf(stderr, "zvsh: not built yet (see the project's issues); try 'zvsh --help'\n");
    return 22;
}
