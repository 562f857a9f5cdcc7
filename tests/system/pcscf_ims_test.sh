#!/usr/bin/env bash
# System test of the eP-CSCF (issue 6) against a real IMS core and a real
# WebSocket SIP client, in network namespaces (signalling only):
#
#   ue  198.18.21.2 --veth-- 198.18.21.1 [isthmus-pcscf] 198.18.20.1 --veth-- ims
#   JsSIP (Node)      W2: ws :5062, wss :7443         Mw: udp :5060     Kamailio 198.18.20.2:5060
#                                                                       sipp UE  198.18.20.3:5070
#
# Kamailio (tests/system/ims) is the I-CSCF/S-CSCF/registrar with digest
# authentication; JsSIP (tests/system/jssip) is the browser; sipp plays bob,
# a UE on the IMS side. Checked:
#  - alice registers over wss with digest through Isthmus: she sees the 401
#    challenge relayed, then the 200 with Service-Route and P-Associated-URI;
#  - the Mw capture (tshark on the P-CSCF's Mw veth) shows the REGISTER with
#    Path carrying our flow token (;ob), Supported: path, P-Visited-Network-ID
#    and P-Charging-Vector; her MESSAGE to bob with the Service-Route as
#    Route, P-Asserted-Identity from her registered set (P-Preferred-Identity
#    honoured, a forged P-Asserted-Identity removed) and a P-Charging-Vector;
#  - bob (sipp) gets her MESSAGE; bob's MESSAGE reaches alice by her flow
#    token (Kamailio routes it by the Path it stored);
#  - carol registers over ws and closes her WebSocket: bob's next MESSAGE to
#    carol gets 430 Flow Failed from Isthmus (RFC 5626), relayed by Kamailio;
#  - Kamailio is restarted while 10 WebSockets register as fast as answers
#    come (ws-register-load): no WebSocket closed, each user registered
#    again at the new core; over UDP the retransmissions bridge the outage
#    (every REGISTER answered within 5 s, no 5xx); over TCP at most those in
#    flight at the stop wait for Timer F, what cannot be delivered gets 503;
#  - alice de-registers; the daemon stops cleanly (exit 0) with no
#    registration left;
#  - nothing secret in its log, at log level debug (every SIP message
#    logged): not the WSS private key (its PEM lines, its scalar in hex), not
#    the flow-token key (hex, base64), not the subscribers' passwords, not
#    the digest responses and nonces that crossed Mw.
# Addresses from 198.18.0.0/15; namespaces, processes and files are removed
# on exit. Usage: pcscf_ims_test.sh BUILD_DIR   (root; exit 77 = skipped)
# PCSCF_IMS_MW=tcp: Mw over TCP both ways (our Path and Record-Route carry
# ;transport=tcp, so Kamailio connects to us for terminating requests).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
build=${1:?build dir}
pcscf=$build/controlplane/pcscf/isthmus-pcscf
load=$build/bench/ws-register-load
client=$here/jssip/w2-client.mjs
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for tool in kamailio sipp tshark node openssl; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run tools/lib/deps.sh"; exit 1; }
done
[ -d "$here/jssip/node_modules" ] || { echo "JsSIP missing: run tools/lib/deps.sh"; exit 1; }
[ -x "$load" ] || { echo "$load missing: build first"; exit 1; }

mw_proto=${PCSCF_IMS_MW:-udp}
case $mw_proto in udp|tcp) ;; *) echo "PCSCF_IMS_MW must be udp or tcp"; exit 2 ;; esac
S=$$
ue=isth-sue-$S pc=isth-spc-$S ims=isth-sims-$S
tmp=$(mktemp -d)
pcscf_pid="" capture_pid=""
bg=()

cleanup() {
  local p
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "$pcscf_pid" ] && kill -KILL "$pcscf_pid" 2>/dev/null
  [ -n "$capture_pid" ] && kill -KILL "$capture_pid" 2>/dev/null
  ims_stop
  ip netns del "$ue" 2>/dev/null
  ip netns del "$pc" 2>/dev/null
  ip netns del "$ims" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the three namespaces --------------------------------------------------
