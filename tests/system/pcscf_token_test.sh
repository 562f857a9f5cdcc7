#!/usr/bin/env bash
# System test of A.3.2 web authentication through the eP-CSCF (issue 8): a
# WIC registers with a WWSF token instead of a digest password, in network
# namespaces:
#
#   ue  198.18.27.2 --veth-- 198.18.27.1 [isthmus-pcscf] 198.18.26.1 --veth-- ims
#   JsSIP (w2-client.mjs)     W2: ws :5062                Mw: udp :5060     Kamailio 198.18.26.2
#                                                                           sipp bob 198.18.26.3
#
# The tokens are made here with the openssl command line (Ed25519 over the
# payload form of controlplane/token/token.hpp, base64url with basenc): an
# implementation independent of the one the eP-CSCF verifies with. JsSIP puts
# the token in its REGISTER as `Authorization: Bearer <token>` (RFC 8898) and
# has no password. Checked:
#  - a valid token registers alice without a challenge (the eP-CSCF marks the
#    REGISTER integrity-protected="auth-done"; Kamailio takes that only from
#    a P-CSCF), and her MESSAGE to bob goes out with her registered identity;
#  - the same token again (another WebSocket), an expired one, one for
#    another eP-CSCF, one naming bob, one signed with another key, and
#    garbage: each gets 403 with its reason, and nothing is registered;
#  - the eP-CSCF's final counters: one token registration, six refused;
#  - [pcscf.tokens] replay_file: restarted, the eP-CSCF reads the one used
#    token's id back, the valid token again gets 403 replayed, and a new
#    token registers.
# Addresses from 198.18.26.0/24 and 198.18.27.0/24; namespaces, processes and
# files are removed on exit. Usage: pcscf_token_test.sh BUILD_DIR (root;
# exit 77 = skipped).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
build=${1:?build dir}
pcscf=$build/controlplane/pcscf/isthmus-pcscf
client=$here/jssip/w2-client.mjs
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for tool in kamailio sipp node openssl jq basenc; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run tools/lib/deps.sh"; exit 1; }
done
[ -d "$here/jssip/node_modules" ] || { echo "JsSIP missing: run tools/lib/deps.sh"; exit 1; }

check() {
  local what=$1; shift
  checks=$((checks + 1))
  if "$@"; then echo "ok - $what"; else echo "not ok - $what"; failures=$((failures + 1)); fi
}

S=$$
ue=isth-tue-$S pc=isth-tpc-$S ims=isth-tims-$S
tmp=$(mktemp -d)
pcscf_pid="" uas_pid=""
cleanup() {
  [ -n "$uas_pid" ] && kill -KILL "$uas_pid" 2>/dev/null
  [ -n "$pcscf_pid" ] && kill -KILL "$pcscf_pid" 2>/dev/null
  ims_stop
  ip netns del "$ue" 2>/dev/null
  ip netns del "$pc" 2>/dev/null
  ip netns del "$ims" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ue" && ip netns add "$pc" && ip netns add "$ims" || exit 1
ip link add "tw$S" netns "$pc" type veth peer name "tu$S" netns "$ue" || exit 1
ip link add "tm$S" netns "$pc" type veth peer name "ti$S" netns "$ims" || exit 1
ip -n "$ue" addr add 198.18.27.2/24 dev "tu$S"
ip -n "$pc" addr add 198.18.27.1/24 dev "tw$S"
ip -n "$pc" addr add 198.18.26.1/24 dev "tm$S"
ip -n "$ims" addr add 198.18.26.2/24 dev "ti$S"
ip -n "$ims" addr add 198.18.26.3/24 dev "ti$S"
for l in "$ue tu$S" "$pc tw$S" "$pc tm$S" "$ims ti$S"; do
  set -- $l
  ip -n "$1" link set "$2" up
  ip -n "$1" link set lo up
done

ims_start "$ims" 198.18.26.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }
check "bob registers directly at the IMS core" \
  eval 'ims_register "$ims" 198.18.26.3 bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1'

