"""Which language this browser shows: a small leaf state read by every ``t()`` text.

Order of precedence: a signed-in member's saved language (``apply``, called by the session state),
then the choice remembered on this device (``stored_lang`` in localStorage), then the browser's
``navigator.languages`` (``detect``), then English.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import reflex as rx
from reflex_base.vars.base import Var, VarData

from loyalty_app.settings import SUPPORTED_LANGUAGES

DEFAULT_LANGUAGE = "en"
STORAGE_KEY = "loyalty_lang"

# Evaluated in the browser by ``detect``; the result comes back to ``receive_browser_languages``.
_BROWSER_LANGUAGES_JS = (
    "(navigator.languages && navigator.languages.length) ? Array.from(navigator.languages) : [navigator.language || '']"
)


def pick_supported_language(candidates: Iterable[Any] | str | None) -> str:
    """The first supported language in a browser's preference list ("es-MX" -> "es"), else English."""
    if candidates is None:
        return DEFAULT_LANGUAGE
    if isinstance(candidates, str):
        candidates = [candidates]
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        base = candidate.strip().replace("_", "-").split("-")[0].lower()
        if base in SUPPORTED_LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def set_html_lang(lang: str) -> rx.event.EventSpec:
    """Keep ``<html lang>`` right for screen readers, hyphenation and the browser's translate offer."""
    return rx.call_script(f"document.documentElement.lang = {json.dumps(lang)}")


class LanguageState(rx.State):
    """The current language of this browser tab."""

    lang: str = DEFAULT_LANGUAGE
    # Remembered on this device; sync=True so other open tabs follow a change.
    stored_lang: str = rx.LocalStorage("", name=STORAGE_KEY, sync=True)

    def _apply(self, lang: str) -> bool:
        """Switch to ``lang`` and remember it on this device; False (nothing changes) when unsupported.

        A plain method so other states can call it after ``await self.get_state(LanguageState)``.
        """
        if lang not in SUPPORTED_LANGUAGES:
            return False
        self.lang = lang
        self.stored_lang = lang
        return True

    @rx.event
    def detect(self):
        """on_load/on_mount: use the remembered choice, else ask the browser for its languages."""
        if self.stored_lang in SUPPORTED_LANGUAGES:
            self.lang = self.stored_lang
            return set_html_lang(self.lang)
        return rx.call_script(_BROWSER_LANGUAGES_JS, callback=LanguageState.receive_browser_languages)

    @rx.event
    def receive_browser_languages(self, languages: list[str]):
        """Callback of ``detect``. A choice stored meanwhile (e.g. the member's saved language) wins."""
        if self.stored_lang in SUPPORTED_LANGUAGES:
            return set_html_lang(self.lang)
        self.lang = pick_supported_language(languages if isinstance(languages, (list, tuple, str)) else None)
        return set_html_lang(self.lang)

    @rx.event
    def choose(self, lang: str):
        """The member picked a language (an unsupported value changes nothing)."""
        if not self._apply(lang):
            return None
        return set_html_lang(self.lang)


class HtmlLangSync(rx.Fragment):
    """Renders nothing; sets ``<html lang>`` whenever ``LanguageState.lang`` changes.

    Covers every path (``apply`` from another state returns no event), so place it once in the shell.
    """

    def add_hooks(self) -> list[str | Var]:
        lang = LanguageState.lang
        hook = (
            f"useEffect(() => {{ if (typeof document !== 'undefined' && {lang!s}) "
            f"document.documentElement.lang = {lang!s}; }}, [{lang!s}]);"
        )
        return [
            Var(
                _js_expr=hook,
                _var_data=VarData.merge(lang._get_all_var_data(), VarData(imports={"react": ["useEffect"]})),
            )
        ]


def html_lang_sync() -> rx.Component:
    """Put once in the app shell: keeps ``<html lang>`` equal to the current language."""
    return HtmlLangSync.create()
