"""What free text typed by people may contain: the one rule for names, subjects, reasons, notes.

Control characters (NUL, escape...) and the bidirectional overrides that can make a name read
backwards are dropped: PostgreSQL refuses NUL outright, SQLite would store it, and none of them
belong in a name on a card, a CSV cell or a CRM record. Joiners stay (ZWNJ is spelling in Persian,
ZWJ builds emoji). Whitespace is folded; multi-line text keeps its line breaks.
"""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _kept(ch: str) -> bool:
    if ch.isspace():
        return True
    return unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS


def printable(value: object) -> str:
    """``value`` as text without control characters or bidirectional overrides (whitespace kept)."""
    text = str(value if value is not None else "")
    return "".join(ch for ch in text if _kept(ch))


def one_line(value: object) -> str:
    """Trimmed, every run of whitespace (newlines too) folded to one space."""
    return " ".join(printable(value).split())


def lines(value: object) -> str:
    """Like ``one_line`` per line, line breaks kept (CRLF and CR read as LF), outer blank lines trimmed."""
    text = printable(value).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()
