"""THE one authorization helper: every protected event handler and service entry calls
``authorize`` with the actor resolved from the session cookie for *this* event.

Why one helper: OWASP ASVS asks to authorize every message (not just the connection), to check
the object (no reading another member's data by changing an id) and to log refusals. Keeping
role rules, object rules and the refusal log in one place makes them testable as a matrix.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyalty_app.db import holds_sqlite_write_lock, is_sqlite, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, NotAllowed
from loyalty_app.models import Account, Role, SecurityEvent, Store

log = logging.getLogger("loyalty_app.security")

NOT_ALLOWED = N_("You are not allowed to do this.")
SIGN_IN_FIRST = N_("Please sign in first.")
OWN_MEMBER_ACCOUNT = N_("You cannot serve your own member account. Ask a colleague.")


@dataclass(frozen=True)
class Actor:
    """Who is acting, as resolved from a valid server-side session.

    ``store_ids`` are the stores the actor may act for: the assigned stores for staff, every
    active store of the merchant for an admin, none for a member.
    """

    account_id: int
    merchant_id: int
    role: Role
    store_ids: frozenset[int] = field(default_factory=frozenset)
    session_id: int = 0


class Action(str, enum.Enum):
    """Everything protected. Member actions act on the member's own account; staff actions act
    on a member at a store; admin actions manage the merchant's program."""

    VIEW_OWN_MEMBER_DATA = "view_own_member_data"
    EDIT_OWN_PROFILE = "edit_own_profile"
    REDEEM_REWARD = "redeem_reward"
    DONATE = "donate"
    CANCEL_OWN_VOUCHER = "cancel_own_voucher"
    RATE_REWARD = "rate_reward"
    CHECK_IN = "check_in"  # scan a store's check-in poster
    STAFF_SCAN_MEMBER = "staff_scan_member"
    STAFF_CREDIT_PURCHASE = "staff_credit_purchase"
    STAFF_REDEEM_VOUCHER = "staff_redeem_voucher"
    ADMIN_MANAGE_PROGRAM = "admin_manage_program"
    ADMIN_EDIT_THEME = "admin_edit_theme"
    ADMIN_VIEW_ANALYTICS = "admin_view_analytics"
    ADMIN_EXPORT = "admin_export"
    ADMIN_MODERATE = "admin_moderate"


MEMBER_ACTIONS = frozenset(
    {
        Action.VIEW_OWN_MEMBER_DATA,
        Action.EDIT_OWN_PROFILE,
        Action.REDEEM_REWARD,
        Action.DONATE,
        Action.CANCEL_OWN_VOUCHER,
        Action.RATE_REWARD,
        Action.CHECK_IN,
    }
)
STAFF_ACTIONS = frozenset({Action.STAFF_SCAN_MEMBER, Action.STAFF_CREDIT_PURCHASE, Action.STAFF_REDEEM_VOUCHER})
ADMIN_ACTIONS = frozenset(
    {
        Action.ADMIN_MANAGE_PROGRAM,
        Action.ADMIN_EDIT_THEME,
        Action.ADMIN_VIEW_ANALYTICS,
        Action.ADMIN_EXPORT,
        Action.ADMIN_MODERATE,
    }
)

# Admins may work the till too (small merchants' owners do), for any store of their merchant.
ALLOWED_ROLES: dict[Action, frozenset[Role]] = {
    **{a: frozenset({Role.MEMBER}) for a in MEMBER_ACTIONS},
    **{a: frozenset({Role.STAFF, Role.ADMIN}) for a in STAFF_ACTIONS},
    **{a: frozenset({Role.ADMIN}) for a in ADMIN_ACTIONS},
}
assert set(ALLOWED_ROLES) == set(Action), "every Action needs its roles"


