#!/usr/bin/env bash
# Cold start benchmark (issue 2, Targets: under 1 s): time from exec of
# `tocsin serve` on a fresh, empty SQLite data directory until /readyz
# answers 200. That includes creating the database, applying the migrations,
# creating the secret key and the one-time setup link, starting the outbox
# worker and binding the port. Polled with curl every 5 ms.
#
#   bench/coldstart.sh          # 20 runs
#   RUNS=50 bench/coldstart.sh
set -euo pipefail

RUNS=${RUNS:-20}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "building tocsin…" >&2
(cd "$root" && go build -o "$work/tocsin" ./cmd/tocsin)

now_us() { echo $(($(date +%s%N) / 1000)); }

times=()
for run in $(seq "$RUNS"); do
	data=$work/data$run
	log=$work/serve$run.log
	start=$(now_us)
	"$work/tocsin" serve --data "$data" --listen 127.0.0.1:0 >/dev/null 2>"$log" &
	pid=$!
	addr=
	while :; do
		if [ -z "$addr" ]; then
			if line=$(grep -o -m1 'listening on [0-9.:]*' "$log" 2>/dev/null); then
				addr=${line#listening on }
			fi
		fi
		if [ -n "$addr" ] && curl -sf -o /dev/null "http://$addr/readyz"; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || { echo "tocsin exited:" >&2; cat "$log" >&2; exit 1; }
		if (($(now_us) - start > 10000000)); then
			echo "no /readyz 200 within 10 s" >&2
			cat "$log" >&2
			exit 1
		fi
		sleep 0.005
	done
	end=$(now_us)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	[ -f "$data/tocsin.db" ] || { echo "no database created in $data" >&2; exit 1; }
	times+=($((end - start)))
	awk -v run="$run" -v us=$((end - start)) 'BEGIN { printf "run %2d: %6.1f ms\n", run, us / 1000 }'
done

printf '%s\n' "${times[@]}" | sort -n | awk -v runs="$RUNS" '
	{ t[NR] = $1 / 1000 }
	END {
		med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		printf "cold start to /readyz 200 over %d runs: min %.1f ms, median %.1f ms, max %.1f ms (target < 1000 ms)\n", runs, t[1], med, t[NR]
		if (t[NR] >= 1000) exit 1
	}'
