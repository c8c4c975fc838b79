"""The assistant: conversation-aware retrieval plus extractive reading, with abstention."""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from qa.config import ReaderConfig, ReaderKind, RetrieverConfig
from qa.conversation import (
    Rewrite, Turn, asks_about_corpus, bare_topic, nothing_to_search, resolve, small_talk,
    unresolved_reference,
)
from qa.question import analyze
from qa.tokens import tokenize
from qa.errors import InputError
from qa.highlight import clip
from qa.answers import Reader, group_answers
from qa.rules import RuleReader
from qa.rules.pool import POOL
from qa.query import clean_query
from qa.retriever import Retriever
from qa.spelling import Speller, english_index, english_words
from qa.types import Answer, Hit, Passage, Reply

log = logging.getLogger(__name__)

MAX_HISTORY = 20
# The most passages one question's reader reads, whatever k asks for: the span model costs
# about 13 ms of CPU per passage, and k comes from the caller.
MAX_READ = 20


def load_reader(retriever: Retriever, config: ReaderConfig) -> Reader:
    """The configured reader: the trained span model (or the model ``config.model`` names),
    alone or combined with the rules; the rule reader for ``reader="rules"`` or when the model
    cannot be loaded (the reason is logged)."""
    rules = RuleReader(retriever, config, encoder=retriever.encoder)
    if config.reader is ReaderKind.RULES:
        return rules
    try:
        from qa.neural import ModelReader

        model = ModelReader(retriever.documents, config, annotations=retriever.annotations)
    except Exception as exc:  # model missing, offline, wrong architecture, no transformers...
        log.warning("cannot load reader model %r (%s: %s); using the rule reader",
                    config.model or "the shipped model", type(exc).__name__, exc)
        return rules
    if config.reader is ReaderKind.COMBINED:
        from qa.combined import CombinedReader

        exits = {n: model.stage_exits[n] for n in config.stages if n in model.stage_exits}
        return CombinedReader(model, rules, model.combination, exits, model.stage_give_up)
    return model


