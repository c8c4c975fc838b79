"""Source of eval/typos.jsonl: typo and loose-wording variants of the stand-alone questions of
eval/questions.jsonl, as their own benchmark category.

Each variant misspells one or two words of four letters or more (a dropped, doubled, swapped
or neighbouring-key letter, as people type on a phone) and, for half of them, loosens the
wording (all lower case, no question mark). The id is the clean question's id plus "t", so the
two can be compared question by question. Deterministic: ``python eval/make_typos.py``.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
_KEYS = "qwertyuiop asdfghjkl zxcvbnm".split()
_NEAR = {c: row[max(i - 1, 0)] + row[min(i + 1, len(row) - 1)] for row in _KEYS for i, c in enumerate(row)}
# The issue's own example, written by a user (clean: q with "AI models ... six months").
EXTRA = [{"id": "t-issue", "type": "number", "category": "typo",
          "question": "how many AI modles were aproved in the last six monts?",
          "answers": ["more than 40", "over 40"], "sources": ["001_cb54029318990064", "004_bdc205730bf64109"]}]


def misspell(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)  # the first letter is rarely wrong
    kind = rng.choice(("drop", "double", "swap", "near"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    near = _NEAR.get(word[i].lower())
    return word[:i] + (rng.choice(near) if near else word[i]) + word[i + 1 :]


def variant(question: str, rng: random.Random) -> str:
    words = [m for m in re.finditer(r"[A-Za-z]{4,}", question)]
    for m in sorted(rng.sample(words, min(len(words), rng.choice((1, 2)))), key=lambda m: -m.start()):
        question = question[: m.start()] + misspell(m.group(), rng) + question[m.end() :]
    if rng.random() < 0.5:
        question = question.lower().rstrip("?").rstrip()
    return question


def main() -> None:
    rng = random.Random(7)
    rows = []
    for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q.get("history"):
            continue  # follow-ups are measured on their own
        rows.append({**q, "id": q["id"] + "t", "category": "typo", "clean_id": q["id"],
                     "question": variant(q["question"], rng)})
    rows += EXTRA
    (HERE / "typos.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print(f"wrote {len(rows)} questions to {HERE / 'typos.jsonl'}")


if __name__ == "__main__":
    main()
