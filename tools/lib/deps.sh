#!/usr/bin/env bash
# Installs what Isthmus builds and tests with, only what is missing
# (idempotent; a no-op in well under a second once done):
#  - Debian 12 packages: the build, the network tools, and the IMS side of
#    the system tests (Kamailio, sipp, tshark);
#  - Node.js (Debian's, unless a node is already on PATH) and the npm
#    packages of tests/system/jssip (JsSIP, the W2 client), from its lock file.
# Usage: tools/lib/deps.sh [build|demo]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

packages=(
  build-essential meson ninja-build pkg-config python3
  dpdk-dev libipsec-mb-dev libssl-dev libsrtp2-dev
  libgtest-dev libbenchmark-dev libtomlplusplus-dev libboost-dev libjemalloc-dev clang-format
  iproute2 iputils-ping ethtool openssl
  kamailio kamailio-websocket-modules kamailio-tls-modules sip-tester tshark jq
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

# npm packages, from the lock file; again only when the lock changed.
jssip=$root/tests/system/jssip
if [ -f "$jssip/package-lock.json" ] &&
   ! cmp -s "$jssip/package-lock.json" "$jssip/node_modules/.package-lock.json.installed" 2>/dev/null; then
  echo "deps: npm ci in tests/system/jssip" >&2
  (cd "$jssip" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &&
    cp "$jssip/package-lock.json" "$jssip/node_modules/.package-lock.json.installed"
fi
