// CodeMirror 6 code editor for the drill pages, bundled by scripts/build.mjs
// (esbuild, IIFE) into quiz/static/vendor/codemirror/editor.bundle.min.js.
//
// It exposes exactly one global:
//
//   const ed = window.MLEditor.create(parentElement, {
//     doc: "def f(x):\n    return x\n",   // initial text (default "")
//     onChange: (doc) => {},             // optional, called after every document change
//     onSubmit: () => {},                // optional, Ctrl-Enter / Cmd-Enter
//     readOnly: false,                   // optional
//     ariaLabel: "代码编辑器",            // optional, label of the editable region
//     nonce: undefined,                  // optional CSP nonce for CodeMirror's <style> element
//   });
//   ed.getValue(); ed.setValue("..."); ed.focus(); ed.view; ed.destroy();
//
// Python highlighting, line numbers, Tab / Shift-Tab indent (indentWithTab; press
// Escape then Tab to move focus out of the editor), 4-space indent unit, a light
// theme by default and One Dark while `prefers-color-scheme: dark` matches.

import { basicSetup, EditorView } from "codemirror";
import { python } from "@codemirror/lang-python";
import { indentWithTab } from "@codemirror/commands";
import { indentUnit } from "@codemirror/language";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { oneDark } from "@codemirror/theme-one-dark";

// Nonce of the <script> tag that loaded this bundle, if any (read at load time,
// document.currentScript is null later). Used for CodeMirror's <style> element so
// that a nonce-based `style-src` works without 'unsafe-inline'.
const loaderNonce =
  (typeof document !== "undefined" &&
    document.currentScript &&
    document.currentScript.nonce) ||
  "";

// Focus ring and sizing shared by both themes. Colours come from Pico's custom
// properties when Pico is loaded, with fallbacks.
const baseTheme = EditorView.theme({
  "&": {
    fontSize: "15px",
    border: "1px solid var(--pico-form-element-border-color, #8891a4)",
    borderRadius: "var(--pico-border-radius, 0.25rem)",
  },
  "&.cm-focused": {
    outline: "3px solid var(--ml-editor-focus-ring, var(--pico-primary, #0172ad))",
    outlineOffset: "2px",
  },
  ".cm-scroller": {
    fontFamily:
      'ui-monospace, SFMono-Regular, "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, "WenQuanYi Micro Hei Mono", monospace',
    lineHeight: "1.5",
  },
  ".cm-content": { minHeight: "8em" },
});

const darkQuery =
  typeof window !== "undefined" && window.matchMedia
    ? window.matchMedia("(prefers-color-scheme: dark)")
    : null;

function themeFor(dark) {
  return dark ? oneDark : [];
}

function create(parent, options) {
  if (!(parent instanceof HTMLElement)) {
    throw new TypeError("MLEditor.create: parent must be an HTMLElement");
  }
  const opts = options || {};
  const onChange = typeof opts.onChange === "function" ? opts.onChange : null;
  const onSubmit = typeof opts.onSubmit === "function" ? opts.onSubmit : null;
  const theme = new Compartment();

  const extensions = [
    basicSetup,
    python(),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    // Highest precedence: basicSetup's default keymap binds Mod-Enter to
    // insertBlankLine, which must not win over submit.
    Prec.highest(
      keymap.of([
        {
          key: "Mod-Enter",
          preventDefault: true,
          run: () => {
            if (onSubmit) onSubmit();
            return true;
          },
        },
      ]),
    ),
    keymap.of([indentWithTab]),
    baseTheme,
    theme.of(themeFor(darkQuery ? darkQuery.matches : false)),
    EditorView.contentAttributes.of({
      "aria-label": opts.ariaLabel || "代码编辑器",
    }),
  ];
  if (opts.readOnly) extensions.push(EditorState.readOnly.of(true));
  const nonce = opts.nonce || loaderNonce;
  if (nonce) extensions.push(EditorView.cspNonce.of(nonce));
  if (onChange) {
    extensions.push(
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    );
  }

  const view = new EditorView({
    state: EditorState.create({
      doc: typeof opts.doc === "string" ? opts.doc : "",
      extensions,
    }),
    parent,
  });

  const onScheme = (event) => {
    view.dispatch({ effects: theme.reconfigure(themeFor(event.matches)) });
  };
  if (darkQuery) darkQuery.addEventListener("change", onScheme);

  return {
    view,
    getValue() {
      return view.state.doc.toString();
    },
    setValue(text) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: String(text) },
      });
    },
    focus() {
      view.focus();
    },
    destroy() {
      if (darkQuery) darkQuery.removeEventListener("change", onScheme);
      view.destroy();
    },
  };
}

window.MLEditor = Object.freeze({ create });
