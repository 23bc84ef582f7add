#!/usr/bin/env bash
# The longer fuzz run (issue 5, "Hardening"): builds the libFuzzer targets with clang in a build directory
# of their own (instrumented, with AddressSanitizer and UBSan) and fuzzes each target for a while.
#
#   bench/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 600 s; targets sheet_parser query_parser search_request analyzer)
#
# Needs clang and libclang-rt-14-dev (Debian 12). Findings (crash-*, timeout-*, oom-*) are written to
# build-fuzz/findings/; new interesting inputs to build-fuzz/corpus-<target>/ (the seed corpus in fuzz/corpus
# is only read). Once a finding is fixed, copy it to fuzz/regressions/<target>/: the replay test in the
# normal suite (ctest -L fuzz) then runs it on every build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${YOSAN_FUZZ_BUILD:-$ROOT/build-fuzz}
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("${@:-sheet_parser query_parser search_request analyzer}")
read -r -a TARGETS <<<"${TARGETS[*]}"

# clang and its libFuzzer runtime are only needed here, so they are not in scripts/deps.sh's list.
YOSAN_ROOT=$ROOT
source "$ROOT/scripts/deps.sh"
yosan_install_missing clang libclang-rt-14-dev
command -v clang++ >/dev/null || { echo "clang++ is missing: apt-get install clang libclang-rt-14-dev" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DYOSAN_FUZZ=ON \
  -DYOSAN_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target $(printf 'fuzz_%s ' "${TARGETS[@]}")

mkdir -p "$BUILD/findings"
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$BUILD/corpus-$t"
  echo "=== fuzz_$t for ${SECONDS_PER_TARGET}s"
  log="$BUILD/findings/$t.log"
  rc=0
  dict=()
  [ -f "$ROOT/fuzz/dict/$t.dict" ] && dict=(-dict="$ROOT/fuzz/dict/$t.dict")
  ASAN_OPTIONS=detect_leaks=0 "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 -timeout=30 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$BUILD/findings/$t-" \
    "$BUILD/corpus-$t" "$ROOT/fuzz/corpus/$t" "$ROOT/fuzz/regressions/$t" >"$log" 2>&1 || rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|SUMMARY|Test unit written)" "$log" || true
  echo "exit $rc (full log: $log)"
  [ "$rc" -eq 0 ] || status=1
done
ls -l "$BUILD/findings"
exit $status
