"""Static parts of the web page: its stylesheet and the small scripts it runs.

The scripts are plain strings handed to Gradio (``head`` and ``js=``); raw strings, so that
JavaScript escapes such as ``\\d`` and ``\\n`` reach the browser as written.
"""

CSS = """
mark.answer { background: #ffe066; padding: 0 2px; border-radius: 3px; }
mark.term { background: #d0ebff; padding: 0 1px; border-radius: 2px; }
.qa-answer { font-size: 1.1em; }
.qa-meta { color: #666; font-size: 0.85em; }
.qa-passage { border: 1px solid #ddd; border-radius: 6px; padding: 8px; margin-bottom: 8px; }
.qa-notfound { color: #a61e4d; font-weight: 600; }
.qa-conf { border-radius: 4px; padding: 0 5px; font-size: 0.85em; color: #fff; cursor: help; }
.qa-conf-high { background: #2b8a3e; } .qa-conf-medium { background: #e67700; }
.qa-conf-low { background: #868e96; }
.qa-cite { font-weight: 600; }
.qa-open { border: 1px solid #adb5bd; border-radius: 4px; cursor: pointer; text-decoration: none;
           font-size: 0.85em; padding: 0 6px; margin-left: 4px; }
.qa-open:focus-visible { outline: 2px solid #1c7ed6; }
#open-doc { display: none; }
.qa-doc { max-height: 420px; overflow: auto; white-space: pre-wrap; border: 1px solid #ddd;
          border-radius: 6px; padding: 8px; }
"""
# A click on an "open" link anywhere on the page (sources panel or chat) asks the server for that
# document: the link's target goes into a hidden textbox whose change event is wired below. A
# link, not a button with data attributes: the chat's HTML sanitiser keeps href and drops data-*.
HEAD = r"""<script>
document.addEventListener('click', (e) => {
  const a = e.target.closest('a.qa-open');
  const box = document.querySelector('#open-doc textarea');
  const m = a && (a.getAttribute('href') || '').match(/^#open:(.*):(\d+):(\d+)$/);
  if (!m || !box) return;
  e.preventDefault(); e.stopPropagation();
  box.value = JSON.stringify({doc: decodeURIComponent(m[1]), start: Number(m[2]), end: Number(m[3]),
                              t: Date.now()});
  box.dispatchEvent(new Event('input', {bubbles: true}));
}, true);
// "Copy message" on an answer copies plain text with its citation, not the HTML of the card.
if (navigator.clipboard && navigator.clipboard.writeText) {
  const write = navigator.clipboard.writeText.bind(navigator.clipboard);
  navigator.clipboard.writeText = (text) => write(qaPlain(String(text)));
}
function qaPlain(text) {
  if (!/class="qa-/.test(text)) return text;
  const d = new DOMParser().parseFromString(text, 'text/html');
  const answer = d.querySelector('.qa-answer strong');
  if (!answer) return (d.body.textContent || '').trim();
  const sentence = (d.querySelector('.qa-sentence')?.textContent || '').trim();
  const cites = [...d.querySelectorAll('.qa-cites li')].map(li => (li.firstChild?.textContent || '').trim());
  return answer.textContent.trim() + (sentence ? '\n"' + sentence + '"' : '') +
         (cites.length ? '\nSource: ' + cites.join('; ') : '');
}
// Gradio labels each chat message for screen readers with its raw content, which for an answer
// is HTML: keep such labels to the text a reader should hear.
function qaFixLabels() {
  document.querySelectorAll('#chat [aria-label*="<"]').forEach((el) => {
    const label = el.getAttribute('aria-label');
    const i = label.indexOf('<');
    el.setAttribute('aria-label', label.slice(0, i) + qaPlain(label.slice(i)));
  });
}
new MutationObserver(qaFixLabels).observe(document.documentElement,
  {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label']});
</script>"""
# After the viewer or the chat updates: bring the highlighted span, or the new answer, into view.
SHOW_MARK = "() => { const m = document.getElementById('viewer-mark'); if (m) m.scrollIntoView({block: 'center'}); }"
SHOW_ANSWER = """() => { const m = [...document.querySelectorAll("#chat .message.bot, #chat [data-testid='bot']")].pop();
  if (!m) return;
  let box = m.parentElement;  // the chat's scrolling box: the reply's first line under its header
  while (box && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
  if (box && box !== document.body && box !== document.documentElement)
    box.scrollTop += m.getBoundingClientRect().top - box.getBoundingClientRect().top - 48;
  const r = m.getBoundingClientRect();  // then the page, on a small screen
  if (r.top < 0 || r.top > window.innerHeight - 120) window.scrollBy(0, r.top - 80); }"""
