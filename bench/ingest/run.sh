#!/usr/bin/env bash
# Ingest benchmark (issue 3): poll 500 local sources × 50 items twice with
# `refeed poll` on a fresh database, and compare with bare gofeed.
#
#   bench/ingest/run.sh            # from the repository root
#   KEEP=1 bench/ingest/run.sh     # keep the temp dir (corpus, db, logs)
#   ROUNDS=5 bench/ingest/run.sh   # first polls, each on a fresh database
#
# The first poll runs ROUNDS times (default 3), each on a fresh database, and
# bare gofeed parses the corpus as many times: both sides are reported by
# their best round, the same statistic, and by their median, since a shared
# machine only ever adds time. Peak RSS is the highest of the rounds.
#
# Everything is generated into a temp dir; nothing is written to the repo.
# The corpus server (bench/ingest/gen) and refeed share the machine's cores,
# as nginx would. Not run by CI: it takes about a minute.
set -euo pipefail

SOURCES=${SOURCES:-500}
ITEMS=${ITEMS:-50}
CONCURRENCY=${CONCURRENCY:-8}
ROUNDS=${ROUNDS:-3}
# All sources live on one host (127.0.0.1), so poll.per_host, not
# poll.concurrency, would bound the fetches in flight: its default of 2
# would make this a benchmark of two connections. Raise it to match.
PER_HOST=${PER_HOST:-$CONCURRENCY}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [[ ! -x /usr/bin/time ]]; then
	echo "run.sh: /usr/bin/time is missing: apt-get install -y time" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/refeed-ingest.XXXXXX")
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n "${KEEP:-}" ]]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

echo "== build" >&2
mkdir -p "$tmp/bin"
go build -o "$tmp/bin/refeed" ./cmd/refeed
go build -o "$tmp/bin/gen" ./bench/ingest/gen
go build -o "$tmp/bin/gofeedbench" ./bench/ingest/gofeedbench

echo "== corpus: $SOURCES sources × $ITEMS items" >&2
corpus_line=$("$tmp/bin/gen" corpus -out "$tmp/corpus" -sources "$SOURCES" -items "$ITEMS")
echo "   $corpus_line" >&2
kv() { # kv KEY LINE: the value of KEY=value in LINE
	sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"
}
served_items=$(kv items "$corpus_line")
avg_feed=$(kv avg_feed_bytes "$corpus_line")

echo "== serve" >&2
"$tmp/bin/gen" serve -dir "$tmp/corpus" -addr 127.0.0.1:0 -addr-file "$tmp/addr" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do
	[[ -s "$tmp/addr" ]] && break
	sleep 0.1
done
addr=$(cat "$tmp/addr")

# Interval 1s: the second `refeed poll` runs after every source is due
# again (a first round places next polls 0.5-1.5 intervals on), so it makes
# one conditional request per source.
# (-force would poll them too, but without validators.)
{
	cat <<EOF
title    = "ingest bench"
base_url = "http://127.0.0.1:8080"
timezone = "Asia/Shanghai"
language = "zh-CN"

[storage]
path = "$tmp/refeed.db"

[poll]
interval    = "1s"
concurrency = $CONCURRENCY
per_host    = $PER_HOST
timeout     = "60s"
max_body    = "10MiB"

[[category]]
slug  = "tax"
title = "税务新闻"

[[category]]
slug  = "markets"
title = "Markets"

[[category]]
slug  = "macro"
title = "宏观经济"
EOF
	cats=(tax markets macro)
	i=0
	while IFS=$'\t' read -r name file _; do
		printf '\n[[source]]\nname     = "%s"\nurl      = "http://%s/%s"\ncategory = "%s"\n' \
			"$name" "$addr" "$file" "${cats[$((i % 3))]}"
		i=$((i + 1))
	done <"$tmp/corpus/manifest.tsv"
} >"$tmp/config.toml"
"$tmp/bin/refeed" check -c "$tmp/config.toml" >&2

