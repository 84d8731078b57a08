/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The file-system store on a temporary directory: layout, permissions, encryption at
 * rest, atomic replace, activation and its recovery, the archive bound, locks. */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_thread_proc.h>

#include "md_store.h"
#include "md_job.h"
#include "md_util.h"
#include "md_test.h"

static md_store_t *store;
static const char *base;

static void store_setup(void)
{
    char tmpl[] = "/tmp/md-unit-store-XXXXXX";

    md_test_setup();
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    base = apr_pstrcat(md_test_pool, tmpl, "/md", NULL);
    ck_assert_int_eq(md_store_open(&store, base, 1, md_test_pool), APR_SUCCESS);
}

static void store_teardown(void)
{
    md_dir_remove_all(apr_pstrndup(md_test_pool, base, strlen(base) - strlen("/md")), md_test_pool);
    md_test_teardown();
}

static int mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (int)(st.st_mode & 07777);
}

static const char *read_text(const char *path)
{
    const char *text = NULL;
    ck_assert_int_eq(md_file_read(&text, NULL, path, 0, md_test_pool), APR_SUCCESS);
    return text;
}

START_TEST(store_layout_and_key)
{
    const char *key = apr_pstrcat(md_test_pool, base, "/md_store.json", NULL);
    md_json_t *json;
    md_store_t *again;

    ck_assert_int_eq(mode_of(key), 0600);
    ck_assert_int_eq(md_json_readf(&json, key, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_json_getl(json, "store", "version", NULL), 3);
    ck_assert_uint_eq(strlen(md_json_gets(json, "key", NULL)), 64);  /* 48 bytes base64url */
    ck_assert_int_eq(mode_of(md_store_path(store, MD_SG_DOMAINS, NULL, NULL, md_test_pool)), 0700);
    ck_assert_int_eq(mode_of(md_store_path(store, MD_SG_STAGING, NULL, NULL, md_test_pool)), 0755);
    /* opened again, the same key decrypts what was encrypted before */
    ck_assert_int_eq(md_store_open(&again, base, 0, md_test_pool), APR_SUCCESS);
}
END_TEST

START_TEST(store_keys_encrypted_outside_domains)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_pkey_t *key, *loaded;
    md_store_t *again;
    const char *staged, *served;

    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_STAGING, "a.test", "privkey.pem", key, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_DOMAINS, "a.test", "privkey.pem", key, md_test_pool), APR_SUCCESS);
    staged = md_store_path(store, MD_SG_STAGING, "a.test", "privkey.pem", md_test_pool);
    served = md_store_path(store, MD_SG_DOMAINS, "a.test", "privkey.pem", md_test_pool);
    ck_assert_ptr_nonnull(strstr(read_text(staged), "ENCRYPTED PRIVATE KEY"));
    ck_assert_ptr_null(strstr(read_text(served), "ENCRYPTED"));
    ck_assert_int_eq(mode_of(staged), 0600);
    ck_assert_int_eq(mode_of(served), 0600);
    ck_assert_int_eq(md_store_open(&again, base, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_load_pkey(&loaded, again, MD_SG_STAGING, "a.test", "privkey.pem", md_test_pool), APR_SUCCESS);
    ck_assert(EVP_PKEY_eq(md_pkey_evp(key), md_pkey_evp(loaded)) == 1);
}
END_TEST

