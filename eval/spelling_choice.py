"""SymSpell or RapidFuzz for spelling correction: the same rules, two ways to find the closest
word, measured on the typo benchmark (eval/typos.jsonl against eval/questions.jsonl).

    python eval/spelling_choice.py
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.documents import load_folder  # noqa: E402
from qa.spelling import Speller, english_index, english_words  # noqa: E402


class RapidFuzzSpeller(Speller):
    """The closest word by Levenshtein distance over the whole vocabulary (RapidFuzz)."""

    def __init__(self, counts):
        super().__init__(counts)
        self._corpus = sorted(self.vocabulary)
        self._english = sorted(english_words())

    def _suggest(self, word, initial=False):
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        key = word.lower()
        if key in self.vocabulary or (key.isalpha() and key in english_words()):
            return None
        letters = sum(c.isalpha() for c in key)
        if letters < 4 or word.isupper():
            return None
        edits = 1 if letters <= 6 else 2
        name = word[0].isupper() and not initial
        pools = [self._corpus] if name else [self._corpus, self._english]
        best = None
        for n, pool in enumerate(pools):
            hit = process.extractOne(key, pool, scorer=DamerauLevenshtein.distance,
                                     score_cutoff=edits if n == 0 else 1)
            if hit and (best is None or hit[1] < best[1]):
                best = hit
        if best is None:
            return None
        surface = self._surface.get(best[0], best[0])
        if name and not surface[:1].isupper():
            return None
        if word.islower():
            return surface.lower()
        return surface[0].upper() + surface[1:] if word[0].isupper() else surface


def norm(text: str) -> str:
    return re.sub(r"[?\s]+", " ", text.lower()).strip()


def main() -> None:
    clean = {json.loads(l)["id"]: json.loads(l)["question"] for l in (ROOT / "eval/questions.jsonl").open()}
    typos = [json.loads(l) for l in (ROOT / "eval/typos.jsonl").open()]
    typos = [t for t in typos if t.get("clean_id") in clean]
    texts = [d.text for d in load_folder(ROOT / "seeds")]
    english_index()  # loaded once per process by either; not part of the timing
    outputs = {}
    for name, cls in (("symspell", Speller), ("rapidfuzz", RapidFuzzSpeller)):
        from collections import Counter

        counts = Counter()
        for t in texts:
            counts.update(m.group() for m in re.finditer(r"[^\W\d_](?:[\w’'.-]*[^\W\d_])?", t))
        t0 = time.perf_counter()
        sp = cls(counts)
        build = time.perf_counter() - t0
        fixed = changed_clean = 0
        t0 = time.perf_counter()
        for t in typos:
            got = sp.correct(t["question"])[0]
            outputs.setdefault(t["id"], []).append(got)
            fixed += norm(got) == norm(clean[t["clean_id"]])
        per_q = (time.perf_counter() - t0) / len(typos) * 1000
        for q in clean.values():
            if sp.correct(q)[0] != q:
                changed_clean += 1
                print(f"  {name} changed a clean question: {q} -> {sp.correct(q)[0]}")
        print(f"{name:9s}: restored {fixed}/{len(typos)} typo questions exactly, changed "
              f"{changed_clean}/{len(clean)} clean ones, {per_q:.2f} ms per question, build {build:.2f} s")
    for tid, (a, b) in outputs.items():
        if a != b:
            print(f"  differ: symspell {a!r} | rapidfuzz {b!r}")


if __name__ == "__main__":
    main()
