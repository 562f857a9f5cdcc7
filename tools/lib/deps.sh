#!/usr/bin/env bash
# Installs the Debian 12 packages Isthmus builds and tests with, only those
# missing (idempotent; a no-op in well under a second once done).
# Usage: tools/lib/deps.sh [build|demo]
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config python3
  dpdk-dev libipsec-mb-dev libssl-dev libsrtp2-dev
  libgtest-dev libbenchmark-dev libtomlplusplus-dev libboost-dev clang-format
  iproute2 iputils-ping ethtool openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
