# Debian packages yosan needs, installed with apt-get when missing. Sourced by scripts/run and scripts/test.
YOSAN_PACKAGES=(
  build-essential cmake pkg-config
  libxapian-dev xapian-tools
  libmecab-dev mecab-utils unidic-mecab mecab-ipadic-utf8
  libicu-dev libboost-program-options-dev
  catch2 libcpp-httplib-dev nlohmann-json3-dev libtomlplusplus-dev
  # the document data is compressed with zstd against a dictionary (core/document_data.h)
  libzstd-dev
  # the browser test (headless chromium via playwright-core; npm is installed by tests/browser/run.sh when
  # missing) with a Japanese font for its screenshots, and wrk for bench/http
  nodejs chromium fonts-ipafont-gothic wrk
  # the package tests (tests/package): cpack's dpkg-shlibdeps, systemd-analyze for the units, jq and curl to
  # read the unpacked server's answers, readelf (binutils) for RPATHs
  dpkg-dev systemd jq curl binutils
)

yosan_install_missing() {
  local missing=()
  for p in "${YOSAN_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

yosan_build() {
  cmake -S "$YOSAN_ROOT" -B "$YOSAN_ROOT/build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$YOSAN_ROOT/build" -j "$(nproc)"
}
