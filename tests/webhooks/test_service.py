"""Pure webhook logic: the signature scheme, the backoff schedule, URL and event-type rules."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from greenline.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, retry_delay
from greenline.webhooks.events import is_subscribed
from greenline.webhooks.schemas import check_event_types, check_url
from greenline.webhooks.signing import generate_secret, sign, verify_signature

SECRET = "whsec_" + "ab" * 32
BODY = b'{"id":"e1","type":"contact.created"}'
T = 1_764_115_200


def test_signature_matches_the_documented_formula() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_verify_accepts_fresh_and_refuses_stale_future_or_tampered() -> None:
    header = sign(SECRET, BODY, T)
    assert verify_signature(SECRET, header, BODY, now=T + 299)
    assert verify_signature(SECRET, header, BODY, now=T - 299)
    assert not verify_signature(SECRET, header, BODY, now=T + 301)
    assert not verify_signature(SECRET, header, BODY, now=T - 301)
    assert verify_signature(SECRET, header, BODY, tolerance=1000, now=T + 900)
    assert not verify_signature(SECRET, header, BODY + b"x", now=T)
    assert not verify_signature(generate_secret(), header, BODY, now=T)
    # A forged timestamp does not carry the old digest with it.
    forged = header.replace(f"t={T}", f"t={T + 3600}")
    assert not verify_signature(SECRET, forged, BODY, now=T + 3600)


@pytest.mark.parametrize("header", [None, "", "garbage", "t=abc,v1=00", f"v1={'0' * 64}", f"t={T}", "t=-5,v1=aa"])
def test_verify_refuses_malformed_headers(header: str | None) -> None:
    assert not verify_signature(SECRET, header, BODY, now=T)


def test_verify_accepts_any_of_several_v1_signatures() -> None:
    good = sign(SECRET, BODY, T)
    digest = good.split("v1=")[1]
    assert verify_signature(SECRET, f"t={T}, v1={'0' * 64}, v1={digest}", BODY, now=T)


def test_secrets_are_random_and_prefixed() -> None:
    first, second = generate_secret(), generate_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(bytes.fromhex(first.removeprefix("whsec_"))) == 32


def test_backoff_schedule_grows_and_gives_up() -> None:
    assert RETRY_DELAYS_SECONDS[:4] == (10, 30, 120, 600)
    for failed, base in enumerate(RETRY_DELAYS_SECONDS, start=1):
        delay = retry_delay(failed)
        assert delay is not None
        assert dt.timedelta(seconds=base * 0.8) <= delay <= dt.timedelta(seconds=base * 1.2)
    assert retry_delay(MAX_ATTEMPTS) is None
    assert 2.5 * 86400 < sum(RETRY_DELAYS_SECONDS) < 3.5 * 86400
    assert len({retry_delay(1) for _ in range(20)}) > 1, "jitter spreads retries"


def test_subscription_matching() -> None:
    assert is_subscribed(["*"], "message.status")
    assert is_subscribed(["message.status"], "message.status")
    assert not is_subscribed(["message.received"], "message.status")


def test_event_types_are_normalised() -> None:
    assert check_event_types(["message.status", "contact.created", "message.status"]) == [
        "contact.created",
        "message.status",
    ]
    assert check_event_types(["contact.created", "*"]) == ["*"]
    with pytest.raises(ValueError, match="unknown event type"):
        check_event_types(["contact.deleted"])


def test_url_rules() -> None:
    assert check_url("https://example.com/hooks?x=1") == "https://example.com/hooks?x=1"
    assert check_url("http://10.0.0.5:8080/in") == "http://10.0.0.5:8080/in"
    for bad in ("gopher://x", "http://a@b", "http://", "http://x\n/y", "http://-bad-.com"):
        with pytest.raises(ValueError, match=r"must|valid"):
            check_url(bad)


def test_the_documented_verification_snippet_works() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    snippet = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify_signature"]
    now = int(time.time())
    assert verify(SECRET, sign(SECRET, BODY, now), BODY)
    assert not verify(SECRET, sign(SECRET, BODY, now - 301), BODY)
    assert not verify(SECRET, sign(SECRET, BODY, now), BODY + b"x")
    assert not verify(SECRET, None, BODY)
