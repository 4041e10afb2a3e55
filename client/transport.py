"""HTTP with retries: 429 and 503 (honouring ``Retry-After``) and lost connections."""
from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import tenacity

from client.errors import ConnectionFailed, error_for

_log = logging.getLogger(__name__)
_RETRY_STATUSES = frozenset({429, 503})


class Transport:
    """An ``httpx.Client`` on the server that retries what is safe to retry and
    turns error answers into typed exceptions.

    Only idempotent requests go through it: reads, and submits that carry an
    ``Idempotency-Key``, so a retry never creates a second job.
    """

    def __init__(
        self, base_url: str, api_key: str | None, timeout: float, max_retries: int, max_backoff: float
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self._retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max_retries + 1),
            wait=_RetryAfter(max_backoff),
            retry=tenacity.retry_if_exception_type(httpx.TransportError)
            | tenacity.retry_if_result(_retryable),
            before_sleep=_log_retry,
            # Out of attempts: hand back the last answer (to raise its typed error) or re-raise.
            retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        )

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request, retrying as needed; the JSON body of the success answer."""
        try:
            response = self._retrying(self._http.request, method, url, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"{method} {self._http.base_url.join(url)}: {exc!r}") from exc
        if response.is_success:
            return response.json()
        raise error_for(response.status_code, *_error_fields(response))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


class _RetryAfter(tenacity.wait.wait_base):
    """The server's ``Retry-After`` when it gives one, else jittered exponential
    backoff; never more than ``cap`` seconds."""

    def __init__(self, cap: float) -> None:
        self.cap = cap
        self.backoff = tenacity.wait_random_exponential(multiplier=0.5, max=cap)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        header = None
        if outcome is not None and not outcome.failed:
            header = outcome.result().headers.get("Retry-After")
        delay = _seconds(header) if header else None
        return min(self.cap, delay if delay else self.backoff(retry_state))


def _seconds(header: str) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date."""
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _retryable(response: httpx.Response) -> bool:
    if response.status_code in _RETRY_STATUSES:
        return True
    # The first request with this Idempotency-Key is still being accepted: ask again.
    return response.status_code == 409 and _error_fields(response)[0] == "idempotency_key_in_flight"


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    """``error.code`` and ``error.message``, or the status line when the body is not predq's."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.reason_phrase or response.text[:200]


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    outcome = retry_state.outcome
    assert outcome is not None and retry_state.next_action is not None
    if outcome.failed:
        reason = repr(outcome.exception())
    else:
        response = outcome.result()
        reason = f"{response.status_code} {_error_fields(response)[0]}"
    sleep = retry_state.next_action.sleep
    attempt = retry_state.attempt_number
    _log.info("%s; retrying in %.2f s (attempt %d)", reason, sleep, attempt, extra={"sleep": sleep})
