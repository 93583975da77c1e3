"""Interface language and zone: Flask-Babel wiring, the locale choice, compiled catalogues.

The msgids are the Chinese texts (Chinese is the default language), so a missing catalogue or
translation shows Chinese, never a key. `translations/en` holds the English catalogue; it is
compiled to .mo by `make` (and by the test session), not committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_date, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from quiz import studyday

if TYPE_CHECKING:
    from quiz.models import UserSettings

# Code -> the <html lang> value and the name shown in the language switch (in its own language).
LOCALES: dict[str, tuple[str, str]] = {"zh": ("zh-CN", "中文"), "en": ("en", "English")}
DEFAULT_LOCALE = "zh"
LANG_COOKIE = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()


def N_(msgid: str) -> str:
    """Marks a msgid for extraction where it is translated later (scripts, flashed by a library)."""
    return msgid


def _settings() -> UserSettings | None:
    """The signed-in user's settings row (read only; never created here), cached per request."""
    if not has_request_context():  # CLI and services called from tests: the defaults
        return None
    if "i18n_settings" not in g:
        g.i18n_settings = None  # loading the user may translate a message: no recursion
        from quiz.auth import current_api_user
        from quiz.db import db
        from quiz.models import UserSettings

        user = current_api_user() if request.path.startswith("/api/") else current_user
        row = None
        if user is not None and user.is_authenticated:
            try:
                row = db.session.get(UserSettings, user.id)
            except SQLAlchemyError:  # an error page after a failed flush: fall back to defaults
                row = None
        g.i18n_settings = row
    settings: UserSettings | None = g.i18n_settings
    return settings


def _prefetch_settings() -> None:
    _settings()


def select_locale() -> str:
    """The user's setting, else the language cookie, else the browser's Accept-Language."""
    if not has_request_context():
        return DEFAULT_LOCALE
    row = _settings()
    if row is not None and row.locale in LOCALES:
        return row.locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(list(LOCALES), default=DEFAULT_LOCALE)


def select_timezone() -> str:
    row = _settings()
    return row.timezone if row is not None and row.timezone else "Asia/Shanghai"


def html_lang(locale: str) -> str:
    return LOCALES.get(locale, LOCALES[DEFAULT_LOCALE])[0]


@pass_context
def _template_gettext(context: Context, msgid: str, /, **variables: object) -> str:
    """`_()` and `gettext()` in templates: as Jinja's i18n extension does it (escaped, always a
    format string), with the request's catalogue looked up once per render instead of per text
    (a page has a hundred; each lookup resolved the locale and the domain again)."""
    translations: NullTranslations | None = context.get("_translations_of_render")
    if translations is None:
        translations = get_translations()
        context.vars["_translations_of_render"] = translations
    text: str = translations.ugettext(msgid)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def request_gettext() -> Callable[..., str]:
    """gettext on the request's catalogue, looked up once: for a view that translates several
    texts (flask_babel's gettext resolves the locale and the domain through context proxies on
    every call). The same result as flask_babel.gettext for the rest of the request."""
    translations = get_translations()

    def gettext(msgid: str, **variables: object) -> str:
        text: str = translations.ugettext(msgid)
        return text % variables if variables else text

    return gettext


def day_text(day: date | datetime | None, format: str | None = None) -> str:
    """flask_babel.format_date (the `dateformat` filter), remembered for plain dates: a date's
    text depends only on the date, the format and the locale, and the dashboard shows forty."""
    if type(day) is not date:  # a datetime is shifted to the user's zone first: not cached
        return format_date(day, format)
    return _day_text(day, format, str(get_locale()))


@lru_cache(maxsize=2048)
def _day_text(day: date, format: str | None, locale: str) -> str:
    # Computed in the request whose locale is `locale`: the key holds everything it reads.
    return format_date(day, format)


def compile_catalogues(root: Path = TRANSLATIONS) -> list[Path]:
    """Compile every messages.po under root whose .mo is missing or older; return the .mo files."""
    written = []
    for po in sorted(root.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo)  # atomic: a worker never reads a half-written catalogue
        written.append(mo)
    return written


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext)
    app.jinja_env.filters["dateformat"] = day_text
    # Read the settings before the view runs: an error page after a failed flush can't query.
    app.before_request(_prefetch_settings)

    @app.context_processor
    def _i18n() -> dict[str, object]:
        from flask_babel import get_locale

        from quiz.js_messages import js_messages

        locale = str(get_locale() or DEFAULT_LOCALE)
        row = _settings()
        return {
            "locale": locale,
            "html_lang": html_lang(locale),
            "locales": LOCALES,
            "theme": row.theme if row is not None else "system",
            "js_messages": js_messages(),
        }

    @app.template_filter("parse_iso")
    def _parse_iso(text: str) -> datetime:
        return datetime.fromisoformat(text)

    @app.template_filter("study_day")
    def _study_day(moment: datetime) -> date:
        """The study day (user's zone and rollover hour) a UTC moment falls in."""
        row = _settings()
        tz, hour = (row.timezone, row.rollover_hour) if row is not None else ("Asia/Shanghai", 4)
        return studyday.study_day(moment.replace(tzinfo=moment.tzinfo or UTC), tz, hour)


if __name__ == "__main__":  # python -m quiz.i18n: compile the catalogues (used by the Makefile)
    for path in compile_catalogues():
        print(f"compiled {path.relative_to(TRANSLATIONS.parent.parent)}")
