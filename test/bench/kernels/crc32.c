/* crc32: table lookups and shifts, byte at a time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int mb = argc > 1 ? atoi(argv[1]) : 64;
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    size_t n = 1 << 20;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i ^ (i >> 8));
    uint32_t crc = 0xffffffffu;
    for (int r = 0; r < mb; r++)
        for (size_t i = 0; i < n; i++)
            crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    printf("crc32 %d MiB: %08x\n", mb, crc ^ 0xffffffffu);
    return 0;
}
