"""The texts the page scripts show, translated on the server and passed in <body data-i18n>.

static/js/i18n.js defines `tr(msgid, vars)`; every `tr("...")` in static/js must be listed here
(tests/quiz/test_i18n.py checks it). Placeholders are {name}, filled in by the script.
"""

from __future__ import annotations

from functools import lru_cache

from babel.support import NullTranslations
from flask_babel import get_translations

from quiz.i18n import N_

MSGIDS: tuple[str, ...] = (
    N_(" {passed}/{total} 个测试通过 · {formatMs} · {mode} #{id}"),
    N_("{label}：{value}"),
    N_("{name}，下次 {ivl}（按 {key}）"),
    N_("今天已完成 {done} 张，还剩 {left} 张"),
    N_("代码为空：请先写出函数再运行或提交。"),
    N_("代码太长：{size} KB，上限是 {limit} KB。请删减后再提交。"),
    N_("代码编辑器：Tab 缩进，Ctrl+Enter 提交，Esc 后按 Tab 离开编辑器"),
    N_("代码超过 {maxBytes_1024} KB，无法保存到服务器（已暂存在本机浏览器）。"),
    N_("信息"),
    N_("再提交失败 {left} 次后可以查看答案（先试试提示）。"),
    N_("出错"),
    N_("初始代码"),
    N_("加载下一张卡片失败"),
    N_("卡住了？可以查看讲解和参考答案（会标记为“看过答案”）。"),
    N_("去笔记复习这一节 →"),
    N_("困难"),
    N_("在编辑器中定位第 {line} 行"),
    N_("在编辑器中打开"),
    N_("复习：从初始代码开始"),
    N_("实际"),
    N_("尝试中"),
    N_("已恢复之前的代码"),
    N_("已恢复初始代码"),
    N_("已恢复本机暂存的未保存代码，正在保存…"),
    N_("已搁置到明天。"),
    N_("已撤销上一次回答。"),
    N_("已撤销搁置。"),
    N_("已撤销暂停。"),
    N_("已暂停这张卡片，可在卡片浏览中恢复。"),
    N_("已解决"),
    N_("已评为“{label}”，下次复习 {formatTime}。"),
    N_("已载入提交 #{id} 的代码"),
    N_("已载入草稿（{formatTime}）"),
    N_("建议评分：{reason}。按一个评分确认（已预选建议），随后安排下次复习："),
    N_("待复习"),
    N_("打印输出"),
    N_("提交"),
    N_("提交回答失败"),
    N_("排队中…（结果会自动显示）"),
    N_("撤销"),
    N_("撤销失败"),
    N_("撤销："),
    N_("操作失败"),
    N_("无法打开这次提交。"),
    N_("无法查看答案。"),
    N_("无法读取今天的统计，请刷新页面。"),
    N_("显示深入回答"),
    N_("显示答案"),
    N_("最大误差"),
    N_("有未保存的修改…"),
    N_("服务器返回了无法识别的响应（HTTP {status}）。"),
    N_("期望"),
    N_("未开始"),
    N_("未知错误"),
    N_("未通过"),
    N_("查看难记卡"),
    N_("标为“隐藏”的测试只显示名称、失败的类别和误差；输入、期望和实际输出只对可见示例显示。"),
    N_("每个测试的结果"),
    N_("注意：本次评测未在沙箱中运行（开发模式）。"),
    N_("测试"),
    N_("状态"),
    N_("登录已过期，请刷新页面重新登录。"),
    N_("登录已过期，请重新登录。代码已保存在本机浏览器中。"),
    N_("知识点"),
    N_("示例全部通过"),
    N_("答案错误"),
    N_("简单"),
    N_("练习"),
    N_("编辑器加载失败，请刷新页面。"),
    N_("网络连接失败，请检查网络后重试。"),
    N_("网络错误，回答可能没有送达。请再按一次评分键重试。"),
    N_("网络错误，撤销没有完成。"),
    N_("网络错误，操作没有完成。"),
    N_("网络错误，无法加载下一张卡片。请检查网络后刷新页面。"),
    N_("耗时"),
    N_("良好"),
    N_("草稿保存失败：{error}（已暂存在本机浏览器，稍后自动重试）"),
    N_("草稿已保存"),
    N_("草稿已保存 {formatTime}"),
    N_("评分保持为“{RATINGS_value}”。"),
    N_("评分失败，请重试。"),
    N_("评测中…"),
    N_("评测中…（只运行可见示例）"),
    N_("评测中…（运行全部测试）"),
    N_("评测中…（已分配到评测机）"),
    N_("评测系统内部错误"),
    N_("语法错误"),
    N_("请求失败（HTTP {status}）。"),
    N_("超出内存限制"),
    N_("超出时间限制"),
    N_("超时"),
    N_("输入"),
    N_("输入 / 期望 / 实际输出"),
    N_("输出超出限制"),
    N_("运行示例"),
    N_("运行错误"),
    N_("这张卡片已在别处回答"),
    N_("这张卡片已遗忘 8 次，已标记为难记卡并暂停。可以改写笔记后在卡片浏览中恢复。"),
    N_("通过"),
    N_("重来"),
    N_("问题可能在这里"),
    N_("隐藏"),
    N_("首次通过，已按规则加入复习：{reason}，下次复习 {formatTime}。觉得不准可以改评分："),
    N_("（无返回值）"),
    N_("（没有打印输出）"),
)


def js_messages() -> dict[str, str]:
    """msgid -> text in the current locale, only for texts that differ (Chinese sends nothing)."""
    return dict(_translated(get_translations()))


@lru_cache(maxsize=8)
def _translated(translations: NullTranslations) -> tuple[tuple[str, str], ...]:
    # Once per catalogue (Flask-Babel keeps one per locale for the app's life), not a hundred
    # lookups of the request's locale on every page.
    pairs = ((msgid, translations.ugettext(msgid)) for msgid in MSGIDS)
    return tuple((msgid, text) for msgid, text in pairs if text != msgid)
