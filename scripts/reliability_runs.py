#!/usr/bin/env python3
"""Part 2 of the reliability campaign (scripts/reliability.sh): `playalike run`, repeated, under
injected IGDB faults (the project's sandbox), GCS faults (scripts/fault-proxy.mjs in front of
fake-gcs-server) and crashes at each publish step (PLAYALIKE_FAILPOINT).

After every run, and every 50 ms while it runs, the bucket is read directly from
fake-gcs-server (not through the proxy): latest.json, versions.json and every models/vN/ object;
each blob's size and SHA-256 are checked against its metadata.json and the pointer, and each
distinct blob is decoded by the native engine. Counts: runs, outcomes by exit code, models lost
(a version complete before a run is gone or changed after it) and pointer violations (latest.json
naming a version that is missing, incomplete, damaged or not decodable). Writes one JSON file.
Standard library only.
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BUCKET = "rel"

# IGDB faults: (name, sandbox flags, extra environment of the run, expect the fetch to fail)
IGDB_FAULTS = [
    ("none", [], {}),
    ("500 ×30 %", ["--fault-500", "0.3"], {}),
    ("429 ×30 %", ["--fault-429", "0.3"], {}),
    ("dropped connections ×20 %", ["--fault-drop", "0.2"], {}),
    ("truncated answers ×20 %", ["--fault-truncate", "0.2"], {}),
    ("malformed JSON ×20 %", ["--fault-malformed", "0.2"], {}),
    ("slow answers ×30 % (1.5 s, timeout 1 s)", ["--fault-slow", "0.3", "--slow-ms", "1500"], {"PLAYALIKE_FETCH_TIMEOUT": "1"}),
    ("token expires every 2 requests", ["--token-expire-after", "2"], {}),
    ("outage: 500 ×100 %", ["--fault-500", "1"], {}),
]
GCS_RATES = [0.0, 0.0, 0.05, 0.1, 0.25, 1.0]
FAILPOINTS = [None, None, None, None, None, "after-blob", "after-metadata", "after-versions", "after-latest"]
CLEAR_EXITS = {0, 10, 11, 12, 13, 14}


def log(msg):
    print(f"reliability-runs: {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
            if r.headers.get("Content-Encoding", "").lower() == "gzip":
                data = gzip.decompress(data)
            return r.status, data
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def first_json_line(proc, what, timeout=30):
    deadline = time.time() + timeout
    line = b""
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}) before it was ready")
        line = proc.stdout.readline()
        if line.strip():
            return json.loads(line)
    raise RuntimeError(f"{what} did not start in {timeout} s")


class Bucket:
    """Reads the bucket straight from fake-gcs-server and judges what it holds."""

    def __init__(self, endpoint, query_bin):
        self.endpoint = endpoint
        self.query_bin = query_bin
        self.decodes = {}  # sha256 → bool
        self.lock = threading.Lock()

    def get(self, name):
        url = f"{self.endpoint}/storage/v1/b/{BUCKET}/o/{urllib.parse.quote(name, safe='')}?alt=media"
        status, data = http("GET", url)
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"GET {name}: HTTP {status}")
        return data

    def names(self):
        out, token = [], None
        while True:
            q = f"?pageToken={urllib.parse.quote(token)}" if token else ""
            status, data = http("GET", f"{self.endpoint}/storage/v1/b/{BUCKET}/o{q}")
            if status != 200:
                raise RuntimeError(f"listing: HTTP {status}")
            v = json.loads(data)
            out += [o["name"] for o in v.get("items", [])]
            token = v.get("nextPageToken")
            if not token:
                return sorted(out)

    def decodes_ok(self, blob, sha):
        with self.lock:
            if sha in self.decodes:
                return self.decodes[sha]
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(blob)
            f.flush()
            r = subprocess.run([self.query_bin, f.name], input=b'{"op":"sample","n":3}\n', capture_output=True, timeout=60)
            ok = r.returncode == 0 and r.stdout.strip().startswith(b"[") and b'"id"' in r.stdout
        with self.lock:
            self.decodes[sha] = ok
        return ok

    def version(self, v):
        """(complete, sha256, why-not) of models/v{v}/."""
        blob = self.get(f"models/v{v}/model.bin")
        meta_raw = self.get(f"models/v{v}/metadata.json")
        if blob is None:
            return False, None, "no model.bin"
        sha = hashlib.sha256(blob).hexdigest()
        if meta_raw is None:
            return False, sha, "no metadata.json"
        meta = json.loads(meta_raw)
        if meta.get("checksum") != sha or meta.get("size") != len(blob):
            return False, sha, "blob does not match metadata.json"
        if not self.decodes_ok(blob, sha):
            return False, sha, "blob does not decode"
        return True, sha, None

    def pointer(self):
        """(latest or None, problem or None): is latest.json naming a complete, matching version?"""
        raw = self.get("latest.json")
        if raw is None:
            return None, None
        try:
            latest = json.loads(raw)
            v = int(latest["version"])
        except (ValueError, KeyError, TypeError) as e:
            return None, f"latest.json unreadable: {e}"
        if latest.get("url") != f"models/v{v}/model.bin":
            return latest, f"latest.json url {latest.get('url')} is not models/v{v}/model.bin"
        blob = self.get(f"models/v{v}/model.bin")
        if blob is None:
            return latest, f"latest.json names v{v}, whose blob is missing"
        sha = hashlib.sha256(blob).hexdigest()
        if latest.get("checksum") != sha or latest.get("size") != len(blob):
            return latest, f"latest.json's checksum/size do not match v{v}'s blob"
        complete, _, why = self.version(v)
        if not complete:
            return latest, f"latest.json names v{v}, which is incomplete: {why}"
        return latest, None

    def state(self):
        names = self.names()
        versions = sorted({int(n.split("/")[1][1:]) for n in names if n.startswith("models/v") and n.count("/") == 2})
        judged = {v: self.version(v) for v in versions}
        latest, problem = self.pointer()
        history = []
        raw = self.get("versions.json")
        if raw is not None:
            try:
                doc = json.loads(raw)
                history = [int(e["version"]) for e in doc.get("versions", [])]
            except (ValueError, KeyError, TypeError):
                history = ["unreadable"]
        return {"names": names, "versions": judged, "latest": latest, "pointer_problem": problem, "history": history}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--query", required=True, help="the engine's query example (decodes blobs)")
    ap.add_argument("--gcs", required=True, help="fake-gcs-server binary")
    ap.add_argument("--data", required=True, help="snapshot the sandbox serves")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="playalike-reliability-")
    procs = []

    def stop(p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()

    try:
        port = free_port()
        gcs = subprocess.Popen(
            [a.gcs, "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", str(port),
             "-public-host", f"127.0.0.1:{port}", "-external-url", f"http://127.0.0.1:{port}", "-log-level", "error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(gcs)
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if http("GET", f"{endpoint}/storage/v1/b")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        status, body = http("POST", f"{endpoint}/storage/v1/b", json.dumps({"name": BUCKET}).encode())
        if status >= 300:
            raise RuntimeError(f"creating the bucket: HTTP {status} {body[:200]!r}")
        proxy = subprocess.Popen(["node", os.path.join(root, "scripts", "fault-proxy.mjs"), "--target", endpoint],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs.append(proxy)
        proxy_url = first_json_line(proxy, "fault-proxy")["url"]
        bucket = Bucket(endpoint, a.query)

        snapshot = os.path.join(work, "snapshot")
        known = {}  # version → sha256 of every version seen complete
        totals = {"runs": 0, "published": 0, "unchanged": 0, "failed_clear": 0, "crashed_on_purpose": 0,
                  "unclear": 0, "models_lost": 0, "pointer_broken_after": 0, "pointer_broken_during": 0,
                  "pointer_checks_during": 0, "history_naming_incomplete": 0, "orphans_left": 0}
        by_exit, by_igdb, by_gcs, by_fp, problems, runs = {}, {}, {}, {}, [], []
        for i in range(a.runs):
            rng = random.Random(a.seed * 100_003 + i)
            igdb_name, igdb_flags, igdb_env = IGDB_FAULTS[i % len(IGDB_FAULTS)] if i < len(IGDB_FAULTS) else rng.choice(IGDB_FAULTS)
            gcs_rate = rng.choice(GCS_RATES)
            failpoint = rng.choice(FAILPOINTS)
            before = bucket.state()
            sbx = subprocess.Popen([a.bin, "sandbox", "--data", a.data, "--port", "0", "--seed", str(i + 1), *igdb_flags],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            procs.append(sbx)
            info = first_json_line(sbx, "sandbox")
            http("POST", f"{proxy_url}/_proxy/config", json.dumps({"rate": gcs_rate, "seed": i + 1}).encode())
            env = dict(os.environ)
            env.update({
                "IGDB_CLIENT_ID": "reliability", "IGDB_CLIENT_SECRET": "reliability",
                "PLAYALIKE_IGDB_URL": info["url"], "PLAYALIKE_AUTH_URL": info["authUrl"],
                "PLAYALIKE_TOKEN_CACHE": os.path.join(work, f"token-{i}.json"),
                "PLAYALIKE_FETCH_BACKOFF_MS": "50", "PLAYALIKE_FETCH_RETRIES": "6",
                # A new source each run: the model differs from the live one, so a run publishes.
                "PLAYALIKE_SOURCE": f"reliability-run-{i}",
                "PLAYALIKE_LOG": "warn",
            })
            env.update(igdb_env)
            env.pop("PLAYALIKE_FAILPOINT", None)
            if failpoint:
                env["PLAYALIKE_FAILPOINT"] = failpoint
            run_work = os.path.join(work, f"work-{i}")
            # Watch the pointer while the run goes on: it must never name a broken version.
            stop_watch = threading.Event()
            during = {"checks": 0, "broken": []}

            def watch():
                while not stop_watch.is_set():
                    try:
                        _, problem = bucket.pointer()
                        during["checks"] += 1
                        if problem:
                            during["broken"].append(problem)
                    except (OSError, RuntimeError):
                        pass  # the emulator is busy; the next look counts
                    stop_watch.wait(0.05)

            watcher = threading.Thread(target=watch)
            watcher.start()
            t0 = time.time()
            try:
                r = subprocess.run([a.bin, "run", "--bucket", f"gs://{BUCKET}", "--endpoint", proxy_url,
                                    "--snapshot", snapshot, "--work", run_work],
                                   env=env, capture_output=True, timeout=300)
                code, out, err = r.returncode, r.stdout.decode("utf8", "replace"), r.stderr.decode("utf8", "replace")
            except subprocess.TimeoutExpired:
                code, out, err = "timeout", "", ""
            secs = time.time() - t0
            stop_watch.set()
            watcher.join()
            stop(sbx)
            procs.remove(sbx)
            shutil.rmtree(run_work, ignore_errors=True)
            _, proxy_stats = http("GET", f"{proxy_url}/_proxy/stats")
            proxy_stats = json.loads(proxy_stats)
            after = bucket.state()

            # Judge the run.
            summary = None
            for line in reversed(out.strip().splitlines()):
                try:
                    summary = json.loads(line)
                    break
                except ValueError:
                    continue
            status = summary.get("status") if summary else None
            if code == 0 and status in ("published", "unchanged"):
                outcome = status
            elif code in CLEAR_EXITS and code != 0 and status == "failed" and summary.get("error"):
                outcome = "failed_clear"
            elif code == 86 and failpoint and f"failpoint {failpoint}" in err:
                outcome = "crashed_on_purpose"
            else:
                outcome = "unclear"
                problems.append(f"run {i}: exit {code}, status {status}: {err.strip()[-400:]}")
            totals[outcome] += 1
            totals["runs"] += 1
            key = str(code)
            by_exit[key] = by_exit.get(key, 0) + 1
            live_before = before["latest"]["version"] if before["latest"] else None
            live_after = after["latest"]["version"] if after["latest"] else None
            failed_stage = (summary or {}).get("failed_stage") or (summary or {}).get("failedStage")
            fetch_ok = summary is not None and summary.get("fetch") is not None and failed_stage != "fetch"
            for table, k in ((by_igdb, igdb_name), (by_gcs, f"{int(gcs_rate * 100)} %"), (by_fp, failpoint or "none")):
                table.setdefault(k, {"runs": 0, "published": 0, "fetch_ok": 0, "moved": 0})
                table[k]["runs"] += 1
                table[k]["published"] += int(outcome == "published")
                table[k]["fetch_ok"] += int(fetch_ok or code == 86)
                table[k]["moved"] += int(live_after != live_before)

            lost = [v for v, sha in known.items() if not (after["versions"].get(v, (False,))[0] and after["versions"][v][1] == sha)]
            if lost:
                problems.append(f"run {i}: versions lost or changed: {lost}")
            totals["models_lost"] += len(lost)
            if after["pointer_problem"] or (live_before is not None and after["latest"] is None):
                totals["pointer_broken_after"] += 1
                problems.append(f"run {i}: after the run: {after['pointer_problem'] or 'latest.json disappeared'}")
            totals["pointer_checks_during"] += during["checks"]
            if during["broken"]:
                totals["pointer_broken_during"] += len(during["broken"])
                problems.append(f"run {i}: during the run: {during['broken'][0]}")
            bad_history = [v for v in after["history"] if not (isinstance(v, int) and after["versions"].get(v, (False,))[0])]
            if bad_history:
                totals["history_naming_incomplete"] += 1
                problems.append(f"run {i}: versions.json names incomplete versions {bad_history}")
            for v, (complete, sha, _) in after["versions"].items():
                if complete:
                    known[v] = sha
            totals["orphans_left"] = sum(1 for c in after["versions"].values() if not c[0])
            runs.append({"run": i, "igdb": igdb_name, "gcs_rate": gcs_rate, "failpoint": failpoint, "exit": code,
                         "status": status, "failed_stage": failed_stage, "outcome": outcome, "seconds": round(secs, 2), "live_before": live_before,
                         "live_after": live_after, "gcs_faults": proxy_stats.get("faults", {}),
                         "error": (summary or {}).get("error", "")[:300]})
            log(f"run {i + 1}/{a.runs}: igdb={igdb_name!r} gcs={gcs_rate} failpoint={failpoint} → exit {code} "
                f"({outcome}), live v{live_before} → v{live_after}, {secs:.1f} s")

        final = bucket.state()
        # The checker's own test: it must notice a pointer to a missing version and a lost model.
        self_test = {}
        status, _ = http("POST", f"{endpoint}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name=latest.json",
                         json.dumps({"version": 9999, "url": "models/v9999/model.bin", "checksum": "0" * 64, "size": 1}).encode())
        self_test["pointer to a missing version detected"] = status < 300 and bucket.pointer()[1] is not None
        victim = max(known) if known else None
        if victim is not None:
            name = urllib.parse.quote(f"models/v{victim}/model.bin", safe="")
            status, _ = http("DELETE", f"{endpoint}/storage/v1/b/{BUCKET}/o/{name}")
            self_test["deleted model detected as lost"] = status < 300 and not bucket.version(victim)[0]
        if not all(self_test.values()):
            problems.append(f"the checker's self-test failed: {self_test}")
        result = {"self_test": self_test,"totals": totals, "by_exit": by_exit, "by_igdb": by_igdb, "by_gcs": by_gcs, "by_failpoint": by_fp,
                  "complete_versions_at_end": sum(1 for c in final["versions"].values() if c[0]),
                  "live_at_end": final["latest"]["version"] if final["latest"] else None,
                  "problems": problems, "runs": runs, "seed": a.seed}
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
        bad = totals["models_lost"] + totals["pointer_broken_after"] + totals["pointer_broken_during"] \
            + totals["unclear"] + totals["history_naming_incomplete"] + int(not all(self_test.values()))
        log(f"{totals['runs']} runs: {totals['published']} published, {totals['failed_clear']} failed clearly, "
            f"{totals['crashed_on_purpose']} crashed on purpose, {totals['unclear']} unclear; models lost "
            f"{totals['models_lost']}, pointer broken {totals['pointer_broken_after']} after / "
            f"{totals['pointer_broken_during']} during ({totals['pointer_checks_during']} checks)")
        for p in problems:
            log(f"PROBLEM {p}")
        return 1 if bad else 0
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
