"""Who is calling: API keys (Bearer tokens) configured by the operator, stored hashed.

``PREDQ_AUTH=keys`` (the default) requires ``Authorization: Bearer <key>`` on
every job route; the key's name is the owner of the jobs it submits, and no
other key can see, wait on or cancel them. ``PREDQ_AUTH=none`` is the
explicit mode for local development: everyone is the one owner ``local``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from enum import Enum

from flask import current_app, g, request

from api.errors import Unauthenticated

LOCAL_OWNER = "local"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class AuthMode(str, Enum):
    """Whether job routes require an API key."""

    KEYS = "keys"
    NONE = "none"


def hash_key(key: str) -> str:
    """How a key is stored: its sha256 (keys are random, so no salt or stretching is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random API key (256 bits)."""
    return "pq_" + secrets.token_urlsafe(32)


@dataclasses.dataclass(frozen=True)
class ApiKeys:
    """The configured keys, by hash, and the mode."""

    mode: AuthMode
    owners: dict[str, str]

    @classmethod
    def parse(cls, mode: str, spec: str) -> ApiKeys:
        """From ``PREDQ_AUTH`` and ``PREDQ_API_KEYS`` (``name:sha256,name:sha256``)."""
        owners = {}
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            name, _, digest = entry.partition(":")
            if not _NAME.match(name) or not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise ValueError(f"PREDQ_API_KEYS entry {entry[:20]!r}... is not name:sha256hex")
            owners[digest] = name
        return cls(AuthMode(mode), owners)

    def owner(self, authorization: str | None) -> str:
        """The owner named by an Authorization header; raises Unauthenticated."""
        if self.mode is AuthMode.NONE:
            return LOCAL_OWNER
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send your API key as 'Authorization: Bearer <key>'")
        name = self.owners.get(hash_key(token.strip()))
        if name is None:
            raise Unauthenticated("unknown API key")
        return name

    def rate_limit_key(self, authorization: str | None, address: str) -> str:
        """Whom a request counts against: its key, else its address."""
        if self.mode is AuthMode.KEYS:
            try:
                return "key:" + self.owner(authorization)
            except Unauthenticated:
                pass
        return "ip:" + address


def authenticate() -> None:
    """``before_request`` of the job routes: the caller's owner name into ``g.owner``."""
    keys: ApiKeys = current_app.extensions["predq"].keys
    g.owner = keys.owner(request.headers.get("Authorization"))
