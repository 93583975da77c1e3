"""quiz.rendering: math, diagrams and code survive; everything else is sanitised."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from quiz.notes import parse_file
from quiz.rendering import _render, normalize_markdown, pygments_css, render_markdown

OWNER_DOC = Path(__file__).resolve().parents[2] / "content" / "01-neural-networks.md"


def test_inline_math_with_inner_spaces() -> None:
    html = render_markdown("公式为 $ f(x) = \\frac{1}{1 + e^{-x}} $。")
    assert html == (
        '<p>公式为 <span class="arithmatex">\\( f(x) = \\frac{1}{1 + e^{-x}} \\)</span>。</p>'
    )


def test_display_math_block() -> None:
    html = render_markdown("前文\n\n$$\n\\sum_{j} e^{x_j}\n$$\n")
    assert '<div class="arithmatex">\\[\n\\sum_{j} e^{x_j}\n\\]</div>' in html


def test_double_dollar_inside_a_line_is_math() -> None:
    html = render_markdown("1. 计算mini-batch均值 $$μ_B$$ 和方差$$σ_B^2$$。")
    assert html == (
        '<ol>\n<li>计算mini-batch均值 <span class="arithmatex">\\(μ_B\\)</span> 和方差'
        '<span class="arithmatex">\\(σ_B^2\\)</span>。</li>\n</ol>'
    )
    assert "$" not in html


def test_math_is_not_touched_by_markdown() -> None:
    html = render_markdown("$a_1 * b_2 * c$ 与 `$x$`")
    assert '<span class="arithmatex">\\(a_1 * b_2 * c\\)</span>' in html
    assert "<code>$x$</code>" in html  # code spans are not math


def test_mermaid_fence() -> None:
    html = render_markdown("```mermaid\ngraph TD\n    A[输入] --> B<b>\n```")
    assert html == '<pre class="mermaid">graph TD\n    A[输入] --&gt; B&lt;b&gt;</pre>'


def test_python_is_highlighted_with_classes() -> None:
    html = render_markdown("```python\ndef relu(x):\n    return np.maximum(0, x)  # 注释\n```")
    assert html.startswith('<div class="highlight"><pre>')
    assert '<span class="k">def</span>' in html
    assert '<span class="nf">relu</span>' in html
    assert '<span class="c1"># 注释</span>' in html
    assert "style=" not in html


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>安全", ["<script", "alert"]),
        ('<img src="x" onerror="alert(1)">', ["onerror", "<img"]),
        ("[点我](javascript:alert(1))", ["javascript:"]),
        ('<a href=" JaVaScRiPt:alert(1)">x</a>', ["javascript", "JaVaScRiPt"]),
        ('<p style="color:red" onclick="x()">文字</p>', ["style=", "onclick"]),
        ('<iframe src="https://evil.example"></iframe>', ["<iframe", "evil"]),
        ("<style>body{display:none}</style>", ["<style", "display"]),
        ('<span class="x" onmouseover="y()">s</span>', ["onmouseover"]),
    ],
)
def test_dangerous_html_is_stripped(source: str, forbidden: list[str]) -> None:
    html = render_markdown(source)
    for fragment in forbidden:
        assert fragment not in html


def test_links_keep_safe_targets() -> None:
    html = render_markdown("[相对](/topics/x) 和 [外部](https://example.com/a?b=1)")
    assert '<a href="/topics/x" rel="noopener">相对</a>' in html
    assert '<a href="https://example.com/a?b=1" rel="noopener">外部</a>' in html


def test_tables_use_attributes_not_styles() -> None:
    html = render_markdown("| 方法 | 维度 |\n|:--|--:|\n| BN | batch |")
    assert '<th align="left">方法</th>' in html
    assert '<td align="right">batch</td>' in html


def test_two_space_nesting_and_list_after_paragraph() -> None:
    source = (
        "**🔑 知识点详解**\n- **Sigmoid**：\n  - 定义：平滑。\n    👉 **注意**：饱和。\n- Softmax"
    )
    html = render_markdown(source)
    assert html == (
        "<p><strong>🔑 知识点详解</strong></p>\n<ul>\n"
        "<li><strong>Sigmoid</strong>：<ul>\n"
        "<li>定义：平滑。\n    👉 <strong>注意</strong>：饱和。</li>\n</ul>\n</li>\n"
        "<li>Softmax</li>\n</ul>"
    )


def test_normalize_keeps_code_and_setext() -> None:
    source = "1. 步骤\n   ```python\n   if x:\n     y()\n   ```\n\n标题\n---"
    assert normalize_markdown(source) == (
        "1. 步骤\n\n    ```python\n    if x:\n      y()\n    ```\n\n标题\n---"
    )


def test_chinese_punctuation_and_emoji_survive() -> None:
    text = "👉 **辨析**：全角标点，。！？（）【】“”《》、；"
    assert render_markdown(text) == (
        "<p>👉 <strong>辨析</strong>：全角标点，。！？（）【】“”《》、；</p>"
    )


def test_empty_input() -> None:
    assert render_markdown("") == ""
    assert render_markdown(" \n ") == ""


def test_owner_document_renders() -> None:
    html = render_markdown(OWNER_DOC.read_text(encoding="utf-8"))
    assert html.count("<h3>") == 2
    assert html.count("<h4>") == 4
    assert html.count('<pre class="mermaid">') == 2
    assert html.count('<div class="highlight">') == 2
    assert html.count("👉") == OWNER_DOC.read_text(encoding="utf-8").count("👉") == 9
    assert "<li><strong>神经网络的组成</strong>：<ul>" in html
    assert '<span class="arithmatex">\\( f(x) = \\frac{1}{1 + e^{-x}} \\)</span>' in html
    assert '<span class="arithmatex">\\(μ_B\\)</span>' in html
    assert not re.search(r"\$[^$<]*<span", html)  # no half-paired dollars left over
    assert "<script" not in html


def test_every_section_and_card_text_renders() -> None:
    doc = parse_file(OWNER_DOC)
    for topic in doc.topics:
        for section in topic.sections:
            html = render_markdown(section.body_md)
            # Glued headers were split off by the parser: each is its own paragraph.
            assert "<p><strong>🔥 面试高频题</strong></p>" in html
            for question in section.questions:
                assert render_markdown(question.short_answer).startswith("<p>")
            for point in section.knowledge_points:
                assert render_markdown(point.body_md).startswith(("<ul>", "<ol>"))
    last = render_markdown(doc.topics[1].sections[1].body_md)
    assert '<span class="p">)</span>\\<span class="n">y_ln</span>' in last
    assert "<p><strong>📝 实践经验</strong></p>" in last


def test_thread_safe() -> None:
    # Bypass the memo so every call really converts, eight threads at once.
    convert = _render.__wrapped__
    texts = [
        f"第 {i} 题：$x_{{{i}}}$\n\n- 项目 {i}\n  - 子项\n\n```python\nx = {i}\n```"
        for i in range(64)
    ]
    expected = [convert(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(convert, texts * 4))
    assert results == expected * 4


def test_memoised() -> None:
    text = "缓存：$a$"
    assert render_markdown(text) is render_markdown(text)


def test_pygments_css_light_and_dark() -> None:
    css = pygments_css()
    assert ".highlight .k {" in css
    media = css.index("@media (prefers-color-scheme: dark) {")
    light, dark = css[:media], css[media:]
    assert ".highlight { background: #f8f8f8; }" in light
    assert ":root .highlight .k {" in dark
    assert ":root .highlight { background: #0d1117;" in dark
    assert css.rstrip().endswith("}")
    # nothing unscoped that would style every <pre> on the page
    assert not re.search(r"^\s*pre\s*\{", css, re.MULTILINE)
    assert css.count("{") == css.count("}")
