#!/usr/bin/env bash
# HTTP benchmark of `yosan-search serve` on loopback: wrk with a mix of API requests, then the latency of
# the first results (a cold server's first search, and each query of the mix one at a time).
#
#   bench/http/run.sh [BUILD_DIR] [-d SECONDS] [-c CONNECTIONS] [-t THREADS]
#
# It indexes the bundled corpus into a temporary directory (unless YOSAN_BENCH_INDEX names one), starts the
# server on a free 127.0.0.1 port, and prints figures; nothing is asserted. Needs wrk and curl.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$ROOT/build"
DURATION=10
CONNECTIONS=8
THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    -d) DURATION=$2; shift 2 ;;
    -c) CONNECTIONS=$2; shift 2 ;;
    -t) THREADS=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) BUILD=$(cd "$1" && pwd); shift ;;
  esac
done
# Bounded: a typo must not keep a machine busy for an hour.
if [ "$DURATION" -gt 120 ]; then DURATION=120; fi
command -v wrk >/dev/null || { echo "bench/http: wrk is missing (apt-get install wrk)" >&2; exit 1; }
CONFIG="$ROOT/config/yosan.toml"
WORK=$(mktemp -d /tmp/yosan-bench-http.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

INDEX=${YOSAN_BENCH_INDEX:-$WORK/index}
if [ -z "${YOSAN_BENCH_INDEX:-}" ]; then
  "$BUILD/indexer/yosan-index" --config "$CONFIG" --index "$INDEX" >/dev/null 2>&1 || [ $? -eq 3 ]
fi

# start_server [extra flags]: starts a server on a free port and sets SERVER_PID and BASE.
start_server() {
  "$BUILD/searcher/yosan-search" serve --config "$CONFIG" --index "$INDEX" --listen 127.0.0.1:0 "$@" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  BASE=""
  for _ in $(seq 1 500); do
    BASE=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/server.out" || true)
    [ -n "$BASE" ] && return 0
    sleep 0.01
  done
  echo "bench/http: the server did not start:" >&2
  cat "$WORK/server.err" >&2
  exit 1
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# First figures without the answer cache, so that every request does the whole search.
START=$(date +%s%N)
start_server --cache-entries 0

url() {  # url PATH [name=value ...]: the percent-encoded request path
  local path=$1; shift
  local args=()
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -Gso /dev/null -w '%{url_effective}' "${args[@]}" "$BASE$path" | sed "s#^$BASE##"
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }

# A cold server: the time from starting the process to the first answered search, and that request alone.
FIRST=$(curl -s -o /dev/null -w '%{time_total}' "$BASE$(url /api/search q=蓄電池)")
READY=$(( ($(date +%s%N) - START) / 1000000 ))

ID=$(curl -s "$BASE/api/search?per_page=1" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
PATHS=(
  "$(url /api/search q=蓄電池)"
  "$(url /api/search q=半導体)"
  "$(url /api/search 'q=10億円以上 宇宙')"
  "$(url /api/search 'q=令和6年度補正 半導体')"
  "$(url /api/search q=サイバーセキュリティ)"
  "$(url /api/search q=はんどうたい)"
  "$(url /api/search 'q="水素" OR アンモニア')"
  "$(url /api/search q=中小企業 bureau=中小企業庁)"
  "$(url /api/search q=脱炭素 sort=-amount)"
  "$(url /api/search q=研究開発 page=2)"
  "$(url /api/search bureau=製造産業局 kind=補正)"
  "$(url /api/search)"
  "/api/sheets/$ID"
  "/api/sheets/$ID/similar"
)

echo "yosan-search serve on $BASE $(curl -s "$BASE/healthz")"
echo
echo "first results (cold server)"
echo "  process start → first search answered: ${READY} ms"
echo "  the first search request itself:       $(ms "$FIRST") ms"
echo
echo "one request at a time (warm; curl time_total, median of 5)"
for p in "${PATHS[@]}"; do
  times=()
  for _ in 1 2 3 4 5; do times+=("$(curl -s -o /dev/null -w '%{time_total}' "$BASE$p")"); done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  printf '  %7s ms  %s\n' "$(ms "$median")" "$(printf '%b' "${p//%/\\x}")"
done

LUA="$WORK/mix.lua"
{
  echo "local paths = {"
  for p in "${PATHS[@]}"; do printf '  "%s",\n' "$p"; done
  echo "}"
  cat <<'LUA'
local i = 0
function setup(thread) thread:set("offset", math.random(1, #paths)) end
function request()
  i = i + 1
  return wrk.format("GET", paths[((i + (offset or 0)) % #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "FIGURES requests=%d seconds=%.1f req_per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d non_2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
LUA
} >"$LUA"

run_wrk() {  # run_wrk LABEL
  echo
  echo "wrk, $1: ${#PATHS[@]} request kinds in rotation, ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION} s, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 5s --latency -s "$LUA" "$BASE/" >"$WORK/wrk.out"
  sed -n '/Latency Distribution/,/Requests\/sec/p' "$WORK/wrk.out" | sed 's/^/  /'
  grep '^FIGURES' "$WORK/wrk.out" | sed "s/^FIGURES/FIGURES $1/"
}
run_wrk "no-cache"
stop_server
start_server
run_wrk "cache"
