"""Pure lead logic: the stage stamps, rates and the conversion range."""

from __future__ import annotations

import datetime as dt

import pytest

from greenline.core.errors import InvalidInput
from greenline.leads.schemas import bounded_utc
from greenline.leads.service import status_columns
from greenline.leads.stats import conversion_range, rate
from greenline.models.enums import LeadStatus

NOW = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)


def test_entering_won_stamps_won_and_clears_lost() -> None:
    assert status_columns(LeadStatus.won, None, NOW) == {
        "status": LeadStatus.won,
        "status_changed_at": NOW,
        "won_at": NOW,
        "lost_at": None,
        "lost_reason": None,
    }


def test_entering_lost_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as missing:
        status_columns(LeadStatus.lost, None, NOW)
    assert missing.value.details == [{"field": "lost_reason", "problem": "is required when the status is lost"}]
    columns = status_columns(LeadStatus.lost, "price", NOW)
    assert (columns["lost_at"], columns["lost_reason"], columns["won_at"]) == (NOW, "price", None)


@pytest.mark.parametrize("status", [LeadStatus.new, LeadStatus.proposal, LeadStatus.won])
def test_a_lost_reason_only_goes_with_lost(status: LeadStatus) -> None:
    with pytest.raises(InvalidInput):
        status_columns(status, "price", NOW)


def test_reopening_clears_both_stamps() -> None:
    columns = status_columns(LeadStatus.contacted, None, NOW)
    assert (columns["won_at"], columns["lost_at"], columns["lost_reason"]) == (None, None, None)


def test_rate() -> None:
    assert rate(1, 3) == 0.3333
    assert rate(0, 5) == 0.0
    assert rate(0, 0) is None


def test_conversion_range_defaults_and_limits() -> None:
    start, end = conversion_range(None, NOW)
    assert (start, end) == (NOW - dt.timedelta(days=30), NOW)
    with pytest.raises(InvalidInput):
        conversion_range(NOW, NOW)
    with pytest.raises(InvalidInput):
        conversion_range(NOW - dt.timedelta(days=800), NOW)


def test_bounded_utc() -> None:
    naive = dt.datetime(2024, 1, 1, 10)
    assert bounded_utc(naive) == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    offset = dt.datetime(2024, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert bounded_utc(offset).hour == 8
    for extreme in (dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5))), dt.datetime(1800, 1, 1)):
        with pytest.raises(ValueError, match=r"range|between"):
            bounded_utc(extreme)
