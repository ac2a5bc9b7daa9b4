#!/usr/bin/env bash
# Serving benchmark (issue 4): cold renders at 10,000 and 1,000,000 posts,
# then wrk against a cached category feed served by `refeed serve` and by
# nginx serving the same bytes as a static file, and refeed's peak RSS.
# For context it also runs wrk against the least a handler can do with the
# same bytes (bench/serve/pserve -static) on fasthttp, the server refeed
# uses, and on Go's net/http: the two servers' ceilings ("floors" of cost).
#
#   bench/serve/run.sh                 # from the repository root
#   FRESH=1 bench/serve/run.sh         # refill the databases
#   SIZES="10000" bench/serve/run.sh   # smaller run (wrk uses the largest size)
#   ROUNDS=3 bench/serve/run.sh        # nginx and refeed alternately, 3 times
#                                      # each: the median run is reported
#
# The databases are written once by bench/serve/fill (storage/sqlite's API:
# SyncSources, SavePoll) into $BENCH_DIR (default /tmp/refeed-bench-serve)
# and reused while their post count matches: filling a million posts takes
# ten minutes or more. Needs wrk and nginx (apt-get install -y wrk nginx).
# Not run by CI.
set -euo pipefail

BENCH_DIR=${BENCH_DIR:-/tmp/refeed-bench-serve}
SIZES=${SIZES:-"10000 1000000"}
CATEGORY=${CATEGORY:-cat-07}
FORMAT=${FORMAT:-rss}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-1}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in wrk nginx curl python3; do
	if ! command -v "$tool" >/dev/null && [[ ! -x /usr/sbin/$tool ]]; then
		echo "run.sh: $tool is missing: apt-get install -y wrk nginx curl python3" >&2
		exit 2
	fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

mkdir -p "$BENCH_DIR/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/refeed-serve.XXXXXX")
refeed_pid="" nginx_pid="" floor_pid="" ffloor_pid=""
cleanup() {
	for pid in $refeed_pid $nginx_pid $floor_pid $ffloor_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n "${KEEP:-}" ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "== build" >&2
go build -o "$BENCH_DIR/bin/refeed" ./cmd/refeed
go build -o "$BENCH_DIR/bin/fill" ./bench/serve/fill
go build -o "$BENCH_DIR/bin/cold" ./bench/serve/cold
go build -o "$BENCH_DIR/bin/pserve" ./bench/serve/pserve

largest=0
for n in $SIZES; do
	dir=$BENCH_DIR/n$n
	if [[ -n "${FRESH:-}" || "$(cat "$dir/.filled" 2>/dev/null)" != "$n" ]]; then
		echo "== fill $n posts into $dir (reused by later runs)" >&2
		rm -rf "$dir"
		"$BENCH_DIR/bin/fill" -dir "$dir" -n "$n"
		echo "$n" >"$dir/.filled"
	else
		echo "== reuse $dir" >&2
	fi
	((n > largest)) && largest=$n
done

declare -A cold
for n in $SIZES; do
	echo "== cold renders at $n posts" >&2
	"$BENCH_DIR/bin/cold" -c "$BENCH_DIR/n$n/config.toml" | tee "$tmp/cold-$n.txt" >&2
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# refeed serve on the largest database. Its sources have file:// URLs, a 24h
# interval and a NextPoll a year ahead: nothing is due, nothing is polled.
dir=$BENCH_DIR/n$largest
rport=$(free_port)
sed "s/127\.0\.0\.1:18080/127.0.0.1:$rport/g" "$dir/config.toml" >"$dir/serve.toml"
echo "== refeed serve on $largest posts, port $rport" >&2
"$BENCH_DIR/bin/refeed" serve -c "$dir/serve.toml" >"$tmp/refeed.log" 2>&1 &
refeed_pid=$!
rurl=http://127.0.0.1:$rport
for _ in $(seq 100); do
	curl -fs -o /dev/null "$rurl/healthz" && break
	sleep 0.1
done
path=/category/$CATEGORY.$FORMAT
t0=$(date +%s.%N)
curl -fs -o "$tmp/feed.$FORMAT" "$rurl$path"
t1=$(date +%s.%N)
curl -fs -H 'Accept-Encoding: gzip' -o "$tmp/feed.$FORMAT.gz" "$rurl$path"
retag=$(curl -fsI "$rurl$path" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
size=$(stat -c %s "$tmp/feed.$FORMAT")
gzsize=$(stat -c %s "$tmp/feed.$FORMAT.gz")
gzip -t <"$tmp/feed.$FORMAT.gz"
echo "feed $path: $size bytes, gzip $gzsize bytes, ETag $retag, first request $(python3 -c "print(round(($t1-$t0)*1000,1))") ms (curl)" >&2

# nginx serving the same bytes, with the gzip bytes refeed serves.
mkdir -p "$tmp/www" "$tmp/nginx"
chmod 755 "$tmp" "$tmp/www" # nginx workers run as www-data when started by root
cp "$tmp/feed.$FORMAT" "$tmp/feed.$FORMAT.gz" "$tmp/www/"
nport=$(free_port)
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
	types { application/rss+xml rss; application/atom+xml atom; application/feed+json json; }
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	gzip off;
	gzip_static on;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$nport;
		root $tmp/www;
	}
}
CONF
"$NGINX" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -e "$tmp/nginx/error.log" >"$tmp/nginx/out.log" 2>&1 &
nginx_pid=$!
nurl=http://127.0.0.1:$nport
for _ in $(seq 50); do
	curl -fs -o /dev/null "$nurl/feed.$FORMAT" && break
	sleep 0.1
