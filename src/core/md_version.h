/* SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors. */
/* The version of this module, as the status outputs and the User-Agent report it. */
#ifndef md_version_h
#define md_version_h

#define MOD_MD_VERSION "0.1.0"

#endif
