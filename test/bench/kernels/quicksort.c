/* quicksort: compares, swaps and recursion over an int array. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void sort(int32_t *a, long lo, long hi)
{
    while (lo < hi) {
        int32_t p = a[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i <= j) {
                int32_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (j - lo < hi - i) {
            sort(a, lo, j);
            lo = i;
        } else {
            sort(a, i, hi);
            hi = j;
        }
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 3000000;
    int32_t *a = malloc(sizeof(int32_t) * n);
    uint32_t x = 12345;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (int32_t)(x >> 1);
    }
    sort(a, 0, n - 1);
    uint64_t sum = 0;
    for (long i = 0; i < n; i += 1000)
        sum += (uint32_t)a[i];
    for (long i = 1; i < n; i++)
        if (a[i - 1] > a[i]) {
            puts("not sorted");
            return 1;
        }
    printf("quicksort %ld: %llu\n", n, (unsigned long long)sum);
    return 0;
}
