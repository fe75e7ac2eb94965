#!/usr/bin/env bash
# The benchmark: segments-api against PostGraphile 4 and a hand-written baseline on PostgreSQL.
#
#   bash bench/run.sh           seeds 100,000 and 1,000,000 influencers, builds release binaries,
#                               runs every workload on every server and writes BENCHMARKS.md
#   bash bench/run.sh --smoke   2,000 influencers, 1 s runs, debug binaries, report to a temp
#                               file; exits non-zero when a server fails a request or a workload
#                               returns wrong data (CI runs this)
#
# Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432; the user must create
# databases and be a superuser, for ALTER DATABASE ... SET log_statement), BENCH_PG_LOG (the
# PostgreSQL server log, default /var/log/postgresql/postgresql-15-main.log), BENCH_SIZES,
# BENCH_DURATION (seconds per run, default 10), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS
# (default 8). Databases used: bench_smoke, bench_100k, bench_1m (dropped and re-made).
# For working on one workload: BENCH_WORKLOADS=profile,dashboard loads only those,
# BENCH_REUSE=1 keeps a database an earlier run seeded (with that run's writes in it), and
# BENCH_REPORT=/tmp/partial.md writes the (partial) report elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1

source bench/tools.sh

# PostGraphile from the committed lock file, inside bench/ only.
if [ ! -x bench/postgraphile/node_modules/.bin/postgraphile ]; then
  (cd bench/postgraphile && npm ci --no-audit --no-fund --loglevel=error)
fi

# The baseline shares the server's target directory, so the dependencies both use are built once.
export CARGO_TARGET_DIR="$PWD/target"
if [ "$smoke" = 1 ]; then
  # A release build takes minutes on a small CI machine; the smoke run checks that the benchmark
  # works, not how fast, so it uses debug builds (CI has built the server already).
  cargo build --locked --bin segments-api
  cargo build --locked --manifest-path bench/baseline/Cargo.toml
  profile=debug
else
  cargo build --locked --release --bin segments-api
  cargo build --locked --release --manifest-path bench/baseline/Cargo.toml
  profile=release
fi

if [ "$smoke" = 1 ]; then
  report=$(mktemp --suffix=.md)
  python3 bench/driver.py --smoke --sizes "${BENCH_SIZES:-2000}" --duration "${BENCH_DURATION:-1}" \
    --rounds "${BENCH_ROUNDS:-1}" --bin "target/$profile/segments-api" \
    --baseline-bin "target/$profile/segments-baseline" --report "$report" \
    --command "bash bench/run.sh --smoke"
  echo "smoke report: $report"
else
  python3 bench/driver.py --sizes "${BENCH_SIZES:-100000,1000000}" \
    --duration "${BENCH_DURATION:-10}" --rounds "${BENCH_ROUNDS:-3}" \
    ${BENCH_REUSE:+--reuse} ${BENCH_WORKLOADS:+--workloads "$BENCH_WORKLOADS"} \
    --report "${BENCH_REPORT:-BENCHMARKS.md}" \
    --bin "target/$profile/segments-api" --baseline-bin "target/$profile/segments-baseline" \
    --command "$(env | grep -E '^BENCH_' | sort | tr '\n' ' ')bash bench/run.sh"
fi
