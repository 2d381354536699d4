#!/usr/bin/env python3
"""Idle soak of the MCP server on an indexed tree: start `mcp` (watcher on),
read every file of the tree once, then stay idle; report the indexing jobs the
server started and its CPU use over the idle window.

Usage: scripts/idle-soak.py BINARY INDEXED_PROJECT_ROOT [SECONDS=60]
"""
import json
import os
import subprocess
import sys
import time

from process_cpu import cpu_seconds

binary, root = sys.argv[1], sys.argv[2]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0


def send(proc, message):
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def call(proc, ident, name, arguments):
    send(proc, {"jsonrpc": "2.0", "id": ident, "method": "tools/call",
                "params": {"name": name, "arguments": arguments}})
    while True:
        answer = json.loads(proc.stdout.readline())
        if answer.get("id") == ident:
            return answer["result"]["structuredContent"]


proc = subprocess.Popen([binary, "mcp", "--project-root", root], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
send(proc, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "soak", "version": "0"}}})
proc.stdout.readline()
send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
time.sleep(5)  # model warm-up and the watch starting
files = 0
for directory, dirs, names in os.walk(root):
    dirs[:] = [d for d in dirs if d not in (".git", ".mcp-vector-search")]
    for name in names:
        try:
            with open(os.path.join(directory, name), "rb") as f:
                f.read()
            files += 1
        except OSError:
            pass
time.sleep(1)
before = call(proc, 1, "get_project_status", {})
cpu_before, started = cpu_seconds(proc.pid), time.monotonic()
time.sleep(seconds)
cpu = cpu_seconds(proc.pid) - cpu_before
elapsed = time.monotonic() - started
after = call(proc, 2, "get_project_status", {})
proc.kill()
proc.wait()
job = lambda status: (status.get("job") or {}).get("job_id")
print(f"read {files} files; job before the idle window: {job(before)}, after: {job(after)}; "
      f"CPU over {elapsed:.0f} s idle: {cpu:.2f} s = {100 * cpu / elapsed:.2f}% of a core")
