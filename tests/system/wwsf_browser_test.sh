#!/usr/bin/env bash
# System test of the WWSF with the WIC in a real browser (issue 8): Debian's
# headless Chromium, driven by Playwright (tests/system/browser/wic-driver.mjs),
# loads the WIC from isthmus-wwsf over HTTPS, logs in there (or leases a guest
# identity), registers at isthmus-pcscf over WSS with the WWSF's token (A.3.2,
# A.3.3: no digest) and calls through the IMS-ALG and isthmus-dataplane, with
# Kamailio as the IMS and sipp as bob. The topology of pcscf_browser_test.sh,
# with the WWSF beside the eP-CSCF:
#
#   ue                                   gw                                    ims
#   Chromium 198.18.25.2 --https------ 198.18.25.1:8443 isthmus-wwsf
#                        --sig (wss)-- 198.18.25.1:7443 isthmus-pcscf 198.18.24.1 --sig--  Kamailio 198.18.24.2
#                                      (media enabled, dpif client)                      sipp bob 198.18.24.3
#   Chromium's media 198.18.0.1 --media-- [access af_packet + TAP 198.18.0.2]
#                                      isthmus-dataplane
#                                      [core af_packet + TAP 198.18.1.2] --media--  bob's RTP 198.18.1.1
#
# One self-signed ECDSA P-256 certificate (SAN IP:198.18.25.1) serves both
# the WWSF's HTTPS and the eP-CSCF's WSS; Chromium takes it with the
# driver's --ignore-https-errors (Playwright's ignoreHTTPSErrors, which
# covers the page's WebSocket too), after openssl s_client has checked that
# both present it and that it is valid for 198.18.25.1 (all that is
# overlooked is its unknown issuer). The web root is the WIC built from its
# sources by build.mjs into $tmp. The WWSF signs tokens with a key made by
# isthmus-wwsf --generate-key, whose public half is all the eP-CSCF holds.
# Checked:
#  1. the WIC loads from the WWSF and its /api/config names the eP-CSCF's
#     wss URI;
#  2. a wrong password: the account panel says so, no token, nothing
#     registered;
#  3. alice logs in, registers with the token (one REGISTER at the IMS, no
#     challenge; the eP-CSCF counts a token registration), calls bob, who
#     echoes: ICE and DTLS with the gateway, packets and sound both ways;
#     DTMF from the keypad; hold and resume, media again; hang-up, no
#     session left; chat: a text message to bob and one from him (SIP
#     MESSAGE through the IMS, shown in the WIC's chat panel); unregisters,
#     logs out;
#  4. a guest: an identity leased from the pool (user9001/user9002), the
#     same with its token, the call reaches bob from that identity; the
#     page reloads (its WebSocket closes): the eP-CSCF gives the lease back
#     to the WWSF at once (A.3.3, lease_release_url over verified https);
#  5. screenshots of the WIC's screens (login, logged in, in call, chat,
#     guest);
#  Prometheus: Debian's prometheus scrapes both daemons' exporters every
#     second; during alice's call its HTTP API shows the call, the
#     dataplane session and its capacity, packets relayed both ways, DTLS
#     up, the WSS connection, her token registration, the WWSF's logins;
#     after the hang-up no call and no session;
#  6. the driver ends cleanly; the eP-CSCF's final count (2 token
#     registrations, 1 lease given back, no call or session left) and the
#     WWSF's (1 login, 1 failed, 3 tokens, 2 leases both back); no
#     password or token in any log.
# Addresses from 198.18.0.0/15; namespaces, processes (Chromium too), the
# dpif region, the DPDK prefix and files are removed on exit. Usage:
# wwsf_browser_test.sh BUILD_DIR (root; exit 77 = skipped).
# WWSF_BROWSER_KEEP=1 keeps the directory of logs (with the screenshots);
# WWSF_BROWSER_SCREENSHOTS=DIR puts the screenshots (wic-login.png,
# wic-logged-in.png, wic-in-call.png, wic-chat.png, wic-guest.png) in DIR
# instead.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../component/lib.sh"
. "$here/ims/ims.sh"
. "$here/call_lib.sh"
. "$here/browser/browser_lib.sh"
build=${1:?build dir}
pcscf=$build/controlplane/pcscf/isthmus-pcscf
wwsf=$build/controlplane/wwsf/isthmus-wwsf
dp=$build/dataplane/isthmus-dataplane
ctl=$build/tools/isthmus-ctl
web=$here/../../controlplane/wwsf/web
driver=$here/browser/wic-driver.mjs
chromium=${CHROMIUM:-/usr/bin/chromium}
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for tool in kamailio sipp node openssl jq ethtool "$chromium"; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run tools/lib/deps.sh"; exit 1; }
done
for d in "$here/browser" "$web"; do
  [ -d "$d/node_modules" ] || { echo "$d/node_modules missing: run tools/lib/deps.sh"; exit 1; }
