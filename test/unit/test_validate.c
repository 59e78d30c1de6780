/*
 * test_validate.c — the validator, one test per family of rules, each with modules that must
 * pass and modules that must fail with the spec's message.
 *
 * Function bodies are checked inside a small fixed module that build_module() writes around
 * them, so that each case is only the bytes of one body:
 *   types     0: the signature under test, 1: [i32] -> [i32 i32], 2: [] -> []
 *   imports   global 0: "env" "g" immutable i32;  global 1: "env" "m" mutable i32
 *   functions 0: under test (type 0), 1: type 2, never referenced outside bodies
 *   tables    0: funcref 1..10, 1: externref 1
 *   memory    1 page (unless ENV_NO_MEMORY)
 *   globals   2: immutable i64 = 7, 3: mutable f32 = 0
 *   elements  0: passive funcref (ref.func 0),  1: declarative funcref (function 0),
 *             2: passive externref (ref.null extern)
 *   data      one passive segment, with a data count section (unless ENV_NO_DATACOUNT)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wasm/module.h"

/* Not reformatted: modules and bodies are written byte by byte, laid out like the binary format. */
/* clang-format off */

enum { ENV_NO_MEMORY = 1, ENV_NO_DATACOUNT = 2 };

typedef struct buf {                     /* big enough for deeply nested bodies: keep them static */
    uint8_t b[1 << 19];
    size_t n;
} buf;

static void put(buf *o, const uint8_t *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_byte(buf *o, uint8_t b) { put(o, &b, 1); }

static void put_u32(buf *o, uint32_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        put_byte(o, b | (v ? 0x80 : 0));
    } while (v);
}

static void put_section(buf *o, uint8_t id, const buf *content)
{
    put_byte(o, id);
    put_u32(o, (uint32_t)content->n);
    put(o, content->b, content->n);
}

#define SECTION(o, id, ...) do { static const uint8_t c_[] = { __VA_ARGS__ }; static buf s_; s_.n = 0; \
    put(&s_, c_, sizeof c_); put_section(o, id, &s_); } while (0)

/* A function type from letters: "ii:I" is [i32 i32] -> [i64]; r funcref, e externref. */
static void put_functype(buf *o, const char *sig)
{
    static const char letters[] = "iIfFre";
    static const uint8_t codes[] = { ZVM_I32, ZVM_I64, ZVM_F32, ZVM_F64, ZVM_FUNCREF, ZVM_EXTERNREF };
    const char *colon = strchr(sig, ':');
    put_byte(o, 0x60);
    for (int part = 0; part < 2; part++) {
        const char *s = part ? colon + 1 : sig, *e = part ? sig + strlen(sig) : colon;
        put_u32(o, (uint32_t)(e - s));
        for (; s < e; s++)
            put_byte(o, codes[strchr(letters, *s) - letters]);
    }
}

static size_t build_module(buf *o, int env, const char *sig, const uint8_t *locals, size_t nlocals,
                           const uint8_t *body, size_t nbody)
{
    static const uint8_t header[] = { 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00 };
    o->n = 0;
    put(o, header, sizeof header);
    static buf types, code, f0;
    types.n = code.n = f0.n = 0;
    put_u32(&types, 3);
    put_functype(&types, sig);
    put_functype(&types, "i:ii");
    put_functype(&types, ":");
    put_section(o, 1, &types);
    SECTION(o, 2, 0x02, 0x03, 'e', 'n', 'v', 0x01, 'g', 0x03, 0x7f, 0x00,
                        0x03, 'e', 'n', 'v', 0x01, 'm', 0x03, 0x7f, 0x01);
    SECTION(o, 3, 0x02, 0x00, 0x02);
    SECTION(o, 4, 0x02, 0x70, 0x01, 0x01, 0x0a, 0x6f, 0x00, 0x01);
    if (!(env & ENV_NO_MEMORY))
        SECTION(o, 5, 0x01, 0x00, 0x01);
    SECTION(o, 6, 0x02, 0x7e, 0x00, 0x42, 0x07, 0x0b, 0x7d, 0x01, 0x43, 0, 0, 0, 0, 0x0b);
    SECTION(o, 9, 0x03, 0x05, 0x70, 0x01, 0xd2, 0x00, 0x0b,     /* passive funcref */
                        0x03, 0x00, 0x01, 0x00,                 /* declarative: function 0 */
                        0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b);    /* passive externref */
    if (!(env & ENV_NO_DATACOUNT))
        SECTION(o, 12, 0x01);
    put_u32(&code, 2);
    put(&f0, locals, nlocals);
    put(&f0, body, nbody);
    put_u32(&code, (uint32_t)f0.n);
    put(&code, f0.b, f0.n);
    put_u32(&code, 2);
    put_byte(&code, 0x00);
    put_byte(&code, 0x0b);
    put_section(o, 10, &code);
    SECTION(o, 11, 0x01, 0x01, 0x02, 'h', 'i');
    return o->n;
}