ip netns add "$ue" && ip netns add "$pc" && ip netns add "$ims" || exit 1
ip link add "sw$S" netns "$pc" type veth peer name "su$S" netns "$ue" || exit 1
ip link add "sm$S" netns "$pc" type veth peer name "si$S" netns "$ims" || exit 1
ip -n "$ue" addr add 198.18.21.2/24 dev "su$S"
ip -n "$pc" addr add 198.18.21.1/24 dev "sw$S"
ip -n "$pc" addr add 198.18.20.1/24 dev "sm$S"
ip -n "$ims" addr add 198.18.20.2/24 dev "si$S"
ip -n "$ims" addr add 198.18.20.3/24 dev "si$S"
for l in "$ue su$S" "$pc sw$S" "$pc sm$S" "$ims si$S"; do
  set -- $l
  ip -n "$1" link set "$2" up
  ip -n "$1" link set lo up
done

# --- the IMS core ------------------------------------------------------------
ims_start "$ims" 198.18.20.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }

# --- the P-CSCF --------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=pcscf.example.net -keyout "$tmp/pcscf.key" -out "$tmp/pcscf.crt" 2>/dev/null || exit 1
head -c 32 /dev/urandom > "$tmp/flow.key"
cat > "$tmp/isthmus.toml" <<TOML
[pcscf]
visited_network_id = "visited.example.net"
orig_ioi = "pcscf.example.net"
flow_token_key_file = "$tmp/flow.key"
log_level = "debug"
[pcscf.w2]
host = "pcscf.example.net"
ws = "198.18.21.1:5062"
wss = "198.18.21.1:7443"
certificate = "$tmp/pcscf.crt"
private_key = "$tmp/pcscf.key"
[pcscf.admission]
flow_rate = 0  # the load below sends as fast as answers come: not what is tested here
[pcscf.mw]
address = "198.18.20.1"
port = 5060
transports = ["$mw_proto"]
next_hop = "$mw_proto:198.18.20.2:5060"
TOML
check "isthmus-pcscf accepts the configuration" \
  ip netns exec "$pc" "$pcscf" --config "$tmp/isthmus.toml" --check-config
ip netns exec "$pc" tshark -q -i "sm$S" -f "port 5060" -w "$tmp/mw.pcap" 2>"$tmp/tshark.log" &
capture_pid=$!
ip netns exec "$pc" "$pcscf" --config "$tmp/isthmus.toml" 2>"$tmp/pcscf.log" &
pcscf_pid=$!
for _ in $(seq 1 100); do
  ip netns exec "$pc" ss -Hln "sport = :5060" | grep -q . && break
  sleep 0.05
done
ip netns exec "$pc" ss -Hln "sport = :5060" | grep -q . ||
  { echo "isthmus-pcscf did not start"; cat "$tmp/pcscf.log"; exit 1; }
for _ in $(seq 1 50); do grep -q "Capturing on" "$tmp/tshark.log" && break; sleep 0.1; done

# run_client NAME ARGS...: JsSIP in the ue namespace, its events in $tmp/NAME.jsonl.
run_client() {
  local name=$1; shift
  ip netns exec "$ue" node "$client" "$@" > "$tmp/$name.jsonl" 2> "$tmp/$name.err"
}
event() {  # NAME JQ-FILTER: some event of NAME's run satisfies the filter
  jq -e -s "any(.[]; $2)" "$tmp/$1.jsonl" >/dev/null 2>&1
}
sipp_ims() {  # sipp in the ims namespace as bob (198.18.20.3:5070)
  ip netns exec "$ims" sipp -i 198.18.20.3 -p 5070 -m 1 -timeout 20s -timeout_error -nostdin \
    -trace_err -error_file "$tmp/sipp-$1.err" "$@"
}
# bob_uas NAME: bob's sipp (198.18.20.3:5070) answers one MESSAGE with 200, in
# the background; what it received in $tmp/NAME.msg.
bob_uas() {
  ip netns exec "$ims" sipp -sf "$here/ims/uas_message.xml" -i 198.18.20.3 -p 5070 \
    -set reply 200 -m 1 -timeout 30 -timeout_error -max_recv_loops 100 -nostdin \
    -trace_msg -message_file "$tmp/$1.msg" -trace_err -error_file "$tmp/$1.err" \
    > "$tmp/$1.out" 2>&1 &
  uas_pid=$!
  bg+=("$uas_pid")
  wait_udp "$ims" 5070
}
# bob_sends NAME TARGET CODE: bob's MESSAGE to TARGET through Kamailio gets CODE.
bob_sends() {
  ims_sipp "$ims" 198.18.20.3 uac_message.xml -p 5071 -s "$2" -key from bob -set expect "$3" \
    -trace_msg -message_file "$tmp/$1.msg" -trace_err -error_file "$tmp/$1.err" \
    > "$tmp/$1.out" 2>&1
}
not() { ! "$@"; }
wait_event() {  # NAME JQ-FILTER: up to 20 s for NAME's run to report a matching event
  for _ in $(seq 1 200); do event "$1" "$2" && return 0; sleep 0.1; done
  return 1
}

