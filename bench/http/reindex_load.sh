#!/usr/bin/env bash
# The search API under load while the nightly job runs: wrk against /api/search (no answer cache, so every
# request searches the index) for the whole of
#   (a) an incremental run (1% of the sheets changed in 1% of the files),
#   (b) a --full rebuild,
#   (c) three runs killed with SIGKILL at random moments: a tenth of the generated files is added to or
#       taken from the corpus before each, and the run is an incremental one or a --full rebuild.
# It checks that no request failed (wrk's socket errors and non-2xx answers) and that /healthz, polled
# every 0.2 s during (c) and read after each kill, only ever reports the sheet count before or after the
# run, never a mix.
#
#   bench/http/reindex_load.sh [BUILD_DIR] [-c CONNECTIONS] [-s SHEETS] [-w WORKDIR] [-n NICE]
#
# The generated corpus (bench/gen/gen.py, default 10,500 sheets) is kept in WORKDIR (default
# BUILD_DIR/bench-reindex-load) and reused. yosan-index runs at nice 19, as the nightly job does (-n 0 on a
# machine whose CPUs are busy with other work: at nice 19 the runs then hardly progress). The
# server listens on a free 127.0.0.1 port only. Exit status 1 when a check failed. Needs wrk and curl.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$ROOT/build"
CONNECTIONS=4
SHEETS=10500
WORK=""
NICE=19
while [ $# -gt 0 ]; do
  case "$1" in
    -c) CONNECTIONS=$2; shift 2 ;;
    -s) SHEETS=$2; shift 2 ;;
    -w) WORK=$2; shift 2 ;;
    -n) NICE=$2; shift 2 ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) BUILD=$(cd "$1" && pwd); shift ;;
  esac
done
WORK=${WORK:-$BUILD/bench-reindex-load}
command -v wrk >/dev/null || { echo "bench/http: wrk is missing (apt-get install wrk)" >&2; exit 1; }
INDEXER="$BUILD/indexer/yosan-index"
CONFIG="$ROOT/config/yosan.toml"
PRISTINE="$WORK/corpus-generated"
CORPUS="$WORK/corpus"
SPARE="$WORK/spare"   # the files moved in and out of the corpus for (c)
INDEX="$WORK/index"
mkdir -p "$WORK"
SERVER_PID=""
WRK_PID=""
POLL_PID=""
cleanup() {
  for p in $POLL_PID $WRK_PID $SERVER_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }

if [ ! -f "$PRISTINE/.done-$SHEETS" ]; then
  rm -rf "$PRISTINE"
  python3 "$ROOT/bench/gen/gen.py" --out "$PRISTINE" --sheets "$SHEETS" --index-binary "$INDEXER" --config "$CONFIG" >/dev/null
  touch "$PRISTINE/.done-$SHEETS"
fi
rm -rf "$CORPUS" "$SPARE" "$INDEX" "$INDEX".g* "$INDEX.lock"
cp -r "$PRISTINE" "$CORPUS"
mkdir -p "$SPARE"

index() {  # index [options...]: a run at nice $NICE; prints its exit status (0 and 3 are both a success)
  local rc=0
  nice -n "$NICE" "$INDEXER" --config "$CONFIG" --index "$INDEX" -q "$@" "$CORPUS" >/dev/null 2>&1 || rc=$?
  echo "yosan-index exit $rc"
}
echo "$(date -u +%FT%TZ) first index of $(find "$CORPUS" -name '*.txt' | wc -l) files ($SHEETS sheets generated)"
T0=$(date +%s.%N)
echo "  $(index), $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

"$BUILD/searcher/yosan-search" serve --config "$CONFIG" --index "$INDEX" --listen 127.0.0.1:0 --cache-entries 0 \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 500); do
  BASE=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/server.out" || true)
  [ -n "$BASE" ] && break
  sleep 0.02
done
[ -n "$BASE" ] || { cat "$WORK/server.err" >&2; exit 1; }
sheets() { curl -s --max-time 10 "$BASE/healthz" | grep -o '"sheets":[0-9]*' | cut -d: -f2; }

