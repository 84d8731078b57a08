/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* JSON Web Keys and JSON Web Signatures (RFC 7515, 7517, 7638) as ACME needs them.
 * Only this module signs. */
#ifndef md_jws_h
#define md_jws_h

#include "md_json.h"
#include "md_crypt.h"

/* The public JWK of a key: {"e","kty","n"} for RSA, {"crv","kty","x","y"} for EC. */
apr_status_t md_jwk_get(md_json_t **pjwk, const md_pkey_t *pkey, apr_pool_t *p);
/* RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)). */
apr_status_t md_jwk_thumbprint(const char **pthumb, const md_pkey_t *pkey, apr_pool_t *p);
/* "RS256", "ES256" (P-256) or "ES384" (P-384) for the key. */
const char *md_jws_alg(const md_pkey_t *pkey);

/* Sign payload (NULL or "" for POST-as-GET) with the protected header
 * {alg, nonce, url, and kid when given, else jwk}. The result is the flattened JWS
 * object {"protected","payload","signature"}. */
apr_status_t md_jws_sign(md_json_t **pjws, const char *payload, const md_pkey_t *pkey,
                         const char *kid, const char *nonce, const char *url, apr_pool_t *p);
/* The External Account Binding: a JWS over the account JWK, HMAC-SHA256 with the
 * base64url-decoded hmac key, protected {alg HS256, kid, url}. */
apr_status_t md_jws_eab(md_json_t **pjws, const md_json_t *account_jwk, const char *kid,
                        const char *hmac_b64url, const char *url, apr_pool_t *p);

/* The ACME key authorization: token "." thumbprint. */
apr_status_t md_jws_key_authz(const char **pauthz, const md_pkey_t *account_key,
                              const char *token, apr_pool_t *p);

#endif
