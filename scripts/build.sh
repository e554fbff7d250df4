#!/usr/bin/env bash
# Builds the three ways tracksnap is used, into pkg/:
#   pkg/tracksnap.js (+ .d.ts, _bg.wasm)   the npm package and the <script type="module"> build
#   pkg/classic/tracksnap.js               a classic <script src> build: a global `tracksnap`
# then finishes pkg/package.json (exports, files) and the public types. Expects the tools of
# scripts/setup.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

wasm-pack build --target web --release --out-name tracksnap
# wasm-pack cannot fetch its own wasm-opt here: Debian's binaryen (scripts/setup.sh) optimises
# the module before wasm-bindgen runs again on it (binaryen 108 mangles wasm-bindgen's
# externref table when run after it). About 15 % smaller gzipped, same speed.
module=target/wasm32-unknown-unknown/release/tracksnap.wasm
if command -v wasm-opt >/dev/null; then
  wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd \
    "$module" -o target/tracksnap.opt.wasm
  module=target/tracksnap.opt.wasm
  # No name section: it would hold only wasm-bindgen's names for its own shims (9 kB).
  wasm-bindgen --target web --remove-name-section --remove-producers-section \
    --out-dir pkg --out-name tracksnap "$module"
fi
wasm-bindgen --target no-modules --no-modules-global tracksnap --no-typescript \
  --remove-name-section --remove-producers-section \
  --out-dir pkg/classic --out-name tracksnap "$module"
node scripts/package.mjs
# `import … from "tracksnap"` in the type check and the bundler test resolves to pkg/ through
# its package.json, as it would after `npm install tracksnap`.
mkdir -p node_modules
ln -sfn ../pkg node_modules/tracksnap
