#!/usr/bin/env bash
# The call bench (issue 7): call setups and teardowns per second through the
# whole chain, and the CPU each process spends per call, with Kamailio as a
# plain WebSocket stateful proxy measured the same way in the same run.
#
#   ws-register-load --(WS/WSS)--> isthmus-pcscf      --(UDP)--> IMS core --(UDP)--> bob (sipp UAS)
#                                  IMS-ALG: SDP rewritten both ways,
#                                  dpif --> isthmus-dataplane (net_null ports)
#   ws-register-load --(WS/WSS)--> Kamailio ws-call-proxy --(UDP)--> IMS core --> bob
#
# Each connection of the load tool registers its user (userNNNN at the core,
# through the proxy), then calls bob back to back (--mode call): INVITE with
# a Chrome-like WebRTC offer, 100/180/200, ACK, BYE (after HOLD_MS), 200;
# a call counts when its BYE is answered 200. Behind isthmus-pcscf the 200
# must carry a WebRTC answer (ice-lite, UDP/TLS/RTP/SAVPF, a candidate) and
# each call is one SessionCreate and one SessionDelete in the dataplane;
# behind Kamailio the SDP passes untouched (every answer is then "bad_sdp",
# as expected). The IMS core is tests/system/ims/kamailio.cfg (-x fm; as
# I-CSCF/S-CSCF it checks the caller is registered and finds bob's binding),
# bob is sipp with bench/sipp/uas_bob.xml, registered at the core first. The
# dataplane runs without hugepages or PCI on two net_null devices (no port
# pairs: sessions are made and deleted, nothing is relayed). Every process
# runs in one network namespace of its own, on its loopback (127.0.0.1, the
# IMS core on 127.0.0.2); the media addresses in the SDP (the dataplane's,
# bob's) are from 198.18.0.0/15, and no media flows.
#
# On a small machine every process shares the cores: throughput is then
# bounded by everyone's CPU, and the figure to compare is each process's CPU
# microseconds per call (from /proc, over the measured window). The report
# is a markdown table on stdout (for docs/performance.md) and each run's
# JSON and logs in $OUT (default BUILD_DIR/bench/call/); isthmus-pcscf's and
# the dataplane's final lines (calls=, sessions=: 0 after a clean run) are
# printed on stderr at the end.
#
# Usage: bench/call_bench.sh [BUILD_DIR]            (root: a namespace)
#   CONNS (200), DURATION (10), WARMUP (2), OUTSTANDING (1 call per connection),
#   HOLD_MS (0), TRANSPORTS ("ws"; "ws wss" for both), REPEAT (1: rounds of every run,
#   interleaved; the medians are printed too),
#   PROXIES ("isthmus kamailio"; add isthmus-nomedia for a second isthmus-pcscf
#   with [pcscf.media] disabled: the same calls, SDP relayed untouched, no
#   dataplane — what the IMS-ALG costs), PCSCF_THREADS (1), THREADS (load tool
#   threads, 1), PCSCF_WRAPPER (a command put before isthmus-pcscf that execs
#   it, e.g. "env LD_PRELOAD=...": the pid measured is the wrapper's)
#
# The soak (issue 11): SOAK=SECONDS runs isthmus-pcscf alone (no Kamailio
# proxy), one run of that many seconds over WS at a steady rate: CONNS (here
# 50) connections each calling back to back, each call held HOLD_MS (here
# 1000), so about CONNS calls are up at any time and about CONNS / (HOLD_MS
# + setup) start each second. Every SAMPLE_S seconds (10) bench/soak.py
# samples both daemons' memory (VmRSS), file descriptors and threads and
# isthmus-pcscf's exporter (calls, flows, registrations, transactions, the
# dataplane's sessions, INVITEs and BYEs); it goes on 40 s after the load
# tool has gone (what is left: transactions linger 32 s). The report:
# soak.py's table of each series over the steady part (from a quarter of
# the run, 60 s at least; SETTLE_S to choose) with its slope per hour and
# whether it is flat, the CSV and an SVG in $OUT (soak.csv, soak.svg).
# SOAK up to 86400 (a day): the tool refreshes each registration at half
# the time the core grants (7200 s at most; EXPIRES asks for less, e.g.
# 20, to see the refreshes in a short run: the report's reregistered);
# bob, sipp registered once, is granted the whole run (the core started
# with a longer IMS_MAX_EXPIRES for him).
#
# A fault under the load (issue 11): FAULT=freeze stops the dataplane
# (SIGSTOP) WARMUP + FAULT_AT seconds (3) after the load tool starts (its
# connections register in well under a second: about FAULT_AT into the
# measured window) for FAULT_S
# seconds (6), inside the P-CSCF's heartbeat window (the dataplane's
# heartbeat_ms is then 4000: 12 s), and continues it: calls go on meanwhile
# (the P-CSCF does not wait on the dataplane), so the command ring (4096
# slots) fills and the rest waits in the P-CSCF's backlog, which must drain
# in order once the dataplane runs. $out/fault.log has one line: the ring
# and the backlog at the end of the freeze, and when the backlog was seen
# empty after it (the exporter refreshes once a second). FAULT=restart kills the dataplane (SIGKILL) at FAULT_AT and starts
# a new one FAULT_S seconds later (4): the P-CSCF gives the old one up after
# its heartbeat window (3 s), refuses new calls meanwhile with 503 and
# Retry-After: 1 (the load tool waits it out: --retry-after; its calls
# start spread over HOLD_MS: --stagger, so that some end and start in the
# gap), and once
# attached to the new one ends every call the old one carried with BYEs
# both ways (the tool answers them: byes_received); then calls go on.
# $out/fault.log: the calls up before the kill, whether "gone" was logged
# before the new one ran, the time from the kill to the new attachment.
# Use HOLD_MS (e.g. 6000) so that many calls are up at the kill. The
# dataplane's CPU figure of the report is then wrong (the killed process's
# time is lost). Either fault runs isthmus-pcscf alone over WS, its
# exporter on.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
. "$root/tests/system/ims/ims.sh"
conns=${CONNS:-200} duration=${DURATION:-10} warmup=${WARMUP:-2}
outstanding=${OUTSTANDING:-1} hold=${HOLD_MS:-0} transports=${TRANSPORTS:-ws}
proxies=${PROXIES:-isthmus kamailio} threads=${THREADS:-1} repeat=${REPEAT:-1}
out=${OUT:-$build/bench/call}
soak=${SOAK:-0} sample_s=${SAMPLE_S:-10}
if [ "$soak" != 0 ]; then
  [[ "$soak" =~ ^[0-9]+$ ]] && [ "$soak" -ge 30 ] && [ "$soak" -le 86400 ] ||
    { echo "call_bench: SOAK is seconds, 30..86400" >&2; exit 1; }
  conns=${CONNS:-50} hold=${HOLD_MS:-1000} duration=$soak
  proxies=isthmus transports=${transports%% *} repeat=1
