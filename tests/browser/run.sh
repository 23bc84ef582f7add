#!/usr/bin/env bash
# ctest entry for the browser test: makes sure npm and playwright-core are there, then runs
# search.test.js against BUILD_DIR. Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD_DIR=$1
SOURCE_DIR=$2
HERE="$SOURCE_DIR/tests/browser"

for tool in node /usr/bin/chromium; do
  if ! command -v "$tool" >/dev/null; then
    echo "browser test: $tool is missing (scripts/test installs the Debian packages nodejs and chromium)" >&2
    exit 1
  fi
done
# Debian ships npm as its own package, which conflicts with the npm bundled in other nodejs builds, so it
# cannot sit in YOSAN_PACKAGES; install it only when there is no npm at all.
if ! command -v npm >/dev/null; then
  echo "browser test: installing the Debian package npm" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm >/dev/null
fi
# playwright-core only (no browser download); node_modules is not in git. A lock file newer than the
# install means the pinned version changed.
# Two build directories running ctest at once must not both install into the same folder.
exec 9>"${TMPDIR:-/tmp}/yosan-browser-npm.lock"
flock 9
if [ ! -d "$HERE/node_modules/playwright-core" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
flock -u 9
exec node "$HERE/search.test.js" "$BUILD_DIR" "$SOURCE_DIR"
