# Helpers of the call system tests (source it after component/lib.sh and
# ims/ims.sh; pcscf_call_test.sh, pcscf_media_test.sh).
#
# Expects: $here (tests/system), $tmp, $ue and $ims (namespaces), $client
# (jssip/w2-call.mjs), $bg (an array the caller's cleanup kills), and for bob
# $bob_addr (his signalling address in $ims) and $bob_media (his media
# address, -mi); $alice_extra (an array) is put before alice's own arguments.
#
# alice NAME ARGS...        alice's call client (registered, de-registered at
#                           the end) in $ue, in the background ($alice_pid);
#                           events in $tmp/NAME.jsonl; stdin from fd 7 when open
# event NAME JQ             some event of NAME satisfies JQ
# all_events NAME JQ        JQ over the array of NAME's events is true
# count NAME JQ             how many events of NAME satisfy JQ
# wait_event NAME JQ [S]    up to S (20) seconds for such an event
# field NAME JQ EXPR        EXPR of the last event satisfying JQ ("" if none)
# exited PID STATUS         the child PID exits with STATUS
# bob_uas NAME MODE ARGS... bob's sipp takes one call (ims/uas_call.xml)
# bob_calls NAME TARGET HANGUP ARGS...  bob's sipp calls TARGET (ims/uac_call.xml)
# sipp_msgs / sipp_count / sipp_nth / sipp_has   read sipp's -message_file
# is A B                    A equals B (says what it got when not)
# media_topology            pcscf_media/pcscf_browser's namespaces: $gw (dataplane
#                           and P-CSCF), $ue and $ims with a media link each to a
#                           dataplane port (198.18.0/24, 198.18.1/24) and a
#                           signalling link to the P-CSCF (198.18.25/24, 198.18.24/24)
# media_config FILE         the dataplane's and the P-CSCF's configuration for it
#                           (media enabled) into FILE
# media_test_init L BUILD KEEP_VAR  the setup of a media system test (pcscf_media, pcscf_browser,
#                           pcscf_fault): the binaries of BUILD ($pcscf, $dp, $ctl,
#                           $browser_peer, $client), root and the tools checked (exit 77,
#                           1), names made unique by the letter L and the pid ($gw, $ue,
#                           $ims, the veths and TAPs, $region, $prefix), $tmp, and an EXIT
#                           trap that kills every process ($bg, the daemons, anything
#                           left in $ue), removes the namespaces, the
#                           region and $tmp (kept, and named, when $KEEP_VAR is set)
# Media helpers (also expect $ctl, $region, $browser_peer, $pcscf, $gw):
# counter BLOCK NAME        one value of `isthmus-ctl counters` (e.g. worker0 sessions)
# sessions_are N            the dataplane's worker holds N sessions (a few s)
# relayed_both_ways N       the worker relayed N or more packets each way
# pcscf_start               isthmus-pcscf in $gw with $tmp/isthmus.toml ($pcscf_pid),
#                           log appended to $tmp/pcscf.log; returns once it has
#                           attached to the dataplane (a new dataplane_attached line)
# pcscf_stop                SIGTERM to it; its exit status in $rc, its final
#                           stats line (event=stopped) in $final, echoed
# media_start TIMEOUT       the dataplane and isthmus-pcscf on $tmp/isthmus.toml (each
#                           checked; the test ends here if either is not up), the
#                           browser's certificate, and $web: alice's arguments toward
#                           the P-CSCF as that browser (its client's timeout TIMEOUT s)
# browser_cert              the browser's certificate ($tmp/browser.{crt,key}), its
#                           fingerprint in $fp_browser, its ICE password in $br_pwd
# alice_media NAME          the gateway's side of NAME's call into $g_ufrag, $g_pwd,
#                           $g_fp, $g_port, $g_setup, $g_addr
# media NAME ROLE COUNT [OPT...]  browser_peer plays NAME's media (bob echoes it)
# media_ok NAME COUNT       ICE, DTLS and all COUNT packets back intact

alice_extra=()

# One line per check, "ok - ..." or "not ok - ..." (lib.sh's summary counts).
check() {
  local what=$1; shift
  checks=$((checks + 1))
  if "$@"; then echo "ok - $what"; else echo "not ok - $what"; failures=$((failures + 1)); fi
}