# --- bob, a UE in the IMS -----------------------------------------------------
bob_registers() { ims_register "$ims" 198.18.20.3 bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1; }
check "bob registers directly at the IMS core" bob_registers
bob_uas bob-uas

# --- alice registers over wss through Isthmus, messages bob ------------------
# She prefers her tel URI (P-Preferred-Identity) and tries to assert mallory's
# identity: Isthmus must assert the tel URI and drop both headers she sent.
run_client alice --ws-uri wss://198.18.21.1:7443 --insecure --uri sip:alice@ims.example.net \
  --password alice-secret --register --message-to sip:bob@ims.example.net \
  --message-body "hello bob" --message-header "P-Preferred-Identity: <tel:+15550100001>" \
  --message-header "P-Asserted-Identity: <sip:mallory@ims.example.net>" \
  --wait-messages 1 --unregister-at-end --timeout 45 &
alice_pid=$!
bg+=("$alice_pid")
check "alice's REGISTER is challenged: the 401 from the IMS reaches her" \
  wait_event alice '.event == "recv" and .status == 401 and .method == "REGISTER"'
check "alice registers with digest through Isthmus (200)" \
  wait_event alice '.event == "registered" and .status == 200'
check "her 200 carries the Service-Route and P-Associated-URI" \
  event alice '.event == "registered" and (.service_route | tostring | test("sip:orig@198.18.20.2"))
               and (.p_associated_uri | tostring | test("tel:\\+15550100001"))'
check "her 200 reaches her with one Via (Isthmus' own removed)" \
  event alice '.event == "recv" and .status == 200 and .method == "REGISTER"
               and (.headers.Via | length) == 1'
check "her MESSAGE to bob gets bob's 200" \
  wait_event alice '.event == "message_sent" and .status == 200'
wait "$uas_pid"; uas_status=$?
check "bob (sipp) received her MESSAGE" [ "$uas_status" -eq 0 ]
check "bob sees her tel URI asserted and no trace of mallory" \
  bash -c "grep -q '^P-Asserted-Identity: <tel:+15550100001>' '$tmp/bob-uas.msg' &&
           ! grep -qi 'mallory\|^P-Preferred-Identity' '$tmp/bob-uas.msg'"

# --- bob messages alice: Kamailio routes by her Path, Isthmus by the token ----
check "bob's MESSAGE to alice gets her 200 through Isthmus" bob_sends bob-to-alice alice 200
check "alice received bob's MESSAGE" \
  wait_event alice '.event == "message_received" and (.from | test("bob"))'
wait "$alice_pid"; alice_status=$?
check "alice de-registers and her client ends cleanly" [ "$alice_status" -eq 0 ]
check "the IMS core holds no binding for alice any more" not ims_registered alice

# --- carol closes her WebSocket: 430 for the next request toward her ----------
check "carol registers over ws and closes her WebSocket" \
  run_client carol --ws-uri ws://198.18.21.1:5062 --uri sip:carol@ims.example.net \
  --password carol-secret --register --close-after-register --timeout 20
check "bob's MESSAGE to carol gets 430 Flow Failed from Isthmus" \
  bob_sends bob-to-carol carol 430

# --- the IMS core restarted while REGISTERs flow at rate ------------------------
# The Mw capture ends here (what it holds is checked below). 10 WebSockets
# (user0100..user0109, the core's load pattern), each with 2 REGISTERs always
# outstanding (each challenged, answered, sent again), for 10 s; Kamailio
# (bindings in memory only, a nonce secret of its own per start) is stopped
# about 2.5 s into it and started again 2 s later. Over UDP the P-CSCF's
# retransmissions reach the new core; over TCP the core's end of the
# connection is gone and the P-CSCF opens a new one. Nothing may be lost for
# good: every WebSocket stays open, REGISTERs complete again after the
# restart (each user bound at the new core), and the P-CSCF's own state
# goes back to nothing when the load ends.
sleep 0.5
kill -INT "$capture_pid"; wait "$capture_pid" 2>/dev/null; capture_pid=""
ip netns exec "$ue" timeout 60 "$load" --target ws://198.18.21.1:5062 --connections 10 \
  --outstanding 2 --first-user 100 --duration 10 --warmup 0 --setup-timeout 20 --json \
  > "$tmp/load.json" 2> "$tmp/load.log" &
