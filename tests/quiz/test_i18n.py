"""Interface language: the catalogue is complete, the locale follows setting > cookie > browser."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape as html_unescape
from pathlib import Path

from babel.messages.pofile import read_po

from quiz.i18n import TRANSLATIONS
from quiz.js_messages import MSGIDS
from tests.factories import login, make_user

ROOT = Path(__file__).resolve().parents[2]
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _catalog(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return read_po(fh)


def test_every_english_msgstr_is_present_and_not_fuzzy() -> None:
    bad = [m.id for m in _catalog(EN_PO) if m.id and (not m.string or m.fuzzy)]
    assert bad == [], f"untranslated or fuzzy in {EN_PO.name}: {bad[:10]}"


def test_every_wrapped_string_is_in_the_catalogue(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    extracted = {m.id for m in _catalog(pot) if m.id}
    translated = {m.id for m in _catalog(EN_PO) if m.id and m.string}
    missing = sorted(extracted - translated)
    assert missing == [], f"run `make messages` and translate: {missing[:10]}"


def test_templates_have_no_bare_chinese_text() -> None:
    """Chinese in a template outside _() would show untranslated to English readers."""
    offenders = []
    for path in sorted((ROOT / "quiz" / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
        text = re.sub(r"""_\((["'])(?:(?!\1).)*\1""", "", text, flags=re.S)  # wrapped msgids
        for no, line in enumerate(text.splitlines(), 1):
            if CJK.search(line):
                offenders.append(f"{path.name}:{no}: {line.strip()[:80]}")
    assert offenders == []


def test_every_script_text_is_listed_for_translation() -> None:
    used = set()
    for path in (ROOT / "quiz" / "static" / "js").glob("*.js"):
        source = path.read_text()
        used |= {m.replace('\\"', '"') for m in re.findall(r'\btr\("((?:[^"\\]|\\.)*)"', source)}
        bare = [
            line.strip()
            for line in source.splitlines()
            if "i18n-ignore" not in line
            and CJK.search(re.sub(r'\btr\("(?:[^"\\]|\\.)*"', "", line.split("//")[0]))
        ]
        assert bare == [], f"{path.name}: Chinese outside tr(): {bare[:3]}"
    assert used - set(MSGIDS) == set()


def test_accept_language_english_gives_english_page(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en"' in html
    assert ">Notes</a>" in html and ">Sign in</a>" in html
    assert "笔记</a>" not in html


def test_default_and_chinese_browsers_get_chinese(client) -> None:  # type: ignore[no-untyped-def]
    for header in ({}, {"Accept-Language": "zh-CN,zh;q=0.9"}, {"Accept-Language": "fr"}):
        html = client.get("/", headers=header).get_data(as_text=True)
        assert '<html lang="zh-CN"' in html and ">笔记</a>" in html


def test_the_users_setting_overrides_the_browser(client, session) -> None:  # type: ignore[no-untyped-def]
    make_user(session, "lang-user")
    login(client, "lang-user")
    english = {"Accept-Language": "en-US"}
    assert '<html lang="en"' in client.get("/", headers=english).get_data(as_text=True)
    response = client.post("/language", data={"locale": "zh", "next": "/cards"}, headers=english)
    assert response.status_code == 302 and response.headers["Location"] == "/cards"
    client.delete_cookie("lang")  # the saved setting alone must decide
    html = client.get("/", headers=english).get_data(as_text=True)
    assert '<html lang="zh-CN"' in html and ">笔记</a>" in html


def test_script_texts_and_page_follow_each_requests_language(client) -> None:  # type: ignore[no-untyped-def]
    """Catalogues are looked up once per page and per catalogue: English after Chinese after
    English on one worker still gives each page its own language, texts with values included."""
    for lang in ("en", "zh", "en"):
        html = client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True)
        texts = json.loads(html_unescape(re.search(r"data-i18n='([^']*)'", html)[1]))
        if lang == "en":
            assert (
                texts["隐藏"] == "hidden"
                and ">Notes</a>" in html
                and not CJK.search("".join(texts.values()))
            )
        else:
            assert texts == {} and ">笔记</a>" in html


def test_api_errors_follow_the_language(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/cards/999999", headers={"Accept-Language": "en"})
    body = response.get_json()
    assert response.status_code in (401, 404)
    assert body["error"] and not CJK.search(body["error"])


def test_nav_marks_only_the_current_item(client, session) -> None:  # type: ignore[no-untyped-def]
    make_user(session, "nav-user")
    login(client, "nav-user")
    for path, label in (("/", "笔记"), ("/cards", "卡片")):
        html = client.get(path).get_data(as_text=True)
        current = re.findall(r'aria-current="page">([^<]*)<', html)
        assert current == [label], (path, current)


def test_every_drill_has_an_english_statement() -> None:
    from engine import drills as catalogue
    from engine import statements_en

    ids = set(catalogue.DRILLS)
    assert ids == set(catalogue.ENGLISH)
    for drill_id in ids:
        text = statements_en.statement_md(drill_id) or ""
        assert not CJK.search(text.replace("「", "").split("「")[0].split("Practises")[0])
    assert set(statements_en.DIFFICULTY) >= {d.difficulty for d in catalogue.DRILLS.values()}


def test_drill_page_in_english_shows_the_english_statement(auth_client) -> None:  # type: ignore[no-untyped-def]
    english = auth_client.get("/drills/softmax", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Numerically stable softmax" in english and "Compute the softmax along" in english
    assert "沿轴" not in english
    chinese = auth_client.get("/drills/softmax").get_data(as_text=True)
    assert "数值稳定的 Softmax" in chinese and "沿轴" in chinese
    listing = auth_client.get("/drills", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Backward pass of ReLU" in listing and "Beginner" in listing


# Chinese that is not interface text: the notes' own vocabulary (parser, importer, Anki deck),
# operator-facing CLI and start-up messages, the language names, module documentation.
NOT_INTERFACE = {
    "quiz/notes/",  # the whole package
    "quiz/importer.py",
    "quiz/apkg.py",
    "quiz/cli.py",
    "quiz/security.py",
    "quiz/i18n.py",
    "quiz/interview/keypoints.py",
}
MARKERS = {"_", "_l", "N_", "gettext", "lazy_gettext", "ngettext"}


def _unwrapped_strings(path: Path) -> list[str]:
    import io
    import tokenize

    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        if t.type not in (tokenize.NL, tokenize.COMMENT)
    ]
    found = []
    for i, token in enumerate(tokens):
        if token.type != tokenize.STRING or not CJK.search(token.string):
            continue
        j = i
        while j > 0 and tokens[j - 1].type == tokenize.STRING:  # implicit concatenation
            j -= 1
        before = tokens[j - 1] if j > 0 else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        statement_start = before is None or before.type in (
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
        )
        if statement_start and after is not None and after.type == tokenize.NEWLINE:
            continue  # a docstring
        if before is not None and before.string == "(" and tokens[j - 2].string in MARKERS:
            continue
        found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string[:60]}")
    return found


def test_python_interface_texts_are_wrapped() -> None:
    offenders = []
    for path in sorted((ROOT / "quiz").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if not any(
            name == entry or name.startswith(entry.rstrip("/") + "/") for entry in NOT_INTERFACE
        ):
            offenders += _unwrapped_strings(path)
    assert offenders == []


def test_dates_are_remembered_per_locale(app) -> None:  # type: ignore[no-untyped-def]
    """The dashboard's cached date texts stay those of each request's language."""
    from datetime import date

    from flask_babel import format_date

    from quiz.i18n import day_text

    day = date(2026, 1, 5)
    seen = {}
    for lang in ("en", "zh", "en", "zh"):
        # A fresh app context per request, as the server gives (Flask-Babel keeps the locale in it).
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": lang}):
            text = day_text(day, "medium")
            assert text == format_date(day, "medium")
            seen.setdefault(lang, text)
            assert seen[lang] == text
    assert "Jan" in seen["en"] and "1月" in seen["zh"]
