"""Searching the desk's records the way people type: case and accents do not matter.

"luden" finds "Lüdenscheidt" and "LOVELACE" finds "Lovelace": both sides are folded (Unicode
NFKD without its combining marks, then case-folded) before comparing.
"""

from __future__ import annotations

from collections.abc import Iterable

from issuer.storage.folding import fold

__all__ = ["fold", "has_every_word", "search_words"]


def search_words(text: str) -> list[str]:
    """The folded words of a search, to match with `has_every_word`."""
    return fold(text).split()


def has_every_word(words: Iterable[str], *fields: object) -> bool:
    """Whether each folded word occurs in one of the fields (None and missing fields match nothing)."""
    haystack = fold(" ".join(str(value) for value in fields if value))
    return all(word in haystack for word in words)
