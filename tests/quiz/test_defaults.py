"""One home for defaults, labels and rating validation: every caller agrees with it."""

from __future__ import annotations

import pytest

from quiz import scheduling, studyday
from quiz.backup import format as backup_format
from quiz.drills import labels as drill_labels
from quiz.study import default_settings


def test_a_user_without_settings_gets_the_new_users_study_day() -> None:
    fresh = default_settings(1)
    assert studyday.zone_and_rollover(None) == (fresh.timezone, fresh.rollover_hour)
    assert studyday.zone_and_rollover(fresh) == ("Asia/Shanghai", 4)


def test_rating_labels_have_one_source() -> None:
    assert drill_labels.RATING_LABELS is scheduling.RATING_LABELS
    assert backup_format.RATING_NAMES is scheduling.RATING_LABELS


@pytest.mark.parametrize("value", [True, False, 0, 5, "3", 3.0, None])
def test_anything_but_an_integer_from_1_to_4_is_not_a_rating(value: object) -> None:
    assert scheduling.parse_rating(value) is None


def test_ratings_parse_to_the_enum() -> None:
    assert [scheduling.parse_rating(v) for v in (1, 2, 3, 4)] == list(scheduling.Rating)
