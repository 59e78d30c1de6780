/*
 * test_decode.c — the binary decoder: what it builds from well-formed modules, and the spec's
 * message for each family of malformed input.  Modules are hand-written byte arrays, each
 * commented the way the spec's binary.wast writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wasm/module.h"
#include "wasm/reader.h"

/* Not reformatted: modules are written byte by byte, laid out like the binary format. */
/* clang-format off */

#define HEADER 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00

static wasm_module *decode_ok(const uint8_t *bytes, size_t size)
{
    wasm_module *m = NULL;
    zvm_error err = {{0}};
    int rc = wasm_decode(bytes, size, &m, &err);
    if (rc != 0)
        fail_msg("decode failed: %s", err.msg);
    assert_non_null(m);
    return m;
}

/* The module must be refused with a message holding `want` (and naming a byte offset). */
static void expect_malformed(const uint8_t *bytes, size_t size, const char *want)
{
    wasm_module *m = NULL;
    zvm_error err = {{0}};
    int rc = wasm_decode(bytes, size, &m, &err);
    if (rc == 0) {
        wasm_module_free(m);
        fail_msg("accepted a module that is malformed (%s)", want);
    }
    assert_null(m);
    if (!strstr(err.msg, want) || strncmp(err.msg, "at byte 0x", 10) != 0)
        fail_msg("message \"%s\" does not say \"%s\"", err.msg, want);
}

#define OK(...) ({ static const uint8_t b_[] = { __VA_ARGS__ }; decode_ok(b_, sizeof b_); })
#define BAD(want, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; expect_malformed(b_, sizeof b_, want); } while (0)

static void test_empty_module(void **state)
{
    wasm_module *m = OK(HEADER);
    assert_int_equal(m->ntypes, 0);
    assert_int_equal(m->nfuncs, 0);
    assert_int_equal(m->size, 8);
    wasm_module_free(m);
}

static void test_preamble(void **state)
{
    expect_malformed((const uint8_t *)"", 0, "unexpected end");
    BAD("unexpected end", 0x01);
    BAD("unexpected end", 0x00, 'a', 's');
    BAD("magic header not detected", 'a', 's', 'm', 0x00);
    BAD("magic header not detected", 0xef, 0xbb, 0xbf, 0x00, 'a', 's', 'm', 0x01, 0, 0, 0);
    BAD("unexpected end", 0x00, 'a', 's', 'm', 0x01, 0x00);
    BAD("unknown binary version", 0x00, 'a', 's', 'm', 0x0d, 0x00, 0x00, 0x00);
}

static void test_leb128(void **state)
{
    wasm_reader r;
    zvm_error err;
    uint32_t u;
    int32_t s;
    int64_t s64;
    static const uint8_t padded[] = { 0x82, 0x80, 0x80, 0x80, 0x00 };
    wasm_reader_init(&r, padded, sizeof padded, &err);
    assert_true(wasm_read_u32(&r, &u));
    assert_int_equal(u, 2);

    static const uint8_t too_long[] = { 0x82, 0x80, 0x80, 0x80, 0x80, 0x00 };
    wasm_reader_init(&r, too_long, sizeof too_long, &err);
    assert_false(wasm_read_u32(&r, &u));
    assert_non_null(strstr(err.msg, "integer representation too long"));

    static const uint8_t too_large[] = { 0x82, 0x80, 0x80, 0x80, 0x10 };
    wasm_reader_init(&r, too_large, sizeof too_large, &err);
    assert_false(wasm_read_u32(&r, &u));
    assert_string_equal(err.msg, "at byte 0x4: integer too large");

    static const uint8_t minus_one[] = { 0xff, 0xff, 0xff, 0xff, 0x7f };
    wasm_reader_init(&r, minus_one, sizeof minus_one, &err);
    assert_true(wasm_read_s32(&r, &s));
    assert_int_equal(s, -1);

    static const uint8_t bad_sign[] = { 0xff, 0xff, 0xff, 0xff, 0x4f };
    wasm_reader_init(&r, bad_sign, sizeof bad_sign, &err);
    assert_false(wasm_read_s32(&r, &s));
    assert_non_null(strstr(err.msg, "integer too large"));

    static const uint8_t min64[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f };
    wasm_reader_init(&r, min64, sizeof min64, &err);
    assert_true(wasm_read_s64(&r, &s64));
    assert_true(s64 == INT64_MIN);

    static const uint8_t cut[] = { 0x80, 0x80 };
    wasm_reader_init(&r, cut, sizeof cut, &err);
    assert_false(wasm_read_u32(&r, &u));
    assert_non_null(strstr(err.msg, "unexpected end"));
}

