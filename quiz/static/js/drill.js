// Drill page: CodeMirror editor, draft autosave, run/submit with results, history,
// revealing the answer and the review rating. Data comes from #drill-state (JSON) and the API.
(function () {
  "use strict";

  const SAVE_DELAY_MS = 800;
  const RETRY_SAVE_MS = 5000;
  const VERDICTS = {
    accepted: tr("通过"),
    wrong_answer: tr("答案错误"),
    syntax_error: tr("语法错误"),
    runtime_error: tr("运行错误"),
    time_limit_exceeded: tr("超出时间限制"),
    memory_limit_exceeded: tr("超出内存限制"),
    output_limit_exceeded: tr("输出超出限制"),
    internal_error: tr("评测系统内部错误"),
  };
  const TEST_STATUS = { passed: tr("通过"), failed: tr("未通过"), error: tr("出错"), timeout: tr("超时") };
  const STATUS = { new: tr("未开始"), attempted: tr("尝试中"), solved: tr("已解决"), due: tr("待复习") };

  const $ = (id) => document.getElementById(id);

  const h = window.h; // js/dom.js: elements from text only, never parsed as HTML

  function byteLength(text) {
    return new TextEncoder().encode(text).length;
  }

  function formatTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function formatError(value) {
    if (value === null || value === undefined) return "—";
    if (value === 0) return "0";
    const abs = Math.abs(value);
    return abs < 1e-3 || abs >= 1e4 ? value.toExponential(2) : value.toPrecision(3);
  }

  function formatMs(ms) {
    return `${Math.round(Number(ms) || 0)} ms`;
  }

  function init() {
    const stateEl = $("drill-state");
    const host = $("editor");
    if (!stateEl || !host) return;
    if (!window.MLEditor) {
      host.textContent = tr("编辑器加载失败，请刷新页面。");
      return;
    }
    const S = JSON.parse(stateEl.textContent);
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    const backupKey = `drill-backup:${S.user}:${S.drill}:${S.review ? "review" : "draft"}`;

    const runBtn = $("run-btn");
    const submitBtn = $("submit-btn");
    const resetBtn = $("reset-btn");
    const saveStatus = $("save-status");
    const alertBox = $("drill-alert");
    const results = $("results");

    let savedCode = S.code; // what the server holds as the draft
    let saveTimer = null;
    let saving = false;
    let saveAgain = false;
    let busy = false;
    let ratingShown = false;
    let appliedLog = null; // review log of the rating currently in force (to replace it)
    let appliedRating = null;
    let rating = false;

    // ---- local backup: survives a failed save, a lost connection or a closed tab ----------
    function readBackup() {
      try {
        const raw = window.localStorage.getItem(backupKey);
        return raw ? JSON.parse(raw) : null;
      } catch (e) {
        return null;
      }
    }
    function writeBackup(code) {
      try {
        window.localStorage.setItem(backupKey, JSON.stringify({ code: code, t: new Date().toISOString() }));
      } catch (e) {
        /* storage full or disabled: the server draft still works */
      }
    }
    function clearBackup() {
      try {
        window.localStorage.removeItem(backupKey);
      } catch (e) {
        /* ignore */
      }
    }

    let initial = S.code;
    const backup = readBackup();
    const backupNewer =
      backup && typeof backup.code === "string" && backup.code !== S.code &&
      (!S.draftSavedAt || new Date(backup.t) > new Date(S.draftSavedAt));
    if (backupNewer) initial = backup.code;
    else if (backup) clearBackup();

    // ---- HTTP ---------------------------------------------------------------------------
    async function call(method, url, body, extra) {
      const init = {
        method: method,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
      };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      Object.assign(init, extra || {});
      let response;
      try {
        response = await fetch(url, init);
      } catch (e) {
        return { ok: false, status: 0, data: { error: tr("网络连接失败，请检查网络后重试。") } };
      }
      let data;
      try {
        data = await response.json();
      } catch (e) {
        data = { error: tr("服务器返回了无法识别的响应（HTTP {status}）。", { status: response.status }) };
      }
      if (response.status === 401) data.error = tr("登录已过期，请重新登录。代码已保存在本机浏览器中。");
      return { ok: response.ok, status: response.status, data: data };
    }

    // ---- drafts ---------------------------------------------------------------------------
    function setSaveStatus(text, isError) {
      saveStatus.textContent = text;
      saveStatus.classList.toggle("save-error", Boolean(isError));
    }

    function scheduleSave(delay) {
      window.clearTimeout(saveTimer);
      saveTimer = window.setTimeout(saveDraft, delay === undefined ? SAVE_DELAY_MS : delay);
    }

    async function saveDraft() {
      saveTimer = null;
      if (saving) {
        saveAgain = true;
        return;
      }
      const code = editor.getValue();
      if (code === savedCode) {
        clearBackup();
        return;
      }
      if (byteLength(code) > S.maxBytes) {
        setSaveStatus(tr("代码超过 {maxBytes_1024} KB，无法保存到服务器（已暂存在本机浏览器）。", { maxBytes_1024: S.maxBytes / 1024 }), true);
        return;
      }
      saving = true;
      const r = await call("PUT", `${S.api}/draft`, { code: code, review: S.review });
      saving = false;
      if (r.ok) {
        savedCode = code;
        if (editor.getValue() === code) clearBackup();
        setSaveStatus(tr("草稿已保存 {formatTime}", { formatTime: formatTime(r.data.updated_at).slice(11) }));
      } else {
        setSaveStatus(tr("草稿保存失败：{error}（已暂存在本机浏览器，稍后自动重试）", { error: r.data.error || tr("未知错误") }), true);
        if (r.status === 0 || r.status >= 500) scheduleSave(RETRY_SAVE_MS);
      }
      if (saveAgain) {
        saveAgain = false;
        saveDraft();
      }
    }

    function onChange(code) {
      writeBackup(code);
      setSaveStatus(tr("有未保存的修改…"));
      scheduleSave();
    }

    // Leaving the page: send what is still unsaved; the local backup covers a failed send.
    window.addEventListener("pagehide", function () {
      const code = editor.getValue();
      if (code === savedCode || byteLength(code) > S.maxBytes) return;
      call("PUT", `${S.api}/draft`, { code: code, review: S.review }, { keepalive: true });
    });

    // ---- editor ---------------------------------------------------------------------------
    host.textContent = "";
    const editor = window.MLEditor.create(host, {
      doc: initial,
      onChange: onChange,
      onSubmit: () => grade("submit"),
      ariaLabel: tr("代码编辑器：Tab 缩进，Ctrl+Enter 提交，Esc 后按 Tab 离开编辑器"),
    });
    if (backupNewer) {
      setSaveStatus(tr("已恢复本机暂存的未保存代码，正在保存…"));
      scheduleSave(0);
    } else if (S.draftSavedAt) {
      setSaveStatus(tr("已载入草稿（{formatTime}）", { formatTime: formatTime(S.draftSavedAt) }));
    } else {
      setSaveStatus(S.review ? tr("复习：从初始代码开始") : tr("初始代码"));
    }
    for (const b of [runBtn, submitBtn, resetBtn]) b.disabled = false;

    // Phone layout: the statement comes first, so offer a jump straight into the editor.
    const jump = document.querySelector(".jump-to-editor a");
    if (jump) {
      jump.addEventListener("click", function (event) {
        event.preventDefault();
        $("editor-label").scrollIntoView({ block: "start" });
        editor.focus();
      });
    }

    let undoCode = null;
    function replaceCode(code, message) {
      undoCode = editor.getValue();
      editor.setValue(code);
      const undo = h("button", { type: "button", class: "link-button", text: tr("撤销") });
      undo.addEventListener("click", function () {
        if (undoCode === null) return;
        editor.setValue(undoCode);
        undoCode = null;
        setSaveStatus(tr("已恢复之前的代码"));
        editor.focus();
      });
      saveStatus.replaceChildren(`${message}。`, undo);
      editor.focus();
    }

    resetBtn.addEventListener("click", function () {
      replaceCode(S.starter, tr("已恢复初始代码"));
    });

    // ---- alerts ---------------------------------------------------------------------------
    function showAlert(message) {
      alertBox.textContent = message;
      alertBox.hidden = false;
    }
    function hideAlert() {
      alertBox.hidden = true;
      alertBox.textContent = "";
    }

    // ---- grading --------------------------------------------------------------------------
    function setBusy(on, mode) {
      busy = on;
      for (const b of [runBtn, submitBtn, resetBtn]) b.disabled = on;
      results.setAttribute("aria-busy", on ? "true" : "false");
      const target = mode === "run" ? runBtn : submitBtn;
      if (on) {
        target.dataset.label = target.innerHTML;
        target.textContent = tr("评测中…");
        results.replaceChildren(
          h("p", { class: "grading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), mode === "run" ? tr("评测中…（只运行可见示例）") : tr("评测中…（运行全部测试）")),
        );
      } else {
        for (const b of [runBtn, submitBtn]) {
          if (b.dataset.label) {
            b.innerHTML = b.dataset.label;
            delete b.dataset.label;
          }
        }
      }
    }

    async function grade(mode) {
      if (busy) return; // Ctrl+Enter repeats and double clicks land here
      const code = editor.getValue();
      hideAlert();
      if (!code.trim()) {
        showAlert(tr("代码为空：请先写出函数再运行或提交。"));
        return;
      }
      const size = byteLength(code);
      if (size > S.maxBytes) {
        showAlert(tr("代码太长：{size} KB，上限是 {limit} KB。请删减后再提交。", { size: Math.floor(size / 1024), limit: S.maxBytes / 1024 }));
        return;
      }
      setBusy(true, mode);
      window.clearTimeout(saveTimer); // the submission saves the draft itself
      saveTimer = null;
      let r = await call("POST", `${S.api}/submissions`, { code: code, mode: mode, review: S.review });
      if (r.status === 202) r = await waitForVerdict(r.data); // graders are busy: it is queued
      setBusy(false, mode);
      if (r.status === 201 || r.status === 429 || r.status === 503) {
        savedCode = code; // saved as the draft before grading, even when refused
        if (editor.getValue() === code) {
          clearBackup();
          setSaveStatus(tr("草稿已保存"));
        } else {
          scheduleSave();
        }
      }
      if (!r.ok) {
        results.replaceChildren();
        showAlert(r.data.error || tr("请求失败（HTTP {status}）。", { status: r.status }));
        if (editor.getValue() !== savedCode) scheduleSave();
        return;
      }
      renderResult(r.data);
      prependHistory(r.data);
      updateProgress(r.data.progress);
      if (r.data.solution) showSolution(r.data.solution);
      if (r.data.review) showRating(r.data.review);
    }

    // A queued submission: show where it is and ask again until it has its verdict.
    async function waitForVerdict(pending) {
      let delay = 500;
      for (;;) {
        showQueueStatus(pending.status);
        await new Promise((resolve) => window.setTimeout(resolve, delay));
        delay = Math.min(delay * 1.5, 3000);
        const r = await call("GET", `${S.submissionApi}${pending.id}`);
        if (r.status === 0 || r.status >= 500) continue; // a network blip: keep asking
        if (!r.ok) return r;
        if (r.data.status === "done") return { ok: true, status: 201, data: r.data };
        pending = r.data;
      }
    }

    function showQueueStatus(status) {
      const text = status === "running" ? tr("评测中…（已分配到评测机）") : tr("排队中…（结果会自动显示）");
      const line = results.querySelector("#queue-status");
      if (line) line.lastChild.textContent = text;
      else results.replaceChildren(h("p", { class: "grading", role: "status", id: "queue-status", "data-status": status }, h("span", { class: "spinner", "aria-hidden": "true" }), h("span", { text: text })));
      results.querySelector("#queue-status").dataset.status = status;
    }

    runBtn.addEventListener("click", () => grade("run"));
    submitBtn.addEventListener("click", () => grade("submit"));

    // The submission's line a traceback points at: visible tests give the frame, hidden ones
    // only "（第 N 行）".
    function errorLine(message) {
      const frames = Array.from(String(message || "").matchAll(/File "<submission>", line (\d+)/g));
      if (frames.length) return Number(frames[frames.length - 1][1]);
      const hidden = String(message || "").match(/（第 (\d+) 行）/); // i18n-ignore: the grader's text
      return hidden ? Number(hidden[1]) : null;
    }

    // Select the whole line in the editor (shown even when it is not focused) and scroll to it.
    function markLine(n, focus) {
      const view = editor.view;
      if (!view || !n || n < 1 || n > view.state.doc.lines) return;
      const line = view.state.doc.line(n);
      view.dispatch({ selection: { anchor: line.from, head: line.to }, scrollIntoView: true });
      if (focus) view.focus();
    }

    function diagnosisBox(d) {
      if (!d || !d.title) return null;
      const page = d.section && S.notes ? S.notes[d.section] : null;
      return h(
        "aside",
        { class: "diagnosis", id: "diagnosis", "aria-labelledby": "diagnosis-title" },
        h("p", { class: "diagnosis-kicker", text: tr("问题可能在这里") }),
        h("p", { class: "diagnosis-title", id: "diagnosis-title" }, h("strong", { text: d.title })),
        d.detail ? h("p", { class: "diagnosis-detail", text: d.detail }) : null,
        page ? h("p", { class: "diagnosis-link" }, h("a", { href: `${page}#${d.section}`, text: tr("去笔记复习这一节 →") })) : null,
      );
    }

    function messageCell(t) {
      const cell = h("td", { class: "test-message", "data-label": tr("信息") });
      if (t.status === "passed" && t.message === tr("通过")) {
        cell.append(h("span", { class: "muted", text: tr("通过") }));
        return cell;
      }
      if (t.status === "error" && t.message) {
        // The exception line here; the whole traceback gets a full-width row below.
        const lines = t.message.trim().split("\n");
        cell.append(h("div", { class: "message-text", text: lines[lines.length - 1] }));
        const line = errorLine(t.message);
        if (line) {
          const go = h("button", { type: "button", class: "link-button goto-line", text: tr("在编辑器中定位第 {line} 行", { line: line }) });
          go.addEventListener("click", () => markLine(line, true));
          cell.append(go);
        }
        return cell;
      }
      cell.append(h("div", { class: "message-text", text: t.message || "" }));
      return cell;
    }

    function renderResult(data) {
      const accepted = data.verdict === "accepted";
      let title = VERDICTS[data.verdict] || data.verdict;
      if (accepted && data.mode === "run") title = tr("示例全部通过");
      const banner = h(
        "div",
        { class: `verdict-banner verdict-${data.verdict}`, id: "verdict", tabindex: "-1" },
        h("p", { class: "verdict-title" }, h("strong", { text: title }), h("span", { class: "verdict-meta", text: tr(" {passed}/{total} 个测试通过 · {formatMs} · {mode} #{id}", { passed: data.passed, total: data.total, formatMs: formatMs(data.time_ms), mode: data.mode === "run" ? tr("运行示例") : tr("提交"), id: data.id }) })),
        data.message ? h("p", { class: "verdict-message", text: data.message }) : null,
        data.sandboxed === false ? h("p", { class: "muted", text: tr("注意：本次评测未在沙箱中运行（开发模式）。") }) : null,
      );
      const rows = [];
      let firstErrorLine = null;
      for (const t of data.tests || []) {
        const status = TEST_STATUS[t.status] || t.status;
        if (t.status === "error" && firstErrorLine === null) firstErrorLine = errorLine(t.message);
        rows.push(
          h(
            "tr",
            { class: `test-row test-${t.status}${t.hidden ? " test-hidden" : ""}` },
            h("th", { scope: "row", "data-label": tr("测试") }, t.name, t.hidden ? h("span", { class: "badge hidden-badge", text: tr("隐藏") }) : null),
            h("td", { "data-label": tr("状态") }, h("span", { class: `test-status status-${t.status}`, text: status })),
            messageCell(t),
            h("td", { class: "num", "data-label": tr("最大误差") }, formatError(t.max_abs_error)),
            h("td", { class: "num", "data-label": tr("耗时") }, formatMs(t.time_ms)),
          ),
        );
        if (t.status === "error" && t.message && t.message.includes("\n")) {
          rows.push(
            h("tr", { class: "test-trace" }, h("td", { colspan: "5" }, h("pre", { class: "traceback", tabindex: "0" }, h("code", { text: t.message })))),
          );
        }
        if (!t.hidden && (t.input || t.expected || t.got || t.stdout)) {
          rows.push(
            h(
              "tr",
              { class: "test-detail" },
              h(
                "td",
                { colspan: "5" },
                h(
                  "details",
                  { open: t.status !== "passed" },
                  h("summary", { text: tr("输入 / 期望 / 实际输出") }),
                  h(
                    "div",
                    { class: "io-grid" },
                    h("div", null, h("span", { class: "muted", text: tr("输入") }), h("pre", { tabindex: "0" }, h("code", { text: t.input || "" }))),
                    h("div", null, h("span", { class: "muted", text: tr("期望") }), h("pre", { tabindex: "0" }, h("code", { text: t.expected || "" }))),
                    h("div", null, h("span", { class: "muted", text: tr("实际") }), h("pre", { tabindex: "0" }, h("code", { text: t.got === null || t.got === undefined ? tr("（无返回值）") : t.got }))),
                    t.stdout ? h("div", null, h("span", { class: "muted", text: tr("打印输出") }), h("pre", { tabindex: "0" }, h("code", { text: t.stdout }))) : null,
                  ),
                ),
              ),
            ),
          );
        }
      }
      const table = rows.length
        ? h(
            "div",
            { class: "table-scroll" },
            h(
              "table",
              { class: "test-table" },
              h("caption", { class: "visually-hidden", text: tr("每个测试的结果") }),
              h("thead", null, h("tr", null, [tr("测试"), tr("状态"), tr("信息"), tr("最大误差"), tr("耗时")].map((c) => h("th", { scope: "col", text: c })))),
              h("tbody", null, rows),
            ),
          )
        : null;
      const output = h(
        "div",
        { class: "stdout" },
        h("h3", { text: tr("打印输出") }),
        data.stdout ? h("pre", null, h("code", { text: data.stdout })) : h("p", { class: "muted", text: tr("（没有打印输出）") }),
      );
      const hasHidden = (data.tests || []).some((t) => t.hidden);
      const note = hasHidden ? h("p", { class: "muted hidden-note", text: tr("标为“隐藏”的测试只显示名称、失败的类别和误差；输入、期望和实际输出只对可见示例显示。") }) : null;
      // replaceChildren() would print a null as the text "null": pass only real nodes.
      results.replaceChildren(...[banner, diagnosisBox(data.diagnosis), note, table, output].filter(Boolean));
      if (firstErrorLine) markLine(firstErrorLine, false);
      banner.focus({ preventScroll: true });
      banner.scrollIntoView({ block: "nearest" });
    }

    // ---- history --------------------------------------------------------------------------
    function historyItem(s) {
      const open = h("button", { type: "button", class: "link-button history-open", "data-id": s.id, text: tr("在编辑器中打开") });
      return h(
        "li",
        { "data-id": s.id },
        h("span", { class: `badge verdict verdict-${s.verdict}`, text: VERDICTS[s.verdict] || s.verdict }),
        " ",
        h("span", { text: s.mode === "submit" ? tr("提交") : tr("运行示例") }),
        " ",
        h("span", { class: "muted" }, `${s.passed}/${s.total} · ${formatMs(s.time_ms)} · `, h("time", { datetime: s.created_at, text: formatTime(s.created_at) })),
        " ",
        open,
      );
    }

    const historyList = $("history-list"); // absent in review mode
    function prependHistory(s) {
      if (!historyList) return;
      $("history-empty").hidden = true;
      historyList.prepend(historyItem(s));
    }

    for (const t of document.querySelectorAll("#history-list time[datetime]")) {
      t.textContent = formatTime(t.getAttribute("datetime"));
    }

    async function openSubmission(event) {
      const button = event.target.closest(".history-open");
      if (!button) return;
      button.disabled = true;
      const r = await call("GET", `${S.submissionApi}${button.dataset.id}`);
      button.disabled = false;
      if (!r.ok) {
        showAlert(r.data.error || tr("无法打开这次提交。"));
        return;
      }
      replaceCode(r.data.code, tr("已载入提交 #{id} 的代码", { id: r.data.id }));
      renderResult(r.data);
    }
    if (historyList) historyList.addEventListener("click", openSubmission);

    // ---- progress, answer and reveal --------------------------------------------------------
    const revealBtn = $("reveal-btn");
    const revealHint = $("reveal-hint");
    const revealConfirm = $("reveal-confirm");

    function updateProgress(p) {
      if (!p) return;
      const badge = $("drill-status");
      badge.textContent = STATUS[p.status] || p.status;
      badge.className = `badge drill-status status-${p.status}`;
      $("revealed-badge").hidden = !p.revealed;
      if (!S.review && revealBtn) {
        revealBtn.disabled = !p.can_reveal;
        const left = Math.max(0, 3 - p.failed_submits);
        revealHint.textContent = p.can_reveal
          ? tr("卡住了？可以查看讲解和参考答案（会标记为“看过答案”）。")
          : tr("再提交失败 {left} 次后可以查看答案（先试试提示）。", { left: left });
      }
    }
    updateProgress(S.progress);

    function showSolution(sol) {
      const section = $("solution");
      if (!section.hidden) return;
      $("solution-explanation").innerHTML = sol.explanation_html; // sanitised on the server
      $("solution-code").innerHTML = sol.solution_html;
      section.hidden = false;
      $("reveal-box").hidden = true;
      if (window.MLRender) window.MLRender.math(section);
    }

    if (revealBtn) {
      revealBtn.addEventListener("click", function () {
        revealConfirm.hidden = false;
        $("reveal-yes").focus();
      });
      $("reveal-no").addEventListener("click", function () {
        revealConfirm.hidden = true;
        revealBtn.focus();
      });
      $("reveal-yes").addEventListener("click", async function () {
        const yes = $("reveal-yes");
        yes.disabled = true;
        const r = await call("POST", `${S.api}/reveal`, { review: S.review });
        yes.disabled = false;
        revealConfirm.hidden = true;
        if (!r.ok) {
          showAlert(r.data.error || tr("无法查看答案。"));
          return;
        }
        updateProgress(r.data.progress);
        showSolution(r.data);
        $("solution").focus();
        if (r.data.review) showRating(r.data.review);
      });
    }

    // ---- review rating ----------------------------------------------------------------------
    const panel = $("rating-panel");
    const ratingButtons = Array.from(panel.querySelectorAll("button[data-rating]"));

    function pressRating(value) {
      for (const b of ratingButtons) {
        const on = Number(b.dataset.rating) === value;
        b.setAttribute("aria-pressed", on ? "true" : "false");
        b.classList.toggle("selected", on);
      }
    }

    function showRating(proposal) {
      if (ratingShown) return; // one proposal per attempt; later accepts just grade
      ratingShown = true;
      panel.hidden = false;
      pressRating(proposal.rating);
      if (proposal.scheduled) {
        appliedLog = proposal.log_id;
        appliedRating = proposal.rating;
        $("rating-text").textContent = tr("首次通过，已按规则加入复习：{reason}，下次复习 {formatTime}。觉得不准可以改评分：", { reason: proposal.reason, formatTime: formatTime(proposal.due) });
      } else {
        $("rating-text").textContent = tr("建议评分：{reason}。按一个评分确认（已预选建议），随后安排下次复习：", { reason: proposal.reason });
      }
      const preferred = ratingButtons.find((b) => Number(b.dataset.rating) === proposal.rating);
      if (preferred) preferred.focus();
    }

    for (const button of ratingButtons) {
      button.addEventListener("click", async function () {
        if (rating) return;
        const value = Number(button.dataset.rating);
        if (value === appliedRating) {
          $("rating-result").textContent = tr("评分保持为“{RATINGS_value}”。", { RATINGS_value: button.textContent.trim() });
          return;
        }
        rating = true;
        for (const b of ratingButtons) b.disabled = true;
        const r = await call("POST", `${S.api}/rating`, { rating: value, replaces: appliedLog });
        for (const b of ratingButtons) b.disabled = false;
        rating = false;
        if (!r.ok) {
          $("rating-result").textContent = r.data.error || tr("评分失败，请重试。");
          return;
        }
        appliedLog = r.data.log_id;
        appliedRating = r.data.rating;
        pressRating(appliedRating);
        updateProgress(r.data.progress);
        $("rating-result").textContent = tr("已评为“{label}”，下次复习 {formatTime}。", { label: r.data.label, formatTime: formatTime(r.data.due) });
      });
    }

    // Ctrl/Cmd+Enter submits from anywhere on the page, not only inside the editor.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.defaultPrevented) return;
      event.preventDefault();
      grade("submit");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
