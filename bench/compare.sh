#!/usr/bin/env bash
# This checkout's server against another revision's, side by side in one run:
#
#   bash bench/compare.sh REV          e.g. bash bench/compare.sh 5b5fbad
#
# Builds REV's server (release, from a temporary git worktree, in target/compare/build: a
# target directory of its own, since cargo names a workspace's artifacts the same whatever the
# checkout's path, so a shared one would leave one build's binary in the other's place; kept as
# target/compare/segments-api-REV and reused by later runs) and this checkout's, lets each
# seed its own database (`bench_<size>` and `bench_<size>_compare`: their schemas may differ),
# and measures the read and write workloads both builds answer on both, alternating. The report
# gives throughput and p50 ratios between the two builds, which is how a refactoring is held to
# "no slower": a ratio from one run, not two figures from different days.
#
# Environment: as bench/run.sh (BENCH_PG, BENCH_SIZES default 100000, BENCH_DURATION default 5,
# BENCH_ROUNDS default 3, BENCH_WORKLOADS, BENCH_CONNECTIONS), and BENCH_REPORT (default
# bench/compare-REV.md, not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

rev=$(git rev-parse --short "${1:?usage: bash bench/compare.sh REV}^{commit}")
source bench/tools.sh

# A revision never changes, so its binary, once built, is built for good.
if [ ! -x "target/compare/segments-api-$rev" ]; then
  work=$(mktemp -d)
  trap 'git worktree remove --force "$work/src" 2>/dev/null || true; rm -rf "$work"' EXIT
  git worktree add --quiet --detach "$work/src" "$rev"
  CARGO_TARGET_DIR="$PWD/target/compare/build" \
    cargo build --locked --release --bin segments-api --manifest-path "$work/src/Cargo.toml"
  cp target/compare/build/release/segments-api "target/compare/segments-api-$rev.partial"
  mv "target/compare/segments-api-$rev.partial" "target/compare/segments-api-$rev"
fi
CARGO_TARGET_DIR="$PWD/target" cargo build --locked --release --bin segments-api

report=${BENCH_REPORT:-bench/compare-$rev.md}
python3 bench/driver.py --sizes "${BENCH_SIZES:-100000}" --duration "${BENCH_DURATION:-5}" \
  --rounds "${BENCH_ROUNDS:-3}" --bin target/release/segments-api \
  --compare-bin "target/compare/segments-api-$rev" --compare-label "$rev" \
  ${BENCH_WORKLOADS:+--workloads "$BENCH_WORKLOADS"} --report "$report" \
  --command "bash bench/compare.sh $rev"
echo "report: $report"
