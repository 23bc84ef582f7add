#!/usr/bin/env bash
# Times the nightly job on a generated corpus of ≥10,000 sheets (bench/gen/gen.py) and prints the figures:
#   first run (empty index), no-change run, 1% of sheets changed in 1% of the files (the usual night),
#   1% of sheets changed scattered over every file (the worst case for skipping files), and --full.
#
#   bench/reindex/run.sh [WORKDIR]      (default: build/bench-reindex; env YOSAN_BUILD=build dir, SHEETS=10500)
#
# The corpus is regenerated only when missing; the index is always rebuilt from scratch. Wall-clock seconds
# are measured around the process (MeCab start-up included); the "s" of yosan-index's own summary is
# printed beside them. Run on an otherwise idle machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${YOSAN_BUILD:-$ROOT/build}
WORK=${1:-$BUILD/bench-reindex}
SHEETS=${SHEETS:-10500}
INDEXER=$BUILD/indexer/yosan-index
CONFIG=$ROOT/config/yosan.toml
PRISTINE=$WORK/corpus-generated
CORPUS=$WORK/corpus  # a fresh copy each time: the runs below edit it
INDEX=$WORK/index
[ -x "$INDEXER" ] || { echo "build first: $INDEXER is missing" >&2; exit 1; }

mkdir -p "$WORK"
if [ ! -f "$PRISTINE/.done-$SHEETS" ]; then
  rm -rf "$PRISTINE"
  python3 "$ROOT/bench/gen/gen.py" --out "$PRISTINE" --sheets "$SHEETS" --index-binary "$INDEXER" --config "$CONFIG"
  touch "$PRISTINE/.done-$SHEETS"
fi
rm -rf "$CORPUS" "$INDEX" "$INDEX".g* "$INDEX.lock"
cp -r "$PRISTINE" "$CORPUS"

# run LABEL [yosan-index options...]: one timed run; prints a row of the table.
run() {
  local label=$1; shift
  local t0 t1 json status=0
  t0=$(date +%s.%N)
  json=$("$INDEXER" --config "$CONFIG" --index "$INDEX" --json "$@" "$CORPUS" 2>/dev/null) || status=$?
  t1=$(date +%s.%N)
  python3 - "$label" "$t0" "$t1" "$status" "$json" <<'EOF'
import json, sys
label, t0, t1, status, text = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
j = json.loads(text)
print(f"{label:<34} {t1 - t0:8.2f} s wall {j['seconds']:8.2f} s own   files parsed {j['files_parsed']:>4}/{j['files']:<4}"
      f" added {j['added']:>5} updated {j['updated']:>5} deleted {j['deleted']:>4} unchanged {j['unchanged']:>5}"
      f" docs {j['documents']:>5} exit {status}")
EOF
}

# change FRACTION_OF_FILES: adds a space after the budget words of the chosen sheets. Every changed sheet's
# budget line differs, so each one is re-analysed and rewritten.
change_clustered() {  # every sheet of 1% of the files
  python3 - "$CORPUS" <<'EOF'
import os, sys
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs if f.endswith(".txt"))
for p in files[:: 100]:
    t = open(p, encoding="utf-8").read()
    open(p, "w", encoding="utf-8").write(t.replace("予算額 ", "予算額  "))
EOF
}
change_scattered() {  # one sheet in every file (~1% of the sheets)
  python3 - "$CORPUS" <<'EOF'
import os, sys
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs if f.endswith(".txt"))
for p in files:
    t = open(p, encoding="utf-8").read()
    open(p, "w", encoding="utf-8").write(t.replace("予算額 ", "予算額\u3000", 1))
EOF
}

# The nightly run meets files copied in during the day: a file changed less than [index] settle_seconds (60)
# ago is left for the next run, so every edit below is dated ten minutes back.
settled() { find "$CORPUS" -name '*.txt' -exec touch -d '10 minutes ago' {} +; }
settled

echo "corpus: $(find "$CORPUS" -name '*.txt' | wc -l) files, $SHEETS sheets generated, $(du -sh "$CORPUS" | cut -f1); $(nproc) cores"
run "first run (empty index)"
run "no change"
run "no change (again)"
change_clustered
settled
run "1% changed (1% of files)"
change_scattered
settled
run "1% changed (1 sheet in every file)"
run "no change"
run "full rebuild (--full)" --full
