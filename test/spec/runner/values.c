/*
 * values.c — the values of a script: arguments, expected results, and how they print.
 *
 * wast2json writes every number as the decimal form of its bit pattern ("4294967295" for
 * i32 -1, "2143289344" for an f32 NaN), so parsing is an unsigned integer read and a
 * comparison is a comparison of bits, except for the two NaN classes the spec tests use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static int valtype_parse(const char *s, uint8_t *out)
{
    static const struct {
        const char *name;
        uint8_t type;
    } names[] = {
        { "i32", ZVM_I32 }, { "i64", ZVM_I64 },         { "f32", ZVM_F32 },
        { "f64", ZVM_F64 }, { "funcref", ZVM_FUNCREF }, { "externref", ZVM_EXTERNREF },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].type;
            return 0;
        }
    return -1;
}

zvm_val extern_ref(uint64_t n)
{
    return n + 1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

int value_parse(const json_t *obj, spec_value *out, char *why, size_t why_size)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    const char *value = json_string_value(json_object_get(obj, "value"));
    if (!type) {
        snprintf(why, why_size, "a value without a type");
        return -1;
    }
    if (valtype_parse(type, &out->type) != 0) {
        snprintf(why, why_size, "values of type %s are not supported by this runner", type);
        return 1;
    }
    if (!value) {
        snprintf(why, why_size, "a %s without a value", type);
        return -1;
    }
    out->kind = EXPECT_BITS;
    out->bits = 0;
    uint64_t n;
    switch (out->type) {
    case ZVM_F32:
    case ZVM_F64:
        if (strcmp(value, "nan:canonical") == 0) {
            out->kind = EXPECT_NAN_CANONICAL;
            return 0;
        }
        if (strcmp(value, "nan:arithmetic") == 0) {
            out->kind = EXPECT_NAN_ARITHMETIC;
            return 0;
        }
        /* fall through: the bit pattern */
    case ZVM_I32:
    case ZVM_I64: {
        uint64_t max = out->type == ZVM_I32 || out->type == ZVM_F32 ? UINT32_MAX : UINT64_MAX;
        if (parse_u64(value, max, &n) != 0) {
            snprintf(why, why_size, "bad %s value \"%s\"", type, value);
            return -1;
        }
        out->bits = n;
        return 0;
    }
    case ZVM_FUNCREF:
        /* wast2json writes "(ref.func)" — any non-null function — with an arbitrary index. */
        if (strcmp(value, "null") != 0)
            out->kind = EXPECT_NON_NULL;
        return 0;
    case ZVM_EXTERNREF:
        if (strcmp(value, "null") == 0)
            return 0;
        if (parse_u64(value, UINT64_MAX - 1, &n) != 0) {
            snprintf(why, why_size, "bad externref value \"%s\"", value);
            return -1;
        }
        out->bits = extern_ref(n);
        return 0;
    }
    return -1;
}

/* The sign bit, the exponent, and the quiet (top payload) bit of a float type. */
static void nan_masks(uint8_t type, uint64_t *exp_quiet, uint64_t *payload)
{
    if (type == ZVM_F32) {
        *exp_quiet = 0x7fc00000u;
        *payload = 0x007fffffu;
    } else {
        *exp_quiet = 0x7ff8000000000000u;
        *payload = 0x000fffffffffffffu;
    }
}

bool value_matches(const spec_value *expected, uint8_t type, zvm_val got)
{
    if (expected->type != type)
        return false;
    if (type == ZVM_I32 || type == ZVM_F32)
        got &= UINT32_MAX;
    uint64_t exp_quiet, payload;
    switch (expected->kind) {
    case EXPECT_BITS: return got == expected->bits;
    case EXPECT_NAN_CANONICAL: nan_masks(type, &exp_quiet, &payload); return (got & (exp_quiet | payload)) == exp_quiet;
    case EXPECT_NAN_ARITHMETIC: nan_masks(type, &exp_quiet, &payload); return (got & exp_quiet) == exp_quiet;
    case EXPECT_NON_NULL: return got != 0;
    }
    return false;
}

void value_format(uint8_t type, zvm_val bits, char *buf, size_t size)
{
    switch (type) {
    case ZVM_I32:
        snprintf(buf, size, "i32:%" PRId32 " (0x%08" PRIx32 ")", (int32_t)(uint32_t)bits, (uint32_t)bits);
        return;
    case ZVM_I64: snprintf(buf, size, "i64:%" PRId64 " (0x%016" PRIx64 ")", (int64_t)bits, bits); return;
    case ZVM_F32: {
        uint32_t b = (uint32_t)bits;
        float f;
        memcpy(&f, &b, sizeof f);
        snprintf(buf, size, "f32:%.9g (0x%08" PRIx32 ")", (double)f, b);
        return;
    }
    case ZVM_F64: {
        double d;
        memcpy(&d, &bits, sizeof d);
        snprintf(buf, size, "f64:%.17g (0x%016" PRIx64 ")", d, bits);
        return;
    }
    case ZVM_FUNCREF: snprintf(buf, size, bits ? "funcref:%llu" : "funcref:null", (unsigned long long)bits); return;
    case ZVM_EXTERNREF:
        if (bits)
            snprintf(buf, size, "externref:%" PRIu64, bits - 1);
        else
            snprintf(buf, size, "externref:null");
        return;
    default: snprintf(buf, size, "%s:0x%" PRIx64, zvm_valtype_name(type), bits);
    }
}

void expect_format(const spec_value *expected, char *buf, size_t size)
{
    switch (expected->kind) {
    case EXPECT_BITS: value_format(expected->type, expected->bits, buf, size); return;
    case EXPECT_NAN_CANONICAL: snprintf(buf, size, "%s:nan:canonical", zvm_valtype_name(expected->type)); return;
    case EXPECT_NAN_ARITHMETIC: snprintf(buf, size, "%s:nan:arithmetic", zvm_valtype_name(expected->type)); return;
    case EXPECT_NON_NULL: snprintf(buf, size, "funcref:non-null"); return;
    }
}
