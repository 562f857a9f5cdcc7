#!/usr/bin/env bash
# The REGISTER bench (issue 6): relayed REGISTER transactions per second over
# SIP over WebSocket, and the CPU each process spends per transaction, with
# Kamailio as a stateful WebSocket proxy measured the same way in the same run.
#
#   ws-register-load --(WSS/WS)--> isthmus-pcscf       --(UDP)--> registrar
#   ws-register-load --(WSS/WS)--> Kamailio ws-proxy   --(UDP)--> registrar
#
# The registrar is the test IMS core (tests/system/ims/kamailio.cfg: digest in
# realm ims.example.net, users userNNNN / load-secret, Path, Service-Route);
# the baseline proxy is bench/kamailio/ws-proxy.cfg (tm, t_relay, add_path),
# both with Kamailio's fast allocator (-x fm). Every process runs in one
# network namespace of its own on its loopback (127.0.0.1), so the ports
# cannot collide with anything. Each load run opens CONNS WebSockets, each
# registering its own user (401 + 200), then re-REGISTERs back to back for
# DURATION seconds after WARMUP; each REGISTER and its final response is one
# transaction (the nonce is reused; a stale one is answered again).
#
# On a small machine the tool, the proxy and the registrar share the cores:
# throughput is then bounded by everyone's CPU, and the figure to compare is
# each process's CPU microseconds per transaction (from /proc, over the
# measured window). The report is a markdown table on stdout (for
# docs/performance.md) and each run's JSON in $OUT (default build/bench/register/).
#
# Usage: bench/register_bench.sh [BUILD_DIR]            (root: a namespace)
#   CONNS (1000), DURATION (10), WARMUP (2), OUTSTANDING (1), TRANSPORTS ("wss ws"),
#   PCSCF_THREADS (1), PCSCF_WRAPPER (a command put before isthmus-pcscf, e.g.
#   "env MALLOC_CONF=..." or "env LD_PRELOAD=..." for an A/B run)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
. "$root/tests/system/ims/ims.sh"
conns=${CONNS:-1000} duration=${DURATION:-10} warmup=${WARMUP:-2}
outstanding=${OUTSTANDING:-1} transports=${TRANSPORTS:-wss ws}
out=${OUT:-$build/bench/register}
load=$build/bench/ws-register-load
pcscf=$build/controlplane/pcscf/isthmus-pcscf
[ "$(id -u)" -eq 0 ] || { echo "register_bench: needs root (a network namespace)" >&2; exit 1; }
for f in "$load" "$pcscf"; do
  [ -x "$f" ] || { echo "register_bench: $f missing: build first (ninja -C $build)" >&2; exit 1; }
done
mkdir -p "$out"

