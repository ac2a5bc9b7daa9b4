#!/usr/bin/env bash
# Scheduler benchmark (issue 11): what serve's scheduler costs per poll, next
# to `refeed poll` in the same run, and how evenly it spreads the polls.
#
#   bench/sched/run.sh                      # from the repository root
#   SIZES="10000" INTERVAL=30 bench/sched/run.sh
#   KEEP=1 bench/sched/run.sh               # keep the temp dir (configs, dbs, logs)
#   REFEED=/path/to/refeed bench/sched/run.sh   # another build (e.g. an older commit's) instead of this tree's
#
# For each size N, N sources on one local server (bench/sched/stub) that
# answers every request with 304:
#   1. reference: `refeed poll` on a fresh database (every source due: N
#      polls, start-up, schema and source sync included), then `refeed poll
#      -force` on that database (N polls again); CPU (user+sys) per poll of
#      each, from /usr/bin/time;
#   2. `refeed serve` on another fresh database for ROUNDS intervals: its
#      first round polls everything at once; after WARM intervals the CPU it
#      spends (from /proc) is divided by the polls the stub saw meanwhile, and
#      the stub reports the busiest 10 s of that window against its mean, and
#      any source fetched again within 10 ms or within half an interval
#      (over the whole serve run, first round included).
# Targets: serve ≤ 2× refeed poll per poll, flat from 10,000 to 50,000
# sources; busiest 10 s ≤ 2× the mean; no source fetched twice at once.
# Not run by CI: about (ROUNDS + 1) × INTERVAL per size.
set -euo pipefail

SIZES=${SIZES:-"10000 50000"}
INTERVAL=${INTERVAL:-60}
ROUNDS=${ROUNDS:-4}
WARM=${WARM:-2}
CONCURRENCY=${CONCURRENCY:-8}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [[ ! -x /usr/bin/time ]]; then
	echo "run.sh: /usr/bin/time is missing: apt-get install -y time" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/refeed-sched.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ -n "${KEEP:-}" ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "== build" >&2
if [[ -n "${REFEED:-}" ]]; then
	cp "$REFEED" "$tmp/refeed"
else
	go build -o "$tmp/refeed" ./cmd/refeed
fi
go build -o "$tmp/stub" ./bench/sched/stub
"$tmp/stub" -addr 127.0.0.1:0 -addr-file "$tmp/addr" 2>"$tmp/stub.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$tmp/addr" ]] && break; sleep 0.1; done
addr=$(cat "$tmp/addr")
tck=$(getconf CLK_TCK)

# config N DB PORT: a config of N sources on the stub.
config() {
	local n=$1 db=$2 port=$3 i
	cat <<CFG
title    = "sched bench"
base_url = "http://127.0.0.1:$port"
[server]
listen = "127.0.0.1:$port"
[storage]
path = "$db"
[poll]
interval    = "${INTERVAL}s"
concurrency = $CONCURRENCY
per_host    = 64
[[category]]
slug = "bench"
CFG
	for ((i = 0; i < n; i++)); do
		printf '[[source]]\nname = "s%d"\nurl = "http://%s/s/%d"\ncategory = "bench"\n' "$i" "$addr" "$i"
	done
}

now_ms() { date +%s%3N; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# timed CMD...: run CMD under /usr/bin/time; prints "seconds_cpu seconds_wall".
timed() {
	/usr/bin/time -f '%U %S %e' -o "$tmp/time" "$@" >"$tmp/cmd.out" 2>"$tmp/cmd.err" || true
	awk '{ printf "%.2f %.2f\n", $1 + $2, $3 }' "$tmp/time"
}
json() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }

printf '%-8s %-34s %-34s %-28s %-12s %s\n' "sources" "refeed poll: CPU/poll (wall)" "poll -force: CPU/poll (wall)" "serve: CPU/poll, polls/s" "serve ÷ poll" "busiest 10 s ÷ mean; fetched again"
port=18931
for n in $SIZES; do
	port=$((port + 1))
	config "$n" "$tmp/poll-$n.db" "$port" >"$tmp/poll-$n.toml"
	config "$n" "$tmp/serve-$n.db" "$port" >"$tmp/serve-$n.toml"

	echo "== $n sources: refeed poll" >&2
	read -r cpu1 wall1 < <(timed "$tmp/refeed" poll -c "$tmp/poll-$n.toml")
	polled1=$(grep -c ' not_modified ' "$tmp/cmd.out" || true)
	read -r cpu2 wall2 < <(timed "$tmp/refeed" poll -force -c "$tmp/poll-$n.toml")
	polled2=$(grep -c ' not_modified ' "$tmp/cmd.out" || true)

	echo "== $n sources: refeed serve for $ROUNDS × ${INTERVAL}s" >&2
	t0=$(now_ms)
	"$tmp/refeed" serve -c "$tmp/serve-$n.toml" 2>"$tmp/serve-$n.log" &
	spid=$!
	pids+=("$spid")
	sleep $((WARM * INTERVAL))
	t1=$(now_ms)
	c1=$(cpu_ticks "$spid")
	sleep $(((ROUNDS - WARM) * INTERVAL))
	t2=$(now_ms)
	c2=$(cpu_ticks "$spid")
	kill "$spid"
	wait "$spid" 2>/dev/null || true
	rep=$(curl -sf "http://$addr/_report?from=$t1&to=$t2&window=10s&interval=${INTERVAL}s")
	everything=$(curl -sf "http://$addr/_report?from=$t0&to=$t2&window=10s&interval=${INTERVAL}s")
	polls=$(json polls "$rep")
	awk -v n="$n" -v c1="$cpu1" -v w1="$wall1" -v p1="$polled1" -v c2="$cpu2" -v w2="$wall2" -v p2="$polled2" \
		-v sc="$((c2 - c1))" -v tck="$tck" -v polls="$polls" -v secs="$(((t2 - t1) / 1000))" \
		-v bx="$(json busiest_x "$rep")" -v b="$(json busiest "$rep")" -v m="$(json window_mean "$rep")" \
		-v tw="$(json twice_10ms "$everything")" -v early="$(json early "$everything")" 'BEGIN {
		pp1 = c1 / p1 * 1000; pp2 = c2 / p2 * 1000; sp = sc / tck / polls * 1000
		printf "%-8d %-34s %-34s %-28s %-12s %s\n", n,
			sprintf("%.3f ms (%d polls, %.1f s)", pp1, p1, w1),
			sprintf("%.3f ms (%d polls, %.1f s)", pp2, p2, w2),
			sprintf("%.3f ms, %.0f/s", sp, polls / secs),
			sprintf("%.2f×/%.2f×", sp / pp1, sp / pp2),
			sprintf("%d ÷ %.0f = %.2f×; %d within 10 ms, %d within half an interval", b, m, bx, tw, early)
	}'
	# The next size starts from a quiet stub.
	sleep 1
done
