#!/usr/bin/env bash
# Builds the module and serves the classroom demo on http://127.0.0.1:8080/www/ (or $PORT).
# Installs what it needs first. Open the printed URL in Chromium or Firefox.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/setup.sh
wasm-pack build --target web --release
exec node www/serve.mjs "${PORT:-8080}"
