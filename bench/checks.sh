#!/usr/bin/env bash
# Monitor benchmark (issue 7, Targets): 10,000 HTTP checks at a 60 s
# interval against a local target server on 127.0.0.1–8, for DURATION.
# Prints start-delay p50/p99, checks completed per minute, CPU seconds and
# max RSS of the monitor's process (the target runs in a child process).
#
#   bench/checks.sh                       # 10,000 checks, 2 minutes
#   CHECKS=2000 DURATION=5m bench/checks.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/checks" ./bench/checks)
ulimit -n 65536 2>/dev/null || true
"$work/checks" -checks "${CHECKS:-10000}" -interval "${INTERVAL:-60s}" -duration "${DURATION:-2m}" "$@"
