#!/usr/bin/env python3
"""Refits the calibrated search score (crates/mvs-store/src/rank/calibration.rs).

Runs every semble-dev query (plus a few nonsense queries per repository) in
each search mode against indexes kept by a semble-dev run, labels every hit
of the first page by whether its file is a target, and fits a logistic model
of the relevance on the hit's absolute evidence: the share of query words
found in its code/name/path and its cosine similarity. Prints the
coefficients and a reliability table (predicted bucket vs observed rate).

Usage (indexes kept by `semblebench.py ... --keep-index`):
    python3 scripts/calibrate-scores.py BIN [--work $EVAL_WORK] [--hits hits.jsonl]
Needs numpy.
"""
import argparse
import json
import os
import random
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import semble_dev

NONSENSE_WORDS = ("xyzzy quantum banana smoothie purple elephant violin glacier trombone marmalade nebula pancake "
                  "origami walrus saxophone tulip volcano kazoo meringue penguin").split()
# The same words and matching as crates/mvs-store/src/rank/priors.rs.
STOPWORDS = set(("about after also does done each from have into make more only other over same some such than that "
                 "them then there these they this what when where which while will with work works would your").split())


def parts(text):
    out = []
    for token in re.split(r"[^A-Za-z0-9]+", text):
        out += [p.lower() for p in re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z0-9]+", token)]
    return out


def coverage(query, hit):
    stems = sorted({w for w in parts(query) if len(w) >= 4 and w not in STOPWORDS})
    if not stems:
        return 0.0
    hay = {p for p in parts(f"{hit['content'] or ''} {hit['qualified_name'] or ''} {hit['file_path']}") if len(p) >= 4}
    return sum(any(p.startswith(w) or w.startswith(p) for p in hay) for w in stems) / len(stems)


def collect(binary, work, out_path):
    rng = random.Random(7)
    jobs = []
    for repo, root, prefix, queries in semble_dev.repositories(work):
        queries += [(" ".join(rng.sample(NONSENSE_WORDS, 4)), "nonsense", set()) for _ in range(4)]
        for query, category, relevant in queries:
            for mode in ("hybrid", "vector", "keyword"):
                jobs.append((repo, root, prefix, query, category, relevant, mode))

    def run(job):
        repo, root, prefix, query, category, relevant, mode = job
        out = subprocess.run([binary, "search", query, "--limit", "10", "--json", "--mode", mode,
                              "--project-root", root], capture_output=True, text=True)
        hits = json.loads(out.stdout)["results"] if out.returncode == 0 else []
        return {"repo": repo, "query": query, "category": category, "mode": mode,
                "hits": [{"rel": prefix + h["file_path"] in relevant, "coverage": coverage(query, h),
                          "cosine": h.get("vector_score")} for h in hits]}

    with ThreadPoolExecutor(2) as pool, open(out_path, "w") as out:
        for record in pool.map(run, jobs):
            out.write(json.dumps(record) + "\n")


def fit(x, y, l2=1e-3, iters=6000, lr=0.5):
    x1 = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x1.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-x1 @ w))
        w -= lr * (x1.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0])
    return w, 1 / (1 + np.exp(-x1 @ w))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--work", default=os.environ.get("EVAL_WORK", "/tmp/mvs-eval"))
    ap.add_argument("--hits", default="calibration-hits.jsonl", help="where the labelled hits go (reused if present)")
    args = ap.parse_args()
    if not os.path.exists(args.hits):
        collect(args.binary, args.work, args.hits)
    records = [json.loads(line) for line in open(args.hits)]
    for label, modes, names in [("with vectors (hybrid, vector)", ("hybrid", "vector"), ["coverage", "cosine", "no_cosine"]),
                                ("keywords only", ("keyword",), ["coverage"])]:
        x, y = [], []
        for r in records:
            if r["mode"] not in modes:
                continue
            for h in r["hits"]:
                features = [h["coverage"]]
                if "cosine" in names:
                    features += [h["cosine"] or 0.0, 1.0 if h["cosine"] is None else 0.0]
                x.append(features)
                y.append(float(h["rel"]))
        x, y = np.array(x), np.array(y)
        w, p = fit(x, y)
        print(f"{label}: " + ", ".join(f"{n} {v:.2f}" for n, v in zip(names + ["bias"], w)))
        for lo in np.arange(0, 1, 0.2):
            m = (p >= lo) & (p < lo + 0.2)
            if m.sum():
                print(f"  predicted [{lo:.1f}, {lo + 0.2:.1f}): {m.sum():5d} hits, observed {y[m].mean():.2f}")


if __name__ == "__main__":
    main()
