"""Searching the desk's records the way people type: case and accents do not matter.

"luden" finds "Lüdenscheidt" and "LOVELACE" finds "Lovelace": both sides are folded (Unicode
NFKD without its combining marks, then case-folded) before comparing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """`text` without accents and case, for comparing only (never for storing)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def search_words(text: str) -> list[str]:
    """The folded words of a search, to match with `has_every_word`."""
    return fold(text).split()


def has_every_word(words: Iterable[str], *fields: object) -> bool:
    """Whether each folded word occurs in one of the fields (None and missing fields match nothing)."""
    haystack = fold(" ".join(str(value) for value in fields if value))
    return all(word in haystack for word in words)