static void test_utf8(void **state)
{
    assert_true(wasm_utf8_valid((const uint8_t *)"h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    assert_false(wasm_utf8_valid((const uint8_t *)"\xc0\x80", 2));          /* overlong NUL */
    assert_false(wasm_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));      /* surrogate */
    assert_false(wasm_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));  /* past U+10FFFF */
    assert_false(wasm_utf8_valid((const uint8_t *)"\xe2\x82", 2));          /* cut short */
    assert_false(wasm_utf8_valid((const uint8_t *)"\x80", 1));              /* lone continuation */
    BAD("malformed UTF-8 encoding", HEADER, 0x00, 0x03, 0x02, 0xc0, 0x80);
}

static void test_sections(void **state)
{
    BAD("malformed section id", HEADER, 0x0e, 0x01, 0x00);
    BAD("malformed section id", HEADER, 0x7f, 0x01, 0x00);
    BAD("length out of bounds", HEADER, 0x01, 0x07, 0x02, 0x60, 0x00, 0x00);
    BAD("section size mismatch", HEADER, 0x01, 0x07, 0x01, 0x60, 0x00, 0x00, 0x60, 0x00, 0x00);
    /* a repeated section, and one out of order */
    BAD("unexpected content after last section", HEADER, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00);
    BAD("unexpected content after last section", HEADER, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00);
    /* custom sections anywhere, their contents opaque */
    wasm_module *m = OK(HEADER, 0x00, 0x04, 0x01, 'x', 0xff, 0xfe, 0x01, 0x01, 0x00, 0x00, 0x02, 0x01, 'y');
    wasm_module_free(m);
    BAD("unexpected end", HEADER, 0x00, 0x00);
    BAD("length out of bounds", HEADER, 0x00, 0x26, 0x10, 'a');
}

