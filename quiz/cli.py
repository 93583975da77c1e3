"""Command-line tools: `flask --app app content sync` and friends."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from quiz.db import db

content_cli = AppGroup("content", help="导入笔记内容。")


@content_cli.command("sync")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="内容目录（默认 content/）")
@click.option("--strict", is_flag=True, help="有文件解析失败时以状态码 1 退出")
def content_sync(directory: str | None, strict: bool) -> None:
    """Parse content/*.md and sync topics and cards into the database."""
    from quiz.importer import sync_content

    path = Path(directory or current_app.config["CONTENT_DIR"])
    report = sync_content(db.session, path)
    db.session.commit()
    for key in report.added:
        click.echo(f"+ {key}")
    for key in report.updated:
        click.echo(f"~ {key}")
    for key in report.retired:
        click.echo(f"- {key}")
    for error in report.errors:
        click.echo(f"! {error}", err=True)
    click.echo(report.summary())
    if report.errors and strict:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(content_cli)