class Assistant:
    """Answers questions from a corpus, in a conversation.

    Example:
        >>> bot = Assistant.open()                      # seed corpus, ./index
        >>> reply = bot.ask("Who founded Frontis.AI?")
        >>> reply.answer.text
        'Zhou Bowen'
        >>> bot.ask("In what year was it founded?", history=["Who founded Frontis.AI?"]).query
        'In what year was Frontis.AI founded?'
    """

    def __init__(self, retriever: Retriever, config: ReaderConfig | None = None) -> None:
        self.retriever = retriever
        self.config = config or ReaderConfig()
        self.reader = load_reader(retriever, self.config)
        self._speller: tuple[int, Speller] | None = None
        if self.config.spelling:
            # Loaded once per process (0.7 s and 0.05 s), not on the first question that has
            # a word the corpus lacks.
            english_index()
            english_words()

    def speller(self) -> Speller | None:
        """The spelling corrector over the corpus vocabulary, rebuilt when documents change;
        ``None`` when correction is off."""
        if not self.config.spelling:
            return None
        docs = self.retriever.documents
        if self._speller is None or self._speller[0] != len(docs):
            self._speller = (len(docs), Speller.from_texts(d.text for d in docs.values()))
        return self._speller[1]

    @classmethod
    def open(
        cls,
        index: str | Path | None = None,
        corpus: str | Path | None = None,
        retriever_config: RetrieverConfig | None = None,
        reader_config: ReaderConfig | None = None,
    ) -> "Assistant":
        """Open (building or updating as needed) the index of a corpus folder."""
        from qa.paths import default_corpus, default_index

        retriever = Retriever.open(
            index or default_index(), corpus or default_corpus(), retriever_config
        )
        return cls(retriever, reader_config)

    def refresh(self) -> None:
        """Rebuild the reader after the retriever's documents changed."""
        self.reader = load_reader(self.retriever, self.config)

    def ask(
        self,
        question: str,
        history: Sequence[str | Turn] = (),
        *,
        k: int | None = None,
        mode: str | None = None,
        fusion: str | None = None,
        threshold: float | None = None,
    ) -> Reply:
        """Answer a question, using earlier questions of the conversation for context.

        Args:
            history: earlier user questions (oldest first), or ``Turn``s that also carry
                their answers. Plain questions are answered again to learn what they were
                about.
            k: passages to retrieve, show and read (the reader config's ``passages`` by
                default; the reader reads at most ``MAX_READ`` of them).
            threshold: abstention threshold (defaults to the reader config).

        Raises:
            InputError: empty or over-long question, bad history, bad k or threshold.
        """
        question = clean_query(question)
        k = self._checked_k(k)
        limit = self.threshold(threshold)  # checked before any work
        history = _recent(history)
        if (said := self._without_search(question)) is not None:
            return Reply(question=question, query=question, answer=None, message=said)
        original = question
        question, corrections = self._spelled(question)
        turns = self.context(history, limit, mode=mode, fusion=fusion)
        rewritten, said = _rewrite(question, turns)
        if said is not None:
            return Reply(question=original, query=question, answer=None, corrections=corrections, message=said)
        query = rewritten.query
        t0 = time.perf_counter()
        # The reader reads the top passages; the rest of the candidate pool gives the rule
        # reader its term statistics (qa.rules.pool), so unrelated documents do not move them.
        pool = self.retriever.search(rewritten.search_text, k=max(k, POOL), mode=mode, fusion=fusion)
        hits = pool[:k]
        t1 = time.perf_counter()
        # A bare name asks nothing: its passages are shown, no span is picked from them.
        topic_only = bare_topic(query)
        read = bool(hits) and not topic_only
        answers = group_answers(self.reader.read(_asked(rewritten), pool, min(k, MAX_READ))) if read else []
        t2 = time.perf_counter()
        best = answers[0] if answers and answers[0].score >= limit else None
        return Reply(
            question=original,
            query=query,
            corrections=corrections,
            context=rewritten.context,
            answer=best,
            alternatives=tuple(answers[1:4]) if best else tuple(answers[:3]),
            passages=tuple(self._passages(hits, answers[:1] if best else [])),
            message=_topic_only(query) if topic_only else None,
            retrieval_ms=(t1 - t0) * 1000,
            reading_ms=(t2 - t1) * 1000,
        )

    def clear_caches(self) -> None:
        """Forget cached query embeddings and model reads, so that the next question is timed
        cold (``qa bench``, ``qa eval``)."""
        encoder = self.retriever.encoder
        if encoder is not None and hasattr(type(encoder).encode_query, "cache_clear"):
            type(encoder).encode_query.cache_clear()
        if hasattr(self.reader, "clear_cache"):
            self.reader.clear_cache()

    def _checked_k(self, k) -> int:
        k = self.config.passages if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"k must be a whole number >= 1, got {k!r}")
        return k

    def _spelled(self, question: str) -> tuple[str, tuple]:
        speller = self.speller()
        return speller.correct(question) if speller else (question, ())

    def threshold(self, threshold: float | None = None) -> float:
        """The abstention threshold: the caller's, the config's, else the reader's own."""
        if threshold is None:
            threshold = self.config.abstain_threshold
        if threshold is None:
            return self.reader.default_threshold
        # Confidences lie in [0, 1]: a threshold below 0 (-inf included) answers everything,
        # above 1 nothing. NaN would silently withhold every answer, so it is refused.
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold != threshold:
            raise InputError(f"threshold must be a number (confidences run from 0 to 1), got {threshold!r}")
        return float(threshold)

    def context(self, history: Sequence[str | Turn], threshold: float | None = None, **kw) -> list[Turn]:
        """The earlier turns as the user saw them: each plain question answered again, in its
        own context, at ``threshold`` (the reader's by default). ``Turn``s are kept as given.
        ``ask`` does this itself; the benchmark calls it to ask at one threshold while keeping
        a follow-up's context at the operating one."""
        limit = self.threshold(threshold)
        turns: list[Turn] = []
        for item in history:
            if isinstance(item, Turn):
                turns.append(item)
                continue
            if not isinstance(item, str):
                raise InputError(f"history items must be strings, got {type(item).__name__}")
            if not item.strip():
                continue
            # Answer the earlier question in its own context to learn its referent, at the
            # threshold the user was answered at: a pronoun cannot point to an answer the user
            # was never shown ("I don't know", then "Who founded it?" is not about a guess).
            reply = self.ask(item, turns, threshold=limit, **kw)
            if Turn.kept(reply):
                turns.append(Turn.from_reply(reply))
        return turns

    def _without_search(self, question: str) -> str | None:
        """The reply to a turn that is not a question for the corpus, else ``None``."""
        chat = small_talk(question)
        if chat is not None:
            return chat
        return self.summary() if asks_about_corpus(question) else None

    def summary(self) -> str:
        """What the corpus holds: its documents, with title, publisher and date."""
        docs = sorted(self.retriever.documents.values(), key=lambda d: (d.date or "", d.title))
        lines = [f"The corpus holds {len(docs)} document{'s' if len(docs) != 1 else ''}:"]
        for d in docs[:20]:
            lines.append(f"- {d.citation()}")
        if len(docs) > 20:
            lines.append(f"- … and {len(docs) - 20} more")
        return "\n".join(lines)

    def _passages(self, hits: Sequence[Hit], answers: Sequence[Answer]) -> list[Passage]:
        spans = {(a.doc_id, a.span) for a in answers}
        out = []
        for h in hits:
            c = h.chunk
            marks = clip([s for d, s in spans if d == c.doc_id], c.start, c.end)
            out.append(Passage.from_hit(h, tuple(marks), self.retriever.documents[c.doc_id].title))
        return out


