#!/usr/bin/env bash
# Installs what building, testing and the demo need, skipping what is already there.
# Sourced by scripts/test.sh and scripts/demo.sh; safe to run on its own.
# Everything comes from the package registries (crates.io, Debian, npm): nothing downloads a
# binary from elsewhere. Recipe and pitfalls: ../shared/TOOLCHAIN.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version pinned in Cargo.toml ("=0.2.N"): the CLI must match it exactly.
bindgen_version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$root/Cargo.toml")"
[ -n "$bindgen_version" ] || { echo "no pinned wasm-bindgen version in Cargo.toml" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

missing_debs=()
command -v chromium >/dev/null || missing_debs+=(chromium)
command -v chromedriver >/dev/null || missing_debs+=(chromium-driver)
command -v firefox-esr >/dev/null || command -v firefox >/dev/null || missing_debs+=(firefox-esr)
command -v wasm-opt >/dev/null || missing_debs+=(binaryen)
# WebKitGTK (Safari's engine): its WebDriver and MiniBrowser, and a virtual display to run in.
command -v WebKitWebDriver >/dev/null || missing_debs+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || missing_debs+=(xvfb)
# libjpeg-turbo's tjbench: the native reference of the benchmark's Part 4 (the encoder alone).
command -v tjbench >/dev/null || missing_debs+=(libjpeg-turbo-progs)
# A CJK font (1.6 MB): watermarks in Chinese are drawn with the system's fonts.
[ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing_debs+=(fonts-droid-fallback)
# apt mostly waits on the disk and the network: it runs while cargo compiles (3 min saved).
apt_pid=""
if [ "${#missing_debs[@]}" -gt 0 ]; then
  say "installing ${missing_debs[*]} from Debian (in the background: target/setup-apt.log)"
  mkdir -p "$root/target"
  (as_root apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_debs[@]}") \
    > "$root/target/setup-apt.log" 2>&1 &
  apt_pid=$!
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version (a few minutes)"
  # Without --locked: its lock file names a crate version the registry here does not serve.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (a few minutes)"
  cargo install wasm-pack --locked
fi

if ! command -v geckodriver >/dev/null; then
  say "installing geckodriver from crates.io"
  cargo install geckodriver
fi

if ! command -v s3s-fs >/dev/null; then
  say "installing s3s-fs (the S3-compatible store for the demo and the tests) from crates.io"
  cargo install s3s-fs@0.14.1 --features binary
fi

if [ -n "$apt_pid" ]; then
  wait "$apt_pid" || { cat "$root/target/setup-apt.log" >&2; echo "apt-get failed" >&2; exit 1; }
  say "Debian packages installed"
fi

# npm writes node_modules/.package-lock.json: reinstall when the lock file is newer. Not `npm ci`:
# the registry here serves no metadata for other platforms' optional packages (rollup's and
# esbuild's binaries), so the lock file cannot list them and `npm ci` refuses it; `npm install`
# installs exactly the locked versions and leaves the lock file as it is.
if [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  say "installing the dev tools from npm (playwright-core, vite, typescript, the AWS SDK's S3 presigners, @jsquash/jpeg)"
  (cd "$root" && npm install --no-audit --no-fund --loglevel=error)
fi
