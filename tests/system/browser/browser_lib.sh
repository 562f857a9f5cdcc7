# Helpers of the browser system tests (source it after component/lib.sh and
# call_lib.sh, whose counter and sessions_are it uses; pcscf_browser_test.sh,
# wwsf_browser_test.sh).
#
# Expects: $tmp, $ctl and $region (the dataplane's), $wic_events (the name
# of the driver's event file, $tmp/$wic_events.jsonl), the driver's stdin
# open on fd 8, and $shots (where screenshots go).
#
# wic_init [TOOL...]      $web, $driver, $chromium set; Chromium, the TOOLs and
#                         the npm packages checked (exit 1 naming what is
#                         missing); the WIC bundled from its sources into
#                         $tmp/wic/wic.js (the tree's dist/ is not touched)
# wic_start_alice         the driver for alice (the WIC in Chromium, in $ue,
#                         toward the eP-CSCF at 198.18.25.1:5062), commands
#                         from fd 8, events in $tmp/alice.jsonl ($wic_pid;
#                         Chromium's profile in $tmp/chromium)
# wic COMMAND...          one command to the driver (wic-driver.mjs lists them)
# shot NAME               a screenshot of the page into $shots/wic-NAME.png
# page_text ID JQ [S]     the text of element ID satisfies JQ (a jq filter on
#                         the string), asked every 0.2 s for up to S (10) s
# sample NAME N           N samples of the WIC's statistics, a second apart,
#                         into $tmp/NAME.stats (one JSON object a line)
# wait_count NAME JQ N [S]  until N events of NAME satisfy JQ (up to S, 20, s)
# stat NAME JQ            JQ over the array of NAME's samples is true
# media_checks LABEL NAME what every call must show in NAME's samples (checks
#                         labelled LABEL): ICE and DTLS up with the gateway
#                         198.18.0.2, packets both ways rising, sound both ways

wic_init() {
  web=$here/../../controlplane/wwsf/web
  driver=$here/browser/wic-driver.mjs
  chromium=${CHROMIUM:-/usr/bin/chromium}
  local t d
  for t in "$@" "$chromium"; do
    command -v "$t" >/dev/null || { echo "$t missing: run tools/lib/deps.sh"; exit 1; }
  done
  for d in "$here/browser" "$web"; do
    [ -d "$d/node_modules" ] || { echo "$d/node_modules missing: run tools/lib/deps.sh"; exit 1; }
  done
  (cd "$web" && node build.mjs "$tmp/wic/wic.js") > "$tmp/wic-build.log" 2>&1 ||
    { echo "bundling the WIC failed:"; cat "$tmp/wic-build.log"; exit 1; }
}
wic_start_alice() {
  mkfifo "$tmp/wic.in" && exec 8<>"$tmp/wic.in"
  mkdir -p "$tmp/chromium"
  ip netns exec "$ue" env TMPDIR="$tmp/chromium" HOME="$tmp/chromium" node "$driver" \
    --ws-uri ws://198.18.25.1:5062 --uri sip:alice@ims.example.net --password alice-secret \
    --web "$web" --bundle "$tmp/wic/wic.js" --chromium "$chromium" --timeout 200 \
    <&8 > "$tmp/alice.jsonl" 2> "$tmp/alice.err" &
  wic_pid=$!
  bg+=("$wic_pid")
}
wic() { echo "$*" >&8; }
shot() { wic screenshot "$shots/wic-$1.png"; }
page_text() {
  local seen
  seen=$(count "$wic_events" ".event == \"text\" and .id == \"$1\"")
  for _ in $(seq 1 $((${3:-10} * 5))); do
    wic text "$1"
    sleep 0.2
    jq -e -s "[.[] | select(.event == \"text\" and .id == \"$1\")] | .[$seen:] | any(.text | $2)" \
      "$tmp/$wic_events.jsonl" >/dev/null 2>&1 && return 0
  done
  echo "    ($1: $(field "$wic_events" ".event == \"text\" and .id == \"$1\"" .text))"
  return 1
}
sample() {
  local before
  before=$(count "$wic_events" '.event == "stats"')
  wic stats "$2" 1000
  for _ in $(seq 1 $(($2 * 10 + 50))); do
    [ "$(count "$wic_events" '.event == "stats"')" -ge $((before + $2)) ] && break
    sleep 0.1
  done
  jq -c -s ".[] | select(.event == \"stats\")" "$tmp/$wic_events.jsonl" | tail -n "$2" > "$tmp/$1.stats"
}
wait_count() {
  for _ in $(seq 1 $((${4:-20} * 10))); do
    [ "$(count "$1" "$2")" -ge "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
stat() {  # (says what the last sample held when not)
  jq -e -s "$2" "$tmp/$1.stats" >/dev/null && return 0
  echo "    (last sample: $(tail -n 1 "$tmp/$1.stats" | jq -c '{audio, transport, pair, pairs}'))"
  return 1
}
media_checks() {
  local l=$1 n=$2 s
  s=$(tail -n 1 "$tmp/$n.stats")
  echo "# $l: $(jq -r '"DTLS \(.transport.dtlsState) (\(.transport.dtlsRole)), \(.transport.srtpCipher), pair \(.pair.local.address):\(.pair.local.port) -> \(.pair.remote.address):\(.pair.remote.port) \(.pair.state), sent \(.audio.out.packetsSent) \(.audio.out.codec), received \(.audio.in.packetsReceived) \(.audio.in.codec) (ssrc \(.audio.in.ssrc), ours \(.audio.out.ssrc))"' <<< "$s")"
  # (Chromium was seen once to report its selected, working pair "in-progress".)
  check "$l: ICE done: connected, the selected pair nominated and answered, to the gateway 198.18.0.2" \
    stat "$n" '(.[-1].transport.iceState | IN("connected", "completed")) and
               (.[-1].pair | .nominated and .responsesReceived > 0 and .remote.address == "198.18.0.2" and .remote.protocol == "udp") and
               any(.[-1].pairs[]; .state == "succeeded" and (.remote | startswith("198.18.0.2:")))'
  check "$l: DTLS connected (the browser the DTLS client), an SRTP cipher negotiated" \
    stat "$n" '.[-1].transport | .dtlsState == "connected" and .dtlsRole == "client" and (.srtpCipher | type == "string")'
  check "$l: packets sent rise (50 or more in the samples)" \
    stat "$n" '(.[-1].audio.out.packetsSent - .[0].audio.out.packetsSent) >= 50'
  check "$l: packets received rise (50 or more), at most 5% lost" \
    stat "$n" '(.[-1].audio.in.packetsReceived - .[0].audio.in.packetsReceived) >= 50 and .[-1].audio.in.packetsLost <= .[-1].audio.in.packetsReceived / 20'
  # Sound, not just packets: the energy (the integral of the level squared
  # over time, webrtc-stats) grows by 1e-4 or more over the samples, an RMS
  # level of about 0.005 (silence stays near 1e-9).
  echo "# $l: audio levels, microphone: $(jq -s -c 'map(.audio.source.audioLevel * 1000 | round / 1000)' "$tmp/$n.stats"), received: $(jq -s -c 'map(.audio.in.audioLevel * 1000 | round / 1000)' "$tmp/$n.stats")"
  check "$l: sound both ways: the energy of the microphone and of the received audio grows" \
    stat "$n" '(.[-1].audio.source.totalAudioEnergy - .[0].audio.source.totalAudioEnergy) >= 0.0001 and
               (.[-1].audio.in.totalAudioEnergy - .[0].audio.in.totalAudioEnergy) >= 0.0001'
}
