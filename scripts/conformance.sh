#!/usr/bin/env bash
# The conformance gate: runs two independent SCIM test suites from PyPI, scim2-tester
# and scim-sanity, against a live server on a fresh SQLite file and on a fresh Postgres
# database, and fails on any result that docs/conformance.md does not account for.
#
#   bash scripts/conformance.sh
#
# - Installs the pinned tools (scripts/conformance/requirements.txt) into the
#   project-local venv .venv/conformance (rebuilt when that file or Python changes).
# - Builds the server (cargo build --locked --bins --tests: debug) and, per backend,
#   starts it with `--profile rfc --demo-token <random>` on a free port, waits for
#   /healthz, runs both tools against http://127.0.0.1:PORT/scim/v2, and stops it.
# - scripts/conformance/gate.py prints the per-tool, per-backend summary and decides.
#
# Needs: python3 (>= 3.11) with venv, network to PyPI on the first run, cargo, psql,
# and Postgres at CONFORMANCE_PG_URL (else TEST_DATABASE_URL, else
# postgres://postgres@127.0.0.1:5432/postgres), as a role allowed to create databases;
# the local cluster is started when nothing answers and this machine has one.
# Results (JSON per tool and backend, server logs) land in target/conformance/.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."

HERE=scripts/conformance
VENV=.venv/conformance
RESULTS=target/conformance
PYTHON=${PYTHON:-python3}
PG_ADMIN_URL=${CONFORMANCE_PG_URL:-${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}
TOOL_TIMEOUT=${CONFORMANCE_TOOL_TIMEOUT:-600} # seconds, per tool run
START=$SECONDS

# The server must run with exactly the flags below, whatever the caller's environment.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^LINKEDIN_SCIM_' || true)

log() { printf '[conformance %4ss] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf 'conformance: %s\n' "$*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------------------
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Python >= 3.11 is needed)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); Python >= 3.11 is needed"
want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1) $("$PYTHON" -V 2>&1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]; then
  log "installing the conformance tools into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "cannot create a venv (on Debian: apt-get install python3-venv)"
  timeout 900 "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --retries 5 --timeout 60 -r "$HERE/requirements.txt"
  echo "$want" >"$VENV/.installed"
fi
VPY="$VENV/bin/python"
log "tools: $("$VPY" -m pip list --disable-pip-version-check 2>/dev/null \
  | awk '$1=="scim2-tester"||$1=="scim-sanity"{printf "%s %s  ", $1, $2}')"

# --- server ----------------------------------------------------------------------------
# --tests: the same feature resolution as the test suite (dev-dependencies add features
# to shared crates), so right after `cargo nextest run` this reuses its artifacts
# instead of compiling a second variant of those crates (~3 min on a cold CI target).
log "building the server (cargo build --locked --bins --tests)"
cargo build --locked --bins --tests --quiet
BIN="${CARGO_TARGET_DIR:-target}/debug/linkedin-scim"
[ -x "$BIN" ] || die "no server binary at $BIN"

WORK=$(mktemp -d)
SERVER_PID=""
PG_DB=""
PROBLEMS=()

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  { wait "$SERVER_PID"; } 2>/dev/null || true
  SERVER_PID=""
}
psql_admin() { psql "${PG_ADMIN_URL%%\?*}" -X -q -v ON_ERROR_STOP=1 "$@"; }
# The admin URL with another database name, keeping its query string.
pg_url_for() {
  local url=$1 db=$2 query=""
  if [[ $url == *\?* ]]; then query="?${url#*\?}"; fi
  url=${url%%\?*}
  printf '%s/%s%s' "${url%/*}" "$db" "$query"
}
cleanup() {
  stop_server
  if [ -n "$PG_DB" ]; then
    psql_admin -c "drop database if exists $PG_DB with (force)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts the server on a free port (bind :0, port read from its banner); sets BASE.
start_server() {
  local database_url=$1 server_log=$2 port=""
  : >"$server_log"
  "$BIN" serve --config "$WORK/no-config-file.toml" --database-url "$database_url" \
    --bind 127.0.0.1:0 --profile rfc --demo-token "$TOKEN" --log-format json >"$server_log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$server_log" >&2; die "the server exited at start-up"; }
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$server_log" | head -n1 || true)
    if [ -n "$port" ] && "$VPY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      BASE="http://127.0.0.1:$port/scim/v2"
      return 0
    fi
    sleep 0.5
  done
  cat "$server_log" >&2
  die "the server did not answer /healthz within 60 s"
}

