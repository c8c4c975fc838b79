from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents import clean_text, load_file, load_folder, make_document, scan_folder
from qa.errors import CorpusError
from qa.types import Span

SEED_IDS = [
    "000_efa03a2983bcb19c",
    "001_cb54029318990064",
    "002_ead0084cd94f8a7a",
    "003_bad449f29e6d01ff",
    "004_bdc205730bf64109",
]


class TestSeedCleaning:
    def test_ids_are_file_names(self, seed_docs):
        assert [d.doc_id for d in seed_docs] == SEED_IDS

    def test_seeds_are_unchanged_copies(self):
        shared = Path(__file__).resolve().parents[2] / "shared" / "corpus"
        if not shared.is_dir():
            pytest.skip("../shared/corpus is not beside this checkout")
        for doc_id in SEED_IDS:
            name = f"{doc_id}.txt"
            assert (Path("seeds") / name).read_bytes() == (shared / name).read_bytes()

    @pytest.mark.parametrize(
        "boilerplate",
        [
            "Do you have questions about the biggest topics",
            "Photo: Shutterstock",
            "alt=",
            "This article originally appeared in the South China Morning Post",
            "Copyright",
            "All rights reserved",
            "Scroll to Top",
            "See also",
            "Revolutionizing Retail",
            "Images provided by pixabay",
            "Image Via Pixabay",
            "This post is also available in",
            "Engineered by",
            "Benzinga Neuro",
            "Kaustubh Bagalkote",
            "content generation system",
            "Published: Jan 30",
        ],
    )
    def test_boilerplate_removed(self, seed_docs, boilerplate):
        for doc in seed_docs:
            assert boilerplate.lower() not in doc.text.lower(), doc.doc_id

    @pytest.mark.parametrize(
        "doc_index, title",
        [
            (2, "China Joins Large Language Model Craze"),
            (3, "Approval of Over 40 AI Models in the Last 6 Months Shows China"),
            (4, "China Green Lights Over 40 AI Models in 6 Months"),
        ],
    )
    def test_repeated_title_kept_once(self, seed_docs, doc_index, title):
        text = seed_docs[doc_index].text.replace("\u2019", "'")
        assert text.count(title) == 1

    @pytest.mark.parametrize(
        "content",
        [
            "founded by venture capitalist Lee Kai-fu",
            "which went into effect on August 15, 2023",
            "launched its AI model \u201cZhinao\u201d",
            "Baidu\u2019s Ernie Bot: A Highlight in China\u2019s AI Journey",
            "garnered 100 million users in December",
        ],
    )
    def test_article_content_kept(self, seed_docs, content):
        assert any(content in d.text for d in seed_docs)

    def test_every_cleaned_character_maps_to_the_original(self, seed_docs):
        for doc in seed_docs:
            for seg in doc.segments:
                clean = doc.text[seg.start : seg.start + seg.length]
                raw = doc.raw[seg.raw_start : seg.raw_start + seg.length]
                assert clean == raw.replace("\u00a0", " ")

    def test_to_raw_maps_a_span(self, seed_docs):
        doc = seed_docs[0]
        start = doc.text.index("Lee Kai-fu")
        raw = doc.to_raw(Span(start, start + len("Lee Kai-fu")))
        assert doc.raw[raw.start : raw.end] == "Lee Kai-fu"

    def test_metadata_from_seed_file(self, seed_docs):
        assert seed_docs[1].publisher == "Global Times"
        assert seed_docs[1].date == "2024-01-30"
        assert "South China Morning Post" in seed_docs[0].citation()


class TestCleanText:
    @pytest.mark.parametrize("raw", ["", "   \n\n  ", "Scroll to Top\nanything after"])
    def test_nothing_left(self, raw):
        assert clean_text(raw)[0] == ""

    def test_doubled_title_on_one_line(self):
        text, _ = clean_text("Big News Today Here Big News Today Here\nBody text.")
        assert text == "Big News Today Here\n\nBody text."

    def test_empty_document_is_an_error(self):
        with pytest.raises(CorpusError, match="no text left"):
            make_document("x", "Copyright 2024. All rights reserved.")


