#!/usr/bin/env bash
# Component test of tests/tools/browser_peer against itself on loopback (no
# namespaces, no root): the tool the namespace tests use as "the browser" is
# proven before the gateway's DTLS exists to test it against.
#
#   peer A 127.0.0.1:P   --dtls client --answer-checks
#   peer B 127.0.0.1:P+1 --dtls server --answer-checks
#
# Two ECDSA P-256 certificates (and a third, for wrong fingerprints) made
# with the openssl command; fingerprints from `openssl x509 -fingerprint`.
#   - each use_srtp profile: ICE both ways, DTLS, 50 SRTP packets each way
#     (plus 10 SRTCP reports), all ok, consent answered, both print the profile
#     (two cases the client offers all four and the server accepts one, two
#     the other way round);
#   - A holds a wrong fingerprint for B (--expect-dtls-fail): A aborts with
#     dtls=fingerprint_mismatch and exits 0, B's handshake fails (exit 1);
#     the same with B (the DTLS server) holding a wrong one for A;
#   - A checks with a wrong --remote-pwd: B ignores them, A reports ice=fail;
#   - A's second handshake on the established 5-tuple is refused.
# Usage: browser_peer_selftest.sh BUILD_DIR
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?build dir}
peer=$build/tests/browser_peer
[ -x "$peer" ] || { echo "$peer missing: build first"; exit 1; }
command -v openssl >/dev/null || { echo "openssl (the command) missing: apt-get install openssl"; exit 1; }

tmp=$(mktemp -d)
bg=()
cleanup() {
  local p
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

for name in a b c; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=browser-peer-$name" -keyout "$tmp/$name.key" -out "$tmp/$name.crt" \
    >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log"; echo "openssl req failed"; exit 1; }
done
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$tmp/$1.crt" | sed 's/^.*=//'; }
fp_a=$(fingerprint a) fp_b=$(fingerprint b) fp_c=$(fingerprint c)
# The tool takes either case (a=fingerprint in SDP is usually upper case).
fp_b_lower=$(echo "$fp_b" | tr 'A-F' 'a-f')

all=SRTP_AES128_CM_SHA1_80,SRTP_AES128_CM_SHA1_32,SRTP_AEAD_AES_128_GCM,SRTP_AEAD_AES_256_GCM
all_reversed=SRTP_AEAD_AES_256_GCM,SRTP_AEAD_AES_128_GCM,SRTP_AES128_CM_SHA1_32,SRTP_AES128_CM_SHA1_80
N=50
# Two ports per run, from a base that differs between concurrent runs.
port=$((30000 + ($$ % 1000) * 20))

# run NAME "A-OPTIONS" "B-OPTIONS": B in the background, A in front. Sets
# rc_a, rc_b, out_a, out_b (the last lines) and prints both with stderr.
run() {
  local name=$1 a_opts=$2 b_opts=$3 pa=$port pb=$((port + 1)) pid
  port=$((port + 2))
  # shellcheck disable=SC2086  # the option strings are word lists
  "$peer" --bind 127.0.0.1:$pb --to 127.0.0.1:$pa --ufrag bBbB --pwd B-password-0123456789xyz \
    --remote-ufrag aAaA --remote-pwd A-password-0123456789xyz \
    --cert "$tmp/b.crt" --key "$tmp/b.key" --dtls server --answer-checks \
    --count $N --interval-us 2000 --expect $N --consent-ms 20 $b_opts \
    >"$tmp/$name.b.out" 2>"$tmp/$name.b.err" &
  pid=$!
  bg+=("$pid")
  # shellcheck disable=SC2086
  "$peer" --bind 127.0.0.1:$pa --to 127.0.0.1:$pb --ufrag aAaA --pwd A-password-0123456789xyz \
    --remote-ufrag bBbB --cert "$tmp/a.crt" --key "$tmp/a.key" --dtls client --answer-checks \
    --count $N --interval-us 2000 --expect $N --consent-ms 20 $a_opts \
    >"$tmp/$name.a.out" 2>"$tmp/$name.a.err"
  rc_a=$?
  wait "$pid"
  rc_b=$?
  out_a=$(tail -n 1 "$tmp/$name.a.out") out_b=$(tail -n 1 "$tmp/$name.b.out")
  echo "# $name A (exit $rc_a): $out_a"
  sed 's/^/#   A: /' "$tmp/$name.a.err"
  echo "# $name B (exit $rc_b): $out_b"
  sed 's/^/#   B: /' "$tmp/$name.b.err"
}

