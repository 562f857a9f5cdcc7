#!/usr/bin/env bash
# Component test: isthmus-dataplane on two net_null ports without hugepages,
# driven by isthmus-ctl through the dpif region; configuration errors.
# Usage: dataplane_ctl_test.sh BUILD_DIR
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=${1:?build dir}
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
tmp=$(mktemp -d)
region=/isthmus-ctest-$$
pid=""

cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp" "/var/run/dpdk/isthmus-ctest-$$"
  rm -f "/dev/shm${region}"
}
trap cleanup EXIT


cat > "$tmp/good.toml" <<TOML
[dataplane]
region = "$region"
eal = ["-l", "0", "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry",
       "--file-prefix", "isthmus-ctest-$$", "--vdev", "net_null0", "--vdev", "net_null1"]
heartbeat_ms = 20
TOML
printf '[dataplane]\nregion = "/x"\nheartbeats_ms = 5\n' > "$tmp/typo.toml"
printf '[dataplane]\nregion = 5\n' > "$tmp/type.toml"
printf '[dataplane\n' > "$tmp/syntax.toml"

port_cfg() {  # port_cfg EXTRA_LINE: a config with one port and one extra key
  printf '[dataplane]\nregion = "/x"\n[[dataplane.port]]\nname = "core"\ndevice = "d"\nexception = "e"\n%s\n' "$1"
}
port_cfg 'networks = ["198.18.1.0/24", "2001:2:1::/48"]
gateway = "198.18.1.254"
gateway6 = "2001:2:1::1"' > "$tmp/routes.toml"
port_cfg 'networks = ["198.18.1.0/33"]' > "$tmp/badnet.toml"
port_cfg 'gateway = "2001:2::1"' > "$tmp/badgw.toml"
port_cfg 'name2 = "x"' > "$tmp/portkey.toml"
port_cfg 'checksums = "hardware"' > "$tmp/csum.toml"
printf '[dataplane]\nregion = "/x"\n[[dataplane.port]]\nname = "uplink"\ndevice = "d"\nexception = "e"\n' > "$tmp/role.toml"
printf '[dataplane]\nregion = "/x"\nworkers = 0\n' > "$tmp/workers.toml"
# DTLS identity: the two keys together, readable PEM, a P-256 key that matches.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=gw \
  -keyout "$tmp/gw.key" -out "$tmp/gw.crt" > /dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=other \
  -keyout "$tmp/other.key" -out "$tmp/other.crt" > /dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rsa \
  -keyout "$tmp/rsa.key" -out "$tmp/rsa.crt" > /dev/null 2>&1