static int check(const uint8_t *bytes, size_t size, zvm_error *err)
{
    wasm_module *m;
    if (wasm_decode(bytes, size, &m, err))
        fail_msg("the test module is malformed: %s", err->msg);
    int rc = wasm_validate(m, err);
    wasm_module_free(m);
    /* the public entry point must agree */
    zvm_error err2;
    assert_int_equal(zvm_module_validate(bytes, size, &err2), rc);
    return rc;
}

static void body_valid(int env, const char *sig, const uint8_t *locals, size_t nlocals, const uint8_t *body, size_t n)
{
    static buf o;
    zvm_error err;
    build_module(&o, env, sig, locals, nlocals, body, n);
    if (check(o.b, o.n, &err))
        fail_msg("valid body refused: %s", err.msg);
}

static void body_invalid(int env, const char *sig, const uint8_t *locals, size_t nlocals, const uint8_t *body, size_t n,
                         const char *want)
{
    static buf o;
    zvm_error err;
    build_module(&o, env, sig, locals, nlocals, body, n);
    if (check(o.b, o.n, &err) == 0)
        fail_msg("invalid body accepted (want \"%s\")", want);
    if (!strstr(err.msg, want) || strncmp(err.msg, "function 0 at byte 0x", 21) != 0)
        fail_msg("message \"%s\" does not say \"%s\"", err.msg, want);
}

static const uint8_t no_locals[] = { 0x00 };

#define VALID(sig, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; \
    body_valid(0, sig, no_locals, 1, b_, sizeof b_); } while (0)
#define INVALID(want, sig, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; \
    body_invalid(0, sig, no_locals, 1, b_, sizeof b_, want); } while (0)
#define INVALID_ENV(env, want, sig, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; \
    body_invalid(env, sig, no_locals, 1, b_, sizeof b_, want); } while (0)

static void module_invalid(const uint8_t *bytes, size_t size, const char *want)
{
    zvm_error err;
    if (check(bytes, size, &err) == 0)
        fail_msg("invalid module accepted (want \"%s\")", want);
    if (!strstr(err.msg, want))
        fail_msg("message \"%s\" does not say \"%s\"", err.msg, want);
}

#define HEADER 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00
#define MODULE_INVALID(want, ...) do { static const uint8_t b_[] = { HEADER, __VA_ARGS__ }; \
    module_invalid(b_, sizeof b_, want); } while (0)
#define MODULE_VALID(...) do { static const uint8_t b_[] = { HEADER, __VA_ARGS__ }; zvm_error e_; \
    if (check(b_, sizeof b_, &e_)) fail_msg("valid module refused: %s", e_.msg); } while (0)

/* ---- function bodies ---- */