done
if ! curl -fs -o /dev/null "$nurl/feed.$FORMAT"; then
	echo "run.sh: nginx does not serve the feed:" >&2
	cat "$tmp/nginx/error.log" "$tmp/nginx/out.log" >&2
	exit 1
fi
netag=$(curl -fsI "$nurl/feed.$FORMAT" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
cmp <(curl -fs "$nurl/feed.$FORMAT") "$tmp/feed.$FORMAT"
cmp <(curl -fs -H 'Accept-Encoding: gzip' "$nurl/feed.$FORMAT") "$tmp/feed.$FORMAT.gz"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $netag" "$nurl/feed.$FORMAT") == 304 ]]
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $retag" "$rurl$path") == 304 ]]

# The floors: the same bytes from memory, fixed headers, on net/http and on
# fasthttp.
fport=$(free_port)
"$BENCH_DIR/bin/pserve" -static "$tmp/www/feed.$FORMAT" -nethttp -listen "127.0.0.1:$fport" -wait 0 -for 1h >"$tmp/floor.log" 2>&1 &
floor_pid=$!
furl=http://127.0.0.1:$fport
ffport=$(free_port)
"$BENCH_DIR/bin/pserve" -static "$tmp/www/feed.$FORMAT" -listen "127.0.0.1:$ffport" -wait 0 -for 1h >"$tmp/ffloor.log" 2>&1 &
ffloor_pid=$!
ffurl=http://127.0.0.1:$ffport
for u in "$furl" "$ffurl"; do
	for _ in $(seq 50); do
		curl -fs -o /dev/null "$u/feed" && break
		sleep 0.1
	done
done

# bench NAME URL [HEADER]: one wrk run; prints "req/s p50 p99".
bench() {
	local name=$1 url=$2 out=$tmp/wrk-$1.txt
	shift 2
	local args=(-t"$THREADS" -c"$CONNS" -d"$DURATION" --latency)
	[[ $# -gt 0 ]] && args+=(-H "$1")
	wrk "${args[@]}" "$url" >"$out"
	if grep -q 'Non-2xx or 3xx' "$out"; then
		echo "run.sh: $name: wrk saw errors" >&2
		cat "$out" >&2
		exit 1
	fi
	awk '/Requests\/sec/{r=$2} $1=="50%"{p50=$2} $1=="99%"{p99=$2} END{print r, p50, p99}' "$out"
}

# median "req/s p50 p99"...: the run with the median req/s.
median() {
	printf '%s\n' "$@" | sort -g -k1,1 | sed -n "$((($# + 1) / 2))p"
}

declare -A res
for variant in identity gzip 304; do
	case $variant in
	identity) nh="" rh="" fh="" ;;
	gzip) nh="Accept-Encoding: gzip" rh="Accept-Encoding: gzip" fh="Accept-Encoding: gzip" ;;
	304) nh="If-None-Match: $netag" rh="If-None-Match: $retag" fh='If-None-Match: "static"' ;;
	esac
	echo "== wrk $variant: nginx and refeed ($ROUNDS rounds, alternating), fasthttp floor, net/http floor" >&2
	nruns=() rruns=()
	for ((round = 0; round < ROUNDS; round++)); do
		if ((round % 2 == 0)); then
			nruns+=("$(bench "nginx-$variant" "$nurl/feed.$FORMAT" ${nh:+"$nh"})")
			rruns+=("$(bench "refeed-$variant" "$rurl$path" ${rh:+"$rh"})")
		else
			rruns+=("$(bench "refeed-$variant" "$rurl$path" ${rh:+"$rh"})")
			nruns+=("$(bench "nginx-$variant" "$nurl/feed.$FORMAT" ${nh:+"$nh"})")
		fi
		echo "   round $((round + 1)): nginx ${nruns[-1]}   refeed ${rruns[-1]}" >&2
	done
	res[nginx-$variant]=$(median "${nruns[@]}")
	res[refeed-$variant]=$(median "${rruns[@]}")
	res[ffloor-$variant]=$(bench "ffloor-$variant" "$ffurl/feed" ${fh:+"$fh"})
	res[floor-$variant]=$(bench "floor-$variant" "$furl/feed" ${fh:+"$fh"})
	echo "   nginx ${res[nginx-$variant]}   refeed ${res[refeed-$variant]}   fasthttp floor ${res[ffloor-$variant]}   net/http floor ${res[floor-$variant]}" >&2
