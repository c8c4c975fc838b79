"""End to end in a real browser: Debian's Chromium driven by Playwright against `qa serve`."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():  # pragma: no cover - make test installs it
    pytest.skip("Debian chromium is not installed (make test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(live_server):
    return live_server


@pytest.fixture(scope="module")
def page(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(server, wait_until="domcontentloaded")
        page.locator("#question textarea").wait_for(timeout=60_000)
        yield page
        browser.close()


def ask(page, question: str, n_before: int):
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    bot = page.locator("#chat .message.bot, #chat [data-testid='bot']")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#chat .message.bot, #chat [data-testid='bot']\").length > n",
        arg=n_before, timeout=30_000,
    )
    # Gradio first shows a placeholder; wait for the rendered reply.
    page.wait_for_function(
        """() => { const m = document.querySelectorAll("#chat .message.bot, #chat [data-testid='bot']");
                   const t = m[m.length - 1].innerText;
                   return t.includes('confidence') || t.includes('Not found') || t.includes('⚠'); }""",
        timeout=30_000,
    )
    return bot.last


def bot_count(page) -> int:
    return page.locator("#chat .message.bot, #chat [data-testid='bot']").count()


def test_page_shows_its_corpus_before_any_question(page):
    overview = page.locator("#sources .qa-corpus")
    overview.wait_for(timeout=10_000)
    text = overview.inner_text()
    assert "This corpus holds 5 documents" in text
    assert "China approves first batch of large language models of 2024 — South China Morning Post" in text
    assert "efa03a2983bcb19c" not in text  # titles, not hash ids


def test_answer_highlight_follow_up_abstain_and_upload(page, tmp_path):
    msg = ask(page, "Who founded 01.AI?", bot_count(page))
    badge = msg.locator(".qa-conf")
    assert badge.inner_text() in ("high confidence", "medium confidence", "low confidence")
    assert "withheld" in badge.get_attribute("title")
    header = page.locator("#sources .qa-passage .qa-cite").first.inner_text()
    assert header.startswith("1. ") and "efa03a" not in header
    assert "01.<mark" not in page.locator("#sources").inner_html()  # "AI" of "01.AI" is not a word
    msg.locator("mark.answer").first.wait_for(timeout=10_000)
    assert "Lee Kai-fu" in msg.locator("mark.answer").first.inner_text()
    assert "South China Morning Post" in msg.inner_text()
    sources = page.locator("#sources")
    assert "Lee Kai-fu" in sources.locator("mark.answer").first.inner_text()
    shots = ROOT / "docs"
    shots.mkdir(exist_ok=True)
    if os.environ.get("QA_SCREENSHOT"):
        page.screenshot(path=str(shots / "screenshot.png"), full_page=False)

    msg = ask(page, "Who founded Frontis.AI?", bot_count(page))
    assert "Zhou Bowen" in msg.inner_text()
    msg = ask(page, "In what year was it founded?", bot_count(page))
    assert "searched for: In what year was Frontis.AI founded?" in msg.inner_text()
    assert "2021" in msg.locator("mark.answer").first.inner_text()

    msg = ask(page, "What is the capital of France?", bot_count(page))
    assert "Not found in the corpus" in msg.inner_text()
    assert page.locator("#sources .qa-passage").count() > 0

    msg = ask(page, "<img src=x onerror=alert(1)> Who founded 01.AI?", bot_count(page))
    assert page.locator("#chat img[src='x']").count() == 0

    doc = tmp_path / "kiwi.txt"
    doc.write_text("The kiwi is a flightless bird native to New Zealand.\n", encoding="utf-8")
    page.get_by_text("Corpus", exact=True).click()
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    page.wait_for_function(
        "() => (document.querySelector('#upload-status')?.innerText || '').includes('indexed')",
        timeout=60_000,
    )
    assert "kiwi" in page.locator("#documents").inner_text()
    msg = ask(page, "Where is the kiwi bird native to?", bot_count(page))
    assert "New Zealand" in msg.locator("mark.answer").first.inner_text()


def test_thumbs_on_an_answer_are_stored(page):
    from qa import feedback
    from tests.conftest import LIVE

    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("() => document.querySelectorAll(\"#chat .message.bot, #chat [data-testid='bot']\").length === 0",
                           timeout=10_000)
    ask(page, "Who founded Frontis.AI?", 0)
    page.locator("#chat button[aria-label='Like']").last.click()
    path = LIVE["root"] / "index-feedback.jsonl"
    import time

    deadline = time.time() + 20
    while not (path.exists() and feedback.read(path)) and time.time() < deadline:
        time.sleep(0.2)
    rows = feedback.read(path)
    assert rows and rows[-1]["question"] == "Who founded Frontis.AI?"
    assert rows[-1]["answer"] == "Zhou Bowen" and rows[-1]["verdict"] == "up"
    assert rows[-1]["sources"] == ["000_efa03a2983bcb19c"]


def _in_view(page, selector: str) -> bool:
    """The last element matching ``selector`` is on screen and nothing covers its middle."""
    return page.evaluate(
        """sel => { const el = [...document.querySelectorAll(sel)].pop(); if (!el) return false;
                   const r = el.getBoundingClientRect();
                   if (!(r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight)) return false;
                   const hit = document.elementFromPoint(r.left + Math.min(20, r.width / 2), r.top + r.height / 2);
                   return !!hit && el.contains(hit); }""", selector)


def test_a_source_opens_the_whole_document_at_the_answer(page):
    page.get_by_role("button", name="New conversation").click()
    ask(page, "Who founded Frontis.AI?", 0)
    button = page.locator("#sources a.qa-open").first
    button.focus()  # reachable by keyboard: Enter opens it
    page.keyboard.press("Enter")
    mark = page.locator("#viewer-mark")
    mark.wait_for(timeout=15_000)
    assert mark.inner_text() == "Zhou Bowen"
    page.wait_for_function("() => { const r = document.getElementById('viewer-mark').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }", timeout=5_000)
    viewer = page.locator("#viewer .qa-doc").inner_text()
    assert len(viewer) > 2000 and "Frontis.AI" in viewer  # the whole document, not the passage
    assert "South China Morning Post" in page.locator("#viewer .qa-cite").inner_text()
    # the citation under the answer in the chat opens it too
    page.locator("#chat a.qa-open").last.click()
    page.wait_for_function("() => document.getElementById('viewer-mark')?.innerText === 'Zhou Bowen'",
                           timeout=15_000)


def test_on_a_phone_the_answer_line_is_visible_after_asking(page, server):
    """At 390 px: the corpus overview, the answer line after each question, and a source
    opened in the viewer are all readable without hunting for them."""
    phone = page.context.browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                                          has_touch=True)
    try:
        phone.goto(server, wait_until="domcontentloaded")
        phone.locator("#question textarea").wait_for(timeout=60_000)
        assert "This corpus holds 5 documents" in phone.locator("#sources .qa-corpus").inner_text()
        for i, q in enumerate(["Who founded Frontis.AI?", "In what year was it founded?"]):
            ask(phone, q, i)
            phone.wait_for_timeout(500)
            assert _in_view(phone, "#chat .qa-answer"), f"answer line of {q!r} is off screen"
        phone.locator("#chat a.qa-open").last.tap()
        phone.wait_for_function("() => document.getElementById('viewer-mark')?.innerText === '2021'",
                                timeout=15_000)
        phone.wait_for_timeout(500)
        assert _in_view(phone, "#viewer-mark"), "the opened answer is off screen"
    finally:
        phone.close()


def test_copy_message_gives_plain_text_with_the_citation(page, server):
    ctx = page.context.browser.new_context(viewport={"width": 1300, "height": 1000})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.rstrip("/"))
    p = ctx.new_page()
    try:
        p.goto(server, wait_until="domcontentloaded")
        p.locator("#question textarea").wait_for(timeout=60_000)
        ask(p, "Who founded Frontis.AI?", 0)
        p.locator("#chat button[aria-label='Copy message']").last.click()
        p.wait_for_timeout(300)
        text = p.evaluate("navigator.clipboard.readText()")
        assert text.startswith("Zhou Bowen\n") and "<" not in text
        assert "Source: China approves first batch of large language models of 2024 — South China Morning Post" in text
    finally:
        ctx.close()


def test_uploads_reach_other_pages_and_reset_asks_first(page, server, tmp_path):
    other = page.context.browser.new_page(viewport={"width": 1300, "height": 1000})
    try:
        other.goto(server, wait_until="domcontentloaded")
        other.locator("#question textarea").wait_for(timeout=60_000)
        other.get_by_text("Corpus", exact=True).click()
        doc = tmp_path / "lime.txt"
        doc.write_text("The lime is a green citrus fruit grown in Mexico.\n", encoding="utf-8")
        page.locator("#upload input[type=file]").set_input_files(str(doc))
        page.wait_for_function("() => (document.querySelector('#upload-status')?.innerText || '').includes('lime.txt')",
                               timeout=60_000)
        assert page.locator("#upload-status").inner_text().lstrip().startswith("✓")  # a text glyph, not an emoji
        # the other page's list shows it without a reload
        other.wait_for_function("() => document.querySelector('#documents').innerText.includes('upload:lime.txt')",
                                timeout=20_000)

        page.locator("#reset").click()
        page.locator("#reset-confirm").wait_for(state="visible", timeout=10_000)
        page.locator("#reset-no").click()
        page.locator("#reset-confirm").wait_for(state="hidden", timeout=10_000)
        page.wait_for_timeout(500)
        assert "upload:lime.txt" in page.locator("#documents").inner_text()  # cancel changed nothing
        page.locator("#reset").click()
        page.locator("#reset-yes").click()
        page.wait_for_function("() => !document.querySelector('#documents').innerText.includes('upload:lime.txt')",
                               timeout=30_000)
        other.wait_for_function("() => !document.querySelector('#documents').innerText.includes('upload:lime.txt')",
                                timeout=20_000)
    finally:
        other.close()


def test_an_example_question_is_asked_when_clicked(page):
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("() => document.querySelectorAll(\"#chat .message.bot, #chat [data-testid='bot']\").length === 0",
                           timeout=10_000)
    page.get_by_text("Who founded 01.AI?", exact=True).first.click()
    page.wait_for_function("() => (document.querySelector('#chat .qa-answer')?.innerText || '').includes('Lee Kai-fu')",
                           timeout=30_000)


def test_screen_readers_get_text_not_markup(page):
    page.get_by_role("button", name="New conversation").click()
    ask(page, "Who founded Frontis.AI?", 0)
    page.wait_for_timeout(300)
    labels = page.evaluate("() => [...document.querySelectorAll('#chat [aria-label]')].map(e => e.getAttribute('aria-label'))")
    assert not [x for x in labels if "<" in x], labels
    assert any(x.startswith("bot's message: Zhou Bowen") and "Source: China approves" in x for x in labels), labels
