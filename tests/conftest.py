"""Shared fixtures: the real seed corpus, a tiny inline corpus and one model per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def encoder():
    from qa.dense import Encoder

    return Encoder.get()


@pytest.fixture(scope="session")
def seed_docs():
    from qa.documents import load_folder

    return load_folder(SEEDS)


@pytest.fixture(scope="session")
def seed_retriever(encoder, seed_docs):
    from qa.retriever import Retriever

    return Retriever.from_documents(seed_docs, encoder=encoder)


TINY = {
    "apples": "Apples grow on trees in orchards. The Fuji apple was developed in Japan in 1939.",
    "rivers": "The Nile is the longest river in Africa. It flows north into the Mediterranean Sea.",
    "space": "Apollo 11 landed on the Moon on July 20, 1969. Neil Armstrong was its commander.",
}


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in TINY.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_docs():
    from qa.documents import make_document

    return [make_document(name, text) for name, text in TINY.items()]


@pytest.fixture(scope="session")
def seed_assistant(seed_retriever):
    """The rule reader on the seeds (its rules are what most reader tests pin down)."""
    from qa.assistant import Assistant
    from qa.config import ReaderConfig

    return Assistant(seed_retriever, ReaderConfig(reader="rules"))


@pytest.fixture(scope="session")
def default_assistant(seed_retriever):
    """The default assistant: the shipped span model combined with the rules."""
    from qa.assistant import Assistant

    bot = Assistant(seed_retriever)
    assert bot.reader.name == "combined", "the shipped reader model did not load"
    return bot


@pytest.fixture(scope="session")
def model_assistant(seed_retriever):
    """The shipped span model alone."""
    from qa.assistant import Assistant
    from qa.config import ReaderConfig

    bot = Assistant(seed_retriever, ReaderConfig(reader="trained"))
    assert bot.reader.name == "trained", "the shipped reader model did not load"
    return bot
