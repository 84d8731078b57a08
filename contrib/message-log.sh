#!/bin/sh
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# MDMessageCmd example: record every mod_md event in syslog.
#   MDMessageCmd /usr/local/share/mod_md/contrib/message-log.sh
# Called as: message-log.sh <reason> <mdname>; MD_DOMAINS holds the MD's names.
reason="$1"
md="$2"
logger -t mod_md -- "event ${reason} for ${md} (names: ${MD_DOMAINS:-?})"
exit 0
