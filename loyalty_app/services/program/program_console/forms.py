"""The editor's form reader: ``_Form`` parses the browser's raw strings field by field and raises
every refusal at once as ``FormInvalid``; the field messages, and the helpers that write a row's
values back as form text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.domain.quests import local_to_utc, utc_to_local
from loyalty_app.domain.text import lines, one_line

REQUIRED = N_("This field is required.")
TOO_LONG = N_("At most {max} characters.")
NOT_A_WHOLE_NUMBER = N_("Enter a whole number.")
OUT_OF_RANGE = N_("Enter a number from {min} to {max}.")
NOT_A_DECIMAL = N_("Enter a number, like 1.5.")
MULTIPLIER_RANGE = N_("Enter a multiplier from ×{min} to ×{max}, like 1.5.")
BAD_DATETIME = N_("Enter a date and time, like 2026-12-24 18:00.")
ENDS_BEFORE_START = N_("The end must be after the start.")
BAD_COLOUR = N_("Enter a colour like #1F5F46.")
UNKNOWN_OPTION = N_("Choose one of the offered options.")

MAX_POINTS = 1_000_000
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
FORM_DATETIME = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> shows and sends


class FormInvalid(LoyaltyError):
    """One or more fields refused. ``message``/``code``/``params`` are the first refusal's
    (``params["field"]`` names its field); ``errors`` holds every refused field's own error."""

    def __init__(self, errors: dict[str, LoyaltyError]):
        first = next(iter(errors.values()))
        super().__init__(first.message, code=first.code, **first.params)
        self.errors = dict(errors)


class _Form:
    """Reads raw form strings; every refusal is kept (first per field) and raised by ``check``."""

    def __init__(self, raw: dict | None, tz: str):
        self.raw = {str(k): v for k, v in (raw or {}).items()}
        self.tz = tz
        self.errors: dict[str, LoyaltyError] = {}

    def fail(self, name: str, message: str, code: str, **params: Any) -> None:
        self.errors.setdefault(name, LoyaltyError(message, code=code, field=name, **params))

    def check(self) -> None:
        if self.errors:
            raise FormInvalid(self.errors)

    def s(self, name: str) -> str:
        value = self.raw.get(name)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        if value is None or isinstance(value, bool):
            return "on" if value is True else ""
        return str(value).strip()

    def text(self, name: str, *, max_len: int, required: bool = False, multiline: bool = False) -> str:
        value = lines(self.s(name)) if multiline else one_line(self.s(name))
        if required and not value:
            self.fail(name, REQUIRED, "field_required")
        elif len(value) > max_len:
            self.fail(name, TOO_LONG, "field_too_long", max=max_len)
        return value

    def integer(self, name: str, *, lo: int = 0, hi: int = MAX_POINTS, required: bool = False) -> int | None:
        value = self.s(name).replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
        if not value:
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        if not re.fullmatch(r"[+-]?\d{1,12}", value):
            self.fail(name, NOT_A_WHOLE_NUMBER, "not_a_whole_number")
            return None
        number = int(value)
        if not lo <= number <= hi:
            self.fail(name, OUT_OF_RANGE, "number_out_of_range", min=lo, max=hi)
            return None
        return number

    def _decimal(self, name: str) -> Decimal | None:
        value = self.s(name).replace(",", ".").lstrip("×xX*").strip()
        if not value:
            return None
        if not re.fullmatch(r"\d{1,6}(\.\d{1,2})?", value):
            self.fail(name, NOT_A_DECIMAL, "not_a_decimal")
            return None
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern above admits only decimals
            self.fail(name, NOT_A_DECIMAL, "not_a_decimal")
            return None

    def multiplier(self, name: str, *, lo: Decimal, hi: Decimal, above_lo: bool = False, required: bool = True) -> int | None:
        """A multiplier typed as ×N ("2", "1.5", "1,5"), returned in percent (150)."""
        if not self.s(name):
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        value = self._decimal(name)
        if value is None:
            return None
        if value > hi or value < lo or (above_lo and value == lo):
            self.fail(name, MULTIPLIER_RANGE, "multiplier_out_of_range", min=_fmt_dec(lo), max=_fmt_dec(hi))
            return None
        return int(value * 100)

    def rate(self, name: str) -> str | None:
        """Points per currency unit of a purchase rule ("1", "0.5", "1.25")."""
        if not self.s(name):
            self.fail(name, REQUIRED, "field_required")
            return None
        value = self._decimal(name)
        if value is None:
            return None
        if not Decimal("0.01") <= value <= Decimal(1000):
            self.fail(name, OUT_OF_RANGE, "number_out_of_range", min="0.01", max=1000)
            return None
        return _fmt_dec(value)

    def choice(self, name: str, allowed, *, default: str | None = None, required: bool = True) -> str | None:
        value = self.s(name)
        if not value:
            if default is not None:
                return default
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        if value not in allowed:
            self.fail(name, UNKNOWN_OPTION, "unknown_option")
            return None
        return value

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        """A wall-clock time in the merchant's timezone -> aware UTC."""
        value = self.s(name)
        if not value:
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        for fmt in DATETIME_FORMATS:
            try:
                local = datetime.strptime(value, fmt)
            except ValueError:
                continue
            if not 2000 <= local.year <= 2100:
                break
            return local_to_utc(local, self.tz)
        self.fail(name, BAD_DATETIME, "invalid_datetime")
        return None

    def window(self, end_name: str, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None and end <= start:
            self.fail(end_name, ENDS_BEFORE_START, "ends_before_start")

    def colour(self, name: str, *, default: str) -> str:
        value = self.s(name) or default
        if not re.fullmatch(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
            self.fail(name, BAD_COLOUR, "invalid_colour")
            return default
        digits = value.lstrip("#")
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return "#" + digits.lower()

    def flag(self, name: str) -> bool:
        return self.s(name).lower() in ("on", "true", "1", "yes")

    def keys(self, name: str, allowed: dict[str, str] | set[str], *, message: str, code: str) -> list[str]:
        """Several values: a comma-separated ``name`` and/or checkboxes named ``name:<value>``."""
        chosen: list[str] = [k.strip() for k in self.s(name).split(",") if k.strip()]
        prefix = name + ":"
        for raw_name in self.raw:
            if raw_name.startswith(prefix) and self.flag(raw_name):
                chosen.append(raw_name[len(prefix) :])
        result: list[str] = []
        for key in chosen:
            if key not in allowed:
                self.fail(name, message, code, value=key[:40])
            elif key not in result:
                result.append(key)
        return result


def _fmt_dec(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _pct_text(pct: int) -> str:
    return _fmt_dec(Decimal(pct) / Decimal(100))


def _local_text(at: datetime | None, tz: str) -> str:
    return utc_to_local(_aware(at), tz).strftime(FORM_DATETIME) if at is not None else ""


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _num(value: int | None) -> str:
    return "" if value is None else str(value)
