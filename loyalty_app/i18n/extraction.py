"""Collect every message the code base uses and keep the catalogs in step (pybabel-style).

Shared by ``scripts/i18n.py`` (extract/check) and the tests, so a message added anywhere under
``loyalty_app/`` without translations fails the test suite.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from loyalty_app.i18n.catalogs import (
    LOCALES_DIR,
    TEMPLATE_PATH,
    TRANSLATED_LANGUAGES,
    po_path,
    read_catalog,
    reload_catalogs,
)
from loyalty_app.settings import PROJECT_ROOT

SOURCE_DIR = PROJECT_ROOT / "loyalty_app"
BABEL_CFG = PROJECT_ROOT / "babel.cfg"

# Our translation entry points and which (1-based) arguments are the English msgid(s).
KEYWORDS: dict[str, Any] = {
    "t": None,  # t(msgid, **params)
    "tn": (1, 2),  # tn(singular, plural, n, **params)
    "translate": (2,),  # translate(lang, msgid, **params)
    "translate_plural": (2, 3),  # translate_plural(lang, singular, plural, n, **params)
    "translated": (2,),  # state.forms.translated(state, msgid, **params)
    "N_": None,  # marker for msgids kept in constants and LoyaltyError(...)
}
PROJECT_NAME = "loyalty_app"
_FORMATTER = string.Formatter()


def _method_map() -> list[tuple[str, str]]:
    if BABEL_CFG.exists():
        with BABEL_CFG.open() as fh:
            method_map, _options = parse_mapping_cfg(fh)
        return method_map
    return [("**.py", "python")]


def _include_directory(dirname: str) -> bool:
    name = Path(dirname).name
    return not (name.startswith((".", "_")) or name == "node_modules" or name == "locales")


def extract_template(source_dir: Path = SOURCE_DIR) -> Catalog:
    """A fresh template catalog of every msgid used under ``source_dir``, with source locations."""
    template = Catalog(project=PROJECT_NAME, fuzzy=False, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        source_dir,
        method_map=_method_map(),
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
        directory_filter=_include_directory,
    ):
        if not message or (isinstance(message, tuple) and not all(message[:2])):
            continue
        location = (str(Path("loyalty_app") / filename), lineno)
        template.add(message, None, [location], auto_comments=comments, context=context)
    return template


def _po_bytes(catalog: Catalog, **kwargs) -> bytes:
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, sort_output=True, include_lineno=False, **kwargs)
    return buffer.getvalue()


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write only real changes: the POT-Creation-Date header alone must not dirty the tree."""
    if path.exists():
        old = path.read_bytes()
        if _strip_dates(old) == _strip_dates(data):
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def _strip_dates(data: bytes) -> bytes:
    return b"\n".join(line for line in data.splitlines() if not line.startswith((b'"POT-Creation-Date', b'"PO-Revision-Date')))


def update_catalogs(source_dir: Path = SOURCE_DIR) -> dict[str, object]:
    """Rewrite messages.pot and merge it into every language's .po, keeping existing translations.

    Returns a summary: number of msgids and, per language, the msgids still untranslated.
    """
    template = extract_template(source_dir)
    now = datetime.now(UTC)
    template.creation_date = now
    written = []
    if _write_if_changed(TEMPLATE_PATH, _po_bytes(template)):
        written.append(TEMPLATE_PATH)
    missing: dict[str, list[str]] = {}
    for lang in TRANSLATED_LANGUAGES:
        path = po_path(lang)
        if path.exists():
            catalog = read_catalog(path, lang)
        else:
            catalog = Catalog(locale=lang, project=PROJECT_NAME, charset="utf-8", fuzzy=False)
            catalog.revision_date = now
        # No fuzzy matching: a guessed translation of a different sentence is worse than English.
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        if _write_if_changed(path, _po_bytes(catalog, ignore_obsolete=True)):
            written.append(path)
        missing[lang] = [_msgid_text(m.id) for m in catalog if m.id and not _is_translated(m)]
    reload_catalogs()
    return {"msgids": len([m for m in template if m.id]), "written": written, "missing": missing}


def _msgid_text(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else " | ".join(msgid)


def _is_translated(message) -> bool:
    if message.fuzzy:
        return False
    if message.pluralizable:
        forms = message.string or ()
        return bool(forms) and all(forms)
    return bool(message.string)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a format string ("{{" is a literal brace); unparsable -> {"<invalid>"}."""
    try:
        return {field for _lit, field, _spec, _conv in _FORMATTER.parse(text) if field is not None}
    except ValueError:
        return {"<invalid braces>"}


@dataclass(frozen=True)
class Problem:
    lang: str
    msgid: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.lang}] {self.reason}: {self.msgid!r}"


def check_catalogs(template: Catalog | None = None) -> list[Problem]:
    """Every msgid of ``template`` (default: freshly extracted) must be translated in es/ro/ru with
    exactly the msgid's placeholders (plural forms: those of singular+plural, count may be implied)."""
    if template is None:
        template = extract_template()
    problems: list[Problem] = []
    for lang in TRANSLATED_LANGUAGES:
        path = po_path(lang)
        catalog = read_catalog(path, lang) if path.exists() else Catalog(locale=lang)
        for wanted in template:
            if not wanted.id:
                continue
            text = _msgid_text(wanted.id)
            found = catalog.get(wanted.id[0] if isinstance(wanted.id, tuple) else wanted.id)
            if found is None or not _is_translated(found):
                problems.append(Problem(lang, text, "missing translation"))
                continue
            if wanted.pluralizable != found.pluralizable:
                problems.append(Problem(lang, text, "singular/plural mismatch (re-run extract)"))
                continue
            if wanted.pluralizable:
                expected = placeholders(wanted.id[0]) | placeholders(wanted.id[1])
                forms = list(found.string or ())
                if len(forms) != catalog.num_plurals:
                    problems.append(Problem(lang, text, f"needs {catalog.num_plurals} plural forms"))
                for form in forms:
                    got = placeholders(form)
                    # A form may leave out the count ("один балл"), never add or drop anything else.
                    if not got <= expected or (expected - {"n"}) - got:
                        problems.append(Problem(lang, text, f"placeholders {sorted(got)} != {sorted(expected)}"))
            else:
                expected = placeholders(_msgid_text(wanted.id))
                got = placeholders(str(found.string))
                if got != expected:
                    problems.append(Problem(lang, text, f"placeholders {sorted(got)} != {sorted(expected)}"))
    return problems


def read_template() -> Catalog:
    with TEMPLATE_PATH.open("rb") as fh:
        return read_po(fh)


def iter_msgids(catalog: Catalog) -> Iterable[str | tuple[str, ...] | list[str]]:
    return (m.id for m in catalog if m.id)


__all__ = [
    "KEYWORDS",
    "LOCALES_DIR",
    "Problem",
    "check_catalogs",
    "extract_template",
    "placeholders",
    "read_template",
    "update_catalogs",
]
