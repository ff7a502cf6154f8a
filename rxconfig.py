"""Reflex configuration. Settings that vary per deployment come from the environment."""

import os

import reflex as rx

from loyalty_app.settings import get_settings

_settings = get_settings()
_port = int(os.environ.get("PORT", "3000"))

config = rx.Config(
    app_name="loyalty_app",
    db_url=_settings.database_url,
    redis_url=_settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_port,
    backend_port=_port,
    api_url=os.environ.get("API_URL", _settings.app_origin),
    deploy_url=_settings.app_origin,
    # The websocket handshake only accepts our own origin (python-engineio checks Origin).
    cors_allowed_origins=[_settings.app_origin],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
