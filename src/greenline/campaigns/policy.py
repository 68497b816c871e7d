"""A campaign's pacing and safety settings, with the defaults a careful sender uses.

Stored as JSON on the campaign (`campaigns.settings`) and validated here, so the API, the dispatcher
and the projections read one typed object.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FrequencyCap(BaseModel):
    """At most `max_messages` campaign messages to one contact in `days` days, across all campaigns."""

    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(default=3, ge=1, le=1000)
    days: int = Field(default=7, ge=1, le=90)


class AutoPause(BaseModel):
    """Pause the campaign when sending looks dangerous for the number (the ban-risk signal)."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.25, gt=0, le=1, description="Share of failed sends that pauses")
    min_attempts: int = Field(default=50, ge=1, description="Sends needed before the error rate counts")
    on_quality: list[str] = Field(default=["red"], description="Number quality ratings that pause")


class Retries(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=5, ge=1, le=20)
    base_seconds: float = Field(default=30.0, ge=0.1, le=3600)
    max_seconds: float = Field(default=3600.0, ge=1, le=86_400)


class CampaignPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pacing: bool = Field(default=True, description="Apply warm-up, caps and throughput limits (off only for tests)")
    frequency_cap: FrequencyCap | None = Field(default_factory=FrequencyCap)
    auto_pause: AutoPause = Field(default_factory=AutoPause)
    retries: Retries = Field(default_factory=Retries)
    quiet_hours: bool = Field(default=True, description="Respect each number's quiet hours in the contact's zone")
    marketing: bool = Field(default=True, description="Marketing traffic: opt-outs and frequency caps apply")
    exit_on_reply: bool | None = Field(
        default=None, description="Drips: leave the sequence when the contact replies (nurture presets default on)"
    )


def policy_of(settings: dict[str, object] | None) -> CampaignPolicy:
    return CampaignPolicy.model_validate(settings or {})
