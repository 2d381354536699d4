#!/usr/bin/env bash
# The whole test suite: lint, unit + integration + end-to-end tests (real
# model, real LanceDB, real binary over stdio), and the MCP inspector check.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo build --locked --workspace --all-targets
bin="${CARGO_TARGET_DIR:-target}/debug/mcp-vector-search"
# Provision the runtime and model once, before tests run in parallel.
"$bin" setup >/dev/null

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast
else
  cargo test --locked --workspace --no-fail-fast
fi

scripts/inspector-check.sh "$bin"
scripts/ts-sdk-check.sh "$bin"
scripts/clients-check.sh "$bin"
