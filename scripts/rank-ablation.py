#!/usr/bin/env python3
"""Ranking ablation on semble-dev: which code-aware signal carries how much.

Collects, for every semble-dev query, a 50-hit page with each hit's `why`
(fused score and the factors applied) from a binary whose indexes a
semble-dev run kept (`semblebench.py --keep-index`), then recomputes the rank
with one signal off at a time (path priors, identifier stems, file names,
module roots, definition names, file evidence, saturation, file vectors,
exact symbol + definition lane), keeps the top 10 and scores file-level
NDCG@10 as semble does. A simulation over the lanes a limit-50 search runs (250 deep, where a
limit-10 search's run 150), so "none off" reads a little above the binary's
own limit-10 number.

Usage: python3 scripts/rank-ablation.py BIN [--work $EVAL_WORK] [--pages pages.jsonl]
Constants below mirror crates/mvs-store/src/rank/priors.rs.
"""
import argparse
import collections
import json
import math
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import semble_dev

FILE_EVIDENCE_GAIN, FILE_EVIDENCE_COUNT, SATURATION = 0.8, 4, 0.7
# The factors that multiply a candidate's fused score before it is spread over files.
MULTIPLIERS = ("path_prior", "name_match", "file_name", "module_root", "name_spelled")
SIGNALS = ["path_prior", "name_match", "file_name", "module_root", "name_spelled", "file_evidence", "saturation",
           "file_vector", "exact_symbol"]


def collect(binary, work, out_path):
    jobs = [(repo, root, prefix, query, category, sorted(relevant))
            for repo, root, prefix, queries in semble_dev.repositories(work)
            for query, category, relevant in queries]

    def run(job):
        repo, root, prefix, query, category, relevant = job
        out = subprocess.run([binary, "search", query, "--limit", "50", "--json", "--project-root", root],
                             capture_output=True, text=True)
        hits = json.loads(out.stdout)["results"] if out.returncode == 0 else []
        return {"repo": repo, "category": category, "relevant": relevant,
                "hits": [{"file": prefix + h["file_path"], "why": h["why"],
                          "lanes": h.get("vector_rank") is not None or h.get("keyword_rank") is not None}
                         for h in hits]}

    with ThreadPoolExecutor(2) as pool, open(out_path, "w") as out:
        for record in pool.map(run, jobs):
            out.write(json.dumps(record) + "\n")


def ndcg_file(files, relevant, k=10):
    unique = list(dict.fromkeys(files))[:k]
    ranks = [unique.index(t) + 1 for t in relevant if t in unique]
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return sum(1 / math.log2(r + 1) for r in ranks) / ideal if ideal else 0.0


def rerank(hits, off):
    if off == "exact_symbol":  # the definition lane's own candidates go too
        hits = [h for h in hits if h["lanes"]]

    def exact(h):
        return off != "exact_symbol" and any(f["signal"] == "exact_symbol" for f in h["why"]["factors"])

    base = []
    for h in hits:
        score = h["why"]["fused"]
        for f in h["why"]["factors"]:
            if f["signal"] in MULTIPLIERS and f["signal"] != off:
                score *= f["factor"]
        base.append(score)
    per_file = collections.defaultdict(list)
    for i, h in enumerate(hits):
        per_file[h["file"]].append(i)
    adjusted = list(base)
    for indices in per_file.values():
        gain = 0.0 if off == "file_evidence" else FILE_EVIDENCE_GAIN
        evidence = 1 + gain * min(len(indices) - 1, FILE_EVIDENCE_COUNT) / FILE_EVIDENCE_COUNT
        indices.sort(key=lambda i: (not exact(hits[i]), -base[i]))  # definitions lead their file
        for k, i in enumerate(indices):
            adjusted[i] = base[i] * evidence * ((1.0 if off == "saturation" else SATURATION) ** k)
    if off != "file_vector":  # the binary's own factor, weighed over this 50-hit page
        for i, h in enumerate(hits):
            adjusted[i] *= next((f["factor"] for f in h["why"]["factors"] if f["signal"] == "file_vector"), 1.0)

    order = sorted(range(len(hits)), key=lambda i: (not exact(hits[i]), -adjusted[i]))
    return [hits[i] for i in order[:10]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--work", default=os.environ.get("EVAL_WORK", "/tmp/mvs-eval"))
    ap.add_argument("--pages", default="ablation-pages.jsonl", help="where the pages go (reused if present)")
    args = ap.parse_args()
    if not os.path.exists(args.pages):
        collect(args.binary, args.work, args.pages)
    records = [json.loads(line) for line in open(args.pages)]
    print("| signal off | file NDCG@10 | architecture | semantic | symbol |")
    print("|---|---|---|---|---|")
    baseline = None
    for off in ["none"] + SIGNALS:
        by_repo = collections.defaultdict(list)
        by_category = collections.defaultdict(lambda: collections.defaultdict(list))
        for r in records:
            score = ndcg_file([h["file"] for h in rerank(r["hits"], off)], r["relevant"])
            by_repo[r["repo"]].append(score)
            by_category[r["category"]][r["repo"]].append(score)
        overall = sum(sum(v) / len(v) for v in by_repo.values()) / len(by_repo)
        baseline = overall if baseline is None else baseline
        cats = {c: sum(sum(v) / len(v) for v in d.values()) / len(d) for c, d in by_category.items()}
        print(f"| {off} | {overall:.3f} ({overall - baseline:+.3f}) | {cats['architecture']:.3f} | "
              f"{cats['semantic']:.3f} | {cats['symbol']:.3f} |")


if __name__ == "__main__":
    main()
