#!/usr/bin/env bash
# The 10,000-subscriber target (issue 3): N confirmed subscribers notified of
# one published update through the real SMTP peer (OpenSMTPD + Dovecot),
# tocsin killed with SIGKILL half-way and started again; every subscriber
# must receive exactly one message. Prints the rates the test logs.
#
#   bench/subscribers.sh                 # N=10000 on SQLite
#   N=2000 BACKEND=postgres TOCSIN_TEST_POSTGRES=postgres://… bench/subscribers.sh
#
# It runs TestSubscribersNotifiedOnceAcrossAKill (cmd/tocsin), the same code
# the test suite runs with 300 subscribers; it needs root (the SMTP peer
# runs in a mount namespace) and Debian's opensmtpd and dovecot-lmtpd.
set -euo pipefail

N=${N:-10000}
BACKEND=${BACKEND:-sqlite}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
TOCSIN_SUBSCRIBERS_N=$N TOCSIN_SUBSCRIBERS_BACKEND=$BACKEND TOCSIN_REQUIRE_PEERS=1 \
	go test ./cmd/tocsin -run '^TestSubscribersNotifiedOnceAcrossAKill$' -count=1 -v -timeout 120m 2>&1 |
	grep -E 'subscribers_crash_test.go|^(--- |ok|FAIL|PASS)'
