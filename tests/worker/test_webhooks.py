"""Signing, per-owner secrets, backoff and webhook settings: the parts without a network."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from standardwebhooks import Webhook

from worker.settings import Settings, WebhookSettings
from worker.webhooks import backoff, owner_secret, signed_headers

# The Standard Webhooks specification's published example.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signatures_match_the_specifications_example() -> None:
    sent_at = datetime.fromtimestamp(1614265330, timezone.utc)
    headers = signed_headers(SPEC_SECRET, SPEC_ID, SPEC_BODY, sent_at)
    assert headers["webhook-signature"] == SPEC_SIGNATURE
    assert headers["webhook-timestamp"] == "1614265330" and headers["webhook-id"] == SPEC_ID


def test_each_owner_verifies_with_a_secret_of_their_own() -> None:
    alice, bob = owner_secret(SPEC_SECRET, "alice"), owner_secret(SPEC_SECRET, "bob")
    assert alice != bob and alice.startswith("whsec_")
    assert owner_secret(SPEC_SECRET, "alice") == alice  # derived, never stored
    now = datetime.now(timezone.utc)
    headers = signed_headers(alice, "job-1", "{}", now)
    assert Webhook(alice).verify("{}", headers) == {}
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(bob).verify("{}", headers)


def test_backoff_grows_exponentially_up_to_its_cap_with_jitter() -> None:
    settings = WebhookSettings(secret=SPEC_SECRET, backoff=2, backoff_max=20)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 20), (30, 20)]:
        delays = [backoff(attempt, settings) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_webhook_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({
        "PREDQ_WEBHOOK_SECRET": SPEC_SECRET,
        "PREDQ_WEBHOOK_MAX_ATTEMPTS": "5",
        "PREDQ_WEBHOOK_BACKOFF": "0.5",
        "PREDQ_WEBHOOK_BACKOFF_MAX": "60",
        "PREDQ_WEBHOOK_TIMEOUT": "3",
        "PREDQ_WEBHOOK_ALLOWED_HOSTS": "hooks.example.com, *.corp.example",
        "PREDQ_WEBHOOK_ALLOW_PRIVATE": "1",
    }).webhooks  # fmt: skip
    assert settings == WebhookSettings(
        secret=SPEC_SECRET, max_attempts=5, backoff=0.5, backoff_max=60, timeout=3,
        allowed_hosts=("hooks.example.com", "*.corp.example"), allow_private=True,
    )  # fmt: skip
    assert not Settings.from_env({}).webhooks.enabled


@pytest.mark.parametrize(
    "secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="]
)
def test_a_malformed_or_short_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="PREDQ_WEBHOOK_SECRET"):
        Settings.from_env({"PREDQ_WEBHOOK_SECRET": secret})


def test_a_retry_may_not_wait_past_the_visibility_timeout() -> None:
    with pytest.raises(ValueError, match="PREDQ_WEBHOOK_BACKOFF_MAX"):
        Settings.from_env({"PREDQ_WEBHOOK_SECRET": SPEC_SECRET, "PREDQ_WEBHOOK_BACKOFF_MAX": "3600"})
