"""The app's database engine, as the handle states pass to service calls.

States and pages never open a database session (an import contract in pyproject.toml forbids
them ``loyalty_app.db``, ``sqlmodel`` and ``sqlalchemy``): they hand this engine to a service
function, which opens the session and the transaction itself."""

from __future__ import annotations

from loyalty_app.db import get_engine

__all__ = ["get_engine"]
