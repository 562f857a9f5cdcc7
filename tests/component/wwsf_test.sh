#!/usr/bin/env bash
# Component test: isthmus-wwsf over HTTPS on loopback (no namespaces, no
# root), with a certificate made by openssl for 127.0.0.1 and curl as the
# client (the certificate verified, no -k):
#   - the tools: --generate-key (0600, public PEM, no overwrite),
#     --hash-password, --check-config (and a bad key named);
#   - the WIC's index with its security headers; /api/config;
#   - login (session cookie), wrong password and unknown user (401, one
#     message), a token for the session verified with openssl and the
#     public key alone, no token without a session (401);
#   - guest leases until the pool is empty (503), one given back early with
#     its token and leased again;
#   - traversal attempts (404), a body and a header over their limits (413,
#     431), TLS 1.1, TLS 1.2 with AES-CBC and renegotiation refused while
#     1.2 (ECDHE, AEAD) and 1.3 work;
#   - the Prometheus exporter (wwsf.metrics, plain HTTP on loopback): its
#     samples match what the test did and the final statistics line;
#   - SIGTERM: exit 0 with a final line; no password, token or cookie in
#     the log, nor the token signing key, the TLS key or the password's hash.
# Usage: wwsf_test.sh PATH/TO/isthmus-wwsf
set -uo pipefail
. "$(dirname "$0")/lib.sh"
bin=${1:?path to isthmus-wwsf}
[ -x "$bin" ] || { echo "$bin missing: build first"; exit 1; }
for tool in curl openssl jq; do
  command -v "$tool" >/dev/null || { echo "$tool missing"; exit 1; }
done
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the tools -------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null || { echo "openssl req failed"; exit 1; }

"$bin" --generate-key "$tmp/token.key" > "$tmp/token.pub"
check "--generate-key writes the key with mode 0600" \
  test "$(stat -c %a "$tmp/token.key")" = 600
check "--generate-key prints the public key" \
  openssl pkey -pubin -in "$tmp/token.pub" -noout
check "--generate-key does not overwrite" \
  sh -c "! '$bin' --generate-key '$tmp/token.key' >/dev/null 2>&1"

password='Wonder land 42!'
hash=$(printf '%s\n' "$password" | "$bin" --hash-password)
check "--hash-password prints scrypt\$32768\$8\$1\$salt\$hash" \
  sh -c "echo '$hash' | grep -Eq '^scrypt\\\$32768\\\$8\\\$1\\\$[A-Za-z0-9_-]{22}\\\$[A-Za-z0-9_-]{43}\$'"
# A web root of its own (the WIC in controlplane/wwsf/web changes on its own).
mkdir -p "$tmp/web/js"
printf '<!doctype html><title>test</title><p>the test WIC</p>\n' > "$tmp/web/index.html"
printf 'console.log("wic");\n' > "$tmp/web/js/app.js"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$tmp/passwd"
printf '# test users\nalice sip:alice@ims.example.net %s\n' "$hash" > "$tmp/users"

cat > "$tmp/isthmus.toml" <<TOML
[wwsf]
https = "127.0.0.1:0"
certificate = "$tmp/tls.crt"
private_key = "$tmp/tls.key"
web_root = "$tmp/web"
users_file = "$tmp/users"
token_key_file = "$tmp/token.key"
token_audience = "pcscf.example.net"
ws_uri = "wss://pcscf.example.net:7443"
domain = "ims.example.net"
guest_pool_range = "sip:guest{01..03}@ims.example.net"
max_guest_leases_per_address = 0
metrics = "127.0.0.1:0"
log_level = "debug"  # every request logged: the secret checks at the end read it all

[wwsf.limits]
max_body_bytes = 1024
max_header_bytes = 2048
TOML
check "--check-config accepts the configuration" \
  sh -c "'$bin' --config '$tmp/isthmus.toml' --check-config >/dev/null"
