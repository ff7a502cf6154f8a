"""Server-side translation and locale formatting (emails, error messages, anything built in Python
at event time for ONE member). Page text uses ``t()`` instead, which resolves in the browser.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from numbers import Number
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.core import UnknownLocaleError

from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.i18n.catalogs import lookup, lookup_plural, normalize_language

_FORMATTER = string.Formatter()


def _is_number(value: object) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


def safe_format(template: str, params: dict[str, Any], lang: str | None = None) -> str:
    """``str.format`` that never raises: a missing (or non-identifier) placeholder stays as written.

    Numbers without an explicit format spec are written the way ``lang`` writes them (1 234,5),
    so error messages such as "you have {available}" read naturally in every language.
    """
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:  # unbalanced braces in a (bad) translation: show it rather than crash
        return template
    out: list[str] = []
    for literal, field, spec, conversion in parsed:
        out.append(literal)
        if field is None:
            continue
        if not field.isidentifier() or field not in params:
            # Attribute/index access is refused on purpose: templates must not reach into objects.
            written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            out.append(written)
            continue
        value = params[field]
        try:
            if conversion:
                value = _FORMATTER.convert_field(value, conversion)
            if spec:
                out.append(format(value, spec))
            elif lang and _is_number(value):
                out.append(format_number(lang, value))
            else:
                out.append(str(value))
        except (ValueError, TypeError):
            out.append(str(value))
    return "".join(out)


def translate(lang: str | None, msgid: str, **params: Any) -> str:
    """``msgid`` in ``lang`` (English when missing) with ``{name}`` placeholders filled in."""
    text = lookup(lang or "en", msgid) or msgid
    return safe_format(text, params, normalize_language(lang))


def translate_plural(lang: str | None, singular: str, plural: str, n: int, **params: Any) -> str:
    """ngettext with the language's plural rule; ``{n}`` is the count unless given explicitly."""
    text = lookup_plural(lang or "en", singular, plural, n)
    params.setdefault("n", n)
    return safe_format(text, params, normalize_language(lang))


def translate_error(lang: str | None, err: LoyaltyError) -> str:
    """The member-facing text of a refusal, in ``lang``."""
    return translate(lang, err.message, **err.params)


# ---------------------------------------------------------------- locale formatting (Babel/CLDR)


def _locale(lang: str | None) -> str:
    return normalize_language(lang)


def format_number(lang: str | None, n: int | float | Decimal) -> str:
    """Group separators and decimal mark of ``lang`` (ru: "1 234,5" with a no-break space)."""
    return babel_numbers.format_decimal(n, locale=_locale(lang))


def format_points(lang: str | None, n: int) -> str:
    """A points amount as a phrase with the right plural ("1 point", "21 балл", "5 баллов")."""
    return translate_plural(lang, "{n} point", "{n} points", int(n))


def format_currency(lang: str | None, cents: int, currency: str) -> str:
    """Money stored in minor units (cents) shown in ``lang``; JPY-like currencies have none."""
    code = (currency or "EUR").upper()
    try:
        digits = babel_numbers.get_currency_precision(code)
    except (UnknownLocaleError, KeyError):
        digits = 2
    amount = Decimal(int(cents)).scaleb(-digits)
    return babel_numbers.format_currency(amount, code, locale=_locale(lang))


def format_date(lang: str | None, d: date | datetime, fmt: str = "medium") -> str:
    """A calendar date ("23 nov 2026" in es); ``fmt`` is short/medium/long/full or a CLDR pattern."""
    if isinstance(d, datetime):
        d = d.date()
    return babel_dates.format_date(d, format=fmt, locale=_locale(lang))


def _timezone(tz_name: str | None):
    try:
        return babel_dates.get_timezone(tz_name or "UTC")
    except LookupError:
        return babel_dates.get_timezone("UTC")


def format_datetime(lang: str | None, dt: datetime, tz_name: str | None = "UTC", fmt: str = "medium") -> str:
    """An instant shown in the member's time zone (an unknown zone falls back to UTC).

    Naive datetimes are taken as UTC, the way the database stores them.
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return babel_dates.format_datetime(dt, format=fmt, tzinfo=_timezone(tz_name), locale=_locale(lang))


def format_time(lang: str | None, dt: datetime, tz_name: str | None = "UTC", fmt: str = "short") -> str:
    """Only the clock time of an instant, in the member's time zone."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return babel_dates.format_time(dt, format=fmt, tzinfo=_timezone(tz_name), locale=_locale(lang))


def format_relative(
    lang: str | None,
    when: datetime | timedelta,
    now: datetime | None = None,
    *,
    threshold: float = 0.85,
) -> str:
    """ "in 2 days" / "3 hours ago" in ``lang``; ``when`` is an instant or an offset from now."""
    if isinstance(when, datetime):
        if now is None:
            from loyalty_app.domain.clock import utcnow

            now = utcnow()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        delta = when - now
    else:
        delta = when
    return babel_dates.format_timedelta(delta, add_direction=True, threshold=threshold, locale=_locale(lang))


def format_duration(lang: str | None, delta: timedelta, *, threshold: float = 0.85) -> str:
    """A length of time without direction ("2 hours", "2 часа") for texts like "Ends in {time}"."""
    return babel_dates.format_timedelta(abs(delta), threshold=threshold, locale=_locale(lang))
