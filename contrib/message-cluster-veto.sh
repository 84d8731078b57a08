#!/bin/sh
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# MDMessageCmd example for servers that share one store: only the node named in
# /etc/apache2/md-renewer (one hostname) renews; the others veto 'renewing'
# (a non-zero exit stops that attempt). All nodes pick up the renewed certificate
# from the shared store at their next restart.
#   MDMessageCmd /usr/local/share/mod_md/contrib/message-cluster-veto.sh
reason="$1"
[ "$reason" = renewing ] || exit 0
renewer=$(cat /etc/apache2/md-renewer 2>/dev/null)
[ "$renewer" = "$(hostname)" ] && exit 0
echo "not renewing here: $renewer renews for the cluster" >&2
exit 1
