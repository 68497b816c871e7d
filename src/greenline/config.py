"""Typed settings for Greenline; the only place that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"
VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Everything configurable, read from `GREENLINE_*` environment variables or `.env`."""

    model_config = SettingsConfigDict(env_prefix="GREENLINE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{VAR_DIR}/greenline.db"
    # Owner connection used by migrations; the app itself runs as `db_app_role`
    # (PostgreSQL only), which does not own the tables so row-level security applies.
    migrations_database_url: str | None = None
    db_app_role: str | None = "greenline_app"
    db_pool_size: int = 10
    redis_url: str | None = None

    secret_key: str = DEFAULT_SECRET_KEY
    # Fernet keys (urlsafe base64, 32 bytes) for secrets at rest, newest first.
    # Empty: derived from secret_key (development only).
    encryption_keys: list[str] = Field(default_factory=list)

    # argon2id cost; the defaults follow argon2-cffi's RFC 9106 low-memory profile.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window_seconds: int = 900

    api_key_default_rate_limit: int = 600
    cors_origins: list[str] = Field(default_factory=list)

    host: str = "127.0.0.1"
    port: int = 8000
    # `greenline serve` processes (uvicorn workers); more than one needs PostgreSQL.
    web_concurrency: int = Field(default=1, ge=1)
    admin_email: str = "admin@greenline.local"
    admin_password: str = "greenline-demo"
    demo_tenant_name: str = "Demo Company"

    # WhatsApp channels
    whatsapp_verify_token: str | None = None  # Meta webhook verification handshake
    whatsapp_app_secret: str | None = None  # signs Meta's webhook POSTs (X-Hub-Signature-256)
    cloud_api_base_url: str = "https://graph.facebook.com"
    cloud_api_version: str = "v21.0"
    gateway_url: str = "http://127.0.0.1:3001"  # the Baileys gateway
    gateway_secret: str | None = None  # HMAC secret shared with the gateway (both directions)
    simulator_seed: int = 7
    simulator_speed: float = 1.0  # >1 makes simulated time pass faster
    inbound_batch_size: int = 500
    # Embedded mode: where stored events are applied. `thread`: in each web process. `process`: in one
    # processor process that `greenline serve` starts on PostgreSQL (the web processes only store them).
    inbound_processor: Literal["thread", "process"] = "thread"
    demo_traffic: bool = False  # simulated customers write to the demo's simulated numbers

    # Campaign engine
    campaign_send_lease_seconds: float = 300.0  # a message still `sending` after this becomes `unknown`
    campaign_dispatch_slots: int = 1  # dispatchers per sender number (raise with several workers)
    campaign_dispatch_run_seconds: float = 10.0  # how long one dispatch job sends before yielding

    usage_flush_seconds: float = 10.0
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def scale_mode(self) -> bool:
        """True when Redis is configured: Celery runs the jobs and counters live in Redis."""
        return bool(self.redis_url)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError("GREENLINE_SECRET_KEY must be set to a random value outside development")
        if self.environment == "production" and not self.encryption_keys:
            raise ValueError("GREENLINE_ENCRYPTION_KEYS must be set outside development")
        return self


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; tests clear the cache)."""
    return Settings()
