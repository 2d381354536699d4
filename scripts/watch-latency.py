#!/usr/bin/env python3
"""Edit-to-searchable latency of `index --watch`: copy a tree, index it with
the watcher running, then append a uniquely named function to a file N times
and time each until `search --mode keyword` finds it. Usage:
    scripts/watch-latency.py BIN TREE [N]"""
import os, shutil, subprocess, sys, tempfile, time, uuid

binary, tree = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
work = tempfile.mkdtemp(prefix="mvs-watch-")
root = os.path.join(work, "tree")
shutil.copytree(tree, root, ignore=shutil.ignore_patterns(".git", "target", ".mcp-vector-search"))
watcher = subprocess.Popen([binary, "index", "--watch", root], stderr=subprocess.PIPE, text=True)
for line in watcher.stderr:
    if line.startswith("watching"):
        break
target = next(os.path.join(d, f) for d, _, fs in sorted(os.walk(root)) for f in sorted(fs) if f.endswith(".rs"))
latencies = []
for i in range(rounds):
    name = f"watch_probe_{i}_{uuid.uuid4().hex[:8]}"
    with open(target, "a") as f:
        f.write(f"\npub fn {name}() -> u32 {{ {i} }}\n")
    started = time.monotonic()
    while True:
        out = subprocess.run([binary, "search", name, "--mode", "keyword", "--limit", "1", "--json",
                              "--project-root", root], capture_output=True, text=True).stdout
        if name in out:
            latencies.append(time.monotonic() - started)
            break
        if time.monotonic() - started > 30:
            sys.exit(f"{name} never became searchable")
    time.sleep(0.3)
watcher.terminate()
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, round((len(latencies) - 1) * q))]
print(f"{rounds} edits of {os.path.relpath(target, root)}: edit-to-searchable p50 {pick(0.5)*1000:.0f} ms, "
      f"p95 {pick(0.95)*1000:.0f} ms, max {latencies[-1]*1000:.0f} ms (includes one `search` process per poll)")
shutil.rmtree(work)
