# Shared helpers of the component test scripts (source it).
# check DESCRIPTION COMMAND...   runs COMMAND, prints ok/FAIL, counts
# wait_running CTL REGION        waits up to 10 s for state=running
# summary                        prints "N passed, N failed", returns non-zero on failure
checks=0
failures=0

check() {
  local what=$1; shift
  checks=$((checks + 1))
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}

wait_running() {
  local ctl=$1 region=$2
  for _ in $(seq 1 100); do
    "$ctl" --region "$region" status 2>/dev/null | grep -q 'state=running' && return 0
    sleep 0.1
  done
  return 1
}

summary() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
