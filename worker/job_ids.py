"""Job ids: 128 random bits, the creation time, and a MAC binding both to the owner.

The MAC lets the API recognise an id it issued after Redis lost the job's
record (a restart without persistence): such a job is reported ``failed``
with code ``lost`` rather than as an unknown id. Without a configured
secret each process draws its own, so recognition only works within the
process that issued the id; set PREDQ_SECRET_KEY on every API process.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

_RANDOM, _TIME, _MAC = 16, 6, 10


class JobIds:
    """Issues and recognises job ids for one secret."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode() if secret else secrets.token_bytes(32)

    def _mac(self, body: bytes, owner: str) -> bytes:
        return hmac.new(self._key, body + owner.encode(), hashlib.sha256).digest()[:_MAC]

    def new(self, owner: str) -> str:
        """A fresh, unguessable id for a job of ``owner``."""
        body = secrets.token_bytes(_RANDOM) + int(time.time() * 1000).to_bytes(_TIME, "big")
        return base64.urlsafe_b64encode(body + self._mac(body, owner)).decode().rstrip("=")

    def issued_at(self, job_id: str, owner: str) -> float | None:
        """When this service issued ``job_id`` to ``owner`` (epoch seconds), or None."""
        raw = _decode(job_id)
        if raw is None or not hmac.compare_digest(raw[-_MAC:], self._mac(raw[:-_MAC], owner)):
            return None
        return _time_of(raw)

    @staticmethod
    def created_at(job_id: str) -> float | None:
        """The creation time written in ``job_id``, unchecked (epoch seconds), or None.

        For metrics in workers, which hold no owner to check the MAC with:
        the id came from the service's own queue.
        """
        raw = _decode(job_id)
        return None if raw is None else _time_of(raw)


def _decode(job_id: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(job_id + "=" * (-len(job_id) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == _RANDOM + _TIME + _MAC else None


def _time_of(raw: bytes) -> float:
    return int.from_bytes(raw[_RANDOM:_RANDOM + _TIME], "big") / 1000
