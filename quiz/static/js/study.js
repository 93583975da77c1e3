// The study page: reveal in stages, answer with 1-4, undo with U / Ctrl+Z, through the review API.
(function () {
  "use strict";

  const root = document.querySelector("section.study");
  if (!root) return;

  const $ = (selector) => root.querySelector(selector);
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const urls = {
    next: root.dataset.nextUrl,
    answer: root.dataset.answerUrl,
    undo: root.dataset.undoUrl,
    summary: root.dataset.summaryUrl,
    bury: root.dataset.buryUrl,
    suspend: root.dataset.suspendUrl,
    cards: root.dataset.cardsUrl,
  };
  const topic = root.dataset.topic || "";
  const revealAll = root.dataset.revealAll === "true";
  const LEARN_AHEAD_MS = 20 * 60 * 1000; // the server shows learning cards this early

  const el = {
    card: $(".study-card"),
    topicName: $(".study-topic-name"),
    kind: $(".study-kind"),
    front: $(".study-front"),
    drill: $(".study-drill"),
    drillLink: $(".study-drill-link"),
    short: $(".study-short"),
    shortBody: $(".study-short-body"),
    back: $(".study-back"),
    backBody: $(".study-back-body"),
    controls: $(".study-controls"),
    reveal: $(".study-reveal"),
    revealText: $(".study-reveal-text"),
    answers: $(".study-answers"),
    buttons: Array.from(root.querySelectorAll(".answer")),
    empty: $(".study-empty"),
    notice: $(".study-notice"),
    bar: $(".study-bar"),
    undo: $(".study-undo"),
    bury: $(".study-bury"),
    suspend: $(".study-suspend"),
    help: $(".study-help"),
    keys: document.getElementById("study-keys"),
  };

  let current = null; // the payload of the card on screen
  let stage = 0; // 0: front, 1: one-line answer, 2: whole answer
  let requestId = null; // one per card shown, so a double click or a retry counts once
  let revealedAt = null;
  let busy = false;
  let waitTimer = null;
  // What U takes back, newest last: answers, buries and suspends alike. After a reload it is
  // empty, and U falls back to the server's last answer of today.
  const undoStack = [];

  function newRequestId() {
    // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function withTopic(url) {
    return topic ? url + "?topic=" + encodeURIComponent(topic) : url;
  }

  function request(url, body) {
    const options = {
      method: body === undefined ? "GET" : "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options);
  }

  async function errorText(response, fallback) {
    try {
      const data = await response.json();
      if (data && data.error) return data.error;
    } catch (e) {
      /* not JSON: fall through */
    }
    if (response.status === 401) return tr("登录已过期，请刷新页面重新登录。");
    return fallback + "（HTTP " + response.status + "）";
  }

  function notify(message, kind) {
    if (!message) {
      el.notice.hidden = true;
      el.notice.textContent = "";
      return;
    }
    el.notice.hidden = false;
    el.notice.className = "study-notice flash flash-" + (kind || "info");
    el.notice.textContent = message;
  }

  function noticeWithUndo(message) {
    notify(message + " ", "info");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link-button study-notice-undo";
    button.textContent = tr("撤销");
    button.setAttribute("aria-label", tr("撤销：") + message);
    button.addEventListener("click", undo);
    el.notice.appendChild(button);
  }

  function noticeWithLink(message, linkText, href) {
    notify(message + " ", "warning");
    const link = document.createElement("a");
    link.href = href;
    link.textContent = linkText;
    el.notice.appendChild(link);
  }

  function setCounts(counts, done) {
    if (!counts) return;
    for (const name of ["new", "learning", "review"]) {
      const node = root.querySelector('[data-count="' + name + '"]');
      if (node) node.textContent = String(counts[name]);
    }
    if (typeof done === "number") {
      const left = counts.new + counts.learning + counts.review;
      el.bar.max = Math.max(1, done + left);
      el.bar.value = done;
      el.bar.setAttribute("aria-label", tr("今天已完成 {done} 张，还剩 {left} 张", { done, left }));
    }
  }

  function render(container, html) {
    container.innerHTML = html || "";
    if (window.MLRender) window.MLRender.math(container);
  }

  function isDrill() {
    return current && current.card.kind === "drill";
  }

  function setBusy(value) {
    busy = value;
    for (const button of el.buttons) button.disabled = value;
    el.reveal.disabled = value;
  }

  function show(payload) {
    clearTimeout(waitTimer);
    current = payload;
    const card = payload.card;
    stage = 0;
    requestId = newRequestId();
    revealedAt = null;
    el.empty.hidden = true;
    el.card.hidden = false;
    el.controls.hidden = false;
    el.bury.hidden = false;
    el.suspend.hidden = false;
    el.topicName.textContent = card.topic;
    el.kind.hidden = card.kind === "question";
    el.kind.textContent = { knowledge: tr("知识点"), drill: tr("练习") }[card.kind] || "";
    render(el.front, card.front_html);
    render(el.shortBody, card.short_html);
    render(el.backBody, card.back_html);
    el.short.hidden = true;
    el.back.hidden = true;
    el.drill.hidden = !(card.kind === "drill" && card.drill_url);
    if (card.drill_url) el.drillLink.href = card.drill_url;
    for (const button of el.buttons) {
      const label = button.querySelector(".answer-ivl");
      label.textContent = payload.labels[button.dataset.name];
      button.setAttribute(
        "aria-label",
        tr("{name}，下次 {ivl}（按 {key}）", { name: button.querySelector(".answer-name").textContent, ivl: label.textContent, key: button.dataset.rating })
      );
    }
    // Drills are answered by doing them; the buttons are there from the start to override.
    el.answers.hidden = !isDrill();
    if (isDrill()) revealedAt = Date.now();
    el.reveal.hidden = false;
    el.revealText.textContent = tr("显示答案");
    setCounts(payload.counts, payload.done_today);
    // Focus the card, never a button: Space on a focused button would press it.
    el.card.focus({ preventScroll: true });
    window.scrollTo({ top: 0 });
  }

  function reveal() {
    if (!current || busy || stage === 2) return;
    if (revealedAt === null) revealedAt = Date.now();
    const hasShort = Boolean(current.card.short_html) && !revealAll;
    if (stage === 0 && hasShort) {
      el.short.hidden = false;
      stage = 1;
      el.revealText.textContent = tr("显示深入回答");
    } else {
      // The whole answer repeats the one-line answer at its top, so it replaces it.
      el.short.hidden = true;
      el.back.hidden = false;
      stage = 2;
      el.reveal.hidden = true;
    }
    el.answers.hidden = false;
  }

  async function showEmpty() {
    current = null;
    el.card.hidden = true;
    el.controls.hidden = true;
    el.bury.hidden = true;
    el.suspend.hidden = true;
    el.empty.hidden = false;
    try {
      const response = await request(withTopic(urls.summary));
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      setCounts(data.counts, data.done_today);
      const fill = (name, value) => {
        const node = el.empty.querySelector('[data-empty="' + name + '"]');
        if (node) node.textContent = String(value);
      };
      fill("due_tomorrow", data.due_tomorrow);
      fill("learning_later", data.learning_later);
      fill("done_today", data.done_today);
      const later = el.empty.querySelector(".study-empty-later");
      if (data.learning_later > 0 && data.next_learning_due) {
        const dueAt = Date.parse(data.next_learning_due);
        fill("minutes", Math.max(1, Math.ceil((dueAt - Date.now()) / 60000)));
        later.hidden = false;
        // Come back by itself when the first of them enters the learn-ahead window.
        const wait = Math.max(5000, dueAt - LEARN_AHEAD_MS - Date.now() + 1000);
        waitTimer = setTimeout(loadNext, Math.min(wait, 2 ** 31 - 1));
      } else {
        later.hidden = true;
      }
    } catch (e) {
      notify(tr("无法读取今天的统计，请刷新页面。"), "error");
    }
  }

  async function loadNext() {
    try {
      const response = await request(withTopic(urls.next));
      if (response.status === 204) return showEmpty();
      if (!response.ok) return notify(await errorText(response, tr("加载下一张卡片失败")), "error");
      show(await response.json());
    } catch (e) {
      notify(tr("网络错误，无法加载下一张卡片。请检查网络后刷新页面。"), "error");
    }
  }

  async function answer(rating) {
    if (!current || busy) return;
    if (stage === 0 && !isDrill()) return; // answer only after seeing the answer
    setBusy(true);
    const body = {
      card_id: current.card.id,
      rating: rating,
      version: current.version,
      request_id: requestId,
      next: true, // the response carries the next card: one round trip per answer
    };
    if (revealedAt !== null) body.duration_ms = Math.min(Date.now() - revealedAt, 86400000);
    try {
      const response = await request(withTopic(urls.answer), body);
      if (response.status === 201) {
        const data = await response.json();
        undoStack.push({ kind: "answer" });
        if (data.leech) {
          noticeWithLink(tr("这张卡片已遗忘 8 次，已标记为难记卡并暂停。可以改写笔记后在卡片浏览中恢复。"), tr("查看难记卡"), urls.cards + "?state=leech");
        } else {
          notify("");
        }
        if (data.next) show(data.next);
        else await showEmpty();
      } else if (response.status === 409) {
        notify(await errorText(response, tr("这张卡片已在别处回答")), "warning");
        await loadNext();
      } else {
        notify(await errorText(response, tr("提交回答失败")), "error");
      }
    } catch (e) {
      // Same request_id on the next try: if this one did arrive, it still counts once.
      notify(tr("网络错误，回答可能没有送达。请再按一次评分键重试。"), "error");
    } finally {
      setBusy(false);
    }
  }

  async function undo() {
    if (busy) return;
    setBusy(true);
    const last = undoStack.length ? undoStack[undoStack.length - 1] : { kind: "answer" };
    const body = last.kind === "answer" ? {} : { action: last.kind, card_id: last.cardId, version: last.version };
    try {
      const response = await request(withTopic(urls.undo), body);
      if (response.ok) {
        if (undoStack.length) undoStack.pop();
        show(await response.json());
        notify({ answer: tr("已撤销上一次回答。"), bury: tr("已撤销搁置。"), suspend: tr("已撤销暂停。") }[last.kind], "info");
      } else {
        // A stale entry (the card changed elsewhere) is dropped, so the next U can go on.
        if (response.status === 409 && undoStack.length) undoStack.pop();
        notify(await errorText(response, tr("撤销失败")), "warning");
      }
    } catch (e) {
      notify(tr("网络错误，撤销没有完成。"), "error");
    } finally {
      setBusy(false);
    }
  }

  async function cardAction(kind, url, message) {
    if (!current || busy) return;
    setBusy(true);
    const cardId = current.card.id;
    try {
      const response = await request(url, { card_id: cardId });
      if (response.ok) {
        const data = await response.json();
        undoStack.push({ kind: kind, cardId: cardId, version: data.version });
        await loadNext();
        noticeWithUndo(message);
      } else {
        notify(await errorText(response, tr("操作失败")), "error");
      }
    } catch (e) {
      notify(tr("网络错误，操作没有完成。"), "error");
    } finally {
      setBusy(false);
    }
  }

  const bury = () => cardAction("bury", urls.bury, tr("已搁置到明天。"));
  const suspend = () => cardAction("suspend", urls.suspend, tr("已暂停这张卡片，可在卡片浏览中恢复。"));

  // The shortcut list: a modal <dialog> (focus moves in, Esc closes, focus comes back).
  let helpReturn = null;
  function openHelp() {
    if (!el.keys || el.keys.open) return;
    helpReturn = document.activeElement;
    el.keys.showModal();
  }
  if (el.keys) {
    el.keys.addEventListener("close", () => {
      if (helpReturn && helpReturn.focus) helpReturn.focus({ preventScroll: true });
      helpReturn = null;
    });
    el.keys.addEventListener("click", (event) => {
      if (event.target === el.keys) el.keys.close(); // a click on the backdrop
    });
  }
  if (el.help) el.help.addEventListener("click", openHelp);

  el.reveal.addEventListener("click", reveal);
  for (const button of el.buttons) {
    button.addEventListener("click", () => answer(Number(button.dataset.rating)));
  }
  el.undo.addEventListener("click", undo);
  el.bury.addEventListener("click", bury);
  el.suspend.addEventListener("click", suspend);

  const topicSelect = root.querySelector("#study-topic");
  if (topicSelect) {
    topicSelect.addEventListener("change", () => topicSelect.form.submit());
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (el.keys && el.keys.open) return; // the dialog has the keyboard (Esc closes it)
    const key = event.key;
    if (key === "?") {
      event.preventDefault();
      openHelp();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (key === "z" || key === "Z")) {
      event.preventDefault();
      undo();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (key === " " || key === "Spacebar") {
      // A focused button or link keeps Space for itself (keyboard users expect that).
      if (target.closest && target.closest("button, a, summary")) return;
      event.preventDefault();
      reveal();
    } else if (key >= "1" && key <= "4") {
      event.preventDefault();
      answer(Number(key));
    } else if (key === "u" || key === "U") {
      event.preventDefault();
      undo();
    } else if (key === "b" || key === "B") {
      bury();
    } else if (key === "s" || key === "S") {
      suspend();
    }
  });

  let initial = null;
  try {
    initial = JSON.parse(root.dataset.initial || "null");
  } catch (e) {
    initial = null;
  }
  if (initial) show(initial);
  else showEmpty();
})();
