#!/bin/sh
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# dns01-nsupdate.sh: a dns-01 program for mod_md (MDChallengeDns01) that changes the
# TXT record _acme-challenge.<domain> with RFC 2136 dynamic updates (nsupdate, from
# Debian's bind9-dnsutils), authenticated by a TSIG key. BIND 9, Knot, PowerDNS and
# others accept such updates. Set-up with BIND 9: docs/dns01-program.md.
#
#   MDChallengeDns01 /usr/local/bin/dns01-nsupdate.sh -c /etc/apache2/dns01-nsupdate.conf
#
# mod_md calls it as
#   dns01-nsupdate.sh [-c CONF] setup    <domain> <txt-value>
#   dns01-nsupdate.sh [-c CONF] teardown <domain> [<txt-value>]   (the value with Version 2)
# and sets MD_ACTION, MD_NAME, MD_DOMAIN, MD_RECORD, MD_TXT_VALUE, MD_DNS01_VERSION.
# It runs as the server's User with only PATH and the MD_* variables in its
# environment, so its settings come from a file, named with -c (default
# /etc/apache2/dns01-nsupdate.conf), in shell syntax:
#
#     NS_SERVER=ns1.example.org           # primary name server accepting updates
#     NS_PORT=53                          # its port (default 53)
#     NS_KEYFILE=/etc/apache2/dns01.key   # TSIG key (tsig-keygen output), owned by the
#                                         # server's User, mode 0600
#     NS_TTL=60                           # TTL of the TXT record (default 60)
#     NS_ZONE=example.org                 # optional; nsupdate asks the server otherwise
#     NS_TIMEOUT=20                       # seconds nsupdate may take (default 20)
#
# Exit 0 on success; 2 for a usage or set-up error; anything else is nsupdate's
# failure. A failed setup fails the challenge (the renewal is retried later), a
# failed teardown is logged. The output ends up in mod_md's log and job.json.
set -eu

CONF=/etc/apache2/dns01-nsupdate.conf
if [ "${1:-}" = "-c" ]; then
    [ $# -ge 2 ] || { echo "$0: -c needs a file" >&2; exit 2; }
    CONF=$2
    shift 2
fi

NS_SERVER=
NS_PORT=53
NS_KEYFILE=
NS_TTL=60
NS_ZONE=
NS_TIMEOUT=20
if [ -r "$CONF" ]; then
    . "$CONF"
else
    echo "$0: cannot read $CONF: create it (NS_SERVER=..., NS_KEYFILE=...) readable by" \
         "the server's User, or name another with -c FILE" >&2
    exit 2
fi

action=${1:-}
domain=${2:-}
value=${3:-}
record="_acme-challenge.${domain}."

if [ -z "$action" ] || [ -z "$domain" ]; then
    echo "usage: $0 [-c CONF] setup|teardown <domain> [<txt-value>]" >&2
    exit 2
fi
if [ -z "$NS_SERVER" ]; then
    echo "$0: NS_SERVER is not set in $CONF: name the primary name server" >&2
    exit 2
fi
if [ -n "$NS_KEYFILE" ]; then
    if [ ! -r "$NS_KEYFILE" ]; then
        echo "$0: cannot read the TSIG key $NS_KEYFILE: it must belong to the server's" \
             "User ($(id -un)), mode 0600" >&2
        exit 2
    fi
    # a key others can read is a key others can use to change the zone
    case "$(stat -c %a "$NS_KEYFILE")" in
        600|400) ;;
        *) echo "$0: $NS_KEYFILE is readable by others (mode $(stat -c %a "$NS_KEYFILE")):" \
                "chmod 600 it" >&2
           exit 2 ;;
    esac
fi

commands() {
    echo "server $NS_SERVER $NS_PORT"
    if [ -n "$NS_ZONE" ]; then echo "zone $NS_ZONE"; fi
    case "$action" in
        setup)
            # added, not replaced: x.org and *.x.org need two values at once
            echo "update add $record $NS_TTL IN TXT \"$value\"" ;;
        teardown)
            if [ -n "$value" ]; then
                echo "update delete $record IN TXT \"$value\""
            else
                echo "update delete $record IN TXT"
            fi ;;
    esac
    echo "send"
}

case "$action" in
    setup) [ -n "$value" ] || { echo "$0: setup needs a value" >&2; exit 2; } ;;
    teardown) ;;
    *) echo "$0: unknown action '$action' (setup or teardown)" >&2; exit 2 ;;
esac

if [ -n "$NS_KEYFILE" ]; then
    commands | nsupdate -t "$NS_TIMEOUT" -k "$NS_KEYFILE"
else
    commands | nsupdate -t "$NS_TIMEOUT"
fi
echo "$action $record at $NS_SERVER: done"
