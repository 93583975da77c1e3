"""Scheduling quality by simulation: FSRS (the app's own code) against SM-2, like with like.

    .venv/bin/python bench/srs_simulation.py            # 1,000 cards, 365 days, 10 seeds (minutes)
    .venv/bin/python bench/srs_simulation.py --quick --check-queue   # 150 cards, 90 days, 5 seeds

Every arm studies by the app's queue rules (daily limits of 20 new / 200 reviews, the user's
study day from 04:00 in Asia/Shanghai, learning cards first, learn-ahead) and the app's own
scheduling code. The learner sits down at 09:00 every day and studies until the queue is empty,
waiting for learning cards. By default the queue is kept in memory (bench/srs_queue.py), which is
what makes 1,000 cards x 365 days x 10 seeds x 6 arms take minutes; `--queue app` runs it on a
fresh migrated SQLite database through `quiz.study.study_queue` / `quiz.study.answer` instead, and
`--check-queue` (part of bench-check) runs two arms both ways and requires the same answers, card
for card. SM-2 is Anki's variant (bench/srs_models.py).

Arms (each seed is one learner, met by every arm, so comparisons are paired per seed):
- SM-2 and FSRS with Anki's steps (learning 1m 10m, relearning 10m);
- SM-2 and FSRS with ours, the app's defaults (learning 10m, no relearning step);
- FSRS with our steps and parameters fitted after 60 days by the app's optimizer
  (`quiz.optimizer`: fsrs-rs-python's `FSRS.compute_parameters` on the learner's own log,
  adopted only when it predicts that log better, as on the settings page);
- FSRS with our steps on the "model" learner, whose memory is FSRS-6 with default weights: the
  case where retention holds by construction, kept as a sanity check.
All other learners are the "population" (bench/srs_models.py): own FSRS-6 weights drawn around
the defaults, and a hidden difficulty per card.

Reported per arm, mean +- sd over seeds: retention at review (share of review-state answers
recalled) and its error against the desired retention, retention after the fitting day, minutes
(8 s a review, 20 s a new card), cards memorised at the end (sum of true R over all cards) and
memorised per minute; then paired gains in memorised per minute. Targets (checked, exit 1 when
missed) are listed in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.srs_models import CARD_DIFFICULTY_SD, Learner, Sm2  # noqa: E402
from bench.srs_queue import AppStudy, MemoryStudy, default_settings  # noqa: E402
from bench.stats import Targets, mean_sd, pm  # noqa: E402
from quiz import optimizer, study  # noqa: E402
from quiz.models import UserSettings  # noqa: E402
from quiz.scheduling import NEW, REVIEW  # noqa: E402

SECONDS_NEW, SECONDS_REVIEW = 20, 8
START = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
DESIRED = 0.9  # the app's default desired retention
FIT_DAY = 60
# Steps as the settings page writes them. Ours are read from the model, so they follow the app.
STEPS = {
    "anki": ("1m 10m", "10m"),
    "ours": (
        UserSettings.__table__.c.learning_steps.default.arg,
        UserSettings.__table__.c.relearning_steps.default.arg,
    ),
}


@dataclass(frozen=True)
class Arm:
    key: str
    label: str
    scheduler: str  # "fsrs" | "sm2"
    steps: str  # a key of STEPS
    learner: str = "population"  # "population" | "model"
    fit: bool = False  # fit parameters on day FIT_DAY


ARMS = (
    Arm("sm2_anki", "SM-2, Anki steps", "sm2", "anki"),
    Arm("fsrs_anki", "FSRS, Anki steps", "fsrs", "anki"),
    Arm("sm2_ours", "SM-2, our steps", "sm2", "ours"),
    Arm("fsrs_ours", "FSRS, our steps", "fsrs", "ours"),
    Arm("fsrs_fitted", "FSRS, ours, fitted", "fsrs", "ours", fit=True),
    Arm("fsrs_model", "FSRS, model learner", "fsrs", "ours", learner="model"),
)


QUEUE_CHECK_ARMS = ("sm2_anki", "fsrs_fitted")  # both schedulers, both step sets, the fit


@dataclass
class Tally:
    answers: int = 0
    new: int = 0
    seen: int = 0  # review-state answers
    recalled: int = 0
    seen_late: int = 0  # the same, from FIT_DAY on
    recalled_late: int = 0
    expected: float = 0.0  # sum of the learner's true R at those answers
    seconds: int = 0


def build_database(directory: Path, cards: int) -> tuple[Any, int, list[int]]:
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from quiz import accounts
    from quiz.db import db
    from quiz.models import Card, Document, Topic

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'sim.sqlite3'}", "SECRET_KEY": "sim"}
    )
    context = app.app_context()
    context.push()
    upgrade()
    user = accounts.create_user(db.session, "learner", "learner-password")
    doc = Document(path="sim.md", sha256="0" * 64)
    db.session.add(doc)
    db.session.flush()
    topic = Topic(document_id=doc.id, slug="sim", title="模拟", position=0)
    db.session.add(topic)
    db.session.flush()
    db.session.execute(
        insert(Card),
        [
            {
                "key": f"sim/{i}",
                "kind": "question",
                "topic_id": topic.id,
                "sibling_key": f"sim/{i}",
                "position": i,
                "front_md": "",
                "back_md": "",
                "front_html": "",
                "back_html": "",
                "short_html": "",
                "created_at": START,
                "updated_at": START,
            }
            for i in range(cards)
        ],
    )
    db.session.commit()
    ids = list(db.session.scalars(select(Card.id).order_by(Card.id)))
    return context, user.id, ids


def run(arm: Arm, seed: int, cards: int, days: int, spread: float, queue: str) -> dict[str, Any]:
    """One arm for one seed (one learner): the whole simulated study period."""
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    started = time.perf_counter()
    fit: dict[str, Any] | None = None
    # As a user would set them on the settings page; everything else stays at the defaults.
    learning_steps, relearning_steps = STEPS[arm.steps]
    settings = default_settings(
        desired_retention=DESIRED,
        learning_steps=learning_steps,
        relearning_steps=relearning_steps,
    )
    sm2 = arm.scheduler == "sm2"
    with tempfile.TemporaryDirectory(prefix=f"sim-{arm.key}-") as tmp:
        if queue == "app":
            deck: AppStudy | MemoryStudy = AppStudy(Path(tmp), cards, settings, sm2)
            card_ids = deck.card_ids
        else:
            card_ids = list(range(1, cards + 1))  # the ids a fresh database gives them
            config = study.scheduler_config(settings)
            scheduler = Sm2(config.learning_steps, config.relearning_steps) if sm2 else None
            deck = MemoryStudy(card_ids, settings, scheduler)
        try:
            learner = Learner(seed, arm.learner, spread)
            tally = Tally()
            trace: list[tuple[int, int]] = []
            for day in range(days):
                now = START + timedelta(days=day)
                if arm.fit and day == FIT_DAY:
                    try:
                        result = deck.fit(now)
                    except optimizer.NotEnoughReviews as error:  # a tiny variant of --quick
                        fit = {"adopted": False, "items": error.have}
                        fit |= {"loss_before": math.nan, "loss_after": math.nan}
                    else:
                        fit = {
                            "adopted": result.adopted,
                            "items": result.items,
                            "loss_before": result.loss_before,
                            "loss_after": result.loss_after,
                        }
                while True:
                    pick = deck.pick(now)
                    if pick.card_id is None:
                        if pick.next_learning_due is None:
                            break
                        now = max(now, pick.next_learning_due - study.LEARN_AHEAD)
                        continue
                    card_id, was = pick.card_id, pick.state
                    if was == REVIEW:
                        tally.expected += learner.recall_probability(card_id, now)
                    rating, recalled = learner.answer(card_id, now)
                    trace.append((card_id, rating))
                    if was == REVIEW:
                        tally.seen += 1
                        tally.recalled += bool(recalled)
                        if day >= FIT_DAY:
                            tally.seen_late += 1
                            tally.recalled_late += bool(recalled)
                    cost = SECONDS_NEW if was == NEW else SECONDS_REVIEW
                    tally.new += was == NEW
                    tally.answers += 1
                    tally.seconds += cost
                    deck.answer(card_id, rating, now, pick.version)
                    now += timedelta(seconds=cost)
                deck.end_of_day()
            end = START + timedelta(days=days)
            memorised = sum(learner.recall_probability(c, end) for c in card_ids)
        finally:
            deck.close()
    minutes = tally.seconds / 60
    retention = tally.recalled / tally.seen if tally.seen else math.nan
    return {
        "arm": arm.key,
        "learner": arm.learner,
        "seed": seed,
        "queue": queue,
        **asdict(tally),
        "retention": retention,
        "retention_error": retention - DESIRED,
        "retention_late": tally.recalled_late / tally.seen_late if tally.seen_late else math.nan,
        "expected_retention": tally.expected / tally.seen if tally.seen else math.nan,
        "minutes": minutes,
        "memorised": memorised,
        "memorised_per_minute": memorised / minutes if minutes else math.nan,
        "fit": fit,
        "trace_hash": hash(tuple(trace)),
        "wall_seconds": time.perf_counter() - started,
    }


def _run(job: tuple[Arm, int, int, int, float, str]) -> dict[str, Any]:
    return run(*job)


def column(results: list[dict[str, Any]], arm: str, key: str) -> list[float]:
    """One metric of one arm, in seed order."""
    rows = sorted((r for r in results if r["arm"] == arm), key=lambda r: r["seed"])
    return [r[key] for r in rows]


def gains(results: list[dict[str, Any]], arm: str, baseline: str) -> list[float]:
    """Per-seed relative gain in memorised per minute (paired: same learner)."""
    ours = column(results, arm, "memorised_per_minute")
    base = column(results, baseline, "memorised_per_minute")
    return [a / b - 1 for a, b in zip(ours, base, strict=True)]


COMPARISONS = (
    ("FSRS vs SM-2, equal steps (Anki's: 1m 10m / 10m)", "fsrs_anki", "sm2_anki"),
    ("FSRS vs SM-2, equal steps (ours: 10m / none)", "fsrs_ours", "sm2_ours"),
    (
        "our defaults (FSRS, 10m / none) vs Anki's defaults (SM-2, 1m 10m / 10m)",
        "fsrs_ours",
        "sm2_anki",
    ),
    ("FSRS: our steps vs Anki's steps", "fsrs_ours", "fsrs_anki"),
    ("FSRS ours: fitted on day 60 vs default weights", "fsrs_fitted", "fsrs_ours"),
)


def report(results: list[dict[str, Any]], arms: tuple[Arm, ...], targets: Targets) -> dict:
    rows = [
        ("retention at review", "retention", "{:.3f}"),
        ("  error vs 0.90", "retention_error", "{:+.3f}"),
        (f"  from day {FIT_DAY}", "retention_late", "{:.3f}"),
        ("  learner's mean R", "expected_retention", "{:.3f}"),
        ("answers", "answers", "{:.0f}"),
        ("minutes", "minutes", "{:.0f}"),
        ("memorised (cards)", "memorised", "{:.1f}"),
        ("memorised per minute", "memorised_per_minute", "{:.3f}"),
    ]
    width = 22
    print(f"{'':24}" + "".join(f"{arm.label:>{width}}" for arm in arms))
    for title, key, fmt in rows:
        cells = [pm(column(results, arm.key, key), fmt) for arm in arms]
        print(f"{title:24}" + "".join(f"{c:>{width}}" for c in cells))
    summary: dict[str, Any] = {"arms": {}, "comparisons": {}}
    for arm in arms:
        summary["arms"][arm.key] = {
            key: mean_sd(column(results, arm.key, key))
            for _, key, _ in rows
            if not any(math.isnan(v) for v in column(results, arm.key, key))
        }
    fits = [r["fit"] for r in results if r["fit"]]
    if fits:
        print(
            f"fitted on day {FIT_DAY}: adopted for {sum(f['adopted'] for f in fits)} of "
            f"{len(fits)} learners; log loss {pm([f['loss_before'] for f in fits])} with default "
            f"weights -> {pm([f['loss_after'] for f in fits])} fitted "
            f"({pm([f['items'] for f in fits], '{:.0f}')} items)"
        )
    print("memorised per minute, paired gain per seed (mean ± sd):")
    for title, arm, baseline in COMPARISONS:
        if {arm, baseline} <= {a.key for a in arms}:
            values = gains(results, arm, baseline)
            summary["comparisons"][f"{arm}/{baseline}"] = {"title": title, "gain": mean_sd(values)}
            print(f"  {pm(values, '{:+.1%}'):>18}  {title}")
    keys = {a.key for a in arms}
    if "fsrs_model" in keys:
        error = mean_sd(column(results, "fsrs_model", "retention_error"))[0]
        targets.within("model learner: retention error (by construction)", error, -0.02, 0.02)
    # About learners unlike the scheduler: for the model learner the defaults are already right,
    # and keeping them (no better fit) is the correct outcome.
    population = [r["fit"] for r in results if r["fit"] and r.get("learner") != "model"]
    if population:
        adopted = sum(f["adopted"] for f in population)
        targets.holds(
            f"fitted weights adopted for every population learner ({adopted} of "
            f"{len(population)}: they predict the learner's own log better than the defaults)",
            adopted == len(population),
        )
    if {"fsrs_ours", "sm2_ours"} <= keys:
        gain = mean_sd(gains(results, "fsrs_ours", "sm2_ours"))[0]
        targets.at_least("FSRS vs SM-2 at our steps: memorised/min gain", gain, 0.0)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="150 cards, 90 days, 5 seeds")
    parser.add_argument("--seeds", type=int, help="number of seeds (learners); default 10, quick 5")
    parser.add_argument("--first-seed", type=int, default=2024)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (processes)")
    parser.add_argument(
        "--card-spread", type=float, default=CARD_DIFFICULTY_SD, help="sd of per-card difficulty"
    )
    parser.add_argument(
        "--learner",
        choices=("population", "model"),
        help="give every arm this learner (default: population, and model for the last arm)",
    )
    parser.add_argument("--days", type=int, help="override the study period")
    parser.add_argument("--cards", type=int, help="override the number of cards")
    parser.add_argument(
        "--queue",
        choices=("memory", "app"),
        default="memory",
        help="the queue's rules in memory (default), or the app's database queue (slow)",
    )
    parser.add_argument(
        "--check-queue",
        action="store_true",
        help="also run one arm per scheduler through the app's queue: answers must match",
    )
    parser.add_argument("--report", type=Path, help="report a saved JSON output again, no runs")
    parser.add_argument("--arms", nargs="+", choices=[a.key for a in ARMS], help="a subset")
    args = parser.parse_args()
    if args.report:  # the figures of an earlier run, with this version's report and targets
        saved = json.loads(args.report.read_text())
        keys = {r["arm"] for r in saved["runs"]}
        print(f"{saved['cards']} cards, {saved['days']} days, {saved['seeds']} seeds (saved run)")
        targets = Targets()
        report(saved["runs"], tuple(a for a in ARMS if a.key in keys), targets)
        targets.finish("srs_simulation")
        return
    cards, days, seeds = (150, 90, 5) if args.quick else (1000, 365, 10)
    cards, seeds = args.cards or cards, args.seeds or seeds
    days = args.days or days
    arms = tuple(a for a in ARMS if not args.arms or a.key in args.arms)
    if args.learner:  # one learner kind for all: the model arm would repeat "FSRS, our steps"
        arms = tuple(replace(a, learner=args.learner) for a in arms if a.key != "fsrs_model")
    jobs = [
        (arm, args.first_seed + s, cards, days, args.card_spread, args.queue)
        for s in range(seeds)
        for arm in arms
    ]
    print(
        f"{cards} cards, {days} days, {seeds} seeds x {len(arms)} arms; desired retention "
        f"{DESIRED}; daily limits 20 new / 200 reviews; fuzz on; our steps "
        f"{STEPS['ours'][0] or 'none'} / {STEPS['ours'][1] or 'none'}; learners: "
        + (
            "every arm the MODEL learner (memory = FSRS-6 defaults, cards alike)"
            if args.learner == "model"
            else "a population unlike the scheduler (own weights, card difficulty spread) "
            "unless marked 'model'"
        ),
        flush=True,
    )
    started = time.perf_counter()
    checks = [
        (arm, args.first_seed, cards, days, args.card_spread, "app")
        for arm in arms
        if args.check_queue and args.queue == "memory" and arm.key in QUEUE_CHECK_ARMS
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(_run, jobs + checks))
    print(f"wall time {time.perf_counter() - started:.0f} s ({args.jobs} processes)")
    targets = Targets()
    for app_run in results[len(jobs) :]:
        same = next(
            r for r in results if r["arm"] == app_run["arm"] and r["seed"] == app_run["seed"]
        )
        keys = ("trace_hash", "answers", "seen", "recalled", "memorised", "fit")
        targets.holds(
            f"{app_run['arm']}, seed {app_run['seed']}: the in-memory queue answered the same cards "
            f"with the same ratings as the app's queue ({app_run['answers']} answers, "
            f"{same['wall_seconds']:.0f} s vs {app_run['wall_seconds']:.0f} s)",
            all(same[k] == app_run[k] for k in keys),
        )
    results = results[: len(jobs)]
    summary = report(results, arms, targets)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    payload = {"cards": cards, "days": days, "seeds": seeds, "summary": summary, "runs": results}
    name = "srs_simulation" + ("_quick" if args.quick else "")
    name += f"_{args.learner}.json" if args.learner else ".json"
    (out / name).write_text(json.dumps(payload, indent=2, default=str))
    targets.finish("srs_simulation")


if __name__ == "__main__":
    main()
