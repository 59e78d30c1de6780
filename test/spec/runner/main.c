/* zvm-spec — placeholder until the engine issue lands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "zvm-spec: the engine is not built yet\n");
    return 1;
}
