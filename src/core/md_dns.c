/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The resolver of the preflight checks over libresolv: recursion is left to the server,
 * which also follows CNAMEs; only records of the asked type are taken from the answer.
 * The system's resolver is asked with res_nquery. A configured server is asked over UDP
 * here (the query made by res_nmkquery, the answer read by ns_parse): glibc's res_nsend
 * takes an empty answer without the RA and AA flags (as test servers such as
 * pebble-challtestsrv give for "no such record") for a lame server and fails it. */
#include <string.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <apr_strings.h>

#include "md_dns.h"

#define MD_DNS_ANSWER_MAX 8192
#define MD_DNS_RETRANS 2        /* seconds before a query is sent again */
#define MD_DNS_RETRY 2          /* times a query is sent */

typedef struct {
    int has_server;
    struct sockaddr_in server;
} md_dns_libresolv_t;

static apr_status_t server_parse(struct sockaddr_in *sin, const char *server, apr_pool_t *p)
{
    const char *colon = strchr(server, ':');
    const char *host = colon ? apr_pstrndup(p, server, (apr_size_t)(colon - server)) : server;
    long port = 53;
    char *end;

    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) return APR_EINVAL;
    if (colon) {
        port = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || port <= 0 || port > 65535) return APR_EINVAL;
    }
    sin->sin_port = htons((unsigned short)port);
    return APR_SUCCESS;
}

const char *md_dns_server_check(const char *server, apr_pool_t *p)
{
    struct sockaddr_in sin;

    if (server_parse(&sin, server, p) == APR_SUCCESS) return NULL;
    return apr_psprintf(p, "'%s' is not an IPv4 address with an optional port "
                        "(e.g. 192.0.2.53 or 127.0.0.1:5353)", server);
}

/* One record of the asked type, or NULL for a record of another type or a damaged one. */
static md_dns_rr_t *rr_decode(const ns_rr *rr, int type, apr_pool_t *p)
{
    const unsigned char *rd = ns_rr_rdata(*rr);
    apr_size_t len = ns_rr_rdlen(*rr), taglen;
    char text[INET6_ADDRSTRLEN];
    md_dns_rr_t *out;

    if ((int)ns_rr_type(*rr) != type) return NULL;
    out = apr_pcalloc(p, sizeof(*out));
    out->type = type;
    if (type == MD_DNS_A || type == MD_DNS_AAAA) {
        if (len != (type == MD_DNS_A ? 4u : 16u)) return NULL;
        if (!inet_ntop(type == MD_DNS_A ? AF_INET : AF_INET6, rd, text, sizeof(text))) return NULL;
        out->addr = apr_pstrdup(p, text);
        return out;
    }
    /* CAA (RFC 8659 4.1): flags, tag length, tag, value to the end */
    if (len < 2) return NULL;
    taglen = rd[1];
    if (taglen == 0 || 2 + taglen > len) return NULL;
    out->caa_flags = rd[0];
    out->caa_tag = apr_pstrndup(p, (const char *)rd + 2, taglen);
    out->caa_value = apr_pstrndup(p, (const char *)rd + 2 + taglen, len - 2 - taglen);
    return out;
}

static apr_status_t answer_parse(apr_array_header_t **prrs, const unsigned char *answer,
                                 int len, int type, apr_pool_t *p)
{
    ns_msg msg;
    ns_rr rr;
    md_dns_rr_t *one;
    int i, n;

    *prrs = apr_array_make(p, 4, sizeof(md_dns_rr_t *));
    if (ns_initparse(answer, len, &msg) < 0) return APR_EGENERAL;
    n = ns_msg_count(msg, ns_s_an);
    for (i = 0; i < n; ++i) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) return APR_EGENERAL;
        one = rr_decode(&rr, type, p);
        if (one) APR_ARRAY_PUSH(*prrs, md_dns_rr_t *) = one;
    }
    return APR_SUCCESS;
}

/* res_nquery's failure, in h_errno terms: no such name, no records, or no answer. */
static apr_status_t query_failed(apr_array_header_t **prrs, const char **pwhy, int herr,
                                 apr_pool_t *p)
{
    *prrs = apr_array_make(p, 1, sizeof(md_dns_rr_t *));
    switch (herr) {
    case HOST_NOT_FOUND:
        return MD_DNS_ENONAME;
    case NO_DATA:
        return APR_SUCCESS;
    case TRY_AGAIN:
        *pwhy = "the DNS server failed (SERVFAIL) or did not answer";
        return APR_EAGAIN;
    default:
        *pwhy = "the DNS server refused the query";
        return APR_EGENERAL;
    }
}