# The WWSF's key (the eP-CSCF gets only the public half) and a stranger's.
openssl genpkey -algorithm ed25519 -out "$tmp/wwsf.key" 2>/dev/null || exit 1
openssl pkey -in "$tmp/wwsf.key" -pubout -out "$tmp/wwsf.pub" || exit 1
openssl genpkey -algorithm ed25519 -out "$tmp/stranger.key" 2>/dev/null || exit 1
b64url() { basenc --base64url -w0 | tr -d '='; }
# mint USER AUDIENCE LIFETIME JTI [KEY]: a token for sip:USER@ims.example.net.
mint() {
  local exp=$(($(date +%s) + $3))
  printf 'v=1&sub=sip%%3A%s%%40ims.example.net&aud=%s&exp=%s&jti=%s&kind=user' \
    "$1" "$2" "$exp" "$4" > "$tmp/payload"
  local sig
  sig=$(openssl pkeyutl -sign -inkey "${5:-$tmp/wwsf.key}" -rawin -in "$tmp/payload" | b64url)
  printf '%s.%s' "$(b64url < "$tmp/payload")" "$sig" | tee -a "$tmp/tokens"
  echo >> "$tmp/tokens"
}

head -c 32 /dev/urandom > "$tmp/flow.key"
cat > "$tmp/isthmus.toml" <<TOML
[pcscf]
visited_network_id = "visited.example.net"
orig_ioi = "pcscf.example.net"
flow_token_key_file = "$tmp/flow.key"
log_level = "debug"
[pcscf.w2]
host = "pcscf.example.net"
ws = "198.18.27.1:5062"
[pcscf.mw]
address = "198.18.26.1"
port = 5060
next_hop = "udp:198.18.26.2:5060"
[pcscf.tokens]
public_key_file = "$tmp/wwsf.pub"
audience = "pcscf.example.net"
max_lifetime_s = 300
replay_file = "$tmp/token-replay"
TOML
check "isthmus-pcscf accepts the configuration (the WWSF's public key)" \
  ip netns exec "$pc" "$pcscf" --config "$tmp/isthmus.toml" --check-config
ip netns exec "$pc" "$pcscf" --config "$tmp/isthmus.toml" 2>"$tmp/pcscf.log" &
pcscf_pid=$!
for _ in $(seq 1 100); do
  ip netns exec "$pc" ss -Hln "sport = :5060" 2>/dev/null | grep -q . && break
  sleep 0.05
done

run_client() {  # NAME ARGS...: JsSIP in the ue namespace, its events in $tmp/NAME.jsonl
  local name=$1; shift
  ip netns exec "$ue" node "$client" --ws-uri ws://198.18.27.1:5062 \
    --uri sip:alice@ims.example.net --register --timeout 15 "$@" \
    > "$tmp/$name.jsonl" 2> "$tmp/$name.err"
}
event() { jq -e -s "any(.[]; $2)" "$tmp/$1.jsonl" >/dev/null 2>&1; }

# --- a valid token -------------------------------------------------------------
ip netns exec "$ims" sipp -sf "$here/ims/uas_message.xml" -i 198.18.26.3 -p 5070 \
  -set reply 200 -m 1 -timeout 30 -timeout_error -max_recv_loops 100 -nostdin \
  -trace_msg -message_file "$tmp/bob.msg" > "$tmp/bob.out" 2>&1 &
uas_pid=$!
wait_udp "$ims" 5070
good=$(mint alice pcscf.example.net 120 good-1)
run_client valid --register-header "Authorization: Bearer $good" \
  --message-to sip:bob@ims.example.net --message-body hello
rc=$?
check "alice registers with the token, no password, no challenge (client exit $rc)" \
  eval '[ "$rc" -eq 0 ] && event valid ".event == \"registered\" and .status == 200" &&
        ! event valid ".event == \"recv\" and (.status == 401 or .status == 407)"'
check "Kamailio holds alice's binding (it took the REGISTER marked auth-done)" ims_registered alice
check "her MESSAGE reached bob with her registered identity asserted" \
  eval 'wait "$uas_pid" && grep -q "^P-Asserted-Identity: <sip:alice@ims.example.net>" "$tmp/bob.msg"'
uas_pid=""

# --- refusals -------------------------------------------------------------------
refused() {  # NAME TOKEN REASON: the REGISTER gets 403 REASON
  run_client "$1" --register-header "Authorization: Bearer $2" --expect-register-failure 403
  local rc=$?
  [ "$rc" -eq 0 ] && event "$1" ".event == \"registration_failed\" and .reason == \"$3\"" ||
    { echo "    (exit $rc; $(jq -c -s 'map(select(.event == "registration_failed"))' "$tmp/$1.jsonl"))"; return 1; }
}
check "the same token again (another WebSocket): 403 replayed" \
  refused replay "$good" "Forbidden (token replayed)"