static void test_operand_stack(void **state)
{
    VALID("ii:i", 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b);               /* local.get 0 local.get 1 i32.add */
    VALID("F:i", 0x20, 0x00, 0xaa, 0x0b);                           /* i32.trunc_f64_s */
    VALID(":", 0x41, 0x01, 0x1a, 0x0b);                             /* drop */
    INVALID("type mismatch", ":i", 0x42, 0x00, 0x0b);                /* i64 where i32 is due */
    INVALID("type mismatch", ":i", 0x0b);                            /* nothing */
    INVALID("type mismatch", ":", 0x41, 0x00, 0x0b);                 /* one value too many */
    INVALID("type mismatch", ":", 0x41, 0x00, 0x42, 0x00, 0x6a, 0x1a, 0x0b);
    INVALID("type mismatch", ":", 0x1a, 0x0b);                       /* drop of nothing */
    INVALID("type mismatch", "f:f", 0x20, 0x00, 0x20, 0x00, 0xa0, 0x0b);  /* f64.add on f32 */
}

static void test_unreachable_code(void **state)
{
    VALID(":i", 0x00, 0x0b);                                        /* unreachable satisfies anything */
    VALID(":i", 0x00, 0x6a, 0x0b);                                  /* i32.add of unknowns */
    VALID(":", 0x00, 0x1b, 0x1a, 0x0b);                             /* select of unknowns */
    VALID(":i", 0x41, 0x01, 0x0f, 0x41, 0x00, 0x0b);                /* return, then dead code */
    VALID(":", 0x02, 0x40, 0x0c, 0x00, 0x42, 0x00, 0x1a, 0x0b, 0x0b);
    INVALID("type mismatch", ":i", 0x00, 0x42, 0x00, 0x0b);          /* dead code is still typed */
    INVALID("type mismatch", ":i", 0x0f, 0x0b);                      /* return without the value */
    INVALID("type mismatch", ":", 0x00, 0x42, 0x00, 0x6a, 0x1a, 0x0b);
    INVALID("type mismatch", ":", 0x00, 0x41, 0x00, 0x42, 0x00, 0x1b, 0x1a, 0x0b);
}

static void test_blocks(void **state)
{
    VALID(":i", 0x02, 0x7f, 0x41, 0x01, 0x0b, 0x0b);                /* block (result i32) */
    VALID(":i", 0x03, 0x7f, 0x41, 0x01, 0x0b, 0x0b);                /* loop (result i32) */
    VALID("i:i", 0x20, 0x00, 0x04, 0x7f, 0x41, 0x01, 0x05, 0x41, 0x02, 0x0b, 0x0b);
    VALID("i:", 0x20, 0x00, 0x04, 0x40, 0x0b, 0x0b);                 /* if without else, no values */
    /* multi-value: block of type 1, [i32] -> [i32 i32] */
    VALID(":ii", 0x41, 0x05, 0x02, 0x01, 0x41, 0x06, 0x0b, 0x0b);
    VALID("i:ii", 0x20, 0x00, 0x20, 0x00, 0x04, 0x01, 0x41, 0x06, 0x05, 0x41, 0x07, 0x0b, 0x0b);
    INVALID("type mismatch", ":ii", 0x02, 0x01, 0x41, 0x06, 0x0b, 0x0b);  /* the parameter is missing */
    INVALID("type mismatch", ":i", 0x02, 0x7f, 0x0b, 0x0b);
    INVALID("type mismatch", "i:i", 0x20, 0x00, 0x04, 0x7f, 0x41, 0x01, 0x0b, 0x0b);  /* if (result) without else */
    INVALID("type mismatch", ":", 0x42, 0x00, 0x04, 0x40, 0x0b, 0x0b);    /* i64 condition */
    INVALID("unknown type", ":", 0x02, 0x09, 0x0b, 0x0b);
    INVALID("END opcode expected", ":", 0x02, 0x40, 0x05, 0x0b, 0x0b);   /* else in a block */
    INVALID("section size mismatch", ":", 0x0b, 0x01, 0x0b);             /* bytes after the final end */
    INVALID("unexpected end", ":", 0x02, 0x40, 0x0b);                     /* the final end is missing */
}

