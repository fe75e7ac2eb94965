#!/usr/bin/env bash
# What recording the membership history costs: this checkout's server against the same code
# built with `--features bench-without-history` (which records no change), side by side in one
# run, on the writes that make or end memberships:
#
#   bash bench/history-cost.sh
#
# churn-1000 makes or ends 1,000 memberships per request, so every request records 1,000
# changes; engagement's automations make a membership for some events; assign-1000 mostly finds
# its ids already assigned. Against an older revision (`compare.sh`), the ratio would also carry
# every other change since; against this build, it is the history alone.
#
# Environment: as bench/compare.sh (BENCH_SIZES default 100000, BENCH_DURATION default 5,
# BENCH_ROUNDS default 5, BENCH_WORKLOADS default churn-1000,assign-1000,engagement), and
# BENCH_REPORT (default bench/history-cost.md).
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/tools.sh

# Built where compare.sh builds other revisions (target/compare/build, whose dependencies it
# shares), not in target/: the two builds differ by a feature, and one target directory would
# rebuild the crate back and forth.
CARGO_TARGET_DIR="$PWD/target/compare/build" \
  cargo build --locked --release --bin segments-api --features bench-without-history
cp target/compare/build/release/segments-api target/compare/segments-api-without-history
CARGO_TARGET_DIR="$PWD/target" cargo build --locked --release --bin segments-api

report=${BENCH_REPORT:-bench/history-cost.md}
python3 bench/driver.py --sizes "${BENCH_SIZES:-100000}" --duration "${BENCH_DURATION:-5}" \
  --rounds "${BENCH_ROUNDS:-5}" --bin target/release/segments-api \
  --compare-bin target/compare/segments-api-without-history \
  --compare-label "without history" \
  --workloads "${BENCH_WORKLOADS:-churn-1000,assign-1000,engagement}" --report "$report" \
  --command "bash bench/history-cost.sh"
echo "report: $report"