sed 's/^domain = /domian = /' "$tmp/isthmus.toml" > "$tmp/bad.toml"
"$bin" --config "$tmp/bad.toml" --check-config > /dev/null 2> "$tmp/bad.err"
bad_rc=$?
check "--check-config refuses an unknown key by name (exit 2)" \
  sh -c "[ $bad_rc -eq 2 ] && grep -q 'wwsf.domian: unknown key' '$tmp/bad.err'"
sed 's/^metrics = .*/metrics = "localhost:9102"/' "$tmp/isthmus.toml" > "$tmp/bad.toml"
"$bin" --config "$tmp/bad.toml" --check-config > /dev/null 2> "$tmp/bad.err"
bad_rc=$?
check "--check-config refuses a metrics address that is not an IP (exit 2)" \
  sh -c "[ $bad_rc -eq 2 ] && grep -q 'wwsf.metrics: \"localhost\" is not an IP address' '$tmp/bad.err'"

# --- the daemon ------------------------------------------------------------
"$bin" --config "$tmp/isthmus.toml" 2> "$tmp/wwsf.log" &
pid=$!
port=
for _ in $(seq 1 50); do
  port=$(sed -n 's/.*event=listening scheme=https .*port=\([0-9]*\).*/\1/p' "$tmp/wwsf.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "isthmus-wwsf did not start:"; cat "$tmp/wwsf.log"; exit 1; }
mport=$(sed -n 's/.*event=metrics_listening address=127\.0\.0\.1 port=\([0-9]*\) .*/\1/p' "$tmp/wwsf.log")
[ -n "$mport" ] || { echo "no metrics_listening line:"; cat "$tmp/wwsf.log"; exit 1; }
base="https://127.0.0.1:$port"
jar="$tmp/jar"
# req ARGS...: curl with the test's CA and cookie jar; the body on stdout,
# the status in $tmp/status, the headers in $tmp/headers.
req() {
  curl -sS --cacert "$tmp/tls.crt" -b "$jar" -c "$jar" -D "$tmp/headers" \
    -o "$tmp/body" -w '%{http_code}' "$@" > "$tmp/status" 2> "$tmp/curl.err"
  cat "$tmp/body"
}
status() { cat "$tmp/status"; }
has_header() { grep -iq "^$1" "$tmp/headers"; }
json() { curl_json=$(cat "$tmp/body"); jq -r "$1" <<< "$curl_json"; }

# The WIC's index and its headers.
req "$base/" > /dev/null
check "GET / serves the index (200, text/html)" \
  sh -c "[ $(status) = 200 ] && grep -iq '^content-type: text/html; charset=utf-8' '$tmp/headers' && grep -q 'the test WIC' '$tmp/body'"
check "CSP default-src 'self' with connect-src to the eP-CSCF" \
  has_header "content-security-policy: default-src 'self'; connect-src 'self' wss://pcscf.example.net:7443;"
check "X-Content-Type-Options: nosniff" has_header "x-content-type-options: nosniff"
check "Referrer-Policy: no-referrer" has_header "referrer-policy: no-referrer"
check "Strict-Transport-Security on https" has_header "strict-transport-security: max-age=31536000"

req "$base/api/config" > /dev/null
check "GET /api/config tells where the eP-CSCF is" \
  test "$(json '.ws_uri + " " + .domain + " " + .pcscf')" = "wss://pcscf.example.net:7443 ims.example.net pcscf.example.net"

# Login.
req -H 'Content-Type: application/json' -d '{"user":"alice","password":"nope"}' "$base/api/login" > /dev/null
wrong=$(cat "$tmp/body")
check "a wrong password gets 401" test "$(status)" = 401
req -H 'Content-Type: application/json' -d '{"user":"mallory","password":"nope"}' "$base/api/login" > /dev/null
check "an unknown user gets 401 with the same message" \
  sh -c "[ $(status) = 401 ] && [ '$(cat "$tmp/body")' = '$wrong' ] && [ '$wrong' = '{\"error\":\"unknown user or wrong password\"}' ]"
req -X POST "$base/api/token" > /dev/null
check "POST /api/token without a session gets 401" test "$(status)" = 401

req -H 'Content-Type: application/json' \
  -d "$(jq -nc --arg p "$password" '{user:"alice",password:$p}')" "$base/api/login" > /dev/null
check "login with the right password (200, identity)" \
  sh -c "[ $(status) = 200 ] && [ '$(json .identity)' = 'sip:alice@ims.example.net' ]"
check "the session cookie is Secure, HttpOnly, SameSite=Strict, Path=/" \
  has_header "set-cookie: __Host-isthmus-session=[A-Za-z0-9_-]\{43\}; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Strict"
cookie=$(awk '$6 == "__Host-isthmus-session" {print $7}' "$jar")

req -X POST "$base/api/token" > /dev/null
token=$(json .token)
check "POST /api/token with the session (200)" \
  sh -c "[ $(status) = 200 ] && [ '$(json .identity)' = 'sip:alice@ims.example.net' ]"
# The token verified as the eP-CSCF would, with the public key alone:
# base64url(payload) "." base64url(Ed25519 signature).
b64url_decode() {
  local s=${1//-/+}; s=${s//_//}
  while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
  printf '%s' "$s" | base64 -d
}
b64url_decode "${token%%.*}" > "$tmp/payload"
b64url_decode "${token#*.}" > "$tmp/signature"
check "the token's signature verifies with the public key (openssl)" \
  sh -c "openssl pkeyutl -verify -pubin -inkey '$tmp/token.pub' -rawin -in '$tmp/payload' -sigfile '$tmp/signature' >/dev/null"
check "the token names alice, the eP-CSCF and kind=user" \
  grep -Eq '^v=1&sub=sip%3Aalice%40ims\.example\.net&aud=pcscf\.example\.net&exp=[0-9]+&jti=[A-Za-z0-9_-]{22}&kind=user$' "$tmp/payload"
printf 'x' >> "$tmp/payload"
check "a changed payload does not verify" \
  sh -c "! openssl pkeyutl -verify -pubin -inkey '$tmp/token.pub' -rawin -in '$tmp/payload' -sigfile '$tmp/signature' >/dev/null 2>&1"

# Guests: a fresh client each time (no cookie jar).
guest() {
  curl -sS --cacert "$tmp/tls.crt" -X POST -o "$tmp/guest.$1" -w '%{http_code}' "$base/api/guest"
}
leased=0
for n in 1 2 3; do [ "$(guest $n)" = 200 ] && leased=$((leased + 1)); done
check "three guest leases from a pool of three" test "$leased" = 3
check "the leased identities are the pool's" \
  test "$(jq -r .identity "$tmp"/guest.[123] | sort | tr '\n' ' ')" = \
       "sip:guest01@ims.example.net sip:guest02@ims.example.net sip:guest03@ims.example.net "
check "the pool empty: 503 no guest identity free" \
  sh -c "[ \"\$(curl -sS --cacert '$tmp/tls.crt' -X POST -o '$tmp/guest.4' -w '%{http_code}' '$base/api/guest')\" = 503 ] &&
         [ \"\$(cat '$tmp/guest.4')\" = '{\"error\":\"no guest identity free\"}' ]"
req -H 'Content-Type: application/json' \
  -d "$(jq -c '{identity, token}' "$tmp/guest.2")" "$base/api/guest/release" > /dev/null
check "a lease given back early with its token (200)" test "$(status)" = 200
check "... and leased again" \
  sh -c "[ \"\$(curl -sS --cacert '$tmp/tls.crt' -X POST -o '$tmp/guest.5' -w '%{http_code}' '$base/api/guest')\" = 200 ] &&
         [ \"\$(jq -r .identity '$tmp/guest.5')\" = \"\$(jq -r .identity '$tmp/guest.2')\" ]"
req -H 'Content-Type: application/json' \
  -d "$(jq -c '{identity: .identity, token: "forged.token"}' "$tmp/guest.1")" "$base/api/guest/release" > /dev/null
check "a release with another token gets 403" test "$(status)" = 403

# Traversal and limits.
for target in '/../etc/passwd' '/%2e%2e/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2f..%2fetc%2fpasswd' \
              '/.%2e/.%2e/etc/passwd' '/..\..\etc\passwd'; do
  req --path-as-is "$base$target" > /dev/null
  check "traversal $target gets 404" \
    sh -c "[ $(status) = 404 ] && ! grep -q 'root:' '$tmp/body'"
done
req --path-as-is "$base/js/../../passwd" > /dev/null
check "traversal /js/../../passwd (a file next to the root) gets 404" \
  sh -c "[ $(status) = 404 ] && ! grep -q 'root:' '$tmp/body'"
req "$base/js/app.js" > /dev/null
check "a script is served as text/javascript" \
  sh -c "[ $(status) = 200 ] && grep -iq '^content-type: text/javascript; charset=utf-8' '$tmp/headers'"
req "$base/missing.js" > /dev/null
check "a missing file gets 404" test "$(status)" = 404
head -c 2000 /dev/zero | tr '\0' 'a' > "$tmp/big"
req -H 'Content-Type: application/json' --data-binary "@$tmp/big" "$base/api/login" > /dev/null
check "a body over max_body_bytes gets 413" test "$(status)" = 413
req -H "X-Big: $(head -c 3000 /dev/zero | tr '\0' 'b')" "$base/" > /dev/null
check "a header over max_header_bytes gets 431" test "$(status)" = 431

# TLS versions.
check "TLS 1.1 is refused" \
  sh -c "! openssl s_client -connect 127.0.0.1:$port -tls1_1 -CAfile '$tmp/tls.crt' </dev/null >/dev/null 2>&1"
check "TLS 1.2 with ECDHE but AES-CBC is refused" \
  sh -c "! openssl s_client -connect 127.0.0.1:$port -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA -CAfile '$tmp/tls.crt' </dev/null >/dev/null 2>&1"
# A TLS 1.2 client that renegotiates ("R" on s_client's stdin) before its
# request: refused (no_renegotiation), and the request is never answered.
# s_client reads stdin once its handshake is done and acts on a leading R
# only, dropping the rest of that read: the R goes once the certificate was
# verified (stderr, unbuffered), the request (whose write starts the new
# handshake) half a second later, on its own.
rm -f "$tmp/reneg.out"
(
  for _ in $(seq 1 100); do
    grep -q '^verify return:' "$tmp/reneg.out" 2>/dev/null && break
    sleep 0.05
  done
  sleep 0.3
  printf 'R\n'; sleep 0.5; printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'; sleep 0.5
) | timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -CAfile "$tmp/tls.crt" \
  > "$tmp/reneg.out" 2>&1
check "TLS 1.2 renegotiation is refused and the request after it not served" \
  sh -c "grep -q 'RENEGOTIATING' '$tmp/reneg.out' && grep -q 'no renegotiation' '$tmp/reneg.out' &&
         ! grep -q '^HTTP/1.1 200' '$tmp/reneg.out'"
check "TLS 1.2 works" \
  sh -c "curl -sS --cacert '$tmp/tls.crt' --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' '$base/' | grep -q 200"
check "TLS 1.3 works" \
  sh -c "curl -sS --cacert '$tmp/tls.crt' --tlsv1.3 -o /dev/null -w '%{http_code}' '$base/' | grep -q 200"
check "plain HTTP on the https port is not served" \
  sh -c "! curl -sS -o /dev/null --max-time 5 'http://127.0.0.1:$port/' 2>/dev/null | grep -q 200"

# Connections closed before a handshake (as browsers drop their spare
# ones): counted apart from failed handshakes.
for _ in 1 2; do
  exec 3<>"/dev/tcp/127.0.0.1/$port" && exec 3>&-
done
sleep 0.3

# --- the exporter ------------------------------------------------------------
# Plain HTTP; the snapshot is refreshed every second, so scrape until it
# shows the last thing done above (the aborted handshakes), 5 s at most.
scrape() {
  curl -sS -D "$tmp/metrics.headers" -o "$tmp/metrics" -w '%{http_code}' \
    "http://127.0.0.1:$mport/metrics" > "$tmp/metrics.status" 2> "$tmp/curl.err"
}
# metric 'NAME{LABELS}': its sample in the last scrape ("" when absent).
metric() { awk -v n="$1" '$1 == n {print $2}' "$tmp/metrics"; }
for _ in $(seq 1 50); do
  scrape && [ "$(metric isthmus_wwsf_tls_handshakes_aborted_total)" = 2 ] && break
  sleep 0.1
done
check "GET /metrics over plain HTTP (200, text/plain)" \
  sh -c "[ \"\$(cat '$tmp/metrics.status')\" = 200 ] && grep -iq '^content-type: text/plain' '$tmp/metrics.headers'"
check "the exporter serves nothing else (GET / gets 404)" \
  test "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/")" = 404
# expect 'NAME{LABELS}' VALUE
expect() {
  local got; got=$(metric "$1")
  check "metric $1 = $2" sh -c "[ '$got' = '$2' ] || { echo \"    got '$got'\"; false; }"
}
check "# TYPE lines: logins a counter, guest identities a gauge" \
  sh -c "grep -qx '# TYPE isthmus_wwsf_logins_total counter' '$tmp/metrics' &&
         grep -qx '# TYPE isthmus_wwsf_guest_identities gauge' '$tmp/metrics'"
check "isthmus_wwsf_build_info{version=...} 1" \
  grep -Eq '^isthmus_wwsf_build_info\{version="[0-9][^"]*"\} 1$' "$tmp/metrics"
expect 'isthmus_wwsf_logins_total{result="ok"}' 1
expect 'isthmus_wwsf_logins_total{result="failed"}' 2
expect 'isthmus_wwsf_logins_total{result="busy"}' 0
expect isthmus_wwsf_tokens_issued_total 5            # alice's, and each of the 4 leases'
expect isthmus_wwsf_tokens_refused_total 1
expect isthmus_wwsf_guest_leases_total 4
expect 'isthmus_wwsf_guest_leases_refused_total{reason="pool_empty"}' 1
expect 'isthmus_wwsf_guest_leases_ended_total{reason="released"}' 1
expect isthmus_wwsf_guest_releases_refused_total 1
expect 'isthmus_wwsf_guest_identities{state="leased"}' 3
expect 'isthmus_wwsf_guest_identities{state="free"}' 0
expect isthmus_wwsf_guest_pool_identities 3
expect isthmus_wwsf_users 1
expect isthmus_wwsf_tls_handshakes_failed_total 3
expect isthmus_wwsf_tls_handshakes_aborted_total 2
start=$(metric process_start_time_seconds); start=${start:-0}
age=$(( $(date +%s) - ${start%.*} ))
check "process_start_time_seconds is this run's start (${age}s ago)" \
  test "$age" -ge 0 -a "$age" -lt 120

kill -TERM "$pid"
rc=0
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"; rc=$?
pid=
check "SIGTERM: exit 0" test "$rc" = 0
check "SIGTERM: a final stopped line with the counters" \
  grep -q 'event=stopped .*login_ok=1 login_failed=2 .*guest_leased=4 guest_pool_empty=1' "$tmp/wwsf.log"
# The scrape and the final line agree (no request came in between).
stat() { grep -o 'event=stopped .*' "$tmp/wwsf.log" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
mismatches=
while read -r key name; do
  [ -n "$(stat "$key")" ] && [ "$(stat "$key")" = "$(metric "$name")" ] ||
    mismatches="$mismatches $key=$(stat "$key")/$name=$(metric "$name")"
done <<'MAP'
sessions isthmus_wwsf_sessions
guests_leased isthmus_wwsf_guest_identities{state="leased"}
guests_free isthmus_wwsf_guest_identities{state="free"}
connections_total isthmus_wwsf_http_connections_total
connections_refused isthmus_wwsf_http_connections_refused_total
tls_failed isthmus_wwsf_tls_handshakes_failed_total
tls_aborted isthmus_wwsf_tls_handshakes_aborted_total
requests isthmus_wwsf_http_requests_total
refused_parse isthmus_wwsf_http_requests_refused_total
timeouts isthmus_wwsf_http_timeouts_total
login_ok isthmus_wwsf_logins_total{result="ok"}
login_failed isthmus_wwsf_logins_total{result="failed"}
login_busy isthmus_wwsf_logins_total{result="busy"}
sessions_full isthmus_wwsf_sessions_refused_total
token_issued isthmus_wwsf_tokens_issued_total
no_session isthmus_wwsf_tokens_refused_total
guest_leased isthmus_wwsf_guest_leases_total
guest_pool_empty isthmus_wwsf_guest_leases_refused_total{reason="pool_empty"}
guest_per_address isthmus_wwsf_guest_leases_refused_total{reason="per_address"}
guest_released isthmus_wwsf_guest_leases_ended_total{reason="released"}
guest_expired isthmus_wwsf_guest_leases_ended_total{reason="expired"}
release_refused isthmus_wwsf_guest_releases_refused_total
bad_request isthmus_wwsf_bad_requests_total
not_found isthmus_wwsf_not_found_total
static_served isthmus_wwsf_static_files_served_total
MAP
check "every counter of the final line equals its metric" \
  sh -c "[ -z '$mismatches' ] || { echo '   $mismatches'; false; }"
check "TLS: three handshakes failed (1.1, 1.2 with CBC, plain HTTP), two connections closed before one (tls_aborted)" \
  sh -c "grep -q 'event=stopped .* tls_failed=3 tls_aborted=2 ' '$tmp/wwsf.log' ||
         { grep -o 'tls_[a-z]*=[0-9]*' '$tmp/wwsf.log' | sed 's/^/    /'; false; }"
check "the log holds no password, token or cookie" \
  sh -c "! grep -qF -e '$password' -e '${token#*.}' -e '$cookie' -e '$(jq -r .token "$tmp/guest.1" | cut -d. -f2)' '$tmp/wwsf.log'"
# The keys: each base64 line of the two PEM files' bodies, and the private
# scalars in hex (the Ed25519 seed, the P-256 scalar); the password's hash.
key_secrets=("${hash##*\$}")
for f in "$tmp/token.key" "$tmp/tls.key"; do
  while read -r line; do key_secrets+=("$line"); done < <(grep -v '^-----' "$f")
  key_secrets+=("$(openssl pkey -in "$f" -noout -text 2>/dev/null |
    sed -n '/^priv:/,/^pub:/p' | grep -v -e '^priv:' -e '^pub:' | tr -d ' :\n')")
done
key_leaks() {
  local k n=0
  for k in "${key_secrets[@]}"; do
    [ "${#k}" -ge 32 ] || { echo "    (a secret too short to look for: '$k')"; n=$((n + 1)); continue; }
    if grep -qF -- "$k" "$tmp/wwsf.log"; then echo "    (found: $k)"; n=$((n + 1)); fi
  done
  [ "$n" -eq 0 ]
}
check "the log (at debug: $(grep -c 'level=debug' "$tmp/wwsf.log") debug lines) holds neither key (token signing, TLS: PEM lines, scalars) nor the password's hash (${#key_secrets[@]} strings)" \
  eval '[ "$(grep -c "level=debug" "$tmp/wwsf.log")" -gt 0 ] && key_leaks' 
check "one line per event, each isthmus-wwsf: level=..." \
  sh -c "! grep -v '^isthmus-wwsf: level=[a-z]* event=' '$tmp/wwsf.log'"

summary
