// Reads [[tex, display], ...] as JSON on stdin; writes, for each formula, null when the vendored
// KaTeX renders it or KaTeX's error message when it rejects it. Options as quiz/static/js/render.js
// passes them, except that errors are thrown (the page would show them in red instead).
"use strict";
const path = require("path");
const katex = require(path.resolve(process.argv[2]));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(([tex, display]) => {
    try {
      katex.renderToString(tex, {
        displayMode: display,
        throwOnError: true,
        strict: (code) =>
          code === "unicodeTextInMathMode" || code === "unknownSymbol" ? "ignore" : "warn",
      });
      return null;
    } catch (error) {
      return String(error.message || error);
    }
  });
  process.stdout.write(JSON.stringify(results));
});
