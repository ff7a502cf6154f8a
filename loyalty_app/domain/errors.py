"""Errors the domain and services raise, carrying a translatable message.

The message is an English gettext msgid with ``{name}`` placeholders; the state layer
translates it into the member's language (``loyalty_app.i18n.translate``). ``N_`` only marks a
string for extraction, so the domain stays free of any i18n import.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for translation extraction; returns it unchanged."""
    return message


class LoyaltyError(Exception):
    """A refused request: nothing was changed. ``code`` is stable for tests and logs."""

    def __init__(self, message: str, *, code: str, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.code = code
        self.params = params


class NotAllowed(LoyaltyError):
    """The actor may not do this (wrong role, another merchant's or member's object)."""


class NotFound(LoyaltyError):
    """Unknown id, or an id the actor must not learn exists."""


class Conflict(LoyaltyError):
    """Idempotency key reused with different parameters, or a state race lost."""