class TestLoading:
    def test_missing_folder(self, tmp_path):
        with pytest.raises(CorpusError, match="does not exist"):
            load_folder(tmp_path / "nope")

    def test_empty_folder(self, tmp_path):
        with pytest.raises(CorpusError, match="holds no"):
            load_folder(tmp_path)

    def test_html_markup_is_extracted_not_indexed(self, tmp_path):
        page = tmp_path / "page.html"
        page.write_text(
            "<html><head><title>Zebras</title><script>var x = 1;</script></head><body>"
            "<nav>Home | About</nav><article><p>Zebras have black and white stripes that "
            "help them keep cool in the savanna heat.</p><p>A group of zebras is called a "
            "dazzle, and they live in Africa.</p></article></body></html>",
            encoding="utf-8",
        )
        doc = load_file(page)
        assert "dazzle" in doc.text
        assert "<p>" not in doc.text and "var x" not in doc.text
        assert doc.title == "Zebras"

    def test_markdown(self, tmp_path):
        (tmp_path / "notes.md").write_text("# Notes\n\nThe capital of Peru is Lima.\n")
        assert "Lima" in load_folder(tmp_path)[0].text

    def test_pdf(self, tmp_path):
        from pypdf import PdfWriter

        # A PDF without text extracts to nothing, which is reported, not indexed silently.
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        with (tmp_path / "blank.pdf").open("wb") as fh:
            writer.write(fh)
        with pytest.raises(CorpusError, match="no text left"):
            load_file(tmp_path / "blank.pdf")

    def test_broken_pdf(self, tmp_path):
        (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
        with pytest.raises(CorpusError, match="broken.pdf"):
            load_file(tmp_path / "broken.pdf")

    def test_binary_file_refused(self, tmp_path):
        (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02abc")
        with pytest.raises(CorpusError, match="binary"):
            load_file(tmp_path / "bin.txt")

    def test_non_utf8_refused(self, tmp_path):
        (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
        with pytest.raises(CorpusError, match="UTF-8"):
            load_file(tmp_path / "latin.txt")

    def test_skip_bad_files(self, tmp_path):
        (tmp_path / "good.txt").write_text("Good text about cats.")
        (tmp_path / "bad.txt").write_bytes(b"\x00\x00")
        docs = load_folder(tmp_path, skip_bad=True)
        assert [d.doc_id for d in docs] == ["good"]

    def test_readme_is_reported_not_dropped_silently(self, tmp_path):
        (tmp_path / "notes.txt").write_text("Cats sleep for most of the day.")
        (tmp_path / "README.md").write_text("# About this folder\n\nNotes on cats.")
        docs, skipped = scan_folder(tmp_path, skip_bad=False)  # left out on purpose: no error
        assert [d.doc_id for d in docs] == ["notes"]
        assert [(f.name, f.bad) for f in skipped] == [("README.md", False)]
        assert "rename it" in skipped[0].reason

    def test_folder_with_only_a_readme_says_why_it_is_empty(self, tmp_path):
        (tmp_path / "readme.md").write_text("# About this folder")
        with pytest.raises(CorpusError, match="besides readme.md .*rename it"):
            scan_folder(tmp_path)

    def test_unsupported_type(self, tmp_path):
        (tmp_path / "x.docx").write_text("hi")
        with pytest.raises(CorpusError, match="unsupported"):
            load_file(tmp_path / "x.docx")

    def test_odd_unicode_is_kept(self, tmp_path):
        (tmp_path / "u.txt").write_text("Caf\u0065\u0301 \u201cquoted\u201d \u2014 emoji \U0001f600 text.")
        doc = load_folder(tmp_path)[0]
        assert "Caf\u00e9" in doc.text  # NFC-composed
