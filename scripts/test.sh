#!/usr/bin/env bash
# Every test: host tests of src/core, fuzzing of the core, browser tests in headless Chromium and
# Firefox, the --target web build, the demo page end to end, and a 5-minute soak. Installs what
# it needs first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/setup.sh

step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

step "format and lints"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --lib --tests --target wasm32-unknown-unknown -- -D warnings

step "host tests (src/core)"
cargo test

step "fuzzing src/core (scripts/fuzz.sh: each target 20 s from the committed corpus)"
scripts/fuzz.sh

# A browser test binary runs all its scenarios in one page: give it more than the 20 s default.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"

step "dev server (CallbackUrl receiver for the browser tests)"
mkdir -p target
node www/serve.mjs 0 --faults > target/dev-server.log 2>&1 &
dev_server=$!
trap 'kill "$dev_server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^tracksnap demo: ' target/dev-server.log && break
  sleep 0.1
done
TRACKSNAP_DEV_URL="$(sed -n 's|^tracksnap demo: \(http://[^/]*\)/.*|\1|p' target/dev-server.log)"
[ -n "$TRACKSNAP_DEV_URL" ] || { cat target/dev-server.log; echo "the dev server did not start" >&2; exit 1; }
export TRACKSNAP_DEV_URL
echo "dev server at $TRACKSNAP_DEV_URL"

step "browser tests: headless Chromium"
wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)"

step "browser tests: headless Firefox"
wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)"

step "build pkg/: the npm package, the module script, the classic script"
scripts/build.sh

step "size budget"
node scripts/size.mjs

step "public TypeScript types (tsc --noEmit, strict)"
npx --no-install tsc -p tests/types

step "demo page end to end (headless Chromium)"
node --test --test-concurrency=1 www/e2e/

step "soak: 17 streams for 5 minutes with store faults (scripts/soak.sh --minutes 5)"
kill "$dev_server" 2>/dev/null || true
scripts/soak.sh --minutes 5 --no-build

step "all tests passed"
