/* matmul: double-precision multiply-add over arrays. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 800;
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
           *c = malloc(sizeof(double) * n * n);
    for (int i = 0; i < n * n; i++) {
        a[i] = (i % 17) * 0.5;
        b[i] = (i % 13) * 0.25;
        c[i] = 0;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (int j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
    double sum = 0;
    for (int i = 0; i < n * n; i++)
        sum += c[i];
    printf("matmul %d: %.1f\n", n, sum);
    return 0;
}
