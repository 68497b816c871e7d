"""Shared request types with the bounds the database can store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field, StringConstraints

MAX_ID = 2**63 - 1

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
TenantIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Tenant id")]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]

# Deliberately lenient (self-hosted installs use internal domains such as `.local`); lowercased.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"),
]
