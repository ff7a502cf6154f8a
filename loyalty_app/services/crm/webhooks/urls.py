"""Where events may go (SSRF): the URL check when an endpoint is saved, the check again and
the pinned address at every send, and the failure texts of refused or failed attempts."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.services.crm.webhooks.config import ERROR_MAX, URL_MAX, Resolver, app_settings
from loyalty_app.settings import Settings

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class WebhookFormInvalid(LoyaltyError):
    """Refused fields of the endpoint form, each with its own translatable error (nothing saved)."""

    def __init__(self, errors: dict[str, LoyaltyError]):
        first = next(iter(errors.values()))
        super().__init__(first.message, code=first.code, **first.params)
        self.errors = dict(errors)


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _field_error(message: str, code: str, **params) -> WebhookFormInvalid:
    return WebhookFormInvalid({"url": LoyaltyError(message, code=code, field="url", **params)})


PRIVATE_ADDRESS = N_("This address is on this machine or a private network. Use your CRM's public https:// address.")


def validate_url(url: str, *, settings: Settings | None = None, resolve: Resolver | None = None) -> str:
    """The cleaned endpoint URL, or WebhookFormInvalid with the ``url`` field's reason."""
    settings = settings or app_settings()
    raw = (url or "").strip()
    if not raw:
        raise _field_error(N_("Enter the web address of your CRM's webhook."), "url_required")
    if len(raw) > URL_MAX:
        raise _field_error(N_("A web address can have at most {maximum} characters."), "url_too_long", maximum=URL_MAX)
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme.lower() not in ("http", "https") or not host or port == -1 or any(c.isspace() for c in raw):
        raise _field_error(N_("Enter a full web address, like https://crm.example.com/hooks/loyalty."), "url_invalid")
    if parts.username or parts.password:
        raise _field_error(
            N_("Leave the user name and password out of the address: the signature proves who is sending."), "url_credentials"
        )
    if parts.fragment:
        raise _field_error(N_("Enter a full web address, like https://crm.example.com/hooks/loyalty."), "url_invalid")
    if host in _LOOPBACK_NAMES:
        if settings.webhook_allow_http_localhost:
            return raw
        raise _field_error(PRIVATE_ADDRESS, "url_private")
    if parts.scheme.lower() != "https":
        raise _field_error(N_("Use an https:// address: events carry member data."), "url_not_https")
    literal = _ip_literal(host)
    if literal is not None:
        if not _is_public(literal):
            raise _field_error(PRIVATE_ADDRESS, "url_private")
        return raw
    if "." not in host or host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa")):
        raise _field_error(PRIVATE_ADDRESS, "url_private")
    try:
        addresses = (resolve or _resolve)(host, port or 443)
    except OSError:
        addresses = []  # not resolvable now: every send checks again
    if any(not _is_public(a) for a in addresses):
        raise _field_error(PRIVATE_ADDRESS, "url_private")
    return raw


# Why an attempt failed. The delivery row keeps the English text (logs, support, the API); the
# console shows it translated (``failure_parts`` reads it back with the same templates, so the
# two cannot drift apart). Technical details ({reason}: the HTTP library's error) stay as they are.
FAILURES = {
    "not_public": N_("refused: {host} is not a public address"),
    "not_https": N_("refused: not https"),
    "unresolved": N_("could not resolve {host}"),
    "resolves_private": N_("refused: {host} resolves to a non-public address ({address})"),
    "timeout": N_("timeout after {seconds} s"),
    "connection": N_("connection failed: {reason}"),
    "http": N_("HTTP {code}"),
}
_FAILURE_PATTERNS = [
    (
        msgid,
        re.compile(
            "".join(f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(re.split(r"\{(\w+)\}", msgid)))
        ),
    )
    for msgid in FAILURES.values()
]


def _failure(key: str, **params) -> str:
    return FAILURES[key].format(**params)[:ERROR_MAX]


def failure_parts(error: str) -> tuple[str, dict] | None:
    """(msgid, params) of a stored failure text, for showing it in the admin's language."""
    for msgid, pattern in _FAILURE_PATTERNS:
        if match := pattern.fullmatch(error or ""):
            return msgid, match.groupdict()
    return None


class _Refused(Exception):
    """A send that must not happen (the destination is not public any more)."""


@dataclass(frozen=True)
class _Destination:
    url: str
    headers: dict[str, str]
    extensions: dict


def destination(url: str, *, settings: Settings, resolve: Resolver | None = None) -> _Destination:
    """Where to connect for ``url``: checked again at send time and pinned to the checked address
    (the Host header and TLS name stay the URL's), so DNS cannot change it after the check."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    scheme = parts.scheme.lower()
    if host in _LOOPBACK_NAMES:
        if settings.webhook_allow_http_localhost:
            return _Destination(url, {}, {})
        raise _Refused(_failure("not_public", host=host))
    if scheme != "https":
        raise _Refused(_failure("not_https"))
    port = parts.port or 443
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = (resolve or _resolve)(host, port)
        except OSError:
            raise _Refused(_failure("unresolved", host=host)) from None
    if not addresses:
        raise _Refused(_failure("unresolved", host=host))
    bad = [a for a in addresses if not _is_public(a)]
    if bad:
        raise _Refused(_failure("resolves_private", host=host, address=bad[0]))
    address = addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc += f":{parts.port}"
    pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.hostname if not parts.port else f"{parts.hostname}:{parts.port}"
    return _Destination(pinned, {"Host": host_header}, {"sni_hostname": host})
