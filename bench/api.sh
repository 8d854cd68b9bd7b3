#!/usr/bin/env bash
# API read benchmark (issue 2, Targets): requests/s of tocsin's GET /api/v1/me
# on SQLite with a bearer token, against bench/minimal, a bare net/http
# server returning the same bytes and headers, in one run, alternating.
#
#   bench/api.sh                      # 2 rounds of wrk -t2 -c64 -d10s each
#   ROUNDS=3 DURATION=20s bench/api.sh
set -euo pipefail

THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-2}

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
	command -v "$tool" >/dev/null || { echo "api.sh: $tool is needed" >&2; exit 1; }
done

echo "building tocsin and bench/minimal…" >&2
(cd "$root" && go build -o "$work/tocsin" ./cmd/tocsin && go build -o "$work/minimal" ./bench/minimal)

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

# An account and a token from the command line, as a script would.
data=$work/data
printf '%s\n' 'correct horse battery staple' |
	"$work/tocsin" user add --data "$data" --email bench@example.org --role admin >/dev/null 2>&1
TOKEN=$("$work/tocsin" token create --data "$data" --name bench --role viewer 2>/dev/null)

"$work/tocsin" serve --data "$data" --listen 127.0.0.1:0 >/dev/null 2>"$work/tocsin.log" &
pids+=($!)
tocsin=http://$(waitaddr "$work/tocsin.log" $!)/api/v1/me

# Capture tocsin's answer after one use, so that last_used_at is set (it is
# then rewritten at most once a minute, so the bytes stay put) and serve it
# from the minimal server.
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$tocsin"
curl -sf -D "$work/me.headers" -o "$work/me.json" -H "Authorization: Bearer $TOKEN" "$tocsin"
"$work/minimal" -listen 127.0.0.1:0 -headers "$work/me.headers" -body "$work/me.json" 2>"$work/minimal.log" &
pids+=($!)
minimal=http://$(waitaddr "$work/minimal.log" $!)/api/v1/me

# Both must answer the same: same status, headers (but Date) and body.
strip() { tr -d '\r' <"$1" | grep -v -i '^date:' | sort; }
curl -sf -D "$work/min.headers" -o "$work/min.json" -H "Authorization: Bearer $TOKEN" "$minimal"
if ! cmp -s "$work/me.json" "$work/min.json" || ! diff <(strip "$work/me.headers") <(strip "$work/min.headers") >&2; then
	echo "api.sh: the two servers do not answer the same bytes" >&2
	exit 1
fi
echo "both answer $(wc -c <"$work/me.json") bytes of JSON with $(grep -c ':' "$work/me.headers") headers" >&2

# bench NAME URL: runs wrk, prints requests/s.
bench() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$2" -H "Authorization: Bearer $TOKEN" "$1")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "api.sh: non-2xx answers from $1:" >&2
		echo "$out" >&2
		exit 1
	fi
	awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

echo "warming up ($WARMUP each)…" >&2
bench "$tocsin" "$WARMUP" >/dev/null
bench "$minimal" "$WARMUP" >/dev/null

printf '%-6s %-8s %14s\n' round server 'requests/s'
t_all=() m_all=()
for round in $(seq "$ROUNDS"); do
	t=$(bench "$tocsin" "$DURATION")
	printf '%-6s %-8s %14s\n' "$round" tocsin "$t"
	m=$(bench "$minimal" "$DURATION")
	printf '%-6s %-8s %14s\n' "$round" minimal "$m"
	t_all+=("$t") m_all+=("$m")
done
awk -v t="${t_all[*]}" -v m="${m_all[*]}" 'BEGIN {
	nt = split(t, ta, " "); nm = split(m, ma, " ")
	for (i = 1; i <= nt; i++) st += ta[i]
	for (i = 1; i <= nm; i++) sm += ma[i]
	printf "mean   tocsin  %14.0f\nmean   minimal %14.0f\nratio  tocsin/minimal = %.3f\n", st/nt, sm/nm, (st/nt)/(sm/nm)
}'
echo "wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) CPUs, tocsin on SQLite; both servers and wrk share the machine" >&2