static void test_branches(void **state)
{
    VALID(":i", 0x02, 0x7f, 0x41, 0x01, 0x0c, 0x00, 0x0b, 0x0b);
    VALID(":", 0x03, 0x40, 0x41, 0x00, 0x0d, 0x00, 0x0b, 0x0b);      /* br_if to a loop carries nothing */
    VALID("i:i", 0x02, 0x7f, 0x41, 0x07, 0x20, 0x00, 0x0d, 0x00, 0x0b, 0x0b);
    VALID("i:i", 0x02, 0x7f, 0x02, 0x7f, 0x41, 0x01, 0x20, 0x00, 0x0e, 0x01, 0x00, 0x01, 0x0b, 0x0b, 0x0b);
    VALID("i:", 0x02, 0x40, 0x20, 0x00, 0x0e, 0x00, 0x00, 0x0b, 0x0b);   /* br_table with no targets */
    INVALID("unknown label", ":", 0x0c, 0x01, 0x0b);
    INVALID("unknown label", "i:", 0x20, 0x00, 0x0d, 0x05, 0x0b);
    INVALID("unknown label", "i:", 0x02, 0x40, 0x20, 0x00, 0x0e, 0x01, 0x03, 0x00, 0x0b, 0x0b);
    INVALID("type mismatch", ":i", 0x02, 0x7f, 0x42, 0x01, 0x0c, 0x00, 0x0b, 0x0b);
    /* br_table whose targets carry different numbers of values */
    INVALID("type mismatch", "i:i", 0x02, 0x7f, 0x02, 0x40, 0x41, 0x01, 0x20, 0x00, 0x0e, 0x01, 0x00, 0x01,
            0x0b, 0x41, 0x00, 0x0b, 0x0b);
    INVALID("type mismatch", ":", 0x02, 0x40, 0x0e, 0x00, 0x00, 0x0b, 0x0b);   /* no index */
    INVALID("type mismatch", ":i", 0x42, 0x00, 0x0f, 0x0b);                     /* return i64 */
}

static void test_locals_and_globals(void **state)
{
    static const uint8_t locals[] = { 0x02, 0x02, 0x7e, 0x01, 0x7c };      /* i64 i64 f64 */
    static const uint8_t ok[] = { 0x20, 0x02, 0x21, 0x01, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x22, 0x03, 0x1a, 0x0b };
    body_valid(0, "i:", locals, sizeof locals, ok, sizeof ok);
    static const uint8_t bad[] = { 0x20, 0x03, 0x21, 0x01, 0x0b };         /* f64 into an i64 local */
    body_invalid(0, "i:", locals, sizeof locals, bad, sizeof bad, "type mismatch");
    static const uint8_t far[] = { 0x20, 0x04, 0x1a, 0x0b };
    body_invalid(0, "i:", locals, sizeof locals, far, sizeof far, "unknown local 4");
    VALID(":", 0x23, 0x00, 0x1a, 0x23, 0x02, 0x1a, 0x41, 0x01, 0x24, 0x01, 0x43, 0, 0, 0, 0, 0x24, 0x03, 0x0b);
    INVALID("unknown global 4", ":", 0x23, 0x04, 0x1a, 0x0b);
    INVALID("global is immutable", ":", 0x41, 0x00, 0x24, 0x00, 0x0b);
    INVALID("global is immutable", ":", 0x42, 0x00, 0x24, 0x02, 0x0b);
    INVALID("type mismatch", ":", 0x42, 0x00, 0x24, 0x01, 0x0b);
}

