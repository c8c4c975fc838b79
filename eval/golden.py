"""The golden answers: what the answering half says to every benchmark question.

Recorded before a refactor and checked after it: a move that is meant to change nothing must
reproduce every answer (text, document, offsets, score). When a change is meant, record again
and say in the commit which answers changed and why.

    python eval/golden.py --record      # write tests/data/golden_answers.json
    python eval/golden.py               # compare, print the differences
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOLDEN = ROOT / "tests" / "data" / "golden_answers.json"
SQUAD = ROOT.parent / "shared" / "bench" / "squad2-dev-3articles.json"
TOP = 3  # answers kept per question
DIGITS = 5  # scores are compared to this many decimals


def answers(retriever, questions, reader: str) -> dict[str, list]:
    """The top grouped answers of ``reader`` for each question, abstention off."""
    from qa.assistant import Assistant
    from qa.config import ReaderConfig

    bot = Assistant(retriever, ReaderConfig(reader=reader))
    out = {}
    for q in questions:
        reply = bot.ask(q.question, list(q.history), threshold=float("-inf"))
        out[q.id] = [[a.text, a.doc_id, a.span.start, a.span.end, round(a.score, DIGITS)]
                     for a in (reply.answer, *reply.alternatives)[:TOP] if a is not None]
    return out


def collect(seed_retriever=None, squad_retriever=None) -> dict[str, dict]:
    """The rule reader on both benchmarks (it is deterministic everywhere)."""
    from qa import evaluation as ev
    from qa.retriever import Retriever

    seed_retriever = seed_retriever or Retriever.from_folder(ROOT / "seeds")
    out = {"seeds/rules": answers(seed_retriever, ev.load_questions(ROOT / "eval" / "questions.jsonl"), "rules")}
    if SQUAD.exists():
        docs, questions = ev.load_squad(SQUAD)
        squad_retriever = squad_retriever or Retriever.from_documents(docs)
        out["squad/rules"] = answers(squad_retriever, questions, "rules")
    return out


def differences(golden: dict, now: dict) -> list[str]:
    """One line per question whose answers differ (scores within 10^-DIGITS count as equal)."""
    out = []
    for bench, expected in golden.items():
        got = now.get(bench)
        if got is None:
            continue  # that benchmark's data is not here
        for qid, want in expected.items():
            have = got.get(qid)
            same = have is not None and len(have) == len(want) and all(
                a[:4] == b[:4] and abs(a[4] - b[4]) <= 2 * 10**-DIGITS for a, b in zip(have, want))
            if not same:
                out.append(f"{bench} {qid}: expected {want[:1]}, got {(have or [])[:1]}")
    return out


def main() -> int:
    now = collect()
    if "--record" in sys.argv:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(now, ensure_ascii=False, indent=0, sort_keys=True) + "\n")
        print(f"recorded {sum(len(v) for v in now.values())} questions in {GOLDEN}")
        return 0
    diffs = differences(json.loads(GOLDEN.read_text()), now)
    print("\n".join(diffs) or "golden answers reproduced")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
