#!/usr/bin/env bash
# yosan vs Groonga side by side (issue 9): index throughput (and raw `mecab -Owakati`), index size, indexer
# peak RSS, warm query latency one at a time, wrk throughput without cache, server start to first answer.
#
#   bench/perf/run.sh [--sheets 10500|105000] [--build BUILD_DIR] [--reps N] [--work DIR] [--skip-index]
#                     [--passes N] [--wrk-seconds S] [--groonga-online]
#
#   --sheets N        generated corpus size (bench/gen/gen.py; 10500 ≈ 22 MB, 105000 ≈ 219 MB). Default 10500.
#   --build DIR       the yosan build to measure (default: build/ of this checkout); any Release build works.
#   --reps N          interleaved repetitions of each indexing run, server start and wrk run (default 2).
#   --work DIR        where corpora, indexes and results go (default: BUILD_DIR/bench-perf): corpus-N/ is
#                     cached by its generator arguments; run-N/ (config, indexes, logs, results/) is redone.
#   --skip-index      reuse the indexes of the last run of this size (its indexing figures are reprinted).
#   --passes N        measured passes over the query mix one request at a time (default 3; one more
#                     pass before them warms the servers and is discarded).
#   --wrk-seconds S   duration of each wrk run (default 10).
#   --groonga-online  Groonga builds its indexes during load (index columns made first) instead of once
#                     after load (static index construction, Groonga's fast way and the default here).
#
# MeCab with UniDic for everyone: Groonga's TokenMecab and `mecab` read a mecabrc generated in the work dir
# (MECABRC), naming the dictionary of [analysis] dictionary_path in config/yosan.toml. Nothing is installed:
# missing tools are listed and the script exits 2. Nothing is asserted: it prints a table with ratios, then
# one FIGURES line per row. Figures are medians over the reps; yosan, Groonga (and MeCab) alternate.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHEETS=10500
BUILD=$ROOT/build
REPS=2
PASSES=3
WRK_SECONDS=10
WORK=""
SKIP_INDEX=0
GROONGA_ONLINE=""
usage() { sed -n 2,24p "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --sheets) SHEETS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --passes) PASSES=$2; shift 2 ;;
    --wrk-seconds) WRK_SECONDS=$2; shift 2 ;;
    --skip-index) SKIP_INDEX=1; shift ;;
    --groonga-online) GROONGA_ONLINE=--groonga-online; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/perf: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$SHEETS" "$REPS" "$PASSES" "$WRK_SECONDS"; do
  case "$n" in ''|*[!0-9]*|0) echo "bench/perf: not a positive number: $n" >&2; exit 2 ;; esac
