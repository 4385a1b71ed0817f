#!/usr/bin/env bash
# Follows docs/ci-target.md literally, so the page cannot rot: every fenced block there
# carries a marker (`<!-- run: NAME -->`, or `<!-- not run: why -->`), and this script
# runs each `run` block, in the page's order, in a scratch "connector repository"
# holding config/ci-seed.toml as tests/seed.toml, against the real binary. Between the
# blocks a small connector (curl, like a SCIM client) makes the requests the text talks
# about, and the script checks what the text says happens. Then it runs the GitHub
# Actions job on the page step by step (`uses:` steps aside). The one change to the
# page's text: port 8080 becomes a free port. About 10 s, most of it the fault's
# Retry-After and the servers' start.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
doc=docs/ci-target.md
started=$(date +%s)

cargo build --locked --quiet --bin linkedin-scim
bin_dir="${CARGO_TARGET_DIR:-$repo/target}/debug"
export PATH="$bin_dir:$PATH"
# Nothing of the caller's settings leaks into the page's commands.
while read -r name; do unset "$name"; done < <(env | sed -n 's/^\(LINKEDIN_SCIM_[A-Z_]*\)=.*/\1/p')

scratch="$(mktemp -d)"
groups=()
cleanup() {
  local pgid
  for pgid in "${groups[@]}"; do kill -- "-$pgid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

fail() {
  echo "ci-target-doc: $*" >&2
  for log in "$scratch"/*/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The page's servers bind 0.0.0.0:8080 by default; here, the free port.
export LINKEDIN_SCIM_BIND="127.0.0.1:$port"

# The page's blocks by marker, as JSON; a block without a marker fails the run.
blocks="$scratch/blocks.json"
python3 - "$doc" "$port" > "$blocks" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read().replace("127.0.0.1:8080", "127.0.0.1:" + sys.argv[2])
blocks, marker = {}, None
for line_no, chunk in enumerate(re.split(r"(?m)^(```[a-z]*\n.*?^```)$", text, flags=re.S)):
    if chunk.startswith("```"):
        if marker is None:
            sys.exit(f"{sys.argv[1]}: a code block without a <!-- run: … --> or <!-- not run: … --> marker:\n{chunk[:200]}")
        if marker:
            blocks[marker] = chunk.split("\n", 1)[1].rsplit("```", 1)[0]
        marker = None
        continue
    found = re.findall(r"<!-- (run: ([a-z-]+)|not run: [^>]+) -->\s*$", chunk)
    marker = (found[-1][1] or "") if found else None
json.dump(blocks, sys.stdout)
PY
block() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$blocks" "$1"; }
ran=0

# The connector's repository: the page's seed, and a connector that provisions like an
# IdP does (look the user up by userName, create it when absent, deactivate by PATCH),
# waiting Retry-After on a 429. Its query is encoded the way Python's urlencode does it.
make_repo() {
  mkdir -p "$1/tests"
  cp "$repo/config/ci-seed.toml" "$1/tests/seed.toml"
  cat > "$1/run-integration-tests.sh" <<'CONNECTOR'
#!/usr/bin/env bash
set -euo pipefail
while [ "$#" -gt 0 ]; do
  case "$1" in
    --scim-base) base="$2"; shift 2 ;;
    --token) token="$2"; shift 2 ;;
    *) break ;;
  esac
done
body="$(mktemp)"
send() { curl -sS -o "$body" -D "$body.headers" -w '%{http_code}' -H "Authorization: Bearer $token" "$@"; }
lookup() {
  local query status
  query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode({"filter": sys.argv[1]}))' "userName eq \"$1\"")
  for _ in 1 2 3; do
    status=$(send "$base/Users?$query")
    case "$status" in
      200) jq -r '.Resources[0].id // empty' "$body"; return ;;
      429) sleep "$(sed -n 's/^retry-after: *\([0-9]*\).*/\1/Ip' "$body.headers")" ;;
      *) echo "lookup of $1: $status $(cat "$body")" >&2; return 1 ;;
    esac
  done
  echo "lookup of $1: still throttled" >&2; return 1
}
create() {
  [ -n "$(lookup "$1")" ] && return
  local status
  status=$(send -X POST "$base/Users" -H 'Content-Type: application/scim+json' \
    -d "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"$1\", \"active\": true}")
  [ "$status" = 201 ] || { echo "create $1: $status $(cat "$body")" >&2; return 1; }
}
deactivate() {
  local id status
  id=$(lookup "$1")
  status=$(send -X PATCH "$base/Users/$id" -H 'Content-Type: application/scim+json' \
    -d '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}')
  [ "$status" = 200 ] || { echo "deactivate $1: $status $(cat "$body")" >&2; return 1; }
}
case "${1:-suite}" in
  suite) create alice@acme.com; create bob@acme.com; deactivate alice@acme.com ;;
  *) "$@" ;;
