"""Index persistence refuses targets that are not its own (issue 9, defect 2)."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from qa import store
from qa.cli import main
from qa.errors import IndexError_
from tests.conftest import SEEDS


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def corpus(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    return tmp_path / "seeds"


@pytest.fixture
def folder_with_files(tmp_path):
    folder = tmp_path / "some" / "folder"
    folder.mkdir(parents=True)
    (folder / "thesis.txt").write_text("my only copy", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.csv").write_text("1,2,3", encoding="utf-8")
    return folder


@pytest.mark.parametrize("command", [["ask", "Who founded 01.AI?"], ["index"], ["index", "--rebuild"],
                                     ["search", "01.AI"]])
def test_cli_refuses_a_folder_that_is_not_an_index(command, corpus, folder_with_files, encoder):
    before = snapshot(folder_with_files)
    result = CliRunner().invoke(main, [*command, "--corpus", str(corpus), "--index", str(folder_with_files)])
    assert result.exit_code != 0
    assert "no qa index" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert snapshot(folder_with_files) == before


def test_cli_refuses_a_file_as_index(corpus, tmp_path, encoder):
    target = tmp_path / "notes.txt"
    target.write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(target)])
    assert result.exit_code != 0 and "not a folder" in result.output
    assert target.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("inside", [".", "index"])
def test_cli_refuses_an_index_inside_the_corpus(corpus, inside, encoder):
    before = snapshot(corpus)
    result = CliRunner().invoke(main, ["ask", "Who founded 01.AI?", "--corpus", str(corpus),
                                       "--index", str(corpus / inside)])
    assert result.exit_code != 0 and "inside the corpus" in result.output
    assert snapshot(corpus) == before


def test_an_empty_folder_or_an_existing_index_is_accepted(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    store.check_target(empty)
    store.check_target(tmp_path / "new")
    (empty / store.MANIFEST).write_text("{}", encoding="utf-8")
    store.check_target(empty)


def test_atomic_directory_refuses_a_foreign_folder(folder_with_files):
    with pytest.raises(IndexError_, match="no qa index"):
        with store.atomic_directory(folder_with_files):
            pass
    assert (folder_with_files / "thesis.txt").read_text(encoding="utf-8") == "my only copy"


def _save_dying_at(retriever, target, step: int) -> int:
    """Save in a forked child that dies (os._exit, no cleanup) at the ``step``-th file-system
    call of the save; returns the child's exit status (0: the save finished first)."""
    import os

    pid = os.fork()
    if pid == 0:  # the child: count the save's file-system steps, die at the chosen one
        import shutil as sh

        calls = {"n": 0}

        def dying(fn):
            def wrapper(*a, **kw):
                calls["n"] += 1
                if calls["n"] == step:
                    os._exit(9)
                return fn(*a, **kw)
            return wrapper

        os.replace, os.symlink, os.fsync, sh.rmtree = (
            dying(os.replace), dying(os.symlink), dying(os.fsync), dying(sh.rmtree))
        try:
            retriever.save(target)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.slow
def test_a_save_killed_at_any_step_leaves_the_old_or_the_new_index(tmp_path, seed_retriever, tiny_docs, encoder):
    from qa.retriever import Retriever

    old_ids = set(seed_retriever.documents)
    new = Retriever.from_documents(tiny_docs, encoder=encoder)
    new_ids = set(new.documents)
    step, finished = 1, False
    while not finished and step < 200:
        target = tmp_path / f"run{step}" / "index"
        seed_retriever.save(target)                      # the old index
        code = _save_dying_at(new, target, step)
        finished = code == 0
        loaded = set(Retriever.load(target, encoder=encoder).documents)
        assert loaded in (old_ids, new_ids), f"killed at step {step}: neither index loads"
        if finished:
            assert loaded == new_ids
        step += 1
    assert finished and step > 3  # the save had several steps, and each was tried


