#!/usr/bin/env bash
# Registers the server with real MCP clients from npm, through what
# `mcp-vector-search install` writes and prints, in a throwaway HOME and a
# project whose path holds a space and a quote:
# - Claude Code: .mcp.json is pending until approved, then `claude mcp list`
#   shows it Connected; the printed `claude mcp add` (a binary path with a
#   space and a quote, not on PATH) runs in a shell and connects too;
# - Gemini CLI: .gemini/settings.json in a trusted folder, and the printed
#   `gemini mcp add`: `gemini mcp list` shows both Connected;
# - Codex: the printed `codex mcp add` stores the quoted path intact, and
#   ~/.codex/config.toml holding a quoted [mcp_servers."mcp-vector-search"]
#   table pinned to another repository, comments and another server:
#   `codex mcp list` parses the edited file, the pin is gone, the comments
#   stay, and a second project finds it up to date.
# The clients (pinned versions) are installed once into $MVS_NPM_CACHE
# (default ~/.cache/mvs-npm). Skips, saying so, when Node.js or npm is
# unavailable.
set -euo pipefail
bin="$(realpath "${1:?usage: clients-check.sh path/to/mcp-vector-search}")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "clients-check: SKIPPED (node/npm not found; install Node.js to run it)"
  exit 0
fi
versions="@anthropic-ai/claude-code@2.1.197 @google/gemini-cli@0.61.0 @openai/codex@0.171.0"
prefix="${MVS_NPM_CACHE:-$HOME/.cache/mvs-npm}/clients"
if [ "$(cat "$prefix/versions" 2>/dev/null)" != "$versions" ]; then
  mkdir -p "$prefix"
  # shellcheck disable=SC2086 # one word per package
  timeout 600 npm install --prefix "$prefix" --no-audit --no-fund --silent $versions >/dev/null
  echo "$versions" >"$prefix/versions"
fi
clients="$prefix/node_modules/.bin"

# The server warms its model up after the handshake: keep the real cache.
export MCP_VECTOR_SEARCH_HOME="${MCP_VECTOR_SEARCH_HOME:-$HOME/.cache/mcp-vector-search}"
export MCP_ENABLE_FILE_WATCHING=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home"
mkdir -p "$HOME"
project="$work/it's a project"
other="$work/other project"
mkdir -p "$project/src" "$other"
git -C "$project" init -q
git -C "$other" init -q
printf 'def maximum(a, b):\n    return a if a > b else b\n' >"$project/src/lib.py"

passed=0
log="$work/log"
fail() {
  echo "clients-check: FAILED: $1"
  cat "$log"
  exit 1
}
# Runs a client command in the project, its output in $log.
run() { (cd "$project" && timeout 120 "$@") >"$log" 2>&1 || fail "$* exited with $?"; }
expect() {
  grep -qE "$1" "$log" || fail "expected /$1/ in the output of the last command"
  passed=$((passed + 1))
}

# The binary on PATH under its own name: project files name it so.
export PATH="$(dirname "$bin"):$clients:$PATH"
(cd "$project" && "$bin" install claude-code --write && "$bin" install gemini --write) >"$log" 2>&1 ||
  fail "install --write"
grep -q '"command": "mcp-vector-search"' "$project/.mcp.json" || fail ".mcp.json does not name the command on PATH"
! grep -q MCP_PROJECT_ROOT "$project/.mcp.json" "$project/.gemini/settings.json" || fail "a project file pins the root"

# Claude Code: pending until approved, then connected.
run claude mcp list
expect 'mcp-vector-search: mcp-vector-search mcp - .*Pending approval'
mkdir -p "$project/.claude"
echo '{"enabledMcpjsonServers": ["mcp-vector-search"]}' >"$project/.claude/settings.local.json"
run claude mcp list
expect 'mcp-vector-search: mcp-vector-search mcp - .*Connected'

# The printed commands, with the binary at a path that needs quoting and is
# not on PATH (a hard link: /proc/self/exe names the path it was started by).
odd="$work/bin dir's"
mkdir -p "$odd"
ln "$bin" "$odd/mcp-vector-search" 2>/dev/null || cp "$bin" "$odd/mcp-vector-search"
for client in claude-code gemini codex; do
  (cd "$project" && "$odd/mcp-vector-search" install $client --name mvs-printed) >>"$work/printed" 2>&1 ||
    fail "install $client"
done
grep -E '^(claude|gemini|codex) mcp add' "$work/printed" >"$work/commands" || fail "no mcp add command printed"
[ "$(wc -l <"$work/commands")" = 3 ] || fail "expected 3 mcp add commands in: $(cat "$work/printed")"
(cd "$project" && bash -e "$work/commands") >"$log" 2>&1 || fail "the printed commands failed in bash"
run claude mcp list
expect "mvs-printed: $odd/mcp-vector-search mcp - .*Connected"
run codex mcp get mvs-printed --json
expect "\"command\": \"$odd/mcp-vector-search\""

# Gemini CLI: project servers load only in a trusted folder.
mkdir -p "$HOME/.gemini"
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({[process.argv[2]]: "TRUST_FOLDER"}))' \
  "$HOME/.gemini/trustedFolders.json" "$project"
run gemini mcp list
expect 'mcp-vector-search: mcp-vector-search mcp \(stdio\) - Connected'
expect "mvs-printed: $odd/mcp-vector-search mcp \(stdio\) - Connected"

# Codex: the quoted table left by an older install is updated in place.
mkdir -p "$HOME/.codex"
cat >"$HOME/.codex/config.toml" <<'TOML'
# my settings
model = "o4-mini"

[mcp_servers."mcp-vector-search"]
command = "/old/target/release/mcp-vector-search"
args = ["mcp"]
env = { MCP_PROJECT_ROOT = "/first/repo" } # pinned by an older install

[mcp_servers.other]
command = "other-server"
TOML
(cd "$project" && "$bin" install codex --write) >"$log" 2>&1 || fail "install codex --write"
expect 'removed MCP_PROJECT_ROOT=/first/repo'
run codex mcp list
expect '^mcp-vector-search +mcp-vector-search +mcp +- '
expect '^other +other-server '
grep -q '^# my settings$' "$HOME/.codex/config.toml" || fail "the comment was lost"
(cd "$other" && "$bin" install codex --write) >"$log" 2>&1 || fail "install codex --write in a second project"
expect 'already up to date'

echo "clients-check: $passed passed, 0 failed"