static void test_types_and_functions(void **state)
{
    wasm_module *m = OK(HEADER,
        0x01, 0x0a, 0x02, 0x60, 0x02, 0x7f, 0x7e, 0x01, 0x7d, 0x60, 0x00, 0x00,  /* (i32 i64)->f32, ()->() */
        0x03, 0x03, 0x02, 0x01, 0x00,                                            /* two functions */
        0x0a, 0x0b, 0x02, 0x04, 0x01, 0x02, 0x7c, 0x0b,                          /* 2 x f64 local */
        0x04, 0x00, 0x01, 0x00, 0x0b);                                           /* nop... */
    assert_int_equal(m->ntypes, 2);
    assert_int_equal(m->types[0].nparams, 2);
    assert_int_equal(m->types[0].params[1], ZVM_I64);
    assert_int_equal(m->types[0].results[0], ZVM_F32);
    assert_int_equal(m->nfuncs, 2);
    assert_int_equal(m->func_type[0], 1);
    assert_int_equal(m->funcs[0].nlocals, 2);
    assert_int_equal(m->funcs[0].runs[0].type, ZVM_F64);
    assert_int_equal(m->funcs[0].code_size, 1);
    assert_int_equal(m->funcs[1].code_size, 3);
    assert_int_equal(m->funcs[1].code[0], 0x01);
    wasm_module_free(m);
    BAD("malformed function type", HEADER, 0x01, 0x04, 0x01, 0x61, 0x00, 0x00);
    BAD("malformed value type", HEADER, 0x01, 0x05, 0x01, 0x60, 0x01, 0x42, 0x00);
    BAD("function and code section have inconsistent lengths", HEADER,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00);
    BAD("function and code section have inconsistent lengths", HEADER,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
    BAD("too many locals", HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x0a, 0x0c, 0x01, 0x0a, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x02, 0x7e, 0x0b);
    BAD("too many locals", HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x0a, 0x08, 0x01, 0x06, 0x01, 0xd1, 0x86, 0x03, 0x7f, 0x0b);             /* 50001 locals */
    BAD("END opcode expected", HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x00,
        0x0a, 0x0c, 0x02, 0x04, 0x00, 0x41, 0x01, 0x1a, 0x05, 0x00, 0x41, 0x01, 0x1a, 0x0b);
    BAD("unexpected end", HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x01, 0x1a);
}

static void test_imports(void **state)
{
    wasm_module *m = OK(HEADER,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
        0x02, 0x1e, 0x04,
        0x01, 'm', 0x01, 'f', 0x00, 0x00,                 /* func, type 0 */
        0x01, 'm', 0x01, 't', 0x01, 0x70, 0x00, 0x0a,     /* table funcref 10 */
        0x01, 'm', 0x01, 'g', 0x03, 0x7e, 0x01,           /* global mut i64 */
        0x01, 'm', 0x01, 'M', 0x02, 0x01, 0x01, 0x02,     /* memory 1..2 */
        0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
    assert_int_equal(m->nimports, 4);
    assert_string_equal(m->imports[1].name, "t");
    assert_int_equal(m->nfuncs, 2);
    assert_int_equal(m->nfunc_imports, 1);
    assert_int_equal(m->ntables, 1);
    assert_int_equal(m->tables[0].limits.min, 10);
    assert_true(m->tables[0].limits.max == UINT64_MAX);
    assert_int_equal(m->nglobals, 1);
    assert_true(m->global_types[0].mutable_);
    assert_int_equal(m->nmemories, 1);
    assert_int_equal(m->memories[0].max, 2);
    wasm_module_free(m);
    BAD("malformed import kind", HEADER, 0x02, 0x06, 0x01, 0x01, 'm', 0x01, 'f', 0x05);
    BAD("malformed mutability", HEADER, 0x02, 0x08, 0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x02);
    BAD("integer too large", HEADER, 0x05, 0x03, 0x01, 0x02, 0x00);
    BAD("integer representation too long", HEADER, 0x05, 0x04, 0x01, 0x81, 0x00, 0x00);
    BAD("malformed reference type", HEADER, 0x04, 0x04, 0x01, 0x7f, 0x00, 0x00);
    BAD("unexpected end", HEADER, 0x04, 0x01, 0x01);
}

static void test_globals_and_const_exprs(void **state)
{
    wasm_module *m = OK(HEADER, 0x06, 0x12, 0x02,
        0x7f, 0x00, 0x41, 0x7f, 0x0b,                                      /* i32 = -1 */
        0x7c, 0x01, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x0b);            /* mut f64 = 1.0 */
    assert_int_equal(m->nglobals, 2);
    assert_int_equal(m->globals[0].init.opcode, 0x41);
    assert_true(m->globals[0].init.value == 0xffffffffu);
    assert_true(m->globals[1].init.value == 0x3ff0000000000000ull);
    assert_true(m->global_types[1].mutable_);
    wasm_module_free(m);
    BAD("constant expression required", HEADER, 0x06, 0x07, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x45, 0x0b);
    BAD("constant expression required", HEADER, 0x06, 0x04, 0x01, 0x7f, 0x00, 0x01);
    BAD("type mismatch", HEADER, 0x06, 0x04, 0x01, 0x7f, 0x00, 0x0b);
    BAD("type mismatch", HEADER, 0x06, 0x08, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x41, 0x00, 0x0b);
    BAD("illegal opcode", HEADER, 0x06, 0x05, 0x01, 0x7f, 0x00, 0xf3, 0x0b);
}

static void test_exports_start_refs(void **state)
{
    wasm_module *m = OK(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x00,
        0x07, 0x05, 0x01, 0x01, 'e', 0x00, 0x01, 0x08, 0x01, 0x00,
        0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b);
    assert_int_equal(m->nexports, 1);
    assert_string_equal(m->exports[0].name, "e");
    assert_true(m->has_start);
    assert_int_equal(m->start, 0);
    assert_false(m->declared_refs[0]);
    assert_true(m->declared_refs[1]);
    wasm_module_free(m);
    BAD("malformed export kind", HEADER, 0x07, 0x05, 0x01, 0x01, 'e', 0x05, 0x00);
    BAD("length out of bounds", HEADER, 0x07, 0x06, 0x02, 0x02, 'f', '1', 0x00, 0x00, 0x0a, 0x07);
}

static void test_element_forms(void **state)
{
    wasm_module *m = OK(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x04, 0x04, 0x01, 0x70, 0x00, 0x01,
        0x09, 0x2f, 0x08,
        0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,                  /* 0: active table 0, funcs */
        0x01, 0x00, 0x01, 0x00,                              /* 1: passive, elemkind, funcs */
        0x02, 0x00, 0x41, 0x00, 0x0b, 0x00, 0x01, 0x00,      /* 2: table 0, offset, elemkind, funcs */
        0x03, 0x00, 0x01, 0x00,                              /* 3: declarative funcs */
        0x04, 0x41, 0x00, 0x0b, 0x01, 0xd2, 0x00, 0x0b,      /* 4: active, exprs */
        0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b,                  /* 5: passive externref exprs */
        0x06, 0x00, 0x41, 0x00, 0x0b, 0x70, 0x00,            /* 6: explicit table, no items */
        0x07, 0x70, 0x00,                                    /* 7: declarative, no items */
        0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b);
    assert_int_equal(m->nelems, 8);
    assert_int_equal(m->elems[0].mode, WASM_SEG_ACTIVE);
    assert_int_equal(m->elems[1].mode, WASM_SEG_PASSIVE);
    assert_int_equal(m->elems[3].mode, WASM_SEG_DECLARATIVE);
    assert_int_equal(m->elems[3].items[0].opcode, 0xd2);
    assert_int_equal(m->elems[5].elemtype, ZVM_EXTERNREF);
    assert_int_equal(m->elems[5].items[0].opcode, 0xd0);
    assert_int_equal(m->elems[7].mode, WASM_SEG_DECLARATIVE);
    assert_true(m->declared_refs[0]);
    wasm_module_free(m);
    BAD("malformed elements segment kind", HEADER, 0x09, 0x02, 0x01, 0x08);
    BAD("malformed element kind", HEADER, 0x09, 0x04, 0x01, 0x01, 0x01, 0x00);
    BAD("malformed reference type", HEADER, 0x09, 0x07, 0x01, 0x05, 0x7f, 0x01, 0xd2, 0x00, 0x0b);
    BAD("unexpected end", HEADER, 0x09, 0x07, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00);
}

static void test_data_forms(void **state)
{
    wasm_module *m = OK(HEADER, 0x05, 0x03, 0x01, 0x00, 0x01, 0x0c, 0x01, 0x03,
        0x0b, 0x12, 0x03,
        0x00, 0x41, 0x08, 0x0b, 0x02, 'h', 'i',              /* 0: active memory 0 */
        0x01, 0x01, 'p',                                     /* 1: passive */
        0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 'x');            /* 2: explicit memory */
    assert_int_equal(m->ndatas, 3);
    assert_true(m->has_datacount);
    assert_int_equal(m->datas[0].size, 2);
    assert_memory_equal(m->datas[0].bytes, "hi", 2);
    assert_int_equal(m->datas[0].offset.value, 8);
    assert_int_equal(m->datas[1].mode, WASM_SEG_PASSIVE);
    assert_int_equal(m->datas[2].mode, WASM_SEG_ACTIVE);
    wasm_module_free(m);
    BAD("data count and data section have inconsistent lengths", HEADER, 0x05, 0x03, 0x01, 0x00, 0x01,
        0x0c, 0x01, 0x02, 0x0b, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00);
    BAD("data count and data section have inconsistent lengths", HEADER, 0x0c, 0x01, 0x01);
    BAD("malformed data segment kind", HEADER, 0x0b, 0x02, 0x01, 0x03);
    BAD("unexpected end of section or function", HEADER, 0x05, 0x03, 0x01, 0x00, 0x01,
        0x0b, 0x07, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x61);
}

static void test_name_section(void **state)
{
    wasm_module *m = OK(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x00,
        0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b,
        0x00, 0x12, 0x04, 'n', 'a', 'm', 'e',
        0x00, 0x02, 0x01, 'M',                               /* module name */
        0x01, 0x07, 0x01, 0x01, 0x04, 'm', 'a', 'i', 'n');    /* function 1 is "main" */
    assert_string_equal(m->module_name, "M");
    assert_null(m->func_names[0]);
    assert_string_equal(m->func_names[1], "main");
    wasm_module_free(m);
    /* a malformed name section (function 7 does not exist) is dropped, not an error */
    m = OK(HEADER, 0x00, 0x0d, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x06, 0x01, 0x07, 0x03, 'b', 'a', 'd');
    assert_null(m->func_names);
    wasm_module_free(m);
}

/* Huge counts in small sections are refused before anything is allocated for them. */
static void test_counts_guarded(void **state)
{
    BAD("length out of bounds", HEADER, 0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);          /* 4G types */
    BAD("cannot fit", HEADER, 0x09, 0x05, 0x09, 0x01, 0x01, 0x00, 0x00,                     /* 9 elems in 4 bytes */
        0x00, 0x07, 0x01, 'x', 0, 0, 0, 0, 0);
    BAD("cannot fit", HEADER, 0x0b, 0x02, 0x03, 0x01, 0x00, 0x01, 0x00);                    /* data */
    /* 5 runs of locals declared in a 4-byte body (a body is read as its own input) */
    BAD("length out of bounds", HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x0a, 0x06, 0x01, 0x04, 0x05, 0x00, 0x0b, 0x00, 0x00, 0x03, 0x01, 'x', 0x00);
}

/* Many cut-short prefixes of a good module: each must fail cleanly (no crash, no leak). */
static void test_truncations(void **state)
{
    static const uint8_t good[] = { HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x07, 0x05, 0x01, 0x01, 'e', 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b };
    for (size_t n = 0; n < sizeof good; n++) {
        wasm_module *m = NULL;
        zvm_error err;
        int rc = wasm_decode(good, n, &m, &err);
        if (n == 8 || n == 14 || n == 18 || n == 25) {       /* ends between sections: fine */
            assert_int_equal(rc, n == 18 || n == 25 ? -1 : 0);
        } else {
            assert_int_equal(rc, -1);
        }
        wasm_module_free(m);
    }
    wasm_module_free(decode_ok(good, sizeof good));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_module),
        cmocka_unit_test(test_preamble),
        cmocka_unit_test(test_leb128),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_types_and_functions),
        cmocka_unit_test(test_imports),
        cmocka_unit_test(test_globals_and_const_exprs),
        cmocka_unit_test(test_exports_start_refs),
        cmocka_unit_test(test_element_forms),
        cmocka_unit_test(test_data_forms),
        cmocka_unit_test(test_name_section),
        cmocka_unit_test(test_counts_guarded),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
/* clang-format on */