LUA="$WORK/search.lua"
cat >"$LUA" <<'LUA'
local paths = {
  "/api/search?q=%E8%93%84%E9%9B%BB%E6%B1%A0",                         -- 蓄電池
  "/api/search?q=%E5%8D%8A%E5%B0%8E%E4%BD%93",                         -- 半導体
  "/api/search?q=10%E5%84%84%E5%86%86%E4%BB%A5%E4%B8%8A%20%E5%AE%87%E5%AE%99", -- 10億円以上 宇宙
  "/api/search?q=%E6%B0%B4%E7%B4%A0&sort=-amount",                     -- 水素, by amount
  "/api/search?bureau=%E8%A3%BD%E9%80%A0%E7%94%A3%E6%A5%AD%E5%B1%80&page=2", -- a bureau, page 2
}
local i = 0
function setup(thread) thread:set("offset", math.random(1, #paths)) end
function request()
  i = i + 1
  return wrk.format("GET", paths[((i + (offset or 0)) % #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURES requests=%d seconds=%.1f req_per_s=%.0f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f socket_errors=%d non_2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

# with_load LABEL COMMAND...: wrk runs from 1 s before COMMAND until 1 s after it; SIGINT makes wrk stop
# and print its summary.
with_load() {
  local label=$1; shift
  wrk -t 2 -c "$CONNECTIONS" -d 3600s --timeout 10s -s "$LUA" "$BASE/" >"$WORK/wrk.out" 2>&1 &
  WRK_PID=$!
  sleep 1
  local t0 out
  t0=$(date +%s.%N)
  out=$("$@")
  local secs
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  sleep 1
  kill -INT "$WRK_PID" 2>/dev/null || echo "  wrk had stopped by itself (its 3600 s ran out): the end of the run was not under load"
  wait "$WRK_PID" || true
  WRK_PID=""
  local figures
  figures=$(grep '^FIGURES' "$WORK/wrk.out" || true)
  echo "$label: ${secs} s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$out" | sed 's/^/  /'
  echo "  ${figures:-wrk printed nothing}"
  case "$figures" in *socket_errors=0\ non_2xx=0*) ;; *) fail "$label: failed requests" ;; esac
}

BEFORE=$(sheets)
echo "serving $BEFORE sheets on $BASE; wrk: 2 threads, $CONNECTIONS connections, no answer cache; yosan-index at nice $NICE"

# (a) an incremental run: every sheet of 1% of the files changed.
python3 - "$CORPUS" <<'EOF'
import os, sys
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs if f.endswith(".txt"))
for p in files[::100]:
    t = open(p, encoding="utf-8").read()
    open(p, "w", encoding="utf-8").write(t.replace("予算額 ", "予算額  "))
EOF
with_load "(a) incremental, 1% changed" index
[ "$(sheets)" = "$BEFORE" ] || fail "(a) sheet count changed: $BEFORE → $(sheets)"

# (b) a full rebuild.
T0=$(date +%s.%N)
with_load "(b) full rebuild (--full)" index --full
FULL_SECONDS=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a - 2 }')
[ "$(sheets)" = "$BEFORE" ] || fail "(b) sheet count changed: $BEFORE → $(sheets)"

# (c) three runs killed at random moments, under load, with /healthz polled throughout.
: >"$WORK/counts"
( while true; do c=$(sheets); [ -n "$c" ] && echo "$c" >>"$WORK/counts"; sleep 0.2; done ) &
POLL_PID=$!
NFILES=$(find "$CORPUS" -name '*.txt' | wc -l)
mapfile -t MOVABLE < <(find "$CORPUS" -name '*.txt' | sort | tail -n $(( NFILES / 10 > 0 ? NFILES / 10 : 1 )))
killed_run() {  # killed_run KIND: toggles a tenth of the files, starts a run, kills it at a random moment
  local kind=$1 old new delay
  old=$(sheets)
  local f
  if [ -e "${MOVABLE[0]}" ]; then  # taken out (file names are unique across the corpus folders)
    for f in "${MOVABLE[@]}"; do mv "$f" "$SPARE/"; done
  else                             # put back where they were
    for f in "${MOVABLE[@]}"; do mv "$SPARE/$(basename "$f")" "$f"; done
  fi
  local args=(--allow-mass-delete)
  [ "$kind" = full ] && args+=(--full)
  # A random moment between 5% and 95% of the run's expected length: for --full, the length of (b); for an
  # incremental run, of the tenth of the files' share of a full one.
  local expect=$FULL_SECONDS
  [ "$kind" = full ] || expect=$(awk -v t="$FULL_SECONDS" 'BEGIN { printf "%.1f", t / 10 + 1 }')
  delay=$(awk -v r=$RANDOM -v t="$expect" 'BEGIN { printf "%.1f", t * (0.05 + 0.9 * (r % 1000) / 1000) }')
  nice -n "$NICE" "$INDEXER" --config "$CONFIG" --index "$INDEX" -q "${args[@]}" "$CORPUS" >/dev/null 2>&1 &
  local pid=$!
  sleep "$delay"
  local state=killed
  if kill -9 "$pid" 2>/dev/null; then :; else state="had finished"; fi
  wait "$pid" 2>/dev/null || true
  sleep 0.5
  local after
  after=$(sheets)
  # What a complete run gives, measured afterwards with an incremental run that is allowed to finish (the
  # same count as a --full one, in a fraction of the time).
  new=$(index --allow-mass-delete >/dev/null; sheets)
  echo "kill at ${delay} s of the $kind run ($state): before $old, after the kill $after, complete run $new"
  [ "$after" = "$old" ] || [ "$after" = "$new" ] || fail "after a kill: $after is neither $old nor $new"
  echo "$old $new" >>"$WORK/allowed"
}
: >"$WORK/allowed"
three_kills() {  # the files go out, come back (an incremental run with real work to do), go out again
  killed_run full
  killed_run incremental
  killed_run full
}
with_load "(c) three runs killed with SIGKILL" three_kills
kill "$POLL_PID" 2>/dev/null || true
wait "$POLL_PID" 2>/dev/null || true
POLL_PID=""
ALLOWED=$(tr ' ' '\n' <"$WORK/allowed" | sort -u | tr '\n' ' ')
SEEN=$(sort -u "$WORK/counts" | tr '\n' ' ')
echo "  /healthz sheet counts seen during (c): $SEEN($(wc -l <"$WORK/counts") polls); before/after counts: $ALLOWED"
for c in $SEEN; do
  case " $ALLOWED " in *" $c "*) ;; *) fail "/healthz reported $c sheets, neither a before nor an after count" ;; esac
done
echo "server errors logged: $(grep -c . "$WORK/server.err" || true)"
[ "$FAILED" -eq 0 ] && echo "OK: no failed request, no mixed count" || echo "FAILED"
exit "$FAILED"
