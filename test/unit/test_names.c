/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The name index: exact and wildcard look-ups, case-insensitive. */
#include "md_names.h"
#include "md_test.h"

START_TEST(names_exact_and_covering)
{
    md_names_t *names = md_names_make(md_test_pool);
    int a, b, c;
    const apr_array_header_t *found;

    md_names_add(names, "Www.Example.org", &a);
    md_names_add(names, "*.example.org", &b);
    md_names_add(names, "example.org", &c);
    found = md_names_exact(names, "www.EXAMPLE.org");
    ck_assert_ptr_nonnull(found);
    ck_assert_int_eq(found->nelts, 1);
    ck_assert_ptr_eq(md_names_covering(names, "www.example.org"), &a);   /* exact wins */
    ck_assert_ptr_eq(md_names_covering(names, "mail.example.org"), &b);  /* by the wildcard */
    ck_assert_ptr_eq(md_names_covering(names, "example.org"), &c);
    ck_assert_ptr_null(md_names_covering(names, "a.b.example.org"));     /* one label only */
    ck_assert_ptr_null(md_names_covering(names, "example.com"));
    /* the names under a parent, for a wildcard that covers them */
    found = md_names_children(names, "example.org");
    ck_assert_ptr_nonnull(found);
    ck_assert_int_eq(found->nelts, 1);                                   /* www, not "*" */
    ck_assert_ptr_null(md_names_parent("localhost"));
    ck_assert_str_eq(md_names_parent("*.x.test"), "x.test");
}
END_TEST

Suite *md_test_names_suite(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("index");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, names_exact_and_covering);
    suite_add_tcase(s, tc);
    return s;
}
