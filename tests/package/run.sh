#!/usr/bin/env bash
# ctest "package" (label package): builds the Debian package from BUILD_DIR with cpack, checks its control
# fields and contents, unpacks it into a scratch root with dpkg-deb -x and runs the unpacked yosan-index and
# yosan-search there, with the installed config's paths moved under the scratch root: the sample corpus is
# indexed and real searches answer, on the command line and over HTTP (the page is built into the binary).
# Nothing is installed on the machine (tests/package/chroot.sh does a real apt install, by hand).
#   run.sh BUILD_DIR SOURCE_DIR
# Exit 77 (ctest SKIP_RETURN_CODE) when a tool is missing (scripts/deps.sh installs them).
set -euo pipefail
BUILD_DIR=$(cd "$1" && pwd)
SOURCE_DIR=$(cd "$2" && pwd)

for tool in cpack dpkg-deb dpkg-shlibdeps jq curl readelf; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIPPED: package test: $tool is missing (scripts/deps.sh installs it: dpkg-dev, jq, curl, binutils)" >&2
    exit 77
  fi
done

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
if [ "$prefix" != /usr ]; then
  echo "SKIPPED: package test: this build is configured for the prefix $prefix; the Debian package is made from a build with the default prefix /usr" >&2
  exit 77
fi

WORK="$BUILD_DIR/package-test"
rm -rf "$WORK"
mkdir -p "$WORK"
ROOT="$WORK/root"
fail() { echo "FAIL: $*" >&2; exit 1; }
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; true; }
trap cleanup EXIT

