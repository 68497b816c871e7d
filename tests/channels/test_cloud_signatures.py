"""X-Hub-Signature-256 verification and the hub.* subscription handshake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenline.channels.signatures import sign_meta, verify_meta_signature, verify_subscription

SECRET = "6f1c1b0e3d2a4f5e8b9c7d6a5f4e3d2c"
BODY = (Path(__file__).parent / "cloud_fixtures" / "webhook_incoming_text.json").read_bytes()


def test_known_vector() -> None:
    # HMAC-SHA256(key="secret", msg=b'{"a":1}'), computed independently with openssl.
    expected = "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494"
    assert sign_meta("secret", b'{"a":1}') == expected


def test_good_signature_verifies() -> None:
    assert verify_meta_signature(SECRET, BODY, sign_meta(SECRET, BODY))


def test_header_prefix_and_hex_case_do_not_matter() -> None:
    signature = sign_meta(SECRET, BODY)
    assert verify_meta_signature(SECRET, BODY, "SHA256=" + signature[len("sha256=") :].upper())
    assert verify_meta_signature(SECRET, BODY, f"  {signature} ")


def test_tampered_body_fails() -> None:
    signature = sign_meta(SECRET, BODY)
    assert not verify_meta_signature(SECRET, BODY.replace(b"another color", b"another colour"), signature)


def test_re_serialised_json_fails_because_the_raw_bytes_are_signed() -> None:
    raw = json.dumps({"text": "café"}).encode()  # Meta escapes unicode: "caf\u00e9"
    signature = sign_meta(SECRET, raw)
    assert not verify_meta_signature(SECRET, json.dumps({"text": "café"}, ensure_ascii=False).encode(), signature)


def test_wrong_secret_fails() -> None:
    assert not verify_meta_signature("another-app-secret", BODY, sign_meta(SECRET, BODY))


@pytest.mark.parametrize(
    "header", [None, "", "sha256=", "sha1=" + "a" * 40, "abc", "sha256=" + "z" * 64, "sha256=abcd"]
)
def test_missing_or_malformed_header_fails(header: str | None) -> None:
    assert not verify_meta_signature(SECRET, BODY, header)


def test_an_empty_secret_never_verifies() -> None:
    assert not verify_meta_signature("", BODY, sign_meta("", BODY))


def _params(**overrides: str) -> dict[str, str]:
    return {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "meatyhamhock"} | overrides


def test_handshake_echoes_the_challenge() -> None:
    assert verify_subscription(_params(), "meatyhamhock") == "1158201444"


@pytest.mark.parametrize(
    ("params", "expected_token"),
    [
        (_params(**{"hub.verify_token": "guess"}), "meatyhamhock"),
        (_params(**{"hub.mode": "unsubscribe"}), "meatyhamhock"),
        ({"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock"}, "meatyhamhock"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "meatyhamhock"),
        (_params(**{"hub.challenge": "<script>alert(1)</script>"}), "meatyhamhock"),
        (_params(**{"hub.verify_token": ""}), ""),
        (_params(**{"hub.verify_token": "jämför"}), "meatyhamhock"),
    ],
    ids=["wrong-token", "wrong-mode", "no-challenge", "no-token", "markup-challenge", "empty-token", "non-ascii"],
)
def test_handshake_refusals(params: dict[str, str], expected_token: str) -> None:
    assert verify_subscription(params, expected_token) is None
