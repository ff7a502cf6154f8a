"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from loyalty_app.models.accounts import (  # noqa: F401
    Account,
    AuthSession,
    LoginAttempt,
    MediaBlob,
    Merchant,
    Role,
    SecurityEvent,
    StaffStore,
    Store,
)
