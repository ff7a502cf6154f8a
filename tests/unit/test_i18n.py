"""The translation mechanism: catalogs complete, server translation, locale formatting,
browser-side ``t()``/``tn()`` Vars (evaluated in Node when it is installed) and LanguageState."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
import reflex as rx
from babel import Locale

from loyalty_app.domain.errors import N_, LoyaltyError, NotAllowed
from loyalty_app.i18n import (
    format_currency,
    format_date,
    format_datetime,
    format_duration,
    format_number,
    format_points,
    format_relative,
    localized_number,
    t,
    tn,
    translate,
    translate_error,
    translate_plural,
)
from loyalty_app.i18n.catalogs import TRANSLATED_LANGUAGES, catalogs
from loyalty_app.i18n.extraction import check_catalogs, extract_template, placeholders
from loyalty_app.settings import SUPPORTED_LANGUAGES
from loyalty_app.state.language import HtmlLangSync, LanguageState, pick_supported_language

NBSP = "\u00a0"
LANG_JS = str(LanguageState.lang)


# ------------------------------------------------------------------ catalogs are complete


@pytest.fixture(scope="module")
def template():
    return extract_template()


def test_every_msgid_in_the_code_base_is_translated_with_the_same_placeholders(template):
    problems = check_catalogs(template)
    assert not problems, (
        "Untranslated or mismatched messages; run `make i18n` (python scripts/i18n.py extract), "
        "translate them in loyalty_app/i18n/locales/*/LC_MESSAGES/messages.po, then `make i18n-check`:\n"
        + "\n".join(str(p) for p in problems)
    )


def test_extractor_finds_every_kind_of_call(template):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert "Sign in" in ids  # t() in a page
    assert "Please sign in first." in ids  # N_() constant / LoyaltyError
    assert "Home" in ids  # core vocabulary
    plural = template.get("{n} point")
    assert plural is not None and plural.id == ("{n} point", "{n} points")  # translate_plural(lang, s, p, n)


def test_placeholder_parsing():
    assert placeholders("{points} points to {tier}") == {"points", "tier"}
    assert placeholders("{{literal}} and {x:.2f}") == {"x"}
    assert placeholders("broken {") == {"<invalid braces>"}


# ------------------------------------------------------------------ server translation


def test_translate_in_each_language_and_fallbacks():
    assert translate("es", "Wrong email or password.") == "Correo o contraseña incorrectos."
    assert translate("ru", "Sign in") == "Войти"
    assert translate("ro", "Hi, {name}", name="Ana") == "Salut, Ana"
    assert translate("en", "Hi, {name}", name="Ana") == "Hi, Ana"
    # unknown language and unknown msgid fall back to English
    assert translate("xx", "Sign in") == "Sign in"
    assert translate("es-MX", "Sign in") == "Iniciar sesión"
    assert translate("es", "A sentence nobody translated, {who}.", who="x") == "A sentence nobody translated, x."
    assert translate(None, "Sign in") == "Sign in"


def test_translate_never_crashes_on_params():
    assert translate("en", "Hi, {name}") == "Hi, {name}"  # missing param stays visible
    assert translate("es", "Hi, {name}", other=1) == "Hola, {name}"
    assert translate("en", "Broken {", name="x") == "Broken {"
    assert translate("en", "{a.__class__} {b[0]}", a="x", b=[1]) == "{a.__class__} {b[0]}"  # no object access
    assert translate("en", "{x:.1f} and {{braces}}", x=2) == "2.0 and {braces}"


def test_number_params_follow_the_language():
    msg = "Not enough points: you have {available}."
    assert translate("en", msg, available=12345) == "Not enough points: you have 12,345."
    assert translate("ru", msg, available=12345) == f"Недостаточно баллов: у вас 12{NBSP}345."
    assert translate("es", msg, available=True) == "No tienes suficientes puntos: tienes True."  # bools are not numbers


def test_translate_error_uses_the_errors_msgid_and_params():
    err = LoyaltyError(N_("Too many sign-in attempts. Try again in {minutes} minutes."), code="throttled", minutes=15)
    assert translate_error("es", err) == ("Demasiados intentos de inicio de sesión. Inténtalo de nuevo en 15 minutos.")
    assert translate_error("ru", NotAllowed(N_("You are not allowed to do this."), code="denied")) == (
        "У вас нет прав на это действие."
    )
    assert translate_error("en", err) == str(err)


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("en", 1, "1 point"),
        ("en", 0, "0 points"),
        ("es", 1, "1 punto"),
        ("es", 5, "5 puntos"),
        ("ru", 1, "1 балл"),
        ("ru", 3, "3 балла"),
        ("ru", 5, "5 баллов"),
        ("ru", 11, "11 баллов"),
        ("ru", 21, "21 балл"),
        ("ru", 1234, f"1{NBSP}234 балла"),
        ("ro", 1, "1 punct"),
        ("ro", 19, "19 puncte"),
        ("ro", 20, "20 de puncte"),
        ("ro", 101, "101 puncte"),
    ],
)
def test_plural_forms(lang, n, expected):
    assert format_points(lang, n) == expected
    assert translate_plural(lang, "{n} point", "{n} points", n) == expected


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_catalog_plural_rule_agrees_with_cldr(lang):
    """The gettext rule used on both sides picks one form per CLDR category for whole numbers."""
    rule = Locale(lang).plural_form
    index_of = catalogs()[lang].plural_index
    seen: dict[str, int] = {}
    for n in range(0, 1200):
        category = rule(n)
        assert seen.setdefault(category, index_of(n)) == index_of(n), (lang, n, category)
    assert len(set(seen.values())) == len(seen) or lang == "es"  # es: CLDR "many" (millions) reuses "other"


# ------------------------------------------------------------------ locale formatting


def test_format_number_per_locale():
    assert format_number("ru", 1234.5) == f"1{NBSP}234,5"
    assert format_number("en", 1234.5) == "1,234.5"
    assert format_number("es", 12345.5) == "12.345,5"
    assert format_number("ro", 1234567) == "1.234.567"
    assert format_number("xx", 1234) == "1,234"


def test_format_currency_uses_minor_units():
    assert format_currency("en", 123456, "USD") == "$1,234.56"
    assert format_currency("es", 1999, "EUR") == f"19,99{NBSP}€"
    assert format_currency("ro", 500, "RON") == f"5,00{NBSP}RON"
    assert format_currency("en", 500, "JPY") == "¥500"  # no minor unit


def test_format_dates():
    day = date(2026, 3, 5)
    assert format_date("es", day) == "5 mar 2026"
    assert format_date("es", day, "long") == "5 de marzo de 2026"
    assert format_date("en", day) == "Mar 5, 2026"
    assert format_date("ru", day, "long") == "5 марта 2026\u202fг."
    instant = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    assert format_datetime("en", instant, "Europe/Bucharest", "short") == "3/6/26, 1:30\u202fAM"
    assert format_datetime("ro", instant, "Europe/Bucharest", "short") == "06.03.2026, 01:30"
    assert format_datetime("en", instant, "Not/AZone", "short") == "3/5/26, 11:30\u202fPM"  # falls back to UTC


def test_format_relative():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert format_relative("en", now + timedelta(days=2), now) == "in 2 days"
    assert format_relative("es", now + timedelta(days=2), now) == "dentro de 2 días"
    assert format_relative("ru", timedelta(hours=-3)) == "3 часа назад"
    assert format_relative("ro", timedelta(days=2)) == "peste 2 zile"
    assert format_duration("ru", timedelta(hours=2, minutes=10)) == "2 часа"
    assert translate("es", "Ends in {time}", time=format_duration("es", timedelta(days=3))) == "Termina en 3 días"


# ------------------------------------------------------------------ browser-side Vars


def _field_dependencies(var) -> dict:
    return dict(var._get_all_var_data().field_dependencies)


def test_t_compiles_to_all_languages_indexed_by_the_language_state():
    var = t("Sign in")
    js = str(var)
    for text in ("Sign in", "Iniciar sesión", "Autentificare", "Войти"):
        assert json.dumps(text, ensure_ascii=False) in js
    assert LANG_JS in js
    assert _field_dependencies(var) == {LanguageState.get_full_name(): ("lang",)}


class _DemoState(rx.State):
    points_to_next: int = 120
    next_tier: str = "Gold"


def test_t_tracks_state_vars_used_as_params():
    var = t("{points} points to {tier}", points=_DemoState.points_to_next, tier=_DemoState.next_tier)
    deps = _field_dependencies(var)
    assert deps[LanguageState.get_full_name()] == ("lang",)
    assert set(deps[_DemoState.get_full_name()]) == {"points_to_next", "next_tier"}
    assert str(_DemoState.points_to_next) in str(var)


def test_t_renders_inside_a_component():
    component = rx.el.p(t("Home"))
    rendered = json.dumps(component.render(), ensure_ascii=False)
    assert "Главная" in rendered and "Inicio" in rendered and "Acasă" in rendered
    hooks = "\n".join(component._get_all_hooks())
    assert LanguageState.get_full_name() in hooks  # the page subscribes to the language state


def test_html_lang_sync_sets_the_document_language():
    hooks = "\n".join(HtmlLangSync.create()._get_all_hooks())
    assert "document.documentElement.lang" in hooks and LANG_JS in hooks


@pytest.fixture(scope="module")
def run_js():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JavaScript of t()/tn() cannot be evaluated here")

    def run(expressions: list[str]) -> list:
        program = "console.log(JSON.stringify([" + ",".join(expressions) + "]))"
        out = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=30, check=True)
        return json.loads(out.stdout)

    return run


def _in(lang: str, var) -> str:
    """The var's JavaScript with the language state replaced by a fixed language."""
    return str(var).replace(LANG_JS, json.dumps(lang))