done

S=$$
gw=isth-wgw-$S ue=isth-wue-$S ims=isth-wims-$S
acc_gw=wag$S acc_host=wab$S core_gw=wcg$S core_host=wci$S tap_acc=wta$S tap_core=wtc$S
region=/isthmus-wb-$S
prefix=isthwb$S
bob_addr=198.18.24.3 bob_media=198.18.1.1
wss_uri=wss://198.18.25.1:7443
origin=https://198.18.25.1:8443
password='Wonder-land-42!'
wrong_password='alice-secret'
tmp=$(mktemp -d)
pid="" pcscf_pid="" wwsf_pid="" wic_pid=""
bg=()
wic_events=browser shots=${WWSF_BROWSER_SCREENSHOTS:-$tmp}

cleanup() {
  local p ns
  exec 8>&- 2>/dev/null
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # Chromium and its helpers: whatever still runs in the browser's namespace.
  for p in $(ip netns pids "$ue" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  [ -n "$wwsf_pid" ] && kill -KILL "$wwsf_pid" 2>/dev/null
  [ -n "$pcscf_pid" ] && kill -KILL "$pcscf_pid" 2>/dev/null
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ims_stop
  for ns in "$ue" "$ims" "$gw"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "/dev/shm$region" "/dev/shm/$prefix-log" "/var/run/dpdk/$prefix"
  if [ -n "${WWSF_BROWSER_KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# --- the WWSF's web root: the WIC built from its sources into $tmp (the
# bundle, with the page and its style beside it; the tree's dist/ is not
# touched, so that parallel runs cannot race) ------------------------------------
mkdir -p "$tmp/webroot"
(cd "$web" && node build.mjs "$tmp/webroot/wic.js") > "$tmp/wic-build.log" 2>&1 ||
  { echo "bundling the WIC failed:"; cat "$tmp/wic-build.log"; exit 1; }

# --- the certificate (the WWSF's HTTPS and the eP-CSCF's WSS), the token key,
# alice's web account ------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=198.18.25.1 -addext "subjectAltName=IP:198.18.25.1" \
  -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null || { echo "openssl req failed"; exit 1; }
"$wwsf" --generate-key "$tmp/token.key" > "$tmp/token.pub" || { echo "--generate-key failed"; exit 1; }
hash=$(printf '%s\n' "$password" | "$wwsf" --hash-password) || { echo "--hash-password failed"; exit 1; }
printf 'alice sip:alice@ims.example.net %s\n' "$hash" > "$tmp/users"

# --- namespaces: media links (to the dataplane's ports), signalling links --
media_topology || exit 1

# --- the IMS core and bob -----------------------------------------------------
ims_start "$ims" 198.18.24.2 "$tmp/kamailio.log" || { echo "Kamailio did not start"; exit 1; }
check "bob registers directly at the IMS core" \
  eval 'ims_register "$ims" "$bob_addr" bob bob-secret 600 -p 5070 > "$tmp/bob-reg.out" 2>&1'

# --- the configuration: pcscf_browser_test.sh's, the eP-CSCF with WSS and the
# WWSF's public key, and the WWSF -------------------------------------------------
media_config "$tmp/isthmus.toml"
sed -i "/^ws = \"198.18.25.1:5062\"\$/a wss = \"198.18.25.1:7443\"\\
certificate = \"$tmp/tls.crt\"\\
private_key = \"$tmp/tls.key\"" "$tmp/isthmus.toml"
grep -q '^wss = ' "$tmp/isthmus.toml" || { echo "media_config: no ws line to add wss beside"; exit 1; }
sed -i '/^\[pcscf\]$/a metrics = "198.18.25.1:9101"' "$tmp/isthmus.toml"
cat >> "$tmp/isthmus.toml" <<TOML
[pcscf.tokens]
public_key_file = "$tmp/token.pub"
audience = "pcscf.example.net"
max_lifetime_s = 300
lease_release_url = "https://198.18.25.1:8443/api/guest/release"
lease_release_ca_file = "$tmp/tls.crt"
[wwsf]
https = "198.18.25.1:8443"
certificate = "$tmp/tls.crt"
private_key = "$tmp/tls.key"
web_root = "$tmp/webroot"
users_file = "$tmp/users"
token_key_file = "$tmp/token.key"
token_audience = "pcscf.example.net"
ws_uri = "$wss_uri"
domain = "ims.example.net"
guest_pool_range = "sip:user{9001..9002}@ims.example.net"
metrics = "198.18.25.1:9102"
TOML
check "the eP-CSCF and the WWSF accept the configuration" \
  eval 'ip netns exec "$gw" "$pcscf" --config "$tmp/isthmus.toml" --check-config > "$tmp/check.log" 2>&1 &&
        ip netns exec "$gw" "$wwsf" --config "$tmp/isthmus.toml" --check-config >> "$tmp/check.log" 2>&1 ||
        { sed "s/^/    /" "$tmp/check.log"; false; }'

# --- the dataplane, the P-CSCF and the WWSF; Debian's Prometheus scraping the
# eP-CSCF's exporter every second ----------------------------------------------------
ns_gateway_start "$tmp/isthmus.toml"
check "the dataplane runs" wait_running "$ctl" "$region"
ip netns exec "$gw" "$pcscf" --config "$tmp/isthmus.toml" 2>"$tmp/pcscf.log" &
pcscf_pid=$!
ip netns exec "$gw" "$wwsf" --config "$tmp/isthmus.toml" 2>"$tmp/wwsf.log" &
wwsf_pid=$!
cat > "$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: isthmus-pcscf
    static_configs:
      - targets: ['198.18.25.1:9101']
  - job_name: isthmus-wwsf
    static_configs:
      - targets: ['198.18.25.1:9102']
YAML
ip netns exec "$gw" prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus" \
  --web.listen-address=198.18.25.1:9090 > "$tmp/prometheus.log" 2>&1 &
bg+=("$!")
# promq EXPR: the value of a PromQL instant query (the first series; "" if none).
promq() {
  ip netns exec "$gw" curl -s --max-time 5 --data-urlencode "query=$1" \
    http://198.18.25.1:9090/api/v1/query | jq -r '.data.result[0].value[1] // ""'
}
# prom_wait EXPR TEST [S]: until `test VALUE TEST` holds for EXPR's value
# (e.g. prom_wait 'isthmus_pcscf_calls' '-eq 1'), up to S (10) s.
prom_wait() {
  local v=""
  for _ in $(seq 1 $((${3:-10} * 4))); do
    v=$(promq "$1")
    [ -n "$v" ] && [ "${v%.*}" $2 ] && return 0
    sleep 0.25
  done
  echo "    ($1 = '$v', expected $2)"
  return 1
}
up() {
  for _ in $(seq 1 100); do
    grep -q 'event=dataplane_attached' "$tmp/pcscf.log" &&
      ip netns exec "$gw" ss -Hltn "src 198.18.25.1:7443" | grep -q . &&
      grep -q 'event=listening scheme=https address=198.18.25.1 port=8443' "$tmp/wwsf.log" && return 0
    sleep 0.05
  done
  return 1
}
check "the P-CSCF attached to the dataplane and listens WSS; the WWSF listens HTTPS" up
# What Chromium is told to overlook is only the issuer: both present the
# test certificate, valid for 198.18.25.1 (verified with it as the CA).
serves_cert() {  # PORT
  ip netns exec "$ue" openssl s_client -connect "198.18.25.1:$1" -CAfile "$tmp/tls.crt" \
    -verify_ip 198.18.25.1 -verify_return_error < /dev/null > "$tmp/s_client-$1.log" 2>&1 &&
    grep -q 'Verify return code: 0 (ok)' "$tmp/s_client-$1.log" ||
    { echo "    ($1: $(grep -m 1 -i 'verify' "$tmp/s_client-$1.log"))"; return 1; }
}
check "the WWSF (8443) and the eP-CSCF's WSS (7443) present the test certificate for 198.18.25.1" \
  eval 'serves_cert 8443 && serves_cert 7443'

# stats_line PID LOG EVENT: SIGUSR1 to a daemon, its next event=EVENT line.
stats_line() {
  local before
  before=$(grep -c "event=$3 " "$2")
  kill -USR1 "$1"
  for _ in $(seq 1 50); do
    [ "$(grep -c "event=$3 " "$2")" -gt "$before" ] && break
    sleep 0.05
  done
  grep "event=$3 " "$2" | tail -n 1
}
# has LINE WORD...: each " WORD " is in LINE (says what LINE held when not).
has() {
  local line=" $1 " w
  shift
  for w in "$@"; do
    grep -q -- " $w " <<< "$line" || { echo "    (no $w in: $line)"; return 1; }
  done
}
# registers_from_pcscf: the REGISTERs Kamailio took from the eP-CSCF so far.
registers_from_pcscf() { grep -c 'request REGISTER .* from 198\.18\.24\.1:' "$tmp/kamailio.log"; }

# --- Chromium with the WIC from the WWSF, in the ue namespace -----------------------
mkfifo "$tmp/wic.in" && exec 8<>"$tmp/wic.in"
# The ue namespace's links settled first: no IPv6 address still tentative
# (duplicate address detection), whose end Chromium would take for a
# network change in the middle of loading the page (ERR_NETWORK_CHANGED,
# seen once in CI; the driver also reloads a page that never initialized).
for _ in $(seq 1 50); do
  [ -z "$(ip netns exec "$ue" ip -6 addr show tentative 2>/dev/null)" ] && break
  sleep 0.1
done
# TMPDIR: Chromium's profile goes into $tmp too.
mkdir -p "$tmp/chromium"
ip netns exec "$ue" env TMPDIR="$tmp/chromium" HOME="$tmp/chromium" node "$driver" \
  --url "$origin/" --ignore-https-errors --chromium "$chromium" --timeout 200 \
  <&8 > "$tmp/browser.jsonl" 2> "$tmp/browser.err" &
wic_pid=$!
bg+=("$wic_pid")

# call_bob S N NAME: the WIC's Nth call: to bob (sipp echoing its RTP,
# messages in $tmp/NAME-bob.msg), confirmed, media up, 3 samples into
# $tmp/NAME.stats and their checks (labelled S).
call_bob() {
  local s=$1 c=$2 name=$3 n_up
  bob_uas "$name-bob" answer -rtp_echo -timeout 60
  wic call sip:bob@ims.example.net
  check "$s: the call to bob is confirmed in the WIC" \
    wait_event browser ".event == \"state\" and .call == \"confirmed\" and .calls == $c" 20
  check "$s: the dataplane holds one session" sessions_are 1
  n_up=$(count browser '.event == "media_up"')
  wic wait-media 15
  check "$s: media up: DTLS connected, packets both ways" \
    wait_count browser '.event == "media_up"' $((n_up + 1)) 20
  echo "# $s: media up (wait-media: $(field browser '.event == "media_up"' .ms) ms)"
  sample "$name" 3
  media_checks "$s" "$name"
  check "$s: what comes back is the WIC's own stream, echoed by bob (the same SSRC)" \
    stat "$name" '.[-1].audio.in.ssrc == .[-1].audio.out.ssrc'
}
hang_up() {  # S N: the WIC hangs its Nth call up; bob's sipp ends well; no session left
  wic hangup
  check "$1: the WIC hangs up: the call ended" \
    wait_event browser ".event == \"state\" and .call == \"ended\" and .calls == $2" 10
  check "$1: bob took the BYE (sipp exits 0)" exited "$bob_pid" 0
  check "$1: no session left" sessions_are 0
}

# --- 1. the WIC from the WWSF ----------------------------------------------------------
check "1: Chromium loads the WIC from the WWSF over HTTPS; /api/config names the eP-CSCF's $wss_uri" \
  wait_event browser ".event == \"ready\" and .url == \"$origin/\" and .config.ws_uri == \"$wss_uri\"" 30
# Without the page every case after would only fail slowly (past meson's
# timeout, as once in CI: the WWSF saw two TLS connections, one aborted, and
# no request): say what the driver and the WWSF saw, and stop here.
if [ "$failures" -ne 0 ]; then
  echo "# the driver's last events:"; tail -n 5 "$tmp/browser.jsonl" | sed 's/^/#   /'
  echo "# the driver's stderr:"; tail -n 20 "$tmp/browser.err" | sed 's/^/#   /'
  echo "# the WWSF's log:"; tail -n 10 "$tmp/wwsf.log" 2>/dev/null | sed 's/^/#   /'
  summary
  exit 1
fi
check "1: the WWSF offers guests; the WIC put the wss URI in its form" \
  eval 'event browser ".event == \"ready\" and .config.guest == true" &&
        page_text ws-uri ". == \"$wss_uri\""'
shot login

# --- 2. a wrong password ------------------------------------------------------------------
wic login alice "$wrong_password"
check "2: a wrong password: the account panel says so" \
  page_text account-state 'endswith("unknown user or wrong password")'
wwsf_now=$(stats_line "$wwsf_pid" "$tmp/wwsf.log" stats)
check "2: no session, no token: the WWSF counts one failed login, nothing issued" \
  has "$wwsf_now" login_ok=0 login_failed=1 token_issued=0 sessions=0
check "2: nothing registered: no token in the form, the WIC unregistered, no REGISTER at the IMS" \
  eval 'page_text token ". == \"\"" && page_text sip-uri ". == \"\"" &&
        [ "$(field browser ".event == \"state\"" .registration)" = unregistered ] &&
        [ "$(registers_from_pcscf)" -eq 0 ] && ! ims_registered alice'

# --- 3. alice logs in, registers with her token, calls bob -----------------------------
wic login alice "$password"
check "3: alice logs in: the account panel names her identity, the form has her URI and a token" \
  eval 'page_text account-state "startswith(\"logged in as alice (sip:alice@ims.example.net)\")" &&
        page_text sip-uri ". == \"sip:alice@ims.example.net\"" &&
        page_text token "test(\"^[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+\$\")"'
wic register
check "3: alice registers over WSS with the token" \
  eval 'wait_event browser ".event == \"state\" and .registration == \"registered\" and .identity == \"sip:alice@ims.example.net\"" 15 &&
        event browser ".event == \"log\" and .text == \"WebSocket connected to $wss_uri\""'
pcscf_now=$(stats_line "$pcscf_pid" "$tmp/pcscf.log" stats)
check "3: without a digest challenge: the eP-CSCF counts a token registration, the IMS took one REGISTER, none refused" \
  eval 'has "$pcscf_now" token_registrations=1 && is "$(registers_from_pcscf)" 1 &&
        ! grep -q " refused_" <<< "$pcscf_now" &&
        ! event browser ".event == \"log\" and (.text | test(\"401|407|registration failed\"))"'
check "3: the IMS holds alice's binding; the page says registered" \
  eval 'ims_registered alice && page_text reg-state ". == \"registered\""'
shot logged-in

call_bob 3 1 c3
check "3: the page shows the call confirmed and its statistics" \
  eval 'page_text call-state ". == \"confirmed\"" && page_text stats-body "contains(\"audio sent\")"'
shot in-call
# What an operator sees of the call in Prometheus (its HTTP API).
check "3: Prometheus: the eP-CSCF's exporter is up, one call, one dataplane session, of a capacity of 4096" \
  eval 'prom_wait "up{job=\"isthmus-pcscf\"}" "-eq 1" 15 && prom_wait isthmus_pcscf_calls "-eq 1" &&
        prom_wait "sum(isthmus_dataplane_sessions)" "-eq 1" && prom_wait isthmus_dataplane_sessions_capacity "-eq 4096"'
check "3: Prometheus: media relayed both ways (over 20 packets/s each way), DTLS up, one WSS connection" \
  eval 'prom_wait "sum(rate(isthmus_dataplane_relayed_packets_total{direction=\"access_to_core\"}[3s]))" "-gt 20" &&
        prom_wait "sum(rate(isthmus_dataplane_relayed_packets_total{direction=\"core_to_access\"}[3s]))" "-gt 20" &&
        prom_wait "isthmus_dataplane_dtls_handshakes_total{outcome=\"up\"}" "-ge 1" &&
        prom_wait "isthmus_pcscf_connections{transport=\"wss\"}" "-eq 1"'
check "3: Prometheus: her token registration, the INVITE she sent" \
  eval 'prom_wait "isthmus_pcscf_token_registrations_total{kind=\"user\"}" "-eq 1" &&
        prom_wait "isthmus_pcscf_requests_received_total{side=\"w2\",method=\"INVITE\"}" "-ge 1"'
check "3: Prometheus: the WWSF's exporter is up: 1 login, 1 failed, 1 token, her session" \
  eval 'prom_wait "up{job=\"isthmus-wwsf\"}" "-eq 1" &&
        prom_wait "isthmus_wwsf_logins_total{result=\"ok\"}" "-eq 1" &&
        prom_wait "isthmus_wwsf_logins_total{result=\"failed\"}" "-eq 1" &&
        prom_wait isthmus_wwsf_tokens_issued_total "-eq 1" && prom_wait isthmus_wwsf_sessions "-eq 1"'
# The keypad (RFC 4733 through RTCDTMFSender), then hold and resume
# (re-INVITEs a=sendonly, a=sendrecv) with media again after the resume.
wic dtmf 5
check "3: the keypad's tone 5 was played" \
  wait_event browser '.event == "state" and .dtmfPlayed == "5"' 10
wic hold
check "3: hold: the re-INVITE is answered, the WIC shows the call on hold" \
  eval 'wait_event browser ".event == \"log\" and .text == \"hold answered\"" 10 &&
        wait_event browser ".event == \"state\" and .onHold == true" 1'
wic resume
check "3: resume: answered, the call is up again, still one session" \
  eval 'wait_event browser ".event == \"log\" and .text == \"resume answered\"" 10 &&
        wait_event browser ".event == \"state\" and .onHold == false and .call == \"confirmed\" and .calls == 1" 1 &&
        sessions_are 1'
n_up=$(count browser '.event == "media_up"')
wic wait-media 15
check "3: media again after the resume" wait_count browser '.event == "media_up"' $((n_up + 1)) 20
sample c3r 3
check "3: after the resume, packets still flow both ways" \
  stat c3r '(.[-1].audio.out.packetsSent - .[0].audio.out.packetsSent) >= 30 and
            (.[-1].audio.in.packetsReceived - .[0].audio.in.packetsReceived) >= 30'
hang_up 3 1
check "3: Prometheus: after the hang-up, no call and no dataplane session" \
  eval 'prom_wait isthmus_pcscf_calls "-eq 0" && prom_wait "sum(isthmus_dataplane_sessions)" "-eq 0"'
check "3: bob's INVITE came from alice's registered identity; he took the hold and the resume" \
  eval 'sipp_has "$tmp/c3-bob.msg" received "^INVITE " "^P-Asserted-Identity: <sip:alice@ims.example.net>" &&
        [ "$(sipp_count "$tmp/c3-bob.msg" received "^INVITE ")" -eq 3 ] &&
        sipp_nth "$tmp/c3-bob.msg" received "^INVITE " 2 | grep "^a=sendonly" >/dev/null &&
        sipp_nth "$tmp/c3-bob.msg" received "^INVITE " 3 | grep "^a=sendrecv" >/dev/null'

# Chat: text messages through the IMS (SIP MESSAGE, RFC 3428) both ways.
ip netns exec "$ims" sipp -sf "$here/ims/uas_message.xml" -i "$bob_addr" -p 5070 -set reply 200 \
  -m 1 -timeout 30 -timeout_error -max_recv_loops 100 -nostdin \
  -trace_msg -message_file "$tmp/m-bob.msg" > "$tmp/m-bob.out" 2>&1 &
bob_pid=$!
bg+=("$bob_pid")
wait_udp "$ims" 5070
wic chat bob hello bob, from the WIC
check "3: chat: alice's message is delivered (200 from bob through the IMS)" \
  eval 'wait_event browser ".event == \"message\" and .direction == \"outgoing\" and .status == \"sent\" and .code == 200 and .peer == \"sip:bob@ims.example.net\"" 10 &&
        exited "$bob_pid" 0'
check "3: chat: bob got a SIP MESSAGE with her text (text/plain), from her registered identity" \
  eval 'sipp_has "$tmp/m-bob.msg" received "^MESSAGE " "^hello bob, from the WIC\$" &&
        sipp_has "$tmp/m-bob.msg" received "^MESSAGE " "^Content-Type: text/plain" &&
        sipp_has "$tmp/m-bob.msg" received "^MESSAGE " "^P-Asserted-Identity: <sip:alice@ims.example.net>"'
ims_sipp "$ims" "$bob_addr" uac_message.xml -p 5071 -s alice -key from bob -set expect 200 \
  > "$tmp/m-alice.out" 2>&1
rc=$?
check "3: chat: bob's MESSAGE reaches the WIC (200 to bob) and shows in its chat panel" \
  eval '[ "$rc" -eq 0 ] &&
        wait_event browser ".event == \"message\" and .direction == \"incoming\" and (.peer | startswith(\"sip:bob@ims.example.net\")) and (.text | startswith(\"isthmus test message \"))" 10 &&
        page_text chat-log "contains(\"isthmus test message \") and contains(\"hello bob, from the WIC\")"'
shot chat

wic unregister
check "3: alice unregisters: the IMS holds no binding of hers" \
  eval 'wait_event browser ".event == \"state\" and .registration == \"unregistered\" and .calls == 1" 10 &&
        ! ims_registered alice'
wic logout
check "3: she logs out" page_text account-state '. == "not logged in"'

# --- 4. a guest ---------------------------------------------------------------------------
wic guest
check "4: a guest identity from the pool (user9001 or user9002), with a token" \
  eval 'page_text account-state "test(\"^guest identity sip:user900[12]@ims[.]example[.]net until \")" &&
        page_text token "test(\"^[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+\$\")"'
guest=$(field browser '.event == "text" and .id == "account-state"' '.text | capture("(?<u>sip:user900[12]@ims[.]example[.]net)").u')
guest_user=${guest#sip:}
guest_user=${guest_user%@*}
echo "# 4: the guest is $guest"
wic register
check "4: the guest registers over WSS with the leased identity's token" \
  wait_event browser ".event == \"state\" and .registration == \"registered\" and .identity == \"$guest\"" 15
pcscf_now=$(stats_line "$pcscf_pid" "$tmp/pcscf.log" stats)
check "4: without a digest challenge: a second token registration, one more REGISTER at the IMS" \
  eval 'has "$pcscf_now" token_registrations=2 && is "$(registers_from_pcscf)" 3 &&
        ! grep -q " refused_" <<< "$pcscf_now"'
check "4: the IMS holds the guest's binding; the page says registered" \
  eval 'ims_registered "$guest_user" && page_text reg-state ". == \"registered\""'
shot guest

call_bob 4 2 c4
check "4: bob's INVITE comes from the guest identity" \
  eval 'sipp_has "$tmp/c4-bob.msg" received "^INVITE " "^P-Asserted-Identity: <$guest>"'
hang_up 4 2

# A.3.3: the guest's page goes (reloaded: its WebSocket closes without a
# de-registration); the eP-CSCF gives the lease back to the WWSF at once,
# with the token the guest registered with, over https verified against
# the test certificate.
wic reload
check "4: the page reloads (its WebSocket closed)" wait_event browser '.event == "reloaded"' 15
check "4: the eP-CSCF gave the guest's lease back (200 from the WWSF)" \
  eval 'for _ in $(seq 1 50); do grep -q "event=guest_lease_released identity=$guest status=200" "$tmp/pcscf.log" && break; sleep 0.1; done &&
        grep -q "event=guest_lease_released identity=$guest status=200" "$tmp/pcscf.log"'
check "4: the WWSF took it back from the eP-CSCF (198.18.25.1): the pool is full again" \
  eval 'grep -q "event=guest_released identity=$guest free=2 peer=198.18.25.1" "$tmp/wwsf.log"'
wic guest
check "4: the reloaded page leases a guest identity again (the pool had it back)" \
  page_text account-state 'test("^guest identity sip:user900[12]@ims[.]example[.]net until ")'
wic logout
check "4: logging out gives that one back too" page_text account-state '. == "not logged in"'

# --- 5, 6. the end: screenshots, the browser closes, the daemons' final counts ----------
wic quit
check "the driver ends cleanly (no page error, no failed command)" exited "$wic_pid" 0
if grep -q '"event":"error"' "$tmp/browser.jsonl"; then grep '"event":"error"' "$tmp/browser.jsonl" | head -n 5; fi
pngs() {  # NAME...: each $shots/wic-NAME.png is a PNG
  local s
  for s in "$@"; do
    [ "$(head -c 8 "$shots/wic-$s.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
      { echo "    (no PNG $shots/wic-$s.png)"; return 1; }
  done
}
check "5: screenshots of the WIC: login, logged in, in call, chat, guest" pngs login logged-in in-call chat guest

kill -TERM "$pcscf_pid"
wait "$pcscf_pid"; rc=$?
pcscf_pid=""
final=$(grep 'event=stopped' "$tmp/pcscf.log")
echo "# $final"
check "the P-CSCF stops cleanly (exit $rc): no call and no session left, 2 token registrations (1 a guest's), none refused, 1 lease given back" \
  eval '[ "$rc" -eq 0 ] && has "$final" calls=0 sessions=0 token_registrations=2 token_guest_registrations=1 \
          leases_pending=0 leases_released=1 leases_refused=0 leases_failed=0 &&
        ! grep -q " refused_" <<< "$final"'
check "it started 2 calls and ended 2, created 2 sessions and deleted 2" \
  has "$final" media_calls_started=2 media_calls_ended=2 media_sessions_created=2 media_sessions_deleted=2

kill -TERM "$wwsf_pid"
wait "$wwsf_pid"; rc=$?
wwsf_pid=""
final=$(grep 'event=stopped' "$tmp/wwsf.log")
echo "# $final"
check "the WWSF stops cleanly (exit $rc): 1 login, 1 failed, 3 tokens, 2 guest leases (both given back), none left" \
  eval '[ "$rc" -eq 0 ] && has "$final" login_ok=1 login_failed=1 token_issued=3 guest_leased=2 guest_released=2 guests_leased=0 sessions=0'
# What must stay secret: the passwords, the hash, the tokens the WIC was given.
{ printf '%s\n' "$password" "$wrong_password" "$hash"
  jq -r 'select(.event == "text" and .id == "token" and .text != "") | .text' "$tmp/browser.jsonl"
} > "$tmp/secrets"
check "no password, hash or token in the WWSF's or the eP-CSCF's log ($(($(wc -l < "$tmp/secrets") - 3)) tokens)" \
  eval '[ "$(wc -l < "$tmp/secrets")" -ge 5 ] && ! grep -qF -f "$tmp/secrets" "$tmp/wwsf.log" "$tmp/pcscf.log"'
summary
