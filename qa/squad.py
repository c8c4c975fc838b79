"""SQuAD-format files as found in the wild, checked whole before anything uses them.

Accepts SQuAD v2.0 and v1.1 and their common variants: articles without a ``title`` (the
paragraph's ``document_id`` names them, else their position), integer or string question ids,
``is_impossible`` left out (a question with no answers is unanswerable), very long contexts.
Every problem in the file is reported at once with its location, in one :class:`CorpusError`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError

MAX_LISTED = 25


@dataclass(frozen=True)
class SquadAnswer:
    text: str
    start: int


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[SquadAnswer, ...]

    @property
    def impossible(self) -> bool:
        return not self.answers


@dataclass(frozen=True)
class SquadParagraph:
    doc_id: str
    article: str
    title: str
    context: str
    questions: tuple[SquadQuestion, ...]


def _id(value, where: str, problems: list[str]) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        problems.append(f"{where}: 'id' must be a non-empty string or integer, got {value!r}")
        return ""
    return str(value)


def _question(qa, where: str, context: str, problems: list[str], strict: bool) -> SquadQuestion | None:
    if not isinstance(qa, dict):
        problems.append(f"{where}: a question must be an object")
        return None
    qid = _id(qa.get("id"), where, problems)
    text = qa.get("question")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: 'question' is missing or empty")
    answers_raw = qa.get("answers", [])
    if not isinstance(answers_raw, list):
        problems.append(f"{where}: 'answers' must be a list")
        answers_raw = []
    answers = []
    for k, a in enumerate(answers_raw):
        if not isinstance(a, dict) or not isinstance(a.get("text"), str):
            problems.append(f"{where}, answer {k}: needs 'text' (a string)")
            continue
        start = a.get("answer_start")
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            problems.append(f"{where}, answer {k}: 'answer_start' must be a non-negative integer")
            continue
        if context[start : start + len(a["text"])] != a["text"]:
            if not strict:
                continue
            found = context[start : start + len(a["text"])]
            problems.append(
                f"{where}, answer {k}: answer_start {start} points at {found[:40]!r}, "
                f"not at the answer {a['text'][:40]!r}"
            )
            continue
        if a["text"].strip():
            answers.append(SquadAnswer(a["text"], start))
    if qa.get("is_impossible") is True:
        answers = []
    elif answers_raw and not answers:
        return None  # lenient reading: every answer was misplaced
    elif qa.get("is_impossible") is False and not answers and answers_raw == []:
        problems.append(f"{where}: marked answerable but has no answers")
    if not qid or not isinstance(text, str) or not text.strip():
        return None
    return SquadQuestion(qid, text.strip(), tuple(answers))


def parse_squad(data, name: str = "file", strict: bool = True) -> list[SquadParagraph]:
    """Parse and check SQuAD-format JSON data. Raises CorpusError listing every problem.

    ``strict=False`` (for training data) drops answers whose ``answer_start`` does not point at
    their text, and questions left with none, instead of refusing the file.
    """
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise CorpusError(f"{name} is not a SQuAD-format file: it needs a top-level 'data' list")
    out: list[SquadParagraph] = []
    used: set[str] = set()
    seen_ids: dict[str, str] = {}
    for ai, article in enumerate(data["data"]):
        where_a = f"article {ai}"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            problems.append(f"{where_a}: needs a 'paragraphs' list")
            continue
        title = article.get("title")
        for pi, para in enumerate(article["paragraphs"]):
            where_p = f"{where_a}, paragraph {pi}"
            if not isinstance(para, dict):
                problems.append(f"{where_p}: a paragraph must be an object")
                continue
            context = para.get("context")
            if not isinstance(context, str) or not context.strip():
                problems.append(f"{where_p}: 'context' is missing or empty")
                continue
            qas = para.get("qas", [])
            if not isinstance(qas, list):
                problems.append(f"{where_p}: 'qas' must be a list")
                continue
            questions = []
            for qi, qa in enumerate(qas):
                q = _question(qa, f"{where_p}, question {qi}", context, problems, strict)
                if q is None:
                    continue
                if q.id in seen_ids:
                    problems.append(f"{where_p}, question {qi}: id {q.id!r} repeats {seen_ids[q.id]}")
                    continue
                seen_ids[q.id] = f"{where_p}, question {qi}"
                questions.append(q)
            name_ = str(title) if isinstance(title, (str, int)) and str(title).strip() else None
            base = name_ or str(para.get("document_id") or f"article-{ai}")
            doc_id = f"{base}_{pi:03d}"
            while doc_id in used:
                doc_id += "_"
            used.add(doc_id)
            label = f"{base.replace('_', ' ')} ¶{pi + 1}"
            out.append(SquadParagraph(doc_id, base, label, context, tuple(questions)))
    if problems:
        listed = "\n  ".join(problems[:MAX_LISTED])
        more = f"\n  … and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise CorpusError(f"{name} has {len(problems)} problem(s); nothing was indexed:\n  {listed}{more}")
    if not out:
        raise CorpusError(f"{name} holds no paragraphs")
    return out


def read_squad(path: str | Path, strict: bool = True) -> list[SquadParagraph]:
    """Read and check a SQuAD-format JSON file (see :func:`parse_squad`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"cannot read SQuAD file {path}: {exc}") from None
    return parse_squad(data, str(path), strict)