dtls_cfg() { printf '[dataplane]\nregion = "/x"\n%s\n' "$1"; }
dtls_cfg "dtls_certificate = \"$tmp/gw.crt\"
dtls_private_key = \"$tmp/gw.key\"" > "$tmp/dtls.toml"
dtls_cfg "dtls_certificate = \"$tmp/gw.crt\"" > "$tmp/dtlshalf.toml"
dtls_cfg "dtls_certificate = \"$tmp/gw.crt\"
dtls_private_key = \"$tmp/other.key\"" > "$tmp/dtlsmismatch.toml"
dtls_cfg "dtls_certificate = \"$tmp/rsa.crt\"
dtls_private_key = \"$tmp/rsa.key\"" > "$tmp/dtlsrsa.toml"
dtls_cfg "dtls_certificate = \"$tmp/none.crt\"
dtls_private_key = \"$tmp/gw.key\"" > "$tmp/dtlsnone.toml"
check "--help exits 0" bash -c "'$dp' --help > /dev/null"
check "a valid configuration checks" bash -c "'$dp' --check-config --config '$tmp/good.toml' > /dev/null"
out=$("$dp" --check-config --config "$tmp/typo.toml" 2>&1); rc=$?
check "an unknown key is refused with its name" test "$rc" -eq 2 -a -n "$(echo "$out" | grep -F 'dataplane.heartbeats_ms: unknown key')"
out=$("$dp" --check-config --config "$tmp/type.toml" 2>&1); rc=$?
check "a wrong type is refused with the key" test "$rc" -eq 2 -a -n "$(echo "$out" | grep -F 'dataplane.region')"
out=$("$dp" --check-config --config "$tmp/syntax.toml" 2>&1); rc=$?
check "a TOML syntax error names file and line" test "$rc" -eq 2 -a -n "$(echo "$out" | grep -F 'syntax.toml:')"
check "a configured DTLS certificate and key check" bash -c "'$dp' --check-config --config '$tmp/dtls.toml' > /dev/null"
check "port routes (networks, gateway, gateway6) check" bash -c "'$dp' --check-config --config '$tmp/routes.toml' > /dev/null"
for bad in "badnet:dataplane.port[0].networks" "badgw:dataplane.port[0].gateway: not an IPv4" \
           "portkey:dataplane.port[0].name2: unknown key" "role:dataplane.port[0].name: must be" \
           "workers:dataplane.workers: must be an integer 1..16" \
           "csum:dataplane.port[0].checksums: must be" \
           "dtlshalf:dtls_certificate and dtls_private_key go together" \
           "dtlsmismatch:does not match certificate" "dtlsrsa:must be an EC P-256 key" \
           "dtlsnone:none.crt: cannot open"; do
  file=${bad%%:*} want=${bad#*:}
  out=$("$dp" --check-config --config "$tmp/$file.toml" 2>&1); rc=$?
  check "$file.toml is refused naming $want ($out)" test "$rc" -eq 2 -a -n "$(grep -F "$want" <<< "$out")"
done
out=$("$ctl" --region "$region" status 2>&1); rc=$?
check "ctl says when no dataplane runs" test "$rc" -eq 1 -a -n "$(echo "$out" | grep -F 'is isthmus-dataplane running?')"

"$dp" --config "$tmp/good.toml" > "$tmp/dp.log" 2>&1 &
pid=$!
check "the dataplane starts and serves its region" wait_running "$ctl" "$region"
check "it reports both null devices" grep -q 'devices=2 ports=0' "$tmp/dp.log"
status=$("$ctl" --region "$region" status)
check "status shows generation 1" grep -q 'generation=1' <<< "$status"
sleep 0.1
age=$("$ctl" --region "$region" status | sed -n 's/.*heartbeat_age_ms=\([0-9]*\).*/\1/p')
check "the heartbeat is fresh (${age} ms)" test "${age:-9999}" -lt 1000
check "ping gets a pong through the rings" bash -c "'$ctl' --region '$region' ping | grep -q '^pong from generation 1'"
check "counters shows the worker's block" bash -c "'$ctl' --region '$region' counters | grep -q '^worker=worker0 sessions=0 '"

# Sessions through isthmus-ctl (no ports: nothing is relayed, the tables work).
key_a="AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
key_b="AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"
add() {
  "$ctl" --region "$region" session add --id "$1" --access-local "198.18.0.2:$2" --access-rtcp-mux \
    --access-rx-key "$key_a" --access-tx-key "$key_b" \
    --core-local "198.18.1.2:$3" --core-remote 198.18.1.20:6000
}
out=$(add 11 40000 50000); rc=$?
check "session add is accepted ($out)" test "$rc" -eq 0 -a -n "$(grep -F 'id=11 result=ok worker=0' <<< "$out")"
out=$(add 12 40002 50002); rc=$?
check "a second session is accepted" test "$rc" -eq 0
out=$(add 13 40000 50010 2>&1); rc=$?
check "a taken local port is refused ($out)" test "$rc" -eq 1 -a -n "$(grep -F 'port_in_use' <<< "$out")"
out=$(add 11 40020 50020 2>&1); rc=$?
check "a live id is refused" test "$rc" -eq 1 -a -n "$(grep -F 'exists' <<< "$out")"
out=$("$ctl" --region "$region" session add --id 14 --access-local 198.18.0.2:40030 2>&1); rc=$?
check "a malformed add is a usage error ($rc)" test "$rc" -eq 2
list=$("$ctl" --region "$region" session list)
check "session list shows both ($list)" test "$(grep -c '^id=1[12] ' <<< "$list")" -eq 2
check "session show names the core remote" bash -c "'$ctl' --region '$region' session show 12 | grep -q 'core_remote=198.18.1.20:6000'"
check "session delete removes one" bash -c "'$ctl' --region '$region' session delete 11 | grep -q 'id=11 result=ok'"
out=$("$ctl" --region "$region" session delete 11 2>&1); rc=$?
check "deleting it again is not_found" test "$rc" -eq 1 -a -n "$(grep -F 'not_found' <<< "$out")"
check "one session is left" bash -c "test \$('$ctl' --region '$region' session list | wc -l) -eq 1"
# BUNDLE (dpif BundleSpec): a transport and an m= line that sends on it.
out=$("$ctl" --region "$region" session add --id 15 --access-local 198.18.0.2:40040 --access-rtcp-mux \
  --access-rx-key "$key_a" --access-tx-key "$key_b" --core-local 198.18.1.2:50040 \
  --core-remote 198.18.1.20:6000 --bundle-transport 15 --bundle-pts 0,8 2>&1); rc=$?
check "a BUNDLE transport is accepted ($out)" test "$rc" -eq 0 -a -n "$(grep -F 'id=15 result=ok' <<< "$out")"
member() {
  "$ctl" --region "$region" session add --id "$1" --core-local "198.18.1.2:$2" \
    --core-remote 198.18.1.20:6002 --bundle-transport "$3" --bundle-pts "$4"
}
out=$(member 16 50044 15 96,97 2>&1); rc=$?
check "an m= line bundled on it is accepted, no access endpoint ($out)" \
  test "$rc" -eq 0 -a -n "$(grep -F 'id=16 result=ok worker=0 access_local=- ' <<< "$out")"
out=$(member 17 50048 15 8 2>&1); rc=$?
check "a payload type another m= line has is refused ($out)" \
  test "$rc" -eq 1 -a -n "$(grep -F 'bad_params' <<< "$out")"
out=$(member 17 50048 12 100 2>&1); rc=$?
check "bundling on a session that is no BUNDLE transport is refused ($out)" \
  test "$rc" -eq 1 -a -n "$(grep -F 'no BUNDLE transport 12 on this worker' <<< "$out")"
check "the transport and its m= line are deleted, the transport first" \
  bash -c "'$ctl' --region '$region' session delete 15 | grep -q 'id=15 result=ok' &&
           '$ctl' --region '$region' session delete 16 | grep -q 'id=16 result=ok'"
sleep 0.1
check "the worker counts one session" bash -c "'$ctl' --region '$region' counters | grep -q '^worker=worker0 sessions=1 '"
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=""
check "SIGTERM stops it cleanly (exit $rc)" test "$rc" -eq 0
check "it logged its stop with the commands served" grep -qE 'event=stopping commands=[1-9][0-9] ' "$tmp/dp.log"
check "the region is gone after the stop" test ! -e "/dev/shm${region}"

summary