done

hwm=$(awk '/VmHWM/{print $2}' "/proc/$refeed_pid/status")
polls=$(grep -c 'msg=poll' "$tmp/refeed.log" || true)

echo
echo "Serving benchmark: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "feed $path at $largest posts: $size bytes, gzip $gzsize bytes"
echo
echo "(a) cold render of a 50-item category feed, median ms (cold: feed not cached; first: new server)"
printf '%-8s' ""
for n in $SIZES; do printf '%22s' "$n posts"; done
echo
for what in "cold rss" "cold atom" "cold json" "first rss" "first atom" "first json" "store.Posts" "store.Sources"; do
	printf '%-14s' "$what"
	for n in $SIZES; do
		printf '%16s ms' "$(grep "^$what " "$tmp/cold-$n.txt" | awk '{print $(NF-7)}')"
	done
	echo
done
echo
echo "(b) wrk -t$THREADS -c$CONNS -d$DURATION against the cached feed (nginx, refeed: median of $ROUNDS alternating runs)"
printf '%-9s %11s %12s %7s %10s %10s %10s %10s %13s %8s %13s\n' variant "nginx req/s" "refeed req/s" ratio \
	"nginx p50" "refeed p50" "nginx p99" "refeed p99" "fasthttp fl." "r/fhfl" "net/http fl."
for variant in identity gzip 304; do
	read -r nr n50 n99 <<<"${res[nginx-$variant]}"
	read -r rr r50 r99 <<<"${res[refeed-$variant]}"
	read -r ffr _ _ <<<"${res[ffloor-$variant]}"
	read -r fr _ _ <<<"${res[floor-$variant]}"
	ratio=$(python3 -c "print(f'{$rr/$nr:.2f}')")
	ffratio=$(python3 -c "print(f'{$rr/$ffr:.2f}')")
	printf '%-9s %11s %12s %7s %10s %10s %10s %10s %13s %8s %13s\n' "$variant" "$nr" "$rr" "${ratio}x" "$n50" "$r50" "$n99" "$r99" "$ffr" "${ffratio}x" "$fr"
done
echo
echo "(c) refeed serve peak RSS (VmHWM): $((hwm / 1024)) MiB; polls during the run: $polls"