alice() {
  local name=$1; shift
  if [ -e /dev/fd/7 ]; then
    ip netns exec "$ue" node "$client" --uri sip:alice@ims.example.net --password alice-secret \
      --register --unregister-at-end "${alice_extra[@]}" "$@" \
      <&7 > "$tmp/$name.jsonl" 2> "$tmp/$name.err" &
  else
    ip netns exec "$ue" node "$client" --uri sip:alice@ims.example.net --password alice-secret \
      --register --unregister-at-end "${alice_extra[@]}" "$@" \
      < /dev/null > "$tmp/$name.jsonl" 2> "$tmp/$name.err" &
  fi
  alice_pid=$!
  bg+=("$alice_pid")
}
event() {
  jq -e -s "any(.[]; $2)" "$tmp/$1.jsonl" >/dev/null 2>&1
}
all_events() {
  jq -e -s "$2" "$tmp/$1.jsonl" >/dev/null 2>&1
}
count() {
  jq -s "map(select($2)) | length" "$tmp/$1.jsonl" 2>/dev/null || echo 0
}
wait_event() {
  local i
  for i in $(seq 1 $((${3:-20} * 10))); do event "$1" "$2" && return 0; sleep 0.1; done
  return 1
}
field() {
  jq -r -s "map(select($2)) | last | if . == null then \"\" else ($3 // \"\") end" \
    "$tmp/$1.jsonl" 2>/dev/null
}
exited() {
  local rc
  wait "$1"; rc=$?
  [ "$rc" -eq "$2" ] || { echo "    (exit status $rc, expected $2)"; return 1; }
}
bob_uas() {
  local name=$1 mode=$2; shift 2
  ip netns exec "$ims" sipp -sf "$here/ims/uas_call.xml" -i "$bob_addr" -p 5070 -set mode "$mode" \
    -mi "$bob_media" -mp 41000 -m 1 -timeout 30 -timeout_error -max_recv_loops 100 -nostdin "$@" \
    -trace_msg -message_file "$tmp/$name.msg" -trace_err -error_file "$tmp/$name.sipp-err" \
    > "$tmp/$name.out" 2>&1 &
  bob_pid=$!
  bg+=("$bob_pid")
  wait_udp "$ims" 5070
}
bob_calls() {
  local name=$1 target=$2 hangup=$3; shift 3
  ims_sipp "$ims" "$bob_addr" uac_call.xml -p 5071 -s "$target" -key from bob -set hangup "$hangup" \
    -mi "$bob_media" -mp 41002 -timeout 30 "$@" \
    -trace_msg -message_file "$tmp/$name.msg" -trace_err -error_file "$tmp/$name.sipp-err" \
    > "$tmp/$name.out" 2>&1 &
  bob_pid=$!
  bg+=("$bob_pid")
}
# sipp_msgs FILE sent|received ERE: the messages of sipp's -message_file FILE
# sent or received whose start line matches ERE, each followed by "--".
sipp_msgs() {
  awk -v dir="$2" -v re="$3" '
    function flush() { if (d == dir && first ~ re) printf "%s--\n", buf; d = ""; first = ""; buf = "" }
    /^-+ [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { flush(); state = 1; next }
    state == 1 { d = ($0 ~ /message sent/) ? "sent" : (($0 ~ /message received/) ? "received" : ""); state = 2; next }
    state == 2 && $0 == "" { state = 3; next }
    state == 3 { sub(/\r$/, ""); if (first == "") first = $0; buf = buf $0 "\n" }
    END { flush() }' "$1"
}
sipp_count() {
  sipp_msgs "$@" | grep -c '^--$'
}
sipp_nth() {
  sipp_msgs "$1" "$2" "$3" | awk -v n="$4" '$0 == "--" { i++; next } i == n - 1'
}
sipp_has() {
  sipp_msgs "$1" "$2" "$3" | grep -Eq -- "$4"
}
is() { [ "$1" = "$2" ] || { echo "    (got '$1', expected '$2')"; return 1; }; }

media_topology() {
  ip netns add "$gw" || return 1
  host "$ue" "$acc_host" "$acc_gw" 198.18.0.1/24 || return 1
  host "$ims" "$core_host" "$core_gw" 198.18.1.1/24 || return 1
  ip link add "sw$S" netns "$gw" type veth peer name "su$S" netns "$ue" || return 1
  ip link add "sm$S" netns "$gw" type veth peer name "si$S" netns "$ims" || return 1
  ip -n "$ue" addr add 198.18.25.2/24 dev "su$S"
  ip -n "$gw" addr add 198.18.25.1/24 dev "sw$S"
  ip -n "$gw" addr add 198.18.24.1/24 dev "sm$S"
  ip -n "$ims" addr add 198.18.24.2/24 dev "si$S"
  ip -n "$ims" addr add 198.18.24.3/24 dev "si$S"
  local l
  for l in "$ue su$S" "$gw sw$S" "$gw sm$S" "$ims si$S" "$gw lo"; do
    set -- $l
    ip -n "$1" link set "$2" up
  done
}
media_config() {
  ns_gateway_toml '"-l", "0"' net_af_packet0 "iface=$acc_gw" net_af_packet1 "iface=$core_gw" > "$1"
  # A log control of the test's own (not the default a host's dataplane uses).
  sed -i "/^heartbeat_ms = /a log_control = \"/$prefix-log\"" "$1"
  head -c 32 /dev/urandom > "$tmp/flow.key"
  cat >> "$1" <<TOML
[pcscf]
visited_network_id = "visited.example.net"
orig_ioi = "pcscf.example.net"
flow_token_key_file = "$tmp/flow.key"
[pcscf.w2]
host = "pcscf.example.net"
ws = "198.18.25.1:5062"
[pcscf.mw]
address = "198.18.24.1"
port = 5060
transports = ["udp"]
next_hop = "udp:198.18.24.2:5060"
[pcscf.media]
enabled = true
access_address = "198.18.0.2"
core_address = "198.18.1.2"
access_port_min = 40000
access_port_max = 40999
core_port_min = 50000
core_port_max = 50999
attach_interval_ms = 100
TOML
}

# --- media helpers ------------------------------------------------------------
# counter: `isthmus-ctl counters` needs no command ring (the P-CSCF holds it).
counter() {
  "$ctl" --region "$region" counters | sed -n "s/^[a-z_]*=$1 \(.* \)\{0,1\}$2=\([0-9]*\).*/\2/p"
}
sessions_are() {  # N: the worker holds N sessions (published every heartbeat: up to 3 s)
  local n=""
  for _ in $(seq 1 60); do
    n=$(counter worker0 sessions)
    [ "$n" = "$1" ] && return 0
    sleep 0.05
  done
  echo "    (sessions=$n, expected $1)"
  return 1
}
# alice_media NAME: the gateway's side of NAME's call (the SDP alice got:
# an answer when she called, an offer when she was called) in $g_ufrag,
# $g_pwd, $g_fp, $g_port, $g_setup, $g_addr.
alice_media() {
  local sel='.event == "remote_sdp"'
  g_ufrag=$(field "$1" "$sel" '.ice_ufrag')
  g_pwd=$(field "$1" "$sel" '.ice_pwd')
  g_fp=$(field "$1" "$sel" '.fingerprint' | sed 's/^sha-256 //')
  g_port=$(field "$1" "$sel" '.candidate_port')
  g_addr=$(field "$1" "$sel" '.candidate_address')
  g_setup=$(field "$1" "$sel" '.setup')
}
# media NAME ROLE COUNT [OPTIONS...]: browser_peer on 198.18.0.1:PORT (from
# NAME's local candidate) against the gateway's side of NAME's call, COUNT
# packets 10 ms apart, all expected back (bob echoes them) within
# $media_timeout_ms (10,000) of DTLS; its last line in $tmp/NAME.media.
# $media_cert (default browser): the certificate it presents,
# $tmp/$media_cert.crt and .key.
media() {
  local name=$1 role=$2 n=$3 bind_port
  shift 3
  bind_port=$(field "$name" '.event == "local_media"' '.candidate.port')
  ip netns exec "$ue" "$browser_peer" --bind "198.18.0.1:$bind_port" --to "$g_addr:$g_port" \
    --ufrag brws --pwd "$br_pwd" --remote-ufrag "$g_ufrag" --remote-pwd "$g_pwd" \
    --cert "$tmp/${media_cert:-browser}.crt" --key "$tmp/${media_cert:-browser}.key" \
    --remote-fingerprint "$g_fp" \
    --dtls "$role" --profiles SRTP_AEAD_AES_128_GCM,SRTP_AES128_CM_SHA1_80 \
    --count "$n" --interval-us 10000 --expect "$n" --timeout-ms "${media_timeout_ms:-10000}" \
    --consent-ms 500 "$@" \
    > "$tmp/$name.media.all" 2> "$tmp/$name.media.err"
  local rc=$?
  tail -n 1 "$tmp/$name.media.all" > "$tmp/$name.media"
  echo "# browser_peer (exit $rc): $(cat "$tmp/$name.media")"
  return $rc
}
media_ok() {  # NAME COUNT: ICE, DTLS, all COUNT packets back intact
  grep -Eq "^ice=ok dtls=ok profile=SRTP_[A-Z0-9_]+ sent=$2 received=$2 ok=$2 bad=0 srtp_fail=0" \
    "$tmp/$1.media"
}
# dp_figures LABEL: the worker's drops, STUN and relay counters so far, on
# one "# LABEL: ..." line (figures, not checks: a case's drops show by
# difference with the line before).
dp_figures() {
  "$ctl" --region "$region" counters 2>/dev/null | grep -E '^[a-z_]+=worker0' | tr ' ' '\n' |
    grep -E '^(drop|stun|ice|relayed_access_to_core|relayed_core_to_access)[a-z_]*=[1-9]' | tr '\n' ' ' |
    sed "s/^/# $1: worker0 so far: /; s/ $//"
  echo
}
relayed_both_ways() {  # N: the worker's counters show N or more each way (published per heartbeat)
  for _ in $(seq 1 40); do
    a2c=$(counter worker0 relayed_access_to_core) c2a=$(counter worker0 relayed_core_to_access)
    [ "${a2c:-0}" -ge "$1" ] && [ "${c2a:-0}" -ge "$1" ] && return 0
    sleep 0.05
  done
  echo "    ($a2c to the core, $c2a to the browser)"
  return 1
}
pcscf_start() {
  local before
  before=$(grep -c 'event=dataplane_attached' "$tmp/pcscf.log" 2>/dev/null)
  ip netns exec "$gw" "$pcscf" --config "$tmp/isthmus.toml" 2>>"$tmp/pcscf.log" &
  pcscf_pid=$!
  for _ in $(seq 1 100); do
    [ "$(grep -c 'event=dataplane_attached' "$tmp/pcscf.log")" -gt "${before:-0}" ] && return 0
    sleep 0.05
  done
  echo "    (isthmus-pcscf did not attach to the dataplane in 5 s)"
  return 1
}
pcscf_stop() {
  kill -TERM "$pcscf_pid"
  wait "$pcscf_pid"; rc=$?
  pcscf_pid=""
  final=$(grep 'event=stopped' "$tmp/pcscf.log")
  echo "# $final"
}
media_start() {
  ns_gateway_start "$tmp/isthmus.toml"
  check "the dataplane runs" wait_running "$ctl" "$region"
  check "the P-CSCF attached to the dataplane" pcscf_start
  browser_cert || exit 1
  # Without the processes up, every case after would only fail slowly.
  [ "$failures" -eq 0 ] || { summary; exit 1; }
  web=(--ws-uri ws://198.18.25.1:5062 --local-ufrag brws --local-pwd "$br_pwd"
       --local-fingerprint "$fp_browser" --timeout "$1")
}
browser_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=browser -keyout "$tmp/browser.key" -out "$tmp/browser.crt" >/dev/null 2>&1 || return 1
  fp_browser=$(openssl x509 -noout -fingerprint -sha256 -in "$tmp/browser.crt" | sed 's/^.*=//')
  br_pwd=browsericepassword4567abcd
}
media_test_init() {
  local l=$1
  build=$2 media_keep_var=$3
  pcscf=$build/controlplane/pcscf/isthmus-pcscf
  dp=$build/dataplane/isthmus-dataplane
  ctl=$build/tools/isthmus-ctl
  browser_peer=$build/tests/browser_peer
  client=$here/jssip/w2-call.mjs
  [ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
  local tool
  for tool in kamailio sipp node openssl jq ethtool python3; do
    command -v "$tool" >/dev/null || { echo "$tool missing: run tools/lib/deps.sh"; exit 1; }
  done
  [ -d "$here/jssip/node_modules" ] || { echo "JsSIP missing: run tools/lib/deps.sh"; exit 1; }
  S=$$
  gw=isth-${l}gw-$S ue=isth-${l}ue-$S ims=isth-${l}ims-$S
  acc_gw=${l}ag$S acc_host=${l}ab$S core_gw=${l}cg$S core_host=${l}ci$S
  tap_acc=${l}ta$S tap_core=${l}tc$S
  region=/isthmus-${l}t-$S
  prefix=isth${l}t$S
  bob_addr=198.18.24.3 bob_media=198.18.1.1
  tmp=$(mktemp -d)
  pid="" pcscf_pid=""
  bg=()
  trap media_cleanup EXIT
}
media_cleanup() {
  local p
  exec 7>&- 8>&- 2>/dev/null
  [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null  # a frozen dataplane dies too
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # Whatever still runs in the browser's namespace (Chromium and its helpers).
  for p in $(ip netns pids "$ue" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  [ -n "$pcscf_pid" ] && kill -KILL "$pcscf_pid" 2>/dev/null
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ims_stop
  ip netns del "$ue" 2>/dev/null
  ip netns del "$ims" 2>/dev/null
  ip netns del "$gw" 2>/dev/null
  rm -rf "/dev/shm$region" "/dev/shm/$prefix-log" "/var/run/dpdk/$prefix"
  if [ -n "${!media_keep_var:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
