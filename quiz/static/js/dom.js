// h(tag, attrs, ...children): builds elements from text only (the drill and interview pages).
// Results carry user output: children become text nodes, never parsed as HTML. attrs: "class",
// "text" (textContent), any other attribute; null, undefined and false are left out.
(function () {
  "use strict";
  window.h = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };
})();
