#!/usr/bin/env python3
"""Warm `search_code` latency over MCP stdio: starts `mcp-vector-search mcp`
on an indexed project, warms it up, then times N calls (request written to
response read) for natural-language and identifier queries in hybrid mode,
plus keyword mode, with the server's CPU time per call (Linux).

Usage: scripts/stdio-search-bench.py BINARY PROJECT_ROOT [N]
"""
import json
import os
import subprocess
import sys
import time

from process_cpu import cpu_seconds

binary, root = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
env = dict(os.environ, MCP_ENABLE_FILE_WATCHING="0")
server = subprocess.Popen([binary, "mcp", "--project-root", root], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=open(os.environ.get("BENCH_STDERR", os.devnull), "w"), env=env)
next_id = 0


def request(method, params):
    global next_id
    next_id += 1
    message = {"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}
    server.stdin.write((json.dumps(message) + "\n").encode())
    server.stdin.flush()
    while True:
        reply = json.loads(server.stdout.readline())
        if reply.get("id") == next_id:
            return reply


request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "bench", "version": "0"}})
server.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
server.stdin.flush()
status = request("tools/call", {"name": "get_project_status", "arguments": {}})["result"]["structuredContent"]
words = ["parse the configuration file", "retry a request with backoff", "spawn a background task",
         "read bytes from a stream", "sort rows by column", "hash a key", "close the connection on error",
         "merge two sorted lists", "encode a frame", "schedule a timer"]
identifiers = ["JoinHandle", "poll_read", "RecordBatch", "spawn_blocking", "Runtime::new", "try_recv",
               "TcpListener", "ExecutionPlan", "Dataset::open", "take_rows"]


def server_cpu():
    """The server's CPU seconds so far, or None off Linux."""
    try:
        return cpu_seconds(server.pid)
    except OSError:
        return None


def timed(mode, queries):
    times = []
    for i in range(n):
        query = queries[i % len(queries)] + ("" if i < len(queries) else f" {i}")
        started = time.perf_counter()
        reply = request("tools/call", {"name": "search_code",
                                       "arguments": {"query": query, "search_mode": mode, "limit": 10}})
        times.append((time.perf_counter() - started) * 1000)
        assert "result" in reply and not reply["result"].get("isError"), reply
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95) - 1], times[-1]


for mode, queries in [("hybrid", words)]:  # warm-up: model load, page cache
    for query in queries:
        request("tools/call", {"name": "search_code", "arguments": {"query": query, "search_mode": mode}})
print(f"{status['chunks']} chunks, {status['files']} files; {n} calls each (queries repeat after "
      f"{len(words)}: later ones add a number, so the query-vector cache misses)")
for label, mode, queries in [("hybrid, descriptions", "hybrid", words), ("hybrid, identifiers", "hybrid", identifiers),
                             ("keyword", "keyword", words), ("vector", "vector", words)]:
    before = server_cpu()
    p50, p95, worst = timed(mode, queries)
    after = server_cpu()
    cpu = "" if before is None else f"  CPU {(after - before) * 1000 / n:5.1f} ms/call"
    print(f"{label:22} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {worst:6.1f} ms{cpu}")
server.kill()
