#!/usr/bin/env bash
# Builds everything and serves the demo: the classroom page at http://127.0.0.1:8080/www/
# (or $PORT) and the live-streaming page beside it, with the S3-compatible store behind the
# server (uploaded images land in out/store/snapshots/). Installs what it needs first.
#   scripts/demo.sh              serve; open the printed URL in Chromium or Firefox
#   scripts/demo.sh --headless   no display needed: headless Chromium walks through both
#                                pages and saves the images and screenshots in out/headless/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/setup.sh
scripts/build.sh
if [ "${1:-}" = "--headless" ]; then
  exec node www/headless-demo.mjs
fi
exec node www/serve.mjs "${PORT:-8080}"
