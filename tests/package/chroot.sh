#!/usr/bin/env bash
# Opt-in, not in ctest: the real `apt install ./yosan_*.deb` in a fresh Debian 12 (bookworm) chroot made by
# debootstrap, as an administrator would on a new server: the dependencies come from the Debian mirror, the
# postinst creates the yosan user and /var/lib/yosan, the installed yosan-index indexes the installed sample
# as that user, yosan-search answers, and purge removes the state. Needs root, debootstrap and the network to
# the Debian mirror; the first run downloads about 200 MB and takes minutes (the chroot is kept for the
# next run). systemd does not run inside a chroot, so the units are not started here (ctest
# package_units_start does that where systemd is PID 1).
#   tests/package/chroot.sh BUILD_DIR [CHROOT_DIR] [MIRROR]
set -euo pipefail
BUILD_DIR=$(cd "$1" && pwd)
CH=${2:-$BUILD_DIR/package-chroot/bookworm}
MIRROR=${3:-http://deb.debian.org/debian}
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap"
command -v jq >/dev/null || fail "jq is missing (scripts/deps.sh)"

OUT="$BUILD_DIR/package-chroot"
mkdir -p "$OUT"
rm -rf "$OUT/cpack"
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$OUT/cpack" > "$OUT/cpack.log" 2>&1 || { cat "$OUT/cpack.log" >&2; fail cpack; }
DEB=$(ls "$OUT"/cpack/yosan_*.deb)

if [ ! -x "$CH/usr/bin/apt-get" ]; then
  echo "debootstrap bookworm into $CH (minutes)" >&2
  debootstrap --variant=minbase bookworm "$CH" "$MIRROR" > "$OUT/debootstrap.log" 2>&1 ||
    { tail -20 "$OUT/debootstrap.log" >&2; fail debootstrap; }
fi
mountpoint -q "$CH/proc" || mount -t proc proc "$CH/proc"
trap 'umount "$CH/proc" 2>/dev/null || true' EXIT
in_chroot() { chroot "$CH" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

cp "$DEB" "$CH/tmp/"
in_chroot apt-get update -qq
in_chroot apt-get install -y -qq "/tmp/$(basename "$DEB")" > "$OUT/apt-install.log" 2>&1 ||
  { tail -30 "$OUT/apt-install.log" >&2; fail "apt install"; }
echo "installed: $(in_chroot dpkg-query -W -f='${Package} ${Version} ${Status}' yosan)"
in_chroot getent passwd yosan > /dev/null || fail "no yosan user after install"
[ "$(in_chroot stat -c %U /var/lib/yosan)" = yosan ] || fail "/var/lib/yosan is not owned by yosan"

in_chroot setpriv --reuid=yosan --regid=yosan --init-groups yosan-index --config /etc/yosan/yosan.toml --json > "$OUT/index.json" ||
  fail "yosan-index as the yosan user"
cat "$OUT/index.json"
in_chroot yosan-search --config /etc/yosan/yosan.toml --json --limit 4 蓄電池 > "$OUT/search.json" || fail "yosan-search"
titles=$(jq -c '[.hits[].title] | sort' "$OUT/search.json")
expected='["次世代全固体蓄電池材料の評価・基盤技術の開発事業","蓄電池の製造サプライチェーン強靱化支援事業","蓄電池等の製品の持続可能性向上に向けた基盤整備・実証事業","電気自動車用革新型蓄電池技術開発"]'
[ "$titles" = "$expected" ] || fail "蓄電池: first four $titles, expected $expected (tests/package/run.sh)"
echo "蓄電池: $(jq '.total' "$OUT/search.json") sheets, the four battery sheets first"

in_chroot apt-get purge -y -qq yosan > "$OUT/apt-purge.log" 2>&1 || { tail -20 "$OUT/apt-purge.log" >&2; fail "apt purge"; }
[ ! -e "$CH/var/lib/yosan" ] || fail "/var/lib/yosan is left after purge"
[ ! -e "$CH/etc/yosan/yosan.toml" ] || fail "/etc/yosan/yosan.toml is left after purge"
echo "chroot: apt install, index, search and purge of $(basename "$DEB") in Debian 12: ok"
