"""The semble-dev queries as the tuning scripts read them (calibrate-scores.py, rank-ablation.py)."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.join(HERE, "..", "..", "shared", "eval", "semble-dev")


def repositories(work):
    """Yields (repo, root, prefix, queries) per semble-dev repository: `root` is the indexed directory under
    `work` (as semblebench.py extracts it), `prefix` turns a hit's root-relative path into the labels'
    repository-relative one, `queries` are (query, category, set of target paths)."""
    repos = {r["name"]: r for r in json.load(open(os.path.join(EVAL, "data", "repos.json")))}
    for name in sorted(os.listdir(os.path.join(EVAL, "data", "annotations"))):
        repo = name[:-5]
        benchmark_root = (repos[repo].get("benchmark_root") or "").strip("/")
        root = os.path.join(work, "semble", repo, benchmark_root)
        prefix = benchmark_root + "/" if benchmark_root not in ("", ".") else ""
        queries = [(q["query"], q["category"],
                    {x if isinstance(x, str) else x["path"] for x in q["relevant"] + q.get("secondary", [])})
                   for q in json.load(open(os.path.join(EVAL, "data", "annotations", name)))]
        yield repo, root, prefix, queries
