#!/usr/bin/env bash
# The soak (a check, not a benchmark): one periodic task at Interval 1 over K streams for N
# minutes in headless Chromium, uploading every image to the dev server's S3 store while storage
# faults are injected (5xx bursts, a store outage, expired URLs, each ~5 minutes). At the end
# every image produced must be in the store or in the outbox, the JS heap and wasm memory flat
# (≤ 5 MiB growth after the warm-up), no VideoFrame left unclosed, ≤ 1 % of ticks skipped, no
# page error. Prints a table, writes out/soak/soak.json, exits non-zero when a check fails.
# Details: www/soak/run.mjs; docs/reliability.md, "Soak".
#   scripts/soak.sh [--minutes N] [--streams K] [--seed N] [--no-reloads] [--hung-store] [--no-build]
#     --minutes N   length of the run, fractional allowed (default 60; CI runs 5); or --seconds S
#     --streams K   streams of the task (default 17: the camera + K-1 remote canvases)
#     --seed N      repeats a run's fault amounts (printed by every run)
#     --no-reloads  one page for the whole run: its memory is checked from the warm-up to the end
#     --hung-store  no other faults: the store never answers until the task has stopped (one page)
#     --no-build    use pkg/ as it is instead of running scripts/build.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/pkg.sh "$@"
exec node www/soak/run.mjs "${args[@]}"
