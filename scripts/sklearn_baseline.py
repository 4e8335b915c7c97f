#!/usr/bin/env python3
"""The plan's scikit-learn model, and TF-IDF, measured like `playalike eval`.

The plan: one-hot genres, platforms and themes plus min-max-normalised rating, release year and
popularity; cosine nearest neighbours (brute force). TF-IDF: every categorical field, cosine.

Two protocols:
  * "all": every game with at least one in-set similar game is a query, full lists
    (the data README's reference figures: 0.103 / 0.167 recall@10);
  * "cold-start": the held-out games of the exact split `playalike eval` uses
    (splitmix64(seed ^ splitmix64(id)), smallest 20 %), so the figures sit beside playalike's.

Also: single-query latency (p50) and the pickled, gzipped model size.
Usage: scripts/sklearn_baseline.py SNAPSHOT_DIR [--seed 42] [--holdout 0.2] [--k 10] [--json]
       scripts/sklearn_baseline.py SNAPSHOT_DIR --latency-only   (the plan model's single-query
       p50 and pickled+gzip size as JSON; for catalogues without ground truth, e.g. 333k)
Dependencies: scripts/requirements-bench.txt (numpy, scipy, scikit-learn).
"""
import argparse
import gzip
import json
import os
import pickle
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import MinMaxScaler

MASK = (1 << 64) - 1


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def load_games(d):
    for name in ("games.json.gz", "games.jsonl.gz", "games.json", "games.jsonl"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            op = gzip.open if p.endswith(".gz") else open
            with op(p, "rt") as f:
                if ".jsonl" in name:
                    return [json.loads(line) for line in f if line.strip()]
                return json.load(f)
    sys.exit(f"{d}: no games table")


def ids(v):
    if v is None:
        return []
    if not isinstance(v, list):
        v = [v]
    return [x["id"] if isinstance(x, dict) else x for x in v]


def onehot(games, fields):
    vocab, rows, cols = {}, [], []
    for i, g in enumerate(games):
        for f in fields:
            for t in ids(g.get(f)):
                rows.append(i)
                cols.append(vocab.setdefault((f, t), len(vocab)))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(games), max(1, len(vocab))))


def popularity(g):
    count = g.get("total_rating_count") or (g.get("rating_count", 0) + g.get("aggregated_rating_count", 0))
    return g.get("follows", 0) + g.get("hypes", 0) + count


def plan_matrix(games):
    cat = onehot(games, ["genres", "platforms", "themes"])
    rating = [g.get("total_rating", g.get("aggregated_rating", g.get("rating", 0.0))) for g in games]
    year = [time.gmtime(g["first_release_date"]).tm_year if "first_release_date" in g else 0 for g in games]
    dense = MinMaxScaler().fit_transform(np.array([rating, year, [popularity(g) for g in games]], dtype=float).T)
    return sp.hstack([cat, sp.csr_matrix(dense)]).tocsr()


CATEGORICAL = ["genres", "themes", "platforms", "game_modes", "player_perspectives", "keywords",
               "franchises", "franchise", "collections", "collection", "involved_companies", "game_engines"]


def tfidf_matrix(games):
    return TfidfTransformer().fit_transform(onehot(games, CATEGORICAL)).tocsr()


def measure(name, X, games, truth, queries, k):
    id_of = [g["id"] for g in games]
    nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(X)
    def topk(rows):
        _, idx = nn.kneighbors(X[rows])
        return [[id_of[j] for j in r if j != q][:k] for q, r in zip(rows, idx)]
    out = {}
    for proto, qs in queries.items():
        lists = topk(qs)
        rec = [len(set(l) & set(truth[id_of[q]])) / min(len(truth[id_of[q]]), k) for q, l in zip(qs, lists)]
        out[proto] = {"queries": len(qs), "recall": statistics.fmean(rec),
                      "hit": statistics.fmean(1.0 if r > 0 else 0.0 for r in rec)}
    all_lists = topk(list(range(len(games))))
    out["coverage"] = len({x for l in all_lists for x in l}) / len(games)
    lat = []
    for q in queries["all"][:200]:
        t = time.perf_counter()
        nn.kneighbors(X[q])
        lat.append((time.perf_counter() - t) * 1000)
    out["latency_p50_ms"] = statistics.median(lat)
    out["model_gzip_bytes"] = len(gzip.compress(pickle.dumps((nn, X))))
    return name, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--latency-only", action="store_true")
    a = ap.parse_args()
    games = sorted({g["id"]: g for g in load_games(a.snapshot)}.values(), key=lambda g: g["id"])
    if a.latency_only:
        X = plan_matrix(games)
        nn = NearestNeighbors(n_neighbors=a.k + 1, metric="cosine", algorithm="brute").fit(X)
        step = max(1, len(games) // 200)
        lat = []
        for q in range(0, len(games), step):
            t = time.perf_counter()
            nn.kneighbors(X[q])
            lat.append((time.perf_counter() - t) * 1000)
        print(json.dumps({"games": len(games), "queries": len(lat), "latency_p50_ms": statistics.median(lat),
                          "model_gzip_bytes": len(gzip.compress(pickle.dumps((nn, X))))}))
        return
    present = {g["id"] for g in games}
    truth = {g["id"]: [s for s in dict.fromkeys(ids(g.get("similar_games"))) if s in present and s != g["id"]]
             for g in games}
    with_truth = [i for i, g in enumerate(games) if truth[g["id"]]]
    ranked = sorted(with_truth, key=lambda i: (splitmix64(a.seed ^ splitmix64(games[i]["id"])), games[i]["id"]))
    held = sorted(ranked[:round(len(ranked) * a.holdout)])
    queries = {"all": with_truth, "cold-start": held}
    res = dict([measure("plan-onehot-cosine", plan_matrix(games), games, truth, queries, a.k),
                measure("tfidf-cosine", tfidf_matrix(games), games, truth, queries, a.k)])
    if a.json:
        print(json.dumps(res))
        return
    print(f"{'approach':<20} {'protocol':<11} {'queries':>7} {'recall@'+str(a.k):>9} {'hit@'+str(a.k):>7}")
    for name, r in res.items():
        for proto in ("all", "cold-start"):
            p = r[proto]
            print(f"{name:<20} {proto:<11} {p['queries']:>7} {p['recall']:>9.4f} {p['hit']:>7.4f}")
        print(f"{name:<20} coverage@{a.k} {r['coverage']:.4f}  latency p50 {r['latency_p50_ms']:.2f} ms  "
              f"pickled+gzip {r['model_gzip_bytes'] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
