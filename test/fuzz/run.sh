#!/bin/sh
# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# Run fuzz targets built by `make fuzz-build` (see test/fuzz/README.md).
#
#   test/fuzz/run.sh SECONDS [NAME...]    fuzz each target for SECONDS (0: only replay
#                                         the seed corpus, no new inputs)
#
# Each target first replays its seeds in test/fuzz/corpus/<name>/ (regressions included),
# then fuzzes with new inputs kept in build/fuzz/work/<name>/ (never in the repository).
# Crashes are written to build/fuzz/artifacts/. Exits non-zero when any target fails.
set -u
cd "$(dirname "$0")/../.."

seconds=${1:?usage: run.sh SECONDS [NAME...]}
shift
bin=build/fuzz
if [ $# -eq 0 ]; then
  set -- $(ls test/fuzz/fuzz_*.c | sed -e 's,.*/fuzz_,,' -e 's,\.c$,,' | grep -v '^common$')
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$bin/artifacts"
failed=""
for name in "$@"; do
  exe="$bin/fuzz_$name"
  seeds="test/fuzz/corpus/$name"
  work="$bin/work/$name"
  dict=""
  [ -f "test/fuzz/$name.dict" ] && dict="-dict=test/fuzz/$name.dict"
  [ -x "$exe" ] || { echo "fuzz: $exe is missing (make fuzz-build)"; failed="$failed $name"; continue; }
  mkdir -p "$work" "$seeds"
  opts="-timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix=$bin/artifacts/$name- $dict"
  echo "### fuzz_$name: replaying $(ls "$seeds" | wc -l) seeds"
  if ! "$exe" $opts -runs=0 "$seeds" >"$bin/$name.replay.log" 2>&1; then
    tail -n 40 "$bin/$name.replay.log"
    failed="$failed $name"
    continue
  fi
  [ "$seconds" -gt 0 ] || continue
  echo "### fuzz_$name: fuzzing for ${seconds}s"
  if ! "$exe" $opts -max_total_time="$seconds" -print_final_stats=1 "$work" "$seeds" \
       >"$bin/$name.log" 2>&1; then
    tail -n 60 "$bin/$name.log"
    failed="$failed $name"
    continue
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$bin/$name.log" | tr '\n' ' '
  echo
done
if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed (inputs in $bin/artifacts/)"
  exit 1
fi
echo "fuzz: all targets passed"
