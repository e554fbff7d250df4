#!/usr/bin/env bash
# Every test: host tests of src/core, browser tests in headless Chromium and Firefox, the
# --target web build, and the demo page end to end. Installs what it needs first.
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

step "browser tests: headless Chromium"
wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)"

step "browser tests: headless Firefox"
wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)"

step "build pkg/ (wasm-pack --target web)"
wasm-pack build --target web --release

step "demo page end to end (headless Chromium)"
node --test www/e2e/

step "all tests passed"
