"""Service layer: owns database transactions; states call these, pages never do.

One package per context, each using only the ones below it (an import-linter layers contract in
pyproject.toml): operations > store | program | crm > member_app > catalog > earning > members >
ledger | insight > platform. Each package's docstring says what it owns and what it may use.
"""
