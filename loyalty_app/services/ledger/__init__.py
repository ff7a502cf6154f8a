"""The points context: posting, lots, balances, settlement jobs and the audit; every credit and
debit of a member's points goes through ``post``. Uses only platform (it publishes events).

Transactions belong to the caller (``loyalty_app.db.write_session`` or
``loyalty_app.services.platform.tx.run_in_transaction``): nothing here commits. What makes the ledger
safe under concurrency:

1. Every write first locks the member's ``MemberBalance`` row (SELECT ... FOR UPDATE on
   PostgreSQL; SQLite write transactions hold the database write lock from BEGIN IMMEDIATE).
   All lot reads and writes for the member happen under that lock, so two debits cannot both
   see the same points.
2. The idempotency key is looked up after the lock: a repeated request for the same member is
   answered from the first entry (``replayed=True``) and writes nothing. The same key for a
   different member is caught by the unique constraint inside a SAVEPOINT, then re-read.
3. Balance counters, entries, lots and lot movements change in the same transaction.

Reversal policy (documented choice): reversing an earn removes what is left of its lot and,
for the part already spent, takes the same number of points from the member's other available
points (soonest-expiring first). Points of the lot that already expired are not taken twice.
If the member no longer has enough, the reversal is refused (``reversal_insufficient_points``)
and nothing changes; staff can then post a smaller ``adjust``. Reversing a redeem/donation
gives the points back into the lots it drained when they are still valid, else into a new lot
that is available at once and expires by the current program policy.

Matured pending lots and due expiries of a member are settled (release/expire entries) at the
start of every write for that member, so a debit never spends expired points nor misses points
whose pending period ended; ``release_pending``/``expire_due`` do the same for a whole program.

Every entry written (never a replay) is published as ``services.platform.events.PointsPosted`` in the
same transaction; subscribers (the CRM outbox) react there. The ledger imports none of them.

Modules: ``posting`` (post and its wrappers credit/debit/reverse/adjust, lot allocation),
``settlement`` (releasing matured pending points and expiring due ones), ``queries`` (balances,
history, expiring points, program settings), ``auditing`` (``audit``, the balance proof, and
its CLI) and ``entries`` (the member's lock and the one place an entry, its counters and lots
are written). Import the package (``from loyalty_app.services import ledger``): its names are
the API.
"""

from __future__ import annotations

from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind, LedgerRequest, LedgerResult
from loyalty_app.services.ledger.auditing import AuditReport, Drift, audit, main_audit
from loyalty_app.services.ledger.posting import adjust, credit, debit, post, reverse
from loyalty_app.services.ledger.queries import (
    earned_between_by_member,
    expiring_points,
    get_balance,
    get_program_settings,
    history,
    lifetime_earned_between,
    validate_program_settings,
)
from loyalty_app.services.ledger.settlement import expire_due, release_pending

__all__ = [
    "AuditReport",
    "BalanceSnapshot",
    "Drift",
    "EntryKind",
    "LedgerRequest",
    "LedgerResult",
    "adjust",
    "audit",
    "credit",
    "debit",
    "earned_between_by_member",
    "expire_due",
    "expiring_points",
    "get_balance",
    "get_program_settings",
    "history",
    "lifetime_earned_between",
    "main_audit",
    "post",
    "release_pending",
    "reverse",
    "validate_program_settings",
]
