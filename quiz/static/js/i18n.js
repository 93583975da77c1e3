// tr(msgid, vars): the page's translation of a Chinese msgid (base.html passes the catalogue in
// <body data-i18n>, see quiz/js_messages.py), with {name} placeholders filled from vars.
(function () {
  "use strict";
  let messages = {};
  try {
    messages = JSON.parse(document.body.dataset.i18n || "{}");
  } catch (error) {
    messages = {};
  }
  window.tr = function (msgid, vars) {
    const text = messages[msgid] || msgid;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  };
})();
