/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The JSON wrapper: what the store and the ACME client read and write. */
#include <stdlib.h>
#include <string.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "md_json.h"
#include "md_util.h"
#include "md_test.h"

static md_json_t *parse(const char *text)
{
    md_json_t *j = NULL;

    ck_assert_int_eq(md_json_parse(&j, text, strlen(text), md_test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(parse_and_get_paths)
{
    md_json_t *j = parse("{\"ca\":{\"url\":\"https://ca.test/dir\",\"port\":443,"
                         "\"on\":true},\"name\":\"x.test\"}");
    md_json_t *ca;

    ck_assert_str_eq(md_json_gets(j, "ca", "url", NULL), "https://ca.test/dir");
    ck_assert_int_eq(md_json_getl(j, "ca", "port", NULL), 443);
    ck_assert_int_eq(md_json_getb(j, "ca", "on", NULL), 1);
    ck_assert_str_eq(md_json_gets(j, "name", NULL), "x.test");
    ck_assert(md_json_has(j, "ca", "url", NULL));
    ck_assert(md_json_is_object(j, "ca", NULL));
    ca = md_json_getj(j, "ca", NULL);
    ck_assert_ptr_nonnull(ca);
    ck_assert_str_eq(md_json_gets(ca, "url", NULL), "https://ca.test/dir");
}
END_TEST

/* Missing members read as absent, never as a crash or a wrong value. */
START_TEST(missing_paths_are_absent)
{
    md_json_t *j = parse("{\"a\":{\"b\":\"c\"},\"s\":\"text\"}");

    ck_assert_ptr_null(md_json_gets(j, "a", "x", NULL));
    ck_assert_ptr_null(md_json_gets(j, "nope", "b", NULL));
    ck_assert_ptr_null(md_json_gets(j, "s", "deeper", NULL));
    ck_assert_ptr_null(md_json_getj(j, "nope", NULL));
    ck_assert_int_eq(md_json_getl(j, "nope", NULL), 0);
    ck_assert_int_eq(md_json_getb(j, "nope", NULL), 0);
    ck_assert(!md_json_has(j, "a", "x", NULL));
    ck_assert_int_eq(md_json_getsa(j, md_test_pool, "nope", NULL)->nelts, 0);
}
END_TEST

START_TEST(set_creates_intermediate_objects)
{
    md_json_t *j = md_json_create(md_test_pool);

    md_json_sets("v", j, "a", "b", "c", NULL);
    md_json_setl(7, j, "a", "n", NULL);
    md_json_setb(1, j, "flag", NULL);
    ck_assert_str_eq(md_json_dump(j, MD_JSON_COMPACT, md_test_pool),
                     "{\"a\":{\"b\":{\"c\":\"v\"},\"n\":7},\"flag\":true}");
    md_json_sets("w", j, "a", "b", "c", NULL);
    ck_assert_str_eq(md_json_gets(j, "a", "b", "c", NULL), "w");
    md_json_del(j, "a", "b", NULL);
    ck_assert(!md_json_has(j, "a", "b", NULL));
    ck_assert_int_eq(md_json_getl(j, "a", "n", NULL), 7);
}
END_TEST

START_TEST(string_arrays)
{
    apr_array_header_t *in = apr_array_make(md_test_pool, 3, sizeof(const char *));
    apr_array_header_t *out;
    md_json_t *j = md_json_create(md_test_pool);

    APR_ARRAY_PUSH(in, const char *) = "x.test";
    APR_ARRAY_PUSH(in, const char *) = "*.x.test";
    md_json_setsa(in, j, "domains", NULL);
    ck_assert(md_json_is_array(j, "domains", NULL));
    out = md_json_getsa(j, md_test_pool, "domains", NULL);
    ck_assert_int_eq(out->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(out, 0, const char *), "x.test");
    ck_assert_str_eq(APR_ARRAY_IDX(out, 1, const char *), "*.x.test");
}
END_TEST

START_TEST(arrays_append_insert_bounded)
{
    md_json_t *arr = md_json_create_array(md_test_pool);
    md_json_t *a = parse("\"a\""), *b = parse("\"b\""), *c = parse("\"c\"");

    md_json_array_append(arr, a);
    md_json_array_append(arr, b);
    ck_assert_uint_eq(md_json_array_len(arr), 2);
    ck_assert_str_eq(md_json_str(md_json_array_at(arr, 1)), "b");
    /* newest first, oldest dropped beyond max_len: how histories are kept */
    md_json_array_insert_first(arr, c, 2);
    ck_assert_uint_eq(md_json_array_len(arr), 2);
    ck_assert_str_eq(md_json_str(md_json_array_at(arr, 0)), "c");
    ck_assert_str_eq(md_json_str(md_json_array_at(arr, 1)), "a");
    ck_assert_ptr_null(md_json_array_at(arr, 2));
}
END_TEST

START_TEST(copy_is_deep)
{
    md_json_t *j = parse("{\"a\":{\"b\":\"c\"}}");
    md_json_t *copy = md_json_copy(j, md_test_pool);

    md_json_sets("changed", copy, "a", "b", NULL);
    ck_assert_str_eq(md_json_gets(j, "a", "b", NULL), "c");
    ck_assert_str_eq(md_json_gets(copy, "a", "b", NULL), "changed");
}
END_TEST

START_TEST(invalid_json_is_an_error)
{
    static const char *const bad[] = { "", "{\"a\":", "{a:1}", "[1,2", "{\"a\":1}}" };
    md_json_t *j;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        j = md_json_create(md_test_pool);
        ck_assert_msg(md_json_parse(&j, bad[i], strlen(bad[i]), md_test_pool) != APR_SUCCESS,
                      "accepted '%s'", bad[i]);
        ck_assert_ptr_null(j);
    }
}
END_TEST

START_TEST(dump_escapes_and_reparses)
{
    md_json_t *j = md_json_create(md_test_pool), *back;
    const char *tricky = "quote\" backslash\\ newline\n unicode \xc3\xa4";
    const char *text;

    md_json_sets(tricky, j, "detail", NULL);
    text = md_json_dump(j, MD_JSON_INDENT, md_test_pool);
    back = parse(text);
    ck_assert_str_eq(md_json_gets(back, "detail", NULL), tricky);
}
END_TEST

START_TEST(writef_readf_round_trip)
{
    char tmpl[] = "/tmp/md-test-json-XXXXXX";
    const char *dir = mkdtemp(tmpl), *path;
    md_json_t *j = md_json_create(md_test_pool), *back;
    apr_finfo_t info;

    ck_assert_ptr_nonnull(dir);
    path = apr_pstrcat(md_test_pool, dir, "/md.json", NULL);
    md_json_sets("x.test", j, "name", NULL);
    md_json_setl(3, j, "store", "version", NULL);
    ck_assert_int_eq(md_json_writef(j, path, APR_FPROT_UREAD | APR_FPROT_UWRITE, md_test_pool),
                     APR_SUCCESS);

    /* secrets live in such files: the mode must be exactly 0600 */
    ck_assert_int_eq(apr_stat(&info, path, APR_FINFO_PROT, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(info.protection, APR_FPROT_UREAD | APR_FPROT_UWRITE);
    /* no temporary file is left behind */
    ck_assert_int_ne(apr_stat(&info, apr_pstrcat(md_test_pool, path, ".tmp", NULL),
                              APR_FINFO_TYPE, md_test_pool), APR_SUCCESS);

    ck_assert_int_eq(md_json_readf(&back, path, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(back, "name", NULL), "x.test");
    ck_assert_int_eq(md_json_getl(back, "store", "version", NULL), 3);

    /* overwriting replaces the content */
    md_json_sets("y.test", j, "name", NULL);
    ck_assert_int_eq(md_json_writef(j, path, APR_FPROT_UREAD | APR_FPROT_UWRITE, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_json_readf(&back, path, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(back, "name", NULL), "y.test");

    ck_assert_int_eq(md_dir_remove_all(dir, md_test_pool), APR_SUCCESS);
}
END_TEST

START_TEST(readf_missing_or_corrupt)
{
    char tmpl[] = "/tmp/md-test-json-XXXXXX";
    const char *dir = mkdtemp(tmpl), *path;
    md_json_t *j;

    ck_assert_ptr_nonnull(dir);
    path = apr_pstrcat(md_test_pool, dir, "/md.json", NULL);
    ck_assert(APR_STATUS_IS_ENOENT(md_json_readf(&j, path, md_test_pool)));
    /* a torn write leaves truncated JSON: reading it must fail, not half-succeed */
    ck_assert_int_eq(md_file_write_atomic(path, "{\"name\":\"x.te", 13, APR_FPROT_UREAD
                                          | APR_FPROT_UWRITE, md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_json_readf(&j, path, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_dir_remove_all(dir, md_test_pool), APR_SUCCESS);
}
END_TEST

Suite *md_test_json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, parse_and_get_paths);
    tcase_add_test(tc, missing_paths_are_absent);
    tcase_add_test(tc, set_creates_intermediate_objects);
    tcase_add_test(tc, string_arrays);
    tcase_add_test(tc, arrays_append_insert_bounded);
    tcase_add_test(tc, copy_is_deep);
    tcase_add_test(tc, invalid_json_is_an_error);
    tcase_add_test(tc, dump_escapes_and_reparses);
    tcase_add_test(tc, writef_readf_round_trip);
    tcase_add_test(tc, readf_missing_or_corrupt);
    suite_add_tcase(s, tc);
    return s;
}
