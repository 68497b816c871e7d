"""Encryption of secrets at rest (provider tokens, webhook secrets) with rotating Fernet keys."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from greenline.config import Settings


class SecretBox:
    """Encrypts with the newest key; decrypts with any configured key, so keys can rotate."""

    def __init__(self, settings: Settings) -> None:
        keys = list(settings.encryption_keys)
        if not keys:
            derived = hashlib.sha256(b"greenline-at-rest:" + settings.secret_key.encode()).digest()
            keys = [base64.urlsafe_b64encode(derived).decode()]
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored secret under the newest key."""
        return self._fernet.rotate(token.encode()).decode()