done
[ -d "$BUILD" ] || { echo "bench/perf: no build dir $BUILD" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
WORK=${WORK:-$BUILD/bench-perf}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
PERF="python3 $HERE/perf.py"
QUERIES=$HERE/queries.tsv
INDEXER=$BUILD/indexer/yosan-index
SEARCHER=$BUILD/searcher/yosan-search

# ------------------------------------------------------------------------------------------ what is there
missing=()
need() {  # need COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null 2>&1 || missing+=("$1 (apt-get install $2)")
}
need groonga groonga-bin
need mecab mecab
need wrk wrk
need curl curl
need python3 python3
[ -x /usr/bin/time ] || missing+=("/usr/bin/time (apt-get install time)")
[ -x "$INDEXER" ] || missing+=("$INDEXER (build yosan: cmake --build $BUILD)")
[ -x "$SEARCHER" ] || missing+=("$SEARCHER (build yosan: cmake --build $BUILD)")
if command -v groonga >/dev/null 2>&1; then
  probe=$(mktemp -d)
  if ! printf 'plugin_register tokenizers/mecab\n' | groonga -n "$probe/db" 2>/dev/null | grep -q '^\[\[0,'; then
    missing+=("Groonga's TokenMecab plugin (apt-get install groonga-tokenizer-mecab)")
  fi
  rm -rf "$probe"
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/perf: missing (this script installs nothing):" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 2
fi

RUN=$WORK/run-$SHEETS               # everything of one corpus size but the corpus itself
mkdir -p "$RUN"
CONFIG=$RUN/yosan.toml
CORPUS=$WORK/corpus-$SHEETS
RESULTS=$RUN/results
YOSAN_DIR=$RUN/yosan            # the yosan index (a stub and its generations) lives in here
GROONGA_DIR=$RUN/groonga
$PERF config --source "$ROOT/config/yosan.toml" --build "$BUILD" --index "$YOSAN_DIR/index" \
  --corpus "$CORPUS" --out "$CONFIG"
DICDIR=$($PERF mecabrc --config "$CONFIG")
if [ ! -f "$DICDIR/sys.dic" ]; then
  echo "bench/perf: missing: the MeCab dictionary $DICDIR of $ROOT/config/yosan.toml (apt-get install unidic-mecab)" >&2
  exit 2
fi
export MECABRC=$WORK/mecabrc      # read by `mecab` and by Groonga's TokenMecab (no system file changed)
printf '; bench/perf: UniDic for yosan, Groonga and mecab alike\ndicdir = %s\n' "$DICDIR" >"$MECABRC"
if [ "$(printf '半導体\n' | mecab -D 2>/dev/null | sed -n 's/^filename:\t//p')" != "$DICDIR/sys.dic" ]; then
  echo "bench/perf: mecab does not read $MECABRC" >&2; exit 1
fi

SERVER_PIDS=()
cleanup() {
  for p in "${SERVER_PIDS[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
MACHINE="$(nproc) CPUs ($CPU), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
LOAD_BEFORE=$(loadavg)
echo "bench/perf: $(date -u '+%F %H:%M UTC'); $MACHINE; load $LOAD_BEFORE"
echo "bench/perf: build $BUILD, work dir $WORK, $SHEETS sheets, $REPS reps"

# ------------------------------------------------------------------------------------------------ corpus
GEN_KEY="sheets=$SHEETS per-file=105 seed=7 gen=$(sha256sum "$ROOT/bench/gen/gen.py" | cut -c1-12)"
if [ ! -f "$CORPUS/.done" ] || [ "$(cat "$CORPUS/.done")" != "$GEN_KEY" ]; then
  echo "bench/perf: generating the corpus ($GEN_KEY)"
  rm -rf "$CORPUS"
  python3 "$ROOT/bench/gen/gen.py" --out "$CORPUS" --sheets "$SHEETS" --per-file 105 --seed 7 \
    --index-binary "$INDEXER" --config "$CONFIG"
  echo "$GEN_KEY" >"$CORPUS/.done"
fi

mkdir -p "$RESULTS"
# The sheets as yosan parses them, for Groonga and mecab: the same records, the same text.
if [ "$SKIP_INDEX" = 0 ] || [ ! -f "$RUN/stats.json" ]; then
  echo "bench/perf: dumping the parsed sheets (yosan-index --dump) for Groonga and mecab"
  "$INDEXER" --config "$CONFIG" --dump "$CORPUS" >"$RUN/sheets.jsonl" 2>"$RUN/dump.err" || [ $? -eq 3 ]
  $PERF prepare --sheets "$RUN/sheets.jsonl" --corpus "$CORPUS" --work "$WORK" --load "$RUN/groonga-load.grn" \
    --text "$RUN/sheets.txt" --stats "$RUN/stats.json" $GROONGA_ONLINE
fi
cp "$RUN/stats.json" "$RESULTS/stats.json"
NSHEETS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sheets"])' "$RUN/stats.json")

# -------------------------------------------------------------------------------------------- indexing
# timed ENGINE REP COMMAND...: runs the command under /usr/bin/time -v, appends a row to index.tsv
# (engine, rep, wall s, user s, sys s, peak RSS kB, exit status).
timed() {
  local eng=$1 rep=$2; shift 2
  local t0 t1 status=0
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$RUN/time.txt" "$@" || status=$?
  t1=$(date +%s%N)
  awk -v e="$eng" -v r="$rep" -v w="$(( (t1 - t0) / 1000000 ))" -v s="$status" -F': ' '
    /User time/ {u=$2} /System time/ {y=$2} /Maximum resident set size/ {m=$2}
    END {printf "%s\t%s\t%.3f\t%s\t%s\t%s\t%s\n", e, r, w / 1000, u, y, m, s}' "$RUN/time.txt" >>"$RESULTS/index.tsv"
  tail -1 "$RESULTS/index.tsv" | awk '{printf "  %-8s rep %s: %7.2f s wall, %7.2f s CPU, peak RSS %4.0f MB, exit %s\n", $1, $2, $3, $4 + $5, $6 / 1000 * 1.024, $7}'
  return 0
}
if [ "$SKIP_INDEX" = 0 ] || [ ! -d "$GROONGA_DIR" ] || [ ! -d "$YOSAN_DIR" ]; then
  : >"$RESULTS/index.tsv"
  echo "bench/perf: indexing, interleaved (yosan, Groonga, mecab) × $REPS"
  for rep in $(seq 1 "$REPS"); do
    rm -rf "$YOSAN_DIR"; mkdir -p "$YOSAN_DIR"
    timed yosan "$rep" sh -c 'exec "$1" --config "$2" --full --json >"$3" 2>"$4"' sh "$INDEXER" "$CONFIG" \
      "$RUN/yosan-index.json" "$RUN/yosan-index.err"
    status=$(tail -1 "$RESULTS/index.tsv" | cut -f7)
    if [ "$status" != 0 ] && [ "$status" != 3 ]; then
      echo "bench/perf: yosan-index failed (exit $status):" >&2; tail -5 "$RUN/yosan-index.err" >&2; exit 1
    fi
    rm -rf "$GROONGA_DIR"; mkdir -p "$GROONGA_DIR"
    timed groonga "$rep" sh -c 'exec groonga -n "$1" <"$2" >"$3"' sh "$GROONGA_DIR/db" "$RUN/groonga-load.grn" \
      "$RUN/groonga-load.out"
    $PERF check-groonga --output "$RUN/groonga-load.out" --sheets "$NSHEETS"
    # -b: a sheet's text can be one long line; mecab's default input buffer is 8 KB.
    timed mecab "$rep" sh -c 'exec mecab -Owakati -b 16777216 <"$1" >/dev/null' sh "$RUN/sheets.txt"
  done
  # /usr/bin/time -v on `sh -c 'exec …'` measures the command itself (exec replaces the shell).
else
  echo "bench/perf: --skip-index: reusing the indexes in $RUN (indexing figures of the last run)"
fi
yosan_docs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("documents", "?"))' \
  "$RUN/yosan-index.json" 2>/dev/null || echo "?")
echo "bench/perf: yosan indexed $yosan_docs documents, Groonga $NSHEETS records"
python3 - "$YOSAN_DIR" "$GROONGA_DIR" "$RESULTS/sizes.json" <<'EOF'
import json, subprocess, sys
def du(path, *flags):
    return int(subprocess.run(["du", "-s", *flags, path], capture_output=True, text=True, check=True).stdout.split()[0])
y, g, out = sys.argv[1:4]
json.dump({"yosan_apparent": du(y, "-b"), "yosan_allocated": du(y, "-B1"),
           "groonga_apparent": du(g, "-b"), "groonga_allocated": du(g, "-B1")}, open(out, "w"))
EOF

# --------------------------------------------------------------------------------------------- servers
THREADS=$(nproc)
yosan_cmd=("$SEARCHER" serve --config "$CONFIG" --index "$YOSAN_DIR/index" --cache-entries 0)
groonga_cmd=(groonga -s --protocol http --bind-address 127.0.0.1 --cache-limit 0 -t "$THREADS")

echo "bench/perf: server start → first answered search, interleaved × $REPS"
ys=""; gs=""
for rep in $(seq 1 "$REPS"); do
  y=$($PERF startup --engine yosan --queries "$QUERIES" --reps 1 --log "$RUN/server-yosan.log" -- \
    "${yosan_cmd[@]}" --listen '127.0.0.1:{port}')
  g=$($PERF startup --engine groonga --queries "$QUERIES" --reps 1 --log "$RUN/server-groonga.log" -- \
    "${groonga_cmd[@]}" -p '{port}' "$GROONGA_DIR/db")
  echo "  rep $rep: yosan $y ms, Groonga $g ms"
  ys+=" $y"; gs+=" $g"
done
printf 'yosan\t%s\ngroonga\t%s\n' "${ys# }" "${gs# }" >"$RESULTS/startup.tsv"

YPORT=$($PERF free-port)
"${yosan_cmd[@]}" --listen "127.0.0.1:$YPORT" >"$RUN/server-yosan.log" 2>&1 &
SERVER_PIDS+=($!)
GPORT=$($PERF free-port)
"${groonga_cmd[@]}" -p "$GPORT" "$GROONGA_DIR/db" >"$RUN/server-groonga.log" 2>&1 &
GROONGA_PID=$!
SERVER_PIDS+=($GROONGA_PID)
YBASE=http://127.0.0.1:$YPORT
GBASE=http://127.0.0.1:$GPORT
$PERF wait --engine yosan --base "$YBASE" --queries "$QUERIES"
$PERF wait --engine groonga --base "$GBASE" --queries "$QUERIES"

nq=$(grep -cv '^#' "$QUERIES")
echo "bench/perf: $nq queries one at a time, warm (1 pass discarded, $PASSES measured), interleaved per query"
$PERF latency --yosan "$YBASE" --groonga "$GBASE" --queries "$QUERIES" --passes "$PASSES" --results "$RESULTS"

$PERF wrk-lua --engine yosan --queries "$QUERIES" --out "$RUN/yosan.lua"
$PERF wrk-lua --engine groonga --queries "$QUERIES" --out "$RUN/groonga.lua"
echo "bench/perf: wrk, no cache, the mix in rotation, ${WRK_SECONDS} s each, interleaved × $REPS"
: >"$RESULTS/wrk.tsv"
for rep in $(seq 1 "$REPS"); do
  for c in 2 8; do
    for eng in yosan groonga; do
      if [ "$eng" = yosan ]; then base=$YBASE; else base=$GBASE; fi
      wrk -t 2 -c "$c" -d "${WRK_SECONDS}s" --timeout 10s --latency -s "$RUN/$eng.lua" "$base/" >"$RUN/wrk.out" 2>&1 || true
      fig=$(grep '^FIGURES' "$RUN/wrk.out" || echo "FIGURES requests=0 seconds=0 req_per_s=nan p50_ms=nan p90_ms=nan p99_ms=nan max_ms=nan errors=0 non_2xx=0")
      printf '%s\t%s\t%s\t%s\n' "$eng" "$c" "$rep" "$fig" >>"$RESULTS/wrk.tsv"
      echo "  $eng, $c connections: ${fig#FIGURES }"
    done
  done
done

LOAD_AFTER=$(loadavg)
python3 - "$RESULTS/meta.json" "$MACHINE" "$LOAD_BEFORE" "$LOAD_AFTER" "$(groonga --version | head -1 | cut -d' ' -f1-2)" \
  "$DICDIR" "$REPS" "$BUILD" <<'EOF'
import json, sys
out, machine, before, after, groonga, dicdir, reps, build = sys.argv[1:9]
json.dump({"machine": machine, "load_before": before, "load_after": after, "groonga": groonga, "dicdir": dicdir,
           "reps": int(reps), "build": build}, open(out, "w"))
EOF
$PERF table --results "$RESULTS" | tee "$RESULTS/table.txt"
