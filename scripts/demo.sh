#!/usr/bin/env bash
# From nothing to search results on this repository:
# protoc -> build -> runtime + model -> index -> search.
# Usage: scripts/demo.sh ["query"]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
cargo build --locked --bin mcp-vector-search
bin="${CARGO_TARGET_DIR:-target}/debug/mcp-vector-search"
"$bin" setup
"$bin" index .
"$bin" status
query="${1:-fuse vector and keyword search results by reciprocal rank}"
echo "--- search: $query" >&2
"$bin" search "$query" --limit 5
