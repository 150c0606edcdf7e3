#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, then all unit, integration, end-to-end and
# conformance tests (the last compare against ../shared/data and skip loudly without it).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR

command -v python3 >/dev/null || {
  echo "python3 is required by the conformance tests (tests/reference/, standard library only)" >&2
  exit 1
}

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi
