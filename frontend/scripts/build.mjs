// Rebuilds the vendored front-end assets in ../quiz/static/vendor/ from the
// npm packages pinned in package.json / package-lock.json.
//
//   npm ci && npm run build     write the files (byte-identical from the lock file)
//   npm run check               build into a temp dir and compare with the committed
//                               files; exit 1 and list differences if they differ
//
// Only the folders listed in LIBS (plus codemirror/ and VERSIONS.md) are replaced;
// anything else in quiz/static/vendor/ is left alone.

import { createHash } from "node:crypto";
import {
  copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync,
  rmSync, statSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");                       // frontend/
const nm = join(root, "node_modules");
const vendorDir = resolve(root, "..", "quiz", "static", "vendor");
const pkgJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pinned = pkgJson.devDependencies;

// Released files copied verbatim: [source path in the package, destination path in the folder].
const LIBS = [
  {
    dir: "katex", pkg: "katex",
    files: [
      ["dist/katex.min.js", "katex.min.js"],
      ["dist/katex.min.css", "katex.min.css"],
      ["dist/contrib/auto-render.min.js", "contrib/auto-render.min.js"],
      ["LICENSE", "LICENSE"],
    ],
    // katex.min.css lists woff2 first (then woff, ttf); every browser we target
    // takes woff2, so only those are shipped.
    globs: [["dist/fonts", "fonts", (name) => name.endsWith(".woff2")]],
  },
  {
    dir: "mermaid", pkg: "mermaid",
    // dist/mermaid.min.js is the IIFE build: one file, no imports, sets globalThis.mermaid.
    files: [["dist/mermaid.min.js", "mermaid.min.js"], ["LICENSE", "LICENSE"]],
  },
  {
    dir: "chartjs", pkg: "chart.js",
    files: [["dist/chart.umd.min.js", "chart.umd.min.js"], ["LICENSE.md", "LICENSE.md"]],
  },
  {
    dir: "pico", pkg: "@picocss/pico",
    files: [["css/pico.min.css", "pico.min.css"], ["LICENSE.md", "LICENSE.md"]],
  },
];
const EDITOR_DIR = "codemirror";
const EDITOR_FILE = "editor.bundle.min.js";
const EDITOR_PKGS = [
  "codemirror", "@codemirror/lang-python", "@codemirror/commands", "@codemirror/language",
  "@codemirror/state", "@codemirror/view", "@codemirror/theme-one-dark",
];
const MANAGED = [...LIBS.map((l) => l.dir), EDITOR_DIR, "VERSIONS.md"];

function readPkg(name) {
  return JSON.parse(readFileSync(join(nm, name, "package.json"), "utf8"));
}

function sha256(buf) {
  return createHash("sha256").update(buf).digest("hex");
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else out.push(relative(base, p).split(sep).join("/"));
  }
  return out;
}

function checkPinned() {
  const bad = [];
  for (const [name, want] of Object.entries(pinned)) {
    if (!existsSync(join(nm, name, "package.json"))) bad.push(`${name}: not installed`);
    else if (readPkg(name).version !== want) bad.push(`${name}: installed ${readPkg(name).version}, pinned ${want}`);
  }
  if (bad.length) {
    console.error("node_modules does not match package.json; run `npm ci` first:\n  " + bad.join("\n  "));
    process.exit(1);
  }
}

function copyLib(lib, out) {
  const src = join(nm, lib.pkg);
  const dst = join(out, lib.dir);
  for (const [from, to] of lib.files) {
    mkdirSync(dirname(join(dst, to)), { recursive: true });
    copyFileSync(join(src, from), join(dst, to));
  }
  for (const [fromDir, toDir, keep] of lib.globs || []) {
    mkdirSync(join(dst, toDir), { recursive: true });
    for (const name of readdirSync(join(src, fromDir)).sort()) {
      if (keep(name)) copyFileSync(join(src, fromDir, name), join(dst, toDir, name));
    }
  }
}