def test_a_second_writer_is_told_to_wait(tmp_path):
    import fcntl

    target = tmp_path / "index"
    lock = open(tmp_path / ".index.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(IndexError_, match="another process is saving"):
            with store.atomic_directory(target):
                pass
    finally:
        lock.close()
    assert not target.exists()


def test_an_unwritable_location_is_a_clean_error(tmp_path):
    import os

    if os.geteuid() == 0:
        # root ignores permissions; a path under a file cannot be created by anyone
        (tmp_path / "file").write_text("x")
        target = tmp_path / "file" / "index"
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        target = ro / "index"
    with pytest.raises(IndexError_, match="cannot write an index"):
        with store.atomic_directory(target):
            pass
    assert not list(tmp_path.glob("**/.index.v-*"))


def _damage(idx, how: str) -> None:
    import json as js

    m = idx / store.MANIFEST
    if how == "manifest-not-utf8":
        m.write_bytes(b'{"format_version": 1, \xff\xfe}')
    elif how in ("config-string", "next-id"):
        data = js.loads(m.read_text(encoding="utf-8"))
        if how == "config-string":
            data["config"] = "x"
        else:
            data["next_id"] = "abc"
        m.write_text(js.dumps(data), encoding="utf-8")
    elif how == "faiss-bytes":
        f = idx / "dense.faiss"
        raw = bytearray(f.read_bytes())
        raw[-20:] = b"\x07" * 20  # the id map sits at the end
        f.write_bytes(bytes(raw))
    elif how == "documents-edit":
        f = idx / "store.sqlite"  # the same length, so only the checksum can tell
        data = f.read_bytes().replace(b"Kai-fu", b"Xiaomi")
        f.unlink()  # a new file: the shared fixture may still be reading the saved one
        f.write_bytes(data)
    elif how == "missing-file":
        (idx / "bm25.json").unlink()


DAMAGE = ["manifest-not-utf8", "config-string", "next-id", "faiss-bytes", "documents-edit", "missing-file"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_index_gives_the_rebuild_command(tmp_path, seed_retriever, encoder, how):
    from qa.retriever import Retriever

    seed_retriever.save(tmp_path / "idx")
    _damage((tmp_path / "idx").resolve(), how)
    with pytest.raises(IndexError_, match="qa index --rebuild"):
        Retriever.load(tmp_path / "idx", encoder=encoder)
    result = CliRunner().invoke(main, ["ask", "Who founded 01.AI?", "--index", str(tmp_path / "idx")])
    assert result.exit_code == 1 and "qa index --rebuild" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("how", ["faiss-bytes", "documents-edit"])
def test_server_rebuilds_a_damaged_index_from_the_corpus(tmp_path, corpus, encoder, how, caplog):
    from qa.service import Service

    first = Service(corpus=corpus, index=tmp_path / "idx")
    _damage((tmp_path / "idx").resolve(), how)
    again = Service(corpus=corpus, index=tmp_path / "idx")
    assert "rebuilding the index" in caplog.text
    assert set(again.retriever.documents) == set(first.retriever.documents)
    assert "Lee Kai-fu" in again.retriever.documents["000_efa03a2983bcb19c"].text


def test_a_read_only_index_with_a_changed_corpus_still_answers(tmp_path, corpus, encoder, caplog):
    import os

    from qa.retriever import Retriever

    Retriever.open(tmp_path / "idx", corpus, encoder=encoder)
    (corpus / "extra.txt").write_text("The okapi is a giraffid native to the Congo.", encoding="utf-8")
    real_replace = os.replace

    def read_only(*a, **kw):  # root ignores permissions, so refuse the swap as a read-only disk would
        raise PermissionError(30, "Read-only file system")

    os.replace = read_only
    try:
        r = Retriever.open(tmp_path / "idx", corpus, encoder=encoder)
    except IndexError_:
        pytest.fail("a read-only index must still answer")
    finally:
        os.replace = real_replace
    assert "extra" in r.documents and "could not be saved" in caplog.text
    assert "extra" not in Retriever.load(tmp_path / "idx", encoder=encoder).documents


@pytest.mark.parametrize("name", ["store-delta.sqlite", "dense-delta.npz"])
@pytest.mark.parametrize("checksum_too", [False, True], ids=["damaged", "damaged-and-checksum-updated"])
def test_a_damaged_delta_gives_the_rebuild_command(tmp_path, seed_docs, encoder, name, checksum_too):
    """A small save writes deltas beside the shared files; damage to one is caught by its
    checksum, and a delta that is garbage but matches its checksum by its own checks."""
    import json as js

    from qa.documents import make_document
    from qa.retriever import Retriever

    Retriever.from_documents(seed_docs[:2], encoder=encoder).save(tmp_path / "idx")
    r = Retriever.load(tmp_path / "idx", encoder=encoder)
    r.add_documents([make_document("extra", "A short extra document about teapots.")])
    r.save(tmp_path / "idx")
    idx = (tmp_path / "idx").resolve()
    assert (idx / name).exists()
    (idx / name).unlink()
    (idx / name).write_bytes(b"garbage" * 64)
    if checksum_too:
        m = js.loads((idx / store.MANIFEST).read_text())
        m["checksums"][name] = store.file_checksums(idx, [name])[name]
        (idx / store.MANIFEST).write_text(js.dumps(m))
    with pytest.raises(IndexError_, match="qa index --rebuild"):
        Retriever.load(tmp_path / "idx", encoder=encoder)
