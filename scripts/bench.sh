#!/usr/bin/env bash
# Release build, then a cold (--force) and a warm (nothing changed) index of
# this repository, search latency and the embedding engine; prints numbers for
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cargo build --release --locked --bin mcp-vector-search --example bench
bin="${CARGO_TARGET_DIR:-target}/release/mcp-vector-search"
bench="${CARGO_TARGET_DIR:-target}/release/examples/bench"
"$bin" setup >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "--- cold index (--force)"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$bin" index --force .
echo "--- warm index (nothing changed)"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$bin" index .
echo "--- chunking speed (one core)"
"$bench" parse .
echo "--- search (process start to results, hybrid)"
for i in 1 2 3; do
  /usr/bin/time -f "wall %e s" "$bin" search "fuse vector and keyword search results" --limit 10 >/dev/null
done
echo "--- embedding: naive vs shipped (tokenizers crate sources as the corpus)"
corpus=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tokenizers-0.23.2 | head -1)
"$bench" embed "$corpus" --limit 3000
echo "--- MCP handshake"
python3 scripts/handshake-bench.py "$bin" .
