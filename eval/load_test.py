"""Load test of a running server: N concurrent clients POST /api/ask on loopback for T seconds.

Usage: python eval/load_test.py [--url http://127.0.0.1:7860] [--clients 8] [--seconds 30]
Only loopback URLs are accepted.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from urllib.parse import urlparse

import httpx

from qa.metrics import percentile

QUESTIONS = [
    "Who founded 01.AI?", "When did the interim regulation take effect?",
    "What is ThreatBook's LLM called?", "How many users has Ernie Bot garnered?",
    "Which company is known for antivirus software?", "Who is the chief executive of OpenAI?",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7860")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    host = urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load tests only target this machine's loopback address")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=args.url, timeout=30) as c:
            n = i
            while time.monotonic() < stop:
                q = QUESTIONS[n % len(QUESTIONS)] + (" " * (n % 3))
                n += 1
                t = time.perf_counter()
                try:
                    r = c.post("/api/ask", json={"question": q})
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, exc
                dt = (time.perf_counter() - t) * 1000
                with lock:
                    latencies.append(dt)
                    if not ok:
                        errors.append(str(getattr(r, "status_code", r)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(json.dumps({
        "clients": args.clients, "seconds": args.seconds, "requests": len(latencies),
        "errors": len(errors), "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "throughput_rps": round(len(latencies) / args.seconds, 1),
    }))


if __name__ == "__main__":
    main()
