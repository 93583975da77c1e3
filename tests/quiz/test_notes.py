"""quiz.notes: the owner's document parsed as it is, stable keys, and clear errors."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from quiz.notes import (
    Document,
    NotesParseError,
    Section,
    load_directory,
    normalize_for_key,
    parse_document,
    parse_file,
)

ROOT = Path(__file__).resolve().parents[2]
OWNER_DOC = ROOT / "content" / "01-neural-networks.md"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def owner_text() -> str:
    return OWNER_DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc() -> Document:
    return parse_file(OWNER_DOC)


def sections(doc: Document) -> list[Section]:
    return [section for topic in doc.topics for section in topic.sections]


# --- the owner's document ---------------------------------------------------------------------


def test_topics_and_sections(doc: Document) -> None:
    assert doc.source == str(OWNER_DOC)
    assert [t.title for t in doc.topics] == [
        "神经网络结构",
        "反向传播（Backpropagation）与梯度计算",
    ]
    assert [t.line for t in doc.topics] == [1, 104]
    assert [(s.number, s.title, s.line) for s in sections(doc)] == [
        (1, "神经网络的基本结构", 3),
        (2, "激活函数", 26),
        (1, "反向传播（Backpropagation）", 108),
        (2, "归一化技术（Batch Normalization、Layer Normalization）", 142),
    ]


def test_seven_questions_each_with_both_answers(doc: Document) -> None:
    questions = [q for _, _, q in doc.iter_questions()]
    assert [len(s.questions) for s in sections(doc)] == [2, 2, 1, 2]
    assert len(questions) == 7
    assert all(q.short_answer and q.deep_answer for q in questions)
    assert [q.number for q in questions] == [1, 2, 1, 2, 1, 1, 2]
    assert [q.line for q in questions] == [17, 21, 49, 53, 136, 169, 172]


def test_question_texts_exactly(doc: Document) -> None:
    first = sections(doc)[1].questions[1]
    assert first.text == "Softmax函数的作用是什么？如何避免数值溢出？"
    assert first.short_answer == "Softmax将输入转换为概率分布，适用于多分类任务。"
    assert first.deep_answer.endswith("（即使用 $ e^{x_i - \\max(x)} $ 替代 $ e^{x_i} $）。")
    backprop = sections(doc)[2].questions[0]
    assert backprop.text == "什么是反向传播（Backpropagation）？"
    assert backprop.short_answer == ("反向传播是一种计算神经网络梯度的方法，通过误差反传更新权重。")
    assert backprop.deep_answer.startswith("反向传播利用链式法则计算损失对每个权重的梯度")


def test_knowledge_point_titles_per_section(doc: Document) -> None:
    assert [[kp.title for kp in s.knowledge_points] for s in sections(doc)] == [
        ["神经网络的组成", "相关概念"],
        ["Sigmoid", "ReLU（Rectified Linear Unit）", "Leaky ReLU", "Softmax"],
        ["反向传播（Backpropagation）", "相关概念"],
        ["Batch Normalization（BN）", "Layer Normalization（LN）"],
    ]


def test_knowledge_point_body_is_a_dedented_list(doc: Document) -> None:
    sigmoid = sections(doc)[1].knowledge_points[0]
    assert sigmoid.line == 28
    assert sigmoid.body_md.splitlines() == [
        "- 定义：Sigmoid函数将输入映射到(0, 1)区间，公式为 $ f(x) = \\frac{1}{1 + e^{-x}} $。",
        "- 特性：平滑且易于求导，但容易导致梯度消失问题。",
        "- 使用场景：早期神经网络中常用作激活函数，现在更多用于概率输出。",
    ]
    backprop = sections(doc)[2].knowledge_points[0]
    assert backprop.body_md.startswith("- **核心定义**：反向传播（BP）")
    assert "\n  1. **前向传播**：计算网络输出。\n" in backprop.body_md
    assert "     - 计算输出层梯度（∂L/∂y）。" in backprop.body_md
    # The glued note is cut off its line, the line itself stays.
    assert backprop.body_md.endswith("4. **参数更新**：使用梯度下降等优化算法更新权重。")


def test_notes_attach_to_the_right_points(doc: Document) -> None:
    notes = {
        (s.title, kp.title): [(n.kind, n.text) for n in kp.notes]
        for s in sections(doc)
        for kp in s.knowledge_points
    }
    assert notes[("神经网络的基本结构", "神经网络的组成")] == [
        ("注意", "隐藏层的数量和每层的神经元数量会直接影响模型的复杂度和性能。")
    ]
    assert notes[("神经网络的基本结构", "相关概念")][0][0] == "辨析"
    assert notes[("激活函数", "Leaky ReLU")] == []
    assert notes[("激活函数", "Softmax")] == [
        ("注意", "Softmax对输入的数值范围敏感，可能需要先进行归一化处理。")
    ]
    assert notes[("反向传播（Backpropagation）", "反向传播（Backpropagation）")] == [
        ("注意", "梯度消失问题可能导致深层网络训练困难。")
    ]
    assert notes[("反向传播（Backpropagation）", "相关概念")] == [
        ("辨析", "梯度消失通常发生在sigmoid/tanh等激活函数中，ReLU及其变体可缓解问题。")
    ]
    bn_notes = notes[
        ("归一化技术（Batch Normalization、Layer Normalization）", "Batch Normalization（BN）")
    ]
    assert bn_notes == [("注意", "BN 在小batch时可能不稳定，Layer Normalization更适用。")]
    assert sum(len(kp.notes) for _, _, kp in doc.iter_knowledge_points()) == 9
    for s in sections(doc):
        for kp in s.knowledge_points:
            assert "👉" not in kp.body_md


def test_glued_block_headers_are_split_off(doc: Document) -> None:
    norm = sections(doc)[3]
    ln = norm.knowledge_points[1]
    # "... 👉 **注意**：LN不会...稳定。 **🔥 面试高频题**" on one line
    assert ln.notes[0].text == "LN不会受到batch size影响，但可能不如BN稳定。"
    assert "面试高频题" not in ln.body_md
    # "... **深入回答**：... 的依赖。 **🌟 重点提醒**"
    assert norm.questions[1].deep_answer == (
        "BN 使输入分布稳定，有助于缓解梯度消失，加快收敛，同时减少对初始化的依赖。"
    )
    # "- **BN 依赖 ...**。 **📝 实践经验**"
    assert norm.reminders == (
        "**梯度消失问题**：深层网络训练可能遇到梯度消失，BN 和 LN 可缓解。",
        "**BN 适用于 CNN，LN 适用于 RNN**。",
        "**BN 依赖 batch 统计信息，LN 依赖样本内特征统计信息**。",
    )
    assert [c.language for c in norm.practice] == ["python"]
    # In the section's Markdown every block header is a paragraph of its own.
    for header in ("**🔥 面试高频题**", "**🌟 重点提醒**", "**📝 实践经验**"):
        assert f"\n\n{header}\n\n" in norm.body_md


def test_leading_space_before_header(doc: Document) -> None:
    # Line 134 is " **🔥 面试高频题**" (one leading space).
    assert [q.line for q in sections(doc)[2].questions] == [136]


def test_reminders_and_review_tips(doc: Document) -> None:
    activation = sections(doc)[1]
    assert activation.reminders[0] == "**要点一**：选择合适的激活函数对模型性能至关重要。"
    assert len(activation.reminders) == 3
    assert activation.review_tips == (
        "理解神经网络的基本结构，掌握输入层、隐藏层和输出层的功能。",
        "熟悉常见激活函数的特点及其适用场景，特别是ReLU和Softmax。",
        "动手实现常见的激活函数，并结合实际任务进行测试和调优。",
    )
    assert [len(s.review_tips) for s in sections(doc)] == [0, 3, 0, 3]
    assert [len(s.reminders) for s in sections(doc)] == [0, 3, 0, 3]


def test_practice_and_diagrams(doc: Document) -> None:
    practice = [c for s in sections(doc) for c in s.practice]
    diagrams = [c for s in sections(doc) for c in s.diagrams]
    assert [(c.language, c.line) for c in practice] == [("python", 63), ("python", 180)]
    assert [(c.language, c.line) for c in diagrams] == [("mermaid", 85), ("mermaid", 195)]
    assert diagrams[0].source.startswith("graph TD\n    A[神经网络结构] --> B[输入层]")
    assert diagrams[1].source.endswith("C --> E[适用于 RNN]")


def test_hash_lines_in_code_are_not_headings(doc: Document) -> None:
    code = sections(doc)[1].practice[0].source
    assert "# Sigmoid函数实现" in code
    assert code.startswith("import numpy as np\n")
    assert len(sections(doc)) == 4
    assert not any("函数实现" in s.title for s in sections(doc))


def test_stray_backslash_in_code_is_verbatim(doc: Document) -> None:
    norm = sections(doc)[3]
    assert "ln = nn.LayerNorm(10)\\y_ln = ln(x)" in norm.practice[0].source
    assert "ln = nn.LayerNorm(10)\\y_ln = ln(x)" in norm.body_md


def test_math_left_intact(doc: Document) -> None:
    s = sections(doc)
    assert "$ f(x) = \\max(\\alpha x, x) $，其中 $\\alpha$ 是" in s[1].knowledge_points[2].body_md
    bn = s[3].knowledge_points[0].body_md
    assert "计算mini-batch均值 $$μ_B$$ 和方差$$σ_B^2$$。" in bn
    assert "$$ŷ_i = (x_i - μ_B) / (√(σ_B^2 + ε))$$" in bn


def test_section_body_md(doc: Document) -> None:
    first = sections(doc)[0]
    assert first.body_md.startswith("**🔑 知识点详解**\n\n- **神经网络的组成**：")
    # Separator rules and the heading itself are not part of the body.
    assert first.body_md.endswith("来避免过拟合。")
    last = sections(doc)[3]
    assert last.body_md.endswith("3. 掌握 BN/LN 适用场景及代码实现。")
    assert "####" not in last.body_md


def test_dataclasses_are_frozen(doc: Document) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.topics[0].title = "x"  # type: ignore[misc]
    assert isinstance(doc.topics, tuple)
    assert isinstance(sections(doc)[0].questions, tuple)


# --- identity: keys and slugs ----------------------------------------------------------------


def test_keys_and_slugs_are_unique_and_ascii(doc: Document) -> None:
    keys = [q.key for _, _, q in doc.iter_questions()]
    keys += [kp.key for _, _, kp in doc.iter_knowledge_points()]
    assert len(keys) == len(set(keys)) == 17
    slugs = [t.slug for t in doc.topics] + [s.slug for s in sections(doc)]
    assert len(set(slugs)) == len(slugs)
    for value in keys + slugs:
        assert value.isascii()
        assert re.fullmatch(r"[a-z0-9/-]+", value), value
    topic, section, question = next(doc.iter_questions())
    assert question.key.startswith(f"{topic.slug}/{section.slug}/q/")
    assert sections(doc)[3].slug.startswith("batch-normalization-layer-normalization-")


def test_editing_answers_keeps_keys(doc: Document, owner_text: str) -> None:
    edited = (
        owner_text.replace(
            "BN 在 batch 维度归一化，LN 在特征维度归一化。", "BN 沿 batch 归一化；LN 沿特征归一化。"
        )
        .replace("隐藏层是神经网络的核心部分", "隐藏层是网络的核心")
        .replace("  - 特性：平滑且易于求导", "  - 特性：平滑、好求导")
        # punctuation and spacing of a question are not part of its identity
        .replace("为什么 BN 可以加速训练？", "为什么BN可以加速训练?")
    )
    assert edited != owner_text
    new = parse_document(edited, source="edited.md")
    assert keys(new) == keys(doc)
    assert sections(new)[3].questions[0].short_answer == "BN 沿 batch 归一化；LN 沿特征归一化。"


def test_changing_a_question_changes_only_its_key(doc: Document, owner_text: str) -> None:
    new = parse_document(
        owner_text.replace("Softmax函数的作用是什么？", "Softmax函数有什么用？"), source="x.md"
    )
    old_keys, new_keys = keys(doc), keys(new)
    assert len(old_keys - new_keys) == 1  # that card retires ...
    assert len(new_keys - old_keys) == 1  # ... and a new one appears
    assert sections(doc)[1].questions[1].key in old_keys - new_keys


def test_removing_a_question_drops_its_key(doc: Document, owner_text: str) -> None:
    start = owner_text.index("2. 为什么 BN 可以加速训练？")
    end = owner_text.index(" **🌟 重点提醒**")
    new = parse_document(owner_text[:start] + owner_text[end:], source="x.md")
    assert keys(doc) - keys(new) == {sections(doc)[3].questions[1].key}


def test_slugs_do_not_depend_on_order_or_numbers(owner_text: str, doc: Document) -> None:
    first_topic, second_topic = owner_text.split("### 反向传播（Backpropagation）与梯度计算")
    swapped = "### 反向传播（Backpropagation）与梯度计算" + second_topic + "\n" + first_topic
    swapped = swapped.replace("#### **2. 激活函数**", "#### **7. 激活函数**")
    new = parse_document(swapped, source="x.md")
    assert [t.title for t in new.topics] == [t.title for t in reversed(doc.topics)]
    assert {t.slug for t in new.topics} == {t.slug for t in doc.topics}
    assert {s.slug for s in sections(new)} == {s.slug for s in sections(doc)}
    assert keys(new) == keys(doc)


def test_normalize_for_key() -> None:
    assert normalize_for_key("为什么 **BN** 可以加速训练？") == normalize_for_key(
        "为什么BN可以加速训练?"
    )
    assert normalize_for_key("ReLU（Rectified Linear Unit）") == "relurectifiedlinearunit"
    assert normalize_for_key("Sigmoid") != normalize_for_key("Softmax")


def keys(doc: Document) -> set[str]:
    found = {q.key for _, _, q in doc.iter_questions()}
    return found | {kp.key for _, _, kp in doc.iter_knowledge_points()}


# --- other shapes of the same house style ----------------------------------------------------


def test_variants_fixture() -> None:
    doc = parse_file(DATA / "variants.md")
    (topic,) = doc.topics
    assert (topic.title, topic.line) == ("优化方法", 5)
    first, second = topic.sections
    assert (first.number, first.title) == (3, "梯度下降")
    assert (second.number, second.title) == (None, "无编号小节")
    assert [kp.title for kp in first.knowledge_points] == ["Dropout", "学习率", "动量法"]
    assert first.knowledge_points[0].body_md == "训练时随机丢弃神经元。"
    assert first.knowledge_points[0].notes[0].kind == "辨析"
    dropout, lr = first.questions
    assert dropout.text == "什么是 Dropout？"
    assert dropout.short_answer == "训练时以概率 p 随机丢弃神经元。"
    assert (
        dropout.deep_answer
        == "可以看作集成学习：\n- 每次迭代训练一个子网络；\n- 推理时按比例缩放。"
    )
    assert (lr.number, lr.short_answer, lr.deep_answer) == (2, "从 1e-3 开始，配合调度器。", "")
    assert first.diagrams[0].source == "graph LR\n### 这不是标题"
    assert second.review_tips == ("手推一次 SGD。",)


def test_crlf_and_bom_parse_like_lf(owner_text: str, doc: Document) -> None:
    crlf = parse_document("\ufeff" + owner_text.replace("\n", "\r\n"), source=doc.source)
    assert crlf == doc


# --- errors ----------------------------------------------------------------------------------

MINIMAL = "### 主题\n#### **1. 小节**\n**🔥 面试高频题**\n1. 问题？\n   - **一句话答案**：答案。\n"


def test_minimal_document_parses() -> None:
    doc = parse_document(MINIMAL)
    assert doc.source == "<string>"
    assert doc.topics[0].sections[0].questions[0].short_answer == "答案。"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param("", 1, "为空", id="empty"),
        pytest.param(" \n\n\t\n", 1, "为空", id="only-whitespace"),
        pytest.param("\n\n随便写的笔记\n- 没有标题\n", 3, "###", id="no-topic"),
        pytest.param("#### **1. 小节**\n### 主题\n", 1, "####", id="section-before-topic"),
        pytest.param(
            "### 主题\n#### 小节\n**🔥 面试高频题**\n1. 问题一？\n   - **一句话答案**：有。\n\n"
            "2. 问题二？\n   - **深入回答**：只有深入回答。\n",
            7,
            "一句话答案",
            id="question-without-short-answer",
        ),
        pytest.param(
            "### 主题\n#### 小节\n**🔥 面试高频题**\n1. 问题？\n   - **一句话答案**：\n",
            5,
            "一句话答案",
            id="empty-short-answer",
        ),
        pytest.param(
            "### 主题\n#### 小节\n**📝 实践经验**\n\n```python\n# 注释\nx = 1\n",
            5,
            "代码块",
            id="unterminated-fence",
        ),
        pytest.param(
            "### 主题\n**🔥 面试高频题**\n1. 问题？\n   - **一句话答案**：有。\n",
            2,
            "小节",
            id="block-outside-section",
        ),
        pytest.param(
            "### 主题\n#### 小节\n**🔥 面试高频题**\n问题：什么是梯度？\n",
            4,
            "编号",
            id="prose-questions",
        ),
        pytest.param("### 主题\n#### 小节\n正文\x00\n", 3, "二进制", id="nul-byte"),
        pytest.param("### 主题\n#### A\n#### **2. A**\n", 3, "重名", id="duplicate-section"),
        pytest.param("### 主题\n\n### **主题**\n", 3, "重名", id="duplicate-topic"),
    ],
)
def test_malformed_documents(text: str, line: int, fragment: str) -> None:
    with pytest.raises(NotesParseError) as caught:
        parse_document(text, source="bad.md")
    error = caught.value
    assert (error.source, error.line) == ("bad.md", line)
    assert fragment in error.reason
    assert str(error).startswith(f"bad.md:{line}: ")


def test_parse_file_rejects_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "garbage.md"
    path.write_bytes("### 主题\n#### 小节\n".encode() + b"\xff\xfe\x00\x81garbage\n")
    with pytest.raises(NotesParseError) as caught:
        parse_file(path)
    assert (caught.value.source, caught.value.line) == (str(path), 3)
    assert "UTF-8" in caught.value.reason


def test_parse_file_reports_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(NotesParseError) as caught:
        parse_file(tmp_path / "missing.md")
    assert caught.value.line == 1


def test_load_directory_keeps_going(tmp_path: Path) -> None:
    shutil.copy(OWNER_DOC, tmp_path / "b-good.md")
    (tmp_path / "a-bad.md").write_text("### 主题\n```\nunterminated\n", encoding="utf-8")
    (tmp_path / "c-binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    (tmp_path / "d-also-good.md").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not markdown", encoding="utf-8")
    documents, errors = load_directory(tmp_path)
    assert [Path(d.source).name for d in documents] == ["b-good.md", "d-also-good.md"]
    assert [(Path(e.source).name, e.line) for e in errors] == [("a-bad.md", 2), ("c-binary.md", 1)]
    assert len(list(documents[0].iter_questions())) == 7


def test_damaged_copies_fail_only_with_notes_parse_error(owner_text: str) -> None:
    """Dropping or dedenting any single line parses or raises NotesParseError, nothing else."""
    lines = owner_text.split("\n")
    failures = 0
    for i in range(len(lines)):
        for variant in (
            lines[:i] + lines[i + 1 :],
            lines[:i] + [lines[i].lstrip()] + lines[i + 1 :],
        ):
            try:
                parse_document("\n".join(variant), source="damaged.md")
            except NotesParseError as error:
                failures += 1
                assert 1 <= error.line <= len(variant)
    assert failures  # e.g. dropping a 一句话答案 line must be reported
