/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* md_fs, the layer every store path goes through, against what an unprivileged writer
 * of a folder can put there: links to files and folders elsewhere, FIFOs, hard links,
 * and a folder swapped for a link after it was opened. The "victim" files live outside
 * the folder under test; each test asserts they are untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md_fs.h"
#include "md_util.h"
#include "md_test.h"

static const char *top;      /* the test's scratch folder */
static const char *work;     /* top/work: the folder "the children" write */
static const char *victim;   /* top/victim: a folder of root's with a file in it */
static md_fs_dir_t *wdir;

static const char *at(const char *dir, const char *name)
{
    return apr_pstrcat(md_test_pool, dir, "/", name, NULL);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static const char *get(const char *path)
{
    const char *text = NULL;

    ck_assert_int_eq(md_fs_read_path(&text, NULL, path, 0, md_test_pool), APR_SUCCESS);
    return text;
}

static void fs_setup(void)
{
    char tmpl[] = "/tmp/md-unit-fs-XXXXXX";

    md_test_setup();
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    top = apr_pstrdup(md_test_pool, tmpl);
    work = at(top, "work");
    victim = at(top, "victim");
    ck_assert_int_eq(mkdir(work, 0755), 0);
    ck_assert_int_eq(mkdir(victim, 0700), 0);
    put(at(victim, "secret"), "root's");
    ck_assert_int_eq(chmod(at(victim, "secret"), 0600), 0);
    ck_assert_int_eq(md_fs_dir_open(&wdir, work, md_test_pool), APR_SUCCESS);
}

static void fs_teardown(void)
{
    md_dir_remove_all(top, md_test_pool);
    md_test_teardown();
}

static void victim_intact(void)
{
    struct stat st;

    ck_assert_int_eq(lstat(at(victim, "secret"), &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq((int)(st.st_mode & 07777), 0600);
    ck_assert_int_eq((int)st.st_nlink, 1);
    ck_assert_str_eq(get(at(victim, "secret")), "root's");
}

static const md_fs_owner_t OWNER_0644 = { -1, -1, APR_FPROT_UREAD | APR_FPROT_UWRITE
                                          | APR_FPROT_GREAD | APR_FPROT_WREAD };

/* A link in the place of a file: not read, not written through, not chmod'ed. */
START_TEST(fs_links_not_followed)
{
    const char *text;
    md_fs_dir_t *sub;

    ck_assert_int_eq(symlink(at(victim, "secret"), at(work, "job.json")), 0);
    ck_assert_int_eq(md_fs_read(&text, NULL, wdir, "job.json", 0, md_test_pool), APR_EINVAL);
    /* the temporary file a write makes, planted as a link */
    ck_assert_int_eq(symlink(at(victim, "secret"), at(work, "md.json.tmp")), 0);
    ck_assert_int_eq(md_fs_write(wdir, "md.json", "{}", 2, &OWNER_0644, 1, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(get(at(work, "md.json")), "{}");
    /* the file itself a link: the link is replaced, its target stays */
    ck_assert_int_eq(md_fs_write(wdir, "job.json", "{}", 2, &OWNER_0644, 1, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(get(at(work, "job.json")), "{}");
    /* a folder link is no folder */
    ck_assert_int_eq(symlink(victim, at(work, "a.test")), 0);
    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "a.test", &OWNER_0644, md_test_pool), APR_ENOTDIR);
    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "a.test", NULL, md_test_pool), APR_ENOTDIR);
    victim_intact();
}
END_TEST

/* A FIFO never holds the caller: reads refuse it at once, appends and locks replace it. */
START_TEST(fs_fifo_never_waited_on)
{
    const char *text;
    int fd;

    ck_assert_int_eq(mkfifo(at(work, "status.json"), 0666), 0);
    ck_assert_int_eq(md_fs_read(&text, NULL, wdir, "status.json", 0, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_fs_read_path(&text, NULL, at(work, "status.json"), 0, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(mkfifo(at(work, "x.lock"), 0666), 0);
    ck_assert_int_eq(md_fs_open_lockfile(&fd, wdir, "x.lock", &OWNER_0644), APR_SUCCESS);
    close(fd);
    ck_assert_int_eq(mkfifo(at(work, ".renew-requests"), 0666), 0);
    ck_assert_int_eq(md_fs_append(wdir, ".renew-requests", "a.test\n", &OWNER_0644, md_test_pool),
                     APR_SUCCESS);
    ck_assert_str_eq(get(at(work, ".renew-requests")), "a.test\n");
}
END_TEST

/* A hard link to a file elsewhere: never written into, never given a new mode. */
START_TEST(fs_hard_links_left_alone)
{
    int fd;

    if (link(at(victim, "secret"), at(work, "x.lock")) != 0) return;   /* another fs */
    ck_assert_int_eq(md_fs_open_lockfile(&fd, wdir, "x.lock", &OWNER_0644), APR_SUCCESS);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    close(fd);
    victim_intact();
    ck_assert_int_eq(link(at(victim, "secret"), at(work, "log")), 0);
    ck_assert_int_eq(md_fs_append(wdir, "log", "more", &OWNER_0644, md_test_pool), APR_SUCCESS);
    victim_intact();
}
END_TEST

/* Removing a tree removes links, never what they point to. */
START_TEST(fs_remove_tree_stays_inside)
{
    md_fs_dir_t *sub;

    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "a.test", &OWNER_0644, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_fs_write(sub, "md.json", "{}", 2, &OWNER_0644, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(symlink(victim, at(at(work, "a.test"), "dirlink")), 0);
    ck_assert_int_eq(symlink(at(victim, "secret"), at(at(work, "a.test"), "filelink")), 0);
    ck_assert_int_eq(mkfifo(at(at(work, "a.test"), "privkey.pem"), 0666), 0);
    ck_assert_int_eq(md_fs_remove_tree(wdir, "a.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(access(at(work, "a.test"), F_OK), 0);
    victim_intact();
    /* the folder itself a link to root's folder: the link goes, the folder stays */
    ck_assert_int_eq(symlink(victim, at(work, "b.test")), 0);
    ck_assert_int_eq(md_fs_remove_tree(wdir, "b.test", md_test_pool), APR_SUCCESS);
    ck_assert_int_ne(access(at(work, "b.test"), F_OK), 0);
    victim_intact();
    ck_assert_int_eq(md_fs_remove_tree(wdir, "missing", md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_fs_remove_tree(wdir, "..", md_test_pool), APR_EINVAL);
}
END_TEST

/* A folder swapped for a link after it was opened: the handle stays on the folder it
 * opened, what is written goes there, not where the link points. */
START_TEST(fs_swapped_parent)
{
    md_fs_dir_t *sub;

    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "a.test", &OWNER_0644, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(rename(at(work, "a.test"), at(work, "a.old")), 0);
    ck_assert_int_eq(symlink(victim, at(work, "a.test")), 0);
    ck_assert_int_eq(md_fs_write(sub, "secret", "overwritten", 11, &OWNER_0644, 1, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(md_fs_remove(sub, "secret"), APR_SUCCESS);
    ck_assert_int_eq(md_fs_write(sub, "md.json", "{}", 2, &OWNER_0644, 1, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(get(at(at(work, "a.old"), "md.json")), "{}");
    victim_intact();
    /* and a fresh walk from the top refuses the link */
    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "a.test", NULL, md_test_pool), APR_ENOTDIR);
}
END_TEST

typedef struct {
    ino_t victim_ino;
    int visited, victim_seen, dirs;
} walk_seen_t;

static void walk_visit(void *baton, int fd, int is_dir, apr_fileperms_t perms)
{
    walk_seen_t *seen = baton;
    struct stat st;

    (void)perms;
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert(is_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
    if (st.st_ino == seen->victim_ino) seen->victim_seen = 1;
    seen->visited++;
    seen->dirs += is_dir;
}

/* The walk that repairs owners visits real folders and plain files only. */
START_TEST(fs_walk_sees_only_its_own)
{
    walk_seen_t seen;
    struct stat st;
    md_fs_dir_t *sub;

    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(stat(at(victim, "secret"), &st), 0);
    seen.victim_ino = st.st_ino;
    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "a.test", &OWNER_0644, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(md_fs_write(sub, "md.json", "{}", 2, &OWNER_0644, 0, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(symlink(victim, at(work, "dirlink")), 0);
    ck_assert_int_eq(symlink(at(victim, "secret"), at(work, "filelink")), 0);
    ck_assert_int_eq(mkfifo(at(work, "fifo"), 0666), 0);
    if (link(at(victim, "secret"), at(work, "hardlink")) != 0) {
        /* another file system: the other cases still run */
    }
    md_fs_walk(wdir, 8, walk_visit, &seen, md_test_pool);
    ck_assert_int_eq(seen.victim_seen, 0);
    ck_assert_int_eq(seen.dirs, 2);       /* work and work/a.test */
    ck_assert_int_eq(seen.visited, 3);    /* and work/a.test/md.json */
}
END_TEST

/* Names are single components. */
START_TEST(fs_names)
{
    const char *text;

    ck_assert(md_fs_name_ok("a.test"));
    ck_assert(!md_fs_name_ok(""));
    ck_assert(!md_fs_name_ok("."));
    ck_assert(!md_fs_name_ok(".."));
    ck_assert(!md_fs_name_ok("a/b"));
    ck_assert(!md_fs_name_ok(NULL));
    ck_assert_int_eq(md_fs_read(&text, NULL, wdir, "../victim/secret", 0, md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_fs_write(wdir, "../x", "x", 1, &OWNER_0644, 0, md_test_pool), APR_EINVAL);
}
END_TEST

/* A folder its maker left as mkdirat made it (killed before the mode was set) gets its
 * mode from the next one who opens it to write; a folder of the mode asked for, or
 * another mode someone chose, is left alone. */
START_TEST(fs_interrupted_make_finished)
{
    md_fs_owner_t dir_0755 = { -1, -1, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE
                               | APR_FPROT_GREAD | APR_FPROT_GEXECUTE | APR_FPROT_WREAD
                               | APR_FPROT_WEXECUTE };
    md_fs_dir_t *sub;
    struct stat st;

    ck_assert_int_eq(mkdir(at(work, "half.test"), 0700), 0);
    ck_assert_int_eq(chmod(at(work, "half.test"), 0700), 0);
    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "half.test", NULL, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(stat(at(work, "half.test"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0700);      /* a reader changes nothing */
    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "half.test", &dir_0755, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(stat(at(work, "half.test"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0755);
    ck_assert_int_eq(mkdir(at(work, "chosen.test"), 0750), 0);
    ck_assert_int_eq(chmod(at(work, "chosen.test"), 0750), 0);
    ck_assert_int_eq(md_fs_dir_sub(&sub, wdir, "chosen.test", &dir_0755, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(stat(at(work, "chosen.test"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0750);
}
END_TEST

/* Modes are exact, whatever the umask; a write replaces, a read sees all of it. */
START_TEST(fs_write_read)
{
    const md_fs_owner_t secret = { -1, -1, APR_FPROT_UREAD | APR_FPROT_UWRITE };
    const char *text;
    apr_size_t len;
    struct stat st;
    mode_t old = umask(0077);

    ck_assert_int_eq(md_fs_write(wdir, "pub", "abc", 3, &OWNER_0644, 1, md_test_pool), APR_SUCCESS);
    umask(old);
    ck_assert_int_eq(stat(at(work, "pub"), &st), 0);
    ck_assert_int_eq((int)(st.st_mode & 07777), 0644);
    ck_assert_int_eq(md_fs_write(wdir, "key", "k", 1, &secret, 1, md_test_pool), APR_SUCCESS);
    ck_assert_int_eq(stat(at(work, "key"), &st), 0);
    ck_assert_int_eq((int)(st.st_mode & 07777), 0600);
    ck_assert_int_eq(md_fs_read(&text, &len, wdir, "pub", 0, md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(text, "abc");
    ck_assert_int_eq(md_fs_read(&text, &len, wdir, "pub", 2, md_test_pool), APR_ENOSPC);
    ck_assert_int_eq(access(at(work, "pub.tmp"), F_OK), -1);
}
END_TEST

Suite *md_test_fs_suite(void)
{
    Suite *s = suite_create("fs");
    TCase *tc = tcase_create("hostile-folder");

    tcase_add_checked_fixture(tc, fs_setup, fs_teardown);
    tcase_add_test(tc, fs_links_not_followed);
    tcase_add_test(tc, fs_fifo_never_waited_on);
    tcase_add_test(tc, fs_hard_links_left_alone);
    tcase_add_test(tc, fs_remove_tree_stays_inside);
    tcase_add_test(tc, fs_swapped_parent);
    tcase_add_test(tc, fs_walk_sees_only_its_own);
    tcase_add_test(tc, fs_names);
    tcase_add_test(tc, fs_write_read);
    tcase_add_test(tc, fs_interrupted_make_finished);
    suite_add_tcase(s, tc);
    return s;
}
