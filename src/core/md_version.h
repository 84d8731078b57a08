/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The version of this module, as the status outputs and the User-Agent report it. */
#ifndef md_version_h
#define md_version_h

#define MOD_MD_VERSION "0.1.0"

/* The module's User-Agent towards CAs, OCSP responders and the preflight's probes; a
 * purpose in parentheses is added where one is said (MD_USER_AGENT_FOR("preflight")). */
#define MD_USER_AGENT "mod_md/" MOD_MD_VERSION " (Apache httpd)"
#define MD_USER_AGENT_FOR(purpose) "mod_md/" MOD_MD_VERSION " (Apache httpd; " purpose ")"

#endif
