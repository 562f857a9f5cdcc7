#!/usr/bin/env bash
# Fails when a C++ source of the project differs from .clang-format's layout.
# Fix with: clang-format -i <file>   (or every file: tools/lib/check-format.sh --fix)
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(find dataplane controlplane include tests bench tools \
  -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) 2>/dev/null | sort)
[ ${#files[@]} -gt 0 ] || { echo "check-format: no sources found" >&2; exit 1; }
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run -Werror "${files[@]}"
echo "check-format: ${#files[@]} files match .clang-format"
