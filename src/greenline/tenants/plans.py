"""Monthly quotas of each plan: the one place that says what a plan allows.

`tenants.plan` stores the plan's name (validated by `tenants.schemas.Plan`); a quota of None means
unlimited. Usage is shown against these figures; nothing is blocked by them yet.
"""

from __future__ import annotations

from pydantic import BaseModel


class PlanLimits(BaseModel):
    api_calls: int | None
    messages: int | None


class PlanOut(BaseModel):
    name: str
    limits: PlanLimits


PLANS: dict[str, PlanLimits] = {
    "free": PlanLimits(api_calls=10_000, messages=1_000),
    "starter": PlanLimits(api_calls=100_000, messages=10_000),
    "growth": PlanLimits(api_calls=1_000_000, messages=100_000),
    "pro": PlanLimits(api_calls=5_000_000, messages=500_000),
    "enterprise": PlanLimits(api_calls=None, messages=None),
}


def limits_of(plan: str) -> PlanLimits:
    """A plan's quotas; a name no longer in the table gets the free plan's (the safe reading)."""
    return PLANS.get(plan, PLANS["free"])


def all_plans() -> list[PlanOut]:
    return [PlanOut(name=name, limits=limits) for name, limits in PLANS.items()]