def test_t_javascript_picks_language_and_fills_placeholders(run_js):
    greeting = t("Hi, {name}", name="Ana")
    points = t("{points} points to {tier}", points=1234, tier="Gold")
    untranslated = t("No catalog has this, {x}!", x="ok")
    missing_param = t("Hi, {name}")
    braces = t("{{literal}} {x}", x=1)
    results = run_js(
        [
            _in("ru", greeting),
            _in("es", greeting),
            _in("xx", greeting),
            _in("ru", points),
            _in("en", points),
            _in("ro", untranslated),
            _in("es", missing_param),
            _in("en", braces),
            _in("ro", t("Sign in")),
        ]
    )
    assert results == [
        "Привет, Ana",
        "Hola, Ana",
        "Hi, Ana",  # unknown language -> English
        f"До уровня Gold осталось баллов: 1{NBSP}234",
        "1,234 points to Gold",
        "No catalog has this, ok!",
        "Hola, {name}",
        "{literal} 1",
        "Autentificare",
    ]


def test_tn_javascript_uses_each_languages_plural_rule(run_js):
    cases = [("ru", 1), ("ru", 3), ("ru", 5), ("ru", 21), ("ro", 1), ("ro", 7), ("ro", 20), ("es", 1), ("es", 2), ("en", 1)]
    results = run_js([_in(lang, tn("{n} point", "{n} points", n)) for lang, n in cases])
    assert results == [format_points(lang, n) for lang, n in cases]


