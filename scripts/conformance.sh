#!/usr/bin/env bash
# conformance.sh - build refeed, serve the shipped config on a free loopback
# port, and run the shared conformance tools on every kind of feed it serves.
# Usage: scripts/conformance.sh [SHARED_DIR]   (default: ../shared)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-$root/../shared}
conf=$shared/conformance
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
go build -o "$work/refeed" ./cmd/refeed
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# The shipped config, moved to a free port and a fresh database; file://
# paths stay relative to the config, so the samples come along.
cp -r samples "$work/samples"
sed -e "s|^base_url .*|base_url = \"$base\"|" \
    -e "s|^listen .*|listen = \"127.0.0.1:$port\"|" \
    config.toml >"$work/config.toml"
"$work/refeed" check -c "$work/config.toml"
"$work/refeed" serve -c "$work/config.toml" >"$work/serve.log" 2>&1 &
pid=$!

# Wait until every source has been polled once.
for _ in $(seq 1 100); do
  if body=$(curl -fsS "$base/healthz" 2>/dev/null) && ! grep -q '"status": "new"' <<<"$body"; then
    break
  fi
  sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/serve.log"; echo "refeed did not start"; exit 1; }

fail=0
run() {
  echo "== $*"
  if ! "$@"; then fail=1; fi
}
tag=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("中国税务报新闻"))')
for path in feed category/zhongguoshuiwubao tag/$tag source/chinatax source/markets; do
  for fmt in rss atom json; do
    if [ "$path" = feed ]; then url="$base/feed.$fmt"; else url="$base/$path.$fmt"; fi
    run "$conf/check-feed" "$url" --expect-format "$fmt" --min-items 1
  done
done
run "$conf/check-feed" "$base/category/zhongguoshuiwubao.atom?limit=2" --expect-format atom --min-items 2
run "$conf/newsboat-read" "$base/category/zhongguoshuiwubao.rss"
run "$conf/newsboat-read" "$base/feed.atom"
if [ $fail -ne 0 ]; then
  echo "--- refeed log"; cat "$work/serve.log"
  echo "conformance: FAILED"
  exit 1
fi
echo "conformance: all feeds pass"
