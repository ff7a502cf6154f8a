"""Page text that picks its language in the browser, at run time.

Reflex compiles each page once for everybody, so a translation chosen in Python while building a
page would fix one language for all members. ``t()`` instead compiles to a tiny JavaScript object
literal holding every language's text, indexed by ``LanguageState.lang``; switching language is a
state change, and React re-renders the text. Placeholders are filled in the browser too, from Python
values or from state vars (numbers are grouped the member's way by ``Intl.NumberFormat``).
"""

from __future__ import annotations

import json
from typing import Any, cast

from reflex_base.vars.base import LiteralVar, Var, VarData

from loyalty_app.i18n.catalogs import SOURCE_LANGUAGE, TRANSLATED_LANGUAGES, catalogs

# Fills {name} placeholders; "{{" and "}}" are literal braces, as in Python's str.format.
# A placeholder whose value is missing (undefined/null) stays visible instead of reading "undefined".
_REPLACE_PLACEHOLDERS_JS = (
    '.replace(/\\{\\{|\\}\\}|\\{(\\w+)\\}/g,(m,k)=>m=="{{"?"{":m=="}}"?"}":'
    '(p[k]==null?m:(typeof p[k]=="number"?new Intl.NumberFormat(l).format(p[k]):String(p[k]))))'
)


def _interpolated(template_js: str, lang_js: str, params_js: str) -> str:
    """JS: evaluate ``template_js`` (which may use ``l``, the language) and fill placeholders from ``p``.

    The language var is referenced once, as the argument ``l``, to keep each text small.
    """
    return f"((l,p)=>({template_js}){_REPLACE_PLACEHOLDERS_JS})({lang_js},{params_js})"


def _language_var() -> Var:
    # Imported late: the state module imports Reflex's state machinery, the catalogs do not.
    from loyalty_app.state.language import LanguageState

    return cast(Var, LanguageState.lang)


def _js_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _value_var(value: Any) -> Var:
    return value if isinstance(value, Var) else LiteralVar.create(value)


def _params_object(params: dict[str, Any]) -> tuple[str, list[VarData | None]]:
    parts: list[str] = []
    var_datas: list[VarData | None] = []
    for name, value in params.items():
        var = _value_var(value)
        parts.append(f"{_js_string(name)}:({var!s})")
        var_datas.append(var._get_all_var_data())
    return "{" + ",".join(parts) + "}", var_datas


def _unescape_braces(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def _string_var(js_expr: str, var_datas: list[VarData | None]) -> Var[str]:
    return Var(_js_expr=js_expr, _var_type=str, _var_data=VarData.merge(*var_datas)).to(str)


def t(msgid: str, **params: Any) -> Var[str]:
    """``msgid`` in the member's current language, as a Var for any component.

    Example: ``t("{points} points to {tier}", points=HomeState.points_to_next, tier=HomeState.next_tier)``.
    """
    loaded = catalogs()
    texts = {SOURCE_LANGUAGE: msgid}
    for lang in TRANSLATED_LANGUAGES:
        translated = loaded[lang].singulars.get(msgid)
        if translated:  # a missing translation is left out: the lookup falls back to English
            texts[lang] = translated
    lang_var = _language_var()
    var_datas = [lang_var._get_all_var_data()]
    if not params:
        texts = {lang: _unescape_braces(text) for lang, text in texts.items()}
    table = "{" + ",".join(f"{lang}:{_js_string(text)}" for lang, text in texts.items()) + "}"
    lookup_js = f"({table}[{lang_var!s}]??{_js_string(texts[SOURCE_LANGUAGE])})"
    if not params:
        return _string_var(lookup_js, var_datas)
    params_js, param_datas = _params_object(params)
    template_js = f"({table}[l]??{_js_string(texts[SOURCE_LANGUAGE])})"
    return _string_var(_interpolated(template_js, str(lang_var), params_js), var_datas + param_datas)


def t_in(msgid: str, lang_js: str) -> Var[str]:
    """``msgid`` in the language a JavaScript expression names, for text shown when no state can
    load (a page opened offline, a toast while Redis is down); English when untranslated."""
    loaded = catalogs()
    texts = {SOURCE_LANGUAGE: msgid}
    texts |= {lang: loaded[lang].singulars[msgid] for lang in TRANSLATED_LANGUAGES if loaded[lang].singulars.get(msgid)}
    table = "{" + ",".join(f"{lang}:{_js_string(text)}" for lang, text in texts.items()) + "}"
    return _string_var(f"({table}[{lang_js}]??{_js_string(msgid)})", [])


def _plural_function_js(lang: str) -> str:
    # gettext plural expressions are C syntax, which JavaScript evaluates identically for integers.
    return f"(n=>Number({catalogs()[lang].plural_expr}))"


def tn(singular: str, plural: str, n: Any, **params: Any) -> Var[str]:
    """Plural-aware ``t()``: picks the form by each language's CLDR/gettext rule; ``{n}`` is the count.

    Example: ``tn("{n} point", "{n} points", HomeState.balance)``.
    """
    loaded = catalogs()
    forms: dict[str, tuple[str, ...]] = {SOURCE_LANGUAGE: (singular, plural)}
    for lang in TRANSLATED_LANGUAGES:
        translated = loaded[lang].plurals.get(singular)
        if translated:
            forms[lang] = translated
    lang_var = _language_var()
    count_var = _value_var(n)
    params = {"n": count_var, **params}
    params_js, param_datas = _params_object(params)
    table = (
        "{"
        + ",".join(f"{lang}:[{','.join(_js_string(form) for form in lang_forms)}]" for lang, lang_forms in forms.items())
        + "}"
    )
    rules = "{" + ",".join(f"{lang}:{_plural_function_js(lang)}" for lang in forms) + "}"
    # Pick the language's forms (English when untranslated), then the form its rule names for |n|.
    choose_js = (
        f"((T,R)=>{{const f=T[l]??T.en,r=R[l]??R.en;"
        f"const i=r(Math.abs(Math.trunc(Number(p.n)||0)));return f[i]??f[f.length-1];}})({table},{rules})"
    )
    return _string_var(
        _interpolated(choose_js, str(lang_var), params_js),
        [lang_var._get_all_var_data(), *param_datas],
    )


def localized_number(value: Any, maximum_fraction_digits: int = 2) -> Var[str]:
    """A number grouped the member's way in the browser (ru "1 234", es "1.234"), e.g. a balance."""
    lang_var = _language_var()
    var = _value_var(value)
    js = (
        f"new Intl.NumberFormat({lang_var!s},{{maximumFractionDigits:{int(maximum_fraction_digits)}}}).format(Number({var!s})||0)"
    )
    return _string_var(js, [lang_var._get_all_var_data(), var._get_all_var_data()])
