/* sieve: byte loads and stores in a tight loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int n = 8000000, rounds = argc > 1 ? atoi(argv[1]) : 6, count = 0;
    char *flags = malloc(n + 1);
    for (int r = 0; r < rounds; r++) {
        memset(flags, 1, n + 1);
        count = 0;
        for (int i = 2; i <= n; i++) {
            if (!flags[i])
                continue;
            count++;
            for (long long j = (long long)i * i; j <= n; j += i)
                flags[j] = 0;
        }
    }
    printf("primes below %d: %d\n", n, count);
    free(flags);
    return 0;
}
