/*
 * zvm-loadtime FILE.wasm [RUNS] — how fast the engine turns bytes into runnable code.
 * Prints the best of RUNS for decode+validate and for the whole load (decode, validate,
 * translate), and the speed of each in MiB of module per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wasm/wasm.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: zvm-loadtime FILE.wasm [RUNS]\n");
        return 22;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    size_t size;
    unsigned char *bytes = read_file(argv[1], &size);
    if (!bytes) {
        perror(argv[1]);
        return 2;
    }

    double best_validate = 1e9, best_load = 1e9;
    zvm_error err;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        if (zvm_module_validate(bytes, size, &err) != 0) {
            fprintf(stderr, "%s: %s\n", argv[1], err.msg);
            return 8;
        }
        double t1 = now();
        zvm_module *m;
        if (zvm_module_load(bytes, size, &m, &err) != 0 || zvm_module_translate_all(m, &err) != 0) {
            fprintf(stderr, "%s: %s\n", argv[1], err.msg);
            return 8;
        }
        double t2 = now();
        zvm_module_free(m);
        if (t1 - t0 < best_validate)
            best_validate = t1 - t0;
        if (t2 - t1 < best_load)
            best_load = t2 - t1;
    }
    double mib = size / 1048576.0;
    printf(
        "%.1f MiB: decode+validate %.1f ms (%.0f MiB/s), full load (every function translated) %.1f ms (%.0f MiB/s)\n",
        mib, best_validate * 1e3, mib / best_validate, best_load * 1e3, mib / best_load);
    free(bytes);
    return 0;
}
