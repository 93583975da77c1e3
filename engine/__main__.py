"""Command line: `python -m engine list | grade DRILL FILE [--json] [--mode run|submit] | doctor`.

Exit codes: 0 accepted (or list/doctor fine), 1 not accepted (or sandbox not ready),
2 bad usage (unknown drill, unreadable file, source too long).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:2] == ["grade"] and len(sys.argv) >= 4:
    # First thing: the runner's start-up (its interpreter, NumPy, isolation, probe) runs beside
    # this process's imports, and a cold grade waits for whichever ends last.
    from engine.sandbox import start_for_one_grade

    start_for_one_grade()

import argparse
import json
import os
from pathlib import Path
from typing import Any, NoReturn

from engine.i18n import language, t

EXIT_OK, EXIT_NOT_ACCEPTED, EXIT_USAGE = 0, 1, 2

_STATUS_MARKS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine", description="NumPy 练习题评测引擎")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="列出所有练习题的 id")
    listing.add_argument("--json", action="store_true", help="输出 JSON（含标题与对应笔记章节）")

    grading = commands.add_parser("grade", help="评测一个答案文件")
    grading.add_argument("drill", help="练习题 id，例如 softmax")
    grading.add_argument("file", help="答案的 Python 源文件")
    grading.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    grading.add_argument(
        "--mode", choices=("run", "submit"), default="submit", help="run 只跑可见示例"
    )
    grading.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="反馈的语言（默认中文；en：英文）"
    )

    doctor = commands.add_parser("doctor", help="检查评测沙箱的隔离层是否就绪")
    doctor.add_argument("--json", action="store_true", help="输出 JSON")

    args = parser.parse_args(argv)
    if args.command == "list":
        return _list(args.json)
    if args.command == "grade":
        return _grade(args.drill, args.file, args.mode, args.json, args.lang)
    return _doctor(args.json)


def _list(as_json: bool) -> int:
    from engine.drills import DRILLS

    if as_json:
        rows = [
            {"id": d.id, "title": d.title, "topic": d.topic, "section": d.section}
            for d in DRILLS.values()
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for drill_id in DRILLS:
            print(drill_id)
    return EXIT_OK


def _grade(drill_id: str, file: str, mode: str, as_json: bool, lang: str = "zh") -> int:
    try:
        raw = Path(file).read_bytes()
    except OSError as exc:
        return _usage(f"无法读取文件 {file}：{exc.strerror or exc}")
    from engine.sandbox import start_for_one_grade

    start_for_one_grade()  # no-op when already started, at the top of this module
    from engine.drills import DRILLS
    from engine.grader import MAX_SOURCE_BYTES, grade

    if drill_id not in DRILLS:
        return _usage(f"未知的练习题：{drill_id}（可用：{', '.join(DRILLS)}）")
    if len(raw) > MAX_SOURCE_BYTES:
        return _usage(f"源文件过大：{len(raw)} 字节，上限 {MAX_SOURCE_BYTES} 字节")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _usage(f"源文件不是 UTF-8 编码：{file}")

    result = grade(drill_id, source, mode="run" if mode == "run" else "submit", lang=lang)
    code = EXIT_OK if result.accepted else EXIT_NOT_ACCEPTED
    try:
        if as_json:
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            with language(lang):
                _print_report(result.to_dict())
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `... | head`: the verdict still decides the exit code
        _silence_stdout()
    return code


def _print_report(data: dict[str, Any]) -> None:
    print(
        f"{data['drill']}: {data['verdict']}  ({data['passed']}/{data['total']} {t('通过')}, "
        f"{data['time_ms']:.0f} ms{'' if data['sandboxed'] else t(', 未隔离运行')})"
    )
    print(data["message"])
    if data.get("diagnosis"):
        print(t("诊断：{title}", title=data["diagnosis"]["title"]))
        print(f"  {data['diagnosis']['detail']}")
    for test in data["tests"]:
        mark = _STATUS_MARKS.get(test["status"], "?")
        tag = t("（隐藏）") if test["hidden"] else ""
        # Hidden tests have no timing of their own (only the rounded total is reported).
        timing = "" if test["hidden"] else f"  {test['time_ms']:.1f} ms"
        print(f"  {mark} {test['name']}{tag}{timing}")
        if test["status"] != "passed" or test["message"] != t("通过"):
            for line in test["message"].splitlines():
                print(f"      {line}")
        if not test["hidden"] and test["status"] != "passed":
            for key, label in (("input", t("输入")), ("expected", t("期望")), ("got", t("得到"))):
                if test.get(key):
                    print(f"      {label}:")
                    for line in test[key].splitlines():
                        print(f"        {line}")
        if test["stdout"]:
            print("      " + t("输出:"))
            for line in test["stdout"].splitlines():
                print(f"        {line}")
    if data["stdout"]:
        print(t("函数外的输出:"))
        print(data["stdout"])


def _doctor(as_json: bool) -> int:
    try:
        from engine.sandbox import doctor_report
    except ImportError as exc:
        print(f"评测沙箱不可用：无法导入 engine.sandbox.doctor_report（{exc}）", file=sys.stderr)
        return EXIT_NOT_ACCEPTED
    report = doctor_report()
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    elif isinstance(report, dict):
        for key, value in report.items():
            if isinstance(value, dict):
                print(f"{key}:")
                for name, flag in value.items():
                    print(f"  {name}: {flag}")
            else:
                print(f"{key}: {value}")
    else:
        print(report)
    ready = report.get("ready", True) if isinstance(report, dict) else True
    return EXIT_OK if ready else EXIT_NOT_ACCEPTED


def _usage(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return EXIT_USAGE


def _silence_stdout() -> None:
    """The reader of our stdout left: drop further output instead of failing at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _leave(code: int) -> NoReturn:
    """Exit at once: the sandbox runner tears itself down after we are gone, and a one-shot
    process needs no interpreter finalization (tens of ms with NumPy loaded)."""
    from engine.sandbox import shutdown

    shutdown(wait=False)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            _silence_stdout()
    os._exit(code)


if __name__ == "__main__":
    try:
        exit_code = main()
    except BrokenPipeError:
        _silence_stdout()
        exit_code = EXIT_OK
    _leave(exit_code)