fi
fault=${FAULT:-} fault_at=${FAULT_AT:-3}
fault_s=${FAULT_S:-$([ "$fault" = restart ] && echo 4 || echo 6)}
if [ -n "$fault" ]; then
  [ "$fault" = freeze ] || [ "$fault" = restart ] ||
    { echo "call_bench: FAULT is freeze or restart" >&2; exit 1; }
  [[ "$fault_at" =~ ^[0-9]+$ ]] && [[ "$fault_s" =~ ^[0-9]+$ ]] && [ "$fault_s" -ge 1 ] &&
    [ "$fault_s" -le 10 ] && [ "$((fault_at + fault_s))" -lt "$duration" ] ||
    { echo "call_bench: FAULT_AT is seconds, FAULT_S 1..10, and both end before DURATION" >&2; exit 1; }
  proxies=isthmus transports=ws repeat=1
fi
load=$build/bench/ws-register-load
pcscf=$build/controlplane/pcscf/isthmus-pcscf
dataplane=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
[ "$(id -u)" -eq 0 ] || { echo "call_bench: needs root (a network namespace)" >&2; exit 1; }
[ "$conns" -le 10000 ] || { echo "call_bench: CONNS up to 10000 (user0000..user9999)" >&2; exit 1; }
for f in "$load" "$pcscf" "$dataplane" "$ctl"; do
  [ -x "$f" ] || { echo "call_bench: $f missing: build first (ninja -C $build)" >&2; exit 1; }
