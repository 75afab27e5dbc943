"""Text folded for comparing the way people type: Unicode NFKD without its combining marks, then
case-folded ("luden" finds "Lüdenscheidt"). The storage indexes keep folded names with it; the
records compare searches with it (`issuer.records.text`)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """`text` without accents and case, for comparing only (never for storing as the value)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
