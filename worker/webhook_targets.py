"""Where a job's webhook may go: the URL and events checked at submit and before each attempt."""
from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from worker.documents import JobStatus
from worker.errors import WebhookRefused
from worker.settings import WebhookSettings

# Event names a client subscribes to, and the terminal status each stands for.
EVENTS = {
    "completed": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}
# The client that cancels already knows; others opt in to ``cancelled``.
DEFAULT_EVENTS = ("completed", "failed")
MAX_URL_LENGTH = 2048


@dataclasses.dataclass(frozen=True)
class WebhookTarget:
    """A validated webhook: the URL to post to and the events that trigger it."""

    url: str
    events: tuple[str, ...] = DEFAULT_EVENTS


def webhook_target(
    url: str, events: Sequence[str] | None, settings: WebhookSettings
) -> WebhookTarget:
    """The target for ``url`` and ``events``; raises WebhookRefused with the reason."""
    if not settings.enabled:
        raise WebhookRefused("webhooks are not enabled on this deployment (no PREDQ_WEBHOOK_SECRET)")
    events = DEFAULT_EVENTS if events is None else tuple(dict.fromkeys(events))
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise WebhookRefused(
            f"'webhook_events' must name some of {', '.join(EVENTS)}; got {', '.join(unknown) or 'none'}"
        )
    if len(url) > MAX_URL_LENGTH:
        raise WebhookRefused(f"the webhook URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise WebhookRefused("the webhook URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("the webhook URL must be an absolute http:// or https:// URL")
    # The URL is shown in the job document: credentials in it would leak there.
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused("the webhook URL must not carry credentials")
    check_host(parts.hostname, settings)
    return WebhookTarget(url, events)


def check_host(host: str, settings: WebhookSettings) -> None:
    """Refuse a host outside ``PREDQ_WEBHOOK_ALLOWED_HOSTS`` or a literal private address."""
    host = host.lower().rstrip(".")
    allowed = settings.allowed_hosts
    if allowed and not any(
        host == entry or (entry.startswith("*.") and host.endswith(entry[1:])) for entry in allowed
    ):
        raise WebhookRefused(f"webhooks may not go to {host} (PREDQ_WEBHOOK_ALLOWED_HOSTS)")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: its addresses are checked when a delivery resolves it
    _check_address(address, settings)


def check_resolved(url: str, settings: WebhookSettings) -> None:
    """Resolve the URL's host now and refuse it if any address is private.

    Raises OSError when the name does not resolve (worth retrying). The HTTP
    client resolves the name again, so a DNS server that answers differently
    the second time is not stopped here: deployments that must be sure also
    block private ranges for the webhook workers at the network level.
    """
    parts = urlsplit(url)
    check_host(parts.hostname or "", settings)
    if settings.allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM):
        _check_address(ipaddress.ip_address(info[4][0]), settings)


def _check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, settings: WebhookSettings) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    # Loopback, private, link-local (cloud metadata) and reserved ranges are not global.
    if not settings.allow_private and not address.is_global:
        raise WebhookRefused(
            f"webhooks may not go to the private address {address} (PREDQ_WEBHOOK_ALLOW_PRIVATE)"
        )
