#!/usr/bin/env bash
# Talks to the server with the official TypeScript MCP SDK client (npm
# @modelcontextprotocol/sdk): protocol errors it reports fail the check
# (progress rules, see ts-sdk-check.mjs). The SDK is installed once into
# $MVS_NPM_CACHE (default ~/.cache/mvs-npm). Skips, saying so, when Node.js
# or npm is unavailable.
set -euo pipefail
bin="$(realpath "${1:?usage: ts-sdk-check.sh path/to/mcp-vector-search}")"
here="$(cd "$(dirname "$0")" && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ts-sdk-check: SKIPPED (node/npm not found; install Node.js to run it)"
  exit 0
fi
prefix="${MVS_NPM_CACHE:-$HOME/.cache/mvs-npm}/ts-sdk"
if [ ! -d "$prefix/node_modules/@modelcontextprotocol/sdk" ]; then
  mkdir -p "$prefix"
  timeout 300 npm install --prefix "$prefix" --no-audit --no-fund --silent @modelcontextprotocol/sdk@1 >/dev/null
fi
project="$(mktemp -d)"
trap 'rm -rf "$project"' EXIT
mkdir -p "$project/src" "$project/app"
cat > "$project/src/lib.rs" <<'RS'
/// Returns the larger of two numbers.
pub fn maximum(a: i64, b: i64) -> i64 {
    if a > b { a } else { b }
}
RS
# Enough files for a two-phase run (keywords, then vectors).
for i in $(seq 1 210); do
  printf 'def handler_%s(request):\n    return request.get("value_%s")\n' "$i" "$i" > "$project/app/h_$i.py"
done
cp "$here/ts-sdk-check.mjs" "$prefix/ts-sdk-check.mjs"
timeout 600 node "$prefix/ts-sdk-check.mjs" "$bin" "$project"
