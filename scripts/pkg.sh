# Sourced by scripts/bench.sh and scripts/soak.sh with their arguments: installs what is
# missing (scripts/setup.sh) and builds pkg/ (scripts/build.sh), or with --no-build checks that
# pkg/ exists. Leaves the other arguments in the array `args`.
build=1
args=()
for a in "$@"; do
  if [ "$a" = "--no-build" ]; then build=0; else args+=("$a"); fi
done
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [ "$build" = 1 ]; then
  "$(dirname "${BASH_SOURCE[0]}")/build.sh"
elif [ ! -f pkg/tracksnap.js ]; then
  echo "pkg/ is not built: run without --no-build" >&2
  exit 1
fi
