#!/usr/bin/env bash
# Component test (issue 12): bench/capacity/capacity-rings runs one
# dataplane::Worker on ring ports with each traffic profile it offers
# (AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM on the browser side, G.711
# and Opus packets) and accounts for every packet: 200 calls for 1 s each,
# then its JSON must say which profile ran, the RTP size, and that every
# packet offered was delivered or counted lost, none failed the tool's
# check (addresses, RTP header and payload; the worker's SRTP toward the
# browser unprotected with the leg's keys), none duplicated or reordered.
# Loss and latency are not judged here (bench/, not a test): the machine
# is shared with other tests. Usage: capacity_rings_test.sh BUILD_DIR
set -uo pipefail
build=$(cd "${1:?build dir}" && pwd) || exit 1
. "$(dirname "$0")/lib.sh"
tool=$build/bench/capacity/capacity-rings
[ -x "$tool" ] || { echo "$tool missing: build first"; exit 1; }
command -v jq > /dev/null || { echo "jq missing: run tools/lib/deps.sh"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run SUITE CODEC NAME OCTETS
run() {
  local out=$tmp/$1-$2.json
  "$tool" --calls 200 --seconds 1 --suite "$1" --codec "$2" --stop-after-fail 1 --json "$out" \
    > "$tmp/$1-$2.log" 2>&1 || { echo "    (exit $?: $(tail -n 3 "$tmp/$1-$2.log"))"; return 1; }
  jq -e --arg name "$3" --argjson octets "$4" --arg codec "$2" '
    .suite == $name and .codec == $codec and .packet_rtp_octets == $octets and (.runs | length) == 1 and
    (.runs[0] | .calls == 200 and .offered >= 10000 and .delivered > 0 and
                .delivered + .lost == .offered and .bad == 0 and .duplicates == 0 and .reordered == 0)' \
    "$out" > /dev/null || { echo "    ($(jq -c '{suite, codec, packet_rtp_octets, run: .runs[0] | {offered, delivered, lost, bad, duplicates, reordered}}' "$out"))"; return 1; }
  echo "# $1 $2: $(jq -r '.runs[0] | "offered \(.offered), delivered \(.delivered), bad \(.bad), p99 \(.latency_ns.p99) ns, worker busy \(.worker_busy)"' "$out")"
}
check "AES_CM_128_HMAC_SHA1_80, G.711 (172 octets): every packet delivered or counted, none bad" \
  run aes_cm_80 g711 AES_CM_128_HMAC_SHA1_80 172
check "AEAD_AES_128_GCM, G.711: the same" run aead_aes_128_gcm g711 AEAD_AES_128_GCM 172
check "AES_CM_128_HMAC_SHA1_80, Opus (92 octets): the same" run aes_cm_80 opus AES_CM_128_HMAC_SHA1_80 92
check "AEAD_AES_128_GCM, Opus: the same" run aead_aes_128_gcm opus AEAD_AES_128_GCM 92
check "an unknown suite or codec is refused with a reason" \
  eval '! "$tool" --suite aes_gcm_99 > "$tmp/bad1" 2>&1 && grep -q "aead_aes_128_gcm" "$tmp/bad1" &&
        ! "$tool" --codec amr > "$tmp/bad2" 2>&1 && grep -q "g711 or opus" "$tmp/bad2"'
summary
