"""The one translation mechanism: gettext .po catalogs (Babel) for en/es/ro/ru.

- Page text: ``t(msgid, **params)`` / ``tn(singular, plural, n, **params)`` return Reflex Vars that
  resolve in the browser from ``LanguageState.lang`` (pages are compiled once for everybody).
- Server text: ``translate(lang, msgid, **params)``, ``translate_plural``, ``translate_error``.
- Locale formatting (Babel/CLDR): ``format_number``, ``format_points``, ``format_currency``,
  ``format_date``, ``format_datetime``, ``format_time``, ``format_relative``,
  ``format_duration``.

Messages are English msgids with ``{name}`` placeholders; ``scripts/i18n.py extract`` collects them.
The browser helpers import Reflex, so they load lazily: services can import ``translate`` cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyalty_app.i18n.catalogs import normalize_language, reload_catalogs
from loyalty_app.i18n.server import (
    format_currency,
    format_date,
    format_datetime,
    format_duration,
    format_number,
    format_points,
    format_relative,
    format_time,
    safe_format,
    translate,
    translate_error,
    translate_plural,
)

if TYPE_CHECKING:
    from loyalty_app.i18n.browser import localized_number, t, tn

_BROWSER_NAMES = {"t", "tn", "localized_number"}


def __getattr__(name: str) -> Any:
    if name in _BROWSER_NAMES:
        from loyalty_app.i18n import browser

        return getattr(browser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "format_currency",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_number",
    "format_points",
    "format_relative",
    "format_time",
    "localized_number",
    "normalize_language",
    "reload_catalogs",
    "safe_format",
    "t",
    "tn",
    "translate",
    "translate_error",
    "translate_plural",
]
