"""Settings refuse unsafe defaults; secrets at rest encrypt, decrypt and rotate."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from greenline.config import DEFAULT_SECRET_KEY, Settings
from greenline.core.crypto import SecretBox


def test_default_secret_key_is_refused_outside_development() -> None:
    assert Settings(environment="development").secret_key == DEFAULT_SECRET_KEY
    with pytest.raises(ValidationError, match="GREENLINE_SECRET_KEY"):
        Settings(environment="production", encryption_keys=[Fernet.generate_key().decode()])
    with pytest.raises(ValidationError, match="GREENLINE_ENCRYPTION_KEYS"):
        Settings(environment="production", secret_key="x" * 48)
    ok = Settings(environment="production", secret_key="x" * 48, encryption_keys=[Fernet.generate_key().decode()])
    assert ok.environment == "production"


def test_scale_mode_follows_redis_url() -> None:
    assert not Settings().scale_mode
    assert Settings(redis_url="redis://127.0.0.1:6379/0").scale_mode


def test_secret_box_round_trip_and_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = SecretBox(Settings(encryption_keys=[old]))
    token = before.encrypt("EAAG-provider-token")
    assert "EAAG" not in token
    after = SecretBox(Settings(encryption_keys=[new, old]))
    assert after.decrypt(token) == "EAAG-provider-token"
    rotated = after.rotate(token)
    only_new = SecretBox(Settings(encryption_keys=[new]))
    assert only_new.decrypt(rotated) == "EAAG-provider-token"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        only_new.decrypt(token)
