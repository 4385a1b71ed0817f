#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time and prints the executions per
# target. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]  (default 60 s, all
# targets; FUZZ_SECONDS also sets the time). Installs cargo-fuzz when missing. On a
# stable toolchain the nightly flags cargo-fuzz needs are allowed with RUSTC_BOOTSTRAP=1.
# New inputs go to fuzz/target/corpus/<target>, never into the checked-in seed corpus
# (fuzz/corpus/<target>); a crash is saved under fuzz/artifacts/<target> and fails the run.
# FUZZ_SANITIZER (default none: the targets are safe Rust, a panic is what they find;
# `address` for ASan).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-60}}"
shift || true
sanitizer="${FUZZ_SANITIZER:-none}"
# cargo-fuzz builds with one codegen unit unless told otherwise: a large crate
# then compiles on one core (about 12 CPU-minutes here). 16 units build several times
# faster for slightly slower runs; FUZZ_CODEGEN_UNITS=1 for long campaigns.
codegen_units="${FUZZ_CODEGEN_UNITS:-16}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

cargo fuzz build --fuzz-dir fuzz --sanitizer "$sanitizer" --codegen-units "$codegen_units"

summary=()
status=0
for target in "${targets[@]}"; do
  work="fuzz/target/corpus/$target"
  mkdir -p "$work"
  log="fuzz/target/$target.log"
  if cargo fuzz run --fuzz-dir fuzz --sanitizer "$sanitizer" --codegen-units "$codegen_units" "$target" "$work" "fuzz/corpus/$target" \
      -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    result="ok"
  else
    result="FAILED (see $log and fuzz/artifacts/$target)"
    status=1
  fi
  runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n1)"
  summary+=("$(printf '%-10s %12s execs in %ss  %s' "$target" "${runs:-?}" "$seconds" "$result")")
done
printf '%s\n' "${summary[@]}"
exit "$status"
