#!/usr/bin/env bash
# The supply chain, as files: licenses, bans and sources of every dependency
# (cargo-deny, deny.toml) and dependencies declared but never used (cargo-machete).
# Installs both tools from crates.io when missing (a few minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo-deny cargo-machete; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "installing $tool"
    cargo install --locked "$tool"
  fi
done

cargo deny --locked check licenses bans sources
# Every crate of the workspace; a false positive is listed under
# [package.metadata.cargo-machete] ignored = […] in that crate's Cargo.toml, with why.
cargo machete
