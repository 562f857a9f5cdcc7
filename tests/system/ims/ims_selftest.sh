#!/usr/bin/env bash
# Self test of the test IMS core (kamailio.cfg, ims.sh and the sipp scenarios
# here), with sipp standing in for the P-CSCF and for UEs:
#
#   pcscf ns 198.18.20.1 --veth-- ims ns 198.18.20.2  Kamailio :5060 (udp, tcp)
#   sipp "P-CSCF" :5060 (Path)        198.18.20.3  sipp UE bob :5070
#
# Checked: alice, registered through the "P-CSCF" with a Path, gets 401 then
# 200 with Service-Route, P-Associated-URI and her Path echoed, and the Path is
# stored; a wrong password gets 403; bob registers directly, a load user by
# pattern, carol over TCP; bob's MESSAGE to alice reaches the Path's address
# with the Path as Route, and the "P-CSCF"'s 200 or 430 comes back to bob;
# OPTIONS too; alice's MESSAGE to bob's number reaches bob; an unregistered
# originating user gets 403; a silent P-CSCF makes 408 (after 5 s); after
# alice de-registers, a MESSAGE to her gets 404.
# Addresses from 198.18.20.0/24 only; namespaces, processes and files are
# removed on exit. Usage: ims_selftest.sh   (root; exit 77 = skipped)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../component/lib.sh"
. "$here/ims.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; exit 77; }
for tool in kamailio kamcmd sipp; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run tools/lib/deps.sh"; exit 1; }
done

S=$$
ims=isth-ims-st-$S pc=isth-pcscf-st-$S
core=198.18.20.2 pcscf=198.18.20.1 ue=198.18.20.3
path='sip:term@198.18.20.1:5060;lr'
alice_contact='sip:alice@a1b2c3.invalid;transport=ws'
tmp=$(mktemp -d)
bg=()

