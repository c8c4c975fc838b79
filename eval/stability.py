"""Answer stability: do unrelated documents change the answers to questions about the seeds?

Builds the seed corpus alone and the seed corpus plus unrelated filler documents (SQuAD
paragraphs from ../shared, none about the seeds' topic), asks every seed question of both with
the default reader, and reports how many answers changed and the F1 of each.

    python eval/stability.py [--filler N] [--filler-file SQUAD_JSON] [--reader combined|rules|trained]
                             [--json FILE]

The default filler is the SQuAD sample in ../shared/bench (126 paragraphs, 72 KB); for more,
name another SQuAD-format file (../shared/train/squad2-train-mix.json).
"""
from __future__ import annotations

import argparse
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
from qa.documents import load_folder  # noqa: E402
from qa.squad import read_squad  # noqa: E402
from qa.types import Document  # noqa: E402
from qa.metrics import answer_scores  # noqa: E402
from qa.retriever import Retriever  # noqa: E402

FILLER = ROOT.parent / "shared" / "bench" / "squad2-dev-3articles.json"


def answers(retriever, questions, reader: str) -> dict[str, tuple[str | None, float]]:
    bot = Assistant(retriever, ReaderConfig(reader=reader))
    out = {}
    for q in questions:
        r = bot.ask(q.question, list(q.history))
        out[q.id] = (r.answer.text if r.answer else None, r.answer.score if r.answer else 0.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--filler", type=int, default=100, help="filler paragraphs")
    ap.add_argument("--filler-file", default=str(FILLER), help="SQuAD-format file of filler")
    ap.add_argument("--reader", default="combined")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    seeds = load_folder(ROOT / "seeds")
    # Only the paragraphs are used, so answers that do not match their offsets do not matter.
    filler = [Document(doc_id=p.doc_id, text=p.context, raw=p.context, title=p.title)
              for p in read_squad(args.filler_file, strict=False)]
    filler = filler[: args.filler]
    questions = ev.load_questions(ROOT / "eval" / "questions.jsonl")
    alone = answers(Retriever.from_documents(seeds), questions, args.reader)
    mixed = answers(Retriever.from_documents(seeds + filler), questions, args.reader)
    changed = [q.id for q in questions if alone[q.id][0] != mixed[q.id][0]]

    def f1(ans):
        return sum(answer_scores(ans[q.id][0], q.answers)[1] for q in questions) / len(questions)

    report = {"questions": len(questions), "filler_documents": len(filler),
              "filler_chars": sum(len(d.text) for d in filler), "reader": args.reader,
              "answers_changed": len(changed), "f1_seeds_alone": round(f1(alone), 3),
              "f1_with_filler": round(f1(mixed), 3), "changed_ids": changed}
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