static void test_calls(void **state)
{
    VALID(":", 0x10, 0x01, 0x0b);                                   /* call function 1: [] -> [] */
    VALID("i:i", 0x20, 0x00, 0x10, 0x00, 0x0b);                     /* recursion */
    VALID(":", 0x41, 0x00, 0x11, 0x02, 0x00, 0x0b);                 /* call_indirect type 2, table 0 */
    VALID(":ii", 0x41, 0x01, 0x41, 0x00, 0x11, 0x01, 0x00, 0x0b);
    INVALID("unknown function 9", ":", 0x10, 0x09, 0x0b);
    INVALID("type mismatch", "i:i", 0x10, 0x00, 0x0b);              /* the argument is missing */
    INVALID("unknown type 9", ":", 0x41, 0x00, 0x11, 0x09, 0x00, 0x0b);
    INVALID("unknown table 5", ":", 0x41, 0x00, 0x11, 0x02, 0x05, 0x0b);
    INVALID("type mismatch", ":", 0x41, 0x00, 0x11, 0x02, 0x01, 0x0b);    /* externref table */
    INVALID("type mismatch", ":", 0x11, 0x02, 0x00, 0x0b);               /* no index */
}

static void test_select(void **state)
{
    VALID(":i", 0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1b, 0x0b);
    VALID(":r", 0xd0, 0x70, 0xd2, 0x00, 0x41, 0x00, 0x1c, 0x01, 0x70, 0x0b);  /* typed select on funcref */
    INVALID("type mismatch", ":", 0xd0, 0x70, 0xd0, 0x70, 0x41, 0x01, 0x1b, 0x1a, 0x0b);  /* untyped on refs */
    INVALID("type mismatch", ":", 0x41, 0x01, 0x42, 0x02, 0x41, 0x00, 0x1b, 0x1a, 0x0b);  /* i32 vs i64 */
    INVALID("invalid result arity", ":", 0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1c, 0x00, 0x0b);
    INVALID("invalid result arity", ":", 0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1c, 0x02, 0x7f, 0x7f, 0x1a, 0x0b);
}