cleanup() {
  local p
  for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
  ims_stop
  ip netns del "$ims" 2>/dev/null
  ip netns del "$pc" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- two namespaces, one veth ----------------------------------------------
ip netns add "$ims" && ip netns add "$pc" || exit 1
ip link add "ims$S" netns "$ims" type veth peer name "pc$S" netns "$pc" || exit 1
ip -n "$ims" addr add "$core/24" dev "ims$S"
ip -n "$ims" addr add "$ue/24" dev "ims$S"
ip -n "$pc" addr add "$pcscf/24" dev "pc$S"
for l in "$ims ims$S" "$pc pc$S"; do
  set -- $l
  ip -n "$1" link set "$2" up
  ip -n "$1" link set lo up
done

# call NAME NS LOCAL_ADDR SCENARIO [SIPP_ARG...]: one bounded sipp call to the
# core; messages in $tmp/NAME.msg, errors in $tmp/NAME.err.
call() {
  local name=$1; shift
  ims_sipp "$1" "$2" "$3" "${@:4}" -trace_msg -message_file "$tmp/$name.msg" \
    -trace_err -error_file "$tmp/$name.err" > "$tmp/$name.out" 2>&1
}
# answer NAME NS ADDR PORT CODE: a sipp UAS on ADDR:PORT answering one MESSAGE
# with CODE, in the background (its pid in $uas); messages in $tmp/NAME.msg.
answer() {
  ip netns exec "$2" sipp -sf "$here/uas_message.xml" -i "$3" -p "$4" -set reply "$5" \
    -m 1 -timeout 10 -timeout_error -max_recv_loops 100 -nostdin \
    -trace_msg -message_file "$tmp/$1.msg" -trace_err -error_file "$tmp/$1.err" \
    > "$tmp/$1.out" 2>&1 &
  uas=$!
  bg+=("$uas")
  wait_udp "$2" "$4"
}
has() {  # FILE TEXT: FILE has a line with TEXT
  grep -qF -- "$2" "$1" 2>/dev/null
}

# --- the core ------------------------------------------------------------------
check "the core starts and answers OPTIONS over UDP" ims_start "$ims" "$core" "$tmp/kamailio.log"
first_pid=$ims_pid
check "ims_start again leaves the same core running" \
  eval 'ims_start "$ims" "$core" "$tmp/kamailio.log" && [ "$ims_pid" = "$first_pid" ]'
check "the core answers OPTIONS over TCP" call ping-tcp "$ims" "$ue" ping.xml -t t1

# --- registration through the "P-CSCF" ---------------------------------------------
check "alice registers through the P-CSCF (401, then 200)" \
  call alice-reg "$pc" "$pcscf" register_path.xml -p 5070 -s alice -au alice -ap alice-secret \
    -key expires 600 -key path "$path" -key contact "$alice_contact"
check "the first REGISTER is challenged in realm ims.example.net" \
  eval 'has "$tmp/alice-reg.msg" "SIP/2.0 401 Unauthorized" &&
        has "$tmp/alice-reg.msg" "WWW-Authenticate: Digest realm=\"ims.example.net\""'
check "the 200 has Service-Route <sip:orig@$core:5060;lr>" \
  has "$tmp/alice-reg.msg" "Service-Route: <sip:orig@$core:5060;lr>"
check "the 200 has P-Associated-URI with alice's sip and tel URIs" \
  has "$tmp/alice-reg.msg" "P-Associated-URI: <sip:alice@ims.example.net>, <tel:+15550100001>"
check "the 200 echoes the Path and lists the contact" \
  eval 'has "$tmp/alice-reg.msg" "Path: <$path>" && has "$tmp/alice-reg.msg" "Contact: <$alice_contact>;expires=600"'
check "the binding of alice stores the Path" \
  eval 'ims_kamcmd ul.lookup location alice | grep -qF "Path: <$path>"'
check "a wrong password gets 403" \
  eval '! call dave-bad "$pc" "$pcscf" register_path.xml -p 5070 -s dave -au dave -ap wrong \
          -key expires 600 -key path "$path" -key contact "sip:dave@d.invalid" &&
        has "$tmp/dave-bad.msg" "SIP/2.0 403 Authentication Failed" && ! ims_registered dave'

# --- UEs registered directly ---------------------------------------------------
check "bob registers directly from $ue:5070" \
  call bob-reg "$ims" "$ue" register.xml -p 5070 -s bob -au bob -ap bob-secret -key expires 600
check "user0042 (load pattern) registers; tel +15550110042" \
  eval 'call load-reg "$ims" "$ue" register.xml -p 5072 -s user0042 -au user0042 -ap load-secret \
          -key expires 600 &&
        has "$tmp/load-reg.msg" "P-Associated-URI: <sip:user0042@ims.example.net>, <tel:+15550110042>"'
check "carol registers over TCP" \
  eval 'call carol-reg "$ims" "$ue" register.xml -t t1 -p 5073 -s carol -au carol -ap carol-secret \
          -key expires 600 && ims_registered carol'

# --- terminating requests follow the Path -----------------------------------
answer pcscf-200 "$pc" "$pcscf" 5060 200
check "bob's MESSAGE to alice gets the P-CSCF's 200" \
  call bob-msg-200 "$ims" "$ue" uac_message.xml -p 5071 -s alice -key from bob -set expect 200
check "the P-CSCF answered one MESSAGE" wait "$uas"
check "the P-CSCF sees alice's contact as Request-URI" \
  has "$tmp/pcscf-200.msg" "MESSAGE $alice_contact SIP/2.0"
check "the P-CSCF sees the Path as Route" has "$tmp/pcscf-200.msg" "Route: <$path>"
check "the P-CSCF sees P-Called-Party-ID" \
  has "$tmp/pcscf-200.msg" "P-Called-Party-ID: <sip:alice@ims.example.net>"

answer pcscf-opt "$pc" "$pcscf" 5060 200
check "bob's OPTIONS to alice reaches the P-CSCF and gets its 200" \
  eval 'call bob-opt "$ims" "$ue" uac_options.xml -p 5071 -s alice -key from bob -set expect 200 &&
        wait "$uas" && has "$tmp/pcscf-opt.msg" "OPTIONS $alice_contact SIP/2.0"'

answer pcscf-430 "$pc" "$pcscf" 5060 430
check "the P-CSCF's 430 Flow Failed comes back to bob" \
  eval 'call bob-msg-430 "$ims" "$ue" uac_message.xml -p 5071 -s alice -key from bob -set expect 430 &&
        has "$tmp/bob-msg-430.msg" "SIP/2.0 430 Flow Failed"'
check "the P-CSCF answered the second MESSAGE" wait "$uas"

# --- originating requests -------------------------------------------------------
answer bob-uas "$ims" "$ue" 5070 200
check "alice's MESSAGE (via the P-CSCF) to bob's number reaches bob" \
  call alice-msg "$pc" "$pcscf" uac_message.xml -p 5070 -s +15550100002 -key from alice -set expect 200
check "bob answered, Request-URI his contact, no Route" \
  eval 'wait "$uas" && has "$tmp/bob-uas.msg" "MESSAGE sip:bob@$ue:5070;transport=UDP SIP/2.0" &&
        ! grep -q "^Route:" "$tmp/bob-uas.msg"'
answer bob-opt-uas "$ims" "$ue" 5070 200
check "alice's OPTIONS (via the P-CSCF) to bob gets bob's 200" \
  eval 'call alice-opt "$pc" "$pcscf" uac_options.xml -p 5070 -s bob -key from alice -set expect 200 &&
        wait "$uas"'
check "an originating MESSAGE from unregistered dave gets 403" \
  call dave-msg "$pc" "$pcscf" uac_message.xml -p 5070 -s bob -key from dave -set expect 403

# --- a P-CSCF that does not answer: tm's fr_timer (5 s) ends the branch ---------
check "with nobody at the Path's address, bob's MESSAGE to alice gets 408" \
  call bob-msg-408 "$ims" "$ue" uac_message.xml -p 5071 -s alice -key from bob -set expect 408

# --- de-registration ------------------------------------------------------------
check "alice de-registers (Expires: 0)" \
  eval 'call alice-dereg "$pc" "$pcscf" register_path.xml -p 5070 -s alice -au alice -ap alice-secret \
          -key expires 0 -key path "$path" -key contact "$alice_contact" && ! ims_registered alice'
check "a MESSAGE to de-registered alice gets 404" \
  call bob-msg-404 "$ims" "$ue" uac_message.xml -p 5071 -s alice -key from bob -set expect 404
check "a MESSAGE to an unknown user gets 404" \
  call bob-msg-nobody "$ims" "$ue" uac_message.xml -p 5071 -s nobody -key from bob -set expect 404

# --- stop ------------------------------------------------------------------------
run=$ims_run
check "ims_stop ends every process of the core and removes its run dir" \
  eval 'ims_stop && ! [ -e "/proc/$first_pid" ] && ! [ -e "$run" ] && ims_stop'

if [ "$failures" -ne 0 ]; then
  echo "--- kamailio.log (tail)"
  tail -n 40 "$tmp/kamailio.log"
  for f in "$tmp"/*.err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")"; tail -n 5 "$f"; }
  done
fi
summary
