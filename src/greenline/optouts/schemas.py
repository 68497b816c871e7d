from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenline.core.types import DbId
from greenline.models.enums import ConsentKind

PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
OptOutSource = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_.:-]{1,32}$")]
OptInSource = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class UnsubscriberCreate(BaseModel):
    phone: PhoneText = Field(description="The number, in E.164 or the tenant's national format")
    reason: Reason | None = None
    source: OptOutSource | None = Field(default=None, description="Where the opt-out came from (default `manual`)")
    campaign_id: DbId | None = Field(default=None, description="The campaign that triggered it, if any")


class UnsubscriberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    reason: str | None
    source: str
    campaign_id: int | None
    date: dt.datetime


class OptInRequest(BaseModel):
    source: OptInSource = Field(description="How consent was given (web form, keyword START, signed paper...)")
    note: Reason | None = None


class OptOutRequest(BaseModel):
    reason: Reason | None = None


class ConsentEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    kind: ConsentKind
    source: str
    reason: str | None
    campaign_id: int | None
    actor_user_id: int | None
    created_at: dt.datetime