done
command -v sipp > /dev/null || { echo "call_bench: sipp missing (tools/lib/deps.sh)" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.log "$out"/*.csv "$out"/*.svg
# How busy the machine is before we start (other people's builds and tests
# count in every figure below: "others" is their CPU, in cores, over the window).
echo "call_bench: load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2

ns=isth-cb-$$
prefix=isthmus-cb-$$
region=/$prefix
tmp=$(mktemp -d)
pcscf_pid="" nomedia_pid="" proxy_pid="" bob_pid="" dp_pid="" fault_pid=""
cleanup() {
  # A fault under way first (it may be about to stop or start a dataplane),
  # then whichever dataplane runs: the first, or the one a restart started.
  [ -n "$fault_pid" ] && kill -KILL "$fault_pid" 2>/dev/null
  [ -s "$tmp/dataplane2.pid" ] && dp_pid=$(cat "$tmp/dataplane2.pid")
  [ -n "$pcscf_pid" ] && kill -TERM "$pcscf_pid" 2>/dev/null && wait "$pcscf_pid" 2>/dev/null
  [ -n "$nomedia_pid" ] && kill -TERM "$nomedia_pid" 2>/dev/null && wait "$nomedia_pid" 2>/dev/null
  if [ -n "$proxy_pid" ]; then
    kill -TERM "$proxy_pid" 2>/dev/null
    sleep 1
    kill -KILL -- "-$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
  fi
  [ -n "$bob_pid" ] && kill -TERM "$bob_pid" 2>/dev/null && wait "$bob_pid" 2>/dev/null
  if [ -n "$dp_pid" ] && kill -CONT "$dp_pid" 2>/dev/null; then  # (a freeze cut short)
    kill -TERM "$dp_pid"
    # The restarted one is not this shell's child: wait for it by its pid.
    for _ in $(seq 1 100); do kill -0 "$dp_pid" 2>/dev/null || break; sleep 0.1; done
    wait "$dp_pid" 2>/dev/null
  fi
  ims_stop
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp" "/var/run/dpdk/$prefix"
  rm -f "/dev/shm$region"
}
trap cleanup EXIT
ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1
# bob's media address (sipp binds it; nothing is sent there): the dataplane
# takes no loopback remote for the IMS leg (bad_params).
ip -n "$ns" addr add 198.18.2.1/32 dev lo || exit 1

# --- the IMS core and bob --------------------------------------------------------
# The core on 127.0.0.2, not on isthmus-pcscf's 127.0.0.1: its Record-Route
# entry has no port (5060), and isthmus-pcscf takes a portless URI with its
# own host for itself (core_config.cpp same_host), popping the core's entry
# with its own from the ACK and BYE (the core then answers 404).
ims_addr_cfg=127.0.0.2
# -b: UDP receive buffers up to 4 MB (the bursts of a few hundred calls).
bob_expires=$((soak + 600 > 7200 ? soak + 600 : 7200))
ims_start "$ns" "$ims_addr_cfg" "$out/ims.log" -x fm -m 1024 -M 16 -b 4194304 -A IMS_DEBUG=1 \
  -A "IMS_MAX_EXPIRES=$bob_expires" || exit 1
ims_pid_main=$ims_pid
ims_register "$ns" 127.0.0.1 bob bob-secret "$bob_expires" -p 5080 > "$tmp/bob-register.log" 2>&1 ||
  { echo "call_bench: bob did not register:" >&2; tail -20 "$tmp/bob-register.log" >&2; exit 1; }
# bob takes every call (-m: no end); sipp is one thread: its recv/sched loop
# bounds are raised so that it drains its socket in bursts.
ip netns exec "$ns" sipp -sf "$root/bench/sipp/uas_bob.xml" -i 127.0.0.1 -p 5080 \
  -mi 198.18.2.1 -mp 41000 -m 1000000000 -nostdin -max_recv_loops 10000 -max_sched_loops 10000 \
  -buff_size 4194304 -deadcall_wait 10000 -trace_err -error_file "$out/bob-errors.log" \
  -trace_stat -stf "$out/bob-stat.csv" -fd 1 > /dev/null 2>&1 < /dev/null &
bob_pid=$!

# --- the dataplane and isthmus-pcscf (one configuration file) -------------------
# The freeze stays inside the P-CSCF's window: 3 heartbeats (12 s). The
# worker's counters are published once a heartbeat.
heartbeat_ms=$([ "$fault" = freeze ] && echo 4000 || echo 100)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=bench.invalid -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null || exit 1
cat > "$tmp/isthmus.toml" <<TOML
[dataplane]
region = "$region"
eal = ["-l", "0", "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry",
       "--file-prefix", "$prefix", "--vdev", "net_null0", "--vdev", "net_null1",
       "--log-level", "lib.eal:notice"]
heartbeat_ms = $heartbeat_ms
workers = 1
sessions_per_worker = 8192
[pcscf]
threads = ${PCSCF_THREADS:-1}
$([ "$soak" != 0 ] || [ -n "$fault" ] && echo 'metrics = "127.0.0.1:9101"')
[pcscf.w2]
ws = "127.0.0.1:5062"
wss = "127.0.0.1:7443"
certificate = "$tmp/cert.pem"
private_key = "$tmp/key.pem"
idle_timeout_s = 300
max_connections = $((conns + 100))
[pcscf.mw]
address = "127.0.0.1"
port = 5070
next_hop = "udp:$ims_addr_cfg:5060"
[pcscf.limits]
max_flows = $((conns + 100))
max_registrations = $((conns + 100))
# INVITE transactions linger 32 s after their 2xx (RFC 6026 Timer L/M), on
# both sides: 5,000 calls/s keep ~350,000 of them; the default (20,000 x 8)
# refuses new ones with 503 beyond ~2,300 calls/s sustained.
max_transactions = 100000
$([ "$fault" = restart ] && echo 'retry_after_s = 1               # the 503s while no dataplane runs')
[pcscf.media]
enabled = true
access_address = "198.18.0.1"
core_address = "198.18.1.1"
max_calls = $((conns * outstanding + 1000))
max_calls_per_flow = $((outstanding > 4 ? outstanding : 4))
TOML
ip netns exec "$ns" "$dataplane" --config "$tmp/isthmus.toml" > "$out/dataplane.log" 2>&1 &
dp_pid=$!
for _ in $(seq 1 100); do
  "$ctl" --region "$region" status 2>/dev/null | grep -q 'state=running' && break
  sleep 0.1
done
"$ctl" --region "$region" status 2>/dev/null | grep -q 'state=running' ||
  { echo "call_bench: the dataplane did not start:" >&2; tail -20 "$out/dataplane.log" >&2; exit 1; }
# Its log lines get the time of day (to match them with the runs' start times
# on stderr); $! stays the daemon's pid.
stamp() { local l; while IFS= read -r l; do printf '%(%T)T %s\n' -1 "$l"; done > "$1"; }
ip netns exec "$ns" ${PCSCF_WRAPPER:-} "$pcscf" --config "$tmp/isthmus.toml" \
  2> >(stamp "$out/pcscf.log") &
pcscf_pid=$!
# The same without the IMS-ALG (PROXIES with isthmus-nomedia): other ports,
# no [dataplane], [pcscf.media] off.
if [[ " $proxies " == *" isthmus-nomedia "* ]]; then
  sed -e '/^\[dataplane\]/,/^\[pcscf\]/{/^\[pcscf\]/!d}' -e 's/^enabled = true/enabled = false/' \
    -e 's/:5062"/:5064"/' -e 's/:7443"/:7445"/' -e 's/^port = 5070/port = 5072/' \
    "$tmp/isthmus.toml" > "$tmp/isthmus-nomedia.toml"
  ip netns exec "$ns" ${PCSCF_WRAPPER:-} "$pcscf" --config "$tmp/isthmus-nomedia.toml" \
    2> >(stamp "$out/pcscf-nomedia.log") &
  nomedia_pid=$!
fi

# --- Kamailio as the baseline WebSocket proxy -------------------------------------
if [[ " $proxies " == *" kamailio "* ]]; then
  mkdir -p "$tmp/wsp"
  setsid ip netns exec "$ns" kamailio -f "$root/bench/kamailio/ws-call-proxy.cfg" -x fm -DD -E \
    -m 2048 -M 16 -n 2 -N 2 -Y "$tmp/wsp" -P "$tmp/wsp/kamailio.pid" -w "$tmp/wsp" \
    -l udp:127.0.0.1:25070 -l tcp:127.0.0.1:25080 -l tls:127.0.0.1:25443 \
    -A "REGISTRAR=\"sip:$ims_addr_cfg:5060\"" -A "ORIG_ROUTE=\"<sip:orig@$ims_addr_cfg:5060;lr>\"" \
    -A "TLS_CERT=\"$tmp/cert.pem\"" -A "TLS_KEY=\"$tmp/key.pem\"" \
    > "$out/ws-call-proxy.log" 2>&1 < /dev/null &
  proxy_pid=$!
fi
for _ in $(seq 1 300); do
  { [ -z "$proxy_pid" ] || ip netns exec "$ns" ss -Hltn 'sport = :25443' | grep -q .; } &&
    ip netns exec "$ns" ss -Hltn 'sport = :7443' | grep -q . &&
    grep -q 'event=dataplane_attached' "$out/pcscf.log" && break
  sleep 0.1
done
[ -n "$proxy_pid" ] && [ -s "$tmp/wsp/kamailio.pid" ] && proxy_pid=$(cat "$tmp/wsp/kamailio.pid")
grep -q 'event=dataplane_attached' "$out/pcscf.log" ||
  { echo "call_bench: isthmus-pcscf did not attach to the dataplane:" >&2; tail "$out/pcscf.log" >&2; exit 1; }

# metric NAME: isthmus-pcscf's exporter's value of NAME (empty if none).
metric() {
  ip netns exec "$ns" curl -s --max-time 2 http://127.0.0.1:9101/metrics |
    awk -v n="$1" '$1 == n { print $2; exit }'
}
# The freeze (FAULT=freeze), in the background of the run: one line in
# $out/fault.log.
freeze_dataplane() {
  sleep "$((warmup + fault_at))"
  local before queued backlog t0 ms=-1
  before=$(metric isthmus_pcscf_dataplane_command_backlog)
  kill -STOP "$dp_pid" || return 1
  sleep "$fault_s"
  queued=$("$ctl" --region "$region" status | grep -o 'commands_queued=[0-9]*')
  backlog=$(metric isthmus_pcscf_dataplane_command_backlog)
  kill -CONT "$dp_pid"
  t0=$(date +%s%N)
  # The exporter's figures are refreshed once a second: the backlog is seen
  # empty at the first refresh after it emptied (drained_within_ms), and
  # backlog_at_end may be up to a second old.
  for _ in $(seq 1 400); do
    if [ "$(metric isthmus_pcscf_dataplane_command_backlog)" = 0 ]; then
      ms=$(( ($(date +%s%N) - t0) / 1000000 ))
      break
    fi
    sleep 0.05
  done
  echo "fault=freeze seconds=$fault_s backlog_before=$before $queued" \
    "backlog_at_end=$backlog drained_within_ms=$ms" > "$out/fault.log"
}
# The restart (FAULT=restart), in the background of the run: the new
# dataplane's pid in $tmp/dataplane2.pid, its log in $out/dataplane2.log,
# one line in $out/fault.log.
restart_dataplane() {
  sleep "$((warmup + fault_at))"
  local before t0 gone attached_ms=-1 pid
  before=$(metric isthmus_pcscf_calls)
  kill -KILL "$dp_pid" || return 1
  t0=$(date +%s%N)
  sleep "$fault_s"
  gone=$(grep -c 'event=dataplane_gone' "$out/pcscf.log")
  ip netns exec "$ns" "$dataplane" --config "$tmp/isthmus.toml" > "$out/dataplane2.log" 2>&1 &
  pid=$!
  echo "$pid" > "$tmp/dataplane2.pid"
  for _ in $(seq 1 200); do
    [ "$(grep -c 'event=dataplane_attached' "$out/pcscf.log")" -ge 2 ] &&
      { attached_ms=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
    sleep 0.05
  done
  echo "fault=restart seconds=$fault_s calls_before=$before gone_logged=$gone" \
    "attached_ms=$attached_ms" > "$out/fault.log"
}

# run NAME TARGET PROXY_SPEC: one load run; its JSON in $out/NAME.json. Each
# run registers its own users (userNNNN from a rotating first number): the
# core keeps every run's bindings until they expire (10 contacts per user at
# most, then 503), and the runs come faster than that.
runs=0
run() {
  local first=$(( (runs * conns) % (10000 - conns + 1) ))
  runs=$((runs + 1))
  echo "call_bench: $(date +%T) $1 ($conns connections x $outstanding calls, ${duration} s)" >&2
  ip netns exec "$ns" "$load" --mode call --target "$2" --connections "$conns" \
    --first-user "$first" --outstanding "$outstanding" --hold-ms "$hold" --threads "$threads" \
    --expires "${EXPIRES:-$((warmup + duration + 300 > 7200 ? 7200 : warmup + duration + 300))}" $([ "$fault" = restart ] && echo --retry-after --stagger) \
    --duration "$duration" --warmup "$warmup" --callee sip:bob@ims.example.net \
    --measure-pid "proxy=$3" --measure-pid "ims=tree:$ims_pid_main" \
    --measure-pid "bob=$bob_pid" --measure-pid "dataplane=$dp_pid" \
    --json > "$out/$1.json" 2> "$out/$1.log" &
  local load_pid=$! sampler_pid=""
  case $fault in
    freeze) freeze_dataplane & fault_pid=$! ;;
    restart) restart_dataplane & fault_pid=$! ;;
  esac
  if [ "$soak" != 0 ]; then
    # The sampler runs outside the namespace (the /proc of both daemons is
    # the host's) and reaches the exporter through it.
    ip netns exec "$ns" python3 "$root/bench/soak.py" sample --out "$out/soak.csv" \
      --metrics http://127.0.0.1:9101/metrics --pid "pcscf=$pcscf_pid" --pid "dataplane=$dp_pid" \
      --interval "$sample_s" --while-pid "$load_pid" --tail 40 2> "$out/soak-sample.log" &
    sampler_pid=$!
  fi
  wait "$load_pid" || { echo "call_bench: $1 failed:" >&2; tail -5 "$out/$1.log" >&2; }
  [ -z "$fault_pid" ] || wait "$fault_pid" || echo "call_bench: the fault did not happen" >&2
  fault_pid=""
  [ -s "$tmp/dataplane2.pid" ] && dp_pid=$(cat "$tmp/dataplane2.pid")  # not our child
  [ -z "$sampler_pid" ] || wait "$sampler_pid" ||
    { echo "call_bench: the soak sampler failed:" >&2; cat "$out/soak-sample.log" >&2; }
}
# REPEAT rounds, each running every proxy and transport once (interleaved,
# so that the machine's other load falls on all of them alike).
for r in $(seq 1 "$repeat"); do
  for p in $proxies; do
    for t in $transports; do
      case $p-$t in
        isthmus-wss) run "isthmus-wss-$r" wss://127.0.0.1:7443 "$pcscf_pid" ;;
        isthmus-ws) run "isthmus-ws-$r" ws://127.0.0.1:5062 "$pcscf_pid" ;;
        isthmus-nomedia-wss) run "isthmus-nomedia-wss-$r" wss://127.0.0.1:7445 "$nomedia_pid" ;;
        isthmus-nomedia-ws) run "isthmus-nomedia-ws-$r" ws://127.0.0.1:5064 "$nomedia_pid" ;;
        kamailio-wss) run "kamailio-wss-$r" wss://127.0.0.1:25443 "tree:$proxy_pid" ;;
        kamailio-ws) run "kamailio-ws-$r" ws://127.0.0.1:25080 "tree:$proxy_pid" ;;
        *) echo "call_bench: unknown proxy or transport $p-$t" >&2 ;;
      esac
    done
  done
done
# What isthmus-pcscf still holds once the load tool has gone (calls=,
# sessions=: 0 when every call ended), and what the dataplane holds (its
# counters as of a heartbeat after the last call).
sleep "$(( heartbeat_ms / 1000 + 1 ))"
"$ctl" --region "$region" counters > "$out/dataplane-counters.log" 2>&1
for v in pcscf_pid nomedia_pid; do
  if [ -n "${!v}" ]; then kill -TERM "${!v}" && wait "${!v}"; fi
  eval "$v="
done
sleep 0.5  # the last log lines through stamp()

if [ "$soak" != 0 ]; then
  python3 "$root/bench/soak.py" report "$out/soak.csv" --svg "$out/soak.svg" \
    --title "isthmus-pcscf + dataplane soak: $conns connections, calls held ${hold} ms, ${soak} s" \
    ${SETTLE_S:+--settle "$SETTLE_S"}
  python3 - "$out/isthmus-ws-1.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    sys.exit(f"call_bench: no load report: {e}")
failed = sum(v for code, v in r["invite_by_status"].items() if int(code) >= 300)
failed += sum(v for code, v in r["bye_by_status"].items() if int(code) >= 300)
s = r["setup_latency_us"]
print(f"\nThe load: {r['calls']:,} calls in {r['window_s']:,.0f} s ({r['calls_per_s']:,.1f}/s), "
      f"failed {failed}, timeouts {r['invite_timeouts'] + r['bye_timeouts']}, bad SDP {r['bad_sdp']}, "
      f"setup p50 {s['p50'] / 1000:.1f} ms, p99 {s['p99'] / 1000:.1f} ms, "
      f"registrations refreshed {r['reregistered']:,}.")
PY
else
python3 - "$out" "$proxies" "$transports" "$repeat" <<'PY'
import json, os, statistics, sys
out, proxies, transports, repeat = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), int(sys.argv[4])
names = {"isthmus": "isthmus-pcscf (IMS-ALG + dataplane)",
         "isthmus-nomedia": "isthmus-pcscf, media off (no SDP work)",
         "kamailio": "Kamailio 5.6 (-x fm, no SDP work)"}
procs = ["proxy", "ims", "bob", "dataplane", "ws-register-load"]
print("| proxy | W2 | run | conns x calls | calls/s | setup p50 / p99 ms | teardown p50 / p99 ms "
      "| proxy us/call | IMS core us/call | bob (sipp) us/call | dataplane us/call | tool us/call "
      "| failed | bad SDP | machine busy | others (cores) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
per = {}
for p in proxies:
    for t in transports:
        for n in range(1, repeat + 1):
            try:
                r = json.load(open(os.path.join(out, f"{p}-{t}-{n}.json")))
            except (OSError, ValueError):
                print(f"| {names.get(p, p)} | {t.upper()} | {n} | - | failed | | | | | | | | | | | |")
                continue
            cpu = r["cpu"]
            failed = sum(v for code, v in r["invite_by_status"].items() if int(code) >= 300)
            failed += sum(v for code, v in r["bye_by_status"].items() if int(code) >= 300)
            failed += r["invite_timeouts"] + r["bye_timeouts"]
            m = r["machine"]
            per.setdefault((p, t), []).append(r)
            s, d = r["setup_latency_us"], r["teardown_latency_us"]
            print(f"| {names.get(p, p)} | {t.upper()} | {n} | {r['connections']} x {r['outstanding']} "
                  f"| {r['calls_per_s']:,.0f} | {s['p50'] / 1000:.1f} / {s['p99'] / 1000:.1f} "
                  f"| {d['p50'] / 1000:.1f} / {d['p99'] / 1000:.1f} "
                  + "".join(f"| {cpu[x]['us_per_call']:.1f} " for x in procs)
                  + f"| {failed} | {r['bad_sdp']} "
                  f"| {100 * m['busy_s'] / m['cpus_s'] if m['cpus_s'] else 0:.0f}% "
                  f"| {m['unaccounted_s'] / r['window_s']:.2f} |")
print()
med = {k: statistics.median(x["cpu"]["proxy"]["us_per_call"] for x in v) for k, v in per.items()}
for (p, t), v in per.items():
    if len(v) > 1:
        print(f"{names.get(p, p)} {t.upper()}, median of {len(v)}: "
              f"{statistics.median(x['calls_per_s'] for x in v):,.0f} calls/s; us/call "
              + ", ".join(f"{x} {statistics.median(y['cpu'][x]['us_per_call'] for y in v):.1f}"
                          for x in procs))
for t in transports:
    i, k, n = med.get(("isthmus", t)), med.get(("kamailio", t)), med.get(("isthmus-nomedia", t))
    if i:
        line = (f"{t.upper()}: isthmus-pcscf spends {i:.1f} us of CPU per call (setup and "
                f"teardown, SDP rewritten both ways, one dataplane session made and deleted); "
                f"one core at that cost carries {1e6 / i:,.0f} calls/s (goal: 5,000/s per core)")
        if n:
            line += f"; with media off {n:.1f} us (the IMS-ALG: {i - n:+.1f} us)"
        if k:
            line += f"; Kamailio as a plain proxy {k:.1f} us ({i / k:.2f}x)"
        print(line + ".")
PY
fi
for log in "$out"/pcscf*.log; do
  echo "--- $(basename "$log" .log), last line:" >&2
  grep "event=stopped" "$log" >&2 || tail -3 "$log" >&2
done
echo "--- dataplane counters after the isthmus runs:" >&2
cat "$out/dataplane-counters.log" >&2 2>/dev/null || true
# sipp's own count (every run together): calls, failures, retransmissions,
# and messages for calls already over (late ACKs: absorbed).
if [ -s "$out/bob-stat.csv" ]; then
  python3 - "$out/bob-stat.csv" >&2 <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
head, last = rows[0], rows[-1]
want = ["TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)",
        "DeadCallMsgs(C)", "OutOfCallMsgs(C)", "FailedUnexpectedMessage(C)", "FailedMaxUDPRetrans(C)"]
print("--- bob (sipp): " + ", ".join(f"{w}={last[head.index(w)]}" for w in want if w in head))
PY
fi
