#!/bin/bash
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# The exports of the compiled objects (part of make lint; see docs/internals.md 5.2):
# - a glue file exports its own prefix only: md_mod_<x>.c md_mod_<x>_*, md_config.c and
#   md_config_check.c md_config_* and md_cmds, mod_md.c md_module. The core's prefixes
#   (md_renew_*, md_chall_*, ...) stay the core's.
# - a core export is used by another file: a core, glue or mdctl object, a unit test or a
#   fuzz target. One that only its own file uses is static.
# Usage: scripts/lint-exports.sh BUILD_DIR. Without objects in BUILD_DIR it checks nothing.
set -u
b=${1:-build}
ls "$b"/src/mod/*.o >/dev/null 2>&1 || exit 0
bad=""

defined() { nm -g --defined-only "$1" | awk '$2 ~ /^[TDRBGS]$/ { print $3 }'; }

for o in "$b"/src/mod/*.o; do
    f=$(basename "$o" .o)
    case "$f" in
        mod_md) rule='^md_module$' ;;
        md_config|md_config_check) rule='^(md_config_[a-z0-9_]+|md_cmds)$' ;;
        md_mod_*) rule="^${f}_[a-z0-9_]+\$" ;;
        *) rule='^$' ;;
    esac
    for s in $(defined "$o"); do
        echo "$s" | grep -Eq "$rule" || bad="$bad $f.c:$s"
    done
done
[ -z "$bad" ] || { echo "error: glue exports outside their file's prefix:$bad"; exit 1; }

# who uses what ("object symbol"), and what the core defines, read once
uses=$(for u in "$b"/src/core/*.o "$b"/src/core/acme/*.o "$b"/src/mod/*.o "$b"/src/cli/*.o; do
    nm -u "$u" | awk -v o="$u" '{ print o, $2 }'; done)
for o in "$b"/src/core/*.o "$b"/src/core/acme/*.o; do
    for s in $(echo "$uses" | awk -v o="$o" 'NR == FNR { if ($1 != o) used[$2] = 1; next }
                                               !($1 in used) { print $1 }' - <(defined "$o")); do
        grep -qw "$s" test/unit/*.c test/fuzz/*.c 2>/dev/null && continue
        bad="$bad $(basename "$o" .o).c:$s"
    done
done
[ -z "$bad" ] || { echo "error: core exports no other file uses (make them static):$bad"; exit 1; }
exit 0