/* One query to the configured server over UDP, sent up to MD_DNS_RETRY times: the
 * answer's length, or -1 when none came (a later answer with another id is ignored). */
static int udp_exchange(unsigned char *answer, const md_dns_libresolv_t *lr,
                        const unsigned char *query, int qlen)
{
    struct pollfd pfd;
    ssize_t n = -1;
    int fd, attempt;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (const struct sockaddr *)&lr->server, sizeof(lr->server)) != 0) {
        close(fd);
        return -1;
    }
    for (attempt = 0; attempt < MD_DNS_RETRY; ++attempt) {
        if (send(fd, query, (size_t)qlen, 0) != qlen) break;
        pfd.fd = fd;
        pfd.events = POLLIN;
        while (poll(&pfd, 1, MD_DNS_RETRANS * 1000) == 1) {
            n = recv(fd, answer, MD_DNS_ANSWER_MAX, 0);
            if (n >= 12 && answer[0] == query[0] && answer[1] == query[1]) goto leave;
            n = -1;
        }
    }
leave:
    close(fd);
    return (int)n;
}

/* The answer's header: NXDOMAIN, SERVFAIL and truncation as res_nquery reports them. */
static int udp_query(struct __res_state *st, const md_dns_libresolv_t *lr, const char *name,
                     int type, unsigned char *answer)
{
    unsigned char query[512];
    int qlen, len, rcode;

    qlen = res_nmkquery(st, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, query, sizeof(query));
    if (qlen <= 0) {
        st->res_h_errno = NO_RECOVERY;
        return -1;
    }
    len = udp_exchange(answer, lr, query, qlen);
    if (len < 12) {
        st->res_h_errno = TRY_AGAIN;
        return -1;
    }
    rcode = answer[3] & 0x0f;
    if (rcode == ns_r_nxdomain) st->res_h_errno = HOST_NOT_FOUND;
    else if (rcode == ns_r_servfail || (answer[2] & 0x02)) st->res_h_errno = TRY_AGAIN;
    else if (rcode != ns_r_noerror) st->res_h_errno = NO_RECOVERY;
    else return len;
    return -1;
}

static apr_status_t libresolv_query(apr_array_header_t **prrs, const char **pwhy, void *baton,
                                    const char *name, int type, apr_pool_t *p)
{
    md_dns_libresolv_t *lr = baton;
    struct __res_state *st = apr_pcalloc(p, sizeof(*st));
    unsigned char *answer = apr_palloc(p, MD_DNS_ANSWER_MAX);
    apr_status_t rv;
    int len;

    *pwhy = NULL;
    if (res_ninit(st) != 0) {
        *pwhy = "the resolver could not be set up (/etc/resolv.conf)";
        return APR_EGENERAL;
    }
    st->retrans = MD_DNS_RETRANS;
    st->retry = MD_DNS_RETRY;
    len = lr->has_server ? udp_query(st, lr, name, type, answer)
                         : res_nquery(st, name, ns_c_in, type, answer, MD_DNS_ANSWER_MAX);
    if (len < 0) rv = query_failed(prrs, pwhy, st->res_h_errno, p);
    else if (len > MD_DNS_ANSWER_MAX) {
        *pwhy = "the answer is too large";
        rv = APR_EGENERAL;
    }
    else {
        rv = answer_parse(prrs, answer, len, type, p);
        if (rv != APR_SUCCESS) *pwhy = "the answer could not be parsed";
    }
    res_nclose(st);
    return rv;
}

apr_status_t md_dns_create(md_dns_t **pdns, const char *server, apr_pool_t *p)
{
    md_dns_libresolv_t *lr = apr_pcalloc(p, sizeof(*lr));
    md_dns_t *dns = apr_pcalloc(p, sizeof(*dns));

    if (server) {
        if (server_parse(&lr->server, server, p) != APR_SUCCESS) return APR_EINVAL;
        lr->has_server = 1;
    }
    dns->query = libresolv_query;
    dns->baton = lr;
    dns->server = server ? apr_pstrdup(p, server) : "the system resolver";
    *pdns = dns;
    return APR_SUCCESS;
}