run_tools() {
  local backend=$1 out="$RESULTS/$1" rc=0
  mkdir -p "$out"
  log "[$backend] scim2-tester against $BASE"
  SCIM_TOKEN="$TOKEN" timeout "$TOOL_TIMEOUT" "$VPY" "$HERE/scim2_tester_check.py" "$BASE" \
    "$out/scim2-tester.json" >"$out/scim2-tester.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { PROBLEMS+=("[$backend] scim2-tester exited $rc (see $out/scim2-tester.log)"); cat "$out/scim2-tester.log"; }
  log "[$backend] scim-sanity against $BASE"
  rc=0
  # Exits 1 when a check fails: the gate reads the JSON and decides.
  timeout "$TOOL_TIMEOUT" "$VENV/bin/scim-sanity" probe "$BASE" --token "$TOKEN" \
    --i-accept-side-effects --json-output --timeout 30 >"$out/scim-sanity.json" 2>"$out/scim-sanity.log" || rc=$?
  if [ "$rc" -gt 1 ]; then
    PROBLEMS+=("[$backend] scim-sanity exited $rc (see $out/scim-sanity.log)")
    cat "$out/scim-sanity.log"
  fi
}

# No panic and no 5xx may reach a client (501 excepted: the honest answer to an
# operation the server does not implement, RFC 7644 §3.12). The server logs both.
check_server_log() {
  local backend=$1 server_log=$2
  kill -0 "$SERVER_PID" 2>/dev/null || PROBLEMS+=("[$backend] the server died during the run (see $server_log)")
  if grep -E 'panicked|request failed|response failed' "$server_log" | grep -v '501 Not Implemented' >"$WORK/bad-lines"; then
    PROBLEMS+=("[$backend] the server logged a panic or a 5xx (see $server_log):")
    while IFS= read -r line; do PROBLEMS+=("    ${line:0:400}"); done < <(head -n 20 "$WORK/bad-lines")
  fi
}

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
TOKEN="conformance-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

# --- SQLite: a fresh file --------------------------------------------------------------
mkdir -p "$RESULTS/sqlite"
start_server "sqlite://$WORK/conformance.db" "$RESULTS/sqlite/server.log"
log "[sqlite] server up at $BASE"
run_tools sqlite
check_server_log sqlite "$RESULTS/sqlite/server.log"
stop_server

# --- Postgres: a fresh database --------------------------------------------------------
postgres_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if [ -z "${CONFORMANCE_PG_URL:-}${TEST_DATABASE_URL:-}" ] && ! postgres_up \
  && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  log "Postgres is not answering on 127.0.0.1:5432: starting the local cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
fi
command -v psql >/dev/null || die "psql not found (apt-get install postgresql-client)"
PG_DB="lscim_conformance_$$_$RANDOM"
psql_admin -c "create database $PG_DB" >/dev/null || die "cannot create a database at $PG_ADMIN_URL"
mkdir -p "$RESULTS/postgres"
start_server "$(pg_url_for "$PG_ADMIN_URL" "$PG_DB")" "$RESULTS/postgres/server.log"
log "[postgres] server up at $BASE (database $PG_DB)"
run_tools postgres
check_server_log postgres "$RESULTS/postgres/server.log"
stop_server
psql_admin -c "drop database if exists $PG_DB with (force)" >/dev/null && PG_DB=""

# --- the gate --------------------------------------------------------------------------
printf '%s\n' ${PROBLEMS[@]+"${PROBLEMS[@]}"} >"$RESULTS/problems.txt"
rc=0
"$VPY" "$HERE/gate.py" "$RESULTS" "$HERE/expectations.toml" docs/conformance.md || rc=$?
log "done in $((SECONDS - START)) s (results in $RESULTS/)"
exit "$rc"
