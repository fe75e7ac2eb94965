#!/usr/bin/env bash
# End-to-end checks with real clients against the built server binary:
#
#   bash e2e/run.sh target/debug/segments-api
#
# 1. installs what is missing (Node and npm, Debian's Chromium, e2e/node_modules via npm ci);
# 2. the breaking-change checker's own tests (node --test), then the check of schema.graphql;
# 3. starts the server on a free loopback port with a fresh SQLite database, reads the API key
#    it writes to FIRST_KEY_FILE on its first start, waits for /ready, and runs the graphql-http audit, the client
#    workflow (graphql-request + graphql-ws), GraphiQL in headless Chromium, and the example SPA
#    (examples/segments-tab, built with npm ci and vite first) in headless Chromium;
# 4. with E2E_DATABASE_URL set (a PostgreSQL URL whose user may create databases), runs the
#    client workflow again on a fresh e2e_<random> database, dropped afterwards.
#
# Ends with `E2E: N passed, M failed` and exits non-zero on any failure.
set -uo pipefail

if [ $# -lt 1 ]; then
  echo "usage: bash e2e/run.sh PATH/TO/segments-api" >&2
  exit 2
fi
BINARY=$(realpath "$1")
if [ ! -x "$BINARY" ]; then
  echo "e2e: $1 is not an executable" >&2
  exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"

PASSED=0
FAILED=0
FAILED_NAMES=()
SERVER_PID=""
PG_DB=""
PG_ADMIN_URL=""
WORK=$(mktemp -d)

log() { echo "== e2e: $*"; }

cleanup() {
  stop_server
  if [ -n "$PG_DB" ]; then
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
      psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$PG_DB\"" >/dev/null 2>&1 ||
      echo "e2e: could not drop database $PG_DB" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs one stage: `stage NAME command...`; counts it as passed or failed.
stage() {
  local name=$1
  shift
  log "$name"
  if "$@"; then
    PASSED=$((PASSED + 1))
    echo "-- $name: passed"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    echo "-- $name: FAILED"
  fi
}

fail_stage() {
  FAILED=$((FAILED + 1))
  FAILED_NAMES+=("$1")
  echo "-- $1: FAILED ($2)"
}

# ---------------------------------------------------------------------------------------------
log "installing what is missing"
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq && apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v node >/dev/null || apt_install nodejs npm
command -v npm >/dev/null || apt_install npm
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || apt_install chromium
command -v psql >/dev/null || [ -z "${E2E_DATABASE_URL:-}" ] || apt_install postgresql-client
echo "node $(node --version), npm $(npm --version), $("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null)"
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  fail_stage "Node.js 20 or later" "graphql-ws and playwright-core need it; this is $(node --version)"
fi

# npm ci when node_modules is missing or was installed from another package-lock.json.
LOCK_HASH=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.e2e-lock-hash ] || [ "$(cat node_modules/.e2e-lock-hash)" != "$LOCK_HASH" ]; then
  echo "npm ci"
  if npm ci --no-audit --no-fund --loglevel=error; then
    echo "$LOCK_HASH" >node_modules/.e2e-lock-hash
  else
    fail_stage "npm ci" "cannot install e2e/node_modules"
  fi
fi

# The example SPA (examples/segments-tab), built from its own lock file as its README says.
build_segments_tab() {
  (cd ../examples/segments-tab && npm ci --no-audit --no-fund --loglevel=error && npm run build)
}
stage "example SPA builds (examples/segments-tab)" build_segments_tab

# ---------------------------------------------------------------------------------------------
stage "breaking-change checker tests" node --test breaking.test.mjs
stage "breaking changes in schema.graphql" node breaking.mjs

