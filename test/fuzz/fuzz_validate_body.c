/*
 * fuzz_validate_body.c — libFuzzer target aimed at the function-body validator.
 *
 * Mutating whole modules mostly breaks section sizes, so the body validator sees little.
 * Here the input is one function's locals and code, which we wrap in a fixed module with
 * something of everything (types for multi-value, imports, two tables, a memory, two exception
 * tags, mutable and immutable globals, passive, declarative and active segments, a data count), so that every
 * mutation reaches validate_code.c.  The first input byte picks the function's type.
 *
 * Built with -DFUZZ_WRAP_MAIN it is instead a tool that writes the wrapped module of each file
 * named on its command line to FILE.wasm: used to compare our verdicts with another validator
 * (wabt's wasm-validate) on the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/module.h"

/* Not reformatted: the seed module is written byte by byte, laid out like the binary format. */
/* clang-format off */

typedef struct out {
    uint8_t *b;
    size_t n;
} out;

static void put(out *o, const void *p, size_t n)
{
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_u32(out *o, uint32_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        if (v)
            b |= 0x80;
        put(o, &b, 1);
    } while (v);
}

static void put_section(out *o, uint8_t id, const uint8_t *c, size_t n)
{
    put(o, &id, 1);
    put_u32(o, (uint32_t)n);
    put(o, c, n);
}

#define SECTION(o, id, ...) do { static const uint8_t c_[] = { __VA_ARGS__ }; put_section(o, id, c_, sizeof c_); } while (0)

/* The wrapped module for `data` (the caller frees it); *size gets its length. */
static uint8_t *wrap(const uint8_t *data, size_t size, size_t *out_size)
{
    out o = { malloc(size + 512), 0 };
    static const uint8_t header[] = { 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00 };
    uint8_t type = size ? data[0] % 5 : 0;
    if (size) {
        data++;
        size--;
    }
    put(&o, header, sizeof header);
    SECTION(&o, 1, 0x06, 0x60, 0x00, 0x00,                              /* 0: [] -> [] */
                       0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,              /* 1: [i32 i32] -> [i32] */
                       0x60, 0x01, 0x7f, 0x02, 0x7f, 0x7f,              /* 2: [i32] -> [i32 i32] */
                       0x60, 0x03, 0x7e, 0x7d, 0x7c, 0x01, 0x7c,        /* 3: [i64 f32 f64] -> [f64] */
                       0x60, 0x02, 0x70, 0x6f, 0x01, 0x6f,              /* 4: [funcref externref] -> [externref] */
                       0x60, 0x01, 0x7f, 0x00);                         /* 5: [i32] -> [], a tag's */
    SECTION(&o, 2, 0x03, 0x01, 'e', 0x01, 'f', 0x00, 0x01,             /* function 0 */
                       0x01, 'e', 0x01, 'g', 0x03, 0x7f, 0x00,          /* global 0: i32 */
                       0x01, 'e', 0x01, 'm', 0x03, 0x7e, 0x01);         /* global 1: mut i64 */
    {
        uint8_t funcs[] = { 0x02, type, 0x00 };                        /* 1: under test, 2: [] -> [] */
        put_section(&o, 3, funcs, sizeof funcs);
    }
    SECTION(&o, 4, 0x02, 0x70, 0x01, 0x02, 0x0a, 0x6f, 0x00, 0x01);
    SECTION(&o, 5, 0x01, 0x01, 0x01, 0x02);
    SECTION(&o, 13, 0x02, 0x00, 0x00, 0x00, 0x05);                      /* tags: 0 [], 1 [i32] (exceptions) */
    SECTION(&o, 6, 0x02, 0x7d, 0x01, 0x43, 0, 0, 0x80, 0x3f, 0x0b,     /* global 2: mut f32 */
                       0x70, 0x00, 0xd0, 0x70, 0x0b);                   /* global 3: funcref */
    SECTION(&o, 7, 0x01, 0x01, 'e', 0x00, 0x02);                        /* export function 2 */
    SECTION(&o, 9, 0x04, 0x05, 0x70, 0x01, 0xd2, 0x00, 0x0b,            /* passive funcref */
                       0x03, 0x00, 0x01, 0x01,                          /* declarative: function 1 */
                       0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b,              /* passive externref */
                       0x00, 0x41, 0x00, 0x0b, 0x01, 0x02);             /* active, table 0 */
    SECTION(&o, 12, 0x02);
    /* code: the input as function 1's locals and body, closed by an `end` */
    out body = { malloc(size + 1), 0 };
    put(&body, data, size);
    put(&body, "\x0b", 1);
    out code = { malloc(size + 32), 0 };
    put_u32(&code, 2);
    put_u32(&code, (uint32_t)body.n);
    put(&code, body.b, body.n);
    put(&code, "\x02\x00\x0b", 3);
    put_section(&o, 10, code.b, code.n);
    free(body.b);
    free(code.b);
    SECTION(&o, 11, 0x02, 0x01, 0x03, 'a', 'b', 'c', 0x01, 0x00);
    *out_size = o.n;
    return o.b;
}

#ifndef FUZZ_WRAP_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    size_t n;
    uint8_t *module = wrap(data, size, &n);
    zvm_error err;
    memset(&err, 0, sizeof err);
    if (zvm_module_validate(module, n, &err) != 0 && !strstr(err.msg, ": "))
        abort();                         /* a refusal must say where, then what */
    free(module);
    return 0;
}
#else
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f)
            continue;
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f), m;
        fclose(f);
        uint8_t *module = wrap(buf, n, &m);
        char name[4096];
        snprintf(name, sizeof name, "%s.wasm", argv[i]);
        FILE *w = fopen(name, "wb");
        if (w) {
            fwrite(module, 1, m, w);
            fclose(w);
        }
        free(module);
    }
    return 0;
}
#endif
/* clang-format on */
