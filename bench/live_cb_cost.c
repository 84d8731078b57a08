/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* What the certificate callback of MDActivation live adds to a handshake, in one thread and
 * in CPU time (others' load on the machine does not count):
 *
 * 1. without a handshake: SSL_new + SSL_free of a server context holding the certificate
 *    (what every handshake has anyway), against the same plus what live_cert_cb does with
 *    a pack (the slot's lock, SSL_use_cert_and_key of leaf, key and chain, the pin);
 * 2. full handshakes in memory (a BIO pair, client and server in this thread; no session
 *    resumption), the server's part timed: a certificate callback that does nothing (as
 *    with MDActivation restart) against one that hands over a pack (as with live), the
 *    pack's certificates and key loaded apart from the context's, as the children do; and,
 *    as a possible alternative, one that switches the connection to a context made for
 *    the pack (SSL_set_SSL_CTX, as mod_ssl's SNI callback does for a vhost).
 *
 *   gcc -O2 -o /tmp/live_cb_cost bench/live_cb_cost.c -lssl -lcrypto -lpthread
 *   /tmp/live_cb_cost CHAIN.pem KEY.pem
 *
 * CHAIN.pem: an EC P-256 certificate and its intermediate, as Pebble issues them (the
 * intermediate RSA 2048); KEY.pem its unencrypted key (a store's keys are encrypted). E.g.
 *   openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj /CN=ca
 *   openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout KEY.pem \
 *       -out leaf.csr -subj /CN=live.bench.test
 *   openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem
 *   cat leaf.pem ca.pem > CHAIN.pem
 * Prints CPU microseconds, the median of the rounds, the ways measured in turns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#define ROUNDS 9
#define ITERATIONS 100000
#define HANDSHAKES 1000

typedef struct {
    X509 *leaf;
    EVP_PKEY *key;
    STACK_OF(X509) *chain;
} creds_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *pack_ctx;   /* holds the pack's certificates: the switch alternative */
static const char pinned = 1;
static int pin_idx;
static double server_cpu;   /* CPU time spent in the server's SSL_do_handshake */

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, ROUNDS, sizeof(double), cmp);
    return v[ROUNDS / 2];
}

static int load(creds_t *c, const char *cert_file, const char *key_file)
{
    X509 *x;
    FILE *f;

    c->chain = sk_X509_new_null();
    if (!(f = fopen(cert_file, "r"))) return 0;
    c->leaf = PEM_read_X509(f, NULL, NULL, NULL);
    while ((x = PEM_read_X509(f, NULL, NULL, NULL))) sk_X509_push(c->chain, x);
    fclose(f);
    if (!(f = fopen(key_file, "r"))) return 0;
    c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    return c->leaf && c->key;
}

/* what live_cert_cb does before it looks at the slot: a pinned connection, acme-tls/1 */
static int early_checks(SSL *ssl)
{
    const unsigned char *proto = NULL;
    unsigned int len = 0;

    if (SSL_get_ex_data(ssl, pin_idx)) return 1;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    return proto && len == 10 && !memcmp(proto, "acme-tls/1", 10);
}

static void hand_over(SSL *ssl, const creds_t *pack)
{
    pthread_mutex_lock(&lock);      /* slot_take */
    pthread_mutex_unlock(&lock);
    SSL_use_cert_and_key(ssl, pack->leaf, pack->key, pack->chain, 1);
    ERR_clear_error();
    SSL_set_ex_data(ssl, pin_idx, (void *)&pinned);
}

static int cb_restart(SSL *ssl, void *arg)
{
    (void)arg;
    early_checks(ssl);
    return 1;
}

static int cb_live(SSL *ssl, void *arg)
{
    if (!early_checks(ssl)) hand_over(ssl, arg);
    return 1;
}

static int cb_switch(SSL *ssl, void *arg)
{
    (void)arg;
    if (!early_checks(ssl)) {
        pthread_mutex_lock(&lock);
        pthread_mutex_unlock(&lock);
        SSL_set_SSL_CTX(ssl, pack_ctx);
        SSL_set_ex_data(ssl, pin_idx, (void *)&pinned);
    }
    return 1;
}

/* One full handshake between a new client and a new server SSL; 0 on failure. */
static int handshake(SSL_CTX *sctx, SSL_CTX *cctx)
{
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    BIO *bs, *bc;
    int i, cs = 0, ss = 0;
    double t;

    BIO_new_bio_pair(&bs, 0, &bc, 0);
    SSL_set_bio(s, bs, bs);
    SSL_set_bio(c, bc, bc);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    SSL_set_tlsext_host_name(c, "live.bench.test");
    for (i = 0; i < 20 && (cs != 1 || ss != 1); ++i) {
        if (cs != 1) cs = SSL_do_handshake(c);
        if (ss != 1) {
            t = now();
            ss = SSL_do_handshake(s);
            server_cpu += now() - t;
        }
    }
    SSL_free(s);
    SSL_free(c);
    return cs == 1 && ss == 1;
}

/* live: 0 a callback that does nothing, 1 one that hands over the pack, 2 one that switches
 * to pack_ctx */
static SSL_CTX *server_ctx(const creds_t *c, int version, int live, creds_t *pack)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    /* as mod_ssl has it: the certificate, its chain and key on the vhost's context */
    if (!ctx || SSL_CTX_use_cert_and_key(ctx, c->leaf, c->key, c->chain, 1) != 1) return NULL;
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (live == 1) SSL_CTX_set_cert_cb(ctx, cb_live, pack);
    else if (live == 2) SSL_CTX_set_cert_cb(ctx, cb_switch, NULL);
    else SSL_CTX_set_cert_cb(ctx, cb_restart, NULL);
    return ctx;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int version; } versions[] = {
        { "TLS 1.3", TLS1_3_VERSION }, { "TLS 1.2", TLS1_2_VERSION }
    };
    double plain[ROUNDS], live[ROUNDS], other[ROUNDS], t;
    creds_t vhost, pack;
    SSL_CTX *ctx, *sctx[3], *cctx;
    SSL *ssl;
    int r, i, v, m;

    if (argc != 3) {
        fprintf(stderr, "usage: %s PUBCERT_CHAIN.pem PRIVKEY.pem\n", argv[0]);
        return 2;
    }
    if (!load(&vhost, argv[1], argv[2]) || !load(&pack, argv[1], argv[2])) {
        fprintf(stderr, "no certificate in %s or no key in %s\n", argv[1], argv[2]);
        return 1;
    }
    pin_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    printf("chain: leaf + %d, %s key; %s\n", sk_X509_num(vhost.chain), EVP_PKEY_get0_type_name(vhost.key),
           OpenSSL_version(OPENSSL_VERSION));

    /* 1. the callback's work alone */
    ctx = server_ctx(&vhost, 0, 0, NULL);
    if (!ctx) {
        fprintf(stderr, "the context refuses the certificate\n");
        return 1;
    }
    for (r = 0; r < ROUNDS; ++r) {
        t = now();
        for (i = 0; i < ITERATIONS; ++i) {
            ssl = SSL_new(ctx);
            SSL_free(ssl);
        }
        plain[r] = (now() - t) / ITERATIONS * 1e6;
        t = now();
        for (i = 0; i < ITERATIONS; ++i) {
            ssl = SSL_new(ctx);
            hand_over(ssl, &pack);
            SSL_free(ssl);
        }
        live[r] = (now() - t) / ITERATIONS * 1e6;
    }
    printf("1. SSL_new + SSL_free:                          %7.2f us\n", median(plain));
    printf("   the same + what live_cert_cb does:           %7.2f us\n", median(live));

    /* 2. full handshakes, the server's CPU time */
    cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    for (v = 0; v < 2; ++v) {
        sctx[0] = server_ctx(&vhost, versions[v].version, 0, NULL);
        sctx[1] = server_ctx(&vhost, versions[v].version, 1, &pack);
        sctx[2] = server_ctx(&vhost, versions[v].version, 2, NULL);
        pack_ctx = server_ctx(&pack, versions[v].version, 0, NULL);
        for (r = 0; r < ROUNDS; ++r) {
            for (m = 0; m < 3; ++m) {
                server_cpu = 0;
                for (i = 0; i < HANDSHAKES; ++i) {
                    if (!handshake(sctx[m], cctx)) {
                        fprintf(stderr, "handshake failed\n");
                        ERR_print_errors_fp(stderr);
                        return 1;
                    }
                }
                (m == 2 ? other : m ? live : plain)[r] = server_cpu / HANDSHAKES * 1e6;
            }
        }
        t = median(plain);
        printf("2. %s, server per handshake: restart-like %.1f us, live-like %.1f us (%+.2f %%), "
               "switching contexts %.1f us (%+.2f %%)\n", versions[v].name, t, median(live),
               (median(live) / t - 1) * 100, median(other), (median(other) / t - 1) * 100);
        for (m = 0; m < 3; ++m) SSL_CTX_free(sctx[m]);
        SSL_CTX_free(pack_ctx);
    }
    return 0;
}