// Package root ("node_modules/@scope/name") of a bundled input path.
function packageOf(input) {
  const parts = input.split("/");
  const i = parts.lastIndexOf("node_modules");
  if (i < 0) return null;
  const n = parts[i + 1].startsWith("@") ? 2 : 1;
  return parts.slice(i + 1, i + 1 + n).join("/");
}

async function buildEditor(out) {
  const versions = EDITOR_PKGS.map((p) => `${p}@${readPkg(p).version}`).join(", ");
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["src/editor.js"],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["es2020"],
    minify: true,
    legalComments: "eof",
    charset: "ascii",
    metafile: true,
    write: false,
    banner: { js: `/*! MLEditor: CodeMirror 6 bundle (${versions}); MIT licences in LICENSE */` },
    logLevel: "warning",
  });
  const code = result.outputFiles[0].contents;
  for (const bad of ["eval(", "new Function("]) {
    if (Buffer.from(code).includes(bad)) throw new Error(`editor bundle contains ${bad}`);
  }
  const dst = join(out, EDITOR_DIR);
  mkdirSync(dst, { recursive: true });
  writeFileSync(join(dst, EDITOR_FILE), code);

  // Licences of every package that ended up in the bundle, grouped by identical text.
  const pkgs = [...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter(Boolean))].sort();
  const groups = new Map();
  const bundled = [];
  for (const p of pkgs) {
    const meta = readPkg(p);
    bundled.push({ name: p, version: meta.version, license: meta.license });
    const file = readdirSync(join(nm, p)).find((f) => /^licen[cs]e/i.test(f));
    if (!file) throw new Error(`no licence file in ${p}`);
    const text = readFileSync(join(nm, p, file), "utf8").trim();
    if (!groups.has(text)) groups.set(text, []);
    groups.get(text).push(`${p}@${meta.version} (${meta.license})`);
  }
  let lic = "Licences of the npm packages bundled into editor.bundle.min.js\n";
  for (const [text, names] of groups) {
    lic += "\n" + "=".repeat(72) + "\n" + names.join("\n") + "\n" + "-".repeat(72) + "\n" + text + "\n";
  }
  writeFileSync(join(dst, "LICENSE"), lic);
  return bundled;
}

function fileTable(out, dir) {
  return listFiles(join(out, dir)).map((f) => {
    const buf = readFileSync(join(out, dir, f));
    return `| \`${dir}/${f}\` | ${buf.length} | \`${sha256(buf)}\` |`;
  });
}