load_pid=$!
bg+=("$load_pid")
sleep 3  # its setup (10 WebSockets registering) takes well under a second here
t_down=$(date +%s%N)
ims_stop
sleep 2
ims_start "$ims" 198.18.20.2 "$tmp/kamailio2.log" || echo "    (Kamailio did not start again)"
t_up=$(date +%s%N)
echo "# the core was down $(((t_up - t_down) / 1000000)) ms"
wait "$load_pid"; load_rc=$?
jv() { jq -r "$1 // 0" "$tmp/load.json" 2>/dev/null || echo 0; }
echo "# load (exit $load_rc): $(jq -c '{registered, sent, by_status, timeouts, unmatched, ws_closes, closed_before_end, transactions}' "$tmp/load.json" 2>/dev/null || tail -3 "$tmp/load.log")"
check "core restart under load: the tool ran (exit $load_rc) and all 10 WebSockets registered" \
  eval '[ "$load_rc" -eq 0 ] && [ "$(jv .registered)" -eq 10 ]'
check "... no WebSocket was closed by the fault (ws_closes 0, closed_before_end 0)" \
  eval '[ "$(jv .ws_closes)" -eq 0 ] && [ "$(jv .closed_before_end)" -eq 0 ]'
bound_at_new_core() {
  local n u
  for n in $(seq 100 109); do
    u=$(printf 'user%04d' "$n")
    ims_registered "$u" || { echo "    ($u has no binding at the restarted core)"; return 1; }
  done
}
check "... every user registered again through the restarted core (bound there)" bound_at_new_core
check "... each WebSocket challenged again by the new core (its nonces are new: $(jv '.by_status."401"') x 401), and answered" \
  eval '[ "$(jv '"'"'.by_status."401"'"'"')" -ge 10 ] && [ "$(jv '"'"'.by_status."200"'"'"')" -gt 0 ]'
fivexx=$(jq -r '[.by_status | to_entries[] | select((.key | tonumber) >= 500) | .value] | add // 0' \
  "$tmp/load.json" 2>/dev/null || echo error)
if [ "$mw_proto" = udp ]; then
  check "... over UDP the P-CSCF's retransmissions bridged the outage: every REGISTER answered within 5 s (timeouts $(jv .timeouts), unmatched $(jv .unmatched)), no 5xx ($fivexx)" \
    eval '[ "$(jv .timeouts)" -eq 0 ] && [ "$(jv .unmatched)" -eq 0 ] && [ "$fivexx" = 0 ]'
else
  # The REGISTERs in flight on the connection the core closed stay open
  # until Timer F (32 s): RFC 3261 18.2.2 lets a server answer on a new
  # connection, so the P-CSCF does not fail them at the close. The tool
  # gives up on them after 5 s. Every other REGISTER is answered; one the
  # P-CSCF cannot deliver (the core refusing connections) gets 503 at once.
  check "... over TCP at most the 20 REGISTERs in flight when the core stopped went unanswered ($(jv .timeouts)), no other (unmatched $(jv .unmatched)); any 5xx is a 503 ($fivexx)" \
    eval '[ "$(jv .timeouts)" -le 20 ] && [ "$(jv .unmatched)" -eq 0 ] &&
          [ "$(jv '"'"'.by_status."503"'"'"')" = "$fivexx" ]'
fi

# --- the daemon stops cleanly --------------------------------------------------
kill -TERM "$pcscf_pid"
wait "$pcscf_pid"; pcscf_status=$?
pcscf_pid=""
check "isthmus-pcscf exits 0 on SIGTERM" [ "$pcscf_status" -eq 0 ]
check "it ends with no flow and no registration left" \
  grep -q "event=stopped flows=0 registrations=0 " "$tmp/pcscf.log"
check "it counted the 430 it answered" grep -q "refused_flow_failed=1" "$tmp/pcscf.log"

