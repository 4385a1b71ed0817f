#!/usr/bin/env bash
# Runs every test: unit tests of the protocol modules and the behavioural suite, which
# runs each test against SQLite and against Postgres (TEST_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/postgres), then the conformance gate
# (scripts/conformance.sh: two independent SCIM test suites from PyPI against a live
# server on both backends; see docs/conformance.md). Installs the browser test's
# Chromium (scripts/browser-setup.sh) and starts the local Postgres cluster
# when it is not answering and this machine has one. Arguments go to nextest; the
# conformance gate runs only when no argument narrows the cargo test run.
set -euo pipefail
cd "$(dirname "$0")/.."

postgres_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if [ -z "${TEST_DATABASE_URL:-}" ] && ! postgres_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "Postgres is not answering on 127.0.0.1:5432: starting the local cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
  fi
fi

# The browser test (tests/api/browser.rs) needs Debian's chromium and chromium-driver.
# Under CI a failed install fails the run; locally the test then skips with a message.
if ! bash scripts/browser-setup.sh; then
  if [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; then
    echo "scripts/browser-setup.sh failed: the browser test cannot run" >&2
    exit 1
  fi
  echo "*** scripts/browser-setup.sh failed: the browser test will be skipped ***" >&2
fi

# Both stages run even when the first fails, so one run reports everything. insta lists
# every snapshot file an assertion read (INSTA_SNAPSHOT_REFERENCES_FILE, what
# `cargo insta test --unreferenced=reject` uses): after a full run, a snapshot no test
# read is stale and fails the run.
rc=0
references="$(mktemp)"
export INSTA_SNAPSHOT_REFERENCES_FILE="$references"
cargo nextest run --workspace --locked --no-fail-fast "$@" || rc=$?
if [ "$#" -eq 0 ]; then
  unreferenced="$(find . -path ./target -prune -o -name '*.snap' -print | while read -r snap; do
    grep -qxF "$(realpath "$snap")" "$references" || echo "$snap"
  done)"
  if [ -n "$unreferenced" ]; then
    echo "insta snapshots that no test reads (delete them, or restore their test):" >&2
    echo "$unreferenced" >&2
    rc=1
  fi
  bash scripts/conformance.sh || rc=$?
fi
rm -f "$references"
exit "$rc"