static void test_memory(void **state)
{
    VALID(":i", 0x41, 0x00, 0x28, 0x02, 0x10, 0x0b);               /* i32.load align=4 offset=16 */
    VALID(":", 0x41, 0x00, 0x42, 0x01, 0x3c, 0x00, 0x00, 0x0b);     /* i64.store8 */
    VALID(":i", 0x3f, 0x00, 0x40, 0x00, 0x0b);                      /* memory.grow (memory.size) */
    VALID(":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x02, 0xfc, 0x08, 0x00, 0x00, 0xfc, 0x09, 0x00, 0x0b);
    VALID(":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0a, 0x00, 0x00,
               0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x00, 0x0b);
    INVALID("alignment must not be larger than natural", ":i", 0x41, 0x00, 0x28, 0x03, 0x00, 0x0b);
    INVALID("alignment must not be larger than natural", ":i", 0x41, 0x00, 0x2c, 0x01, 0x00, 0x0b);
    INVALID("type mismatch", ":", 0x41, 0x00, 0x41, 0x01, 0x39, 0x03, 0x00, 0x0b);   /* f64.store of i32 */
    INVALID("zero byte expected", ":i", 0x3f, 0x01, 0x0b);
    INVALID("zero byte expected", ":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x01, 0x0b);
    INVALID_ENV(ENV_NO_MEMORY, "unknown memory 0", ":i", 0x41, 0x00, 0x28, 0x02, 0x00, 0x0b);
    INVALID_ENV(ENV_NO_MEMORY, "unknown memory 0", ":i", 0x3f, 0x00, 0x0b);
    INVALID("unknown data segment 1", ":", 0xfc, 0x09, 0x01, 0x0b);
    INVALID("unknown data segment 3", ":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x03, 0x00, 0x0b);
    INVALID_ENV(ENV_NO_DATACOUNT, "data count section required", ":", 0xfc, 0x09, 0x00, 0x0b);
    INVALID_ENV(ENV_NO_DATACOUNT, "data count section required", ":",
                0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x00, 0x00, 0x0b);
}

static void test_references_and_tables(void **state)
{
    VALID(":i", 0xd2, 0x00, 0xd1, 0x0b);                            /* ref.is_null (ref.func 0) */
    VALID(":e", 0xd0, 0x6f, 0x0b);
    VALID(":r", 0x41, 0x00, 0x25, 0x00, 0x0b);                      /* table.get 0 */
    VALID(":", 0x41, 0x00, 0xd0, 0x6f, 0x26, 0x01, 0x0b);           /* table.set 1 */
    VALID(":i", 0xd0, 0x70, 0x41, 0x01, 0xfc, 0x0f, 0x00, 0x0b);    /* table.grow 0 */
    VALID(":i", 0xfc, 0x10, 0x01, 0x0b);                            /* table.size 1 */
    VALID(":", 0x41, 0x00, 0xd0, 0x6f, 0x41, 0x01, 0xfc, 0x11, 0x01, 0x0b);  /* table.fill 1 */
    VALID(":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0c, 0x00, 0x00, 0xfc, 0x0d, 0x00, 0x0b);
    VALID(":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0e, 0x00, 0x00, 0x0b);
    INVALID("undeclared function reference", ":", 0xd2, 0x01, 0x1a, 0x0b);
    INVALID("unknown function 7", ":", 0xd2, 0x07, 0x1a, 0x0b);
    INVALID("type mismatch", ":i", 0x41, 0x00, 0xd1, 0x0b);          /* ref.is_null of an i32 */
    INVALID("type mismatch", ":", 0x41, 0x00, 0xd0, 0x70, 0x26, 0x01, 0x0b);   /* funcref into externref */
    INVALID("unknown table 2", ":r", 0x41, 0x00, 0x25, 0x02, 0x0b);
    INVALID("type mismatch", ":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0c, 0x00, 0x01, 0x0b);
    INVALID("type mismatch", ":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0e, 0x00, 0x01, 0x0b);
    INVALID("unknown elem segment 3", ":", 0xfc, 0x0d, 0x03, 0x0b);
    INVALID("unknown table 3", ":", 0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0c, 0x09, 0x03, 0x0b);
    INVALID("malformed reference type", ":", 0xd0, 0x7f, 0x1a, 0x0b);
}

static void test_opcodes(void **state)
{
    VALID("f:i", 0x20, 0x00, 0xfc, 0x00, 0x0b);                     /* i32.trunc_sat_f32_s */
    VALID("i:i", 0x20, 0x00, 0xc0, 0x0b);                           /* i32.extend8_s */
    INVALID("illegal opcode 0xff", ":", 0xff, 0x0b);
    INVALID("illegal opcode 0x27", ":", 0x27, 0x0b);
    INVALID("illegal opcode 0xfc 18", ":", 0xfc, 0x12, 0x0b);
    INVALID("unsupported", ":", 0xfd, 0x0c, 0x0b);
    INVALID("unsupported", ":", 0x02, 0x7b, 0x0b, 0x0b);
    INVALID("integer too large", ":i", 0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x0b);
    INVALID("integer representation too long", ":i", 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b);
    INVALID("unexpected end", ":", 0x44, 0x00, 0x00, 0x0b);        /* f64.const cut short */
}

/* ---- module-level rules ---- */

static void test_limits_and_memories(void **state)
{
    MODULE_VALID(0x05, 0x06, 0x01, 0x01, 0x00, 0x80, 0x80, 0x04);         /* memory 0..65536 */
    MODULE_INVALID("memory size must be at most 65536 pages (4GiB)", 0x05, 0x05, 0x01, 0x00, 0x81, 0x80, 0x04);
    MODULE_INVALID("memory size must be at most 65536 pages (4GiB)", 0x05, 0x06, 0x01, 0x01, 0x00, 0x81, 0x80, 0x04);
    MODULE_INVALID("size minimum must not be greater than maximum", 0x05, 0x04, 0x01, 0x01, 0x02, 0x01);
    MODULE_INVALID("size minimum must not be greater than maximum", 0x04, 0x05, 0x01, 0x70, 0x01, 0x02, 0x01);
    MODULE_INVALID("multiple memories", 0x05, 0x05, 0x02, 0x00, 0x00, 0x00, 0x00);
    MODULE_INVALID("multiple memories", 0x02, 0x07, 0x01, 0x00, 0x01, 'm', 0x02, 0x00, 0x00,
                   0x05, 0x03, 0x01, 0x00, 0x00);
    MODULE_VALID(0x04, 0x07, 0x02, 0x70, 0x00, 0x00, 0x6f, 0x00, 0x00);   /* two tables are fine */
}

static void test_globals_and_const_exprs(void **state)
{
    /* import (immutable i32), then a global initialised from it */
    MODULE_VALID(0x02, 0x08, 0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x00,
                 0x06, 0x06, 0x01, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    MODULE_INVALID("type mismatch", 0x06, 0x06, 0x01, 0x7e, 0x00, 0x41, 0x00, 0x0b);
    MODULE_INVALID("unknown global 0", 0x06, 0x0b, 0x02, 0x7f, 0x00, 0x41, 0x00, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    MODULE_INVALID("constant expression required", 0x02, 0x08, 0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x01,
                   0x06, 0x06, 0x01, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    MODULE_INVALID("unknown function 0", 0x06, 0x06, 0x01, 0x70, 0x00, 0xd2, 0x00, 0x0b);
    MODULE_INVALID("type mismatch", 0x06, 0x06, 0x01, 0x70, 0x00, 0xd0, 0x6f, 0x0b);
    MODULE_INVALID("unsupported", 0x01, 0x05, 0x01, 0x60, 0x01, 0x7b, 0x00);
}

static void test_exports_and_start(void **state)
{
    MODULE_VALID(0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x0a, 0x02,     /* "a" and "a\\0" differ */
                 0x01, 'a', 0x00, 0x00, 0x02, 'a', 0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
    MODULE_INVALID("duplicate export name", 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                   0x07, 0x09, 0x02, 0x01, 'a', 0x00, 0x00, 0x01, 'a', 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
    MODULE_INVALID("unknown function 1", 0x07, 0x05, 0x01, 0x01, 'a', 0x00, 0x01);
    MODULE_INVALID("unknown memory 0", 0x07, 0x05, 0x01, 0x01, 'a', 0x02, 0x00);
    MODULE_INVALID("unknown global 0", 0x07, 0x05, 0x01, 0x01, 'a', 0x03, 0x00);
    MODULE_INVALID("unknown table 0", 0x07, 0x05, 0x01, 0x01, 'a', 0x01, 0x00);
    MODULE_INVALID("start function", 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00,
                   0x08, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b);
    MODULE_INVALID("unknown function 0", 0x08, 0x01, 0x00);
    MODULE_INVALID("unknown type 3", 0x03, 0x02, 0x01, 0x03, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
    MODULE_INVALID("unknown type 0", 0x02, 0x07, 0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00);
}

static void test_segments(void **state)
{
    /* active elem into an undefined table; offset of the wrong type; externref items into funcref */
    MODULE_INVALID("unknown table 0", 0x09, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00);
    MODULE_INVALID("type mismatch", 0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x09, 0x06, 0x01, 0x00, 0x42, 0x00, 0x0b, 0x00);
    MODULE_INVALID("type mismatch", 0x04, 0x04, 0x01, 0x70, 0x00, 0x01,
                   0x09, 0x0b, 0x01, 0x06, 0x00, 0x41, 0x00, 0x0b, 0x6f, 0x01, 0xd0, 0x6f, 0x0b);
    MODULE_INVALID("type mismatch", 0x09, 0x07, 0x01, 0x05, 0x70, 0x01, 0xd0, 0x6f, 0x0b);   /* passive */
    MODULE_INVALID("unknown function 0", 0x09, 0x05, 0x01, 0x03, 0x00, 0x01, 0x00);            /* declarative */
    MODULE_INVALID("unknown memory 0", 0x0b, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00);
    MODULE_INVALID("type mismatch", 0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x06, 0x01, 0x00, 0x42, 0x00, 0x0b, 0x00);
    MODULE_VALID(0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 'x');
}

/* Blocks nested past the engine's limit are refused, not allocated for. */
static size_t nested_blocks(uint8_t *body, size_t depth)
{
    size_t n = 0;
    for (size_t i = 0; i < depth; i++) {
        body[n++] = 0x02;                /* block (no values) */
        body[n++] = 0x40;
    }
    for (size_t i = 0; i <= depth; i++)
        body[n++] = 0x0b;
    return n;
}

static void test_nesting_limit(void **state)
{
    static uint8_t body[3 * 100001 + 1];
    static buf o;
    zvm_error err;
    build_module(&o, 0, ":", no_locals, 1, body, nested_blocks(body, 40000));
    if (check(o.b, o.n, &err))
        fail_msg("40000 nested blocks refused: %s", err.msg);
    build_module(&o, 0, ":", no_locals, 1, body, nested_blocks(body, 100001));
    assert_int_equal(check(o.b, o.n, &err), -1);
    if (!strstr(err.msg, "unsupported: blocks nested deeper than 100000"))
        fail_msg("unexpected message: %s", err.msg);
}

/* Malformed beats invalid, wherever they are (the reference decodes every body first). */
static void test_malformed_before_invalid(void **state)
{
    /* function 0 leaves an i64 behind; function 1 has memory.size with a non-zero byte */
    MODULE_INVALID("function 1 at byte 0x23: zero byte expected", 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                   0x03, 0x03, 0x02, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
                   0x0a, 0x0c, 0x02, 0x04, 0x00, 0x42, 0x00, 0x0b, 0x05, 0x00, 0x3f, 0x01, 0x1a, 0x0b);
    /* a global of the wrong type, and an illegal opcode in a body */
    MODULE_INVALID("illegal opcode 0xff", 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                   0x06, 0x06, 0x01, 0x7e, 0x00, 0x41, 0x00, 0x0b, 0x0a, 0x05, 0x01, 0x03, 0x00, 0xff, 0x0b);
    /* without the malformed parts, the validation errors show */
    MODULE_INVALID("function 0 at byte 0x", 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                   0x03, 0x03, 0x02, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
                   0x0a, 0x0c, 0x02, 0x04, 0x00, 0x42, 0x00, 0x0b, 0x05, 0x00, 0x3f, 0x00, 0x1a, 0x0b);
}

/* A module wat2wasm wrote from test/fixtures/v_features.wat (every instruction family). */
static void test_features_fixture(void **state)
{
    FILE *f = fopen("build/fixtures/v_features.wasm", "rb");
    if (!f)
        fail_msg("build/fixtures/v_features.wasm is missing: run make fixtures (make check does) from the top");
    static uint8_t bytes[1 << 16];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    zvm_error err;
    if (zvm_module_validate(bytes, n, &err))
        fail_msg("v_features.wasm refused: %s", err.msg);
    /* every strict prefix is malformed, and must be refused cleanly */
    for (size_t k = 0; k < n; k += 1 + k / 64)
        if (k != 8 && zvm_module_validate(bytes, k, &err) == 0) {
            wasm_module *m;
            assert_int_equal(wasm_decode(bytes, k, &m, &err), 0);   /* only between sections */
            wasm_module_free(m);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operand_stack),
        cmocka_unit_test(test_unreachable_code),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_branches),
        cmocka_unit_test(test_locals_and_globals),
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_references_and_tables),
        cmocka_unit_test(test_opcodes),
        cmocka_unit_test(test_limits_and_memories),
        cmocka_unit_test(test_globals_and_const_exprs),
        cmocka_unit_test(test_exports_and_start),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_malformed_before_invalid),
        cmocka_unit_test(test_features_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
/* clang-format on */
