#!/usr/bin/env python3
"""Would a file-level vector help ranking? Replays semble-dev pages with one.

For every semble-dev query this takes the binary's 50-hit page (with each
hit's `why`), embeds the query with the same int8 graph, reads every file's
chunk vectors from the kept index and re-sorts the page by
`rank_score x factor`, where the factor compares the query with the centroid
of the hit's file (definitions of the queried symbol stay in front). Factor
1 reproduces the page. Prints file-level NDCG@10 overall and per category
for each factor form and strength (docs/benchmarks.md, "Ranking: a
file-level vector").

Usage: file-centroid-replay.py BINARY EVAL_WORK
  BINARY     a release build of mcp-vector-search
  EVAL_WORK  a semblebench work directory whose indexes were kept
             (`semblebench.py ... --keep-index`): EVAL_WORK/semble/<repo>/...
Needs numpy, onnxruntime, tokenizers and lancedb; the model from `setup`.
"""

import collections
import json
import os
import subprocess
import sys

import lancedb
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "eval", "semble-dev"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "eval"))
import semblebench as sb  # noqa: E402

binary, work = sys.argv[1], sys.argv[2]
model_dir = os.path.expanduser("~/.cache/mcp-vector-search/models/all-minilm-l6-v2")
tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
tokenizer.no_padding()
tokenizer.enable_truncation(128)
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(f"{model_dir}/model.int8.onnx", options, providers=["CPUExecutionProvider"])


def embed(text):
    ids = np.array([tokenizer.encode(text).ids], np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, {i.name: feed[i.name] for i in session.get_inputs()})[0]
    pooled = hidden.mean(1)[0]
    return pooled / np.linalg.norm(pooled)


class Hit:
    def __init__(self, path):
        self.path = path


specs = sb.load_specs()
tasks = sb.load_tasks(specs)
repos = []
for repo in sorted({t.repo for t in tasks}):
    root = sb.root_of(specs[repo], os.path.join(work, "semble"))
    rows = lancedb.connect(f"{root}/.mcp-vector-search/lance").open_table("chunks").to_arrow()
    vectors = collections.defaultdict(list)
    for path, vector in zip(rows.column("file_path").to_pylist(), rows.column("vector").to_pylist()):
        if vector is not None:
            vectors[path].append(np.array(vector, np.float32))
    centroids = {path: np.mean(vs, 0) for path, vs in vectors.items()}
    queries = []
    for task in (t for t in tasks if t.repo == repo):
        out = subprocess.run([binary, "search", task.query, "--limit", "50", "--json", "--project-root", root],
                             capture_output=True, text=True, check=True).stdout
        hits = json.loads(out)["results"]
        q = embed(task.query)
        cosines = {}
        for normalised in (True, False):
            cosines[normalised] = {
                path: float(np.dot(q, c / np.linalg.norm(c) if normalised else c)) for path, c in centroids.items()
            }
        queries.append((task, hits, cosines))
    repos.append((root, queries))
    print(f"{repo}: {len(queries)} queries, {len(centroids)} files", file=sys.stderr, flush=True)


def exact_symbol(hit):
    return any(f.get("signal") == "exact_symbol" for f in hit["why"].get("factors", []))


def file_factors(form, strength, cosines, hits):
    """The factor of each file on the page (files without vectors: none)."""
    on_page = [cosines[h["file_path"]] for h in hits if h["file_path"] in cosines]
    if form == "gap":
        best = max(on_page, default=0.0)
        return {path: float(np.exp(strength * (cosine - best))) for path, cosine in cosines.items()}
    if form == "z":
        mean, spread = np.mean(on_page), np.std(on_page) + 1e-6
        return {path: float(np.exp(strength * (cosine - mean) / spread)) for path, cosine in cosines.items()}
    rank = {}
    for i, cosine in enumerate(sorted(cosines.values(), reverse=True)):
        rank.setdefault(cosine, i)
    return {path: 1 + strength / (1 + rank[cosine]) for path, cosine in cosines.items()}


def score(form, strength, normalised):
    per_repo, per_category = [], collections.defaultdict(list)
    for root, queries in repos:
        values = []
        for task, hits, cosines in queries:
            factors = file_factors(form, strength, cosines[normalised], hits)
            front = [h for h in hits if exact_symbol(h)]
            rest = sorted((h for h in hits if not exact_symbol(h)),
                          key=lambda h: -h["why"]["rank_score"] * factors.get(h["file_path"], 1.0))
            ndcg, _, _ = sb.score_file_level([Hit(h["file_path"]) for h in (front + rest)[:10]], task, root)
            values.append(ndcg)
            per_category[task.category].append(ndcg)
        per_repo.append(np.mean(values))
    categories = " ".join(f"{c} {np.mean(v):.3f}" for c, v in sorted(per_category.items()))
    return f"{np.mean(per_repo):.4f}  {categories}"


print("none", score("gap", 0.0, True))
for normalised in (True, False):
    for form, strengths in (("gap", (1, 2, 4)), ("z", (0.05, 0.1, 0.2)), ("rank", (0.2, 0.5, 1.0))):
        for strength in strengths:
            name = "normalised" if normalised else "plain mean"
            print(f"{form} {strength} {name}:", score(form, strength, normalised))
