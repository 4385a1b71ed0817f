# Shared by the scripts that run a doc page's commands as written (ci-target-doc.sh,
# test-harness-doc.sh); sourced, with `doc` set to the page. Every fenced block of the
# page carries a marker, `<!-- run: NAME -->` or `<!-- not run: why -->` (a block without
# one fails the run); `block NAME` prints a run block's text, with port 8080 turned into
# a free port, `run NAME` runs it, `start` starts a server block in the background.
repo=$PWD
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
  echo "$(basename "$0"): $*" >&2
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
# Run a block (or its text, as changed) in a fresh `bash -e`; `expect_rc` is the exit
# status the text promises. Its exports then hold for the blocks after it.
run() {
  local name="$1" expect_rc="${2:-0}" text="${3:-$(block "$1")}" rc=0
  bash -e -c "$text" > "$scratch/out" 2>&1 || rc=$?
  [ "$rc" = "$expect_rc" ] || fail "block '$name' exited $rc, not $expect_rc: $(cat "$scratch/out")"
  eval "$(grep '^export ' <<< "$text" || true)"
  ran=$((ran + 1))
}
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

# Stop the servers started so far and wait until the port is free again.
stop_servers() {
  local pgid
  for pgid in "${groups[@]}"; do kill -- "-$pgid" 2>/dev/null || true; done
  groups=()
  for _ in $(seq 1 50); do
    linkedin-scim health --server "http://127.0.0.1:$port" > /dev/null 2>&1 || return 0
    sleep 0.1
  done
  fail "a server did not stop"
}
