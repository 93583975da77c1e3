// Renders math (KaTeX) and diagrams (mermaid, only loaded on pages that have one).
(function () {
  "use strict";

  function renderMath(root) {
    if (!window.renderMathInElement) return;
    window.renderMathInElement(root, {
      delimiters: [
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: false,
      // The notes write symbols as Unicode inside math (γ ŷ β √): KaTeX renders them, but its
      // LaTeX-strict mode warns once per symbol. The notes are the owner's, kept as written.
      strict: function (code) {
        return code === "unicodeTextInMathMode" || code === "unknownSymbol" ? "ignore" : "warn";
      },
    });
  }

  function renderDiagrams() {
    if (!window.mermaid || !document.querySelector("pre.mermaid")) return;
    const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
    window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
    window.mermaid.run({ querySelector: "pre.mermaid" });
  }

  // Math inside content that is inserted later (study answers, drill results) calls this again.
  window.MLRender = { math: renderMath };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".prose, .math").forEach(renderMath);
    renderDiagrams();
  });
})();
