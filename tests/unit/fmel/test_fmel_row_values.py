"""The cheap per-decision forms of a row's values equal their plain definitions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from shared.fmel.analyzer import num_to_utc
from shared.fmel.record import decision_id, decision_ids

DAY_ONE = datetime(1, 1, 1, tzinfo=UTC)  # backtrader's float date 1.0


@pytest.mark.parametrize("session", ["s1", "run-7f3a", "100%", "%d:%s", "{x}", ""])
def test_a_sessions_id_function_spells_every_point_as_decision_id_does(session: str) -> None:
    ids = decision_ids(session)
    for point in (0, 1, 41, 99_999_999, 100_000_000, 10**20, -1, -99_999_999):
        assert ids(point) == decision_id(session, point)


def test_a_float_date_becomes_the_utc_instant_of_its_millisecond() -> None:
    rng = random.Random(7)
    whole_seconds = [rng.randint(1, 3_652_059) + rng.randint(0, 86_399) / 86_400 for _ in range(5_000)]
    any_millisecond = [rng.randint(1, 3_652_059) + rng.randint(0, 86_399_999) / 86_400_000 for _ in range(5_000)]
    for num in [1.0, 719_163.0, 3_652_059.999_988_4, *whole_seconds, *any_millisecond]:
        stamp = num_to_utc(num)
        assert stamp == DAY_ONE + timedelta(milliseconds=round((num - 1.0) * 86_400_000.0))
        assert stamp.tzinfo is UTC
