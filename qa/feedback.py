"""Answer feedback: 👍/👎 on an answer, kept locally as JSON Lines, and turned into questions.

Each verdict is one line of ``<index>-feedback.jsonl`` beside the index: question, the earlier
questions of its conversation, the answer, its sources, the verdict and the time. Lines are
appended under a lock with one ``write`` each, so a crash loses at most the line being written
and never damages earlier ones; a damaged line is skipped on reading, with a warning.

``qa eval --from-feedback FILE --write-questions OUT`` turns it into a question file for the
benchmark: an answer marked 👍 becomes a question whose gold answer is that span (latest verdict
wins when a question was marked twice); an answer marked 👎 says what is wrong, not what is
right, so those go to ``OUT`` with ``.review.jsonl`` in place of ``.jsonl``, for a person to
write the right answer.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from qa.errors import InputError

log = logging.getLogger(__name__)

VERDICTS = ("up", "down")
MAX_TEXT = 2_000
MAX_SOURCES = 20
MAX_HISTORY = 20
_LOCK = threading.Lock()


def _text(value, name: str, limit: int = MAX_TEXT, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"feedback needs a non-empty {name} (a string)")
    if len(value) > limit:
        raise InputError(f"feedback {name} is {len(value):,} characters; at most {limit:,}")
    return value.strip()


def make_entry(question: str, answer: str | None, sources: Sequence[str] | None, verdict: str,
               history: Sequence[str] | None = None) -> dict:
    """A checked feedback row. Raises InputError for a bad verdict or over-long fields."""
    if verdict not in VERDICTS:
        raise InputError(f"verdict must be 'up' or 'down', got {verdict!r}")
    sources = list(sources or [])
    history = list(history or [])
    if len(sources) > MAX_SOURCES or len(history) > MAX_HISTORY:
        raise InputError(f"feedback takes at most {MAX_SOURCES} sources and {MAX_HISTORY} earlier questions")
    return {
        "question": _text(question, "question"),
        "history": [_text(h, "earlier question") for h in history],
        "answer": _text(answer, "answer", required=False) or None,
        "sources": [_text(s, "source", 300) for s in sources],
        "verdict": verdict,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def append(path: str | Path, entry: dict) -> None:
    """Append one row; one write per line, under a lock, flushed to disk."""
    import os

    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def read(path: str | Path) -> list[dict]:
    """Every readable row; damaged lines are skipped with a warning."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read feedback file {path}: {exc.strerror or exc}") from None
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append(make_entry(row["question"], row.get("answer"), row.get("sources"),
                                   row["verdict"], row.get("history")) | {"time": row.get("time")})
        except (ValueError, KeyError, TypeError, InputError) as exc:
            log.warning("%s line %d skipped: %s", path.name, n, exc)
    return rows


def to_questions(rows: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """(questions from 👍 answers, 👎 rows to review), in ``eval/questions.jsonl`` form.

    The last verdict on a (question, history) pair wins; ids are stable hashes of the pair.
    """
    latest: dict[tuple, dict] = {}
    for row in rows:
        latest[(row["question"], tuple(row["history"]))] = row
    good, review = [], []
    for (question, history), row in latest.items():
        qid = "fb-" + hashlib.sha1(json.dumps([question, history]).encode()).hexdigest()[:10]
        item = {"id": qid, "question": question, "answers": [row["answer"]] if row["answer"] else [],
                "sources": row["sources"], "history": list(history)}
        if row["verdict"] == "up" and row["answer"]:
            good.append(item)
        else:
            review.append(item | {"answers": [], "marked_wrong": row["answer"]})
    return good, review


def write_questions(feedback: str | Path, out: str | Path) -> tuple[Path, Path, int, int]:
    """Write the question file (and the review file beside it). Returns both paths and counts."""
    good, review = to_questions(read(feedback))
    out = Path(out)
    review_path = out.with_name(out.name.removesuffix(".jsonl") + ".review.jsonl")
    for path, rows in ((out, good), (review_path, review)):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)
    return out, review_path, len(good), len(review)
