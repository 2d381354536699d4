#!/usr/bin/env python3
"""Process start to `initialize` response of `mcp-vector-search mcp`, 30 runs.

Usage: scripts/handshake-bench.py BINARY PROJECT_ROOT
"""
import json
import subprocess
import sys
import time
binary, root = sys.argv[1], sys.argv[2]
req = json.dumps({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}) + "\n"
times = []
for i in range(30):
    t = time.perf_counter()
    p = subprocess.Popen([binary, "mcp", "--project-root", root], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdin.write(req.encode()); p.stdin.flush()
    line = p.stdout.readline()
    times.append((time.perf_counter() - t) * 1000)
    assert b'"result"' in line, line
    p.kill(); p.wait()
times.sort()
print(f"initialize, process start to response, 30 runs: p50 {times[14]:.1f} ms, p95 {times[28]:.1f} ms, max {times[-1]:.1f} ms")
