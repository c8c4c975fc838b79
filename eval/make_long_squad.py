"""A SQuAD-format stress file like those found in the wild: about 100 long documents (about
20,000 characters each), no titles (a ``document_id`` per paragraph), integer question ids, no
``is_impossible``. Built from the training file's paragraphs, so it measures robustness and
speed, not answer quality.

    python eval/make_long_squad.py OUT.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "shared" / "train" / "squad2-train-mix.json"
DOC_CHARS = 20_000
DOCS = 100
QUESTIONS_PER_DOC = 5


def build() -> dict:
    data = json.loads(SRC.read_text(encoding="utf-8"))["data"]
    paragraphs = [p for a in data for p in a["paragraphs"]]
    docs, text, qas, qid = [], "", [], 0
    for para in paragraphs * 2:  # the file holds about 1.4 MB of text: a second pass fills 100 documents
        offset = len(text) + (2 if text else 0)
        text = f"{text}\n\n{para['context']}" if text else para["context"]
        for qa in para["qas"]:
            answers = [{"text": a["text"], "answer_start": a["answer_start"] + offset}
                       for a in qa.get("answers", [])
                       if para["context"][a["answer_start"]:a["answer_start"] + len(a["text"])] == a["text"]]
            if len([q for q in qas]) < QUESTIONS_PER_DOC and (answers or not qa.get("answers")):
                qid += 1
                qas.append({"id": qid, "question": qa["question"], "answers": answers})
        if len(text) >= DOC_CHARS:
            docs.append({"paragraphs": [{"document_id": f"doc-{len(docs)}", "context": text, "qas": qas}]})
            text, qas = "", []
            if len(docs) == DOCS:
                break
    return {"version": "v2.0", "data": docs}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "eval/reports/long-squad.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build()), encoding="utf-8")
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB")
