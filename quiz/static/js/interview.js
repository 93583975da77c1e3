// Mock interview page: the item and session clocks, question answers with the key-point
// checklist, the drill editor and grader, skip, finish. The server owns the clock: this page
// only counts down to the deadlines it was given and asks the server again when one passes.
// Typed text is kept in sessionStorage per item, so a reload loses nothing.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);

  const h = window.h; // js/dom.js: elements from text only, never parsed as HTML

  function clock(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }

  function init() {
    const stateEl = $("interview-state");
    if (!stateEl) return;
    let S = JSON.parse(stateEl.textContent);
    const T = JSON.parse($("interview-text").textContent);
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    // Server time minus local time: the countdowns follow the server's deadlines.
    let skew = new Date(S.now).getTime() - Date.now();
    const serverNow = () => Date.now() + skew;
    let shown = null; // index of the item on screen
    let editor = null;
    let busy = false;
    let finishing = false;

    const keyFor = (index) => `interview:${S.user}:${S.id}:${index}`;
    const alertBox = $("iv-alert");

    function showAlert(message) {
      alertBox.textContent = message || "";
      alertBox.hidden = !message;
    }

    function status(message) {
      $("iv-status").textContent = message || "";
    }

    async function api(path, body) {
      const response = await fetch(path, {
        method: body === undefined ? "GET" : "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
      let data = {};
      try {
        data = await response.json();
      } catch (error) {
        data = {};
      }
      if (!response.ok) throw new Error(data.error || T.network);
      return data;
    }

    async function refresh() {
      S = Object.assign(await api(S.api), { api: S.api, report: S.report, user: S.user, maxBytes: S.maxBytes });
      skew = new Date(S.now).getTime() - Date.now();
      render();
    }

    function item(index) {
      return S.items[index];
    }

    function render() {
      if (S.finished) {
        window.location.assign(S.report);
        return;
      }
      // The server's current item: the one whose clock runs, or a question in review.
      const index = S.current;
      if (index === null || index === undefined) {
        showOver();
        return;
      }
      $("iv-over").hidden = true;
      $("iv-n").textContent = String(index + 1);
      if (shown !== index) {
        shown = index;
        const it = item(index);
        if (it.kind === "question") showQuestion(it);
        else showDrill(it);
      }
      paintClocks();
    }

    function showOver() {
      shown = null;
      $("iv-question").hidden = true;
      $("iv-drill").hidden = true;
      $("iv-over").hidden = false;
      finish();
    }

    async function finish() {
      if (finishing) return;
      finishing = true;
      try {
        const report = await api(`${S.api}/finish`, {});
        window.location.assign(report.url || S.report);
      } catch (error) {
        finishing = false;
        showAlert(error.message);
      }
    }

    // ---- questions ----------------------------------------------------------------------

    function showQuestion(it) {
      $("iv-drill").hidden = true;
      $("iv-question").hidden = false;
      $("q-text").innerHTML = it.question_html; // rendered and sanitised on the server
      if (window.MLRender) window.MLRender.math($("q-text"));
      const area = $("q-answer");
      area.value = sessionStorage.getItem(keyFor(it.index)) || it.answer || "";
      area.oninput = () => sessionStorage.setItem(keyFor(it.index), area.value);
      if (it.points) {
        showReview(it);
      } else {
        $("q-write").hidden = false;
        $("q-review").hidden = true;
        area.focus();
      }
    }

    function showReview(it) {
      $("q-write").hidden = true;
      $("q-review").hidden = false;
      $("q-late").hidden = !it.late;
      $("q-mine").textContent = it.answer || "";
      $("q-model").innerHTML = it.model_answer.back_html; // server-rendered notes HTML
      if (window.MLRender) window.MLRender.math($("q-model"));
      const list = $("q-point-list");
      list.replaceChildren(
        ...it.points.map((p) =>
          h(
            "li",
            null,
            h(
              "label",
              null,
              h("input", { type: "checkbox", value: String(p.index), checked: p.covered, "data-suggested": p.suggested ? "1" : "0" }),
              " ",
              h("span", { text: p.text }),
              h("span", { class: "iv-terms muted", text: ` · ${p.terms.join(" / ")}` }),
            ),
          ),
        ),
      );
      $("q-confirm").focus();
    }

    // Sends the shown question's answer, checked points or skip: one request at a time; a
    // refusal is shown and the page stays as it was.
    async function sendItem(body, after) {
      if (busy || shown === null) return;
      const it = item(shown);
      busy = true;
      try {
        const result = await api(`${S.api}/items/${it.index}`, body());
        await after(it, result);
      } catch (error) {
        showAlert(error.message);
      } finally {
        busy = false;
      }
    }

    function reveal(late) {
      return sendItem(
        () => ({ answer: $("q-answer").value }),
        async (it, result) => {
          sessionStorage.removeItem(keyFor(it.index));
          S.items[it.index] = Object.assign(it, result);
          if (late) status(T.lateSaved);
          shown = null;
          await refresh();
        },
      );
    }

    function confirmPoints() {
      return sendItem(
        () => ({
          points: Array.from(document.querySelectorAll("#q-point-list input:checked")).map((i) => Number(i.value)),
        }),
        async () => {
          shown = null;
          status("");
          await refresh();
        },
      );
    }

    function skip() {
      return sendItem(
        () => ({ skip: true }),
        async (it) => {
          sessionStorage.removeItem(keyFor(it.index));
          shown = null;
          await refresh();
        },
      );
    }

    // ---- drills -------------------------------------------------------------------------

    function showDrill(it) {
      $("iv-question").hidden = true;
      $("iv-drill").hidden = false;
      $("d-title").textContent = it.title;
      $("d-statement").innerHTML = it.statement_html; // rendered on the server
      if (window.MLRender) window.MLRender.math($("d-statement"));
      $("d-results").replaceChildren();
      $("d-next").hidden = it.verdict !== "accepted";
      $("d-submit").disabled = it.verdict === "accepted";
      const doc = sessionStorage.getItem(keyFor(it.index)) || it.code || it.starter_code;
      const host = $("d-editor");
      if (!window.MLEditor) {
        host.textContent = tr("编辑器加载失败，请刷新页面。");
        return;
      }
      if (editor) editor.destroy();
      host.replaceChildren();
      editor = window.MLEditor.create(host, {
        doc,
        onChange: (text) => sessionStorage.setItem(keyFor(it.index), text),
        onSubmit: submitCode,
        ariaLabel: tr("代码编辑器：Tab 缩进，Ctrl+Enter 提交，Esc 后按 Tab 离开编辑器"),
      });
    }

    function renderVerdict(sub) {
      const accepted = sub.verdict === "accepted";
      const rows = (sub.tests || []).map((t) =>
        h(
          "tr",
          { class: `test-${t.status}` },
          h("th", { scope: "row" }, t.name, t.hidden ? h("span", { class: "badge", text: T.hidden }) : null),
          h("td", null, T.tests[t.status] || t.status),
          h("td", { class: "test-message" }, t.hidden ? "—" : t.message || ""),
        ),
      );
      $("d-results").replaceChildren(
        h(
          "div",
          { class: `verdict-banner verdict-${sub.verdict}` },
          h("p", { class: "verdict-title" }, h("strong", { text: T.verdicts[sub.verdict] || sub.verdict }), h("span", { class: "verdict-meta", text: ` ${sub.passed}/${sub.total}` })),
          sub.message ? h("p", { class: "verdict-message", text: sub.message }) : null,
          h("p", { class: "muted", text: accepted ? T.accepted : T.failedRetry }),
        ),
        rows.length ? h("div", { class: "table-scroll" }, h("table", { class: "test-table" }, h("tbody", null, rows))) : null,
      );
    }

    async function waitForVerdict(pending) {
      let delay = 500;
      for (;;) {
        const text = pending.status === "running" ? tr("评测中…（已分配到评测机）") : tr("排队中…（结果会自动显示）");
        $("d-results").replaceChildren(h("p", { class: "grading", role: "status", id: "queue-status", "data-status": pending.status, text: text }));
        await new Promise((resolve) => window.setTimeout(resolve, delay));
        delay = Math.min(delay * 1.5, 3000);
        try {
          pending = await api(`/api/v1/submissions/${pending.id}`);
        } catch (error) {
          continue; // a network blip: keep asking
        }
        if (pending.status === "done") return pending;
      }
    }

    async function submitCode() {
      if (busy || shown === null || !editor) return;
      const it = item(shown);
      if (it.kind !== "drill") return;
      busy = true;
      $("d-submit").disabled = true;
      $("d-results").replaceChildren(h("p", { class: "grading", text: T.grading }));
      try {
        let result = await api(`${S.api}/items/${it.index}`, { code: editor.getValue() });
        if (result.submission.status && result.submission.status !== "done") {
          // Scaled out and the graders are busy: it is queued. Ask until the verdict is in,
          // then take the item as the worker left it.
          const sub = await waitForVerdict(result.submission);
          const state = await api(S.api);
          result = Object.assign(state.items[it.index], { submission: sub });
        }
        renderVerdict(result.submission);
        S.items[it.index] = Object.assign(it, result);
        if (result.verdict === "accepted") {
          sessionStorage.removeItem(keyFor(it.index));
          $("d-next").hidden = false;
          $("d-next").focus();
        } else {
          $("d-submit").disabled = false;
        }
      } catch (error) {
        $("d-results").replaceChildren();
        $("d-submit").disabled = false;
        showAlert(error.message);
      } finally {
        busy = false;
      }
    }

    // ---- the clocks -----------------------------------------------------------------------

    // Paints both countdowns; returns the item whose clock is running, if any.
    function paintClocks() {
      const now = serverNow();
      $("iv-total-clock").textContent = clock(new Date(S.ends_at).getTime() - now);
      const it = shown === null ? null : item(shown);
      const open = it && it.deadline && it.phase === "current" ? it : null;
      $("iv-item-clock").textContent = open ? clock(new Date(it.deadline).getTime() - now) : "--:--";
      return open;
    }

    let refreshing = false;
    async function tick() {
      const now = serverNow();
      const it = paintClocks();
      const open = Boolean(it);
      if (open && now >= new Date(it.deadline).getTime() && !refreshing && !busy) {
        refreshing = true;
        try {
          // Time is up: what was typed is sent (the server records it as late), then move on.
          const code = it.kind === "drill" && editor ? editor.getValue() : null;
          if (it.kind === "question" && !it.points && $("q-answer").value.trim()) {
            await reveal(true);
          } else if (code && code !== it.starter_code && code !== it.code && it.verdict !== "accepted") {
            // Unsubmitted code is graded as a late submission rather than dropped.
            await submitCode();
            status(T.lateSaved);
            shown = null;
            await refresh();
          } else {
            status(T.timeUp);
            shown = null;
            await refresh();
          }
        } catch (error) {
          showAlert(error.message);
        } finally {
          refreshing = false;
        }
      }
    }

    $("q-reveal").addEventListener("click", () => reveal(false));
    $("q-answer").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        reveal(false);
      }
    });
    $("q-skip").addEventListener("click", skip);
    $("q-confirm").addEventListener("click", confirmPoints);
    $("d-submit").addEventListener("click", submitCode);
    $("d-skip").addEventListener("click", skip);
    $("d-next").addEventListener("click", async () => {
      shown = null;
      await refresh();
    });
    $("iv-finish").addEventListener("click", () => {
      if (window.confirm(T.confirmFinish)) finish();
    });
    $("iv-report").addEventListener("click", finish);

    render();
    tick();
    window.setInterval(tick, 250);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