# --- what crossed Mw (tshark's capture, up to the core's restart) ---------------
# mw FILTER FIELD: the values of FIELD in the SIP messages matching FILTER.
mw() {
  tshark -r "$tmp/mw.pcap" -Y "$1" -T fields -E occurrence=a -e "$2" 2>/dev/null
}
mw_has() { mw "$1" "$2" | grep -Eq -- "$3"; }     # FILTER FIELD ERE
mw_is() { [ "$(mw "$1" "$2")" = "$3" ]; }         # FILTER FIELD VALUE (all of them)
path_params=""
[ "$mw_proto" = tcp ] && path_params=";transport=tcp"
check "Mw: everything crossed over $mw_proto" \
  bash -c "[ -n \"\$(tshark -r '$tmp/mw.pcap' -Y '$mw_proto && sip' -T fields -e frame.number 2>/dev/null)\" ] &&
           [ -z \"\$(tshark -r '$tmp/mw.pcap' -Y 'sip && !$mw_proto' -T fields -e frame.number 2>/dev/null)\" ]"
reg='sip.Method == "REGISTER" && ip.src == 198.18.20.1'
ok200='sip.Status-Code == 200 && sip.CSeq.method == "REGISTER" && ip.src == 198.18.20.2'
msg='sip.Method == "MESSAGE" && ip.src == 198.18.20.1 && sip.from.user == "alice"'
check "Mw: the REGISTER carries Path with our flow token (;ob)" \
  mw_has "$reg" sip.Path "^<sip:[A-Za-z0-9_-]{16,}@198\\.18\\.20\\.1:5060$path_params;lr;ob>\$"
check "Mw: the REGISTER says Supported: path" mw_has "$reg" sip.Supported 'path'
check "Mw: the REGISTER carries P-Visited-Network-ID" \
  mw_has "$reg" sip.P-Visited-Network-ID 'visited\.example\.net'
check "Mw: the REGISTER carries a P-Charging-Vector with an icid" \
  mw_has "$reg" sip.P-Charging-Vector 'icid-value='
check "Mw: the 200 to REGISTER carries the Service-Route" \
  mw_has "$ok200" sip.Service-Route 'sip:orig@198\.18\.20\.2:5060;lr'
check "Mw: alice's MESSAGE has the Service-Route as its Route" \
  mw_is "$msg" sip.Route '<sip:orig@198.18.20.2:5060;lr>'
check "Mw: alice's MESSAGE asserts her preferred identity only" \
  mw_is "$msg" sip.P-Asserted-Identity '<tel:+15550100001>'
check "Mw: alice's MESSAGE carries no P-Preferred-Identity" \
  mw_is "$msg" sip.P-Preferred-Identity ''
check "Mw: alice's MESSAGE carries a P-Charging-Vector with an icid" \
  mw_has "$msg" sip.P-Charging-Vector 'icid-value='
check "Mw: bob's MESSAGE to carol is answered 430 by Isthmus" \
  mw_has 'sip.Status-Code == 430 && ip.src == 198.18.20.1' sip.CSeq.method 'MESSAGE'

# --- nothing secret in the P-CSCF's log (at debug) -------------------------------
secrets=(alice-secret carol-secret)
# The WSS private key: each base64 line of its PEM body and its scalar in hex.
while read -r line; do secrets+=("$line"); done < <(grep -v '^-----' "$tmp/pcscf.key")
scalar=$(openssl pkey -in "$tmp/pcscf.key" -noout -text 2>/dev/null |
  sed -n '/^priv:/,/^pub:/p' | grep -v -e '^priv:' -e '^pub:' | tr -d ' :\n')
secrets+=("$scalar")
# The flow-token key, as hex and base64.
secrets+=("$(od -An -tx1 -v "$tmp/flow.key" | tr -d ' \n')" "$(base64 -w0 < "$tmp/flow.key")")
# The digest responses (credentials) and nonces that crossed Mw.
digest=$(mw 'sip.Method == "REGISTER" && ip.src == 198.18.20.1' sip.auth.digest.response | tr ',' '\n' | tr -d '"' | sort -u)
nonces=$(mw 'sip.Method == "REGISTER" && ip.src == 198.18.20.1' sip.auth.nonce | tr ',' '\n' | tr -d '"' | sort -u)
for v in $digest $nonces; do secrets+=("$v"); done
leaked() {
  local s n=0
  for s in "${secrets[@]}"; do
    [ -n "$s" ] || continue
    if grep -qF -- "$s" "$tmp/pcscf.log"; then echo "    (found: $s)"; n=$((n + 1)); fi
  done
  [ "$n" -eq 0 ]
}
echo "# ${#secrets[@]} secrets looked for ($(wc -w <<< "$digest") digest responses, $(wc -w <<< "$nonces") nonces, scalar ${#scalar} hex digits); log $(wc -l < "$tmp/pcscf.log") lines"
check "nothing secret in the P-CSCF's log at debug (WSS key, flow-token key, passwords, digest responses)" \
  eval '[ "$(wc -w <<< "$digest")" -ge 2 ] && [ "$(wc -w <<< "$nonces")" -ge 1 ] && [ "${#scalar}" -eq 64 ] &&
        [ "$(grep -c "level=debug" "$tmp/pcscf.log")" -gt 0 ] && leaked'

summary
