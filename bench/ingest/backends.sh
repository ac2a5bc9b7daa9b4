#!/usr/bin/env bash
# Ingest on PostgreSQL beside SQLite (issue 12), in one run on one corpus:
# 500 local sources × 50 items polled by `refeed poll` on a fresh database
# of each backend, ROUNDS times each (alternating), then a second,
# conditional poll; then 1, 2 and 3 `refeed poll` processes at once on one
# fresh PostgreSQL database (several instances sharing the claims).
#
#   bench/ingest/backends.sh              # from the repository root
#   ROUNDS=5 bench/ingest/backends.sh
#
# It starts its own throwaway PostgreSQL cluster (scripts/pg-cluster.sh;
# Debian's postgresql must be installed) with fsync on and the server's
# defaults otherwise (shared_buffers 128 MB), and stops it at the end.
# CPU of PostgreSQL is the postmaster's and all its processes' user+sys
# time over the poll (live ones from /proc, exited backends from the
# postmaster's children totals). Not run by CI: about two minutes.
set -euo pipefail

SOURCES=${SOURCES:-500}
ITEMS=${ITEMS:-50}
CONCURRENCY=${CONCURRENCY:-8}
ROUNDS=${ROUNDS:-3}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[[ -x /usr/bin/time ]] || { echo "backends.sh: /usr/bin/time is missing: apt-get install -y time" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/refeed-backends.XXXXXX")
chmod 755 "$tmp"
server_pid=""
cleanup() {
	[[ -n "$server_pid" ]] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
	scripts/pg-cluster.sh stop "$tmp/pg" 2>/dev/null || true
	if [[ -n "${KEEP:-}" ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "== build" >&2
mkdir -p "$tmp/bin"
go build -o "$tmp/bin/refeed" ./cmd/refeed
go build -o "$tmp/bin/gen" ./bench/ingest/gen

echo "== corpus: $SOURCES sources × $ITEMS items" >&2
corpus_line=$("$tmp/bin/gen" corpus -out "$tmp/corpus" -sources "$SOURCES" -items "$ITEMS")
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
served_items=$(kv items "$corpus_line")

"$tmp/bin/gen" serve -dir "$tmp/corpus" -addr 127.0.0.1:0 -addr-file "$tmp/addr" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/addr" ]] && break; sleep 0.1; done
addr=$(cat "$tmp/addr")

echo "== PostgreSQL" >&2
# A benchmark cluster keeps fsync on: the figures are for a real database.
PG_DURABLE=1 scripts/pg-cluster.sh start "$tmp/pg" >"$tmp/pg.env"
# shellcheck disable=SC1091
source "$tmp/pg.env"
pg_base=${REFEED_TEST_POSTGRES%/refeed*}
pg_query=${REFEED_TEST_POSTGRES#*refeed}
postmaster=$REFEED_PG_PID

config() { # config FILE STORAGE_LINES
	{
		cat <<EOF
title    = "ingest bench"
base_url = "http://127.0.0.1:8080"
timezone = "Asia/Shanghai"
language = "zh-CN"

[storage]
$2

[poll]
interval    = "1s"
concurrency = $CONCURRENCY
per_host    = $CONCURRENCY
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
	} >"$1"
}
config "$tmp/sqlite.toml" "path = \"$tmp/refeed.db\""
config "$tmp/pg.toml" "url = \"$pg_base/bench$pg_query\""

# pg_cpu: CPU seconds (user+sys, in clock ticks) of the postmaster, its
# exited children and its live processes.
pg_cpu() {
	local total=0 pid f
	read -r -a f <"/proc/$postmaster/stat"
	total=$((f[13] + f[14] + f[15] + f[16]))
	for pid in $(pgrep -P "$postmaster"); do
		[[ -r /proc/$pid/stat ]] || continue
		read -r -a f <"/proc/$pid/stat" || continue
		total=$((total + f[13] + f[14]))
	done
	echo "$total"
}
ticks=$(getconf CLK_TCK)
fresh() { # fresh BACKEND: an empty database
	if [[ $1 == sqlite ]]; then
		rm -f "$tmp/refeed.db" "$tmp/refeed.db-wal" "$tmp/refeed.db-shm"
	else
		psql -q "$REFEED_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
		psql -q "$pg_base/bench$pg_query" -c "CHECKPOINT"
	fi
}
timev() { sed -n "s/^\s*$2: //p" "$1"; }
wall_of() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.3f", s }' <<<"$(timev "$1" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')"; }
cpu_of() { awk -v u="$(timev "$1" 'User time (seconds)')" -v s="$(timev "$1" 'System time (seconds)')" 'BEGIN { printf "%.2f", u + s }'; }
rss_of() { echo $(($(timev "$1" 'Maximum resident set size (kbytes)') / 1024)); }
stored_of() { tail -1 "$1" | sed -n 's/.*: \([0-9]*\) new.*/\1/p'; }

# poll BACKEND TAG: one `refeed poll`; sets wall cpu rss new pgcpu.
poll() {
	local cfg="$tmp/$1.toml" out="$tmp/poll-$2.txt" tv="$tmp/time-$2.txt" p0 p1
	p0=$(pg_cpu)
	/usr/bin/time -v -o "$tv" "$tmp/bin/refeed" poll -c "$cfg" -log-level warn >"$out" 2>"$tmp/poll-$2.log" || true
	p1=$(pg_cpu)
	wall=$(wall_of "$tv") cpu=$(cpu_of "$tv") rss=$(rss_of "$tv") new=$(stored_of "$out")
	pgcpu=$(awk -v d=$((p1 - p0)) -v t="$ticks" 'BEGIN { printf "%.2f", d / t }')
}

declare -A best_wall best_cpu best_rss best_new best_pg best_merge walls2 rss_max
for r in $(seq "$ROUNDS"); do
	for b in sqlite pg; do
		echo "== first poll, $b, round $r of $ROUNDS" >&2
		fresh "$b"
		"$tmp/bin/gen" stats -addr "$addr" -reset >/dev/null
		poll "$b" "$b-1-$r"
		merge="-"
		if [[ $b == pg ]]; then
			# What the poll left to the search index: its pending list,
			# merged by serve's store once saves pause. Timed here.
			p0=$(pg_cpu)
			t0=$(date +%s.%N)
			psql -Atq "$pg_base/bench$pg_query" -c "SELECT gin_clean_pending_list('posts_search'::regclass)" >/dev/null
			t1=$(date +%s.%N)
			sleep 0.3 # the psql backend has exited and been counted
			p1=$(pg_cpu)
			merge=$(awk -v a="$t0" -v b="$t1" -v d=$((p1 - p0)) -v t="$ticks" 'BEGIN { printf "%.2f s wall, %.2f s CPU", b - a, d / t }')
		else
			pgcpu="-"
		fi
		walls2[$b]="${walls2[$b]:-} $wall"
		((rss > ${rss_max[$b]:-0})) && rss_max[$b]=$rss
		if [[ -z "${best_wall[$b]:-}" ]] || awk "BEGIN { exit !($wall < ${best_wall[$b]}) }"; then
			best_wall[$b]=$wall best_cpu[$b]=$cpu best_rss[$b]=$rss best_new[$b]=$new best_pg[$b]=$pgcpu best_merge[$b]=$merge
		fi
	done
done
declare -A second second_req second_new
for b in sqlite pg; do
	sleep 1.6
	"$tmp/bin/gen" stats -addr "$addr" -reset >/dev/null
	poll "$b" "$b-2"
	second[$b]=$wall second_new[$b]=$new
	second_req[$b]=$(kv not_modified "$("$tmp/bin/gen" stats -addr "$addr" -reset)")
done

# Several instances: N `refeed poll` at once on one fresh database.
declare -A inst_wall inst_req inst_new inst_cpu inst_pg
for n in 1 2 3; do
	echo "== $n instances at once, PostgreSQL" >&2
	fresh pg
	"$tmp/bin/gen" stats -addr "$addr" -reset >/dev/null
	p0=$(pg_cpu)
	start=$(date +%s.%N)
	pids=()
	for i in $(seq "$n"); do
		/usr/bin/time -v -o "$tmp/time-inst$n-$i.txt" "$tmp/bin/refeed" poll -c "$tmp/pg.toml" -log-level warn \
			>"$tmp/poll-inst$n-$i.txt" 2>"$tmp/poll-inst$n-$i.log" &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	end=$(date +%s.%N)
	p1=$(pg_cpu)
	stats=$("$tmp/bin/gen" stats -addr "$addr" -reset)
	inst_wall[$n]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
	inst_req[$n]=$(kv requests "$stats")
	total=0 cpus=0
	for i in $(seq "$n"); do
		total=$((total + $(stored_of "$tmp/poll-inst$n-$i.txt")))
		cpus=$(awk -v a="$cpus" -v b="$(cpu_of "$tmp/time-inst$n-$i.txt")" 'BEGIN { printf "%.2f", a + b }')
	done
	inst_new[$n]=$total inst_cpu[$n]=$cpus
	inst_pg[$n]=$(awk -v d=$((p1 - p0)) -v t="$ticks" 'BEGIN { printf "%.2f", d / t }')
done

ips() { awk -v n="$1" -v w="$2" 'BEGIN { printf "%.0f", n / w }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo "ok"; else echo "MISSED"; fi; }
row() { printf '%-34s %-26s %-26s %s\n' "$@"; }
echo
echo "refeed ingest, SQLite beside PostgreSQL: $SOURCES sources × $ITEMS items, $(nproc) cores (load $(cut -d' ' -f1-3 /proc/loadavg)), concurrency $CONCURRENCY, best of $ROUNDS rounds"
echo "$(psql -At "$REFEED_TEST_POSTGRES" -c 'SHOW server_version') PostgreSQL, shared_buffers $(psql -At "$REFEED_TEST_POSTGRES" -c 'SHOW shared_buffers'), fsync $(psql -At "$REFEED_TEST_POSTGRES" -c 'SHOW fsync')"
echo
row "" "SQLite" "PostgreSQL" "target (PostgreSQL)"
row "first poll: wall (all rounds)" "${best_wall[sqlite]} s (${walls2[sqlite]# })" "${best_wall[pg]} s (${walls2[pg]# })" ""
pg_ips=$(ips "${best_new[pg]}" "${best_wall[pg]}")
row "first poll: items/s" "$(ips "${best_new[sqlite]}" "${best_wall[sqlite]}")" "$pg_ips" ">= 2100 (5x Miniflux's 420): $(verdict "$pg_ips >= 2100")"
row "items stored / served" "${best_new[sqlite]} / $served_items" "${best_new[pg]} / $served_items" "equal: $(verdict "${best_new[pg]} == $served_items")"
row "CPU: refeed user+sys" "${best_cpu[sqlite]} s" "${best_cpu[pg]} s" ""
row "CPU: PostgreSQL user+sys" "-" "${best_pg[pg]} s" ""
row "then: merge the index's pending list" "- (SQLite: indexed by serve)" "${best_merge[pg]}" ""
row "peak RSS of refeed (highest)" "${rss_max[sqlite]} MiB" "${rss_max[pg]} MiB" ""
row "second poll: wall, 304s, new" "${second[sqlite]} s, ${second_req[sqlite]}, ${second_new[sqlite]}" "${second[pg]} s, ${second_req[pg]}, ${second_new[pg]}" ""
echo
printf '%-12s %-10s %-10s %-22s %-18s %s\n' "instances" "wall" "items/s" "fetches per source" "refeed CPU" "PostgreSQL CPU"
for n in 1 2 3; do
	printf '%-12s %-10s %-10s %-22s %-18s %s\n' "$n" "${inst_wall[$n]} s" "$(ips "${inst_new[$n]}" "${inst_wall[$n]}")" \
		"$(awk -v r="${inst_req[$n]}" -v s="$SOURCES" 'BEGIN { printf "%.2f (%d requests)", r / s, r }')" "${inst_cpu[$n]} s" "${inst_pg[$n]} s"
done