# ---------------------------------------------------------------------------------------------
free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# start_server DATABASE_URL NAME: sets SERVER_PID, PORT, KEY; returns non-zero when it fails.
start_server() {
  local database_url=$1 name=$2
  PORT=$(free_port)
  SERVER_OUT="$WORK/$name.out"
  SERVER_ERR="$WORK/$name.err"
  local key_file="$WORK/$name.key"
  DATABASE_URL="$database_url" BIND_ADDR="127.0.0.1:$PORT" SHUTDOWN_GRACE_SECONDS=5 RUST_LOG="${RUST_LOG:-info}" \
    FIRST_KEY_FILE="$key_file" "$BINARY" serve >"$SERVER_OUT" 2>"$SERVER_ERR" &
  SERVER_PID=$!
  KEY=""
  for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "e2e: the server exited:"
      tail -n 20 "$SERVER_ERR" "$SERVER_OUT"
      SERVER_PID=""
      return 1
    fi
    # The first start on a fresh database writes its key to FIRST_KEY_FILE (stdout is a file
    # here, not a terminal).
    [ -n "$KEY" ] || KEY=$(grep -m1 -oE '^sk_[A-Za-z0-9_-]+$' "$key_file" 2>/dev/null || true)
    if [ -n "$KEY" ] && node -e "fetch('http://127.0.0.1:$PORT/ready').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"; then
      echo "server pid $SERVER_PID on 127.0.0.1:$PORT ($name), key ${KEY:0:11}..."
      return 0
    fi
    sleep 0.2
  done
  echo "e2e: the server did not write a key and turn ready within 60 s:"
  tail -n 20 "$SERVER_ERR" "$SERVER_OUT"
  return 1
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
  fi
}

# Prints the server's log lines at warn or error, after a failed stage (for the record).
server_warnings() {
  grep -E ' (WARN|ERROR) |"level":"(WARN|ERROR)"' "$SERVER_ERR" | tail -n 30 || true
}

log "server on SQLite"
if start_server "sqlite://$WORK/e2e.db?mode=rwc" sqlite; then
  HTTP_URL="http://127.0.0.1:$PORT/graphql"
  WS_URL="ws://127.0.0.1:$PORT/graphql/ws"
  stage "graphql-http audit (SQLite)" node audit.mjs "$HTTP_URL" "$KEY"
  stage "client workflow (SQLite)" node client.mjs "$HTTP_URL" "$WS_URL" "$KEY"
  stage "GraphiQL in Chromium (SQLite)" node graphiql.mjs "$HTTP_URL" "$KEY"
  stage "example SPA in Chromium (SQLite)" node segments-tab.mjs "$HTTP_URL" "$KEY" ../examples/segments-tab/dist
  if [ "$FAILED" -gt 0 ]; then
    echo "server warnings and errors:"
    server_warnings
  fi
  stop_server
else
  fail_stage "server on SQLite" "did not start"
fi

# ---------------------------------------------------------------------------------------------
if [ -n "${E2E_DATABASE_URL:-}" ]; then
  log "server on PostgreSQL"
  PG_ADMIN_URL=$E2E_DATABASE_URL
  PG_DB="e2e_$(node -e "console.log(require('crypto').randomBytes(6).toString('hex'))")"
  PG_URL=$(node -e "const u=new URL(process.argv[1]);u.pathname='/'+process.argv[2];console.log(u.href)" "$E2E_DATABASE_URL" "$PG_DB")
  if psql "$PG_ADMIN_URL" -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null; then
    if start_server "$PG_URL" postgres; then
      stage "client workflow (PostgreSQL)" node client.mjs "http://127.0.0.1:$PORT/graphql" "ws://127.0.0.1:$PORT/graphql/ws" "$KEY"
      stop_server
    else
      fail_stage "server on PostgreSQL" "did not start"
    fi
  else
    PG_DB=""
    fail_stage "client workflow (PostgreSQL)" "cannot create a database with $E2E_DATABASE_URL"
  fi
else
  log "E2E_DATABASE_URL not set: the PostgreSQL run is skipped"
fi

# ---------------------------------------------------------------------------------------------
for name in "${FAILED_NAMES[@]}"; do echo "failed: $name"; done
echo "E2E: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
