from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa.cli import main


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, encoder):
    idx = tmp_path_factory.mktemp("cli") / "index"
    result = CliRunner().invoke(main, ["index", "--index", str(idx)])
    assert result.exit_code == 0, result.output
    return idx


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_index_reports_counts(seed_index):
    result = run("index", "--index", seed_index)
    assert result.exit_code == 0
    assert "5 documents" in result.output


def test_search_json(seed_index):
    result = run("search", "Who founded 01.AI?", "--k", 3, "--json", "--index", seed_index)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 3
    assert set(hits[0]) == {
        "doc_id", "title", "text", "start", "end", "score", "lexical_score", "dense_score", "rank",
    }
    assert hits[0]["doc_id"] == "000_efa03a2983bcb19c"
    assert hits[0]["rank"] == 1


def test_search_modes(seed_index):
    for mode in ["bm25", "dense", "hybrid"]:
        result = run("search", "ThreatBook XGPT", "--mode", mode, "--index", seed_index)
        assert result.exit_code == 0 and "1." in result.output


def test_k_is_clamped(seed_index):
    result = run("search", "AI", "--k", 100000, "--json", "--index", seed_index)
    assert result.exit_code == 0 and len(json.loads(result.output)) > 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", ""], "empty"),
        (["search", "AI", "--k", "0"], "at least 1"),
        (["search", "AI", "--mode", "fuzzy"], "fuzzy"),
    ],
)
def test_bad_arguments(args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_corpus(tmp_path):
    result = run("search", "AI", "--corpus", tmp_path / "nope", "--index", tmp_path / "i")
    assert result.exit_code == 1
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_empty_corpus(tmp_path):
    (tmp_path / "c").mkdir()
    result = run("index", "--corpus", tmp_path / "c", "--index", tmp_path / "i")
    assert result.exit_code == 1 and "holds no" in result.output


def test_corrupt_index_says_how_to_rebuild(tmp_path, seed_index):
    import shutil

    idx = tmp_path / "idx"
    shutil.copytree(seed_index, idx)
    (idx / "bm25.json").write_text("oops")
    result = run("search", "AI", "--index", idx)
    assert result.exit_code == 1
    assert "qa index" in result.output and "Traceback" not in result.output
    assert run("index", "--rebuild", "--index", idx).exit_code == 0
    assert run("search", "AI", "--index", idx).exit_code == 0


@pytest.mark.parametrize("port", ["70000", "0", "-1"])
def test_serve_refuses_an_impossible_port(port):
    result = run("serve", "--port", port)
    assert result.exit_code == 2 and "port" in result.output.lower()


def test_one_bad_file_does_not_block_the_corpus(tmp_path):
    import shutil

    from tests.conftest import SEEDS

    shutil.copytree(SEEDS, tmp_path / "c")
    (tmp_path / "c" / "empty.txt").write_bytes(b"")
    result = run("index", "--corpus", tmp_path / "c", "--index", tmp_path / "i")
    assert result.exit_code == 0, result.output
    assert "5 documents" in result.output and "skipped empty.txt" in result.output
    result = run("ask", "Who founded 01.AI?", "--reader", "rules", "--corpus", tmp_path / "c",
                 "--index", tmp_path / "i")
    assert result.exit_code == 0 and "Answer:" in result.output


def test_explain_shows_competing_candidates_and_their_terms(seed_index):
    result = run("ask", "--explain", "--reader", "rules", "Which smartphone maker got approval?",
                 "--index", seed_index)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Answer: " in out and "candidates (rules reader" in out and "Xiaomi" in out
    assert out.count("term    proximity") >= 2 and "feature type_fit" in out
    assert "[answer]" in out and ("[runner-up]" in out or "[withheld]" in out)


def test_ask_int8_answers_with_the_quantised_model(seed_index):
    result = run("ask", "--int8", "--json", "Who founded 01.AI?", "--index", seed_index)
    assert result.exit_code == 0, result.output
    reply = json.loads(result.output)
    assert reply["answer"] == "Lee Kai-fu"


def test_ask_a_bare_name_prints_why_and_its_passages(seed_index):
    result = run("ask", "Baidu", "--index", seed_index)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "asks nothing about it" in lines[0] and "Answer:" not in result.output
    assert len(lines) == 4 and all(line.startswith("  - ") and "Baidu" in line for line in lines[1:])
