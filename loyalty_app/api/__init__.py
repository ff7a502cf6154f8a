"""Starlette routes served by the Reflex backend (mounted with ``rx.App(api_transformer=...)``)."""
