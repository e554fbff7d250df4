#!/usr/bin/env bash
# Fuzzes the pure core on the host: each target in fuzz/fuzz_targets/ runs for N seconds
# (default 20) from the committed corpus in fuzz/corpus/<target>/, and the script fails if any
# target finds a crash (a panic, a broken property, a timeout). Installs cargo-fuzz if missing.
#
#   scripts/fuzz.sh [--seconds N] [--asan] [target…]
#
# Works on a stable toolchain: without a sanitizer (`-s none`) cargo-fuzz needs no nightly
# flags. `--asan` adds AddressSanitizer, which needs a nightly toolchain (`cargo +nightly`).
# New inputs found during a run go to fuzz/target/corpus/<target>/ (not committed), crashes to
# fuzz/artifacts/<target>/; reproduce one with
#   cargo fuzz run -s none <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds=20
asan=false
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --asan) asan=true; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "--seconds wants a whole number > 0, got $seconds" >&2; exit 2; }

all=()
for f in fuzz/fuzz_targets/*.rs; do all+=("$(basename "$f" .rs)"); done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "no fuzz target $t (have: ${all[*]})" >&2; exit 2; }
done

step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
  step "installing cargo-fuzz from crates.io"
  # The version this script was verified with; --locked takes its tested dependency versions.
  if cargo install cargo-fuzz --version 0.13.2 --locked; then
    echo "installed with --locked"
  else
    echo "cargo install --locked failed; trying without --locked"
    cargo install cargo-fuzz --version 0.13.2
    echo "installed without --locked"
  fi
fi

# The fuzz crate is its own workspace and builds into fuzz/target (never the root's target/).
unset CARGO_TARGET_DIR
if $asan; then
  cargo +nightly --version >/dev/null 2>&1 || { echo "--asan needs a nightly toolchain" >&2; exit 2; }
  fuzz=(cargo +nightly fuzz)
  flags=(-s address --target-dir fuzz/target/asan)
else
  fuzz=(cargo fuzz)
  flags=(-s none)
fi

step "building the fuzz targets ($(cargo fuzz --version); $("${fuzz[@]:0:${#fuzz[@]}-1}" --version))"
"${fuzz[@]}" build "${flags[@]}"

failed=()
for t in "${targets[@]}"; do
  step "fuzzing $t for ${seconds}s"
  scratch="fuzz/target/corpus/$t"
  mkdir -p "$scratch"
  args=(-max_total_time="$seconds" -timeout=25 -print_final_stats=1)
  [ -f "fuzz/dict/$t.dict" ] && args+=(-dict="fuzz/dict/$t.dict")
  start=$SECONDS
  # The first corpus directory receives new inputs; the committed one is only read.
  if "${fuzz[@]}" run "${flags[@]}" "$t" "$scratch" "fuzz/corpus/$t" -- "${args[@]}" \
    >"fuzz/target/$t.log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units)' "fuzz/target/$t.log" || true
    echo "$t: no crash in $((SECONDS - start))s"
  else
    grep -vE '^\s+(at |[0-9]+: )' "fuzz/target/$t.log" | tail -40
    echo "$t: FAILED (log: fuzz/target/$t.log)"
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  for t in "${failed[@]}"; do ls -1 "fuzz/artifacts/$t/" 2>/dev/null | sed "s|^|  fuzz/artifacts/$t/|" >&2; done
  exit 1
fi
echo
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no crash"