START_TEST(store_atomic_replace_and_corruption)
{
    md_json_t *json = md_json_create(md_test_pool), *back;
    const char *path = md_store_path(store, MD_SG_STAGING, "a.test", "job.json", md_test_pool);
    md_job_t *job;
    apr_finfo_t info;

    md_json_sets("a.test", json, "name", NULL);
    ck_assert_int_eq(md_store_save_json(store, MD_SG_STAGING, "a.test", "job.json", json, md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(apr_stat(&info, apr_pstrcat(md_test_pool, path, ".tmp", NULL), APR_FINFO_TYPE, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_load_json(&back, store, MD_SG_STAGING, "a.test", "job.json", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(back, "name", NULL), "a.test");
    /* a torn file is an error for the reader, and job state is rebuilt, not fatal */
    ck_assert_int_eq(md_file_write_atomic(path, "{\"name\": \"a.te", 14, 0644, md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_load_json(&back, store, MD_SG_STAGING, "a.test", "job.json", md_test_pool), APR_SUCCESS);
    job = md_job_load(store, MD_SG_STAGING, "a.test", md_test_pool);
    ck_assert_int_eq(job->errors, 0);
    ck_assert_uint_eq(md_json_array_len(job->log), 0);
}
END_TEST

/* Damaged files of each kind are reported once each, with their path, per group and
 * name; a missing file is no damage; what was done is added to the report. */
START_TEST(store_damage_reported)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    const char *job = md_store_path(store, MD_SG_STAGING, "a.test", "job.json", md_test_pool);
    const char *cert = md_store_path(store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool);
    const md_store_damage_t *d;
    apr_array_header_t *found, *chain;
    md_json_t *json;
    md_pkey_t *pkey;
    const char *pem;

    ck_assert_int_eq(md_store_load_json(&json, store, MD_SG_STAGING, "a.test", "job.json", md_test_pool), APR_ENOENT);
    ck_assert_int_eq(md_store_damage_get(store, MD_SG_STAGING, "a.test", md_test_pool)->nelts, 0);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_STAGING, "a.test", "job.json", "{\"name\": \"a", md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_load_json(&json, store, MD_SG_STAGING, "a.test", "job.json", md_test_pool), APR_SUCCESS);
    md_job_load(store, MD_SG_STAGING, "a.test", md_test_pool);    /* again: still one report */
    /* an encrypted key cut in half, a certificate file without certificate */
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_to_pem(&pem, pkey, NULL, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_STAGING, "a.test", "privkey.pem",
                                        apr_pstrndup(md_test_pool, pem, strlen(pem) / 2), md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_load_pkey(&pkey, store, MD_SG_STAGING, "a.test", "privkey.pem", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_DOMAINS, "a.test", "pubcert.pem", "-----BEGIN CERT", md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_load_chain(&chain, store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);

    found = md_store_damage_get(store, MD_SG_STAGING, "a.test", md_test_pool);
    ck_assert_int_eq(found->nelts, 2);
    d = APR_ARRAY_IDX(found, 0, const md_store_damage_t *);
    ck_assert_str_eq(d->path, job);
    ck_assert_ptr_nonnull(strstr(d->problem, "not valid JSON"));
    md_store_damage_note(store, MD_SG_STAGING, "a.test", "job.json", "removed", md_test_pool);
    d = APR_ARRAY_IDX(md_store_damage_get(store, MD_SG_STAGING, "a.test", md_test_pool), 0,
                      const md_store_damage_t *);
    ck_assert_ptr_nonnull(strstr(d->problem, "; removed"));
    found = md_store_damage_get(store, MD_SG_DOMAINS, "a.test", md_test_pool);
    ck_assert_int_eq(found->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(found, 0, const md_store_damage_t *)->path, cert);
    ck_assert_int_eq(md_store_damage_get(store, MD_SG_STAGING, "b.test", md_test_pool)->nelts, 0);
}
END_TEST

static void stage_set(const char *name, const char *marker)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_pkey_t *key;

    ck_assert_int_eq(md_pkey_gen(&key, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_STAGING, name, "privkey.pem", key, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_STAGING, name, "pubcert.pem", marker, md_test_pool), APR_SUCCESS);
}

static apr_array_header_t *set_files(void)
{
    apr_array_header_t *files = apr_array_make(md_test_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = "privkey.pem";
    APR_ARRAY_PUSH(files, const char *) = "pubcert.pem";
    return files;
}

START_TEST(store_activation_archives_and_prunes)
{
    const char *text;
    int i;

    for (i = 1; i <= 8; ++i) {
        stage_set("a.test", apr_psprintf(md_test_pool, "set %d", i));
        ck_assert_int_eq(md_store_activate(store, "a.test", set_files(), NULL, NULL, md_test_pool), APR_SUCCESS);
        ck_assert_int_eq(md_store_archive_prune(store, "a.test", 3, md_test_pool), APR_SUCCESS);
    }
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "set 8");
    ck_assert_ptr_null(strstr(read_text(md_store_path(store, MD_SG_DOMAINS, "a.test", "privkey.pem", md_test_pool)), "ENCRYPTED"));
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    /* the archive keeps the 3 newest replaced sets, numbered 1..3, oldest first */
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_ARCHIVE, "a.test.1", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "set 5");
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_ARCHIVE, "a.test.3", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "set 7");
    ck_assert_int_ne(md_store_exists(store, MD_SG_ARCHIVE, "a.test.4", "pubcert.pem", md_test_pool), APR_SUCCESS);
}
END_TEST

/* The activation's check reads the copy in tmp/ (what goes live), not staging/, which
 * the children may change after any earlier look; a refusal activates nothing. */
static apr_status_t check_tmp_copy(void *baton, md_store_group_t group, apr_pool_t *p)
{
    const char *text = NULL;

    *(md_store_group_t *)baton = group;
    /* the children change staging/ after the copy: the copy is what counts */
    md_store_save_text(store, MD_SG_STAGING, "a.test", "pubcert.pem", "swapped", p);
    md_store_load_text(&text, store, group, "a.test", "pubcert.pem", p);
    return (text && !strcmp(text, "set 2")) ? APR_EGENERAL : APR_SUCCESS;
}

START_TEST(store_activation_checks_the_copy)
{
    md_store_group_t seen = MD_SG_COUNT;
    const char *text;

    stage_set("a.test", "set 1");
    ck_assert_int_eq(md_store_activate(store, "a.test", set_files(), check_tmp_copy, &seen,
                                       md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(seen, MD_SG_TMP);
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "set 1");
    /* refused: the served set stays, nothing half-done is left in tmp/ */
    stage_set("a.test", "set 2");
    ck_assert_int_eq(md_store_activate(store, "a.test", set_files(), check_tmp_copy, &seen,
                                       md_test_pool), APR_EGENERAL);
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "set 1");
    ck_assert(!md_store_dir_exists(store, MD_SG_TMP, "a.test", md_test_pool));
}
END_TEST

/* A crash after tmp/<name> was complete but before it became domains/<name>. */
START_TEST(store_recover_interrupted_activation)
{
    const char *text;

    stage_set("a.test", "old");
    ck_assert_int_eq(md_store_activate(store, "a.test", set_files(), NULL, NULL, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_TMP, "a.test", "pubcert.pem", "new", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_TMP, "a.test", ".complete", "", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_recover(store, "a.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "new");
    /* an incomplete tmp is thrown away and the served set stays */
    ck_assert_int_eq(md_store_save_text(store, MD_SG_TMP, "a.test", "pubcert.pem", "half", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_recover(store, "a.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "new");
    /* a crash after the new set was in place but before staging was removed */
    stage_set("a.test", "newer");
    ck_assert_int_eq(md_store_save_text(store, MD_SG_DOMAINS, "a.test", ".complete", "", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_recover(store, "a.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_exists(store, MD_SG_STAGING, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(md_store_exists(store, MD_SG_DOMAINS, "a.test", ".complete", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_load_text(&text, store, MD_SG_DOMAINS, "a.test", "pubcert.pem", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "new");
}
END_TEST

/* Another process holding an MD's lock keeps us out; its death releases the lock. */
START_TEST(store_md_lock_between_processes)
{
    md_store_lock_t *lock;
    int fds[2], status;
    char c;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        apr_pool_t *p;
        apr_pool_create(&p, NULL);
        if (md_store_lock_md(&lock, store, "a.test", 0, p) != APR_SUCCESS) _exit(2);
        if (write(fds[1], "x", 1) != 1) _exit(3);
        sleep(30);
        _exit(0);
    }
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    ck_assert_int_eq(md_store_lock_md(&lock, store, "a.test", apr_time_from_msec(300), md_test_pool), APR_TIMEUP);
    ck_assert_int_eq(md_store_lock_md(&lock, store, "b.test", 0, md_test_pool), APR_SUCCESS);
    md_store_unlock(lock);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ck_assert_int_eq(md_store_lock_md(&lock, store, "a.test", apr_time_from_sec(2), md_test_pool), APR_SUCCESS);
    md_store_unlock(lock);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static void owner_of(const char *path, int *puid, int *pgid)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    *puid = (int)st.st_uid;
    *pgid = (int)st.st_gid;
}

/* MDStoreOwner: another owner than the children's user makes the children's parts
 * group-writable (2775/0664/0660), root's parts stay 0700/0600; back to the default,
 * the modes and owners are put back at the next start. */
START_TEST(store_owner_group_write)
{
    const char *staging = md_store_path(store, MD_SG_STAGING, NULL, NULL, md_test_pool);
    const char *sfile = md_store_path(store, MD_SG_STAGING, "a.test", "md.json", md_test_pool);
    const char *skey = md_store_path(store, MD_SG_STAGING, "a.test", "privkey.pem", md_test_pool);
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_store_lock_t *lock;
    md_pkey_t *pkey;
    int uid, gid;

    if (geteuid() != 0) return;   /* owners change only as root */
    md_store_set_owner(store, 1, 2, 1);
    ck_assert_int_eq(md_store_prepare_children(store, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(mode_of(staging), 02775);
    owner_of(staging, &uid, &gid);
    ck_assert_int_eq(uid, 1);
    ck_assert_int_eq(gid, 2);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_STAGING, "a.test", "md.json", "{}", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_STAGING, "a.test", "privkey.pem", pkey, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(mode_of(md_store_path(store, MD_SG_STAGING, "a.test", NULL, md_test_pool)), 02775);
    ck_assert_int_eq(mode_of(sfile), 0664);
    ck_assert_int_eq(mode_of(skey), 0660);
    owner_of(skey, &uid, &gid);
    ck_assert_int_eq(uid, 1);
    ck_assert_int_eq(md_store_lock_md(&lock, store, "a.test", 0, md_test_pool), APR_SUCCESS);
    md_store_unlock(lock);
    ck_assert_int_eq(mode_of(md_store_path(store, MD_SG_LOCKS, "a.test.lock", NULL, md_test_pool)), 0660);
    /* root's parts are untouched by the group */
    ck_assert_int_eq(md_store_save_pkey(store, MD_SG_TMP, "a.test", "privkey.pem", pkey, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(mode_of(md_store_path(store, MD_SG_TMP, "a.test", "privkey.pem", md_test_pool)), 0600);
    ck_assert_int_eq(mode_of(md_store_path(store, MD_SG_DOMAINS, NULL, NULL, md_test_pool)), 0700);
    /* the next start without MDStoreOwner: everything back to the default owner */
    md_store_set_owner(store, 33, 33, 0);
    ck_assert_int_eq(md_store_prepare_children(store, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(mode_of(staging), 0755);
    ck_assert_int_eq(mode_of(sfile), 0644);
    ck_assert_int_eq(mode_of(skey), 0600);
    owner_of(skey, &uid, &gid);
    ck_assert_int_eq(uid, 33);
    ck_assert_int_eq(gid, 33);
}
END_TEST

/* Links the children could put into their parts are never followed by root's writes:
 * not a "<file>.tmp" link, not a lock file link (replaced by a lock file of the store's
 * own), not a directory link on chown. */
START_TEST(store_links_not_followed)
{
    const char *target = apr_pstrcat(md_test_pool, base, "/target", NULL);
    const char *tmp = md_store_path(store, MD_SG_STAGING, "a.test", "job.json.tmp", md_test_pool);
    const char *lock_path = md_store_path(store, MD_SG_LOCKS, "b.test.lock", NULL, md_test_pool);
    md_store_lock_t *lock;
    struct stat st;

    ck_assert_int_eq(md_file_write_atomic(target, "keep", 4, APR_FPROT_UREAD | APR_FPROT_UWRITE, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_STAGING, "a.test", "md.json", "{}", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(symlink(target, tmp), 0);
    ck_assert_int_eq(md_store_save_text(store, MD_SG_STAGING, "a.test", "job.json", "{}", md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(read_text(target), "keep");
    ck_assert_str_eq(read_text(md_store_path(store, MD_SG_STAGING, "a.test", "job.json", md_test_pool)), "{}");
    md_store_set_owner(store, 1, 2, 1);
    ck_assert_int_eq(symlink(target, lock_path), 0);
    ck_assert_int_eq(md_store_lock_md(&lock, store, "b.test", 0, md_test_pool), APR_SUCCESS);
    md_store_unlock(lock);
    ck_assert_int_eq(lstat(lock_path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_str_eq(read_text(target), "keep");
    ck_assert_int_eq(mode_of(target), 0600);
    if (geteuid() == 0) {
        int uid, gid;
        owner_of(target, &uid, &gid);
        ck_assert_int_eq(uid, 0);
    }
}
END_TEST

Suite *md_test_store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("fs");

    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, store_layout_and_key);
    tcase_add_test(tc, store_keys_encrypted_outside_domains);
    tcase_add_test(tc, store_atomic_replace_and_corruption);
    tcase_add_test(tc, store_activation_archives_and_prunes);
    tcase_add_test(tc, store_activation_checks_the_copy);
    tcase_add_test(tc, store_recover_interrupted_activation);
    tcase_add_test(tc, store_md_lock_between_processes);
    tcase_add_test(tc, store_owner_group_write);
    tcase_add_test(tc, store_damage_reported);
    tcase_add_test(tc, store_links_not_followed);
    suite_add_tcase(s, tc);
    return s;
}
