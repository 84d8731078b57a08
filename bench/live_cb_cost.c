/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* What the certificate callback of MDActivation live adds to a handshake, without the
 * handshake: SSL_new + SSL_free of a server context holding the certificate (what every
 * handshake has anyway), against the same plus what live_cert_cb does with a pack (the
 * slot's lock, a reference, SSL_use_cert_and_key of the leaf, key and chain, the pin).
 *
 *   gcc -O2 -o /tmp/live_cb_cost bench/live_cb_cost.c -lssl -lcrypto -lpthread
 *   /tmp/live_cb_cost STORE/staging/MD/pubcert.secp256r1.pem STORE/staging/MD/privkey.secp256r1.pem
 *
 * (an unencrypted key: a store of a bench run kept with BENCH_KEEP=1). One thread; prints
 * CPU microseconds per iteration, the median of 5 runs of 100,000 each way, in turns. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <pthread.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#define ROUNDS 5
#define ITERATIONS 100000

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);   /* CPU time: others' load does not count */
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static const char pinned = 1;
    STACK_OF(X509) *chain = sk_X509_new_null();
    double plain[ROUNDS], live[ROUNDS], t;
    X509 *leaf, *x;
    EVP_PKEY *key;
    SSL_CTX *ctx;
    SSL *ssl;
    FILE *f;
    int r, i, idx;

    if (argc != 3) {
        fprintf(stderr, "usage: %s PUBCERT_CHAIN.pem PRIVKEY.pem\n", argv[0]);
        return 2;
    }
    if (!(f = fopen(argv[1], "r")) || !(leaf = PEM_read_X509(f, NULL, NULL, NULL))) {
        fprintf(stderr, "no certificate in %s\n", argv[1]);
        return 1;
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL))) sk_X509_push(chain, x);
    fclose(f);
    if (!(f = fopen(argv[2], "r")) || !(key = PEM_read_PrivateKey(f, NULL, NULL, NULL))) {
        fprintf(stderr, "no key in %s\n", argv[2]);
        return 1;
    }
    fclose(f);
    ctx = SSL_CTX_new(TLS_server_method());
    /* as mod_ssl has it: the certificate, its chain and key on the vhost's context */
    if (!ctx || SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) != 1) {
        fprintf(stderr, "the context refuses the certificate\n");
        return 1;
    }
    idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
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
            pthread_mutex_lock(&lock);      /* slot_take */
            pthread_mutex_unlock(&lock);
            if (SSL_use_cert_and_key(ssl, leaf, key, chain, 1) != 1) {
                fprintf(stderr, "SSL_use_cert_and_key failed\n");
                return 1;
            }
            ERR_clear_error();
            SSL_set_ex_data(ssl, idx, (void *)&pinned);
            SSL_free(ssl);
        }
        live[r] = (now() - t) / ITERATIONS * 1e6;
    }
    qsort(plain, ROUNDS, sizeof(double), cmp);
    qsort(live, ROUNDS, sizeof(double), cmp);
    printf("chain: leaf + %d, %s key\n", sk_X509_num(chain), EVP_PKEY_get0_type_name(key));
    printf("SSL_new + SSL_free:                        %.2f us\n", plain[ROUNDS / 2]);
    printf("the same + what live_cert_cb does:         %.2f us\n", live[ROUNDS / 2]);
    printf("the callback's work per handshake:         %.2f us\n", live[ROUNDS / 2] - plain[ROUNDS / 2]);
    return 0;
}