poll() { # poll N: run the Nth poll under /usr/bin/time -v
	local n=$1
	set +e
	/usr/bin/time -v -o "$tmp/time$n.txt" "$tmp/bin/refeed" poll -c "$tmp/config.toml" -log-level warn \
		>"$tmp/poll$n.txt" 2>"$tmp/poll$n.log"
	local rc=$?
	set -e
	if [[ $rc -ne 0 ]]; then
		echo "run.sh: poll $n exited $rc; see below" >&2
		tail -5 "$tmp/poll$n.log" >&2
		grep -v ' ok \| not_modified ' "$tmp/poll$n.txt" | head -20 >&2
	fi
}

# timev FILE KEY: a field of /usr/bin/time -v output.
timev() { sed -n "s/^\s*$2: //p" "$1"; }
wall_seconds() { # h:mm:ss or m:ss.ss -> seconds
	awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.3f", s }' <<<"$1"
}
summary() { tail -1 "$tmp/poll$1.txt"; } # "500 sources polled in 4.2s: 25000 new, 0 updated, 0 failed"

# First polls: ROUNDS of them, each on a fresh database. The figures below
# are the best round's (by wall time); walls lists them all.
best="" walls="" rss1=0 bad_rounds=0
for r in $(seq "$ROUNDS"); do
	echo "== poll 1, round $r of $ROUNDS (fresh database)" >&2
	rm -f "$tmp/refeed.db" "$tmp/refeed.db-wal" "$tmp/refeed.db-shm"
	"$tmp/bin/gen" stats -addr "$addr" -reset >/dev/null
	poll "1r$r"
	stats=$("$tmp/bin/gen" stats -addr "$addr" -reset)
	w=$(wall_seconds "$(timev "$tmp/time1r$r.txt" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
	walls="$walls $w"
	m=$(timev "$tmp/time1r$r.txt" 'Maximum resident set size (kbytes)')
	((m > rss1)) && rss1=$m
	if [[ "$(summary "1r$r" | sed -n 's/.*: \([0-9]*\) new.*/\1/p')" != "$served_items" ]]; then
		bad_rounds=$((bad_rounds + 1))
	fi
	if [[ -z "$best" ]] || awk "BEGIN { exit !($w < $best_wall) }"; then
		best=$r best_wall=$w stats1=$stats
	fi
done
cp "$tmp/time1r$best.txt" "$tmp/time1.txt"
cp "$tmp/poll1r$best.txt" "$tmp/poll1.txt"
median_wall=$(tr ' ' '\n' <<<"$walls" | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')

sleep 1.6 # every source due again: first-round next polls are 0.5-1.5 s on

echo "== poll 2 (conditional)" >&2
poll 2
stats2=$("$tmp/bin/gen" stats -addr "$addr" -reset)

stored=$("$tmp/bin/refeed" stats -c "$tmp/config.toml" | sed -n 's/^posts *//p')
db_bytes=$(stat -c %s "$tmp/refeed.db")

echo "== bare gofeed, in memory" >&2
bare_line=$("$tmp/bin/gofeedbench" -dir "$tmp/corpus" -rounds "$ROUNDS")
echo "   $bare_line" >&2

# Figures.
wall1=$(wall_seconds "$(timev "$tmp/time1.txt" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
wall2=$(wall_seconds "$(timev "$tmp/time2.txt" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
cpu1=$(awk -v u="$(timev "$tmp/time1.txt" 'User time (seconds)')" -v s="$(timev "$tmp/time1.txt" 'System time (seconds)')" 'BEGIN { printf "%.2f", u + s }')
cpu2=$(awk -v u="$(timev "$tmp/time2.txt" 'User time (seconds)')" -v s="$(timev "$tmp/time2.txt" 'System time (seconds)')" 'BEGIN { printf "%.2f", u + s }')
rss2=$(timev "$tmp/time2.txt" 'Maximum resident set size (kbytes)')
in1=$(summary 1 | sed -n 's/.* polled in \([^:]*\):.*/\1/p')
in2=$(summary 2 | sed -n 's/.* polled in \([^:]*\):.*/\1/p')
new1=$(summary 1 | sed -n 's/.*: \([0-9]*\) new.*/\1/p')
upd1=$(summary 1 | sed -n 's/.* \([0-9]*\) updated.*/\1/p')
fail1=$(summary 1 | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
new2=$(summary 2 | sed -n 's/.*: \([0-9]*\) new.*/\1/p')
upd2=$(summary 2 | sed -n 's/.* \([0-9]*\) updated.*/\1/p')
fail2=$(summary 2 | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
req2=$(kv requests "$stats2")
cond2=$(kv conditional "$stats2")
nm2=$(kv not_modified "$stats2")
req1=$(kv requests "$stats1")
ips=$(awk -v n="$stored" -v w="$wall1" 'BEGIN { printf "%.0f", n / w }')
bare_ips=$(kv items_per_s "$bare_line")
ratio=$(awk -v a="$ips" -v b="$bare_ips" 'BEGIN { printf "%.2f", a / b }')
median_ips=$(awk -v n="$stored" -v w="$median_wall" 'BEGIN { printf "%.0f", n / w }')
bare_median_ips=$(kv median_items_per_s "$bare_line")
median_ratio=$(awk -v a="$median_ips" -v b="$bare_median_ips" 'BEGIN { printf "%.2f", a / b }')
# Per CPU-second: what a busy, shared machine disturbs least.
ipc=$(awk -v n="$stored" -v c="$cpu1" 'BEGIN { printf "%.0f", n / c }')
bare_ipc=$(kv items_per_cpu_s "$bare_line")
ratio_cpu=$(awk -v a="$ipc" -v b="$bare_ipc" 'BEGIN { printf "%.2f", a / b }')
load=$(cut -d' ' -f1-3 /proc/loadavg)
cores=$(nproc)

verdict() { if awk "BEGIN { exit !($1) }"; then echo "ok"; else echo "MISSED"; fi; }
row() { printf '%-12s %-15s %-72s %-10s %s\n' "$@"; }

echo
echo "refeed ingest benchmark: $SOURCES sources × $ITEMS items (avg feed $((avg_feed / 1024)) KiB), $cores cores (load average $load), poll.concurrency $CONCURRENCY, poll.per_host $PER_HOST"
echo
row "" "" "measured" "target" ""
row "first poll" "wall" "${wall1} s (in-process ${in1}); ${ROUNDS} rounds:${walls} s" "" ""
row "" "items/s" "${ips} (median round ${median_ips})" ">= 5000" "$(verdict "$ips >= 5000")"
row "" "CPU user+sys" "${cpu1} s (${ipc} items per CPU-second)" "" ""
row "" "stored/served" "${stored} / ${served_items} (rounds short: ${bad_rounds})" "equal" "$(verdict "$stored == $served_items && $bad_rounds == 0")"
row "" "new/upd/failed" "${new1} / ${upd1} / ${fail1} (${req1} requests)" "" ""
row "" "peak RSS" "$((rss1 / 1024)) MiB (highest round)" "< 64 MiB" "$(verdict "$rss1 < 65536")"
row "second poll" "wall" "${wall2} s (in-process ${in2})" "< 0.3 s" "$(verdict "$wall2 < 0.3")"
row "" "requests" "${req2}: ${cond2} conditional, ${nm2} 304" "all 304" "$(verdict "$nm2 == $SOURCES && $req2 == $SOURCES")"
row "" "posts written" "$((new2 + upd2)) (${new2} new, ${upd2} updated)" "0" "$(verdict "$new2 + $upd2 == 0 && $fail2 == 0")"
row "" "CPU, peak RSS" "${cpu2} s, $((rss2 / 1024)) MiB" "" ""
row "bare gofeed" "items/s" "${bare_ips} (median round ${bare_median_ips}; $(kv workers "$bare_line") goroutines; ${bare_ipc} per CPU-second)" "" ""
row "pipeline" "vs gofeed" "${ratio}x best/best (median/median ${median_ratio}x; per CPU-second ${ratio_cpu}x)" ">= 0.3x" "$(verdict "$ratio >= 0.3")"
row "database" "size" "$((db_bytes / 1024 / 1024)) MiB" "" ""
