"""Password hashing: argon2id through passlib, with OWASP's minimum parameters.

Why these rules: OWASP's password storage guidance asks for argon2id with at least 19 MiB of
memory, 2 iterations and 1 lane; NIST and OWASP ask to allow long passphrases (64+ characters)
and to verify the password exactly as typed (no trimming, no case folding, no truncation, no
Unicode normalisation), so every character the member chose counts.
"""

from __future__ import annotations

import functools

from passlib.context import CryptContext

from loyalty_app.domain.errors import N_, LoyaltyError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

# OWASP minimum for argon2id: m=19 MiB (19456 KiB), t=2, p=1.
ARGON2_MEMORY_COST_KIB = 19456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

_context = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=ARGON2_MEMORY_COST_KIB,
    argon2__time_cost=ARGON2_TIME_COST,
    argon2__parallelism=ARGON2_PARALLELISM,
)


def validate_new_password(password: str) -> None:
    """Refuse a password that is too short or absurdly long (the cap only bounds hashing cost)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise LoyaltyError(
            N_("Your password needs at least {minimum} characters."),
            code="password_too_short",
            minimum=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise LoyaltyError(
            N_("Your password can have at most {maximum} characters."),
            code="password_too_long",
            maximum=MAX_PASSWORD_LENGTH,
        )


def hash_password(password: str) -> str:
    """Validate and hash a new password; returns the ``$argon2id$...`` string to store."""
    validate_new_password(password)
    return _context.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """True only when ``password`` is exactly the one hashed. Malformed hashes never match."""
    if not isinstance(password, str) or not password_hash or len(password) > MAX_PASSWORD_LENGTH:
        # Still spend the hashing time, so refusals of oversized input are not faster.
        dummy_verify(password if isinstance(password, str) else "")
        return False
    try:
        return bool(_context.verify(password, password_hash))
    except (ValueError, TypeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash uses weaker or older parameters than the current policy."""
    try:
        return bool(_context.needs_update(password_hash))
    except (ValueError, TypeError):
        return True


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _context.hash("dummy password used to equalise timing")


def dummy_verify(password: str) -> None:
    """Spend the same time as a real verification (unknown email), so timing reveals nothing."""
    try:
        _context.verify(password[:MAX_PASSWORD_LENGTH], _dummy_hash())
    except (ValueError, TypeError):
        pass