function writeVersions(out, bundled) {
  const row = (lib) => {
    const m = readPkg(lib.pkg);
    return `| ${lib.dir}/ | ${m.name} | ${m.version} | ${m.license} |`;
  };
  const pkgName = (p) => readPkg(p).name;
  const lines = [
    "# Vendored front-end files",
    "",
    "Generated by `frontend/scripts/build.mjs` — do not edit by hand. Rebuild with",
    "`cd frontend && npm ci && npm run build`; verify with `npm run check`.",
    "All files are the released files of the npm packages below (copied unchanged), except",
    "`codemirror/editor.bundle.min.js`, which esbuild bundles from `frontend/src/editor.js`.",
    "",
    "| folder | npm package | version | licence |",
    "| --- | --- | --- | --- |",
    ...LIBS.map(row),
    `| ${EDITOR_DIR}/ | ${EDITOR_PKGS.map(pkgName).join(", ")} (bundled with esbuild ${readPkg("esbuild").version}) | ${EDITOR_PKGS.map((p) => readPkg(p).version).join(", ")} | MIT |`,
    "",
    "Packages inside `codemirror/editor.bundle.min.js` (licence texts in `codemirror/LICENSE`):",
    "",
    ...bundled.map((b) => `- ${b.name} ${b.version} (${b.license})`),
    "",
    "`mermaid/mermaid.min.js` also bundles mermaid's own dependencies (d3, dagre-d3-es, cytoscape,",
    "dompurify, khroma, marked, roughjs, stylis, katex, …); their licence comments are kept at",
    "the end of that file.",
    "",
    "## Notes for the templates",
    "",
    "- KaTeX: only the `.woff2` fonts are shipped; `katex.min.css` lists woff2 first, so",
    "  browsers never request the woff/ttf fallbacks. Font URLs are relative to the css file",
    "  (`fonts/…`), so keep `katex/` together.",
    "- mermaid: `mermaid.min.js` is the IIFE build (no ES module imports); it defines",
    "  `window.mermaid`. It is ~3.6 MB: load it only on pages that contain a diagram. Use",
    "  `mermaid.initialize({startOnLoad: false, securityLevel: 'strict'})` then `mermaid.run()`.",
    "  Pass `theme: matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'default'`,",
    "  otherwise labels are unreadable under Pico's dark theme. It writes `<style>` elements and",
    "  `style=` attributes into each SVG, so pages with diagrams need",
    "  `style-src 'self' 'unsafe-inline'` (a nonce does not cover style attributes).",
    "- chart.js: `chart.umd.min.js` defines `window.Chart`.",
    "- Pico: `pico.min.css` is the class-based build (also styles plain semantic HTML);",
    "  light/dark follow `prefers-color-scheme`.",
    "- CodeMirror (`window.MLEditor`): CodeMirror 6 (style-mod) writes its theme CSS into a",
    "  `<style>` element in `<head>` at run time. With `style-src 'self'` alone Chromium blocks",
    "  it and the editor renders unstyled. Either allow `style-src 'self' 'unsafe-inline'`, or",
    "  use a per-request nonce: put it on the bundle's `<script nonce=…>` tag (the bundle reads",
    "  `document.currentScript.nonce`) or pass `{nonce}` to `MLEditor.create`, and add",
    "  `'nonce-…'` to `style-src`.",
    "- KaTeX (auto-render), Chart.js and Pico cause no CSP",
    "  violation even under `style-src 'self'`; none of the files needs `unsafe-eval`.",
    "- Math from the Markdown renderer (arithmatex, generic mode) is `\\(…\\)` inline and",
    "  `\\[…\\]` display: call `renderMathInElement(el, {delimiters: [{left: '\\\\[',",
    "  right: '\\\\]', display: true}, {left: '\\\\(', right: '\\\\)', display: false}],",
    "  throwOnError: false})` on each `.arithmatex` element.",
    "",
    "## Files",
    "",
    "| file | bytes | sha256 |",
    "| --- | --- | --- |",
    ...[...LIBS.map((l) => l.dir), EDITOR_DIR].sort().flatMap((d) => fileTable(out, d)),
    "",
  ];
  writeFileSync(join(out, "VERSIONS.md"), lines.join("\n"));
}

async function buildInto(out) {
  for (const m of MANAGED) rmSync(join(out, m), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const lib of LIBS) copyLib(lib, out);
  const bundled = await buildEditor(out);
  writeVersions(out, bundled);
}

function managedFiles(base) {
  return MANAGED.flatMap((m) => {
    const p = join(base, m);
    if (!existsSync(p)) return [];
    return statSync(p).isDirectory() ? listFiles(p).map((f) => `${m}/${f}`) : [m];
  }).sort();
}

async function main() {
  checkPinned();
  if (process.argv.includes("--check")) {
    const tmp = mkdtempSync(join(tmpdir(), "vendor-check-"));
    try {
      await buildInto(tmp);
      const want = managedFiles(tmp);
      const have = managedFiles(vendorDir);
      const diffs = [];
      for (const f of new Set([...want, ...have])) {
        const a = join(tmp, f), b = join(vendorDir, f);
        if (!existsSync(b)) diffs.push(`missing: ${f}`);
        else if (!existsSync(a)) diffs.push(`extra: ${f}`);
        else if (sha256(readFileSync(a)) !== sha256(readFileSync(b))) diffs.push(`differs: ${f}`);
      }
      if (diffs.length) {
        console.error("quiz/static/vendor is out of date:\n  " + diffs.sort().join("\n  "));
        process.exit(1);
      }
      console.log(`quiz/static/vendor matches the build (${want.length} files)`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return;
  }
  await buildInto(vendorDir);
  console.log(`wrote ${managedFiles(vendorDir).length} files to ${relative(process.cwd(), vendorDir) || vendorDir}`);
}

await main();
