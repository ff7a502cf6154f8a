"""Accounts: member sign-up, staff/admin creation (demo data, admin tools) and sign-in.

Sign-in follows OWASP's authentication advice: one generic message for an unknown email and a
wrong password, a dummy hash verification for unknown emails so timing does not reveal which
emails have accounts, throttling per account and per IP before the password is even checked,
every attempt recorded, every refusal logged, and a brand-new session on success.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NotRequired, TypedDict, Unpack

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotFound
from loyalty_app.domain.text import one_line
from loyalty_app.models import Account, LoginAttempt, Merchant, Role, StaffStore, Store
from loyalty_app.services.members import passwords, sessions
from loyalty_app.services.platform import events, throttle
from loyalty_app.services.platform.permissions import record_security_event
from loyalty_app.settings import SUPPORTED_LANGUAGES, Settings, get_settings

WRONG_CREDENTIALS = N_("Wrong email or password.")
TOO_MANY_ATTEMPTS = N_("Too many sign-in attempts. Try again in {minutes} minutes.")

MEMBER_NUMBER_DIGITS = 8
_MEMBER_NUMBER_ATTEMPTS = 20
_INSERT_ATTEMPTS = 5
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by
# mail, not by a regular expression; this only catches typing mistakes.
_EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True)
class SignInResult:
    """What the sign-in form needs: the browser exchanges the ticket for the session cookie."""

    account_id: int
    role: Role
    activation_ticket: str


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased: emails are compared case-insensitively within a merchant."""
    return (email or "").strip().lower()


def validate_email(email: str) -> str:
    """The normalised email, or a clear refusal."""
    normalised = normalise_email(email)
    if len(normalised) > 254 or not _EMAIL_PATTERN.match(normalised):
        raise LoyaltyError(N_("Please enter a valid email address."), code="invalid_email")
    return normalised


def _clean_name(value: str, *, required: bool) -> str:
    cleaned = one_line(value)
    if required and not cleaned:
        raise LoyaltyError(N_("Please enter your first name."), code="first_name_required")
    if len(cleaned) > 60:
        raise LoyaltyError(N_("Names can have at most {maximum} characters."), code="name_too_long", maximum=60)
    return cleaned


def _validate_language(language: str) -> str:
    if language not in SUPPORTED_LANGUAGES:
        raise LoyaltyError(N_("This language is not available."), code="bad_language")
    return language


def new_member_number() -> str:
    """8 random digits without a leading zero: short enough to type at the till, and random so
    numbers reveal neither the member count nor their neighbours."""
    low = 10 ** (MEMBER_NUMBER_DIGITS - 1)
    return str(low + secrets.randbelow(9 * low))


def _unused_member_number(session: Session, merchant_id: int) -> str:
    for _ in range(_MEMBER_NUMBER_ATTEMPTS):
        number = new_member_number()
        taken = session.exec(
            select(Account.id).where(Account.merchant_id == merchant_id, Account.member_number == number)
        ).first()
        if taken is None:
            return number
    raise Conflict(N_("Something went wrong. Please try again."), code="member_number_exhausted")


def _create_account(
    engine: Engine,
    *,
    role: Role,
    merchant_id: int,
    email: str,
    password: str,
    first_name: str,
    last_name: str = "",
    language: str = "en",
    now: datetime | None = None,
    store_ids: Iterable[int] = (),
) -> Account:
    """Validate everything, hash outside the transaction (argon2 is slow; a SQLite write lock
    must not wait for it), then insert, retrying if a concurrent sign-up took the number."""
    email = validate_email(email)
    first = _clean_name(first_name, required=True)
    last = _clean_name(last_name, required=False)
    language = _validate_language(language)
    password_hash = passwords.hash_password(password)
    now = now or utcnow()
    wanted_stores = sorted(set(store_ids))
    for _ in range(_INSERT_ATTEMPTS):
        try:
            with write_session(engine) as s:
                if s.get(Merchant, merchant_id) is None:
                    raise NotFound(N_("This program does not exist."), code="merchant_not_found")
                if _email_taken(s, merchant_id, email):
                    raise Conflict(
                        N_("An account with this email already exists. Please sign in instead."),
                        code="email_taken",
                    )
                if wanted_stores:
                    found = s.exec(select(Store.id).where(Store.merchant_id == merchant_id, Store.id.in_(wanted_stores))).all()
                    if sorted(found) != wanted_stores:
                        raise LoyaltyError(N_("Choose stores of this program only."), code="store_of_other_merchant")
                account = Account(
                    merchant_id=merchant_id,
                    role=role,
                    email=email,
                    password_hash=password_hash,
                    first_name=first,
                    last_name=last,
                    language=language,
                    member_number=_unused_member_number(s, merchant_id),
                    created_at=now,
                )
                s.add(account)
                s.flush()
                for store_id in wanted_stores:
                    s.add(StaffStore(account_id=account.id, store_id=store_id))
                if role == Role.MEMBER:
                    events.publish(s, events.MemberEnrolled(account, now))  # CRM outbox, same transaction
                return account
        except IntegrityError:
            # Lost a race: the same email or member number was inserted concurrently.
            with read_session(engine) as s:
                if _email_taken(s, merchant_id, email):
                    raise Conflict(
                        N_("An account with this email already exists. Please sign in instead."),
                        code="email_taken",
                    ) from None
    raise Conflict(N_("Something went wrong. Please try again."), code="account_insert_failed")