def test_localized_number_javascript(run_js):
    assert run_js([_in("ru", localized_number(1234.5)), _in("en", localized_number(1234.5))]) == [
        f"1{NBSP}234,5",
        "1,234.5",
    ]


# ------------------------------------------------------------------ LanguageState


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (["es-MX", "en-US"], "es"),
        (["ro-RO"], "ro"),
        (["ru"], "ru"),
        (["de-DE", "fr"], "en"),
        (["de-DE", "ru-RU", "es"], "ru"),
        ("es_AR", "es"),
        ([], "en"),
        (None, "en"),
        ([None, 3, "RO"], "ro"),
    ],
)
def test_pick_supported_language(languages, expected):
    assert pick_supported_language(languages) == expected


def test_choose_rejects_unknown_and_accepts_supported():
    state = LanguageState()
    assert LanguageState.choose.fn(state, "xx") is None
    assert state.lang == "en" and state.stored_lang == ""
    assert LanguageState.choose.fn(state, "ro") is not None  # returns the <html lang> script
    assert state.lang == "ro" and state.stored_lang == "ro"


def test_detect_prefers_the_stored_choice_else_asks_the_browser():
    state = LanguageState()
    state.stored_lang = "ru"
    LanguageState.detect.fn(state)
    assert state.lang == "ru"

    fresh = LanguageState()
    spec = LanguageState.detect.fn(fresh)
    assert "navigator.languages" in str(spec.args)
    LanguageState.receive_browser_languages.fn(fresh, ["es-MX", "en"])
    assert fresh.lang == "es"
    assert fresh.stored_lang == ""  # a browser guess is not remembered as a choice


def test_saved_language_wins_over_a_late_browser_answer():
    state = LanguageState()
    assert state._apply("ru") is True
    LanguageState.receive_browser_languages.fn(state, ["es-MX"])
    assert state.lang == "ru"
    assert state._apply("xx") is False and state.lang == "ru"


def test_every_translated_language_has_a_catalog():
    assert set(TRANSLATED_LANGUAGES) == set(SUPPORTED_LANGUAGES) - {"en"}
    for lang in TRANSLATED_LANGUAGES:
        assert len(catalogs()[lang].singulars) > 100
