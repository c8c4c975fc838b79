"""Typo category: F1 of the typo variants (eval/typos.jsonl) beside their clean questions, with
spelling correction on and off, for the default and the rule reader, and the ask latency.

    python eval/typo_bench.py [--json FILE]
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import evaluation as ev  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.config import ReaderConfig  # noqa: E402
from qa.retriever import Retriever  # noqa: E402


def main() -> None:
    typos = ev.load_questions(ROOT / "eval" / "typos.jsonl")
    clean_ids = {json.loads(l)["id"]: json.loads(l).get("clean_id") for l in (ROOT / "eval/typos.jsonl").open()}
    clean_all = {q.id: q for q in ev.load_questions(ROOT / "eval" / "questions.jsonl")}
    clean = [clean_all[clean_ids[q.id]] for q in typos if clean_ids.get(q.id) in clean_all]
    retriever = Retriever.from_folder(ROOT / "seeds")
    run = ev.RunConfig("hybrid-weighted")
    out = {}
    for reader in ("combined", "rules"):
        for spelling in (True, False):
            bot = Assistant(retriever, ReaderConfig(reader=reader, spelling=spelling))
            limit = bot.reader.default_threshold
            for name, qs in (("typos", typos), ("clean", clean)):
                if name == "clean" and not spelling:
                    continue
                s = ev.summarize(ev.evaluate(bot, qs, run), limit)
                key = f"{reader} spelling={'on' if spelling else 'off'} {name}"
                out[key] = {k: round(s[k], 3) for k in ("questions", "f1", "answerable_f1", "unanswerable_accuracy",
                                                        "latency_p50_ms", "latency_p95_ms")}
                print(key, out[key], flush=True)
    if "--json" in sys.argv:
        Path(sys.argv[sys.argv.index("--json") + 1]).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
