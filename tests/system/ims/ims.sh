# The test IMS core (Kamailio with kamailio.cfg here) for system tests (source it).
# ims_start NS ADDR LOGFILE [KAMAILIO_ARG...]
#                         starts the core in network namespace NS on ADDR (UDP and
#                         TCP 5060), logging to LOGFILE; returns when it answers an
#                         OPTIONS, or non-zero with the log's tail on stderr
# ims_stop                stops it (SIGTERM, SIGKILL after 5 s), removes its run dir
# ims_sipp NS LOCAL_ADDR SCENARIO [SIPP_ARG...]
#                         one sipp call of SCENARIO (a file here, or a path) from
#                         LOCAL_ADDR in NS to the core, bounded: -m 1, 10 s
# ims_register NS LOCAL_ADDR USER PASSWORD [EXPIRES [SIPP_ARG...]]
#                         a UE at LOCAL_ADDR registers USER directly (register.xml)
# ims_kamcmd CMD...       a kamcmd RPC to the running core, e.g. ims_kamcmd ul.dump
# ims_registered USER     the core holds a binding for USER (e.g. alice, user0042)
# State: $ims_ns $ims_addr $ims_pid $ims_run (empty when stopped). The functions
# return a status and never exit: safe under set -e when their status is tested.
ims_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ims_ns=""
ims_addr=""
ims_pid=""
ims_run=""

# ims_alive: the core's main process exists and is not a zombie.
ims_alive() {
  [ -n "$ims_pid" ] || return 1
  local state
  state=$(awk '{print $3}' "/proc/$ims_pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

ims_start() {
  local ns=$1 addr=$2 log=$3
  shift 3 || return 2
  if ims_alive && [ "$ims_ns" = "$ns" ] && [ "$ims_addr" = "$addr" ]; then
    return 0
  fi
  ims_stop
  ims_run=$(mktemp -d /tmp/isthmus-ims.XXXXXX) || return 1
  ims_ns=$ns
  ims_addr=$addr
  # Its own session, so that ims_stop can kill the children with the main
  # process. Without job control the background job is no group leader, setsid
  # does not fork and, ip netns exec exec'ing too, $! is Kamailio's main
  # process, a child of this shell (ims_stop reaps it). With job control
  # setsid forks: then the pid file names the main process.
  setsid ip netns exec "$ns" kamailio -f "$ims_dir/kamailio.cfg" -DD -E \
    -m 64 -M 8 -Y "$ims_run" -P "$ims_run/kamailio.pid" -w "$ims_run" \
    --substdef "!IMS_ADDR!$addr!" --substdef "!IMS_RUNDIR!$ims_run!" \
    "$@" > "$log" 2>&1 < /dev/null &
  ims_pid=$!
  local up="" i
  for i in $(seq 1 100); do
    if [ -s "$ims_run/kamailio.pid" ]; then ims_pid=$(cat "$ims_run/kamailio.pid"); fi
    if ip netns exec "$ns" ss -Hlun "src $addr:5060" 2>/dev/null | grep -q . &&
       ip netns exec "$ns" ss -Hltn "src $addr:5060" 2>/dev/null | grep -q .; then
      up=1
      break
    fi
    # Dead (a configuration error, an address in use): give up early.
    if [ "$i" -gt 10 ] && ! ims_alive; then break; fi
    sleep 0.05
  done
  # The sockets are bound before the workers start: wait for an answer.
  if [ -n "$up" ]; then
    up=""
    for _ in 1 2 3 4 5; do
      if ims_sipp "$ns" "$addr" ping.xml -timeout 2 >/dev/null 2>&1; then up=1; break; fi
      ims_alive || break
    done
  fi
  if [ -z "$up" ]; then
    echo "ims_start: the IMS core did not come up in $ns on $addr; $log ends:" >&2
    tail -n 30 "$log" >&2
    ims_stop
    return 1
  fi
}

ims_stop() {
  if [ -n "$ims_pid" ]; then
    kill -TERM "$ims_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      ims_alive || break
      sleep 0.1
    done
    if ims_alive; then kill -KILL "$ims_pid" 2>/dev/null || true; fi
    # setsid made the main process the leader of a group of its own (whose id
    # is its pid): whatever is left of its children goes too.
    kill -KILL -- "-$ims_pid" 2>/dev/null || true
    # Reap it when it is this shell's child.
    wait "$ims_pid" 2>/dev/null || true
  fi
  if [ -n "$ims_run" ]; then
    rm -rf "$ims_run"
  fi
  ims_pid=""
  ims_run=""
  ims_ns=""
  ims_addr=""
  return 0
}

# ims_sipp NS LOCAL_ADDR SCENARIO [SIPP_ARG...]: a later -m or -timeout in
# SIPP_ARG overrides the defaults here.
ims_sipp() {
  local ns=$1 local_addr=$2 sf=$3
  shift 3 || return 2
  [ -n "$ims_addr" ] || { echo "ims_sipp: the IMS core is not running" >&2; return 2; }
  case $sf in */*) ;; *) sf=$ims_dir/$sf ;; esac
  ip netns exec "$ns" sipp "$ims_addr:5060" -sf "$sf" -i "$local_addr" \
    -m 1 -timeout 10 -timeout_error -max_recv_loops 100 -nostdin "$@" < /dev/null
}

# ims_register NS LOCAL_ADDR USER PASSWORD [EXPIRES [SIPP_ARG...]]
ims_register() {
  local ns=$1 local_addr=$2 user=$3 password=$4 expires=${5:-600}
  shift 4 || return 2
  [ $# -eq 0 ] || shift
  ims_sipp "$ns" "$local_addr" register.xml -s "$user" -au "$user" -ap "$password" \
    -key expires "$expires" "$@"
}

ims_kamcmd() {
  [ -n "$ims_run" ] || { echo "ims_kamcmd: the IMS core is not running" >&2; return 2; }
  kamcmd -s "unix:$ims_run/ctl" "$@"
}

ims_registered() {
  # kamcmd exits 0 on an RPC error too: look for the record in its output.
  ims_kamcmd ul.lookup location "$1" 2>/dev/null | grep -q '^[[:space:]]*AoR:'
}