def _email_taken(session: Session, merchant_id: int, email: str) -> bool:
    return session.exec(select(Account.id).where(Account.merchant_id == merchant_id, Account.email == email)).first() is not None


class NewAccount(TypedDict):
    """Who a new account is: the fields every role's creation takes."""

    merchant_id: int
    email: str
    password: str
    first_name: str
    last_name: NotRequired[str]  # default ""
    language: NotRequired[str]  # default "en"
    now: NotRequired[datetime | None]


def sign_up_member(engine: Engine, **account: Unpack[NewAccount]) -> Account:
    """Create a member. The same email may exist in another merchant's program."""
    return _create_account(engine, role=Role.MEMBER, store_ids=(), **account)


def create_staff(engine: Engine, *, store_ids: Iterable[int], **account: Unpack[NewAccount]) -> Account:
    """Create a staff account bound to at least one store of the same merchant.

    No authorization here: callers (demo data, or an admin handler after
    ``authorize(..., Action.ADMIN_MANAGE_PROGRAM)``) decide who may create staff.
    """
    store_ids = list(store_ids)
    if not store_ids:
        raise LoyaltyError(N_("Choose at least one store for this staff member."), code="store_required")
    return _create_account(engine, role=Role.STAFF, store_ids=store_ids, **account)


def create_admin(engine: Engine, **account: Unpack[NewAccount]) -> Account:
    """Create a merchant admin (demo data, installation); no authorization here either."""
    return _create_account(engine, role=Role.ADMIN, store_ids=(), **account)


def sign_in(
    engine: Engine,
    *,
    merchant_id: int,
    email: str,
    password: str,
    ip: str,
    user_agent: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> SignInResult:
    """Verify the credentials and open a new session; the result carries its one-time ticket.

    Raises LoyaltyError with ``WRONG_CREDENTIALS`` (code "wrong_credentials") for an unknown
    email, a wrong password and a deleted or inactive account alike, or ``TOO_MANY_ATTEMPTS``
    (code "throttled") without checking the password.

    The attempt is recorded as a failure *before* the slow password check, in the same write
    transaction as the throttle count, so parallel guesses see each other.
    """
    now = now or utcnow()
    settings = settings or get_settings()
    email = normalise_email(email)[:254]
    ip = (ip or "")[:64]
    with write_session(engine) as s:
        lockout = throttle.check_lockout(s, merchant_id=merchant_id, email=email, ip=ip, now=now, settings=settings)
        attempt = throttle.record_attempt(
            s,
            merchant_id=merchant_id,
            email=email,
            ip=ip,
            success=False,
            throttled=lockout is not None,
            now=now,
        )
        attempt_id = attempt.id
        account = None
        if lockout is None:
            account = s.exec(select(Account).where(Account.merchant_id == merchant_id, Account.email == email)).first()
        account_id = account.id if account is not None else None
        password_hash = account.password_hash if account is not None else None
        refusal_reason = _account_refusal(account)
    if lockout is not None:
        record_security_event(
            engine,
            merchant_id=merchant_id,
            account_id=None,
            action="sign_in",
            reason=f"throttled_{lockout.scope}",
            detail={"email": email, "retry_after_s": int(lockout.retry_after.total_seconds())},
            ip=ip,
            now=now,
        )
        raise LoyaltyError(TOO_MANY_ATTEMPTS, code="throttled", minutes=lockout.minutes)

    if password_hash is None:
        passwords.dummy_verify(password)
        password_ok = False
    else:
        password_ok = passwords.verify_password(password, password_hash)
    if not password_ok or refusal_reason is not None:
        record_security_event(
            engine,
            merchant_id=merchant_id,
            account_id=account_id,
            action="sign_in",
            reason=refusal_reason if password_ok else ("wrong_password" if account_id else "unknown_email"),
            detail={"email": email},
            ip=ip,
            now=now,
        )
        raise LoyaltyError(WRONG_CREDENTIALS, code="wrong_credentials")

    rehashed = passwords.hash_password(password) if passwords.needs_rehash(password_hash) else None
    with write_session(engine) as s:
        account = s.get(Account, account_id)
        # Re-check inside the transaction: the account may have been disabled meanwhile.
        if _account_refusal(account) is not None or account.password_hash != password_hash:
            raise LoyaltyError(WRONG_CREDENTIALS, code="wrong_credentials")
        attempt = s.get(LoginAttempt, attempt_id)
        attempt.success = True
        s.add(attempt)
        if rehashed is not None:
            account.password_hash = rehashed
            s.add(account)
        _new_session, ticket = sessions.create_session(
            s, account=account, ip=ip, user_agent=user_agent, now=now, settings=settings
        )
        return SignInResult(account_id=account.id, role=Role(account.role), activation_ticket=ticket)


def _account_refusal(account: Account | None) -> str | None:
    """Why an existing account may not sign in (logged, never shown), or None."""
    if account is None:
        return "unknown_email"
    if account.deleted_at is not None:
        return "deleted_account"
    if not account.is_active:
        return "inactive_account"
    return None