ns=isth-rb-$$
tmp=$(mktemp -d)
pcscf_pid="" proxy_pid=""
cleanup() {
  [ -n "$pcscf_pid" ] && kill -TERM "$pcscf_pid" 2>/dev/null && wait "$pcscf_pid" 2>/dev/null
  if [ -n "$proxy_pid" ]; then
    kill -TERM "$proxy_pid" 2>/dev/null
    sleep 1
    kill -KILL -- "-$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
  fi
  ims_stop
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1

# --- the registrar ------------------------------------------------------------
ims_start "$ns" 127.0.0.1 "$tmp/registrar.log" -x fm -m 1024 -M 16 -A IMS_DEBUG=1 || exit 1
registrar_pid=$ims_pid

# --- isthmus-pcscf -------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=bench.invalid -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null || exit 1
cat > "$tmp/isthmus.toml" <<TOML
[pcscf]
threads = ${PCSCF_THREADS:-1}
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
next_hop = "udp:127.0.0.1:5060"
[pcscf.limits]
max_flows = $((conns + 100))
max_registrations = $((conns + 100))
TOML
ip netns exec "$ns" ${PCSCF_WRAPPER:-} "$pcscf" --config "$tmp/isthmus.toml" 2> "$tmp/pcscf.log" &
pcscf_pid=$!

# --- Kamailio as the baseline WebSocket proxy ----------------------------------
mkdir -p "$tmp/wsp"
setsid ip netns exec "$ns" kamailio -f "$root/bench/kamailio/ws-proxy.cfg" -x fm -DD -E \
  -m 2048 -M 16 -n 2 -N 2 -Y "$tmp/wsp" -P "$tmp/wsp/kamailio.pid" -w "$tmp/wsp" \
  -l udp:127.0.0.1:25070 -l tcp:127.0.0.1:25080 -l tls:127.0.0.1:25443 \
  -A 'REGISTRAR="sip:127.0.0.1:5060"' \
  -A "TLS_CERT=\"$tmp/cert.pem\"" -A "TLS_KEY=\"$tmp/key.pem\"" \
  > "$tmp/ws-proxy.log" 2>&1 < /dev/null &
proxy_pid=$!
for _ in $(seq 1 100); do
  ip netns exec "$ns" ss -Hltn 'sport = :25443' | grep -q . &&
    ip netns exec "$ns" ss -Hltn 'sport = :7443' | grep -q . && break
  sleep 0.1
done
[ -s "$tmp/wsp/kamailio.pid" ] && proxy_pid=$(cat "$tmp/wsp/kamailio.pid")

# run NAME TARGET PROXY_SPEC: one load run; its JSON in $out/NAME.json.
run() {
  echo "register_bench: $1 ($conns connections, ${duration} s)" >&2
  ip netns exec "$ns" "$load" --target "$2" --connections "$conns" --duration "$duration" \
    --warmup "$warmup" --outstanding "$outstanding" --measure-pid "proxy=$3" \
    --measure-pid "registrar=tree:$registrar_pid" --json > "$out/$1.json" 2> "$out/$1.log" ||
    { echo "register_bench: $1 failed:" >&2; tail -5 "$out/$1.log" >&2; }
}
for t in $transports; do
  case $t in
    wss) run "isthmus-wss" wss://127.0.0.1:7443 "$pcscf_pid"
         run "kamailio-wss" wss://127.0.0.1:25443 "tree:$proxy_pid" ;;
    ws)  run "isthmus-ws" ws://127.0.0.1:5062 "$pcscf_pid"
         run "kamailio-ws" ws://127.0.0.1:25080 "tree:$proxy_pid" ;;
  esac
done

python3 - "$out" $transports <<'PY'
import json, os, sys
out, transports = sys.argv[1], sys.argv[2:]
print("| proxy | W2 | connections | REGISTER tx/s | p50 / p99 ms | proxy CPU us/tx | registrar us/tx | tool us/tx | non-200 |")
print("|---|---|---|---|---|---|---|---|---|")
rows = {}
for t in transports:
    for proxy in ("isthmus", "kamailio"):
        try:
            r = json.load(open(os.path.join(out, f"{proxy}-{t}.json")))
        except (OSError, ValueError):
            print(f"| {proxy} | {t.upper()} | - | failed | | | | | |")
            continue
        cpu = r["cpu"]
        bad = sum(n for code, n in r.get("by_status", {}).items() if code != "200")
        rows[(proxy, t)] = cpu["proxy"]["us_per_transaction"]
        print(f"| {'isthmus-pcscf' if proxy == 'isthmus' else 'Kamailio 5.6 (-x fm)'} | {t.upper()} "
              f"| {r['connections']} | {r['transactions_per_s']:,.0f} "
              f"| {r['latency_us']['p50'] / 1000:.1f} / {r['latency_us']['p99'] / 1000:.1f} "
              f"| {cpu['proxy']['us_per_transaction']:.1f} "
              f"| {cpu['registrar']['us_per_transaction']:.1f} "
              f"| {cpu['ws-register-load']['us_per_transaction']:.1f} | {bad + r.get('timeouts', 0)} |")
for t in transports:
    if ("isthmus", t) in rows and ("kamailio", t) in rows and rows[("isthmus", t)] > 0:
        i, k = rows[("isthmus", t)], rows[("kamailio", t)]
        print(f"\n{t.upper()}: isthmus-pcscf spends {i:.1f} us of CPU per relayed REGISTER, "
              f"Kamailio {k:.1f} us ({i / k:.2f}x); one core at that cost relays "
              f"{1e6 / i:,.0f} REGISTER/s (goal: 20,000/s per core over WSS, within 2x of Kamailio).")
PY
kill -TERM "$pcscf_pid" && wait "$pcscf_pid"
pcscf_pid=""
grep "event=stopped" "$tmp/pcscf.log" >&2 || true
