#!/usr/bin/env bash
# Runs every command of docs/test-harness.md as written (scripts/doc-blocks.sh: blocks
# by marker, port 8080 turned into a free port) against the real binary, with an account
# `acme` holding the `Okta` configuration the page's examples name, and checks what the
# text says they do. The seed-file examples start servers of their own. A few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/test-harness.md
source scripts/doc-blocks.sh

mkdir -p "$scratch/harness" && cd "$scratch/harness"
okta_configuration='[[accounts.configurations]]
name = "Okta"
token = "okta-token"
'
printf '[[accounts]]\nname = "acme"\nprofile = "rfc"\n%s' "$okta_configuration" > seed.toml
export ADMIN=harness-admin-token-for-the-docs-0123456789 LINKEDIN_SCIM_SEED="$PWD/seed.toml"
scim() { curl -sS -o "$scratch/body" -w '%{http_code}' -H 'Authorization: Bearer okta-token' -H 'Content-Type: application/scim+json' "$@"; }
expect_status() { [ "$1" = "$2" ] || fail "$3: $1, not $2: $(cat "$scratch/body")"; }

start "$(block serve)" server.log
ran=$((ran + 1))
run clock
[ "$(tail -n 2 "$scratch/out")" = $'2027-01-01T01:00:00.000000Z\tmanual\n2027-03-01T09:00:00.000000Z\tmanual' ] ||
  fail "the clock commands printed: $(cat "$scratch/out")"

# The connector looks c up before it creates it (the sequence example's first step).
expect_status "$(scim "http://127.0.0.1:$port/scim/v2/Users?filter=userName+eq+%22c%40acme.com%22")" 200 "look c up"
for name in a b c; do
  expect_status "$(scim -X POST "http://127.0.0.1:$port/scim/v2/Users" -d "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"$name@acme.com\"}")" 201 "create $name"
done
run journal-export
[ "$(grep -c '"method":"POST"' journal.jsonl)" = 3 ] || fail "journal.jsonl: $(cat journal.jsonl)"
run journal-expect

id=$(jq -r .id "$scratch/body")
expect_status "$(scim -X PATCH "http://127.0.0.1:$port/scim/v2/Users/$id" -d '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}')" 200 "deactivate"
verdict=$(curl -sS -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  "http://127.0.0.1:$port/admin/api/accounts/acme/journal/expect" -d "$(block expect-pattern)")
[ "$(jq -r .satisfied <<< "$verdict")" = true ] || fail "the expect pattern: $verdict"
ran=$((ran + 1))
expect_api() {
  curl -sS -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$port/admin/api/accounts/acme/journal/expect" -d "$1"
}
# The failing expectation: its answer, cut as the page cuts it, is the page's.
verdict=$(expect_api "$(block expect-diff)")
[ "$(jq -S '{satisfied, closest: [.closest[0] | {differences}]}' <<< "$verdict")" = "$(block expect-diff-answer | jq -S .)" ] ||
  fail "the failing expectation's differences: $verdict"
jq -e '.detail | contains("body: `Operations[0].value` is `false`, expected `true`")' <<< "$verdict" > /dev/null ||
  fail "the failing expectation's detail: $verdict"
ran=$((ran + 2))
verdict=$(expect_api "$(block expect-sequence)")
[ "$(jq -c '[.satisfied, [.steps[].request.method]]' <<< "$verdict")" = '[true,["GET","POST","PATCH"]]' ] ||
  fail "the sequence: $verdict"
ran=$((ran + 1))

run faults
[ "$(linkedin-scim fault list -a acme)" = "[]" ] || fail "fault clear left faults"
run snapshots
[ "$(jq '.tables.users | length' acme.json)" = 3 ] || fail "acme.json holds $(jq '.tables.users | length' acme.json) users"
stop_servers

# A seed's faults, from start-up (the block, plus the configuration its fault names).
mkdir faults && cd faults
printf '%s%s' "$(block seed-faults)" $'\n'"$okta_configuration" > seed.toml
export LINKEDIN_SCIM_SEED="$PWD/seed.toml"
start "linkedin-scim serve --admin-token $ADMIN" server.log
expect_status "$(scim "http://127.0.0.1:$port/scim/v2/Users?count=1")" 429 "the seeded throttle"
expect_status "$(scim "http://127.0.0.1:$port/scim/v2/Users?count=1")" 200 "after the seeded throttle's one hit"
ran=$((ran + 1))
stop_servers

# A seed that starts the account from the snapshot exported above (next to the seed).
mkdir ../snapshot && cd ../snapshot
cp ../acme.json . && block seed-snapshot > seed.toml
export LINKEDIN_SCIM_SEED="$PWD/seed.toml"
start "linkedin-scim serve --admin-token $ADMIN" server.log
expect_status "$(scim "http://127.0.0.1:$port/scim/v2/Users?count=0")" 200 "the restored token"
[ "$(jq .totalResults "$scratch/body")" = 3 ] || fail "the seeded snapshot: $(cat "$scratch/body")"
ran=$((ran + 1))

echo "test-harness-doc: $ran blocks of $doc ran as written ($(($(date +%s) - started)) s)"
