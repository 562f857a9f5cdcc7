#!/usr/bin/env bash
# The SDP parser's libFuzzer target: tests/fuzz/run_fuzz.sh sdp, kept under
# its old name.
#
#   tests/fuzz/run_sdp_fuzz.sh [seconds] [extra libFuzzer flags...]
exec "$(dirname "$0")/run_fuzz.sh" sdp "$@"
