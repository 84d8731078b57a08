/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A real etcd member for the unit tests of md_etcd and md_farm: started on loopback on free
 * ports with its own data folder under /tmp, stopped and removed afterwards. */
#ifndef etcd_member_h
#define etcd_member_h

#include <sys/types.h>
#include <check.h>

#include "md_farm.h"

#define MD_TEST_ETCD_BIN "/usr/bin/etcd"

typedef struct {
    pid_t pid;
    char dir[64];
    char url[64];               /* http://127.0.0.1:PORT */
} md_test_etcd_t;

/* Is etcd installed? Suites without it say so and run no test. */
int md_test_etcd_available(void);
/* Start a member and wait until /health answers (fails the test after 20 s). */
void md_test_etcd_start(md_test_etcd_t *member);
void md_test_etcd_stop(md_test_etcd_t *member);
/* The member of the test case running (md_test_etcd_tcase starts and stops it). */
extern md_test_etcd_t md_test_etcd_member;
/* A test case around a member of its own (started before its first test, stopped after
 * its last; md_test_setup around each test), or NULL, said on stderr, without etcd. */
TCase *md_test_etcd_tcase(const char *suite, const char *name);
/* Run etcdctl against the member with up to 8 arguments; its stdout in buf (NUL-terminated,
 * *pgot bytes when pgot is given: values may hold NULs); its exit code. */
int md_test_etcdctl(const md_test_etcd_t *member, char *buf, size_t len, size_t *pgot,
                    const char *const *args);

/* A farm client of url (NULL: the member's) under prefix, as node, with lock TTL ttl
 * seconds (0: the module's) and the farm key key; 3 seconds per request. */
md_farm_t *md_test_farm(const char *url, const char *prefix, const char *node, long ttl,
                        const unsigned char *key);

#endif