good="--remote-pwd B-password-0123456789xyz --remote-fingerprint $fp_b --timeout-ms 5000"
media_ok() {  # LINE PROFILE
  [[ $1 =~ ^ice=ok\ dtls=ok\ profile=$2\ sent=$N\ received=$N\ ok=$N\ bad=0\ srtp_fail=0\ consent_ok=[1-9][0-9]*\ second_handshake=not_tried\ rtcp=$((N / 5))$ ]]
}

for p in SRTP_AES128_CM_SHA1_80 SRTP_AES128_CM_SHA1_32 SRTP_AEAD_AES_128_GCM SRTP_AEAD_AES_256_GCM; do
  case $p in
    SRTP_AES128*) a_list=$all_reversed b_list=$p ;;  # the client offers four, the server takes one
    *) a_list=$p b_list=$all ;;
  esac
  # --linger-ms: the SRTCP report that follows the peer's last packet is counted too.
  run "$p" "$good --profiles $a_list --linger-ms 200" \
    "--remote-fingerprint $fp_a --timeout-ms 5000 --profiles $b_list --linger-ms 200"
  check "$p: client exits 0" [ "$rc_a" -eq 0 ]
  check "$p: server exits 0" [ "$rc_b" -eq 0 ]
  check "$p: client: $N of $N ok, 10 SRTCP, consent answered" media_ok "$out_a" "$p"
  check "$p: server: $N of $N ok, 10 SRTCP, consent answered" media_ok "$out_b" "$p"
  check "$p: client printed ice=ok, dtls=ok profile=$p" \
    grep -qx -e "ice=ok" -e "dtls=ok profile=$p" "$tmp/$p.a.out"
done

run fp-client "--remote-pwd B-password-0123456789xyz --remote-fingerprint $fp_c --timeout-ms 5000
  --profiles $all --expect-dtls-fail" "--remote-fingerprint $fp_a --timeout-ms 5000 --profiles $all"
check "wrong fingerprint at the client: it exits 0 (--expect-dtls-fail)" [ "$rc_a" -eq 0 ]
check "wrong fingerprint at the client: dtls=fingerprint_mismatch" \
  grep -q '^ice=ok dtls=fingerprint_mismatch profile=none' <<<"$out_a"
check "wrong fingerprint at the client: the server fails" [ "$rc_b" -eq 1 ]
check "wrong fingerprint at the client: the server's handshake fails (alert)" \
  grep -q '^ice=ok dtls=fail profile=none sent=0' <<<"$out_b"

run fp-server "$good --profiles $all" \
  "--remote-fingerprint $fp_c --timeout-ms 5000 --profiles $all --expect-dtls-fail"
check "wrong fingerprint at the server: it exits 0 (--expect-dtls-fail)" [ "$rc_b" -eq 0 ]
check "wrong fingerprint at the server: dtls=fingerprint_mismatch" \
  grep -q '^ice=ok dtls=fingerprint_mismatch profile=none' <<<"$out_b"
check "wrong fingerprint at the server: the client fails" [ "$rc_a" -eq 1 ]
check "wrong fingerprint at the server: the client's handshake fails (alert)" \
  grep -q '^ice=ok dtls=fail profile=none sent=0' <<<"$out_a"

run ice-pwd "--remote-pwd wrong-password-0123456789 --remote-fingerprint $fp_b --timeout-ms 1000
  --profiles $all" "--remote-fingerprint $fp_a --timeout-ms 1000 --profiles $all"
check "wrong ICE password: the client exits 1" [ "$rc_a" -eq 1 ]
check "wrong ICE password: ice=fail" grep -q '^ice=fail dtls=not_tried' <<<"$out_a"
check "wrong ICE password: the server ignored the checks" \
  grep -q 'ignored a binding request' "$tmp/ice-pwd.b.err"

run second "--remote-pwd B-password-0123456789xyz --remote-fingerprint $fp_b_lower
  --timeout-ms 5000 --profiles $all --second-handshake" \
  "--remote-fingerprint $fp_a --timeout-ms 5000 --profiles $all --linger-ms 4000"
check "second handshake: both exit 0" [ "$rc_a$rc_b" = 00 ]
check "second handshake: refused (lower-case fingerprint accepted)" \
  grep -q "^ice=ok dtls=ok .* ok=$N bad=0 srtp_fail=0 .* second_handshake=refused" <<<"$out_a"

summary
