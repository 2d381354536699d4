#!/usr/bin/env bash
# Talks to the server with the real MCP inspector client (npm package
# @modelcontextprotocol/inspector): tools/list and a search_code call on a
# tiny indexed project. Skips, saying so, when npx is unavailable.
set -euo pipefail
bin="$(realpath "${1:?usage: inspector-check.sh path/to/mcp-vector-search}")"

if ! command -v npx >/dev/null 2>&1; then
  echo "inspector-check: SKIPPED (npx not found; install Node.js to run it)"
  exit 0
fi
project="$(mktemp -d)"
trap 'rm -rf "$project"' EXIT
mkdir -p "$project/src"
cat > "$project/src/lib.rs" <<'RS'
/// Returns the larger of two numbers.
pub fn maximum(a: i64, b: i64) -> i64 {
    if a > b { a } else { b }
}
RS
"$bin" index "$project" >/dev/null 2>&1

inspect() {
  timeout 180 npx -y @modelcontextprotocol/inspector --cli "$bin" mcp --project-root "$project" "$@"
}
tools="$(inspect --method tools/list)"
for tool in search_code search_context search_similar get_chunk index_project get_project_status; do
  grep -q "\"$tool\"" <<<"$tools" || { echo "inspector-check: tools/list lacks $tool:"; echo "$tools"; exit 1; }
done
found="$(inspect --method tools/call --tool-name search_code --tool-arg query="larger of two numbers" --tool-arg limit=1)"
grep -q '"file_path": *"src/lib.rs"' <<<"$found" || { echo "inspector-check: search_code did not find src/lib.rs:"; echo "$found"; exit 1; }
echo "inspector-check: 2 passed, 0 failed"
