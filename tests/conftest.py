"""Shared fixtures: the real seed corpus, a tiny inline corpus and one model per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

# Odd files, as a user's folder or an upload may hold them; a catalogue shared by the tests.
BAD_FILES = {
    "zero.txt": b"",
    "binary.txt": b"\x00\x01\x02\xff\xfe binary",
    "latin1.txt": "Café crème, déjà vu, naïve façade.".encode("latin-1"),
    "broken.pdf": b"%PDF-1.4 not really a pdf",
    "script.html": b"<html><body><script>alert(1)</script><p>The kiwi is a bird of New Zealand.</p></body></html>",
    "odd name ’✓ (1).md": b"# Odd\n\nA file with an odd name about tea.",
    "-dash.txt": b"A file whose name starts with a dash, about coffee.",
}


def index_digest(index: Path) -> str:
    """One hash over every file of a saved index, names included: "unchanged byte for byte"."""
    import hashlib

    h = hashlib.sha256()
    root = Path(index).resolve()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LIVE: dict = {}  # the running live_server's folder ("root"), for tests that read its files


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A real `qa serve` on a copy of the seeds, on a free loopback port; yields its URL.
    Its index is LIVE["root"] / "index"."""
    import shutil
    import subprocess
    import sys
    import time
    import urllib.request

    root = tmp_path_factory.mktemp("live")
    LIVE["root"] = root
    corpus = root / "seeds"
    shutil.copytree(SEEDS, corpus)
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--port", str(port), "--corpus", str(corpus),
         "--index", str(root / "index")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "api/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stdout.read()}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("server did not start in 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory):
    """A real local Milvus (the milvus-lite package's gRPC server) on a free loopback port."""
    import subprocess
    import sys
    import time

    pytest.importorskip("pymilvus", reason="the milvus extra is not installed (make test installs it)")
    from pymilvus import MilvusClient

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path_factory.mktemp("milvus")),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            MilvusClient(uri=uri, timeout=2).list_collections()
            break
        except Exception:
            if proc.poll() is not None:
                pytest.fail(f"milvus-lite exited: {proc.stdout.read()}")
            if time.time() > deadline:
                proc.kill()
                pytest.fail("milvus-lite did not start in 60 s")
            time.sleep(0.3)
    yield uri
    proc.terminate()
    proc.wait(timeout=20)
