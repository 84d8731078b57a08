/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* A real etcd member on loopback for unit tests (see etcd_member.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "md_http.h"
#include "md_util.h"
#include "etcd_member.h"
#include "md_test.h"

md_test_etcd_t md_test_etcd_member;

int md_test_etcd_available(void)
{
    return access(MD_TEST_ETCD_BIN, X_OK) == 0;
}

/* A port nobody listens on now (the kernel's pick for an ephemeral bind). */
static int free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static int healthy(const char *url, apr_pool_t *p)
{
    md_http_config_t hc;
    md_http_t *http;
    md_http_request_t req;
    md_http_response_t *resp;

    memset(&hc, 0, sizeof(hc));
    hc.direct = 1;
    hc.timeout = hc.connect_timeout = apr_time_from_sec(2);
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = apr_pstrcat(p, url, "/health", NULL);
    if (md_http_create(&http, &hc, p) != APR_SUCCESS) return 0;
    if (md_http_perform(&resp, http, &req, p) != APR_SUCCESS) return 0;
    return resp->status == 200 && strstr(resp->body, "true") != NULL;
}

static void exec_member(md_test_etcd_t *m, int cport, int pport)
{
    char curl[64], purl[64], cluster[96];
    int fd = open("/dev/null", O_WRONLY);

    snprintf(curl, sizeof(curl), "http://127.0.0.1:%d", cport);
    snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", pport);
    snprintf(cluster, sizeof(cluster), "u1=%s", purl);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    execl(MD_TEST_ETCD_BIN, "etcd", "--name", "u1", "--data-dir", m->dir,
          "--listen-client-urls", curl, "--advertise-client-urls", curl,
          "--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
          "--initial-cluster", cluster, (char *)NULL);
    _exit(127);
}

void md_test_etcd_start(md_test_etcd_t *m)
{
    apr_pool_t *p;
    int cport = free_port(), pport = free_port(), i;

    snprintf(m->dir, sizeof(m->dir), "/tmp/md-unit-etcd-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(m->dir));
    snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%d", cport);
    m->pid = fork();
    ck_assert_int_ge(m->pid, 0);
    if (m->pid == 0) exec_member(m, cport, pport);
    apr_pool_create(&p, NULL);
    for (i = 0; i < 200 && !healthy(m->url, p); ++i) usleep(100 * 1000);
    apr_pool_destroy(p);
    ck_assert_msg(i < 200, "etcd did not become healthy at %s", m->url);
}

void md_test_etcd_stop(md_test_etcd_t *m)
{
    apr_pool_t *p;

    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
    apr_pool_create(&p, NULL);
    md_dir_remove_all(m->dir, p);
    apr_pool_destroy(p);
}

static void exec_ctl(const md_test_etcd_t *m, int out, const char *const *args)
{
    const char *argv[12];
    int n = 0, i, quiet;

    argv[n++] = "etcdctl";
    argv[n++] = "--endpoints";
    argv[n++] = m->url;
    for (i = 0; args[i] && n < 11; ++i) argv[n++] = args[i];
    argv[n] = NULL;
    dup2(out, 1);
    quiet = open("/dev/null", O_WRONLY);
    if (quiet >= 0) dup2(quiet, 2);
    setenv("ETCDCTL_API", "3", 1);
    execv("/usr/bin/etcdctl", (char *const *)argv);
    _exit(127);
}

int md_test_etcdctl(const md_test_etcd_t *m, char *buf, size_t len, size_t *pgot,
                    const char *const *args)
{
    int fds[2], status = 0;
    size_t got = 0, take;
    ssize_t n;
    char chunk[4096];
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        exec_ctl(m, fds[1], args);
    }
    close(fds[1]);
    /* read to the end (what does not fit is dropped) so that etcdctl never blocks */
    for (;;) {
        n = read(fds[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        take = (size_t)n < len - 1 - got ? (size_t)n : len - 1 - got;
        memcpy(buf + got, chunk, take);
        got += take;
    }
    buf[got] = '\0';
    if (pgot) *pgot = got;
    close(fds[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void member_start(void)
{
    md_test_etcd_start(&md_test_etcd_member);
}

static void member_stop(void)
{
    md_test_etcd_stop(&md_test_etcd_member);
}

TCase *md_test_etcd_tcase(const char *suite, const char *name)
{
    TCase *tc;

    if (!md_test_etcd_available()) {
        fprintf(stderr, "suite %s: the tests against etcd not run, %s is not installed "
                "(apt-get install etcd-server)\n", suite, MD_TEST_ETCD_BIN);
        return NULL;
    }
    tc = tcase_create(name);
    tcase_add_unchecked_fixture(tc, member_start, member_stop);
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_set_timeout(tc, 60);
    return tc;
}

md_farm_t *md_test_farm(const char *url, const char *prefix, const char *node, long ttl,
                        const unsigned char *key)
{
    md_farm_config_t cfg;
    md_farm_t *farm;

    memset(&cfg, 0, sizeof(cfg));
    cfg.etcd.endpoints = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(cfg.etcd.endpoints, const char *) = url ? url : md_test_etcd_member.url;
    cfg.etcd.timeout = apr_time_from_sec(3);
    cfg.prefix = prefix;
    cfg.key = key;
    cfg.node = node;
    cfg.lock_ttl = ttl;
    ck_assert_int_eq(md_farm_create(&farm, &cfg, md_test_pool), APR_SUCCESS);
    return farm;
}
