"""Load test of a running server: N concurrent clients POST /api/ask on loopback for T seconds,
each question different (the seed questions, their typo variants and SQuAD questions, so no
cache helps), with the server's memory sampled when its pid is given.

Usage: python eval/load_test.py [--url http://127.0.0.1:7860] [--clients 32] [--seconds 60]
                                [--pid SERVER_PID]
Only loopback URLs are accepted. 503 answers (the server shedding load, with Retry-After) are
counted apart from errors.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

from qa.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent


def distinct_questions() -> list[str]:
    out = []
    for name in ("questions.jsonl", "typos.jsonl"):
        out += [json.loads(line)["question"] for line in (ROOT / "eval" / name).open(encoding="utf-8")]
    squad = ROOT.parent / "shared" / "bench" / "squad2-dev-3articles.json"
    if squad.exists():
        data = json.loads(squad.read_text(encoding="utf-8"))["data"]
        out += [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    return list(dict.fromkeys(out))


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7860")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--pid", type=int, default=None, help="server pid, to sample its RSS")
    args = ap.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load tests only target this machine's loopback address")
    questions = distinct_questions()
    latencies: list[float] = []
    errors: list[str] = []
    shed = [0]
    rss: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds
    counter = iter(range(10**9))

    def client() -> None:
        with httpx.Client(base_url=args.url, timeout=60) as c:
            while time.monotonic() < stop:
                with lock:
                    q = questions[next(counter) % len(questions)]
                t = time.perf_counter()
                try:
                    r = c.post("/api/ask", json={"question": q})
                    code = r.status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                dt = (time.perf_counter() - t) * 1000
                with lock:
                    if code == 200:
                        latencies.append(dt)
                    elif code == 503:
                        shed[0] += 1
                    else:
                        errors.append(str(code))

    def sampler() -> None:
        while time.monotonic() < stop:
            rss.append(rss_mb(args.pid))
            time.sleep(1.0)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    if args.pid:
        threads.append(threading.Thread(target=sampler))
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    report = {
        "clients": args.clients, "seconds": args.seconds, "distinct_questions": len(questions),
        "answered": len(latencies), "shed_503": shed[0], "errors": len(errors),
        "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "throughput_rps": round(len(latencies) / args.seconds, 1),
    }
    if rss:
        report.update({"rss_start_mb": round(rss[0]), "rss_end_mb": round(rss[-1]), "rss_max_mb": round(max(rss))})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
