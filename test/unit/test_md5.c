/* test_md5.c — our MD5 (libzvm/channel/md5.c): RFC 1321's test suite (appendix A.5), input fed
 * in every way a channel feeds it (one call, byte by byte, pieces across block boundaries),
 * digests asked for mid-stream, and long random inputs checked against OpenSSL's MD5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "channel/md5.h"

static const char *hex(const uint8_t d[CHANNEL_MD5_SIZE])
{
    static char out[2 * CHANNEL_MD5_SIZE + 1];
    for (int i = 0; i < CHANNEL_MD5_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return out;
}

/* The digest of size bytes fed in pieces of at most step bytes. */
static const char *md5_in_steps(const void *data, size_t size, size_t step)
{
    channel_md5 m;
    channel_md5_init(&m);
    for (size_t at = 0; at < size; at += step)
        channel_md5_update(&m, (const uint8_t *)data + at, size - at < step ? size - at : step);
    uint8_t d[CHANNEL_MD5_SIZE];
    channel_md5_digest(&m, d);
    return hex(d);
}

/* RFC 1321, A.5 "Test suite". */
static const struct {
    const char *text, *md5;
} rfc1321[] = {
    { "", "d41d8cd98f00b204e9800998ecf8427e" },
    { "a", "0cc175b9c0f1b6a831c399e269772661" },
    { "abc", "900150983cd24fb0d6963f7d28e17f72" },
    { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
    { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
    { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f" },
    { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a" },
};

static void test_rfc1321_suite(void **state)
{
    for (size_t i = 0; i < sizeof rfc1321 / sizeof rfc1321[0]; i++) {
        size_t n = strlen(rfc1321[i].text);
        assert_string_equal(md5_in_steps(rfc1321[i].text, n, n ? n : 1), rfc1321[i].md5);
        assert_string_equal(md5_in_steps(rfc1321[i].text, n, 1), rfc1321[i].md5);
        assert_string_equal(md5_in_steps(rfc1321[i].text, n, 7), rfc1321[i].md5);
    }
}

/* The digest can be taken mid-stream (a channel's etag is asked for before the end) and the
 * stream goes on unchanged. */
static void test_digest_mid_stream(void **state)
{
    channel_md5 m;
    uint8_t d[CHANNEL_MD5_SIZE];
    channel_md5_init(&m);
    channel_md5_update(&m, "message ", 8);
    channel_md5_digest(&m, d);
    channel_md5_digest(&m, d);   /* twice: it must not change the state */
    channel_md5_update(&m, "digest", 6);
    channel_md5_digest(&m, d);
    assert_string_equal(hex(d), "f96b697d7cb7938d525a2f31aaf161d0");
}

static const char *openssl_md5(const void *data, size_t size)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_true(EVP_Digest(data, size, d, &len, EVP_md5(), NULL));
    assert_int_equal(len, CHANNEL_MD5_SIZE);
    return hex(d);
}

/* Every length around the padding's edges (55, 56, 63, 64 bytes mod 64) and long inputs in odd
 * pieces, against an implementation we did not write. */
static void test_matches_openssl(void **state)
{
    size_t size = 1 << 20;
    uint8_t *data = malloc(size);
    assert_non_null(data);
    uint32_t x = 12345;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    char want[2 * CHANNEL_MD5_SIZE + 1];
    for (size_t n = 0; n <= 300; n++) {
        strcpy(want, openssl_md5(data, n));
        assert_string_equal(md5_in_steps(data, n, n ? n : 1), want);
        assert_string_equal(md5_in_steps(data, n, 13), want);
    }
    static const size_t steps[] = { 1, 63, 64, 65, 4096, 100003, 1 << 20 };
    strcpy(want, openssl_md5(data, size));
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        assert_string_equal(md5_in_steps(data, size, steps[i]), want);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1321_suite),
        cmocka_unit_test(test_digest_mid_stream),
        cmocka_unit_test(test_matches_openssl),
    };
    return cmocka_run_group_tests_name("md5", tests, NULL, NULL);
}
