"""The pure interview modules: key points (jieba), drawing, the clock, ratings and study next."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from quiz.interview import keypoints, plan, scoring

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

RELU_BACK = (
    "**一句话答案**：ReLU计算简单且能有效缓解梯度消失问题。\n\n"
    "**深入回答**：Sigmoid函数在输入较大或较小时梯度接近于0，导致深层网络中的梯度逐渐消失。"
    "而ReLU在正区间梯度恒为1，避免了这一问题，同时计算效率更高。"
    "不过，ReLU也可能存在“死亡ReLU”问题，可以通过Leaky ReLU等变体解决。"
)


# ---- key points ------------------------------------------------------------------------------


def test_model_answer_splits_into_points_short_answer_first() -> None:
    short, deep = keypoints.split_model_answer(RELU_BACK)
    assert short.startswith("ReLU计算简单") and deep.startswith("Sigmoid函数")
    points = keypoints.key_points(short, deep)
    assert [p.text[:5] for p in points] == ["ReLU计", "Sigmo", "而ReLU", "不过，Re"]
    assert "梯度消失" in points[0].terms  # a domain word kept whole, not 梯度 / 消失
    for p in points:
        assert 1 <= len(p.terms) <= keypoints.MAX_TERMS
        assert not set(p.terms) & keypoints.STOP_TERMS


def test_jieba_keeps_jargon_whole_and_drops_function_words() -> None:
    terms = keypoints.key_terms("可以通过实验或使用正则化技术（如Dropout）来避免过拟合")
    assert {"正则化", "Dropout", "过拟合"} <= set(terms)
    assert not {"可以", "通过", "使用", "避免", "如"} & set(terms)


def test_suggested_ticks_follow_the_typed_answer() -> None:
    short, deep = keypoints.split_model_answer(RELU_BACK)
    points = keypoints.key_points(short, deep)
    answer = "relu 计算简单，能缓解梯度消失；sigmoid 两端饱和，深层网络梯度会消失"
    ticks = keypoints.suggest(points, answer)
    assert ticks[0] is True  # case-folded: relu matches ReLU
    assert ticks[-1] is False  # nothing about dying ReLU or Leaky ReLU
    assert keypoints.suggest(points, "") == [False] * len(points)
    assert keypoints.suggest(points, "。".join(p.text for p in points)) == [True] * len(points)


def test_points_skip_markup_code_and_repeats() -> None:
    body = (
        "- **输入层**：直接与原始数据相连。\n"
        "> 👉 **辨析**：输入层不参与计算。\n"
        "```python\nx = np.exp(x)\n```\n"
        "输入层直接与原始数据相连。\n"
    )
    points = keypoints.key_points("", body)
    texts = [p.text for p in points]
    assert texts[0].startswith("输入层")
    assert all(">" not in t and "👉" not in t and "**" not in t for t in texts)
    assert not any("np.exp" in t for t in texts)
    assert len(texts) == 2  # the repeated sentence adds no new term


# ---- drawing ---------------------------------------------------------------------------------


def cards(n_new: int, n_strong: int, n_weak: int) -> list[plan.CardCandidate]:
    out, cid = [], 0
    for _ in range(n_new):
        cid += 1
        out.append(plan.CardCandidate(cid, True, seen=False))
    for _ in range(n_strong):
        cid += 1
        out.append(plan.CardCandidate(cid, True, seen=True, retrievability=0.98))
    for _ in range(n_weak):
        cid += 1
        out.append(plan.CardCandidate(cid, True, seen=True, retrievability=0.3, lapses=3))
    return out


def drill(
    did: str, *, solved_days_ago: float | None = None, due: bool = False
) -> plan.DrillCandidate:
    solved = NOW - timedelta(days=solved_days_ago) if solved_days_ago is not None else None
    return plan.DrillCandidate(did, solved, solved, attempted=False, due=due)


@pytest.mark.parametrize("minutes", plan.LENGTHS)
def test_each_length_fills_its_minutes(minutes: int) -> None:
    items = plan.draw(
        minutes, cards(20, 0, 0), [drill(f"d{i}") for i in range(5)], now=NOW, rng=random.Random(1)
    )
    n_q, n_d, _ = plan.SHAPES[minutes]
    assert Counter(i.kind for i in items) == {"question": n_q, "drill": n_d}
    assert sum(i.seconds for i in items) <= minutes * 60
    assert sum(i.seconds for i in items) >= minutes * 60 - n_q  # rounding only
    assert items[-1].kind == "drill"
    assert [i.index for i in items] == list(range(len(items)))


def test_weak_and_new_cards_are_drawn_far_more_than_strong_ones() -> None:
    pool = cards(10, 10, 10)
    counts: Counter[str] = Counter()
    for seed in range(300):
        for item in plan.draw(15, pool, [], now=NOW, rng=random.Random(seed)):
            cid = item.card_id or 0
            counts["new" if cid <= 10 else "strong" if cid <= 20 else "weak"] += 1
    assert counts["weak"] > 3 * counts["strong"]
    assert counts["new"] > 2 * counts["strong"]


def test_recently_solved_drills_are_not_drawn() -> None:
    pool = [drill("fresh", solved_days_ago=1), drill("old", solved_days_ago=30), drill("new")]
    drawn = Counter()
    for seed in range(100):
        items = plan.draw(15, cards(5, 0, 0), pool, now=NOW, rng=random.Random(seed))
        drawn.update(i.drill_id for i in items if i.kind == "drill")
    assert drawn["fresh"] == 0 and drawn["old"] > 0 and drawn["new"] > 0
    # All recently solved: still a drill rather than none.
    only = plan.draw(
        15, cards(5, 0, 0), [drill("fresh", solved_days_ago=1)], now=NOW, rng=random.Random(0)
    )
    assert [i.drill_id for i in only if i.kind == "drill"] == ["fresh"]


def test_scale_shortens_every_clock() -> None:
    items = plan.draw(15, cards(5, 0, 0), [drill("d")], now=NOW, rng=random.Random(0), scale=0.1)
    assert [i.seconds for i in items] == [12, 12, 12, 12, 42]


# ---- the clock -------------------------------------------------------------------------------


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def test_timeline_moves_on_by_answer_skip_review_and_timeout() -> None:
    ends = at(1000)
    lengths = [60, 60, 60, 60]
    # Nothing done yet, 30 s in: the first item runs.
    slots = plan.timeline(NOW, ends, lengths, [None] * 4, [None] * 4, at(30))
    assert [s.phase for s in slots] == ["current", "upcoming", "upcoming", "upcoming"]
    # Answered at 20 s, in review until confirmed at 50 s; the second then starts at 50 s.
    answered = [at(20), None, None, None]
    released = [None, None, None, None]
    slots = plan.timeline(NOW, ends, lengths, answered, released, at(45))
    assert [s.phase for s in slots][:2] == ["review", "upcoming"]
    released[0] = at(50)
    slots = plan.timeline(NOW, ends, lengths, answered, released, at(55))
    assert slots[1].started_at == at(50) and slots[1].phase == "current"
    # The second times out at 110 s; the third starts then, whatever happens later.
    slots = plan.timeline(NOW, ends, lengths, answered, released, at(120))
    assert slots[1].phase == "timeout" and slots[2].started_at == at(110)
    # A late answer to the second does not move the third.
    answered[1] = at(125)
    slots = plan.timeline(NOW, ends, lengths, answered, released, at(130))
    assert slots[1].phase == "timeout" and slots[2].started_at == at(110)
    # Skipping the third at 140 s starts the fourth.
    released[2] = at(140)
    slots = plan.timeline(NOW, ends, lengths, answered, released, at(150))
    assert slots[2].phase == "done" and slots[3].started_at == at(140)
    assert plan.current_index(slots) == 3


def test_session_clock_bounds_every_item() -> None:
    ends = at(100)
    slots = plan.timeline(NOW, ends, [60, 60, 60], [at(10), None, None], [None] * 3, at(500))
    # The first is still in review when the session ends: the others have timed out.
    assert [s.phase for s in slots] == ["review", "timeout", "timeout"]


# ---- ratings, scores, study next ----------------------------------------------------------------


def q(
    index: int, covered: int, total: int = 4, *, late: bool = False, used: float = 100
) -> scoring.ItemOutcome:
    return scoring.ItemOutcome(index, "question", True, late, 120, used, total, covered)


def d(index: int, *, accepted: bool, failed: int = 0, passed: int = 0) -> scoring.ItemOutcome:
    return scoring.ItemOutcome(
        index,
        "drill",
        True,
        False,
        420,
        200,
        accepted=accepted,
        failed_submits=failed,
        passed=15 if accepted else passed,
        total=15,
    )


def test_rating_mapping() -> None:
    assert scoring.item_rating(q(0, 1)) == scoring.AGAIN  # 25 %
    assert scoring.item_rating(q(0, 2)) == scoring.HARD  # 50 %
    assert scoring.item_rating(q(0, 3)) == scoring.HARD  # 75 %
    assert scoring.item_rating(q(0, 4)) == scoring.GOOD  # all, in 100 of 120 s
    assert scoring.item_rating(q(0, 4, used=50)) == scoring.EASY  # all, in under half the time
    assert scoring.item_rating(q(0, 4, used=50, late=True)) == scoring.HARD  # late caps at 困难
    unanswered = scoring.ItemOutcome(0, "question", False, False, 120, None, 4, 0)
    assert scoring.item_rating(unanswered) == scoring.AGAIN
    assert scoring.item_rating(d(0, accepted=True)) == scoring.GOOD
    assert scoring.item_rating(d(0, accepted=True, failed=2)) == scoring.HARD
    assert scoring.item_rating(d(0, accepted=False, passed=14)) == scoring.AGAIN


def test_score_weights_a_drill_double() -> None:
    assert scoring.overall_score([q(0, 4), d(1, accepted=True)]) == 100
    assert scoring.overall_score([q(0, 4), d(1, accepted=False)]) == 33
    assert scoring.overall_score([q(0, 0), d(1, accepted=True)]) == 67
    assert scoring.overall_score([]) == 0


def test_study_next_lists_the_weak_items_weakest_first() -> None:
    outcomes = [q(0, 4), q(1, 1), q(2, 3), d(3, accepted=False, passed=5), q(4, 0)]
    assert scoring.study_next(outcomes) == [4, 1, 3, 2]
    assert scoring.reason(outcomes[1]) == "missed_points"
    assert scoring.reason(outcomes[3]) == "not_accepted"
