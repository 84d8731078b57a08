#!/bin/sh
# dns01-nsupdate.sh: a dns-01 program for mod_md (MDChallengeDns01) that changes the
# TXT record _acme-challenge.<domain> with RFC 2136 dynamic updates (nsupdate, from
# Debian's bind9-dnsutils), authenticated by a TSIG key.
#
#   MDChallengeDns01 /usr/local/bin/dns01-nsupdate.sh
#   MDChallengeDns01Version 2
#
# mod_md calls it as
#   dns01-nsupdate.sh setup    <domain> <txt-value>
#   dns01-nsupdate.sh teardown <domain> [<txt-value>]    (the value with Version 2)
# and sets MD_ACTION, MD_NAME, MD_DOMAIN, MD_RECORD, MD_TXT_VALUE, MD_DNS01_VERSION.
# It runs as the server's User with only PATH and the MD_* variables in its
# environment, so its own settings come from a file:
#
#   /etc/apache2/dns01-nsupdate.conf (shell syntax, readable by the server's User):
#     NS_SERVER=ns1.example.org      # primary name server accepting updates
#     NS_KEYFILE=/etc/apache2/dns01.key   # TSIG key (tsig-keygen output)
#     NS_TTL=60
#     NS_ZONE=                       # optional; nsupdate finds the zone otherwise
#
# Exit 0 on success; anything else fails the challenge (setup) or is logged
# (teardown). The output ends up in mod_md's log and job.json.
set -eu

CONF=${DNS01_NSUPDATE_CONF:-/etc/apache2/dns01-nsupdate.conf}
NS_SERVER=
NS_KEYFILE=
NS_TTL=60
NS_ZONE=
[ -r "$CONF" ] && . "$CONF"

action=${1:-}
domain=${2:-}
value=${3:-}
record="_acme-challenge.${domain}."

if [ -z "$action" ] || [ -z "$domain" ] || [ -z "$NS_SERVER" ]; then
    echo "usage: $0 setup|teardown <domain> [<txt-value>]; NS_SERVER set in $CONF" >&2
    exit 2
fi

commands() {
    echo "server $NS_SERVER"
    [ -n "$NS_ZONE" ] && echo "zone $NS_ZONE"
    case "$action" in
        setup)
            [ -n "$value" ] || { echo "setup needs a value" >&2; exit 2; }
            # added, not replaced: x.org and *.x.org need two values at once
            echo "update add $record $NS_TTL IN TXT \"$value\"" ;;
        teardown)
            if [ -n "$value" ]; then
                echo "update delete $record IN TXT \"$value\""
            else
                echo "update delete $record IN TXT"
            fi ;;
        *)
            echo "unknown action '$action'" >&2; exit 2 ;;
    esac
    echo "send"
}

if [ -n "$NS_KEYFILE" ]; then
    commands | nsupdate -k "$NS_KEYFILE"
else
    commands | nsupdate
fi
echo "$action $record done"
