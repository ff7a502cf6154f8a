"""Load the gettext catalogs once and answer look-ups from plain dicts.

Why plain dicts: the browser-side ``t()`` embeds every language's text at page compile time and
the server-side ``translate()`` runs on every refused event, so both want a cheap, immutable
``{lang: {msgid: text}}`` view of the ``.po`` files rather than Babel ``Catalog`` objects.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from loyalty_app.settings import SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
TEMPLATE_PATH = LOCALES_DIR / "messages.pot"
SOURCE_LANGUAGE = "en"
# Languages with a catalog: every supported one except the source language (msgids are English).
TRANSLATED_LANGUAGES = tuple(lang for lang in SUPPORTED_LANGUAGES if lang != SOURCE_LANGUAGE)


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"


@dataclass(frozen=True)
class LanguageCatalog:
    """One language's usable translations (empty and fuzzy entries are left out: they fall back)."""

    lang: str
    singulars: dict[str, str]
    plurals: dict[str, tuple[str, ...]]
    plural_expr: str  # gettext C expression of n, also valid JavaScript
    plural_index: Callable[[int], int]


def _english_catalog() -> LanguageCatalog:
    expr = Catalog(locale=SOURCE_LANGUAGE).plural_expr
    return LanguageCatalog(SOURCE_LANGUAGE, {}, {}, expr, gettext.c2py(expr))


def read_catalog(path: Path, lang: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def _load_language(lang: str) -> LanguageCatalog:
    path = po_path(lang)
    if not path.exists():
        expr = Catalog(locale=lang).plural_expr
        return LanguageCatalog(lang, {}, {}, expr, gettext.c2py(expr))
    catalog = read_catalog(path, lang)
    singulars: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if message.pluralizable:
            forms = tuple(message.string or ())
            if forms and all(forms):
                plurals[message.id[0]] = forms
        elif message.string:
            singulars[str(message.id)] = str(message.string)
    expr = catalog.plural_expr
    return LanguageCatalog(lang, singulars, plurals, expr, gettext.c2py(expr))


@functools.cache
def catalogs() -> dict[str, LanguageCatalog]:
    """Every supported language's catalog, read once per process (``reload_catalogs`` resets)."""
    loaded = {SOURCE_LANGUAGE: _english_catalog()}
    for lang in TRANSLATED_LANGUAGES:
        loaded[lang] = _load_language(lang)
    return loaded


def reload_catalogs() -> None:
    """Forget the cached catalogs (after the extractor rewrote the .po files)."""
    catalogs.cache_clear()


def normalize_language(lang: str | None) -> str:
    """A supported language code for ``lang`` ("es-MX" -> "es"); English when unknown."""
    if not lang:
        return SOURCE_LANGUAGE
    base = str(lang).strip().replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED_LANGUAGES else SOURCE_LANGUAGE


def lookup(lang: str, msgid: str) -> str | None:
    """The translation of ``msgid`` in ``lang``; None when missing (caller falls back to English)."""
    return catalogs()[normalize_language(lang)].singulars.get(msgid)


def lookup_plural(lang: str, singular: str, plural: str, n: int) -> str:
    """gettext ngettext semantics with English fallback."""
    catalog = catalogs()[normalize_language(lang)]
    forms = catalog.plurals.get(singular)
    if forms:
        index = catalog.plural_index(abs(int(n)))
        if 0 <= index < len(forms):
            return forms[index]
    return singular if abs(int(n)) == 1 else plural
