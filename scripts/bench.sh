#!/usr/bin/env bash
# Benchmark figures (not a test): one snapshot of the same live tracks by tracksnap, by a
# playing <video> + canvas.toBlob (the RTC SDKs' way) and by @jsquash/jpeg; then one periodic
# task at Interval 1 over K streams; the write-ahead; the JPEG encoder alone against
# libjpeg-turbo; sizeFirst against MozJPEG at equal quality. Headless Chromium (and with
# --webkit, Parts 1 and 4 in WebKitGTK too); prints tables, every figure that has a target
# against it, and writes out/bench/bench.json. The page itself is
# http://127.0.0.1:8080/www/bench/ under `node www/serve.mjs 8080` (a Run button), for a run
# by hand.
#   scripts/bench.sh [--iterations N] [--seconds S] [--streams K] [--quick] [--webkit] [--parts 1,2,3,4,5] [--no-build]
#     --iterations N   timed calls per method and source (default 15)
#     --seconds S      length of the periodic run (default 60; the no-task baseline is S/4)
#     --streams K      streams of the periodic task (default 17: the camera + K-1 remote canvases)
#     --quick          a smoke run: 3 iterations, 10 s
#     --webkit         also Parts 1 and 4 in WebKitGTK (on an Xvfb display of its own)
#     --no-build       use pkg/ as it is instead of running scripts/build.sh, and the encoder
#                      module of Part 4 (examples/encoder_wasm.rs) as it is instead of cargo build
#     --parts 1,2,3,4,5  only these parts (default all; Part 4 times the JPEG encoder alone against
#                      libjpeg-turbo's tjbench: apt-get install libjpeg-turbo-progs; Part 5
#                      runs examples/rate_quality.rs, a few minutes of SSIMULACRA2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/pkg.sh "$@"
if [ "$build" = 0 ]; then args+=(--no-build); fi
exec node www/bench/run.mjs "${args[@]}"