esac
CONNECTOR
  chmod +x "$1/run-integration-tests.sh"
}

# Run a block (or its text, as changed) in a fresh `bash -e`; `expect_rc` is the exit
# status the text promises. Its exports then hold for the blocks after it.
run() {
  local name="$1" expect_rc="${2:-0}" text="${3:-$(block "$1")}" rc=0
  bash -e -c "$text" > "$scratch/out" 2>&1 || rc=$?
  [ "$rc" = "$expect_rc" ] || fail "block '$name' exited $rc, not $expect_rc: $(cat "$scratch/out")"
  eval "$(grep '^export ' <<< "$text" || true)"
  ran=$((ran + 1))
}
connector() { ./run-integration-tests.sh --scim-base "$SCIM_BASE" --token "$TOKEN" "$@"; }
wait_ready() {
  for _ in $(seq 1 100); do
    linkedin-scim health --server "http://127.0.0.1:$port" > /dev/null 2>&1 && return
    sleep 0.1
  done
  fail "the server did not become ready"
}
# Start a command in its own process group (killed at exit) and wait for /readyz.
start() {
  setsid bash -c "exec $1" > "$2" 2>&1 &
  groups+=("$!")
  wait_ready
}

# The page's sections, in order, as one connector test run would use them.
mkdir -p "$scratch/prose" && make_repo "$scratch/prose" && cd "$scratch/prose"
start "$(block start)" server.log
ran=$((ran + 1))
run env

connector create alice@acme.com
run reset
[ -z "$(connector lookup alice@acme.com)" ] || fail "reset left alice in the account"

connector create carol@acme.com
run export
run reset
[ -z "$(connector lookup carol@acme.com)" ] || fail "reset left carol in the account"
run restore
[ -n "$(connector lookup carol@acme.com)" ] || fail "the restored fixture has no carol (or the token stopped working)"

run reset
connector create dave@acme.com
run expect 5 # no deactivation yet: the assertion fails, as the text says
connector deactivate dave@acme.com
run expect

run reset
# "run the connector's sync" is the connector creating bob: its lookup is throttled.
sync='./run-integration-tests.sh --scim-base "$SCIM_BASE" --token "$TOKEN" create bob@acme.com'
fault="$(block fault | sed "s|^# run the connector's sync, then:\$|$sync|")"
[ "$fault" != "$(block fault)" ] || fail "the fault block lost its '# run the connector's sync' line"
run fault 0 "$fault"

run clock
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$SCIM_BASE/Users?filter=userName%20eq%20%22bob%40acme.com%22")
[ "$status" = 401 ] || fail "after the clock block the token still works ($status)"
kill -- "-${groups[0]}"
wait_ready_gone() { ! linkedin-scim health --server "http://127.0.0.1:$port" > /dev/null 2>&1; }
for _ in $(seq 1 50); do wait_ready_gone && break; sleep 0.1; done

# The GitHub Actions job, step by step, in a fresh repository: its env, then each `run`
# (`if: failure()` steps too, to check the journal they keep).
mkdir -p "$scratch/job" && make_repo "$scratch/job" && cd "$scratch/job"
steps="$scratch/steps.json"
block github-actions | python3 -c '
import json, sys, yaml
job = yaml.safe_load(sys.stdin)["jobs"]["integration"]
json.dump({"env": job["env"], "steps": [s for s in job["steps"] if "run" in s]}, sys.stdout)' > "$steps"
while IFS=$'\t' read -r name value; do export "$name=$value"; done < <(jq -r '.env | to_entries[] | "\(.key)\t\(.value)"' "$steps")
for n in $(seq 0 $(($(jq '.steps | length' "$steps") - 1))); do
  step_name=$(jq -r ".steps[$n].name" "$steps")
  setsid bash -e -c "$(jq -r ".steps[$n].run" "$steps")" > "step-$n.log" 2>&1 &
  pid=$!
  groups+=("$pid")
  wait "$pid" || fail "job step '$step_name' failed: $(cat "step-$n.log")"
  ran=$((ran + 1))
done
[ -s journal.jsonl ] || fail "the job kept an empty journal"
[ "$(grep -c '"method":"POST"' journal.jsonl)" = 2 ] || fail "the kept journal does not hold the suite's two creates"

echo "ci-target-doc: $ran blocks and job steps of $doc ran as written ($(($(date +%s) - started)) s)"
