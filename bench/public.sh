#!/usr/bin/env bash
# Public page benchmark (issue 3, Targets): requests/s and p99 latency of
# tocsin's GET / and GET /api/v2/summary.json on SQLite seeded with 200
# services in 20 groups and 2,000 past incidents, against bench/minimal, a
# bare net/http server returning the same bytes and headers, in one run,
# alternating.
#
#   bench/public.sh                        # 2 rounds of wrk -t2 -c256 -d10s --latency
#   ROUNDS=3 DURATION=20s bench/public.sh
#   GATUS_URL=http://127.0.0.1:8081/api/v1/endpoints/statuses bench/public.sh
#
# With GATUS_URL (an already running Gatus), tocsin's / is also measured
# against that URL, alternating, and the ratio printed.
set -euo pipefail

THREADS=${THREADS:-2}
CONNS=${CONNS:-256}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-2}
GATUS_URL=${GATUS_URL:-}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

for tool in wrk curl go; do
	command -v "$tool" >/dev/null || { echo "public.sh: $tool is needed" >&2; exit 1; }
done

echo "building tocsin, bench/minimal and bench/seed…" >&2
(cd "$root" && go build -o "$work/tocsin" ./cmd/tocsin && go build -o "$work/minimal" ./bench/minimal &&
	go build -o "$work/seed" ./bench/seed)

# waitaddr LOG PID: prints the address a server reports on "listening on ADDR".
waitaddr() {
	local log=$1 pid=$2
	for _ in $(seq 1000); do
		if addr=$(grep -o -m1 'listening on [0-9.:]*' "$log" 2>/dev/null); then
			echo "${addr#listening on }"
			return
		fi
		kill -0 "$pid" 2>/dev/null || { echo "server exited:" >&2; cat "$log" >&2; exit 1; }
		sleep 0.01
	done
	echo "server did not report its address:" >&2
	cat "$log" >&2
	exit 1
}

data=$work/data
echo "seeding 200 services and 2,000 incidents…" >&2
"$work/seed" -data "$data"
"$work/tocsin" serve --data "$data" --listen 127.0.0.1:0 >/dev/null 2>"$work/tocsin.log" &
pids+=($!)
tocsin=http://$(waitaddr "$work/tocsin.log" $!)

# One minimal server per resource, each answering exactly what tocsin
# answers to that URL (wrk sends no Accept-Encoding: the plain bytes).
strip() { tr -d '\r' <"$1" | grep -v -i '^date:' | sort; }
declare -A minimal
for path in / /api/v2/summary.json; do
	name=$(tr -c 'a-z0-9' _ <<<"$path")
	curl -sf -D "$work/$name.headers" -o "$work/$name.body" "$tocsin$path"
	"$work/minimal" -listen 127.0.0.1:0 -headers "$work/$name.headers" -body "$work/$name.body" 2>"$work/minimal$name.log" &
	pids+=($!)
	minimal[$path]=http://$(waitaddr "$work/minimal$name.log" $!)$path
	curl -sf -D "$work/min$name.headers" -o "$work/min$name.body" "${minimal[$path]}"
	if ! cmp -s "$work/$name.body" "$work/min$name.body" || ! diff <(strip "$work/$name.headers") <(strip "$work/min$name.headers") >&2; then
		echo "public.sh: the two servers do not answer $path with the same bytes" >&2
		exit 1
	fi
	echo "$path: both answer $(wc -c <"$work/$name.body") bytes with $(grep -c ':' "$work/$name.headers") headers" >&2
done

# bench URL DURATION: runs wrk, prints "requests/s p99".
bench() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency "$1")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "public.sh: non-2xx answers from $1:" >&2
		echo "$out" >&2
		exit 1
	fi
	awk '/^Requests\/sec:/ {rps = $2} $1 == "99%" {p99 = $2} END {print rps, p99}' <<<"$out"
}

# compare LABEL A-NAME A-URL B-NAME B-URL: alternating rounds, then means and ratio.
compare() {
	local label=$1 an=$2 au=$3 bn=$4 bu=$5 a b a_all=() b_all=()
	echo "== $label" >&2
	bench "$au" "$WARMUP" >/dev/null
	bench "$bu" "$WARMUP" >/dev/null
	printf '%-6s %-8s %12s %10s\n' round server 'requests/s' p99
	for round in $(seq "$ROUNDS"); do
		a=$(bench "$au" "$DURATION")
		printf '%-6s %-8s %12s %10s\n' "$round" "$an" $a
		b=$(bench "$bu" "$DURATION")
		printf '%-6s %-8s %12s %10s\n' "$round" "$bn" $b
		a_all+=("${a%% *}") b_all+=("${b%% *}")
	done
	awk -v a="${a_all[*]}" -v b="${b_all[*]}" -v an="$an" -v bn="$bn" -v label="$label" 'BEGIN {
		na = split(a, aa, " "); nb = split(b, ba, " ")
		for (i = 1; i <= na; i++) sa += aa[i]
		for (i = 1; i <= nb; i++) sb += ba[i]
		printf "%s: mean %s %.0f, mean %s %.0f, ratio %s/%s = %.3f\n", label, an, sa/na, bn, sb/nb, an, bn, (sa/na)/(sb/nb)
	}'
}

compare "GET /" tocsin "$tocsin/" minimal "${minimal[/]}"
compare "GET /api/v2/summary.json" tocsin "$tocsin/api/v2/summary.json" minimal "${minimal[/api/v2/summary.json]}"
if [ -n "$GATUS_URL" ]; then
	curl -sf -o "$work/gatus.body" "$GATUS_URL" || { echo "public.sh: $GATUS_URL does not answer" >&2; exit 1; }
	echo "Gatus: $(wc -c <"$work/gatus.body") bytes from $GATUS_URL" >&2
	compare "tocsin GET / vs Gatus" tocsin "$tocsin/" gatus "$GATUS_URL"
fi
echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, $(nproc) CPUs, tocsin on SQLite; the servers and wrk share the machine" >&2
