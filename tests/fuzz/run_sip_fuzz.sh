#!/usr/bin/env bash
# The SIP parser's libFuzzer target: tests/fuzz/run_fuzz.sh sip, kept under
# its old name.
#
#   tests/fuzz/run_sip_fuzz.sh [seconds] [extra libFuzzer flags...]
exec "$(dirname "$0")/run_fuzz.sh" sip "$@"
