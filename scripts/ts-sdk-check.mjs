// Drives the server with the official TypeScript MCP SDK (the client inside
// Claude Code, Gemini CLI and the Inspector), which reports protocol
// violations through `onerror`: progress for a token whose request has
// ended, progress that does not increase, malformed messages.
// Usage: node ts-sdk-check.mjs BINARY PROJECT_ROOT
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [bin, project] = process.argv.slice(2);
const errors = [];
const failures = [];
let passed = 0;
const check = (ok, what) => (ok ? passed++ : failures.push(what));

const transport = new StdioClientTransport({ command: bin, args: ["mcp", "--project-root", project], stderr: "ignore" });
const client = new Client({ name: "ts-sdk-check", version: "0" });
client.onerror = (error) => errors.push(String(error));
await client.connect(transport);

const { tools } = await client.listTools();
check(tools.length === 6, `tools/list: ${tools.map((t) => t.name)}`);

// An immediate answer ends the request: no progress may follow it.
const progressAfterAnswer = [];
const started = await client.callTool({ name: "index_project", arguments: {} }, undefined, {
  onprogress: (p) => progressAfterAnswer.push(p),
});
check(!started.isError, `index_project: ${JSON.stringify(started)}`);
// Let the job run (and any stray notification arrive) before waiting on it.
await new Promise((resolve) => setTimeout(resolve, 3000));

// A waited forced run (two phases: keywords, then vectors): progress
// strictly increases across phases and every message names its phase.
const seen = [];
const done = await client.callTool({ name: "index_project", arguments: { wait: true, force: true } }, undefined, {
  onprogress: (p) => seen.push(p),
  timeout: 600000,
});
check(done.structuredContent?.state === "done", `waited run: ${JSON.stringify(done.structuredContent)}`);
check(seen.length > 1, `progress notifications: ${seen.length}`);
check(seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress), `progress not increasing: ${JSON.stringify(seen)}`);
check(seen.every((p) => /index-\d+ [a-z]+: /.test(p.message ?? "")), `messages: ${JSON.stringify(seen.map((p) => p.message))}`);

const found = await client.callTool({ name: "search_code", arguments: { query: "larger of two numbers", limit: 1 } });
check(found.structuredContent?.results?.[0]?.file_path === "src/lib.rs", `search_code: ${JSON.stringify(found.structuredContent)}`);
await client.close();

check(errors.length === 0, `protocol errors reported by the SDK: ${JSON.stringify(errors)}`);
for (const failure of failures) console.log(`ts-sdk-check: FAILED ${failure}`);
console.log(`ts-sdk-check: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
