"""Time to first answer of a cold index, for any build of the binary.

Usage: scripts/first-answer.py BIN TREE [--stop]

Removes TREE/.mcp-vector-search, runs `BIN index --json TREE` with the vector
cache off and LanceDB's log on, and prints when the first rows were committed
(partial keyword answers) and when the full-text index was built over every
chunk (keyword search complete: the end of the keywords phase). Builds before
`keywords_ready_ms` existed are timed the same way. --stop kills the run
there; otherwise it prints the run's own report (full time, chunks/s, tokens,
sampled peak RSS) and the kernel's peak RSS.
"""
import json
import os
import shutil
import subprocess
import sys
import time



def main():
    binary, tree = sys.argv[1], sys.argv[2]
    stop = "--stop" in sys.argv
    shutil.rmtree(os.path.join(tree, ".mcp-vector-search"), ignore_errors=True)
    env = dict(os.environ, MCP_VECTOR_SEARCH_CACHE_MB="0", MCP_VECTOR_SEARCH_LOG="info,ort=warn")
    started = time.time()
    run = subprocess.Popen(
        ["/usr/bin/time", "-v", binary, "index", "--json", tree],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    first_commit = None
    for line in run.stderr:
        now = time.time() - started
        if first_commit is None and 'operation="Update"' in line and "chunks.lance" in line:
            first_commit = now
        # LanceDB's full-text index builder logs this when it is done.
        if "wait workers indexing elapsed" in line:
            print(f"first commit {first_commit or now:.1f} s, keyword search complete {now:.1f} s", flush=True)
            if stop:
                run.kill()
                break
        if "Maximum resident" in line:
            print(line.strip())
    out = "" if stop else run.stdout.read()
    run.wait()
    if out.strip():
        report = json.loads(out)
        seconds = report["elapsed_ms"] / 1e3
        print(
            f"full {seconds:.1f} s, {report['chunks_written']} chunks, "
            f"{report['chunks_written'] / seconds:.1f} chunks/s, "
            f"keywords_ready {report.get('keywords_ready_ms', 0) / 1e3:.1f} s, "
            f"tokens {report.get('tokens_embedded', 0)}, embed busy {report['embed_busy_ms'] / 1e3:.1f} s, "
            f"peak RSS sampled {report['peak_rss_bytes'] >> 20} MB"
        )
    print(f"wall {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