class _Refusal(Exception):
    """Internal: why an authorization failed (the reason goes to the log, never to the user)."""

    def __init__(self, reason: str, message: str = NOT_ALLOWED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def authorize(
    engine_or_session: Engine | Session,
    actor: Actor | None,
    action: Action,
    *,
    merchant_id: int,
    target_account_id: int | None = None,
    store_id: int | None = None,
    ip: str = "",
) -> Actor:
    """Return ``actor`` when it may do ``action`` in ``merchant_id`` on the given objects.

    Raises NotAllowed (and writes a SecurityEvent) otherwise. Rules:
    - anonymous: refused with "Please sign in first.";
    - the actor's merchant must be ``merchant_id`` (an admin of A can do nothing in B);
    - the role must be allowed for the action (``ALLOWED_ROLES``);
    - member actions: only on the member's own account (``target_account_id`` None means own);
    - staff actions: need ``store_id`` (a store of this merchant the actor works for) and a
      target that is a member of this merchant and not the actor's own account;
    - admin actions: any given target/store must belong to this merchant.

    Pass the Engine when possible. A Session is accepted for callers inside a transaction: the
    lookups use it, and the refusal is logged in its own transaction (see ``_log_refusal``).
    """
    try:
        _check(engine_or_session, actor, action, merchant_id, target_account_id, store_id)
    except _Refusal as refusal:
        detail = {
            "target_account_id": target_account_id,
            "store_id": store_id,
        }
        if actor is not None:
            detail.update(
                role=_role(actor.role).value,
                actor_merchant_id=actor.merchant_id,
                session_id=actor.session_id,
            )
        record_security_event(
            engine_or_session,
            merchant_id=merchant_id,
            account_id=actor.account_id if actor is not None else None,
            action=action.value,
            reason=refusal.reason,
            detail=detail,
            ip=ip,
        )
        code = {SIGN_IN_FIRST: "sign_in_required", OWN_MEMBER_ACCOUNT: "own_member_account"}.get(refusal.message, "not_allowed")
        raise NotAllowed(refusal.message, code=code) from None
    return actor  # type: ignore[return-value]  # _check refuses None


def is_allowed(action: Action, role: Role) -> bool:
    """Role-only check for showing or hiding UI; the real decision is always ``authorize``."""
    return _role(role) in ALLOWED_ROLES[action]


def _role(role: Role | str) -> Role:
    return role if isinstance(role, Role) else Role(role)


def _check(
    engine_or_session: Engine | Session,
    actor: Actor | None,
    action: Action,
    merchant_id: int,
    target_account_id: int | None,
    store_id: int | None,
) -> None:
    if actor is None:
        raise _Refusal("anonymous", SIGN_IN_FIRST)
    if actor.merchant_id != merchant_id:
        raise _Refusal("other_merchant")
    role = _role(actor.role)
    if role not in ALLOWED_ROLES[action]:
        raise _Refusal(f"role_{role.value}_not_allowed")
    if action in MEMBER_ACTIONS:
        if target_account_id is not None and target_account_id != actor.account_id:
            raise _Refusal("not_own_account")
        if store_id is not None and not _store_of_merchant(engine_or_session, store_id, merchant_id):
            raise _Refusal("store_of_other_merchant")
        return
    if action in STAFF_ACTIONS:
        if store_id is None:
            raise _Refusal("store_required")
        if role is Role.STAFF and store_id not in actor.store_ids:
            raise _Refusal("store_not_assigned")
        if not _store_of_merchant(engine_or_session, store_id, merchant_id):
            raise _Refusal("store_of_other_merchant")
        if target_account_id is not None:
            if target_account_id == actor.account_id:
                raise _Refusal("own_account")
            if not _member_of_merchant(engine_or_session, target_account_id, merchant_id):
                raise _Refusal("target_not_member_of_merchant")
            if _is_own_member_account(engine_or_session, actor.account_id, target_account_id):
                raise _Refusal("own_member_account", OWN_MEMBER_ACCOUNT)
        return
    # Admin actions.
    if store_id is not None and not _store_of_merchant(engine_or_session, store_id, merchant_id):
        raise _Refusal("store_of_other_merchant")
    if target_account_id is not None and not _account_of_merchant(engine_or_session, target_account_id, merchant_id):
        raise _Refusal("target_of_other_merchant")


def _get(engine_or_session: Engine | Session, model, key):
    if isinstance(engine_or_session, Session):
        return engine_or_session.get(model, key)
    with Session(engine_or_session) as s:
        return s.get(model, key)


def _store_of_merchant(engine_or_session: Engine | Session, store_id: int, merchant_id: int) -> bool:
    store = _get(engine_or_session, Store, store_id)
    return store is not None and store.merchant_id == merchant_id and store.is_active


def _account_of_merchant(engine_or_session: Engine | Session, account_id: int, merchant_id: int) -> bool:
    account = _get(engine_or_session, Account, account_id)
    return account is not None and account.merchant_id == merchant_id


def _member_of_merchant(engine_or_session: Engine | Session, account_id: int, merchant_id: int) -> bool:
    account = _get(engine_or_session, Account, account_id)
    return (
        account is not None
        and account.merchant_id == merchant_id
        and _role(account.role) is Role.MEMBER
        and account.deleted_at is None
    )


def canonical_email(email: str) -> str:
    """The mailbox an address delivers to: lower-case, without a "+tag" (ana+shop@x == ana@x)
    and, for Gmail, without dots. Used to spot a cashier's own member account."""
    local, _, domain = (email or "").strip().lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _is_own_member_account(engine_or_session: Engine | Session, staff_id: int, member_id: int) -> bool:
    """The member account the staff person linked as theirs, or one at the same mailbox."""
    staff = _get(engine_or_session, Account, staff_id)
    member = _get(engine_or_session, Account, member_id)
    if staff is None or member is None:
        return False
    if staff.personal_account_id == member.id:
        return True
    return canonical_email(staff.email) == canonical_email(member.email)


def record_security_event(
    engine_or_session: Engine | Session,
    *,
    merchant_id: int | None,
    account_id: int | None,
    action: str,
    reason: str,
    detail: dict | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> None:
    """Append a SecurityEvent that survives the caller's rollback.

    With an Engine it is written at once in its own transaction. With a Session it is written
    through the same engine in a separate transaction, except when the Session is a SQLite write
    transaction (BEGIN IMMEDIATE holds the database's only write lock, a second writer would
    wait for it): then it is written as soon as that transaction ends.
    """
    row = dict(
        merchant_id=merchant_id,
        account_id=account_id,
        action=action[:80],
        reason=reason[:200],
        detail=detail or {},
        ip=(ip or "")[:64],
        at=now or utcnow(),
    )
    log.warning("security event: %s", row)
    if isinstance(engine_or_session, Session):
        session = engine_or_session
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        if is_sqlite(str(engine.url)) and session.in_transaction() and holds_sqlite_write_lock(session):
            transaction = session.get_transaction()
            pending = [row]

            def _write_after_end(_session, ended) -> None:
                if ended is transaction and pending:
                    _write_event(engine, pending.pop())

            sa_event.listen(session, "after_transaction_end", _write_after_end)
            return
        _write_event(engine, row)
        return
    _write_event(engine_or_session, row)


def record_actor_event(
    engine_or_session: Engine | Session,
    actor: Actor,
    action: str,
    reason: str,
    detail: dict | None = None,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> None:
    """``record_security_event`` about what a signed-in ``actor`` did or tried: in their merchant,
    under their account."""
    who = dict(merchant_id=actor.merchant_id, account_id=actor.account_id)
    record_security_event(engine_or_session, **who, action=action, reason=reason, detail=detail, ip=ip, now=now)


def _write_event(engine: Engine, row: dict) -> None:
    with write_session(engine) as s:
        s.add(SecurityEvent(**row))