# --- the package ---------------------------------------------------------------------------------------
# Into the scratch folder (-B), so that the build tree's own _CPack_Packages is not touched.
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$WORK/cpack" > "$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log" >&2; fail "cpack -G DEB"; }
debs=("$WORK"/cpack/yosan_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "cpack made no single yosan_*.deb: ${debs[*]}"
DEB=${debs[0]}
echo "package: $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

[ "$(dpkg-deb -f "$DEB" Package)" = yosan ] || fail "Package is not yosan"
depends=$(dpkg-deb -f "$DEB" Depends)
echo "Depends: $depends"
# The shared libraries (dpkg-shlibdeps) and what no link shows (the dictionary, xapian-tools, adduser).
for dep in 'libxapian[0-9]+' 'libmecab[0-9]+' 'libicu[0-9]+' 'libzstd[0-9]+' 'libboost-program-options[0-9.]+' 'libstdc\+\+6' \
           'unidic-mecab' 'xapian-tools' 'adduser'; do
  grep -Eq "(^|, )$dep( |,|$)" <<<"$depends" || fail "Depends lacks $dep"
done
dpkg-deb -I "$DEB" conffiles > "$WORK/conffiles" || fail "no conffiles"
for f in /etc/yosan/yosan.toml /etc/yosan/dict/synonyms.tsv; do
  grep -qx "$f" "$WORK/conffiles" || fail "$f is not a conffile"
done
dpkg-deb -I "$DEB" postinst | grep -q 'adduser --system' || fail "postinst creates no yosan user"

dpkg-deb -c "$DEB" | awk '{print $NF}' > "$WORK/contents"
for f in ./usr/bin/yosan-index ./usr/bin/yosan-search ./etc/yosan/yosan.toml ./etc/yosan/dict/charmap.tsv \
         ./usr/share/yosan/sample/meti-budget-sheets-r7.txt ./usr/lib/systemd/system/yosan-search.service \
         ./usr/lib/systemd/system/yosan-reindex.service ./usr/lib/systemd/system/yosan-reindex.timer \
         ./usr/share/doc/yosan/replicas.md ./usr/share/doc/yosan/examples/yosan-replicate.service \
         ./usr/share/doc/yosan/examples/yosan-replicate-server.service; do
  grep -qx "$f" "$WORK/contents" || fail "$f is not in the package"
done
grep -Eq '^\./usr/lib/[^/]+/yosan/user-unidic\.dic$' "$WORK/contents" || fail "the user dictionary is not in the package"
grep -Eq '^\./usr/lib/[^/]+/yosan/user-unidic\.csv$' "$WORK/contents" || fail "the user dictionary's word list is not in the package"
# Nothing of the source or build tree may leak into the package.
if grep -Eq 'build/|/work/|\.\./' "$WORK/contents"; then fail "build paths in the package: $(grep -E 'build/|/work/' "$WORK/contents")"; fi

# --- unpacked, with the paths moved under the scratch root -------------------------------------------
dpkg-deb -x "$DEB" "$ROOT"
for b in yosan-index yosan-search; do
  # An installed binary must not look for libraries in the build tree.
  if readelf -d "$ROOT/usr/bin/$b" | grep -Eq 'R(UN)?PATH'; then fail "$b has an RPATH/RUNPATH"; fi
done
CONFIG="$WORK/yosan.toml"
# Every path of the package (/usr, /etc/yosan) and the state (/var/lib/yosan) moves under ROOT; the system
# dictionary (/var/lib/mecab, of unidic-mecab) stays where it is.
sed -E "s#\"(/usr/|/etc/yosan/|/var/lib/yosan/)#\"$ROOT\\1#g" "$ROOT/etc/yosan/yosan.toml" > "$CONFIG"
# Each path the installed config names (outside comments) is in the package, or is the state, or belongs to
# the system dictionary.
grep -v '^\s*#' "$CONFIG" | grep -Eo '"/[^"]*"' | tr -d '"' | while read -r path; do
  case $path in
    "$ROOT"/var/lib/yosan/*) ;;
    /var/lib/mecab/*) [ -e "$path" ] || fail "system dictionary $path is missing" ;;
    "$ROOT"/*) [ -e "$path" ] || fail "the installed config names $path, which the package does not have" ;;
    *) fail "the installed config names $path, outside the package" ;;
  esac
done
grep -q "index\"$" <<<"$(grep -E '^path = ' "$CONFIG")" || fail "no [index] path in the installed config"
grep -q "^path = \"$ROOT/var/lib/yosan/index\"" "$CONFIG" || fail "the index is not in /var/lib/yosan/index"

cd "$WORK"  # not the source tree: nothing may be found through the working directory
"$ROOT/usr/bin/yosan-index" --config "$CONFIG" --json > "$WORK/index.json" 2> "$WORK/index.log" ||
  { cat "$WORK/index.log" >&2; fail "yosan-index exited $?"; }
cat "$WORK/index.json"
added=$(jq '.added' "$WORK/index.json")
[ "$added" -ge 100 ] || fail "indexed $added sheets of the sample, expected about 110"
[ -e "$ROOT/var/lib/yosan/index" ] || fail "no index at /var/lib/yosan/index"

search() { "$ROOT/usr/bin/yosan-search" --config "$CONFIG" --json "$@"; }
# The four battery sheets come first (tests/test_search.cpp).
titles=$(search --limit 4 蓄電池 | jq -c '[.hits[].title] | sort')
expected='["次世代全固体蓄電池材料の評価・基盤技術の開発事業","蓄電池の製造サプライチェーン強靱化支援事業","蓄電池等の製品の持続可能性向上に向けた基盤整備・実証事業","電気自動車用革新型蓄電池技術開発"]'
[ "$titles" = "$expected" ] || fail "蓄電池: first four $titles, expected $expected"
# The installed charmap fixes 鈳 to 鉱 (dict/charmap.tsv): this sheet's PDF text says 鈳物.
search --limit 20 鉱物 | jq -e '[.hits[].title] | index("鈳物資源開発・サプライチェーン安定化推進事業") != null' >/dev/null ||
  fail "鉱物 does not find the sheet that says 鈳物 (is the installed charmap used?)"
# A word of the installed user dictionary (dict/user.csv).
search J-クレジット | jq -e '[.hits[].title] | index("国内温室効果ガス排出削減・吸収量認証制度実施事業費") != null' >/dev/null ||
  fail "J-クレジット does not find the J-クレジット sheet"
cli_total=$(search 蓄電池 | jq '.total')

# --- the server, from the unpacked binary, on a free port ----------------------------------------------
"$ROOT/usr/bin/yosan-search" serve --config "$CONFIG" --listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 100); do
  url=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/' "$WORK/serve.log" || true)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$WORK/serve.log" >&2; fail "yosan-search serve exited"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$WORK/serve.log" >&2; fail "yosan-search serve did not say where it listens"; }
# Into a file, not piped: under pipefail `curl | grep -q` fails when grep stops reading first (curl: (23)).
curl -fsS "$url" -o "$WORK/page.html" || fail "GET /"
grep -q '<html' "$WORK/page.html" || fail "GET / is not the page"
curl -fsS "${url}static/app.js" > /dev/null || fail "GET /static/app.js"
http_total=$(curl -fsS "${url}api/search?q=%E8%93%84%E9%9B%BB%E6%B1%A0" | jq '.total')
[ "$http_total" = "$cli_total" ] || fail "/api/search?q=蓄電池: total $http_total, the CLI says $cli_total"
curl -fsS "${url}healthz" | jq -e '.' > /dev/null || fail "GET /healthz"
echo "package test: $(basename "$DEB") indexes the sample and answers 蓄電池 ($cli_total sheets) on the CLI and over HTTP"
