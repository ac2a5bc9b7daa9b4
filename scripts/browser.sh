#!/usr/bin/env bash
# browser.sh - walk refeed's HTML pages in headless Chromium (browsertest/):
# home → category → post → category → home, and a search; checks text,
# links, console and layout, and saves phone/desktop, light/dark screenshots.
# Usage: scripts/browser.sh [SCREENSHOT_DIR]   (default: ./out/screenshots)
# Needs the Debian packages chromium and fonts-noto-cjk; fails without them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shots=${1:-$root/out/screenshots}
mkdir -p "$shots"
shots=$(cd "$shots" && pwd)
rm -f "$shots"/*.png
REFEED_BROWSER_TEST=1 REFEED_SCREENSHOTS="$shots" \
  go test -count=1 -run '^TestWalk$' -v ./browsertest
echo "browser: screenshots in $shots"
ls "$shots"