check "an expired token: 403 expired" \
  refused expired "$(mint alice pcscf.example.net -10 old-1)" "Forbidden (token expired)"
check "a token for another eP-CSCF: 403 wrong_audience" \
  refused audience "$(mint alice other.example.net 120 aud-1)" "Forbidden (token wrong_audience)"
check "bob's token in alice's REGISTER: 403 another identity" \
  refused identity "$(mint bob pcscf.example.net 120 bob-1)" "Forbidden (token names another identity)"
check "a token signed with another key: 403 bad_signature" \
  refused forged "$(mint alice pcscf.example.net 120 forged-1 "$tmp/stranger.key")" \
  "Forbidden (token bad_signature)"
check "garbage: 403 malformed" refused garbage "not.a-token" "Forbidden (token malformed)"

# --- the eP-CSCF's count ------------------------------------------------------------
stop_pcscf() {  # LOG: SIGTERM, its exit status in $rc and its last line in $final
  kill -TERM "$pcscf_pid"
  wait "$pcscf_pid"; rc=$?
  pcscf_pid=""
  final=$(grep 'event=stopped' "$1")
  echo "# $final"
}
stop_pcscf "$tmp/pcscf.log"
check "the eP-CSCF stops cleanly (exit $rc): 1 token registration, 6 refused" \
  eval '[ "$rc" -eq 0 ] && grep -q " token_registrations=1 " <<< "$final" &&
        grep -q " refused_token_refused=6 " <<< "$final"'

# --- a restart: the used token stays used (replay_file) ----------------------------
check "the replay file holds the one used token's id (refused ones are not kept)" \
  eval '[ "$(wc -l < "$tmp/token-replay")" -eq 1 ] && grep -q " good-1\$" "$tmp/token-replay"'
ip netns exec "$pc" "$pcscf" --config "$tmp/isthmus.toml" 2>"$tmp/pcscf2.log" &
pcscf_pid=$!
for _ in $(seq 1 100); do
  grep -q "event=listening transport=ws" "$tmp/pcscf2.log" 2>/dev/null && break
  sleep 0.05
done
check "restarted, the eP-CSCF reads it back (live=1)" \
  grep -q 'event=token_replay_file path=".*" live=1 expired=0 malformed=0' "$tmp/pcscf2.log"
check "the valid token again, after the restart: 403 replayed" \
  refused replay-restart "$good" "Forbidden (token replayed)"
run_client fresh --register-header "Authorization: Bearer $(mint alice pcscf.example.net 120 good-2)"
rc=$?
check "a new token registers (client exit $rc) and is kept too" \
  eval '[ "$rc" -eq 0 ] && event fresh ".event == \"registered\" and .status == 200" &&
        grep -q " good-2\$" "$tmp/token-replay"'
stop_pcscf "$tmp/pcscf2.log"
check "... and stops cleanly (exit $rc): 1 token registration, 1 replay refused, no file error" \
  eval '[ "$rc" -eq 0 ] && grep -q " token_registrations=1 " <<< "$final" &&
        grep -q " token_replayed=1 " <<< "$final" && grep -qE " token_journal_errors=0( |$)" <<< "$final"'
# --- nothing secret in its logs (at debug: every SIP message logged) ---------------
secrets=("$(od -An -tx1 -v "$tmp/flow.key" | tr -d ' \n')" "$(base64 -w0 < "$tmp/flow.key")")
while read -r t; do secrets+=("$t" "${t#*.}"); done < "$tmp/tokens"  # each token, its signature
leaked() {
  local s n=0
  for s in "${secrets[@]}"; do
    if grep -qF -- "$s" "$tmp/pcscf.log" "$tmp/pcscf2.log"; then echo "    (found: $s)"; n=$((n + 1)); fi
  done
  [ "$n" -eq 0 ]
}
echo "# ${#secrets[@]} secrets looked for; logs $(cat "$tmp/pcscf.log" "$tmp/pcscf2.log" | wc -l) lines"
check "no token (nor its signature) and not the flow-token key in either run's log, at debug" \
  eval '[ "$(wc -l < "$tmp/tokens")" -eq 6 ] && [ "$(grep -c "level=debug" "$tmp/pcscf.log")" -gt 0 ] && leaked'
summary
