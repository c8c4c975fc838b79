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
