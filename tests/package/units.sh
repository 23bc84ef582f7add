#!/usr/bin/env bash
# The systemd units as installed (config/systemd/*.in, filled in by config/CMakeLists.txt).
#   units.sh verify BUILD_DIR   ctest package_units: `cmake --install` into a scratch DESTDIR, then
#                               `systemd-analyze verify` on the installed units (any message fails), and
#                               `systemd-analyze security --offline` must rate each service's exposure at
#                               most 2.0 ("OK"), so that a hardening line removed by mistake fails.
#   units.sh start BUILD_DIR    ctest package_units_start: starts the units for real under systemd, from the
#                               same DESTDIR install. Needs systemd as PID 1 and root; skipped (exit 77)
#                               otherwise, e.g. in a container.
# systemd-analyze refuses an ExecStart= binary that does not exist, and with --root it also wants the whole
# systemd tree (sysinit.target, ...) inside the root; so the units are checked as copies whose binary paths
# point into the DESTDIR, everything else unchanged.
set -euo pipefail
MODE=$1
BUILD_DIR=$(cd "$2" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIPPED: $*" >&2; exit 77; }

command -v systemd-analyze >/dev/null || skip "systemd-analyze is missing (Debian package systemd)"
if [ "$MODE" = start ]; then
  pid1=$(ps -p 1 -o comm= || true)
  [ "$pid1" = systemd ] || skip "starting the units needs systemd as PID 1; PID 1 here is '$pid1' (a container?). Only 'systemd-analyze verify' ran (ctest package_units)."
  [ "$(id -u)" -eq 0 ] || skip "starting the units needs root"
fi

WORK="$BUILD_DIR/package-units-$MODE"
rm -rf "$WORK"
mkdir -p "$WORK/units"
DEST="$WORK/root"
DESTDIR="$DEST" cmake --install "$BUILD_DIR" > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "cmake --install"; }
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
unit_dir=$(sed -n 's/^YOSAN_SYSTEMD_UNIT_DIR:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
[[ $unit_dir = /* ]] || unit_dir=$prefix/$unit_dir
units=(yosan-search.service yosan-reindex.service yosan-reindex.timer)
for u in "${units[@]}"; do
  [ -f "$DEST$unit_dir/$u" ] || fail "$u is not installed in $unit_dir"
  sed "s#$prefix/bin/#$DEST$prefix/bin/#g" "$DEST$unit_dir/$u" > "$WORK/units/$u"
done
grep -q "^ExecStart=$DEST$prefix/bin/yosan-search serve --config /etc/yosan/yosan.toml$" "$WORK/units/yosan-search.service" ||
  fail "yosan-search.service does not run the installed yosan-search with /etc/yosan/yosan.toml"
[ -x "$DEST$prefix/bin/yosan-search" ] && [ -x "$DEST$prefix/bin/yosan-index" ] || fail "binaries not installed"

if [ "$MODE" = verify ]; then
  out=$(cd "$WORK/units" && systemd-analyze verify "${units[@]/#/$WORK/units/}" 2>&1) || { echo "$out" >&2; fail "systemd-analyze verify exited non-zero"; }
  # verify exits 0 on unknown keys and bad values ("Unknown key …, ignoring"): any message is a failure.
  [ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify has something to say about the units"; }
  echo "systemd-analyze verify: ${units[*]}: no message"
  # The replica units, installed as examples (docs/replicas.md), are checked the same way.
  examples=$DEST$prefix/share/doc/yosan/examples
  out=$(systemd-analyze verify "$examples/yosan-replicate.service" "$examples/yosan-replicate-server.service" 2>&1) ||
    { echo "$out" >&2; fail "systemd-analyze verify (replica units) exited non-zero"; }
  [ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify has something to say about the replica units"; }
  # Only the re-index writes the index: the server sees /var/lib/yosan read-only and may write nowhere.
  grep -qx 'ReadOnlyPaths=/var/lib/yosan' "$WORK/units/yosan-search.service" || fail "yosan-search.service: /var/lib/yosan is not read-only"
  if grep -Eq '^(StateDirectory|ReadWritePaths)=' "$WORK/units/yosan-search.service"; then fail "yosan-search.service may write somewhere"; fi
  grep -qx 'StateDirectory=yosan' "$WORK/units/yosan-reindex.service" || fail "yosan-reindex.service does not own /var/lib/yosan"
  for u in yosan-search.service yosan-reindex.service; do
    sec=$(systemd-analyze security --offline=yes --threshold=20 "$WORK/units/$u" 2>&1) ||
      { echo "$sec" >&2; fail "$u: exposure above 2.0 (systemd-analyze security)"; }
    grep 'Overall exposure level' <<<"$sec"
  done
  exit 0
fi

# --- start: the real units under systemd, as transient copies named yosan-ctest-*, with a drop-in that
# gives them a scratch config and state directory so that an installed yosan on this machine is not touched.
CONFIG="$WORK/yosan.toml"
port=$(( 20000 + RANDOM % 20000 ))
sed -E "s#\"(/usr/|/etc/yosan/)#\"$DEST\\1#g; s#\"/var/lib/yosan/#\"/var/lib/yosan-ctest/#g; s#^listen = .*#listen = \"127.0.0.1:$port\"#" \
  "$DEST/etc/yosan/yosan.toml" > "$CONFIG"
run=/run/systemd/system
cleanup() {
  systemctl stop yosan-ctest-search.service yosan-ctest-reindex.service >/dev/null 2>&1 || true
  rm -rf "$run"/yosan-ctest-*
  systemctl daemon-reload || true
  rm -rf /var/lib/yosan-ctest /var/lib/private/yosan-ctest
}
trap cleanup EXIT
for name in search reindex; do
  sed "s#/etc/yosan/yosan.toml#$CONFIG#" "$WORK/units/yosan-$name.service" > "$run/yosan-ctest-$name.service"
  mkdir -p "$run/yosan-ctest-$name.service.d"
  # DynamicUser: no yosan user is needed on the test machine. The scratch state directory replaces
  # /var/lib/yosan for both units (a DynamicUser reaches /var/lib/private only through StateDirectory=, so
  # here the server's copy is not read-only; verify mode checks the real units' ReadOnlyPaths=).
  printf '[Service]\nDynamicUser=yes\nStateDirectory=\nStateDirectory=yosan-ctest\nWorkingDirectory=/var/lib/yosan-ctest\nReadOnlyPaths=\nReadWritePaths=\n' \
    > "$run/yosan-ctest-$name.service.d/ctest.conf"
done
systemctl daemon-reload
systemctl start yosan-ctest-reindex.service || { journalctl -u yosan-ctest-reindex --no-pager | tail -20 >&2; fail "yosan-ctest-reindex.service failed"; }
journalctl -u yosan-ctest-reindex --no-pager | tail -3
systemctl start yosan-ctest-search.service
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" > "$WORK/healthz.json" 2>/dev/null && break
  sleep 0.2
done
[ -s "$WORK/healthz.json" ] || { journalctl -u yosan-ctest-search --no-pager | tail -20 >&2; fail "yosan-ctest-search.service does not answer /healthz"; }
cat "$WORK/healthz.json"
total=$(curl -fsS "http://127.0.0.1:$port/api/search?q=%E8%93%84%E9%9B%BB%E6%B1%A0" | jq '.total')
[ "$total" -ge 4 ] || fail "蓄電池 gives $total sheets through the started unit"
echo "units started under systemd: the index was built by yosan-ctest-reindex and yosan-ctest-search answers 蓄電池 ($total sheets)"
