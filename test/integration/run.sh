#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# Run the integration tests with Debian's python3 and pytest.
#   test/integration/run.sh [pytest args...]     e.g. -k http01, -x
# Environment: MD_MODULE (module to test, default build/mod_md.so),
# MDTEST_LOGLEVEL, MDTEST_KEEP=1 (keep /tmp/mdtest-* run directory).
# Must run as root (Apache's children switch to www-data).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
/usr/bin/python3 -m pytest -v "$here" "$@"
rc=$?
case $rc in
  0) ;;
  5) echo "run.sh: pytest collected/ran no tests (exit 5); that is a failure" >&2 ;;
  *) echo "run.sh: integration tests failed (pytest exit $rc)" >&2 ;;
esac
exit $rc
