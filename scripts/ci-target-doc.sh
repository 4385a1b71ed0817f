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
doc=docs/ci-target.md
source scripts/doc-blocks.sh

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

connector() { ./run-integration-tests.sh --scim-base "$SCIM_BASE" --token "$TOKEN" "$@"; }
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
stop_servers

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
