# The command-line tools every benchmark script drives: wrk for the load, psql for the
# databases. Sourced by bench/run.sh, bench/compare.sh and bench/history-cost.sh.
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if ! command -v psql >/dev/null; then
  apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null
fi
