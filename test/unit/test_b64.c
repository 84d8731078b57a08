/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* base64url as JWS and ACME use it: RFC 4648 section 5, no padding on output. */
#include <string.h>

#include "md_util.h"
#include "md_test.h"

/* RFC 4648 section 10 test vectors, with the padding removed. */
static const struct {
    const char *plain;
    const char *encoded;
} rfc4648[] = {
    { "", "" },
    { "f", "Zg" },
    { "fo", "Zm8" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg" },
    { "fooba", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy" },
};

#define RFC4648_COUNT ((int)(sizeof(rfc4648) / sizeof(rfc4648[0])))

START_TEST(encode_rfc4648_vectors)
{
    const char *plain = rfc4648[_i].plain;

    ck_assert_str_eq(md_b64url_encode(plain, strlen(plain), md_test_pool), rfc4648[_i].encoded);
}
END_TEST

START_TEST(decode_rfc4648_vectors)
{
    const unsigned char *data;
    apr_size_t len;

    ck_assert_int_eq(md_b64url_decode(&data, &len, rfc4648[_i].encoded, md_test_pool),
                     APR_SUCCESS);
    ck_assert_uint_eq(len, strlen(rfc4648[_i].plain));
    ck_assert_mem_eq(data, rfc4648[_i].plain, len);
}
END_TEST

/* The URL-safe alphabet: '-' and '_' where standard base64 has '+' and '/'. */
START_TEST(encode_uses_url_alphabet)
{
    static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
    static const unsigned char two[] = { 0xfb, 0xef };

    ck_assert_str_eq(md_b64url_encode(bytes, sizeof(bytes), md_test_pool), "-_-_");
    ck_assert_str_eq(md_b64url_encode(two, sizeof(two), md_test_pool), "--8");
}
END_TEST

START_TEST(round_trip_all_byte_values)
{
    unsigned char bytes[256];
    const unsigned char *back;
    apr_size_t len, n;
    const char *enc;
    int i;

    for (i = 0; i < 256; ++i) bytes[i] = (unsigned char)i;
    /* every length mod 3, so each tail case is covered */
    for (n = 253; n <= 256; ++n) {
        enc = md_b64url_encode(bytes, n, md_test_pool);
        ck_assert_ptr_null(strpbrk(enc, "+/="));
        ck_assert_int_eq(md_b64url_decode(&back, &len, enc, md_test_pool), APR_SUCCESS);
        ck_assert_uint_eq(len, n);
        ck_assert_mem_eq(back, bytes, n);
    }
}
END_TEST

START_TEST(decode_accepts_padding)
{
    const unsigned char *data;
    apr_size_t len;

    ck_assert_int_eq(md_b64url_decode(&data, &len, "Zg==", md_test_pool), APR_SUCCESS);
    ck_assert_uint_eq(len, 1);
    ck_assert_mem_eq(data, "f", 1);
    ck_assert_int_eq(md_b64url_decode(&data, &len, "Zm8=", md_test_pool), APR_SUCCESS);
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(data, "fo", 2);
}
END_TEST

/* Standard base64 characters, whitespace, garbage and impossible lengths are refused. */
START_TEST(decode_rejects_invalid)
{
    static const char *const bad[] = { "Zm+v", "Zm/v", "Zm9v!", "Zm9 v", "Z", "Zm9vY", "Zm=8" };
    const unsigned char *data;
    apr_size_t len;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_msg(md_b64url_decode(&data, &len, bad[i], md_test_pool) != APR_SUCCESS,
                      "accepted invalid base64url '%s'", bad[i]);
    }
}
END_TEST

Suite *md_test_b64_suite(void)
{
    Suite *s = suite_create("b64url");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, encode_rfc4648_vectors, 0, RFC4648_COUNT);
    tcase_add_loop_test(tc, decode_rfc4648_vectors, 0, RFC4648_COUNT);
    tcase_add_test(tc, encode_uses_url_alphabet);
    tcase_add_test(tc, round_trip_all_byte_values);
    tcase_add_test(tc, decode_accepts_padding);
    tcase_add_test(tc, decode_rejects_invalid);
    suite_add_tcase(s, tc);
    return s;
}
