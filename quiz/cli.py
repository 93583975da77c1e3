"""Command-line tools: `flask --app app content sync` and friends."""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from quiz.db import db

content_cli = AppGroup("content", help="导入笔记内容。")


@content_cli.command("sync")
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False), help="内容目录（默认 content/）"
)
@click.option("--strict", is_flag=True, help="有文件解析失败时以状态码 1 退出")
def content_sync(directory: str | None, strict: bool) -> None:
    """Parse content/*.md and sync topics and cards into the database."""
    from quiz.importer import sync_content

    path = Path(directory or current_app.config["CONTENT_DIR"])
    report = sync_content(db.session(), path)
    db.session.commit()
    labels = card_labels([*report.added, *report.updated, *report.retired])
    for mark, keys in (("+", report.added), ("~", report.updated), ("-", report.retired)):
        for key in keys:
            click.echo(f"{mark} {labels.get(key, key)}")
    for error in report.errors:
        click.echo(f"! {error}", err=True)
    click.echo(report.summary())
    if report.errors and strict:
        raise SystemExit(1)


def card_labels(keys: list[str]) -> dict[str, str]:
    """key -> "topic › front" (the front as plain text, shortened): what a person recognises."""
    from sqlalchemy import select

    from quiz.models import Card, Topic

    labels: dict[str, str] = {}
    for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        rows = db.session.execute(
            select(Card.key, Topic.title, Card.front_md)
            .join(Topic, Topic.id == Card.topic_id)
            .where(Card.key.in_(keys[start : start + 500]))
        )
        for key, topic, front in rows:
            text = " ".join(re.sub(r"[*`$]", "", front).split())
            labels[key] = f"{topic} › {text[:60]}{'…' if len(text) > 60 else ''}"
    return labels


fsrs_cli = AppGroup("fsrs", help="FSRS 调度参数。")


@fsrs_cli.command("optimize")
@click.option("--user", "username", help="只优化这个用户（默认：所有复习记录足够的用户）")
@click.option("--min-reviews", type=int, default=None, help="至少需要的复习记录数（默认 400）")
def fsrs_optimize(username: str | None, min_reviews: int | None) -> None:
    """Fit per-user FSRS parameters with fsrs-rs-python and print the log loss before/after."""
    from sqlalchemy import select

    from quiz import optimizer
    from quiz.accounts import find_user
    from quiz.db import utcnow
    from quiz.models import User

    need = optimizer.MIN_REVIEWS if min_reviews is None else min_reviews
    if username:
        user = find_user(db.session(), username)
        if user is None:
            raise click.ClickException(f"找不到用户 {username}")
        users = [user]
    else:
        users = list(db.session.scalars(select(User).order_by(User.id)))
    failed = False
    for user in users:
        try:
            result = optimizer.optimize_user(db.session(), user.id, now=utcnow(), min_reviews=need)
        except optimizer.NotEnoughReviews as error:
            db.session.rollback()
            click.echo(f"{user.username}: 跳过，{error.message}")
            failed = failed or bool(username)
            continue
        db.session.commit()
        verdict = "已采用" if result.adopted else "未改善，保留原参数"
        click.echo(
            f"{user.username}: {result.items} 个样本，对数损失 {result.loss_before:.4f} → "
            f"{result.loss_after:.4f}（{verdict}）"
        )
    if failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(content_cli)
    app.cli.add_command(fsrs_cli)
