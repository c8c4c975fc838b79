"""Questions and queries as typed by people: normalised, stripped of markup, bounded."""
from __future__ import annotations

import unicodedata

from qa.errors import InputError

MAX_QUERY_CHARS = 2000
# Raw input may carry markup that cleaning removes, but never this much.
MAX_RAW_QUERY_CHARS = 4 * MAX_QUERY_CHARS


def clean_query(query: str) -> str:
    """Normalise a query and reject unusable ones.

    Raises:
        InputError: not a string, empty after stripping, or longer than MAX_QUERY_CHARS.
    """
    if not isinstance(query, str):
        raise InputError(f"query must be a string, got {type(query).__name__}")
    if len(query) > MAX_RAW_QUERY_CHARS:
        # Checked before any cleaning: parsing megabytes of markup is the costly part.
        raise InputError(
            f"query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}. "
            "Ask a shorter question."
        )
    query = unicodedata.normalize("NFKC", query)
    if "<" in query and ">" in query:
        # Markup pasted into a question is not part of it: keep the text only.
        from bs4 import BeautifulSoup

        query = BeautifulSoup(query, "html.parser").get_text(" ")
    # Control characters (other than whitespace) carry no meaning and confuse tokenizers.
    query = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in query)
    query = " ".join(query.split())
    if not query:
        raise InputError("query is empty; type a question or some keywords")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(
            f"query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}. "
            "Ask a shorter question."
        )
    return query
