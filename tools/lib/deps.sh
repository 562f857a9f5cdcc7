#!/usr/bin/env bash
# Installs what Isthmus builds and tests with, only what is missing
# (idempotent; a no-op in well under a second once done):
#  - Debian 12 packages: the build, the network tools, and the IMS side of
#    the system tests (Kamailio, sipp, tshark);
#  - Node.js (Debian's, unless a node is already on PATH) and the npm
#    packages, each from its lock file, of tests/system/jssip (JsSIP, the
#    W2 client), controlplane/wwsf/web (the WIC: JsSIP and esbuild) and
#    tests/system/browser (playwright-core, which drives Debian's chromium);
#  - the WIC's bundle, controlplane/wwsf/web/dist/wic.js (npm run build),
#    when it is missing or older than its sources.
# Usage: tools/lib/deps.sh [build|demo]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

packages=(
  build-essential meson ninja-build pkg-config python3
  dpdk-dev libipsec-mb-dev libssl-dev libsrtp2-dev libusrsctp-dev
  libgtest-dev libbenchmark-dev libtomlplusplus-dev libboost-dev libjemalloc-dev clang-format
  clang libclang-rt-14-dev
  prometheus-cpp-dev prometheus
  iproute2 iputils-ping ethtool openssl curl
  kamailio kamailio-websocket-modules kamailio-tls-modules sip-tester tshark jq
  chromium
)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's kamailio package may start its own service on *:5060; the
  # tests start their own Kamailio in namespaces and want no other.
  if command -v systemctl >/dev/null && systemctl is-active -q kamailio 2>/dev/null; then
    echo "deps: stopping and disabling the kamailio system service (tests run their own)" >&2
    $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
fi

# npm packages, from each lock file; again only when the lock changed.
for dir in tests/system/jssip controlplane/wwsf/web tests/system/browser; do
  d=$root/$dir
  if [ -f "$d/package-lock.json" ] &&
     ! cmp -s "$d/package-lock.json" "$d/node_modules/.package-lock.json.installed" 2>/dev/null; then
    echo "deps: npm ci in $dir" >&2
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &&
      cp "$d/package-lock.json" "$d/node_modules/.package-lock.json.installed"
  fi
done

# The WIC's bundle (what isthmus-wwsf serves), when missing or stale.
wic=$root/controlplane/wwsf/web
if [ -d "$wic/node_modules" ] && { [ ! -f "$wic/dist/wic.js" ] ||
   [ -n "$(find "$wic/src" "$wic/build.mjs" "$wic/index.html" "$wic/wic.css" "$wic/package-lock.json" -newer "$wic/dist/wic.js" 2>/dev/null | head -n 1)" ]; }; then
  echo "deps: bundling the WIC (controlplane/wwsf/web/dist/wic.js)" >&2
  (cd "$wic" && npm run --silent build)
fi
