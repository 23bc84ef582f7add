#!/usr/bin/env bash
# Scale benchmark: a generated corpus (bench/gen/gen.py, default 105,000 sheets) indexed
#   - as one database: `--full` writing [index] build_threads part databases in parallel, merged by compaction;
#   - as one database by BASELINE, when set: another yosan-index binary (say the build before the parallel
#     writers: one writer, documents analysed on 2 threads inside put()), for the before/after row;
#   - as SHARDS shards ([index] shards), one writer thread per shard;
# each with wall time, peak RSS (/usr/bin/time -v) and size on disk; then the HTTP latency of the bench/http
# mix (bench/http/run.sh, wrk) and of a lookup-only mix (sheet by id, related sheets) on one database, on the
# local shards and on the same shards served by xapian-tcpsrv on loopback.
#
#   bench/scale/run.sh [WORKDIR]   (default build/bench-scale; env YOSAN_BUILD=build dir, SHEETS=105000,
#                                   SHARDS=4, DURATION=10 seconds of wrk per row, FLUSH=1000, BASELINE=binary)
#
# The corpus is generated only when missing; every index is rebuilt. Prints figures, asserts nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${YOSAN_BUILD:-$ROOT/build}
WORK=${1:-$BUILD/bench-scale}
SHEETS=${SHEETS:-105000}
SHARDS=${SHARDS:-4}
DURATION=${DURATION:-10}
BASELINE=${BASELINE:-}
FLUSH=${FLUSH:-1000}
INDEXER=$BUILD/indexer/yosan-index
SEARCH=$BUILD/searcher/yosan-search
[ -x "$INDEXER" ] && [ -x "$SEARCH" ] || { echo "build first: $INDEXER or $SEARCH is missing" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench/scale: wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v xapian-tcpsrv >/dev/null || { echo "bench/scale: xapian-tcpsrv is missing (apt-get install xapian-tools)" >&2; exit 1; }

CORPUS=$WORK/corpus-$SHEETS
mkdir -p "$WORK"
if [ ! -f "$CORPUS/.done-$SHEETS" ]; then
  rm -rf "$CORPUS"
  python3 "$ROOT/bench/gen/gen.py" --out "$CORPUS" --sheets "$SHEETS" --index-binary "$INDEXER" --config "$ROOT/config/yosan.toml"
  touch "$CORPUS/.done-$SHEETS"
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# config NAME [key = value ...]: config/yosan.toml with its relative paths made absolute and [index] keys set.
config() {
  local name=$1; shift
  local out=$WORK/$name.toml
  sed "s#\"\.\./#\"$ROOT/#g" "$ROOT/config/yosan.toml" >"$out"
  for kv in "$@"; do
    local key=${kv%% =*}
    sed -i "s#^$key = .*#$kv#" "$out"
  done
  echo "$out"
}

echo "bench/scale: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), corpus $CORPUS ($(du -sh "$CORPUS" | cut -f1))"
echo
echo "full index ($SHEETS generated sheets)"
# index LABEL INDEX CONFIG [BINARY]: one --full run, timed; prints a row.
index() {
  local label=$1 index=$2 cfg=$3 binary=${4:-$INDEXER}
  rm -rf "$index" "$index".g* "$index.lock"
  /usr/bin/time -v "$binary" --config "$cfg" --index "$index" --full --json --quiet "$CORPUS" >"$WORK/index.json" 2>"$WORK/index.time" || [ $? -eq 3 ]
  local wall rss docs size
  wall=$(grep 'Elapsed (wall clock)' "$WORK/index.time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/index.time" | awk '{printf "%.0f", $NF / 1024}')
  docs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["documents"])' "$WORK/index.json")
  size=$(du -sm "$index".g* | awk '{s += $1} END {print s}')
  printf '  %-58s wall %9s  peak RSS %5s MB  size %5s MB  docs %s\n' "$label" "$wall" "$rss" "$size" "$docs"
}
ONE=$WORK/one
FOUR=$WORK/shards
index "one database, parts written in parallel + compaction" "$ONE" "$(config one "flush_documents = $FLUSH")"
if [ -n "$BASELINE" ]; then
  index "one database, baseline $(basename "$BASELINE")" "$WORK/baseline" "$(config baseline)" "$BASELINE"
  rm -rf "$WORK/baseline" "$WORK/baseline".g*
fi
index "$SHARDS shards, one writer thread each" "$FOUR" "$(config shards "shards = $SHARDS" "flush_documents = $FLUSH")"

# xapian-tcpsrv per shard on loopback, each in its own process group (it signals its group on SIGTERM).
REMOTE=$WORK/remote.stub
: >"$REMOTE"
port=$((20000 + RANDOM % 20000))
for db in "$FOUR".g*/shard*; do
  setsid xapian-tcpsrv --quiet --interface 127.0.0.1 --port "$port" "$db" 2>/dev/null &
  PIDS+=($!)
  echo "remote 127.0.0.1:$port" >>"$REMOTE"
  port=$((port + 1))
done
sleep 1

echo
echo "HTTP, the bench/http mix (${DURATION} s of wrk each, no answer cache)"
for pair in "one database:$ONE" "$SHARDS local shards:$FOUR" "$SHARDS remote shards:$REMOTE"; do
  label=${pair%%:*}
  YOSAN_BENCH_INDEX=${pair#*:} "$ROOT/bench/http/run.sh" "$BUILD" -d "$DURATION" >"$WORK/http.out" 2>&1 || true
  printf '  %-22s %s\n' "$label" "$(grep '^FIGURES no-cache' "$WORK/http.out" | sed 's/^FIGURES no-cache //')"
done

# The lookup mix: sheets by id and their related sheets, on every layout (remote shards included).
LUA=$WORK/lookups.lua
mapfile -t SOME < <(xapian-delve -a -1 "$ONE".g*/ 2>/dev/null | grep '^Q' | awk 'NR % 5000 == 1' | cut -c2- | head -20)
{
  echo "local paths = {"
  for id in "${SOME[@]}"; do printf '  "/api/sheets/%s",\n  "/api/sheets/%s/similar",\n' "$id" "$id"; done
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
  io.write(string.format("FIGURES requests=%d req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non_2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
LUA
} >"$LUA"
echo
echo "HTTP, lookups only (${#SOME[@]} sheets by id and their related sheets; ${DURATION} s of wrk, 2 threads, 8 connections)"
for pair in "one database:$ONE" "$SHARDS local shards:$FOUR" "$SHARDS remote shards:$REMOTE"; do
  label=${pair%%:*}
  "$SEARCH" serve --config "$ROOT/config/yosan.toml" --index "${pair#*:}" --listen 127.0.0.1:0 --cache-entries 0 >"$WORK/server.out" 2>"$WORK/server.err" &
  server=$!
  base=""
  for _ in $(seq 1 500); do
    base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/server.out" || true)
    [ -n "$base" ] && break
    sleep 0.02
  done
  wrk -t 2 -c 8 -d "${DURATION}s" --timeout 5s -s "$LUA" "$base/" >"$WORK/wrk.out" 2>&1 || true
  printf '  %-22s %s\n' "$label" "$(grep '^FIGURES' "$WORK/wrk.out" | sed 's/^FIGURES //')"
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
done
echo
echo "done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
