#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# Demo on a fresh Debian 12 machine, as root: install the packages, build the
# module, then let a managed domain (demo.test) get its certificate from a
# local Pebble ACME CA and show the result.  Everything runs on 127.0.0.1 on
# free ports; nothing is left running afterwards.
#
# Environment:
#   MD_MODULE=/path/mod_md.so   use this module instead of building ours
#                               (e.g. Debian's /usr/lib/apache2/modules/mod_md.so)
#   SKIP_INSTALL=1              do not run apt-get (packages already there)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n### %s\n' "$*"; }

# Keep in sync with .ci/run.
PACKAGES=(apache2 apache2-dev pebble libssl-dev libcurl4-openssl-dev libjansson-dev check
          python3-pytest python3-cryptography python3-requests curl openssl pkg-config make gcc
          clang libclang-rt-14-dev valgrind)

if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (apt-get, and Apache switching its children to www-data)" >&2
  exit 1
fi

if [ "${SKIP_INSTALL:-0}" = 1 ]; then
  say "SKIP_INSTALL=1: not installing packages"
else
  say "Installing Debian packages: ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y "${PACKAGES[@]}"
  say "Stopping the system apache2 service if the install started it (the demo runs its own server)"
  service apache2 stop >/dev/null 2>&1 || true
fi

if [ -n "${MD_MODULE:-}" ]; then
  say "MD_MODULE is set: using $MD_MODULE, not building"
else
  say "Building the module (make)"
  make
  export MD_MODULE="$PWD/build/mod_md.so"
fi
if [ ! -f "$MD_MODULE" ]; then
  echo "demo.sh: module not found: $MD_MODULE" >&2
  exit 1
fi

say "Running the demo with $MD_MODULE"
/usr/bin/python3 test/integration/demo.py "$@"
