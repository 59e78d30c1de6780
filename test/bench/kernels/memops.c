/* memops: memcpy/memset/memmove-heavy code (what bulk memory instructions serve). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 6000;
    size_t n = 1 << 20;
    uint8_t *a = malloc(n), *b = malloc(n);
    uint32_t sum = 0;
    for (int r = 0; r < rounds; r++) {
        memset(a, r & 0xff, n);
        memcpy(b, a, n);
        memmove(b + 1, b, n - 1);
        for (size_t off = 0; off + 4096 <= n; off += 4096)
            memcpy(a + off, b + (off ^ 8192) % (n - 4096), 100 + (r & 63));
        sum += a[r % n] + b[(r * 7919) % n];
    }
    printf("memops %d: %u\n", rounds, sum);
    return 0;
}