def _recent(history) -> list:
    """The last turns of a history: None, a tuple or a generator are all fine."""
    if isinstance(history, str):
        raise InputError("history must be a list of earlier questions, not one string")
    return list(history or [])[-MAX_HISTORY:]


def _asked(rewritten: Rewrite):
    """The analysed question the reader reads for, with the referent a pronoun stood for."""
    asked = analyze(rewritten.query, rewritten.context)
    if rewritten.topic:
        asked = dataclasses.replace(asked, topic=tuple(tokenize(rewritten.topic)))
    return asked


def _rewrite(question: str, turns: Sequence[Turn]) -> tuple[Rewrite, str | None]:
    """The question made self-contained, or why it cannot be: a pronoun with nothing named
    before it, or pointing to an answer the conversation never got, or nothing to look for."""
    rewritten = resolve(question, turns) if turns else Rewrite(question)
    if rewritten.unresolved is not None:
        return rewritten, _not_answered(rewritten.unresolved)
    # Nothing earlier gave the pronoun a referent (no turn, or only turns that named nothing).
    if rewritten == Rewrite(question) and (pronoun := unresolved_reference(question)) is not None:
        return rewritten, _which_one(pronoun)
    if nothing_to_search(rewritten.search_text):
        return rewritten, _nothing_to_search(question)
    return rewritten, None


def _not_answered(pronoun: str) -> str:
    return (f"Which one do you mean by “{pronoun}”? The question before this one was not "
            "answered, so I can't tell: ask again with the name.")


def _nothing_to_search(question: str) -> str:
    return (f"There is nothing to look for in “{question}”. Ask a question about the documents in "
            "words: who did something, what or when it was, how many.")


def _topic_only(query: str) -> str:
    return (f"“{query}” names something but asks nothing about it, so no passage holds an answer. "
            f"The passages that mention it most are shown; ask what you want to know about it, "
            f"for example “What is {query.rstrip(' ?')}?”, for an exact answer.")


def _which_one(pronoun: str) -> str:
    return (f"Which one do you mean by “{pronoun}”? Nothing has been named earlier in this "
            "conversation: ask again with the name.")
