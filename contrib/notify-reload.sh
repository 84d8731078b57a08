#!/bin/sh
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# MDNotifyCmd example: a certificate for <mdname> was renewed and is staged.
#   MDNotifyCmd /usr/local/share/mod_md/contrib/notify-reload.sh
# It goes live at the next graceful restart (or by itself with MDActivationRestart on).
# This example tells the operator through syslog and mail, when mail(1) is there.
# It runs as the server's User; a non-zero exit makes mod_md retry it later.
md="$1"
msg="mod_md renewed the certificate of ${md} (${MD_DOMAINS:-?}); it goes live at the next graceful restart"
logger -t mod_md -- "$msg" || exit 1
if command -v mail >/dev/null 2>&1; then
  echo "$msg" | mail -s "certificate renewed: ${md}" root
fi
exit 0
